/* The second half of ingesting: one transaction recording blobs, layers, the image and its tags. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/cleanup.h"
#include "base/xalloc.h"
#include "engine/images_internal.h"

static uint64_t blob_size(struct berth_engine *e, const char *digest)
{
  cleanup_free char *p = berth_store_blob_path(e->store, digest);
  struct stat st;
  return p && stat(p, &st) == 0 ? (uint64_t) st.st_size : 0;
}

/* a layer row: the one present is kept (its blob stays the layer's blob); a new one takes ours */
static int record_layer(struct berth_engine *e, const struct berth_db_layer *layer, const char *our_blob,
                        berth_error_t *err)
{
  struct berth_db_layer have;
  int r = berth_db_layer_get(e->db, layer->chain_id, &have, err);
  if (r != 0)
    return r < 0 ? -1 : 0;
  struct berth_db_layer copy = *layer, *l = &copy;
  if (our_blob) /* the row went meanwhile (rmi): the new one refers to the blob this command stored */
    snprintf(l->blob_digest, sizeof l->blob_digest, "%s", our_blob);
  const char *mt = NULL;
  if (l->blob_digest[0]) {
    if (images_layer_media_type(e, l->blob_digest, &mt, err) < 0 ||
        berth_db_blob_put(e->db, l->blob_digest, blob_size(e, l->blob_digest), mt, err) < 0)
      return -1;
  }
  return berth_db_layer_put(e->db, l, err) < 0 ? -1 : 0;
}

static int record(struct berth_engine *e, const struct ingest_image *im, const struct berth_imgconfig *cfg,
                  const struct berth_db_layer *layers, berth_error_t *err)
{
  const char *cmt = im->config_media_type ? im->config_media_type : MEDIA_OCI_CONFIG;
  if (berth_db_blob_put(e->db, im->config, blob_size(e, im->config), cmt, err) < 0)
    return -1;
  if (im->manifest && berth_db_blob_put(e->db, im->manifest, blob_size(e, im->manifest),
                                        im->manifest_media_type ? im->manifest_media_type : MEDIA_OCI_MANIFEST,
                                        err) < 0)
    return -1;
  struct berth_db_image img = { .created = cfg->created_ns, .os = (char *) cfg->os, .arch = (char *) cfg->arch };
  snprintf(img.id, sizeof img.id, "%s", im->config);
  snprintf(img.manifest_digest, sizeof img.manifest_digest, "%s", im->manifest ? im->manifest : "");
  img.nlayers = im->nlayers;
  img.chain_ids = xcalloc(im->nlayers ? im->nlayers : 1, sizeof *img.chain_ids);
  int r = 0;
  for (size_t i = 0; i < im->nlayers && r == 0; i++) {
    r = record_layer(e, &layers[i], im->layer_blobs ? im->layer_blobs[i] : NULL, err);
    snprintf(img.chain_ids[i], sizeof img.chain_ids[i], "%s", layers[i].chain_id);
    img.size += layers[i].size;
  }
  if (r == 0 && berth_db_image_put(e->db, &img, err) < 0)
    r = -1;
  free(img.chain_ids);
  for (char *const *t = im->tags; r == 0 && t && *t; t++)
    r = berth_db_tag_set(e->db, *t, im->config, NULL, err);
  return r;
}

int ingest_image(struct berth_engine *e, const struct ingest_image *im, struct ingest_files *added,
                 berth_digest_t id, berth_error_t *err)
{
  struct berth_imgconfig cfg;
  if (images_read_config(e, im->config, &cfg, err) < 0)
    return berth_error_wrap(err, "%s", im->what);
  cleanup_free struct berth_db_layer *layers = xcalloc(im->nlayers ? im->nlayers : 1, sizeof *layers);
  int r = 0;
  if (cfg.ndiff != im->nlayers)
    r = BERTH_ERR(err, "%s: the config lists %zu diff ids (rootfs.diff_ids) for %zu layers", im->what, cfg.ndiff,
                  im->nlayers);
  for (size_t i = 0; r == 0 && i < im->nlayers; i++) {
    if (im->prepared) {
      layers[i] = im->prepared[i];
      continue;
    }
    cleanup_free char *what = xasprintf("%s: layer %zu (%s)", im->what, i + 1, im->layer_blobs[i]);
    r = ingest_layer(e, im->layer_blobs[i], i ? layers[i - 1].chain_id : NULL, cfg.diff_ids[i], what, &layers[i],
                     added, err);
  }
  if (r == 0 && (r = berth_db_begin(e->db, err)) == 0) {
    r = record(e, im, &cfg, layers, err);
    if (r == 0)
      r = berth_db_commit(e->db, err);
    else
      berth_db_rollback(e->db);
    if (r < 0)
      berth_error_wrap(err, "%s: record", im->what);
  }
  berth_imgconfig_release(&cfg);
  if (r == 0)
    snprintf(id, sizeof(berth_digest_t), "%s", im->config);
  return r;
}
