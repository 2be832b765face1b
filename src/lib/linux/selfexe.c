/* CVE-2019-5736: a container process could open /proc/<runtime pid>/exe and write into
 * the runtime binary on the host. We re-exec from a copy that cannot be written:
 *
 * - preferred: the binary seen through a detached, read-only overlayfs mount (no copy,
 *   so no cost that grows with the binary). Overlayfs wants two lower layers when there
 *   is no upper one; the binary's directory is the top layer and an empty detached tmpfs
 *   the bottom one. Both are passed as fds ("lowerdir+" with FSCONFIG_SET_FD, Linux
 *   6.13+), since a path cannot name a detached mount and the directory itself twice is
 *   refused as overlapping (ELOOP). The mount is in no mount table and disappears with
 *   the last process executing from it.
 * - fallback: a sealed memfd copy (F_SEAL_WRITE, SHRINK, GROW, SEAL), as runc and crun do.
 *
 * Who drops the last reference to the copy pays for its teardown, and for the overlay that
 * is an expedited RCU grace period (ovl_free_fs → kern_unmount_array): 0.5–1 ms here, in
 * task_work on the way back to user space. After `create` exits, the container process is
 * the last holder, and its exec of the user's program would sit in that wait before the
 * program's first instruction. So `create` prefers the memfd (BERTH_SELFEXE_MEMFD_FIRST:
 * a ~0.1–0.3 ms copy in `create`, freed in microseconds), while `exec` and `run`, which
 * outlive the program's exec and drop the overlay at their own exit, keep it.
 */
#include "linux/selfexe.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/strutil.h"
#include "base/xalloc.h"

#ifndef OVERLAYFS_SUPER_MAGIC
#define OVERLAYFS_SUPER_MAGIC 0x794c7630
#endif
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

bool berth_selfexe_is_protected(void)
{
  cleanup_close int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return false;
  int seals = fcntl(fd, F_GET_SEALS);
  if (seals >= 0 && (seals & F_SEAL_WRITE) && (seals & F_SEAL_SEAL))
    return true;
  struct statfs sfs;
  return fstatfs(fd, &sfs) == 0 && sfs.f_type == OVERLAYFS_SUPER_MAGIC && (sfs.f_flags & ST_RDONLY);
}

