/* Private to the rootfs setup, the mount plan's executor (rootfs*.c, devices.c, masked.c). */
#ifndef BERTH_LINUX_ROOTFS_ROOTFS_INTERNAL_H
#define BERTH_LINUX_ROOTFS_ROOTFS_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "linux/rootfs/rootfs.h"

/* One planned config mount being executed. op->what names it in every error:
 * "mount `tmpfs` on `/dev/shm` (mounts[3])". */
struct rootfs_job {
  struct berth_rootfs_ctx *ctx;
  const struct berth_mount_op *op;
  int dstfd; /* destination resolved in the rootfs (O_PATH, or a regular file) */
};

/* A detached-tree bind: clone `srcfd` (recursively), set attributes, attach on `dstfd`. */
struct rootfs_bind {
  bool recursive;
  uint64_t set, clr;   /* MOUNT_ATTR_* on the top mount */
  uint64_t rset, rclr; /* MOUNT_ATTR_* on every mount of the tree */
  int userns_fd;       /* >= 0: idmap with this user namespace */
  bool ridmap;         /* idmap the whole tree, not only the top */
  bool detached;       /* srcfd is a detached tree already (the runtime's): attach it as it is */
};

/* rootfs_util.c */
/* Destination `path` inside the rootfs: a directory (created with parents) or, when
 * `dir` is false, a regular file created empty if missing. Never leaves the root. */
int rootfs_open_dest(int rootfd, const char *path, bool dir, berth_error_t *err) BERTH_WUR;
/* Reopen `path` in the root after something was mounted on `oldfd`; fails when the
 * result is not a different mount (the destination moved under us). */
int rootfs_reopen_mounted(int rootfd, const char *path, int oldfd, berth_error_t *err) BERTH_WUR;
/* Returns the attached mount's fd (or -1 with errno set; `step` names what failed). */
int rootfs_bind_fd(int srcfd, int dstfd, const struct rootfs_bind *b, const char **step);
/* mount(2) onto an fd through /proc/self/fd (-1 and errno on failure). */
/* After a mount with fs-specific options (data) failed: which option the filesystem refuses
 * and why, from its fs_context log ("option `size=bogus`: tmpfs: Bad value for 'size'"); NULL
 * when every option passes alone or nothing can be said. */
char *rootfs_explain_data(const char *type, const char *data);
int rootfs_mount_on_fd(const char *src, int dstfd, const char *type, unsigned long flags, const char *data);
/* mount_setattr(2) on an fd's mount (recursive or not); no-op when nothing changes. */
int rootfs_setattr_fd(int fd, bool recursive, uint64_t set, uint64_t clr, uint64_t propagation);
/* Set propagation (MS_SHARED... with optional MS_REC) on an attached mount fd. */
int rootfs_propagate_fd(int fd, unsigned long propagation);
/* The path of fd relative to the rootfs ("/proc/cpuinfo"); NULL when outside it. */
char *rootfs_fd_path_in_root(const struct berth_rootfs_ctx *ctx, int fd);

/* One line of /proc/self/mountinfo (mount point unescaped). */
struct rootfs_mountinfo {
  int id;
  char *mountpoint;
  char *fstype;
  char *superopts;
  bool shared;
};
int rootfs_mountinfo_read(struct rootfs_mountinfo **out, size_t *n, berth_error_t *err) BERTH_WUR;
void rootfs_mountinfo_free(struct rootfs_mountinfo *v, size_t n);

/* rootfs_mounts.c: BIND, REMOUNT_BIND, MOUNT_TYPED and MOUNT_CGROUP ops */
int rootfs_mount_op(struct berth_rootfs_ctx *ctx, const struct berth_mount_op *op,
                    berth_error_t *err) BERTH_WUR;

/* rootfs_cgroup.c: mount a cgroup filesystem for the container on job->dstfd; returns
 * the fd of the top mount (for propagation and recursive attributes). */
int rootfs_mount_cgroup(struct rootfs_job *job, berth_error_t *err) BERTH_WUR;

/* rootfs_copy.c: copy the contents of directory `srcfd` into directory `dstfd`
 * (tmpcopyup): files, directories, symlinks, device nodes; owners, modes, times. */
int rootfs_copy_tree(int srcfd, int dstfd, berth_error_t *err) BERTH_WUR;

/* rootfs_idmap.c: a user namespace fd with these mappings (written by us from a
 * short-lived child). */
int rootfs_userns_for_mappings(const struct berth_spec_mount *m, berth_error_t *err) BERTH_WUR;

/* devices.c: MKNOD_DEVICE and BIND_DEVICE ops; SYMLINK ops (*devfd: /dev in the rootfs,
 * opened by the first link and kept for the next); BIND_CONSOLE */
int rootfs_device_op(struct berth_rootfs_ctx *ctx, const struct berth_mount_op *op,
                     berth_error_t *err) BERTH_WUR;
int rootfs_symlink_op(struct berth_rootfs_ctx *ctx, const struct berth_mount_op *op, int *devfd,
                      berth_error_t *err) BERTH_WUR;
int rootfs_setup_console(struct berth_rootfs_ctx *ctx, berth_error_t *err) BERTH_WUR;

/* masked.c, after pivot (rootfd: "/"): READONLY_PATH and MASK_PATH ops (*nullfd: the
 * verified /dev/null, opened by the first masked file and kept for the next) */
int rootfs_readonly_path(int rootfd, const char *path, berth_error_t *err) BERTH_WUR;
int rootfs_masked_path(int rootfd, int *nullfd, const char *path, berth_error_t *err) BERTH_WUR;
/* O_PATH fd of /dev/null in the root, verified to be the 1:3 character device. */
int rootfs_open_dev_null(int rootfd, berth_error_t *err) BERTH_WUR;

#endif
