/* The executor of the mount plan's config mounts: bind mounts as detached trees (open_tree +
 * mount_setattr + move_mount), everything else with mount(2) onto the destination fd.
 * Destinations are always resolved inside the rootfs (CVE-2021-30465); the checks that need
 * the resolved destination are made here, the config's own in the plan (mount_plan.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/strutil.h"
#include "linux/rootfs/rootfs_internal.h"

/* runc's checkProcMount: nothing may be mounted over /proc/<x> except a few entries, and
 * only procfs on /proc itself. The plan refused what the config alone shows; this uses
 * where the destination really resolved. */
static BERTH_WUR int check_proc_dest(struct rootfs_job *j, int srcfd, berth_error_t *err)
{
  const char *what = j->op->what;
  cleanup_free char *p = rootfs_fd_path_in_root(j->ctx, j->dstfd);
  if (p == NULL)
    return BERTH_ERR(err, "%s: destination resolves outside the container root", what);
  if (strcmp(p, "/proc") == 0) {
    if (srcfd < 0 && (j->op->flags & BERTH_MOUNT_F_PROCFS))
      return 0;
    if (srcfd >= 0) {
      int r = berth_fd_is_procfs(srcfd, err);
      if (r < 0)
        return berth_error_wrap(err, "%s", what);
      if (r == 1)
        return 0;
    }
    return BERTH_ERR(err, "%s: only procfs may be mounted on `/proc`", what);
  }
  if (!berth_str_has_prefix(p, "/proc/") || berth_mount_proc_allowed(p))
    return 0;
  return BERTH_ERR(err, "%s: `%s` is inside /proc, which is not allowed", what, p);
}

