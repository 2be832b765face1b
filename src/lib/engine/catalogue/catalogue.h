/* The catalogue: what exists in the engine's store (blobs, extracted layers and their reference
 * counts, images, tags, repo digests), in SQLite (WAL, foreign keys on, busy timeout so that
 * concurrent `berth` commands queue instead of failing). Every state change is one
 * `BEGIN IMMEDIATE` transaction opened by the caller with berth_db_begin (the functions that
 * change rows require one). No SQL outside engine/catalogue/.
 *
 * Order rule (docs/design/catalogue.md): files first (the store renames them into place), row
 * second; deletion: row first, files after the commit. */
#ifndef BERTH_ENGINE_CATALOGUE_H
#define BERTH_ENGINE_CATALOGUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "image/digest.h"

#define BERTH_DB_SCHEMA_VERSION 5

typedef char berth_digest_t[BERTH_DIGEST_LEN + 1];

struct berth_db;

/* Open (creating and migrating when needed) the catalogue at path. busy_timeout_ms <= 0: 60 s. */
int berth_db_open(const char *path, int busy_timeout_ms, struct berth_db **out, berth_error_t *err) BERTH_WUR;
void berth_db_close(struct berth_db *db);
/* schema version stored in the file (PRAGMA user_version) */
int berth_db_schema_version(struct berth_db *db, berth_error_t *err) BERTH_WUR;

/* PRAGMA integrity_check and foreign_key_check: one line per problem (empty vector when sound) */
int berth_db_verify(struct berth_db *db, char ***problems, berth_error_t *err) BERTH_WUR;

/* BEGIN IMMEDIATE (waits for other writers up to the busy timeout) / COMMIT / ROLLBACK.
 * rollback is a no-op without an open transaction. */
int berth_db_begin(struct berth_db *db, berth_error_t *err) BERTH_WUR;
int berth_db_commit(struct berth_db *db, berth_error_t *err) BERTH_WUR;
void berth_db_rollback(struct berth_db *db);
bool berth_db_in_transaction(struct berth_db *db);

/* ---- blobs ---- */
struct berth_db_blob {
  berth_digest_t digest;
  uint64_t size;
  char *media_type; /* "" when unknown */
};
void berth_db_blob_release(struct berth_db_blob *b);
/* insert unless present (then the row is kept as it is) */
int berth_db_blob_put(struct berth_db *db, const char *digest, uint64_t size, const char *media_type,
                      berth_error_t *err) BERTH_WUR;
/* 1 found, 0 absent */
int berth_db_blob_get(struct berth_db *db, const char *digest, struct berth_db_blob *out,
                      berth_error_t *err) BERTH_WUR;
/* rows that refer to the blob: layers (compressed blob), images (config = id, manifest) */
int berth_db_blob_users(struct berth_db *db, const char *digest, int64_t *n, berth_error_t *err) BERTH_WUR;
/* 1 deleted, 0 absent */
int berth_db_blob_delete(struct berth_db *db, const char *digest, berth_error_t *err) BERTH_WUR;
int berth_db_blob_list(struct berth_db *db, struct berth_db_blob **out, size_t *n,
                       berth_error_t *err) BERTH_WUR;
void berth_db_blob_list_free(struct berth_db_blob *v, size_t n);

/* ---- layers (by chain id) ---- */
struct berth_db_layer {
  berth_digest_t chain_id;
  berth_digest_t diff_id;
  berth_digest_t parent;      /* "" for a base layer */
  berth_digest_t blob_digest; /* the layer as stored (compressed or not); "" when none is kept */
  uint64_t size;              /* extracted size (regular file bytes, hard links once: Docker's DiffSize) */
  uint64_t tar_size;          /* bytes of the uncompressed tar */
  int64_t refcount;           /* image_layers rows + containers of images using it */
  int64_t created;            /* unix seconds when the row was made */
  bool tar_split;             /* the tar is rebuilt from <layer dir>/tar-split and diff/ (image/tarsplit.h) */
};
/* insert with refcount 0 unless present: returns 1 inserted, 0 present (row kept) */
int berth_db_layer_put(struct berth_db *db, const struct berth_db_layer *l, berth_error_t *err) BERTH_WUR;
int berth_db_layer_get(struct berth_db *db, const char *chain_id, struct berth_db_layer *out,
                       berth_error_t *err) BERTH_WUR;
