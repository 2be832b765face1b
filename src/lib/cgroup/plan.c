/* The cgroup v1 planner and the helpers both planners share. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "base/xalloc.h"
#include "cgroup/plan.h"

#define F "linux.resources."

void cg_plan_add(struct berth_cgroup_plan *p, enum berth_cgroup_ctl ctl, const char *file, unsigned flags,
                 const char *field, const char *fmt, ...)
{
  p->w = xreallocarray(p->w, p->n + 1, sizeof *p->w);
  struct berth_cgroup_write *w = &p->w[p->n++];
  struct berth_strbuf b = BERTH_STRBUF_INIT;
  va_list ap;
  va_start(ap, fmt);
  berth_strbuf_vprintf(&b, fmt, ap);
  va_end(ap);
  *w = (struct berth_cgroup_write){ .ctl = ctl,
                                    .file = xstrdup(file),
                                    .value = berth_strbuf_detach(&b),
                                    .field = xstrdup(field),
                                    .flags = flags };
}

void cg_plan_warn(struct berth_cgroup_plan *p, enum berth_cgroup_ctl ctl, const char *fmt, ...)
{
  p->warnings = xreallocarray(p->warnings, p->n_warnings + 1, sizeof *p->warnings);
  struct berth_strbuf b = BERTH_STRBUF_INIT;
  va_list ap;
  va_start(ap, fmt);
  berth_strbuf_vprintf(&b, fmt, ap);
  va_end(ap);
  p->warnings[p->n_warnings++] =
    (struct berth_cgroup_plan_warning){ .ctl = ctl, .msg = berth_strbuf_detach(&b) };
}

void berth_cgroup_plan_free(struct berth_cgroup_plan *p)
{
  for (size_t i = 0; i < p->n; i++) {
    free(p->w[i].file);
    free(p->w[i].alt_file);
    free(p->w[i].value);
    free(p->w[i].field);
  }
  free(p->w);
  for (size_t i = 0; i < p->n_warnings; i++)
    free(p->warnings[i].msg);
  free(p->warnings);
  *p = (struct berth_cgroup_plan){ 0 };
}

static void set_alt(struct berth_cgroup_plan *p, const char *alt) { p->w[p->n - 1].alt_file = xstrdup(alt); }

uint64_t berth_cgroup_shares_to_weight(uint64_t shares)
{
  if (shares == 0)
    return 0;
  if (shares < 2)
    shares = 2;
  if (shares > 262144)
    shares = 262144;
  return 1 + ((shares - 2) * 9999) / 262142;
}

uint64_t berth_cgroup_blkio_to_io_weight(uint64_t weight)
{
  if (weight == 0)
    return 0;
  return 1 + (weight - 10) * 9999 / 990;
}

int cg_plan_check_page_size(const char *size, size_t index, berth_error_t *err)
{
  size_t digits = strspn(size, "0123456789");
  static const char *const units[] = { "KB", "MB", "GB", "TB", "PB" };
  if (digits > 0 && digits < 16 && size[0] != '0')
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
      if (strcmp(size + digits, units[i]) == 0)
        return 0;
  return BERTH_ERR(err, F "hugepageLimits[%zu].pageSize: `%s` is not a page size like \"2MB\" or \"1GB\"",
                   index, size);
}

void cg_plan_rdma(const struct berth_spec_resources *r, struct berth_cgroup_plan *p)
{
  char field[256];
  for (size_t i = 0; i < r->n_rdma; i++) {
    const struct berth_spec_rdma *d = &r->rdma[i];
    if (!d->hca_handles.set && !d->hca_objects.set)
      continue;
    snprintf(field, sizeof field, F "rdma.%s", d->device);
    struct berth_strbuf b = BERTH_STRBUF_INIT;
    berth_strbuf_puts(&b, d->device);
    if (d->hca_handles.set)
      berth_strbuf_printf(&b, " hca_handle=%" PRIu64, d->hca_handles.v);
    if (d->hca_objects.set)
      berth_strbuf_printf(&b, " hca_object=%" PRIu64, d->hca_objects.v);
    cg_plan_add(p, BERTH_CGROUP_CTL_RDMA, "rdma.max", 0, field, "%s", b.buf);
    berth_strbuf_release(&b);
  }
}

/* ---------------- v1 ---------------- */

