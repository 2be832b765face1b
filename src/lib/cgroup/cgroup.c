/* Dispatch: the only file that knows every backend (v1, v2, hybrid, disabled, systemd). */
#include "cgroup/cgroup.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/xalloc.h"
#include "cgroup/internal.h"

/* ---------------- disabled: every operation is a successful no-op ---------------- */

static BERTH_WUR int none_pid(berth_cgroup_manager_t *m, pid_t pid, berth_error_t *err) { return 0; }
static BERTH_WUR int none_apply(berth_cgroup_manager_t *m, const struct berth_spec_resources *r,
                                struct berth_cgroup_warnings *w, berth_error_t *err)
{
  return 0;
}
static BERTH_WUR int none_freeze(berth_cgroup_manager_t *m, bool frozen, berth_error_t *err) { return 0; }
static BERTH_WUR int none_int(berth_cgroup_manager_t *m, int sig, berth_error_t *err) { return 0; }
static BERTH_WUR int none_destroy(berth_cgroup_manager_t *m, berth_error_t *err) { return 0; }

static BERTH_WUR int none_state(berth_cgroup_manager_t *m, enum berth_cgroup_freezer_state *out,
                                berth_error_t *err)
{
  *out = BERTH_CGROUP_THAWED;
  return 0;
}

static BERTH_WUR int none_pids(berth_cgroup_manager_t *m, pid_t **pids, size_t *n, berth_error_t *err)
{
  *pids = xcalloc(1, sizeof **pids);
  *n = 0;
  return 0;
}

static BERTH_WUR int none_stats(berth_cgroup_manager_t *m, json_t **out, berth_error_t *err)
{
  *out = json_object();
  return 0;
}

static BERTH_WUR int none_oom_fd(berth_cgroup_manager_t *m, berth_error_t *err)
{
  return BERTH_ERR(err, "oom notifications: the cgroup manager is disabled");
}

static BERTH_WUR int none_oom_count(berth_cgroup_manager_t *m, uint64_t *count, berth_error_t *err)
{
  *count = 0;
  return 0;
}

static const struct cg_ops ops_disabled = {
  .name = "disabled",
  .create = none_pid,
  .join = none_pid,
  .apply = none_apply,
  .freeze = none_freeze,
  .state = none_state,
  .kill = none_int,
  .pids = none_pids,
  .stats = none_stats,
  .oom_fd = none_oom_fd,
  .oom_kill_count = none_oom_count,
  .destroy = none_destroy,
};

const struct cg_ops *cg_ops_for(enum berth_cgroup_kind kind, enum berth_cgroup_mode mode)
{
  if (kind == BERTH_CGROUP_DISABLED)
    return &ops_disabled;
  switch (mode) {
  case BERTH_CGROUP_MODE_V1: return &cg_ops_v1;
  case BERTH_CGROUP_MODE_V2: return &cg_ops_v2;
  case BERTH_CGROUP_MODE_HYBRID: return &cg_ops_hybrid;
  default: return NULL;
  }
}

/* ---------------- construction ---------------- */

void berth_cgroup_manager_free(berth_cgroup_manager_t *m)
{
  if (m == NULL)
    return;
  for (size_t i = 0; i < m->n_dirs; i++) {
    free(m->dirs[i].path);
    free(m->dirs[i].mountpoint);
    free(m->dirs[i].name);
  }
  free(m->dirs);
  free(m->path);
  free(m->parents_dir);
  free(m);
}

/* systemd owns the cgroup tree where it runs; driving it means D-Bus (StartTransientUnit),
 * which this host cannot test: a clear error either way */
static BERTH_WUR int systemd_unsupported(const struct berth_cgroup_config *cfg, berth_error_t *err)
{
  const char *run = cfg->systemd_run_dir ? cfg->systemd_run_dir : "/run/systemd/system";
  if (access(run, F_OK) < 0)
    return BERTH_ERR(err,
                     "the systemd cgroup manager needs systemd running as init on this host (no `%s`); "
                     "use --cgroup-manager cgroupfs",
                     run);
  return BERTH_ERR(err, "the systemd cgroup manager is not supported by berth yet (it needs D-Bus); "
                        "use --cgroup-manager cgroupfs");
}

