/* `berth save`: docker-archive (manifest.json, repositories, uncompressed layer tars and the
 * legacy per-layer directories, as docker and podman write it) or an OCI image layout (as an
 * archive or a directory) with the layer blobs as stored — a layer kept by its tar-split as its
 * uncompressed tar, rebuilt (images_layer_tar.c). Shared layers are written once. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/images/images_internal.h"
#include "engine/images/save_sink_internal.h"
#include "image/reference.h"

#define CHUNK (1u << 20)

struct save_image {
  berth_digest_t id;
  char **tags; /* full names */
  struct berth_db_image img;
  struct berth_db_layer *layers;
};

struct save_set {
  struct save_image *v;
  size_t n;
};

static void save_set_release(struct save_set *set)
{
  for (size_t i = 0; i < set->n; i++) {
    berth_strv_free(set->v[i].tags);
    berth_db_image_release(&set->v[i].img);
    free(set->v[i].layers);
  }
  free(set->v);
}

static BERTH_WUR int add_image(struct berth_engine *e, struct save_set *set, const char *id, const char *tag,
                               berth_error_t *err)
{
  struct save_image *im = NULL;
  for (size_t i = 0; i < set->n && im == NULL; i++)
    if (strcmp(set->v[i].id, id) == 0)
      im = &set->v[i];
  if (im == NULL) {
    set->v = xreallocarray(set->v, set->n + 1, sizeof *set->v);
    im = &set->v[set->n++];
    memset(im, 0, sizeof *im);
    snprintf(im->id, sizeof im->id, "%s", id);
    im->tags = xcalloc(1, sizeof(char *));
    int r = berth_db_image_get(e->db, id, &im->img, err);
    if (r <= 0)
      return r < 0 ? -1 : BERTH_ERR(err, "no such image: `%s`", id);
    im->layers = xcalloc(im->img.nlayers + 1, sizeof *im->layers);
    for (size_t i = 0; i < im->img.nlayers; i++)
      if ((r = berth_db_layer_get(e->db, im->img.chain_ids[i], &im->layers[i], err)) <= 0)
        return r < 0 ? -1
                     : BERTH_ERR(err, "image %s: layer %s has no catalogue row", id, im->img.chain_ids[i]);
  }
  bool seen = false;
  for (char **t = im->tags; tag && *t; t++)
    seen = seen || strcmp(*t, tag) == 0;
  if (tag && !seen)
    im->tags = berth_strv_append(im->tags, tag);
  return 0;
}

static BERTH_WUR int collect(struct berth_engine *e, char *const *names, struct save_set *set,
                             berth_error_t *err)
{
  for (char *const *n = names; n && *n; n++) {
    berth_digest_t id;
    cleanup_free char *tag = NULL;
    if (berth_engine_resolve(e, *n, id, &tag, err) < 0 || add_image(e, set, id, tag, err) < 0)
      return -1;
  }
  return set->n ? 0 : BERTH_ERR(err, "nothing to save: no image given");
}

/* copy a stored blob unchanged */
static BERTH_WUR int put_blob(struct berth_engine *e, struct save_sink *s, const char *name,
                              const char *digest, berth_error_t *err)
{
  cleanup_close int fd = berth_store_open_blob(e->store, digest, err);
  struct stat st;
  if (fd < 0)
    return -1;
  if (fstat(fd, &st) < 0)
    return BERTH_ERR_ERRNO(err, "stat blob %s", digest);
  if (save_sink_begin(s, name, (uint64_t) st.st_size, err) < 0)
    return -1;
  cleanup_free char *buf = xmalloc(CHUNK);
  for (;;) {
    ssize_t n = read(fd, buf, CHUNK);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return BERTH_ERR_ERRNO(err, "read blob %s", digest);
    if (n == 0)
      break;
    if (save_sink_data(s, buf, (size_t) n, err) < 0)
      return -1;
  }
  return save_sink_end(s, err);
}

static BERTH_WUR int to_sink(void *data, const void *buf, size_t len, berth_error_t *err)
{
  return save_sink_data(data, buf, len, err);
}

/* a layer as an uncompressed tar (docker-archive; OCI for a layer kept by its tar-split), checked
 * against its diff id while written */
static BERTH_WUR int put_layer_tar(struct berth_engine *e, struct save_sink *s, const char *name,
                                   const struct berth_db_layer *l, berth_error_t *err)
{
  if (save_sink_begin(s, name, l->tar_size, err) < 0 || images_layer_tar(e, l, false, to_sink, s, err) < 0)
    return -1;
  return save_sink_end(s, err);
}

