/* `berth system`: what looks across every room of the engine — disk usage (df) and the store
 * checked against the catalogue (check). The top room: it may call containers, images and
 * volumes; nothing calls it but the commands. */
#ifndef BERTH_ENGINE_SYSTEM_SYSTEM_H
#define BERTH_ENGINE_SYSTEM_SYSTEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

#endif