int berth_db_layer_delete(struct berth_db *db, const char *chain_id, berth_error_t *err) BERTH_WUR;
int berth_db_layer_list(struct berth_db *db, struct berth_db_layer **out, size_t *n,
                        berth_error_t *err) BERTH_WUR;
/* users counted from the rows: image_layers + containers of those images (child layers' parent
 * links are not users) */
int berth_db_layer_count_users(struct berth_db *db, const char *chain_id, int64_t *n,
                               berth_error_t *err) BERTH_WUR;
/* layer rows whose parent is chain_id */
int berth_db_layer_children(struct berth_db *db, const char *chain_id, int64_t *n,
                            berth_error_t *err) BERTH_WUR;
int berth_db_layer_set_refcount(struct berth_db *db, const char *chain_id, int64_t refcount,
                                berth_error_t *err) BERTH_WUR;
/* the layer's tar is kept as its tar-split record (the blob row, if any, is the caller's to drop) */
int berth_db_layer_set_split(struct berth_db *db, const char *chain_id, berth_error_t *err) BERTH_WUR;
/* the blob that stands for the layer from now on (its compressed form, made by a push) */
int berth_db_layer_set_blob(struct berth_db *db, const char *chain_id, const char *blob_digest,
                            berth_error_t *err) BERTH_WUR;

/* ---- images ---- */
struct berth_db_image {
  berth_digest_t id;              /* config digest */
  berth_digest_t manifest_digest; /* "" when no manifest blob is kept */
  berth_digest_t parent;          /* local parent image (builds); "" when none */
  int64_t created;                /* from the config, unix nanoseconds (0 when absent) */
  int64_t added;                  /* unix seconds when imported/loaded */
  uint64_t size;                  /* sum of the layers' sizes */
  char *os;
  char *arch;
  size_t nlayers;
  berth_digest_t *chain_ids; /* bottom first */
  bool build_cache;          /* a build's step only: the build cache's, not listed untagged */
};
void berth_db_image_release(struct berth_db_image *img);
/* Insert the image, its ordered layers (which must exist) and add one to each layer's refcount.
 * Returns 1 inserted, 0 the image already existed (nothing changed). */
int berth_db_image_put(struct berth_db *db, const struct berth_db_image *img, berth_error_t *err) BERTH_WUR;
/* 1 found, 0 absent */
int berth_db_image_get(struct berth_db *db, const char *id, struct berth_db_image *out,
                       berth_error_t *err) BERTH_WUR;
/* ids starting with prefix ("sha256:" optional, at least 1 hex char): 0, 1 or more matches */
int berth_db_image_find_prefix(struct berth_db *db, const char *hex_prefix, char ***ids,
                               berth_error_t *err) BERTH_WUR;
/* Delete the image row (tags, repo digests, image_layers go with it), subtract one from each of
 * its layers' refcount and delete the layer rows that reach 0, and the blob rows nobody refers to
 * any more. The chain ids and blob digests whose rows went are returned (files to remove after
 * the commit). 1 deleted, 0 absent. */
int berth_db_image_delete(struct berth_db *db, const char *id, char ***gone_layers, char ***gone_blobs,
                          berth_error_t *err) BERTH_WUR;
/* every image, newest first (added, then created) */
int berth_db_image_list(struct berth_db *db, struct berth_db_image **out, size_t *n,
                        berth_error_t *err) BERTH_WUR;
void berth_db_image_list_free(struct berth_db_image *v, size_t n);
/* an image is the build cache's (a step's) or not (a build's result, or anything else) */
int berth_db_image_set_build_cache(struct berth_db *db, const char *id, bool build_cache,
                                   berth_error_t *err) BERTH_WUR;
