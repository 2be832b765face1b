#include "unit.h"

#include <errno.h>
#include <linux/capability.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/xalloc.h"
#include "engine/runspec/runspec.h"
#include "json/json.h"
#include "linux/seccomp.h"
#include "oci/spec.h"

#define CAPBIT(c) (UINT64_C(1) << (c))

static json_t *render(const struct berth_seccomp_profile *p, uint64_t caps, const char *arch, unsigned kmaj,
                      unsigned kmin)
{
  berth_error_t err = NULL;
  struct berth_seccomp_target t = { .caps = caps, .arch = arch, .kernel_major = kmaj, .kernel_minor = kmin };
  json_t *o = berth_seccomp_profile_render(p, &t, &err);
  unit_assert_no_error(&err);
  assert_non_null(o);
  return o;
}

/* the rules (indexes into syscalls) naming `name`; returns how many, first index in *first */
static size_t rules_with(json_t *sc, const char *name, size_t *first)
{
  size_t n = 0, i, k;
  json_t *r, *v;
  json_array_foreach (json_object_get(sc, "syscalls"), i, r) {
    json_array_foreach (json_object_get(r, "names"), k, v) {
      if (strcmp(json_string_value(v), name) == 0) {
        if (n++ == 0 && first)
          *first = i;
      }
    }
  }
  return n;
}

static json_t *rule_at(json_t *sc, size_t i) { return json_array_get(json_object_get(sc, "syscalls"), i); }

static void test_default_caps_amd64(void **state)
{
  json_t *sc = render(berth_seccomp_default_profile(), berth_ctrspec_default_caps(), "amd64", 6, 18);
  assert_string_equal(json_string_value(json_object_get(sc, "defaultAction")), "SCMP_ACT_ERRNO");
  assert_int_equal(json_integer_value(json_object_get(sc, "defaultErrnoRet")), 1);
  json_t *archs = json_object_get(sc, "architectures");
  assert_int_equal(json_array_size(archs), 3);
  assert_string_equal(json_string_value(json_array_get(archs, 0)), "SCMP_ARCH_X86_64");
  assert_string_equal(json_string_value(json_array_get(archs, 1)), "SCMP_ARCH_X86");
  assert_string_equal(json_string_value(json_array_get(archs, 2)), "SCMP_ARCH_X32");
  size_t i = 0;
  /* unconditional and default-capability groups are in */
  assert_int_equal(rules_with(sc, "read", NULL), 1);
  assert_int_equal(rules_with(sc, "chroot", NULL), 1);     /* CAP_SYS_CHROOT is a default */
  assert_int_equal(rules_with(sc, "ptrace", NULL), 1);     /* minKernel 4.8 */
  assert_int_equal(rules_with(sc, "arch_prctl", NULL), 1); /* amd64 */
  assert_int_equal(rules_with(sc, "modify_ldt", NULL), 1);
  assert_int_equal(rules_with(sc, "personality", NULL), 5);
  /* clone only without namespace flags, clone3 answers ENOSYS */
  assert_int_equal(rules_with(sc, "clone", &i), 1);
  json_t *arg = json_array_get(json_object_get(rule_at(sc, i), "args"), 0);
  assert_int_equal(json_integer_value(json_object_get(arg, "index")), 0);
  assert_int_equal(json_integer_value(json_object_get(arg, "value")), 2114060288);
  assert_string_equal(json_string_value(json_object_get(arg, "op")), "SCMP_CMP_MASKED_EQ");
  assert_int_equal(rules_with(sc, "clone3", &i), 1);
  assert_string_equal(json_string_value(json_object_get(rule_at(sc, i), "action")), "SCMP_ACT_ERRNO");
  assert_int_equal(json_integer_value(json_object_get(rule_at(sc, i), "errnoRet")), ENOSYS);
  assert_int_equal(rules_with(sc, "socket", &i), 1);
  arg = json_array_get(json_object_get(rule_at(sc, i), "args"), 0);
  assert_int_equal(json_integer_value(json_object_get(arg, "value")), 40); /* AF_VSOCK */
  assert_string_equal(json_string_value(json_object_get(arg, "op")), "SCMP_CMP_NE");
  /* capability- and architecture-conditional groups are out */
  const char *absent[] = { "mount",
                           "unshare",
                           "setns",
                           "bpf",
                           "reboot",
                           "init_module",
                           "acct",
                           "kcmp",
                           "iopl",
                           "settimeofday",
                           "vhangup",
                           "mbind",
                           "syslog",
                           "perf_event_open",
                           "open_by_handle_at",
                           "set_tls",
                           "riscv_flush_icache",
                           "s390_runtime_instr",
                           "keyctl" };
  for (size_t k = 0; k < BERTH_N_ELEMENTS(absent); k++)
    if (rules_with(sc, absent[k], NULL) != 0) {
      print_error("`%s` is in the rendered profile\n", absent[k]);
      fail();
    }
  json_decref(sc);
}

