/* Life of a berth_run_opts: init and release, Docker's cross-flag rules, and reading the files
 * that options name. */
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/runspec/runspec.h"
#include "engine/runspec/runopts_internal.h"

void berth_runopts_init(struct berth_run_opts *o)
{
  *o = (struct berth_run_opts){ .restart = BERTH_RESTART_NO };
}

static void ns_release(struct berth_ns_opt *ns)
{
  free(ns->value);
  ns->value = NULL;
}

void berth_runopts_release(struct berth_run_opts *o)
{
  free(o->name);
  free(o->runtime);
  berth_strv_free(o->env);
  berth_strv_free(o->env_files);
  berth_strv_free(o->env_from_files);
  free(o->workdir);
  free(o->user);
  berth_strv_free(o->group_add);
  berth_strv_free(o->entrypoint);
  free(o->hostname);
  for (size_t i = 0; i < o->n_add_hosts; i++) {
    free(o->add_hosts[i].name);
    free(o->add_hosts[i].ip);
  }
  free(o->add_hosts);
  berth_strv_free(o->dns);
  berth_strv_free(o->dns_search);
  berth_strv_free(o->dns_options);
  runopts_kv_free(o->labels, o->n_labels);
  for (size_t i = 0; i < o->n_mounts; i++)
    berth_run_mount_release(&o->mounts[i]);
  free(o->mounts);
  berth_strv_free(o->cap_add);
  berth_strv_free(o->cap_drop);
  free(o->seccomp_path);
  free(o->seccomp_profile);
  free(o->apparmor);
  berth_strv_free(o->selinux_opts);
  free(o->cpuset_cpus);
  free(o->cpuset_mems);
  free(o->ulimits);
  for (size_t i = 0; i < o->n_devices; i++) {
    free(o->devices[i].host_path);
    free(o->devices[i].container_path);
  }
  free(o->devices);
  runopts_kv_free(o->sysctls, o->n_sysctls);
  ns_release(&o->network);
  runopts_net_release(o);
  ns_release(&o->pid);
  ns_release(&o->ipc);
  ns_release(&o->uts);
  ns_release(&o->cgroupns);
  runopts_kv_free(o->log_opts, o->n_log_opts);
  runopts_more_release(o);
  berth_runopts_init(o);
}

static bool is_ipc_sysctl(const char *key)
{
  return berth_str_has_prefix(key, "kernel.") || berth_str_has_prefix(key, "fs.mqueue.");
}

static BERTH_WUR int validate_network(const struct berth_run_opts *o, berth_error_t *err)
{
  if (o->network.mode == BERTH_NSMODE_CONTAINER) {
    if (o->hostname)
      return BERTH_ERR(err, "conflicting options: --hostname and the network mode container:%s",
                       o->network.value);
    if (o->n_add_hosts > 0)
      return BERTH_ERR(err, "conflicting options: --add-host and the network mode container:%s",
                       o->network.value);
    if (o->dns || o->dns_search || o->dns_options)
      return BERTH_ERR(err, "conflicting options: --dns and the network mode container:%s", o->network.value);
  }
  if (o->uts.mode == BERTH_NSMODE_HOST && o->hostname)
    return BERTH_ERR(err, "conflicting options: --hostname and --uts host");
  for (size_t i = 0; i < o->n_sysctls; i++) {
    const char *k = o->sysctls[i].key;
    if (berth_str_has_prefix(k, "net.") &&
        (o->network.mode == BERTH_NSMODE_HOST || o->network.mode == BERTH_NSMODE_CONTAINER))
      return BERTH_ERR(err, "--sysctl: \"%s\" is not allowed with the network mode %s", k,
                       o->network.mode == BERTH_NSMODE_HOST ? "host" : "container:<name>");
    if (is_ipc_sysctl(k) && (o->ipc.mode == BERTH_NSMODE_HOST || o->ipc.mode == BERTH_NSMODE_CONTAINER))
      return BERTH_ERR(err, "--sysctl: \"%s\" is not allowed with the ipc mode %s", k,
                       o->ipc.mode == BERTH_NSMODE_HOST ? "host" : "container:<name>");
  }
  return 0;
}

