/* A seccomp profile rendered for one container: conditions resolved (Docker's setupSeccomp
 * rules), architectures from the archMap, and ENOSYS rules for syscalls newer than the profile. */
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/xalloc.h"
#include "engine/runspec/runspec.h"
#include "oci/names.h"

/* how far above the profile's newest syscall libseccomp's table is searched */
#define ENOSYS_SCAN 1024
#define ENOSYS      38

static const struct {
  const char *go, *scmp;
} arches[] = {
  { "amd64", "SCMP_ARCH_X86_64" },    { "386", "SCMP_ARCH_X86" },       { "arm64", "SCMP_ARCH_AARCH64" },
  { "arm", "SCMP_ARCH_ARM" },         { "mips64", "SCMP_ARCH_MIPS64" }, { "mips64le", "SCMP_ARCH_MIPSEL64" },
  { "mips", "SCMP_ARCH_MIPS" },       { "mipsle", "SCMP_ARCH_MIPSEL" }, { "ppc64", "SCMP_ARCH_PPC64" },
  { "ppc64le", "SCMP_ARCH_PPC64LE" }, { "s390x", "SCMP_ARCH_S390X" },   { "s390", "SCMP_ARCH_S390" },
  { "riscv64", "SCMP_ARCH_RISCV64" },
};

const char *berth_seccomp_native_arch(void)
{
#if defined(__x86_64__)
  return "amd64";
#elif defined(__i386__)
  return "386";
#elif defined(__aarch64__)
  return "arm64";
#elif defined(__arm__)
  return "arm";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  return "ppc64le";
#elif defined(__powerpc64__)
  return "ppc64";
#elif defined(__s390x__)
  return "s390x";
#elif defined(__riscv) && __riscv_xlen == 64
  return "riscv64";
#else
  return "unknown";
#endif
}

static bool in_list(const char *const *list, const char *s)
{
  for (size_t i = 0; list && list[i]; i++)
    if (strcmp(list[i], s) == 0)
      return true;
  return false;
}

/* kernel >= major.minor; an unknown kernel (0.0) counts as new */
static bool kernel_at_least(const struct berth_seccomp_target *t, unsigned int major, unsigned int minor)
{
  if (t->kernel_major == 0 && t->kernel_minor == 0)
    return true;
  return t->kernel_major > major || (t->kernel_major == major && t->kernel_minor >= minor);
}

/* Docker's order of checks: excludes (arches, caps: any present, minKernel), then includes
 * (arches, caps: all present, minKernel); capabilities are the bounding set's */
static bool group_applies(const struct berth_seccomp_group *g, const struct berth_seccomp_target *t,
                          const char *arch)
{
  const struct berth_seccomp_filter *ex = &g->excludes, *in = &g->includes;
  if (ex->arches && in_list(ex->arches, arch))
    return false;
  if ((ex->caps & t->caps) != 0)
    return false;
  if ((ex->min_kernel_major || ex->min_kernel_minor) &&
      kernel_at_least(t, ex->min_kernel_major, ex->min_kernel_minor))
    return false;
  if (in->arches && !in_list(in->arches, arch))
    return false;
  if ((in->caps & t->caps) != in->caps)
    return false;
  if ((in->min_kernel_major || in->min_kernel_minor) &&
      !kernel_at_least(t, in->min_kernel_major, in->min_kernel_minor))
    return false;
  return true;
}

static json_t *strv_json(const char *const *v)
{
  json_t *a = json_array();
  for (size_t i = 0; v && v[i]; i++)
    json_array_append_new(a, json_string(v[i]));
  return a;
}

static json_t *rule_json(const struct berth_seccomp_group *g)
{
  json_t *r = json_object();
  json_object_set_new(r, "names", strv_json(g->names));
  json_object_set_new(r, "action", json_string(g->action));
  if (g->errno_ret >= 0)
    json_object_set_new(r, "errnoRet", json_integer(g->errno_ret));
  if (g->n_args > 0) {
    json_t *args = json_array();
    for (size_t i = 0; i < g->n_args; i++) {
      const struct berth_seccomp_cond *c = &g->args[i];
      json_t *a = json_object();
      json_object_set_new(a, "index", json_integer(c->index));
      json_object_set_new(a, "value", json_integer((json_int_t) c->value));
      if (c->value_two != 0)
        json_object_set_new(a, "valueTwo", json_integer((json_int_t) c->value_two));
      json_object_set_new(a, "op", json_string(c->op));
      json_array_append_new(args, a);
    }
    json_object_set_new(r, "args", args);
  }
  return r;
}

