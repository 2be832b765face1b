/* The "linux" object of a container's config: namespaces per --network/--pid/--ipc/--uts/
 * --cgroupns, resources, devices, sysctls, the seccomp profile for the final capability set,
 * Docker's masked and read-only paths. */
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/runspec/runspec.h"
#include "engine/runspec/ctrspec_internal.h"

static const char *const masked_paths[] = {
  "/proc/asound",
  "/proc/acpi",
  "/proc/kcore",
  "/proc/keys",
  "/proc/latency_stats",
  "/proc/timer_list",
  "/proc/timer_stats",
  "/proc/sched_debug",
  "/proc/scsi",
  "/sys/firmware",
  "/sys/devices/virtual/powercap",
  NULL,
};
static const char *const readonly_paths[] = {
  "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL,
};

int ctrspec_container_pid(struct ctrspec_build *b, const char *flag, const char *name, pid_t *pid,
                          berth_error_t *err)
{
  const struct berth_ctrspec_callbacks *cb = b->in->cb;
  if (cb == NULL || cb->container_pid == NULL)
    return BERTH_ERR(err, "%s container:%s: no container lookup", flag, name);
  if (cb->container_pid(cb->data, name, pid, err) < 0)
    return berth_error_wrap(err, "%s container:%s", flag, name);
  return 0;
}

/* ---------------- namespaces ---------------- */

static BERTH_WUR int add_ns(struct ctrspec_build *b, json_t *arr, const char *type, const char *proc_name,
                            const char *flag, const struct berth_ns_opt *ns, berth_error_t *err)
{
  if (ns->mode == BERTH_NSMODE_HOST)
    return 0; /* the host's: not listed */
  json_t *o = json_object();
  json_object_set_new(o, "type", json_string(type));
  if (ns->mode == BERTH_NSMODE_CONTAINER) {
    pid_t pid = 0;
    if (ctrspec_container_pid(b, flag, ns->value, &pid, err) < 0) {
      json_decref(o);
      return -1;
    }
    cleanup_free char *path = xasprintf("/proc/%d/ns/%s", (int) pid, proc_name);
    json_object_set_new(o, "path", json_string(path));
  } else if (ns->mode == BERTH_NSMODE_PATH) {
    json_object_set_new(o, "path", json_string(ns->value));
  } else if ((ns->mode == BERTH_NSMODE_BRIDGE || ns->mode == BERTH_NSMODE_DEFAULT) && b->in->netns_path &&
             strcmp(type, "network") == 0) {
    json_object_set_new(o, "path", json_string(b->in->netns_path));
  }
  json_array_append_new(arr, o);
  return 0;
}

static BERTH_WUR int namespaces(struct ctrspec_build *b, json_t *lx, berth_error_t *err)
{
  const struct berth_run_opts *o = b->o;
  json_t *arr = json_array();
  json_object_set_new(lx, "namespaces", arr);
  struct berth_ns_opt mnt = { BERTH_NSMODE_PRIVATE, NULL }, cg = o->cgroupns;
  if (cg.mode == BERTH_NSMODE_DEFAULT) /* Docker: private on cgroup v2, host on v1 */
    cg.mode = b->in->host->cgroup_v2 ? BERTH_NSMODE_PRIVATE : BERTH_NSMODE_HOST;
  if (add_ns(b, arr, "mount", "mnt", "", &mnt, err) < 0 ||
      add_ns(b, arr, "network", "net", "--network", &o->network, err) < 0 ||
      add_ns(b, arr, "uts", "uts", "--uts", &o->uts, err) < 0 ||
      add_ns(b, arr, "pid", "pid", "--pid", &o->pid, err) < 0 ||
      add_ns(b, arr, "ipc", "ipc", "--ipc", &o->ipc, err) < 0 ||
      add_ns(b, arr, "cgroup", "cgroup", "--cgroupns", &cg, err) < 0)
    return -1;
  return 0;
}

/* ---------------- devices ---------------- */

static json_t *dev_rule(bool allow, const char *type, int64_t major, int64_t minor, const char *access)
{
  json_t *r = json_object();
  json_object_set_new(r, "allow", json_boolean(allow));
  if (type != NULL)
    json_object_set_new(r, "type", json_string(type));
  if (major >= 0)
    json_object_set_new(r, "major", json_integer(major));
  if (minor >= 0)
    json_object_set_new(r, "minor", json_integer(minor));
  json_object_set_new(r, "access", json_string(access));
  return r;
}

static json_t *device_json(const struct berth_host_device *d, const char *path)
{
  char type[2] = { d->type, '\0' };
  json_t *o = json_object();
  json_object_set_new(o, "path", json_string(path));
  json_object_set_new(o, "type", json_string(type));
  json_object_set_new(o, "major", json_integer(d->major));
  json_object_set_new(o, "minor", json_integer(d->minor));
  json_object_set_new(o, "fileMode", json_integer(d->mode & 07777));
  json_object_set_new(o, "uid", json_integer(d->uid));
  json_object_set_new(o, "gid", json_integer(d->gid));
  return o;
}

