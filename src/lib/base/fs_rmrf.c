/* berth_rm_rf: rm -rf of a tree that a container made and may still be changing.
 *
 * The tree can be deeper than the descriptor limit (a chain of 60,000 directories costs a
 * container nothing) and than PATH_MAX, so no path is ever built and at most WINDOW + 1
 * directories are open: the root and the innermost WINDOW levels. A level that falls out of the
 * window is closed; the walk gets back to it through `..` of the level below and reads it again
 * from its start (what was removed is gone: one more pass over what is left). Each `..` is
 * checked: the directory it gives must be on the root's mount, and reaching the root ends the
 * climb however the container moved directories meanwhile (nothing it does moves one out of the
 * tree, so the root is met before anything above it). A level of known depth one never climbs:
 * the root is its parent. Symlinks are never followed (O_NOFOLLOW), no mount is entered (device
 * and mount id), and d_type spares a stat for every entry that is not a directory. */
#include "base/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/xalloc.h"

#define WINDOW      16          /* directory levels held open below the root */
#define DENTS_SIZE  (32 * 1024) /* getdents64 buffer of a level */
#define MAX_RESCANS 64          /* a directory still not empty after its pass: read it again */

#ifndef FS_IOC_GETFLAGS
#define FS_IOC_GETFLAGS _IOR('f', 1, long)
#define FS_IOC_SETFLAGS _IOW('f', 2, long)
#endif
#define PIN_FLAGS (0x00000010 /* FS_IMMUTABLE_FL */ | 0x00000020 /* FS_APPEND_FL */)

/* the kernel's getdents64 record (the C libraries disagree on a wrapper) */
struct dent64 {
  uint64_t d_ino;
  int64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};

struct level {
  int fd;
  char *buf; /* getdents64 records; [pos, len) not handled yet */
  size_t pos, len;
  bool named; /* name is its entry in the level above; unknown once reopened through `..` */
  char name[NAME_MAX + 1];
};

struct rmrf {
  int dirfd;                   /* path is the root's name in dirfd */
  const char *path;            /* for messages */
  dev_t dev;                   /* the root's */
  uint64_t ino, mnt_id;        /* mnt_id 0: unknown */
  struct level lv[WINDOW + 1]; /* lv[0]: the root; depth d >= 1 in lv[1 + (d - 1) % WINDOW] */
  size_t top, bottom;          /* the open levels: the root and bottom..top (none when top is 0) */
  unsigned rescans;
};

static struct level *at(struct rmrf *r, size_t depth)
{
  return depth == 0 ? &r->lv[0] : &r->lv[1 + (depth - 1) % WINDOW];
}

/* errno stays that of the step that failed; depth is that of the entry */
static BERTH_WUR int fail(struct rmrf *r, const char *what, const char *name, berth_error_t *err)
{
  return BERTH_ERR_ERRNO(err, "remove `%s`: %s `%s` at depth %zu", r->path, what, name, r->top + 1);
}

static int identify(int fd, struct statx *stx)
{
  return statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW,
               STATX_TYPE | STATX_MODE | STATX_INO | STATX_MNT_ID, stx);
}

static bool on_root_mount(const struct rmrf *r, const struct statx *stx)
{
  if (makedev(stx->stx_dev_major, stx->stx_dev_minor) != r->dev)
    return false;
  return r->mnt_id == 0 || !(stx->stx_mask & STATX_MNT_ID) || stx->stx_mnt_id == r->mnt_id;
}

static void level_open(struct level *l, int fd, const char *name)
{
  l->fd = fd;
  l->pos = l->len = 0;
  l->named = name != NULL && strlen(name) < sizeof l->name;
  if (l->named)
    memcpy(l->name, name, strlen(name) + 1);
  if (l->buf == NULL)
    l->buf = xmalloc(DENTS_SIZE);
}

static void level_close(struct level *l)
{
  if (l->fd >= 0)
    close(l->fd);
  l->fd = -1;
}

static void rewind_level(struct level *l)
{
  (void) lseek(l->fd, 0, SEEK_SET);
  l->pos = l->len = 0;
}

/* close the outermost open level below the root (to stay in the window or under the fd limit) */
static void drop(struct rmrf *r)
{
  level_close(at(r, r->bottom));
  r->bottom++;
}

static void push(struct rmrf *r, int fd, const char *name)
{
  if (r->top >= r->bottom && r->top - r->bottom + 1 == WINDOW)
    drop(r);
  r->top++;
  level_open(at(r, r->top), fd, name);
}

