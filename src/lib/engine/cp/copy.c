/* The copy engine of cp.h: docker cp's path rules, and a tree copy that opens every
 * entry by name relative to its directory's descriptor without following symlinks, creates with
 * O_EXCL|O_NOFOLLOW, and sets owners, modes and times through descriptors. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/output.h"
#include "base/xalloc.h"
#include "engine/cp/cp.h"

#define MAX_DEPTH 256  /* directories below the copied one */
#define MAX_LINKS 4096 /* hard-linked files remembered */
#ifndef MQUEUE_MAGIC
#define MQUEUE_MAGIC 0x19800202
#endif

struct link {
  dev_t dev;
  ino_t ino;
  int fd; /* the copy */
};

struct cp {
  struct berth_cp_stats *stats;
  struct link *links;
  size_t nlinks;
  int depth;
  char path[PATH_MAX]; /* the entry being copied, relative to the copy's top (messages) */
  size_t len;
};

static void cp_release(struct cp *c)
{
  for (size_t i = 0; i < c->nlinks; i++)
    close(c->links[i].fd);
  free(c->links);
  c->links = NULL;
  c->nlinks = 0;
}

/* push a name on c->path; returns the previous length */
static size_t path_push(struct cp *c, const char *name)
{
  size_t old = c->len;
  int n = snprintf(c->path + c->len, sizeof c->path - c->len, "%s%s", c->len ? "/" : "", name);
  if (n > 0)
    c->len = c->len + (size_t) n < sizeof c->path ? c->len + (size_t) n : sizeof c->path - 1;
  return old;
}

static void path_pop(struct cp *c, size_t old)
{
  c->len = old;
  c->path[old] = '\0';
}

static int fail(struct cp *c, berth_error_t *err, const char *what)
{
  return BERTH_ERR_ERRNO(err, "%s `%s`", what, c->len ? c->path : ".");
}

static bool pseudo_fs(int fd)
{
  struct statfs s;
  if (fstatfs(fd, &s) < 0)
    return false;
  switch ((unsigned long) s.f_type) {
  case PROC_SUPER_MAGIC:
  case SYSFS_MAGIC:
  case CGROUP_SUPER_MAGIC:
  case CGROUP2_SUPER_MAGIC:
  case DEVPTS_SUPER_MAGIC:
  case MQUEUE_MAGIC:
  case DEBUGFS_MAGIC:
  case TRACEFS_MAGIC:
  case SECURITYFS_MAGIC:
  case BPF_FS_MAGIC: return true;
  default: return false;
  }
}

static void copy_xattrs(int in, int out)
{
  char list[4096], value[4096];
  ssize_t n = flistxattr(in, list, sizeof list);
  for (ssize_t i = 0; n > 0 && i < n; i += (ssize_t) strlen(list + i) + 1) {
    const char *name = list + i;
    if (strncmp(name, "user.", 5) != 0 && strcmp(name, "security.capability") != 0)
      continue;
    ssize_t v = fgetxattr(in, name, value, sizeof value);
    if (v >= 0)
      berth_ignore(
        fsetxattr(out, name, value, (size_t) v, 0)); /* best effort: the target may not support it */
  }
}

/* owner, then mode (a chown clears setuid bits), then times, through a descriptor */
static BERTH_WUR int set_attrs_fd(struct cp *c, int fd, const struct stat *st, berth_error_t *err)
{
  const struct timespec times[2] = { st->st_atim, st->st_mtim };
  if (fchown(fd, st->st_uid, st->st_gid) < 0)
    return fail(c, err, "set the owner of");
  if (fchmod(fd, st->st_mode & 07777) < 0)
    return fail(c, err, "set the mode of");
  if (futimens(fd, times) < 0)
    return fail(c, err, "set the times of");
  return 0;
}

