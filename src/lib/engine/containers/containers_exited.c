/* Containers: what the monitor asks berth to record (`berth container --internal-exited` and
 * `--internal-started`): exits with their OOM kill, --rm, the restart policy. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/containers/containers_internal.h"
#include "engine/monitor/monitor.h"
#include "json/json.h"

/* oom_kill of the container's memory cgroup (v2 memory.events, v1 memory.oom_control), read
 * before the runtime deletes the cgroup */
static bool oom_killed(const struct berth_ctr *c)
{
  cleanup_free char *config = xasprintf("%s/bundle/config.json", c->dir);
  berth_error_t ignore = NULL;
  json_t *spec = berth_json_load_file(config, "config.json", &ignore);
  berth_error_release(&ignore);
  const char *cg = json_string_value(json_object_get(json_object_get(spec, "linux"), "cgroupsPath"));
  cleanup_free char *v2 = cg ? xasprintf("/sys/fs/cgroup/%s/memory.events", cg) : NULL;
  cleanup_free char *v1 = cg ? xasprintf("/sys/fs/cgroup/memory/%s/memory.oom_control", cg) : NULL;
  json_decref(spec);
  const char *paths[] = { v2, v1 };
  for (size_t i = 0; i < 2 && paths[i]; i++) {
    cleanup_free char *text = NULL;
    if (berth_read_file(paths[i], 65536, &text, NULL, &ignore) < 0) {
      berth_error_release(&ignore);
      continue;
    }
    const char *k = strstr(text, "oom_kill ");
    if (k && (k == text || k[-1] == '\n'))
      return strtoll(k + 9, NULL, 10) > 0;
  }
  return false;
}

static enum berth_restart_policy policy_of(json_t *host_config, int *max)
{
  json_t *rp = json_object_get(host_config, "RestartPolicy");
  const char *name = json_string_value(json_object_get(rp, "Name"));
  *max = (int) json_integer_value(json_object_get(rp, "MaximumRetryCount"));
  if (berth_str_eq(name, "always"))
    return BERTH_RESTART_ALWAYS;
  if (berth_str_eq(name, "unless-stopped"))
    return BERTH_RESTART_UNLESS_STOPPED;
  if (berth_str_eq(name, "on-failure"))
    return BERTH_RESTART_ON_FAILURE;
  return BERTH_RESTART_NO;
}

struct exit_rec {
  const struct berth_ctr *c;
  int code;
  const char *msg;
  bool oom;
  bool restart;
  int64_t delay_ms;
};

static BERTH_WUR int record_exit(struct berth_db_container *row, void *data, berth_error_t *err)
{
  struct exit_rec *x = data;
  int64_t now = ctr_now();
  struct berth_ctr_restart_state rs = { .restart_count = row->restart_count,
                                        .delay_ms = row->restart_delay_ms,
                                        .manual_stop = row->manual_stop };
  rs.policy = policy_of(x->c->host_config, &rs.max_retries);
  int64_t ran_ms = x->msg || row->started_at == 0 ? 0 : (now - row->started_at) / 1000000;
  x->restart =
    row->state != BERTH_CTR_REMOVING && berth_ctr_restart_decide(&rs, x->code, ran_ms, &x->delay_ms);
  row->pid = 0;
  row->exit_code = x->code;
  row->oom_killed = x->oom;
  row->finished_at = now;
  free(row->error);
  row->error = xstrdup(x->msg ? x->msg : "");
  if (row->state == BERTH_CTR_REMOVING)
    return 1;
  row->state = x->restart ? BERTH_CTR_RESTARTING : BERTH_CTR_EXITED;
  row->restart_count += x->restart;
  row->restart_delay_ms = x->restart ? x->delay_ms : 0;
  return 1;
}

/* the row of what (1), or 0 when it is gone */
static BERTH_WUR int load(struct berth_engine *e, const char *what, struct berth_ctr *c, berth_error_t *err)
{
  cleanup_strv char **ids = NULL;
  struct berth_db_container row;
  if (berth_db_container_find(e->db, what, &ids, err) < 0)
    return -1;
  if (ids[0] == NULL)
    return 0;
  if (ids[1] != NULL)
    return BERTH_ERR(err, "multiple containers found with provided prefix: `%s`", what);
  int r = berth_db_container_get(e->db, ids[0], &row, err);
  if (r > 0)
    ctr_from_row(e, &row, c);
  return r;
}

/* Load and lock the container whose exit is to be recorded: 1, or 0 when a guarded call (pid > 0)
 * finds it gone (recorded and removed with --rm by the other of the monitor's handler and a
 * recording client) or its row past that process (recorded: *restart_ms is what was decided). */