/* an empty read-only tmpfs, detached */
static BERTH_WUR int empty_tmpfs(berth_error_t *err)
{
  cleanup_close int fc = fsopen("tmpfs", FSOPEN_CLOEXEC);
  if (fc < 0)
    return BERTH_ERR_ERRNO(err, "fsopen `tmpfs`");
  if (fsconfig(fc, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
    return BERTH_ERR_ERRNO(err, "create tmpfs");
  int m = fsmount(fc, FSMOUNT_CLOEXEC,
                  MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
  if (m < 0)
    return BERTH_ERR_ERRNO(err, "fsmount tmpfs");
  return m;
}

static BERTH_WUR int overlay_mount(int top_dir, berth_error_t *err)
{
  cleanup_close int bottom = empty_tmpfs(err);
  if (bottom < 0)
    return -1;
  cleanup_close int fc = fsopen("overlay", FSOPEN_CLOEXEC);
  if (fc < 0)
    return BERTH_ERR_ERRNO(err, "fsopen `overlay`");
  if (fsconfig(fc, FSCONFIG_SET_FD, "lowerdir+", NULL, top_dir) < 0 ||
      fsconfig(fc, FSCONFIG_SET_FD, "lowerdir+", NULL, bottom) < 0)
    return BERTH_ERR_ERRNO(err, "overlay: set lower layers by fd");
  (void) fsconfig(fc, FSCONFIG_SET_STRING, "xino", "off", 0); /* quiets dmesg; optional */
  if (fsconfig(fc, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
    return BERTH_ERR_ERRNO(err, "create overlay");
  int m = fsmount(fc, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID);
  if (m < 0)
    return BERTH_ERR_ERRNO(err, "fsmount overlay");
  return m;
}

/* O_PATH fd of our binary seen through a detached read-only overlay */
int berth_selfexe_overlay_fd(berth_error_t *err)
{
  char target[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", target, sizeof target - 1);
  if (n < 0)
    return BERTH_ERR_ERRNO(err, "readlink `/proc/self/exe`");
  target[n] = '\0';
  char *slash = strrchr(target, '/');
  if (target[0] != '/' || slash == NULL || berth_str_has_suffix(target, " (deleted)"))
    return BERTH_ERR(err, "`/proc/self/exe` is `%s`: not a file on a path", target);
  *slash = '\0';
  const char *name = slash + 1;
  cleanup_close int dir = open(target[0] ? target : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0)
    return BERTH_ERR_ERRNO(err, "open `%s`", target[0] ? target : "/");
  cleanup_close int mnt = overlay_mount(dir, err);
  if (mnt < 0)
    return -1;
  int fd = openat(mnt, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return BERTH_ERR_ERRNO(err, "open `%s` through the overlay", name);
  return fd;
}

static BERTH_WUR int copy_all(int to, int from, berth_error_t *err)
{
  for (;;) {
    ssize_t n = sendfile(to, from, NULL, 1 << 30);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return BERTH_ERR_ERRNO(err, "copy `/proc/self/exe` into a memfd");
    if (n == 0)
      return 0;
  }
}

/* an empty memfd that may be executed (MFD_EXEC matters where vm.memfd_noexec is set;
 * kernels before 6.3 refuse the flag) and sealed */
static BERTH_WUR int exec_memfd(const char *name, berth_error_t *err)
{
  int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
  if (fd < 0 && errno == EINVAL)
    fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0)
    return BERTH_ERR_ERRNO(err, "memfd_create `%s`", name);
  return fd;
}

static BERTH_WUR int seal(int fd, const char *name, berth_error_t *err)
{
  if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
    return BERTH_ERR_ERRNO(err, "seal the memfd `%s`", name);
  return 0;
}

/* a sealed memfd copy of our binary */
int berth_selfexe_memfd(berth_error_t *err)
{
  cleanup_close int src = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (src < 0)
    return BERTH_ERR_ERRNO(err, "open `/proc/self/exe`");
  cleanup_close int fd = exec_memfd("berth-runtime", err);
  if (fd < 0 || copy_all(fd, src, err) < 0 || seal(fd, "berth-runtime", err) < 0)
    return -1;
  return steal_fd(fd);
}

/* a sealed, executable memfd holding BLOB (a helper program shipped inside our binary) */
int berth_selfexe_blob_memfd(const char *name, const unsigned char *blob, size_t len, berth_error_t *err)
{
  cleanup_close int fd = exec_memfd(name, err);
  if (fd < 0)
    return -1;
  if (berth_write_all(fd, blob, len) < 0)
    return BERTH_ERR_ERRNO(err, "write `%s` into a memfd", name);
  if (seal(fd, name, err) < 0)
    return -1;
  return steal_fd(fd);
}

static BERTH_WUR int protected_copy(enum berth_selfexe_method m, berth_error_t *err)
{
  if (m == BERTH_SELFEXE_OVERLAY) {
    int fd = berth_selfexe_overlay_fd(err);
    return fd < 0 ? berth_error_wrap(err, "re-exec from a read-only overlay") : fd;
  }
  int fd = berth_selfexe_memfd(err);
  return fd < 0 ? berth_error_wrap(err, "re-exec from a sealed copy") : fd;
}

int berth_selfexe_reexec_with(enum berth_selfexe_method method, char **argv, char **envp, berth_error_t *err)
{
  enum berth_selfexe_method order[2] = { method, method };
  size_t n = 1;
  if (method == BERTH_SELFEXE_AUTO) {
    order[0] = BERTH_SELFEXE_OVERLAY, order[1] = BERTH_SELFEXE_MEMFD;
    n = 2;
  } else if (method == BERTH_SELFEXE_MEMFD_FIRST) {
    order[0] = BERTH_SELFEXE_MEMFD, order[1] = BERTH_SELFEXE_OVERLAY;
    n = 2;
  }
  for (size_t i = 0;; i++) {
    cleanup_close int fd = protected_copy(order[i], err);
    if (fd >= 0) {
      syscall(SYS_execveat, fd, "", argv, envp, AT_EMPTY_PATH);
      BERTH_ERR_ERRNO(err, "re-exec `%s` from a protected copy", argv[0]);
    }
    if (i + 1 == n)
      return -1;
    berth_log_debug("selfexe: %s; trying the other protected copy", (*err)->msg);
    berth_error_release(err);
  }
}

int berth_selfexe_reexec(char **argv, char **envp, berth_error_t *err)
{
  return berth_selfexe_reexec_with(BERTH_SELFEXE_AUTO, argv, envp, err);
}