int berth_save_format_parse(const char *s, enum berth_save_format *out, berth_error_t *err)
{
  if (s == NULL || strcmp(s, "docker-archive") == 0 || strcmp(s, "docker") == 0)
    *out = BERTH_SAVE_DOCKER_ARCHIVE;
  else if (strcmp(s, "oci-archive") == 0 || strcmp(s, "oci") == 0)
    *out = BERTH_SAVE_OCI_ARCHIVE;
  else if (strcmp(s, "oci-dir") == 0)
    *out = BERTH_SAVE_OCI_DIR;
  else
    return BERTH_ERR(err, "unknown format `%s` (docker-archive, oci-archive or oci-dir)", s);
  return 0;
}

/* ---- docker-archive ---- */

static json_t *familiar_array(char **tags)
{
  if (tags[0] == NULL)
    return json_null();
  json_t *a = json_array();
  for (char **t = tags; *t; t++) {
    cleanup_free char *f = images_familiar(*t);
    json_array_append_new(a, json_string(f));
  }
  return a;
}

static BERTH_WUR int put_json(struct save_sink *s, const char *name, json_t *v, berth_error_t *err)
{
  char *text = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
  if (text == NULL)
    berth_oom();
  int r = save_sink_bytes(s, name, text, strlen(text), err);
  free(text);
  return r;
}

/* the legacy per-layer directory (<chain hex>/{VERSION,json,layer.tar}) docker and skopeo write;
 * the top layer's json carries the image's config */
static BERTH_WUR int put_legacy_layer(struct save_sink *s, const struct berth_db_layer *l, const char *parent,
                                      json_t *top, berth_error_t *err)
{
  const char *hex = berth_digest_hex(l->chain_id);
  cleanup_free char *dir = xasprintf("%s", hex), *version = xasprintf("%s/VERSION", hex);
  cleanup_free char *jname = xasprintf("%s/json", hex), *tar = xasprintf("%s/layer.tar", hex);
  cleanup_free char *target = xasprintf("../%s.tar", berth_digest_hex(l->diff_id));
  cleanup_free char *target_name = xasprintf("%s.tar", berth_digest_hex(l->diff_id));
  if (save_sink_has(s, dir))
    return 0;
  json_t *j = json_pack("{s:s}", "id", hex);
  if (parent)
    json_object_set_new(j, "parent", json_string(parent));
  static const char *const keys[] = { "created", "author", "architecture", "variant", "os", "config" };
  for (size_t i = 0; top && i < BERTH_N_ELEMENTS(keys); i++)
    if (json_object_get(top, keys[i]))
      json_object_set(j, keys[i], json_object_get(top, keys[i]));
  int r = save_sink_mkdir(s, dir, err) < 0 || save_sink_bytes(s, version, "1.0", 3, err) < 0 ||
              put_json(s, jname, j, err) < 0 || save_sink_symlink(s, tar, target, target_name, err) < 0
            ? -1
            : 0;
  json_decref(j);
  return r;
}

static BERTH_WUR int docker_image(struct berth_engine *e, struct save_sink *s, struct save_image *im,
                                  json_t *manifest, json_t *repos, berth_error_t *err)
{
  struct berth_imgconfig cfg;
  if (images_read_config(e, im->id, &cfg, err) < 0)
    return -1;
  json_t *layers = json_array();
  int r = 0;
  for (size_t i = 0; r == 0 && i < im->img.nlayers; i++) {
    cleanup_free char *name = xasprintf("%s.tar", berth_digest_hex(im->layers[i].diff_id));
    json_array_append_new(layers, json_string(name));
    if (!save_sink_has(s, name))
      r = put_layer_tar(e, s, name, &im->layers[i], err);
    if (r == 0)
      r = put_legacy_layer(s, &im->layers[i], i ? berth_digest_hex(im->layers[i - 1].chain_id) : NULL,
                           i + 1 == im->img.nlayers ? cfg.root : NULL, err);
  }
  cleanup_free char *cname = xasprintf("%s.json", berth_digest_hex(im->id));
  if (r == 0 && !save_sink_has(s, cname))
    r = put_blob(e, s, cname, im->id, err);
  json_array_append_new(manifest, json_pack("{s:s, s:o, s:o}", "Config", cname, "RepoTags",
                                            familiar_array(im->tags), "Layers", layers));
  const char *top = im->img.nlayers ? berth_digest_hex(im->layers[im->img.nlayers - 1].chain_id) : NULL;
  for (char **t = im->tags; top && *t; t++) {
    struct berth_ref ref = { 0 };
    berth_error_t ignored = NULL;
    if (berth_ref_parse(*t, &ref, &ignored) < 0) {
      berth_error_release(&ignored);
      continue;
    }
    cleanup_free char *tag = ref.tag ? xstrdup(ref.tag) : xstrdup("latest");
    free(ref.tag);
    ref.tag = NULL;
    cleanup_free char *repo = berth_ref_familiar(&ref);
    berth_ref_release(&ref);
    json_t *tags = json_object_get(repos, repo);
    if (tags == NULL)
      json_object_set_new(repos, repo, tags = json_object());
    json_object_set_new(tags, tag, json_string(top));
  }
  berth_imgconfig_release(&cfg);
  return r;
}

