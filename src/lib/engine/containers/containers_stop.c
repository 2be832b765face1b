/* Containers: stop, kill, restart, wait, rm. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/containers/containers_internal.h"
#include "engine/monitor/monitor.h"

#define KILL_WAIT_MS 30000 /* after SIGKILL, the monitor has this long to record the exit */

static BERTH_WUR int signal_runtime(struct berth_engine *e, const struct berth_ctr *c, int sig,
                                    berth_error_t *err)
{
  char num[16];
  snprintf(num, sizeof num, "%d", sig);
  const char *kill_args[] = { "kill", c->row.id, num, NULL };
  if (berth_ctr_runtime_run(e, c, kill_args, err) < 0)
    return -1;
  const char *attrs[] = { "signal", num, NULL };
  berth_ctr_event(e, c, "kill", attrs);
  return 0;
}

static BERTH_WUR int mark_manual(struct berth_db_container *row, void *data, berth_error_t *err)
{
  row->manual_stop = *(bool *) data;
  return 1;
}

/* a row that says running/paused/restarting but whose monitor is gone (data: the error to
 * record, or NULL for a restart cancelled by stop) becomes exited */
static BERTH_WUR int settle(struct berth_db_container *row, void *data, berth_error_t *err)
{
  if (!berth_ctr_state_kept(row->state))
    return 0;
  const char *why = data;
  if (why && row->state != BERTH_CTR_RESTARTING) {
    row->exit_code = 137;
    row->finished_at = ctr_now();
    free(row->error);
    row->error = xstrdup(why);
  }
  row->state = BERTH_CTR_EXITED;
  row->pid = 0;
  return 1;
}

int ctr_settle_dead(struct berth_engine *e, struct berth_ctr *c, berth_error_t *err)
{
  const char *del[] = { "delete", "--force", c->row.id, NULL };
  berth_ignore(berth_ctr_runtime_run(e, c, del, BERTH_IGNORED));
  if (ctr_update(e, c->row.id, settle, (void *) "the container's monitor exited unexpectedly", err) < 0)
    return -1;
  if (!berth_ctr_monitor_alive(&c->row)) /* what the monitor removes as it ends */
    berth_ignore(berth_rm_rf(c->rundir, BERTH_IGNORED));
  ctr_networks_teardown(e, c->row.id);
  c->state = BERTH_CTR_EXITED;
  return 0;
}

/* No automatic restart any more: the monitor ends after the next exit, or now when it waits to
 * restart. The connection stays, asking to record that exit (no `berth` process started by the
 * monitor for it). */
static void cancel_restarts(const struct berth_ctr *c, struct berth_ctr_attach *a)
{
  berth_error_t ignore = NULL;
  if (berth_ctr_attach_connect(c, BERTH_ATTACH_WANT_RECORD, a, &ignore) < 0 ||
      berth_ctr_attach_send(a, BERTH_ATTACH_CANCEL, NULL, 0, &ignore) < 0) {
    berth_error_release(&ignore);
    berth_ctr_attach_close(a);
  }
}

/* signal, wait up to timeout_ms for the monitor to end, then SIGKILL and wait again */
static BERTH_WUR int stop_running(struct berth_engine *e, struct berth_ctr *c, int sig, int64_t timeout_ms,
                                  berth_error_t *err)
{
  berth_error_t ignore = NULL, kerr = NULL;
  struct berth_ctr_attach a = { .fd = -1 };
  cancel_restarts(c, &a);
  int r = -1;
  if (signal_runtime(e, c, sig, &ignore) < 0) /* not running (any more, or waiting to restart) */
    berth_error_release(&ignore);
  if (ctr_wait_monitor_recording(e, &c->row, &a, timeout_ms) == 1)
    r = 0;
  else if (signal_runtime(e, c, SIGKILL, &kerr) < 0 && ctr_wait_monitor(&c->row, 0) == 1)
    r = 0;
  else if (ctr_wait_monitor_recording(e, &c->row, &a, KILL_WAIT_MS) == 1)
    r = 0;
  berth_ctr_attach_close(&a);
  if (r == 0) {
    berth_error_release(&kerr);
    return 0;
  }
  if (kerr) {
    *err = kerr;
    return -1;
  }
  return BERTH_ERR(err, "container %.12s did not stop after SIGKILL", c->row.id);
}

