/* The cgroup v2 planner: v1-shaped OCI values translated the way runc does. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "base/strutil.h"
#include "cgroup/plan.h"

#define F "linux.resources."

static BERTH_WUR int plan_v2_memory(const struct berth_spec_resources *r, struct berth_cgroup_plan *p,
                                    berth_error_t *err)
{
  const enum berth_cgroup_ctl M = BERTH_CGROUP_CTL_MEMORY;
  int64_t limit, swap;
  if (cg_plan_mem_limits(r, &limit, &swap, err) < 0)
    return -1;
  /* OCI's swap is memory+swap (v1); v2's memory.swap.max is swap alone */
  if (swap == -1) {
    cg_plan_add(p, M, "memory.swap.max", BERTH_CGROUP_W_OPTIONAL, F "memory.swap", "max");
  } else if (swap > 0) {
    if (limit <= 0)
      return BERTH_ERR(err,
                       F "memory.swap: cgroup v2 cannot limit swap without a memory limit (memory.limit %s)",
                       limit == 0 ? "unset" : "is -1");
    cg_plan_add(p, M, "memory.swap.max", BERTH_CGROUP_W_OPTIONAL, F "memory.swap", "%" PRId64, swap - limit);
  }
  unsigned check =
    r->memory.has_check_before_update && r->memory.check_before_update ? BERTH_CGROUP_W_CHECK_USAGE : 0;
  if (limit == -1)
    cg_plan_add(p, M, "memory.max", 0, F "memory.limit", "max");
  else if (limit > 0)
    cg_plan_add(p, M, "memory.max", check, F "memory.limit", "%" PRId64, limit);
  if (r->memory.reservation.set && r->memory.reservation.v == -1)
    cg_plan_add(p, M, "memory.low", 0, F "memory.reservation", "max");
  else if (r->memory.reservation.set && r->memory.reservation.v > 0)
    cg_plan_add(p, M, "memory.low", 0, F "memory.reservation", "%" PRId64, r->memory.reservation.v);
  else if (r->memory.reservation.set && r->memory.reservation.v < -1)
    return BERTH_ERR(err,
                     F "memory.reservation: %" PRId64 " is not a valid limit (bytes, or -1 for unlimited)",
                     r->memory.reservation.v);
  if (r->memory.swappiness.set)
    cg_plan_warn(p, M, F "memory.swappiness: cgroup v2 has no per-cgroup swappiness; ignored");
  if (r->memory.has_disable_oom_killer && r->memory.disable_oom_killer)
    cg_plan_warn(p, M, F "memory.disableOOMKiller: cgroup v2 cannot disable the OOM killer; ignored");
  if (r->memory.kernel.set)
    cg_plan_warn(p, M, F "memory.kernel: cgroup v2 has no separate kernel memory limit; ignored");
  if (r->memory.kernel_tcp.set)
    cg_plan_warn(p, M, F "memory.kernelTCP: cgroup v2 has no separate TCP buffer limit; ignored");
  if (r->memory.has_use_hierarchy && !r->memory.use_hierarchy)
    cg_plan_warn(p, M, F "memory.useHierarchy: cgroup v2 is always hierarchical; false ignored");
  return 0;
}

static BERTH_WUR int plan_v2_cpu(const struct berth_spec_resources *r, struct berth_cgroup_plan *p,
                                 berth_error_t *err)
{
  const enum berth_cgroup_ctl C = BERTH_CGROUP_CTL_CPU;
  if (r->cpu.shares.set && r->cpu.shares.v != 0) {
    if (r->cpu.shares.v < 2 || r->cpu.shares.v > 262144)
      cg_plan_warn(p, C, F "cpu.shares: %" PRIu64 " is outside [2, 262144]; clamped", r->cpu.shares.v);
    cg_plan_add(p, C, "cpu.weight", 0, F "cpu.shares", "%" PRIu64,
                berth_cgroup_shares_to_weight(r->cpu.shares.v));
  }
  bool quota = r->cpu.quota.set && r->cpu.quota.v != 0;
  bool period = r->cpu.period.set && r->cpu.period.v != 0;
  if (quota && r->cpu.quota.v < -1)
    return BERTH_ERR(err, F "cpu.quota: %" PRId64 " is not valid (microseconds, or -1 for no limit)",
                     r->cpu.quota.v);
  if (quota || period) {
    char q[24] = "max";
    if (quota && r->cpu.quota.v > 0)
      snprintf(q, sizeof q, "%" PRId64, r->cpu.quota.v);
    if (period)
      cg_plan_add(p, C, "cpu.max", 0, quota ? F "cpu.quota" : F "cpu.period", "%s %" PRIu64, q,
                  r->cpu.period.v);
    else
      cg_plan_add(p, C, "cpu.max", 0, F "cpu.quota", "%s", q);
  }
  if (r->cpu.burst.set)
    cg_plan_add(p, C, "cpu.max.burst", BERTH_CGROUP_W_OPTIONAL, F "cpu.burst", "%" PRIu64, r->cpu.burst.v);
  if (r->cpu.idle.set) {
    if (r->cpu.idle.v != 0 && r->cpu.idle.v != 1)
      return BERTH_ERR(err, F "cpu.idle: %" PRId64 " is not 0 or 1", r->cpu.idle.v);
    cg_plan_add(p, C, "cpu.idle", BERTH_CGROUP_W_OPTIONAL, F "cpu.idle", "%" PRId64, r->cpu.idle.v);
  }
  if ((r->cpu.realtime_runtime.set && r->cpu.realtime_runtime.v != 0) ||
      (r->cpu.realtime_period.set && r->cpu.realtime_period.v != 0))
    cg_plan_warn(p, C,
                 F "cpu.realtimeRuntime/realtimePeriod: cgroup v2 has no realtime group scheduling; ignored");
  return 0;
}

