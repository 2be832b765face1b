/* linux.resources: every cgroup setting of runtime-spec 1.2, typed and range-checked
 * (applied by cgroup/). */
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "oci/spec_internal.h"

static BERTH_WUR int opt_u64(struct berth_jctx *c, json_t *o, const char *key, uint64_t max,
                             struct berth_opt_u64 *out, berth_error_t *err)
{
  int r = oci_get_u64(c, o, key, max, false, &out->v, err);
  out->set = r == 1;
  return r;
}

static BERTH_WUR int opt_i64(struct berth_jctx *c, json_t *o, const char *key, struct berth_opt_i64 *out,
                             berth_error_t *err)
{
  int r = oci_get_i64(c, o, key, INT64_MIN, INT64_MAX, false, &out->v, err);
  out->set = r == 1;
  return r;
}

static BERTH_WUR int opt_bool(struct berth_jctx *c, json_t *o, const char *key, bool *has, bool *out,
                              berth_error_t *err)
{
  int r = berth_json_get_bool(c, o, key, out, err);
  *has = r == 1;
  return r;
}

/* Parse obj[key] (an array of objects) into a calloc'd array of *n elements of size sz;
 * out is the address of the array pointer (any object pointer type). */
typedef int (*elem_fn)(struct berth_jctx *c, json_t *o, void *elem, berth_error_t *err);

static BERTH_WUR int parse_array(struct berth_jctx *c, json_t *obj, const char *key, size_t sz, elem_fn fn,
                                 void *out, size_t *n, berth_error_t *err)
{
  json_t *arr = NULL;
  int r = berth_json_get_array(c, obj, key, &arr, err);
  if (r <= 0)
    return r;
  *n = json_array_size(arr);
  char *elems = xcalloc(*n + 1, sz);
  memcpy(out, &elems, sizeof elems);
  size_t m = berth_jctx_push_key(c, key);
  for (size_t i = 0; i < *n; i++) {
    size_t mi = berth_jctx_push_index(c, i);
    json_t *o = json_array_get(arr, i);
    if (oci_expect_object(c, o, err) < 0 || fn(c, o, elems + i * sz, err) < 0)
      return -1;
    berth_jctx_pop(c, mi);
  }
  berth_jctx_pop(c, m);
  return 1;
}

static BERTH_WUR int device_rule(struct berth_jctx *c, json_t *o, void *elem, berth_error_t *err)
{
  struct berth_spec_device_rule *d = elem;
  const char *type = NULL;
  int r = berth_json_get_bool(c, o, "allow", &d->allow, err);
  if (r < 0)
    return -1;
  if (r == 0)
    return oci_required(c, "allow", err);
  if (berth_json_get_string(c, o, "type", &type, err) < 0)
    return -1;
  d->type = 'a';
  if (type && type[0]) {
    if (strlen(type) != 1 || strchr("acb", type[0]) == NULL)
      return berth_jctx_error(c, "type", err, "unknown device type \"%s\" (expected a, c or b)", type);
    d->type = type[0];
  }
  d->major = d->minor = -1;
  if (oci_get_i64(c, o, "major", -1, UINT32_MAX, false, &d->major, err) < 0 ||
      oci_get_i64(c, o, "minor", -1, UINT32_MAX, false, &d->minor, err) < 0 ||
      berth_json_get_string(c, o, "access", &d->access, err) < 0)
    return -1;
  if (d->access && d->access[strspn(d->access, "rwm")] != '\0')
    return berth_jctx_error(c, "access", err, "`%s` is not a subset of \"rwm\"", d->access);
  return 0;
}

static BERTH_WUR int major_minor(struct berth_jctx *c, json_t *o, int64_t *major, int64_t *minor,
                                 berth_error_t *err)
{
  if (oci_get_i64(c, o, "major", 0, UINT32_MAX, true, major, err) < 0 ||
      oci_get_i64(c, o, "minor", 0, UINT32_MAX, true, minor, err) < 0)
    return -1;
  return 0;
}

static BERTH_WUR int weight_device(struct berth_jctx *c, json_t *o, void *elem, berth_error_t *err)
{
  struct berth_spec_weight_device *w = elem;
  if (major_minor(c, o, &w->major, &w->minor, err) < 0 ||
      opt_u64(c, o, "weight", UINT16_MAX, &w->weight, err) < 0 ||
      opt_u64(c, o, "leafWeight", UINT16_MAX, &w->leaf_weight, err) < 0)
    return -1;
  return 0;
}

static BERTH_WUR int throttle_device(struct berth_jctx *c, json_t *o, void *elem, berth_error_t *err)
{
  struct berth_spec_throttle_device *t = elem;
  if (major_minor(c, o, &t->major, &t->minor, err) < 0 ||
      oci_get_u64(c, o, "rate", UINT64_MAX, true, &t->rate, err) < 0)
    return -1;
  return 0;
}

