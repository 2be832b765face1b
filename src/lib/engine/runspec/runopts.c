/* The run/create flag table and berth_runopts_set: one setter per flag, each checking the value
 * and naming the flag in its errors. */
#include <arpa/inet.h>
#include <ctype.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/runspec/runspec.h"
#include "engine/runspec/runopts_internal.h"
#include "oci/names.h"

typedef int setter_fn(struct berth_run_opts *o, const char *flag, const char *v, berth_error_t *err);

/* ---------------- small helpers (shared through runopts_internal.h) ---------------- */

int runopts_parse_bool(const char *flag, const char *value, bool *out, berth_error_t *err)
{
  if (value == NULL || strcmp(value, "true") == 0 || strcmp(value, "1") == 0)
    *out = true;
  else if (strcmp(value, "false") == 0 || strcmp(value, "0") == 0)
    *out = false;
  else
    return BERTH_ERR(err, "%s: invalid boolean \"%s\" (true or false)", flag, value);
  return 0;
}

void runopts_kv_set(struct berth_kv **kv, size_t *n, const char *key, const char *value)
{
  for (size_t i = 0; i < *n; i++)
    if (strcmp((*kv)[i].key, key) == 0) {
      free((*kv)[i].value);
      (*kv)[i].value = xstrdup(value);
      return;
    }
  *kv = xreallocarray(*kv, *n + 1, sizeof **kv);
  (*kv)[(*n)++] = (struct berth_kv){ xstrdup(key), xstrdup(value) };
}

const char *runopts_kv_get(const struct berth_kv *kv, size_t n, const char *key)
{
  for (size_t i = 0; i < n; i++)
    if (strcmp(kv[i].key, key) == 0)
      return kv[i].value;
  return NULL;
}

void runopts_kv_free(struct berth_kv *kv, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    free(kv[i].key);
    free(kv[i].value);
  }
  free(kv);
}

char *runopts_ip(const char *s)
{
  unsigned char buf[16];
  size_t n = strlen(s);
  cleanup_free char *bare = (n > 2 && s[0] == '[' && s[n - 1] == ']') ? xstrndup(s + 1, n - 2) : xstrdup(s);
  if (inet_pton(AF_INET, bare, buf) == 1 || inet_pton(AF_INET6, bare, buf) == 1)
    return steal_ptr(bare);
  return NULL;
}

static int set_string(char **slot, const char *v)
{
  free(*slot);
  *slot = xstrdup(v);
  return 0;
}

/* ---------------- setters ---------------- */

#define BOOL_SETTER(fn, field)                                                                               \
  static int fn(struct berth_run_opts *o, const char *flag, const char *v, berth_error_t *err)               \
  {                                                                                                          \
    return runopts_parse_bool(flag, v, &o->field, err);                                                      \
  }
BOOL_SETTER(set_detach, detach)
BOOL_SETTER(set_interactive, interactive)
BOOL_SETTER(set_tty, tty)
BOOL_SETTER(set_rm, auto_remove)
BOOL_SETTER(set_init, init)
BOOL_SETTER(set_read_only, read_only)
BOOL_SETTER(set_privileged, privileged)

static BERTH_WUR int set_name(struct berth_run_opts *o, const char *flag, const char *v, berth_error_t *err)
{
  const char *s = v[0] == '/' ? v + 1 : v;
  bool ok = isalnum((unsigned char) s[0]) && s[1] != '\0';
  for (const char *p = s; ok && *p; p++)
    ok = isalnum((unsigned char) *p) || *p == '_' || *p == '.' || *p == '-';
  if (!ok)
    return BERTH_ERR(err, "%s: invalid container name \"%s\", only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
                     flag, v);
  return set_string(&o->name, s);
}

static BERTH_WUR int set_runtime(struct berth_run_opts *o, const char *flag, const char *v,
                                 berth_error_t *err)
{
  if (strcmp(v, "berth-runtime") != 0 && strcmp(v, "runc") != 0 && strcmp(v, "crun") != 0 && v[0] != '/')
    return BERTH_ERR(err, "%s: unknown runtime \"%s\" (berth-runtime, runc, crun or an absolute path)", flag,
                     v);
  return set_string(&o->runtime, v);
}

static BERTH_WUR int set_env(struct berth_run_opts *o, const char *flag, const char *v, berth_error_t *err)
{
  return berth_runopts_parse_env(flag, v, o->lookup_env, o->lookup_env_data, &o->env, err);
}

static BERTH_WUR int set_env_file(struct berth_run_opts *o, const char *flag, const char *v,
                                  berth_error_t *err)
{
  if (v[0] == '\0')
    return BERTH_ERR(err, "%s: a file name is required", flag);
  o->env_files = berth_strv_append(o->env_files, v);
  return 0;
}

