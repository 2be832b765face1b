/* Writing one tar entry into a layer directory, by descriptor.
 *
 * Every entry's parent is opened with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)
 * from the layer root, so symlinks already extracted (which may point anywhere: they are
 * data) resolve inside the root; missing parents are created one component at a time, but
 * never through a symlink (a dangling one, or a missing directory below one, is refused
 * rather than created at the link's target). The final component is
 * then created relative to that descriptor with O_EXCL / mkdirat / mknodat / symlinkat /
 * linkat, which never follow a symlink; what already exists there is removed first (a
 * later entry replaces an earlier one), except a directory over a directory, which keeps
 * its contents and takes the new metadata.
 *
 * Metadata order matters: owner first (chown clears set-id bits and security.capability),
 * then xattrs, then the mode, then times; directories' times are set in a second pass
 * after their contents (creating an entry changes its parent's mtime). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/strbuf.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "image/layer_priv.h"

#define WHITEOUT_PREFIX ".wh."
#define WHITEOUT_META   ".wh..wh."
#define WHITEOUT_OPAQUE ".wh..wh..opq"
#define RESOLVE_FLAGS   (RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)

struct meta {
  uid_t uid;
  gid_t gid;
  mode_t perm;
  struct timespec ts[2];
};

void layer_ctx_init(struct layer_apply_ctx *c, int rootfd)
{
  memset(c, 0, sizeof *c);
  c->rootfd = rootfd;
  c->parent_fd = -1;
}

static void forget_parent(struct layer_apply_ctx *c)
{
  if (c->parent_fd >= 0)
    close(c->parent_fd);
  c->parent_fd = -1;
  free(c->parent_path);
  c->parent_path = NULL;
}

void layer_ctx_release(struct layer_apply_ctx *c)
{
  forget_parent(c);
  free(c->journaled_parent);
  c->journaled_parent = NULL;
  for (size_t i = 0; i < c->n_dirs; i++)
    free(c->dirs[i].path);
  free(c->dirs);
  c->dirs = NULL;
  c->n_dirs = c->cap_dirs = 0;
}

const char *layer_entry_name(struct archive_entry *e)
{
  const char *n = archive_entry_pathname(e);
  return n ? n : archive_entry_pathname_utf8(e);
}

const char *layer_entry_hardlink(struct archive_entry *e)
{
  const char *n = archive_entry_hardlink(e);
  return n ? n : archive_entry_hardlink_utf8(e);
}

int layer_normalize_name(const char *name, char **out, berth_error_t *err)
{
  if (name == NULL || name[0] == '\0')
    return BERTH_ERR(err, "empty name");
  if (name[0] == '/' && name[strspn(name, "/.")] == '\0' && strstr(name, "..") == NULL) {
    /* "/" (or "/./"): the root itself, as umoci and others write it — not a path out of it */
    *out = xstrdup("");
    return 0;
  }
  if (name[0] == '/')
    return BERTH_ERR(err, "absolute name refused");
  cleanup_strbuf struct berth_strbuf b = BERTH_STRBUF_INIT;
  for (const char *p = name; *p;) {
    size_t n = strcspn(p, "/");
    if (n == 2 && p[0] == '.' && p[1] == '.')
      return BERTH_ERR(err, "name with a `..` component refused");
    if (n > 0 && !(n == 1 && p[0] == '.')) {
      if (b.len > 0)
        berth_strbuf_putc(&b, '/');
      berth_strbuf_append(&b, p, n);
    }
    p += n;
    while (*p == '/')
      p++;
  }
  *out = b.len ? berth_strbuf_detach(&b) : xstrdup("");
  return 0;
}

int layer_remove_at(int parent, const char *name, berth_error_t *err)
{
  if (unlinkat(parent, name, 0) == 0 || errno == ENOENT)
    return 0;
  if (errno != EISDIR)
    return BERTH_ERR_ERRNO(err, "remove `%s`", name);
  return berth_rm_rf_at(parent, name, err); /* any depth with a bounded number of descriptors */
}

/* The next component below prev: a directory is opened directly (no symlink on the way); a
 * symlink resolves with the whole prefix from the root (RESOLVE_IN_ROOT); a missing one is
 * created unless a symlink was passed. One step per component, so deep paths stay linear. */
