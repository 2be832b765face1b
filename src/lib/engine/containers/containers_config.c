/* Containers: Docker's Config and HostConfig of a new container, from the image config and the
 * run options (what `inspect` shows and what the lifecycle reads back). */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/strbuf.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/containers/containers_internal.h"
#include "engine/runspec/runspec.h"
#include "engine/images/images.h"

static json_t *strv_json(char *const *v)
{
  if (v == NULL)
    return json_null();
  json_t *a = json_array();
  for (size_t i = 0; v[i]; i++)
    json_array_append_new(a, json_string(v[i]));
  return a;
}

static json_t *strv_json_empty(char *const *v)
{
  json_t *a = strv_json(v);
  if (json_is_null(a)) {
    json_decref(a);
    a = json_array();
  }
  return a;
}

char *ctr_signal_name(int sig)
{
  const char *abbrev = sigabbrev_np(sig);
  if (abbrev)
    return xasprintf("SIG%s", abbrev);
  if (sig >= SIGRTMIN && sig <= SIGRTMAX)
    return xasprintf("SIGRTMIN+%d", sig - SIGRTMIN);
  return xasprintf("%d", sig);
}

static json_t *labels_json(json_t *image_config, const struct berth_run_opts *o)
{
  json_t *l = json_object();
  json_t *img = json_object_get(image_config, "Labels");
  if (json_is_object(img))
    json_object_update(l, img);
  for (size_t i = 0; i < o->n_labels; i++)
    json_object_set_new(l, o->labels[i].key, json_string(o->labels[i].value));
  return l;
}

/* Config: the image's, with the options applied (Docker's container.Config) */
int ctr_build_config(const struct ctr_config_in *in, json_t **out, berth_error_t *err)
{
  const struct berth_run_opts *o = in->opts;
  cleanup_strv char **entrypoint = NULL, **cmd = NULL, **argv = NULL, **env = NULL;
  int sig = SIGTERM;
  if (berth_ctrspec_command(in->image_config, o, in->args, &entrypoint, &cmd, &argv, err) < 0 ||
      berth_ctrspec_stop_signal(in->image_config, o, &sig, err) < 0)
    return -1;
  env = berth_ctrspec_config_env(in->image_config, o);
  json_t *c = berth_imgconfig_docker_config(in->image_config);
  json_object_set_new(c, "Hostname", json_string(in->hostname));
  if (o->user)
    json_object_set_new(c, "User", json_string(o->user));
  bool attached = !o->detach;
  json_object_set_new(c, "AttachStdin", json_boolean(attached && o->interactive));
  json_object_set_new(c, "AttachStdout", json_boolean(attached));
  json_object_set_new(c, "AttachStderr", json_boolean(attached));
  json_object_set_new(c, "Tty", json_boolean(o->tty));
  json_object_set_new(c, "OpenStdin", json_boolean(o->interactive));
  json_object_set_new(c, "StdinOnce", json_boolean(o->interactive && attached));
  json_object_set_new(c, "Env", strv_json(env));
  json_object_set_new(c, "Cmd", strv_json(cmd));
  json_object_set_new(c, "Image", json_string(in->image));
  if (o->workdir)
    json_object_set_new(c, "WorkingDir", json_string(o->workdir));
  json_object_set_new(c, "Entrypoint", strv_json(entrypoint));
  json_object_set_new(c, "Labels", labels_json(in->image_config, o));
  cleanup_free char *signame = ctr_signal_name(sig);
  json_object_set_new(c, "StopSignal", json_string(signame));
  ctr_exposed_ports(c, o);
  if (o->has_stop_timeout)
    json_object_set_new(c, "StopTimeout", json_integer(o->stop_timeout));
  if (o->domainname)
    json_object_set_new(c, "Domainname", json_string(o->domainname));
  json_t *health = berth_ctrspec_healthcheck(in->image_config, o);
  if (health)
    json_object_set_new(c, "Healthcheck", health);
  else
    json_object_del(c, "Healthcheck");
  *out = c;
  return 0;
}

static const char *restart_name(enum berth_restart_policy p)
{
  switch (p) {
  case BERTH_RESTART_ON_FAILURE: return "on-failure";
  case BERTH_RESTART_ALWAYS: return "always";
  case BERTH_RESTART_UNLESS_STOPPED: return "unless-stopped";
  case BERTH_RESTART_NO: break;
  }
  return "no";
}

