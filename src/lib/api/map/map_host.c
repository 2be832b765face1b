/* Docker's HostConfig -> run flags (the other half of map_create.c). Keys in the order of
 * Docker's API reference; every key Docker has is listed: those berth honours become flags,
 * those without effect here are accepted, those berth does not support are accepted only with
 * their zero value. Pure; fuzzed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/map/map_internal.h"
#include "base/cleanup.h"
#include "base/strbuf.h"
#include "base/strutil.h"
#include "base/xalloc.h"

static BERTH_WUR int want_object(json_t *v, const char *path, berth_error_t *err)
{
  return json_is_object(v) ? 0 : BERTH_ERR(err, "%s: expected an object", path);
}

/* LogConfig: berth writes one log format (CRI's k8s-file); json-file and local are read as it,
 * as their options (max-size, max-file) are the same */
static BERTH_WUR int log_config(struct api_map *m, const char *path, json_t *v, berth_error_t *err)
{
  if (json_is_null(v))
    return 0;
  if (want_object(v, path, err) < 0)
    return -1;
  const char *key;
  json_t *x;
  json_object_foreach (v, key, x) {
    if (strcmp(key, "Type") != 0 && strcmp(key, "Config") != 0)
      return BERTH_ERR(err, "unknown field `%s.%s`", path, key);
  }
  const char *type = json_string_value(json_object_get(v, "Type"));
  static const char *const ok[] = { "", "k8s-file", "json-file", "local" };
  size_t i = 0;
  while (type && i < BERTH_N_ELEMENTS(ok) && strcmp(ok[i], type) != 0)
    i++;
  if (type && i == BERTH_N_ELEMENTS(ok))
    return BERTH_ERR(err, "%s.Type: log driver `%s` is not supported (berth logs to a file: k8s-file)", path,
                     type);
  json_t *cfg = json_object_get(v, "Config");
  if (cfg == NULL || json_is_null(cfg))
    return 0;
  if (want_object(cfg, path, err) < 0)
    return -1;
  json_object_foreach (cfg, key, x) {
    if (!json_is_string(x))
      return BERTH_ERR(err, "%s.Config.%s: expected a string", path, key);
    cleanup_free char *kv = xasprintf("%s=%s", key, json_string_value(x));
    if (api_map_flag(m, path, "--log-opt", kv, err) < 0)
      return -1;
  }
  return 0;
}

/* NetworkMode: "default" (and "") is the engine's default, as `berth run` without --network */
static BERTH_WUR int network_mode(struct api_map *m, const char *path, json_t *v, berth_error_t *err)
{
  if (json_is_null(v))
    return 0;
  if (!json_is_string(v))
    return BERTH_ERR(err, "%s: expected a string", path);
  const char *s = json_string_value(v);
  if (s[0] == '\0' || strcmp(s, "default") == 0)
    return 0;
  return api_map_flag(m, path, "--network", s, err);
}

/* {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]} -> -p 8080:80/tcp */
static BERTH_WUR int port_bindings(struct api_map *m, const char *path, json_t *v, berth_error_t *err)
{
  if (json_is_null(v))
    return 0;
  if (want_object(v, path, err) < 0)
    return -1;
  const char *port;
  json_t *list;
  json_object_foreach (v, port, list) {
    if (json_is_null(list) || (json_is_array(list) && json_array_size(list) == 0)) {
      if (api_map_flag(m, path, "--expose", port, err) < 0)
        return -1;
      continue;
    }
    if (!json_is_array(list))
      return BERTH_ERR(err, "%s.%s: expected a list of bindings", path, port);
    size_t i;
    json_t *b;
    json_array_foreach (list, i, b) {
      json_t *ipj = json_object_get(b, "HostIp"), *hpj = json_object_get(b, "HostPort");
      if (!json_is_object(b) || (ipj && !json_is_string(ipj) && !json_is_null(ipj)) ||
          (hpj && !json_is_string(hpj) && !json_is_null(hpj)) || json_object_size(b) > 2)
        return BERTH_ERR(err, "%s.%s[%zu]: expected {\"HostIp\": string, \"HostPort\": string}", path, port,
                         i);
      const char *ip = json_string_value(ipj), *hp = json_string_value(hpj);
      ip = ip ? ip : "";
      hp = hp ? hp : "";
      bool v6 = strchr(ip, ':') != NULL;
      cleanup_free char *spec = ip[0] ? xasprintf(v6 ? "[%s]:%s:%s" : "%s:%s:%s", ip, hp, port)
                                      : xasprintf("%s%s%s", hp, hp[0] ? ":" : "", port);
      if (api_map_flag(m, path, "--publish", spec, err) < 0)
        return -1;
    }
  }
  return 0;
}

