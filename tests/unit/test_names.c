/* Name tables of the runtime spec: round trips, known values, unknown names. */
#include "unit.h"

#include <sched.h>
#include <seccomp.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/resource.h>

#include "oci/names.h"
#include "oci/spec.h"

static void test_caps(void **state)
{
  assert_int_equal(berth_cap_last(), 40);
  for (int i = 0; i <= berth_cap_last(); i++) {
    const char *name = berth_cap_name(i);
    assert_non_null(name);
    assert_string_equal(name, berth_cap_names[i]);
    assert_int_equal(berth_cap_from_name(name), i);
    /* libcap agrees on every number (its names are lower case) */
    cap_value_t v;
    assert_int_equal(cap_from_name(name, &v), 0);
    assert_int_equal(v, i);
  }
  assert_null(berth_cap_names[berth_cap_last() + 1]);
  assert_int_equal(berth_cap_from_name("CAP_SYS_ADMIN"), 21);
  assert_int_equal(berth_cap_from_name("CAP_CHECKPOINT_RESTORE"), 40);
  assert_int_equal(berth_cap_from_name("CAP_FOO"), -1);
  assert_int_equal(berth_cap_from_name("SYS_ADMIN"), -1);
  assert_int_equal(berth_cap_from_name("cap_sys_admin"), -1);
  assert_int_equal(berth_cap_from_name(""), -1);
  assert_null(berth_cap_name(41));
  assert_null(berth_cap_name(-1));
}

static void test_rlimits(void **state)
{
  static const char *const names[] = {
    "RLIMIT_CPU",      "RLIMIT_FSIZE", "RLIMIT_DATA",   "RLIMIT_STACK",
    "RLIMIT_CORE",     "RLIMIT_RSS",   "RLIMIT_NPROC",  "RLIMIT_NOFILE",
    "RLIMIT_MEMLOCK",  "RLIMIT_AS",    "RLIMIT_LOCKS",  "RLIMIT_SIGPENDING",
    "RLIMIT_MSGQUEUE", "RLIMIT_NICE",  "RLIMIT_RTPRIO", "RLIMIT_RTTIME",
  };
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    int r = berth_rlimit_from_name(names[i]);
    assert_true(r >= 0);
    assert_string_equal(berth_rlimit_name(r), names[i]);
  }
  assert_int_equal(berth_rlimit_from_name("RLIMIT_NOFILE"), RLIMIT_NOFILE);
  assert_int_equal(berth_rlimit_from_name("RLIMIT_RTTIME"), RLIMIT_RTTIME);
  assert_int_equal(berth_rlimit_from_name("RLIMIT_FOO"), -1);
  assert_int_equal(berth_rlimit_from_name("NOFILE"), -1);
  assert_null(berth_rlimit_name(RLIMIT_NLIMITS));
  assert_null(berth_rlimit_name(-1));
}

static void test_seccomp_actions(void **state)
{
  uint32_t a = 1;
  for (size_t i = 0; berth_seccomp_action_names[i]; i++)
    assert_int_equal(berth_seccomp_action_from_name(berth_seccomp_action_names[i], &a), 0);
  assert_int_equal(berth_seccomp_action_from_name("SCMP_ACT_ALLOW", &a), 0);
  assert_int_equal(a, SCMP_ACT_ALLOW);
  assert_int_equal(berth_seccomp_action_from_name("SCMP_ACT_ERRNO", &a), 0);
  assert_int_equal(a, SCMP_ACT_ERRNO(0));
  assert_int_equal(berth_seccomp_action_from_name("SCMP_ACT_TRACE", &a), 0);
  assert_int_equal(a, SCMP_ACT_TRACE(0));
  assert_int_equal(berth_seccomp_action_from_name("SCMP_ACT_KILL_PROCESS", &a), 0);
  assert_int_equal(a, SCMP_ACT_KILL_PROCESS);
  assert_int_equal(berth_seccomp_action_from_name("SCMP_ACT_NOTIFY", &a), 0);
  assert_int_equal(a, SCMP_ACT_NOTIFY);
  assert_int_equal(berth_seccomp_action_from_name("SCMP_ACT_LOG", &a), 0);
  assert_int_equal(a, SCMP_ACT_LOG);
  a = 7;
  assert_int_equal(berth_seccomp_action_from_name("SCMP_ACT_FOO", &a), -1);
  assert_int_equal(a, 7);
}

