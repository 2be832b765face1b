/* Containers: inspect, create (the body mapped to run's options), and the lifecycle: start,
 * stop, restart, kill, remove, rename, pause, unpause, resize, prune, top. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/handlers/handlers_internal.h"
#include "base/cleanup.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/commit/commit.h"

int api_ctr_get(struct api_req *r, struct berth_engine **e, struct berth_ctr *c, berth_error_t *err)
{
  if (api_engine(r, e, err) < 0)
    return -1;
  return berth_ctr_get(*e, r->m.arg[0], c, err);
}

enum MHD_Result api_h_CTR_INSPECT(struct api_req *r)
{
  cleanup_error berth_error_t err = NULL;
  struct berth_engine *e = NULL;
  json_t *o = NULL;
  if (api_engine(r, &e, &err) < 0 || (o = berth_ctr_inspect(e, r->m.arg[0], &err)) == NULL)
    return api_reply_err(r, &err);
  /* berth's k8s-file log answers /logs as Docker's json-file does (the same options): clients
   * read logs only from drivers they know (docker-py's run, compose) */
  json_t *lc = json_object_get(json_object_get(o, "HostConfig"), "LogConfig");
  if (json_is_object(lc) && strcmp(json_string_value(json_object_get(lc, "Type")) ?: "", "k8s-file") == 0)
    json_object_set_new(lc, "Type", json_string("json-file"));
  if (api_query_bool(r, "size", false)) {
    json_object_set_new(o, "SizeRw", json_integer(0));
    json_object_set_new(o, "SizeRootFs", json_integer(0));
  }
  return api_reply_json(r, 200, o);
}

enum MHD_Result api_h_CTR_CREATE(struct api_req *r)
{
  cleanup_error berth_error_t err = NULL;
  struct berth_engine *e = NULL;
  json_t *body = api_body(r, &err);
  if (body == NULL)
    return api_reply_err_status(r, 400, &err);
  struct berth_api_create c;
  int rc = berth_api_create_parse(body, api_query(r, "name"), &c, &err);
  json_decref(body);
  if (rc < 0) {
    berth_api_create_release(&c);
    return api_reply_err_status(r, 400, &err);
  }
  struct berth_ctr_create_in in = {
    .image = c.image, .args = c.args, .opts = &c.opts, .runtime_flags = c.runtime_flags
  };
  berth_ctr_id_t id;
  rc = api_engine(r, &e, &err) < 0 ? -1 : berth_ctr_create(e, &in, id, &err);
  berth_api_create_release(&c);
  if (rc < 0) {
    unsigned status = api_status_of(err->msg);
    /* the CLI pulls on a 404 whose message names the image */
    return api_reply_err_status(r, status == 500 && strstr(err->msg, "invalid") ? 400 : status, &err);
  }
  return api_reply_json(r, 201, json_pack("{s:s, s:[]}", "Id", id, "Warnings"));
}

enum MHD_Result api_h_CTR_START(struct api_req *r)
{
  cleanup_error berth_error_t err = NULL;
  struct berth_engine *e = NULL;
  struct berth_ctr c;
  if (api_ctr_get(r, &e, &c, &err) < 0)
    return api_reply_err(r, &err);
  bool running = c.state == BERTH_CTR_RUNNING || c.state == BERTH_CTR_PAUSED;
  berth_ctr_id_t id;
  snprintf(id, sizeof id, "%s", c.row.id);
  berth_ctr_release(&c);
  if (running)
    return api_reply_empty(r, 304);
  int code = 0;
  if (api_ctr_start(e, id, &code, &err) < 0)
    return api_reply_err_status(r, api_status_of(err->msg) == 404 ? 404 : 500, &err);
  return api_reply_empty(r, 204);
}

/* ?t= seconds (-1: no limit), absent: the container's own */
static BERTH_WUR int timeout_param(struct api_req *r, int *storage, int **t, berth_error_t *err)
{
  int64_t v = 0;
  *t = NULL;
  if (api_query(r, "t") == NULL)
    return 0;
  if (api_query_int(r, "t", 0, &v, err) < 0)
    return -1;
  *storage = v < 0 ? -1 : (int) (v > 100000000 ? 100000000 : v);
  *t = storage;
  return 0;
}

