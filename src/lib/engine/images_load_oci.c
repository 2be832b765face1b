/* `berth load` of an OCI image layout (oci-layout, index.json, blobs/sha256): descriptors are
 * followed through nested indexes (the host's platform is picked), every blob is checked
 * against its descriptor's digest and size. */
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/load_src.h"
#include "json/json.h"

#define MAX_DEPTH 8

struct desc {
  const char *media_type;
  const char *digest;
  uint64_t size;
  json_t *annotations; /* borrowed, may be NULL */
  json_t *platform;    /* borrowed, may be NULL */
};

static int get_desc(struct berth_jctx *j, json_t *o, struct desc *d, berth_error_t *err)
{
  memset(d, 0, sizeof *d);
  if (!json_is_object(o))
    return berth_jctx_error(j, NULL, err, "expected a descriptor object");
  int r = berth_json_get_string(j, o, "digest", &d->digest, err);
  if (r == 0)
    r = berth_jctx_error(j, "digest", err, "missing");
  if (r > 0 && berth_digest_validate(d->digest, err) < 0) {
    berth_error_t inner = steal_ptr(*err);
    r = berth_jctx_error(j, "digest", err, "%s", inner->msg);
    berth_error_release(&inner);
  }
  if (r > 0 && (r = berth_json_get_u64(j, o, "size", INT64_MAX, &d->size, err)) == 0)
    r = berth_jctx_error(j, "size", err, "missing");
  if (r > 0 && (berth_json_get_string(j, o, "mediaType", &d->media_type, err) < 0 ||
                berth_json_get_object(j, o, "annotations", &d->annotations, err) < 0 ||
                berth_json_get_object(j, o, "platform", &d->platform, err) < 0))
    r = -1;
  return r < 0 ? -1 : 0;
}

/* the blob of a descriptor, stored and checked (digest by the store, size here) */
static int desc_blob(struct load_src *s, const struct desc *d, berth_digest_t out, berth_error_t *err)
{
  cleanup_free char *name = xasprintf("blobs/sha256/%s", berth_digest_hex(d->digest));
  uint64_t size = 0;
  if (load_src_blob(s, name, d->digest, out, &size, err) < 0)
    return -1;
  if (size != d->size)
    return BERTH_ERR(err, "`%s`: blob %s: %llu bytes, its descriptor says %llu", s->display, d->digest,
                     (unsigned long long) size, (unsigned long long) d->size);
  return 0;
}

static json_t *read_json(struct load_src *s, const struct desc *d, const char *what, berth_error_t *err)
{
  berth_digest_t got;
  cleanup_free char *data = NULL;
  size_t len = 0;
  if (desc_blob(s, d, got, err) < 0 ||
      berth_store_read_blob(s->e->store, got, IMAGES_MAX_JSON, &data, &len, err) < 0)
    return NULL;
  cleanup_free char *file = xasprintf("%s %s", what, d->digest);
  return berth_json_parse(data, len, file, err);
}

static bool layer_media_type_ok(const char *mt)
{
  static const char *const ok[] = {
    MEDIA_OCI_LAYER,
    MEDIA_OCI_LAYER_GZIP,
    MEDIA_OCI_LAYER_ZSTD,
    MEDIA_DOCKER_LAYER_GZIP,
    "application/vnd.oci.image.layer.nondistributable.v1.tar",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
  };
  for (size_t i = 0; mt && i < BERTH_N_ELEMENTS(ok); i++)
    if (strcmp(mt, ok[i]) == 0)
      return true;
  return mt == NULL;
}

/* the image's names from its descriptor's annotations (a bare tag names nothing) */
static int desc_tags(const struct desc *d, char ***tags, berth_error_t *err)
{
  const char *n = json_string_value(json_object_get(d->annotations, "io.containerd.image.name"));
  if (n == NULL) {
    n = json_string_value(json_object_get(d->annotations, "org.opencontainers.image.ref.name"));
    if (n && strchr(n, '/') == NULL && strchr(n, ':') == NULL)
      n = NULL;
  }
  if (n == NULL)
    return 0;
  cleanup_free char *full = NULL;
  if (images_tag_name(n, &full, err) < 0)
    return berth_error_wrap(err, "annotation of %s", d->digest);
  *tags = berth_strv_append(*tags, full);
  return 0;
}

