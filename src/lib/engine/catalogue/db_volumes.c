/* The catalogue: volumes as the volume commands read them (db_containers.c adds and deletes them). */
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/xalloc.h"
#include "engine/catalogue/db_internal.h"

#define VOLUME_COLUMNS                                                                                       \
  "SELECT v.name, v.driver, v.created, v.labels, v.options, v.mountpoint,"                                   \
  " (SELECT count(DISTINCT m.container_id) FROM container_mounts m WHERE m.volume = v.name) FROM volumes v"

void berth_db_volume_release(struct berth_db_volume *v)
{
  if (v == NULL)
    return;
  free(v->name);
  free(v->driver);
  free(v->labels);
  free(v->options);
  free(v->mountpoint);
  memset(v, 0, sizeof *v);
}

static void read_row(sqlite3_stmt *st, struct berth_db_volume *v)
{
  v->name = db_col_strdup(st, 0);
  v->driver = db_col_strdup(st, 1);
  v->created = sqlite3_column_int64(st, 2);
  v->labels = db_col_strdup(st, 3);
  v->options = db_col_strdup(st, 4);
  v->mountpoint = db_col_strdup(st, 5);
  v->users = sqlite3_column_int64(st, 6);
}

int berth_db_volume_find(struct berth_db *db, const char *name, struct berth_db_volume *out,
                         berth_error_t *err)
{
  cleanup_stmt sqlite3_stmt *st = NULL;
  if (db_prepare(db, &st, err, VOLUME_COLUMNS " WHERE v.name = ?", "s", name) < 0)
    return -1;
  int r = db_step(db, st, err);
  if (r > 0)
    read_row(st, out);
  return r;
}

void berth_db_volume_list_free(struct berth_db_volume *v, size_t n)
{
  for (size_t i = 0; v && i < n; i++)
    berth_db_volume_release(&v[i]);
  free(v);
}

int berth_db_volume_list(struct berth_db *db, struct berth_db_volume **out, size_t *n, berth_error_t *err)
{
  cleanup_stmt sqlite3_stmt *st = NULL;
  if (db_prepare(db, &st, err, VOLUME_COLUMNS " ORDER BY v.name", "") < 0)
    return -1;
  struct berth_db_volume *v = NULL;
  size_t k = 0;
  int r;
  while ((r = db_step(db, st, err)) > 0) {
    v = xreallocarray(v, k + 1, sizeof *v);
    read_row(st, &v[k++]);
  }
  if (r < 0) {
    berth_db_volume_list_free(v, k);
    return -1;
  }
  *out = v ? v : xcalloc(1, sizeof *v);
  *n = k;
  return 0;
}

int berth_db_volume_user_ids(struct berth_db *db, const char *name, char ***ids, berth_error_t *err)
{
  return db_collect_strings(db, ids, err,
                            "SELECT DISTINCT container_id FROM container_mounts WHERE volume = ? ORDER BY 1",
                            "s", name);
}
