/* `berth system check`: the store's files against the catalogue's rows, under the exclusive store
 * lock (no command is between writing a file and recording it). Repairs: orphan files and tmp/
 * leftovers removed, reference counts recomputed, rows nothing refers to dropped (with their
 * files). A row whose file is gone cannot be repaired: it is reported. */
#include <dirent.h>
#include <sys/file.h>
#include <fcntl.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/builds/builds.h"
#include "engine/containers/containers.h"
#include "engine/images/images.h"
#include "engine/networks/networks.h"
#include "engine/system/system.h"
#include "engine/volumes/volumes.h"
#include "image/tarsplit.h"

#define VOLUME_DIR_GRACE_S 60 /* younger: perhaps a command in flight */

struct check {
  struct berth_engine *e;
  bool repair;
  struct berth_check_problem *v;
  size_t n;
  char **rm_layers; /* files to remove after the commit */
  char **rm_blobs;
};

static void problem(struct check *c, bool repairable, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));
static void problem(struct check *c, bool repairable, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  char *s = NULL;
  if (vasprintf(&s, fmt, ap) < 0)
    berth_oom();
  va_end(ap);
  c->v = xreallocarray(c->v, c->n + 1, sizeof *c->v);
  c->v[c->n++] = (struct berth_check_problem){ .what = s, .repairable = repairable, .repaired = false };
}

static char **list_dir(const char *path)
{
  char **v = xcalloc(1, sizeof *v);
  cleanup_dir DIR *d = opendir(path);
  for (struct dirent *de; d && (de = readdir(d)) != NULL;)
    if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
      v = berth_strv_append(v, de->d_name);
  return v;
}

static bool in_list(char **v, const char *s)
{
  for (; v && *v; v++)
    if (strcmp(*v, s) == 0)
      return true;
  return false;
}

static BERTH_WUR int check_blobs(struct check *c, berth_error_t *err)
{
  struct berth_db_blob *rows = NULL;
  size_t n = 0;
  cleanup_free char *dir = xasprintf("%s/blobs/sha256", c->e->root);
  cleanup_strv char **files = list_dir(dir);
  cleanup_strv char **known = xcalloc(1, sizeof(char *));
  if (berth_db_blob_list(c->e->db, &rows, &n, err) < 0)
    return -1;
  int r = 0;
  for (size_t i = 0; i < n && r == 0; i++) {
    const char *d = rows[i].digest;
    known = berth_strv_append(known, berth_digest_hex(d));
    int64_t users = 0;
    struct stat st;
    cleanup_free char *path = berth_store_blob_path(c->e->store, d);
    if ((r = berth_db_blob_users(c->e->db, d, &users, err)) < 0)
      break;
    bool present = path && lstat(path, &st) == 0 && S_ISREG(st.st_mode);
    if (!present && users > 0)
      problem(c, false, "missing blob `%s`: catalogue row without file, used by %lld row(s)", d,
              (long long) users);
    else if (users == 0) {
      problem(c, true, "unreferenced blob `%s`: no image or layer refers to it", d);
      if (c->repair && (r = berth_db_blob_delete(c->e->db, d, err)) >= 0) {
        c->v[c->n - 1].repaired = true;
        c->rm_blobs = berth_strv_append(c->rm_blobs, d);
        r = 0;
      }
    } else if ((uint64_t) st.st_size != rows[i].size)
      problem(c, false, "blob `%s`: %llu bytes on disk, %llu in the catalogue", d,
              (unsigned long long) st.st_size, (unsigned long long) rows[i].size);
  }
  for (char **f = files; r == 0 && *f; f++)
    if (!in_list(known, *f)) {
      cleanup_free char *digest = xasprintf("sha256:%s", *f);
      problem(c, true, "orphan blob `%s`: file without catalogue row", digest);
      c->v[c->n - 1].repaired = c->repair;
      if (c->repair)
        c->rm_blobs = berth_strv_append(c->rm_blobs, digest);
    }
  berth_db_blob_list_free(rows, n);
  return r;
}

