#include "oci/spec_internal.h"

#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "base/strutil.h"
#include "base/xalloc.h"

static bool is_digit(char ch) { return ch >= '0' && ch <= '9'; }

static bool is_number_char(char ch)
{
  return is_digit(ch) || ch == '-' || ch == '+' || ch == '.' || ch == 'e' || ch == 'E';
}

/* end of the string literal starting at text[i] == '"' (index after the closing quote) */
static size_t skip_string(const char *text, size_t len, size_t i)
{
  for (i++; i < len && text[i] != '"'; i++)
    if (text[i] == '\\')
      i++;
  return i + 1;
}

/* Is text[start, end) a plain integer literal in (INT64_MAX, UINT64_MAX]? */
static bool is_big_unsigned(const char *text, size_t start, size_t end)
{
  size_t n = end - start;
  if (n < 19 || n > 20 || text[start] == '0')
    return false;
  char digits[24];
  for (size_t i = 0; i < n; i++) {
    if (!is_digit(text[start + i]))
      return false;
    digits[i] = text[start + i];
  }
  digits[n] = '\0';
  uint64_t v;
  return berth_parse_u64(digits, &v) == 0 && v > (uint64_t) INT64_MAX;
}

char *oci_rewrite_big_integers(const char *text, size_t len, size_t *out_len)
{
  struct berth_strbuf b = BERTH_STRBUF_INIT;
  size_t copied = 0, i = 0;
  bool changed = false;
  while (i < len) {
    if (text[i] == '"') {
      i = skip_string(text, len, i);
      continue;
    }
    if (!is_number_char(text[i])) {
      i++;
      continue;
    }
    size_t start = i;
    while (i < len && is_number_char(text[i]))
      i++;
    if (!is_big_unsigned(text, start, i))
      continue;
    berth_strbuf_append(&b, text + copied, start - copied);
    berth_strbuf_puts(&b, "\"\\u0000");
    berth_strbuf_append(&b, text + start, i - start);
    berth_strbuf_putc(&b, '"');
    copied = i;
    changed = true;
  }
  if (!changed) {
    berth_strbuf_release(&b);
    return NULL;
  }
  berth_strbuf_append(&b, text + copied, len - copied);
  *out_len = b.len;
  return berth_strbuf_detach(&b);
}

/* a rewritten big integer: "\0" followed by decimal digits */
static bool big_value(json_t *v, uint64_t *out)
{
  if (v == NULL || !json_is_string(v))
    return false;
  const char *s = json_string_value(v);
  size_t n = json_string_length(v);
  if (n < 2 || s[0] != '\0')
    return false;
  for (size_t i = 1; i < n; i++)
    if (!is_digit(s[i]))
      return false;
  return berth_parse_u64(s + 1, out) == 0;
}

const char *oci_type_name(const json_t *v) { return berth_json_type_name(v); }

int oci_required(struct berth_jctx *c, const char *key, berth_error_t *err)
{
  return berth_jctx_error(c, key, err, "is required");
}

int oci_expect_object(struct berth_jctx *c, json_t *v, berth_error_t *err)
{
  if (json_is_object(v))
    return 0;
  return berth_jctx_error(c, NULL, err, "expected an object, got %s", oci_type_name(v));
}

static BERTH_WUR int absent(struct berth_jctx *c, const char *key, bool required, berth_error_t *err)
{
  return required ? oci_required(c, key, err) : 0;
}

int oci_get_u64(struct berth_jctx *c, json_t *obj, const char *key, uint64_t max, bool required,
                uint64_t *out, berth_error_t *err)
{
  uint64_t big;
  if (big_value(json_object_get(obj, key), &big)) {
    if (big > max)
      return berth_jctx_error(c, key, err, "%" PRIu64 " is out of range [0, %" PRIu64 "]", big, max);
    *out = big;
    return 1;
  }
  int r = berth_json_get_u64(c, obj, key, max, out, err);
  return r == 0 ? absent(c, key, required, err) : r;
}

