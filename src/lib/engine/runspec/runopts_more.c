/* The rest of Docker's `run`/`create` flags (issue 16): their setters and a second table that
 * berth_runopts_set consults after runopts.c's. Every flag of `docker run` is either here or
 * there, supported, or refused here naming the flag and why (docs/berth.md has the table). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/runspec/runopts_internal.h"
#include "engine/runspec/runspec.h"

typedef int setter_fn(struct berth_run_opts *o, const char *flag, const char *v, berth_error_t *err);

static BERTH_WUR int parse_i64(const char *flag, const char *v, int64_t min, int64_t max, int64_t *out,
                               berth_error_t *err)
{
  char *end = NULL;
  errno = 0;
  long long n = strtoll(v, &end, 10);
  if (errno || end == v || *end || n < min || n > max)
    return BERTH_ERR(err, "%s: invalid value \"%s\" (an integer from %" PRId64 " to %" PRId64 ")", flag, v,
                     min, max);
  *out = n;
  return 0;
}

static BERTH_WUR int set_cpu_quota(struct berth_run_opts *o, const char *flag, const char *v,
                                   berth_error_t *err)
{
  int64_t n = 0;
  if (parse_i64(flag, v, -1, INT64_MAX, &n, err) < 0)
    return -1;
  if (n > 0 && n < 1000)
    return BERTH_ERR(err, "%s: CPU cfs quota can not be less than 1ms (i.e. 1000)", flag);
  o->cpu_quota = n;
  return 0;
}

static BERTH_WUR int set_cpu_period(struct berth_run_opts *o, const char *flag, const char *v,
                                    berth_error_t *err)
{
  int64_t n = 0;
  if (parse_i64(flag, v, 0, 1000000, &n, err) < 0)
    return -1;
  if (n != 0 && n < 1000)
    return BERTH_ERR(
      err, "%s: CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)", flag);
  o->cpu_period = (uint64_t) n;
  return 0;
}

static BERTH_WUR int set_cpu_rt_runtime(struct berth_run_opts *o, const char *flag, const char *v,
                                        berth_error_t *err)
{
  return parse_i64(flag, v, 0, INT64_MAX, &o->cpu_rt_runtime, err);
}

static BERTH_WUR int set_cpu_rt_period(struct berth_run_opts *o, const char *flag, const char *v,
                                       berth_error_t *err)
{
  int64_t n = 0;
  if (parse_i64(flag, v, 0, 1000000, &n, err) < 0)
    return -1;
  o->cpu_rt_period = (uint64_t) n;
  return 0;
}

/* "c 1:3 mr", "b *:* rwm", "a": type, major:minor (a number or *), access (r, w, m) */
int berth_runopts_parse_cgroup_rule(const char *v, struct berth_cgroup_rule *out)
{
  memset(out, 0, sizeof *out);
  out->major = out->minor = -1;
  if (strcmp(v, "a") == 0 || strcmp(v, "a *:* rwm") == 0) {
    out->type = 'a';
    snprintf(out->access, sizeof out->access, "rwm");
    return 0;
  }
  char type = 0, access[8] = "";
  char majs[24] = "", mins[24] = "";
  if (sscanf(v, "%c %23[0-9*]:%23[0-9*] %7s", &type, majs, mins, access) != 4 || strchr("abc", type) == NULL)
    return -1;
  if (strcmp(majs, "*") != 0 && (majs[0] == '*' || (out->major = strtoll(majs, NULL, 10)) < 0))
    return -1;
  if (strcmp(mins, "*") != 0 && (mins[0] == '*' || (out->minor = strtoll(mins, NULL, 10)) < 0))
    return -1;
  if (access[0] == '\0' || strlen(access) > 3)
    return -1;
  for (const char *p = access; *p; p++)
    if (strchr("rwm", *p) == NULL || strchr(p + 1, *p) != NULL)
      return -1;
  out->type = type;
  memcpy(out->access, access, strlen(access) + 1);
  return 0;
}

