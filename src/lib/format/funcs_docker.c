/* The functions docker/cli adds to every template (templates.go): json, split, join, title,
 * lower, upper, pad, truncate, with the same results and the same failures. */
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/xalloc.h"
#include "format/format_internal.h"

#define MAX_PAD (1 << 20)

static int give_string(struct val *out, struct berth_strbuf *b)
{
  *out = val_take(json_stringn_nocheck(b->buf ? b->buf : "", b->len));
  return 0;
}

int fn_json(struct exec *s, const char *name, struct val *a, size_t n, struct val *out, berth_error_t *err)
{
  cleanup_strbuf struct berth_strbuf b = BERTH_STRBUF_INIT;
  /* a row is marshalled by its own MarshalJSON: a map of its fields, through json.Marshal */
  bool marshaled = a[0].row && s->type && s->type->sorted_json && !s->header;
  unsigned flags =
    (s->type == NULL || s->header || marshaled ? GOJSON_SORT_ALL : 0) | (marshaled ? GOJSON_HTML : 0);
  go_json_encode(&b, a[0].j, s, a[0].path, flags);
  return give_string(out, &b);
}

/* strings.Split: an empty separator splits after each UTF-8 sequence */
int fn_split(struct exec *s, const char *name, struct val *a, size_t n, struct val *out, berth_error_t *err)
{
  const char *str = json_string_value(a[0].j), *sep = json_string_value(a[1].j);
  size_t len = json_string_length(a[0].j), seplen = json_string_length(a[1].j);
  json_t *r = json_array();
  if (seplen == 0) {
    for (size_t i = 0; i < len;) {
      size_t start = i;
      utf8_next(str, len, &i);
      json_array_append_new(r, json_stringn_nocheck(str + start, i - start));
    }
  } else {
    size_t start = 0;
    for (size_t i = 0; i + seplen <= len;) {
      if (memcmp(str + i, sep, seplen) == 0) {
        json_array_append_new(r, json_stringn_nocheck(str + start, i - start));
        i += seplen;
        start = i;
      } else {
        i++;
      }
    }
    json_array_append_new(r, json_stringn_nocheck(str + start, len - start));
  }
  *out = val_take(r);
  return 0;
}

static int cmp_str(const void *x, const void *y) { return strcmp(*(char *const *) x, *(char *const *) y); }

/* a map's values printed, in order (docker sorts them "to keep a consistent order") */
static void join_values(const json_t *obj, const char *sep, size_t seplen, struct berth_strbuf *b)
{
  size_t n = json_object_size(obj), i = 0;
  char **v = xcalloc(n + 1, sizeof *v);
  const char *k;
  json_t *e;
  json_object_foreach ((json_t *) obj, k, e) {
    struct berth_strbuf one = BERTH_STRBUF_INIT;
    berth_strbuf_append(&one, "", 0);
    go_print_value(&one, json_is_null(e) ? NULL : e);
    v[i++] = berth_strbuf_detach(&one);
  }
  qsort(v, n, sizeof *v, cmp_str);
  for (i = 0; i < n; i++) {
    if (i)
      berth_strbuf_append(b, sep, seplen);
    berth_strbuf_puts(b, v[i]);
    free(v[i]);
  }
  free(v);
}

int fn_join(struct exec *s, const char *name, struct val *a, size_t n, struct val *out, berth_error_t *err)
{
  cleanup_strbuf struct berth_strbuf b = BERTH_STRBUF_INIT;
  const json_t *e = a[0].j;
  const char *sep = json_string_value(a[1].j);
  size_t seplen = json_string_length(a[1].j);
  if (e == NULL || json_is_null(e))
    return give_string(out, &b);
  if (json_is_array(e)) {
    for (size_t i = 0; i < json_array_size(e); i++) {
      if (i)
        berth_strbuf_append(&b, sep, seplen);
      json_t *x = json_array_get(e, i);
      go_print_value(&b, json_is_null(x) ? NULL : x);
    }
  } else if (json_is_object(e) && !a[0].row) {
    join_values(e, sep, seplen, &b);
  } else {
    return BERTH_ERR(err, "expected slice, got %s", val_type(&a[0], s->type));
  }
  return give_string(out, &b);
}

static int rune_case(int r, bool upper);

