/* The container's filesystem, in runc's order: propagation of /, the rootfs bound on
 * itself, the spec mounts in config order, /dev, the console (prepare); pivot_root
 * (pivot); read-only and masked paths, read-only /dev and /, rootfsPropagation
 * (finalize). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/strutil.h"
#include "linux/lsm.h"
#include "linux/rootfs_int.h"

/* is `path` equal to `dir` or below it */
static bool path_within(const char *path, const char *dir)
{
  size_t n = strlen(dir);
  while (n > 0 && dir[n - 1] == '/')
    n--;
  return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

/* pivot_root and MS_MOVE fail when the mount holding the rootfs is shared: make that
 * mount private (in our namespace only) */
static int make_parent_private(const char *rootfs, berth_error_t *err)
{
  struct statx stx;
  if (statx(AT_FDCWD, rootfs, 0, STATX_MNT_ID, &stx) < 0)
    return BERTH_ERR_ERRNO(err, "statx `%s`", rootfs);
  if (!(stx.stx_mask & STATX_MNT_ID))
    return 0;
  struct rootfs_mountinfo *mi = NULL;
  size_t n = 0;
  if (rootfs_mountinfo_read(&mi, &n, err) < 0)
    return -1;
  int r = 0;
  for (size_t i = 0; i < n; i++) {
    if ((uint64_t) mi[i].id != stx.stx_mnt_id || !mi[i].shared)
      continue;
    if (mount(NULL, mi[i].mountpoint, NULL, MS_PRIVATE, NULL) < 0)
      r = BERTH_ERR_ERRNO(err, "make `%s` private", mi[i].mountpoint);
    break;
  }
  rootfs_mountinfo_free(mi, n);
  return r;
}

int berth_rootfs_prepare(struct berth_rootfs_ctx *ctx, berth_error_t *err)
{
  const berth_spec_t *spec = ctx->spec;
  ctx->rootfs_fd = -1;
  ctx->dev_ro = false;
  berth_lsm_warn_unsupported(NULL, spec->linux_.mount_label);
  /* The host's "/" becomes a slave in our namespace (nothing we mount leaks out) unless the
   * config wants shared propagation, which needs the peer group kept. rootfsPropagation
   * itself is for the container's root and is applied after pivot_root (finalize): an
   * unbindable or private host "/" would make the rootfs bind below fail. */
  unsigned long prop = (spec->linux_.rootfs_propagation & MS_SHARED) ? MS_SHARED | MS_REC : MS_SLAVE | MS_REC;
  if (mount(NULL, "/", NULL, prop, NULL) < 0)
    return BERTH_ERR_ERRNO(err, "set the propagation of `/`");
  if (make_parent_private(ctx->rootfs, err) < 0)
    return berth_error_wrap(err, "prepare rootfs `%s`", ctx->rootfs);
  if (mount(ctx->rootfs, ctx->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
    return BERTH_ERR_ERRNO(err, "bind rootfs `%s` on itself", ctx->rootfs);
  ctx->rootfs_fd = open(ctx->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (ctx->rootfs_fd < 0)
    return BERTH_ERR_ERRNO(err, "open rootfs `%s`", ctx->rootfs);
  for (size_t i = 0; i < spec->n_mounts; i++)
    if (rootfs_mount_spec(ctx, i, err) < 0)
      return -1;
  if (!berth_rootfs_binds_dev(spec) && rootfs_setup_dev(ctx, err) < 0)
    return berth_error_wrap(err, "create devices");
  return rootfs_setup_console(ctx, err);
}

/* --no-pivot (runc's msMoveRoot): detach what lies outside the rootfs, move the rootfs
 * on / and chroot into it */
static int move_root(struct berth_rootfs_ctx *ctx, berth_error_t *err)
{
  struct rootfs_mountinfo *mi = NULL;
  size_t n = 0;
  if (rootfs_mountinfo_read(&mi, &n, err) < 0)
    return -1;
  for (size_t i = n; i-- > 0;) {
    const char *mp = mi[i].mountpoint;
    if (strcmp(mp, "/") == 0 || path_within(mp, ctx->rootfs) || path_within(ctx->rootfs, mp))
      continue;
    (void) umount2(mp, MNT_DETACH); /* gone with a parent already, or locked: both fine */
  }
  rootfs_mountinfo_free(mi, n);
  if (chdir(ctx->rootfs) < 0)
    return BERTH_ERR_ERRNO(err, "chdir `%s`", ctx->rootfs);
  if (mount(ctx->rootfs, "/", NULL, MS_MOVE, NULL) < 0)
    return BERTH_ERR_ERRNO(err, "move rootfs `%s` on `/`", ctx->rootfs);
  if (chroot(".") < 0)
    return BERTH_ERR_ERRNO(err, "chroot `%s`", ctx->rootfs);
  if (chdir("/") < 0)
    return BERTH_ERR_ERRNO(err, "chdir `/`");
  return 0;
}

/* pivot_root(".", ".") stacks the old root on top of the new one; making it a slave
 * before detaching keeps the unmount from propagating to the host */
int berth_rootfs_pivot(struct berth_rootfs_ctx *ctx, berth_error_t *err)
{
  if (ctx->no_pivot)
    return move_root(ctx, err);
  cleanup_close int oldroot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (oldroot < 0)
    return BERTH_ERR_ERRNO(err, "open `/`");
  cleanup_close int newroot = open(ctx->rootfs, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (newroot < 0)
    return BERTH_ERR_ERRNO(err, "open rootfs `%s`", ctx->rootfs);
  if (fchdir(newroot) < 0)
    return BERTH_ERR_ERRNO(err, "chdir `%s`", ctx->rootfs);
  if (syscall(SYS_pivot_root, ".", ".") < 0)
    return BERTH_ERR_ERRNO(err, "pivot_root `%s`", ctx->rootfs);
  if (fchdir(oldroot) < 0)
    return BERTH_ERR_ERRNO(err, "chdir to the old root");
  if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
    return BERTH_ERR_ERRNO(err, "make the old root a slave");
  if (umount2(".", MNT_DETACH) < 0)
    return BERTH_ERR_ERRNO(err, "detach the old root");
  if (chdir("/") < 0)
    return BERTH_ERR_ERRNO(err, "chdir `/`");
  return 0;
}

static int remount_ro(int rootfd, const char *path, berth_error_t *err)
{
  cleanup_close int fd = berth_openat2(rootfd, path, O_PATH | O_DIRECTORY | O_CLOEXEC, 0,
                                       RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
  if (fd < 0)
    return BERTH_ERR_ERRNO(err, "open `%s`", path);
  if (rootfs_setattr_fd(fd, false, MOUNT_ATTR_RDONLY, 0, 0) < 0)
    return BERTH_ERR_ERRNO(err, "remount `%s` read-only", path);
  return 0;
}

int berth_rootfs_finalize(struct berth_rootfs_ctx *ctx, berth_error_t *err)
{
  const berth_spec_t *spec = ctx->spec;
  cleanup_close int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    return BERTH_ERR_ERRNO(err, "open `/`");
  if (rootfs_readonly_paths(spec, rootfd, err) < 0 || rootfs_masked_paths(spec, rootfd, err) < 0)
    return -1;
  if (ctx->dev_ro && remount_ro(rootfd, "/dev", err) < 0)
    return -1;
  if (spec->root_readonly && remount_ro(rootfd, "/", err) < 0)
    return -1;
  if (spec->linux_.rootfs_propagation && mount(NULL, "/", NULL, spec->linux_.rootfs_propagation, NULL) < 0)
    return BERTH_ERR_ERRNO(err, "set rootfsPropagation on `/`");
  return 0;
}

void berth_rootfs_ctx_release(struct berth_rootfs_ctx *ctx)
{
  if (ctx == NULL)
    return;
  if (ctx->rootfs_fd >= 0)
    close(ctx->rootfs_fd);
  ctx->rootfs_fd = -1;
}
