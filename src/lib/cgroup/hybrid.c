/* The hybrid backend: v1 hierarchies serve the controllers they have; the cgroup2 mount (with
 * the container's processes in it too) serves the controllers v1 lacks, the device filter when
 * v1 has no devices controller, and cgroup.kill. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/xalloc.h"
#include "cgroup/internal.h"

struct hybrid_route {
  berth_cgroup_manager_t *m;
  const char *unified;
  uint32_t v2_avail;  /* controllers the unified leaf has (after enabling) */
  uint32_t v2_serves; /* controllers routed to cgroup2 because v1 lacks them */
  bool v2_plan;       /* routing the v2 plan (else the v1 plan) */
};

static enum berth_cgroup_ctl v1_equiv(enum berth_cgroup_ctl c)
{
  return c == BERTH_CGROUP_CTL_IO ? BERTH_CGROUP_CTL_BLKIO : c;
}

static enum berth_cgroup_ctl v2_equiv(enum berth_cgroup_ctl c)
{
  return c == BERTH_CGROUP_CTL_BLKIO ? BERTH_CGROUP_CTL_IO : c;
}

static enum cg_route route_hybrid(void *ctx, const struct berth_cgroup_write *w, const char **dir)
{
  const struct hybrid_route *r = ctx;
  const struct cg_dir *d = w->ctl == BERTH_CGROUP_CTL_NONE ? NULL : cg_dir_ctl(r->m, v1_equiv(w->ctl));
  if (!r->v2_plan) {
    if (d) {
      *dir = d->path;
      return CG_ROUTE_DIR;
    }
    bool on_v2 = (r->v2_serves & BERTH_CGROUP_CTL_BIT(v2_equiv(w->ctl))) ||
                 (w->ctl == BERTH_CGROUP_CTL_DEVICES && r->unified); /* the eBPF filter */
    return on_v2 ? CG_ROUTE_OTHER : CG_ROUTE_MISSING;
  }
  if (w->ctl == BERTH_CGROUP_CTL_NONE || (r->v2_avail & BERTH_CGROUP_CTL_BIT(w->ctl))) {
    *dir = r->unified;
    return CG_ROUTE_DIR;
  }
  return (w->flags & BERTH_CGROUP_W_REQUIRED) ? CG_ROUTE_MISSING : CG_ROUTE_OTHER;
}

/* Which controllers of the v2 plan go to cgroup2: those v1 does not mount and the cgroup2 root
 * offers. A unified key for a controller v1 owns is an error. */
static BERTH_WUR int pick_v2(struct hybrid_route *r, const struct cg_dir *u,
                             const struct berth_cgroup_plan *p2, struct berth_cgroup_warnings *w,
                             berth_error_t *err)
{
  uint32_t root = cg_v2_controllers(u->mountpoint);
  for (size_t i = 0; i < p2->n; i++) {
    enum berth_cgroup_ctl c = p2->w[i].ctl;
    if (c == BERTH_CGROUP_CTL_NONE)
      continue;
    if (cg_dir_ctl(r->m, v1_equiv(c))) {
      if (p2->w[i].flags & BERTH_CGROUP_W_REQUIRED)
        return BERTH_ERR(err, "%s: the `%s` controller is managed by cgroup v1 on this host", p2->w[i].field,
                         berth_cgroup_ctl_name(c));
      continue;
    }
    if (!(root & BERTH_CGROUP_CTL_BIT(c)) || (r->v2_serves & BERTH_CGROUP_CTL_BIT(c)))
      continue;
    r->v2_serves |= BERTH_CGROUP_CTL_BIT(c);
    berth_error_t e = NULL;
    if (!(cg_v2_controllers(u->path) & BERTH_CGROUP_CTL_BIT(c)) && cg_v2_enable(u, c, &e) < 0) {
      cg_warn(w, "%s", e->msg);
      berth_error_release(&e);
    }
  }
  r->v2_avail = cg_v2_controllers(u->path) & r->v2_serves;
  return 0;
}

static void keep_warnings(const struct berth_cgroup_plan *p, const struct hybrid_route *r, bool v2,
                          struct berth_cgroup_warnings *w)
{
  for (size_t i = 0; i < p->n_warnings; i++) {
    bool on_v2 = p->warnings[i].ctl < BERTH_CGROUP_CTL__COUNT &&
                 (r->v2_serves & BERTH_CGROUP_CTL_BIT(p->warnings[i].ctl));
    if (on_v2 == v2)
      cg_warn(w, "%s", p->warnings[i].msg);
  }
}