static BERTH_WUR int set_device_cgroup_rule(struct berth_run_opts *o, const char *flag, const char *v,
                                            berth_error_t *err)
{
  struct berth_cgroup_rule r;
  if (berth_runopts_parse_cgroup_rule(v, &r) < 0)
    return BERTH_ERR(err,
                     "%s: invalid device cgroup rule \"%s\" (like \"c 1:3 mr\": a|b|c, major:minor or *, "
                     "access of r, w, m)",
                     flag, v);
  o->device_cgroup_rules = berth_strv_append(o->device_cgroup_rules, v);
  return 0;
}

static BERTH_WUR int set_swappiness(struct berth_run_opts *o, const char *flag, const char *v,
                                    berth_error_t *err)
{
  if (parse_i64(flag, v, -1, 100, &o->memory_swappiness, err) < 0)
    return -1;
  o->has_memory_swappiness = o->memory_swappiness >= 0;
  return 0;
}

static BERTH_WUR int set_oom_kill_disable(struct berth_run_opts *o, const char *flag, const char *v,
                                          berth_error_t *err)
{
  return runopts_parse_bool(flag, v, &o->oom_kill_disable, err);
}

static BERTH_WUR int set_domainname(struct berth_run_opts *o, const char *flag, const char *v,
                                    berth_error_t *err)
{
  if (strlen(v) > 255 || strpbrk(v, " \t\r\n/") != NULL)
    return BERTH_ERR(err, "%s: invalid domain name \"%s\"", flag, v);
  free(o->domainname);
  o->domainname = xstrdup(v);
  return 0;
}

static BERTH_WUR int set_annotation(struct berth_run_opts *o, const char *flag, const char *v,
                                    berth_error_t *err)
{
  const char *eq = strchr(v, '=');
  if (eq == NULL || eq == v)
    return BERTH_ERR(err, "%s: invalid annotation \"%s\" (key=value)", flag, v);
  cleanup_free char *key = xstrndup(v, (size_t) (eq - v));
  runopts_kv_set(&o->annotations, &o->n_annotations, key, eq + 1);
  return 0;
}

static BERTH_WUR int set_label_file(struct berth_run_opts *o, const char *flag, const char *v,
                                    berth_error_t *err)
{
  if (v[0] == '\0')
    return BERTH_ERR(err, "%s: a file name is required", flag);
  o->label_files = berth_strv_append(o->label_files, v);
  return 0;
}

static BERTH_WUR int set_log_driver(struct berth_run_opts *o, const char *flag, const char *v,
                                    berth_error_t *err)
{
  if (strcmp(v, "json-file") != 0 && strcmp(v, "k8s-file") != 0 && strcmp(v, "none") != 0)
    return BERTH_ERR(
      err,
      "%s: logging driver \"%s\" is not supported (json-file, k8s-file: berth's one log file, read "
      "by `berth logs`; none: no log)",
      flag, v);
  free(o->log_driver);
  o->log_driver = xstrdup(v);
  return 0;
}

static BERTH_WUR int set_volumes_from(struct berth_run_opts *o, const char *flag, const char *v,
                                      berth_error_t *err)
{
  const char *colon = strchr(v, ':');
  if (v[0] == '\0' || v[0] == ':' ||
      (colon && strcmp(colon, ":ro") != 0 && strcmp(colon, ":rw") != 0 && strcmp(colon, ":z") != 0 &&
       strcmp(colon, ":Z") != 0))
    return BERTH_ERR(err, "%s: invalid value \"%s\" (CONTAINER[:ro|:rw])", flag, v);
  o->volumes_from = berth_strv_append(o->volumes_from, v);
  return 0;
}