static void test_enosys_rule(void **state)
{
  const struct berth_seccomp_profile *p = berth_seccomp_default_profile();
  json_t *sc = render(p, berth_ctrspec_default_caps(), "amd64", 0, 0);
  json_t *last =
    json_array_get(json_object_get(sc, "syscalls"), json_array_size(json_object_get(sc, "syscalls")) - 1);
  assert_int_equal(json_integer_value(json_object_get(last, "errnoRet")), ENOSYS);
  json_t *names = json_object_get(last, "names");
  int horizon = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, "set_mempolicy_home_node");
  size_t i;
  json_t *v;
  json_array_foreach (names, i, v) {
    const char *n = json_string_value(v);
    /* each is newer than the profile on one of its architectures, and named nowhere in it */
    int nr64 = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, n);
    int nr32 = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86, n);
    assert_true(nr64 > horizon ||
                nr32 > seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86, "set_mempolicy_home_node") ||
                seccomp_syscall_resolve_name_arch(SCMP_ARCH_X32, n) >= 0);
    for (size_t g = 0; g < p->n_groups; g++)
      for (const char *const *pn = p->groups[g].names; *pn; pn++)
        assert_string_not_equal(*pn, n);
  }
  /* libseccomp 2.5.4 knows fchmodat2 (452): the kernel has it, the profile does not */
  if (seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, "fchmodat2") > horizon)
    assert_int_equal(rules_with(sc, "fchmodat2", NULL), 1);
  assert_int_equal(rules_with(sc, "keyctl", NULL), 0); /* older than the profile: stays EPERM */
  json_decref(sc);

  struct berth_seccomp_target t = { .caps = 0, .arch = "amd64", .no_enosys = true };
  berth_error_t err = NULL;
  sc = berth_seccomp_profile_render(p, &t, &err);
  if (seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, "fchmodat2") > horizon)
    assert_int_equal(rules_with(sc, "fchmodat2", NULL), 0);
  json_decref(sc);
}

static void test_conditions(void **state)
{
  const struct berth_seccomp_profile *p = berth_seccomp_default_profile();
  uint64_t admin = berth_ctrspec_default_caps() | CAPBIT(CAP_SYS_ADMIN);
  json_t *sc = render(p, admin, "amd64", 0, 0);
  size_t i = 0;
  assert_int_equal(rules_with(sc, "mount", NULL), 1);
  assert_int_equal(rules_with(sc, "unshare", NULL), 1);
  assert_int_equal(rules_with(sc, "clone", &i), 1); /* the unconditional one of the CAP_SYS_ADMIN group */
  assert_null(json_object_get(rule_at(sc, i), "args"));
  assert_int_equal(rules_with(sc, "clone3", &i), 1);
  assert_string_equal(json_string_value(json_object_get(rule_at(sc, i), "action")), "SCMP_ACT_ALLOW");
  json_decref(sc);

  sc = render(p, 0, "amd64", 4, 7); /* old kernel, no capability at all */
  assert_int_equal(rules_with(sc, "ptrace", NULL), 0);
  assert_int_equal(rules_with(sc, "chroot", NULL), 0);
  json_decref(sc);

  sc = render(p, CAPBIT(CAP_SYS_PTRACE) | CAPBIT(CAP_BPF), "arm64", 5, 4);
  json_t *archs = json_object_get(sc, "architectures");
  assert_int_equal(json_array_size(archs), 2);
  assert_string_equal(json_string_value(json_array_get(archs, 0)), "SCMP_ARCH_AARCH64");
  assert_string_equal(json_string_value(json_array_get(archs, 1)), "SCMP_ARCH_ARM");
  assert_int_equal(rules_with(sc, "set_tls", NULL), 1);
  assert_int_equal(rules_with(sc, "arch_prctl", NULL), 0);
  assert_int_equal(rules_with(sc, "ptrace", NULL), 2); /* minKernel group and CAP_SYS_PTRACE group */
  assert_int_equal(rules_with(sc, "kcmp", NULL), 1);
  assert_int_equal(rules_with(sc, "bpf", NULL), 1);
  json_decref(sc);

  sc = render(p, 0, "s390x", 0, 0);
  assert_int_equal(rules_with(sc, "clone", &i), 1);
  json_t *arg = json_array_get(json_object_get(rule_at(sc, i), "args"), 0);
  assert_int_equal(json_integer_value(json_object_get(arg, "index")), 1); /* s390's argument order */
  json_decref(sc);

  berth_error_t err = NULL;
  struct berth_seccomp_target t = { .arch = "vax" };
  assert_null(berth_seccomp_profile_render(p, &t, &err));
  unit_assert_error_contains(&err, "unknown architecture `vax`");
}