enum MHD_Result api_h_CTR_STOP(struct api_req *r)
{
  cleanup_error berth_error_t err = NULL;
  struct berth_engine *e = NULL;
  struct berth_ctr c;
  int storage = 0, *t = NULL;
  if (timeout_param(r, &storage, &t, &err) < 0)
    return api_reply_err_status(r, 400, &err);
  if (api_ctr_get(r, &e, &c, &err) < 0)
    return api_reply_err(r, &err);
  bool kept = berth_ctr_state_kept(c.state);
  berth_ctr_id_t id;
  snprintf(id, sizeof id, "%s", c.row.id);
  berth_ctr_release(&c);
  if (!kept)
    return api_reply_empty(r, 304);
  if (berth_ctr_stop(e, id, t, &err) < 0)
    return api_reply_err(r, &err);
  return api_reply_empty(r, 204);
}

enum MHD_Result api_h_CTR_RESTART(struct api_req *r)
{
  cleanup_error berth_error_t err = NULL;
  struct berth_engine *e = NULL;
  int storage = 0, *t = NULL;
  if (timeout_param(r, &storage, &t, &err) < 0)
    return api_reply_err_status(r, 400, &err);
  if (api_engine(r, &e, &err) < 0 || berth_ctr_restart(e, r->m.arg[0], t, &err) < 0)
    return api_reply_err(r, &err);
  return api_reply_empty(r, 204);
}

enum MHD_Result api_h_CTR_KILL(struct api_req *r)
{
  cleanup_error berth_error_t err = NULL;
  struct berth_engine *e = NULL;
  struct berth_ctr c;
  int sig = SIGKILL;
  const char *s = api_query(r, "signal");
  if (s && s[0] && berth_runopts_parse_signal("signal", s, &sig, &err) < 0)
    return api_reply_err_status(r, 400, &err);
  if (api_ctr_get(r, &e, &c, &err) < 0)
    return api_reply_err(r, &err);
  bool running = c.state == BERTH_CTR_RUNNING || c.state == BERTH_CTR_PAUSED;
  bool paused = c.state == BERTH_CTR_PAUSED;
  berth_ctr_id_t id;
  snprintf(id, sizeof id, "%s", c.row.id);
  berth_ctr_release(&c);
  if (!running)
    return api_reply_error(r, 409, "container %s is not running", id);
  if (berth_ctr_kill(e, id, sig, &err) < 0)
    return api_reply_err(r, &err);
  /* Docker's SIGKILL returns once the container has stopped: clients remove it next (docker-py's
   * kill(); remove()) */
  int64_t code;
  if (sig == SIGKILL && !paused && berth_ctr_wait(e, id, &code, &err) < 0)
    return api_reply_err(r, &err);
  return api_reply_empty(r, 204);
}

enum MHD_Result api_h_CTR_REMOVE(struct api_req *r)
{
  cleanup_error berth_error_t err = NULL;
  struct berth_engine *e = NULL;
  struct berth_ctr c;
  bool force = api_query_bool(r, "force", false);
  if (api_query_bool(r, "link", false))
    return api_reply_error(r, 400, "links are not supported by berth");
  if (api_ctr_get(r, &e, &c, &err) < 0)
    return api_reply_err(r, &err);
  bool kept = berth_ctr_state_kept(c.state);
  berth_ctr_id_t id;
  snprintf(id, sizeof id, "%s", c.row.id);
  berth_ctr_release(&c);
  if (kept && !force)
    return api_reply_error(r, 409,
                           "cannot remove container %s: container is running: stop the container before "
                           "removing or force remove",
                           r->m.arg[0]);
  if (berth_ctr_remove(e, id, force, api_query_bool(r, "v", false), &err) < 0)
    return api_reply_err(r, &err);
  return api_reply_empty(r, 204);
}

