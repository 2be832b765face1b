/* Image manifests, indexes (manifest lists), descriptors, and the helpers that the image
 * config (manifest_config.c) shares. Unknown members are ignored, as the image-spec asks. */
#include "image/manifest.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "image/manifest_priv.h"

static const struct {
  const char *type;
  enum berth_compression comp;
} layer_types[] = {
  { BERTH_MT_OCI_LAYER, BERTH_COMPRESSION_NONE },
  { BERTH_MT_OCI_LAYER_GZIP, BERTH_COMPRESSION_GZIP },
  { BERTH_MT_OCI_LAYER_ZSTD, BERTH_COMPRESSION_ZSTD },
  { BERTH_MT_OCI_LAYER_ND, BERTH_COMPRESSION_NONE },
  { BERTH_MT_OCI_LAYER_ND_GZIP, BERTH_COMPRESSION_GZIP },
  { BERTH_MT_OCI_LAYER_ND_ZSTD, BERTH_COMPRESSION_ZSTD },
  { BERTH_MT_DOCKER_LAYER_GZIP, BERTH_COMPRESSION_GZIP },
  { BERTH_MT_DOCKER_LAYER_FOREIGN, BERTH_COMPRESSION_GZIP },
};

int berth_layer_media_type_compression(const char *media_type, enum berth_compression *c)
{
  for (size_t i = 0; media_type != NULL && i < BERTH_N_ELEMENTS(layer_types); i++)
    if (strcmp(media_type, layer_types[i].type) == 0) {
      *c = layer_types[i].comp;
      return 0;
    }
  return -1;
}

/* ---- strmap ---- */

static size_t strmap_pos(const struct berth_strmap *m, const char *key, bool *found)
{
  size_t lo = 0, hi = m->n;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    int r = strcmp(m->keys[mid], key);
    if (r == 0) {
      *found = true;
      return mid;
    }
    if (r < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  *found = false;
  return lo;
}

void berth_strmap_set(struct berth_strmap *m, const char *key, const char *value)
{
  bool found;
  size_t i = strmap_pos(m, key, &found);
  if (found) {
    free(m->values[i]);
    m->values[i] = xstrdup(value);
    return;
  }
  m->keys = xreallocarray(m->keys, m->n + 1, sizeof *m->keys);
  m->values = xreallocarray(m->values, m->n + 1, sizeof *m->values);
  memmove(m->keys + i + 1, m->keys + i, (m->n - i) * sizeof *m->keys);
  memmove(m->values + i + 1, m->values + i, (m->n - i) * sizeof *m->values);
  m->keys[i] = xstrdup(key);
  m->values[i] = xstrdup(value);
  m->n++;
}

const char *berth_strmap_get(const struct berth_strmap *m, const char *key)
{
  bool found;
  size_t i = strmap_pos(m, key, &found);
  return found ? m->values[i] : NULL;
}

void berth_strmap_release(struct berth_strmap *m)
{
  for (size_t i = 0; i < m->n; i++) {
    free(m->keys[i]);
    free(m->values[i]);
  }
  free(m->keys);
  free(m->values);
  memset(m, 0, sizeof *m);
}

/* ---- shared getters ---- */

json_t *mf_load(const char *data, size_t len, const char *what, const char *name, struct berth_jctx *c,
                char **file, berth_error_t *err)
{
  *file = name ? xasprintf("%s %s", what, name) : xstrdup(what);
  berth_jctx_init(c, *file);
  json_t *root = berth_json_parse(data, len, *file, err);
  if (root != NULL && !json_is_object(root)) {
    berth_jctx_error(c, NULL, err, "expected a JSON object");
    json_decref(root);
    return NULL;
  }
  return root;
}

int mf_get_str(struct berth_jctx *c, json_t *o, const char *key, bool required, char **out,
               berth_error_t *err)
{
  const char *s = NULL;
  int r = berth_json_get_string(c, o, key, &s, err);
  if (r < 0)
    return -1;
  if (r == 0 && required)
    return berth_jctx_error(c, key, err, "missing");
  if (r > 0)
    *out = xstrdup(s);
  return r;
}

int mf_get_strv(struct berth_jctx *c, json_t *o, const char *key, char ***out, size_t *n, berth_error_t *err)
{
  cleanup_free const char **v = NULL;
  size_t len = 0;
  int r = berth_json_get_strv(c, o, key, &v, &len, err);
  if (r <= 0)
    return r;
  char **copy = xcalloc(len + 1, sizeof *copy);
  for (size_t i = 0; i < len; i++)
    copy[i] = xstrdup(v[i]);
  *out = copy;
  if (n != NULL)
    *n = len;
  return 1;
}

int mf_get_strmap(struct berth_jctx *c, json_t *o, const char *key, struct berth_strmap *out,
                  berth_error_t *err)
{
  cleanup_free const char **k = NULL;
  cleanup_free const char **v = NULL;
  size_t n = 0;
  int r = berth_json_get_string_map(c, o, key, &k, &v, &n, err);
  if (r <= 0)
    return r;
  for (size_t i = 0; i < n; i++)
    berth_strmap_set(out, k[i], v[i]);
  return 1;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *) a, *(char *const *) b); }

