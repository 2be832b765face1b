/* Internal to src/lib/image/manifest*.c: typed getters that copy out of the JSON, and the
 * JSON builders shared by manifests, indexes and image configs. */
#ifndef BERTH_IMAGE_MANIFEST_PRIV_H
#define BERTH_IMAGE_MANIFEST_PRIV_H

#include <jansson.h>

#include "image/manifest.h"
#include "json/json.h"

/* parse data as a JSON object; *file is "<what> <name>" (freed by the caller) for the errors */
json_t *mf_load(const char *data, size_t len, const char *what, const char *name, struct berth_jctx *c,
                char **file, berth_error_t *err) BERTH_WUR;

/* these return 1 when present, 0 when absent (an error when required), -1 on error */
int mf_get_str(struct berth_jctx *c, json_t *o, const char *key, bool required, char **out,
               berth_error_t *err) BERTH_WUR;
int mf_get_strv(struct berth_jctx *c, json_t *o, const char *key, char ***out, size_t *n,
                berth_error_t *err) BERTH_WUR;
int mf_get_strmap(struct berth_jctx *c, json_t *o, const char *key, struct berth_strmap *out,
                  berth_error_t *err) BERTH_WUR;
/* the keys of an object member, sorted (ExposedPorts, Volumes) */
int mf_get_keys(struct berth_jctx *c, json_t *o, const char *key, char ***out, berth_error_t *err) BERTH_WUR;
int mf_get_digest(struct berth_jctx *c, json_t *o, const char *key, char out[BERTH_DIGEST_LEN + 1],
                  berth_error_t *err) BERTH_WUR;
/* "not a sha256 digest: …" at the context's path (key appended when non-NULL) */
int mf_check_digest(struct berth_jctx *c, const char *key, const char *value, berth_error_t *err) BERTH_WUR;

json_t *mf_strv_json(char *const *v);
json_t *mf_strmap_json(const struct berth_strmap *m);
/* a JSON object with one empty object per key ({"80/tcp":{}}) */
json_t *mf_keys_json(char *const *keys);
/* set key to v unless v is NULL (steals v) */
void mf_set(json_t *o, const char *key, json_t *v);
void mf_set_str(json_t *o, const char *key, const char *s);
/* compact JSON in insertion order; consumes v */
char *mf_dump(json_t *v, size_t *len);

#endif
