#include "base/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/output.h"
#include "base/strutil.h"
#include "base/xalloc.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

int berth_openat2(int dirfd, const char *path, int flags, mode_t mode, uint64_t resolve)
{
  struct open_how how = { .flags = (uint64_t) flags, .resolve = resolve };
  if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE)
    how.mode = mode;
  for (int tries = 0;; tries++) {
    long r = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
    if (r >= 0)
      return (int) r;
    if (errno == EINTR || (errno == EAGAIN && tries < 64))
      continue;
    return -1;
  }
}

int berth_open_in_root(int rootfd, const char *path, int flags, mode_t mode, berth_error_t *err)
{
  int fd = berth_openat2(rootfd, path, flags | O_CLOEXEC, mode, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
  if (fd < 0)
    return BERTH_ERR_ERRNO(err, "open `%s` in container root", path);
  return fd;
}

/* Replace the component ending at buf[i] (a dangling symlink) by its target and
 * return the rewritten path; the caller restarts the walk on it. */
static BERTH_WUR char *expand_dangling_link(int rootfd, const char *buf, size_t i, const char *rest,
                                            berth_error_t *err)
{
  const char *slash = strrchr(buf, '/');
  cleanup_free char *parent = slash ? xstrndup(buf, (size_t) (slash - buf)) : xstrdup("");
  const char *name = slash ? slash + 1 : buf;
  cleanup_close int pfd = berth_openat2(rootfd, *parent ? parent : "/", O_PATH | O_DIRECTORY | O_CLOEXEC, 0,
                                        RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
  if (pfd < 0) {
    berth_error_make(err, errno, "open parent of `%s` in container root", buf);
    return NULL;
  }
  char target[PATH_MAX];
  ssize_t n = readlinkat(pfd, name, target, sizeof target - 1);
  if (n < 0) {
    berth_error_make(err, errno == EINVAL ? EEXIST : errno, "mkdir `%s` in container root", buf);
    return NULL;
  }
  target[n] = '\0';
  (void) i;
  if (target[0] == '/')
    return xasprintf("%s%s", target, rest);
  return xasprintf("%s/%s%s", parent, target, rest);
}

int berth_mkdir_p_in_root(int rootfd, const char *path, mode_t mode, berth_error_t *err)
{
  cleanup_free char *buf = xstrdup(path);
  int links = 0;
restart:;
  size_t len = strlen(buf);
  /* walk prefixes: /a, /a/b, ... ; each prefix is resolved in root */
  for (size_t i = 0; i <= len; i++) {
    if ((buf[i] != '/' && buf[i] != '\0') || i == 0 || buf[i - 1] == '/')
      continue;
    char saved = buf[i];
    buf[i] = '\0';
    int fd = berth_openat2(rootfd, buf, O_PATH | O_DIRECTORY | O_CLOEXEC, 0,
                           RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
    if (fd < 0 && errno == ENOENT) {
      char *slash = strrchr(buf, '/');
      cleanup_close int parent = -1;
      const char *name = buf;
      if (slash != NULL) {
        *slash = '\0';
        parent = berth_openat2(rootfd, *buf ? buf : "/", O_PATH | O_DIRECTORY | O_CLOEXEC, 0,
                               RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
        *slash = '/';
        name = slash + 1;
        if (parent < 0)
          return BERTH_ERR_ERRNO(err, "open parent of `%s` in container root", buf);
      } else {
        parent = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
        if (parent < 0)
          return BERTH_ERR_ERRNO(err, "dup root fd");
      }
      if (mkdirat(parent, name, mode) < 0) {
        if (errno != EEXIST)
          return BERTH_ERR_ERRNO(err, "mkdir `%s` in container root", buf);
        /* a dangling symlink: create its target, still inside the root */
        if (++links > 40)
          return berth_error_make(err, ELOOP, "mkdir `%s` in container root", path);
        buf[i] = saved;
        cleanup_free char *prefix = xstrndup(buf, i);
        char *next = expand_dangling_link(rootfd, prefix, i, buf + i, err);
        if (next == NULL)
          return -1;
        free(buf);
        buf = next;
        goto restart;
      }
      fd = berth_openat2(rootfd, buf, O_PATH | O_DIRECTORY | O_CLOEXEC, 0,
                         RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
    }
    if (fd < 0)
      return BERTH_ERR_ERRNO(err, "open directory `%s` in container root", buf);
    buf[i] = saved;
    if (saved == '\0')
      return fd;
    close(fd);
  }
  /* path was "/" or empty: the root itself */
  int fd = berth_openat2(rootfd, "/", O_PATH | O_DIRECTORY | O_CLOEXEC, 0, RESOLVE_IN_ROOT);
  if (fd < 0)
    return BERTH_ERR_ERRNO(err, "open container root");
  return fd;
}

int berth_mkdir_p(const char *path, mode_t mode, berth_error_t *err)
{
  cleanup_free char *buf = xstrdup(path);
  for (char *p = buf + 1; *p; p++) {
    if (*p != '/')
      continue;
    *p = '\0';
    if (mkdir(buf, mode) < 0 && errno != EEXIST)
      return BERTH_ERR_ERRNO(err, "mkdir `%s`", buf);
    *p = '/';
  }
  if (mkdir(buf, mode) < 0 && errno != EEXIST)
    return BERTH_ERR_ERRNO(err, "mkdir `%s`", buf);
  return 0;
}

int berth_write_all(int fd, const void *data, size_t len)
{
  const char *p = data;
  while (len > 0) {
    ssize_t w = write(fd, p, len);
    if (w < 0 && errno == EINTR)
      continue;
    if (w < 0)
      return -1;
    p += w;
    len -= (size_t) w;
  }
  return 0;
}

ssize_t berth_read_all(int fd, void *data, size_t len)
{
  char *p = data;
  size_t got = 0;
  while (got < len) {
    ssize_t r = read(fd, p + got, len - got);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      return -1;
    if (r == 0)
      break;
    got += (size_t) r;
  }
  return (ssize_t) got;
}

int berth_read_file_at(int dirfd, const char *path, size_t max, char **out, size_t *len, berth_error_t *err)
{
  if (max == 0)
    max = 64 << 20;
  cleanup_close int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return BERTH_ERR_ERRNO(err, "open `%s`", path);
  size_t cap = 4096, n = 0;
  cleanup_free char *buf = xmalloc(cap);
  for (;;) {
    if (n + 1 >= cap) {
      if (cap >= max + 1)
        return BERTH_ERR(err, "read `%s`: file larger than %zu bytes", path, max);
      cap *= 2;
      if (cap > max + 1)
        cap = max + 1;
      buf = xrealloc(buf, cap);
    }
    ssize_t r = read(fd, buf + n, cap - n - 1);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      return BERTH_ERR_ERRNO(err, "read `%s`", path);
    if (r == 0)
      break;
    n += (size_t) r;
  }
  buf[n] = '\0';
  if (len)
    *len = n;
  *out = steal_ptr(buf);
  return 0;
}

int berth_write_file_at(int dirfd, const char *path, const void *data, size_t len, berth_error_t *err)
{
  cleanup_close int fd = openat(dirfd, path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return BERTH_ERR_ERRNO(err, "open `%s` for writing", path);
  if (berth_write_all(fd, data, len) < 0)
    return BERTH_ERR_ERRNO(err, "write `%s`", path);
  return 0;
}

int berth_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode, berth_error_t *err)
{
  cleanup_output struct berth_output o = BERTH_OUTPUT_INIT;
  if (berth_output_open(path, mode, &o, err) < 0)
    return -1;
  if (berth_write_all(o.fd, data, len) < 0)
    return BERTH_ERR_ERRNO(err, "write `%s`", path);
  return berth_output_commit(&o, err);
}

const char *berth_fd_path(int fd, char *buf, size_t len)
{
  snprintf(buf, len, "/proc/self/fd/%d", fd);
  return buf;
}

int berth_close_fds_from(int first, const int *keep, size_t nkeep)
{
  /* close the gaps between kept fds with close_range */
  int lo = first;
  for (;;) {
    int next = INT_MAX;
    for (size_t i = 0; i < nkeep; i++)
      if (keep[i] >= lo && keep[i] < next)
        next = keep[i];
    if (next > lo) {
      unsigned int hi = next == INT_MAX ? ~0U : (unsigned int) next - 1;
      if (syscall(SYS_close_range, (unsigned int) lo, hi, 0) < 0)
        return -1;
    }
    if (next == INT_MAX)
      return 0;
    lo = next + 1;
  }
}

int berth_cloexec_fds_from(int first)
{
  if (syscall(SYS_close_range, (unsigned int) first, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
    return 0;
  /* fallback for kernels without CLOSE_RANGE_CLOEXEC */
  cleanup_dir DIR *d = opendir("/proc/self/fd");
  if (d == NULL)
    return -1;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    int fd;
    if (berth_parse_int(de->d_name, &fd) < 0 || fd < first || fd == dirfd(d))
      continue;
    int fl = fcntl(fd, F_GETFD);
    if (fl >= 0)
      fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
  }
  return 0;
}

int berth_dir_flock_shared(const char *dir)
{
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (fd >= 0 && flock(fd, LOCK_SH) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

int berth_fd_is_procfs(int fd, berth_error_t *err)
{
  struct statfs sfs;
  if (fstatfs(fd, &sfs) < 0)
    return BERTH_ERR_ERRNO(err, "fstatfs");
  return sfs.f_type == PROC_SUPER_MAGIC ? 1 : 0;
}