/* the rendered object inside a config parses with the runtime's parser and compiles */
static struct berth_seccomp_prog *compile(json_t *sc)
{
  json_t *cfg = json_pack("{s:s, s:{s:s}, s:{s:O}}", "ociVersion", "1.2.0", "root", "path", "rootfs", "linux",
                          "seccomp", sc);
  cleanup_free char *text = berth_json_dumps(cfg);
  json_decref(cfg);
  berth_error_t err = NULL;
  berth_spec_t *spec = NULL;
  assert_int_equal(berth_spec_parse(text, strlen(text), "config.json", &spec, &err), 0);
  unit_assert_no_error(&err);
  assert_true(spec->linux_.seccomp.present);
  struct berth_seccomp_prog *prog = NULL;
  assert_int_equal(berth_seccomp_compile(&spec->linux_.seccomp, NULL, &prog, &err), 0);
  unit_assert_no_error(&err);
  berth_spec_free(spec);
  return prog;
}

static long sys(long nr, long a, long b, long c, long d, long e)
{
  long r = syscall(nr, a, b, c, d, e);
  return r < 0 ? -errno : r;
}

/* in a child with the default profile loaded: first failed check, 0 when all hold */
static int check_default(void)
{
  if (sys(SYS_getpid, 0, 0, 0, 0, 0) <= 0)
    return 1;
  if (sys(SYS_unshare, 0x10000000 /* CLONE_NEWUSER */, 0, 0, 0, 0) != -EPERM)
    return 2;
  if (sys(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3, 0, 0, 0) != -EPERM)
    return 3;
  if (sys(SYS_mount, (long) "none", (long) "/nonexistent-berth", (long) "bogusfs", 0, 0) != -EPERM)
    return 4;
  if (sys(SYS_clone3, 0, 0, 0, 0, 0) != -ENOSYS)
    return 5;
  if (sys(SYS_socket, 40 /* AF_VSOCK */, SOCK_STREAM, 0, 0, 0) != -EPERM)
    return 6;
  long s = sys(SYS_socket, AF_UNIX, SOCK_DGRAM, 0, 0, 0);
  if (s < 0)
    return 7;
  if (sys(SYS_personality, 0xffffffff, 0, 0, 0, 0) < 0)
    return 8;
#ifdef SYS_fchmodat2
  if (seccomp_syscall_resolve_name("fchmodat2") >= 0 &&
      sys(SYS_fchmodat2, -100, (long) "/", 0755, 0, 0) != -ENOSYS)
    return 9;
#else
  if (seccomp_syscall_resolve_name("fchmodat2") == 452 && sys(452, -100, (long) "/", 0755, 0, 0) != -ENOSYS)
    return 9;
#endif
  return 0;
}

/* with CAP_SYS_ADMIN in the set, the filter lets mount/unshare/clone3 through to the kernel */
static int check_admin(void)
{
  long r = sys(SYS_mount, (long) "none", (long) "/nonexistent-berth", (long) "bogusfs", 0, 0);
  if (r == -EPERM || r >= 0)
    return 1; /* the kernel answers ENOENT/ENODEV: the filter allowed it */
  if (sys(SYS_unshare, 0, 0, 0, 0, 0) != 0)
    return 2;
  if (sys(SYS_clone3, 0, 0, 0, 0, 0) != -EINVAL)
    return 3; /* the kernel refuses a NULL clone_args: not the filter's ENOSYS */
  if (sys(SYS_keyctl, 0, -3, 0, 0, 0) != -EPERM)
    return 4; /* still not in any group */
  return 0;
}