static BERTH_WUR int restart_policy(struct api_map *m, const char *path, json_t *v, berth_error_t *err)
{
  if (json_is_null(v))
    return 0;
  json_t *name = json_object_get(v, "Name"), *max = json_object_get(v, "MaximumRetryCount");
  if (!json_is_object(v) || (name && !json_is_string(name)) || (max && !json_is_integer(max)))
    return BERTH_ERR(err, "%s: expected {\"Name\": string, \"MaximumRetryCount\": integer}", path);
  const char *n = json_string_value(name);
  if (n == NULL || n[0] == '\0')
    return 0;
  cleanup_free char *spec = max && json_integer_value(max) > 0
                              ? xasprintf("%s:%lld", n, (long long) json_integer_value(max))
                              : xstrdup(n);
  return api_map_flag(m, path, "--restart", spec, err);
}

static BERTH_WUR int tmpfs(struct api_map *m, const char *path, json_t *v, berth_error_t *err)
{
  if (json_is_null(v))
    return 0;
  if (want_object(v, path, err) < 0)
    return -1;
  const char *target;
  json_t *o;
  json_object_foreach (v, target, o) {
    if (!json_is_string(o))
      return BERTH_ERR(err, "%s.%s: expected a string of options", path, target);
    cleanup_free char *spec =
      json_string_length(o) ? xasprintf("%s:%s", target, json_string_value(o)) : xstrdup(target);
    if (api_map_flag(m, path, "--tmpfs", spec, err) < 0)
      return -1;
  }
  return 0;
}

static BERTH_WUR int kv_object(struct api_map *m, const char *path, json_t *v, const char *flag,
                               berth_error_t *err)
{
  if (json_is_null(v))
    return 0;
  if (want_object(v, path, err) < 0)
    return -1;
  const char *k;
  json_t *x;
  json_object_foreach (v, k, x) {
    if (!json_is_string(x))
      return BERTH_ERR(err, "%s.%s: expected a string", path, k);
    cleanup_free char *kv = xasprintf("%s=%s", k, json_string_value(x));
    if (api_map_flag(m, path, flag, kv, err) < 0)
      return -1;
  }
  return 0;
}
static BERTH_WUR int sysctls(struct api_map *m, const char *path, json_t *v, berth_error_t *err)
{
  return kv_object(m, path, v, "--sysctl", err);
}

static BERTH_WUR int ulimits(struct api_map *m, const char *path, json_t *v, berth_error_t *err)
{
  if (json_is_null(v))
    return 0;
  if (!json_is_array(v))
    return BERTH_ERR(err, "%s: expected a list", path);
  size_t i;
  json_t *u;
  json_array_foreach (v, i, u) {
    json_t *n = json_object_get(u, "Name"), *s = json_object_get(u, "Soft"), *h = json_object_get(u, "Hard");
    if (!json_is_string(n) || !json_is_integer(s) || !json_is_integer(h))
      return BERTH_ERR(err, "%s[%zu]: expected {\"Name\": string, \"Soft\": integer, \"Hard\": integer}",
                       path, i);
    cleanup_free char *spec = xasprintf("%s=%lld:%lld", json_string_value(n),
                                        (long long) json_integer_value(s), (long long) json_integer_value(h));
    if (api_map_flag(m, path, "--ulimit", spec, err) < 0)
      return -1;
  }
  return 0;
}

