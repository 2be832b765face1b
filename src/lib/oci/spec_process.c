/* The process object: user, args, env, cwd, capabilities, rlimits and the scheduling
 * attributes (oomScoreAdj, ioPriority, scheduler, execCPUAffinity). */
#include <inttypes.h>
#include <linux/ioprio.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/xalloc.h"
#include "oci/names.h"
#include "oci/spec_internal.h"

#ifndef SCHED_ISO
#define SCHED_ISO 4
#endif
#ifndef SCHED_DEADLINE
#define SCHED_DEADLINE 6
#endif

struct name_int {
  const char *name;
  int value;
};

static const struct name_int sched_policies[] = {
  { "SCHED_OTHER", SCHED_OTHER },
  { "SCHED_FIFO", SCHED_FIFO },
  { "SCHED_RR", SCHED_RR },
  { "SCHED_BATCH", SCHED_BATCH },
  { "SCHED_ISO", SCHED_ISO },
  { "SCHED_IDLE", SCHED_IDLE },
  { "SCHED_DEADLINE", SCHED_DEADLINE },
  { NULL, 0 },
};

/* SCHED_FLAG_* of linux/sched.h */
static const struct name_int sched_flags[] = {
  { "SCHED_FLAG_RESET_ON_FORK", 0x01 },  { "SCHED_FLAG_RECLAIM", 0x02 },
  { "SCHED_FLAG_DL_OVERRUN", 0x04 },     { "SCHED_FLAG_KEEP_POLICY", 0x08 },
  { "SCHED_FLAG_KEEP_PARAMS", 0x10 },    { "SCHED_FLAG_UTIL_CLAMP_MIN", 0x20 },
  { "SCHED_FLAG_UTIL_CLAMP_MAX", 0x40 }, { NULL, 0 },
};

static const struct name_int ioprio_classes[] = {
  { "IOPRIO_CLASS_RT", IOPRIO_CLASS_RT },
  { "IOPRIO_CLASS_BE", IOPRIO_CLASS_BE },
  { "IOPRIO_CLASS_IDLE", IOPRIO_CLASS_IDLE },
  { NULL, 0 },
};

static int find_name(const struct name_int *t, const char *name, int *out)
{
  for (; t->name; t++)
    if (strcmp(t->name, name) == 0) {
      *out = t->value;
      return 0;
    }
  return -1;
}

/* A string member that must be one of the table's names. */
static BERTH_WUR int get_named(struct berth_jctx *c, json_t *obj, const char *key, bool required,
                               const struct name_int *t, const char *what, int *out, berth_error_t *err)
{
  const char *s = NULL;
  int r = oci_get_string(c, obj, key, required, &s, err);
  if (r <= 0)
    return r;
  if (find_name(t, s, out) < 0)
    return berth_jctx_error(c, key, err, "unknown %s \"%s\"", what, s);
  return 1;
}

static BERTH_WUR int parse_user(struct berth_jctx *c, json_t *proc, struct berth_spec_user *u,
                                berth_error_t *err)
{
  json_t *obj = NULL;
  int r = berth_json_get_object(c, proc, "user", &obj, err);
  if (r <= 0)
    return r;
  size_t m = berth_jctx_push_key(c, "user");
  if (oci_get_u32(c, obj, "uid", false, &u->uid, err) < 0 ||
      oci_get_u32(c, obj, "gid", false, &u->gid, err) < 0 ||
      (r = oci_get_u32(c, obj, "umask", false, &u->umask, err)) < 0 ||
      berth_json_get_string(c, obj, "username", &u->username, err) < 0)
    return -1;
  u->has_umask = r == 1;
  if (u->has_umask && u->umask > 0777)
    return berth_jctx_error(c, "umask", err, "%#" PRIo32 " is not a file mode creation mask", u->umask);
  json_t *gids = NULL;
  if ((r = berth_json_get_array(c, obj, "additionalGids", &gids, err)) < 0)
    return -1;
  if (r == 1) {
    u->n_additional_gids = json_array_size(gids);
    u->additional_gids = xcalloc(u->n_additional_gids + 1, sizeof *u->additional_gids);
    for (size_t i = 0; i < u->n_additional_gids; i++) {
      json_t *g = json_array_get(gids, i);
      if (!json_is_integer(g) || json_integer_value(g) < 0 || json_integer_value(g) > UINT32_MAX) {
        size_t mi = berth_jctx_push_key(c, "additionalGids");
        berth_jctx_push_index(c, i);
        berth_jctx_error(c, NULL, err, "expected an integer in [0, 4294967295]");
        berth_jctx_pop(c, mi);
        return -1;
      }
      u->additional_gids[i] = (uint32_t) json_integer_value(g);
    }
  }
  berth_jctx_pop(c, m);
  return 0;
}

