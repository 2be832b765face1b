/* Making and removing the container's cgroup directories: mkdir -p that remembers which levels
 * it made (and notes the ones above the leaf in parents_dir), and a teardown that removes the
 * leaf, whatever the container nested, and the empty levels above it that berth made. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "cgroup/internal.h"

/* v1 cpuset: a new cgroup starts with empty cpus/mems and refuses tasks until they are set */
static BERTH_WUR int copy_cpuset(const char *dir, const char *file, berth_error_t *err)
{
  cleanup_free char *cur = NULL, *parent = xstrndup(dir, (size_t) (strrchr(dir, '/') - dir)), *pv = NULL;
  if (cg_read(dir, file, &cur, err) < 0)
    return -1;
  if (cur[strspn(cur, " \n")] != '\0')
    return 0;
  if (cg_read(parent, file, &pv, err) < 0)
    return -1;
  pv[strcspn(pv, "\n")] = '\0';
  if (pv[0] && cg_write(dir, file, pv) < 0)
    return BERTH_ERR_ERRNO(err, "copy %s = %s from the parent of `%s`", file, pv, dir);
  return 0;
}

/* v2: a level we made between the hierarchy and the leaf passes every controller it has down */
static BERTH_WUR int enable_all(const char *dir, berth_error_t *err)
{
  cleanup_free char *list = NULL;
  if (cg_read(dir, "cgroup.controllers", &list, err) < 0)
    return -1;
  for (char *save = NULL, *t = strtok_r(list, " \n", &save); t; t = strtok_r(NULL, " \n", &save)) {
    cleanup_free char *v = xasprintf("+%s", t);
    if (cg_write(dir, "cgroup.subtree_control", v) < 0)
      return BERTH_ERR_ERRNO(err, "enable controller `%s` in `%s`", t, dir);
  }
  return 0;
}

/* The note of a level in m->parents_dir: the level's absolute path with '%' and '/'
 * percent-encoded, one file name. NULL without a parents_dir or for a path too long to be one
 * name (that level is then only the maker's to remove, as without notes). */
static char *note_path(const berth_cgroup_manager_t *m, const char *level)
{
  if (m->parents_dir == NULL)
    return NULL;
  cleanup_strbuf struct berth_strbuf b = BERTH_STRBUF_INIT;
  for (const char *c = level; *c; c++)
    if (*c == '/' || *c == '%')
      berth_strbuf_printf(&b, "%%%02X", (unsigned) *c);
    else
      berth_strbuf_putc(&b, *c);
  if (b.len > 255)
    return NULL;
  return xasprintf("%s/%s", m->parents_dir, b.buf);
}

/* The notes directory is made where its parent exists, never that parent: a runtime root
 * elsewhere must leave nothing in a directory it did not make (the notes go with the last). */
static void note_level(const berth_cgroup_manager_t *m, const char *level)
{
  cleanup_free char *note = note_path(m, level);
  if (note == NULL || (mkdir(m->parents_dir, 0700) < 0 && errno != EEXIST))
    return;
  int fd = open(note, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd >= 0)
    close(fd);
}

/* a note's name back to the level's path ("%2Fsys%2F..." -> "/sys/..."); NULL when malformed */
static char *note_level_path(const char *name)
{
  cleanup_strbuf struct berth_strbuf b = BERTH_STRBUF_INIT;
  for (const char *c = name; *c; c++) {
    unsigned v;
    if (*c != '%') {
      berth_strbuf_putc(&b, *c);
    } else if (sscanf(c + 1, "%2X", &v) == 1 && isxdigit((unsigned char) c[1]) &&
               isxdigit((unsigned char) c[2]) && (v == '/' || v == '%')) {
      berth_strbuf_putc(&b, (char) v);
      c += 2;
    } else {
      return NULL;
    }
  }
  return b.len > 0 && b.buf[0] == '/' ? berth_strbuf_detach(&b) : NULL;
}

/* Drop the notes of levels that are gone (removed by another runtime or by hand: nobody would
 * unnote them), and the directory with the last note. Under the lock. */