/* 1 and the next entry but . and .., 0 at the end */
static BERTH_WUR int next_entry(struct rmrf *r, struct level *l, struct dent64 **out, berth_error_t *err)
{
  for (;;) {
    if (l->pos >= l->len) {
      long n = syscall(SYS_getdents64, l->fd, l->buf, DENTS_SIZE);
      if (n < 0 && errno == ENOENT) /* removed meanwhile: its rmdir finds it gone */
        return 0;
      if (n < 0)
        return BERTH_ERR_ERRNO(err, "remove `%s`: read a directory at depth %zu", r->path, r->top);
      if (n == 0)
        return 0;
      l->pos = 0;
      l->len = (size_t) n;
    }
    struct dent64 *d = (struct dent64 *) (l->buf + l->pos);
    l->pos += d->d_reclen;
    if (strcmp(d->d_name, ".") != 0 && strcmp(d->d_name, "..") != 0) {
      *out = d;
      return 1;
    }
  }
}

/* a directory's immutable and append-only flags cleared and u+rwx added: true if anything changed */
static bool unpin_fd(int fd)
{
  bool changed = false;
  int flags = 0;
  if (ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0 && (flags & PIN_FLAGS)) {
    flags &= ~PIN_FLAGS;
    changed = ioctl(fd, FS_IOC_SETFLAGS, &flags) == 0;
  }
  struct stat st;
  if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 0700) != 0700 &&
      fchmod(fd, (st.st_mode | 0700) & 07777) == 0)
    changed = true;
  return changed;
}

/* What still stops an unlink, rmdir or open that root may do: the immutable and append-only flags
 * (a container with CAP_LINUX_IMMUTABLE sets them) and, without CAP_DAC_OVERRIDE, a directory's
 * mode. Cleared on the directory and on the entry; the entry is opened O_PATH and reopened only
 * when it is a regular file or a directory (never a device a container made) on the root's mount
 * (never what is mounted on it). True when anything changed: the caller tries once more. */
static bool unpin(struct rmrf *r, int dirfd, const char *name)
{
  bool changed = unpin_fd(dirfd);
  cleanup_close int pfd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  struct statx stx;
  if (pfd < 0 || identify(pfd, &stx) < 0 || !on_root_mount(r, &stx) ||
      !(S_ISREG(stx.stx_mode) || S_ISDIR(stx.stx_mode)))
    return changed;
  char p[32];
  berth_fd_path(pfd, p, sizeof p);
  cleanup_close int fd = open(p, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd >= 0)
    return unpin_fd(fd) || changed;
  return (S_ISDIR(stx.stx_mode) && chmod(p, (stx.stx_mode | 0700) & 07777) == 0) || changed;
}

/* unlinkat: 0 done (or gone), 1 a directory (unlink's EISDIR), 2 not empty (rmdir's), -1 error */
static BERTH_WUR int remove_name(struct rmrf *r, int dirfd, const char *name, int flags, berth_error_t *err)
{
  for (bool unpinned = false;; unpinned = true) {
    if (unlinkat(dirfd, name, flags) == 0 || errno == ENOENT)
      return 0;
    if (flags == 0 && errno == EISDIR)
      return 1;
    if (flags != 0 && (errno == ENOTEMPTY || errno == EEXIST))
      return 2;
    if (unpinned || (errno != EPERM && errno != EACCES) || !unpin(r, dirfd, name))
      return fail(r, flags ? "rmdir" : "unlink", name, err);
  }
}

/* the directory name of the top level opened in *fd: 0; 1 when it is not a directory (any more),
 * 2 when it is gone, -1 on error */
static BERTH_WUR int open_dir(struct rmrf *r, const char *name, int *fd, berth_error_t *err)
{
  int dirfd = at(r, r->top)->fd;
  for (bool unpinned = false;;) {
    *fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (*fd >= 0)
      return 0;
    if ((errno == EMFILE || errno == ENFILE) && r->bottom < r->top)
      drop(r);
    else if (errno == ENOENT)
      return 2;
    else if (errno == ENOTDIR || errno == ELOOP)
      return 1;
    else if (errno == EACCES && !unpinned && unpin(r, dirfd, name))
      unpinned = true;
    else
      return fail(r, "open", name, err);
  }
}

/* an entry of the top level: unlinked, or entered as the new top level when a directory */
static BERTH_WUR int remove_entry(struct rmrf *r, const char *name, unsigned char type, berth_error_t *err)
{
  int dirfd = at(r, r->top)->fd;
  if (type != DT_DIR) {
    int u = remove_name(r, dirfd, name, 0, err);
    if (u <= 0)
      return u;
  }
  int fd = -1;
  int o = open_dir(r, name, &fd, err);
  if (o == 1) { /* a directory no more: the container changes it */
    int u = remove_name(r, dirfd, name, 0, err);
    if (u != 1)
      return u;
    errno = EAGAIN;
    return fail(r, "unlink (it keeps changing type)", name, err);
  }
  if (o != 0)
    return o == 2 ? 0 : -1;
  struct statx stx;
  if (identify(fd, &stx) < 0) {
    int rc = fail(r, "stat", name, err);
    close(fd);
    return rc;
  }
  if (!on_root_mount(r, &stx)) {
    close(fd);
    return BERTH_ERR(err, "remove `%s`: `%s` at depth %zu is a mount point: unmount it first", r->path, name,
                     r->top + 1);
  }
  push(r, fd, name);
  return 0;
}