static BERTH_WUR int load_locked(struct berth_engine *e, const char *id, pid_t pid, struct berth_ctr *c,
                                 int *lock, int64_t *restart_ms, berth_error_t *err)
{
  int r = load(e, id, c, err);
  if (r > 0) {
    *lock = ctr_lock(c, err);
    berth_ctr_release(c);
    if (*lock < 0 && pid <= 0)
      return -1;
    if (*lock < 0) /* its directory went: removed meanwhile? */
      berth_error_release(err);
    r = load(e, id, c, err); /* again under the lock */
    if (r > 0 && *lock < 0) {
      berth_ctr_release(c);
      return BERTH_ERR(err, "lock container `%s`: its directory is gone", id);
    }
  }
  if (r == 0 && pid <= 0)
    return BERTH_ERR(err, "no such container: `%s`", id);
  if (r > 0 && pid > 0 && c->row.pid != pid) {
    *restart_ms = c->row.state == BERTH_CTR_RESTARTING ? c->row.restart_delay_ms : -1;
    berth_ctr_release(c);
    return 0;
  }
  return r;
}

int berth_ctr_exited(struct berth_engine *e, const char *id, int code, pid_t pid, const char *msg,
                     int64_t *restart_ms, berth_error_t *err)
{
  struct berth_ctr c;
  cleanup_close int lock = -1;
  *restart_ms = -1;
  int r = load_locked(e, id, pid, &c, &lock, restart_ms, err);
  if (r <= 0)
    return r < 0 ? berth_error_wrap(err, "record the exit of container `%s`", id) : 0;
  /* the runtime's delete runs while the exit is recorded and (--rm) the container's directory
   * removed; it ends before the lock is released, so the next start finds it done */
  struct exit_rec x = { .c = &c, .code = code, .msg = msg, .oom = oom_killed(&c) };
  const char *del[] = { "delete", "--force", c.row.id, NULL };
  struct ctr_runtime_proc dp;
  berth_error_t ignore = NULL;
  bool deleting = ctr_runtime_spawn(e, &c, del, &dp, &ignore) == 0;
  berth_error_release(&ignore); /* start deletes it again if it is still there */
  r = ctr_update(e, c.row.id, record_exit, &x, err) < 0 ? -1 : 0;
  if (r == 0) {
    char codes[16];
    snprintf(codes, sizeof codes, "%d", code);
    const char *attrs[] = { "exitCode", codes, NULL };
    if (x.oom)
      berth_ctr_event(e, &c, "oom", NULL);
    berth_ctr_event(e, &c, "die", attrs);
  }
  if (r == 0 && !x.restart) /* stopped for good: its addresses, ports, veths go (a restart keeps them) */
    ctr_networks_teardown(e, c.row.id);
  if (r == 0 && !x.restart && json_is_true(json_object_get(c.host_config, "AutoRemove"))) {
    r = ctr_remove_during_delete(e, &c, true, deleting ? &dp : NULL, err);
    if (r == 0)
      berth_ctr_event(e, &c, "destroy", NULL);
    deleting = false;
  }
  if (deleting && ctr_runtime_wait(&dp, &ignore) < 0)
    berth_error_release(&ignore);
  if (r == 0 && x.restart)
    *restart_ms = x.delay_ms;
  berth_ctr_release(&c);
  return r < 0 ? berth_error_wrap(err, "record the exit of container `%s`", id) : 0;
}

int berth_ctr_attach_record(struct berth_engine *e, struct berth_ctr_attach *a, const char *id,
                            const char *payload, berth_error_t *err)
{
  int code = 0;
  long pid = 0;
  int64_t ms = -1;
  char decision[64] = "";
  berth_error_t rerr = NULL;
  if (sscanf(payload, "%d %ld", &code, &pid) != 2 || pid <= 0)
    BERTH_ERR(&rerr, "exit report `%s` from the monitor of `%s` is not \"<code> <pid>\"", payload, id);
  else if (berth_ctr_exited(e, id, code, (pid_t) pid, NULL, &ms, &rerr) == 0)
    snprintf(decision, sizeof decision, ms >= 0 ? "restart %lld" : "stop", (long long) ms);
  /* an empty answer: not recorded, the monitor runs its handler (and a failure is reported there) */
  int r = berth_ctr_attach_send(a, BERTH_ATTACH_RECORDED, decision, strlen(decision), err);
  if (rerr && r == 0) {
    *err = rerr;
    return -1;
  }
  berth_error_release(&rerr);
  return r;
}

struct start_rec {
  int64_t pid;
};

static BERTH_WUR int record_start(struct berth_db_container *row, void *data, berth_error_t *err)
{
  const struct start_rec *s = data;
  if (row->state == BERTH_CTR_REMOVING)
    return 0;
  if (row->state == BERTH_CTR_RUNNING && row->pid == s->pid)
    return 0; /* berth start recorded it already */
  row->state = BERTH_CTR_RUNNING;
  row->pid = s->pid;
  row->exit_code = 0;
  row->oom_killed = false;
  row->started_at = ctr_now();
  free(row->error);
  row->error = xstrdup("");
  return 1;
}

int berth_ctr_started(struct berth_engine *e, const char *id, pid_t pid, berth_error_t *err)
{
  struct start_rec s = { .pid = pid };
  if (ctr_update(e, id, record_start, &s, err) < 0)
    return berth_error_wrap(err, "record the start of container `%s`", id);
  ctr_event_id(e, id, "start", NULL);
  return 0;
}