static BERTH_WUR int validate_resources(const struct berth_run_opts *o, berth_error_t *err)
{
  if (o->memory_swap > 0 && o->memory == 0)
    return BERTH_ERR(err, "--memory-swap: you should always set the memory limit (--memory) when using a "
                          "memory-swap limit");
  if (o->memory_swap > 0 && o->memory_swap < o->memory)
    return BERTH_ERR(err, "--memory-swap: minimum memory-swap limit should be larger than the memory limit");
  if (o->log_driver && strcmp(o->log_driver, "none") == 0 && o->n_log_opts > 0)
    return BERTH_ERR(err, "--log-opt: the `none` logging driver takes no options");
  if (o->nano_cpus > 0 && (o->cpu_quota != 0 || o->cpu_period > 0))
    return BERTH_ERR(err, "conflicting options: --cpus and --cpu-%s cannot both be set",
                     o->cpu_quota != 0 ? "quota" : "period");
  if (o->memory > 0 && o->memory_reservation > o->memory)
    return BERTH_ERR(err,
                     "--memory-reservation: the memory limit can not be less than the memory reservation");
  return 0;
}

int berth_runopts_validate(const struct berth_run_opts *o, berth_error_t *err)
{
  if (o->auto_remove && o->restart != BERTH_RESTART_NO)
    return BERTH_ERR(err, "conflicting options: --restart and --rm");
  if (validate_resources(o, err) < 0 || validate_network(o, err) < 0 || runopts_net_validate(o, err) < 0)
    return -1;
  for (size_t i = 0; i < o->n_mounts; i++)
    for (size_t j = 0; j < i; j++)
      if (strcmp(o->mounts[i].target, o->mounts[j].target) == 0)
        return BERTH_ERR(err, "duplicate mount point: %s", o->mounts[i].target);
  for (size_t i = 0; i < o->n_devices; i++)
    for (size_t j = 0; j < i; j++)
      if (strcmp(o->devices[i].container_path, o->devices[j].container_path) == 0)
        return BERTH_ERR(err, "--device: duplicate device path in the container: %s",
                         o->devices[i].container_path);
  return 0;
}

int berth_runopts_load_files(struct berth_run_opts *o, berth_error_t *err)
{
  cleanup_strv char **env = NULL;
  for (char **f = o->env_files; f && *f; f++) {
    cleanup_free char *text = NULL;
    size_t len = 0;
    if (berth_read_file(*f, BERTH_RUNOPTS_MAX_FILE, &text, &len, err) < 0 ||
        berth_runopts_parse_env_file(text, len, *f, o->lookup_env, o->lookup_env_data, &env, err) < 0)
      return berth_error_wrap(err, "--env-file");
  }
  berth_strv_free(o->env_from_files);
  o->env_from_files = steal_ptr(env);
  /* --label-file: "k=v" lines (# comments, blank lines), under the --label flags (Docker) */
  struct berth_kv *flags = o->labels;
  size_t nflags = o->n_labels;
  o->labels = NULL;
  o->n_labels = 0;
  for (char **f = o->label_files; f && *f; f++) {
    cleanup_free char *text = NULL;
    size_t len = 0;
    if (berth_read_file(*f, BERTH_RUNOPTS_MAX_FILE, &text, &len, err) < 0) {
      runopts_kv_free(flags, nflags);
      return berth_error_wrap(err, "--label-file");
    }
    for (char *line = text, *next; line && *line; line = next) {
      next = strchr(line, '\n');
      if (next)
        *next++ = '\0';
      line += strspn(line, " \t");
      if (*line == '\0' || *line == '#')
        continue;
      if (berth_runopts_set(o, "--label", line, err) < 0) {
        runopts_kv_free(flags, nflags);
        return berth_error_wrap(err, "--label-file `%s`", *f);
      }
    }
  }
  for (size_t i = 0; i < nflags; i++)
    runopts_kv_set(&o->labels, &o->n_labels, flags[i].key, flags[i].value);
  runopts_kv_free(flags, nflags);
  if (o->seccomp_path != NULL && o->seccomp_profile == NULL) {
    cleanup_free char *text = NULL;
    size_t len = 0;
    struct berth_seccomp_profile *p = NULL;
    if (berth_read_file(o->seccomp_path, BERTH_RUNOPTS_MAX_FILE, &text, &len, err) < 0 ||
        berth_seccomp_profile_parse(text, len, o->seccomp_path, &p, err) < 0)
      return berth_error_wrap(err, "--security-opt seccomp=%s", o->seccomp_path);
    berth_seccomp_profile_free(p);
    o->seccomp_profile = steal_ptr(text);
    o->seccomp_profile_len = len;
  }
  return 0;
}