static BERTH_WUR int parse_cap_set(struct berth_jctx *c, json_t *obj, const char *key, uint64_t *mask,
                                   berth_error_t *err)
{
  cleanup_free const char **names = NULL;
  size_t n = 0;
  if (berth_json_get_strv(c, obj, key, &names, &n, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++) {
    int cap = berth_cap_from_name(names[i]);
    if (cap < 0 || cap > 63) {
      size_t m = berth_jctx_push_key(c, key);
      berth_jctx_push_index(c, i);
      berth_jctx_error(c, NULL, err, "unknown capability \"%s\"", names[i]);
      berth_jctx_pop(c, m);
      return -1;
    }
    *mask |= UINT64_C(1) << cap;
  }
  return 0;
}

static BERTH_WUR int parse_caps(struct berth_jctx *c, json_t *proc, struct berth_spec_caps *caps,
                                berth_error_t *err)
{
  json_t *obj = NULL;
  int r = berth_json_get_object(c, proc, "capabilities", &obj, err);
  if (r <= 0)
    return r;
  size_t m = berth_jctx_push_key(c, "capabilities");
  if (parse_cap_set(c, obj, "bounding", &caps->bounding, err) < 0 ||
      parse_cap_set(c, obj, "effective", &caps->effective, err) < 0 ||
      parse_cap_set(c, obj, "inheritable", &caps->inheritable, err) < 0 ||
      parse_cap_set(c, obj, "permitted", &caps->permitted, err) < 0 ||
      parse_cap_set(c, obj, "ambient", &caps->ambient, err) < 0)
    return -1;
  berth_jctx_pop(c, m);
  caps->present = true;
  return 0;
}

static BERTH_WUR int parse_rlimit(struct berth_jctx *c, json_t *o, struct berth_spec_rlimit *rl,
                                  berth_error_t *err)
{
  const char *type = NULL;
  if (oci_expect_object(c, o, err) < 0 || oci_get_string(c, o, "type", true, &type, err) < 0)
    return -1;
  rl->resource = berth_rlimit_from_name(type);
  if (rl->resource < 0)
    return berth_jctx_error(c, "type", err, "unknown rlimit \"%s\"", type);
  if (oci_get_u64(c, o, "soft", UINT64_MAX, true, &rl->soft, err) < 0 ||
      oci_get_u64(c, o, "hard", UINT64_MAX, true, &rl->hard, err) < 0)
    return -1;
  if (rl->soft > rl->hard)
    return berth_jctx_error(c, "soft", err, "%" PRIu64 " is greater than the hard limit %" PRIu64, rl->soft,
                            rl->hard);
  return 0;
}

static BERTH_WUR int parse_rlimits(struct berth_jctx *c, json_t *proc, struct berth_spec_process *p,
                                   berth_error_t *err)
{
  json_t *arr = NULL;
  int r = berth_json_get_array(c, proc, "rlimits", &arr, err);
  if (r <= 0)
    return r;
  p->n_rlimits = json_array_size(arr);
  p->rlimits = xcalloc(p->n_rlimits + 1, sizeof *p->rlimits);
  size_t m = berth_jctx_push_key(c, "rlimits");
  for (size_t i = 0; i < p->n_rlimits; i++) {
    size_t mi = berth_jctx_push_index(c, i);
    if (parse_rlimit(c, json_array_get(arr, i), &p->rlimits[i], err) < 0)
      return -1;
    for (size_t j = 0; j < i; j++)
      if (p->rlimits[j].resource == p->rlimits[i].resource)
        return berth_jctx_error(c, "type", err, "duplicate rlimit \"%s\" (also in rlimits[%zu])",
                                berth_rlimit_name(p->rlimits[i].resource), j);
    berth_jctx_pop(c, mi);
  }
  berth_jctx_pop(c, m);
  return 0;
}

static BERTH_WUR int parse_io_priority(struct berth_jctx *c, json_t *proc, struct berth_spec_io_priority *io,
                                       berth_error_t *err)
{
  json_t *obj = NULL;
  int r = berth_json_get_object(c, proc, "ioPriority", &obj, err);
  if (r <= 0)
    return r;
  size_t m = berth_jctx_push_key(c, "ioPriority");
  if (get_named(c, obj, "class", true, ioprio_classes, "io priority class", &io->class, err) < 0 ||
      oci_get_int(c, obj, "priority", 0, 7, false, &io->priority, err) < 0)
    return -1;
  berth_jctx_pop(c, m);
  io->present = true;
  return 0;
}

static BERTH_WUR int parse_sched_flags(struct berth_jctx *c, json_t *obj, uint64_t *flags, berth_error_t *err)
{
  cleanup_free const char **names = NULL;
  size_t n = 0;
  if (berth_json_get_strv(c, obj, "flags", &names, &n, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++) {
    int f;
    if (find_name(sched_flags, names[i], &f) < 0) {
      size_t m = berth_jctx_push_key(c, "flags");
      berth_jctx_push_index(c, i);
      berth_jctx_error(c, NULL, err, "unknown scheduler flag \"%s\"", names[i]);
      berth_jctx_pop(c, m);
      return -1;
    }
    *flags |= (uint64_t) f;
  }
  return 0;
}

/* Types and names, then runc's consistency rules: nice in [-20, 19], priority only for
 * SCHED_FIFO/SCHED_RR, runtime/deadline/period only for SCHED_DEADLINE. */
static BERTH_WUR int parse_scheduler(struct berth_jctx *c, json_t *proc, struct berth_spec_scheduler *s,
                                     berth_error_t *err)
{
  json_t *obj = NULL;
  int r = berth_json_get_object(c, proc, "scheduler", &obj, err);
  if (r <= 0)
    return r;
  size_t m = berth_jctx_push_key(c, "scheduler");
  int rn, rp;
  if (get_named(c, obj, "policy", true, sched_policies, "scheduler policy", &s->policy, err) < 0 ||
      (rn = oci_get_int(c, obj, "nice", -20, 19, false, &s->nice, err)) < 0 ||
      (rp = oci_get_int(c, obj, "priority", INT32_MIN, INT32_MAX, false, &s->priority, err)) < 0 ||
      parse_sched_flags(c, obj, &s->flags, err) < 0 ||
      oci_get_u64(c, obj, "runtime", UINT64_MAX, false, &s->runtime, err) < 0 ||
      oci_get_u64(c, obj, "deadline", UINT64_MAX, false, &s->deadline, err) < 0 ||
      oci_get_u64(c, obj, "period", UINT64_MAX, false, &s->period, err) < 0)
    return -1;
  s->has_nice = rn == 1;
  s->has_priority = rp == 1;
  if (s->has_priority && s->priority != 0 && s->policy != SCHED_FIFO && s->policy != SCHED_RR)
    return berth_jctx_error(c, "priority", err, "only SCHED_FIFO and SCHED_RR take a priority");
  if (s->policy != SCHED_DEADLINE && (s->runtime || s->deadline || s->period))
    return berth_jctx_error(c, NULL, err, "runtime, deadline and period are only for SCHED_DEADLINE");
  berth_jctx_pop(c, m);
  s->present = true;
  return 0;
}

/* a CPU list as in cpuset: "0-3,7" */
static bool cpu_list_valid(const char *s)
{
  for (;;) {
    char *end;
    if (*s < '0' || *s > '9')
      return false;
    unsigned long a = strtoul(s, &end, 10), b = a;
    s = end;
    if (*s == '-') {
      if (s[1] < '0' || s[1] > '9')
        return false;
      b = strtoul(s + 1, &end, 10);
      s = end;
    }
    if (b < a || b > 65535)
      return false;
    if (*s == '\0')
      return true;
    if (*s++ != ',')
      return false;
  }
}

static BERTH_WUR int get_cpu_list(struct berth_jctx *c, json_t *obj, const char *key, const char **out,
                                  berth_error_t *err)
{
  const char *s = NULL;
  int r = berth_json_get_string(c, obj, key, &s, err);
  if (r <= 0 || s[0] == '\0')
    return r < 0 ? -1 : 0;
  if (!cpu_list_valid(s))
    return berth_jctx_error(c, key, err, "`%s` is not a CPU list such as \"0-3,7\"", s);
  *out = s;
  return 1;
}

static BERTH_WUR int parse_sched_attrs(struct berth_jctx *c, json_t *proc, struct berth_spec_process *p,
                                       berth_error_t *err)
{
  int r = oci_get_int(c, proc, "oomScoreAdj", -1000, 1000, false, &p->oom_score_adj, err);
  if (r < 0)
    return -1;
  p->has_oom_score_adj = r == 1;
  if (parse_io_priority(c, proc, &p->io_priority, err) < 0 ||
      parse_scheduler(c, proc, &p->scheduler, err) < 0)
    return -1;
  json_t *aff = NULL;
  if ((r = berth_json_get_object(c, proc, "execCPUAffinity", &aff, err)) <= 0)
    return r;
  size_t m = berth_jctx_push_key(c, "execCPUAffinity");
  if (get_cpu_list(c, aff, "initial", &p->exec_cpu_affinity_initial, err) < 0 ||
      get_cpu_list(c, aff, "final", &p->exec_cpu_affinity_final, err) < 0)
    return -1;
  berth_jctx_pop(c, m);
  return 0;
}

static BERTH_WUR int parse_console(struct berth_jctx *c, json_t *proc, struct berth_spec_process *p,
                                   berth_error_t *err)
{
  json_t *obj = NULL;
  int r = berth_json_get_object(c, proc, "consoleSize", &obj, err);
  if (r <= 0)
    return r;
  size_t m = berth_jctx_push_key(c, "consoleSize");
  if (oci_get_u32(c, obj, "height", true, &p->console_height, err) < 0 ||
      oci_get_u32(c, obj, "width", true, &p->console_width, err) < 0)
    return -1;
  berth_jctx_pop(c, m);
  p->has_console_size = true;
  return 0;
}

static BERTH_WUR int parse_args_env(struct berth_jctx *c, json_t *proc, struct berth_spec_process *p,
                                    berth_error_t *err)
{
  int r = berth_json_get_strv(c, proc, "args", &p->args, &p->n_args, err);
  if (r < 0)
    return -1;
  if (r == 0)
    return oci_required(c, "args", err);
  if (p->n_args == 0)
    return berth_jctx_error(c, "args", err, "must not be empty");
  if (berth_json_get_strv(c, proc, "env", &p->env, &p->n_env, err) < 0)
    return -1;
  for (size_t i = 0; i < p->n_env; i++) {
    const char *eq = strchr(p->env[i], '=');
    if (eq == NULL || eq == p->env[i]) {
      size_t m = berth_jctx_push_key(c, "env");
      berth_jctx_push_index(c, i);
      berth_jctx_error(c, NULL, err, "`%s` is not of the form NAME=VALUE", p->env[i]);
      berth_jctx_pop(c, m);
      return -1;
    }
  }
  return 0;
}

int oci_parse_process(struct berth_jctx *c, json_t *obj, struct berth_spec_process *p, berth_error_t *err)
{
  if (berth_json_get_bool(c, obj, "terminal", &p->terminal, err) < 0 || parse_console(c, obj, p, err) < 0 ||
      parse_user(c, obj, &p->user, err) < 0 || parse_args_env(c, obj, p, err) < 0 ||
      oci_get_abs_path(c, obj, "cwd", true, &p->cwd, err) < 0 || parse_caps(c, obj, &p->caps, err) < 0 ||
      parse_rlimits(c, obj, p, err) < 0 ||
      berth_json_get_bool(c, obj, "noNewPrivileges", &p->no_new_privileges, err) < 0 ||
      berth_json_get_string(c, obj, "apparmorProfile", &p->apparmor_profile, err) < 0 ||
      berth_json_get_string(c, obj, "selinuxLabel", &p->selinux_label, err) < 0 ||
      parse_sched_attrs(c, obj, p, err) < 0)
    return -1;
  return 0;
}

void berth_spec_process_free(struct berth_spec_process *p)
{
  if (p == NULL)
    return;
  free(p->args);
  free(p->env);
  free(p->rlimits);
  free(p->user.additional_gids);
  p->args = p->env = NULL;
  p->rlimits = NULL;
  p->user.additional_gids = NULL;
  p->n_args = p->n_env = p->n_rlimits = p->user.n_additional_gids = 0;
}
