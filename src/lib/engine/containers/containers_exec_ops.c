/* Containers: the small state commands — pause/unpause (the runtime's pause/resume), rename,
 * container prune. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/containers/containers_internal.h"
#include "engine/runspec/runspec.h"
#include "json/json.h"

struct pause_change {
  enum berth_ctr_state from, to;
};

/* only a container still in `from` changes (one that exited meanwhile keeps its exit) */
static BERTH_WUR int change_state(struct berth_db_container *row, void *data, berth_error_t *err)
{
  const struct pause_change *pc = data;
  (void) err;
  if (row->state != pc->from)
    return 0;
  row->state = pc->to;
  return 1;
}

int berth_ctr_pause(struct berth_engine *e, const char *what, berth_error_t *err)
{
  struct berth_ctr c;
  if (berth_ctr_get(e, what, &c, err) < 0)
    return -1;
  int r = 0;
  struct pause_change pc = { BERTH_CTR_RUNNING, BERTH_CTR_PAUSED };
  const char *tail[] = { "pause", c.row.id, NULL };
  if (c.state == BERTH_CTR_PAUSED)
    r = BERTH_ERR(err, "container %.12s is already paused", c.row.id);
  else if (c.state != BERTH_CTR_RUNNING)
    r = BERTH_ERR(err, "container %.12s is not running", c.row.id);
  else if (berth_ctr_runtime_run(e, &c, tail, err) < 0 || ctr_update(e, c.row.id, change_state, &pc, err) < 0)
    r = -1;
  else
    berth_ctr_event(e, &c, "pause", NULL);
  berth_ctr_release(&c);
  return r < 0 ? berth_error_wrap(err, "pause container `%s`", what) : 0;
}

int berth_ctr_unpause(struct berth_engine *e, const char *what, berth_error_t *err)
{
  struct berth_ctr c;
  if (berth_ctr_get(e, what, &c, err) < 0)
    return -1;
  int r = 0;
  struct pause_change pc = { BERTH_CTR_PAUSED, BERTH_CTR_RUNNING };
  const char *tail[] = { "resume", c.row.id, NULL };
  if (c.state != BERTH_CTR_PAUSED)
    r = BERTH_ERR(err, "container %.12s is not paused", c.row.id);
  else if (berth_ctr_runtime_run(e, &c, tail, err) < 0 || ctr_update(e, c.row.id, change_state, &pc, err) < 0)
    r = -1;
  else
    berth_ctr_event(e, &c, "unpause", NULL);
  berth_ctr_release(&c);
  return r < 0 ? berth_error_wrap(err, "unpause container `%s`", what) : 0;
}

struct rename {
  struct berth_engine *e;
  const char *name;
  char *config;  /* the bundle's config.json */
  char *pending; /* its new text, written beside it; renamed over it once the row is committed */
};

/* The bundle's config.json with the new name annotation (the next start runs with it; a
 * running container keeps the config it was started with, as with Docker), written beside
 * the file: only a committed rename puts it in place, so the row and the file never say two
 * different names. */
static BERTH_WUR int rename_in_bundle(struct rename *rn, const char *id, berth_error_t *err)
{
  cleanup_free char *dir = berth_ctr_dir(rn->e, id);
  cleanup_free char *path = xasprintf("%s/bundle/config.json", dir);
  if (access(path, F_OK) < 0)
    return 0; /* a create still writing its files */
  json_t *config = berth_json_load_file(path, path, err);
  if (config == NULL)
    return -1;
  json_t *ann = json_object_get(config, "annotations");
  int r = 0;
  if (json_is_object(ann) && json_object_get(ann, "berth.container.name")) {
    json_object_set_new(ann, "berth.container.name", json_string(rn->name));
    size_t len = 0;
    cleanup_free char *text = berth_ctrspec_dumps(config, &len);
    cleanup_free char *pending = xasprintf("%s.rename-%d", path, (int) getpid());
    r = berth_write_file_atomic(pending, text, len, 0600, err);
    if (r == 0) {
      rn->config = steal_ptr(path);
      rn->pending = steal_ptr(pending);
    }
  }
  json_decref(config);
  return r;
}