static json_t *ns_json(const struct berth_ns_opt *ns, const char *dflt)
{
  switch (ns->mode) {
  case BERTH_NSMODE_PRIVATE: return json_string("private");
  case BERTH_NSMODE_SHAREABLE: return json_string("shareable");
  case BERTH_NSMODE_NONE: return json_string("none");
  case BERTH_NSMODE_BRIDGE: return json_string(ns->value ? ns->value : "bridge");
  case BERTH_NSMODE_HOST: return json_string("host");
  case BERTH_NSMODE_CONTAINER: return json_pack("s+", "container:", ns->value ? ns->value : "");
  case BERTH_NSMODE_PATH: return json_pack("s+", "ns:", ns->value ? ns->value : "");
  case BERTH_NSMODE_DEFAULT: break;
  }
  return json_string(dflt);
}

static json_t *security_opts(const struct berth_run_opts *o)
{
  json_t *a = json_array();
  if (o->seccomp_unconfined)
    json_array_append_new(a, json_string("seccomp=unconfined"));
  if (o->seccomp_path)
    json_array_append_new(a, json_pack("s+", "seccomp=", o->seccomp_path));
  if (o->no_new_privileges)
    json_array_append_new(a, json_string("no-new-privileges"));
  if (o->apparmor)
    json_array_append_new(a, json_pack("s+", "apparmor=", o->apparmor));
  for (size_t i = 0; o->selinux_opts && o->selinux_opts[i]; i++)
    json_array_append_new(a, json_pack("s+", "label=", o->selinux_opts[i]));
  if (o->label_disable)
    json_array_append_new(a, json_string("label=disable"));
  if (o->systempaths_unconfined)
    json_array_append_new(a, json_string("systempaths=unconfined"));
  return a;
}

static void add_lists(json_t *h, const struct berth_run_opts *o)
{
  json_t *binds = json_array(), *tmpfs = json_object(), *hosts = json_array(), *ul = json_array();
  json_t *dev = json_array(), *sysctl = json_object();
  for (size_t i = 0; i < o->n_mounts; i++) {
    const struct berth_run_mount *m = &o->mounts[i];
    if (m->type == BERTH_MOUNT_TMPFS && m->target) {
      cleanup_strbuf struct berth_strbuf b = BERTH_STRBUF_INIT;
      for (size_t k = 0; m->tmpfs_options && m->tmpfs_options[k]; k++)
        berth_strbuf_printf(&b, "%s%s", k ? "," : "", m->tmpfs_options[k]);
      json_object_set_new(tmpfs, m->target, json_string(b.buf ? b.buf : ""));
    } else if (m->spec && m->type != BERTH_MOUNT_TMPFS && !strchr(m->spec, '=')) { /* -v (not --mount) */
      json_array_append_new(binds, json_string(m->spec));
    }
  }
  for (size_t i = 0; i < o->n_add_hosts; i++)
    json_array_append_new(hosts, json_pack("s++", o->add_hosts[i].name, ":", o->add_hosts[i].ip));
  for (size_t i = 0; i < o->n_ulimits; i++)
    json_array_append_new(ul, json_pack("{s:s, s:I, s:I}", "Name", o->ulimits[i].name, "Soft",
                                        (json_int_t) o->ulimits[i].soft, "Hard",
                                        (json_int_t) o->ulimits[i].hard));
  for (size_t i = 0; i < o->n_devices; i++)
    json_array_append_new(dev, json_pack("{s:s, s:s, s:s}", "PathOnHost", o->devices[i].host_path,
                                         "PathInContainer", o->devices[i].container_path, "CgroupPermissions",
                                         o->devices[i].perms));
  for (size_t i = 0; i < o->n_sysctls; i++)
    json_object_set_new(sysctl, o->sysctls[i].key, json_string(o->sysctls[i].value));
  json_object_set_new(h, "Binds", binds);
  json_object_set_new(h, "Tmpfs", tmpfs);
  json_object_set_new(h, "ExtraHosts", hosts);
  json_object_set_new(h, "Ulimits", ul);
  json_object_set_new(h, "Devices", dev);
  json_object_set_new(h, "Sysctls", sysctl);
}

static json_t *log_config(const struct berth_run_opts *o)
{
  json_t *cfg = json_object();
  for (size_t i = 0; i < o->n_log_opts; i++)
    json_object_set_new(cfg, o->log_opts[i].key, json_string(o->log_opts[i].value));
  return json_pack("{s:s, s:o}", "Type", o->log_driver ? o->log_driver : "k8s-file", "Config", cfg);
}