static int manifest_layers(struct load_src *s, struct berth_jctx *j, json_t *m, char ***blobs,
                           berth_error_t *err)
{
  json_t *layers = NULL;
  int r = berth_json_get_array(j, m, "layers", &layers, err);
  if (r == 0)
    return berth_jctx_error(j, "layers", err, "missing");
  size_t mark = berth_jctx_push_key(j, "layers");
  for (size_t i = 0; r > 0 && i < json_array_size(layers); i++) {
    struct desc ld;
    berth_digest_t got;
    size_t m2 = berth_jctx_push_index(j, i);
    if (get_desc(j, json_array_get(layers, i), &ld, err) < 0)
      r = -1;
    else if (!layer_media_type_ok(ld.media_type))
      r = berth_jctx_error(j, "mediaType", err, "unsupported layer media type `%s`", ld.media_type);
    else if (desc_blob(s, &ld, got, err) < 0)
      r = -1;
    else
      *blobs = berth_strv_append(*blobs, got);
    berth_jctx_pop(j, m2);
  }
  berth_jctx_pop(j, mark);
  return r < 0 ? -1 : 0;
}

static int load_manifest(struct load_src *s, const struct desc *d, char **tags, struct load_out *out,
                         berth_error_t *err)
{
  json_t *m = read_json(s, d, "manifest", err);
  if (m == NULL)
    return -1;
  cleanup_free char *file = xasprintf("manifest %s", d->digest);
  struct berth_jctx j;
  berth_jctx_init(&j, file);
  json_t *cfgo = NULL;
  struct desc cd;
  berth_digest_t cfg, manifest;
  cleanup_strv char **blobs = xcalloc(1, sizeof(char *));
  int r = json_is_object(m) ? berth_json_get_object(&j, m, "config", &cfgo, err)
                            : berth_jctx_error(&j, NULL, err, "expected an object");
  if (r == 0)
    r = berth_jctx_error(&j, "config", err, "missing");
  if (r > 0) {
    size_t mark = berth_jctx_push_key(&j, "config");
    r = get_desc(&j, cfgo, &cd, err) < 0 || desc_blob(s, &cd, cfg, err) < 0 ? -1 : 0;
    berth_jctx_pop(&j, mark);
  }
  if (r == 0)
    r = manifest_layers(s, &j, m, &blobs, err);
  if (r == 0)
    r = desc_blob(s, d, manifest, err);
  if (r == 0) {
    cleanup_free char *what = xasprintf("`%s`: image %s", s->display, d->digest);
    struct ingest_image im = { .config = cfg,
                               .config_media_type = cd.media_type,
                               .manifest = manifest,
                               .manifest_media_type = d->media_type,
                               .nlayers = berth_strv_len(blobs),
                               .layer_blobs = blobs,
                               .tags = tags,
                               .what = what };
    struct ingest_prepared *p = NULL;
    r = ingest_prepare(s->e, &im, s->added, &p, err);
    if (r == 0)
      load_out_add(out, p);
  }
  json_decref(m);
  return r;
}

static int load_index(struct load_src *s, json_t *idx, const char *file, bool top, char **tags, int depth,
                      struct load_out *out, berth_error_t *err);

static int load_desc(struct load_src *s, const struct desc *d, char **tags, int depth, struct load_out *out,
                     berth_error_t *err)
{
  const char *mt = d->media_type ? d->media_type : "";
  if (strcmp(mt, MEDIA_OCI_MANIFEST) == 0 || strcmp(mt, MEDIA_DOCKER_MANIFEST) == 0)
    return load_manifest(s, d, tags, out, err);
  if (strcmp(mt, MEDIA_OCI_INDEX) != 0 && strcmp(mt, MEDIA_DOCKER_LIST) != 0)
    return BERTH_ERR(err, "`%s`: %s: unsupported media type `%s`", s->display, d->digest, mt);
  if (depth >= MAX_DEPTH)
    return BERTH_ERR(err, "`%s`: %s: indexes nested more than %d deep", s->display, d->digest, MAX_DEPTH);
  json_t *idx = read_json(s, d, "index", err);
  if (idx == NULL)
    return -1;
  cleanup_free char *file = xasprintf("index %s", d->digest);
  int r = load_index(s, idx, file, false, tags, depth + 1, out, err);
  json_decref(idx);
  return r;
}