/* images whose parent is id */
int berth_db_image_children(struct berth_db *db, const char *id, char ***ids, berth_error_t *err) BERTH_WUR;
/* containers using the image (the `containers` table of issue 5; 0 while it does not exist) */
int berth_db_image_containers(struct berth_db *db, const char *id, int64_t *n, berth_error_t *err) BERTH_WUR;

/* ---- tags (full normalized names "docker.io/library/busybox:latest") ---- */
/* point name at image id; previous (may be NULL) receives the image it pointed to before, or "" */
int berth_db_tag_set(struct berth_db *db, const char *name, const char *image_id, char **previous,
                     berth_error_t *err) BERTH_WUR;
/* 1 found, 0 absent */
int berth_db_tag_get(struct berth_db *db, const char *name, berth_digest_t image_id,
                     berth_error_t *err) BERTH_WUR;
/* latest time (unix seconds) one of the image's tags was set; 0 when untagged */
int berth_db_tag_last_time(struct berth_db *db, const char *image_id, int64_t *t,
                           berth_error_t *err) BERTH_WUR;
/* 1 removed, 0 absent */
int berth_db_tag_delete(struct berth_db *db, const char *name, berth_error_t *err) BERTH_WUR;
/* names of an image, sorted */
int berth_db_tags_of(struct berth_db *db, const char *image_id, char ***names, berth_error_t *err) BERTH_WUR;

/* ---- repo digests ("docker.io/library/busybox@sha256:...") ---- */
int berth_db_repo_digest_add(struct berth_db *db, const char *name_at_digest, const char *image_id,
                             berth_error_t *err) BERTH_WUR;
/* 1 found (image_id set), 0 absent */
int berth_db_repo_digest_find(struct berth_db *db, const char *name_at_digest, berth_digest_t image_id,
                              berth_error_t *err) BERTH_WUR;
int berth_db_repo_digests_of(struct berth_db *db, const char *image_id, char ***out,
                             berth_error_t *err) BERTH_WUR;

/* ---- events (db_events.c; issue 16, docs/design/events.md) ---- */
#define BERTH_DB_EVENTS_KEPT 10000 /* the newest ones; an older one goes as a new one comes */

struct berth_db_event {
  int64_t seq;      /* increasing */
  int64_t time;     /* unix nanoseconds */
  char *type;       /* container, image, volume, network */
  char *action;     /* Docker's: create, start, die, health_status: healthy, pull, tag, ... */
  char *actor;      /* the object's id (an image: its name or id, as Docker) */
  char *attributes; /* JSON object of strings */
};
void berth_db_events_free(struct berth_db_event *v, size_t n);
/* append one, in the caller's transaction or in its own */
int berth_db_event_add(struct berth_db *db, int64_t time, const char *type, const char *action,
                       const char *actor, const char *attributes, berth_error_t *err) BERTH_WUR;
/* events with seq > after and since <= time (since 0: no bound), oldest first, at most limit */
int berth_db_events(struct berth_db *db, int64_t after, int64_t since, size_t limit,
                    struct berth_db_event **out, size_t *n, berth_error_t *err) BERTH_WUR;
/* the newest seq (0: none yet) */
int berth_db_event_last(struct berth_db *db, int64_t *seq, berth_error_t *err) BERTH_WUR;
/* An inotify descriptor (non-blocking, close-on-exec) that becomes readable when any process
 * writes the catalogue (its write-ahead log or file changes): a follower waits on it in poll(2)
 * and reads the new rows, instead of polling the table. berth_db_watch_drain empties it. */
int berth_db_watch(struct berth_db *db, berth_error_t *err) BERTH_WUR;
void berth_db_watch_drain(int fd);

/* ---- compressed forms of layers a registry has (db_layers.c: layer_sources) ---- */
struct berth_db_layer_source {
  berth_digest_t diff_id;
  berth_digest_t digest; /* of the compressed blob */
  uint64_t size;
  char *media_type;
  char *repository; /* "registry/repo" it came from or went to */
};
void berth_db_layer_sources_free(struct berth_db_layer_source *v, size_t n);
/* insert or refresh */
int berth_db_layer_source_put(struct berth_db *db, const struct berth_db_layer_source *s,
                              berth_error_t *err) BERTH_WUR;
