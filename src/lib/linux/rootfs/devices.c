/* The executor of the mount plan's /dev ops: devices (mknod, or a bind of the host's node
 * in a user namespace or when mknod is refused), links, and the console bind on
 * /dev/console. Which devices and links: mount_plan_dev.c. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "linux/rootfs/rootfs_internal.h"

static const char *file_kind(mode_t m)
{
  switch (m & S_IFMT) {
  case S_IFREG: return "regular file";
  case S_IFDIR: return "directory";
  case S_IFLNK: return "symlink";
  case S_IFCHR: return "character device";
  case S_IFBLK: return "block device";
  case S_IFIFO: return "fifo";
  default: return "socket";
  }
}

/* mknod with exactly `perm`; an existing node of the same kind is kept, anything else
 * (but a directory) is replaced */
static int mknod_exact(int pfd, const char *name, mode_t type, mode_t perm, dev_t dev)
{
  for (int tries = 0; tries < 2; tries++) {
    mode_t old = umask(0);
    int r = mknodat(pfd, name, type | perm, dev);
    umask(old);
    if (r == 0)
      return 0;
    if (errno != EEXIST)
      return -1;
    struct stat st;
    if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
      return -1;
    if ((st.st_mode & S_IFMT) == type && (type == S_IFIFO || st.st_rdev == dev))
      return fchmodat(pfd, name, perm, 0);
    if (S_ISDIR(st.st_mode)) {
      errno = EISDIR;
      return -1;
    }
    if (unlinkat(pfd, name, 0) < 0)
      return -1;
  }
  errno = EEXIST;
  return -1;
}

/* bind the host's node at the same path onto an empty file, nosuid and noexec (crun's rule:
 * nothing on a device node is a program) */
