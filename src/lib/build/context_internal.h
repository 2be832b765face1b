/* Shared by context.c and copy.c only. */
#ifndef BERTH_BUILD_CONTEXT_INTERNAL_H
#define BERTH_BUILD_CONTEXT_INTERNAL_H

#include <stdbool.h>

#include "base/error.h"
#include "build/context.h"

/* open rel in the root (beneath the context, inside a stage's root); errors say which */
int ctx_open(const struct berth_build_root *r, const char *rel, int flags, berth_error_t *err) BERTH_WUR;
/* does .dockerignore exclude rel (a path relative to the context) */
bool ctx_ignored(const struct berth_build_root *r, const char *rel);
/* does a COPY --exclude pattern exclude rel (relative to the source) */
bool ctx_excluded(char *const *excludes, const char *rel);
/* the names of a directory (fd readable), sorted, without . and .. */
int ctx_list_dir(int fd, const char *what, char ***out, berth_error_t *err) BERTH_WUR;
int ctx_cmp_str(const void *a, const void *b);

#endif
