/* The engine handle: the content store (image/store.h), the catalogue (engine/catalogue/catalogue.h) and the
 * store lock, opened once per `berth` command.
 *
 * The store lock (<root>/engine.lock, flock): commands that add files (import, load) hold it
 * shared for their whole run; removing files (rmi and prune after their commit, the cleanup of a
 * failed load, system check) takes it exclusive. So a file another command has written but not
 * yet recorded is never mistaken for an orphan, and a layer a load decided to reuse cannot vanish
 * before the load records it. */
#ifndef BERTH_ENGINE_ENGINE_H
#define BERTH_ENGINE_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"
#include "engine/catalogue/catalogue.h"
#include "image/layer.h"
#include "image/store.h"

#define BERTH_ENGINE_DEFAULT_ROOT    "/var/lib/berth"
#define BERTH_ENGINE_DEFAULT_RUNROOT "/run/berth-engine"

struct berth_engine_opts {
  const char *root;                 /* NULL: $BERTH_ROOT or /var/lib/berth */
  const char *runroot;              /* NULL: $BERTH_RUNROOT or /run/berth-engine */
  struct berth_layer_limits limits; /* decompression caps for layers and archives (0: defaults) */
  int db_timeout_ms;                /* busy timeout (0: 60 s) */
};

struct berth_engine {
  char *root;
  char *runroot;
  struct berth_store *store;
  struct berth_db *db;
  int lockfd;
  int lock_held; /* 0, LOCK_SH or LOCK_EX */
  struct berth_layer_limits limits;
};

int berth_engine_open(const struct berth_engine_opts *o, struct berth_engine **out,
                      berth_error_t *err) BERTH_WUR;
void berth_engine_close(struct berth_engine *e);

/* flock the store lock shared or exclusive (waits); re-locking converts */
int berth_engine_lock(struct berth_engine *e, bool exclusive, berth_error_t *err) BERTH_WUR;
void berth_engine_unlock(struct berth_engine *e);

/* Resolve what the user typed, as Docker does: a full or short image ID ("sha256:" optional) or
 * a reference (normalized: busybox -> docker.io/library/busybox:latest; name@digest through the
 * repo digests). id receives the image ID; tag (may be NULL) the normalized tag name when the
 * input was a tag reference, else NULL. "no such image: `x`" when nothing matches. */
int berth_engine_resolve(struct berth_engine *e, const char *what, berth_digest_t id, char **tag,
                         berth_error_t *err) BERTH_WUR;

/* Remove files nobody refers to any more (their rows are gone): takes the lock exclusive, checks
 * each candidate again under it (a concurrent load may have recorded it meanwhile), removes. */
int berth_engine_remove_unreferenced(struct berth_engine *e, char *const *layers, char *const *blobs,
                                     uint64_t *freed, berth_error_t *err) BERTH_WUR;

/* Size of a directory tree as Docker's DiffSize counts it: bytes of every non-directory entry,
 * hard links once; never crosses a mount point. */
int berth_engine_dir_size(const char *path, uint64_t *size, berth_error_t *err) BERTH_WUR;

/* now, unix nanoseconds (CLOCK_REALTIME) */
int64_t berth_engine_now(void);
/* Record that something happened, as Docker's events say it: type container, image, volume or
 * network; action (create, start, die, pull, ...); the object's id; attributes as "key", "value"
 * pairs, NULL-terminated (name, image, exitCode, ...). In the caller's transaction when one is
 * open. An event is a record of the past: failing to write it is a warning, never the failure
 * of what happened (engine_events.c; `berth events` reads them: engine/events/events.h). */
void berth_engine_event(struct berth_engine *e, const char *type, const char *action, const char *actor,
                        const char *const *attrs);

/* a problem `system check` found; every room's check appends its own (engine/system/system.h) */
struct berth_check_problem {
  char *what; /* "orphan blob `sha256:...`: file without catalogue row" */
  bool repairable;
  bool repaired;
};
void berth_check_problems_free(struct berth_check_problem *p, size_t n);

/* Docker's rule for container and volume names: [a-zA-Z0-9][a-zA-Z0-9_.-]+ with an optional
 * leading "/" */
bool berth_engine_name_valid(const char *name);
/* 64 random lower-case hex digits, never all digits (so a prefix cannot be read as a number):
 * container ids, anonymous volumes' names */
void berth_engine_new_id(berth_ctr_id_t id);

#endif