static void prune_notes(const berth_cgroup_manager_t *m)
{
  if (m->parents_dir == NULL)
    return;
  cleanup_dir DIR *d = opendir(m->parents_dir);
  if (d == NULL)
    return;
  for (struct dirent *e; (e = readdir(d));) {
    if (e->d_name[0] == '.')
      continue;
    cleanup_free char *level = note_level_path(e->d_name);
    if (level && access(level, F_OK) < 0 && errno == ENOENT)
      (void) unlinkat(dirfd(d), e->d_name, 0);
  }
  rmdir(m->parents_dir); /* when no note is left */
}

static bool level_noted(const berth_cgroup_manager_t *m, const char *level)
{
  cleanup_free char *note = note_path(m, level);
  return note && access(note, F_OK) == 0;
}

static void unnote_level(const berth_cgroup_manager_t *m, const char *level)
{
  cleanup_free char *note = note_path(m, level);
  if (note && unlink(note) == 0)
    rmdir(m->parents_dir); /* when that was the last note */
}

/* Making levels and noting them, or removing levels and their notes, one runtime at a time:
 * else a destroy's rmdir and unnote could straddle a create that remakes and notes the same
 * level. The lock is a flock on the directory that holds parents_dir (never made here: /run,
 * or the runtime root), so that parents_dir can go when its last note does; -1 (no lock)
 * without notes or without that directory. */