/* Docker's device cgroup: everything denied, mknod allowed, the standard nodes usable */
static void default_rules(json_t *rules)
{
  static const struct {
    int major, minor;
  } std[] = { { 1, 3 }, { 1, 5 }, { 1, 7 }, { 1, 8 }, { 1, 9 }, { 5, 0 }, { 5, 1 }, { 5, 2 }, { 136, -1 } };
  json_array_append_new(rules, dev_rule(false, NULL, -1, -1, "rwm"));
  json_array_append_new(rules, dev_rule(true, "c", -1, -1, "m"));
  json_array_append_new(rules, dev_rule(true, "b", -1, -1, "m"));
  for (size_t i = 0; i < BERTH_N_ELEMENTS(std); i++)
    json_array_append_new(rules, dev_rule(true, "c", std[i].major, std[i].minor, "rwm"));
}

static BERTH_WUR int devices(struct ctrspec_build *b, json_t *lx, json_t *rules, berth_error_t *err)
{
  const struct berth_run_opts *o = b->o;
  const struct berth_host_facts *h = b->in->host;
  const struct berth_ctrspec_callbacks *cb = b->in->cb;
  json_t *devs = json_array();
  json_object_set_new(lx, "devices", devs);
  if (o->privileged) {
    json_array_append_new(rules, dev_rule(true, NULL, -1, -1, "rwm"));
    for (size_t i = 0; i < h->n_devices; i++)
      json_array_append_new(devs, device_json(&h->devices[i], h->devices[i].path));
  } else {
    default_rules(rules);
  }
  for (size_t i = 0; i < o->n_devices; i++) {
    const struct berth_run_device *d = &o->devices[i];
    struct berth_host_device hd = { 0 };
    if (cb == NULL || cb->device == NULL)
      return BERTH_ERR(err, "--device `%s`: no device lookup", d->host_path);
    if (cb->device(cb->data, d->host_path, &hd, err) < 0)
      return berth_error_wrap(err, "--device `%s`", d->host_path);
    if (hd.type != 'c' && hd.type != 'b')
      return BERTH_ERR(err, "--device `%s`: not a character or block device", d->host_path);
    char type[2] = { hd.type, '\0' };
    json_array_append_new(devs, device_json(&hd, d->container_path));
    if (!o->privileged)
      json_array_append_new(rules, dev_rule(true, type, hd.major, hd.minor, d->perms));
  }
  return 0;
}

/* ---------------- resources ---------------- */

static json_t *resources(struct ctrspec_build *b)
{
  const struct berth_run_opts *o = b->o;
  json_t *r = json_object();
  json_t *mem = json_object();
  if (o->memory > 0)
    json_object_set_new(mem, "limit", json_integer(o->memory));
  if (o->memory_reservation > 0)
    json_object_set_new(mem, "reservation", json_integer(o->memory_reservation));
  if (o->memory_swap != 0)
    json_object_set_new(mem, "swap", json_integer(o->memory_swap));
  else if (o->memory > 0 && b->in->host->swap_limit && o->memory <= INT64_MAX / 2)
    json_object_set_new(mem, "swap", json_integer(o->memory * 2)); /* Docker: as much swap as memory */
  if (o->has_memory_swappiness)
    json_object_set_new(mem, "swappiness", json_integer(o->memory_swappiness));
  if (o->oom_kill_disable)
    json_object_set_new(mem, "disableOOMKiller", json_true());
  if (json_object_size(mem) > 0)
    json_object_set_new(r, "memory", mem);
  else
    json_decref(mem);
  json_t *cpu = json_object();
  if (o->cpu_shares > 0)
    json_object_set_new(cpu, "shares", json_integer((json_int_t) o->cpu_shares));
  if (o->nano_cpus > 0) {
    json_object_set_new(cpu, "quota", json_integer(o->nano_cpus / 10000)); /* × 100000 µs / 1e9 */
    json_object_set_new(cpu, "period", json_integer(100000));
  }
  if (o->cpu_quota != 0)
    json_object_set_new(cpu, "quota", json_integer(o->cpu_quota));
  if (o->cpu_period > 0)
    json_object_set_new(cpu, "period", json_integer((json_int_t) o->cpu_period));
  if (o->cpu_rt_runtime > 0)
    json_object_set_new(cpu, "realtimeRuntime", json_integer(o->cpu_rt_runtime));
  if (o->cpu_rt_period > 0)
    json_object_set_new(cpu, "realtimePeriod", json_integer((json_int_t) o->cpu_rt_period));
  if (o->cpuset_cpus)
    json_object_set_new(cpu, "cpus", json_string(o->cpuset_cpus));
  if (o->cpuset_mems)
    json_object_set_new(cpu, "mems", json_string(o->cpuset_mems));
  if (json_object_size(cpu) > 0)
    json_object_set_new(r, "cpu", cpu);
  else
    json_decref(cpu);
  if (o->has_pids_limit && o->pids_limit > 0)
    json_object_set_new(r, "pids", json_pack("{s:I}", "limit", (json_int_t) o->pids_limit));
  if (o->blkio_weight > 0)
    json_object_set_new(r, "blockIO", json_pack("{s:i}", "weight", (int) o->blkio_weight));
  return r;
}