static BERTH_WUR int set_workdir(struct berth_run_opts *o, const char *flag, const char *v,
                                 berth_error_t *err)
{
  if (v[0] != '/')
    return BERTH_ERR(err, "%s: the working directory \"%s\" is invalid, it needs to be an absolute path",
                     flag, v);
  free(o->workdir);
  o->workdir = berth_runopts_clean_path(v);
  return 0;
}

static BERTH_WUR int set_user(struct berth_run_opts *o, const char *flag, const char *v, berth_error_t *err)
{
  const char *colon = strchr(v, ':');
  if (v[0] == '\0' || v[0] == ':' || (colon && (colon[1] == '\0' || strchr(colon + 1, ':'))))
    return BERTH_ERR(err, "%s: invalid user \"%s\" (<name|uid>[:<group|gid>])", flag, v);
  return set_string(&o->user, v);
}

static BERTH_WUR int set_group_add(struct berth_run_opts *o, const char *flag, const char *v,
                                   berth_error_t *err)
{
  if (v[0] == '\0' || strchr(v, ':') != NULL)
    return BERTH_ERR(err, "%s: invalid group \"%s\"", flag, v);
  o->group_add = berth_strv_append(o->group_add, v);
  return 0;
}

static BERTH_WUR int entrypoint_json(const char *flag, const char *v, char ***out, berth_error_t *err)
{
  json_error_t je;
  json_t *a = json_loads(v, JSON_REJECT_DUPLICATES, &je);
  bool ok = a != NULL && json_is_array(a);
  size_t i;
  json_t *e;
  json_array_foreach (a, i, e) {
    if (!ok || !json_is_string(e) || strlen(json_string_value(e)) != json_string_length(e))
      ok = false;
    else
      *out = berth_strv_append(*out, json_string_value(e));
  }
  json_decref(a);
  if (!ok)
    return BERTH_ERR(err, "%s: invalid JSON array of strings: %s", flag, v);
  return 0;
}

static BERTH_WUR int set_entrypoint(struct berth_run_opts *o, const char *flag, const char *v,
                                    berth_error_t *err)
{
  cleanup_strv char **ep = NULL;
  if (v[0] == '[' && entrypoint_json(flag, v, &ep, err) < 0)
    return -1;
  if (v[0] != '[' && v[0] != '\0')
    ep = berth_strv_append(NULL, v);
  berth_strv_free(o->entrypoint);
  o->entrypoint = steal_ptr(ep);
  o->has_entrypoint = true;
  return 0;
}

static BERTH_WUR int set_stop_signal(struct berth_run_opts *o, const char *flag, const char *v,
                                     berth_error_t *err)
{
  return berth_runopts_parse_signal(flag, v, &o->stop_signal, err);
}

static BERTH_WUR int set_stop_timeout(struct berth_run_opts *o, const char *flag, const char *v,
                                      berth_error_t *err)
{
  int n = 0;
  if (berth_parse_int(v, &n) < 0 || n < -1)
    return BERTH_ERR(err, "%s: invalid timeout \"%s\" (seconds, -1: wait forever)", flag, v);
  o->stop_timeout = n;
  o->has_stop_timeout = true;
  return 0;
}

static BERTH_WUR int set_oom_score_adj(struct berth_run_opts *o, const char *flag, const char *v,
                                       berth_error_t *err)
{
  int n = 0;
  if (berth_parse_int(v, &n) < 0 || n < -1000 || n > 1000)
    return BERTH_ERR(err, "%s: invalid value \"%s\", range for oom score adj is [-1000, 1000]", flag, v);
  o->oom_score_adj = n;
  o->has_oom_score_adj = true;
  return 0;
}

static bool hostname_valid(const char *s)
{
  size_t n = strlen(s), label = 0;
  if (n == 0 || n > 63 || s[0] == '.' || s[0] == '-' || s[n - 1] == '.' || s[n - 1] == '-')
    return false;
  for (const char *p = s; *p; p++) {
    if (*p == '.') {
      if (label == 0 || p[-1] == '-' || p[1] == '-')
        return false;
      label = 0;
      continue;
    }
    if (!isalnum((unsigned char) *p) && *p != '-' && *p != '_')
      return false;
    label++;
  }
  return true;
}

static BERTH_WUR int set_hostname(struct berth_run_opts *o, const char *flag, const char *v,
                                  berth_error_t *err)
{
  if (!hostname_valid(v))
    return BERTH_ERR(err, "%s: invalid hostname \"%s\" (RFC 1123 labels, at most 63 characters)", flag, v);
  return set_string(&o->hostname, v);
}