int oci_get_u32(struct berth_jctx *c, json_t *obj, const char *key, bool required, uint32_t *out,
                berth_error_t *err)
{
  uint64_t v = 0;
  int r = oci_get_u64(c, obj, key, UINT32_MAX, required, &v, err);
  if (r == 1)
    *out = (uint32_t) v;
  return r;
}

int oci_get_i64(struct berth_jctx *c, json_t *obj, const char *key, int64_t min, int64_t max, bool required,
                int64_t *out, berth_error_t *err)
{
  uint64_t big;
  if (big_value(json_object_get(obj, key), &big))
    return berth_jctx_error(c, key, err, "%" PRIu64 " is out of range [%" PRId64 ", %" PRId64 "]", big, min,
                            max);
  int r = berth_json_get_i64(c, obj, key, min, max, out, err);
  return r == 0 ? absent(c, key, required, err) : r;
}

int oci_get_int(struct berth_jctx *c, json_t *obj, const char *key, int min, int max, bool required, int *out,
                berth_error_t *err)
{
  int64_t v = 0;
  int r = oci_get_i64(c, obj, key, min, max, required, &v, err);
  if (r == 1)
    *out = (int) v;
  return r;
}

int oci_get_string(struct berth_jctx *c, json_t *obj, const char *key, bool required, const char **out,
                   berth_error_t *err)
{
  int r = berth_json_get_string(c, obj, key, out, err);
  return r == 0 ? absent(c, key, required, err) : r;
}

int oci_get_abs_path(struct berth_jctx *c, json_t *obj, const char *key, bool required, const char **out,
                     berth_error_t *err)
{
  const char *s = NULL;
  int r = oci_get_string(c, obj, key, required, &s, err);
  if (r <= 0)
    return r;
  if (s[0] != '/')
    return berth_jctx_error(c, key, err, "`%s` is not an absolute path", s);
  *out = s;
  return 1;
}

int oci_check_abs_paths(struct berth_jctx *c, const char *key, const char *const *v, size_t n,
                        berth_error_t *err)
{
  for (size_t i = 0; i < n; i++) {
    if (v[i][0] == '/')
      continue;
    size_t m = berth_jctx_push_key(c, key);
    berth_jctx_push_index(c, i);
    berth_jctx_error(c, NULL, err, "`%s` is not an absolute path", v[i]);
    berth_jctx_pop(c, m);
    return -1;
  }
  return 0;
}

static BERTH_WUR int parse_id_map(struct berth_jctx *c, json_t *o, struct berth_id_map *m, berth_error_t *err)
{
  if (oci_expect_object(c, o, err) < 0 || oci_get_u32(c, o, "containerID", true, &m->container_id, err) < 0 ||
      oci_get_u32(c, o, "hostID", true, &m->host_id, err) < 0 ||
      oci_get_u32(c, o, "size", true, &m->size, err) < 0)
    return -1;
  if (m->size == 0)
    return berth_jctx_error(c, "size", err, "must be greater than 0");
  if ((uint64_t) m->container_id + m->size - 1 > UINT32_MAX)
    return berth_jctx_error(c, "size", err, "containerID %" PRIu32 " + size %" PRIu32 " goes past 4294967295",
                            m->container_id, m->size);
  if ((uint64_t) m->host_id + m->size - 1 > UINT32_MAX)
    return berth_jctx_error(c, "size", err, "hostID %" PRIu32 " + size %" PRIu32 " goes past 4294967295",
                            m->host_id, m->size);
  return 0;
}

int oci_get_id_maps(struct berth_jctx *c, json_t *obj, const char *key, struct berth_id_map **out, size_t *n,
                    berth_error_t *err)
{
  json_t *arr = NULL;
  int r = berth_json_get_array(c, obj, key, &arr, err);
  if (r <= 0)
    return r;
  size_t len = json_array_size(arr);
  *out = xcalloc(len + 1, sizeof **out);
  *n = len;
  size_t m = berth_jctx_push_key(c, key);
  for (size_t i = 0; i < len; i++) {
    size_t mi = berth_jctx_push_index(c, i);
    if (parse_id_map(c, json_array_get(arr, i), &(*out)[i], err) < 0)
      return -1;
    berth_jctx_pop(c, mi);
  }
  berth_jctx_pop(c, m);
  return 1;
}
