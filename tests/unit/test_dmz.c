/* runtime/dmz.h: when `run` may leave out the protected re-exec and exec through berth-dmz. */
#include "unit.h"

#include <stdio.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/xalloc.h"
#include "oci/spec.h"
#include "runtime/dmz.h"

/* runc's default capabilities (`spec`): the container process as root, without CAP_SYS_PTRACE */
#define DEFAULT_CAPS                                                                                         \
  ", \"capabilities\": {\"bounding\": [\"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"],"                             \
  " \"effective\": [\"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"], \"permitted\": [\"CAP_KILL\", "                 \
  "\"CAP_NET_BIND_SERVICE\"]}"

/* a config: PROCESS_EXTRA spliced into "process" (DEFAULT_CAPS unless it names capabilities),
 * NAMESPACES listed, LINUX_EXTRA into "linux" */
static berth_spec_t *spec_with(const char *process_extra, const char *namespaces, const char *linux_extra)
{
  const char *caps = strstr(process_extra, "capabilities") ? "" : DEFAULT_CAPS;
  cleanup_free char *text = xasprintf("{\"ociVersion\": \"1.2.0\", \"root\": {\"path\": \"rootfs\"},"
                                      " \"process\": {\"args\": [\"/bin/true\"], \"cwd\": \"/\"%s%s},"
                                      " \"linux\": {\"namespaces\": [%s]%s}}",
                                      process_extra, caps, namespaces, linux_extra);
  berth_error_t err = NULL;
  berth_spec_t *spec = NULL;
  assert_int_equal(berth_spec_parse(text, strlen(text), "config.json", &spec, &err), 0);
  unit_assert_no_error(&err);
  return spec;
}

static const char *const all_new = "{\"type\": \"pid\"}, {\"type\": \"mount\"}, {\"type\": \"network\"}";

static void fits_with_new_pid_namespace(void **state)
{
  cleanup_spec berth_spec_t *s = spec_with("", all_new, "");
  const char *why = "unset";
  assert_true(berth_dmz_fits(s, &why));
  assert_null(why);
}

static void needs_a_new_pid_namespace(void **state)
{
  const char *why = NULL;
  cleanup_spec berth_spec_t *none = spec_with("", "{\"type\": \"mount\"}", "");
  assert_false(berth_dmz_fits(none, &why));
  assert_non_null(strstr(why, "pid namespace"));
  cleanup_spec berth_spec_t *joined = spec_with("", "{\"type\": \"pid\", \"path\": \"/proc/1/ns/pid\"}", "");
  assert_false(berth_dmz_fits(joined, &why));
  assert_non_null(strstr(why, "pid namespace"));
}

static void needs_a_mount_namespace(void **state)
{
  const char *why = NULL;
  cleanup_spec berth_spec_t *s = spec_with("", "{\"type\": \"pid\"}", "");
  assert_false(berth_dmz_fits(s, &why));
  assert_non_null(strstr(why, "mount namespace"));
}

/* hooks that run programs of the container's filesystem from the container process */
static void refuses_container_side_hooks(void **state)
{
  const char *why = NULL;
  static const char *const kinds[] = { "createContainer", "startContainer" };
  for (size_t i = 0; i < 2; i++) {
    cleanup_free char *hooks =
      xasprintf("{\"ociVersion\": \"1.2.0\", \"root\": {\"path\": \"rootfs\"},"
                " \"process\": {\"args\": [\"/bin/true\"], \"cwd\": \"/\"" DEFAULT_CAPS "},"
                " \"hooks\": {\"%s\": [{\"path\": \"/bin/hook\"}]},"
                " \"linux\": {\"namespaces\": [%s]}}",
                kinds[i], all_new);
    berth_error_t err = NULL;
    cleanup_spec berth_spec_t *s = NULL;
    assert_int_equal(berth_spec_parse(hooks, strlen(hooks), "config.json", &s, &err), 0);
    assert_false(berth_dmz_fits(s, &why));
    assert_non_null(strstr(why, "hooks"));
  }
  /* prestart and poststart hooks run on the host side: they do not matter */
  cleanup_free char *host =
    xasprintf("{\"ociVersion\": \"1.2.0\", \"root\": {\"path\": \"rootfs\"},"
              " \"process\": {\"args\": [\"/bin/true\"], \"cwd\": \"/\"" DEFAULT_CAPS "},"
              " \"hooks\": {\"poststart\": [{\"path\": \"/bin/hook\"}]},"
              " \"linux\": {\"namespaces\": [%s]}}",
              all_new);
  berth_error_t err = NULL;
  cleanup_spec berth_spec_t *s = NULL;
  assert_int_equal(berth_spec_parse(host, strlen(host), "config.json", &s, &err), 0);
  assert_true(berth_dmz_fits(s, NULL));
}