static int lock_notes(const berth_cgroup_manager_t *m)
{
  if (m->parents_dir == NULL)
    return -1;
  cleanup_free char *holder = xstrdup(m->parents_dir);
  char *slash = strrchr(holder, '/');
  if (slash == NULL)
    return -1;
  slash[slash == holder] = '\0'; /* "/x" is held by "/" */
  int fd = open(holder, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  while (fd >= 0 && flock(fd, LOCK_EX) < 0)
    if (errno != EINTR) {
      close(fd);
      return -1;
    }
  return fd;
}

/* mkdir -p of d->path below its hierarchy; d->created: the trailing levels made here */
static BERTH_WUR int mkdir_once(const berth_cgroup_manager_t *m, struct cg_dir *d, bool v2_enable,
                                berth_error_t *err)
{
  size_t base = strlen(d->mountpoint), len = strlen(d->path);
  cleanup_free char *p = xstrdup(d->path);
  bool cpuset = !d->unified && (d->controllers & BERTH_CGROUP_CTL_BIT(BERTH_CGROUP_CTL_CPUSET));
  d->created = 0;
  for (size_t i = base + 1; i <= len; i++) {
    if (p[i] != '/' && p[i] != '\0')
      continue;
    char c = p[i];
    p[i] = '\0';
    if (mkdir(p, 0755) == 0) {
      d->created++;
      if (c != '\0')
        note_level(m, p);
      if ((cpuset && (copy_cpuset(p, "cpuset.cpus", err) < 0 || copy_cpuset(p, "cpuset.mems", err) < 0)) ||
          (v2_enable && c != '\0' && enable_all(p, err) < 0))
        return berth_error_wrap(err, "create cgroup `%s`", p);
    } else if (errno != EEXIST) {
      return BERTH_ERR_ERRNO(err, "create cgroup `%s`", p);
    }
    p[i] = c;
  }
  return 0;
}

static BERTH_WUR int mkdir_levels(const berth_cgroup_manager_t *m, struct cg_dir *d, bool v2_enable,
                                  berth_error_t *err)
{
  size_t base = strlen(d->mountpoint), len = strlen(d->path);
  if (strncmp(d->path, d->mountpoint, base) != 0 || len <= base)
    return BERTH_ERR(err, "cgroup `%s` is not below its hierarchy `%s`", d->path, d->mountpoint);
  /* a level that existed when we looked may be removed before we make the next one below it,
   * by the last container under it going away: make the path again from the top */
  for (int tries = 0;; tries++) {
    int r = mkdir_once(m, d, v2_enable, err);
    if (r == 0 || tries == 20 || (*err)->errnum != ENOENT)
      return r;
    berth_error_release(err);
  }
}

/* rmdir the levels above path while they are empty: those this manager made, and those any
 * manager noted in parents_dir (another container made them); never a level nobody noted */
static void rmdir_parents(const berth_cgroup_manager_t *m, const struct cg_dir *d)
{
  cleanup_free char *p = xstrdup(d->path);
  size_t base = strlen(d->mountpoint);
  for (unsigned i = 1;; i++) {
    char *slash = strrchr(p, '/');
    if (slash == NULL || (size_t) (slash - p) <= base)
      return;
    *slash = '\0';
    if (i >= d->created && !level_noted(m, p))
      return; /* not made by berth: not ours to remove */
    if (rmdir(p) < 0 && errno != ENOENT)
      return; /* another container is still under it */
    unnote_level(m, p);
  }
}

/* depth-first rmdir of the cgroups the container nested below dir; -1 with errno */
static int rm_descendants(const char *dir)
{
  cleanup_dir DIR *d = opendir(dir);
  if (d == NULL)
    return errno == ENOENT ? 0 : -1;
  for (struct dirent *e; (e = readdir(d));) {
    if (e->d_type != DT_DIR || strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    cleanup_free char *sub = xasprintf("%s/%s", dir, e->d_name);
    if (rm_descendants(sub) < 0 || (rmdir(sub) < 0 && errno != ENOENT))
      return -1;
  }
  return 0;
}

/* processes that were just killed leave their cgroup a moment later: retry EBUSY ~1 s */
static int rmdir_retry(const char *dir)
{
  for (int tries = 0;; tries++) {
    if (rm_descendants(dir) == 0 && (rmdir(dir) == 0 || errno == ENOENT))
      return 0;
    if ((errno != EBUSY && errno != ENOTEMPTY) || tries >= 100)
      return -1;
    cg_sleep_ms(10);
  }
}

static void remove_created(berth_cgroup_manager_t *m, size_t upto)
{
  for (size_t i = 0; i < upto; i++) {
    struct cg_dir *d = &m->dirs[i];
    if (d->created > 0 && rmdir_retry(d->path) == 0)
      rmdir_parents(m, d);
    d->created = 0;
  }
}

int cg_fs_create(berth_cgroup_manager_t *m, pid_t pid, berth_error_t *err)
{
  bool v2 = m->mode == BERTH_CGROUP_MODE_V2;
  cleanup_close int lock = lock_notes(m);
  for (size_t i = 0; i < m->n_dirs; i++) {
    if (mkdir_levels(m, &m->dirs[i], v2 && m->dirs[i].unified, err) < 0) {
      remove_created(m, i + 1);
      return -1;
    }
  }
  close(steal_fd(lock)); /* the levels exist and hold the leaf: a destroy will not remove them */
  if (pid > 0 && cg_fs_join(m, pid, err) < 0) {
    cleanup_close int again = lock_notes(m);
    (void) again;
    remove_created(m, m->n_dirs);
    return -1;
  }
  return 0;
}

int cg_fs_destroy(berth_cgroup_manager_t *m, berth_error_t *err)
{
  cleanup_free pid_t *pids = NULL;
  size_t n = 0;
  berth_error_t ignored = NULL;
  if (m->ops->pids(m, &pids, &n, &ignored) == 0 && n > 0 && m->ops->kill(m, SIGKILL, &ignored) < 0)
    berth_error_release(&ignored); /* rmdir below reports what stays */
  berth_error_release(&ignored);
  enum berth_cgroup_freezer_state st;
  if (m->ops->state(m, &st, &ignored) == 0 && st != BERTH_CGROUP_THAWED &&
      m->ops->freeze(m, false, &ignored) < 0)
    berth_error_release(&ignored);
  berth_error_release(&ignored);
  struct berth_strbuf msg = BERTH_STRBUF_INIT;
  int first_errno = 0;
  for (size_t i = 0; i < m->n_dirs; i++) {
    struct cg_dir *d = &m->dirs[i];
    if (rmdir_retry(d->path) < 0) {
      if (first_errno == 0)
        first_errno = errno;
      berth_strbuf_printf(&msg, "%s`%s` stays: %s", msg.len ? "; " : "", d->path, berth_strerror(errno));
      continue;
    }
    int lock = lock_notes(m);
    rmdir_parents(m, d);
    if (lock >= 0)
      close(lock);
    d->created = 0;
  }
  int lock = lock_notes(m);
  prune_notes(m);
  if (lock >= 0)
    close(lock);
  if (first_errno) {
    berth_error_make(err, 0, "destroy cgroup: %s", msg.buf);
    (*err)->errnum = first_errno;
    berth_strbuf_release(&msg);
    return -1;
  }
  return 0;
}
