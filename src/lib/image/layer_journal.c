/* The undo journal of a plain extraction (berth_tar_extract): into an existing directory,
 * all or nothing. What an entry replaces is renamed aside in its own directory (so the rename
 * never crosses a mount), what it creates is recorded, and an existing directory's owner,
 * mode, times and the xattrs an entry sets on it are saved before the archive's are applied,
 * as are the owner, mode and times of every directory an entry is written in (its times
 * change). A failed extraction is rolled back in reverse order; a successful one removes what
 * was set aside. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/xalloc.h"
#include "image/layer_priv.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif
#define RESOLVE_FLAGS (RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)

static struct layer_undo *push(struct layer_apply_ctx *c, enum layer_undo_kind kind, const char *parent,
                               const char *name)
{
  if (c->n_undo == c->cap_undo) {
    c->cap_undo = c->cap_undo ? 2 * c->cap_undo : 64;
    c->undo = xreallocarray(c->undo, c->cap_undo, sizeof *c->undo);
  }
  struct layer_undo *u = &c->undo[c->n_undo++];
  memset(u, 0, sizeof *u);
  u->kind = kind;
  u->parent = xstrdup(parent);
  u->name = xstrdup(name);
  return u;
}

void layer_journal_created(struct layer_apply_ctx *c, const char *parent, const char *name)
{
  if (c->plain)
    push(c, LAYER_UNDO_CREATED, parent, name);
}

int layer_journal_set_aside(struct layer_apply_ctx *c, int parentfd, const char *parent, const char *name,
                            berth_error_t *err)
{
  if (!c->plain)
    return layer_remove_at(parentfd, name, err);
  for (int tries = 0;; tries++) {
    char aside[64];
    snprintf(aside, sizeof aside, ".berth-replaced-%d-%lu", (int) getpid(), c->n_aside++);
    int r = renameat2(parentfd, name, parentfd, aside, RENAME_NOREPLACE);
    if (r < 0 && errno == EINVAL) { /* NFS, 9p, some FUSE: no RENAME_NOREPLACE; the name is ours */
      struct stat st;
      r = fstatat(parentfd, aside, &st, AT_SYMLINK_NOFOLLOW) == 0 ? (errno = EEXIST, -1)
                                                                  : renameat(parentfd, name, parentfd, aside);
    }
    if (r == 0) {
      push(c, LAYER_UNDO_SET_ASIDE, parent, name)->aside = xstrdup(aside);
      return 0;
    }
    if (errno != EEXIST || tries == 16)
      return BERTH_ERR_ERRNO(err, "set `%s` aside", name);
  }
}

bool layer_journal_created_here(const struct layer_apply_ctx *c, const char *parent, const char *name)
{
  for (size_t i = 0; i < c->n_undo; i++)
    if (c->undo[i].kind == LAYER_UNDO_CREATED && strcmp(c->undo[i].parent, parent) == 0 &&
        strcmp(c->undo[i].name, name) == 0)
      return true;
  return false;
}

int layer_journal_dir_meta(struct layer_apply_ctx *c, int fd, const char *dir, berth_error_t *err)
{
  if (!c->plain)
    return 0;
  struct stat st;
  if (fstat(fd, &st) < 0)
    return BERTH_ERR_ERRNO(err, "stat directory `%s`", dir[0] ? dir : ".");
  push(c, LAYER_UNDO_META, dir, ".")->st = st;
  return 0;
}

int layer_journal_dir_xattrs(struct layer_apply_ctx *c, int fd, const char *dir, struct archive_entry *e,
                             berth_error_t *err)
{
  if (!c->plain)
    return 0;
  if (layer_journal_dir_meta(c, fd, dir, err) < 0)
    return -1;
  if (archive_entry_xattr_reset(e) == 0)
    return 0;
  struct layer_undo *u = &c->undo[c->n_undo - 1];
  const char *name;
  const void *value;
  size_t size;
  while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
    struct layer_undo_xattr x = { .name = xstrdup(name) };
    ssize_t n = fgetxattr(fd, name, NULL, 0);
    if (n >= 0) {
      x.value = xmalloc((size_t) n + 1);
      n = fgetxattr(fd, name, x.value, (size_t) n);
    }
    if (n < 0 && errno != ENODATA && errno != ENOTSUP) {
      free(x.name);
      free(x.value);
      return BERTH_ERR_ERRNO(err, "read xattr `%s` of directory `%s`", name, dir[0] ? dir : ".");
    }
    if (n < 0) {
      free(steal_ptr(x.value));
    } else {
      x.len = (size_t) n;
    }
    u->xattrs = xreallocarray(u->xattrs, u->n_xattrs + 1, sizeof *u->xattrs);
    u->xattrs[u->n_xattrs++] = x;
  }
  return 0;
}