int mf_get_keys(struct berth_jctx *c, json_t *o, const char *key, char ***out, berth_error_t *err)
{
  json_t *obj = NULL;
  int r = berth_json_get_object(c, o, key, &obj, err);
  if (r <= 0)
    return r;
  size_t n = json_object_size(obj), i = 0;
  char **v = xcalloc(n + 1, sizeof *v);
  const char *k;
  json_t *val;
  json_object_foreach (obj, k, val) {
    if (!json_is_object(val) && !json_is_null(val)) {
      size_t m = berth_jctx_push_key(c, key);
      berth_jctx_error(c, k, err, "expected an empty object");
      berth_jctx_pop(c, m);
      berth_strv_free(v);
      return -1;
    }
    v[i++] = xstrdup(k);
  }
  qsort(v, n, sizeof *v, cmp_str);
  *out = v;
  return 1;
}

int mf_check_digest(struct berth_jctx *c, const char *key, const char *value, berth_error_t *err)
{
  berth_error_t inner = NULL;
  if (berth_digest_validate(value, &inner) == 0)
    return 0;
  /* "digest `x`: reason" -> "reason" */
  const char *why = inner->msg;
  const char *tick = strstr(why, "`: ");
  if (berth_str_has_prefix(why, "digest `") && tick != NULL)
    why = tick + 3;
  int r = berth_jctx_error(c, key, err, "not a sha256 digest: %s", why);
  berth_error_release(&inner);
  return r;
}

int mf_get_digest(struct berth_jctx *c, json_t *o, const char *key, char out[BERTH_DIGEST_LEN + 1],
                  berth_error_t *err)
{
  const char *s = NULL;
  int r = berth_json_get_string(c, o, key, &s, err);
  if (r < 0)
    return -1;
  if (r == 0)
    return berth_jctx_error(c, key, err, "missing");
  if (mf_check_digest(c, key, s, err) < 0)
    return -1;
  memcpy(out, s, BERTH_DIGEST_LEN + 1);
  return 1;
}

/* type "/" subtype, each of RFC 6838's restricted-name characters */
static bool media_type_shaped(const char *s)
{
  const char *slash = strchr(s, '/');
  if (slash == NULL || slash == s || slash[1] == '\0' || strchr(slash + 1, '/') != NULL || strlen(s) > 255)
    return false;
  for (const char *p = s; *p; p++)
    if (p != slash && !isalnum((unsigned char) *p) && strchr("!#$&^_.+-", *p) == NULL)
      return false;
  return true;
}

/* ---- descriptors ---- */

