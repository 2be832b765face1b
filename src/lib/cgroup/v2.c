/* The cgroup v2 backend: one directory in the unified hierarchy. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/xalloc.h"
#include "cgroup/internal.h"

uint32_t cg_v2_controllers(const char *dir)
{
  cleanup_free char *text = NULL;
  berth_error_t ignored = NULL;
  if (cg_read(dir, "cgroup.controllers", &text, &ignored) < 0) {
    berth_error_release(&ignored);
    return 0;
  }
  return cg_parse_controllers(text, ' ');
}

/* Enable ctl at every level from the hierarchy's root down to the leaf's parent (what the
 * leaf can use is what its parent's cgroup.subtree_control lists). */
int cg_v2_enable(const struct cg_dir *d, enum berth_cgroup_ctl ctl, berth_error_t *err)
{
  const char *name = berth_cgroup_ctl_name(ctl);
  cleanup_free char *p = xstrdup(d->path), *plus = xasprintf("+%s", name);
  size_t base = strlen(d->mountpoint), len = strlen(p);
  for (size_t i = base; i < len; i++) {
    if (p[i] != '/')
      continue;
    p[i] = '\0'; /* p is now the mountpoint or an ancestor of the leaf */
    if (!(cg_v2_controllers(p) & BERTH_CGROUP_CTL_BIT(ctl)))
      return BERTH_ERR(err, "enable controller `%s`: not available in `%s`", name, p);
    cleanup_free char *sub = NULL;
    if (cg_read(p, "cgroup.subtree_control", &sub, err) < 0)
      return -1;
    bool on = cg_parse_controllers(sub, ' ') & BERTH_CGROUP_CTL_BIT(ctl);
    if (!on && cg_write(p, "cgroup.subtree_control", plus) < 0)
      return BERTH_ERR_ERRNO(err, "enable controller `%s` in `%s/cgroup.subtree_control`", name, p);
    p[i] = '/';
  }
  return 0;
}

struct v2_route {
  const char *dir;
  uint32_t avail;
};

static enum cg_route route_v2(void *ctx, const struct berth_cgroup_write *w, const char **dir)
{
  const struct v2_route *r = ctx;
  if (w->ctl != BERTH_CGROUP_CTL_NONE && !(r->avail & BERTH_CGROUP_CTL_BIT(w->ctl)))
    return CG_ROUTE_MISSING;
  *dir = r->dir;
  return CG_ROUTE_DIR;
}

static BERTH_WUR int v2_apply(berth_cgroup_manager_t *m, const struct berth_spec_resources *r,
                              struct berth_cgroup_warnings *w, berth_error_t *err)
{
  const struct cg_dir *d = cg_dir_unified(m);
  struct berth_cgroup_plan p;
  if (d == NULL)
    return BERTH_ERR(err, "apply cgroup resources: no cgroup2 directory");
  if (berth_cgroup_plan_v2(r, &p, err) < 0)
    return -1;
  for (size_t i = 0; i < p.n_warnings; i++)
    cg_warn(w, "%s", p.warnings[i].msg);
  struct v2_route route = { .dir = d->path, .avail = cg_v2_controllers(d->path) };
  uint32_t tried = 0;
  for (size_t i = 0; i < p.n; i++) {
    enum berth_cgroup_ctl c = p.w[i].ctl;
    if (c == BERTH_CGROUP_CTL_NONE || (route.avail | tried) & BERTH_CGROUP_CTL_BIT(c))
      continue;
    tried |= BERTH_CGROUP_CTL_BIT(c);
    berth_error_t e = NULL;
    if (cg_v2_enable(d, c, &e) < 0) {
      cg_warn(w, "%s", e->msg);
      berth_error_release(&e);
    }
    route.avail = cg_v2_controllers(d->path);
  }
  int rc = cg_exec_plan(&p, route_v2, &route, w, err);
  if (rc == 0 && p.n_devices > 0)
    rc = cg_v2_apply_devices(d->path, p.devices, p.n_devices, err);
  berth_cgroup_plan_free(&p);
  return rc;
}

int cg_v2_state(const char *dir, enum berth_cgroup_freezer_state *out, berth_error_t *err)
{
  uint64_t want = 0, frozen = 0;
  if (cg_read_u64(dir, "cgroup.freeze", &want, err) < 0)
    return -1;
  int rc = cg_read_keyed(dir, "cgroup.events", "frozen", &frozen, err);
  if (rc < 0)
    return -1;
  *out = want == 0 ? BERTH_CGROUP_THAWED : frozen ? BERTH_CGROUP_FROZEN : BERTH_CGROUP_FREEZING;
  return 0;
}

