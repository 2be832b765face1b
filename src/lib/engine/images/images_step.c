/* A build's step (engine/builds): the parent image (or none, FROM scratch) plus, when the step
 * changed files, one layer — an overlay upper dir's diff — under a config the builder writes
 * once it knows the layer's diff id (its history entry and rootfs.diff_ids are the builder's).
 * The layer goes through the store as a commit's does (images_commit.c). */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/images/images_internal.h"

/* the parent's layer rows and blobs (n + 1 slots: room for the new one) */
static BERTH_WUR int parent_layers(struct berth_engine *e, const struct berth_db_image *img,
                                   struct berth_db_layer *layers, char **blobs, berth_error_t *err)
{
  for (size_t i = 0; i < img->nlayers; i++) {
    int r = berth_db_layer_get(e->db, img->chain_ids[i], &layers[i], err);
    if (r <= 0)
      return r < 0 ? -1
                   : BERTH_ERR(err, "image %s: layer %s has no catalogue row", img->id, img->chain_ids[i]);
    blobs[i] = xstrdup(layers[i].blob_digest);
  }
  return 0;
}

static BERTH_WUR int step(struct berth_engine *e, const struct berth_images_step_opts *o, berth_digest_t id,
                          struct ingest_files *added, berth_error_t *err)
{
  struct berth_db_image img = { 0 };
  if (o->parent) {
    int r = berth_db_image_get(e->db, o->parent, &img, err);
    if (r <= 0)
      return r < 0 ? -1 : BERTH_ERR(err, "no such image: `%s`", o->parent);
  }
  size_t n = img.nlayers, total = n + (o->upper_dirfd >= 0 || o->layer);
  struct berth_db_layer *layers = xcalloc(n + 1, sizeof *layers);
  char **blobs = xcalloc(n + 2, sizeof *blobs);
  berth_digest_t blob, config;
  char *json = NULL;
  int r = parent_layers(e, &img, layers, blobs, err);
  if (r == 0 && o->layer) { /* a layer of another image (--cache-from): its chain must follow ours */
    int got = berth_db_layer_get(e->db, o->layer, &layers[n], err);
    if (got <= 0 || strcmp(layers[n].parent, n ? layers[n - 1].chain_id : "") != 0)
      r = got < 0 ? -1 : BERTH_ERR(err, "layer %s does not follow the image's layers", o->layer);
    else
      blobs[n] = xstrdup(layers[n].blob_digest);
  } else if (r == 0 && o->upper_dirfd >= 0) {
    if (images_diff_blob(e, o->upper_dirfd, blob, added, err) < 0 ||
        ingest_layer(e, blob, n ? layers[n - 1].chain_id : NULL, NULL, "layer", &layers[n], added, err) < 0)
      r = -1;
    else
      blobs[n] = xstrdup(blob);
  }
  if (r == 0 && ((json = o->config(o->data, total > n ? layers[n].diff_id : NULL, err)) == NULL ||
                 berth_store_put_bytes(e->store, json, strlen(json), NULL, config, err) < 0))
    r = -1;
  if (r == 0) {
    ingest_files_add_blob(added, config);
    struct ingest_image im = { .config = config,
                               .nlayers = total,
                               .layer_blobs = blobs,
                               .prepared = layers,
                               .tags = (char *const[]){ NULL },
                               .what = "image",
                               .parent = o->parent,
                               .build_cache = o->build_cache };
    r = ingest_image(e, &im, added, id, err);
  }
  free(json);
  berth_db_image_release(&img);
  berth_strv_free(blobs);
  free(layers);
  return r;
}

int berth_images_step(struct berth_engine *e, const struct berth_images_step_opts *o, berth_digest_t id,
                      berth_error_t *err)
{
  if (berth_engine_lock(e, false, err) < 0)
    return -1;
  struct ingest_files added = { 0 };
  int r = step(e, o, id, &added, err);
  berth_error_t cerr = NULL;
  if (ingest_files_cleanup(e, &added, &cerr) < 0) {
    if (r == 0)
      *err = steal_ptr(cerr);
    berth_error_release(&cerr);
    r = -1;
  }
  ingest_files_release(&added);
  berth_engine_unlock(e);
  return r;
}

int berth_images_keep(struct berth_engine *e, const char *id, berth_error_t *err)
{
  if (berth_engine_lock(e, false, err) < 0)
    return -1;
  int r = berth_db_begin(e->db, err);
  if (r == 0 &&
      (berth_db_image_set_build_cache(e->db, id, false, err) < 0 || berth_db_commit(e->db, err) < 0)) {
    berth_db_rollback(e->db);
    r = -1;
  }
  berth_engine_unlock(e);
  return r;
}

int berth_images_read_config(struct berth_engine *e, const char *id, char **data, size_t *len,
                             berth_error_t *err)
{
  return berth_store_read_blob(e->store, id, IMAGES_MAX_JSON, data, len, err);
}