enum MHD_Result api_h_CTR_RENAME(struct api_req *r)
{
  cleanup_error berth_error_t err = NULL;
  struct berth_engine *e = NULL;
  const char *name = api_query(r, "name");
  if (name == NULL || name[0] == '\0')
    return api_reply_error(r, 400, "a new name is needed (?name=)");
  if (api_engine(r, &e, &err) < 0 || berth_ctr_rename(e, r->m.arg[0], name, &err) < 0)
    return api_reply_err_status(r, strstr(err->msg, "invalid") ? 400 : api_status_of(err->msg), &err);
  return api_reply_empty(r, 204);
}

static enum MHD_Result pause_or_not(struct api_req *r, bool pause)
{
  cleanup_error berth_error_t err = NULL;
  struct berth_engine *e = NULL;
  if (api_engine(r, &e, &err) < 0 ||
      (pause ? berth_ctr_pause(e, r->m.arg[0], &err) : berth_ctr_unpause(e, r->m.arg[0], &err)) < 0)
    return api_reply_err(r, &err);
  return api_reply_empty(r, 204);
}
enum MHD_Result api_h_CTR_PAUSE(struct api_req *r) { return pause_or_not(r, true); }
enum MHD_Result api_h_CTR_UNPAUSE(struct api_req *r) { return pause_or_not(r, false); }

/* ?h=&w=: the container's terminal, through its monitor */
enum MHD_Result api_h_CTR_RESIZE(struct api_req *r)
{
  cleanup_error berth_error_t err = NULL;
  struct berth_engine *e = NULL;
  struct berth_ctr c;
  int64_t h = 0, w = 0;
  if (api_query_int(r, "h", 0, &h, &err) < 0 || api_query_int(r, "w", 0, &w, &err) < 0)
    return api_reply_err_status(r, 400, &err);
  if (h <= 0 || w <= 0 || h > 65535 || w > 65535)
    return api_reply_error(r, 400, "h and w must be terminal sizes (1 to 65535)");
  if (api_ctr_get(r, &e, &c, &err) < 0)
    return api_reply_err(r, &err);
  struct berth_ctr_attach a = { .fd = -1 };
  char text[32];
  int n = snprintf(text, sizeof text, "%d %d", (int) h, (int) w);
  int rc = !berth_ctr_state_kept(c.state) ? BERTH_ERR(&err, "container %s is not running", c.row.id)
           : berth_ctr_attach_connect(&c, 0, &a, &err) < 0
             ? -1
             : berth_ctr_attach_send(&a, BERTH_ATTACH_RESIZE, text, (size_t) n, &err);
  berth_ctr_attach_close(&a);
  berth_ctr_release(&c);
  if (rc < 0)
    return api_reply_err(r, &err);
  return api_reply_empty(r, 200);
}

enum MHD_Result api_h_CTR_PRUNE(struct api_req *r)
{
  cleanup_error berth_error_t err = NULL;
  cleanup_strv char **filters = NULL;
  struct berth_engine *e = NULL;
  if (berth_api_filters_parse(api_query(r, "filters"), &filters, &err) < 0)
    return api_reply_err_status(r, 400, &err);
  cleanup_strv char **labels = NULL;
  int64_t until = 0;
  for (size_t i = 0; filters[i]; i++) {
    if (berth_str_has_prefix(filters[i], "label=") || berth_str_has_prefix(filters[i], "label!="))
      labels = berth_strv_append(labels, filters[i]);
    else if (berth_str_has_prefix(filters[i], "until=") && berth_parse_i64(filters[i] + 6, &until) == 0)
      until *= 1000000000;
    else
      return api_reply_error(r, 400, "invalid filter `%s` (label, label!, until in unix seconds)",
                             filters[i]);
  }
  cleanup_strv char **removed = NULL;
  uint64_t reclaimed = 0;
  if (api_engine(r, &e, &err) < 0 || berth_ctr_prune(e, labels, until, &removed, &reclaimed, &err) < 0)
    return api_reply_err(r, &err);
  json_t *ids = json_array();
  for (size_t i = 0; removed && removed[i]; i++)
    json_array_append_new(ids, json_string(removed[i]));
  return api_reply_json(
    r, 200, json_pack("{s:o, s:I}", "ContainersDeleted", ids, "SpaceReclaimed", (json_int_t) reclaimed));
}