static void test_seccomp_archs_ops_flags(void **state)
{
  uint32_t arch;
  size_t n = 0;
  for (; berth_seccomp_arch_names[n]; n++) {
    assert_int_equal(berth_seccomp_arch_from_name(berth_seccomp_arch_names[n], &arch), 0);
    /* libseccomp resolves the same token from the lower-case name without SCMP_ARCH_ */
    char lower[64];
    const char *s = berth_seccomp_arch_names[n] + strlen("SCMP_ARCH_");
    size_t k = 0;
    for (; s[k] && k < sizeof lower - 1; k++)
      lower[k] = (char) (s[k] >= 'A' && s[k] <= 'Z' ? s[k] + 32 : s[k]);
    lower[k] = '\0';
    assert_int_equal(seccomp_arch_resolve_name(lower), arch);
  }
  assert_true(n >= 19);
  assert_int_equal(berth_seccomp_arch_from_name("SCMP_ARCH_X86_64", &arch), 0);
  assert_int_equal(arch, SCMP_ARCH_X86_64);
  assert_int_equal(berth_seccomp_arch_from_name("SCMP_ARCH_Z80", &arch), -1);

  int op;
  static const int want_ops[] = { SCMP_CMP_NE, SCMP_CMP_LT, SCMP_CMP_LE,       SCMP_CMP_EQ,
                                  SCMP_CMP_GE, SCMP_CMP_GT, SCMP_CMP_MASKED_EQ };
  for (size_t i = 0; i < 7; i++) {
    assert_non_null(berth_seccomp_op_names[i]);
    assert_int_equal(berth_seccomp_op_from_name(berth_seccomp_op_names[i], &op), 0);
    assert_int_equal(op, want_ops[i]);
  }
  assert_null(berth_seccomp_op_names[7]);
  assert_int_equal(berth_seccomp_op_from_name("SCMP_CMP_EQ", &op), 0);
  assert_int_equal(op, SCMP_CMP_EQ);
  assert_int_equal(berth_seccomp_op_from_name("SCMP_CMP_XOR", &op), -1);

  unsigned int flag, all = 0;
  for (size_t i = 0; berth_seccomp_flag_names[i]; i++) {
    assert_int_equal(berth_seccomp_flag_from_name(berth_seccomp_flag_names[i], &flag), 0);
    assert_int_equal(flag & all, 0); /* distinct bits */
    all |= flag;
  }
  /* TSYNC, LOG, SPEC_ALLOW, WAIT_KILLABLE_RECV: bits 0, 1, 2, 5 of linux/seccomp.h */
  assert_int_equal(all, 0x1 | 0x2 | 0x4 | 0x20);
  assert_int_equal(berth_seccomp_flag_from_name("SECCOMP_FILTER_FLAG_LOG", &flag), 0);
  assert_int_equal(flag, 0x2);
  assert_int_equal(berth_seccomp_flag_from_name("SECCOMP_FILTER_FLAG_NEW_LISTENER", &flag), -1);
}

static void test_mount_options(void **state)
{
  static const char *const must[] = {
    "defaults",       "ro",           "rw",          "suid",
    "nosuid",         "dev",          "nodev",       "exec",
    "noexec",         "sync",         "async",       "dirsync",
    "remount",        "mand",         "nomand",      "atime",
    "noatime",        "diratime",     "nodiratime",  "bind",
    "rbind",          "unbindable",   "runbindable", "private",
    "rprivate",       "shared",       "rshared",     "slave",
    "rslave",         "relatime",     "norelatime",  "strictatime",
    "nostrictatime",  "lazytime",     "nolazytime",  "iversion",
    "noiversion",     "rro",          "rrw",         "rnosuid",
    "rsuid",          "rnodev",       "rdev",        "rnoexec",
    "rexec",          "rnoatime",     "ratime",      "rnodiratime",
    "rdiratime",      "rrelatime",    "rnorelatime", "rstrictatime",
    "rnostrictatime", "idmap",        "ridmap",      "tmpcopyup",
    "nosymfollow",    "rnosymfollow",
  };
  size_t n = 0;
  while (berth_mount_option_names[n])
    n++;
  for (size_t i = 0; i < sizeof must / sizeof must[0]; i++) {
    bool found = false;
    for (size_t j = 0; j < n && !found; j++)
      found = strcmp(berth_mount_option_names[j], must[i]) == 0;
    if (!found)
      fail_msg("mount option %s missing", must[i]);
  }
  /* sorted and unique, as features shows them */
  for (size_t j = 1; j < n; j++)
    assert_true(strcmp(berth_mount_option_names[j - 1], berth_mount_option_names[j]) < 0);
}

static void test_namespaces(void **state)
{
  static const struct {
    const char *name, *proc;
    int flag;
  } want[BERTH_NS__COUNT] = {
    { "pid", "pid", CLONE_NEWPID },          { "network", "net", CLONE_NEWNET },
    { "mount", "mnt", CLONE_NEWNS },         { "ipc", "ipc", CLONE_NEWIPC },
    { "uts", "uts", CLONE_NEWUTS },          { "user", "user", CLONE_NEWUSER },
    { "cgroup", "cgroup", CLONE_NEWCGROUP }, { "time", "time", 0x80 },
  };
  int flags = 0;
  for (int t = 0; t < BERTH_NS__COUNT; t++) {
    assert_string_equal(berth_ns_type_name((enum berth_ns_type) t), want[t].name);
    assert_string_equal(berth_ns_proc_name((enum berth_ns_type) t), want[t].proc);
    assert_int_equal(berth_ns_clone_flag((enum berth_ns_type) t), want[t].flag);
    assert_int_equal(berth_ns_type_from_name(want[t].name), t);
    assert_int_equal(flags & want[t].flag, 0);
    flags |= want[t].flag;
  }
  assert_int_equal(berth_ns_type_from_name("net"), -1); /* the /proc name is not the spec name */
  assert_int_equal(berth_ns_type_from_name("PID"), -1);
  assert_int_equal(berth_ns_type_from_name(""), -1);
  assert_null(berth_ns_type_name(BERTH_NS__COUNT));
  assert_int_equal(berth_ns_clone_flag(BERTH_NS__COUNT), 0);
}

static void test_hook_kinds(void **state)
{
  static const char *const want[BERTH_HOOK__COUNT] = {
    "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop",
  };
  for (int k = 0; k < BERTH_HOOK__COUNT; k++)
    assert_string_equal(berth_hook_kind_name((enum berth_hook_kind) k), want[k]);
  assert_null(berth_hook_kind_name(BERTH_HOOK__COUNT));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_caps),
    cmocka_unit_test(test_rlimits),
    cmocka_unit_test(test_seccomp_actions),
    cmocka_unit_test(test_seccomp_archs_ops_flags),
    cmocka_unit_test(test_mount_options),
    cmocka_unit_test(test_namespaces),
    cmocka_unit_test(test_hook_kinds),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