static BERTH_WUR int save_docker(struct berth_engine *e, struct save_set *set, struct save_sink *s,
                                 berth_error_t *err)
{
  json_t *manifest = json_array(), *repos = json_object();
  int r = 0;
  for (size_t i = 0; r == 0 && i < set->n; i++)
    r = docker_image(e, s, &set->v[i], manifest, repos, err);
  if (r == 0)
    r = put_json(s, "manifest.json", manifest, err);
  if (r == 0 && json_object_size(repos))
    r = put_json(s, "repositories", repos, err);
  json_decref(manifest);
  json_decref(repos);
  return r;
}

/* ---- OCI layout ---- */

static BERTH_WUR int put_blob_once(struct berth_engine *e, struct save_sink *s, const char *digest,
                                   berth_error_t *err)
{
  cleanup_free char *name = xasprintf("blobs/sha256/%s", berth_digest_hex(digest));
  return save_sink_has(s, name) ? 0 : put_blob(e, s, name, digest, err);
}

static uint64_t stored_size(struct berth_engine *e, const char *digest)
{
  cleanup_free char *p = berth_store_blob_path(e->store, digest);
  struct stat st;
  return p && stat(p, &st) == 0 ? (uint64_t) st.st_size : 0;
}

/* the stored manifest when it is an OCI manifest naming exactly the layer blobs kept */
static bool stored_manifest_fits(struct berth_engine *e, const struct save_image *im)
{
  struct berth_db_blob b = { 0 };
  berth_error_t ignored = NULL;
  cleanup_free char *data = NULL;
  size_t len = 0;
  bool ok =
    im->img.manifest_digest[0] && berth_db_blob_get(e->db, im->img.manifest_digest, &b, &ignored) > 0 &&
    strcmp(b.media_type, BERTH_MT_OCI_MANIFEST) == 0 &&
    berth_store_read_blob(e->store, im->img.manifest_digest, IMAGES_MAX_JSON, &data, &len, &ignored) == 0;
  berth_db_blob_release(&b);
  berth_error_release(&ignored);
  json_t *m = ok ? json_loadb(data, len, 0, NULL) : NULL;
  json_t *layers = json_object_get(m, "layers");
  ok = ok && json_array_size(layers) == im->img.nlayers &&
       berth_str_eq(json_string_value(json_object_get(json_object_get(m, "config"), "digest")), im->id);
  for (size_t i = 0; ok && i < im->img.nlayers; i++)
    ok = !im->layers[i].tar_split &&
         berth_str_eq(json_string_value(json_object_get(json_array_get(layers, i), "digest")),
                      im->layers[i].blob_digest);
  json_decref(m);
  return ok;
}

/* a fresh OCI manifest for the kept blobs (canonical JSON: image/manifest.h) */
static BERTH_WUR char *synth_manifest(struct berth_engine *e, const struct save_image *im, berth_error_t *err)
{
  struct berth_manifest m = { .schema_version = 2, .media_type = (char *) BERTH_MT_OCI_MANIFEST };
  m.config.media_type = (char *) BERTH_MT_OCI_CONFIG;
  snprintf(m.config.digest, sizeof m.config.digest, "%s", im->id);
  m.config.size = (int64_t) stored_size(e, im->id);
  m.n_layers = im->img.nlayers;
  m.layers = xcalloc(m.n_layers ? m.n_layers : 1, sizeof *m.layers);
  char *text = NULL;
  int r = 0;
  for (size_t i = 0; r == 0 && i < m.n_layers; i++) {
    const struct berth_db_layer *l = &im->layers[i];
    const char *mt = BERTH_MT_OCI_LAYER; /* kept by its tar-split: the uncompressed tar, as Docker saves */
    if (!l->tar_split)
      r = images_layer_media_type(e, l->blob_digest, &mt, err);
    m.layers[i].media_type = (char *) mt;
    snprintf(m.layers[i].digest, sizeof m.layers[i].digest, "%s", l->tar_split ? l->diff_id : l->blob_digest);
    m.layers[i].size = (int64_t) (l->tar_split ? l->tar_size : stored_size(e, l->blob_digest));
  }
  if (r == 0)
    text = berth_manifest_build(&m, NULL);
  free(m.layers);
  return text;
}