static void add_resources(json_t *h, const struct berth_run_opts *o)
{
  json_object_set_new(h, "Memory", json_integer(o->memory));
  json_object_set_new(h, "MemorySwap", json_integer(o->memory_swap));
  json_object_set_new(h, "MemoryReservation", json_integer(o->memory_reservation));
  json_object_set_new(h, "NanoCpus", json_integer(o->nano_cpus));
  json_object_set_new(h, "CpuShares", json_integer((json_int_t) o->cpu_shares));
  json_object_set_new(h, "CpusetCpus", json_string(o->cpuset_cpus ? o->cpuset_cpus : ""));
  json_object_set_new(h, "CpusetMems", json_string(o->cpuset_mems ? o->cpuset_mems : ""));
  json_object_set_new(h, "PidsLimit", o->has_pids_limit ? json_integer(o->pids_limit) : json_null());
  json_object_set_new(h, "BlkioWeight", json_integer(o->blkio_weight));
  json_object_set_new(h, "ShmSize", json_integer(o->shm_size ? o->shm_size : BERTH_RUNOPTS_DEFAULT_SHM));
  json_object_set_new(h, "OomScoreAdj", json_integer(o->has_oom_score_adj ? o->oom_score_adj : 0));
  json_object_set_new(h, "CpuQuota", json_integer(o->cpu_quota));
  json_object_set_new(h, "CpuPeriod", json_integer((json_int_t) o->cpu_period));
  json_object_set_new(h, "CpuRealtimeRuntime", json_integer(o->cpu_rt_runtime));
  json_object_set_new(h, "CpuRealtimePeriod", json_integer((json_int_t) o->cpu_rt_period));
  json_object_set_new(h, "MemorySwappiness",
                      o->has_memory_swappiness ? json_integer(o->memory_swappiness) : json_null());
  json_object_set_new(h, "OomKillDisable", json_boolean(o->oom_kill_disable));
  json_object_set_new(h, "DeviceCgroupRules", strv_json(o->device_cgroup_rules));
}

/* HostConfig: Docker's keys, plus BerthRuntimeFlags (global options for the runtime) */
json_t *ctr_build_host_config(const struct berth_run_opts *o, char *const *runtime_flags)
{
  json_t *h = json_object();
  add_lists(h, o);
  json_object_set_new(h, "NetworkMode",
                      ns_json(&o->network, ctr_default_network_is_bridge() ? "bridge" : "none"));
  json_object_set_new(h, "PortBindings", ctr_port_bindings(o));
  json_object_set_new(h, "PublishAllPorts", json_boolean(o->publish_all));
  json_object_set_new(
    h, "RestartPolicy",
    json_pack("{s:s, s:i}", "Name", restart_name(o->restart), "MaximumRetryCount", o->restart_max_retries));
  json_object_set_new(h, "AutoRemove", json_boolean(o->auto_remove));
  json_object_set_new(h, "Runtime", json_string(o->runtime ? o->runtime : "berth-runtime"));
  json_object_set_new(h, "LogConfig", log_config(o));
  json_object_set_new(h, "Privileged", json_boolean(o->privileged));
  json_object_set_new(h, "ReadonlyRootfs", json_boolean(o->read_only));
  json_object_set_new(h, "CapAdd", strv_json(o->cap_add));
  json_object_set_new(h, "CapDrop", strv_json(o->cap_drop));
  json_object_set_new(h, "SecurityOpt", security_opts(o));
  add_resources(h, o);
  json_object_set_new(h, "Init", json_boolean(o->init));
  json_object_set_new(h, "PidMode", ns_json(&o->pid, ""));
  json_object_set_new(h, "IpcMode", ns_json(&o->ipc, "private"));
  json_object_set_new(h, "UTSMode", ns_json(&o->uts, ""));
  json_object_set_new(h, "CgroupnsMode", ns_json(&o->cgroupns, ""));
  json_object_set_new(h, "Dns", strv_json_empty(o->dns));
  json_object_set_new(h, "DnsSearch", strv_json_empty(o->dns_search));
  json_object_set_new(h, "DnsOptions", strv_json_empty(o->dns_options));
  json_object_set_new(h, "GroupAdd", strv_json(o->group_add));
  json_object_set_new(h, "VolumesFrom", strv_json(o->volumes_from));
  json_t *ann = json_object();
  for (size_t i = 0; i < o->n_annotations; i++)
    json_object_set_new(ann, o->annotations[i].key, json_string(o->annotations[i].value));
  json_object_set_new(h, "Annotations", ann);
  json_object_set_new(h, "BerthRuntimeFlags", strv_json_empty(runtime_flags));
  json_object_set_new(
    h, "BerthLog",
    json_pack("{s:I, s:i}", "MaxSize", (json_int_t) o->log_max_size, "MaxFile", o->log_max_file));
  return h;
}
