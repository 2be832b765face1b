/* `berth diff`: a walk of the container's upper dir (lexical order, one directory open at a time,
 * never following a link), each entry compared with the first lower layer that has its path
 * (opened through openat2(RESOLVE_IN_ROOT) in that layer, never outside it). What the runtime
 * and berth create for every container — /proc, /sys and /dev mount points, an empty
 * /etc/hosts, /etc/hostname, /etc/resolv.conf — is not the container's change: Docker keeps them
 * in an init layer below the container's, so its diff never shows them; neither does berth's. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/commit/commit.h"
#include "engine/commit/commit_internal.h"

void berth_changes_free(struct berth_change *v, size_t n)
{
  for (size_t i = 0; v && i < n; i++)
    free(v[i].path);
  free(v);
}

char berth_change_letter(enum berth_change_kind k)
{
  return k == BERTH_CHANGE_ADD ? 'A' : k == BERTH_CHANGE_DELETE ? 'D' : 'C';
}

static bool is_whiteout(const struct stat *st)
{
  return S_ISCHR(st->st_mode) && major(st->st_rdev) == 0 && minor(st->st_rdev) == 0;
}

int berth_change_classify(const struct stat *upper, const struct stat *lower, enum berth_change_kind *kind)
{
  if (is_whiteout(upper)) {
    *kind = BERTH_CHANGE_DELETE;
    return lower != NULL; /* a whiteout of nothing (a file made and removed) is no change */
  }
  if (lower == NULL) {
    *kind = BERTH_CHANGE_ADD;
    return 1;
  }
  *kind = BERTH_CHANGE_MODIFY;
  if (S_ISDIR(upper->st_mode) && S_ISDIR(lower->st_mode))
    return upper->st_mode != lower->st_mode || upper->st_uid != lower->st_uid ||
           upper->st_gid != lower->st_gid;
  return 1;
}

/* the init layer's paths (see above): skipped when they are what berth made */
static bool made_for_every_container(const char *path, const struct stat *st)
{
  static const char *const dirs[] = { "/proc", "/sys", "/dev" };
  static const char *const files[] = { "/etc/hosts", "/etc/hostname", "/etc/resolv.conf" };
  for (size_t i = 0; i < BERTH_N_ELEMENTS(dirs); i++)
    if (strcmp(path, dirs[i]) == 0 && S_ISDIR(st->st_mode))
      return true;
  for (size_t i = 0; i < BERTH_N_ELEMENTS(files); i++)
    if (strcmp(path, files[i]) == 0 && S_ISREG(st->st_mode) && st->st_size == 0)
      return true;
  return false;
}

struct walk {
  int upperfd;
  int *lowerfds;
  size_t nlowers;
  struct berth_change *v;
  size_t n;
};

/* the first lower layer's entry at path: 1 found, 0 none (or a whiteout there) */
static int lower_stat(const struct walk *w, const char *path, struct stat *st)
{
  for (size_t i = 0; i < w->nlowers; i++) {
    cleanup_close int fd = berth_openat2(w->lowerfds[i], path + 1, O_PATH | O_NOFOLLOW | O_CLOEXEC, 0,
                                         RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
    if (fd >= 0 && fstat(fd, st) == 0)
      return is_whiteout(st) ? 0 : 1;
  }
  return 0;
}

static void insert(struct walk *w, size_t at, enum berth_change_kind k, const char *path)
{
  w->v = xreallocarray(w->v, w->n + 1, sizeof *w->v);
  memmove(&w->v[at + 1], &w->v[at], (w->n - at) * sizeof *w->v);
  w->v[at] = (struct berth_change){ k, xstrdup(path) };
  w->n++;
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *) a, *(char *const *) b); }

static BERTH_WUR int walk_dir(struct walk *w, const char *dir, berth_error_t *err);

/* one entry; a directory's own line goes before its contents, decided after them */
static BERTH_WUR int walk_entry(struct walk *w, const char *path, berth_error_t *err)
{
  struct stat st, lst;
  if (fstatat(w->upperfd, path + 1, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT ? 0 : BERTH_ERR_ERRNO(err, "`%s`", path);
  if (made_for_every_container(path, &st))
    return 0;
  int in_lower = lower_stat(w, path, &lst);
  enum berth_change_kind kind;
  int changed = berth_change_classify(&st, in_lower ? &lst : NULL, &kind);
  size_t at = w->n;
  if (S_ISDIR(st.st_mode) && walk_dir(w, path, err) < 0)
    return -1;
  if (changed || w->n > at) /* a directory with changes below is modified */
    insert(w, at, kind, path);
  return 0;
}

static BERTH_WUR int walk_dir(struct walk *w, const char *dir, berth_error_t *err)
{
  cleanup_strv char **names = xcalloc(1, sizeof(char *));
  {
    int fd =
      berth_openat2(w->upperfd, dir[1] ? dir + 1 : ".", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0,
                    RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
    if (fd < 0)
      return BERTH_ERR_ERRNO(err, "`%s`", dir);
    cleanup_dir DIR *d = fdopendir(fd);
    if (d == NULL) {
      close(fd);
      return BERTH_ERR_ERRNO(err, "`%s`", dir);
    }
    for (struct dirent *de; (de = readdir(d)) != NULL;)
      if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
        names = berth_strv_append(names, de->d_name);
  } /* closed: one directory open at a time, whatever the depth */
  qsort(names, berth_strv_len(names), sizeof *names, by_name);
  for (char **n = names; *n; n++) {
    cleanup_free char *path = xasprintf("%s/%s", dir[1] ? dir : "", *n);
    if (walk_entry(w, path, err) < 0)
      return -1;
  }
  return 0;
}

int commit_changes_of(int upperfd, int *lowerfds, size_t nlowers, struct berth_change **out, size_t *n,
                      berth_error_t *err)
{
  struct walk w = { .upperfd = upperfd, .lowerfds = lowerfds, .nlowers = nlowers };
  if (walk_dir(&w, "/", err) < 0) {
    berth_changes_free(w.v, w.n);
    return -1;
  }
  *out = w.v ? w.v : xcalloc(1, sizeof *w.v);
  *n = w.n;
  return 0;
}
