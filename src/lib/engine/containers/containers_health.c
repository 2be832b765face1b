/* Healthchecks (issue 16): the container's monitor runs them (src/monitor/health.c, on a timerfd,
 * no daemon); berth hands it the check as a process file for the runtime's `exec --process` and
 * the timings, reads the state it keeps (<rundir>/health.json, ctr_from_row), records the
 * health_status events it reports, and waits for `wait --condition healthy`. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/containers/containers_internal.h"

/* Docker's defaults: 30 s interval and timeout, 3 retries, no start period, 5 s start interval */
#define HEALTH_INTERVAL_NS       30000000000LL
#define HEALTH_TIMEOUT_NS        30000000000LL
#define HEALTH_RETRIES           3
#define HEALTH_START_INTERVAL_NS 5000000000LL

bool berth_ctr_health_enabled(json_t *config)
{
  json_t *test = json_object_get(json_object_get(config, "Healthcheck"), "Test");
  const char *first = json_string_value(json_array_get(test, 0));
  return first && strcmp(first, "NONE") != 0 && json_array_size(test) > 1;
}

/* the check's words: CMD a b -> [a, b]; CMD-SHELL s -> [/bin/sh, -c, s] */
static json_t *check_args(json_t *test)
{
  const char *kind = json_string_value(json_array_get(test, 0));
  if (strcmp(kind, "CMD-SHELL") == 0)
    return json_pack("[s, s, O]", "/bin/sh", "-c", json_array_get(test, 1));
  json_t *a = json_array();
  for (size_t i = 1; i < json_array_size(test); i++)
    json_array_append(a, json_array_get(test, i));
  return a;
}

static int64_t duration(json_t *h, const char *key, int64_t dflt)
{
  json_int_t v = json_integer_value(json_object_get(h, key));
  return v > 0 ? (int64_t) v : dflt;
}

int ctr_health_argv(const struct berth_ctr *c, char ***argv, berth_error_t *err)
{
  if (!berth_ctr_health_enabled(c->config))
    return 0;
  json_t *h = json_object_get(c->config, "Healthcheck");
  cleanup_free char *spec_path = xasprintf("%s/bundle/config.json", c->dir);
  cleanup_free char *path = xasprintf("%s/" BERTH_CTR_HEALTH_PROCESS, c->dir);
  json_error_t je;
  json_t *spec = json_load_file(spec_path, 0, &je);
  if (spec == NULL)
    return BERTH_ERR(err, "healthcheck: read `%s`: %s", spec_path, je.text);
  /* the container's own process (user, env, cwd, capabilities) with the check's words */
  json_t *proc = json_deep_copy(json_object_get(spec, "process"));
  json_decref(spec);
  if (!json_is_object(proc)) {
    json_decref(proc);
    return BERTH_ERR(err, "healthcheck: `%s` has no process", spec_path);
  }
  json_object_set_new(proc, "args", check_args(json_object_get(h, "Test")));
  json_object_set_new(proc, "terminal", json_false());
  json_object_del(proc, "consoleSize");
  char *text = json_dumps(proc, JSON_COMPACT);
  json_decref(proc);
  if (text == NULL)
    berth_oom();
  int r = berth_write_file_atomic(path, text, strlen(text), 0600, err);
  free(text);
  if (r < 0)
    return berth_error_wrap(err, "healthcheck");
  json_int_t retries = json_integer_value(json_object_get(h, "Retries"));
  const struct {
    const char *flag;
    int64_t v;
  } nums[] = {
    { "--health-interval", duration(h, "Interval", HEALTH_INTERVAL_NS) },
    { "--health-timeout", duration(h, "Timeout", HEALTH_TIMEOUT_NS) },
    { "--health-start-period", duration(h, "StartPeriod", 0) },
    { "--health-start-interval", duration(h, "StartInterval", HEALTH_START_INTERVAL_NS) },
    { "--health-retries", retries > 0 ? (int64_t) retries : HEALTH_RETRIES },
  };
  *argv = berth_strv_append(berth_strv_append(*argv, "--health-process"), path);
  for (size_t i = 0; i < BERTH_N_ELEMENTS(nums); i++) {
    char num[32];
    snprintf(num, sizeof num, "%lld", (long long) nums[i].v);
    *argv = berth_strv_append(berth_strv_append(*argv, nums[i].flag), num);
  }
  return 0;
}

int berth_ctr_health_event(struct berth_engine *e, const char *id, const char *status, berth_error_t *err)
{
  if (strcmp(status, "starting") != 0 && strcmp(status, "healthy") != 0 && strcmp(status, "unhealthy") != 0)
    return BERTH_ERR(err, "unknown health status `%s`", status);
  cleanup_free char *action = xasprintf("health_status: %s", status);
  ctr_event_id(e, id, action, NULL);
  return 0;
}

/* 1 healthy, 0 not yet, -1 it never will be (stopped, no healthcheck) */
static BERTH_WUR int healthy_now(struct berth_engine *e, const char *what, berth_error_t *err)
{
  struct berth_ctr c;
  if (berth_ctr_get(e, what, &c, err) < 0)
    return -1;
  int r = 0;
  if (!berth_ctr_health_enabled(c.config))
    r = BERTH_ERR(err, "container %.12s has no healthcheck", c.row.id);
  else if (!berth_ctr_state_kept(c.state))
    r = BERTH_ERR(err, "container %.12s is not running", c.row.id);
  else {
    const char *s = json_string_value(json_object_get(c.health, "Status"));
    r = s && strcmp(s, "healthy") == 0;
  }
  berth_ctr_release(&c);
  return r;
}

int berth_ctr_wait_healthy(struct berth_engine *e, const char *what, berth_error_t *err)
{
  struct berth_ctr c;
  if (berth_ctr_get(e, what, &c, err) < 0)
    return -1;
  cleanup_free char *rundir = xstrdup(c.rundir);
  berth_ctr_release(&c);
  /* the monitor renames health.json into its run dir after every check; the directory goes with
   * the monitor: watched before each look, so that no change in between is missed */
  cleanup_close int in = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  if (in < 0)
    return BERTH_ERR_ERRNO(err, "wait for `%s`: inotify", what);
  for (;;) {
    int wd = inotify_add_watch(in, rundir, IN_MOVED_TO | IN_CREATE | IN_DELETE_SELF | IN_ONLYDIR);
    int r = healthy_now(e, what, err);
    if (r != 0)
      return r < 0 ? berth_error_wrap(err, "wait for `%s` to be healthy", what) : 0;
    if (wd < 0)
      return BERTH_ERR(err, "wait for `%s` to be healthy: it is not running", what);
    struct pollfd pf = { .fd = in, .events = POLLIN };
    if (poll(&pf, 1, -1) < 0 && errno != EINTR)
      return BERTH_ERR_ERRNO(err, "wait for `%s`", what);
    char buf[4096];
    while (read(in, buf, sizeof buf) > 0)
      ;
  }
}
