/* Catalogue rows of images, their ordered layers, tags and repo digests. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/cleanup.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/catalogue/db_internal.h"

static const char *or_null(const char *s) { return s && *s ? s : NULL; }

void berth_db_image_release(struct berth_db_image *img)
{
  if (img == NULL)
    return;
  free(img->os);
  free(img->arch);
  free(img->chain_ids);
  img->os = img->arch = NULL;
  img->chain_ids = NULL;
  img->nlayers = 0;
}

int berth_db_image_put(struct berth_db *db, const struct berth_db_image *img, berth_error_t *err)
{
  if (db_require_tx(db, "add image", err) < 0)
    return -1;
  int r = db_exec(db, err,
                  "INSERT OR IGNORE INTO images(id, manifest_digest, parent, created, added, size, os, arch,"
                  " build_cache) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                  "sssiiussi", img->id, or_null(img->manifest_digest), or_null(img->parent), img->created,
                  img->added ? img->added : (int64_t) time(NULL), img->size, img->os ? img->os : "",
                  img->arch ? img->arch : "", (int64_t) img->build_cache);
  if (r <= 0)
    return r < 0 ? berth_error_wrap(err, "add image `%s`", img->id) : 0;
  for (size_t i = 0; i < img->nlayers; i++) {
    const char *c = img->chain_ids[i];
    if (db_exec(db, err, "INSERT INTO image_layers(image_id, idx, chain_id) VALUES (?, ?, ?)", "sis", img->id,
                (int64_t) i, c) < 0 ||
        db_exec(db, err, "UPDATE layers SET refcount = refcount + 1 WHERE chain_id = ?", "s", c) < 0)
      return berth_error_wrap(err, "add image `%s`: layer %zu `%s`", img->id, i, c);
  }
  return 1;
}

static BERTH_WUR int read_chain(struct berth_db *db, struct berth_db_image *img, berth_error_t *err)
{
  cleanup_stmt sqlite3_stmt *st = NULL;
  if (db_prepare(db, &st, err, "SELECT chain_id FROM image_layers WHERE image_id = ? ORDER BY idx", "s",
                 img->id) < 0)
    return -1;
  int r;
  while ((r = db_step(db, st, err)) > 0) {
    img->chain_ids = xreallocarray(img->chain_ids, img->nlayers + 1, sizeof *img->chain_ids);
    db_col_digest(st, 0, img->chain_ids[img->nlayers++]);
  }
  return r;
}

#define IMAGE_COLUMNS "id, manifest_digest, parent, created, added, size, os, arch, build_cache"

static BERTH_WUR int read_image(struct berth_db *db, sqlite3_stmt *st, struct berth_db_image *img,
                                berth_error_t *err)
{
  memset(img, 0, sizeof *img);
  db_col_digest(st, 0, img->id);
  db_col_digest(st, 1, img->manifest_digest);
  db_col_digest(st, 2, img->parent);
  img->created = sqlite3_column_int64(st, 3);
  img->added = sqlite3_column_int64(st, 4);
  img->size = (uint64_t) sqlite3_column_int64(st, 5);
  img->os = db_col_strdup(st, 6);
  img->arch = db_col_strdup(st, 7);
  img->build_cache = sqlite3_column_int64(st, 8) != 0;
  return read_chain(db, img, err);
}

int berth_db_image_get(struct berth_db *db, const char *id, struct berth_db_image *out, berth_error_t *err)
{
  cleanup_stmt sqlite3_stmt *st = NULL;
  if (db_prepare(db, &st, err, "SELECT " IMAGE_COLUMNS " FROM images WHERE id = ?", "s", id) < 0)
    return -1;
  int r = db_step(db, st, err);
  if (r <= 0)
    return r;
  if (read_image(db, st, out, err) < 0) {
    berth_db_image_release(out);
    return -1;
  }
  return 1;
}

int berth_db_image_find_prefix(struct berth_db *db, const char *hex_prefix, char ***ids, berth_error_t *err)
{
  if (berth_str_has_prefix(hex_prefix, "sha256:"))
    hex_prefix += strlen("sha256:");
  cleanup_free char *pattern = xasprintf("sha256:%s*", hex_prefix);
  return db_collect_strings(db, ids, err, "SELECT id FROM images WHERE id GLOB ? ORDER BY id LIMIT 2", "s",
                            pattern);
}

int berth_db_image_list(struct berth_db *db, struct berth_db_image **out, size_t *n, berth_error_t *err)
{
  cleanup_stmt sqlite3_stmt *st = NULL;
  if (db_prepare(db, &st, err, "SELECT " IMAGE_COLUMNS " FROM images ORDER BY added DESC, created DESC, id",
                 "") < 0)
    return -1;
  struct berth_db_image *v = NULL;
  size_t len = 0;
  int r;
  while ((r = db_step(db, st, err)) > 0) {
    v = xreallocarray(v, len + 1, sizeof *v);
    if (read_image(db, st, &v[len++], err) < 0) {
      r = -1;
      break;
    }
  }
  if (r < 0) {
    berth_db_image_list_free(v, len);
    return -1;
  }
  *out = v;
  *n = len;
  return 0;
}

void berth_db_image_list_free(struct berth_db_image *v, size_t n)
{
  for (size_t i = 0; i < n; i++)
    berth_db_image_release(&v[i]);
  free(v);
}

int berth_db_image_set_build_cache(struct berth_db *db, const char *id, bool build_cache, berth_error_t *err)
{
  if (db_require_tx(db, "mark image", err) < 0)
    return -1;
  return db_exec(db, err, "UPDATE images SET build_cache = ? WHERE id = ?", "is", (int64_t) build_cache, id) <
             0
           ? -1
           : 0;
}

int berth_db_image_children(struct berth_db *db, const char *id, char ***ids, berth_error_t *err)
{
  return db_collect_strings(db, ids, err, "SELECT id FROM images WHERE parent = ? ORDER BY id", "s", id);
}

int berth_db_image_containers(struct berth_db *db, const char *id, int64_t *n, berth_error_t *err)
{
  int64_t has = 0;
  if (db_query_i64(db, &has, err,
                   "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'containers'", "") < 0)
    return -1;
  *n = 0;
  if (has == 0)
    return 0;
  return db_query_i64(db, n, err, "SELECT count(*) FROM containers WHERE image_id = ?", "s", id);
}

/* blobs nobody refers to any more, among candidates: rows deleted, digests appended to gone */
static BERTH_WUR int drop_unused_blobs(struct berth_db *db, char **candidates, char ***gone,
                                       berth_error_t *err)
{
  for (char **c = candidates; *c; c++) {
    int64_t users = 0;
    if (**c == '\0')
      continue;
    if (berth_db_blob_users(db, *c, &users, err) < 0)
      return -1;
    if (users > 0)
      continue;
    int r = berth_db_blob_delete(db, *c, err);
    if (r < 0)
      return -1;
    bool seen = false;
    for (char **g = *gone; *g; g++)
      seen = seen || strcmp(*g, *c) == 0;
    if (r > 0 && !seen)
      *gone = berth_strv_append(*gone, *c);
  }
  return 0;
}