/* ---------------- seccomp ---------------- */

static BERTH_WUR int seccomp(struct ctrspec_build *b, json_t *lx, berth_error_t *err)
{
  const struct berth_run_opts *o = b->o;
  const struct berth_host_facts *h = b->in->host;
  if (o->privileged || o->seccomp_unconfined)
    return 0;
  struct berth_seccomp_profile *custom = NULL;
  if (o->seccomp_path != NULL) {
    if (o->seccomp_profile == NULL)
      return BERTH_ERR(err, "--security-opt seccomp=%s: the profile was not loaded", o->seccomp_path);
    if (berth_seccomp_profile_parse(o->seccomp_profile, o->seccomp_profile_len, o->seccomp_path, &custom,
                                    err) < 0)
      return berth_error_wrap(err, "--security-opt seccomp=%s", o->seccomp_path);
  }
  struct berth_seccomp_target t = {
    .caps = b->caps, .arch = h->arch, .kernel_major = h->kernel_major, .kernel_minor = h->kernel_minor
  };
  json_t *sc = berth_seccomp_profile_render(custom ? custom : berth_seccomp_default_profile(), &t, err);
  berth_seccomp_profile_free(custom);
  if (sc == NULL)
    return -1;
  json_object_set_new(lx, "seccomp", sc);
  return 0;
}

static json_t *list_json(const char *const *v)
{
  json_t *a = json_array();
  for (size_t i = 0; v[i]; i++)
    json_array_append_new(a, json_string(v[i]));
  return a;
}

/* shared/slave user mounts need a root that propagates (Docker sets rshared / rslave) */
static const char *rootfs_propagation(const struct berth_run_opts *o)
{
  const char *p = NULL;
  for (size_t i = 0; i < o->n_mounts; i++) {
    const char *m = o->mounts[i].propagation;
    if (m && strstr(m, "shared"))
      return "rshared";
    if (m && strstr(m, "slave"))
      p = "rslave";
  }
  return p;
}

int ctrspec_linux(struct ctrspec_build *b, json_t *config, berth_error_t *err)
{
  const struct berth_run_opts *o = b->o;
  unsigned int ncpus = b->in->host ? b->in->host->ncpus : 0;
  if (ncpus > 0 && o->nano_cpus > (int64_t) ncpus * 1000000000)
    return BERTH_ERR(err, "--cpus: range of CPUs is from 0.01 to %u.00, as there are only %u CPUs available",
                     ncpus, ncpus);
  json_t *lx = json_object();
  json_object_set_new(config, "linux", lx);
  json_t *res = resources(b);
  json_t *rules = json_array();
  json_object_set_new(res, "devices", rules);
  json_object_set_new(lx, "resources", res);
  if (b->in->cgroups_path)
    json_object_set_new(lx, "cgroupsPath", json_string(b->in->cgroups_path));
  if (namespaces(b, lx, err) < 0 || devices(b, lx, rules, err) < 0)
    return -1;
  for (char **r = o->device_cgroup_rules; r && *r; r++) { /* --device-cgroup-rule, after the defaults */
    struct berth_cgroup_rule cr;
    char type[2] = { 0, 0 };
    if (berth_runopts_parse_cgroup_rule(*r, &cr) < 0)
      return BERTH_ERR(err, "--device-cgroup-rule: invalid rule \"%s\"", *r);
    type[0] = cr.type;
    json_array_append_new(rules, dev_rule(true, type, cr.major, cr.minor, cr.access));
  }
  if (o->n_sysctls > 0) {
    json_t *s = json_object();
    for (size_t i = 0; i < o->n_sysctls; i++)
      json_object_set_new(s, o->sysctls[i].key, json_string(o->sysctls[i].value));
    json_object_set_new(lx, "sysctl", s);
  }
  if (seccomp(b, lx, err) < 0)
    return -1;
  const char *prop = rootfs_propagation(o);
  if (prop)
    json_object_set_new(lx, "rootfsPropagation", json_string(prop));
  if (!o->privileged && !o->systempaths_unconfined) {
    json_object_set_new(lx, "maskedPaths", list_json(masked_paths));
    json_object_set_new(lx, "readonlyPaths", list_json(readonly_paths));
  }
  return 0;
}
