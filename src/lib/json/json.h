/* Typed, range-checked access to jansson values with errors that name the file and
 * the JSON path: "config.json: process.user.uid: expected an integer in [0, 4294967295]". */
#ifndef BERTH_JSON_JSON_H
#define BERTH_JSON_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

struct berth_jctx {
  const char *file; /* shown first in errors ("config.json"); may be NULL */
  char path[1024];  /* current JSON path, "" at the root */
  size_t len;
};

void berth_jctx_init(struct berth_jctx *c, const char *file);
/* descend into a member / element; returns a mark for berth_jctx_pop */
size_t berth_jctx_push_key(struct berth_jctx *c, const char *key);
size_t berth_jctx_push_index(struct berth_jctx *c, size_t index);
void berth_jctx_pop(struct berth_jctx *c, size_t mark);
/* "file: path: message" (path of the current position; key appended if non-NULL) */
int berth_jctx_error(const struct berth_jctx *c, const char *key, berth_error_t *err, const char *fmt, ...)
  __attribute__((format(printf, 4, 5)));

/* Parse text; a syntax error names file, line and column. */
json_t *berth_json_parse(const char *text, size_t len, const char *file, berth_error_t *err) BERTH_WUR;
json_t *berth_json_load_file(const char *path, const char *display_name, berth_error_t *err) BERTH_WUR;

/* Member getters on the object at the context's current path.
 * Return 1 when the member is present, 0 when absent or null (out untouched), -1 on a
 * type or range error. */
int berth_json_get_string(struct berth_jctx *c, json_t *obj, const char *key, const char **out,
                          berth_error_t *err) BERTH_WUR;
int berth_json_get_bool(struct berth_jctx *c, json_t *obj, const char *key, bool *out,
                        berth_error_t *err) BERTH_WUR;
int berth_json_get_i64(struct berth_jctx *c, json_t *obj, const char *key, int64_t min, int64_t max,
                       int64_t *out, berth_error_t *err) BERTH_WUR;
int berth_json_get_u64(struct berth_jctx *c, json_t *obj, const char *key, uint64_t max, uint64_t *out,
                       berth_error_t *err) BERTH_WUR;
int berth_json_get_u32(struct berth_jctx *c, json_t *obj, const char *key, uint32_t *out,
                       berth_error_t *err) BERTH_WUR;
int berth_json_get_object(struct berth_jctx *c, json_t *obj, const char *key, json_t **out,
                          berth_error_t *err) BERTH_WUR;
int berth_json_get_array(struct berth_jctx *c, json_t *obj, const char *key, json_t **out,
                         berth_error_t *err) BERTH_WUR;
/* array of strings → malloc'd NULL-terminated vector of pointers borrowed from the JSON
 * (free only the vector). *n may be NULL. */
int berth_json_get_strv(struct berth_jctx *c, json_t *obj, const char *key, const char ***out, size_t *n,
                        berth_error_t *err) BERTH_WUR;
/* object of string values → malloc'd vectors of borrowed keys and values */
int berth_json_get_string_map(struct berth_jctx *c, json_t *obj, const char *key, const char ***keys,
                              const char ***values, size_t *n, berth_error_t *err) BERTH_WUR;

/* "an object", "a string", ... for error messages */
const char *berth_json_type_name(const json_t *v);

/* Serialize compactly (never NULL). */
char *berth_json_dumps(const json_t *v);

#endif
