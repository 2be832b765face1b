/* The executor of the mount plan's READONLY_PATH and MASK_PATH ops, after pivot: read-only
 * paths (a recursive read-only clone of each path on itself) and masked paths (the verified
 * /dev/null over files, an empty read-only tmpfs over directories; which of the two only the
 * filesystem can say). Everything is fd-based (open_tree, fsmount, move_mount), so it works
 * whether or not the container has /proc. */
#include <errno.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "linux/rootfs/rootfs_internal.h"

#define IN_ROOT (RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)

int rootfs_open_dev_null(int rootfd, berth_error_t *err)
{
  cleanup_close int fd = berth_openat2(rootfd, "/dev/null", O_PATH | O_NOFOLLOW | O_CLOEXEC, 0, IN_ROOT);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) < 0)
    return BERTH_ERR_ERRNO(err, "open `/dev/null` in container root");
  if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
    return BERTH_ERR(err, "`/dev/null` in the container is not the null device (1:3), refusing to use it");
  return steal_fd(fd);
}

/* an fd of the path inside the root, or -1 with errno ENOENT when it does not exist */
static BERTH_WUR int open_target(int rootfd, const char *path, const char *what, berth_error_t *err)
{
  int fd = berth_openat2(rootfd, path, O_PATH | O_CLOEXEC, 0, IN_ROOT);
  if (fd >= 0)
    return fd;
  if (errno == ENOENT || errno == ENOTDIR) {
    errno = ENOENT;
    return -1;
  }
  return BERTH_ERR_ERRNO(err, "%s `%s`: open", what, path);
}

int rootfs_readonly_path(int rootfd, const char *path, berth_error_t *err)
{
  cleanup_close int fd = open_target(rootfd, path, "readonly path", err);
  if (fd < 0)
    return errno == ENOENT && *err == NULL ? 0 : -1;
  struct rootfs_bind b = { .recursive = true, .rset = MOUNT_ATTR_RDONLY, .userns_fd = -1 };
  const char *step = "";
  cleanup_close int mnt = rootfs_bind_fd(fd, fd, &b, &step);
  if (mnt < 0)
    return BERTH_ERR_ERRNO(err, "readonly path `%s`: %s", path, step);
  return 0;
}

static int empty_ro_tmpfs(void)
{
  cleanup_close int fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
  if (fs < 0)
    return -1;
  if (fsconfig(fs, FSCONFIG_SET_STRING, "size", "4k", 0) < 0 ||
      fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
    return -1;
  return fsmount(fs, FSMOUNT_CLOEXEC,
                 MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
}

int rootfs_masked_path(int rootfd, int *nullfd, const char *path, berth_error_t *err)
{
  cleanup_close int fd = open_target(rootfd, path, "masked path", err);
  if (fd < 0)
    return errno == ENOENT && *err == NULL ? 0 : -1;
  struct stat st;
  if (fstat(fd, &st) < 0)
    return BERTH_ERR_ERRNO(err, "masked path `%s`: stat", path);
  cleanup_close int mnt = -1;
  if (S_ISDIR(st.st_mode)) {
    mnt = empty_ro_tmpfs();
    if (mnt < 0)
      return BERTH_ERR_ERRNO(err, "masked path `%s`: make an empty tmpfs", path);
    if (move_mount(mnt, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
      return BERTH_ERR_ERRNO(err, "masked path `%s`: mount tmpfs", path);
    return 0;
  }
  if (*nullfd < 0) {
    *nullfd = rootfs_open_dev_null(rootfd, err);
    if (*nullfd < 0)
      return berth_error_wrap(err, "masked path `%s`", path);
  }
  struct rootfs_bind b = { .userns_fd = -1 };
  const char *step = "";
  mnt = rootfs_bind_fd(*nullfd, fd, &b, &step);
  if (mnt < 0)
    return BERTH_ERR_ERRNO(err, "masked path `%s`: bind `/dev/null`: %s", path, step);
  return 0;
}
