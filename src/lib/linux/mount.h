/* Mount options (pure parser) and the container's filesystem setup.
 *
 * berth_mount_opts_parse turns runtime-spec mount options into mount(2) flags, propagation,
 * mount_setattr(2) recursive attributes and the fs-specific data string. */
#ifndef BERTH_LINUX_MOUNT_H
#define BERTH_LINUX_MOUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "linux/mount_plan.h"
#include "oci/spec.h"

struct berth_mount_opts {
  unsigned long flags;       /* MS_* to set (MS_BIND, MS_REC, MS_RDONLY, MS_NOSUID, ...) */
  unsigned long clear;       /* MS_* explicitly cleared ("rw", "suid", "dev", "exec", ...) */
  unsigned long propagation; /* MS_SHARED|MS_SLAVE|MS_PRIVATE|MS_UNBINDABLE (+MS_REC) or 0 */
  uint64_t attr_set;         /* MOUNT_ATTR_* applied recursively (rro, rnosuid, ...) */
  uint64_t attr_clr;
  bool recursive_attrs; /* attr_set/attr_clr given: mount_setattr(AT_RECURSIVE) */
  bool idmap, ridmap;   /* idmapped bind mount (recursive for ridmap) */
  bool tmpcopyup;       /* copy the underlying dir into a new tmpfs */
  char *data;           /* remaining options joined by ',' (may be NULL) */
};
/* Option semantics: options apply left to right and a later one overrides an earlier one
 * ("ro,rw" is rw; the last propagation option wins), except that recursion only adds up:
 * "rbind" anywhere makes the bind recursive ("rbind,bind" too, as runc and crun OR the flags).
 * `flags` and `clear` never share a bit. Of noatime/relatime/strictatime at most one is in
 * `flags`. "ridmap" sets both idmap and ridmap. The recursive atime options set the
 * MOUNT_ATTR__ATIME bits in attr_clr and the chosen mode in attr_set; their negations
 * (ratime, rnorelatime, rnostrictatime) select relatime, the kernel default.
 * Errors: a NULL or empty option, a control character, "idmap=<...>" (use the mount's
 * uidMappings/gidMappings), fs data longer than a page allows. */

int berth_mount_opts_parse(const char *const *options, size_t n, struct berth_mount_opts *out,
                           berth_error_t *err) BERTH_WUR;
/* The same; on failure *failed is the index of the option at fault (n: the array itself). */
int berth_mount_opts_parse_at(const char *const *options, size_t n, struct berth_mount_opts *out,
                              size_t *failed, berth_error_t *err) BERTH_WUR;
void berth_mount_opts_release(struct berth_mount_opts *o);
/* MS_* set and cleared → MOUNT_ATTR_* set and cleared (per-mount flags only; atime as
 * mount_setattr expects it), added to *set and *clr. */
void berth_mount_ms_to_attr(unsigned long set_ms, unsigned long clr_ms, uint64_t *set, uint64_t *clr);

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
/* Closes rootfs_fd and frees the plan (prepare sets rootfs_fd to -1 first, so release is
 * safe after a failed prepare; before prepare, set rootfs_fd = -1 yourself). */
void berth_rootfs_ctx_release(struct berth_rootfs_ctx *ctx);

/* Is the fd on a procfs? (CVE-2019-16884: check before writing through /proc)
 * Returns 1 when it is, 0 when it is not, < 0 when fstatfs fails. */
int berth_fd_is_procfs(int fd, berth_error_t *err) BERTH_WUR;

/* Does the config bind-mount /dev from the host (then no devices are created)? */
bool berth_rootfs_binds_dev(const berth_spec_t *spec);

#endif
