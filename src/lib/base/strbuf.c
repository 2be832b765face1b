#include "base/strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"

void berth_strbuf_grow(struct berth_strbuf *b, size_t extra)
{
  if (b->len + extra + 1 <= b->cap)
    return;
  size_t cap = b->cap ? b->cap : 64;
  while (cap < b->len + extra + 1) {
    if (cap > ((size_t) -1) / 2)
      berth_oom();
    cap *= 2;
  }
  b->buf = xrealloc(b->buf, cap);
  b->cap = cap;
}

void berth_strbuf_append(struct berth_strbuf *b, const char *data, size_t len)
{
  berth_strbuf_grow(b, len);
  memcpy(b->buf + b->len, data, len);
  b->len += len;
  b->buf[b->len] = '\0';
}

void berth_strbuf_puts(struct berth_strbuf *b, const char *s) { berth_strbuf_append(b, s, strlen(s)); }

void berth_strbuf_putc(struct berth_strbuf *b, char c) { berth_strbuf_append(b, &c, 1); }

void berth_strbuf_vprintf(struct berth_strbuf *b, const char *fmt, va_list ap)
{
  va_list ap2;
  va_copy(ap2, ap);
  berth_strbuf_grow(b, 64);
  int n = vsnprintf(b->buf + b->len, b->cap - b->len, fmt, ap);
  if (n < 0)
    berth_oom();
  if ((size_t) n >= b->cap - b->len) {
    berth_strbuf_grow(b, (size_t) n);
    vsnprintf(b->buf + b->len, b->cap - b->len, fmt, ap2);
  }
  va_end(ap2);
  b->len += (size_t) n;
}

void berth_strbuf_printf(struct berth_strbuf *b, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  berth_strbuf_vprintf(b, fmt, ap);
  va_end(ap);
}

void berth_strbuf_append_json_string(struct berth_strbuf *b, const char *s)
{
  berth_strbuf_putc(b, '"');
  for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
    switch (*p) {
    case '"': berth_strbuf_puts(b, "\\\""); break;
    case '\\': berth_strbuf_puts(b, "\\\\"); break;
    case '\n': berth_strbuf_puts(b, "\\n"); break;
    case '\r': berth_strbuf_puts(b, "\\r"); break;
    case '\t': berth_strbuf_puts(b, "\\t"); break;
    default:
      if (*p < 0x20)
        berth_strbuf_printf(b, "\\u%04x", *p);
      else
        berth_strbuf_putc(b, (char) *p);
    }
  }
  berth_strbuf_putc(b, '"');
}

char *berth_strbuf_detach(struct berth_strbuf *b)
{
  if (b->buf == NULL)
    return xstrdup("");
  char *r = b->buf;
  b->buf = NULL;
  b->len = b->cap = 0;
  return r;
}

void berth_strbuf_release(struct berth_strbuf *b)
{
  free(b->buf);
  b->buf = NULL;
  b->len = b->cap = 0;
}