/* the known forms of a layer, newest first */
int berth_db_layer_sources(struct berth_db *db, const char *diff_id, struct berth_db_layer_source **out,
                           size_t *n, berth_error_t *err) BERTH_WUR;

/* ---- containers (issue 5; docs/design/containers.md) ---- */
#define BERTH_CTR_ID_LEN 64
typedef char berth_ctr_id_t[BERTH_CTR_ID_LEN + 1];

enum berth_ctr_state {
  BERTH_CTR_CREATED,
  BERTH_CTR_RUNNING,
  BERTH_CTR_PAUSED,
  BERTH_CTR_RESTARTING,
  BERTH_CTR_EXITED,
  BERTH_CTR_DEAD,
  BERTH_CTR_REMOVING,
};
/* "created", "running", ... (Docker's State.Status words) */
const char *berth_ctr_state_name(enum berth_ctr_state s);
/* -1 when unknown */
int berth_ctr_state_parse(const char *s);

struct berth_db_container {
  berth_ctr_id_t id; /* 64 hex */
  char *name;        /* unique, without Docker's leading "/" */
  berth_digest_t image_id;
  char *image;     /* the image as the user named it (ps's IMAGE column) */
  int64_t created; /* unix nanoseconds */
  enum berth_ctr_state state;
  int64_t pid; /* host pid of the container's init while running, else 0 */
  int64_t exit_code;
  bool oom_killed;
  char *error;         /* the last start error ("" when none) */
  int64_t started_at;  /* unix nanoseconds, 0: never */
  int64_t finished_at; /* unix nanoseconds, 0: never */
  int64_t restart_count;
  int64_t restart_delay_ms; /* the restart policy's current back-off */
  bool manual_stop;         /* stopped by stop/rm/restart: no automatic restart */
  char *runtime;            /* path of the OCI runtime */
  int64_t monitor_pid;      /* 0: no monitor */
  int64_t monitor_start;    /* the monitor's start time (/proc/<pid>/stat field 22): pid reuse guard */
  char *config;             /* JSON: Docker's Config of the container */
  char *host_config;        /* JSON: Docker's HostConfig (+ berth's own keys) */
};
void berth_db_container_release(struct berth_db_container *c);

struct berth_db_mount {
  char *type;        /* bind, volume, tmpfs */
  char *source;      /* host path (bind; volume: its mountpoint), "" for tmpfs */
  char *destination; /* path in the container */
  char *volume;      /* volume name ("" unless type volume) */
  char *mode;        /* Docker's Mode ("ro", "z", ...), "" when none */
  bool rw;
  char *propagation; /* "rprivate", ... or "" */
};
void berth_db_mounts_free(struct berth_db_mount *m, size_t n);

/* Insert a container (and its mounts), adding one to the refcount of every layer of its image.
 * A name in use: error "conflict: the container name `/x` is already in use by container <id>". */
int berth_db_container_put(struct berth_db *db, const struct berth_db_container *c,
                           const struct berth_db_mount *mounts, size_t nmounts, berth_error_t *err) BERTH_WUR;
/* 1 found, 0 absent */
int berth_db_container_get(struct berth_db *db, const char *id, struct berth_db_container *out,
                           berth_error_t *err) BERTH_WUR;
/* Docker's lookup order: exact id, exact name (a leading "/" ignored), then id prefix. ids gets
 * every match of the first rule that matched (more than one only for an ambiguous prefix). */
int berth_db_container_find(struct berth_db *db, const char *what, char ***ids, berth_error_t *err) BERTH_WUR;
/* every container, newest first */
int berth_db_container_list(struct berth_db *db, struct berth_db_container **out, size_t *n,
                            berth_error_t *err) BERTH_WUR;