static BERTH_WUR int set_add_host(struct berth_run_opts *o, const char *flag, const char *v,
                                  berth_error_t *err)
{
  const char *sep = strchr(v, '=');
  if (sep == NULL)
    sep = strchr(v, ':');
  if (sep == NULL || sep == v || sep[1] == '\0')
    return BERTH_ERR(err, "%s: bad format \"%s\" (name:ip)", flag, v);
  cleanup_free char *name = xstrndup(v, (size_t) (sep - v));
  for (const char *p = name; *p; p++)
    if (isspace((unsigned char) *p) || *p == '#')
      return BERTH_ERR(err, "%s: invalid host name \"%s\"", flag, name);
  char *ip = strcmp(sep + 1, "host-gateway") == 0 ? xstrdup("host-gateway") : runopts_ip(sep + 1);
  if (ip == NULL)
    return BERTH_ERR(err, "%s: invalid IP address \"%s\" in \"%s\"", flag, sep + 1, v);
  o->add_hosts = xreallocarray(o->add_hosts, o->n_add_hosts + 1, sizeof *o->add_hosts);
  o->add_hosts[o->n_add_hosts++] = (struct berth_run_host){ steal_ptr(name), ip };
  return 0;
}

static BERTH_WUR int set_dns(struct berth_run_opts *o, const char *flag, const char *v, berth_error_t *err)
{
  cleanup_free char *ip = runopts_ip(v);
  if (ip == NULL)
    return BERTH_ERR(err, "%s: invalid IP address \"%s\"", flag, v);
  o->dns = berth_strv_append(o->dns, ip);
  return 0;
}

static bool domain_valid(const char *s)
{
  size_t n = strlen(s);
  if (n > 0 && s[n - 1] == '.')
    n--;
  if (n == 0 || n > 255)
    return false;
  size_t label = 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (c == '.') {
      if (label == 0 || s[i - 1] == '-')
        return false;
      label = 0;
    } else if (isalnum((unsigned char) c) || (c == '-' && label > 0)) {
      label++;
    } else {
      return false;
    }
  }
  return label > 0 && s[n - 1] != '-';
}

static BERTH_WUR int set_dns_search(struct berth_run_opts *o, const char *flag, const char *v,
                                    berth_error_t *err)
{
  if (strcmp(v, ".") != 0 && !domain_valid(v))
    return BERTH_ERR(err, "%s: invalid domain \"%s\"", flag, v);
  o->dns_search = berth_strv_append(o->dns_search, v);
  return 0;
}

static BERTH_WUR int set_dns_option(struct berth_run_opts *o, const char *flag, const char *v,
                                    berth_error_t *err)
{
  if (v[0] == '\0' || strpbrk(v, " \t\r\n") != NULL)
    return BERTH_ERR(err, "%s: invalid option \"%s\"", flag, v);
  o->dns_options = berth_strv_append(o->dns_options, v);
  return 0;
}

static BERTH_WUR int set_label(struct berth_run_opts *o, const char *flag, const char *v, berth_error_t *err)
{
  const char *eq = strchr(v, '=');
  cleanup_free char *key = eq ? xstrndup(v, (size_t) (eq - v)) : xstrdup(v);
  if (key[0] == '\0' || strpbrk(key, " \t\r\n") != NULL)
    return BERTH_ERR(err, "%s: invalid label \"%s\"", flag, v);
  runopts_kv_set(&o->labels, &o->n_labels, key, eq ? eq + 1 : "");
  return 0;
}

static int add_mount(struct berth_run_opts *o, struct berth_run_mount *m)
{
  o->mounts = xreallocarray(o->mounts, o->n_mounts + 1, sizeof *o->mounts);
  o->mounts[o->n_mounts++] = *m;
  return 0;
}

static BERTH_WUR int set_volume(struct berth_run_opts *o, const char *flag, const char *v, berth_error_t *err)
{
  struct berth_run_mount m;
  return berth_runopts_parse_volume(flag, v, &m, err) < 0 ? -1 : add_mount(o, &m);
}

static BERTH_WUR int set_mount(struct berth_run_opts *o, const char *flag, const char *v, berth_error_t *err)
{
  struct berth_run_mount m;
  return berth_runopts_parse_mount(flag, v, &m, err) < 0 ? -1 : add_mount(o, &m);
}

static BERTH_WUR int set_tmpfs(struct berth_run_opts *o, const char *flag, const char *v, berth_error_t *err)
{
  struct berth_run_mount m;
  return berth_runopts_parse_tmpfs(flag, v, &m, err) < 0 ? -1 : add_mount(o, &m);
}

