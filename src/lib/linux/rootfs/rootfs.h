/* The container's filesystem setup: the mount plan's executor (linux/rootfs/, a room of
 * linux; docs/design/runtime.md, "The mount plan"). Runs in the container process. */
#ifndef BERTH_LINUX_ROOTFS_H
#define BERTH_LINUX_ROOTFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"
#include "linux/mount_plan/mount_plan.h"
#include "oci/spec.h"

/* Everything the container's filesystem setup needs. Runs in the container process,
 * inside its new mount namespace, before and after pivot_root. */
struct berth_rootfs_ctx {
  const berth_spec_t *spec;
  const char *rootfs;           /* absolute, symlinks resolved */
  bool in_userns;               /* new user namespace: devices are bind-mounted, not mknod'ed */
  bool no_pivot;                /* --no-pivot: MS_MOVE + chroot */
  int console_fd;               /* pty slave to bind on /dev/console, or -1 */
  int rootfs_fd;                /* filled by prepare: O_PATH fd of the rootfs mount */
  struct berth_mount_plan plan; /* made by prepare (zero before), run by prepare and finalize */
  /* called before a cgroup/cgroup2 mount (may be NULL): waits until the process is in its
   * own cgroup, which the runtime creates while the filesystem is being set up */
  int (*wait_cgroup)(void *data, berth_error_t *err);
  void *wait_cgroup_data;
  /* called for a bind the container process cannot make itself (may be NULL: it tries
   * alone): an idmapped one, or in a user namespace one whose source it may not open. Asks
   * the runtime for berth_rootfs_host_tree(op->index, op->flags) and returns that tree. */
  int (*host_tree)(void *data, const struct berth_mount_op *op, berth_error_t *err);
  void *host_tree_data;
};

/* Makes the mount plan (every check of the config before the first mount), then runs its
 * part before pivot: propagation of /, bind rootfs, spec mounts in order, /dev devices and
 * links, /dev/console. */
int berth_rootfs_prepare(struct berth_rootfs_ctx *ctx, berth_error_t *err) BERTH_WUR;
/* pivot_root into the rootfs (or move+chroot) and detach the old root. */
int berth_rootfs_pivot(struct berth_rootfs_ctx *ctx, berth_error_t *err) BERTH_WUR;
/* After pivot, the rest of the plan: read-only and masked paths, read-only /dev and root,
 * rootfsPropagation. */
int berth_rootfs_finalize(struct berth_rootfs_ctx *ctx, berth_error_t *err) BERTH_WUR;
/* The runtime's side of a bind the container process of `pid` cannot make (rootfs_host.c):
 * as root on the host, a detached copy of the tree at m->source as that process sees it
 * (resolved in its mount namespace, from its working directory), recursive with
 * BERTH_MOUNT_F_RECURSIVE, idmapped with BERTH_MOUNT_F_IDMAP: with the container's user
 * namespace (BERTH_MOUNT_F_OWN_USERNS) or one made for m's mappings (host ids). The process
 * attaches it. Needs root: a user namespace's root may neither open what the host's root
 * keeps from it (a directory of mode 000) nor idmap a filesystem it does not own, and in a
 * pid namespace the process cannot even name its helper's /proc/<pid>/uid_map. */
int berth_rootfs_host_tree(pid_t pid, const struct berth_spec_mount *m, unsigned flags,
                           berth_error_t *err) BERTH_WUR;
/* Closes rootfs_fd and frees the plan (prepare sets rootfs_fd to -1 first, so release is
 * safe after a failed prepare; before prepare, set rootfs_fd = -1 yourself). */
void berth_rootfs_ctx_release(struct berth_rootfs_ctx *ctx);

#endif