void berth_db_container_list_free(struct berth_db_container *v, size_t n);
/* Write the mutable columns (name, state, pid, exit_code, oom_killed, error, started_at,
 * finished_at, restart_count, restart_delay_ms, manual_stop, monitor_pid, monitor_start) of c.
 * 1 updated, 0 absent. */
int berth_db_container_update(struct berth_db *db, const struct berth_db_container *c,
                              berth_error_t *err) BERTH_WUR;
/* the HostConfig JSON (`berth update`); 1 updated, 0 absent */
int berth_db_container_set_host_config(struct berth_db *db, const char *id, const char *host_config,
                                       berth_error_t *err) BERTH_WUR;
/* Delete the row and its mounts, subtracting one from its image's layers' refcounts. 1/0 */
int berth_db_container_delete(struct berth_db *db, const char *id, berth_error_t *err) BERTH_WUR;
int berth_db_container_mounts(struct berth_db *db, const char *id, struct berth_db_mount **out, size_t *n,
                              berth_error_t *err) BERTH_WUR;
/* is this name taken (1) or free (0) */
int berth_db_container_name_used(struct berth_db *db, const char *name, berth_error_t *err) BERTH_WUR;

/* ---- volumes (the skeleton of issue 5: rows for the volumes containers create; the volume
 * commands fill in the rest) ---- */
/* insert; 1 inserted, 0 the name exists (row kept) */
int berth_db_volume_put(struct berth_db *db, const char *name, int64_t created, const char *labels_json,
                        const char *mountpoint, berth_error_t *err) BERTH_WUR;
/* 1 found (mountpoint and labels_json malloc'd, either may be NULL), 0 absent */
int berth_db_volume_get(struct berth_db *db, const char *name, char **mountpoint, char **labels_json,
                        berth_error_t *err) BERTH_WUR;
/* containers whose mounts use the volume */
int berth_db_volume_users(struct berth_db *db, const char *name, int64_t *n, berth_error_t *err) BERTH_WUR;
/* 1 deleted, 0 absent (a volume in use cannot be deleted: foreign key error) */
int berth_db_volume_delete(struct berth_db *db, const char *name, berth_error_t *err) BERTH_WUR;

/* ---- volumes, the rest (db_volumes.c: the volume commands) ---- */
struct berth_db_volume {
  char *name;
  char *driver;
  int64_t created; /* unix seconds */
  char *labels;    /* JSON object */
  char *options;   /* JSON object */
  char *mountpoint;
  int64_t users; /* containers whose mounts use it */
};
void berth_db_volume_release(struct berth_db_volume *v);
/* 1 found, 0 absent */
int berth_db_volume_find(struct berth_db *db, const char *name, struct berth_db_volume *out,
                         berth_error_t *err) BERTH_WUR;
/* every volume, by name */
int berth_db_volume_list(struct berth_db *db, struct berth_db_volume **out, size_t *n,
                         berth_error_t *err) BERTH_WUR;
void berth_db_volume_list_free(struct berth_db_volume *v, size_t n);
/* ids of the containers using the volume, sorted */
int berth_db_volume_user_ids(struct berth_db *db, const char *name, char ***ids,
                             berth_error_t *err) BERTH_WUR;

/* ---- networks (db_networks.c; docs/design/networking.md) ---- */
#define BERTH_NETWORK_ID_LEN 64
typedef char berth_network_id_t[BERTH_NETWORK_ID_LEN + 1];

struct berth_db_network {
  berth_network_id_t id;
  char *name;
  char *driver;                         /* "bridge" */
  char *bridge;                         /* the link's name, unique */
  char *subnet, *gateway, *ip_range;    /* IPv4, "" when none */
  char *subnet6, *gateway6, *ip_range6; /* IPv6, "" when none */
  bool internal;
  bool dns;          /* names resolved by a resolver on the gateway (user networks) */
  int64_t mtu;       /* 0: the kernel's default */
  char *dns_servers; /* upstreams of its resolver, space-separated ("" : the host's) */
  int64_t created;   /* unix nanoseconds */
  char *labels;      /* JSON object */
  char *options;     /* JSON object (-o) */
};
void berth_db_network_release(struct berth_db_network *n);
void berth_db_network_list_free(struct berth_db_network *v, size_t n);
/* Insert; a name or bridge in use: "network with name `x` already exists". */
int berth_db_network_put(struct berth_db *db, const struct berth_db_network *n, berth_error_t *err) BERTH_WUR;
/* 1 found, 0 absent */
int berth_db_network_get(struct berth_db *db, const char *id, struct berth_db_network *out,
                         berth_error_t *err) BERTH_WUR;