static BERTH_WUR int set_shm_size(struct berth_run_opts *o, const char *flag, const char *v,
                                  berth_error_t *err)
{
  int64_t n = 0;
  if (berth_runopts_parse_size(flag, v, &n, err) < 0)
    return -1;
  if (n <= 0)
    return BERTH_ERR(err, "%s: must be greater than 0, got \"%s\"", flag, v);
  o->shm_size = n;
  return 0;
}

static BERTH_WUR int cap_list(const char *flag, const char *v, char ***list, berth_error_t *err)
{
  cleanup_free char *copy = xstrdup(v);
  char *save = NULL;
  if (v[0] == '\0')
    return BERTH_ERR(err, "%s: a capability is required", flag);
  for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    for (char *p = tok; *p; p++)
      *p = (char) toupper((unsigned char) *p);
    cleanup_free char *name =
      strcmp(tok, "ALL") == 0 || berth_str_has_prefix(tok, "CAP_") ? xstrdup(tok) : xasprintf("CAP_%s", tok);
    if (strcmp(name, "ALL") != 0 && berth_cap_from_name(name) < 0)
      return BERTH_ERR(err, "%s: unknown capability \"%s\"", flag, tok);
    *list = berth_strv_append(*list, name);
  }
  return 0;
}

static BERTH_WUR int set_cap_add(struct berth_run_opts *o, const char *flag, const char *v,
                                 berth_error_t *err)
{
  return cap_list(flag, v, &o->cap_add, err);
}

static BERTH_WUR int set_cap_drop(struct berth_run_opts *o, const char *flag, const char *v,
                                  berth_error_t *err)
{
  return cap_list(flag, v, &o->cap_drop, err);
}

/* seccomp=, apparmor=, label=, no-new-privileges[=b], systempaths=unconfined (':' also separates) */
static BERTH_WUR int set_security_opt(struct berth_run_opts *o, const char *flag, const char *v,
                                      berth_error_t *err)
{
  size_t klen = strcspn(v, "=:");
  const char *val = v[klen] ? v + klen + 1 : NULL;
  cleanup_free char *key = xstrndup(v, klen);
  if (strcmp(key, "no-new-privileges") == 0)
    return runopts_parse_bool(flag, val, &o->no_new_privileges, err);
  if (val == NULL || val[0] == '\0')
    return BERTH_ERR(err,
                     "%s: invalid option \"%s\" (seccomp=, apparmor=, label=, no-new-privileges, "
                     "systempaths=unconfined)",
                     flag, v);
  if (strcmp(key, "seccomp") == 0) {
    o->seccomp_unconfined = strcmp(val, "unconfined") == 0;
    free(o->seccomp_path);
    free(o->seccomp_profile);
    o->seccomp_profile = NULL;
    o->seccomp_path = o->seccomp_unconfined ? NULL : xstrdup(val);
    return 0;
  }
  if (strcmp(key, "apparmor") == 0)
    return set_string(&o->apparmor, val);
  if (strcmp(key, "systempaths") == 0 && strcmp(val, "unconfined") == 0) {
    o->systempaths_unconfined = true;
    return 0;
  }
  if (strcmp(key, "label") == 0 && strcmp(val, "disable") == 0) {
    o->label_disable = true;
    return 0;
  }
  if (strcmp(key, "label") == 0 &&
      (berth_str_has_prefix(val, "user:") || berth_str_has_prefix(val, "role:") ||
       berth_str_has_prefix(val, "type:") || berth_str_has_prefix(val, "level:"))) {
    o->selinux_opts = berth_strv_append(o->selinux_opts, val);
    return 0;
  }
  return BERTH_ERR(err,
                   "%s: invalid option \"%s\" (seccomp=, apparmor=, label=, no-new-privileges, "
                   "systempaths=unconfined)",
                   flag, v);
}

static BERTH_WUR int set_memory(struct berth_run_opts *o, const char *flag, const char *v, berth_error_t *err)
{
  int64_t n = 0;
  if (berth_runopts_parse_size(flag, v, &n, err) < 0)
    return -1;
  if (n != 0 && n < 6 * 1024 * 1024)
    return BERTH_ERR(err, "%s: minimum memory limit allowed is 6MB, got \"%s\"", flag, v);
  o->memory = n;
  return 0;
}

static BERTH_WUR int set_memory_swap(struct berth_run_opts *o, const char *flag, const char *v,
                                     berth_error_t *err)
{
  if (strcmp(v, "-1") == 0) {
    o->memory_swap = -1;
    return 0;
  }
  return berth_runopts_parse_size(flag, v, &o->memory_swap, err);
}

