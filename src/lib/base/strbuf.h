/* Growable byte buffer, always NUL-terminated. */
#ifndef BERTH_BASE_STRBUF_H
#define BERTH_BASE_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

struct berth_strbuf {
  char *buf;
  size_t len;
  size_t cap;
};
#define BERTH_STRBUF_INIT                                                                                    \
  {                                                                                                          \
    NULL, 0, 0                                                                                               \
  }

void berth_strbuf_grow(struct berth_strbuf *b, size_t extra);
void berth_strbuf_append(struct berth_strbuf *b, const char *data, size_t len);
void berth_strbuf_puts(struct berth_strbuf *b, const char *s);
void berth_strbuf_putc(struct berth_strbuf *b, char c);
void berth_strbuf_printf(struct berth_strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void berth_strbuf_vprintf(struct berth_strbuf *b, const char *fmt, va_list ap)
  __attribute__((format(printf, 2, 0)));
/* append s as a JSON string literal (quotes and escapes included) */
void berth_strbuf_append_json_string(struct berth_strbuf *b, const char *s);
/* give up the buffer (never NULL) */
char *berth_strbuf_detach(struct berth_strbuf *b);
void berth_strbuf_release(struct berth_strbuf *b);

static inline void berth_cleanup_strbuf(struct berth_strbuf *b) { berth_strbuf_release(b); }
#define cleanup_strbuf __attribute__((cleanup(berth_cleanup_strbuf)))

#endif
