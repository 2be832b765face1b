/* COPY's copy: sources (a context directory or a stage's root) into the root being built, one
 * directory at a time by descriptor, never following a symlink below the source, every
 * destination path resolved inside the destination root. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/strbuf.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "build/context_internal.h"
#include "build/instr.h"

struct link_seen {
  dev_t dev;
  ino_t ino;
  char *path; /* relative to the top destination directory */
};

struct copier {
  const struct berth_build_root *r;
  const struct berth_build_copy_opts *o;
  struct berth_build_copy_stats *stats;
  const char *base; /* the source relative to its root (.dockerignore) */
  int dst_top;      /* the directory the copy goes into */
  struct link_seen *links;
  size_t nlinks;
  char *buf;
};

static void owner_of(const struct copier *c, const struct stat *st, uid_t *uid, gid_t *gid)
{
  if (c->o->chown) {
    *uid = c->o->uid;
    *gid = c->o->gid;
  } else if (c->r->context) {
    *uid = 0;
    *gid = 0;
  } else {
    *uid = st->st_uid;
    *gid = st->st_gid;
  }
}

static mode_t mode_of(const struct copier *c, const struct stat *st)
{
  mode_t m = st->st_mode & 07777;
  if (c->o->chmod && c->o->chmod_symbolic)
    return berth_build_chmod_apply(c->o->chmod_symbolic, m, S_ISDIR(st->st_mode));
  return c->o->chmod ? c->o->mode : m;
}

static struct timespec mtime_of(const struct berth_build_copy_opts *o, struct timespec t)
{
  if (o->clamp && t.tv_sec >= o->epoch)
    return (struct timespec){ .tv_sec = o->epoch };
  return t;
}

/* owner, mode and times of dst_dirfd/name (an fd >= 0 instead when it has one) */
static BERTH_WUR int set_meta(const struct copier *c, int fd, int dirfd, const char *name,
                              const struct stat *st, const char *what, berth_error_t *err)
{
  uid_t uid;
  gid_t gid;
  owner_of(c, st, &uid, &gid);
  bool link = S_ISLNK(st->st_mode);
  int r = fd >= 0 ? fchown(fd, uid, gid) : fchownat(dirfd, name, uid, gid, AT_SYMLINK_NOFOLLOW);
  if (r < 0)
    return BERTH_ERR_ERRNO(err, "chown `%s`", what);
  if (!link && (fd >= 0 ? fchmod(fd, mode_of(c, st)) : fchmodat(dirfd, name, mode_of(c, st), 0)) < 0)
    return BERTH_ERR_ERRNO(err, "chmod `%s`", what);
  struct timespec ts[2];
  ts[0] = ts[1] = mtime_of(c->o, st->st_mtim);
  r = fd >= 0 ? futimens(fd, ts) : utimensat(dirfd, name, ts, AT_SYMLINK_NOFOLLOW);
  if (r < 0)
    return BERTH_ERR_ERRNO(err, "set the times of `%s`", what);
  return 0;
}

/* user.* and security.capability (a binary's file capabilities), fd to fd */
static void copy_xattrs(int from, int to)
{
  char names[4096];
  ssize_t n = flistxattr(from, names, sizeof names);
  for (ssize_t i = 0; i < n; i += (ssize_t) strlen(names + i) + 1) {
    const char *k = names + i;
    if (!berth_str_has_prefix(k, "user.") && strcmp(k, "security.capability") != 0)
      continue;
    char v[4096];
    ssize_t vl = fgetxattr(from, k, v, sizeof v);
    if (vl >= 0)
      (void) !fsetxattr(to, k, v, (size_t) vl, 0);
  }
}

static BERTH_WUR int copy_data(struct copier *c, int in, int out, const char *what, berth_error_t *err)
{
  bool plain = false;
  for (;;) {
    ssize_t n = plain ? read(in, c->buf, 1 << 20) : copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
    if (n < 0 && !plain && (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP)) {
      plain = true;
      continue;
    }
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return BERTH_ERR_ERRNO(err, "copy `%s`", what);
    if (n == 0)
      return 0;
    if (plain && berth_write_all(out, c->buf, (size_t) n) < 0)
      return BERTH_ERR_ERRNO(err, "write `%s`", what);
    c->stats->bytes += (uint64_t) n;
  }
}