static BERTH_WUR int set_memory_reservation(struct berth_run_opts *o, const char *flag, const char *v,
                                            berth_error_t *err)
{
  int64_t n = 0;
  if (berth_runopts_parse_size(flag, v, &n, err) < 0)
    return -1;
  if (n != 0 && n < 6 * 1024 * 1024)
    return BERTH_ERR(err, "%s: minimum memory reservation allowed is 6MB, got \"%s\"", flag, v);
  o->memory_reservation = n;
  return 0;
}

static BERTH_WUR int set_cpus(struct berth_run_opts *o, const char *flag, const char *v, berth_error_t *err)
{
  return runopts_parse_cpus(flag, v, &o->nano_cpus, err);
}

static BERTH_WUR int set_cpu_shares(struct berth_run_opts *o, const char *flag, const char *v,
                                    berth_error_t *err)
{
  uint64_t n = 0;
  if (berth_parse_u64(v, &n) < 0 || n > 262144)
    return BERTH_ERR(err, "%s: invalid value \"%s\" (0 to 262144)", flag, v);
  o->cpu_shares = n;
  return 0;
}

/* "0-3,5,7-8": ranges ascending, numbers below 8192 */
static bool cpu_list_valid(const char *s)
{
  if (*s == '\0')
    return false;
  while (*s) {
    char *end = NULL;
    if (!isdigit((unsigned char) *s))
      return false;
    unsigned long a = strtoul(s, &end, 10), b = a;
    if (*end == '-') {
      if (!isdigit((unsigned char) end[1]))
        return false;
      b = strtoul(end + 1, &end, 10);
    }
    if (a > b || b >= 8192 || (*end != ',' && *end != '\0') || (*end == ',' && end[1] == '\0'))
      return false;
    s = *end ? end + 1 : end;
  }
  return true;
}

static BERTH_WUR int set_cpuset_cpus(struct berth_run_opts *o, const char *flag, const char *v,
                                     berth_error_t *err)
{
  if (!cpu_list_valid(v))
    return BERTH_ERR(err, "%s: invalid list \"%s\" (e.g. 0-3,5)", flag, v);
  return set_string(&o->cpuset_cpus, v);
}

static BERTH_WUR int set_cpuset_mems(struct berth_run_opts *o, const char *flag, const char *v,
                                     berth_error_t *err)
{
  if (!cpu_list_valid(v))
    return BERTH_ERR(err, "%s: invalid list \"%s\" (e.g. 0-1)", flag, v);
  return set_string(&o->cpuset_mems, v);
}

static BERTH_WUR int set_pids_limit(struct berth_run_opts *o, const char *flag, const char *v,
                                    berth_error_t *err)
{
  int64_t n = 0;
  if (berth_parse_i64(v, &n) < 0)
    return BERTH_ERR(err, "%s: invalid number \"%s\"", flag, v);
  o->pids_limit = n;
  o->has_pids_limit = true;
  return 0;
}

static BERTH_WUR int set_blkio_weight(struct berth_run_opts *o, const char *flag, const char *v,
                                      berth_error_t *err)
{
  int n = 0;
  if (berth_parse_int(v, &n) < 0 || (n != 0 && (n < 10 || n > 1000)))
    return BERTH_ERR(err, "%s: invalid weight \"%s\" (10 to 1000, or 0)", flag, v);
  o->blkio_weight = (uint16_t) n;
  return 0;
}

static BERTH_WUR int set_ulimit(struct berth_run_opts *o, const char *flag, const char *v, berth_error_t *err)
{
  struct berth_run_ulimit u;
  if (berth_runopts_parse_ulimit(flag, v, &u, err) < 0)
    return -1;
  for (size_t i = 0; i < o->n_ulimits; i++)
    if (o->ulimits[i].resource == u.resource) {
      o->ulimits[i] = u;
      return 0;
    }
  o->ulimits = xreallocarray(o->ulimits, o->n_ulimits + 1, sizeof *o->ulimits);
  o->ulimits[o->n_ulimits++] = u;
  return 0;
}

static BERTH_WUR int set_device(struct berth_run_opts *o, const char *flag, const char *v, berth_error_t *err)
{
  struct berth_run_device d;
  if (berth_runopts_parse_device(flag, v, &d, err) < 0)
    return -1;
  o->devices = xreallocarray(o->devices, o->n_devices + 1, sizeof *o->devices);
  o->devices[o->n_devices++] = d;
  return 0;
}