void berth_descriptor_release(struct berth_descriptor *d)
{
  free(d->media_type);
  berth_strv_free(d->urls);
  berth_strmap_release(&d->annotations);
  if (d->platform != NULL) {
    free(d->platform->architecture);
    free(d->platform->os);
    free(d->platform->os_version);
    free(d->platform->variant);
    berth_strv_free(d->platform->os_features);
    free(d->platform);
  }
  memset(d, 0, sizeof *d);
}

static BERTH_WUR int parse_platform(struct berth_jctx *c, json_t *o, struct berth_descriptor *d,
                                    berth_error_t *err)
{
  json_t *p = NULL;
  int r = berth_json_get_object(c, o, "platform", &p, err);
  if (r <= 0)
    return r;
  size_t m = berth_jctx_push_key(c, "platform");
  d->platform = xmalloc0(sizeof *d->platform);
  struct berth_platform *pl = d->platform;
  if (mf_get_str(c, p, "architecture", true, &pl->architecture, err) < 0 ||
      mf_get_str(c, p, "os", true, &pl->os, err) < 0 ||
      mf_get_str(c, p, "os.version", false, &pl->os_version, err) < 0 ||
      mf_get_str(c, p, "variant", false, &pl->variant, err) < 0 ||
      mf_get_strv(c, p, "os.features", &pl->os_features, NULL, err) < 0)
    return -1;
  berth_jctx_pop(c, m);
  return 1;
}

/* the descriptor at the context's current path */
static BERTH_WUR int parse_descriptor(struct berth_jctx *c, json_t *o, bool with_platform,
                                      struct berth_descriptor *d, berth_error_t *err)
{
  if (!json_is_object(o))
    return berth_jctx_error(c, NULL, err, "expected a descriptor object");
  if (mf_get_str(c, o, "mediaType", true, &d->media_type, err) < 0)
    return -1;
  if (!media_type_shaped(d->media_type))
    return berth_jctx_error(c, "mediaType", err, "`%s` is not a media type", d->media_type);
  if (mf_get_digest(c, o, "digest", d->digest, err) < 0)
    return -1;
  int64_t size = 0;
  int r = berth_json_get_i64(c, o, "size", 0, INT64_MAX, &size, err);
  if (r == 0)
    return berth_jctx_error(c, "size", err, "missing");
  if (r < 0)
    return -1;
  d->size = size;
  if (mf_get_strv(c, o, "urls", &d->urls, NULL, err) < 0 ||
      mf_get_strmap(c, o, "annotations", &d->annotations, err) < 0)
    return -1;
  if (with_platform && parse_platform(c, o, d, err) < 0)
    return -1;
  return 0;
}

static json_t *platform_json(const struct berth_platform *p)
{
  json_t *o = json_object();
  mf_set_str(o, "architecture", p->architecture);
  mf_set_str(o, "os", p->os);
  mf_set_str(o, "os.version", p->os_version);
  mf_set(o, "os.features", p->os_features && p->os_features[0] ? mf_strv_json(p->os_features) : NULL);
  mf_set_str(o, "variant", p->variant);
  return o;
}

static json_t *descriptor_json(const struct berth_descriptor *d)
{
  json_t *o = json_object();
  mf_set_str(o, "mediaType", d->media_type);
  mf_set_str(o, "digest", d->digest);
  mf_set(o, "size", json_integer(d->size));
  mf_set(o, "urls", d->urls && d->urls[0] ? mf_strv_json(d->urls) : NULL);
  mf_set(o, "annotations", d->annotations.n ? mf_strmap_json(&d->annotations) : NULL);
  mf_set(o, "platform", d->platform ? platform_json(d->platform) : NULL);
  return o;
}

/* ---- shared builders ---- */

void mf_set(json_t *o, const char *key, json_t *v)
{
  if (v != NULL)
    json_object_set_new(o, key, v);
}

void mf_set_str(json_t *o, const char *key, const char *s)
{
  if (s != NULL)
    json_object_set_new(o, key, json_string(s));
}

json_t *mf_strv_json(char *const *v)
{
  json_t *a = json_array();
  for (size_t i = 0; v != NULL && v[i] != NULL; i++)
    json_array_append_new(a, json_string(v[i]));
  return a;
}