static void dev_number(char *buf, size_t len, int64_t n)
{
  if (n < 0)
    snprintf(buf, len, "*");
  else
    snprintf(buf, len, "%" PRId64, n);
}

/* "rwm" in canonical order from any subset; NULL or "" means all */
static void device_access(const char *access, char out[4])
{
  size_t k = 0;
  for (const char *c = "rwm"; *c; c++)
    if (access == NULL || *access == '\0' || strchr(access, *c))
      out[k++] = *c;
  out[k] = '\0';
}

static BERTH_WUR int plan_v1_devices(const struct berth_spec_resources *r, struct berth_cgroup_plan *p,
                                     berth_error_t *err)
{
  if (r->n_devices == 0)
    return 0;
  cg_plan_add(p, BERTH_CGROUP_CTL_DEVICES, "devices.deny", 0, F "devices", "a");
  char field[64], maj[24], min[24], acc[4];
  for (size_t i = 0; i < r->n_devices; i++) {
    const struct berth_spec_device_rule *d = &r->devices[i];
    const char *file = d->allow ? "devices.allow" : "devices.deny";
    snprintf(field, sizeof field, F "devices[%zu]", i);
    dev_number(maj, sizeof maj, d->major);
    dev_number(min, sizeof min, d->minor);
    device_access(d->access, acc);
    if (d->type != 'a' && d->type != 'c' && d->type != 'b')
      return BERTH_ERR(err, "%s.type: unknown device type `%c` (expected a, c or b)", field, d->type);
    if (d->type == 'a' && d->major < 0 && d->minor < 0 && strcmp(acc, "rwm") == 0) {
      cg_plan_add(p, BERTH_CGROUP_CTL_DEVICES, file, 0, field, "a");
    } else if (d->type == 'a') {
      /* v1 reads "a ..." as every device whatever follows; spell the narrower rule out */
      cg_plan_add(p, BERTH_CGROUP_CTL_DEVICES, file, 0, field, "c %s:%s %s", maj, min, acc);
      cg_plan_add(p, BERTH_CGROUP_CTL_DEVICES, file, 0, field, "b %s:%s %s", maj, min, acc);
    } else {
      cg_plan_add(p, BERTH_CGROUP_CTL_DEVICES, file, 0, field, "%c %s:%s %s", d->type, maj, min, acc);
    }
  }
  return 0;
}

/* limit/swap/reservation: 0 means unset (runc), -1 unlimited, anything below -1 is an error */
static BERTH_WUR int mem_value(struct berth_opt_i64 o, const char *name, int64_t *out, berth_error_t *err)
{
  *out = o.set ? o.v : 0;
  if (*out < -1)
    return BERTH_ERR(err, F "memory.%s: %" PRId64 " is not a valid limit (bytes, or -1 for unlimited)", name,
                     *out);
  return 0;
}

/* limit and swap after runc's rules; shared by both planners */
static BERTH_WUR int mem_limits(const struct berth_spec_resources *r, int64_t *limit, int64_t *swap,
                                berth_error_t *err)
{
  if (mem_value(r->memory.limit, "limit", limit, err) < 0 || mem_value(r->memory.swap, "swap", swap, err) < 0)
    return -1;
  if (*limit == -1 && *swap == 0)
    *swap = -1; /* unlimited memory without a swap value: memory+swap unlimited too */
  if (*limit > 0 && *swap > 0 && *swap < *limit)
    return BERTH_ERR(err,
                     F "memory.swap: memory+swap (%" PRId64 ") must not be below memory.limit (%" PRId64 ")",
                     *swap, *limit);
  return 0;
}