static BERTH_WUR int set_userns(struct berth_run_opts *o, const char *flag, const char *v, berth_error_t *err)
{
  if (v[0] != '\0' && strcmp(v, "host") != 0)
    return BERTH_ERR(err,
                     "%s: \"%s\" is not supported (only host: berth's engine runs containers in the "
                     "host's user namespace; berth-runtime takes user namespaces from a config)",
                     flag, v);
  return 0;
}

static BERTH_WUR int set_volume_driver(struct berth_run_opts *o, const char *flag, const char *v,
                                       berth_error_t *err)
{
  if (strcmp(v, "local") != 0)
    return BERTH_ERR(err, "%s: volume driver \"%s\" is not supported (only local)", flag, v);
  return 0;
}

static BERTH_WUR int set_isolation(struct berth_run_opts *o, const char *flag, const char *v,
                                   berth_error_t *err)
{
  if (strcmp(v, "default") != 0 && v[0] != '\0')
    return BERTH_ERR(err, "%s: \"%s\" is not supported on Linux (only default)", flag, v);
  return 0;
}

static BERTH_WUR int set_ignored_bool(struct berth_run_opts *o, const char *flag, const char *v,
                                      berth_error_t *err)
{
  bool b;
  return runopts_parse_bool(flag, v, &b, err); /* --disable-content-trust: berth verifies no signatures */
}

/* ---- healthchecks ---- */

static BERTH_WUR int set_health_cmd(struct berth_run_opts *o, const char *flag, const char *v,
                                    berth_error_t *err)
{
  berth_strv_free(o->health_test);
  o->health_test = NULL;
  if (v[0] == '\0')
    return 0;
  o->health_test = berth_strv_append(o->health_test, "CMD-SHELL");
  o->health_test = berth_strv_append(o->health_test, v);
  return 0;
}

/* Go's time.ParseDuration, as Docker takes --health-*: "30s", "1m30s", "500ms" */
int berth_runopts_parse_duration(const char *s, int64_t *ns)
{
  int64_t total = 0;
  if (s == NULL || *s == '\0')
    return -1;
  if (strcmp(s, "0") == 0) {
    *ns = 0;
    return 0;
  }
  for (const char *p = s; *p;) {
    char *end = NULL;
    if (!isdigit((unsigned char) *p) && *p != '.')
      return -1;
    double v = strtod(p, &end);
    if (end == p)
      return -1;
    static const struct {
      const char *unit;
      int64_t ns;
    } units[] = { { "ns", 1 },           { "us", 1000 },         { "µs", 1000 },          { "ms", 1000000 },
                  { "s", 1000000000LL }, { "m", 60000000000LL }, { "h", 3600000000000LL } };
    size_t k = 0;
    while (k < BERTH_N_ELEMENTS(units) && !(strncmp(end, units[k].unit, strlen(units[k].unit)) == 0 &&
                                            (strcmp(units[k].unit, "m") != 0 || end[1] != 's')))
      k++;
    if (k == BERTH_N_ELEMENTS(units) || v * (double) units[k].ns > 9.2e18)
      return -1;
    total += (int64_t) (v * (double) units[k].ns);
    p = end + strlen(units[k].unit);
  }
  *ns = total;
  return 0;
}

static BERTH_WUR int duration(const char *flag, const char *v, int64_t min, int64_t *out, berth_error_t *err)
{
  int64_t ns = 0;
  if (berth_runopts_parse_duration(v, &ns) < 0)
    return BERTH_ERR(err, "%s: invalid duration \"%s\" (like 30s, 1m30s, 500ms)", flag, v);
  if (ns != 0 && ns < min)
    return BERTH_ERR(err, "%s: cannot be less than %lldms", flag, (long long) (min / 1000000));
  *out = ns;
  return 0;
}

static BERTH_WUR int set_health_interval(struct berth_run_opts *o, const char *flag, const char *v,
                                         berth_error_t *err)
{
  return duration(flag, v, 1000000, &o->health_interval, err);
}

static BERTH_WUR int set_health_timeout(struct berth_run_opts *o, const char *flag, const char *v,
                                        berth_error_t *err)
{
  return duration(flag, v, 1000000, &o->health_timeout, err);
}