static BERTH_WUR int set_sysctl(struct berth_run_opts *o, const char *flag, const char *v, berth_error_t *err)
{
  static const char *const ipc[] = { "kernel.msgmax", "kernel.msgmnb",          "kernel.msgmni",
                                     "kernel.sem",    "kernel.shmall",          "kernel.shmmax",
                                     "kernel.shmmni", "kernel.shm_rmid_forced", NULL };
  const char *eq = strchr(v, '=');
  if (eq == NULL || eq == v)
    return BERTH_ERR(err, "%s: invalid sysctl \"%s\" (key=value)", flag, v);
  cleanup_free char *key = xstrndup(v, (size_t) (eq - v));
  for (char *p = key; *p; p++)
    if (*p == '/')
      *p = '.';
  bool ok = berth_str_has_prefix(key, "net.") || berth_str_has_prefix(key, "fs.mqueue.");
  for (size_t i = 0; !ok && ipc[i]; i++)
    ok = strcmp(ipc[i], key) == 0;
  if (!ok || strstr(key, "..") != NULL || key[strlen(key) - 1] == '.')
    return BERTH_ERR(err,
                     "%s: sysctl \"%s\" is not allowed (not namespaced: kernel.msg*, kernel.sem, "
                     "kernel.shm*, fs.mqueue.*, net.*)",
                     flag, key);
  runopts_kv_set(&o->sysctls, &o->n_sysctls, key, eq + 1);
  return 0;
}

static BERTH_WUR int set_ns(struct berth_run_opts *o, const char *flag, const char *v, berth_error_t *err)
{
  struct berth_ns_opt ns;
  if (berth_runopts_parse_ns(flag, v, &ns, err) < 0)
    return -1;
  const struct berth_runopts_flag *f = berth_runopts_flag_find(flag);
  struct berth_ns_opt *slot = strcmp(f->name, "--network") == 0 ? &o->network
                              : strcmp(f->name, "--pid") == 0   ? &o->pid
                              : strcmp(f->name, "--ipc") == 0   ? &o->ipc
                              : strcmp(f->name, "--uts") == 0   ? &o->uts
                                                                : &o->cgroupns;
  free(slot->value);
  *slot = ns;
  return 0;
}

static BERTH_WUR int set_restart(struct berth_run_opts *o, const char *flag, const char *v,
                                 berth_error_t *err)
{
  return berth_runopts_parse_restart(flag, v, &o->restart, &o->restart_max_retries, err);
}

static BERTH_WUR int set_log_opt(struct berth_run_opts *o, const char *flag, const char *v,
                                 berth_error_t *err)
{
  static const char *const known[] = { "max-size", "max-file",  "compress", "labels", "labels-regex",
                                       "env",      "env-regex", "tag",      "mode",   "max-buffer-size",
                                       NULL };
  const char *eq = strchr(v, '=');
  cleanup_free char *key = eq ? xstrndup(v, (size_t) (eq - v)) : NULL;
  size_t i = 0;
  while (key && known[i] && strcmp(known[i], key) != 0)
    i++;
  if (key == NULL || known[i] == NULL)
    return BERTH_ERR(err, "%s: unknown log opt \"%s\" (max-size, max-file, compress, ...)", flag, v);
  const char *val = eq + 1;
  int64_t size = -1;
  int files = 0;
  bool compress = false;
  if (strcmp(key, "max-size") == 0 && strcmp(val, "-1") != 0) {
    if (berth_runopts_parse_size(flag, val, &size, err) < 0)
      return -1;
    if (size == 0)
      return BERTH_ERR(err, "%s: max-size must be positive or -1, got \"%s\"", flag, val);
  }
  if (strcmp(key, "max-file") == 0 && (berth_parse_int(val, &files) < 0 || files < 1))
    return BERTH_ERR(err, "%s: max-file must be a positive integer, got \"%s\"", flag, val);
  if (strcmp(key, "compress") == 0 && runopts_parse_bool(flag, val, &compress, err) < 0)
    return -1;
  if (strcmp(key, "mode") == 0 && strcmp(val, "blocking") != 0 && strcmp(val, "non-blocking") != 0)
    return BERTH_ERR(err, "%s: mode must be blocking or non-blocking, got \"%s\"", flag, val);
  if (strcmp(key, "max-size") == 0)
    o->log_max_size = size;
  if (strcmp(key, "max-file") == 0)
    o->log_max_file = files;
  if (strcmp(key, "compress") == 0)
    o->log_compress = compress;
  runopts_kv_set(&o->log_opts, &o->n_log_opts, key, val);
  return 0;
}

/* ---------------- the table ---------------- */

