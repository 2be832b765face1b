#include "json/json.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/strbuf.h"
#include "base/xalloc.h"

void berth_jctx_init(struct berth_jctx *c, const char *file)
{
  c->file = file;
  c->path[0] = '\0';
  c->len = 0;
}

static size_t push(struct berth_jctx *c, const char *key, size_t index)
{
  size_t mark = c->len;
  int n;
  if (key)
    n = snprintf(c->path + c->len, sizeof c->path - c->len, c->len ? ".%s" : "%s", key);
  else
    n = snprintf(c->path + c->len, sizeof c->path - c->len, "[%zu]", index);
  if (n > 0)
    c->len += (size_t) n;
  if (c->len >= sizeof c->path)
    c->len = sizeof c->path - 1;
  return mark;
}

size_t berth_jctx_push_key(struct berth_jctx *c, const char *key) { return push(c, key, 0); }

size_t berth_jctx_push_index(struct berth_jctx *c, size_t index) { return push(c, NULL, index); }

void berth_jctx_pop(struct berth_jctx *c, size_t mark)
{
  c->len = mark;
  c->path[mark] = '\0';
}

int berth_jctx_error(const struct berth_jctx *c, const char *key, berth_error_t *err, const char *fmt, ...)
{
  struct berth_strbuf b = BERTH_STRBUF_INIT;
  if (c->file)
    berth_strbuf_printf(&b, "%s: ", c->file);
  if (c->len || key) {
    berth_strbuf_puts(&b, c->path);
    if (key)
      berth_strbuf_printf(&b, "%s%s", c->len ? "." : "", key);
    berth_strbuf_puts(&b, ": ");
  }
  va_list ap;
  va_start(ap, fmt);
  berth_strbuf_vprintf(&b, fmt, ap);
  va_end(ap);
  int r = berth_error_make(err, 0, "%s", b.buf);
  berth_strbuf_release(&b);
  return r;
}

json_t *berth_json_parse(const char *text, size_t len, const char *file, berth_error_t *err)
{
  json_error_t je;
  json_t *v = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
  if (v == NULL) {
    berth_error_make(err, 0, "%s:%d:%d: invalid JSON: %s", file ? file : "<input>", je.line, je.column,
                     je.text);
    return NULL;
  }
  return v;
}

json_t *berth_json_load_file(const char *path, const char *display_name, berth_error_t *err)
{
  cleanup_free char *text = NULL;
  size_t len = 0;
  if (berth_read_file(path, 0, &text, &len, err) < 0)
    return NULL;
  return berth_json_parse(text, len, display_name ? display_name : path, err);
}

const char *berth_json_type_name(const json_t *v)
{
  switch (json_typeof(v)) {
  case JSON_OBJECT: return "an object";
  case JSON_ARRAY: return "an array";
  case JSON_STRING: return "a string";
  case JSON_INTEGER: return "an integer";
  case JSON_REAL: return "a number";
  case JSON_TRUE:
  case JSON_FALSE: return "a boolean";
  case JSON_NULL: return "null";
  }
  return "a value";
}

static json_t *member(json_t *obj, const char *key)
{
  json_t *v = json_object_get(obj, key);
  return (v == NULL || json_is_null(v)) ? NULL : v;
}

int berth_json_get_string(struct berth_jctx *c, json_t *obj, const char *key, const char **out,
                          berth_error_t *err)
{
  json_t *v = member(obj, key);
  if (v == NULL)
    return 0;
  if (!json_is_string(v))
    return berth_jctx_error(c, key, err, "expected a string, got %s", berth_json_type_name(v));
  if (strlen(json_string_value(v)) != json_string_length(v))
    return berth_jctx_error(c, key, err, "string contains a NUL byte");
  *out = json_string_value(v);
  return 1;
}

int berth_json_get_bool(struct berth_jctx *c, json_t *obj, const char *key, bool *out, berth_error_t *err)
{
  json_t *v = member(obj, key);
  if (v == NULL)
    return 0;
  if (!json_is_boolean(v))
    return berth_jctx_error(c, key, err, "expected a boolean, got %s", berth_json_type_name(v));
  *out = json_is_true(v);
  return 1;
}

