/* `berth load` of an OCI image layout (oci-layout, index.json, blobs/sha256): descriptors are
 * followed through nested indexes (the host's platform is picked), every blob is checked
 * against its descriptor's digest and size. Documents are parsed by image/manifest.h. */
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/images/load_src_internal.h"
#include "image/manifest.h"
#include "json/json.h"

#define MAX_DEPTH 8

/* the blob of a descriptor, stored and checked (digest by the store, size here) */
static BERTH_WUR int desc_blob(struct load_src *s, const struct berth_descriptor *d, berth_digest_t out,
                               berth_error_t *err)
{
  cleanup_free char *name = xasprintf("blobs/sha256/%s", berth_digest_hex(d->digest));
  uint64_t size = 0;
  if (load_src_blob(s, name, d->digest, out, &size, err) < 0)
    return -1;
  if (d->size < 0 || size != (uint64_t) d->size)
    return BERTH_ERR(err, "`%s`: blob %s: %llu bytes, its descriptor says %lld", s->display, d->digest,
                     (unsigned long long) size, (long long) d->size);
  return 0;
}

static BERTH_WUR int read_doc(struct load_src *s, const struct berth_descriptor *d, char **data, size_t *len,
                              berth_error_t *err)
{
  berth_digest_t got;
  if (desc_blob(s, d, got, err) < 0 ||
      berth_store_read_blob(s->e->store, got, IMAGES_MAX_JSON, data, len, err) < 0)
    return -1;
  return 0;
}

