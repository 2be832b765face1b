/* Containers: loading rows, paths, the monitor's liveness. */
#include "engine/containers/containers.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/containers/containers_internal.h"
#include "engine/images/images.h"
#include "image/layer.h"

char *berth_ctr_dir(const struct berth_engine *e, const char *id)
{
  return xasprintf("%s/containers/%s", e->root, id);
}

char *berth_ctr_rundir(const struct berth_engine *e, const char *id)
{
  return xasprintf("%s/%s", e->runroot, id);
}

char *berth_ctr_log_path(const struct berth_engine *e, const char *id)
{
  return xasprintf("%s/containers/%s/" BERTH_CTR_LOG_FILE, e->root, id);
}

int ctr_proc_start_time(pid_t pid, int64_t *start)
{
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
  cleanup_free char *text = NULL;
  berth_error_t err = NULL;
  if (pid <= 0 || berth_read_file(path, 4096, &text, NULL, &err) < 0) {
    berth_error_release(&err);
    return -1;
  }
  const char *p = strrchr(text, ')'); /* the command name may hold spaces and parentheses */
  if (p == NULL || p[1] != ' ' || p[2] == 'Z' || p[2] == 'X')
    return -1;
  p += 2;
  for (int field = 3; field < 22; field++) { /* starttime is field 22 */
    p = strchr(p, ' ');
    if (p == NULL)
      return -1;
    p++;
  }
  *start = strtoll(p, NULL, 10);
  return 0;
}

bool berth_ctr_monitor_alive(const struct berth_db_container *row)
{
  int64_t start = 0;
  return row->monitor_pid > 0 && ctr_proc_start_time((pid_t) row->monitor_pid, &start) == 0 &&
         start == row->monitor_start;
}

void berth_ctr_release(struct berth_ctr *c)
{
  if (c == NULL)
    return;
  berth_db_container_release(&c->row);
  json_decref(c->config);
  json_decref(c->host_config);
  json_decref(c->health);
  free(c->dir);
  free(c->rundir);
  c->health = NULL;
  c->config = c->host_config = NULL;
  c->dir = c->rundir = NULL;
}

static json_t *parse_or_empty(const char *text)
{
  json_t *v = text ? json_loads(text, 0, NULL) : NULL;
  if (!json_is_object(v)) {
    json_decref(v);
    v = json_object();
  }
  return v;
}

/* take the row (moved) and derive the rest */
void ctr_from_row(struct berth_engine *e, struct berth_db_container *row, struct berth_ctr *out)
{
  memset(out, 0, sizeof *out);
  out->row = *row;
  memset(row, 0, sizeof *row);
  out->config = parse_or_empty(out->row.config);
  out->host_config = parse_or_empty(out->row.host_config);
  out->dir = berth_ctr_dir(e, out->row.id);
  out->rundir = berth_ctr_rundir(e, out->row.id);
  out->state = out->row.state;
  if (berth_ctr_state_kept(out->state) && !berth_ctr_monitor_alive(&out->row))
    out->state = BERTH_CTR_DEAD;
  if (berth_ctr_state_kept(out->state) && json_is_object(json_object_get(out->config, "Healthcheck"))) {
    cleanup_free char *path = xasprintf("%s/" BERTH_MON_HEALTH_FILE, out->rundir);
    out->health = json_load_file(path, 0, NULL); /* none yet: no check has ended */
    if (out->health == NULL && berth_ctr_health_enabled(out->config))
      out->health = json_pack("{s:s, s:i, s:[]}", "Status", "starting", "FailingStreak", 0, "Log");
  }
}

int ctr_resolve(struct berth_engine *e, const char *what, berth_ctr_id_t id, berth_error_t *err)
{
  cleanup_strv char **ids = NULL;
  if (*what == '\0')
    return BERTH_ERR(err, "no such container: `%s`", what);
  if (berth_db_container_find(e->db, what, &ids, err) < 0)
    return -1;
  if (ids[0] == NULL)
    return BERTH_ERR(err, "no such container: `%s`", what);
  if (ids[1] != NULL)
    return BERTH_ERR(err, "multiple containers found with provided prefix: `%s`", what);
  snprintf(id, sizeof(berth_ctr_id_t), "%s", ids[0]);
  return 0;
}

int berth_ctr_get(struct berth_engine *e, const char *what, struct berth_ctr *out, berth_error_t *err)
{
  berth_ctr_id_t id;
  struct berth_db_container row;
  if (ctr_resolve(e, what, id, err) < 0)
    return -1;
  int r = berth_db_container_get(e->db, id, &row, err);
  if (r < 0)
    return -1;
  if (r == 0) /* removed meanwhile */
    return BERTH_ERR(err, "no such container: `%s`", what);
  ctr_from_row(e, &row, out);
  return 0;
}

void berth_ctr_list_free(struct berth_ctr *v, size_t n)
{
  for (size_t i = 0; v && i < n; i++)
    berth_ctr_release(&v[i]);
  free(v);
}

int berth_ctr_list(struct berth_engine *e, struct berth_ctr **out, size_t *n, berth_error_t *err)
{
  struct berth_db_container *rows = NULL;
  size_t k = 0;
  if (berth_db_container_list(e->db, &rows, &k, err) < 0)
    return -1;
  struct berth_ctr *v = xcalloc(k ? k : 1, sizeof *v);
  for (size_t i = 0; i < k; i++)
    ctr_from_row(e, &rows[i], &v[i]);
  free(rows);
  *out = v;
  *n = k;
  return 0;
}

int ctr_update(struct berth_engine *e, const char *id, ctr_update_fn fn, void *data, berth_error_t *err)
{
  struct berth_db_container row;
  if (berth_db_begin(e->db, err) < 0)
    return -1;
  int r = berth_db_container_get(e->db, id, &row, err);
  if (r == 0)
    BERTH_ERR(err, "no such container: `%s`", id);
  if (r <= 0) {
    berth_db_rollback(e->db);
    return -1;
  }
  r = fn(&row, data, err);
  if (r > 0 && berth_db_container_update(e->db, &row, err) < 0)
    r = -1;
  berth_db_container_release(&row);
  if (r < 0) {
    berth_db_rollback(e->db);
    return -1;
  }
  return berth_db_commit(e->db, err);
}

char **ctr_layer_dirs(struct berth_engine *e, const char *image_id, berth_error_t *err)
{
  struct berth_db_image img;
  int r = berth_db_image_get(e->db, image_id, &img, err);
  if (r <= 0) {
    if (r == 0)
      BERTH_ERR(err, "image `%s` of the container is gone", image_id);
    return NULL;
  }
  char **v = berth_image_lowers(e, &img, xcalloc(1, sizeof(char *)));
  berth_db_image_release(&img);
  if (v[0] == NULL) {
    free(v);
    BERTH_ERR(err, "image `%s` has no layers", image_id);
    return NULL;
  }
  return v;
}
