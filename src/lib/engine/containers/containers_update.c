/* `berth update` (issue 16): a container's resources and restart policy. The runtime's `update`
 * changes a running container's cgroup (runc's flags, which berth-runtime takes too); the
 * HostConfig row and the bundle's config.json get the new values, so that the next start has
 * them; a restart policy is read from the row at every exit, so it applies at once. */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/containers/containers_internal.h"

static bool given(char *const *flags, const char *flag)
{
  for (char *const *f = flags; f && *f; f++)
    if (strcmp(*f, flag) == 0)
      return true;
  return false;
}

static void arg(char ***v, const char *flag, int64_t n)
{
  char num[32];
  snprintf(num, sizeof num, "%" PRId64, n);
  *v = berth_strv_append(berth_strv_append(*v, flag), num);
}

/* the runtime's `update` flags (runc's names), HostConfig's keys, config.json's resources */
static void plan(const struct berth_ctr_update_in *in, json_t *hc, json_t *res, char ***rt)
{
  const struct berth_run_opts *o = in->opts;
  json_t *mem = json_object_get(res, "memory"), *cpu = json_object_get(res, "cpu");
  if (given(in->given, "--memory")) {
    arg(rt, "--memory", o->memory);
    json_object_set_new(hc, "Memory", json_integer(o->memory));
    json_object_set_new(mem, "limit", json_integer(o->memory));
  }
  if (given(in->given, "--memory-swap")) {
    arg(rt, "--memory-swap", o->memory_swap);
    json_object_set_new(hc, "MemorySwap", json_integer(o->memory_swap));
    json_object_set_new(mem, "swap", json_integer(o->memory_swap));
  }
  if (given(in->given, "--memory-reservation")) {
    arg(rt, "--memory-reservation", o->memory_reservation);
    json_object_set_new(hc, "MemoryReservation", json_integer(o->memory_reservation));
    json_object_set_new(mem, "reservation", json_integer(o->memory_reservation));
  }
  if (given(in->given, "--cpu-shares")) {
    arg(rt, "--cpu-share", (int64_t) o->cpu_shares);
    json_object_set_new(hc, "CpuShares", json_integer((json_int_t) o->cpu_shares));
    json_object_set_new(cpu, "shares", json_integer((json_int_t) o->cpu_shares));
  }
  int64_t quota = o->cpu_quota, period = (int64_t) o->cpu_period;
  if (given(in->given, "--cpus")) { /* NanoCpus: a quota over Docker's 100 ms period */
    quota = o->nano_cpus / 10000;
    period = 100000;
    json_object_set_new(hc, "NanoCpus", json_integer(o->nano_cpus));
  }
  if (given(in->given, "--cpus") || given(in->given, "--cpu-quota")) {
    arg(rt, "--cpu-quota", quota);
    json_object_set_new(cpu, "quota", json_integer(quota));
    if (!given(in->given, "--cpus"))
      json_object_set_new(hc, "CpuQuota", json_integer(quota));
  }
  if (given(in->given, "--cpus") || given(in->given, "--cpu-period")) {
    arg(rt, "--cpu-period", period);
    json_object_set_new(cpu, "period", json_integer(period));
    if (!given(in->given, "--cpus"))
      json_object_set_new(hc, "CpuPeriod", json_integer(period));
  }
  if (given(in->given, "--cpu-rt-period")) {
    arg(rt, "--cpu-rt-period", (int64_t) o->cpu_rt_period);
    json_object_set_new(hc, "CpuRealtimePeriod", json_integer((json_int_t) o->cpu_rt_period));
    json_object_set_new(cpu, "realtimePeriod", json_integer((json_int_t) o->cpu_rt_period));
  }
  if (given(in->given, "--cpu-rt-runtime")) {
    arg(rt, "--cpu-rt-runtime", o->cpu_rt_runtime);
    json_object_set_new(hc, "CpuRealtimeRuntime", json_integer(o->cpu_rt_runtime));
    json_object_set_new(cpu, "realtimeRuntime", json_integer(o->cpu_rt_runtime));
  }
  const struct {
    const char *flag, *key, *oci;
    const char *value;
  } sets[] = { { "--cpuset-cpus", "CpusetCpus", "cpus", o->cpuset_cpus },
               { "--cpuset-mems", "CpusetMems", "mems", o->cpuset_mems } };
  for (size_t i = 0; i < BERTH_N_ELEMENTS(sets); i++)
    if (given(in->given, sets[i].flag)) {
      *rt = berth_strv_append(berth_strv_append(*rt, sets[i].flag), sets[i].value ? sets[i].value : "");
      json_object_set_new(hc, sets[i].key, json_string(sets[i].value ? sets[i].value : ""));
      json_object_set_new(cpu, sets[i].oci, json_string(sets[i].value ? sets[i].value : ""));
    }
  if (given(in->given, "--pids-limit")) {
    int64_t lim = o->pids_limit > 0 ? o->pids_limit : -1;
    arg(rt, "--pids-limit", lim);
    json_object_set_new(hc, "PidsLimit", o->pids_limit > 0 ? json_integer(lim) : json_null());
    json_object_set_new(res, "pids", json_pack("{s:I}", "limit", (json_int_t) lim));
  }
  if (given(in->given, "--blkio-weight")) {
    arg(rt, "--blkio-weight", o->blkio_weight);
    json_object_set_new(hc, "BlkioWeight", json_integer(o->blkio_weight));
    json_object_set_new(res, "blockIO", json_pack("{s:i}", "weight", (int) o->blkio_weight));
  }
}