/* proc and sysfs never go on a symlink (runc refuses them too) */
static BERTH_WUR int refuse_symlink_dest(struct rootfs_job *j, berth_error_t *err)
{
  cleanup_close int fd = berth_openat2(j->ctx->rootfs_fd, j->op->path, O_PATH | O_NOFOLLOW | O_CLOEXEC, 0,
                                       RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
  struct stat st;
  if (fd >= 0 && fstat(fd, &st) == 0 && S_ISLNK(st.st_mode))
    return BERTH_ERR(err, "%s: mount destination is a symlink", j->op->what);
  return 0;
}

static BERTH_WUR int idmap_userns(struct rootfs_job *j, berth_error_t *err)
{
  if (!(j->op->flags & BERTH_MOUNT_F_OWN_USERNS)) {
    int fd = rootfs_userns_for_mappings(j->op->mount, err);
    return fd < 0 ? berth_error_wrap(err, "%s", j->op->what) : fd;
  }
  int fd = open("/proc/self/ns/user", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return BERTH_ERR_ERRNO(err, "%s: open own user namespace", j->op->what);
  return fd;
}

/* "bind,remount": change the mount already at the destination */
static BERTH_WUR int remount_bind(struct rootfs_job *j, berth_error_t *err)
{
  const struct berth_mount_op *op = j->op;
  if (rootfs_setattr_fd(j->dstfd, true, op->rset, op->rclr, 0) < 0 ||
      rootfs_setattr_fd(j->dstfd, false, op->set, op->clr, 0) < 0 ||
      rootfs_propagate_fd(j->dstfd, op->propagation) < 0)
    return BERTH_ERR_ERRNO(err, "%s: remount", op->what);
  return 0;
}

/* The source: opened here, or a tree the runtime made (*detached): for an idmapped bind (only
 * the host's root may idmap the host's filesystems, and in a pid namespace we could not even
 * name a helper's uid_map), and in a user namespace for a source we may not reach (under a
 * directory of mode 000), as runc opens those for the container. */
static BERTH_WUR int open_source(struct rootfs_job *j, bool *detached, berth_error_t *err)
{
  const struct berth_mount_op *op = j->op;
  struct berth_rootfs_ctx *ctx = j->ctx;
  bool idmap = (op->flags & BERTH_MOUNT_F_IDMAP) && op->kind == BERTH_MOUNT_OP_BIND;
  int src = idmap && ctx->host_tree ? -1 : open(op->source, O_PATH | O_CLOEXEC);
  if (src >= 0 || ctx->host_tree == NULL ||
      !(idmap || (ctx->in_userns && op->kind == BERTH_MOUNT_OP_BIND && (errno == EACCES || errno == EPERM))))
    return src >= 0 ? src : BERTH_ERR_ERRNO(err, "%s: open source", op->what);
  src = ctx->host_tree(ctx->host_tree_data, op, err);
  if (src < 0)
    return berth_error_wrap(err, "%s", op->what);
  *detached = true;
  return src;
}

static BERTH_WUR int do_bind(struct rootfs_job *j, berth_error_t *err)
{
  const struct berth_mount_op *op = j->op;
  bool detached = false;
  cleanup_close int src = open_source(j, &detached, err);
  struct stat st;
  if (src < 0)
    return -1;
  if (fstat(src, &st) < 0)
    return BERTH_ERR_ERRNO(err, "%s: open source", op->what);
  j->dstfd = rootfs_open_dest(j->ctx->rootfs_fd, op->path, S_ISDIR(st.st_mode), err);
  if (j->dstfd < 0)
    return berth_error_wrap(err, "%s", op->what);
  if (check_proc_dest(j, src, err) < 0)
    return -1;
  if (op->kind == BERTH_MOUNT_OP_REMOUNT_BIND)
    return remount_bind(j, err);
  struct rootfs_bind b = { .recursive = (op->flags & BERTH_MOUNT_F_RECURSIVE) != 0,
                           .set = op->set,
                           .clr = op->clr,
                           .rset = op->rset,
                           .rclr = op->rclr,
                           .userns_fd = -1,
                           .ridmap = (op->flags & BERTH_MOUNT_F_RIDMAP) != 0,
                           .detached = detached };
  cleanup_close int userns = -1;
  if ((op->flags & BERTH_MOUNT_F_IDMAP) && !detached) {
    userns = idmap_userns(j, err);
    if (userns < 0)
      return -1;
    b.userns_fd = userns;
  }
  const char *step = "";
  cleanup_close int mnt = rootfs_bind_fd(src, j->dstfd, &b, &step);
  if (mnt < 0)
    return BERTH_ERR_ERRNO(err, "%s: %s", op->what, step);
  if (rootfs_propagate_fd(mnt, op->propagation) < 0)
    return BERTH_ERR_ERRNO(err, "%s: set propagation", op->what);
  return 0;
}

/* sysfs and mqueue in a user namespace that does not own the net/ipc namespace: bind
 * the host's instead, as runc does */
static BERTH_WUR int bind_host_fallback(struct rootfs_job *j, berth_error_t *err)
{
  const char *host = j->op->host;
  cleanup_close int src = open(host, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (src < 0)
    return BERTH_ERR_ERRNO(err, "%s: open `%s` for a bind instead", j->op->what, host);
  struct rootfs_bind b = { .recursive = true, .userns_fd = -1 };
  berth_mount_ms_to_attr(j->op->ms, 0, &b.set, &b.clr);
  const char *step = "";
  int mnt = rootfs_bind_fd(src, j->dstfd, &b, &step);
  if (mnt < 0)
    return BERTH_ERR_ERRNO(err, "%s: bind `%s` instead: %s", j->op->what, host, step);
  return mnt;
}

static BERTH_WUR int tmpcopyup(struct rootfs_job *j, int under, int mnt, berth_error_t *err)
{
  const char *what = j->op->what, *data = j->op->data;
  cleanup_close int dst = openat(mnt, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dst < 0)
    return BERTH_ERR_ERRNO(err, "%s: tmpcopyup: open the new tmpfs", what);
  /* the tmpfs root takes the directory's owner, and its mode unless "mode=" was given */
  struct stat st;
  if (fstat(under, &st) < 0)
    return BERTH_ERR_ERRNO(err, "%s: tmpcopyup: stat the directory", what);
  if (fchown(dst, st.st_uid, st.st_gid) < 0 && errno != EINVAL)
    return BERTH_ERR_ERRNO(err, "%s: tmpcopyup: chown", what);
  bool has_mode = data && (berth_str_has_prefix(data, "mode=") || strstr(data, ",mode="));
  if (!has_mode && fchmod(dst, st.st_mode & 07777) < 0)
    return BERTH_ERR_ERRNO(err, "%s: tmpcopyup: chmod", what);
  if (rootfs_copy_tree(under, dst, err) < 0)
    return berth_error_wrap(err, "%s: tmpcopyup", what);
  if ((j->op->flags & BERTH_MOUNT_F_RO_LATER) && rootfs_setattr_fd(mnt, false, MOUNT_ATTR_RDONLY, 0, 0) < 0)
    return BERTH_ERR_ERRNO(err, "%s: tmpcopyup: make read-only", what);
  return 0;
}

/* mount(2) failed: the fallback bind, or the error (with the option the filesystem refuses) */
static BERTH_WUR int mount_failed(struct rootfs_job *j, berth_error_t *err)
{
  if ((errno == EPERM || errno == EBUSY) && j->op->host != NULL)
    return bind_host_fallback(j, err);
  int e = errno;
  cleanup_free char *why = e == EINVAL ? rootfs_explain_data(j->op->fstype, j->op->data) : NULL;
  if (why)
    return BERTH_ERR(err, "%s: %s", j->op->what, why);
  errno = e;
  return BERTH_ERR_ERRNO(err, "%s", j->op->what);
}

/* mount(2) a filesystem by type; returns the new mount's fd */
static BERTH_WUR int mount_by_type(struct rootfs_job *j, berth_error_t *err)
{
  const struct berth_mount_op *op = j->op;
  unsigned long flags = op->ms & ~(unsigned long) (MS_BIND | MS_REC);
  if (op->flags & BERTH_MOUNT_F_RO_LATER)
    flags &= ~(unsigned long) MS_RDONLY;
  bool copyup = (op->flags & BERTH_MOUNT_F_TMPCOPYUP) != 0;
  cleanup_close int under = -1;
  if (copyup) {
    under = openat(j->dstfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (under < 0)
      return BERTH_ERR_ERRNO(err, "%s: tmpcopyup: open the directory", op->what);
  }
  if (rootfs_mount_on_fd(op->source, j->dstfd, op->fstype, flags, op->data) < 0)
    return mount_failed(j, err);
  /* a remount changes the mount the destination fd already points at */
  cleanup_close int mnt = (flags & MS_REMOUNT)
                            ? fcntl(j->dstfd, F_DUPFD_CLOEXEC, 3)
                            : rootfs_reopen_mounted(j->ctx->rootfs_fd, op->path, j->dstfd, err);
  if (mnt < 0)
    return *err ? berth_error_wrap(err, "%s", op->what) : BERTH_ERR_ERRNO(err, "%s: dup", op->what);
  if (op->flags & BERTH_MOUNT_F_PROCFS) {
    int r = berth_fd_is_procfs(mnt, err);
    if (r <= 0)
      return r < 0 ? berth_error_wrap(err, "%s", op->what)
                   : BERTH_ERR(err, "%s: the mounted destination is not procfs", op->what);
  }
  if (copyup && tmpcopyup(j, under, mnt, err) < 0)
    return -1;
  return steal_fd(mnt);
}

static BERTH_WUR int do_typed(struct rootfs_job *j, berth_error_t *err)
{
  const struct berth_mount_op *op = j->op;
  if ((op->flags & BERTH_MOUNT_F_NO_SYMLINK) && refuse_symlink_dest(j, err) < 0)
    return -1;
  j->dstfd = rootfs_open_dest(j->ctx->rootfs_fd, op->path, true, err);
  if (j->dstfd < 0)
    return berth_error_wrap(err, "%s", op->what);
  if (check_proc_dest(j, -1, err) < 0)
    return -1;
  bool cgroup = op->kind == BERTH_MOUNT_OP_MOUNT_CGROUP;
  /* the cgroup mount shows the cgroup we are in: the runtime must have placed us first */
  if (cgroup && j->ctx->wait_cgroup && j->ctx->wait_cgroup(j->ctx->wait_cgroup_data, err) < 0)
    return berth_error_wrap(err, "%s", op->what);
  cleanup_close int mnt = cgroup ? rootfs_mount_cgroup(j, err) : mount_by_type(j, err);
  if (mnt < 0)
    return -1;
  if (rootfs_setattr_fd(mnt, true, op->rset, op->rclr, 0) < 0)
    return BERTH_ERR_ERRNO(err, "%s: set recursive attributes", op->what);
  if (rootfs_propagate_fd(mnt, op->propagation) < 0)
    return BERTH_ERR_ERRNO(err, "%s: set propagation", op->what);
  return 0;
}

int rootfs_mount_op(struct berth_rootfs_ctx *ctx, const struct berth_mount_op *op, berth_error_t *err)
{
  struct rootfs_job j = { .ctx = ctx, .op = op, .dstfd = -1 };
  bool bind = op->kind == BERTH_MOUNT_OP_BIND || op->kind == BERTH_MOUNT_OP_REMOUNT_BIND;
  int r = bind ? do_bind(&j, err) : do_typed(&j, err);
  if (j.dstfd >= 0)
    close(j.dstfd);
  return r;
}