static BERTH_WUR int oci_image(struct berth_engine *e, struct save_sink *s, struct save_image *im,
                               json_t *index, berth_error_t *err)
{
  int r = 0;
  for (size_t i = 0; r == 0 && i < im->img.nlayers; i++) {
    const struct berth_db_layer *l = &im->layers[i];
    cleanup_free char *name = xasprintf("blobs/sha256/%s", berth_digest_hex(l->diff_id));
    if (!l->tar_split)
      r = put_blob_once(e, s, l->blob_digest, err);
    else if (!save_sink_has(s, name))
      r = put_layer_tar(e, s, name, l, err);
  }
  if (r == 0)
    r = put_blob_once(e, s, im->id, err);
  berth_digest_t md;
  uint64_t msize = 0;
  if (r == 0 && stored_manifest_fits(e, im)) {
    snprintf(md, sizeof md, "%s", im->img.manifest_digest);
    msize = stored_size(e, md);
    r = put_blob_once(e, s, md, err);
  } else if (r == 0) {
    cleanup_free char *text = synth_manifest(e, im, err);
    if (text == NULL)
      return -1;
    berth_digest_bytes(text, strlen(text), md);
    msize = strlen(text);
    cleanup_free char *name = xasprintf("blobs/sha256/%s", berth_digest_hex(md));
    r = save_sink_has(s, name) ? 0 : save_sink_bytes(s, name, text, msize, err);
  }
  size_t ntags = berth_strv_len(im->tags);
  for (size_t i = 0; r == 0 && i < (ntags ? ntags : 1); i++) { /* one descriptor per name */
    json_t *d = json_pack("{s:s, s:s, s:I}", "mediaType", BERTH_MT_OCI_MANIFEST, "digest", md, "size",
                          (json_int_t) msize);
    if (ntags)
      json_object_set_new(d, "annotations",
                          json_pack("{s:s, s:s}", "io.containerd.image.name", im->tags[i],
                                    "org.opencontainers.image.ref.name", im->tags[i]));
    json_array_append_new(index, d);
  }
  return r;
}

static BERTH_WUR int save_oci(struct berth_engine *e, struct save_set *set, struct save_sink *s,
                              berth_error_t *err)
{
  static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
  json_t *manifests = json_array();
  int r = save_sink_bytes(s, "oci-layout", layout, strlen(layout), err) < 0 ||
              save_sink_mkdir(s, "blobs", err) < 0 || save_sink_mkdir(s, "blobs/sha256", err) < 0
            ? -1
            : 0;
  for (size_t i = 0; r == 0 && i < set->n; i++)
    r = oci_image(e, s, &set->v[i], manifests, err);
  json_t *index =
    json_pack("{s:i, s:s, s:o}", "schemaVersion", 2, "mediaType", BERTH_MT_OCI_INDEX, "manifests", manifests);
  if (r == 0)
    r = put_json(s, "index.json", index, err);
  json_decref(index);
  return r;
}

int berth_images_save(struct berth_engine *e, char *const *names, enum berth_save_format f, int out_fd,
                      const char *dir, berth_error_t *err)
{
  struct save_set set = { 0 };
  struct save_sink *s = NULL;
  int r = collect(e, names, &set, err);
  if (r == 0)
    r = f == BERTH_SAVE_OCI_DIR ? save_sink_dir(dir, &s, err) : save_sink_tar(out_fd, &s, err);
  if (r == 0)
    r = f == BERTH_SAVE_DOCKER_ARCHIVE ? save_docker(e, &set, s, err) : save_oci(e, &set, s, err);
  if (r == 0)
    r = save_sink_close(s, err);
  else
    save_sink_abort(s);
  for (size_t i = 0; r == 0 && i < set.n; i++) {
    const char *attrs[] = { "name", set.v[i].tags[0] ? set.v[i].tags[0] : set.v[i].id, NULL };
    berth_engine_event(e, "image", "save", set.v[i].id, attrs);
  }
  save_set_release(&set);
  return r < 0 ? berth_error_wrap(err, "save") : 0;
}