static BERTH_WUR int set_health_start_period(struct berth_run_opts *o, const char *flag, const char *v,
                                             berth_error_t *err)
{
  return duration(flag, v, 1000000, &o->health_start_period, err);
}

static BERTH_WUR int set_health_start_interval(struct berth_run_opts *o, const char *flag, const char *v,
                                               berth_error_t *err)
{
  return duration(flag, v, 1000000, &o->health_start_interval, err);
}

static BERTH_WUR int set_health_retries(struct berth_run_opts *o, const char *flag, const char *v,
                                        berth_error_t *err)
{
  int64_t n = 0;
  if (parse_i64(flag, v, 0, 1000000, &n, err) < 0)
    return -1;
  o->health_retries = (int) n;
  o->has_health_retries = true;
  return 0;
}

static BERTH_WUR int set_no_healthcheck(struct berth_run_opts *o, const char *flag, const char *v,
                                        berth_error_t *err)
{
  return runopts_parse_bool(flag, v, &o->no_healthcheck, err);
}

/* ---- the run command's own ---- */

static BERTH_WUR int set_cidfile(struct berth_run_opts *o, const char *flag, const char *v,
                                 berth_error_t *err)
{
  if (v[0] == '\0')
    return BERTH_ERR(err, "%s: a file name is required", flag);
  free(o->cidfile);
  o->cidfile = xstrdup(v);
  return 0;
}

static BERTH_WUR int set_attach(struct berth_run_opts *o, const char *flag, const char *v, berth_error_t *err)
{
  cleanup_free char *low = xstrdup(v);
  for (char *p = low; *p; p++)
    *p = (char) tolower((unsigned char) *p);
  if (strcmp(low, "stdin") != 0 && strcmp(low, "stdout") != 0 && strcmp(low, "stderr") != 0)
    return BERTH_ERR(err, "%s: invalid argument \"%s\": valid streams are STDIN, STDOUT and STDERR", flag, v);
  o->attach = berth_strv_append(o->attach, low);
  return 0;
}

static BERTH_WUR int set_detach_keys(struct berth_run_opts *o, const char *flag, const char *v,
                                     berth_error_t *err)
{
  unsigned char keys[BERTH_DETACH_KEYS_MAX];
  size_t n = 0;
  if (berth_runopts_parse_detach_keys(v, keys, &n) < 0)
    return BERTH_ERR(err,
                     "%s: invalid detach keys \"%s\" (a comma-separated list: a letter, or ctrl-<a-z, @, [, "
                     "\\, ], ^ or _>)",
                     flag, v);
  free(o->detach_keys);
  o->detach_keys = xstrdup(v);
  return 0;
}

static BERTH_WUR int set_sig_proxy(struct berth_run_opts *o, const char *flag, const char *v,
                                   berth_error_t *err)
{
  o->has_sig_proxy = true;
  return runopts_parse_bool(flag, v, &o->sig_proxy, err);
}

int berth_runopts_parse_detach_keys(const char *s, unsigned char *keys, size_t *n)
{
  *n = 0;
  if (s == NULL || *s == '\0')
    return -1;
  cleanup_free char *copy = xstrdup(s);
  char *save = NULL;
  for (char *k = strtok_r(copy, ",", &save); k; k = strtok_r(NULL, ",", &save)) {
    if (*n >= BERTH_DETACH_KEYS_MAX)
      return -1;
    if (strlen(k) == 1) {
      keys[(*n)++] = (unsigned char) k[0];
      continue;
    }
    if (strncasecmp(k, "ctrl-", 5) != 0 || strlen(k) != 6)
      return -1;
    char c = (char) tolower((unsigned char) k[5]);
    if (c >= 'a' && c <= 'z')
      keys[(*n)++] = (unsigned char) (c - 'a' + 1);
    else if (strchr("@[\\]^_", c))
      keys[(*n)++] = (unsigned char) (c == '@' ? 0 : c - '[' + 27);
    else
      return -1;
  }
  return *n ? 0 : -1;
}

