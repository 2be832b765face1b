/* The engine handle: store, catalogue, store lock; resolving what the user names. */
#include "engine/engine.h"

#include <ctype.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/privdir.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "image/reference.h"

static const char *pick(const char *given, const char *env, const char *def)
{
  if (given && *given)
    return given;
  const char *v = getenv(env);
  return v && *v ? v : def;
}

/* the store's own top directories, tightened where an older berth made them 0711/0755 */
static BERTH_WUR int ensure_top_dirs(const char *root, berth_error_t *err)
{
  static const char *const top[] = { "containers", "volumes" };
  cleanup_close int fd = open(root, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return BERTH_ERR_ERRNO(err, "open `%s`", root);
  for (size_t i = 0; i < BERTH_N_ELEMENTS(top); i++)
    if (berth_privdir_ensure_at(fd, top[i], 0700, NULL, err) < 0)
      return -1;
  return 0;
}

int berth_engine_open(const struct berth_engine_opts *o, struct berth_engine **out, berth_error_t *err)
{
  struct berth_engine *e = xmalloc0(sizeof *e);
  e->lockfd = -1;
  e->root = xstrdup(pick(o->root, "BERTH_ROOT", BERTH_ENGINE_DEFAULT_ROOT));
  e->runroot = xstrdup(pick(o->runroot, "BERTH_RUNROOT", BERTH_ENGINE_DEFAULT_RUNROOT));
  e->limits = o->limits;
  cleanup_free char *dbpath = xasprintf("%s/berth.db", e->root);
  cleanup_free char *lockpath = xasprintf("%s/engine.lock", e->root);
  if (berth_privdir_ensure(e->root, 0700, err) < 0 || berth_privdir_ensure(e->runroot, 0700, err) < 0 ||
      ensure_top_dirs(e->root, err) < 0)
    goto fail;
  e->lockfd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (e->lockfd < 0) {
    BERTH_ERR_ERRNO(err, "open store lock `%s`", lockpath);
    goto fail;
  }
  if (berth_store_open(e->root, &e->store, err) < 0 ||
      berth_db_open(dbpath, o->db_timeout_ms, &e->db, err) < 0)
    goto fail;
  *out = e;
  return 0;
fail:
  berth_error_wrap(err, "open engine root `%s`", e->root);
  berth_engine_close(e);
  return -1;
}

void berth_engine_close(struct berth_engine *e)
{
  if (e == NULL)
    return;
  berth_db_close(e->db);
  if (e->store)
    berth_store_close(e->store);
  if (e->lockfd >= 0)
    close(e->lockfd);
  free(e->root);
  free(e->runroot);
  free(e);
}

int berth_engine_lock(struct berth_engine *e, bool exclusive, berth_error_t *err)
{
  int op = exclusive ? LOCK_EX : LOCK_SH;
  if (e->lock_held == op)
    return 0;
  while (flock(e->lockfd, op) < 0)
    if (errno != EINTR)
      return BERTH_ERR_ERRNO(err, "lock store `%s`", e->root);
  e->lock_held = op;
  return 0;
}

void berth_engine_unlock(struct berth_engine *e)
{
  if (e->lock_held)
    flock(e->lockfd, LOCK_UN);
  e->lock_held = 0;
}

static bool all_hex(const char *s)
{
  if (*s == '\0')
    return false;
  for (; *s; s++)
    if (!isxdigit((unsigned char) *s) || isupper((unsigned char) *s))
      return false;
  return true;
}

static BERTH_WUR int by_prefix(struct berth_engine *e, const char *what, const char *hex, berth_digest_t id,
                               berth_error_t *err)
{
  cleanup_strv char **ids = NULL;
  if (berth_db_image_find_prefix(e->db, hex, &ids, err) < 0)
    return -1;
  size_t n = berth_strv_len(ids);
  if (n == 0)
    return 0;
  if (n > 1 && strlen(hex) < 64)
    return BERTH_ERR(err, "image id prefix `%s` is ambiguous (matches several images)", what);
  snprintf(id, sizeof(berth_digest_t), "%s", ids[0]);
  return 1;
}

/* a reference: tag through the tags, name@digest through the repo digests */
static BERTH_WUR int by_reference(struct berth_engine *e, const struct berth_ref *ref, berth_digest_t id,
                                  char **tag, berth_error_t *err)
{
  cleanup_free char *full = berth_ref_string(ref);
  if (ref->digest == NULL) {
    int r = berth_db_tag_get(e->db, full, id, err);
    if (r > 0 && tag)
      *tag = steal_ptr(full);
    return r;
  }
  cleanup_free char *name = berth_ref_name(ref);
  cleanup_free char *at = xasprintf("%s@%s", name, ref->digest);
  return berth_db_repo_digest_find(e->db, at, id, err);
}

int berth_engine_resolve(struct berth_engine *e, const char *what, berth_digest_t id, char **tag,
                         berth_error_t *err)
{
  if (tag)
    *tag = NULL;
  int r = 0;
  if (berth_str_has_prefix(what, "sha256:")) {
    if (!all_hex(what + 7))
      return BERTH_ERR(err, "invalid image id `%s`", what);
    r = by_prefix(e, what, what + 7, id, err);
  } else {
    struct berth_ref ref = { 0 };
    berth_error_t perr = NULL;
    if (berth_ref_parse(what, &ref, &perr) == 0) {
      r = by_reference(e, &ref, id, tag, err);
      berth_ref_release(&ref);
    } else if (!all_hex(what)) {
      *err = steal_ptr(perr);
      return berth_error_wrap(err, "image `%s`", what);
    }
    berth_error_release(&perr);
    if (r == 0 && all_hex(what))
      r = by_prefix(e, what, what, id, err);
  }
  if (r < 0)
    return -1;
  if (r == 0)
    return BERTH_ERR(err, "no such image: `%s`", what);
  return 0;
}

void berth_check_problems_free(struct berth_check_problem *p, size_t n)
{
  for (size_t i = 0; i < n; i++)
    free(p[i].what);
  free(p);
}