json_t *mf_strmap_json(const struct berth_strmap *m)
{
  json_t *o = json_object();
  for (size_t i = 0; i < m->n; i++)
    json_object_set_new(o, m->keys[i], json_string(m->values[i]));
  return o;
}

json_t *mf_keys_json(char *const *keys)
{
  json_t *o = json_object();
  for (size_t i = 0; keys != NULL && keys[i] != NULL; i++)
    json_object_set_new(o, keys[i], json_object());
  return o;
}

char *mf_dump(json_t *v, size_t *len)
{
  char *s = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
  json_decref(v);
  if (s == NULL)
    berth_oom();
  if (len != NULL)
    *len = strlen(s);
  return s;
}

/* ---- document kind ---- */

static bool is_manifest_type(const char *t)
{
  return strcmp(t, BERTH_MT_OCI_MANIFEST) == 0 || strcmp(t, BERTH_MT_DOCKER_MANIFEST) == 0;
}

static bool is_index_type(const char *t)
{
  return strcmp(t, BERTH_MT_OCI_INDEX) == 0 || strcmp(t, BERTH_MT_DOCKER_LIST) == 0;
}

static BERTH_WUR int check_schema(struct berth_jctx *c, json_t *root, int *version, berth_error_t *err)
{
  int64_t v = 0;
  int r = berth_json_get_i64(c, root, "schemaVersion", INT32_MIN, INT32_MAX, &v, err);
  if (r < 0)
    return -1;
  if (r == 0)
    return berth_jctx_error(c, "schemaVersion", err, "missing");
  if (v == 1)
    return berth_jctx_error(c, "schemaVersion", err, "Docker schema 1 manifests are not supported");
  if (v != 2)
    return berth_jctx_error(c, "schemaVersion", err, "expected 2, got %lld", (long long) v);
  *version = (int) v;
  return 0;
}

int berth_doc_kind(const char *data, size_t len, const char *name, enum berth_doc_kind *kind,
                   berth_error_t *err)
{
  struct berth_jctx c;
  cleanup_free char *file = NULL;
  json_t *root = mf_load(data, len, "manifest", name, &c, &file, err);
  if (root == NULL)
    return -1;
  const char *mt = NULL;
  int r = berth_json_get_string(&c, root, "mediaType", &mt, err);
  if (r > 0 && is_manifest_type(mt))
    *kind = BERTH_DOC_MANIFEST;
  else if (r > 0 && is_index_type(mt))
    *kind = BERTH_DOC_INDEX;
  else if (r > 0)
    r = berth_jctx_error(&c, "mediaType", err, "unsupported media type `%s`", mt);
  else if (r == 0 && json_object_get(root, "manifests") != NULL)
    *kind = BERTH_DOC_INDEX;
  else if (r == 0 && (json_object_get(root, "config") != NULL || json_object_get(root, "layers") != NULL))
    *kind = BERTH_DOC_MANIFEST;
  else if (r == 0 && json_object_get(root, "fsLayers") != NULL)
    r = berth_jctx_error(&c, NULL, err, "Docker schema 1 manifests are not supported");
  else if (r == 0)
    r = berth_jctx_error(&c, NULL, err, "neither an image manifest nor an index");
  json_decref(root);
  return r < 0 ? -1 : 0;
}

/* ---- manifests ---- */

bool berth_manifest_is_image(const struct berth_manifest *m)
{
  const char *t = m->config.media_type;
  return t != NULL && (strcmp(t, BERTH_MT_OCI_CONFIG) == 0 || strcmp(t, BERTH_MT_DOCKER_CONFIG) == 0);
}

