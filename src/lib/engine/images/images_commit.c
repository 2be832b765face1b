/* `berth commit` (and a build's steps): the parent image's layers plus one, the diff of an overlay
 * upper dir, under a config that is the parent's with the new "config", a history entry and the
 * new diff id. The layer goes through the store like an import's: its tar stored as a blob, then
 * extracted (and kept by its tar-split, the blob going), then the rows in one transaction. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/format.h"
#include "engine/images/images_internal.h"

int images_diff_blob(struct berth_engine *e, int upper_dirfd, berth_digest_t blob, struct ingest_files *added,
                     berth_error_t *err)
{
  cleanup_free char *tmp = xasprintf("%s/tmp", e->store->root);
  cleanup_close int fd = open(tmp, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0)
    return BERTH_ERR_ERRNO(err, "a temporary file in `%s`", tmp);
  if (berth_layer_diff(upper_dirfd, fd, BERTH_COMPRESSION_NONE, NULL, err) < 0)
    return -1;
  if (lseek(fd, 0, SEEK_SET) != 0)
    return BERTH_ERR_ERRNO(err, "rewind the layer");
  berth_blob_writer_t *w = NULL;
  if (berth_blob_writer_new(e->store, &w, err) < 0)
    return -1;
  cleanup_free char *buf = xmalloc(1 << 20);
  int r = 0;
  for (ssize_t n; r == 0 && (n = berth_read_all(fd, buf, 1 << 20)) != 0;)
    r = n < 0 ? BERTH_ERR_ERRNO(err, "read the layer") : berth_blob_write(w, buf, (size_t) n, err);
  if (r == 0 && (r = berth_blob_writer_commit(w, NULL, blob, NULL, err)) == 0)
    ingest_files_add_blob(added, blob);
  berth_blob_writer_free(w);
  return r;
}

/* the parent's config with the new "config", history entry and diff id */
static BERTH_WUR char *new_config(const struct berth_imgconfig *parent,
                                  const struct berth_images_commit_opts *o, const char *diff_id,
                                  berth_error_t *err)
{
  json_t *c = json_deep_copy(parent->root);
  json_t *config = json_deep_copy(o->config ? o->config : parent->config ? parent->config : json_object());
  if (c == NULL || config == NULL)
    berth_oom();
  if (berth_imgconfig_apply_changes(config, o->changes, err) < 0) {
    json_decref(c);
    json_decref(config);
    return NULL;
  }
  json_object_set_new(c, "config", config);
  cleanup_free char *created = berth_fmt_rfc3339(berth_engine_now());
  json_object_set_new(c, "created", json_string(created));
  json_t *h = json_pack("{s:s}", "created", created);
  if (o->created_by && *o->created_by)
    json_object_set_new(h, "created_by", json_string(o->created_by));
  if (o->author && *o->author) {
    json_object_set_new(c, "author", json_string(o->author));
    json_object_set_new(h, "author", json_string(o->author));
  } else {
    json_object_del(c, "author");
  }
  if (o->comment && *o->comment) { /* Docker's image JSON has it twice: `inspect .Comment` and history */
    json_object_set_new(c, "comment", json_string(o->comment));
    json_object_set_new(h, "comment", json_string(o->comment));
  } else {
    json_object_del(c, "comment");
  }
  if (!json_is_array(json_object_get(c, "history")))
    json_object_set_new(c, "history", json_array());
  json_array_append_new(json_object_get(c, "history"), h);
  json_t *rootfs = json_object_get(c, "rootfs");
  json_array_append_new(json_object_get(rootfs, "diff_ids"), json_string(diff_id));
  if (o->container)
    json_object_set_new(c, "container", json_string(o->container));
  char *s = json_dumps(c, JSON_COMPACT | JSON_SORT_KEYS);
  json_decref(c);
  if (s == NULL)
    berth_oom();
  return s;
}

static BERTH_WUR int commit(struct berth_engine *e, const struct berth_images_commit_opts *o,
                            berth_digest_t id, struct ingest_files *added, berth_error_t *err)
{
  cleanup_strv char **tags = xcalloc(1, sizeof(char *));
  cleanup_free char *full = NULL;
  if (o->reference && images_tag_name(o->reference, &full, err) < 0)
    return -1;
  if (full)
    tags = berth_strv_append(tags, full);
  json_t *probe = json_object(); /* refuse bad --change before writing anything */
  int r = berth_imgconfig_apply_changes(probe, o->changes, err);
  json_decref(probe);
  struct berth_db_image img = { 0 };
  struct berth_imgconfig parent = { 0 };
  if (r < 0 || berth_db_image_get(e->db, o->parent, &img, err) <= 0)
    return *err ? -1 : BERTH_ERR(err, "no such image: `%s`", o->parent);
  size_t n = img.nlayers;
  struct berth_db_layer *layers = xcalloc(n + 1, sizeof *layers);
  char **blobs = xcalloc(n + 2, sizeof *blobs);
  for (size_t i = 0; r == 0 && i < n; i++) {
    r = berth_db_layer_get(e->db, img.chain_ids[i], &layers[i], err);
    if (r == 0)
      r = BERTH_ERR(err, "image %s: layer %s has no catalogue row", o->parent, img.chain_ids[i]);
    r = r < 0 ? -1 : 0;
    blobs[i] = xstrdup(layers[i].blob_digest);
  }
  berth_digest_t blob, config;
  cleanup_free char *json = NULL;
  if (r == 0 &&
      (images_read_config(e, o->parent, &parent, err) < 0 ||
       images_diff_blob(e, o->upper_dirfd, blob, added, err) < 0 ||
       ingest_layer(e, blob, n ? layers[n - 1].chain_id : NULL, NULL, "layer", &layers[n], added, err) < 0))
    r = -1;
  if (r == 0 && ((json = new_config(&parent, o, layers[n].diff_id, err)) == NULL ||
                 berth_store_put_bytes(e->store, json, strlen(json), NULL, config, err) < 0))
    r = -1;
  if (r == 0) {
    ingest_files_add_blob(added, config);
    blobs[n] = xstrdup(blob);
    struct ingest_image im = { .config = config,
                               .nlayers = n + 1,
                               .layer_blobs = blobs,
                               .prepared = layers,
                               .tags = tags,
                               .what = "image",
                               .parent = o->parent };
    r = ingest_image(e, &im, added, id, err);
  }
  berth_imgconfig_release(&parent);
  berth_db_image_release(&img);
  berth_strv_free(blobs);
  free(layers);
  return r;
}

int berth_images_commit(struct berth_engine *e, const struct berth_images_commit_opts *o, berth_digest_t id,
                        berth_error_t *err)
{
  if (berth_engine_lock(e, false, err) < 0)
    return -1;
  struct ingest_files added = { 0 };
  int r = commit(e, o, id, &added, err);
  berth_error_t cerr = NULL;
  if (ingest_files_cleanup(e, &added, &cerr) < 0) {
    if (r == 0)
      *err = steal_ptr(cerr);
    berth_error_release(&cerr);
    r = -1;
  }
  ingest_files_release(&added);
  berth_engine_unlock(e);
  if (r < 0)
    return berth_error_wrap(err, "commit");
  if (o->reference) {
    const char *attrs[] = { "name", o->reference, NULL };
    berth_engine_event(e, "image", "tag", id, attrs);
  }
  return 0;
}