int berth_cgroup_manager_new(const struct berth_cgroup_layout *layout, const struct berth_cgroup_config *cfg,
                             berth_cgroup_manager_t **out, berth_error_t *err)
{
  if (cfg->kind == BERTH_CGROUP_SYSTEMD)
    return systemd_unsupported(cfg, err);
  berth_cgroup_manager_t *m = xmalloc0(sizeof *m);
  m->kind = cfg->kind;
  m->mode = cfg->kind == BERTH_CGROUP_DISABLED || layout == NULL ? BERTH_CGROUP_MODE_NONE : layout->mode;
  m->ops = cg_ops_for(m->kind, m->mode);
  if (m->ops == NULL) {
    berth_cgroup_manager_free(m);
    return BERTH_ERR(err, "cgroup manager: no cgroup layout detected");
  }
  if (m->kind != BERTH_CGROUP_DISABLED &&
      cg_resolve_dirs(layout, cfg->cgroups_path, cfg->id, cfg->relative_to_self, m, err) < 0) {
    berth_cgroup_manager_free(m);
    return -1;
  }
  m->parents_dir = cfg->parents_dir ? xstrdup(cfg->parents_dir) : NULL;
  *out = m;
  return 0;
}

/* ---------------- operations ---------------- */

int berth_cgroup_create(berth_cgroup_manager_t *m, pid_t pid, berth_error_t *err)
{
  return m->ops->create(m, pid, err);
}

int berth_cgroup_join(berth_cgroup_manager_t *m, pid_t pid, berth_error_t *err)
{
  return m->ops->join(m, pid, err);
}

int berth_cgroup_apply(berth_cgroup_manager_t *m, const struct berth_spec_resources *r,
                       struct berth_cgroup_warnings *warnings, berth_error_t *err)
{
  return m->ops->apply(m, r, warnings, err);
}

int berth_cgroup_freeze(berth_cgroup_manager_t *m, bool frozen, berth_error_t *err)
{
  return m->ops->freeze(m, frozen, err);
}

int berth_cgroup_freezer_state(berth_cgroup_manager_t *m, enum berth_cgroup_freezer_state *out,
                               berth_error_t *err)
{
  return m->ops->state(m, out, err);
}

int berth_cgroup_kill(berth_cgroup_manager_t *m, int sig, berth_error_t *err)
{
  return m->ops->kill(m, sig, err);
}

int berth_cgroup_pids(berth_cgroup_manager_t *m, pid_t **pids, size_t *n, berth_error_t *err)
{
  return m->ops->pids(m, pids, n, err);
}

int berth_cgroup_is_empty(berth_cgroup_manager_t *m, bool *empty, berth_error_t *err)
{
  cleanup_free pid_t *pids = NULL;
  size_t n = 0;
  if (m->ops->pids(m, &pids, &n, err) < 0)
    return -1;
  *empty = n == 0;
  return 0;
}

int berth_cgroup_stats(berth_cgroup_manager_t *m, json_t **out, berth_error_t *err)
{
  return m->ops->stats(m, out, err);
}

int berth_cgroup_oom_fd(berth_cgroup_manager_t *m, berth_error_t *err) { return m->ops->oom_fd(m, err); }

int berth_cgroup_oom_kill_count(berth_cgroup_manager_t *m, uint64_t *count, berth_error_t *err)
{
  return m->ops->oom_kill_count(m, count, err);
}

int berth_cgroup_destroy(berth_cgroup_manager_t *m, berth_error_t *err) { return m->ops->destroy(m, err); }

enum berth_cgroup_kind berth_cgroup_manager_kind(const berth_cgroup_manager_t *m) { return m->kind; }

enum berth_cgroup_mode berth_cgroup_manager_mode(const berth_cgroup_manager_t *m) { return m->mode; }

const char *berth_cgroup_manager_path(const berth_cgroup_manager_t *m) { return m->path; }

const char *berth_cgroup_manager_dir(const berth_cgroup_manager_t *m, enum berth_cgroup_ctl ctl)
{
  const struct cg_dir *d = ctl == BERTH_CGROUP_CTL_NONE ? cg_dir_unified(m) : cg_dir_ctl(m, ctl);
  if (d == NULL && ctl != BERTH_CGROUP_CTL_NONE && m->mode != BERTH_CGROUP_MODE_V1)
    d = cg_dir_unified(m); /* v2: every controller lives in the one directory */
  if (d && m->mode == BERTH_CGROUP_MODE_HYBRID && d->unified && ctl != BERTH_CGROUP_CTL_NONE &&
      !(cg_v2_controllers(d->path) & BERTH_CGROUP_CTL_BIT(ctl)))
    return NULL;
  return d ? d->path : NULL;
}