static BERTH_WUR int parse_layers(struct berth_jctx *c, json_t *root, struct berth_manifest *m,
                                  berth_error_t *err)
{
  json_t *arr = NULL;
  int r = berth_json_get_array(c, root, "layers", &arr, err);
  if (r == 0)
    return berth_jctx_error(c, "layers", err, "missing");
  if (r < 0)
    return -1;
  m->n_layers = json_array_size(arr);
  m->layers = xcalloc(m->n_layers ? m->n_layers : 1, sizeof *m->layers);
  size_t mark = berth_jctx_push_key(c, "layers");
  for (size_t i = 0; i < m->n_layers; i++) {
    size_t im = berth_jctx_push_index(c, i);
    if (parse_descriptor(c, json_array_get(arr, i), false, &m->layers[i], err) < 0)
      return -1;
    enum berth_compression comp;
    if (berth_manifest_is_image(m) && berth_layer_media_type_compression(m->layers[i].media_type, &comp) < 0)
      return berth_jctx_error(c, "mediaType", err, "`%s` is not a layer media type", m->layers[i].media_type);
    berth_jctx_pop(c, im);
  }
  berth_jctx_pop(c, mark);
  return 0;
}

static BERTH_WUR int parse_manifest(struct berth_jctx *c, json_t *root, struct berth_manifest *m,
                                    berth_error_t *err)
{
  if (check_schema(c, root, &m->schema_version, err) < 0)
    return -1;
  if (mf_get_str(c, root, "mediaType", false, &m->media_type, err) < 0)
    return -1;
  if (m->media_type != NULL && is_index_type(m->media_type))
    return berth_jctx_error(c, "mediaType", err, "`%s` is an index, not an image manifest", m->media_type);
  if (m->media_type != NULL && !is_manifest_type(m->media_type))
    return berth_jctx_error(c, "mediaType", err, "unsupported media type `%s`", m->media_type);
  json_t *cfg = json_object_get(root, "config");
  if (cfg == NULL || json_is_null(cfg))
    return berth_jctx_error(c, "config", err, "missing");
  size_t mark = berth_jctx_push_key(c, "config");
  if (parse_descriptor(c, cfg, false, &m->config, err) < 0)
    return -1;
  bool docker = berth_str_eq(m->media_type, BERTH_MT_DOCKER_MANIFEST);
  if (docker && strcmp(m->config.media_type, BERTH_MT_DOCKER_CONFIG) != 0)
    return berth_jctx_error(c, "mediaType", err,
                            "`%s` in a Docker manifest (expected " BERTH_MT_DOCKER_CONFIG ")",
                            m->config.media_type);
  berth_jctx_pop(c, mark);
  if (parse_layers(c, root, m, err) < 0)
    return -1;
  return mf_get_strmap(c, root, "annotations", &m->annotations, err) < 0 ? -1 : 0;
}

int berth_manifest_parse(const char *data, size_t len, const char *name, struct berth_manifest **out,
                         berth_error_t *err)
{
  struct berth_jctx c;
  cleanup_free char *file = NULL;
  json_t *root = mf_load(data, len, "manifest", name, &c, &file, err);
  if (root == NULL)
    return -1;
  struct berth_manifest *m = xmalloc0(sizeof *m);
  int r = parse_manifest(&c, root, m, err);
  json_decref(root);
  if (r < 0) {
    berth_manifest_free(m);
    return -1;
  }
  *out = m;
  return 0;
}

char *berth_manifest_build(const struct berth_manifest *m, size_t *len)
{
  json_t *o = json_object();
  mf_set(o, "schemaVersion", json_integer(m->schema_version ? m->schema_version : 2));
  mf_set_str(o, "mediaType", m->media_type);
  mf_set(o, "config", descriptor_json(&m->config));
  json_t *layers = json_array();
  for (size_t i = 0; i < m->n_layers; i++)
    json_array_append_new(layers, descriptor_json(&m->layers[i]));
  mf_set(o, "layers", layers);
  mf_set(o, "annotations", m->annotations.n ? mf_strmap_json(&m->annotations) : NULL);
  return mf_dump(o, len);
}

