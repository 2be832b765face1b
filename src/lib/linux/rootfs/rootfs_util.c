/* Small mount helpers shared by the rootfs setup: destinations resolved inside the root,
 * detached-tree binds, mount_setattr wrappers. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "linux/rootfs/rootfs_internal.h"

#define IN_ROOT (RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)

/* split "/a/b/c/" into parent "/a/b" and name "c" */
static char *split_parent(const char *path, const char **name_out)
{
  char *p = xstrdup(path);
  size_t n = strlen(p);
  while (n > 1 && p[n - 1] == '/')
    p[--n] = '\0';
  char *slash = strrchr(p, '/');
  if (slash == NULL) {
    *name_out = path + 0;
    free(p);
    return xstrdup("/");
  }
  *name_out = path + (slash + 1 - p);
  if (slash == p)
    slash[1] = '\0';
  else
    *slash = '\0';
  return p;
}

/* `name` in `parent` (a path in the root) is a symlink: its target as a path in the root, for
 * RESOLVE_IN_ROOT to resolve again (an absolute target or ".." stays inside the root) */
static char *link_target(int pfd, const char *parent, const char *name)
{
  char target[PATH_MAX];
  ssize_t n = readlinkat(pfd, name, target, sizeof target - 1);
  if (n <= 0)
    return NULL;
  target[n] = '\0';
  return target[0] == '/' ? xstrdup(target) : xasprintf("%s/%s", parent, target);
}

/* A file destination that does not resolve: created empty, with its parents. A dangling
 * symlink gets its target created instead (runc's rule), still inside the root. */