int ctr_kill_now(struct berth_engine *e, struct berth_ctr *c, berth_error_t *err)
{
  bool manual = true;
  if (ctr_update(e, c->row.id, mark_manual, &manual, err) < 0)
    return -1;
  return stop_running(e, c, SIGKILL, KILL_WAIT_MS, err);
}

/* the stop signal and timeout of a container (Config.StopSignal / StopTimeout) */
static void stop_params(const struct berth_ctr *c, const int *timeout, int *sig, int64_t *timeout_ms)
{
  berth_error_t ignore = NULL;
  const char *name = json_string_value(json_object_get(c->config, "StopSignal"));
  if (name == NULL || berth_runopts_parse_signal("StopSignal", name, sig, &ignore) < 0)
    *sig = SIGTERM;
  berth_error_release(&ignore);
  json_t *t = json_object_get(c->config, "StopTimeout");
  int secs = timeout ? *timeout : json_is_integer(t) ? (int) json_integer_value(t) : BERTH_CTR_STOP_TIMEOUT;
  *timeout_ms = secs < 0 ? -1 : (int64_t) secs * 1000;
}

bool ctr_orphan_running(const struct berth_ctr *c)
{
  if (c->state != BERTH_CTR_DEAD || c->row.pid <= 0)
    return false;
  cleanup_free char *path = xasprintf("/proc/%lld/cgroup", (long long) c->row.pid), *text = NULL;
  size_t len = 0;
  berth_error_t ignore = NULL;
  if (berth_read_file(path, 1 << 16, &text, &len, &ignore) < 0) {
    berth_error_release(&ignore);
    return false;
  }
  return strstr(text, c->row.id) != NULL; /* its cgroup is the container's: not a reused pid */
}

/* A container whose monitor is gone but whose init runs on (the monitor was killed): its stop
 * signal, up to its stop timeout on a pidfd of the init, then the runtime's delete --force
 * (SIGKILL); the exit recorded with why. Others that are dead are only recorded. */
static BERTH_WUR int stop_orphan(struct berth_engine *e, struct berth_ctr *c, int sig, int64_t timeout_ms,
                                 berth_error_t *err)
{
  cleanup_close int pfd = c->row.pid > 0 ? pidfd_open((pid_t) c->row.pid, 0) : -1;
  if (pfd >= 0 && ctr_orphan_running(c)) { /* checked after pidfd_open: the pid is the init's */
    berth_ignore(signal_runtime(e, c, sig, BERTH_IGNORED));
    struct pollfd p = { .fd = pfd, .events = POLLIN };
    while (poll(&p, 1, timeout_ms < 0 ? -1 : (int) timeout_ms) < 0 && errno == EINTR)
      ;
  }
  return ctr_settle_dead(e, c, err);
}

/* rows only (no JSON parsed): ps runs this every time, and orphans are rare */
int berth_ctr_settle_orphans(struct berth_engine *e, char ***notes, berth_error_t *err)
{
  struct berth_db_container *rows = NULL;
  size_t n = 0;
  if (berth_db_container_list(e->db, &rows, &n, err) < 0)
    return -1;
  int r = 0;
  for (size_t i = 0; i < n && r == 0; i++) {
    struct berth_ctr c;
    berth_error_t gone = NULL;
    if (!berth_ctr_state_kept(rows[i].state) || rows[i].pid <= 0 || berth_ctr_monitor_alive(&rows[i]))
      continue;
    if (berth_ctr_get(e, rows[i].id, &c, &gone) < 0) { /* removed meanwhile */
      berth_error_release(&gone);
      continue;
    }
    if (ctr_orphan_running(&c)) {
      int sig;
      int64_t timeout_ms;
      stop_params(&c, NULL, &sig, &timeout_ms);
      r = stop_orphan(e, &c, sig, timeout_ms, err);
      cleanup_free char *note =
        xasprintf("container %s (%.12s) ran on without its monitor (was it killed?): %s", c.row.name,
                  c.row.id, r == 0 ? "stopped it" : "could not stop it");
      *notes = berth_strv_append(*notes, note);
    }
    berth_ctr_release(&c);
  }
  berth_db_container_list_free(rows, n);
  return r;
}

