/* Volumes (issue 5): named directories, <root>/volumes/<name>/_data (Docker's local driver), one
 * row each in the catalogue's `volumes` table. Containers' mounts refer to them by name, so a
 * volume in use cannot be removed. Docker's `volume create ls inspect rm prune`, and the
 * get-or-create of `run -v name:/path`, which fills a new, empty volume with what the image has
 * at that path.
 *
 * Order (docs/design/catalogue.md): creating, the directory first and the row second; removing,
 * the row first (in the transaction that checks nobody uses it) and the directory after. */
#ifndef BERTH_ENGINE_VOLUMES_VOLUMES_H
#define BERTH_ENGINE_VOLUMES_VOLUMES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "engine/catalogue/catalogue.h"
#include "engine/engine.h"

/* the label that marks a volume made for one container (`rm -v` and `volume prune` take it) */
#define BERTH_VOLUME_ANONYMOUS_LABEL "com.docker.volume.anonymous"

struct berth_volume_create_in {
  const char *name;    /* NULL: a random 64-hex-digit name */
  const char *driver;  /* NULL or "local" (the only driver) */
  char *const *labels; /* "k=v" or "k" (value ""), the last of a key wins */
  char *const *opts;   /* driver options: the local driver here takes none (an error) */
};
/* Create, or find one of that name (Docker: then nothing changes). *name_out: its name. */
int berth_volume_create(struct berth_engine *e, const struct berth_volume_create_in *in, char **name_out,
                        berth_error_t *err) BERTH_WUR;
/* Docker's `volume inspect` object of a volume row (new reference) */
json_t *berth_volume_json(const struct berth_db_volume *v);
/* "no such volume: `x`" when absent */
int berth_volume_get(struct berth_engine *e, const char *name, struct berth_db_volume *out,
                     berth_error_t *err) BERTH_WUR;
/* Remove an unused volume (in use: "volume is in use - [<ids>]", even with force); force: a
 * missing one is not an error. */
int berth_volume_remove(struct berth_engine *e, const char *name, bool force, berth_error_t *err) BERTH_WUR;
/* Remove unused volumes matching the label filters ("k", "k=v", "!k", "!k=v"): the anonymous
 * ones only, unless all (Docker 23+). *removed: names; *reclaimed: bytes. */
int berth_volumes_prune(struct berth_engine *e, bool all, char *const *labels, char ***removed,
                        uint64_t *reclaimed, berth_error_t *err) BERTH_WUR;

/* `volume ls --filter`: dangling=true|false, name=<substring>, label=k[=v], driver=<name>; one
 * key several times: any of them, different keys: all of them. check: the filters' syntax. */
int berth_volume_filter_check(char *const *filters, berth_error_t *err) BERTH_WUR;
bool berth_volume_filter_match(const struct berth_db_volume *v, char *const *filters);

/* What berth_volume_prepare made for a volume that had no row. */
struct berth_volume_new {
  bool created;  /* it had no row: the caller adds it in the transaction that adds the container's
                    (berth_volume_put_row), or drops the directory (berth_volume_drop_new) */
  bool made_dir; /* its directory was made here (else another create in flight may own it) */
  int lock;      /* a shared flock on <root>/volumes/<name> while the create is in flight, which
                    `system check` respects; -1 when none */
};

/* For a container's volume mount (run -v name:/path, --mount type=volume, the image's VOLUME):
 * the volume's mountpoint, making the volume's directory when it has no row (name NULL: an
 * anonymous one, a random name). Unless nocopy, an empty volume is filled with what img has at
 * path (read from its layers, inside their root), owners, modes and times kept, the volume's
 * directory taking the image directory's owner and mode — Docker's copy-up. img NULL: no copy.
 * A create killed before its transaction leaves a directory without a row, which `system
 * check` removes once it is unlocked and a minute old. */
int berth_volume_prepare(struct berth_engine *e, const char *name, const struct berth_db_image *img,
                         const char *path, bool nocopy, char **name_out, char **mountpoint,
                         struct berth_volume_new *nv, berth_error_t *err) BERTH_WUR;
/* A failed create's new volume: its directory removed if it made it and no row names it
 * (another create may have added the row since); the lock released. */
void berth_volume_drop_new(struct berth_engine *e, const char *name, struct berth_volume_new *nv);
/* The row of a volume whose directory is made, in the caller's transaction (labels: Docker's
 * anonymous label or none): 1 added, 0 it existed (another create added it first). */
int berth_volume_put_row(struct berth_engine *e, const char *name, bool anonymous,
                         berth_error_t *err) BERTH_WUR;
/* <root>/volumes/<name>/_data made (with its parents); *made: <name> was not there before;
 * *lock (when not NULL): a shared flock on <root>/volumes/<name>, or -1 */
int berth_volume_make_dir(struct berth_engine *e, const char *name, char **mountpoint, bool *made, int *lock,
                          berth_error_t *err) BERTH_WUR;
/* a volume name Docker accepts */
int berth_volume_name_check(const char *name, berth_error_t *err) BERTH_WUR;

#endif