static void plan_v2_throttle(struct berth_cgroup_plan *p, const char *name, const char *key,
                             const struct berth_spec_throttle_device *t, size_t n)
{
  char field[96];
  for (size_t i = 0; i < n; i++) {
    snprintf(field, sizeof field, F "blockIO.%s[%zu]", name, i);
    cg_plan_add(p, BERTH_CGROUP_CTL_IO, "io.max", BERTH_CGROUP_W_OPTIONAL, field,
                "%" PRId64 ":%" PRId64 " %s=%" PRIu64, t[i].major, t[i].minor, key, t[i].rate);
  }
}

static BERTH_WUR int plan_v2_io(const struct berth_spec_resources *r, struct berth_cgroup_plan *p,
                                berth_error_t *err)
{
  const enum berth_cgroup_ctl IO = BERTH_CGROUP_CTL_IO;
  __typeof__(r->block_io) const *b = &r->block_io;
  if (b->weight.set && b->weight.v != 0) {
    if (cg_plan_check_weight(F "blockIO.weight", b->weight.v, err) < 0)
      return -1;
    cg_plan_add(p, IO, "io.weight", BERTH_CGROUP_W_OPTIONAL, F "blockIO.weight", "default %" PRIu64,
                berth_cgroup_blkio_to_io_weight(b->weight.v));
  }
  if (b->leaf_weight.set && b->leaf_weight.v != 0)
    cg_plan_warn(p, IO, F "blockIO.leafWeight: cgroup v2 has no leaf weight; ignored");
  char field[96];
  for (size_t i = 0; i < b->n_weight_device; i++) {
    const struct berth_spec_weight_device *d = &b->weight_device[i];
    snprintf(field, sizeof field, F "blockIO.weightDevice[%zu]", i);
    if (d->weight.set) {
      if (cg_plan_check_weight(field, d->weight.v, err) < 0)
        return -1;
      cg_plan_add(p, IO, "io.weight", BERTH_CGROUP_W_OPTIONAL, field, "%" PRId64 ":%" PRId64 " %" PRIu64,
                  d->major, d->minor, berth_cgroup_blkio_to_io_weight(d->weight.v));
    }
    if (d->leaf_weight.set)
      cg_plan_warn(p, IO, "%s.leafWeight: cgroup v2 has no leaf weight; ignored", field);
  }
  plan_v2_throttle(p, "throttleReadBpsDevice", "rbps", b->throttle_read_bps, b->n_throttle_read_bps);
  plan_v2_throttle(p, "throttleWriteBpsDevice", "wbps", b->throttle_write_bps, b->n_throttle_write_bps);
  plan_v2_throttle(p, "throttleReadIOPSDevice", "riops", b->throttle_read_iops, b->n_throttle_read_iops);
  plan_v2_throttle(p, "throttleWriteIOPSDevice", "wiops", b->throttle_write_iops, b->n_throttle_write_iops);
  return 0;
}