static BERTH_WUR int set_name(struct berth_db_container *row, void *data, berth_error_t *err)
{
  struct rename *rn = data;
  if (strcmp(row->name, rn->name) == 0)
    return BERTH_ERR(err, "renaming a container with the same name as its current name");
  int used = berth_db_container_name_used(rn->e->db, rn->name, err);
  if (used < 0)
    return -1;
  if (used > 0) {
    cleanup_strv char **ids = NULL;
    berth_ignore(berth_db_container_find(rn->e->db, rn->name, &ids, BERTH_IGNORED));
    return BERTH_ERR(err,
                     "conflict: the container name `/%s` is already in use by container %.12s; remove (or "
                     "rename) that container to be able to reuse that name",
                     rn->name, ids && ids[0] ? ids[0] : "?");
  }
  if (row->state == BERTH_CTR_REMOVING)
    return BERTH_ERR(err, "container %.12s is being removed", row->id);
  if (rename_in_bundle(rn, row->id, err) < 0)
    return -1;
  free(row->name);
  row->name = xstrdup(rn->name);
  return 1;
}

int berth_ctr_rename(struct berth_engine *e, const char *what, const char *name, berth_error_t *err)
{
  if (!berth_engine_name_valid(name))
    return BERTH_ERR(err, "invalid container name `%s`: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
                     name ? name : "");
  struct rename rn = { .e = e, .name = name[0] == '/' ? name + 1 : name };
  struct berth_ctr c;
  if (berth_ctr_get(e, what, &c, err) < 0)
    return berth_error_wrap(err, "rename container `%s`", what);
  /* the container's lock: start reads the bundle under it, and two renames put their files
   * in place in the order of their commits */
  cleanup_close int lock = access(c.dir, F_OK) == 0 ? ctr_lock(&c, err) : -2;
  int r = lock == -1 ? -1 : ctr_update(e, c.row.id, set_name, &rn, err);
  if (r == 0) {
    const char *attrs[] = { "oldName", c.row.name, NULL };
    ctr_event_id(e, c.row.id, "rename", attrs);
  }
  berth_ctr_release(&c);
  if (r == 0 && rn.pending && rename(rn.pending, rn.config) < 0)
    r = BERTH_ERR_ERRNO(err, "put `%s` in place (the catalogue has the new name already)", rn.config);
  if (rn.pending)
    unlink(rn.pending); /* after a failure: the old config.json stays */
  free(rn.config);
  free(rn.pending);
  return r < 0 ? berth_error_wrap(err, "rename container `%s`", what) : 0;
}

/* label=k, label=k=v, and the negations "!k", "!k=v" */
static bool labels_match(json_t *labels, char *const *filters)
{
  for (size_t i = 0; filters && filters[i]; i++) {
    const char *f = filters[i];
    bool neg = f[0] == '!';
    f += neg;
    const char *eq = strchr(f, '=');
    cleanup_free char *key = eq ? xstrndup(f, (size_t) (eq - f)) : xstrdup(f);
    json_t *v = json_object_get(labels, key);
    bool hit = v && (eq == NULL || (json_is_string(v) && strcmp(json_string_value(v), eq + 1) == 0));
    if (hit == neg)
      return false;
  }
  return true;
}

/* stopped, and not a create still writing its files (config.json comes last) */
static bool prunable(const struct berth_ctr *c, int64_t now)
{
  if (c->state != BERTH_CTR_CREATED && c->state != BERTH_CTR_EXITED && c->state != BERTH_CTR_DEAD)
    return false;
  if (c->state != BERTH_CTR_CREATED || now - c->row.created > 60 * 1000000000LL)
    return true;
  cleanup_free char *config = xasprintf("%s/bundle/config.json", c->dir);
  return access(config, F_OK) == 0;
}

int berth_ctr_prune(struct berth_engine *e, char *const *labels, int64_t until, char ***removed,
                    uint64_t *reclaimed, berth_error_t *err)
{
  struct berth_ctr *v = NULL;
  size_t n = 0;
  *removed = xcalloc(1, sizeof **removed);
  *reclaimed = 0;
  if (berth_ctr_list(e, &v, &n, err) < 0)
    return -1;
  int64_t now = ctr_now();
  for (size_t i = 0; i < n; i++) {
    const struct berth_ctr *c = &v[i];
    if (!prunable(c, now) || (until > 0 && c->row.created >= until) ||
        !labels_match(json_object_get(c->config, "Labels"), labels))
      continue;
    uint64_t size = 0;
    berth_error_t one = NULL;
    if (berth_engine_dir_size(c->dir, &size, &one) < 0)
      berth_error_release(&one);
    if (berth_ctr_remove(e, c->row.id, false, false, &one) < 0) {
      berth_log_warn("prune: %s", one->msg); /* started meanwhile: it stays */
      berth_error_release(&one);
      continue;
    }
    *removed = berth_strv_append(*removed, c->row.id);
    *reclaimed += size;
  }
  berth_ctr_list_free(v, n);
  return 0;
}
