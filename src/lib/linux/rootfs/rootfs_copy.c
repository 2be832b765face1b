/* tmpcopyup: copy what a directory held into the tmpfs now mounted over it. The
 * source is read through an fd opened before the mount, so it stays reachable. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "linux/rootfs/rootfs_internal.h"

#define MAX_DEPTH 128

static BERTH_WUR int copy_dir(int srcfd, int dstfd, int depth, berth_error_t *err);

static BERTH_WUR int copy_data(int srcdir, int dstdir, const char *name, const struct stat *st,
                               berth_error_t *err)
{
  cleanup_close int in = openat(srcdir, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
  if (in < 0)
    return BERTH_ERR_ERRNO(err, "open `%s`", name);
  cleanup_close int out =
    openat(dstdir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, st->st_mode & 07777);
  if (out < 0)
    return BERTH_ERR_ERRNO(err, "create `%s`", name);
  char buf[65536];
  for (;;) {
    ssize_t r = read(in, buf, sizeof buf);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      return BERTH_ERR_ERRNO(err, "read `%s`", name);
    if (r == 0)
      return 0;
    if (berth_write_all(out, buf, (size_t) r) < 0)
      return BERTH_ERR_ERRNO(err, "write `%s`", name);
  }
}

static BERTH_WUR int copy_entry(int srcdir, int dstdir, const char *name, int depth, berth_error_t *err)
{
  struct stat st;
  if (fstatat(srcdir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return BERTH_ERR_ERRNO(err, "stat `%s`", name);
  if (S_ISDIR(st.st_mode)) {
    if (mkdirat(dstdir, name, 0700) < 0)
      return BERTH_ERR_ERRNO(err, "mkdir `%s`", name);
    cleanup_close int s = openat(srcdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    cleanup_close int d = openat(dstdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (s < 0 || d < 0)
      return BERTH_ERR_ERRNO(err, "open `%s`", name);
    if (copy_dir(s, d, depth + 1, err) < 0)
      return berth_error_wrap(err, "in `%s`", name);
  } else if (S_ISREG(st.st_mode)) {
    if (copy_data(srcdir, dstdir, name, &st, err) < 0)
      return -1;
  } else if (S_ISLNK(st.st_mode)) {
    char target[PATH_MAX];
    ssize_t n = readlinkat(srcdir, name, target, sizeof target - 1);
    if (n < 0)
      return BERTH_ERR_ERRNO(err, "readlink `%s`", name);
    target[n] = '\0';
    if (symlinkat(target, dstdir, name) < 0)
      return BERTH_ERR_ERRNO(err, "symlink `%s`", name);
  } else if (mknodat(dstdir, name, st.st_mode, st.st_rdev) < 0) {
    return BERTH_ERR_ERRNO(err, "mknod `%s`", name);
  }
  if (fchownat(dstdir, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0 && errno != EINVAL)
    return BERTH_ERR_ERRNO(err, "chown `%s`", name);
  /* chown drops setuid bits; the mode goes last (symlinks have none) */
  if (!S_ISLNK(st.st_mode) && fchmodat(dstdir, name, st.st_mode & 07777, 0) < 0)
    return BERTH_ERR_ERRNO(err, "chmod `%s`", name);
  struct timespec times[2] = { st.st_atim, st.st_mtim };
  if (utimensat(dstdir, name, times, AT_SYMLINK_NOFOLLOW) < 0)
    return BERTH_ERR_ERRNO(err, "set times of `%s`", name);
  return 0;
}

static int copy_dir(int srcfd, int dstfd, int depth, berth_error_t *err)
{
  if (depth > MAX_DEPTH)
    return berth_error_make(err, ELOOP, "copy directory");
  int fd = fcntl(srcfd, F_DUPFD_CLOEXEC, 3);
  if (fd < 0)
    return BERTH_ERR_ERRNO(err, "dup");
  cleanup_dir DIR *d = fdopendir(fd);
  if (d == NULL) {
    int e = errno;
    close(fd);
    return berth_error_make(err, e, "open directory");
  }
  rewinddir(d);
  struct dirent *de;
  while ((errno = 0, de = readdir(d)) != NULL) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    if (copy_entry(dirfd(d), dstfd, de->d_name, depth, err) < 0)
      return -1;
  }
  if (errno != 0)
    return BERTH_ERR_ERRNO(err, "read directory");
  return 0;
}

int rootfs_copy_tree(int srcfd, int dstfd, berth_error_t *err) { return copy_dir(srcfd, dstfd, 0, err); }