static BERTH_WUR int create_file_dest(int rootfd, const char *path, int hops, berth_error_t *err)
{
  const char *name = NULL;
  cleanup_free char *parent = split_parent(path, &name);
  cleanup_free char *base = xstrdup(name);
  char *end = base + strlen(base);
  while (end > base && end[-1] == '/')
    *--end = '\0';
  if (*base == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
    return BERTH_ERR(err, "create `%s` in container root: not a file name", path);
  cleanup_close int pfd = berth_mkdir_p_in_root(rootfd, parent, 0755, err);
  if (pfd < 0)
    return -1;
  int fd = openat(pfd, base, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, 0644);
  if (fd >= 0)
    return fd;
  if (errno != EEXIST)
    return BERTH_ERR_ERRNO(err, "create `%s` in container root", path);
  /* created meanwhile, or a dangling symlink: its target is made instead */
  fd = berth_openat2(rootfd, path, O_PATH | O_CLOEXEC, 0, IN_ROOT);
  if (fd >= 0 || errno != ENOENT)
    return fd >= 0 ? fd : BERTH_ERR_ERRNO(err, "open `%s` in container root", path);
  struct stat st;
  cleanup_free char *next = NULL;
  if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
    next = link_target(pfd, parent, base);
  if (next == NULL)
    return berth_error_make(err, ENOENT, "open `%s` in container root", path);
  if (hops >= 40)
    return berth_error_make(err, ELOOP, "create `%s` in container root", path);
  return create_file_dest(rootfd, next, hops + 1, err);
}

int rootfs_open_dest(int rootfd, const char *path, bool dir, berth_error_t *err)
{
  if (dir)
    return berth_mkdir_p_in_root(rootfd, path, 0755, err);
  int fd = berth_openat2(rootfd, path, O_PATH | O_CLOEXEC, 0, IN_ROOT);
  if (fd >= 0)
    return fd;
  if (errno != ENOENT)
    return BERTH_ERR_ERRNO(err, "open `%s` in container root", path);
  return create_file_dest(rootfd, path, 0, err);
}

int rootfs_reopen_mounted(int rootfd, const char *path, int oldfd, berth_error_t *err)
{
  cleanup_close int fd = berth_openat2(rootfd, path, O_PATH | O_CLOEXEC, 0, IN_ROOT);
  if (fd < 0)
    return BERTH_ERR_ERRNO(err, "reopen `%s` in container root", path);
  struct statx now, before;
  if (statx(fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &now) < 0 ||
      statx(oldfd, "", AT_EMPTY_PATH, STATX_MNT_ID, &before) < 0)
    return BERTH_ERR_ERRNO(err, "statx `%s`", path);
  bool same =
    (now.stx_mask & STATX_MNT_ID) && (before.stx_mask & STATX_MNT_ID) && now.stx_mnt_id == before.stx_mnt_id;
  bool not_root =
    (now.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) && !(now.stx_attributes & STATX_ATTR_MOUNT_ROOT);
  if (same || not_root)
    return BERTH_ERR(err, "`%s` is not the new mount: the destination changed while mounting", path);
  return steal_fd(fd);
}

int rootfs_setattr_fd(int fd, bool recursive, uint64_t set, uint64_t clr, uint64_t propagation)
{
  if (set == 0 && clr == 0 && propagation == 0)
    return 0;
  struct mount_attr a = { .attr_set = set, .attr_clr = clr, .propagation = propagation };
  return mount_setattr(fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &a, sizeof a);
}

int rootfs_propagate_fd(int fd, unsigned long propagation)
{
  if (propagation == 0)
    return 0;
  return rootfs_setattr_fd(fd, (propagation & MS_REC) != 0, 0, 0, propagation & ~(unsigned long) MS_REC);
}

int rootfs_bind_fd(int srcfd, int dstfd, const struct rootfs_bind *b, const char **step)
{
  unsigned int flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH;
  if (b->recursive)
    flags |= AT_RECURSIVE;
  cleanup_close int tree = b->detached ? fcntl(srcfd, F_DUPFD_CLOEXEC, 3) : open_tree(srcfd, "", flags);
  if (tree < 0) {
    *step = "clone the source tree";
    return -1;
  }
  if (b->userns_fd >= 0) {
    struct mount_attr a = { .attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t) b->userns_fd };
    if (mount_setattr(tree, "", AT_EMPTY_PATH | (b->ridmap ? AT_RECURSIVE : 0), &a, sizeof a) < 0) {
      *step = "idmap";
      return -1;
    }
  }
  if (rootfs_setattr_fd(tree, true, b->rset, b->rclr, 0) < 0) {
    *step = "set recursive attributes";
    return -1;
  }
  if (rootfs_setattr_fd(tree, false, b->set, b->clr, 0) < 0) {
    *step = "set attributes";
    return -1;
  }
  if (move_mount(tree, "", dstfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0) {
    int e = errno;
    struct stat s, d;
    *step = "attach";
    if (fstat(srcfd, &s) == 0 && fstat(dstfd, &d) == 0 && S_ISDIR(s.st_mode) != S_ISDIR(d.st_mode))
      *step = S_ISDIR(d.st_mode) ? "attach (the source is a file, the destination a directory)"
                                 : "attach (the source is a directory, the destination is not)";
    errno = e;
    return -1;
  }
  return steal_fd(tree);
}

int rootfs_mount_on_fd(const char *src, int dstfd, const char *type, unsigned long flags, const char *data)
{
  char buf[40];
  return mount(src, berth_fd_path(dstfd, buf, sizeof buf), type, flags, data);
}

char *rootfs_explain_data(const char *type, const char *data)
{
  if (data == NULL || data[0] == '\0')
    return NULL;
  cleanup_close int fs = fsopen(type, FSOPEN_CLOEXEC);
  if (fs < 0)
    return NULL;
  cleanup_free char *copy = xstrdup(data);
  for (char *save = NULL, *opt = strtok_r(copy, ",", &save); opt; opt = strtok_r(NULL, ",", &save)) {
    cleanup_free char *key = xstrdup(opt);
    char *eq = strchr(key, '=');
    if (eq)
      *eq++ = '\0';
    if (fsconfig(fs, eq ? FSCONFIG_SET_STRING : FSCONFIG_SET_FLAG, key, eq, 0) == 0)
      continue;
    int e = errno;
    /* the context's log, one message per read ("e tmpfs: Bad value for 'size'"; earlier
     * options may have left warnings): the last error is this option's */
    char log[512], last[512] = "";
    ssize_t n;
    while ((n = read(fs, log, sizeof log - 1)) > 0) {
      log[n] = '\0';
      log[strcspn(log, "\n")] = '\0';
      if (log[0] == 'e' && log[1] == ' ')
        snprintf(last, sizeof last, "%s", log + 2);
    }
    return xasprintf("option `%s`: %s", opt, last[0] ? last : berth_strerror(e));
  }
  return NULL;
}

char *rootfs_fd_path_in_root(const struct berth_rootfs_ctx *ctx, int fd)
{
  char link[40], target[PATH_MAX];
  ssize_t n = readlink(berth_fd_path(fd, link, sizeof link), target, sizeof target - 1);
  if (n < 0)
    return NULL;
  target[n] = '\0';
  size_t rl = strlen(ctx->rootfs);
  while (rl > 0 && ctx->rootfs[rl - 1] == '/')
    rl--;
  if (strncmp(target, ctx->rootfs, rl) != 0 || (target[rl] != '/' && target[rl] != '\0'))
    return NULL;
  return xstrdup(target[rl] ? target + rl : "/");
}

/* mountinfo escapes space, tab, newline and backslash as \ooo */
static char *unescape_octal(const char *s)
{
  char *out = xmalloc(strlen(s) + 1), *o = out;
  while (*s) {
    if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0' &&
        s[3] <= '7') {
      *o++ = (char) ((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
      s += 4;
    } else {
      *o++ = *s++;
    }
  }
  *o = '\0';
  return out;
}

static bool parse_mountinfo_line(char *line, struct rootfs_mountinfo *mi)
{
  char *save = NULL;
  char *f[6];
  for (int i = 0; i < 6; i++)
    if ((f[i] = strtok_r(i == 0 ? line : NULL, " ", &save)) == NULL)
      return false;
  bool shared = false;
  char *tok;
  while ((tok = strtok_r(NULL, " ", &save)) != NULL && strcmp(tok, "-") != 0)
    shared |= berth_str_has_prefix(tok, "shared:");
  char *fstype = strtok_r(NULL, " ", &save);
  char *source = strtok_r(NULL, " ", &save);
  char *super = strtok_r(NULL, " ", &save);
  if (tok == NULL || fstype == NULL || source == NULL || berth_parse_int(f[0], &mi->id) < 0)
    return false;
  mi->mountpoint = unescape_octal(f[4]);
  mi->fstype = xstrdup(fstype);
  mi->superopts = xstrdup(super ? super : "");
  mi->shared = shared;
  return true;
}

int rootfs_mountinfo_read(struct rootfs_mountinfo **out, size_t *n, berth_error_t *err)
{
  cleanup_free char *text = NULL;
  if (berth_read_file("/proc/self/mountinfo", 0, &text, NULL, err) < 0)
    return -1;
  struct rootfs_mountinfo *v = NULL;
  size_t count = 0;
  char *save = NULL;
  for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    struct rootfs_mountinfo mi = { 0 };
    if (!parse_mountinfo_line(line, &mi))
      continue;
    v = xreallocarray(v, count + 1, sizeof *v);
    v[count++] = mi;
  }
  *out = v;
  *n = count;
  return 0;
}

void rootfs_mountinfo_free(struct rootfs_mountinfo *v, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    free(v[i].mountpoint);
    free(v[i].fstype);
    free(v[i].superopts);
  }
  free(v);
}