static BERTH_WUR int bind_device(int pfd, const char *name, const struct berth_spec_device *d, mode_t type,
                                 dev_t dev, berth_error_t *err)
{
  cleanup_close int host = open(d->path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;
  if (host < 0 && errno == ENOENT)
    return BERTH_ERR(err,
                     "device `%s`: the host has no `%s` to bind (where mknod is not allowed, as in a user "
                     "namespace, a device must exist on the host at the same path)",
                     d->path, d->path);
  if (host < 0 || fstat(host, &st) < 0)
    return BERTH_ERR_ERRNO(err, "device `%s`: open the host's node to bind it", d->path);
  if ((st.st_mode & S_IFMT) != type || st.st_rdev != dev)
    return BERTH_ERR(err, "device `%s`: the host's node is a %s %u:%u, not the requested device", d->path,
                     file_kind(st.st_mode), major(st.st_rdev), minor(st.st_rdev));
  cleanup_close int dst = openat(pfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (dst < 0 && errno == ENOENT)
    dst = openat(pfd, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (dst < 0 || fstat(dst, &st) < 0)
    return BERTH_ERR_ERRNO(err, "device `%s`: create the bind target", d->path);
  if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))
    return BERTH_ERR(err, "device `%s`: exists as a %s", d->path, file_kind(st.st_mode));
  struct rootfs_bind b = { .userns_fd = -1, .set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC };
  const char *step = "";
  cleanup_close int mnt = rootfs_bind_fd(host, dst, &b, &step);
  if (mnt < 0)
    return BERTH_ERR_ERRNO(err, "device `%s`: bind the host's node: %s", d->path, step);
  return 0;
}

int rootfs_device_op(struct berth_rootfs_ctx *ctx, const struct berth_mount_op *op, berth_error_t *err)
{
  const struct berth_spec_device *d = op->device;
  mode_t type = d->type == 'b' ? S_IFBLK : d->type == 'p' ? S_IFIFO : S_IFCHR;
  dev_t dev = type == S_IFIFO ? 0 : makedev((unsigned) d->major, (unsigned) d->minor);
  mode_t perm = d->has_file_mode ? d->file_mode & 07777 : 0666;
  /* the plan checked that the path is absolute and ends in a file name */
  cleanup_free char *parent = xstrdup(d->path);
  char *slash = strrchr(parent, '/');
  const char *name = d->path + (slash - parent + 1);
  *slash = '\0';
  cleanup_close int pfd = berth_mkdir_p_in_root(ctx->rootfs_fd, *parent ? parent : "/", 0755, err);
  if (pfd < 0)
    return berth_error_wrap(err, "device `%s`", d->path);
  if (op->kind == BERTH_MOUNT_OP_MKNOD_DEVICE) {
    if (mknod_exact(pfd, name, type, perm, dev) == 0) {
      uid_t uid = d->has_uid ? d->uid : (uid_t) -1;
      gid_t gid = d->has_gid ? d->gid : (gid_t) -1;
      if ((d->has_uid || d->has_gid) && fchownat(pfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
        return BERTH_ERR_ERRNO(err, "device `%s`: chown", d->path);
      return 0;
    }
    if (errno != EPERM || type == S_IFIFO)
      return BERTH_ERR_ERRNO(err, "device `%s`: mknod", d->path);
  }
  return bind_device(pfd, name, d, type, dev, err);
}

int rootfs_symlink_op(struct berth_rootfs_ctx *ctx, const struct berth_mount_op *op, int *devfd,
                      berth_error_t *err)
{
  if ((op->flags & BERTH_MOUNT_F_IF_HOST) && access(op->host, F_OK) != 0)
    return 0;
  const char *slash = strrchr(op->path, '/');
  cleanup_free char *parent =
    slash > op->path ? xstrndup(op->path, (size_t) (slash - op->path)) : xstrdup("/");
  const char *name = slash + 1;
  cleanup_close int own = -1;
  bool dev = strcmp(parent, "/dev") == 0;
  if (!dev || *devfd < 0) {
    own = berth_mkdir_p_in_root(ctx->rootfs_fd, parent, 0755, err);
    if (own < 0)
      return -1;
    if (dev)
      *devfd = steal_fd(own);
  }
  int pfd = dev ? *devfd : own;
  if (op->flags & BERTH_MOUNT_F_REPLACE) {
    if (unlinkat(pfd, name, 0) < 0 && errno != ENOENT)
      return BERTH_ERR_ERRNO(err, "remove `%s`", op->path);
    if (symlinkat(op->source, pfd, name) < 0)
      return BERTH_ERR_ERRNO(err, "symlink `%s`", op->path);
    return 0;
  }
  if (symlinkat(op->source, pfd, name) < 0 && errno != EEXIST)
    return BERTH_ERR_ERRNO(err, "symlink `%s`", op->path);
  return 0;
}

/* CVE-2025-31133 class: never mount the console through a symlink or over anything but
 * an empty regular file (which we create) or a device node */
int rootfs_setup_console(struct berth_rootfs_ctx *ctx, berth_error_t *err)
{
  if (ctx->console_fd < 0)
    return 0;
  struct stat st;
  if (fstat(ctx->console_fd, &st) < 0)
    return BERTH_ERR_ERRNO(err, "console: stat the pty");
  if (!S_ISCHR(st.st_mode))
    return BERTH_ERR(err, "console: the pty is a %s, not a character device", file_kind(st.st_mode));
  cleanup_close int devfd = berth_mkdir_p_in_root(ctx->rootfs_fd, "/dev", 0755, err);
  if (devfd < 0)
    return berth_error_wrap(err, "console");
  cleanup_close int dst = openat(devfd, "console", O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (dst < 0 && errno == ENOENT)
    dst = openat(devfd, "console", O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (dst < 0 || fstat(dst, &st) < 0)
    return BERTH_ERR_ERRNO(err, "console: create `/dev/console`");
  if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode))
    return BERTH_ERR(err, "console: `/dev/console` exists as a %s, refusing to mount over it",
                     file_kind(st.st_mode));
  struct rootfs_bind b = { .userns_fd = -1, .set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC };
  const char *step = "";
  cleanup_close int mnt = rootfs_bind_fd(ctx->console_fd, dst, &b, &step);
  if (mnt < 0)
    return BERTH_ERR_ERRNO(err, "console: bind the pty on `/dev/console`: %s", step);
  return 0;
}