static BERTH_WUR int devices(struct api_map *m, const char *path, json_t *v, berth_error_t *err)
{
  if (json_is_null(v))
    return 0;
  if (!json_is_array(v))
    return BERTH_ERR(err, "%s: expected a list", path);
  size_t i;
  json_t *d;
  json_array_foreach (v, i, d) {
    const char *h = json_string_value(json_object_get(d, "PathOnHost"));
    const char *c = json_string_value(json_object_get(d, "PathInContainer"));
    const char *p = json_string_value(json_object_get(d, "CgroupPermissions"));
    if (h == NULL)
      return BERTH_ERR(err, "%s[%zu].PathOnHost: expected a path", path, i);
    cleanup_free char *spec =
      xasprintf("%s:%s%s%s", h, c && c[0] ? c : h, p && p[0] ? ":" : "", p && p[0] ? p : "");
    if (api_map_flag(m, path, "--device", spec, err) < 0)
      return -1;
  }
  return 0;
}

/* NanoCpus 1500000000 -> --cpus 1.5 */
static BERTH_WUR int nano_cpus(struct api_map *m, const char *path, json_t *v, berth_error_t *err)
{
  if (json_is_null(v))
    return 0;
  if (!json_is_integer(v) || json_integer_value(v) < 0)
    return BERTH_ERR(err, "%s: expected a non-negative integer", path);
  long long n = (long long) json_integer_value(v);
  if (n == 0)
    return 0;
  char text[48];
  snprintf(text, sizeof text, "%lld.%09lld", n / 1000000000, n % 1000000000);
  return api_map_flag(m, path, "--cpus", text, err);
}

static BERTH_WUR int pids_limit(struct api_map *m, const char *path, json_t *v, berth_error_t *err)
{
  if (json_is_null(v) || (json_is_integer(v) && json_integer_value(v) == 0))
    return 0;
  if (!json_is_integer(v))
    return BERTH_ERR(err, "%s: expected an integer", path);
  char text[32];
  snprintf(text, sizeof text, "%lld", (long long) json_integer_value(v));
  return api_map_flag(m, path, "--pids-limit", text, err);
}

static BERTH_WUR int memory_swap(struct api_map *m, const char *path, json_t *v, berth_error_t *err)
{
  if (json_is_null(v) || (json_is_integer(v) && json_integer_value(v) == 0))
    return 0;
  if (!json_is_integer(v) || json_integer_value(v) < -1)
    return BERTH_ERR(err, "%s: expected an integer (-1: unlimited)", path);
  char text[32];
  snprintf(text, sizeof text, "%lld", (long long) json_integer_value(v));
  return api_map_flag(m, path, "--memory-swap", text, err);
}

static BERTH_WUR int swappiness(struct api_map *m, const char *path, json_t *v, berth_error_t *err)
{
  (void) m;
  if (json_is_null(v) || (json_is_integer(v) && json_integer_value(v) == -1))
    return 0;
  return BERTH_ERR(err, "%s: not supported by berth", path);
}

/* MaskedPaths/ReadonlyPaths: null the defaults; [] none (what --security-opt
 * systempaths=unconfined sends); berth takes no list of its own */
static BERTH_WUR int system_paths(struct api_map *m, const char *path, json_t *v, berth_error_t *err)
{
  if (json_is_null(v))
    return 0;
  if (!json_is_array(v) || json_array_size(v) > 0)
    return BERTH_ERR(err, "%s: only null (the defaults) or [] (none) are supported", path);
  if (m->out->opts.systempaths_unconfined)
    return 0;
  return api_map_flag(m, path, "--security-opt", "systempaths=unconfined", err);
}

static BERTH_WUR int userns(struct api_map *m, const char *path, json_t *v, berth_error_t *err)
{
  (void) m;
  const char *s = json_string_value(v);
  if (json_is_null(v) || (s && (s[0] == '\0' || strcmp(s, "host") == 0)))
    return 0;
  return BERTH_ERR(err, "%s: only the host's user namespace is supported", path);
}

