/* linux.seccomp: actions, architectures, flags and syscall rules converted to
 * libseccomp's numbers; the notify listener rules. */
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/xalloc.h"
#include "oci/names.h"
#include "oci/spec_internal.h"

/* the action data (errno, trace message) is 16 bits wide in the filter */
#define ERRNO_RET_MAX 0xffff

static BERTH_WUR int get_action(struct berth_jctx *c, json_t *obj, const char *key, uint32_t *out,
                                berth_error_t *err)
{
  const char *name = NULL;
  if (oci_get_string(c, obj, key, true, &name, err) < 0)
    return -1;
  if (berth_seccomp_action_from_name(name, out) < 0)
    return berth_jctx_error(c, key, err, "unknown seccomp action \"%s\"", name);
  return 0;
}

static BERTH_WUR int get_errno_ret(struct berth_jctx *c, json_t *obj, const char *key, bool *has,
                                   uint32_t *out, berth_error_t *err)
{
  uint64_t v = 0;
  int r = oci_get_u64(c, obj, key, ERRNO_RET_MAX, false, &v, err);
  if (r < 0)
    return -1;
  *has = r == 1;
  *out = (uint32_t) v;
  return 0;
}

static int element_error(struct berth_jctx *c, const char *key, size_t i, berth_error_t *err,
                         const char *what, const char *name)
{
  size_t m = berth_jctx_push_key(c, key);
  berth_jctx_push_index(c, i);
  berth_jctx_error(c, NULL, err, "unknown %s \"%s\"", what, name);
  berth_jctx_pop(c, m);
  return -1;
}

static BERTH_WUR int parse_archs_flags(struct berth_jctx *c, json_t *obj, struct berth_spec_seccomp *sc,
                                       berth_error_t *err)
{
  cleanup_free const char **archs = NULL, **flags = NULL;
  size_t n_archs = 0, n_flags = 0;
  if (berth_json_get_strv(c, obj, "architectures", &archs, &n_archs, err) < 0 ||
      berth_json_get_strv(c, obj, "flags", &flags, &n_flags, err) < 0)
    return -1;
  sc->architectures = xcalloc(n_archs + 1, sizeof *sc->architectures);
  sc->n_architectures = n_archs;
  for (size_t i = 0; i < n_archs; i++)
    if (berth_seccomp_arch_from_name(archs[i], &sc->architectures[i]) < 0)
      return element_error(c, "architectures", i, err, "seccomp architecture", archs[i]);
  for (size_t i = 0; i < n_flags; i++) {
    unsigned int bit;
    if (berth_seccomp_flag_from_name(flags[i], &bit) < 0)
      return element_error(c, "flags", i, err, "seccomp flag", flags[i]);
    sc->flags |= bit;
  }
  return 0;
}

static BERTH_WUR int parse_arg(struct berth_jctx *c, json_t *o, struct berth_spec_seccomp_arg *a,
                               berth_error_t *err)
{
  const char *op = NULL;
  uint64_t index = 0;
  if (oci_expect_object(c, o, err) < 0 || oci_get_u64(c, o, "index", 5, true, &index, err) < 0 ||
      oci_get_u64(c, o, "value", UINT64_MAX, true, &a->value, err) < 0 ||
      oci_get_u64(c, o, "valueTwo", UINT64_MAX, false, &a->value_two, err) < 0 ||
      oci_get_string(c, o, "op", true, &op, err) < 0)
    return -1;
  a->index = (unsigned int) index;
  if (berth_seccomp_op_from_name(op, &a->op) < 0)
    return berth_jctx_error(c, "op", err, "unknown seccomp operator \"%s\"", op);
  return 0;
}

static BERTH_WUR int parse_args(struct berth_jctx *c, json_t *o, struct berth_spec_seccomp_rule *rule,
                                berth_error_t *err)
{
  json_t *arr = NULL;
  int r = berth_json_get_array(c, o, "args", &arr, err);
  if (r <= 0)
    return r;
  rule->n_args = json_array_size(arr);
  rule->args = xcalloc(rule->n_args + 1, sizeof *rule->args);
  size_t m = berth_jctx_push_key(c, "args");
  for (size_t i = 0; i < rule->n_args; i++) {
    size_t mi = berth_jctx_push_index(c, i);
    if (parse_arg(c, json_array_get(arr, i), &rule->args[i], err) < 0)
      return -1;
    berth_jctx_pop(c, mi);
  }
  berth_jctx_pop(c, m);
  return 0;
}

