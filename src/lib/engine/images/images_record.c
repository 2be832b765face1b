/* The second half of ingesting: one transaction recording blobs, layers, the image and its tags. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/cleanup.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/images/images_internal.h"

static uint64_t blob_size(struct berth_engine *e, const char *digest)
{
  cleanup_free char *p = berth_store_blob_path(e->store, digest);
  struct stat st;
  return p && stat(p, &st) == 0 ? (uint64_t) st.st_size : 0;
}

/* a layer row: the one present is kept (its blob stays the layer's blob); a new one takes ours */
static BERTH_WUR int record_layer(struct berth_engine *e, const struct berth_db_layer *layer,
                                  const char *our_blob, berth_error_t *err)
{
  struct berth_db_layer have;
  int r = berth_db_layer_get(e->db, layer->chain_id, &have, err);
  if (r != 0)
    return r < 0 ? -1 : 0;
  struct berth_db_layer copy = *layer, *l = &copy;
  if (our_blob && !l->tar_split) /* the row went meanwhile (rmi): the new one refers to our blob */
    snprintf(l->blob_digest, sizeof l->blob_digest, "%s", our_blob);
  const char *mt = NULL;
  if (l->blob_digest[0]) {
    if (images_layer_media_type(e, l->blob_digest, &mt, err) < 0 ||
        berth_db_blob_put(e->db, l->blob_digest, blob_size(e, l->blob_digest), mt, err) < 0)
      return -1;
  }
  return berth_db_layer_put(e->db, l, err) < 0 ? -1 : 0;
}

struct ingest_prepared {
  berth_digest_t config, manifest, parent;
  bool build_cache;
  const char *config_media_type, *manifest_media_type; /* static strings */
  char **layer_blobs;
  char **tags;
  char **repo_digests;
  char *what;
  size_t nlayers;
  struct berth_db_layer *layers;
  struct berth_imgconfig cfg;
};

static const char *known_media_type(const char *mt, const char *def)
{
  static const char *const known[] = { BERTH_MT_OCI_CONFIG, BERTH_MT_DOCKER_CONFIG, BERTH_MT_OCI_MANIFEST,
                                       BERTH_MT_DOCKER_MANIFEST };
  for (size_t i = 0; mt && i < BERTH_N_ELEMENTS(known); i++)
    if (strcmp(mt, known[i]) == 0)
      return known[i];
  return def;
}

/* the manifest is kept only for a new image whose layers keep exactly its blobs, or are kept by
 * their tar-split (its blobs are then the layers' known compressed forms, which a push names when
 * the registry has them); else `save` and `push` write a fresh one */
static BERTH_WUR int keep_manifest(struct berth_engine *e, const struct ingest_prepared *p, bool *keep,
                                   berth_error_t *err)
{
  struct berth_db_image have;
  int r = berth_db_image_get(e->db, p->config, &have, err);
  if (r > 0)
    berth_db_image_release(&have);
  *keep = r == 0 && p->manifest[0];
  for (size_t i = 0; r == 0 && *keep && i < p->nlayers; i++) {
    struct berth_db_layer l;
    r = berth_db_layer_get(e->db, p->layers[i].chain_id, &l, err);
    *keep = r > 0 && (l.tar_split || strcmp(l.blob_digest, p->layer_blobs[i]) == 0);
    r = r < 0 ? -1 : 0;
  }
  return r < 0 ? -1 : 0;
}

static BERTH_WUR int record(struct berth_engine *e, const struct ingest_prepared *p, berth_error_t *err)
{
  if (berth_db_blob_put(e->db, p->config, blob_size(e, p->config), p->config_media_type, err) < 0)
    return -1;
  struct berth_db_image img = { .created = p->cfg.created_ns,
                                .os = (char *) p->cfg.os,
                                .arch = (char *) p->cfg.arch };
  snprintf(img.id, sizeof img.id, "%s", p->config);
  snprintf(img.parent, sizeof img.parent, "%s", p->parent);
  img.build_cache = p->build_cache;
  img.nlayers = p->nlayers;
  img.chain_ids = xcalloc(p->nlayers ? p->nlayers : 1, sizeof *img.chain_ids);
  int r = 0;
  for (size_t i = 0; i < p->nlayers && r == 0; i++) {
    r = record_layer(e, &p->layers[i], p->layer_blobs[i], err);
    snprintf(img.chain_ids[i], sizeof img.chain_ids[i], "%s", p->layers[i].chain_id);
    img.size += p->layers[i].size;
  }
  bool keep = false;
  if (r == 0 && keep_manifest(e, p, &keep, err) < 0)
    r = -1;
  if (r == 0 && keep) {
    snprintf(img.manifest_digest, sizeof img.manifest_digest, "%s", p->manifest);
    r = berth_db_blob_put(e->db, p->manifest, blob_size(e, p->manifest), p->manifest_media_type, err);
  }
  if (r == 0 && berth_db_image_put(e->db, &img, err) < 0)
    r = -1;
  free(img.chain_ids);
  for (char **t = p->tags; r == 0 && *t; t++)
    r = berth_db_tag_set(e->db, *t, p->config, NULL, err);
  for (char **d = p->repo_digests; r == 0 && *d; d++)
    r = berth_db_repo_digest_add(e->db, *d, p->config, err);
  if (r < 0)
    berth_error_wrap(err, "%s: record", p->what);
  return r;
}

