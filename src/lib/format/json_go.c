/* Numbers and JSON as Go writes them: strconv's shortest float formatting (what %v and json
 * print) and encoding/json's output as Docker's `json` function asks for it (compact, no HTML
 * escaping, a map's keys in order, a struct's fields as declared). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "format/format_internal.h"

/* the fewest significant digits that read back as f: digits in d (no dot), *exp the power of ten
 * of the first */
static size_t shortest(double f, char d[32], int *exp)
{
  char buf[48];
  for (int p = 1; p <= 17; p++) {
    snprintf(buf, sizeof buf, "%.*e", p - 1, f);
    if (strtod(buf, NULL) == f || p == 17)
      break;
  }
  size_t n = 0;
  const char *c = buf + (buf[0] == '-');
  for (; *c && *c != 'e'; c++)
    if (*c >= '0' && *c <= '9')
      d[n++] = *c;
  d[n] = '\0';
  *exp = *c == 'e' ? atoi(c + 1) : 0;
  while (n > 1 && d[n - 1] == '0')
    d[--n] = '\0';
  return n;
}

static void put_f(struct berth_strbuf *b, const char *d, size_t nd, int exp)
{
  long dp = (long) exp + 1, decimals = (long) nd - dp > 0 ? (long) nd - dp : 0;
  if (dp <= 0)
    berth_strbuf_putc(b, '0');
  for (long i = 0; i < dp; i++)
    berth_strbuf_putc(b, i < (long) nd ? d[i] : '0');
  if (decimals > 0)
    berth_strbuf_putc(b, '.');
  for (long i = 0; i < decimals; i++) {
    long k = dp + i;
    berth_strbuf_putc(b, k >= 0 && k < (long) nd ? d[k] : '0');
  }
}

static void put_e(struct berth_strbuf *b, const char *d, size_t nd, int exp)
{
  berth_strbuf_putc(b, d[0]);
  if (nd > 1) {
    berth_strbuf_putc(b, '.');
    berth_strbuf_append(b, d + 1, nd - 1);
  }
  berth_strbuf_printf(b, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
}

void go_format_float(struct berth_strbuf *b, double f, char fmt)
{
  if (isnan(f) || isinf(f)) {
    berth_strbuf_puts(b, isnan(f) ? "NaN" : f > 0 ? "+Inf" : "-Inf");
    return;
  }
  char d[32];
  int exp;
  size_t nd = shortest(f, d, &exp);
  if (signbit(f))
    berth_strbuf_putc(b, '-');
  if (fmt == 'e' || (fmt == 'g' && (exp < -4 || exp >= 6)))
    put_e(b, d, nd, exp);
  else
    put_f(b, d, nd, exp);
}

static void json_string_go(struct berth_strbuf *b, const char *s, size_t len, bool html)
{
  berth_strbuf_putc(b, '"');
  for (size_t i = 0; i < len;) {
    unsigned char c = (unsigned char) s[i];
    if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80 && !(html && (c == '<' || c == '>' || c == '&'))) {
      berth_strbuf_putc(b, (char) c);
      i++;
      continue;
    }
    if (c < 0x80) {
      const char *esc = c == '"'    ? "\\\""
                        : c == '\\' ? "\\\\"
                        : c == '\n' ? "\\n"
                        : c == '\r' ? "\\r"
                        : c == '\t' ? "\\t"
                                    : NULL;
      if (esc)
        berth_strbuf_puts(b, esc);
      else
        berth_strbuf_printf(b, "\\u%04x", c);
      i++;
      continue;
    }
    size_t start = i;
    int r = utf8_next(s, len, &i);
    if (r == 0xfffd && i - start == 1)
      berth_strbuf_puts(b, "\\ufffd");
    else if (r == 0x2028 || r == 0x2029)
      berth_strbuf_printf(b, "\\u%04x", r);
    else
      berth_strbuf_append(b, s + start, i - start);
  }
  berth_strbuf_putc(b, '"');
}

static void json_number_go(struct berth_strbuf *b, double f)
{
  double abs = fabs(f);
  bool e = abs != 0 && (abs < 1e-6 || abs >= 1e21);
  size_t at = b->len;
  go_format_float(b, f, e ? 'e' : 'f');
  if (e) { /* e-09 -> e-9, as encoding/json writes it */
    char *x = strchr(b->buf + at, 'e');
    if (x && x[1] == '-' && x[2] == '0') {
      memmove(x + 2, x + 3, strlen(x + 3) + 1);
      b->len--;
    }
  }
}

static int key_cmp(const void *a, const void *b)
{
  return strcmp(*(const char *const *) a, *(const char *const *) b);
}

static void json_object_go(struct berth_strbuf *b, const json_t *v, struct exec *s, const struct vpath *path,
                           unsigned flags)
{
  size_t n = json_object_size(v), i = 0;
  const char **keys = xcalloc(n + 1, sizeof *keys), *k;
  json_t *e;
  json_object_foreach ((json_t *) v, k, e)
    keys[i++] = k;
  struct val here = { (json_t *) v, path, false };
  if ((flags & GOJSON_SORT_ALL) || s == NULL || exec_is_map(s, &here))
    qsort(keys, n, sizeof *keys, key_cmp);
  berth_strbuf_putc(b, '{');
  for (i = 0; i < n; i++) {
    if (i)
      berth_strbuf_putc(b, ',');
    json_string_go(b, keys[i], strlen(keys[i]), flags & GOJSON_HTML);
    berth_strbuf_putc(b, ':');
    go_json_encode(b, json_object_get(v, keys[i]), s, path && s ? exec_path(s, path, keys[i]) : NULL, flags);
  }
  berth_strbuf_putc(b, '}');
  free(keys);
}

void go_json_encode(struct berth_strbuf *b, const json_t *v, struct exec *s, const struct vpath *path,
                    unsigned flags)
{
  if (v == NULL) {
    berth_strbuf_puts(b, "null");
    return;
  }
  switch (json_typeof(v)) {
  case JSON_NULL: berth_strbuf_puts(b, "null"); break;
  case JSON_TRUE: berth_strbuf_puts(b, "true"); break;
  case JSON_FALSE: berth_strbuf_puts(b, "false"); break;
  case JSON_INTEGER: berth_strbuf_printf(b, "%lld", (long long) json_integer_value(v)); break;
  case JSON_REAL: json_number_go(b, json_real_value(v)); break;
  case JSON_STRING:
    json_string_go(b, json_string_value(v), json_string_length(v), flags & GOJSON_HTML);
    break;
  case JSON_ARRAY:
    berth_strbuf_putc(b, '[');
    for (size_t i = 0; i < json_array_size(v); i++) {
      if (i)
        berth_strbuf_putc(b, ',');
      go_json_encode(b, json_array_get(v, i), s, path, flags);
    }
    berth_strbuf_putc(b, ']');
    break;
  case JSON_OBJECT: json_object_go(b, v, s, path, flags); break;
  }
}