/* the image's names from its descriptor's annotations (a bare tag names nothing: Docker's rule) */
static BERTH_WUR int desc_tags(const struct berth_descriptor *d, char ***tags, berth_error_t *err)
{
  const char *n = berth_strmap_get(&d->annotations, "io.containerd.image.name");
  if (n == NULL) {
    n = berth_strmap_get(&d->annotations, "org.opencontainers.image.ref.name");
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

static BERTH_WUR int manifest_blobs(struct load_src *s, const struct berth_manifest *m, const char *name,
                                    berth_digest_t cfg, char ***blobs, berth_error_t *err)
{
  if (!berth_manifest_is_image(m))
    return BERTH_ERR(err, "manifest %s: config.mediaType: `%s` is not an image config", name,
                     m->config.media_type ? m->config.media_type : "");
  if (desc_blob(s, &m->config, cfg, err) < 0)
    return -1;
  for (size_t i = 0; i < m->n_layers; i++) {
    enum berth_compression c;
    berth_digest_t got;
    if (berth_layer_media_type_compression(m->layers[i].media_type, &c) < 0)
      return BERTH_ERR(err, "manifest %s: layers[%zu].mediaType: unsupported layer media type `%s`", name, i,
                       m->layers[i].media_type ? m->layers[i].media_type : "");
    if (desc_blob(s, &m->layers[i], got, err) < 0)
      return -1;
    *blobs = berth_strv_append(*blobs, got);
  }
  return 0;
}

static BERTH_WUR int load_manifest(struct load_src *s, const struct berth_descriptor *d, char **tags,
                                   struct load_out *out, berth_error_t *err)
{
  cleanup_free char *data = NULL;
  size_t len = 0;
  struct berth_manifest *m = NULL;
  if (read_doc(s, d, &data, &len, err) < 0 || berth_manifest_parse(data, len, d->digest, &m, err) < 0)
    return berth_error_wrap(err, "`%s`", s->display);
  berth_digest_t cfg, manifest;
  cleanup_strv char **blobs = xcalloc(1, sizeof(char *));
  int r = manifest_blobs(s, m, d->digest, cfg, &blobs, err);
  if (r == 0)
    r = desc_blob(s, d, manifest, err);
  if (r == 0) {
    cleanup_free char *what = xasprintf("`%s`: image %s", s->display, d->digest);
    struct ingest_image im = { .config = cfg,
                               .config_media_type = m->config.media_type,
                               .manifest = manifest,
                               .manifest_media_type = d->media_type ? d->media_type : m->media_type,
                               .nlayers = berth_strv_len(blobs),
                               .layer_blobs = blobs,
                               .tags = tags,
                               .what = what };
    struct ingest_prepared *p = NULL;
    r = ingest_prepare(s->e, &im, s->added, &p, err);
    if (r == 0)
      load_out_add(out, p);
  }
  berth_manifest_free(m);
  if (r < 0 && !berth_str_has_prefix((*err)->msg, "`"))
    berth_error_wrap(err, "`%s`", s->display);
  return r;
}

static BERTH_WUR int load_desc(struct load_src *s, const struct berth_descriptor *d, char **tags, int depth,
                               struct load_out *out, berth_error_t *err);

/* a nested index (a multi-platform image): the host's platform, or its only entry */
static BERTH_WUR int load_nested(struct load_src *s, const struct berth_descriptor *d, char **tags, int depth,
                                 struct load_out *out, berth_error_t *err)
{
  if (depth >= MAX_DEPTH)
    return BERTH_ERR(err, "`%s`: %s: indexes nested more than %d deep", s->display, d->digest, MAX_DEPTH);
  cleanup_free char *data = NULL;
  size_t len = 0;
  struct berth_index *ix = NULL;
  if (read_doc(s, d, &data, &len, err) < 0 || berth_index_parse(data, len, d->digest, &ix, err) < 0)
    return berth_error_wrap(err, "`%s`", s->display);
  const char *os, *arch, *variant;
  images_host_platform(&os, &arch, &variant);
  const struct berth_descriptor *pick = berth_index_find(ix, os, arch, *variant ? variant : NULL);
  if (pick == NULL && ix->n_manifests == 1)
    pick = &ix->manifests[0];
  int r = pick ? load_desc(s, pick, tags, depth + 1, out, err)
               : BERTH_ERR(err, "`%s`: index %s: no image for %s/%s%s%s among %zu", s->display, d->digest, os,
                           arch, *variant ? "/" : "", variant, ix->n_manifests);
  berth_index_free(ix);
  return r;
}

static int load_desc(struct load_src *s, const struct berth_descriptor *d, char **tags, int depth,
                     struct load_out *out, berth_error_t *err)
{
  const char *mt = d->media_type ? d->media_type : "";
  if (strcmp(mt, BERTH_MT_OCI_MANIFEST) == 0 || strcmp(mt, BERTH_MT_DOCKER_MANIFEST) == 0)
    return load_manifest(s, d, tags, out, err);
  if (strcmp(mt, BERTH_MT_OCI_INDEX) == 0 || strcmp(mt, BERTH_MT_DOCKER_LIST) == 0)
    return load_nested(s, d, tags, depth, out, err);
  if (*mt) /* artifacts, attestations, schema 1 ... */
    return BERTH_ERR(err, "`%s`: %s: unsupported media type `%s`", s->display, d->digest, mt);
  cleanup_free char *data = NULL; /* no media type: by the document's shape */
  size_t len = 0;
  enum berth_doc_kind kind;
  if (read_doc(s, d, &data, &len, err) < 0 || berth_doc_kind(data, len, d->digest, &kind, err) < 0)
    return berth_error_wrap(err, "`%s`", s->display);
  return kind == BERTH_DOC_MANIFEST ? load_manifest(s, d, tags, out, err)
                                    : load_nested(s, d, tags, depth, out, err);
}

static BERTH_WUR int check_layout(struct load_src *s, berth_error_t *err)
{
  cleanup_free char *layout = NULL;
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
  return r;
}

int load_oci(struct load_src *s, struct load_out *out, berth_error_t *err)
{
  cleanup_free char *index = NULL;
  size_t len = 0;
  struct berth_index *ix = NULL;
  if (check_layout(s, err) < 0 || load_src_read(s, "index.json", &index, &len, err) < 0)
    return -1;
  if (berth_index_parse(index, len, "index.json", &ix, err) < 0)
    return berth_error_wrap(err, "`%s`", s->display);
  int r = ix->n_manifests ? 0 : BERTH_ERR(err, "`%s`: index.json: manifests: no image", s->display);
  for (size_t i = 0; r == 0 && i < ix->n_manifests; i++) {
    cleanup_strv char **tags = xcalloc(1, sizeof(char *));
    if (desc_tags(&ix->manifests[i], &tags, err) < 0)
      r = berth_error_wrap(err, "`%s`: index.json", s->display);
    else
      r = load_desc(s, &ix->manifests[i], tags, 0, out, err);
  }
  berth_index_free(ix);
  return r;
}
