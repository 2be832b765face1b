/* `berth cp` with `-`: a tar stream on stdout (container -> host) or stdin (host -> container),
 * as docker cp. Paths resolve inside the container's root like every other copy. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/cp/cp.h"
#include "image/layer.h"

#define MAX_LINKS 40

/* path cleaned lexically, as Docker's filepath.Clean on the container side: absolute, no "."
 * or ".." components (".." above the root stays at the root), no repeated or trailing
 * slashes; *dir when the path ended with a slash. The last component is then a real name, so
 * that what is opened relative to its parent directory is always below that directory. */
static char *clean_path(const char *path, bool *dir)
{
  size_t n = strlen(path);
  *dir = n > 0 && path[n - 1] == '/';
  char *out = xmalloc(n + 2);
  size_t len = 0;
  const char *p = path;
  while (*p) {
    while (*p == '/')
      p++;
    size_t k = strcspn(p, "/");
    if (k == 0 || (k == 1 && p[0] == '.')) {
      p += k;
      continue;
    }
    if (k == 2 && p[0] == '.' && p[1] == '.') {
      while (len > 0 && out[len - 1] != '/')
        len--;
      if (len > 0)
        len--; /* the slash before the dropped component */
      p += k;
      continue;
    }
    out[len++] = '/';
    memcpy(out + len, p, k);
    len += k;
    p += k;
  }
  if (len == 0)
    out[len++] = '/';
  out[len] = '\0';
  return out;
}

/* docker cp's "SRC/.": the directory's entries, not the directory */
static bool names_contents(const char *path)
{
  size_t n = strlen(path);
  return strcmp(path, ".") == 0 || (n >= 2 && strcmp(path + n - 2, "/.") == 0);
}

/* the directory holding path's last component (opened inside root) and that component; with
 * follow, a symlink there is followed (inside root, as often as the kernel would) */
static BERTH_WUR int split_in_root(int root, const char *path, bool follow, int *parent, char **base,
                                   berth_error_t *err)
{
  cleanup_free char *cur = xstrdup(path);
  for (int links = 0;; links++) {
    char *slash = strrchr(cur, '/'); /* cur is clean: absolute, a real last component */
    cleanup_free char *dir = slash == cur ? xstrdup("/") : xstrndup(cur, (size_t) (slash - cur));
    const char *name = slash + 1;
    cleanup_close int fd = berth_open_in_root(root, dir, O_RDONLY | O_DIRECTORY, 0, err);
    if (fd < 0)
      return -1;
    struct stat st;
    if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
      return BERTH_ERR_ERRNO(err, "`%s`", path);
    if (!follow || !S_ISLNK(st.st_mode)) {
      *parent = steal_fd(fd);
      *base = xstrdup(name);
      return 0;
    }
    if (links == MAX_LINKS)
      return BERTH_ERR(err, "`%s`: too many levels of symbolic links", path);
    char target[PATH_MAX];
    ssize_t n = readlinkat(fd, name, target, sizeof target - 1);
    if (n <= 0)
      return BERTH_ERR_ERRNO(err, "read the symlink `%s`", cur);
    target[n] = '\0';
    char *next = target[0] == '/' ? xstrdup(target) : xasprintf("%s/%s", dir, target);
    free(cur);
    bool ignored;
    cur = clean_path(next, &ignored);
    free(next);
    if (strcmp(cur, "/") == 0)
      return BERTH_ERR(err, "`%s` leads to the container's root: name a path below it", path);
  }
}

int berth_cp_stream_out(int root, const char *src, bool follow, int out_fd, berth_error_t *err)
{
  bool must_be_dir;
  cleanup_free char *path = clean_path(src, &must_be_dir);
  if (names_contents(src) || strcmp(path, "/") == 0) {
    cleanup_close int dir = berth_open_in_root(root, path, O_RDONLY | O_DIRECTORY, 0, err);
    return dir < 0 ? -1 : berth_tar_write(dir, NULL, NULL, out_fd, err);
  }
  const char *as = strrchr(path, '/') + 1;
  cleanup_close int parent = -1;
  cleanup_free char *base = NULL;
  if (split_in_root(root, path, follow || must_be_dir, &parent, &base, err) < 0)
    return -1;
  struct stat st;
  if (fstatat(parent, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return BERTH_ERR_ERRNO(err, "`%s`", src);
  if (must_be_dir && !S_ISDIR(st.st_mode))
    return BERTH_ERR(err, "`%s` is not a directory", src);
  return berth_tar_write(parent, base, as, out_fd, err);
}

int berth_cp_stream_in(int in_fd, int root, const char *dst, berth_error_t *err)
{
  cleanup_close int dir = berth_open_in_root(root, dst, O_RDONLY | O_DIRECTORY, 0, err);
  if (dir < 0) {
    if ((*err)->errnum == ENOTDIR) {
      berth_error_release(err);
      return BERTH_ERR(err, "destination `%s` must be a directory", dst);
    }
    return -1;
  }
  return berth_tar_extract(in_fd, dir, err);
}