/* make room for a non-directory at dirfd/name: a directory there is an error */
static BERTH_WUR int clear_slot(int dirfd, const char *name, const char *what, berth_error_t *err)
{
  struct stat st;
  if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return 0;
  if (S_ISDIR(st.st_mode))
    return BERTH_ERR(err, "cannot overwrite directory `%s` with a non-directory", what);
  if (unlinkat(dirfd, name, 0) < 0)
    return BERTH_ERR_ERRNO(err, "replace `%s`", what);
  return 0;
}

static BERTH_WUR int copy_regular(struct copier *c, int sdir, const char *sname, const struct stat *st,
                                  int ddir, const char *dname, const char *rel, berth_error_t *err)
{
  if (clear_slot(ddir, dname, rel, err) < 0)
    return -1;
  if (st->st_nlink > 1) {
    for (size_t i = 0; i < c->nlinks; i++)
      if (c->links[i].dev == st->st_dev && c->links[i].ino == st->st_ino) {
        if (linkat(c->dst_top, c->links[i].path, ddir, dname, 0) < 0)
          return BERTH_ERR_ERRNO(err, "link `%s`", rel);
        return 0;
      }
    c->links = xreallocarray(c->links, c->nlinks + 1, sizeof *c->links);
    c->links[c->nlinks++] = (struct link_seen){ .dev = st->st_dev, .ino = st->st_ino, .path = xstrdup(rel) };
  }
  char p[32];
  cleanup_close int in = *sname ? openat(sdir, sname, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
                                : open(berth_fd_path(sdir, p, sizeof p), O_RDONLY | O_CLOEXEC);
  if (in < 0)
    return BERTH_ERR_ERRNO(err, "open `%s`", rel);
  cleanup_close int out = openat(ddir, dname, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (out < 0)
    return BERTH_ERR_ERRNO(err, "create `%s`", rel);
  if (copy_data(c, in, out, rel, err) < 0)
    return -1;
  copy_xattrs(in, out);
  return set_meta(c, out, -1, NULL, st, rel, err);
}

static BERTH_WUR int copy_entry(struct copier *c, int sdir, const char *sname, int ddir, const char *dname,
                                const char *rel, berth_error_t *err);

/* the entries of the directory sfd into dfd */
static BERTH_WUR int copy_children(struct copier *c, int sfd, int dfd, const char *rel, berth_error_t *err)
{
  cleanup_strv char **names = NULL;
  if (ctx_list_dir(sfd, rel, &names, err) < 0)
    return -1;
  for (size_t i = 0; names[i]; i++) {
    cleanup_free char *sub = strcmp(rel, ".") == 0 ? xstrdup(names[i]) : xasprintf("%s/%s", rel, names[i]);
    cleanup_free char *full = strcmp(c->base, ".") == 0 ? xstrdup(sub) : xasprintf("%s/%s", c->base, sub);
    if (ctx_excluded(c->o->excludes, sub) || ctx_ignored(c->r, full))
      continue;
    if (copy_entry(c, sfd, names[i], dfd, names[i], sub, err) < 0)
      return -1;
  }
  return 0;
}

static BERTH_WUR int copy_dir(struct copier *c, int sdir, const char *sname, const struct stat *st, int ddir,
                              const char *dname, const char *rel, berth_error_t *err)
{
  struct stat have;
  if (fstatat(ddir, dname, &have, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(have.st_mode) &&
      unlinkat(ddir, dname, 0) < 0)
    return BERTH_ERR_ERRNO(err, "replace `%s`", rel);
  if (mkdirat(ddir, dname, 0700) < 0 && errno != EEXIST)
    return BERTH_ERR_ERRNO(err, "mkdir `%s`", rel);
  cleanup_close int sfd = openat(sdir, *sname ? sname : ".", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  cleanup_close int dfd = openat(ddir, dname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (sfd < 0 || dfd < 0)
    return BERTH_ERR_ERRNO(err, "open `%s`", rel);
  if (copy_children(c, sfd, dfd, rel, err) < 0)
    return -1;
  copy_xattrs(sfd, dfd);
  return set_meta(c, dfd, -1, NULL, st, rel, err);
}

static BERTH_WUR int copy_entry(struct copier *c, int sdir, const char *sname, int ddir, const char *dname,
                                const char *rel, berth_error_t *err)
{
  struct stat st;
  if (fstatat(sdir, sname, &st, AT_SYMLINK_NOFOLLOW | (*sname ? 0 : AT_EMPTY_PATH)) < 0)
    return BERTH_ERR_ERRNO(err, "stat `%s`", rel);
  c->stats->entries++;
  if (S_ISDIR(st.st_mode))
    return copy_dir(c, sdir, sname, &st, ddir, dname, rel, err);
  if (S_ISREG(st.st_mode))
    return copy_regular(c, sdir, sname, &st, ddir, dname, rel, err);
  if (S_ISSOCK(st.st_mode))
    return 0;
  if (clear_slot(ddir, dname, rel, err) < 0)
    return -1;
  if (S_ISLNK(st.st_mode)) {
    char target[4096];
    ssize_t n = readlinkat(sdir, sname, target, sizeof target - 1);
    if (n < 0)
      return BERTH_ERR_ERRNO(err, "readlink `%s`", rel);
    target[n] = '\0';
    if (symlinkat(target, ddir, dname) < 0)
      return BERTH_ERR_ERRNO(err, "symlink `%s`", rel);
  } else if (mknodat(ddir, dname, st.st_mode, st.st_rdev) < 0) {
    return BERTH_ERR_ERRNO(err, "mknod `%s`", rel);
  }
  return set_meta(c, -1, ddir, dname, &st, rel, err);
}

/* uid/gid/mode for a directory just made, mtime when >= 0 */
static BERTH_WUR int own_new_dir(int fd, uint32_t mode, uint32_t uid, uint32_t gid, int64_t mtime,
                                 const char *path, berth_error_t *err)
{
  char p[32];
  if (chown(berth_fd_path(fd, p, sizeof p), uid, gid) < 0 || chmod(berth_fd_path(fd, p, sizeof p), mode) < 0)
    return BERTH_ERR_ERRNO(err, "chown `%s`", path);
  if (mtime >= 0) {
    struct timespec ts[2] = { { .tv_sec = mtime }, { .tv_sec = mtime } };
    (void) !utimensat(AT_FDCWD, berth_fd_path(fd, p, sizeof p), ts, 0);
  }
  return 0;
}

/* the path with the dangling symlink at prefix (made of the components before rest) replaced by
 * its target */
static char *follow_dangling(int cur, const char *comp, const char *prefix, const char *rest)
{
  char target[4096];
  ssize_t n = readlinkat(cur, comp, target, sizeof target - 1);
  if (n < 0)
    return NULL;
  target[n] = '\0';
  size_t plen = strlen(prefix) - strlen(comp) - 1; /* the parent of prefix */
  if (target[0] == '/')
    return xasprintf("%s/%s", target, rest);
  return xasprintf("%.*s/%s/%s", (int) plen, prefix, target, rest);
}

static BERTH_WUR int mkdir_p(int root, const char *path, uint32_t mode, uint32_t uid, uint32_t gid,
                             int64_t mtime, int *fd, int depth, berth_error_t *err)
{
  cleanup_free char *clean = berth_build_path_clean(path);
  cleanup_close int cur = berth_openat2(root, "/", O_PATH | O_DIRECTORY | O_CLOEXEC, 0, RESOLVE_IN_ROOT);
  if (cur < 0)
    return BERTH_ERR_ERRNO(err, "open the root");
  cleanup_strbuf struct berth_strbuf prefix = BERTH_STRBUF_INIT;
  char *save = NULL;
  for (char *comp = strtok_r(clean, "/", &save); comp; comp = strtok_r(NULL, "/", &save)) {
    berth_strbuf_printf(&prefix, "/%s", comp);
    /* each prefix resolved from the root: the image's symlinks lead where they lead in it */
    int next = berth_openat2(root, prefix.buf, O_PATH | O_DIRECTORY | O_CLOEXEC, 0,
                             RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
    if (next < 0 && errno == ENOENT) {
      if (mkdirat(cur, comp, 0700) < 0 && errno == EEXIST) { /* a dangling symlink: make its target */
        cleanup_free char *again =
          depth < 40 ? follow_dangling(cur, comp, prefix.buf, save ? save : "") : NULL;
        if (again == NULL)
          return BERTH_ERR(err, "mkdir `%s`: too many levels of symbolic links at `%s`", path, prefix.buf);
        return mkdir_p(root, again, mode, uid, gid, mtime, fd, depth + 1, err);
      }
      next = openat(cur, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (next >= 0 && own_new_dir(next, mode, uid, gid, mtime, prefix.buf, err) < 0) {
        close(next);
        return -1;
      }
    }
    if (next < 0)
      return errno == ENOTDIR ? BERTH_ERR(err, "mkdir `%s`: `%s` is not a directory", path, prefix.buf)
                              : BERTH_ERR_ERRNO(err, "mkdir `%s`", prefix.buf);
    close(cur);
    cur = next;
  }
  if (fd)
    *fd = steal_fd(cur);
  return 0;
}

int berth_build_mkdir_p(int root, const char *path, uint32_t mode, uint32_t uid, uint32_t gid, int64_t mtime,
                        int *fd, berth_error_t *err)
{
  return mkdir_p(root, path, mode, uid, gid, mtime, fd, 0, err);
}

static char *dir_part(const char *p)
{
  const char *slash = strrchr(p, '/');
  return slash == NULL || slash == p ? xstrdup("/") : xstrndup(p, (size_t) (slash - p));
}

static const char *base_part(const char *p)
{
  const char *slash = strrchr(p, '/');
  return slash ? slash + 1 : p;
}

/* the directory an entry goes into and its name there, per COPY's rules; dir_out: a directory fd */
static BERTH_WUR int place(int root, const char *dest_in, bool dest_dir, const char *src_name,
                           const struct berth_build_copy_opts *o, int *dir_out, char **name_out,
                           berth_error_t *err)
{
  cleanup_free char *dest = berth_build_path_clean(dest_in);
  uint32_t uid = o->chown ? o->uid : 0, gid = o->chown ? o->gid : 0;
  int64_t mtime = o->clamp ? o->epoch : -1;
  struct stat st;
  cleanup_close int have =
    berth_openat2(root, dest, O_PATH | O_CLOEXEC, 0, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
  if (dest_dir || (have >= 0 && fstat(have, &st) == 0 && S_ISDIR(st.st_mode))) {
    *name_out = xstrdup(src_name);
    return berth_build_mkdir_p(root, dest, 0755, uid, gid, mtime, dir_out, err);
  }
  cleanup_free char *parent = dir_part(dest);
  *name_out = xstrdup(base_part(dest));
  return berth_build_mkdir_p(root, parent, 0755, uid, gid, mtime, dir_out, err);
}

static BERTH_WUR int reopen_dir(int opath, int *out, const char *what, berth_error_t *err)
{
  char p[32];
  *out = open(berth_fd_path(opath, p, sizeof p), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  return *out < 0 ? BERTH_ERR_ERRNO(err, "open `%s`", what) : 0;
}

/* a directory source to a destination that is not there: made as the source directory */
static BERTH_WUR int copy_dir_top(struct copier *c, const struct berth_build_source *src, int ddir,
                                  const char *name, berth_error_t *err)
{
  if (mkdirat(ddir, name, 0700) < 0 && errno != EEXIST)
    return BERTH_ERR_ERRNO(err, "mkdir `%s`", name);
  cleanup_close int sfd = -1;
  if (reopen_dir(src->fd, &sfd, src->rel, err) < 0)
    return -1;
  cleanup_close int dfd = openat(ddir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dfd < 0)
    return BERTH_ERR_ERRNO(err, "open `%s`", name);
  c->dst_top = dfd;
  if (copy_children(c, sfd, dfd, ".", err) < 0)
    return -1;
  copy_xattrs(sfd, dfd);
  return set_meta(c, dfd, -1, NULL, &src->st, name, err);
}

int berth_build_copy(const struct berth_build_root *r, const struct berth_build_source *src, int dst_root,
                     const char *dest, bool dest_dir, const struct berth_build_copy_opts *o,
                     struct berth_build_copy_stats *stats, berth_error_t *err)
{
  struct berth_build_copy_stats none = { 0 };
  struct copier c = { .r = r, .o = o, .stats = stats ? stats : &none, .base = src->rel, .dst_top = -1 };
  c.buf = xmalloc(1 << 20);
  int rc = -1;
  cleanup_close int dpath = -1, ddir = -1, sdir = -1;
  cleanup_free char *name = NULL;
  if (S_ISDIR(src->st.st_mode)) {
    /* the contents go into dest: made (as the source directory) when missing, merged when there */
    struct stat st;
    cleanup_close int have =
      berth_openat2(dst_root, dest, O_PATH | O_CLOEXEC, 0, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
    if (have >= 0 && fstat(have, &st) == 0 && !S_ISDIR(st.st_mode)) {
      rc = BERTH_ERR(err, "cannot copy the directory `%s` to `%s`: not a directory", src->rel, dest);
    } else if (have >= 0) {
      if (reopen_dir(have, &ddir, dest, err) == 0 && reopen_dir(src->fd, &sdir, src->rel, err) == 0) {
        c.dst_top = ddir;
        rc = copy_children(&c, sdir, ddir, ".", err);
      }
    } else if (place(dst_root, dest, false, "", o, &dpath, &name, err) == 0 &&
               reopen_dir(dpath, &ddir, dest, err) == 0) {
      rc = copy_dir_top(&c, src, ddir, name, err);
    }
  } else if (place(dst_root, dest, dest_dir, base_part(src->rel), o, &dpath, &name, err) == 0 &&
             reopen_dir(dpath, &ddir, dest, err) == 0) {
    c.dst_top = ddir;
    rc = copy_entry(&c, src->fd, "", ddir, name, name, err);
  }
  for (size_t i = 0; i < c.nlinks; i++)
    free(c.links[i].path);
  free(c.links);
  free(c.buf);
  return rc;
}

int berth_build_write_file(int dst_root, const char *dest, bool dest_dir, const char *name, int data_fd,
                           const char *data, size_t len, uint32_t mode, int64_t mtime,
                           const struct berth_build_copy_opts *o, berth_error_t *err)
{
  cleanup_close int dpath = -1, ddir = -1;
  cleanup_free char *fname = NULL;
  if (place(dst_root, dest, dest_dir, name, o, &dpath, &fname, err) < 0 ||
      reopen_dir(dpath, &ddir, dest, err) < 0 || clear_slot(ddir, fname, dest, err) < 0)
    return -1;
  cleanup_close int out = openat(ddir, fname, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (out < 0)
    return BERTH_ERR_ERRNO(err, "create `%s`", dest);
  if (data_fd >= 0) {
    struct copier c = { .buf = xmalloc(1 << 20) };
    struct berth_build_copy_stats st = { 0 };
    c.stats = &st;
    int rc = lseek(data_fd, 0, SEEK_SET) < 0 ? BERTH_ERR_ERRNO(err, "rewind `%s`", name)
                                             : copy_data(&c, data_fd, out, dest, err);
    free(c.buf);
    if (rc < 0)
      return -1;
  } else if (berth_write_all(out, data, len) < 0) {
    return BERTH_ERR_ERRNO(err, "write `%s`", dest);
  }
  uint32_t m = mode;
  if (o->chmod)
    m = o->chmod_symbolic ? (uint32_t) berth_build_chmod_apply(o->chmod_symbolic, mode, false) : o->mode;
  struct timespec ts[2];
  ts[0] = ts[1] = mtime_of(o, (struct timespec){ .tv_sec = mtime });
  if (fchown(out, o->chown ? o->uid : 0, o->chown ? o->gid : 0) < 0 || fchmod(out, m) < 0 ||
      futimens(out, ts) < 0)
    return BERTH_ERR_ERRNO(err, "set the owner, mode and times of `%s`", dest);
  return 0;
}