/* X(name, short, takes_value, repeatable, setter, help) */
#define RUNOPTS_FLAGS(X)                                                                                     \
  X("--detach", 'd', false, false, set_detach, "Run container in background and print container ID")         \
  X("--interactive", 'i', false, false, set_interactive, "Keep STDIN open even if not attached")             \
  X("--tty", 't', false, false, set_tty, "Allocate a pseudo-TTY")                                            \
  X("--rm", 0, false, false, set_rm, "Automatically remove the container when it exits")                     \
  X("--name", 0, true, false, set_name, "Assign a name to the container")                                    \
  X("--runtime", 0, true, false, set_runtime,                                                                \
    "Runtime to use for this container (berth-runtime, runc, crun)")                                         \
  X("--env", 'e', true, true, set_env, "Set environment variables")                                          \
  X("--env-file", 0, true, true, set_env_file, "Read in a file of environment variables")                    \
  X("--workdir", 'w', true, false, set_workdir, "Working directory inside the container")                    \
  X("--user", 'u', true, false, set_user, "Username or UID (format: <name|uid>[:<group|gid>])")              \
  X("--group-add", 0, true, true, set_group_add, "Add additional groups to join")                            \
  X("--entrypoint", 0, true, false, set_entrypoint, "Overwrite the default ENTRYPOINT of the image")         \
  X("--init", 0, false, false, set_init,                                                                     \
    "Run an init inside the container that forwards signals and reaps "                                      \
    "processes")                                                                                             \
  X("--stop-signal", 0, true, false, set_stop_signal, "Signal to stop the container")                        \
  X("--stop-timeout", 0, true, false, set_stop_timeout, "Timeout (in seconds) to stop a container")          \
  X("--oom-score-adj", 0, true, false, set_oom_score_adj, "Tune host's OOM preferences (-1000 to 1000)")     \
  X("--hostname", 'h', true, false, set_hostname, "Container host name")                                     \
  X("--add-host", 0, true, true, set_add_host, "Add a custom host-to-IP mapping (host:ip)")                  \
  X("--dns", 0, true, true, set_dns, "Set custom DNS servers")                                               \
  X("--dns-search", 0, true, true, set_dns_search, "Set custom DNS search domains")                          \
  X("--dns-option", 0, true, true, set_dns_option, "Set DNS options")                                        \
  X("--label", 'l', true, true, set_label, "Set meta data on a container")                                   \
  X("--read-only", 0, false, false, set_read_only, "Mount the container's root filesystem as read only")     \
  X("--volume", 'v', true, true, set_volume, "Bind mount a volume")                                          \
  X("--mount", 0, true, true, set_mount, "Attach a filesystem mount to the container")                       \
  X("--tmpfs", 0, true, true, set_tmpfs, "Mount a tmpfs directory")                                          \
  X("--shm-size", 0, true, false, set_shm_size, "Size of /dev/shm")                                          \
  X("--privileged", 0, false, false, set_privileged, "Give extended privileges to this container")           \
  X("--cap-add", 0, true, true, set_cap_add, "Add Linux capabilities")                                       \
  X("--cap-drop", 0, true, true, set_cap_drop, "Drop Linux capabilities")                                    \
  X("--security-opt", 0, true, true, set_security_opt, "Security Options")                                   \
  X("--memory", 'm', true, false, set_memory, "Memory limit")                                                \
  X("--memory-swap", 0, true, false, set_memory_swap,                                                        \
    "Swap limit equal to memory plus swap: -1 to enable "                                                    \
    "unlimited swap")                                                                                        \
  X("--memory-reservation", 0, true, false, set_memory_reservation, "Memory soft limit")                     \
  X("--cpus", 0, true, false, set_cpus, "Number of CPUs")                                                    \
  X("--cpu-shares", 'c', true, false, set_cpu_shares, "CPU shares (relative weight)")                        \
  X("--cpuset-cpus", 0, true, false, set_cpuset_cpus, "CPUs in which to allow execution (0-3, 0,1)")         \
  X("--cpuset-mems", 0, true, false, set_cpuset_mems, "MEMs in which to allow execution (0-3, 0,1)")         \
  X("--pids-limit", 0, true, false, set_pids_limit, "Tune container pids limit (set -1 for unlimited)")      \
  X("--blkio-weight", 0, true, false, set_blkio_weight,                                                      \
    "Block IO (relative weight), between 10 and 1000, or 0 "                                                 \
    "to disable")                                                                                            \
  X("--ulimit", 0, true, true, set_ulimit, "Ulimit options")                                                 \
  X("--device", 0, true, true, set_device, "Add a host device to the container")                             \
  X("--sysctl", 0, true, true, set_sysctl, "Sysctl options")                                                 \
  X("--network", 0, true, true, runopts_set_network,                                                         \
    "Connect a container to a network (a network's name, bridge, none, host, container:<name>, "             \
    "ns:<path>)")                                                                                            \
  X("--network-alias", 0, true, true, runopts_set_alias, "Add network-scoped alias for the container")       \
  X("--ip", 0, true, false, runopts_set_ip, "IPv4 address (e.g., 172.30.100.104)")                           \
  X("--ip6", 0, true, false, runopts_set_ip6, "IPv6 address (e.g., 2001:db8::33)")                           \
  X("--mac-address", 0, true, false, runopts_set_mac, "Container MAC address (e.g., 92:d0:c6:0a:29:33)")     \
  X("--publish", 'p', true, true, runopts_set_publish, "Publish a container's port(s) to the host")          \
  X("--publish-all", 'P', false, false, runopts_set_publish_all,                                             \
    "Publish all exposed ports to random ports")                                                             \
  X("--expose", 0, true, true, runopts_set_expose, "Expose a port or a range of ports")                      \
  X("--pid", 0, true, false, set_ns, "PID namespace to use")                                                 \
  X("--ipc", 0, true, false, set_ns, "IPC mode to use")                                                      \
  X("--uts", 0, true, false, set_ns, "UTS namespace to use")                                                 \
  X("--cgroupns", 0, true, false, set_ns, "Cgroup namespace to use (host|private)")                          \
  X("--restart", 0, true, false, set_restart, "Restart policy to apply when a container exits")              \
  X("--log-opt", 0, true, true, set_log_opt, "Log driver options")