static BERTH_WUR int check_layer_row(struct check *c, const struct berth_db_layer *l, berth_error_t *err)
{
  int64_t users = 0;
  if (berth_db_layer_count_users(c->e->db, l->chain_id, &users, err) < 0)
    return -1;
  if (!berth_store_has_layer(c->e->store, l->chain_id))
    problem(c, false, "missing layer `%s`: catalogue row without directory", l->chain_id);
  else if (l->tar_split) {
    cleanup_free char *dir = berth_store_layer_dir(c->e->store, l->chain_id);
    cleanup_free char *rec = xasprintf("%s/" BERTH_TARSPLIT_FILE, dir);
    if (access(rec, F_OK) < 0)
      problem(c, false, "layer `%s`: its tar-split record is missing (save and push cannot rebuild its tar)",
              l->chain_id);
  }
  if (users == 0) {
    problem(c, true, "unreferenced layer `%s`: no image uses it", l->chain_id);
    return 1; /* dropped by drop_unreferenced_layers */
  }
  if (users != l->refcount) {
    problem(c, true, "layer `%s`: reference count %lld, %lld image(s) use it", l->chain_id,
            (long long) l->refcount, (long long) users);
    if (c->repair && berth_db_layer_set_refcount(c->e->db, l->chain_id, users, err) < 0)
      return -1;
    c->v[c->n - 1].repaired = c->repair;
  }
  return 0;
}

/* delete unreferenced layer rows, children before parents */
static BERTH_WUR int drop_layers(struct check *c, char **unref, berth_error_t *err)
{
  for (bool progress = true; progress;) {
    progress = false;
    for (char **u = unref; *u; u++) {
      if (**u == '\0')
        continue;
      int64_t children = 0;
      struct berth_db_layer l;
      if (berth_db_layer_children(c->e->db, *u, &children, err) < 0 ||
          berth_db_layer_get(c->e->db, *u, &l, err) < 0)
        return -1;
      if (children > 0)
        continue;
      if (berth_db_layer_delete(c->e->db, *u, err) < 0)
        return -1;
      c->rm_layers = berth_strv_append(c->rm_layers, *u);
      int64_t users = 0;
      if (l.blob_digest[0] && berth_db_blob_users(c->e->db, l.blob_digest, &users, err) < 0)
        return -1;
      if (l.blob_digest[0] && users == 0) {
        if (berth_db_blob_delete(c->e->db, l.blob_digest, err) < 0)
          return -1;
        c->rm_blobs = berth_strv_append(c->rm_blobs, l.blob_digest);
      }
      **u = '\0';
      progress = true;
    }
  }
  for (size_t i = 0; i < c->n; i++)
    if (berth_str_has_prefix(c->v[i].what, "unreferenced layer"))
      c->v[i].repaired = true;
  return 0;
}

static BERTH_WUR int check_layers(struct check *c, berth_error_t *err)
{
  struct berth_db_layer *rows = NULL;
  size_t n = 0;
  cleanup_free char *dir = xasprintf("%s/layers", c->e->root);
  cleanup_strv char **dirs = list_dir(dir);
  cleanup_strv char **known = xcalloc(1, sizeof(char *));
  cleanup_strv char **unref = xcalloc(1, sizeof(char *));
  if (berth_db_layer_list(c->e->db, &rows, &n, err) < 0)
    return -1;
  int r = 0;
  for (size_t i = 0; i < n && r >= 0; i++) {
    known = berth_strv_append(known, berth_digest_hex(rows[i].chain_id));
    if ((r = check_layer_row(c, &rows[i], err)) > 0)
      unref = berth_strv_append(unref, rows[i].chain_id);
  }
  free(rows);
  if (r >= 0 && c->repair && unref[0] && drop_layers(c, unref, err) < 0)
    r = -1;
  for (char **d = dirs; r >= 0 && *d; d++)
    if (!in_list(known, *d)) {
      cleanup_free char *chain = xasprintf("sha256:%s", *d);
      problem(c, true, "orphan layer `%s`: directory without catalogue row", chain);
      c->v[c->n - 1].repaired = c->repair;
      if (c->repair)
        c->rm_layers = berth_strv_append(c->rm_layers, chain);
    }
  return r < 0 ? -1 : 0;
}

static BERTH_WUR int check_tmp(struct check *c, berth_error_t *err)
{
  cleanup_free char *dir = xasprintf("%s/tmp", c->e->root);
  cleanup_strv char **left = list_dir(dir);
  for (char **l = left; *l; l++) {
    problem(c, true, "leftover `tmp/%s` of an interrupted command", *l);
    cleanup_free char *path = xasprintf("%s/%s", dir, *l);
    if (c->repair && berth_rm_rf(path, err) < 0)
      return -1;
    c->v[c->n - 1].repaired = c->repair;
  }
  return 0;
}

/* a directory a command in flight holds a flock on (a create's new volume, a copy's mount
 * point): never an interrupted command's leftover, however old */
static bool in_use(const char *path)
{
  cleanup_close int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  return fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK;
}

/* volume directories without a row: a create killed before the transaction that adds its
 * container and volumes (a directory younger than a minute may be a create in flight) */