static json_t *architectures(const struct berth_seccomp_profile *p, const char *token)
{
  if (p->architectures != NULL)
    return strv_json(p->architectures);
  json_t *a = json_array();
  json_array_append_new(a, json_string(token));
  for (size_t i = 0; i < p->n_arch_map; i++)
    if (strcmp(p->arch_map[i].arch, token) == 0)
      for (size_t k = 0; p->arch_map[i].sub && p->arch_map[i].sub[k]; k++)
        json_array_append_new(a, json_string(p->arch_map[i].sub[k]));
  return a;
}

static bool profile_names(const struct berth_seccomp_profile *p, const char *name)
{
  for (size_t g = 0; g < p->n_groups; g++)
    if (in_list(p->groups[g].names, name))
      return true;
  return false;
}

static bool json_has_string(json_t *a, const char *s)
{
  size_t i;
  json_t *v;
  json_array_foreach (a, i, v)
    if (strcmp(json_string_value(v), s) == 0)
      return true;
  return false;
}

/* the syscalls libseccomp knows above the profile's newest one on this architecture */
static void enosys_arch(const struct berth_seccomp_profile *p, uint32_t arch, json_t *names)
{
  int max = -1;
  for (size_t g = 0; g < p->n_groups; g++)
    for (const char *const *n = p->groups[g].names; n && *n; n++) {
      int nr = seccomp_syscall_resolve_name_arch(arch, *n);
      if (nr >= 0 && nr > max)
        max = nr;
    }
  if (max < 0)
    return;
  for (int nr = max + 1; nr <= max + ENOSYS_SCAN; nr++) {
    cleanup_free char *name = seccomp_syscall_resolve_num_arch(arch, nr);
    if (name != NULL && !profile_names(p, name) && !json_has_string(names, name))
      json_array_append_new(names, json_string(name));
  }
}

static void add_enosys(const struct berth_seccomp_profile *p, json_t *archs, json_t *rules)
{
  uint32_t def = 0;
  if (berth_seccomp_action_from_name(p->default_action, &def) < 0 || def == SCMP_ACT_ALLOW ||
      def == SCMP_ACT_LOG)
    return;
  json_t *names = json_array();
  size_t i;
  json_t *v;
  json_array_foreach (archs, i, v) {
    uint32_t arch = 0;
    if (berth_seccomp_arch_from_name(json_string_value(v), &arch) == 0)
      enosys_arch(p, arch, names);
  }
  if (json_array_size(names) == 0) {
    json_decref(names);
    return;
  }
  json_t *r = json_object();
  json_object_set_new(r, "names", names);
  json_object_set_new(r, "action", json_string("SCMP_ACT_ERRNO"));
  json_object_set_new(r, "errnoRet", json_integer(ENOSYS));
  json_array_append_new(rules, r);
}

json_t *berth_seccomp_profile_render(const struct berth_seccomp_profile *p,
                                     const struct berth_seccomp_target *t, berth_error_t *err)
{
  const char *arch = t->arch ? t->arch : berth_seccomp_native_arch();
  const char *token = NULL;
  for (size_t i = 0; i < BERTH_N_ELEMENTS(arches) && token == NULL; i++)
    if (strcmp(arches[i].go, arch) == 0)
      token = arches[i].scmp;
  if (token == NULL)
    return BERTH_ERR(err, "seccomp: unknown architecture `%s`", arch), NULL;
  json_t *o = json_object();
  json_object_set_new(o, "defaultAction", json_string(p->default_action));
  if (p->default_errno_ret >= 0)
    json_object_set_new(o, "defaultErrnoRet", json_integer(p->default_errno_ret));
  json_t *archs = architectures(p, token);
  json_object_set_new(o, "architectures", archs);
  if (p->flags != NULL)
    json_object_set_new(o, "flags", strv_json(p->flags));
  if (p->listener_path != NULL)
    json_object_set_new(o, "listenerPath", json_string(p->listener_path));
  if (p->listener_metadata != NULL)
    json_object_set_new(o, "listenerMetadata", json_string(p->listener_metadata));
  json_t *rules = json_array();
  for (size_t i = 0; i < p->n_groups; i++)
    if (group_applies(&p->groups[i], t, arch))
      json_array_append_new(rules, rule_json(&p->groups[i]));
  if (!t->no_enosys)
    add_enosys(p, archs, rules);
  json_object_set_new(o, "syscalls", rules);
  return o;
}