#define AS_FLAG(n, s, tv, rep, fn, h)   { n, s, tv, rep, h },
#define AS_SETTER(n, s, tv, rep, fn, h) fn,
static const struct berth_runopts_flag flags[] = { RUNOPTS_FLAGS(AS_FLAG) };
static setter_fn *const setters[] = { RUNOPTS_FLAGS(AS_SETTER) };
_Static_assert(BERTH_N_ELEMENTS(flags) == BERTH_N_ELEMENTS(setters), "one setter per flag");

/* both tables in one (made once; the process's for its life) */
const struct berth_runopts_flag *berth_runopts_flags(size_t *n)
{
  static struct berth_runopts_flag *all;
  size_t nmore = 0;
  const struct berth_runopts_flag *more = runopts_more_flags(&nmore);
  if (all == NULL) {
    all = xcalloc(BERTH_N_ELEMENTS(flags) + nmore, sizeof *all);
    memcpy(all, flags, sizeof flags);
    memcpy(all + BERTH_N_ELEMENTS(flags), more, nmore * sizeof *more);
  }
  *n = BERTH_N_ELEMENTS(flags) + nmore;
  return all;
}

/* the index of flag in the tables (runopts.c's first, then runopts_more.c's), -1 when unknown */
static ssize_t flag_index(const char *flag)
{
  if (flag == NULL)
    return -1;
  if (strcmp(flag, "--net") == 0)
    flag = "--network";
  if (strcmp(flag, "--alias") == 0)
    flag = "--network-alias";
  size_t n = 0;
  const struct berth_runopts_flag *all = berth_runopts_flags(&n);
  for (size_t i = 0; i < n; i++) {
    bool short_match = flag[0] == '-' && flag[1] != '\0' && flag[1] == all[i].short_name && flag[2] == '\0';
    if (short_match || strcmp(all[i].name, flag) == 0)
      return (ssize_t) i;
  }
  return -1;
}

const struct berth_runopts_flag *berth_runopts_flag_find(const char *flag)
{
  size_t n = 0;
  const struct berth_runopts_flag *all = berth_runopts_flags(&n);
  ssize_t i = flag_index(flag);
  return i < 0 ? NULL : &all[i];
}

int berth_runopts_set(struct berth_run_opts *o, const char *flag, const char *value, berth_error_t *err)
{
  ssize_t i = flag_index(flag);
  if (i < 0)
    return BERTH_ERR(err, "unknown flag: %s", flag ? flag : "(null)");
  size_t n = 0;
  const struct berth_runopts_flag *all = berth_runopts_flags(&n);
  if (all[i].takes_value && value == NULL)
    return BERTH_ERR(err, "%s: flag needs an argument", flag);
  if (value != NULL && !runopts_utf8_valid(value, strlen(value)))
    return BERTH_ERR(err, "%s: the value is not valid UTF-8", flag);
  if ((size_t) i >= BERTH_N_ELEMENTS(flags))
    return runopts_more_set((size_t) i - BERTH_N_ELEMENTS(flags), o, all[i].name, value, err);
  return setters[i](o, flag, value, err);
}