static BERTH_WUR int parse_rule(struct berth_jctx *c, json_t *o, struct berth_spec_seccomp_rule *rule,
                                berth_error_t *err)
{
  if (oci_expect_object(c, o, err) < 0)
    return -1;
  int r = berth_json_get_strv(c, o, "names", &rule->names, &rule->n_names, err);
  if (r < 0)
    return -1;
  if (r == 0)
    return oci_required(c, "names", err);
  if (rule->n_names == 0)
    return berth_jctx_error(c, "names", err, "must not be empty");
  if (get_action(c, o, "action", &rule->action, err) < 0 ||
      get_errno_ret(c, o, "errnoRet", &rule->has_errno_ret, &rule->errno_ret, err) < 0 ||
      parse_args(c, o, rule, err) < 0)
    return -1;
  if (rule->action == SCMP_ACT_NOTIFY)
    for (size_t i = 0; i < rule->n_names; i++)
      if (strcmp(rule->names[i], "write") == 0) /* the agent could never be told: deadlock */
        return berth_jctx_error(c, "action", err, "SCMP_ACT_NOTIFY cannot be used for the `write` syscall");
  return 0;
}

static BERTH_WUR int parse_rules(struct berth_jctx *c, json_t *obj, struct berth_spec_seccomp *sc,
                                 bool *notify, berth_error_t *err)
{
  json_t *arr = NULL;
  int r = berth_json_get_array(c, obj, "syscalls", &arr, err);
  if (r <= 0)
    return r;
  sc->n_syscalls = json_array_size(arr);
  sc->syscalls = xcalloc(sc->n_syscalls + 1, sizeof *sc->syscalls);
  size_t m = berth_jctx_push_key(c, "syscalls");
  for (size_t i = 0; i < sc->n_syscalls; i++) {
    size_t mi = berth_jctx_push_index(c, i);
    if (parse_rule(c, json_array_get(arr, i), &sc->syscalls[i], err) < 0)
      return -1;
    if (sc->syscalls[i].action == SCMP_ACT_NOTIFY)
      *notify = true;
    berth_jctx_pop(c, mi);
  }
  berth_jctx_pop(c, m);
  return 0;
}

int oci_parse_seccomp(struct berth_jctx *c, json_t *obj, struct berth_spec_seccomp *sc, berth_error_t *err)
{
  sc->present = true;
  sc->json = obj;
  bool notify = false;
  if (get_action(c, obj, "defaultAction", &sc->default_action, err) < 0)
    return -1;
  if (sc->default_action == SCMP_ACT_NOTIFY)
    return berth_jctx_error(c, "defaultAction", err, "SCMP_ACT_NOTIFY cannot be the default action");
  if (get_errno_ret(c, obj, "defaultErrnoRet", &sc->has_default_errno_ret, &sc->default_errno_ret, err) < 0 ||
      parse_archs_flags(c, obj, sc, err) < 0 ||
      oci_get_abs_path(c, obj, "listenerPath", false, &sc->listener_path, err) < 0 ||
      berth_json_get_string(c, obj, "listenerMetadata", &sc->listener_metadata, err) < 0 ||
      parse_rules(c, obj, sc, &notify, err) < 0)
    return -1;
  if (notify && sc->listener_path == NULL)
    return berth_jctx_error(c, "listenerPath", err, "is required when SCMP_ACT_NOTIFY is used");
  return 0;
}

void oci_seccomp_free(struct berth_spec_seccomp *sc)
{
  free(sc->architectures);
  for (size_t i = 0; sc->syscalls && i < sc->n_syscalls; i++) {
    free(sc->syscalls[i].names);
    free(sc->syscalls[i].args);
  }
  free(sc->syscalls);
}