/* exact id, exact name, then id prefix (as containers) */
int berth_db_network_find(struct berth_db *db, const char *what, char ***ids, berth_error_t *err) BERTH_WUR;
/* every network, by name */
int berth_db_network_list(struct berth_db *db, struct berth_db_network **out, size_t *n,
                          berth_error_t *err) BERTH_WUR;
/* 1 deleted, 0 absent */
int berth_db_network_delete(struct berth_db *db, const char *id, berth_error_t *err) BERTH_WUR;
/* ids of the containers attached to the network, sorted */
int berth_db_network_users(struct berth_db *db, const char *id, char ***ids, berth_error_t *err) BERTH_WUR;

/* a container's membership of a network, with what was asked for it */
struct berth_db_attachment {
  berth_ctr_id_t container_id;
  berth_network_id_t network_id;
  int64_t idx;          /* order: the container's eth<idx>... (connect appends) */
  char *aliases;        /* --network-alias, space-separated */
  char *ip, *ip6, *mac; /* --ip, --ip6, --mac-address ("" when not asked) */
};
void berth_db_attachments_free(struct berth_db_attachment *v, size_t n);
/* Insert; the container attached already: "container `x` is already connected to network `y`". */
int berth_db_attachment_put(struct berth_db *db, const struct berth_db_attachment *a,
                            berth_error_t *err) BERTH_WUR;
/* 1 deleted, 0 absent */
int berth_db_attachment_delete(struct berth_db *db, const char *container_id, const char *network_id,
                               berth_error_t *err) BERTH_WUR;
/* the container's, by idx */
int berth_db_attachments_of(struct berth_db *db, const char *container_id, struct berth_db_attachment **out,
                            size_t *n, berth_error_t *err) BERTH_WUR;

/* an address in use, while the container's networking is set up */
struct berth_db_lease {
  berth_network_id_t network_id;
  char *address;
  berth_ctr_id_t container_id;
  char *ifname;  /* in the container: "eth0" */
  char *host_if; /* the veth's end on the bridge */
  char *mac;
  int64_t created;
};
void berth_db_leases_free(struct berth_db_lease *v, size_t n);
/* Insert; the address leased already: "address `a` is already in use on network `id`". */
int berth_db_lease_put(struct berth_db *db, const struct berth_db_lease *l, berth_error_t *err) BERTH_WUR;
/* by network, container or every lease (both NULL), ordered by container, interface, address */
int berth_db_leases(struct berth_db *db, const char *network_id, const char *container_id,
                    struct berth_db_lease **out, size_t *n, berth_error_t *err) BERTH_WUR;
/* the container's leases (of one network, or all with network_id NULL); the number deleted */
int berth_db_leases_delete(struct berth_db *db, const char *container_id, const char *network_id,
                           berth_error_t *err) BERTH_WUR;

/* a published port, its host port resolved */
struct berth_db_port {
  berth_ctr_id_t container_id;
  char *host_ip; /* "" every address */
  int64_t host_port, container_port;
  char *proto; /* tcp, udp, sctp */
};
void berth_db_ports_free(struct berth_db_port *v, size_t n);
int berth_db_port_put(struct berth_db *db, const struct berth_db_port *p, berth_error_t *err) BERTH_WUR;
/* the container's (container_id) or every one (NULL), by host port */
int berth_db_ports(struct berth_db *db, const char *container_id, struct berth_db_port **out, size_t *n,
                   berth_error_t *err) BERTH_WUR;
int berth_db_ports_delete(struct berth_db *db, const char *container_id, berth_error_t *err) BERTH_WUR;

#endif