/* strings.Title's word boundaries: ASCII but letters, digits and '_', and Unicode spaces */
static bool is_separator(int r)
{
  if (r < 0x80)
    return !((r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || r == '_');
  return r == 0x85 || r == 0xa0 || (r >= 0x2000 && r <= 0x200a) || r == 0x3000;
}

/* strings.Title: the first letter of each word in upper case (ASCII; other letters as they are) */
int fn_title(struct exec *s, const char *name, struct val *a, size_t n, struct val *out, berth_error_t *err)
{
  const char *str = json_string_value(a[0].j);
  size_t len = json_string_length(a[0].j);
  cleanup_strbuf struct berth_strbuf b = BERTH_STRBUF_INIT;
  int prev = ' ';
  for (size_t i = 0; i < len;) {
    size_t start = i;
    int r = utf8_next(str, len, &i);
    if (is_separator(prev) && rune_case(r, true) != r)
      utf8_put(&b, rune_case(r, true));
    else
      berth_strbuf_append(&b, str + start, i - start);
    prev = r;
  }
  return give_string(out, &b);
}

/* unicode.ToUpper/ToLower for ASCII, Latin-1, Greek and Cyrillic letters; others unchanged */
static int rune_case(int r, bool upper)
{
  static const int ranges[][3] = {
    /* lower first, lower last, upper - lower */
    { 'a', 'z', -32 },     { 0xe0, 0xf6, -32 },   { 0xf8, 0xfe, -32 },   { 0x3b1, 0x3c1, -32 },
    { 0x3c3, 0x3c9, -32 }, { 0x430, 0x44f, -32 }, { 0x450, 0x45f, -80 },
  };
  for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++) {
    int lo = ranges[i][0], hi = ranges[i][1], d = ranges[i][2];
    if (upper && r >= lo && r <= hi)
      return r + d;
    if (!upper && r >= lo + d && r <= hi + d)
      return r - d;
  }
  return upper && r == 0x3c2 ? 0x3a3 : r;
}

static int map_case(struct val *a, struct val *out, bool upper)
{
  const char *str = json_string_value(a[0].j);
  size_t len = json_string_length(a[0].j);
  cleanup_strbuf struct berth_strbuf b = BERTH_STRBUF_INIT;
  berth_strbuf_grow(&b, len + 1);
  for (size_t i = 0; i < len;) {
    size_t start = i;
    int r = utf8_next(str, len, &i);
    if (r == 0xfffd && i - start == 1)
      berth_strbuf_puts(&b, "\xef\xbf\xbd"); /* Go maps a bad byte to U+FFFD */
    else
      utf8_put(&b, rune_case(r, upper));
  }
  return give_string(out, &b);
}

int fn_lower(struct exec *s, const char *name, struct val *a, size_t n, struct val *out, berth_error_t *err)
{
  return map_case(a, out, false);
}

int fn_upper(struct exec *s, const char *name, struct val *a, size_t n, struct val *out, berth_error_t *err)
{
  return map_case(a, out, true);
}

/* pad STRING PREFIX SUFFIX: spaces around a string that is not empty */
int fn_pad(struct exec *s, const char *name, struct val *a, size_t n, struct val *out, berth_error_t *err)
{
  long long pre = json_integer_value(a[1].j), post = json_integer_value(a[2].j);
  cleanup_strbuf struct berth_strbuf b = BERTH_STRBUF_INIT;
  if (json_string_length(a[0].j) == 0)
    return give_string(out, &b);
  if (pre < 0 || post < 0)
    return BERTH_ERR(err, "strings: negative Repeat count");
  if (pre > MAX_PAD || post > MAX_PAD)
    return BERTH_ERR(err, "padding of %lld spaces is too large", pre > post ? pre : post);
  for (long long i = 0; i < pre; i++)
    berth_strbuf_putc(&b, ' ');
  berth_strbuf_append(&b, json_string_value(a[0].j), json_string_length(a[0].j));
  for (long long i = 0; i < post; i++)
    berth_strbuf_putc(&b, ' ');
  return give_string(out, &b);
}

/* truncate STRING LENGTH: the first LENGTH bytes */
int fn_truncate(struct exec *s, const char *name, struct val *a, size_t n, struct val *out,
                berth_error_t *err)
{
  long long want = json_integer_value(a[1].j);
  size_t len = json_string_length(a[0].j);
  if ((long long) len < want) {
    *out = val_ref(&a[0]);
    return 0;
  }
  if (want < 0)
    return BERTH_ERR(err, "runtime error: slice bounds out of range [:%lld]", want);
  *out = val_take(json_stringn_nocheck(json_string_value(a[0].j), (size_t) want));
  return 0;
}