static BERTH_WUR int step_parent(struct layer_apply_ctx *c, int prev, const char *prefix, const char *comp,
                                 char **link, berth_error_t *err)
{
  struct stat st;
  if (fstatat(prev, comp, &st, AT_SYMLINK_NOFOLLOW) == 0) {
    int fd;
    if (S_ISLNK(st.st_mode)) {
      if (*link == NULL)
        *link = xstrdup(prefix);
      fd = berth_openat2(c->rootfd, prefix, O_PATH | O_DIRECTORY | O_CLOEXEC, 0, RESOLVE_FLAGS);
      if (fd < 0 && errno == ENOENT)
        return BERTH_ERR(err, "parent `%s` is a symlink to a missing directory", prefix);
    } else {
      fd = openat(prev, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd < 0)
      return BERTH_ERR_ERRNO(err, "open parent `%s`", prefix);
    return fd;
  }
  if (errno != ENOENT)
    return BERTH_ERR_ERRNO(err, "open parent `%s`", prefix);
  if (*link != NULL)
    return BERTH_ERR(err, "parent `%s` is missing and would be created through the symlink `%s`", prefix,
                     *link);
  cleanup_free char *above = comp > prefix ? xstrndup(prefix, (size_t) (comp - prefix - 1)) : xstrdup("");
  if (layer_journal_dir_meta(c, prev, above, err) < 0) /* its times change */
    return -1;
  if (mkdirat(prev, comp, 0755) < 0)
    return BERTH_ERR_ERRNO(err, "create parent `%s`", prefix);
  layer_journal_created(c, above, comp);
  int fd = openat(prev, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return BERTH_ERR_ERRNO(err, "open parent `%s`", prefix);
  return fd;
}

/* Open (creating what is missing) the directory path inside the root. Directories are never
 * created through a symlink: a missing component below one (or a dangling one) is refused,
 * which is where crafted layers that try to reach outside through symlinks end up. */
static BERTH_WUR int make_parents(struct layer_apply_ctx *c, const char *path, berth_error_t *err)
{
  cleanup_free char *buf = xstrdup(path);
  cleanup_close int prev = fcntl(c->rootfd, F_DUPFD_CLOEXEC, 3);
  if (prev < 0)
    return BERTH_ERR_ERRNO(err, "dup layer root");
  cleanup_free char *link = NULL; /* the first symlink on the way */
  size_t len = strlen(buf), start = 0;
  for (size_t i = 0; i <= len; i++) {
    if (buf[i] != '/' && buf[i] != '\0')
      continue;
    char saved = buf[i];
    buf[i] = '\0';
    int fd = step_parent(c, prev, buf, buf + start, &link, err);
    if (fd < 0)
      return -1;
    close(prev);
    prev = fd;
    buf[i] = saved;
    start = i + 1;
  }
  return steal_fd(prev);
}

/* the parent directory's descriptor (borrowed: valid until the next call) */
static BERTH_WUR int get_parent(struct layer_apply_ctx *c, const char *path, berth_error_t *err)
{
  if (path[0] == '\0')
    return c->rootfd;
  if (c->parent_path != NULL && strcmp(c->parent_path, path) == 0)
    return c->parent_fd;
  forget_parent(c);
  int fd = berth_openat2(c->rootfd, path, O_PATH | O_DIRECTORY | O_CLOEXEC, 0, RESOLVE_FLAGS);
  if (fd < 0 && errno == ENOENT)
    fd = make_parents(c, path, err);
  else if (fd < 0)
    return BERTH_ERR_ERRNO(err, "open parent `%s`", path);
  if (fd < 0)
    return -1;
  c->parent_fd = fd;
  c->parent_path = xstrdup(path);
  return fd;
}

static void entry_meta(struct archive_entry *e, struct meta *m)
{
  m->uid = (uid_t) archive_entry_uid(e);
  m->gid = (gid_t) archive_entry_gid(e);
  m->perm = archive_entry_perm(e) & 07777;
  m->ts[1].tv_sec = archive_entry_mtime(e);
  m->ts[1].tv_nsec = archive_entry_mtime_nsec(e);
  if (!archive_entry_mtime_is_set(e))
    m->ts[1].tv_nsec = UTIME_OMIT;
  if (archive_entry_atime_is_set(e)) {
    m->ts[0].tv_sec = archive_entry_atime(e);
    m->ts[0].tv_nsec = archive_entry_atime_nsec(e);
  } else {
    m->ts[0] = m->ts[1];
  }
}

/* which xattrs a layer may carry: overlay's own are made from whiteouts only */
static bool xattr_allowed(const char *name)
{
  if (berth_str_has_prefix(name, "trusted.overlay."))
    return false;
  return berth_str_has_prefix(name, "user.") || berth_str_has_prefix(name, "trusted.") ||
         strcmp(name, "security.capability") == 0 || strcmp(name, "system.posix_acl_access") == 0 ||
         strcmp(name, "system.posix_acl_default") == 0;
}

/* on fd when >= 0, else on <parent>/<base> without following it */
static BERTH_WUR int apply_xattrs(struct archive_entry *e, int fd, int parentfd, const char *base,
                                  const char *entry, berth_error_t *err)
{
  if (archive_entry_xattr_reset(e) == 0)
    return 0;
  char path[PATH_MAX];
  if (fd < 0)
    snprintf(path, sizeof path, "/proc/self/fd/%d/%s", parentfd, base);
  const char *name;
  const void *value;
  size_t size;
  while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
    if (!xattr_allowed(name)) {
      berth_log_warn("layer entry `%s`: xattr `%s` skipped (not allowed in a layer)", entry, name);
      continue;
    }
    int r = fd >= 0 ? fsetxattr(fd, name, value, size, 0) : lsetxattr(path, name, value, size, 0);
    if (r == 0)
      continue;
    if (errno == ENOTSUP || errno == EPERM || errno == EINVAL)
      berth_log_warn("layer entry `%s`: xattr `%s` skipped: %s", entry, name, strerror(errno));
    else
      return BERTH_ERR_ERRNO(err, "set xattr `%s`", name);
  }
  return 0;
}

static int record_dir_time(struct layer_apply_ctx *c, const char *path, const struct meta *m)
{
  if (m->ts[1].tv_nsec == UTIME_OMIT)
    return 0;
  if (c->n_dirs == c->cap_dirs) {
    c->cap_dirs = c->cap_dirs ? 2 * c->cap_dirs : 64;
    c->dirs = xreallocarray(c->dirs, c->cap_dirs, sizeof *c->dirs);
  }
  c->dirs[c->n_dirs].path = xstrdup(path);
  memcpy(c->dirs[c->n_dirs].ts, m->ts, sizeof m->ts);
  c->n_dirs++;
  return 0;
}

int layer_set_dir_times(struct layer_apply_ctx *c, berth_error_t *err)
{
  for (size_t i = 0; i < c->n_dirs; i++) {
    const char *p = c->dirs[i].path[0] ? c->dirs[i].path : ".";
    cleanup_close int fd =
      berth_openat2(c->rootfd, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0, RESOLVE_FLAGS);
    if (fd < 0 && (errno == ENOENT || errno == ENOTDIR || errno == ELOOP))
      continue; /* replaced by a later entry */
    if (fd < 0 || futimens(fd, c->dirs[i].ts) < 0)
      return BERTH_ERR_ERRNO(err, "set times of directory `%s`", p);
  }
  return 0;
}

/* owner, xattrs and mode of a directory, by descriptor */
static BERTH_WUR int dir_meta(struct layer_apply_ctx *c, int fd, const char *path, struct archive_entry *e,
                              const struct meta *m, berth_error_t *err)
{
  if (fchown(fd, m->uid, m->gid) < 0)
    return BERTH_ERR_ERRNO(err, "chown to %u:%u", (unsigned) m->uid, (unsigned) m->gid);
  if (apply_xattrs(e, fd, -1, NULL, path, err) < 0)
    return -1;
  if (fchmod(fd, m->perm) < 0)
    return BERTH_ERR_ERRNO(err, "chmod %04o", (unsigned) m->perm);
  return record_dir_time(c, path, m);
}

static BERTH_WUR int apply_root(struct layer_apply_ctx *c, struct archive_entry *e, berth_error_t *err)
{
  if (archive_entry_filetype(e) != AE_IFDIR || layer_entry_hardlink(e) != NULL)
    return BERTH_ERR(err, "the layer root can only be a directory");
  struct meta m;
  entry_meta(e, &m);
  cleanup_close int fd = openat(c->rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return BERTH_ERR_ERRNO(err, "open layer root");
  return dir_meta(c, fd, "", e, &m, err);
}

/* file data, sparse blocks included (holes stay holes) */
static BERTH_WUR int write_data(struct archive *a, int fd, int64_t size, berth_error_t *err)
{
  const void *buf;
  size_t len;
  la_int64_t off;
  int64_t end = 0;
  for (;;) {
    int r = archive_read_data_block(a, &buf, &len, &off);
    if (r == ARCHIVE_EOF)
      break;
    if (r < ARCHIVE_WARN)
      return -2;
    for (size_t done = 0; done < len;) {
      ssize_t w = pwrite(fd, (const char *) buf + done, len - done, off + (off_t) done);
      if (w < 0 && errno == EINTR)
        continue;
      if (w < 0)
        return BERTH_ERR_ERRNO(err, "write");
      done += (size_t) w;
    }
    if (off + (int64_t) len > end)
      end = off + (int64_t) len;
  }
  if (end < size && ftruncate(fd, size) < 0)
    return BERTH_ERR_ERRNO(err, "truncate to %lld bytes", (long long) size);
  return 0;
}

static BERTH_WUR int make_regular(struct layer_apply_ctx *c, int parentfd, const char *base,
                                  const char *entry, struct archive *a, struct archive_entry *e,
                                  const struct meta *m, berth_error_t *err)
{
  cleanup_close int fd = openat(parentfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    return BERTH_ERR_ERRNO(err, "create file");
  layer_journal_created(c, c->entry_parent, base);
  int r = write_data(a, fd, archive_entry_size(e), err);
  if (r < 0)
    return r;
  if (fchown(fd, m->uid, m->gid) < 0)
    return BERTH_ERR_ERRNO(err, "chown to %u:%u", (unsigned) m->uid, (unsigned) m->gid);
  if (apply_xattrs(e, fd, -1, NULL, entry, err) < 0)
    return -1;
  if (fchmod(fd, m->perm) < 0)
    return BERTH_ERR_ERRNO(err, "chmod %04o", (unsigned) m->perm);
  if (futimens(fd, m->ts) < 0)
    return BERTH_ERR_ERRNO(err, "set times");
  return 0;
}

static BERTH_WUR int make_dir(struct layer_apply_ctx *c, int parentfd, const char *base, const char *path,
                              bool exists, struct archive_entry *e, const struct meta *m, berth_error_t *err)
{
  if (!exists && mkdirat(parentfd, base, 0700) < 0)
    return BERTH_ERR_ERRNO(err, "create directory");
  if (!exists)
    layer_journal_created(c, c->entry_parent, base);
  cleanup_close int fd = openat(parentfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return BERTH_ERR_ERRNO(err, "open directory");
  if (exists && layer_journal_dir_xattrs(c, fd, path, e, err) < 0)
    return -1;
  return dir_meta(c, fd, path, e, m, err);
}

/* owner, xattrs, mode (not for symlinks) and times of a node that cannot be opened for I/O */
static BERTH_WUR int node_meta(int parentfd, const char *base, const char *entry, bool is_link,
                               struct archive_entry *e, const struct meta *m, berth_error_t *err)
{
  if (fchownat(parentfd, base, m->uid, m->gid, AT_SYMLINK_NOFOLLOW) < 0)
    return BERTH_ERR_ERRNO(err, "chown to %u:%u", (unsigned) m->uid, (unsigned) m->gid);
  if (e != NULL && apply_xattrs(e, -1, parentfd, base, entry, err) < 0)
    return -1;
  if (!is_link) {
    /* chmod through an O_PATH descriptor: /proc/self/fd/N leads to the node itself */
    cleanup_close int fd = openat(parentfd, base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    if (fd < 0 || chmod(proc, m->perm) < 0)
      return BERTH_ERR_ERRNO(err, "chmod %04o", (unsigned) m->perm);
  }
  if (utimensat(parentfd, base, m->ts, AT_SYMLINK_NOFOLLOW) < 0)
    return BERTH_ERR_ERRNO(err, "set times");
  return 0;
}

static BERTH_WUR int make_special(struct layer_apply_ctx *c, int parentfd, const char *base,
                                  const char *entry, mode_t type, struct archive_entry *e,
                                  const struct meta *m, berth_error_t *err)
{
  if (type == AE_IFLNK) {
    const char *target = archive_entry_symlink(e);
    if (target == NULL)
      target = archive_entry_symlink_utf8(e);
    if (target == NULL || target[0] == '\0')
      return BERTH_ERR(err, "symlink without a target");
    if (symlinkat(target, parentfd, base) < 0)
      return BERTH_ERR_ERRNO(err, "create symlink");
    layer_journal_created(c, c->entry_parent, base);
    return node_meta(parentfd, base, entry, true, e, m, err);
  }
  dev_t dev = 0;
  if (type == AE_IFCHR || type == AE_IFBLK)
    dev = makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e));
  if (mknodat(parentfd, base, type | 0600, dev) < 0)
    return BERTH_ERR_ERRNO(err, "create %s", type == AE_IFIFO ? "fifo" : "device node");
  layer_journal_created(c, c->entry_parent, base);
  return node_meta(parentfd, base, entry, false, e, m, err);
}

/* a later entry replaces an earlier one: remove what is there unless dir over dir */
static BERTH_WUR int clear_place(struct layer_apply_ctx *c, int parentfd, const char *base, bool new_is_dir,
                                 bool *exists, berth_error_t *err)
{
  struct stat st;
  *exists = false;
  if (fstatat(parentfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
    if (errno == ENOENT)
      return 0;
    return BERTH_ERR_ERRNO(err, "stat");
  }
  if (new_is_dir && S_ISDIR(st.st_mode)) {
    *exists = true;
    return 0;
  }
  if (c->plain && S_ISDIR(st.st_mode))
    return BERTH_ERR(err, "cannot overwrite a directory with a non-directory");
  c->removed = true;
  return layer_journal_set_aside(c, parentfd, c->entry_parent, base, err);
}

static BERTH_WUR int make_entry(struct layer_apply_ctx *c, struct archive *a, struct archive_entry *e,
                                int parentfd, const char *path, const char *base, berth_error_t *err)
{
  mode_t type = archive_entry_filetype(e);
  if (type == AE_IFSOCK) {
    berth_log_warn("layer entry `%s`: socket skipped", path);
    return 0;
  }
  if (type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK && type != AE_IFCHR && type != AE_IFBLK &&
      type != AE_IFIFO)
    return BERTH_ERR(err, "unsupported entry type %06o", (unsigned) type);
  struct meta m;
  entry_meta(e, &m);
  bool exists = false;
  if (clear_place(c, parentfd, base, type == AE_IFDIR, &exists, err) < 0)
    return -1;
  if (type == AE_IFREG)
    return make_regular(c, parentfd, base, path, a, e, &m, err);
  if (type == AE_IFDIR)
    return make_dir(c, parentfd, base, path, exists, e, &m, err);
  return make_special(c, parentfd, base, path, type, e, &m, err);
}

static BERTH_WUR int make_hardlink(struct layer_apply_ctx *c, struct archive *a, struct archive_entry *e,
                                   int parentfd, const char *path, const char *base, const char *link,
                                   berth_error_t *err)
{
  cleanup_free char *target = NULL;
  if (layer_normalize_name(link, &target, err) < 0)
    return berth_error_wrap(err, "hardlink target `%s`", link);
  if (target[0] == '\0')
    return BERTH_ERR(err, "hardlink to the layer root refused");
  if (strcmp(target, path) == 0)
    return 0;
  char *slash = strrchr(target, '/');
  cleanup_free char *tparent = slash ? xstrndup(target, (size_t) (slash - target)) : xstrdup(".");
  const char *tbase = slash ? slash + 1 : target;
  /* the target's directory resolves inside the root; its last component is never followed */
  cleanup_close int tfd =
    berth_openat2(c->rootfd, tparent, O_PATH | O_DIRECTORY | O_CLOEXEC, 0, RESOLVE_FLAGS);
  struct stat tst, st;
  if (tfd < 0 || fstatat(tfd, tbase, &tst, AT_SYMLINK_NOFOLLOW) < 0) {
    if (errno == ENOENT || errno == ENOTDIR)
      return BERTH_ERR(err, "hardlink target `%s` is not in the layer", target);
    return BERTH_ERR_ERRNO(err, "hardlink target `%s`", target);
  }
  if (S_ISDIR(tst.st_mode))
    return BERTH_ERR(err, "hardlink target `%s` is a directory", target);
  if (fstatat(parentfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
    if (st.st_dev == tst.st_dev && st.st_ino == tst.st_ino)
      return 0;
    if (c->plain && S_ISDIR(st.st_mode))
      return BERTH_ERR(err, "cannot overwrite a directory with a non-directory");
    c->removed = true;
    if (layer_journal_set_aside(c, parentfd, c->entry_parent, base, err) < 0)
      return -1;
  }
  /* pax hardlinks may carry data, written through the link into the target: in a directory
   * that had files before (cp -), only into a file this archive created, never one it did not */
  bool with_data = archive_entry_size(e) > 0 && S_ISREG(tst.st_mode);
  if (with_data && c->plain && !layer_journal_created_here(c, slash ? tparent : "", tbase))
    return BERTH_ERR(err, "hardlink with data to `%s`, which the archive did not create: refused", target);
  if (linkat(tfd, tbase, parentfd, base, 0) < 0)
    return BERTH_ERR_ERRNO(err, "hardlink to `%s`", target);
  layer_journal_created(c, c->entry_parent, base);
  if (with_data) {
    cleanup_close int fd = openat(parentfd, base, O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
      return BERTH_ERR_ERRNO(err, "open hardlink to write its data");
    return write_data(a, fd, archive_entry_size(e), err);
  }
  return 0;
}

/* ".wh.<name>" -> a 0:0 char device <name> (with the entry's owner, mode and times, so that a
 * diff gives the same entry back); ".wh..wh..opq" -> trusted.overlay.opaque=y */
static BERTH_WUR int make_whiteout(struct layer_apply_ctx *c, int parentfd, const char *base,
                                   const char *path, struct archive_entry *e, berth_error_t *err)
{
  if (strcmp(base, WHITEOUT_OPAQUE) == 0) {
    cleanup_close int fd = openat(parentfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsetxattr(fd, "trusted.overlay.opaque", "y", 1, 0) < 0)
      return BERTH_ERR_ERRNO(err, "mark directory opaque (xattr `trusted.overlay.opaque`)");
    return 0;
  }
  if (berth_str_has_prefix(base, WHITEOUT_META)) {
    berth_log_debug("layer entry `%s`: aufs metadata skipped", path);
    return 0;
  }
  const char *name = base + strlen(WHITEOUT_PREFIX);
  if (name[0] == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
    return BERTH_ERR(err, "whiteout without a valid name");
  c->removed = true;
  if (layer_remove_at(parentfd, name, err) < 0)
    return -1;
  if (mknodat(parentfd, name, S_IFCHR, makedev(0, 0)) < 0)
    return BERTH_ERR_ERRNO(err, "create whiteout `%s`", name);
  struct meta m;
  entry_meta(e, &m);
  return node_meta(parentfd, name, path, false, NULL, &m, err);
}

int layer_entry_apply(struct layer_apply_ctx *c, struct archive *a, struct archive_entry *e,
                      berth_error_t *err)
{
  cleanup_free char *path = NULL;
  if (layer_normalize_name(layer_entry_name(e), &path, err) < 0)
    return -1;
  if (path[0] == '\0')
    return c->plain ? 0 : apply_root(c, e, err);
  char *slash = strrchr(path, '/');
  cleanup_free char *parent = slash ? xstrndup(path, (size_t) (slash - path)) : xstrdup("");
  const char *base = slash ? slash + 1 : path;
  int parentfd = get_parent(c, parent, err);
  if (parentfd < 0)
    return -1;
  c->entry_parent = parent;
  if (c->plain && (c->journaled_parent == NULL || strcmp(c->journaled_parent, parent) != 0)) {
    /* its times are about to change; entries come grouped by directory, so this is one
     * record per directory and not per entry (a repeat only repeats the same state) */
    if (layer_journal_dir_meta(c, parentfd, parent, err) < 0)
      return -1;
    free(c->journaled_parent);
    c->journaled_parent = xstrdup(parent);
  }
  int r;
  const char *link = layer_entry_hardlink(e);
  if (!c->plain && berth_str_has_prefix(base, WHITEOUT_PREFIX))
    r = make_whiteout(c, parentfd, base, path, e, err);
  else if (link != NULL)
    r = make_hardlink(c, a, e, parentfd, path, base, link, err);
  else
    r = make_entry(c, a, e, parentfd, path, base, err);
  if (c->removed) {
    forget_parent(c);
    c->removed = false;
  }
  return r;
}