void berth_manifest_free(struct berth_manifest *m)
{
  if (m == NULL)
    return;
  free(m->media_type);
  berth_descriptor_release(&m->config);
  for (size_t i = 0; i < m->n_layers; i++)
    berth_descriptor_release(&m->layers[i]);
  free(m->layers);
  berth_strmap_release(&m->annotations);
  free(m);
}

/* ---- indexes ---- */

static BERTH_WUR int parse_index(struct berth_jctx *c, json_t *root, struct berth_index *ix,
                                 berth_error_t *err)
{
  if (check_schema(c, root, &ix->schema_version, err) < 0)
    return -1;
  if (mf_get_str(c, root, "mediaType", false, &ix->media_type, err) < 0)
    return -1;
  if (ix->media_type != NULL && is_manifest_type(ix->media_type))
    return berth_jctx_error(c, "mediaType", err, "`%s` is an image manifest, not an index", ix->media_type);
  if (ix->media_type != NULL && !is_index_type(ix->media_type))
    return berth_jctx_error(c, "mediaType", err, "unsupported media type `%s`", ix->media_type);
  json_t *arr = NULL;
  int r = berth_json_get_array(c, root, "manifests", &arr, err);
  if (r == 0)
    return berth_jctx_error(c, "manifests", err, "missing");
  if (r < 0)
    return -1;
  ix->n_manifests = json_array_size(arr);
  ix->manifests = xcalloc(ix->n_manifests ? ix->n_manifests : 1, sizeof *ix->manifests);
  size_t mark = berth_jctx_push_key(c, "manifests");
  for (size_t i = 0; i < ix->n_manifests; i++) {
    size_t im = berth_jctx_push_index(c, i);
    if (parse_descriptor(c, json_array_get(arr, i), true, &ix->manifests[i], err) < 0)
      return -1;
    berth_jctx_pop(c, im);
  }
  berth_jctx_pop(c, mark);
  return mf_get_strmap(c, root, "annotations", &ix->annotations, err) < 0 ? -1 : 0;
}

int berth_index_parse(const char *data, size_t len, const char *name, struct berth_index **out,
                      berth_error_t *err)
{
  struct berth_jctx c;
  cleanup_free char *file = NULL;
  json_t *root = mf_load(data, len, "index", name, &c, &file, err);
  if (root == NULL)
    return -1;
  struct berth_index *ix = xmalloc0(sizeof *ix);
  int r = parse_index(&c, root, ix, err);
  json_decref(root);
  if (r < 0) {
    berth_index_free(ix);
    return -1;
  }
  *out = ix;
  return 0;
}

char *berth_index_build(const struct berth_index *ix, size_t *len)
{
  json_t *o = json_object();
  mf_set(o, "schemaVersion", json_integer(ix->schema_version ? ix->schema_version : 2));
  mf_set_str(o, "mediaType", ix->media_type);
  json_t *arr = json_array();
  for (size_t i = 0; i < ix->n_manifests; i++)
    json_array_append_new(arr, descriptor_json(&ix->manifests[i]));
  mf_set(o, "manifests", arr);
  mf_set(o, "annotations", ix->annotations.n ? mf_strmap_json(&ix->annotations) : NULL);
  return mf_dump(o, len);
}

void berth_index_free(struct berth_index *ix)
{
  if (ix == NULL)
    return;
  free(ix->media_type);
  for (size_t i = 0; i < ix->n_manifests; i++)
    berth_descriptor_release(&ix->manifests[i]);
  free(ix->manifests);
  berth_strmap_release(&ix->annotations);
  free(ix);
}

const struct berth_descriptor *berth_index_find(const struct berth_index *ix, const char *os,
                                                const char *arch, const char *variant)
{
  for (size_t i = 0; i < ix->n_manifests; i++) {
    const struct berth_platform *p = ix->manifests[i].platform;
    if (p == NULL || !berth_str_eq(p->os, os) || !berth_str_eq(p->architecture, arch))
      continue;
    if (variant != NULL && p->variant != NULL && strcmp(variant, p->variant) != 0)
      continue;
    return &ix->manifests[i];
  }
  return NULL;
}