static BERTH_WUR int hugepage_limit(struct berth_jctx *c, json_t *o, void *elem, berth_error_t *err)
{
  struct berth_spec_hugepage_limit *h = elem;
  if (oci_get_string(c, o, "pageSize", true, &h->page_size, err) < 0 ||
      oci_get_u64(c, o, "limit", UINT64_MAX, true, &h->limit, err) < 0)
    return -1;
  return 0;
}

static BERTH_WUR int net_priority(struct berth_jctx *c, json_t *o, void *elem, berth_error_t *err)
{
  struct berth_spec_net_priority *p = elem;
  if (oci_get_string(c, o, "name", true, &p->name, err) < 0 ||
      oci_get_u32(c, o, "priority", true, &p->priority, err) < 0)
    return -1;
  return 0;
}

static BERTH_WUR int parse_memory(struct berth_jctx *c, json_t *res, struct berth_spec_resources *r,
                                  berth_error_t *err)
{
  json_t *o = NULL;
  int got = berth_json_get_object(c, res, "memory", &o, err);
  if (got <= 0)
    return got;
  size_t m = berth_jctx_push_key(c, "memory");
  if (opt_i64(c, o, "limit", &r->memory.limit, err) < 0 ||
      opt_i64(c, o, "reservation", &r->memory.reservation, err) < 0 ||
      opt_i64(c, o, "swap", &r->memory.swap, err) < 0 ||
      opt_i64(c, o, "kernel", &r->memory.kernel, err) < 0 ||
      opt_i64(c, o, "kernelTCP", &r->memory.kernel_tcp, err) < 0 ||
      opt_u64(c, o, "swappiness", 100, &r->memory.swappiness, err) < 0 ||
      opt_bool(c, o, "disableOOMKiller", &r->memory.has_disable_oom_killer, &r->memory.disable_oom_killer,
               err) < 0 ||
      opt_bool(c, o, "useHierarchy", &r->memory.has_use_hierarchy, &r->memory.use_hierarchy, err) < 0 ||
      opt_bool(c, o, "checkBeforeUpdate", &r->memory.has_check_before_update, &r->memory.check_before_update,
               err) < 0)
    return -1;
  berth_jctx_pop(c, m);
  return 0;
}

static BERTH_WUR int parse_cpu(struct berth_jctx *c, json_t *res, struct berth_spec_resources *r,
                               berth_error_t *err)
{
  json_t *o = NULL;
  int got = berth_json_get_object(c, res, "cpu", &o, err);
  if (got <= 0)
    return got;
  size_t m = berth_jctx_push_key(c, "cpu");
  if (opt_u64(c, o, "shares", UINT64_MAX, &r->cpu.shares, err) < 0 ||
      opt_i64(c, o, "quota", &r->cpu.quota, err) < 0 ||
      opt_u64(c, o, "burst", UINT64_MAX, &r->cpu.burst, err) < 0 ||
      opt_u64(c, o, "period", UINT64_MAX, &r->cpu.period, err) < 0 ||
      opt_i64(c, o, "realtimeRuntime", &r->cpu.realtime_runtime, err) < 0 ||
      opt_u64(c, o, "realtimePeriod", UINT64_MAX, &r->cpu.realtime_period, err) < 0 ||
      berth_json_get_string(c, o, "cpus", &r->cpu.cpus, err) < 0 ||
      berth_json_get_string(c, o, "mems", &r->cpu.mems, err) < 0 ||
      opt_i64(c, o, "idle", &r->cpu.idle, err) < 0)
    return -1;
  berth_jctx_pop(c, m);
  return 0;
}

static BERTH_WUR int parse_block_io(struct berth_jctx *c, json_t *res, struct berth_spec_resources *r,
                                    berth_error_t *err)
{
  json_t *o = NULL;
  int got = berth_json_get_object(c, res, "blockIO", &o, err);
  if (got <= 0)
    return got;
  size_t m = berth_jctx_push_key(c, "blockIO");
  __typeof__(r->block_io) *b = &r->block_io;
  size_t tsz = sizeof(struct berth_spec_throttle_device);
  if (opt_u64(c, o, "weight", UINT16_MAX, &b->weight, err) < 0 ||
      opt_u64(c, o, "leafWeight", UINT16_MAX, &b->leaf_weight, err) < 0 ||
      parse_array(c, o, "weightDevice", sizeof *b->weight_device, weight_device, &b->weight_device,
                  &b->n_weight_device, err) < 0 ||
      parse_array(c, o, "throttleReadBpsDevice", tsz, throttle_device, &b->throttle_read_bps,
                  &b->n_throttle_read_bps, err) < 0 ||
      parse_array(c, o, "throttleWriteBpsDevice", tsz, throttle_device, &b->throttle_write_bps,
                  &b->n_throttle_write_bps, err) < 0 ||
      parse_array(c, o, "throttleReadIOPSDevice", tsz, throttle_device, &b->throttle_read_iops,
                  &b->n_throttle_read_iops, err) < 0 ||
      parse_array(c, o, "throttleWriteIOPSDevice", tsz, throttle_device, &b->throttle_write_iops,
                  &b->n_throttle_write_iops, err) < 0)
    return -1;
  berth_jctx_pop(c, m);
  return 0;
}

