/* The cgroup v1 backend: one directory per mounted hierarchy. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/xalloc.h"
#include "cgroup/internal.h"

static enum cg_route route_v1(void *ctx, const struct berth_cgroup_write *w, const char **dir)
{
  const struct cg_dir *d = cg_dir_ctl(ctx, w->ctl);
  if (d == NULL)
    return CG_ROUTE_MISSING;
  *dir = d->path;
  return CG_ROUTE_DIR;
}

static BERTH_WUR int v1_apply(berth_cgroup_manager_t *m, const struct berth_spec_resources *r,
                              struct berth_cgroup_warnings *w, berth_error_t *err)
{
  struct berth_cgroup_plan p;
  if (berth_cgroup_plan_v1(r, &p, err) < 0)
    return -1;
  for (size_t i = 0; i < p.n_warnings; i++)
    cg_warn(w, "%s", p.warnings[i].msg);
  int rc = cg_exec_plan(&p, route_v1, m, w, err);
  berth_cgroup_plan_free(&p);
  return rc;
}

int cg_v1_state(const char *dir, enum berth_cgroup_freezer_state *out, berth_error_t *err)
{
  cleanup_free char *s = NULL;
  if (cg_read(dir, "freezer.state", &s, err) < 0)
    return -1;
  s[strcspn(s, "\n")] = '\0';
  *out = strcmp(s, "FROZEN") == 0     ? BERTH_CGROUP_FROZEN
         : strcmp(s, "FREEZING") == 0 ? BERTH_CGROUP_FREEZING
                                      : BERTH_CGROUP_THAWED;
  return 0;
}

/* Tasks in uninterruptible sleeps (vfork, some I/O) can hold a cgroup in FREEZING; like runc,
 * thaw and freeze again now and then to give them a chance, and give up after ~1 s. */
int cg_v1_freeze(const char *dir, bool frozen, berth_error_t *err)
{
  if (!frozen) {
    if (cg_write(dir, "freezer.state", "THAWED") < 0)
      return BERTH_ERR_ERRNO(err, "thaw cgroup `%s`: write freezer.state = THAWED", dir);
    return 0;
  }
  for (int i = 0; i < 1000; i++) {
    if (i % 50 == 49 && cg_write(dir, "freezer.state", "THAWED") == 0)
      cg_sleep_ms(10);
    if (cg_write(dir, "freezer.state", "FROZEN") < 0)
      return BERTH_ERR_ERRNO(err, "freeze cgroup `%s`: write freezer.state = FROZEN", dir);
    enum berth_cgroup_freezer_state st;
    if (cg_v1_state(dir, &st, err) < 0)
      return berth_error_wrap(err, "freeze cgroup `%s`", dir);
    if (st == BERTH_CGROUP_FROZEN)
      return 0;
    cg_sleep_ms(1);
  }
  if (cg_write(dir, "freezer.state", "THAWED") < 0) {
    /* nothing more to do: report the timeout */
  }
  return BERTH_ERR(err, "freeze cgroup `%s`: still FREEZING after 1 s", dir);
}

static BERTH_WUR int v1_freeze(berth_cgroup_manager_t *m, bool frozen, berth_error_t *err)
{
  const struct cg_dir *d = cg_dir_ctl(m, BERTH_CGROUP_CTL_FREEZER);
  if (d == NULL)
    return BERTH_ERR(err, "%s cgroup: the freezer controller is not mounted", frozen ? "freeze" : "thaw");
  return cg_v1_freeze(d->path, frozen, err);
}

static BERTH_WUR int v1_state(berth_cgroup_manager_t *m, enum berth_cgroup_freezer_state *out,
                              berth_error_t *err)
{
  const struct cg_dir *d = cg_dir_ctl(m, BERTH_CGROUP_CTL_FREEZER);
  *out = BERTH_CGROUP_THAWED;
  return d ? cg_v1_state(d->path, out, err) : 0;
}

/* freeze, signal every task, thaw: no task can fork out of reach between the listing and the
 * signal. A paused cgroup stays frozen unless the signal is SIGKILL (frozen tasks cannot die). */
int cg_v1_kill(berth_cgroup_manager_t *m, int sig, berth_error_t *err)
{
  const struct cg_dir *f = cg_dir_ctl(m, BERTH_CGROUP_CTL_FREEZER), *p = cg_dir_primary(m);
  if (p == NULL)
    return 0;
  if (f == NULL) {
    if (cg_signal_pids(p->path, sig, err) < 0 || cg_signal_pids(p->path, sig, err) < 0)
      return berth_error_wrap(err, "kill cgroup `%s`", p->path);
    return 0;
  }
  enum berth_cgroup_freezer_state before = BERTH_CGROUP_THAWED;
  if (cg_v1_state(f->path, &before, err) < 0 || cg_v1_freeze(f->path, true, err) < 0)
    return berth_error_wrap(err, "kill cgroup");
  int rc = cg_signal_pids(f->path, sig, err);
  if ((before != BERTH_CGROUP_FROZEN || sig == SIGKILL) &&
      cg_v1_freeze(f->path, false, rc < 0 ? NULL : err) < 0)
    rc = -1;
  return rc < 0 ? berth_error_wrap(err, "kill cgroup `%s`", f->path) : 0;
}

int cg_v1_oom_fd(berth_cgroup_manager_t *m, berth_error_t *err)
{
  const struct cg_dir *d = cg_dir_ctl(m, BERTH_CGROUP_CTL_MEMORY);
  if (d == NULL)
    return BERTH_ERR(err, "oom notifications: the memory controller is not mounted");
  cleanup_free char *path = xasprintf("%s/memory.oom_control", d->path);
  cleanup_close int ofd = open(path, O_RDONLY | O_CLOEXEC);
  if (ofd < 0)
    return BERTH_ERR_ERRNO(err, "oom notifications: open `%s`", path);
  cleanup_close int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (efd < 0)
    return BERTH_ERR_ERRNO(err, "oom notifications: eventfd");
  char line[32];
  snprintf(line, sizeof line, "%d %d", efd, ofd);
  if (cg_write(d->path, "cgroup.event_control", line) < 0)
    return BERTH_ERR_ERRNO(err, "oom notifications: register with `%s/cgroup.event_control`", d->path);
  return steal_fd(efd);
}

int cg_v1_oom_kill_count(berth_cgroup_manager_t *m, uint64_t *count, berth_error_t *err)
{
  const struct cg_dir *d = cg_dir_ctl(m, BERTH_CGROUP_CTL_MEMORY);
  *count = 0;
  if (d == NULL)
    return BERTH_ERR(err, "oom kill count: the memory controller is not mounted");
  int rc = cg_read_keyed(d->path, "memory.oom_control", "oom_kill", count, err);
  return rc < 0 ? -1 : 0;
}

const struct cg_ops cg_ops_v1 = {
  .name = "v1",
  .create = cg_fs_create,
  .join = cg_fs_join,
  .apply = v1_apply,
  .freeze = v1_freeze,
  .state = v1_state,
  .kill = cg_v1_kill,
  .pids = cg_fs_pids,
  .stats = cg_stats_v1,
  .oom_fd = cg_v1_oom_fd,
  .oom_kill_count = cg_v1_oom_kill_count,
  .destroy = cg_fs_destroy,
};