static BERTH_WUR int hybrid_apply(berth_cgroup_manager_t *m, const struct berth_spec_resources *r,
                                  struct berth_cgroup_warnings *w, berth_error_t *err)
{
  const struct cg_dir *u = cg_dir_unified(m);
  struct berth_spec_resources r1 = *r;
  r1.n_unified = 0; /* unified keys are cgroup2's: planned on the v2 side only */
  /* memory mounted by v1 serves every memory value: cgroup2's rules (swap needs a limit in the
   * same update) must not refuse what v1 takes, as `update --memory-swap` alone */
  struct berth_spec_resources r2 = *r;
  if (cg_dir_ctl(m, BERTH_CGROUP_CTL_MEMORY))
    memset(&r2.memory, 0, sizeof r2.memory);
  struct berth_cgroup_plan p1, p2;
  if (berth_cgroup_plan_v1(&r1, &p1, err) < 0)
    return -1;
  if (berth_cgroup_plan_v2(&r2, &p2, err) < 0) {
    berth_cgroup_plan_free(&p1);
    return -1;
  }
  struct hybrid_route route = { .m = m, .unified = u ? u->path : NULL };
  int rc = u ? pick_v2(&route, u, &p2, w, err) : 0;
  if (rc == 0) {
    keep_warnings(&p1, &route, false, w);
    rc = cg_exec_plan(&p1, route_hybrid, &route, w, err);
  }
  if (rc == 0 && u) {
    keep_warnings(&p2, &route, true, w);
    route.v2_plan = true;
    rc = cg_exec_plan(&p2, route_hybrid, &route, w, err);
    if (rc == 0 && p2.n_devices > 0 && cg_dir_ctl(m, BERTH_CGROUP_CTL_DEVICES) == NULL)
      rc = cg_v2_apply_devices(u->path, p2.devices, p2.n_devices, err);
  }
  berth_cgroup_plan_free(&p1);
  berth_cgroup_plan_free(&p2);
  return rc;
}

static BERTH_WUR int hybrid_freeze(berth_cgroup_manager_t *m, bool frozen, berth_error_t *err)
{
  const struct cg_dir *f = cg_dir_ctl(m, BERTH_CGROUP_CTL_FREEZER), *u = cg_dir_unified(m);
  if (f)
    return cg_v1_freeze(f->path, frozen, err);
  if (u)
    return cg_v2_freeze(u->path, frozen, err);
  return BERTH_ERR(err, "%s cgroup: no freezer", frozen ? "freeze" : "thaw");
}

static BERTH_WUR int hybrid_state(berth_cgroup_manager_t *m, enum berth_cgroup_freezer_state *out,
                                  berth_error_t *err)
{
  const struct cg_dir *f = cg_dir_ctl(m, BERTH_CGROUP_CTL_FREEZER), *u = cg_dir_unified(m);
  *out = BERTH_CGROUP_THAWED;
  if (f)
    return cg_v1_state(f->path, out, err);
  return u ? cg_v2_state(u->path, out, err) : 0;
}

static BERTH_WUR int hybrid_kill(berth_cgroup_manager_t *m, int sig, berth_error_t *err)
{
  const struct cg_dir *u = cg_dir_unified(m);
  if (sig == SIGKILL && u && cg_write(u->path, "cgroup.kill", "1") == 0) {
    /* a frozen v1 task dies only once thawed */
    const struct cg_dir *f = cg_dir_ctl(m, BERTH_CGROUP_CTL_FREEZER);
    return f ? cg_v1_freeze(f->path, false, err) : 0;
  }
  return cg_v1_kill(m, sig, err);
}

const struct cg_ops cg_ops_hybrid = {
  .name = "hybrid",
  .create = cg_fs_create,
  .join = cg_fs_join,
  .apply = hybrid_apply,
  .freeze = hybrid_freeze,
  .state = hybrid_state,
  .kill = hybrid_kill,
  .pids = cg_fs_pids,
  .stats = cg_stats_v1,
  .oom_fd = cg_v1_oom_fd,
  .oom_kill_count = cg_v1_oom_kill_count,
  .destroy = cg_fs_destroy,
};