int cg_v2_freeze(const char *dir, bool frozen, berth_error_t *err)
{
  if (cg_write(dir, "cgroup.freeze", frozen ? "1" : "0") < 0) {
    if (errno == ENOENT && !cg_exists(dir, "cgroup.freeze"))
      return BERTH_ERR(err, "%s cgroup `%s`: this kernel has no cgroup.freeze (Linux >= 5.2)",
                       frozen ? "freeze" : "thaw", dir);
    return BERTH_ERR_ERRNO(err, "%s cgroup `%s`: write cgroup.freeze", frozen ? "freeze" : "thaw", dir);
  }
  for (int i = 0; frozen && i < 1000; i++) {
    enum berth_cgroup_freezer_state st;
    if (cg_v2_state(dir, &st, err) < 0)
      return berth_error_wrap(err, "freeze cgroup `%s`", dir);
    if (st == BERTH_CGROUP_FROZEN)
      return 0;
    cg_sleep_ms(1);
  }
  return frozen ? BERTH_ERR(err, "freeze cgroup `%s`: not frozen after 1 s", dir) : 0;
}

static const char *unified_path(berth_cgroup_manager_t *m)
{
  const struct cg_dir *d = cg_dir_unified(m);
  return d ? d->path : NULL;
}

static BERTH_WUR int v2_freeze(berth_cgroup_manager_t *m, bool frozen, berth_error_t *err)
{
  const char *dir = unified_path(m);
  return dir ? cg_v2_freeze(dir, frozen, err) : BERTH_ERR(err, "freeze cgroup: no cgroup2 directory");
}

static BERTH_WUR int v2_state(berth_cgroup_manager_t *m, enum berth_cgroup_freezer_state *out,
                              berth_error_t *err)
{
  const char *dir = unified_path(m);
  *out = BERTH_CGROUP_THAWED;
  return dir ? cg_v2_state(dir, out, err) : 0;
}

/* SIGKILL: cgroup.kill (Linux >= 5.14) kills the whole subtree in one go. Other signals:
 * freeze, signal, thaw (a paused cgroup stays paused). */
static BERTH_WUR int v2_kill(berth_cgroup_manager_t *m, int sig, berth_error_t *err)
{
  const char *dir = unified_path(m);
  if (dir == NULL)
    return 0;
  if (sig == SIGKILL && cg_write(dir, "cgroup.kill", "1") == 0)
    return 0;
  if (!cg_exists(dir, "cgroup.freeze")) {
    if (cg_signal_pids(dir, sig, err) < 0 || cg_signal_pids(dir, sig, err) < 0)
      return berth_error_wrap(err, "kill cgroup `%s`", dir);
    return 0;
  }
  enum berth_cgroup_freezer_state before;
  if (cg_v2_state(dir, &before, err) < 0 || cg_v2_freeze(dir, true, err) < 0)
    return berth_error_wrap(err, "kill cgroup");
  int rc = cg_signal_pids(dir, sig, err);
  if ((before != BERTH_CGROUP_FROZEN || sig == SIGKILL) && cg_v2_freeze(dir, false, rc < 0 ? NULL : err) < 0)
    rc = -1;
  return rc < 0 ? berth_error_wrap(err, "kill cgroup `%s`", dir) : 0;
}

static BERTH_WUR int v2_oom_fd(berth_cgroup_manager_t *m, berth_error_t *err)
{
  const char *dir = unified_path(m);
  if (dir == NULL || !cg_exists(dir, "memory.events"))
    return BERTH_ERR(err, "oom notifications: the memory controller is not enabled in the cgroup");
  cleanup_close int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  if (fd < 0)
    return BERTH_ERR_ERRNO(err, "oom notifications: inotify");
  cleanup_free char *path = xasprintf("%s/memory.events", dir);
  if (inotify_add_watch(fd, path, IN_MODIFY) < 0)
    return BERTH_ERR_ERRNO(err, "oom notifications: watch `%s`", path);
  return steal_fd(fd);
}

static BERTH_WUR int v2_oom_kill_count(berth_cgroup_manager_t *m, uint64_t *count, berth_error_t *err)
{
  const char *dir = unified_path(m);
  *count = 0;
  if (dir == NULL || !cg_exists(dir, "memory.events"))
    return BERTH_ERR(err, "oom kill count: the memory controller is not enabled in the cgroup");
  return cg_read_keyed(dir, "memory.events", "oom_kill", count, err) < 0 ? -1 : 0;
}

const struct cg_ops cg_ops_v2 = {
  .name = "v2",
  .create = cg_fs_create,
  .join = cg_fs_join,
  .apply = v2_apply,
  .freeze = v2_freeze,
  .state = v2_state,
  .kill = v2_kill,
  .pids = cg_fs_pids,
  .stats = cg_stats_v2,
  .oom_fd = v2_oom_fd,
  .oom_kill_count = v2_oom_kill_count,
  .destroy = cg_fs_destroy,
};