/* ---- refused ---- */

/* a refused flag's help is its reason, which the error repeats */
static const char *refusal_why(const char *flag);

static BERTH_WUR int refuse(struct berth_run_opts *o, const char *flag, const char *v, berth_error_t *err)
{
  return BERTH_ERR(err, "%s: %s", flag, refusal_why(flag));
}

/* X(name, short, takes_value, repeatable, setter, help) */
#define RUNOPTS_MORE_FLAGS(X)                                                                                \
  X("--annotation", 0, true, true, set_annotation,                                                           \
    "Add an annotation to the container (passed through to the OCI runtime)")                                \
  X("--attach", 'a', true, true, set_attach, "Attach to STDIN, STDOUT or STDERR")                            \
  X("--cidfile", 0, true, false, set_cidfile, "Write the container ID to the file")                          \
  X("--cpu-period", 0, true, false, set_cpu_period, "Limit CPU CFS (Completely Fair Scheduler) period")      \
  X("--cpu-quota", 0, true, false, set_cpu_quota, "Limit CPU CFS (Completely Fair Scheduler) quota")         \
  X("--cpu-rt-period", 0, true, false, set_cpu_rt_period, "Limit CPU real-time period in microseconds")      \
  X("--cpu-rt-runtime", 0, true, false, set_cpu_rt_runtime, "Limit CPU real-time runtime in microseconds")   \
  X("--detach-keys", 0, true, false, set_detach_keys, "Override the key sequence for detaching a container") \
  X("--device-cgroup-rule", 0, true, true, set_device_cgroup_rule,                                           \
    "Add a rule to the cgroup allowed devices list")                                                         \
  X("--disable-content-trust", 0, false, false, set_ignored_bool,                                            \
    "Skip image verification (always: berth verifies no signatures)")                                        \
  X("--domainname", 0, true, false, set_domainname, "Container NIS domain name")                             \
  X("--health-cmd", 0, true, false, set_health_cmd, "Command to run to check health")                        \
  X("--health-interval", 0, true, false, set_health_interval,                                                \
    "Time between running the check (ms|s|m|h) (default 0s)")                                                \
  X("--health-retries", 0, true, false, set_health_retries,                                                  \
    "Consecutive failures needed to report unhealthy")                                                       \
  X("--health-start-interval", 0, true, false, set_health_start_interval,                                    \
    "Time between running the check during the start period (ms|s|m|h) (default 0s)")                        \
  X("--health-start-period", 0, true, false, set_health_start_period,                                        \
    "Start period for the container to initialize before starting health-retries countdown (ms|s|m|h) "      \
    "(default 0s)")                                                                                          \
  X("--health-timeout", 0, true, false, set_health_timeout,                                                  \
    "Maximum time to allow one check to run (ms|s|m|h) (default 0s)")                                        \
  X("--isolation", 0, true, false, set_isolation, "Container isolation technology (only default on Linux)")  \
  X("--label-file", 0, true, true, set_label_file, "Read in a line delimited file of labels")                \
  X("--log-driver", 0, true, false, set_log_driver,                                                          \
    "Logging driver for the container (json-file, k8s-file, none)")                                          \
  X("--memory-swappiness", 0, true, false, set_swappiness,                                                   \
    "Tune container memory swappiness (0 to 100) (default -1)")                                              \
  X("--no-healthcheck", 0, false, false, set_no_healthcheck, "Disable any container-specified HEALTHCHECK")  \
  X("--oom-kill-disable", 0, false, false, set_oom_kill_disable, "Disable OOM Killer")                       \
  X("--sig-proxy", 0, false, false, set_sig_proxy, "Proxy received signals to the process (default true)")   \
  X("--userns", 0, true, false, set_userns, "User namespace to use (only host)")                             \
  X("--volume-driver", 0, true, false, set_volume_driver,                                                    \
    "Optional volume driver for the container (only local)")                                                 \
  X("--volumes-from", 0, true, true, set_volumes_from, "Mount volumes from the specified container(s)")      \
  X("--blkio-weight-device", 0, true, true, refuse,                                                          \
    "not supported by berth: per-device weights are not supported; --blkio-weight is")                       \
  X("--cgroup-parent", 0, true, false, refuse,                                                               \
    "not supported by berth: berth places every container's cgroup under /berth")                            \
  X("--cpu-count", 0, true, false, refuse, "not supported by berth: Windows only")                           \
  X("--cpu-percent", 0, true, false, refuse, "not supported by berth: Windows only")                         \
  X("--device-read-bps", 0, true, true, refuse,                                                              \
    "not supported by berth: block I/O throttling is not supported")                                         \
  X("--device-read-iops", 0, true, true, refuse,                                                             \
    "not supported by berth: block I/O throttling is not supported")                                         \
  X("--device-write-bps", 0, true, true, refuse,                                                             \
    "not supported by berth: block I/O throttling is not supported")                                         \
  X("--device-write-iops", 0, true, true, refuse,                                                            \
    "not supported by berth: block I/O throttling is not supported")                                         \
  X("--gpus", 0, true, false, refuse,                                                                        \
    "not supported by berth: GPU devices are not supported (pass device nodes with --device)")               \
  X("--io-maxbandwidth", 0, true, false, refuse, "not supported by berth: Windows only")                     \
  X("--io-maxiops", 0, true, false, refuse, "not supported by berth: Windows only")                          \
  X("--kernel-memory", 0, true, false, refuse,                                                               \
    "not supported by berth: kernel memory limits are deprecated, and cgroup v2 has none")                   \
  X("--link", 0, true, true, refuse,                                                                         \
    "not supported by berth: legacy container links are not supported: put the containers on one user "      \
    "network")                                                                                               \
  X("--link-local-ip", 0, true, true, refuse,                                                                \
    "not supported by berth: link-local addresses are not supported")                                        \
  X("--storage-opt", 0, true, true, refuse,                                                                  \
    "not supported by berth: the overlay store has no per-container size option")