static BERTH_WUR int isolation(struct api_map *m, const char *path, json_t *v, berth_error_t *err)
{
  (void) m;
  const char *s = json_string_value(v);
  if (json_is_null(v) || (s && (s[0] == '\0' || strcmp(s, "default") == 0)))
    return 0;
  return BERTH_ERR(err, "%s: `%s` is not supported", path, s ? s : "?");
}

static BERTH_WUR int volume_driver(struct api_map *m, const char *path, json_t *v, berth_error_t *err)
{
  (void) m;
  const char *s = json_string_value(v);
  if (json_is_null(v) || (s && (s[0] == '\0' || strcmp(s, "local") == 0)))
    return 0;
  return BERTH_ERR(err, "%s: only the local volume driver is supported", path);
}

static BERTH_WUR int runtime_flags(struct api_map *m, const char *path, json_t *v, berth_error_t *err)
{
  if (json_is_null(v))
    return 0;
  if (!json_is_array(v))
    return BERTH_ERR(err, "%s: expected a list of strings", path);
  size_t i;
  json_t *s;
  json_array_foreach (v, i, s) {
    const char *f = json_string_value(s);
    if (f == NULL || strncmp(f, "--", 2) != 0)
      return BERTH_ERR(err, "%s[%zu]: expected \"--flag[=value]\"", path, i);
    m->out->runtime_flags = berth_strv_append(m->out->runtime_flags, f);
  }
  return 0;
}