static int run_child(struct berth_seccomp_prog *prog, int (*check)(void))
{
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    berth_error_t err = NULL;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || berth_seccomp_load(prog, NULL, &err) < 0)
      _exit(100);
    _exit(check());
  }
  int st;
  while (waitpid(pid, &st, 0) < 0)
    assert_int_equal(errno, EINTR);
  assert_true(WIFEXITED(st));
  return WEXITSTATUS(st);
}

static void test_loaded_default(void **state)
{
  json_t *sc = render(berth_seccomp_default_profile(), berth_ctrspec_default_caps(), NULL, 0, 0);
  struct berth_seccomp_prog *prog = compile(sc);
  assert_int_equal(run_child(prog, check_default), 0);
  berth_seccomp_prog_free(prog);
  json_decref(sc);

  sc =
    render(berth_seccomp_default_profile(), berth_ctrspec_default_caps() | CAPBIT(CAP_SYS_ADMIN), NULL, 0, 0);
  prog = compile(sc);
  assert_int_equal(run_child(prog, check_admin), 0);
  /* and the checks can fail: the default profile's expectations do not hold here */
  assert_int_not_equal(run_child(prog, check_default), 0);
  berth_seccomp_prog_free(prog);
  json_decref(sc);
}

static const char docker_profile[] =
  "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 1,"
  " \"archMap\": [{\"architecture\": \"SCMP_ARCH_X86_64\", \"subArchitectures\": [\"SCMP_ARCH_X86\"]},"
  "              {\"architecture\": \"SCMP_ARCH_RISCV64\", \"subArchitectures\": null}],"
  " \"syscalls\": ["
  "  {\"names\": [\"read\", \"write\"], \"action\": \"SCMP_ACT_ALLOW\"},"
  "  {\"name\": \"getpid\", \"action\": \"SCMP_ACT_ALLOW\", \"comment\": \"legacy form\"},"
  "  {\"names\": [\"mount\"], \"action\": \"SCMP_ACT_ALLOW\", \"includes\": {\"caps\": [\"CAP_SYS_ADMIN\"]}},"
  "  {\"names\": [\"uname\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 38,"
  "   \"excludes\": {\"caps\": [\"CAP_SYS_ADMIN\", \"CAP_NET_ADMIN\"], \"minKernel\": \"9.0\"}},"
  "  {\"names\": [\"personality\"], \"action\": \"SCMP_ACT_ALLOW\","
  "   \"args\": [{\"index\": 0, \"value\": 8, \"valueTwo\": 0, \"op\": \"SCMP_CMP_EQ\"}]},"
  "  {\"names\": [\"arch_prctl\"], \"action\": \"SCMP_ACT_ALLOW\", \"includes\": {\"arches\": [\"amd64\"]}},"
  "  {\"names\": [\"ptrace\"], \"action\": \"SCMP_ACT_ALLOW\", \"includes\": {\"minKernel\": \"4.8\"}}"
  " ]}";