static BERTH_WUR int parse_network(struct berth_jctx *c, json_t *res, struct berth_spec_resources *r,
                                   berth_error_t *err)
{
  json_t *o = NULL;
  int got = berth_json_get_object(c, res, "network", &o, err);
  if (got <= 0)
    return got;
  size_t m = berth_jctx_push_key(c, "network");
  if (opt_u64(c, o, "classID", UINT32_MAX, &r->network.class_id, err) < 0 ||
      parse_array(c, o, "priorities", sizeof *r->network.priorities, net_priority, &r->network.priorities,
                  &r->network.n_priorities, err) < 0)
    return -1;
  berth_jctx_pop(c, m);
  return 0;
}

static BERTH_WUR int parse_pids_rdma(struct berth_jctx *c, json_t *res, struct berth_spec_resources *r,
                                     berth_error_t *err)
{
  json_t *o = NULL;
  int got = berth_json_get_object(c, res, "pids", &o, err);
  if (got < 0)
    return -1;
  if (got == 1) {
    size_t m = berth_jctx_push_key(c, "pids");
    if (oci_get_i64(c, o, "limit", INT64_MIN, INT64_MAX, true, &r->pids.limit, err) < 0)
      return -1;
    berth_jctx_pop(c, m);
    r->pids.present = true;
  }
  if ((got = berth_json_get_object(c, res, "rdma", &o, err)) <= 0)
    return got;
  size_t m = berth_jctx_push_key(c, "rdma");
  r->rdma = xcalloc(json_object_size(o) + 1, sizeof *r->rdma);
  const char *dev;
  json_t *v;
  json_object_foreach (o, dev, v) {
    struct berth_spec_rdma *rd = &r->rdma[r->n_rdma++];
    rd->device = dev;
    size_t md = berth_jctx_push_key(c, dev);
    if (oci_expect_object(c, v, err) < 0 ||
        opt_u64(c, v, "hcaHandles", UINT32_MAX, &rd->hca_handles, err) < 0 ||
        opt_u64(c, v, "hcaObjects", UINT32_MAX, &rd->hca_objects, err) < 0)
      return -1;
    berth_jctx_pop(c, md);
  }
  berth_jctx_pop(c, m);
  return 0;
}

int oci_parse_resources(struct berth_jctx *c, json_t *obj, struct berth_spec_resources *r, berth_error_t *err)
{
  r->present = true;
  r->json = obj;
  if (parse_array(c, obj, "devices", sizeof *r->devices, device_rule, &r->devices, &r->n_devices, err) < 0 ||
      parse_memory(c, obj, r, err) < 0 || parse_cpu(c, obj, r, err) < 0 ||
      parse_pids_rdma(c, obj, r, err) < 0 || parse_block_io(c, obj, r, err) < 0 ||
      parse_array(c, obj, "hugepageLimits", sizeof *r->hugepage_limits, hugepage_limit, &r->hugepage_limits,
                  &r->n_hugepage_limits, err) < 0 ||
      parse_network(c, obj, r, err) < 0 ||
      berth_json_get_string_map(c, obj, "unified", &r->unified_keys, &r->unified_values, &r->n_unified, err) <
        0)
    return -1;
  return 0;
}

void oci_resources_free(struct berth_spec_resources *r)
{
  free(r->devices);
  free(r->block_io.weight_device);
  free(r->block_io.throttle_read_bps);
  free(r->block_io.throttle_write_bps);
  free(r->block_io.throttle_read_iops);
  free(r->block_io.throttle_write_iops);
  free(r->hugepage_limits);
  free(r->network.priorities);
  free(r->rdma);
  free(r->unified_keys);
  free(r->unified_values);
}

int berth_spec_parse_resources(json_t *obj, const char *file, struct berth_spec_resources *out,
                               berth_error_t *err)
{
  struct berth_jctx c;
  berth_jctx_init(&c, file);
  memset(out, 0, sizeof *out);
  if (oci_expect_object(&c, obj, err) < 0)
    return -1;
  if (oci_parse_resources(&c, obj, out, err) < 0) {
    oci_resources_free(out);
    memset(out, 0, sizeof *out);
    return -1;
  }
  return 0;
}

void berth_spec_resources_free(struct berth_spec_resources *r)
{
  oci_resources_free(r);
  memset(r, 0, sizeof *r);
}