static BERTH_WUR int copy_data(struct cp *c, int in, int out, berth_error_t *err)
{
  char buf[128 * 1024];
  for (;;) {
    ssize_t n = read(in, buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return fail(c, err, "read");
    if (n == 0)
      return 0;
    if (berth_write_all(out, buf, (size_t) n) < 0)
      return fail(c, err, "write");
    if (c->stats)
      c->stats->bytes += (uint64_t) n;
  }
}

/* a hard link to a copy made earlier in this copy: 1 made, 0 not */
static int try_link(struct cp *c, const struct stat *st, int dparent, const char *name)
{
  for (size_t i = 0; i < c->nlinks; i++)
    if (c->links[i].dev == st->st_dev && c->links[i].ino == st->st_ino)
      return linkat(c->links[i].fd, "", dparent, name, AT_EMPTY_PATH) == 0;
  return 0;
}

static void remember_link(struct cp *c, const struct stat *st, int *fd)
{
  if (st->st_nlink < 2 || c->nlinks >= MAX_LINKS)
    return;
  c->links = xreallocarray(c->links, c->nlinks + 1, sizeof *c->links);
  c->links[c->nlinks++] = (struct link){ .dev = st->st_dev, .ino = st->st_ino, .fd = steal_fd(*fd) };
}

static BERTH_WUR int copy_file(struct cp *c, int sfd, const struct stat *st, int dparent, const char *name,
                               berth_error_t *err)
{
  if (st->st_nlink > 1 && try_link(c, st, dparent, name) == 1)
    return 0;
  char buf[32];
  struct stat in_st;
  /* the entry itself (sfd is O_PATH, never a symlink); non-blocking in case it became a fifo */
  cleanup_close int in =
    open(berth_fd_path(sfd, buf, sizeof buf), O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (in < 0)
    return fail(c, err, "open");
  if (fstat(in, &in_st) < 0 || !S_ISREG(in_st.st_mode) || in_st.st_ino != st->st_ino)
    return BERTH_ERR(err, "`%s` changed while it was copied", c->path);
  cleanup_close int out = openat(dparent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (out < 0)
    return fail(c, err, "create");
  if (copy_data(c, in, out, err) < 0)
    return -1;
  copy_xattrs(in, out);
  if (set_attrs_fd(c, out, st, err) < 0)
    return -1;
  remember_link(c, st, &out);
  return 0;
}

static BERTH_WUR int copy_symlink(struct cp *c, int sfd, const struct stat *st, int dparent, const char *name,
                                  berth_error_t *err)
{
  char target[PATH_MAX];
  ssize_t n = readlinkat(sfd, "", target, sizeof target - 1);
  if (n < 0)
    return fail(c, err, "read the symlink");
  target[n] = '\0';
  const struct timespec times[2] = { st->st_atim, st->st_mtim };
  if (symlinkat(target, dparent, name) < 0)
    return fail(c, err, "create the symlink");
  if (fchownat(dparent, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0)
    return fail(c, err, "set the owner of");
  if (utimensat(dparent, name, times, AT_SYMLINK_NOFOLLOW) < 0)
    return fail(c, err, "set the times of");
  return 0;
}

/* fifos and device nodes: the attributes through an O_PATH descriptor of what was made */
static BERTH_WUR int copy_node(struct cp *c, const struct stat *st, int dparent, const char *name,
                               berth_error_t *err)
{
  if (mknodat(dparent, name, st->st_mode & (S_IFMT | 07777), st->st_rdev) < 0)
    return fail(c, err, "create");
  cleanup_close int fd = openat(dparent, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  struct stat now;
  if (fd < 0 || fstat(fd, &now) < 0)
    return fail(c, err, "open");
  if ((now.st_mode & S_IFMT) != (st->st_mode & S_IFMT))
    return BERTH_ERR(err, "`%s` changed while it was copied", c->path);
  char buf[32];
  const char *p = berth_fd_path(fd, buf, sizeof buf);
  const struct timespec times[2] = { st->st_atim, st->st_mtim };
  if (fchownat(fd, "", st->st_uid, st->st_gid, AT_EMPTY_PATH) < 0)
    return fail(c, err, "set the owner of");
  if (chmod(p, st->st_mode & 07777) < 0)
    return fail(c, err, "set the mode of");
  if (utimensat(AT_FDCWD, p, times, 0) < 0)
    return fail(c, err, "set the times of");
  return 0;
}

static BERTH_WUR int copy_entry(struct cp *c, int sfd, const struct stat *st, int dparent, const char *name,
                                berth_error_t *err);

/* every entry of the directory sd into the directory dd */
static BERTH_WUR int copy_children(struct cp *c, int sd, int dd, berth_error_t *err)
{
  int dup_fd = fcntl(sd, F_DUPFD_CLOEXEC, 0);
  cleanup_dir DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
  if (d == NULL) {
    int saved = errno;
    if (dup_fd >= 0)
      close(dup_fd);
    errno = saved;
    return fail(c, err, "read the directory");
  }
  if (++c->depth > MAX_DEPTH)
    return BERTH_ERR(err, "`%s`: directories nested deeper than %d", c->path, MAX_DEPTH);
  int r = 0;
  for (struct dirent *de; r == 0 && (errno = 0, de = readdir(d)) != NULL;) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    size_t old = path_push(c, de->d_name);
    cleanup_close int fd = openat(sd, de->d_name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (fd < 0 && errno == ENOENT) { /* removed meanwhile */
      path_pop(c, old);
      continue;
    }
    if (fd < 0 || fstat(fd, &st) < 0)
      r = fail(c, err, "open");
    else
      r = copy_entry(c, fd, &st, dd, de->d_name, err);
    path_pop(c, old);
  }
  if (r == 0 && errno != 0)
    r = fail(c, err, "read the directory");
  c->depth--;
  return r;
}

static BERTH_WUR int copy_dir(struct cp *c, int sfd, const struct stat *st, int dparent, const char *name,
                              bool exists, berth_error_t *err)
{
  if (!exists && mkdirat(dparent, name, 0700) < 0)
    return fail(c, err, "create the directory");
  cleanup_close int dd = berth_openat2(dparent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0,
                                       RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
  if (dd < 0)
    return fail(c, err, "open the directory");
  cleanup_close int sd = openat(sfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (sd < 0)
    return fail(c, err, "open the directory");
  if (!pseudo_fs(sd) && copy_children(c, sd, dd, err) < 0)
    return -1;
  copy_xattrs(sd, dd);
  return set_attrs_fd(c, dd, st, err);
}

static const char *kind(mode_t m) { return S_ISDIR(m) ? "directory" : "non-directory"; }

static int copy_entry(struct cp *c, int sfd, const struct stat *st, int dparent, const char *name,
                      berth_error_t *err)
{
  if (*name == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || strchr(name, '/'))
    return BERTH_ERR(err, "invalid name `%s`", name);
  if (S_ISSOCK(st->st_mode))
    return 0; /* like tar: sockets are not copied */
  struct stat old;
  bool exists = fstatat(dparent, name, &old, AT_SYMLINK_NOFOLLOW) == 0;
  if (!exists && errno != ENOENT)
    return fail(c, err, "look at");
  if (exists && S_ISDIR(old.st_mode) != S_ISDIR(st->st_mode))
    return BERTH_ERR(err, "cannot overwrite %s `%s` with a %s", kind(old.st_mode), c->len ? c->path : name,
                     kind(st->st_mode));
  if (exists && !S_ISDIR(old.st_mode) && unlinkat(dparent, name, 0) < 0)
    return fail(c, err, "replace");
  if (c->stats)
    c->stats->entries++;
  switch (st->st_mode & S_IFMT) {
  case S_IFREG: return copy_file(c, sfd, st, dparent, name, err);
  case S_IFDIR: return copy_dir(c, sfd, st, dparent, name, exists, err);
  case S_IFLNK: return copy_symlink(c, sfd, st, dparent, name, err);
  default: return copy_node(c, st, dparent, name, err);
  }
}

/* ---- docker cp's path rules ---- */

struct cp_path {
  char *full; /* without a trailing "/" or "/." */
  char *dir;  /* its parent */
  char *name; /* its last component; "" for "/" or a path ending in ".." or "." */
  bool slash; /* ended with "/" */
  bool dot;   /* ended with "/." (the directory's contents) */
};

static void cp_path_parse(const char *in, struct cp_path *p)
{
  memset(p, 0, sizeof *p);
  size_t len = strlen(in);
  if ((len >= 2 && strcmp(in + len - 2, "/.") == 0) || strcmp(in, ".") == 0) {
    p->dot = true;
    len--;
  }
  if (len > 0 && in[len - 1] == '/')
    p->slash = true;
  while (len > 1 && in[len - 1] == '/')
    len--;
  p->full = len ? xstrndup(in, len) : xstrdup(".");
  char *slash = strrchr(p->full, '/');
  const char *name = slash ? slash + 1 : p->full;
  p->dir = slash == NULL      ? xstrdup(".")
           : slash == p->full ? xstrdup("/")
                              : xstrndup(p->full, (size_t) (slash - p->full));
  p->name = strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ? xstrdup("") : xstrdup(name);
}

static void cp_path_release(struct cp_path *p)
{
  free(p->full);
  free(p->dir);
  free(p->name);
}

static BERTH_WUR int side_open(const struct berth_cp_side *s, const char *path, int flags, berth_error_t *err)
{
  int fd = s->root >= 0
             ? berth_openat2(s->root, path, flags | O_CLOEXEC, 0, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)
             : openat(AT_FDCWD, path, flags | O_CLOEXEC);
  if (fd < 0)
    return BERTH_ERR_ERRNO(err, "`%s`", path);
  return fd;
}

/* into an existing directory dir: docker cp's "dir/<name>", or the contents for "src/." */
static BERTH_WUR int copy_into_dir(struct cp *c, int sfd, const struct stat *st, const struct cp_path *sp,
                                   int dirfd, berth_error_t *err)
{
  cleanup_close int dd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dd < 0)
    return fail(c, err, "open the directory");
  if (!S_ISDIR(st->st_mode) || (!sp->dot && *sp->name))
    return copy_entry(c, sfd, st, dd, sp->name, err);
  cleanup_close int sd = openat(sfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (sd < 0)
    return fail(c, err, "open the directory");
  return pseudo_fs(sd) ? 0 : copy_children(c, sd, dd, err);
}

static BERTH_WUR int copy_to(struct cp *c, int sfd, const struct stat *st, const struct cp_path *sp,
                             const struct berth_cp_side *dst, const struct cp_path *dp, berth_error_t *err)
{
  berth_error_t none = NULL;
  struct stat dst_st;
  /* on the host, a symlink at the destination's name is followed only when it is root's or the
   * caller's own: never one that another user planted where they can write (base/output.h) */
  cleanup_close int dfd = dst->root < 0 && *dp->name ? berth_output_open_trusted(dp->full, O_PATH, 0, &none)
                                                     : side_open(dst, dp->full, O_PATH, &none);
  if (dfd < 0 && none->errnum != ENOENT) {
    *err = none;
    return berth_error_wrap(err, "destination");
  }
  berth_error_release(&none);
  if (dfd >= 0 && fstat(dfd, &dst_st) < 0)
    return BERTH_ERR_ERRNO(err, "destination `%s`", dp->full);
  if (dfd >= 0 && S_ISDIR(dst_st.st_mode))
    return copy_into_dir(c, sfd, st, sp, dfd, err);
  if (dp->slash || dp->dot)
    return dfd >= 0 ? BERTH_ERR(err, "destination `%s` is not a directory", dp->full)
                    : BERTH_ERR(err, "destination directory `%s` does not exist", dp->full);
  if (dfd >= 0 && S_ISDIR(st->st_mode))
    return BERTH_ERR(err, "cannot copy a directory to a file: destination `%s` is a file", dp->full);
  cleanup_close int parent = side_open(dst, dp->dir, O_PATH | O_DIRECTORY, err);
  if (parent < 0)
    return berth_error_wrap(err, "destination directory");
  return copy_entry(c, sfd, st, parent, dp->name, err);
}

int berth_cp_copy(const struct berth_cp_side *src, const char *src_path, const struct berth_cp_side *dst,
                  const char *dst_path, const struct berth_cp_opts *o, struct berth_cp_stats *stats,
                  berth_error_t *err)
{
  struct cp_path sp, dp;
  if (*src_path == '\0' || *dst_path == '\0')
    return BERTH_ERR(err, "empty path");
  cp_path_parse(src_path, &sp);
  cp_path_parse(dst_path, &dp);
  struct cp c = { .stats = stats };
  struct stat st;
  bool follow = (o && o->follow_link) || *sp.name == '\0' || sp.slash || sp.dot;
  int r = 0;
  cleanup_close int sfd = side_open(src, sp.full, O_PATH | (follow ? 0 : O_NOFOLLOW), err);
  if (sfd < 0)
    r = -1;
  else if (fstat(sfd, &st) < 0)
    r = BERTH_ERR_ERRNO(err, "`%s`", sp.full);
  else if ((sp.slash || sp.dot) && !S_ISDIR(st.st_mode))
    r = BERTH_ERR(err, "`%s` is not a directory", src_path);
  else
    r = copy_to(&c, sfd, &st, &sp, dst, &dp, err);
  cp_release(&c);
  cp_path_release(&sp);
  cp_path_release(&dp);
  return r;
}

int berth_cp_tree_into(int src_dirfd, int dst_dirfd, struct berth_cp_stats *stats, berth_error_t *err)
{
  struct cp c = { .stats = stats };
  struct stat st;
  cleanup_close int sd = openat(src_dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cleanup_close int dd = openat(dst_dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int r = 0;
  if (sd < 0 || dd < 0 || fstat(sd, &st) < 0)
    r = fail(&c, err, "open the directory");
  else if (copy_children(&c, sd, dd, err) == 0) {
    copy_xattrs(sd, dd);
    r = set_attrs_fd(&c, dd, &st, err);
  } else {
    r = -1;
  }
  cp_release(&c);
  return r;
}