static void test_parse_docker_format(void **state)
{
  berth_error_t err = NULL;
  struct berth_seccomp_profile *p = NULL;
  assert_int_equal(berth_seccomp_profile_parse(docker_profile, strlen(docker_profile), "p.json", &p, &err),
                   0);
  assert_int_equal(p->n_groups, 7);
  assert_int_equal(p->n_arch_map, 2);
  assert_null(p->arch_map[1].sub);
  assert_string_equal(p->groups[1].names[0], "getpid");
  assert_int_equal(p->groups[3].errno_ret, 38);
  assert_int_equal(p->groups[3].excludes.caps, CAPBIT(CAP_SYS_ADMIN) | CAPBIT(CAP_NET_ADMIN));
  assert_int_equal(p->groups[3].excludes.min_kernel_major, 9);

  json_t *sc = render(p, CAPBIT(CAP_NET_ADMIN), "amd64", 6, 1);
  assert_int_equal(json_array_size(json_object_get(sc, "architectures")), 2);
  assert_int_equal(rules_with(sc, "getpid", NULL), 1);
  assert_int_equal(rules_with(sc, "mount", NULL), 0);
  assert_int_equal(rules_with(sc, "uname", NULL), 0); /* CAP_NET_ADMIN excludes it */
  assert_int_equal(rules_with(sc, "arch_prctl", NULL), 1);
  assert_int_equal(rules_with(sc, "ptrace", NULL), 1);
  /* ENOSYS above the profile's newest syscall (mount, 165 on x86_64), not below it */
  assert_int_equal(rules_with(sc, "gettid", NULL), 1); /* 186 */
  assert_int_equal(rules_with(sc, "close", NULL), 0);  /* 3: the default action */
  json_decref(sc);
  sc = render(p, CAPBIT(CAP_SYS_ADMIN), "riscv64", 4, 1);
  assert_int_equal(json_array_size(json_object_get(sc, "architectures")), 1);
  assert_int_equal(rules_with(sc, "mount", NULL), 1);
  assert_int_equal(rules_with(sc, "ptrace", NULL), 0);
  assert_int_equal(rules_with(sc, "arch_prctl", NULL), 0);
  json_decref(sc);
  sc = render(p, 0, "amd64", 4, 1);
  assert_int_equal(rules_with(sc, "uname", NULL), 1); /* kernel below 9.0, no excluded capability */
  struct berth_seccomp_prog *prog = compile(sc);
  berth_seccomp_prog_free(prog);
  json_decref(sc);
  berth_seccomp_profile_free(p);

  /* an allowing default gets no ENOSYS rule */
  const char *allow = "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],"
                      "\"action\":\"SCMP_ACT_ERRNO\"}]}";
  assert_int_equal(berth_seccomp_profile_parse(allow, strlen(allow), "a.json", &p, &err), 0);
  sc = render(p, 0, "amd64", 0, 0);
  assert_int_equal(json_array_size(json_object_get(sc, "syscalls")), 1);
  assert_null(json_object_get(sc, "defaultErrnoRet"));
  json_decref(sc);
  berth_seccomp_profile_free(p);
}

static void expect_parse_error(const char *json, const char *needle)
{
  berth_error_t err = NULL;
  struct berth_seccomp_profile *p = NULL;
  if (berth_seccomp_profile_parse(json, strlen(json), "bad.json", &p, &err) == 0) {
    print_error("accepted: %s\n", json);
    berth_seccomp_profile_free(p);
    fail();
  }
  unit_assert_error_contains(&err, needle);
}

static void test_parse_errors(void **state)
{
  expect_parse_error("{", "bad.json");
  expect_parse_error("[]", "bad.json: expected an object");
  expect_parse_error("{}", "bad.json: defaultAction: is required");
  expect_parse_error("{\"defaultAction\":\"SCMP_ACT_MAYBE\"}", "defaultAction: unknown seccomp action");
  expect_parse_error(
    "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"a\"],\"action\":\"x\"}]}",
    "bad.json: syscalls[0].action: unknown seccomp action \"x\"");
  expect_parse_error(
    "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[],\"action\":\"SCMP_ACT_ALLOW\"}]}",
    "syscalls[0].names: is required and must not be empty");
  expect_parse_error(
    "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"a\"],"
    "\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_LIKE\"}]}]}",
    "syscalls[0].args[0].op: unknown seccomp operator");
  expect_parse_error(
    "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"a\"],"
    "\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":6,\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]}]}",
    "syscalls[0].args[0].index");
  expect_parse_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"a\"],"
                     "\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"minKernel\":\"four\"}}]}",
                     "syscalls[0].includes.minKernel: invalid kernel version");
  expect_parse_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_X86\"],"
                     "\"archMap\":[{\"architecture\":\"SCMP_ARCH_X86_64\"}]}",
                     "use either \"architectures\" or \"archMap\"");
  expect_parse_error(
    "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"archMap\":[{\"architecture\":\"SCMP_ARCH_PDP11\"}]}",
    "archMap[0].architecture: unknown seccomp architecture");
  expect_parse_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"flags\":[\"SECCOMP_FILTER_FLAG_NOPE\"]}",
                     "flags[0]: unknown seccomp flag");
  expect_parse_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"defaultErrnoRet\":70000}", "defaultErrnoRet");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_default_caps_amd64),  cmocka_unit_test(test_enosys_rule),
    cmocka_unit_test(test_conditions),          cmocka_unit_test(test_loaded_default),
    cmocka_unit_test(test_parse_docker_format), cmocka_unit_test(test_parse_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
