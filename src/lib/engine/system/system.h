/* `berth system`: what looks across every room of the engine — disk usage (df) and the store
 * checked against the catalogue (check). The top room: it may call containers, images and
 * volumes; nothing calls it but the commands. */
#ifndef BERTH_ENGINE_SYSTEM_SYSTEM_H
#define BERTH_ENGINE_SYSTEM_SYSTEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/error.h"
#include "engine/engine.h"

struct berth_df_row {
  const char *type; /* "Images", "Containers", "Local Volumes", "Build Cache" */
  uint64_t total, active, size, reclaimable;
};
/* four rows in Docker's order; image space is counted once per layer and blob */
int berth_system_df(struct berth_engine *e, struct berth_df_row rows[4], berth_error_t *err) BERTH_WUR;

/* Compare files and rows (under the exclusive store lock): blobs and layer dirs without rows,
 * rows without files, wrong sizes, refcounts, unreferenced rows, leftovers in tmp/, and the
 * containers' part (berth_ctr_check). With repair, fix what can be fixed (orphans
 * removed, refcounts recomputed, unreferenced rows dropped). */
int berth_system_check(struct berth_engine *e, bool repair, struct berth_check_problem **problems, size_t *n,
                       berth_error_t *err) BERTH_WUR;

/* `system check --layers`: every layer's tar rebuilt (or decompressed) and its digest compared
 * with its diff id; a problem per layer that does not give it back (nothing to repair) */
int berth_system_verify_layers(struct berth_engine *e, struct berth_check_problem **problems, size_t *n,
                               berth_error_t *err) BERTH_WUR;

/* `system prune`: stopped containers, unused networks, unused anonymous volumes (volumes),
 * dangling images (all: every unused image); until (unix ns) and labels ("k", "k=v", "!k[=v]")
 * filter them as Docker's --filter does (until is refused with volumes, as Docker does) */
struct berth_system_prune_opts {
  bool all, volumes;
  int64_t until;
  char *const *labels;
};
struct berth_system_prune_result {
  char **containers, **networks, **volumes,
    **images; /* images: Docker's "untagged: x" / "deleted: y" lines */
  uint64_t reclaimed;
};
int berth_system_prune(struct berth_engine *e, const struct berth_system_prune_opts *o,
                       struct berth_system_prune_result *res, berth_error_t *err) BERTH_WUR;
void berth_system_prune_result_release(struct berth_system_prune_result *r);

/* `system boot`: start every container whose restart policy asks for it after a reboot (see
 * berth_system_boot_wanted) and that is not running; under a lock, so that a second run at the
 * same time or after starts nothing twice. *started: their names; *failed: "name: error" */
int berth_system_boot(struct berth_engine *e, char ***started, char ***failed, berth_error_t *err) BERTH_WUR;
/* `always`, or `unless-stopped` not stopped by hand (pure) */
bool berth_system_boot_wanted(const char *policy, bool manual_stop);
/* `berth generate systemd`: a unit (Type=forking, PIDFile the container's pid file) that starts and
 * stops the container with this store's berth */
struct berth_unit_opts {
  const char *berth;   /* the berth program's path */
  bool use_name;       /* --name: the container's name in the unit, not its id */
  const char *restart; /* --restart-policy (NULL: on-failure, or no when the container has a policy) */
  int stop_timeout;    /* --time, seconds */
};
int berth_system_unit(struct berth_engine *e, const char *what, const struct berth_unit_opts *o, char **out,
                      berth_error_t *err) BERTH_WUR;

/* Docker's Info (`berth info`, `--format '{{json .}}'`): counts, store, host, cgroups (new
 * reference, NULL on error) */
json_t *berth_system_info(struct berth_engine *e, berth_error_t *err) BERTH_WUR;
/* Docker's Version: {"Client": {...}, "Server": {...}}; runtime_version and commit (of the build):
 * berth-runtime's `--version`, or NULL */
json_t *berth_system_version(const char *runtime_version, const char *commit);

#endif
