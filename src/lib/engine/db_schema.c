/* The catalogue's schema, versioned with PRAGMA user_version: migrations[i] takes a file from
 * version i to i + 1, each in its own BEGIN IMMEDIATE transaction (two berth commands opening a
 * fresh store at once: the second waits, then sees the new version and does nothing). */
#include <stdio.h>

#include "base/cleanup.h"
#include "base/xalloc.h"
#include "engine/db_internal.h"

static const char *const migrations[] = {
  /* 0 -> 1 */
  "CREATE TABLE blobs ("
  "  digest TEXT PRIMARY KEY,"
  "  size INTEGER NOT NULL CHECK (size >= 0),"
  "  media_type TEXT NOT NULL DEFAULT '',"
  "  created INTEGER NOT NULL);"
  "CREATE TABLE layers ("
  "  chain_id TEXT PRIMARY KEY,"
  "  diff_id TEXT NOT NULL,"
  "  parent TEXT REFERENCES layers(chain_id),"
  "  blob_digest TEXT REFERENCES blobs(digest),"
  "  size INTEGER NOT NULL CHECK (size >= 0),"
  "  tar_size INTEGER NOT NULL DEFAULT 0,"
  "  refcount INTEGER NOT NULL DEFAULT 0 CHECK (refcount >= 0),"
  "  created INTEGER NOT NULL);"
  "CREATE INDEX layers_parent ON layers(parent);"
  "CREATE INDEX layers_blob ON layers(blob_digest);"
  "CREATE TABLE images ("
  "  id TEXT PRIMARY KEY REFERENCES blobs(digest),"
  "  manifest_digest TEXT REFERENCES blobs(digest),"
  "  parent TEXT,"
  "  created INTEGER NOT NULL DEFAULT 0,"
  "  added INTEGER NOT NULL,"
  "  size INTEGER NOT NULL DEFAULT 0,"
  "  os TEXT NOT NULL DEFAULT '',"
  "  arch TEXT NOT NULL DEFAULT '');"
  "CREATE INDEX images_manifest ON images(manifest_digest);"
  "CREATE INDEX images_parent ON images(parent);"
  "CREATE TABLE image_layers ("
  "  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
  "  idx INTEGER NOT NULL,"
  "  chain_id TEXT NOT NULL REFERENCES layers(chain_id),"
  "  PRIMARY KEY (image_id, idx));"
  "CREATE INDEX image_layers_chain ON image_layers(chain_id);"
  "CREATE TABLE tags ("
  "  name TEXT PRIMARY KEY,"
  "  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
  "  created INTEGER NOT NULL);"
  "CREATE INDEX tags_image ON tags(image_id);"
  "CREATE TABLE repo_digests ("
  "  name TEXT NOT NULL,"
  "  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
  "  PRIMARY KEY (name, image_id));"
  "CREATE INDEX repo_digests_image ON repo_digests(image_id);",
};

static int run_migration(struct berth_db *db, int from, berth_error_t *err)
{
  char *msg = NULL;
  if (sqlite3_exec(db->h, migrations[from], NULL, NULL, &msg) != SQLITE_OK) {
    BERTH_ERR(err, "catalogue `%s`: migrate schema %d -> %d: %s", db->path, from, from + 1, msg ? msg : "?");
    sqlite3_free(msg);
    return -1;
  }
  cleanup_free char *set = xasprintf("PRAGMA user_version=%d", from + 1);
  return db_exec(db, err, set, "") < 0 ? -1 : 0;
}

static int migrate_one(struct berth_db *db, int from, berth_error_t *err)
{
  if (berth_db_begin(db, err) < 0)
    return -1;
  int v = berth_db_schema_version(db, err);
  if (v == from && run_migration(db, from, err) == 0)
    return berth_db_commit(db, err);
  berth_db_rollback(db);
  return v < 0 || v == from ? -1 : 0; /* v != from: someone else migrated meanwhile */
}

int db_migrate(struct berth_db *db, berth_error_t *err)
{
  const int latest = (int) BERTH_N_ELEMENTS(migrations);
  _Static_assert(BERTH_N_ELEMENTS(migrations) == BERTH_DB_SCHEMA_VERSION, "one migration per schema version");
  for (;;) {
    int v = berth_db_schema_version(db, err);
    if (v < 0)
      return -1;
    if (v == latest)
      return 0;
    if (v > latest)
      return BERTH_ERR(err, "catalogue `%s`: schema version %d is newer than this berth knows (%d)", db->path,
                       v, latest);
    if (migrate_one(db, v, err) < 0)
      return -1;
  }
}