static bool platform_matches(json_t *platform)
{
  const char *os, *arch, *variant;
  images_host_platform(&os, &arch, &variant);
  const char *pos = json_string_value(json_object_get(platform, "os"));
  const char *parch = json_string_value(json_object_get(platform, "architecture"));
  const char *pvar = json_string_value(json_object_get(platform, "variant"));
  return berth_str_eq(pos, os) && berth_str_eq(parch, arch) &&
         (pvar == NULL || !*variant || strcmp(pvar, variant) == 0);
}

/* a nested index (multi-platform image): the host's platform, or its only entry */
static int pick_platform(struct load_src *s, struct berth_jctx *j, json_t *list, struct desc *out,
                         berth_error_t *err)
{
  size_t n = json_array_size(list);
  for (size_t i = 0; i < n; i++) {
    size_t mark = berth_jctx_push_index(j, i);
    int r = get_desc(j, json_array_get(list, i), out, err);
    berth_jctx_pop(j, mark);
    if (r < 0)
      return -1;
    if (platform_matches(out->platform))
      return 0;
  }
  if (n == 1)
    return get_desc(j, json_array_get(list, 0), out, err);
  const char *os, *arch, *variant;
  images_host_platform(&os, &arch, &variant);
  return berth_jctx_error(j, NULL, err, "no image for %s/%s%s%s among %zu", os, arch, *variant ? "/" : "",
                          variant, n);
}

static int load_index(struct load_src *s, json_t *idx, const char *file, bool top, char **tags, int depth,
                      struct load_out *out, berth_error_t *err)
{
  struct berth_jctx j;
  berth_jctx_init(&j, file);
  json_t *list = NULL;
  int r = json_is_object(idx) ? berth_json_get_array(&j, idx, "manifests", &list, err)
                              : berth_jctx_error(&j, NULL, err, "expected an object");
  if (r == 0 || (r > 0 && json_array_size(list) == 0))
    r = berth_jctx_error(&j, "manifests", err, "no image");
  if (r < 0)
    return berth_error_wrap(err, "`%s`", s->display);
  size_t mark = berth_jctx_push_key(&j, "manifests");
  if (!top) {
    struct desc d;
    r = pick_platform(s, &j, list, &d, err) < 0 ? -1 : load_desc(s, &d, tags, depth, out, err);
    berth_jctx_pop(&j, mark);
    return r < 0 && !berth_str_has_prefix((*err)->msg, "`") ? berth_error_wrap(err, "`%s`", s->display) : r;
  }
  for (size_t i = 0; r >= 0 && i < json_array_size(list); i++) {
    struct desc d;
    cleanup_strv char **own = xcalloc(1, sizeof(char *));
    size_t m2 = berth_jctx_push_index(&j, i);
    if (get_desc(&j, json_array_get(list, i), &d, err) < 0)
      r = berth_error_wrap(err, "`%s`", s->display);
    else if (desc_tags(&d, &own, err) < 0)
      r = berth_error_wrap(err, "`%s`: %s", s->display, file);
    else
      r = load_desc(s, &d, own, depth, out, err);
    berth_jctx_pop(&j, m2);
  }
  berth_jctx_pop(&j, mark);
  return r < 0 ? -1 : 0;
}

int load_oci(struct load_src *s, struct load_out *out, berth_error_t *err)
{
  cleanup_free char *layout = NULL, *index = NULL;
  size_t len = 0;
  if (!load_src_has(s, "oci-layout"))
    return BERTH_ERR(err, "`%s`: an OCI layout needs an `oci-layout` file", s->display);
  if (load_src_read(s, "oci-layout", &layout, &len, err) < 0)
    return -1;
  json_t *l = berth_json_parse(layout, len, "oci-layout", err);
  if (l == NULL)
    return berth_error_wrap(err, "`%s`", s->display);
  const char *v = json_string_value(json_object_get(l, "imageLayoutVersion"));
  int r = v && berth_str_has_prefix(v, "1.")
            ? 0
            : BERTH_ERR(err, "`%s`: oci-layout: imageLayoutVersion: expected 1.x, got %s", s->display,
                        v ? v : "nothing");
  json_decref(l);
  if (r < 0 || load_src_read(s, "index.json", &index, &len, err) < 0)
    return -1;
  json_t *idx = berth_json_parse(index, len, "index.json", err);
  if (idx == NULL)
    return berth_error_wrap(err, "`%s`", s->display);
  r = load_index(s, idx, "index.json", true, NULL, 0, out, err);
  json_decref(idx);
  return r;
}