/* subtract one from each layer of img (top first) and delete those that reach zero */
static BERTH_WUR int release_layers(struct berth_db *db, const struct berth_db_image *img,
                                    char ***gone_layers, char ***blob_candidates, berth_error_t *err)
{
  for (size_t i = img->nlayers; i-- > 0;) {
    const char *c = img->chain_ids[i];
    if (db_exec(db, err, "UPDATE layers SET refcount = max(refcount - 1, 0) WHERE chain_id = ?", "s", c) < 0)
      return -1;
    struct berth_db_layer l;
    int r = berth_db_layer_get(db, c, &l, err);
    if (r < 0)
      return -1;
    if (r == 0 || l.refcount > 0)
      continue;
    if (berth_db_layer_delete(db, c, err) < 0)
      return -1;
    *gone_layers = berth_strv_append(*gone_layers, c);
    if (l.blob_digest[0])
      *blob_candidates = berth_strv_append(*blob_candidates, l.blob_digest);
  }
  return 0;
}

int berth_db_image_delete(struct berth_db *db, const char *id, char ***gone_layers, char ***gone_blobs,
                          berth_error_t *err)
{
  if (db_require_tx(db, "delete image", err) < 0)
    return -1;
  struct berth_db_image img;
  int r = berth_db_image_get(db, id, &img, err);
  if (r <= 0)
    return r;
  cleanup_strv char **layers = xcalloc(1, sizeof(char *));
  cleanup_strv char **blobs = xcalloc(1, sizeof(char *));
  cleanup_strv char **candidates = xcalloc(1, sizeof(char *));
  candidates = berth_strv_append(candidates, img.id);
  candidates = berth_strv_append(candidates, img.manifest_digest);
  r = db_exec(db, err, "DELETE FROM images WHERE id = ?", "s", id);
  if (r >= 0)
    r = release_layers(db, &img, &layers, &candidates, err);
  if (r >= 0)
    r = drop_unused_blobs(db, candidates, &blobs, err);
  berth_db_image_release(&img);
  if (r < 0)
    return berth_error_wrap(err, "delete image `%s`", id);
  if (gone_layers)
    *gone_layers = steal_ptr(layers);
  if (gone_blobs)
    *gone_blobs = steal_ptr(blobs);
  return 1;
}

