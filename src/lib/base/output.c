/* Output files made safely in a directory another user may write (base/output.h). */
#include "base/output.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/statfs.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/xalloc.h"

/* path split into its directory (opened O_PATH) and its last component; "a/b/" has none */
static BERTH_WUR int open_parent(const char *path, char **name, berth_error_t *err)
{
  if (*path == '\0')
    return BERTH_ERR(err, "an empty path");
  const char *slash = strrchr(path, '/');
  const char *base = slash ? slash + 1 : path;
  if (*base == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
    return berth_error_make(err, EISDIR, "`%s`: not a file name", path);
  cleanup_free char *dir = slash == NULL   ? xstrdup(".")
                           : slash == path ? xstrdup("/")
                                           : xstrndup(path, (size_t) (slash - path));
  int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return BERTH_ERR_ERRNO(err, "open directory `%s`", dir);
  *name = xstrdup(base);
  return fd;
}

/* a name nobody can have guessed: a planted file there would only make O_EXCL fail */
static char *tmp_name(void)
{
  static unsigned counter;
  unsigned char r[8];
  if (getrandom(r, sizeof r, GRND_NONBLOCK) != (ssize_t) sizeof r) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    unsigned long long v =
      (unsigned long long) ts.tv_nsec ^ ((unsigned long long) getpid() << 32) ^ ++counter;
    memcpy(r, &v, sizeof r);
  }
  char hex[2 * sizeof r + 1];
  for (size_t i = 0; i < sizeof r; i++)
    snprintf(hex + 2 * i, 3, "%02x", r[i]);
  return xasprintf(".berth-%s.tmp", hex);
}

int berth_output_open(const char *path, mode_t mode, struct berth_output *o, berth_error_t *err)
{
  struct berth_output n = BERTH_OUTPUT_INIT;
  n.dirfd = open_parent(path, &n.name, err);
  if (n.dirfd < 0)
    return -1;
  n.path = xstrdup(path);
  struct stat st;
  if (fstatat(n.dirfd, n.name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) {
    berth_output_abort(&n);
    return berth_error_make(err, EISDIR, "`%s` is a directory", path);
  }
  for (int tries = 0; n.fd < 0; tries++) {
    free(n.tmp);
    n.tmp = tmp_name();
    n.fd = openat(n.dirfd, n.tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, mode);
    if (n.fd < 0 && (errno != EEXIST || tries >= 100)) {
      int e = errno;
      free(steal_ptr(n.tmp));
      berth_output_abort(&n);
      return berth_error_make(err, e, "create `%s` (a new file next to it)", path);
    }
  }
  *o = n;
  return 0;
}

void berth_output_abort(struct berth_output *o)
{
  int saved = errno;
  if (o->fd >= 0)
    close(o->fd);
  if (o->tmp != NULL && o->dirfd >= 0)
    unlinkat(o->dirfd, o->tmp, 0);
  if (o->dirfd >= 0)
    close(o->dirfd);
  free(o->name);
  free(o->tmp);
  free(o->path);
  *o = (struct berth_output) BERTH_OUTPUT_INIT;
  errno = saved;
}

int berth_output_commit(struct berth_output *o, berth_error_t *err)
{
  int r = 0;
  int fd = steal_fd(o->fd);
  if (close(fd) < 0 && errno != EINTR)
    r = BERTH_ERR_ERRNO(err, "write `%s`", o->path);
  else if (renameat(o->dirfd, o->tmp, o->dirfd, o->name) < 0)
    r = BERTH_ERR_ERRNO(err, "rename a new file to `%s`", o->path);
  else
    free(steal_ptr(o->tmp)); /* in place: nothing to remove */
  berth_output_abort(o);
  return r;
}

int berth_output_mkdir(const char *path, mode_t mode, bool *made, berth_error_t *err)
{
  cleanup_free char *name = NULL;
  cleanup_close int pfd = open_parent(path, &name, err);
  if (pfd < 0)
    return -1;
  *made = mkdirat(pfd, name, mode) == 0;
  if (!*made && errno != EEXIST)
    return BERTH_ERR_ERRNO(err, "create `%s`", path);
  int fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd >= 0)
    return fd;
  struct stat st;
  if ((errno == ELOOP || errno == ENOTDIR) && fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
      S_ISLNK(st.st_mode))
    return berth_error_make(err, ELOOP, "`%s` is a symlink: not followed (name a directory)", path);
  return BERTH_ERR_ERRNO(err, "open `%s`", path);
}

/* the target of the symlink name in dirfd, when it belongs to us or to root; else an error */
static BERTH_WUR char *trusted_link(int dirfd, const char *name, const char *path, berth_error_t *err)
{
  cleanup_close int l = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;
  if (l < 0 || fstat(l, &st) < 0) {
    BERTH_ERR_ERRNO(err, "open `%s`", path);
    return NULL;
  }
  if (!S_ISLNK(st.st_mode)) { /* replaced meanwhile */
    berth_error_make(err, EAGAIN, "open `%s`: it changed while opened", path);
    return NULL;
  }
  if (st.st_uid != geteuid() && st.st_uid != 0) {
    berth_error_make(err, EPERM, "`%s` is a symlink of uid %u: not followed", path, (unsigned) st.st_uid);
    return NULL;
  }
  char target[PATH_MAX];
  ssize_t n = readlinkat(l, "", target, sizeof target - 1); /* the link checked above, not its name */
  if (n <= 0) {
    BERTH_ERR_ERRNO(err, "read the symlink `%s`", path);
    return NULL;
  }
  target[n] = '\0';
  return xstrdup(target);
}

int berth_output_open_trusted(const char *path, int flags, mode_t mode, berth_error_t *err)
{
  cleanup_free char *name = NULL;
  cleanup_close int pfd = open_parent(path, &name, err);
  if (pfd < 0)
    return -1;
  int fd = openat(pfd, name, flags | O_NOFOLLOW | O_CLOEXEC, mode);
  struct stat st;
  if (fd >= 0 && (!(flags & O_PATH) || (fstat(fd, &st) == 0 && !S_ISLNK(st.st_mode))))
    return fd;
  if (fd >= 0) /* O_PATH|O_NOFOLLOW opened the link itself */
    close(fd);
  else if (errno != ELOOP)
    return BERTH_ERR_ERRNO(err, "open `%s`", path);
  cleanup_free char *target = trusted_link(pfd, name, path, err);
  if (target == NULL)
    return -1;
  /* a procfs magic link (/proc/PID/fd/N, what /dev/stderr leads to): its text names no path
   * (`/memfd:x (deleted)`, `pipe:[…]`), the kernel resolves it to the open file itself */
  struct statfs sf;
  if (fstatfs(pfd, &sf) == 0 && sf.f_type == PROC_SUPER_MAGIC) {
    fd = openat(pfd, name, flags | O_CLOEXEC, mode);
    if (fd < 0)
      return BERTH_ERR_ERRNO(err, "open `%s`", path);
    return fd;
  }
  /* the target as its owner wrote it (relative to the link's directory), as open(2) would */
  fd = openat(pfd, target, flags | O_CLOEXEC, mode);
  if (fd < 0)
    return BERTH_ERR_ERRNO(err, "open `%s` (the target of `%s`)", target, path);
  return fd;
}
