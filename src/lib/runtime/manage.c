#include "runtime/manage.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/log.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "json/json.h"
#include "cgroup/cgroup.h"
#include "runtime/cgroups.h"
#include "runtime/container.h"

/* load + open the cgroup; a container without a (real) cgroup cannot be managed */
static BERTH_WUR int open_managed(const char *root, const char *id, struct berth_container **c,
                                  berth_cgroup_manager_t **m, berth_error_t *err)
{
  if (berth_container_load(root, id, c, err) < 0)
    return -1;
  if (berth_container_cgroup_open(*c, m, err) < 0)
    return -1;
  if (*m == NULL || berth_cgroup_manager_kind(*m) == BERTH_CGROUP_DISABLED)
    return BERTH_ERR(err, "container `%s` has no cgroup (created with --cgroup-manager disabled)", id);
  return 0;
}

int berth_container_pause(const char *root, const char *id, berth_error_t *err)
{
  cleanup_container struct berth_container *c = NULL;
  cleanup_cgroup_manager berth_cgroup_manager_t *m = NULL;
  if (open_managed(root, id, &c, &m, err) < 0)
    return berth_error_wrap(err, "pause container `%s`", id);
  if (c->status == BERTH_STATUS_PAUSED)
    return BERTH_ERR(err, "pause container `%s`: container already paused", id);
  if (c->status != BERTH_STATUS_RUNNING && c->status != BERTH_STATUS_CREATED)
    return BERTH_ERR(err, "pause container `%s`: container not running", id);
  if (berth_cgroup_freeze(m, true, err) < 0)
    return berth_error_wrap(err, "pause container `%s`", id);
  return 0;
}

int berth_container_resume(const char *root, const char *id, berth_error_t *err)
{
  cleanup_container struct berth_container *c = NULL;
  cleanup_cgroup_manager berth_cgroup_manager_t *m = NULL;
  if (open_managed(root, id, &c, &m, err) < 0)
    return berth_error_wrap(err, "resume container `%s`", id);
  if (c->status != BERTH_STATUS_PAUSED)
    return BERTH_ERR(err, "resume container `%s`: container not paused", id);
  if (berth_cgroup_freeze(m, false, err) < 0)
    return berth_error_wrap(err, "resume container `%s`", id);
  return 0;
}

int berth_container_pids(const char *root, const char *id, pid_t **pids, size_t *n, berth_error_t *err)
{
  cleanup_container struct berth_container *c = NULL;
  cleanup_cgroup_manager berth_cgroup_manager_t *m = NULL;
  if (open_managed(root, id, &c, &m, err) < 0)
    return berth_error_wrap(err, "ps container `%s`", id);
  if (c->status == BERTH_STATUS_STOPPED) {
    *pids = NULL;
    *n = 0;
    return 0;
  }
  if (berth_cgroup_pids(m, pids, n, err) < 0)
    return berth_error_wrap(err, "ps container `%s`", id);
  return 0;
}

int berth_container_update(const char *root, const char *id, const struct berth_spec_resources *r,
                           berth_error_t *err)
{
  cleanup_container struct berth_container *c = NULL;
  cleanup_cgroup_manager berth_cgroup_manager_t *m = NULL;
  if (open_managed(root, id, &c, &m, err) < 0)
    return berth_error_wrap(err, "update container `%s`", id);
  if (c->status == BERTH_STATUS_STOPPED)
    return BERTH_ERR(err, "update container `%s`: container not running", id);
  struct berth_cgroup_warnings w = { 0 };
  int ret = berth_cgroup_apply(m, r, &w, err);
  for (size_t i = 0; i < w.n; i++)
    berth_log_warn("%s", w.msgs[i]);
  berth_cgroup_warnings_free(&w);
  return ret < 0 ? berth_error_wrap(err, "update container `%s`", id) : 0;
}

static json_t *event(const char *type, const char *id, json_t *data)
{
  json_t *e = json_object();
  json_object_set_new(e, "type", json_string(type));
  json_object_set_new(e, "id", json_string(id));
  if (data)
    json_object_set_new(e, "data", data);
  return e;
}

json_t *berth_container_stats_event(const char *root, const char *id, berth_error_t *err)
{
  cleanup_container struct berth_container *c = NULL;
  cleanup_cgroup_manager berth_cgroup_manager_t *m = NULL;
  if (open_managed(root, id, &c, &m, err) < 0) {
    berth_error_wrap(err, "events of container `%s`", id);
    return NULL;
  }
  if (c->status == BERTH_STATUS_STOPPED) {
    BERTH_ERR(err, "events of container `%s`: container not running", id);
    return NULL;
  }
  json_t *data = NULL;
  if (berth_cgroup_stats(m, &data, err) < 0) {
    berth_error_wrap(err, "stats of container `%s`", id);
    return NULL;
  }
  return event("stats", id, data);
}

static void emit(FILE *out, json_t *e)
{
  char *s = berth_json_dumps(e);
  fprintf(out, "%s\n", s);
  fflush(out);
  free(s);
  json_decref(e);
}

int berth_container_events(const char *root, const char *id, int interval_ms, FILE *out, berth_error_t *err)
{
  cleanup_container struct berth_container *c = NULL;
  cleanup_cgroup_manager berth_cgroup_manager_t *m = NULL;
  if (open_managed(root, id, &c, &m, err) < 0)
    return berth_error_wrap(err, "events of container `%s`", id);
  if (c->status == BERTH_STATUS_STOPPED)
    return BERTH_ERR(err, "events of container `%s`: container not running", id);
  cleanup_close int pidfd = berth_container_pidfd(c, err);
  if (pidfd < 0)
    return -1;
  berth_error_t oerr = NULL;
  cleanup_close int oomfd = berth_cgroup_oom_fd(m, &oerr);
  if (oomfd < 0) {
    berth_log_warn("events of container `%s`: no OOM notifications: %s", id, oerr->msg);
    berth_error_release(&oerr);
  }
  uint64_t ooms = 0;
  if (berth_cgroup_oom_kill_count(m, &ooms, &oerr) < 0)
    berth_error_release(&oerr);
  for (;;) {
    struct pollfd p[2] = { { .fd = pidfd, .events = POLLIN }, { .fd = oomfd, .events = POLLIN } };
    int r = poll(p, 2, interval_ms > 0 ? interval_ms : -1);
    if (r < 0 && errno != EINTR)
      return BERTH_ERR_ERRNO(err, "poll");
    if (p[1].revents & POLLIN) {
      char buf[4096];
      while (read(oomfd, buf, sizeof buf) > 0)
        ;
      uint64_t now = ooms;
      if (berth_cgroup_oom_kill_count(m, &now, &oerr) < 0)
        berth_error_release(&oerr);
      if (now != ooms || now == 0)
        emit(out, event("oom", id, NULL));
      ooms = now;
    }
    if (p[0].revents & POLLIN)
      return 0; /* the container stopped */
    if (r == 0 && interval_ms > 0) {
      json_t *data = NULL;
      if (berth_cgroup_stats(m, &data, err) < 0)
        return -1;
      emit(out, event("stats", id, data));
    }
  }
}
