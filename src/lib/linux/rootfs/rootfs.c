/* The container's filesystem: the mount plan (mount_plan.h) made, then run in runc's order:
 * propagation of /, the rootfs bound on itself, the spec mounts in config order, /dev, the
 * console (prepare); pivot_root (pivot); read-only and masked paths, read-only /dev and /,
 * rootfsPropagation (finalize). */
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
#include "linux/rootfs/rootfs_internal.h"

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
static BERTH_WUR int make_parent_private(const char *rootfs, berth_error_t *err)
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

/* the plan, made once: every check of the config before the first mount */
static BERTH_WUR int ensure_plan(struct berth_rootfs_ctx *ctx, berth_error_t *err)
{
  if (ctx->plan.ops != NULL)
    return 0;
  struct berth_mount_plan_input in = { .spec = ctx->spec,
                                       .in_userns = ctx->in_userns,
                                       .console = ctx->console_fd >= 0 };
  return berth_mount_plan_build(&in, &ctx->plan, err);
}

static BERTH_WUR int bind_rootfs(struct berth_rootfs_ctx *ctx, berth_error_t *err)
{
  if (make_parent_private(ctx->rootfs, err) < 0)
    return berth_error_wrap(err, "prepare rootfs `%s`", ctx->rootfs);
  if (mount(ctx->rootfs, ctx->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
    return BERTH_ERR_ERRNO(err, "bind rootfs `%s` on itself", ctx->rootfs);
  ctx->rootfs_fd = open(ctx->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (ctx->rootfs_fd < 0)
    return BERTH_ERR_ERRNO(err, "open rootfs `%s`", ctx->rootfs);
  return 0;
}

static BERTH_WUR int wrong_phase(const struct berth_mount_op *op, const char *phase, berth_error_t *err)
{
  return BERTH_ERR(err, "mount plan: %s `%s` cannot run %s", berth_mount_op_kind_name(op->kind), op->path,
                   phase);
}

static BERTH_WUR int prepare_op(struct berth_rootfs_ctx *ctx, const struct berth_mount_op *op, int *devfd,
                                berth_error_t *err)
{
  switch (op->kind) {
  case BERTH_MOUNT_OP_PROPAGATION:
    if (mount(NULL, "/", NULL, op->ms, NULL) < 0)
      return BERTH_ERR_ERRNO(err, "%s", op->what);
    return 0;
  case BERTH_MOUNT_OP_BIND_ROOTFS: return bind_rootfs(ctx, err);
  case BERTH_MOUNT_OP_BIND:
  case BERTH_MOUNT_OP_REMOUNT_BIND:
  case BERTH_MOUNT_OP_MOUNT_TYPED:
  case BERTH_MOUNT_OP_MOUNT_CGROUP: return rootfs_mount_op(ctx, op, err);
  case BERTH_MOUNT_OP_MKNOD_DEVICE:
  case BERTH_MOUNT_OP_BIND_DEVICE:
    return rootfs_device_op(ctx, op, err) < 0 ? berth_error_wrap(err, "create devices") : 0;
  case BERTH_MOUNT_OP_SYMLINK:
    return rootfs_symlink_op(ctx, op, devfd, err) < 0 ? berth_error_wrap(err, "create devices") : 0;
  case BERTH_MOUNT_OP_BIND_CONSOLE: return rootfs_setup_console(ctx, err);
  default: return wrong_phase(op, "before pivot", err);
  }
}

int berth_rootfs_prepare(struct berth_rootfs_ctx *ctx, berth_error_t *err)
{
  ctx->rootfs_fd = -1;
  if (ensure_plan(ctx, err) < 0)
    return -1;
  berth_lsm_warn_unsupported(NULL, ctx->spec->linux_.mount_label);
  cleanup_close int devfd = -1;
  for (size_t i = 0; i < ctx->plan.n && ctx->plan.ops[i].kind != BERTH_MOUNT_OP_PIVOT; i++)
    if (prepare_op(ctx, &ctx->plan.ops[i], &devfd, err) < 0)
      return -1;
  return 0;
}

/* --no-pivot (runc's msMoveRoot): detach what lies outside the rootfs, move the rootfs
 * on / and chroot into it */
static BERTH_WUR int move_root(struct berth_rootfs_ctx *ctx, berth_error_t *err)
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

static BERTH_WUR int remount_ro(int rootfd, const char *path, berth_error_t *err)
{
  cleanup_close int fd =
    berth_openat2(rootfd, path, O_PATH | O_DIRECTORY | O_CLOEXEC, 0, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
  if (fd < 0)
    return BERTH_ERR_ERRNO(err, "open `%s`", path);
  if (rootfs_setattr_fd(fd, false, MOUNT_ATTR_RDONLY, 0, 0) < 0)
    return BERTH_ERR_ERRNO(err, "remount `%s` read-only", path);
  return 0;
}

static BERTH_WUR int finalize_op(int rootfd, const struct berth_mount_op *op, int *nullfd, berth_error_t *err)
{
  switch (op->kind) {
  case BERTH_MOUNT_OP_READONLY_PATH: return rootfs_readonly_path(rootfd, op->path, err);
  case BERTH_MOUNT_OP_MASK_PATH: return rootfs_masked_path(rootfd, nullfd, op->path, err);
  case BERTH_MOUNT_OP_REMOUNT_RO: return remount_ro(rootfd, op->path, err);
  case BERTH_MOUNT_OP_PROPAGATION:
    if (mount(NULL, "/", NULL, op->ms, NULL) < 0)
      return BERTH_ERR_ERRNO(err, "%s", op->what);
    return 0;
  default: return wrong_phase(op, "after pivot", err);
  }
}

int berth_rootfs_finalize(struct berth_rootfs_ctx *ctx, berth_error_t *err)
{
  if (ensure_plan(ctx, err) < 0)
    return -1;
  cleanup_close int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    return BERTH_ERR_ERRNO(err, "open `/`");
  cleanup_close int nullfd = -1;
  size_t i = 0;
  while (i < ctx->plan.n && ctx->plan.ops[i].kind != BERTH_MOUNT_OP_PIVOT)
    i++;
  for (i++; i < ctx->plan.n; i++)
    if (finalize_op(rootfd, &ctx->plan.ops[i], &nullfd, err) < 0)
      return -1;
  return 0;
}

void berth_rootfs_ctx_release(struct berth_rootfs_ctx *ctx)
{
  if (ctx == NULL)
    return;
  if (ctx->rootfs_fd >= 0)
    close(ctx->rootfs_fd);
  ctx->rootfs_fd = -1;
  berth_mount_plan_free(&ctx->plan);
}