/* a directory read again from its start when it was not empty at its rmdir */
static BERTH_WUR int rescan(struct rmrf *r, struct level *l, const char *name, berth_error_t *err)
{
  if (r->rescans++ < MAX_RESCANS) {
    rewind_level(l);
    return 0;
  }
  errno = ENOTEMPTY;
  return fail(r, "rmdir", name, err);
}

/* The top level's parent is closed: reopen it through `..` and check it (see the top). It is read
 * again from its start; the level left is removed by its name when known, else by that pass. */
static BERTH_WUR int climb(struct rmrf *r, berth_error_t *err)
{
  struct level *cur = at(r, r->top);
  cleanup_close int fd = openat(cur->fd, "..", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  struct statx stx;
  if (fd < 0 || identify(fd, &stx) < 0)
    return BERTH_ERR_ERRNO(err, "remove `%s`: open `..` at depth %zu", r->path, r->top);
  if (!on_root_mount(r, &stx))
    return BERTH_ERR(err, "remove `%s`: `..` at depth %zu left the mount: the tree moved", r->path, r->top);
  level_close(cur);
  struct level *up = &r->lv[0];
  if (stx.stx_ino == r->ino) { /* the root, sooner than counted: moved meanwhile */
    r->top = 0;
    r->bottom = 1;
    rewind_level(up);
  } else {
    r->top--;
    r->bottom = r->top;
    up = at(r, r->top);
    level_open(up, steal_fd(fd), NULL);
  }
  int u = cur->named ? remove_name(r, up->fd, cur->name, AT_REMOVEDIR, err) : 0;
  return u < 0 ? -1 : 0; /* not empty: the new pass over up finds it again */
}

/* the top level is read to its end: remove it from its parent */
static BERTH_WUR int leave(struct rmrf *r, berth_error_t *err)
{
  if (r->top > 1 && r->top - 1 < r->bottom)
    return climb(r, err);
  struct level *cur = at(r, r->top);
  level_close(cur);
  r->top--;
  if (r->top == 0)
    r->bottom = 1;
  struct level *up = at(r, r->top);
  if (!cur->named) { /* reopened through `..` at depth one: the root's pass finds it */
    rewind_level(up);
    return 0;
  }
  int u = remove_name(r, up->fd, cur->name, AT_REMOVEDIR, err);
  return u == 2 ? rescan(r, up, cur->name, err) : u;
}

/* everything under the root */
static BERTH_WUR int empty_root(struct rmrf *r, berth_error_t *err)
{
  for (;;) {
    struct dent64 *d = NULL;
    int n = next_entry(r, at(r, r->top), &d, err);
    if (n < 0)
      return -1;
    if (n > 0 && remove_entry(r, d->d_name, d->d_type, err) < 0)
      return -1;
    if (n == 0 && r->top == 0)
      return 0;
    if (n == 0 && leave(r, err) < 0)
      return -1;
  }
}

static BERTH_WUR int rm_tree(struct rmrf *r, berth_error_t *err)
{
  struct statx stx;
  if (identify(r->lv[0].fd, &stx) < 0)
    return BERTH_ERR_ERRNO(err, "remove `%s`: stat", r->path);
  r->dev = makedev(stx.stx_dev_major, stx.stx_dev_minor);
  r->ino = stx.stx_ino;
  r->mnt_id = (stx.stx_mask & STATX_MNT_ID) ? stx.stx_mnt_id : 0;
  for (;;) {
    if (empty_root(r, err) < 0)
      return -1;
    if (unlinkat(r->dirfd, r->path, AT_REMOVEDIR) == 0 || errno == ENOENT)
      return 0;
    if ((errno != ENOTEMPTY && errno != EEXIST) || r->rescans++ >= MAX_RESCANS)
      return BERTH_ERR_ERRNO(err, "remove `%s`", r->path);
    rewind_level(&r->lv[0]);
  }
}

int berth_rm_rf_at(int dirfd, const char *path, berth_error_t *err)
{
  int fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT)
    return 0;
  if (fd < 0 && (errno == ENOTDIR || errno == ELOOP)) {
    if (unlinkat(dirfd, path, 0) < 0 && errno != ENOENT)
      return BERTH_ERR_ERRNO(err, "remove `%s`", path);
    return 0;
  }
  if (fd < 0)
    return BERTH_ERR_ERRNO(err, "remove `%s`: open", path);
  struct rmrf r = { .dirfd = dirfd, .path = path, .bottom = 1 };
  for (size_t i = 0; i <= WINDOW; i++)
    r.lv[i].fd = -1;
  level_open(&r.lv[0], fd, NULL);
  int rc = rm_tree(&r, err);
  for (size_t i = 0; i <= WINDOW; i++) {
    level_close(&r.lv[i]);
    free(r.lv[i].buf);
  }
  return rc;
}

int berth_rm_rf(const char *path, berth_error_t *err) { return berth_rm_rf_at(AT_FDCWD, path, err); }