static BERTH_WUR int check_volume_dirs(struct check *c, berth_error_t *err)
{
  cleanup_free char *dir = xasprintf("%s/volumes", c->e->root);
  cleanup_strv char **names = list_dir(dir);
  time_t now = time(NULL);
  for (char **n = names; *n; n++) {
    struct berth_db_volume v;
    int found = berth_db_volume_find(c->e->db, *n, &v, err);
    if (found < 0)
      return -1;
    if (found) {
      berth_db_volume_release(&v);
      continue;
    }
    cleanup_free char *path = xasprintf("%s/%s", dir, *n);
    struct stat st;
    if (lstat(path, &st) < 0 || now - st.st_mtime < VOLUME_DIR_GRACE_S || in_use(path))
      continue;
    problem(c, true, "volume directory `volumes/%s` without a volume (its create was interrupted)", *n);
    if (c->repair && berth_rm_rf(path, err) < 0)
      return -1;
    c->v[c->n - 1].repaired = c->repair;
  }
  return 0;
}

/* mount points of the private-namespace copies (volume copy-up, cp, export) left by a
 * command killed before it removed its own; the mounts were only ever in the child's
 * namespace, so an empty directory is all there is (rmdir: never more than that) */
static void check_mount_points(struct check *c)
{
  cleanup_free char *dir = xasprintf("%s/mounts", c->e->runroot);
  cleanup_strv char **names = list_dir(dir);
  time_t now = time(NULL);
  for (char **n = names; *n; n++) {
    cleanup_free char *path = xasprintf("%s/%s", dir, *n);
    struct stat st;
    if (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode) || now - st.st_mtime < VOLUME_DIR_GRACE_S ||
        in_use(path))
      continue;
    bool done = c->repair && rmdir(path) == 0;
    problem(c, true, "mount point `%s` of an interrupted command", path);
    c->v[c->n - 1].repaired = done;
  }
}

static BERTH_WUR int check_rows(struct check *c, berth_error_t *err)
{
  cleanup_strv char **bad = NULL;
  if (berth_db_verify(c->e->db, &bad, err) < 0)
    return -1;
  for (char **b = bad; *b; b++)
    problem(c, false, "catalogue: %s", *b);
  if (check_layers(c, err) < 0 || check_blobs(c, err) < 0)
    return -1;
  return 0;
}

int berth_system_verify_layers(struct berth_engine *e, struct berth_check_problem **problems, size_t *n,
                               berth_error_t *err)
{
  struct check c = { .e = e };
  struct berth_db_layer *rows = NULL;
  size_t nrows = 0;
  if (berth_engine_lock(e, false, err) < 0 || berth_db_layer_list(e->db, &rows, &nrows, err) < 0)
    return -1;
  for (size_t i = 0; i < nrows; i++) {
    berth_error_t lerr = NULL;
    if (berth_images_layer_verify(e, &rows[i], &lerr) < 0) {
      problem(&c, false, "%s", lerr->msg);
      berth_error_release(&lerr);
    }
  }
  berth_engine_unlock(e);
  free(rows);
  *problems = c.v ? c.v : xcalloc(1, sizeof *c.v);
  *n = c.n;
  return 0;
}

int berth_system_check(struct berth_engine *e, bool repair, struct berth_check_problem **problems, size_t *n,
                       berth_error_t *err)
{
  struct check c = { .e = e, .repair = repair };
  c.rm_layers = xcalloc(1, sizeof(char *));
  c.rm_blobs = xcalloc(1, sizeof(char *));
  int r = berth_engine_lock(e, true, err);
  if (r == 0)
    r = berth_db_begin(e->db, err);
  if (r == 0) {
    r = check_rows(&c, err);
    if (r == 0 && repair)
      r = berth_db_commit(e->db, err);
    else
      berth_db_rollback(e->db);
  }
  /* files after the commit (orphans have no row; dropped rows are gone now) */
  if (r == 0 && repair)
    r = berth_engine_remove_unreferenced(e, c.rm_layers, c.rm_blobs, NULL, err);
  if (r == 0)
    r = check_tmp(&c, err);
  if (r == 0)
    r = check_volume_dirs(&c, err);
  if (r == 0)
    check_mount_points(&c);
  if (r == 0)
    r = berth_ctr_check(e, repair, &c.v, &c.n, err);
  if (r == 0)
    r = berth_builds_check(e, repair, &c.v, &c.n, err);
  if (r == 0) /* after the containers': dead ones are settled (and their networking torn down) there */
    r = berth_networks_check(e, repair, &c.v, &c.n, err);
  berth_strv_free(c.rm_layers);
  berth_strv_free(c.rm_blobs);
  if (r < 0) {
    berth_check_problems_free(c.v, c.n);
    return berth_error_wrap(err, "system check");
  }
  *problems = c.v;
  *n = c.n;
  return 0;
}
