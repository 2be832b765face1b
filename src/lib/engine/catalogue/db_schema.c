/* The catalogue's schema, versioned with PRAGMA user_version: migrations[i] takes a file from
 * version i to i + 1, each in its own BEGIN IMMEDIATE transaction (two berth commands opening a
 * fresh store at once: the second waits, then sees the new version and does nothing). */
#include <stdio.h>

#include "base/cleanup.h"
#include "base/xalloc.h"
#include "engine/catalogue/db_internal.h"

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
  /* 1 -> 2: containers (issue 5, docs/design/containers.md), their mounts, named volumes.
   * A container's image cannot go while the container exists (no cascade); its layers' refcounts
   * count the container too (berth_db_layer_count_users). */
  "CREATE TABLE containers ("
  "  id TEXT PRIMARY KEY CHECK (length(id) = 64),"
  "  name TEXT NOT NULL UNIQUE,"
  "  image_id TEXT NOT NULL REFERENCES images(id),"
  "  image TEXT NOT NULL DEFAULT '',"
  "  created INTEGER NOT NULL,"
  "  state TEXT NOT NULL DEFAULT 'created' CHECK (state IN"
  "    ('created', 'running', 'paused', 'restarting', 'exited', 'dead', 'removing')),"
  "  pid INTEGER NOT NULL DEFAULT 0,"
  "  exit_code INTEGER NOT NULL DEFAULT 0,"
  "  oom_killed INTEGER NOT NULL DEFAULT 0,"
  "  error TEXT NOT NULL DEFAULT '',"
  "  started_at INTEGER NOT NULL DEFAULT 0,"
  "  finished_at INTEGER NOT NULL DEFAULT 0,"
  "  restart_count INTEGER NOT NULL DEFAULT 0,"
  "  restart_delay_ms INTEGER NOT NULL DEFAULT 0,"
  "  manual_stop INTEGER NOT NULL DEFAULT 0,"
  "  runtime TEXT NOT NULL DEFAULT '',"
  "  monitor_pid INTEGER NOT NULL DEFAULT 0,"
  "  monitor_start INTEGER NOT NULL DEFAULT 0,"
  "  config TEXT NOT NULL DEFAULT '{}',"
  "  host_config TEXT NOT NULL DEFAULT '{}');"
  "CREATE INDEX containers_image ON containers(image_id);"
  "CREATE TABLE volumes ("
  "  name TEXT PRIMARY KEY,"
  "  driver TEXT NOT NULL DEFAULT 'local',"
  "  created INTEGER NOT NULL,"
  "  labels TEXT NOT NULL DEFAULT '{}',"
  "  options TEXT NOT NULL DEFAULT '{}',"
  "  mountpoint TEXT NOT NULL);"
  "CREATE TABLE container_mounts ("
  "  container_id TEXT NOT NULL REFERENCES containers(id) ON DELETE CASCADE,"
  "  idx INTEGER NOT NULL,"
  "  type TEXT NOT NULL CHECK (type IN ('bind', 'volume', 'tmpfs')),"
  "  source TEXT NOT NULL DEFAULT '',"
  "  destination TEXT NOT NULL,"
  "  volume TEXT REFERENCES volumes(name),"
  "  mode TEXT NOT NULL DEFAULT '',"
  "  rw INTEGER NOT NULL DEFAULT 1,"
  "  propagation TEXT NOT NULL DEFAULT '',"
  "  PRIMARY KEY (container_id, idx));"
  "CREATE INDEX container_mounts_volume ON container_mounts(volume);",
  /* 2 -> 3: networks (issue 14, docs/design/networking.md). A container's membership of a network
   * (network_attachments) lasts from create (or connect) to rm (or disconnect); its addresses
   * (network_leases: unique per network, so no address is ever given twice) and published ports
   * (port_mappings) while its networking is set up. A network cannot go while a container is
   * attached to it (no cascade). */
  "CREATE TABLE networks ("
  "  id TEXT PRIMARY KEY CHECK (length(id) = 64),"
  "  name TEXT NOT NULL UNIQUE,"
  "  driver TEXT NOT NULL DEFAULT 'bridge',"
  "  bridge TEXT NOT NULL UNIQUE,"
  "  subnet TEXT NOT NULL DEFAULT '',"
  "  gateway TEXT NOT NULL DEFAULT '',"
  "  ip_range TEXT NOT NULL DEFAULT '',"
  "  subnet6 TEXT NOT NULL DEFAULT '',"
  "  gateway6 TEXT NOT NULL DEFAULT '',"
  "  ip_range6 TEXT NOT NULL DEFAULT '',"
  "  internal INTEGER NOT NULL DEFAULT 0,"
  "  dns INTEGER NOT NULL DEFAULT 1,"
  "  mtu INTEGER NOT NULL DEFAULT 0,"
  "  dns_servers TEXT NOT NULL DEFAULT '',"
  "  created INTEGER NOT NULL,"
  "  labels TEXT NOT NULL DEFAULT '{}',"
  "  options TEXT NOT NULL DEFAULT '{}');"
  "CREATE TABLE network_attachments ("
  "  container_id TEXT NOT NULL REFERENCES containers(id) ON DELETE CASCADE,"
  "  network_id TEXT NOT NULL REFERENCES networks(id),"
  "  idx INTEGER NOT NULL,"
  "  aliases TEXT NOT NULL DEFAULT '',"
  "  ip TEXT NOT NULL DEFAULT '',"
  "  ip6 TEXT NOT NULL DEFAULT '',"
  "  mac TEXT NOT NULL DEFAULT '',"
  "  PRIMARY KEY (container_id, network_id));"
  "CREATE INDEX network_attachments_network ON network_attachments(network_id);"
  "CREATE TABLE network_leases ("
  "  network_id TEXT NOT NULL REFERENCES networks(id),"
  "  address TEXT NOT NULL,"
  "  container_id TEXT NOT NULL REFERENCES containers(id) ON DELETE CASCADE,"
  "  ifname TEXT NOT NULL,"
  "  host_if TEXT NOT NULL,"
  "  mac TEXT NOT NULL DEFAULT '',"
  "  created INTEGER NOT NULL,"
  "  PRIMARY KEY (network_id, address));"
  "CREATE INDEX network_leases_container ON network_leases(container_id);"
  "CREATE TABLE port_mappings ("
  "  container_id TEXT NOT NULL REFERENCES containers(id) ON DELETE CASCADE,"
  "  host_ip TEXT NOT NULL DEFAULT '',"
  "  host_port INTEGER NOT NULL CHECK (host_port > 0 AND host_port < 65536),"
  "  container_port INTEGER NOT NULL CHECK (container_port > 0 AND container_port < 65536),"
  "  proto TEXT NOT NULL CHECK (proto IN ('tcp', 'udp', 'sctp')),"
  "  PRIMARY KEY (host_ip, host_port, proto));"
  "CREATE INDEX port_mappings_container ON port_mappings(container_id);",
  /* 3 -> 4 (issue 16): events, what every berth process did (docs/design/events.md), the newest
   * BERTH_DB_EVENTS_KEPT kept; a layer kept as its extracted tree plus a tar-split record
   * (layers.tar_split = 1, blob_digest NULL: image/tarsplit.h); and the compressed forms a
   * registry knows of a layer (layer_sources: digest, size and media type by diff id and
   * repository), so that a push names the blob the registry already has. */
  "CREATE TABLE events ("
  "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
  "  time INTEGER NOT NULL,"
  "  type TEXT NOT NULL,"
  "  action TEXT NOT NULL,"
  "  actor TEXT NOT NULL DEFAULT '',"
  "  attributes TEXT NOT NULL DEFAULT '{}');"
  "CREATE INDEX events_time ON events(time);"
  "ALTER TABLE layers ADD COLUMN tar_split INTEGER NOT NULL DEFAULT 0;"
  "CREATE TABLE layer_sources ("
  "  diff_id TEXT NOT NULL,"
  "  digest TEXT NOT NULL,"
  "  size INTEGER NOT NULL CHECK (size >= 0),"
  "  media_type TEXT NOT NULL,"
  "  repository TEXT NOT NULL DEFAULT '',"
  "  created INTEGER NOT NULL,"
  "  PRIMARY KEY (diff_id, digest, repository));",
  /* 4 -> 5 (issue 15): an image a build made as a step and nothing else has claimed (the build
   * cache's, as BuildKit's: `images` does not list it untagged, `builder prune` removes it) */
  "ALTER TABLE images ADD COLUMN build_cache INTEGER NOT NULL DEFAULT 0;",
};

static BERTH_WUR int run_migration(struct berth_db *db, int from, berth_error_t *err)
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

static BERTH_WUR int migrate_one(struct berth_db *db, int from, berth_error_t *err)
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
