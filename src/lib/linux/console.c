#include "linux/console.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"

static BERTH_WUR int open_console_target(berth_error_t *err)
{
  cleanup_close int dev = berth_openat2(AT_FDCWD, "/dev", O_PATH | O_DIRECTORY | O_CLOEXEC, 0,
                                        RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS);
  if (dev < 0)
    return BERTH_ERR_ERRNO(err, "open `/dev` for the console");
  int fd = openat(dev, "console", O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {
    int tmp = openat(dev, "console", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (tmp < 0)
      return BERTH_ERR_ERRNO(err, "create `/dev/console`");
    close(tmp);
    fd = openat(dev, "console", O_PATH | O_NOFOLLOW | O_CLOEXEC);
  }
  if (fd < 0)
    return BERTH_ERR_ERRNO(err, "open `/dev/console`");
  struct stat st;
  if (fstat(fd, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISCHR(st.st_mode))) {
    close(fd);
    return BERTH_ERR(err,
                     "`/dev/console` is not a regular file or character device: refusing to mount over it");
  }
  return fd;
}

int berth_console_bind(int slave, berth_error_t *err)
{
  cleanup_close int target = open_console_target(err);
  if (target < 0)
    return -1;
  cleanup_close int tree =
    (int) syscall(SYS_open_tree, slave, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
  if (tree < 0)
    return BERTH_ERR_ERRNO(err, "clone the pty for `/dev/console`");
  if (syscall(SYS_move_mount, tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    return BERTH_ERR_ERRNO(err, "mount the pty on `/dev/console`");
  return 0;
}