int cg_plan_mem_limits(const struct berth_spec_resources *r, int64_t *limit, int64_t *swap,
                       berth_error_t *err)
{
  return mem_limits(r, limit, swap, err);
}

static BERTH_WUR int plan_v1_memory(const struct berth_spec_resources *r, struct berth_cgroup_plan *p,
                                    berth_error_t *err)
{
  const enum berth_cgroup_ctl M = BERTH_CGROUP_CTL_MEMORY;
  int64_t limit, swap, reservation;
  if (mem_limits(r, &limit, &swap, err) < 0 ||
      mem_value(r->memory.reservation, "reservation", &reservation, err) < 0)
    return -1;
  /* the limit must stay <= memsw: when raising both, the first write fails with EINVAL and is
   * retried after memsw */
  if (limit != 0)
    cg_plan_add(p, M, "memory.limit_in_bytes", BERTH_CGROUP_W_RETRY, F "memory.limit", "%" PRId64, limit);
  if (swap != 0)
    cg_plan_add(p, M, "memory.memsw.limit_in_bytes", BERTH_CGROUP_W_OPTIONAL, F "memory.swap", "%" PRId64,
                swap);
  if (reservation != 0)
    cg_plan_add(p, M, "memory.soft_limit_in_bytes", 0, F "memory.reservation", "%" PRId64, reservation);
  if (r->memory.kernel.set)
    cg_plan_warn(p, M, F "memory.kernel: kernel memory limits are not enforced by this kernel; ignored");
  if (r->memory.kernel_tcp.set)
    cg_plan_add(p, M, "memory.kmem.tcp.limit_in_bytes", BERTH_CGROUP_W_OPTIONAL, F "memory.kernelTCP",
                "%" PRId64, r->memory.kernel_tcp.v);
  if (r->memory.swappiness.set)
    cg_plan_add(p, M, "memory.swappiness", 0, F "memory.swappiness", "%" PRIu64, r->memory.swappiness.v);
  if (r->memory.has_disable_oom_killer)
    cg_plan_add(p, M, "memory.oom_control", 0, F "memory.disableOOMKiller", "%d",
                r->memory.disable_oom_killer);
  if (r->memory.has_use_hierarchy)
    cg_plan_add(p, M, "memory.use_hierarchy", BERTH_CGROUP_W_BEST_EFFORT, F "memory.useHierarchy", "%d",
                r->memory.use_hierarchy);
  return 0;
}

static BERTH_WUR int plan_v1_cpu(const struct berth_spec_resources *r, struct berth_cgroup_plan *p,
                                 berth_error_t *err)
{
  const enum berth_cgroup_ctl C = BERTH_CGROUP_CTL_CPU;
  if (r->cpu.shares.set && r->cpu.shares.v != 0)
    cg_plan_add(p, C, "cpu.shares", 0, F "cpu.shares", "%" PRIu64, r->cpu.shares.v);
  /* a smaller period can be refused for the old quota: retried after the quota */
  if (r->cpu.period.set && r->cpu.period.v != 0)
    cg_plan_add(p, C, "cpu.cfs_period_us", BERTH_CGROUP_W_RETRY, F "cpu.period", "%" PRIu64, r->cpu.period.v);
  if (r->cpu.quota.set && r->cpu.quota.v != 0) {
    if (r->cpu.quota.v < -1)
      return BERTH_ERR(err, F "cpu.quota: %" PRId64 " is not valid (microseconds, or -1 for no limit)",
                       r->cpu.quota.v);
    cg_plan_add(p, C, "cpu.cfs_quota_us", 0, F "cpu.quota", "%" PRId64, r->cpu.quota.v);
  }
  if (r->cpu.burst.set)
    cg_plan_add(p, C, "cpu.cfs_burst_us", BERTH_CGROUP_W_OPTIONAL, F "cpu.burst", "%" PRIu64, r->cpu.burst.v);
  if (r->cpu.realtime_period.set && r->cpu.realtime_period.v != 0)
    cg_plan_add(p, C, "cpu.rt_period_us", BERTH_CGROUP_W_OPTIONAL, F "cpu.realtimePeriod", "%" PRIu64,
                r->cpu.realtime_period.v);
  if (r->cpu.realtime_runtime.set)
    cg_plan_add(p, C, "cpu.rt_runtime_us", BERTH_CGROUP_W_OPTIONAL, F "cpu.realtimeRuntime", "%" PRId64,
                r->cpu.realtime_runtime.v);
  if (r->cpu.idle.set) {
    if (r->cpu.idle.v != 0 && r->cpu.idle.v != 1)
      return BERTH_ERR(err, F "cpu.idle: %" PRId64 " is not 0 or 1", r->cpu.idle.v);
    cg_plan_add(p, C, "cpu.idle", BERTH_CGROUP_W_OPTIONAL, F "cpu.idle", "%" PRId64, r->cpu.idle.v);
  }
  return 0;
}

