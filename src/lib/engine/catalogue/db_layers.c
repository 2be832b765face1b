/* Catalogue rows of blobs and extracted layers. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/cleanup.h"
#include "base/xalloc.h"
#include "engine/catalogue/db_internal.h"

static const char *or_null(const char *s) { return s && *s ? s : NULL; }

void berth_db_blob_release(struct berth_db_blob *b)
{
  if (b == NULL)
    return;
  free(b->media_type);
  b->media_type = NULL;
}

int berth_db_blob_put(struct berth_db *db, const char *digest, uint64_t size, const char *media_type,
                      berth_error_t *err)
{
  if (db_require_tx(db, "add blob", err) < 0)
    return -1;
  if (db_exec(db, err, "INSERT OR IGNORE INTO blobs(digest, size, media_type, created) VALUES (?, ?, ?, ?)",
              "susi", digest, size, media_type ? media_type : "", (int64_t) time(NULL)) < 0)
    return berth_error_wrap(err, "add blob `%s`", digest);
  return 0;
}

int berth_db_blob_get(struct berth_db *db, const char *digest, struct berth_db_blob *out, berth_error_t *err)
{
  cleanup_stmt sqlite3_stmt *st = NULL;
  if (db_prepare(db, &st, err, "SELECT digest, size, media_type FROM blobs WHERE digest = ?", "s", digest) <
      0)
    return -1;
  int r = db_step(db, st, err);
  if (r <= 0)
    return r;
  db_col_digest(st, 0, out->digest);
  out->size = (uint64_t) sqlite3_column_int64(st, 1);
  out->media_type = db_col_strdup(st, 2);
  return 1;
}

int berth_db_blob_users(struct berth_db *db, const char *digest, int64_t *n, berth_error_t *err)
{
  return db_query_i64(db, n, err,
                      "SELECT (SELECT count(*) FROM layers WHERE blob_digest = ?1)"
                      " + (SELECT count(*) FROM images WHERE id = ?1 OR manifest_digest = ?1)",
                      "s", digest);
}

int berth_db_blob_delete(struct berth_db *db, const char *digest, berth_error_t *err)
{
  if (db_require_tx(db, "delete blob", err) < 0)
    return -1;
  int r = db_exec(db, err, "DELETE FROM blobs WHERE digest = ?", "s", digest);
  if (r < 0)
    return berth_error_wrap(err, "delete blob `%s`", digest);
  return r > 0;
}

int berth_db_blob_list(struct berth_db *db, struct berth_db_blob **out, size_t *n, berth_error_t *err)
{
  cleanup_stmt sqlite3_stmt *st = NULL;
  if (db_prepare(db, &st, err, "SELECT digest, size, media_type FROM blobs ORDER BY digest", "") < 0)
    return -1;
  struct berth_db_blob *v = NULL;
  size_t len = 0;
  int r;
  while ((r = db_step(db, st, err)) > 0) {
    v = xreallocarray(v, len + 1, sizeof *v);
    db_col_digest(st, 0, v[len].digest);
    v[len].size = (uint64_t) sqlite3_column_int64(st, 1);
    v[len].media_type = db_col_strdup(st, 2);
    len++;
  }
  if (r < 0) {
    berth_db_blob_list_free(v, len);
    return -1;
  }
  *out = v;
  *n = len;
  return 0;
}

void berth_db_blob_list_free(struct berth_db_blob *v, size_t n)
{
  for (size_t i = 0; i < n; i++)
    berth_db_blob_release(&v[i]);
  free(v);
}

int berth_db_layer_put(struct berth_db *db, const struct berth_db_layer *l, berth_error_t *err)
{
  if (db_require_tx(db, "add layer", err) < 0)
    return -1;
  int r = db_exec(
    db, err,
    "INSERT OR IGNORE INTO layers(chain_id, diff_id, parent, blob_digest, size, tar_size, refcount, created,"
    " tar_split) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?)",
    "ssssuuii", l->chain_id, l->diff_id, or_null(l->parent), or_null(l->blob_digest), l->size, l->tar_size,
    (int64_t) time(NULL), (int64_t) l->tar_split);
  if (r < 0)
    return berth_error_wrap(err, "add layer `%s`", l->chain_id);
  return r > 0;
}

#define LAYER_COLUMNS "chain_id, diff_id, parent, blob_digest, size, tar_size, refcount, created, tar_split"

static void read_layer(sqlite3_stmt *st, struct berth_db_layer *l)
{
  db_col_digest(st, 0, l->chain_id);
  db_col_digest(st, 1, l->diff_id);
  db_col_digest(st, 2, l->parent);
  db_col_digest(st, 3, l->blob_digest);
  l->size = (uint64_t) sqlite3_column_int64(st, 4);
  l->tar_size = (uint64_t) sqlite3_column_int64(st, 5);
  l->refcount = sqlite3_column_int64(st, 6);
  l->created = sqlite3_column_int64(st, 7);
  l->tar_split = sqlite3_column_int64(st, 8) != 0;
}

int berth_db_layer_get(struct berth_db *db, const char *chain_id, struct berth_db_layer *out,
                       berth_error_t *err)
{
  cleanup_stmt sqlite3_stmt *st = NULL;
  if (db_prepare(db, &st, err, "SELECT " LAYER_COLUMNS " FROM layers WHERE chain_id = ?", "s", chain_id) < 0)
    return -1;
  int r = db_step(db, st, err);
  if (r > 0)
    read_layer(st, out);
  return r;
}

int berth_db_layer_delete(struct berth_db *db, const char *chain_id, berth_error_t *err)
{
  if (db_require_tx(db, "delete layer", err) < 0)
    return -1;
  int r = db_exec(db, err, "DELETE FROM layers WHERE chain_id = ?", "s", chain_id);
  if (r < 0)
    return berth_error_wrap(err, "delete layer `%s`", chain_id);
  return r > 0;
}

int berth_db_layer_list(struct berth_db *db, struct berth_db_layer **out, size_t *n, berth_error_t *err)
{
  cleanup_stmt sqlite3_stmt *st = NULL;
  if (db_prepare(db, &st, err, "SELECT " LAYER_COLUMNS " FROM layers ORDER BY chain_id", "") < 0)
    return -1;
  cleanup_free struct berth_db_layer *v = NULL;
  size_t len = 0;
  int r;
  while ((r = db_step(db, st, err)) > 0) {
    v = xreallocarray(v, len + 1, sizeof *v);
    read_layer(st, &v[len++]);
  }
  if (r < 0)
    return -1;
  *out = steal_ptr(v);
  *n = len;
  return 0;
}

int berth_db_layer_count_users(struct berth_db *db, const char *chain_id, int64_t *n, berth_error_t *err)
{
  return db_query_i64(
    db, n, err,
    "SELECT (SELECT count(*) FROM image_layers WHERE chain_id = ?1) + (SELECT count(*) FROM"
    " containers c JOIN image_layers il ON il.image_id = c.image_id WHERE il.chain_id = ?1)",
    "s", chain_id);
}

int berth_db_layer_children(struct berth_db *db, const char *chain_id, int64_t *n, berth_error_t *err)
{
  return db_query_i64(db, n, err, "SELECT count(*) FROM layers WHERE parent = ?", "s", chain_id);
}

int berth_db_layer_set_refcount(struct berth_db *db, const char *chain_id, int64_t refcount,
                                berth_error_t *err)
{
  if (db_require_tx(db, "set layer refcount", err) < 0)
    return -1;
  if (db_exec(db, err, "UPDATE layers SET refcount = ? WHERE chain_id = ?", "is", refcount, chain_id) < 0)
    return berth_error_wrap(err, "set refcount of layer `%s`", chain_id);
  return 0;
}

int berth_db_layer_set_blob(struct berth_db *db, const char *chain_id, const char *blob_digest,
                            berth_error_t *err)
{
  if (db_require_tx(db, "set layer blob", err) < 0)
    return -1;
  if (db_exec(db, err, "UPDATE layers SET blob_digest = ? WHERE chain_id = ?", "ss", blob_digest, chain_id) <
      0)
    return berth_error_wrap(err, "set the blob of layer `%s`", chain_id);
  return 0;
}

int berth_db_layer_set_split(struct berth_db *db, const char *chain_id, berth_error_t *err)
{
  if (db_require_tx(db, "set layer tar-split", err) < 0)
    return -1;
  if (db_exec(db, err, "UPDATE layers SET tar_split = 1, blob_digest = NULL WHERE chain_id = ?", "s",
              chain_id) < 0)
    return berth_error_wrap(err, "keep layer `%s` as its tar-split", chain_id);
  return 0;
}

void berth_db_layer_sources_free(struct berth_db_layer_source *v, size_t n)
{
  for (size_t i = 0; v && i < n; i++) {
    free(v[i].media_type);
    free(v[i].repository);
  }
  free(v);
}

int berth_db_layer_source_put(struct berth_db *db, const struct berth_db_layer_source *s, berth_error_t *err)
{
  if (db_exec(db, err,
              "INSERT OR REPLACE INTO layer_sources(diff_id, digest, size, media_type, repository, created)"
              " VALUES (?, ?, ?, ?, ?, ?)",
              "ssussi", s->diff_id, s->digest, s->size, s->media_type ? s->media_type : "",
              s->repository ? s->repository : "", (int64_t) time(NULL)) < 0)
    return berth_error_wrap(err, "record the source of layer `%s`", s->diff_id);
  return 0;
}

int berth_db_layer_sources(struct berth_db *db, const char *diff_id, struct berth_db_layer_source **out,
                           size_t *n, berth_error_t *err)
{
  cleanup_stmt sqlite3_stmt *st = NULL;
  if (db_prepare(db, &st, err,
                 "SELECT diff_id, digest, size, media_type, repository FROM layer_sources WHERE diff_id = ?"
                 " ORDER BY created DESC, rowid DESC",
                 "s", diff_id) < 0)
    return -1;
  struct berth_db_layer_source *v = NULL;
  size_t k = 0;
  int r;
  while ((r = db_step(db, st, err)) > 0) {
    v = xreallocarray(v, k + 1, sizeof *v);
    db_col_digest(st, 0, v[k].diff_id);
    db_col_digest(st, 1, v[k].digest);
    v[k].size = (uint64_t) sqlite3_column_int64(st, 2);
    v[k].media_type = db_col_strdup(st, 3);
    v[k].repository = db_col_strdup(st, 4);
    k++;
  }
  if (r < 0) {
    berth_db_layer_sources_free(v, k);
    return -1;
  }
  *out = v ? v : xcalloc(1, sizeof *v);
  *n = k;
  return 0;
}