void ingest_prepared_free(struct ingest_prepared *p)
{
  if (p == NULL)
    return;
  berth_strv_free(p->layer_blobs);
  berth_strv_free(p->tags);
  berth_strv_free(p->repo_digests);
  free(p->what);
  free(p->layers);
  berth_imgconfig_release(&p->cfg);
  free(p);
}

const char *ingest_prepared_id(const struct ingest_prepared *p) { return p->config; }
char *const *ingest_prepared_tags(const struct ingest_prepared *p) { return p->tags; }

static struct ingest_prepared *prepared_new(const struct ingest_image *im)
{
  struct ingest_prepared *p = xmalloc0(sizeof *p);
  snprintf(p->config, sizeof p->config, "%s", im->config);
  snprintf(p->manifest, sizeof p->manifest, "%s", im->manifest ? im->manifest : "");
  snprintf(p->parent, sizeof p->parent, "%s", im->parent ? im->parent : "");
  p->build_cache = im->build_cache;
  p->config_media_type = known_media_type(im->config_media_type, BERTH_MT_OCI_CONFIG);
  p->manifest_media_type = known_media_type(im->manifest_media_type, BERTH_MT_OCI_MANIFEST);
  p->layer_blobs = xcalloc(im->nlayers + 1, sizeof(char *));
  for (size_t i = 0; i < im->nlayers; i++)
    p->layer_blobs[i] = xstrdup(im->layer_blobs[i]);
  p->tags = berth_strv_dup(im->tags ? im->tags : (char *const[]){ NULL });
  p->repo_digests = berth_strv_dup(im->repo_digests ? im->repo_digests : (char *const[]){ NULL });
  p->what = xstrdup(im->what);
  p->nlayers = im->nlayers;
  p->layers = xcalloc(im->nlayers ? im->nlayers : 1, sizeof *p->layers);
  return p;
}

int ingest_prepare(struct berth_engine *e, const struct ingest_image *im, struct ingest_files *added,
                   struct ingest_prepared **out, berth_error_t *err)
{
  struct ingest_prepared *p = prepared_new(im);
  int r = images_read_config(e, im->config, &p->cfg, err);
  if (r == 0 && p->cfg.ndiff != im->nlayers)
    r = BERTH_ERR(err, "the config lists %zu diff ids (rootfs.diff_ids) for %zu layers", p->cfg.ndiff,
                  im->nlayers);
  for (size_t i = 0; r == 0 && i < im->nlayers; i++) {
    if (im->prepared) {
      p->layers[i] = im->prepared[i];
      continue;
    }
    cleanup_free char *what = xasprintf("layer %zu (%s)", i + 1, im->layer_blobs[i]);
    r = ingest_layer(e, im->layer_blobs[i], i ? p->layers[i - 1].chain_id : NULL, p->cfg.diff_ids[i], what,
                     &p->layers[i], added, err);
  }
  if (r < 0) {
    ingest_prepared_free(p);
    return berth_error_wrap(err, "%s", im->what);
  }
  *out = p;
  return 0;
}

int ingest_record(struct berth_engine *e, struct ingest_prepared *const *v, size_t n, berth_error_t *err)
{
  if (berth_db_begin(e->db, err) < 0)
    return -1;
  int r = 0;
  for (size_t i = 0; i < n && r == 0; i++)
    r = record(e, v[i], err);
  if (r == 0)
    r = berth_db_commit(e->db, err);
  else
    berth_db_rollback(e->db);
  return r;
}

int ingest_image(struct berth_engine *e, const struct ingest_image *im, struct ingest_files *added,
                 berth_digest_t id, berth_error_t *err)
{
  struct ingest_prepared *p = NULL;
  if (ingest_prepare(e, im, added, &p, err) < 0)
    return -1;
  int r = ingest_record(e, &p, 1, err);
  if (r == 0)
    snprintf(id, sizeof(berth_digest_t), "%s", p->config);
  ingest_prepared_free(p);
  return r;
}