static void refuses_lsm_exec_labels(void **state)
{
  const char *why = NULL;
  cleanup_spec berth_spec_t *aa = spec_with(", \"apparmorProfile\": \"p\"", all_new, "");
  assert_false(berth_dmz_fits(aa, &why));
  assert_non_null(strstr(why, "LSM"));
  cleanup_spec berth_spec_t *se = spec_with(", \"selinuxLabel\": \"system_u:system_r:t:s0\"", all_new, "");
  assert_false(berth_dmz_fits(se, NULL));
}

static void follows_the_seccomp_profile(void **state)
{
  const char *why = NULL;
  /* Docker's shape: deny by default, the helper's three syscalls allowed */
  cleanup_spec berth_spec_t *allowlist =
    spec_with("", all_new,
              ", \"seccomp\": {\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": ["
              "{\"names\": [\"read\", \"execve\", \"execveat\", \"fcntl\", \"close\", \"sendto\","
              " \"exit_group\", \"prctl\"], \"action\": \"SCMP_ACT_ALLOW\"}]}");
  assert_true(berth_dmz_fits(allowlist, &why));
  /* the helper's error report needs sendto: a profile without it does not fit */
  cleanup_spec berth_spec_t *no_sendto =
    spec_with("", all_new,
              ", \"seccomp\": {\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": ["
              "{\"names\": [\"execve\", \"execveat\", \"fcntl\", \"close\", \"exit_group\", \"prctl\"],"
              " \"action\": \"SCMP_ACT_ALLOW\"}]}");
  assert_false(berth_dmz_fits(no_sendto, NULL));
  /* one of them missing from an allow-list */
  cleanup_spec berth_spec_t *no_execveat =
    spec_with("", all_new,
              ", \"seccomp\": {\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": ["
              "{\"names\": [\"execve\", \"fcntl\"], \"action\": \"SCMP_ACT_ALLOW\"}]}");
  assert_false(berth_dmz_fits(no_execveat, &why));
  assert_non_null(strstr(why, "seccomp"));
  /* allowed by default, denied by a rule */
  cleanup_spec berth_spec_t *denied =
    spec_with("", all_new,
              ", \"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": ["
              "{\"names\": [\"fcntl\"], \"action\": \"SCMP_ACT_ERRNO\"}]}");
  assert_false(berth_dmz_fits(denied, NULL));
  /* allowed only for some arguments: not unconditionally */
  cleanup_spec berth_spec_t *conditional =
    spec_with("", all_new,
              ", \"seccomp\": {\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": ["
              "{\"names\": [\"execve\", \"execveat\"], \"action\": \"SCMP_ACT_ALLOW\"},"
              "{\"names\": [\"fcntl\"], \"action\": \"SCMP_ACT_ALLOW\","
              " \"args\": [{\"index\": 1, \"value\": 1, \"op\": \"SCMP_CMP_EQ\"}]}]}");
  assert_false(berth_dmz_fits(conditional, NULL));
  /* logging counts as allowing */
  cleanup_spec berth_spec_t *logged =
    spec_with("", all_new, ", \"seccomp\": {\"defaultAction\": \"SCMP_ACT_LOG\"}");
  assert_true(berth_dmz_fits(logged, NULL));
}

/* runc's rule: CAP_SYS_PTRACE in a set a process of the container can hold, in the host's user
 * namespace, opens /proc/1/exe (the runtime's binary) to it before the container process execs */
static void refuses_ptrace_over_the_host(void **state)
{
  const char *why = NULL;
  static const char *const sets[] = { "bounding", "inheritable", "ambient" };
  for (size_t i = 0; i < 3; i++) {
    cleanup_free char *caps = xasprintf(", \"capabilities\": {\"%s\": [\"CAP_SYS_PTRACE\"]}", sets[i]);
    cleanup_spec berth_spec_t *s = spec_with(caps, all_new, "");
    assert_false(berth_dmz_fits(s, &why));
    assert_non_null(strstr(why, "CAP_SYS_PTRACE"));
  }
  /* no process.capabilities: root keeps the runtime's own, CAP_SYS_PTRACE among them */
  cleanup_spec berth_spec_t *none = spec_with(", \"capabilities\": null", all_new, "");
  assert_false(berth_dmz_fits(none, &why));
  assert_non_null(strstr(why, "CAP_SYS_PTRACE"));
  /* in a new user namespace the capability does not reach the runtime's memory */
  cleanup_spec berth_spec_t *userns =
    spec_with(", \"capabilities\": {\"bounding\": [\"CAP_SYS_PTRACE\"]}",
              "{\"type\": \"pid\"}, {\"type\": \"mount\"}, {\"type\": \"user\"}",
              ", \"uidMappings\": [{\"containerID\": 0, \"hostID\": 100000, \"size\": 65536}],"
              " \"gidMappings\": [{\"containerID\": 0, \"hostID\": 100000, \"size\": 65536}]");
  assert_true(berth_dmz_fits(userns, &why));
}

/* runc #4125: the helper's exec leaves a user other than root its ambient capabilities only */
static void refuses_caps_a_non_root_user_would_lose(void **state)
{
  const char *why = NULL;
  cleanup_spec berth_spec_t *lose =
    spec_with(", \"user\": {\"uid\": 1000, \"gid\": 1000}, \"capabilities\": {\"bounding\": [\"CAP_KILL\"],"
              " \"permitted\": [\"CAP_KILL\"], \"effective\": [\"CAP_KILL\"]}",
              all_new, "");
  assert_false(berth_dmz_fits(lose, &why));
  assert_non_null(strstr(why, "permitted capabilities"));
  /* ambient ones survive every exec: nothing to lose */
  cleanup_spec berth_spec_t *ambient = spec_with(
    ", \"user\": {\"uid\": 1000, \"gid\": 1000}, \"capabilities\": {\"bounding\": [\"CAP_KILL\"],"
    " \"permitted\": [\"CAP_KILL\"], \"effective\": [\"CAP_KILL\"], \"inheritable\": [\"CAP_KILL\"],"
    " \"ambient\": [\"CAP_KILL\"]}",
    all_new, "");
  assert_true(berth_dmz_fits(ambient, NULL));
  /* none at all, or root */
  cleanup_spec berth_spec_t *nothing =
    spec_with(", \"user\": {\"uid\": 1000, \"gid\": 1000}, \"capabilities\": {\"bounding\": [\"CAP_KILL\"]}",
              all_new, "");
  assert_true(berth_dmz_fits(nothing, NULL));
  cleanup_spec berth_spec_t *root = spec_with("", all_new, "");
  assert_true(berth_dmz_fits(root, NULL));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(refuses_ptrace_over_the_host), cmocka_unit_test(refuses_caps_a_non_root_user_would_lose),
    cmocka_unit_test(fits_with_new_pid_namespace),  cmocka_unit_test(needs_a_new_pid_namespace),
    cmocka_unit_test(needs_a_mount_namespace),      cmocka_unit_test(refuses_container_side_hooks),
    cmocka_unit_test(refuses_lsm_exec_labels),      cmocka_unit_test(follows_the_seccomp_profile),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