int cg_plan_check_weight(const char *field, uint64_t w, berth_error_t *err)
{
  if (w < 10 || w > 1000)
    return BERTH_ERR(err, "%s: %" PRIu64 " is out of range [10, 1000]", field, w);
  return 0;
}

static void plan_v1_throttle(struct berth_cgroup_plan *p, const char *name, const char *file,
                             const struct berth_spec_throttle_device *t, size_t n)
{
  char field[96];
  for (size_t i = 0; i < n; i++) {
    snprintf(field, sizeof field, F "blockIO.%s[%zu]", name, i);
    cg_plan_add(p, BERTH_CGROUP_CTL_BLKIO, file, BERTH_CGROUP_W_OPTIONAL, field,
                "%" PRId64 ":%" PRId64 " %" PRIu64, t[i].major, t[i].minor, t[i].rate);
  }
}

static BERTH_WUR int plan_v1_blkio(const struct berth_spec_resources *r, struct berth_cgroup_plan *p,
                                   berth_error_t *err)
{
  const enum berth_cgroup_ctl B = BERTH_CGROUP_CTL_BLKIO;
  const unsigned O = BERTH_CGROUP_W_OPTIONAL;
  __typeof__(r->block_io) const *b = &r->block_io;
  if (b->weight.set && b->weight.v != 0) {
    if (cg_plan_check_weight(F "blockIO.weight", b->weight.v, err) < 0)
      return -1;
    cg_plan_add(p, B, "blkio.weight", O, F "blockIO.weight", "%" PRIu64, b->weight.v);
    set_alt(p, "blkio.bfq.weight");
  }
  if (b->leaf_weight.set && b->leaf_weight.v != 0) {
    if (cg_plan_check_weight(F "blockIO.leafWeight", b->leaf_weight.v, err) < 0)
      return -1;
    cg_plan_add(p, B, "blkio.leaf_weight", O, F "blockIO.leafWeight", "%" PRIu64, b->leaf_weight.v);
  }
  char field[96];
  for (size_t i = 0; i < b->n_weight_device; i++) {
    const struct berth_spec_weight_device *d = &b->weight_device[i];
    snprintf(field, sizeof field, F "blockIO.weightDevice[%zu]", i);
    if ((d->weight.set && cg_plan_check_weight(field, d->weight.v, err) < 0) ||
        (d->leaf_weight.set && cg_plan_check_weight(field, d->leaf_weight.v, err) < 0))
      return -1;
    if (d->weight.set) {
      cg_plan_add(p, B, "blkio.weight_device", O, field, "%" PRId64 ":%" PRId64 " %" PRIu64, d->major,
                  d->minor, d->weight.v);
      set_alt(p, "blkio.bfq.weight_device");
    }
    if (d->leaf_weight.set)
      cg_plan_add(p, B, "blkio.leaf_weight_device", O, field, "%" PRId64 ":%" PRId64 " %" PRIu64, d->major,
                  d->minor, d->leaf_weight.v);
  }
  plan_v1_throttle(p, "throttleReadBpsDevice", "blkio.throttle.read_bps_device", b->throttle_read_bps,
                   b->n_throttle_read_bps);
  plan_v1_throttle(p, "throttleWriteBpsDevice", "blkio.throttle.write_bps_device", b->throttle_write_bps,
                   b->n_throttle_write_bps);
  plan_v1_throttle(p, "throttleReadIOPSDevice", "blkio.throttle.read_iops_device", b->throttle_read_iops,
                   b->n_throttle_read_iops);
  plan_v1_throttle(p, "throttleWriteIOPSDevice", "blkio.throttle.write_iops_device", b->throttle_write_iops,
                   b->n_throttle_write_iops);
  return 0;
}