static const char *restart_name(enum berth_restart_policy p)
{
  return p == BERTH_RESTART_ALWAYS           ? "always"
         : p == BERTH_RESTART_UNLESS_STOPPED ? "unless-stopped"
         : p == BERTH_RESTART_ON_FAILURE     ? "on-failure"
                                             : "no";
}

/* config.json's linux.resources, with memory and cpu objects to set into */
static BERTH_WUR json_t *read_spec(const char *path, json_t **res, berth_error_t *err)
{
  json_error_t je;
  json_t *spec = json_load_file(path, 0, &je);
  if (spec == NULL) {
    BERTH_ERR(err, "read `%s`: %s", path, je.text);
    return NULL;
  }
  json_t *lx = json_object_get(spec, "linux");
  if (!json_is_object(lx))
    json_object_set_new(spec, "linux", lx = json_object());
  *res = json_object_get(lx, "resources");
  if (!json_is_object(*res))
    json_object_set_new(lx, "resources", *res = json_object());
  if (!json_is_object(json_object_get(*res, "memory")))
    json_object_set_new(*res, "memory", json_object());
  if (!json_is_object(json_object_get(*res, "cpu")))
    json_object_set_new(*res, "cpu", json_object());
  return spec;
}

static BERTH_WUR int write_json(const char *path, json_t *v, berth_error_t *err)
{
  char *text = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
  if (text == NULL)
    berth_oom();
  int r = berth_write_file_atomic(path, text, strlen(text), 0644, err);
  free(text);
  return r;
}

static BERTH_WUR int update_loaded(struct berth_engine *e, struct berth_ctr *c,
                                   const struct berth_ctr_update_in *in, berth_error_t *err)
{
  if (given(in->given, "--restart") && json_is_true(json_object_get(c->host_config, "AutoRemove")) &&
      in->opts->restart != BERTH_RESTART_NO)
    return BERTH_ERR(err, "restart policy cannot be updated because AutoRemove is enabled for the container");
  cleanup_free char *spec_path = xasprintf("%s/bundle/config.json", c->dir);
  json_t *res = NULL;
  json_t *spec = read_spec(spec_path, &res, err);
  if (spec == NULL)
    return -1;
  json_t *hc = json_deep_copy(c->host_config);
  cleanup_strv char **rt = xcalloc(1, sizeof(char *));
  plan(in, hc, res, &rt);
  if (given(in->given, "--restart"))
    json_object_set_new(hc, "RestartPolicy",
                        json_pack("{s:s, s:i}", "Name", restart_name(in->opts->restart), "MaximumRetryCount",
                                  in->opts->restart_max_retries));
  int r = 0;
  if (rt[0] && berth_ctr_state_kept(c->state)) { /* the running container's cgroup first */
    cleanup_strv char **tail = berth_strv_append(NULL, "update");
    for (char **a = rt; *a; a++)
      tail = berth_strv_append(tail, *a);
    tail = berth_strv_append(tail, c->row.id);
    r = berth_ctr_runtime_run(e, c, (const char *const *) tail, err);
  }
  cleanup_free char *text = json_dumps(hc, JSON_COMPACT | JSON_PRESERVE_ORDER);
  if (r == 0 && rt[0])
    r = write_json(spec_path, spec, err);
  if (r == 0 && berth_db_begin(e->db, err) == 0) {
    if (berth_db_container_set_host_config(e->db, c->row.id, text, err) < 0 ||
        berth_db_commit(e->db, err) < 0) {
      berth_db_rollback(e->db);
      r = -1;
    }
  } else if (r == 0) {
    r = -1;
  }
  json_decref(hc);
  json_decref(spec);
  return r;
}

int berth_ctr_update(struct berth_engine *e, const char *what, const struct berth_ctr_update_in *in,
                     berth_error_t *err)
{
  struct berth_ctr c;
  if (berth_ctr_get(e, what, &c, err) < 0)
    return -1;
  cleanup_close int lock = ctr_lock(&c, err);
  int r = lock < 0 ? -1 : update_loaded(e, &c, in, err);
  if (r == 0)
    berth_ctr_event(e, &c, "update", NULL);
  berth_ctr_release(&c);
  return r < 0 ? berth_error_wrap(err, "update container `%s`", what) : 0;
}