/* signal: stop -s (0: the container's stop signal) */
static BERTH_WUR int stop_loaded(struct berth_engine *e, struct berth_ctr *c, const int *timeout, int signal,
                                 berth_error_t *err)
{
  bool manual = true;
  int sig;
  int64_t timeout_ms;
  stop_params(c, timeout, &sig, &timeout_ms);
  if (signal > 0)
    sig = signal;
  if (c->state == BERTH_CTR_DEAD)
    return stop_orphan(e, c, sig, timeout_ms, err);
  if (!berth_ctr_state_kept(c->state))
    return 0;
  if (ctr_update(e, c->row.id, mark_manual, &manual, err) < 0 || stop_running(e, c, sig, timeout_ms, err) < 0)
    return -1;
  struct berth_ctr now;
  berth_error_t gone = NULL;
  if (berth_ctr_get(e, c->row.id, &now, &gone) < 0) { /* removed with --rm: stopped for good */
    berth_error_release(&gone);
    return 0;
  }
  int r = 0;
  if (now.row.state == BERTH_CTR_RESTARTING) /* its monitor ended while waiting to restart */
    r = ctr_update(e, now.row.id, settle, NULL, err);
  else if (now.state == BERTH_CTR_DEAD)
    r = ctr_settle_dead(e, &now, err);
  berth_ctr_release(&now);
  return r;
}

int berth_ctr_stop(struct berth_engine *e, const char *what, const int *timeout, berth_error_t *err)
{
  return berth_ctr_stop_signal(e, what, timeout, 0, err);
}

int berth_ctr_stop_signal(struct berth_engine *e, const char *what, const int *timeout, int sig,
                          berth_error_t *err)
{
  struct berth_ctr c;
  if (berth_ctr_get(e, what, &c, err) < 0)
    return -1;
  bool was_running = berth_ctr_state_kept(c.state);
  int r = stop_loaded(e, &c, timeout, sig, err);
  if (r == 0 && was_running)
    berth_ctr_event(e, &c, "stop", NULL);
  berth_ctr_release(&c);
  return r < 0 ? berth_error_wrap(err, "stop container `%s`", what) : 0;
}

int berth_ctr_kill(struct berth_engine *e, const char *what, int sig, berth_error_t *err)
{
  struct berth_ctr c;
  if (berth_ctr_get(e, what, &c, err) < 0)
    return -1;
  int r = 0;
  if (c.state != BERTH_CTR_RUNNING && c.state != BERTH_CTR_PAUSED) {
    r = BERTH_ERR(err, "container %.12s is not running", c.row.id);
  } else {
    int stop_sig;
    int64_t ms;
    stop_params(&c, NULL, &stop_sig, &ms);
    bool manual = true; /* Docker: a fatal signal disables the restart policy until the next start */
    if ((sig == SIGKILL || sig == stop_sig) && ctr_update(e, c.row.id, mark_manual, &manual, err) < 0)
      r = -1;
    if (r == 0)
      r = signal_runtime(e, &c, sig, err);
  }
  berth_ctr_release(&c);
  return r < 0 ? berth_error_wrap(err, "kill container `%s`", what) : 0;
}

int berth_ctr_restart(struct berth_engine *e, const char *what, const int *timeout, berth_error_t *err)
{
  return berth_ctr_restart_signal(e, what, timeout, 0, err);
}

int berth_ctr_restart_signal(struct berth_engine *e, const char *what, const int *timeout, int sig,
                             berth_error_t *err)
{
  struct berth_ctr_attach none;
  if (berth_ctr_stop_signal(e, what, timeout, sig, err) < 0 ||
      berth_ctr_start(e, what, 0, &none, NULL, err) < 0)
    return -1;
  ctr_event_id(e, what, "restart", NULL);
  return 0;
}

int berth_ctr_wait(struct berth_engine *e, const char *what, int64_t *code, berth_error_t *err)
{
  for (;;) {
    struct berth_ctr c;
    if (berth_ctr_get(e, what, &c, err) < 0)
      return -1;
    if (!berth_ctr_state_kept(c.state)) {
      *code = c.row.exit_code;
      berth_ctr_release(&c);
      return 0;
    }
    struct berth_ctr_attach a;
    berth_error_t ignore = NULL;
    int r = berth_ctr_attach_connect(&c, 0, &a, &ignore);
    berth_error_release(&ignore);
    int got = r == 0 ? ctr_wait_exit_message(&a) : -1;
    berth_ctr_attach_close(&a);
    if (r < 0)
      ctr_wait_monitor(&c.row, 100); /* between exit and record: look again shortly */
    berth_ctr_release(&c);
    if (got >= 0) {
      *code = got;
      return 0;
    }
  }
}