static BERTH_WUR int plan_v1_misc(const struct berth_spec_resources *r, struct berth_cgroup_plan *p,
                                  berth_error_t *err)
{
  char field[96], file[128];
  for (size_t i = 0; i < r->n_hugepage_limits; i++) {
    const struct berth_spec_hugepage_limit *h = &r->hugepage_limits[i];
    if (cg_plan_check_page_size(h->page_size, i, err) < 0)
      return -1;
    snprintf(field, sizeof field, F "hugepageLimits[%zu]", i);
    snprintf(file, sizeof file, "hugetlb.%s.limit_in_bytes", h->page_size);
    cg_plan_add(p, BERTH_CGROUP_CTL_HUGETLB, file, 0, field, "%" PRIu64, h->limit);
  }
  if (r->network.class_id.set)
    cg_plan_add(p, BERTH_CGROUP_CTL_NET_CLS, "net_cls.classid", 0, F "network.classID", "%" PRIu64,
                r->network.class_id.v);
  for (size_t i = 0; i < r->network.n_priorities; i++) {
    snprintf(field, sizeof field, F "network.priorities[%zu]", i);
    cg_plan_add(p, BERTH_CGROUP_CTL_NET_PRIO, "net_prio.ifpriomap", 0, field, "%s %" PRIu32,
                r->network.priorities[i].name, r->network.priorities[i].priority);
  }
  cg_plan_rdma(r, p);
  return 0;
}

int berth_cgroup_plan_v1(const struct berth_spec_resources *r, struct berth_cgroup_plan *out,
                         berth_error_t *err)
{
  struct berth_cgroup_plan p = { 0 };
  if (r->n_unified > 0) {
    BERTH_ERR(err, F "unified.%s: cgroup v2 settings cannot be applied on cgroup v1", r->unified_keys[0]);
    goto fail;
  }
  if (r->cpu.cpus && r->cpu.cpus[0])
    cg_plan_add(&p, BERTH_CGROUP_CTL_CPUSET, "cpuset.cpus", 0, F "cpu.cpus", "%s", r->cpu.cpus);
  if (r->cpu.mems && r->cpu.mems[0])
    cg_plan_add(&p, BERTH_CGROUP_CTL_CPUSET, "cpuset.mems", 0, F "cpu.mems", "%s", r->cpu.mems);
  if (plan_v1_devices(r, &p, err) < 0 || plan_v1_memory(r, &p, err) < 0 || plan_v1_cpu(r, &p, err) < 0)
    goto fail;
  if (r->pids.present) {
    if (r->pids.limit > 0)
      cg_plan_add(&p, BERTH_CGROUP_CTL_PIDS, "pids.max", 0, F "pids.limit", "%" PRId64, r->pids.limit);
    else
      cg_plan_add(&p, BERTH_CGROUP_CTL_PIDS, "pids.max", 0, F "pids.limit", "max");
  }
  if (plan_v1_blkio(r, &p, err) < 0 || plan_v1_misc(r, &p, err) < 0)
    goto fail;
  *out = p;
  return 0;
fail:
  berth_cgroup_plan_free(&p);
  return -1;
}