#define AS_FLAG(n, s, tv, rep, fn, h)   { n, s, tv, rep, h },
#define AS_SETTER(n, s, tv, rep, fn, h) fn,
static const struct berth_runopts_flag more_flags[] = { RUNOPTS_MORE_FLAGS(AS_FLAG) };
static setter_fn *const more_setters[] = { RUNOPTS_MORE_FLAGS(AS_SETTER) };
_Static_assert(BERTH_N_ELEMENTS(more_flags) == BERTH_N_ELEMENTS(more_setters), "one setter per flag");

static const char *refusal_why(const char *flag)
{
  for (size_t i = 0; i < BERTH_N_ELEMENTS(more_flags); i++)
    if (strcmp(flag, more_flags[i].name) == 0)
      return more_flags[i].help;
  return "not supported by berth";
}

const struct berth_runopts_flag *runopts_more_flags(size_t *n)
{
  *n = BERTH_N_ELEMENTS(more_flags);
  return more_flags;
}

int runopts_more_set(size_t i, struct berth_run_opts *o, const char *flag, const char *value,
                     berth_error_t *err)
{
  return more_setters[i](o, flag, value, err);
}

void runopts_more_release(struct berth_run_opts *o)
{
  berth_strv_free(o->device_cgroup_rules);
  free(o->domainname);
  runopts_kv_free(o->annotations, o->n_annotations);
  berth_strv_free(o->label_files);
  free(o->log_driver);
  berth_strv_free(o->volumes_from);
  berth_strv_free(o->health_test);
  free(o->cidfile);
  berth_strv_free(o->attach);
  free(o->detach_keys);
}