static const struct api_field host_fields[] = {
  { "Binds", API_F_STRS, "--volume", NULL },
  { "ContainerIDFile", API_F_IGNORE, NULL, NULL },
  { "LogConfig", API_F_CUSTOM, NULL, log_config },
  { "NetworkMode", API_F_CUSTOM, NULL, network_mode },
  { "PortBindings", API_F_CUSTOM, NULL, port_bindings },
  { "RestartPolicy", API_F_CUSTOM, NULL, restart_policy },
  { "AutoRemove", API_F_BOOL, "--rm", NULL },
  { "VolumeDriver", API_F_CUSTOM, NULL, volume_driver },
  { "VolumesFrom", API_F_ZERO, NULL, NULL },
  { "ConsoleSize", API_F_IGNORE, NULL, NULL },
  { "Annotations", API_F_ZERO, NULL, NULL },
  { "CapAdd", API_F_STRS, "--cap-add", NULL },
  { "CapDrop", API_F_STRS, "--cap-drop", NULL },
  { "CgroupnsMode", API_F_STR, "--cgroupns", NULL },
  { "Dns", API_F_STRS, "--dns", NULL },
  { "DnsOptions", API_F_STRS, "--dns-option", NULL },
  { "DnsSearch", API_F_STRS, "--dns-search", NULL },
  { "ExtraHosts", API_F_STRS, "--add-host", NULL },
  { "GroupAdd", API_F_STRS, "--group-add", NULL },
  { "IpcMode", API_F_STR, "--ipc", NULL },
  { "Cgroup", API_F_ZERO, NULL, NULL },
  { "Links", API_F_ZERO, NULL, NULL },
  { "OomScoreAdj", API_F_INT_ANY, "--oom-score-adj", NULL },
  { "PidMode", API_F_STR, "--pid", NULL },
  { "Privileged", API_F_BOOL, "--privileged", NULL },
  { "PublishAllPorts", API_F_BOOL, "--publish-all", NULL },
  { "ReadonlyRootfs", API_F_BOOL, "--read-only", NULL },
  { "SecurityOpt", API_F_STRS, "--security-opt", NULL },
  { "StorageOpt", API_F_ZERO, NULL, NULL },
  { "Tmpfs", API_F_CUSTOM, NULL, tmpfs },
  { "UTSMode", API_F_STR, "--uts", NULL },
  { "UsernsMode", API_F_CUSTOM, NULL, userns },
  { "ShmSize", API_F_INT, "--shm-size", NULL },
  { "Sysctls", API_F_CUSTOM, NULL, sysctls },
  { "Runtime", API_F_STR, "--runtime", NULL },
  { "Isolation", API_F_CUSTOM, NULL, isolation },
  /* Resources */
  { "CpuShares", API_F_INT, "--cpu-shares", NULL },
  { "Memory", API_F_INT, "--memory", NULL },
  { "NanoCpus", API_F_CUSTOM, NULL, nano_cpus },
  { "CgroupParent", API_F_ZERO, NULL, NULL },
  { "BlkioWeight", API_F_INT, "--blkio-weight", NULL },
  { "BlkioWeightDevice", API_F_ZERO, NULL, NULL },
  { "BlkioDeviceReadBps", API_F_ZERO, NULL, NULL },
  { "BlkioDeviceWriteBps", API_F_ZERO, NULL, NULL },
  { "BlkioDeviceReadIOps", API_F_ZERO, NULL, NULL },
  { "BlkioDeviceWriteIOps", API_F_ZERO, NULL, NULL },
  { "CpuPeriod", API_F_ZERO, NULL, NULL },
  { "CpuQuota", API_F_ZERO, NULL, NULL },
  { "CpuRealtimePeriod", API_F_ZERO, NULL, NULL },
  { "CpuRealtimeRuntime", API_F_ZERO, NULL, NULL },
  { "CpusetCpus", API_F_STR, "--cpuset-cpus", NULL },
  { "CpusetMems", API_F_STR, "--cpuset-mems", NULL },
  { "Devices", API_F_CUSTOM, NULL, devices },
  { "DeviceCgroupRules", API_F_ZERO, NULL, NULL },
  { "DeviceRequests", API_F_ZERO, NULL, NULL },
  { "KernelMemory", API_F_ZERO, NULL, NULL },
  { "KernelMemoryTCP", API_F_ZERO, NULL, NULL },
  { "MemoryReservation", API_F_INT, "--memory-reservation", NULL },
  { "MemorySwap", API_F_CUSTOM, NULL, memory_swap },
  { "MemorySwappiness", API_F_CUSTOM, NULL, swappiness },
  { "OomKillDisable", API_F_ZERO, NULL, NULL },
  { "PidsLimit", API_F_CUSTOM, NULL, pids_limit },
  { "Ulimits", API_F_CUSTOM, NULL, ulimits },
  { "CpuCount", API_F_ZERO, NULL, NULL },
  { "CpuPercent", API_F_ZERO, NULL, NULL },
  { "IOMaximumIOps", API_F_ZERO, NULL, NULL },
  { "IOMaximumBandwidth", API_F_ZERO, NULL, NULL },
  /* the rest */
  { "Mounts", API_F_CUSTOM, NULL, api_map_mounts },
  { "MaskedPaths", API_F_CUSTOM, NULL, system_paths },
  { "ReadonlyPaths", API_F_CUSTOM, NULL, system_paths },
  { "Init", API_F_BOOL, "--init", NULL },
  /* berth's own keys of inspect's HostConfig, so that it maps back */
  { "BerthRuntimeFlags", API_F_CUSTOM, NULL, runtime_flags },
  { "BerthLog", API_F_IGNORE, NULL, NULL }, /* LogConfig.Config says the same */
};

int api_map_host(struct api_map *m, const char *path, json_t *hc, berth_error_t *err)
{
  return api_map_object(m, path, hc, host_fields, BERTH_N_ELEMENTS(host_fields), err);
}

int berth_api_host_config_apply(json_t *hc, struct berth_run_opts *o, berth_error_t *err)
{
  struct berth_api_create tmp;
  memset(&tmp, 0, sizeof tmp);
  tmp.opts = *o; /* borrowed for the duration: handed back below */
  struct api_map m = { .out = &tmp };
  int r = api_map_host(&m, "HostConfig", hc, err);
  *o = tmp.opts;
  berth_strv_free(tmp.runtime_flags); /* BerthRuntimeFlags: create keeps them (api_map_host) */
  return r;
}