/* ---- tags ---- */

int berth_db_tag_get(struct berth_db *db, const char *name, berth_digest_t image_id, berth_error_t *err)
{
  cleanup_stmt sqlite3_stmt *st = NULL;
  if (db_prepare(db, &st, err, "SELECT image_id FROM tags WHERE name = ?", "s", name) < 0)
    return -1;
  int r = db_step(db, st, err);
  if (r > 0)
    db_col_digest(st, 0, image_id);
  return r;
}

int berth_db_tag_set(struct berth_db *db, const char *name, const char *image_id, char **previous,
                     berth_error_t *err)
{
  if (db_require_tx(db, "tag image", err) < 0)
    return -1;
  berth_digest_t old = "";
  if (berth_db_tag_get(db, name, old, err) < 0)
    return -1;
  if (db_exec(db, err,
              "INSERT INTO tags(name, image_id, created) VALUES (?, ?, ?)"
              " ON CONFLICT(name) DO UPDATE SET image_id = excluded.image_id, created = excluded.created",
              "ssi", name, image_id, (int64_t) time(NULL)) < 0)
    return berth_error_wrap(err, "tag `%s`", name);
  if (previous)
    *previous = xstrdup(old);
  return 0;
}

int berth_db_tag_last_time(struct berth_db *db, const char *image_id, int64_t *t, berth_error_t *err)
{
  return db_query_i64(db, t, err, "SELECT coalesce(max(created), 0) FROM tags WHERE image_id = ?", "s",
                      image_id);
}

int berth_db_tag_delete(struct berth_db *db, const char *name, berth_error_t *err)
{
  if (db_require_tx(db, "untag image", err) < 0)
    return -1;
  int r = db_exec(db, err, "DELETE FROM tags WHERE name = ?", "s", name);
  return r < 0 ? berth_error_wrap(err, "untag `%s`", name) : r > 0;
}

int berth_db_tags_of(struct berth_db *db, const char *image_id, char ***names, berth_error_t *err)
{
  return db_collect_strings(db, names, err, "SELECT name FROM tags WHERE image_id = ? ORDER BY name", "s",
                            image_id);
}

int berth_db_repo_digest_add(struct berth_db *db, const char *name_at_digest, const char *image_id,
                             berth_error_t *err)
{
  if (db_require_tx(db, "add repo digest", err) < 0)
    return -1;
  if (db_exec(db, err, "INSERT OR IGNORE INTO repo_digests(name, image_id) VALUES (?, ?)", "ss",
              name_at_digest, image_id) < 0)
    return berth_error_wrap(err, "add repo digest `%s`", name_at_digest);
  return 0;
}

int berth_db_repo_digests_of(struct berth_db *db, const char *image_id, char ***out, berth_error_t *err)
{
  return db_collect_strings(db, out, err, "SELECT name FROM repo_digests WHERE image_id = ? ORDER BY name",
                            "s", image_id);
}

int berth_db_repo_digest_find(struct berth_db *db, const char *name_at_digest, berth_digest_t image_id,
                              berth_error_t *err)
{
  cleanup_stmt sqlite3_stmt *st = NULL;
  if (db_prepare(db, &st, err, "SELECT image_id FROM repo_digests WHERE name = ? ORDER BY image_id", "s",
                 name_at_digest) < 0)
    return -1;
  int r = db_step(db, st, err);
  if (r > 0)
    db_col_digest(st, 0, image_id);
  return r;
}