enum MHD_Result api_h_CTR_TOP(struct api_req *r)
{
  cleanup_error berth_error_t err = NULL;
  struct berth_engine *e = NULL;
  struct berth_ctr_top t = { 0 };
  if (api_engine(r, &e, &err) < 0 || berth_ctr_top(e, r->m.arg[0], &t, &err) < 0)
    return api_reply_err(r, &err);
  json_t *titles = json_array(), *procs = json_array();
  for (size_t k = 0; k < t.ncols; k++)
    json_array_append_new(titles, json_string(t.titles[k]));
  for (size_t i = 0; i < t.nrows; i++) {
    json_t *row = json_array();
    for (size_t k = 0; k < t.ncols; k++)
      json_array_append_new(row, json_string(t.rows[i][k]));
    json_array_append_new(procs, row);
  }
  berth_ctr_top_release(&t);
  return api_reply_json(r, 200, json_pack("{s:o, s:o}", "Titles", titles, "Processes", procs));
}

enum MHD_Result api_h_CTR_UPDATE(struct api_req *r)
{
  return api_reply_error(r, 501, "%s is not supported by berth yet", r->m.name);
}

/* [{"Path": "/tmp", "Kind": 0}]: 0 modified, 1 added, 2 deleted */
enum MHD_Result api_h_CTR_CHANGES(struct api_req *r)
{
  cleanup_error berth_error_t err = NULL;
  struct berth_engine *e = NULL;
  struct berth_change *v = NULL;
  size_t n = 0;
  if (api_engine(r, &e, &err) < 0 || berth_commit_changes(e, r->m.arg[0], &v, &n, &err) < 0)
    return api_reply_err(r, &err);
  json_t *a = json_array();
  for (size_t i = 0; i < n; i++) {
    int kind = v[i].kind == BERTH_CHANGE_ADD ? 1 : v[i].kind == BERTH_CHANGE_DELETE ? 2 : 0;
    json_t *o = json_pack("{s:s, s:i}", "Path", v[i].path, "Kind", kind);
    if (o)
      json_array_append_new(a, o);
  }
  berth_changes_free(v, n);
  return api_reply_json(r, 200, a);
}

static enum MHD_Result collect_changes(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
  char ***v = cls;
  (void) kind;
  if (strcmp(key, "changes") == 0 && value && value[0])
    *v = berth_strv_append(*v, value);
  return MHD_YES;
}

/* POST /commit?container=&repo=&tag=&comment=&author=&pause=&changes= */
enum MHD_Result api_h_COMMIT(struct api_req *r)
{
  cleanup_error berth_error_t err = NULL;
  cleanup_strv char **changes = NULL;
  struct berth_engine *e = NULL;
  const char *ctr = api_query(r, "container"), *repo = api_query(r, "repo"), *tag = api_query(r, "tag");
  if (ctr == NULL || ctr[0] == '\0')
    return api_reply_error(r, 400, "a container is needed (?container=)");
  MHD_get_connection_values(r->mc, MHD_GET_ARGUMENT_KIND, collect_changes, &changes);
  cleanup_free char *ref =
    repo && repo[0] ? (tag && tag[0] ? xasprintf("%s:%s", repo, tag) : xstrdup(repo)) : NULL;
  struct berth_commit_opts o = { .reference = ref,
                                 .author = api_query(r, "author"),
                                 .message = api_query(r, "comment"),
                                 .changes = changes,
                                 .pause = api_query_bool(r, "pause", true) };
  berth_digest_t id;
  if (api_engine(r, &e, &err) < 0 || berth_commit_container(e, ctr, &o, id, &err) < 0)
    return api_reply_err(r, &err);
  return api_reply_json(r, 201, json_pack("{s:s}", "Id", id));
}