static int open_parent(struct layer_apply_ctx *c, const struct layer_undo *u)
{
  return berth_openat2(c->rootfd, u->parent[0] ? u->parent : ".", O_PATH | O_DIRECTORY | O_CLOEXEC, 0,
                       RESOLVE_FLAGS);
}

static void undo_one(struct layer_apply_ctx *c, const struct layer_undo *u, bool again)
{
  berth_error_t err = NULL;
  cleanup_close int pfd = open_parent(c, u);
  if (pfd < 0 && again && errno == ENOENT)
    return; /* a directory the archive created, removed since */
  if (pfd < 0) {
    berth_log_warn("roll back `%s/%s`: open its directory: %s", u->parent, u->name, strerror(errno));
    return;
  }
  switch (u->kind) {
  case LAYER_UNDO_CREATED:
    if (layer_remove_at(pfd, u->name, &err) < 0)
      berth_log_warn("roll back: %s", err->msg);
    break;
  case LAYER_UNDO_SET_ASIDE:
    /* whatever replaced it was created later, so it is already gone */
    if (renameat2(pfd, u->aside, pfd, u->name, RENAME_NOREPLACE) < 0 &&
        (errno != EINVAL || renameat(pfd, u->aside, pfd, u->name) < 0))
      berth_log_warn("roll back: restore `%s/%s` from `%s`: %s", u->parent, u->name, u->aside,
                     strerror(errno));
    break;
  case LAYER_UNDO_META: {
    /* only the directory that was saved: once a symlink set aside is back, the same path may
     * lead to another directory, or a directory created meanwhile is gone */
    cleanup_close int fd = openat(pfd, u->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    struct stat now;
    if (fd < 0 || fstat(fd, &now) < 0 || now.st_dev != u->st.st_dev || now.st_ino != u->st.st_ino)
      break;
    for (size_t i = 0; i < u->n_xattrs; i++) {
      const struct layer_undo_xattr *x = &u->xattrs[i];
      int r = x->value ? fsetxattr(fd, x->name, x->value, x->len, 0) : fremovexattr(fd, x->name);
      if (r < 0 && !(x->value == NULL && (errno == ENODATA || errno == ENOTSUP)))
        berth_log_warn("roll back: xattr `%s` of `%s`: %s", x->name, u->parent, strerror(errno));
    }
    struct timespec ts[2] = { u->st.st_atim, u->st.st_mtim };
    if (fchown(fd, u->st.st_uid, u->st.st_gid) < 0 || fchmod(fd, u->st.st_mode & 07777) < 0 ||
        futimens(fd, ts) < 0)
      berth_log_warn("roll back: owner, mode and times of `%s/%s`: %s", u->parent, u->name, strerror(errno));
    break;
  }
  }
  berth_error_release(&err);
}

void layer_journal_finish(struct layer_apply_ctx *c, bool ok)
{
  for (size_t i = c->n_undo; i-- > 0;) {
    struct layer_undo *u = &c->undo[i];
    if (!ok) {
      undo_one(c, u, false);
    } else if (u->kind == LAYER_UNDO_SET_ASIDE) {
      berth_error_t err = NULL;
      cleanup_close int pfd = open_parent(c, u);
      if (pfd < 0 || layer_remove_at(pfd, u->aside, &err) < 0)
        berth_log_warn("remove the replaced `%s/%s` (`%s`): %s", u->parent, u->name, u->aside,
                       err ? err->msg : strerror(errno));
      berth_error_release(&err);
    }
  }
  /* the directories' times once more: removing and renaming entries back changed them;
   * in reverse, so that a directory's first record (its state before) is applied last */
  for (size_t i = c->n_undo; !ok && i-- > 0;)
    if (c->undo[i].kind == LAYER_UNDO_META)
      undo_one(c, &c->undo[i], true);
  for (size_t i = 0; i < c->n_undo; i++) {
    free(c->undo[i].parent);
    free(c->undo[i].name);
    free(c->undo[i].aside);
    for (size_t k = 0; k < c->undo[i].n_xattrs; k++) {
      free(c->undo[i].xattrs[k].name);
      free(c->undo[i].xattrs[k].value);
    }
    free(c->undo[i].xattrs);
  }
  free(c->undo);
  c->undo = NULL;
  c->n_undo = c->cap_undo = 0;
}