/* unified keys are file names in the container's cgroup: nothing that could leave it */
static BERTH_WUR int unified_ctl(const char *key, enum berth_cgroup_ctl *ctl, berth_error_t *err)
{
  const char *dot = strchr(key, '.');
  if (key[0] == '\0' || key[0] == '.' || strchr(key, '/') || dot == NULL || dot[1] == '\0')
    return BERTH_ERR(err, F "unified: `%s` is not a cgroup v2 file name (<controller>.<name>)", key);
  for (const char *c = key; *c; c++)
    if (*c <= ' ' || *c >= 127)
      return BERTH_ERR(err, F "unified: `%s` is not a cgroup v2 file name (<controller>.<name>)", key);
  char name[32];
  size_t len = (size_t) (dot - key);
  if (len >= sizeof name)
    len = sizeof name - 1;
  memcpy(name, key, len);
  name[len] = '\0';
  if (strcmp(name, "cgroup") == 0) {
    if (strcmp(key, "cgroup.procs") == 0 || strcmp(key, "cgroup.threads") == 0 ||
        strcmp(key, "cgroup.kill") == 0)
      return BERTH_ERR(err, F "unified.%s: not a resource setting", key);
    *ctl = BERTH_CGROUP_CTL_NONE;
    return 0;
  }
  int c = berth_cgroup_ctl_from_name(name);
  if (c < 0 || c == BERTH_CGROUP_CTL_BLKIO || c == BERTH_CGROUP_CTL_CPUACCT ||
      c == BERTH_CGROUP_CTL_DEVICES || c == BERTH_CGROUP_CTL_FREEZER || c == BERTH_CGROUP_CTL_NET_CLS ||
      c == BERTH_CGROUP_CTL_NET_PRIO)
    return BERTH_ERR(err, F "unified.%s: `%s` is not a cgroup v2 controller", key, name);
  *ctl = (enum berth_cgroup_ctl) c;
  return 0;
}

static BERTH_WUR int plan_v2_rest(const struct berth_spec_resources *r, struct berth_cgroup_plan *p,
                                  berth_error_t *err)
{
  char field[512], file[128];
  if (r->pids.present) {
    if (r->pids.limit > 0)
      cg_plan_add(p, BERTH_CGROUP_CTL_PIDS, "pids.max", 0, F "pids.limit", "%" PRId64, r->pids.limit);
    else
      cg_plan_add(p, BERTH_CGROUP_CTL_PIDS, "pids.max", 0, F "pids.limit", "max");
  }
  if (plan_v2_io(r, p, err) < 0)
    return -1;
  for (size_t i = 0; i < r->n_hugepage_limits; i++) {
    const struct berth_spec_hugepage_limit *h = &r->hugepage_limits[i];
    if (cg_plan_check_page_size(h->page_size, i, err) < 0)
      return -1;
    snprintf(field, sizeof field, F "hugepageLimits[%zu]", i);
    snprintf(file, sizeof file, "hugetlb.%s.max", h->page_size);
    cg_plan_add(p, BERTH_CGROUP_CTL_HUGETLB, file, 0, field, "%" PRIu64, h->limit);
  }
  if (r->network.class_id.set || r->network.n_priorities > 0)
    cg_plan_warn(p, BERTH_CGROUP_CTL_NET_CLS,
                 F "network: cgroup v2 has no net_cls/net_prio (classID, priorities); ignored");
  cg_plan_rdma(r, p);
  for (size_t i = 0; i < r->n_unified; i++) {
    enum berth_cgroup_ctl ctl = (enum berth_cgroup_ctl) 0; /* set by unified_ctl on success */
    if (unified_ctl(r->unified_keys[i], &ctl, err) < 0)
      return -1;
    snprintf(field, sizeof field, F "unified.%s", r->unified_keys[i]);
    cg_plan_add(p, ctl, r->unified_keys[i], BERTH_CGROUP_W_REQUIRED, field, "%s", r->unified_values[i]);
  }
  return 0;
}

int berth_cgroup_plan_v2(const struct berth_spec_resources *r, struct berth_cgroup_plan *out,
                         berth_error_t *err)
{
  struct berth_cgroup_plan p = { 0 };
  if (r->cpu.cpus && r->cpu.cpus[0])
    cg_plan_add(&p, BERTH_CGROUP_CTL_CPUSET, "cpuset.cpus", 0, F "cpu.cpus", "%s", r->cpu.cpus);
  if (r->cpu.mems && r->cpu.mems[0])
    cg_plan_add(&p, BERTH_CGROUP_CTL_CPUSET, "cpuset.mems", 0, F "cpu.mems", "%s", r->cpu.mems);
  for (size_t i = 0; i < r->n_devices; i++)
    if (r->devices[i].type != 'a' && r->devices[i].type != 'c' && r->devices[i].type != 'b') {
      BERTH_ERR(err, F "devices[%zu].type: unknown device type `%c` (expected a, c or b)", i,
                r->devices[i].type);
      goto fail;
    }
  if (r->n_devices > 0) {
    p.devices = r->devices;
    p.n_devices = r->n_devices;
  }
  if (plan_v2_memory(r, &p, err) < 0 || plan_v2_cpu(r, &p, err) < 0 || plan_v2_rest(r, &p, err) < 0)
    goto fail;
  *out = p;
  return 0;
fail:
  berth_cgroup_plan_free(&p);
  return -1;
}
