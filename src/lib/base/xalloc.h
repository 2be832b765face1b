/* Allocation that aborts on out-of-memory, and small string helpers. */
#ifndef BERTH_BASE_XALLOC_H
#define BERTH_BASE_XALLOC_H

#include <stddef.h>

__attribute__((noreturn)) void berth_oom(void);
void *xmalloc(size_t n) __attribute__((malloc, returns_nonnull));
void *xmalloc0(size_t n) __attribute__((malloc, returns_nonnull));
void *xcalloc(size_t nmemb, size_t size) __attribute__((malloc, returns_nonnull));
void *xrealloc(void *p, size_t n) __attribute__((returns_nonnull));
/* realloc for arrays with overflow check */
void *xreallocarray(void *p, size_t nmemb, size_t size) __attribute__((returns_nonnull));
char *xstrdup(const char *s) __attribute__((returns_nonnull));
char *xstrndup(const char *s, size_t n) __attribute__((returns_nonnull));
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2), returns_nonnull));

#endif
