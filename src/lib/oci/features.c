#include "oci/features.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/xalloc.h"
#include "oci/names.h"
#include "oci/spec.h"

#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif
#ifndef BERTH_OCI_SPEC_VERSION
#define BERTH_OCI_SPEC_VERSION "1.2.0"
#endif
#ifndef BERTH_VERSION
#define BERTH_VERSION "unknown"
#endif

static json_t *checked(json_t *v)
{
  if (v == NULL)
    berth_oom();
  return v;
}

static json_t *string_array(const char *const *names)
{
  json_t *a = checked(json_array());
  for (size_t i = 0; names[i]; i++)
    json_array_append_new(a, checked(json_string(names[i])));
  return a;
}

/* The kernel checks the flags before it reads the (here NULL) filter: EFAULT means it
 * knows the flag, EINVAL that it does not. Nothing is installed either way. */
static bool kernel_knows_flag(unsigned int flag)
{
  unsigned long flags = flag;
  if (flag == SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)
    flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
  long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, NULL);
  return r < 0 && errno == EFAULT;
}

static json_t *seccomp_features(void)
{
  json_t *supported = checked(json_array());
  for (size_t i = 0; berth_seccomp_flag_names[i]; i++) {
    unsigned int flag = 0;
    if (berth_seccomp_flag_from_name(berth_seccomp_flag_names[i], &flag) == 0 && kernel_knows_flag(flag))
      json_array_append_new(supported, checked(json_string(berth_seccomp_flag_names[i])));
  }
  return checked(json_pack(
    "{s:b, s:o, s:o, s:o, s:o, s:o}", "enabled", 1, "actions", string_array(berth_seccomp_action_names),
    "operators", string_array(berth_seccomp_op_names), "archs", string_array(berth_seccomp_arch_names),
    "knownFlags", string_array(berth_seccomp_flag_names), "supportedFlags", supported));
}

static json_t *linux_features(void)
{
  const char *ns[BERTH_NS__COUNT + 1];
  for (int t = 0; t < BERTH_NS__COUNT; t++)
    ns[t] = berth_ns_type_name((enum berth_ns_type) t);
  ns[BERTH_NS__COUNT] = NULL;
  return checked(json_pack("{s:o, s:o, s:{s:b, s:b, s:b, s:b, s:b}, s:o, s:{s:b}, s:{s:b}, s:{s:b},"
                           " s:{s:{s:b}}}",
                           "namespaces", string_array(ns), "capabilities", string_array(berth_cap_names),
                           "cgroup", "v1", 1, "v2", 1, "systemd", 0, "systemdUser", 0, "rdma", 1, "seccomp",
                           seccomp_features(), "apparmor", "enabled", 1, "selinux", "enabled", 1, "intelRdt",
                           "enabled", 0, "mountExtensions", "idmap", "enabled", 1));
}

json_t *berth_features_json(void)
{
  const char *hooks[BERTH_HOOK__COUNT + 1];
  for (int k = 0; k < BERTH_HOOK__COUNT; k++)
    hooks[k] = berth_hook_kind_name((enum berth_hook_kind) k);
  hooks[BERTH_HOOK__COUNT] = NULL;
  const struct scmp_version *v = seccomp_version();
  char libseccomp[64];
  snprintf(libseccomp, sizeof libseccomp, "%u.%u.%u", v ? v->major : 0, v ? v->minor : 0, v ? v->micro : 0);
  /* runtime-spec 1.2: annotations a CRI runtime must not take from an untrusted pod. The hooks'
   * files are opened as the runtime's user on the host; keep_original_groups hands the
   * runtime's caller's groups to the container */
  static const char *const unsafe[] = { BERTH_ANNOTATION_HOOKS_STDOUT, BERTH_ANNOTATION_HOOKS_STDERR,
                                        BERTH_ANNOTATION_KEEP_GROUPS, NULL };
  return checked(json_pack("{s:s, s:s, s:o, s:o, s:o, s:{s:s, s:s}, s:o}", "ociVersionMin", "1.0.0",
                           "ociVersionMax", BERTH_OCI_SPEC_VERSION, "hooks", string_array(hooks),
                           "mountOptions", string_array(berth_mount_option_names), "linux", linux_features(),
                           "annotations", "io.github.seccomp.libseccomp.version", libseccomp,
                           "org.berth.version", BERTH_VERSION, "potentiallyUnsafeConfigAnnotations",
                           string_array(unsafe)));
}