int berth_json_get_i64(struct berth_jctx *c, json_t *obj, const char *key, int64_t min, int64_t max,
                       int64_t *out, berth_error_t *err)
{
  json_t *v = member(obj, key);
  if (v == NULL)
    return 0;
  if (!json_is_integer(v))
    return berth_jctx_error(c, key, err, "expected an integer, got %s", berth_json_type_name(v));
  json_int_t i = json_integer_value(v);
  if (i < min || i > max)
    return berth_jctx_error(c, key, err, "%" PRId64 " is out of range [%" PRId64 ", %" PRId64 "]",
                            (int64_t) i, min, max);
  *out = i;
  return 1;
}

int berth_json_get_u64(struct berth_jctx *c, json_t *obj, const char *key, uint64_t max, uint64_t *out,
                       berth_error_t *err)
{
  json_t *v = member(obj, key);
  if (v == NULL)
    return 0;
  if (!json_is_integer(v))
    return berth_jctx_error(c, key, err, "expected an unsigned integer, got %s", berth_json_type_name(v));
  json_int_t i = json_integer_value(v);
  if (i < 0 || (uint64_t) i > max)
    return berth_jctx_error(c, key, err, "%" PRId64 " is out of range [0, %" PRIu64 "]", (int64_t) i, max);
  *out = (uint64_t) i;
  return 1;
}

int berth_json_get_u32(struct berth_jctx *c, json_t *obj, const char *key, uint32_t *out, berth_error_t *err)
{
  uint64_t v;
  int r = berth_json_get_u64(c, obj, key, UINT32_MAX, &v, err);
  if (r == 1)
    *out = (uint32_t) v;
  return r;
}

int berth_json_get_object(struct berth_jctx *c, json_t *obj, const char *key, json_t **out,
                          berth_error_t *err)
{
  json_t *v = member(obj, key);
  if (v == NULL)
    return 0;
  if (!json_is_object(v))
    return berth_jctx_error(c, key, err, "expected an object, got %s", berth_json_type_name(v));
  *out = v;
  return 1;
}

int berth_json_get_array(struct berth_jctx *c, json_t *obj, const char *key, json_t **out, berth_error_t *err)
{
  json_t *v = member(obj, key);
  if (v == NULL)
    return 0;
  if (!json_is_array(v))
    return berth_jctx_error(c, key, err, "expected an array, got %s", berth_json_type_name(v));
  *out = v;
  return 1;
}

int berth_json_get_strv(struct berth_jctx *c, json_t *obj, const char *key, const char ***out, size_t *n,
                        berth_error_t *err)
{
  json_t *arr = NULL;
  int r = berth_json_get_array(c, obj, key, &arr, err);
  if (r <= 0)
    return r;
  size_t len = json_array_size(arr);
  const char **v = xcalloc(len + 1, sizeof *v);
  for (size_t i = 0; i < len; i++) {
    json_t *s = json_array_get(arr, i);
    if (!json_is_string(s) || strlen(json_string_value(s)) != json_string_length(s)) {
      size_t m = berth_jctx_push_key(c, key);
      berth_jctx_push_index(c, i);
      berth_jctx_error(c, NULL, err, "expected a string, got %s",
                       json_is_string(s) ? "a string with NUL" : berth_json_type_name(s));
      berth_jctx_pop(c, m);
      free(v);
      return -1;
    }
    v[i] = json_string_value(s);
  }
  *out = v;
  if (n)
    *n = len;
  return 1;
}

int berth_json_get_string_map(struct berth_jctx *c, json_t *obj, const char *key, const char ***keys,
                              const char ***values, size_t *n, berth_error_t *err)
{
  json_t *o = NULL;
  int r = berth_json_get_object(c, obj, key, &o, err);
  if (r <= 0)
    return r;
  size_t len = json_object_size(o), i = 0;
  const char **k = xcalloc(len + 1, sizeof *k);
  const char **v = xcalloc(len + 1, sizeof *v);
  const char *mk;
  json_t *mv;
  json_object_foreach (o, mk, mv) {
    if (!json_is_string(mv)) {
      size_t m = berth_jctx_push_key(c, key);
      berth_jctx_error(c, mk, err, "expected a string, got %s", berth_json_type_name(mv));
      berth_jctx_pop(c, m);
      free(k);
      free(v);
      return -1;
    }
    k[i] = mk;
    v[i] = json_string_value(mv);
    i++;
  }
  *keys = k;
  *values = v;
  if (n)
    *n = len;
  return 1;
}

char *berth_json_dumps(const json_t *v)
{
  char *s = json_dumps(v, JSON_COMPACT);
  if (s == NULL)
    berth_oom();
  return s;
}
