/* The container's cgroup, as the lifecycle commands see it. Internal to runtime/. */
#ifndef BERTH_RUNTIME_CGROUPS_H
#define BERTH_RUNTIME_CGROUPS_H

#include <stdbool.h>
#include <sys/types.h>

#include "base/error.h"
#include "cgroup/cgroup.h"
#include "oci/spec.h"
#include "runtime/container.h"

/* where root notes the parent cgroup levels it makes, for every runtime root: outside all of
 * them (a runtime root elsewhere leaves nothing in /run/berth), made in /run when needed and
 * gone with its last note */
#define BERTH_CGROUP_NOTES_DIR "/run/berth-cgroup-parents"

/* Create the container's cgroup for pid, apply linux.resources (with runc's default device
 * rules) and log every warning. kind: BERTH_CGROUP_CGROUPFS / SYSTEMD / DISABLED. The levels
 * above the container's cgroup that it makes are noted (BERTH_CGROUP_NOTES_DIR as root, else
 * <root>/.cgroup-parents), so that the last container under one removes it, whichever runtime
 * root it belongs to (berth_cgroup_config.parents_dir). */
int berth_container_cgroup_setup(const berth_spec_t *spec, enum berth_cgroup_kind kind, const char *root,
                                 const char *id, bool rootless, pid_t pid, berth_cgroup_manager_t **out,
                                 berth_error_t *err) BERTH_WUR;
/* Reopen the cgroup recorded in state.json; *out is NULL for a container without one. */
int berth_container_cgroup_open(const struct berth_container *c, berth_cgroup_manager_t **out,
                                berth_error_t *err) BERTH_WUR;
/* linux.resources with the default device rules spliced in (what create applies) */
int berth_cgroup_apply_spec(berth_cgroup_manager_t *m, const berth_spec_t *spec,
                            berth_error_t *err) BERTH_WUR;

#endif
