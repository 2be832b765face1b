/* The seccomp rewrite keeps every verdict of the program it rewrites (checked input by
 * input on libseccomp's own output for a Docker-like profile), shortens the kernel's
 * walk, refuses what it cannot reason about, and the compiled filters berth loads are
 * rewritten ones. */
#include "unit.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <seccomp.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/xalloc.h"
#include "engine/runspec/runspec.h"
#include "json/json.h"
#include "linux/seccomp.h"
#include "linux/seccomp_opt.h"
#include "oci/spec.h"

#define X32_BIT 0x40000000U

struct prog {
  struct sock_filter *v;
  size_t n;
};

/* libseccomp's program for a profile shaped like Docker's: a long allow list over three
 * architectures, argument rules of each operator (some on 64-bit values), a few other
 * actions, and an ERRNO default. */
static struct prog libseccomp_prog(int optimize_level)
{
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
  assert_non_null(ctx);
  assert_int_equal(seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0), 0);
  if (optimize_level > 1)
    assert_int_equal(seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, optimize_level), 0);
  assert_int_equal(seccomp_arch_add(ctx, SCMP_ARCH_X86), 0);
  assert_int_equal(seccomp_arch_add(ctx, SCMP_ARCH_X32), 0);
  /* allow two numbers of every three, by name, so each architecture gets its own runs */
  for (int nr = 0; nr < 460; nr++) {
    if (nr % 3 == 2)
      continue;
    char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, nr);
    if (name == NULL)
      continue;
    int s = seccomp_syscall_resolve_name(name);
    if (strcmp(name, "personality") != 0 && strcmp(name, "clone") != 0 && strcmp(name, "socket") != 0 &&
        strcmp(name, "umask") != 0 && strcmp(name, "getpriority") != 0 && strcmp(name, "kill") != 0 &&
        strcmp(name, "lseek") != 0 && strcmp(name, "getuid") != 0)
      assert_int_equal(seccomp_rule_add(ctx, SCMP_ACT_ALLOW, s, 0), 0);
    free(name);
  }
  int nr_pers = seccomp_syscall_resolve_name("personality");
  assert_int_equal(seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr_pers, 1, SCMP_A0(SCMP_CMP_EQ, 0x0)), 0);
  assert_int_equal(seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr_pers, 1, SCMP_A0(SCMP_CMP_EQ, 0x20008)), 0);
  assert_int_equal(seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr_pers, 1, SCMP_A0(SCMP_CMP_EQ, 0xffffffff)), 0);
  assert_int_equal(seccomp_rule_add(ctx, SCMP_ACT_ALLOW, seccomp_syscall_resolve_name("clone"), 1,
                                    SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWUSER | CLONE_NEWNS, 0)),
                   0);
  assert_int_equal(seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), seccomp_syscall_resolve_name("socket"),
                                    1, SCMP_A0(SCMP_CMP_EQ, AF_VSOCK)),
                   0);
  assert_int_equal(seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ESRCH), seccomp_syscall_resolve_name("kill"), 1,
                                    SCMP_A1(SCMP_CMP_EQ, 9)),
                   0);
  assert_int_equal(
    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, seccomp_syscall_resolve_name("kill"), 1, SCMP_A1(SCMP_CMP_EQ, 15)),
    0);
  assert_int_equal(seccomp_rule_add(ctx, SCMP_ACT_ALLOW, seccomp_syscall_resolve_name("getpriority"), 1,
                                    SCMP_A0(SCMP_CMP_NE, 1)),
                   0);
  assert_int_equal(seccomp_rule_add(ctx, SCMP_ACT_ALLOW, seccomp_syscall_resolve_name("umask"), 1,
                                    SCMP_A0(SCMP_CMP_LT, 0100)),
                   0);
  /* 64-bit values: both halves are compared */
  assert_int_equal(seccomp_rule_add(ctx, SCMP_ACT_ALLOW, seccomp_syscall_resolve_name("lseek"), 2,
                                    SCMP_A1(SCMP_CMP_GT, 0x100000000ULL), SCMP_A2(SCMP_CMP_LE, 2)),
                   0);
  assert_int_equal(seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EXDEV), seccomp_syscall_resolve_name("getuid"), 0),
                   0);
  assert_int_equal(seccomp_rule_add(ctx, SCMP_ACT_TRAP, seccomp_syscall_resolve_name("reboot"), 0), 0);
  assert_int_equal(
    seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, seccomp_syscall_resolve_name("kexec_load"), 0), 0);
  assert_int_equal(seccomp_rule_add(ctx, SCMP_ACT_LOG, seccomp_syscall_resolve_name("syslog"), 0), 0);

  int fd = memfd_create("prog", MFD_CLOEXEC);
  assert_true(fd >= 0);
  assert_int_equal(seccomp_export_bpf(ctx, fd), 0);
  seccomp_release(ctx);
  struct stat st;
  assert_int_equal(fstat(fd, &st), 0);
  struct prog p = { .v = xmalloc((size_t) st.st_size),
                    .n = (size_t) st.st_size / sizeof(struct sock_filter) };
  assert_int_equal(pread(fd, p.v, (size_t) st.st_size, 0), st.st_size);
  close(fd);
  return p;
}

static const uint32_t kernel_arches[] = { AUDIT_ARCH_X86_64, AUDIT_ARCH_I386 };

/* the values that sit on either side of every comparison in the profile, and others */
static const uint64_t arg_values[] = {
  0,
  1,
  2,
  3,
  0x3f,
  0x40,
  0x41,
  0100 - 1,
  0100,
  0x20008,
  0x20009,
  AF_VSOCK,
  AF_VSOCK + 1,
  9,
  15,
  CLONE_NEWUSER,
  CLONE_NEWNS,
  CLONE_NEWUSER | CLONE_NEWNET,
  0xffffffff,
  0x100000000ULL,
  0x100000001ULL,
  0xffffffff00000000ULL,
  0xffffffffffffffffULL,
  0x8000000000000000ULL,
};

static uint32_t rng_state = 12345;
static uint64_t rnd(void)
{
  rng_state = rng_state * 1103515245 + 12345;
  uint64_t hi = rng_state;
  rng_state = rng_state * 1103515245 + 12345;
  return (hi << 32) | rng_state;
}

static size_t compare_on(const struct prog *a, const struct prog *b, uint32_t arch, int32_t nr)
{
  size_t checked = 0;
  uint64_t args[6] = { 0 };
  for (size_t v = 0; v < BERTH_N_ELEMENTS(arg_values) * 3 + 4; v++) {
    for (size_t i = 0; i < 6; i++) {
      size_t pick = (v + i * 7) % (BERTH_N_ELEMENTS(arg_values) + 2);
      args[i] = pick < BERTH_N_ELEMENTS(arg_values) ? arg_values[pick] : rnd();
    }
    uint64_t ip = v % 2 ? 0 : rnd();
    uint32_t ra = berth_seccomp_run(a->v, a->n, arch, nr, ip, args, NULL);
    uint32_t rb = berth_seccomp_run(b->v, b->n, arch, nr, ip, args, NULL);
    if (ra != rb)
      fail_msg("arch 0x%x nr %d args %#llx %#llx %#llx: 0x%x before, 0x%x after", arch, nr,
               (unsigned long long) args[0], (unsigned long long) args[1], (unsigned long long) args[2], ra,
               rb);
    checked++;
  }
  return checked;
}

static size_t walk(const struct prog *p, uint32_t arch)
{
  size_t total = 0;
  for (int32_t nr = 0; nr < 460; nr++) {
    size_t steps = 0;
    berth_seccomp_run(p->v, p->n, arch, nr, 0, NULL, &steps);
    total += steps;
  }
  return total;
}

static void check_equivalent(int optimize_level)
{
  struct prog orig = libseccomp_prog(optimize_level);
  struct prog fast = { 0 };
  int rc = berth_seccomp_optimize(orig.v, orig.n, kernel_arches, 2, 0, &fast.v, &fast.n);
  if (optimize_level > 1) {
    /* libseccomp's tree is short to walk already; doubling its length would not pay */
    assert_int_equal(rc, 1);
    rc = berth_seccomp_optimize(orig.v, orig.n, kernel_arches, 2, BERTH_SECCOMP_OPT_FORCE, &fast.v, &fast.n);
  }
  assert_int_equal(rc, 0);
  /* the original follows the search unchanged */
  assert_true(fast.n > orig.n);
  assert_memory_equal(fast.v + (fast.n - orig.n), orig.v, orig.n * sizeof *orig.v);

  static const uint32_t arches[] = { AUDIT_ARCH_X86_64, AUDIT_ARCH_I386, AUDIT_ARCH_AARCH64, 0 };
  size_t checked = 0;
  for (size_t a = 0; a < BERTH_N_ELEMENTS(arches); a++) {
    for (int32_t nr = -2; nr < BERTH_SECCOMP_OPT_SPAN + 80; nr++)
      checked += compare_on(&orig, &fast, arches[a], nr);
    for (uint32_t nr = 0; nr < 600; nr += 3) /* x32 calls arrive as x86_64 with the bit set */
      checked += compare_on(&orig, &fast, arches[a], (int32_t) (X32_BIT | nr));
    checked += compare_on(&orig, &fast, arches[a], INT32_MAX);
    checked += compare_on(&orig, &fast, arches[a], INT32_MIN);
  }
  assert_true(checked > 100000);

  /* the verdicts the profile spells out, through the rewritten program */
  uint64_t args[6] = { AF_VSOCK };
  assert_int_equal(berth_seccomp_run(fast.v, fast.n, AUDIT_ARCH_X86_64, 41 /* socket */, 0, args, NULL),
                   SECCOMP_RET_ERRNO | EAFNOSUPPORT);
  args[0] = AF_INET;
  assert_int_equal(berth_seccomp_run(fast.v, fast.n, AUDIT_ARCH_X86_64, 41, 0, args, NULL),
                   SECCOMP_RET_ERRNO | EPERM);
  uint64_t kill_args[6] = { 1, 9 };
  assert_int_equal(berth_seccomp_run(fast.v, fast.n, AUDIT_ARCH_X86_64, 62 /* kill */, 0, kill_args, NULL),
                   SECCOMP_RET_ERRNO | ESRCH);
  kill_args[1] = 15;
  assert_int_equal(berth_seccomp_run(fast.v, fast.n, AUDIT_ARCH_X86_64, 62, 0, kill_args, NULL),
                   SECCOMP_RET_ALLOW);
  assert_int_equal(berth_seccomp_run(fast.v, fast.n, AUDIT_ARCH_X86_64, 102 /* getuid */, 0, NULL, NULL),
                   SECCOMP_RET_ERRNO | EXDEV);
  assert_int_equal(berth_seccomp_run(fast.v, fast.n, AUDIT_ARCH_X86_64, 2 /* open, 2 % 3 */, 0, NULL, NULL),
                   SECCOMP_RET_ERRNO | EPERM);

  /* the kernel's per-number walk is an order of magnitude shorter */
  for (size_t a = 0; a < 2; a++) {
    size_t before = walk(&orig, kernel_arches[a]), after = walk(&fast, kernel_arches[a]);
    print_message("# arch 0x%x: %zu steps before, %zu after (%zu -> %zu instructions)\n", kernel_arches[a],
                  before, after, orig.n, fast.n);
    assert_true(optimize_level > 1 || after * 4 < before);
  }
  free(orig.v);
  free(fast.v);
}

static void test_equivalent_linear(void **state)
{
  (void) state;
  check_equivalent(1);
}

static void test_equivalent_tree(void **state)
{
  (void) state;
  check_equivalent(2);
}

static int refused(const struct sock_filter *v, size_t n, const uint32_t *arches, size_t n_arches)
{
  struct sock_filter *out = NULL;
  size_t n_out = 0;
  int rc = berth_seccomp_optimize(v, n, arches, n_arches, 0, &out, &n_out);
  if (rc == 0)
    free(out);
  return rc == 1 && out == NULL;
}

static void test_refuses(void **state)
{
  (void) state;
  const uint32_t one[] = { AUDIT_ARCH_X86_64 }, twice[] = { AUDIT_ARCH_X86_64, AUDIT_ARCH_X86_64 };
  struct sock_filter ok[] = {
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
  };
  struct sock_filter bad[BERTH_N_ELEMENTS(ok)];

  assert_true(refused(ok, BERTH_N_ELEMENTS(ok), one, 0));     /* no architecture */
  assert_true(refused(ok, BERTH_N_ELEMENTS(ok), twice, 2));   /* a repeated one */
  assert_true(refused(ok, 0, one, 1));                        /* empty */
  assert_true(refused(ok, BERTH_N_ELEMENTS(ok) - 1, one, 1)); /* no return at the end */
  assert_true(refused(ok, BERTH_N_ELEMENTS(ok), one, 1));     /* nothing to gain: 4 instructions */

  memcpy(bad, ok, sizeof ok);
  bad[1].jf = 2; /* past the end */
  assert_true(refused(bad, BERTH_N_ELEMENTS(bad), one, 1));
  memcpy(bad, ok, sizeof ok);
  bad[0] = (struct sock_filter) BPF_STMT(BPF_LDX | BPF_W | BPF_MEM, 0); /* X and scratch memory */
  assert_true(refused(bad, BERTH_N_ELEMENTS(bad), one, 1));
  memcpy(bad, ok, sizeof ok);
  bad[0].k = 2; /* unaligned load */
  assert_true(refused(bad, BERTH_N_ELEMENTS(bad), one, 1));
  memcpy(bad, ok, sizeof ok);
  bad[0].k = sizeof(struct seccomp_data); /* past seccomp_data */
  assert_true(refused(bad, BERTH_N_ELEMENTS(bad), one, 1));
  memcpy(bad, ok, sizeof ok);
  bad[1] = (struct sock_filter) BPF_JUMP(BPF_JMP | BPF_JA, 0xffffffff, 0, 0); /* a jump that wraps */
  assert_true(refused(bad, BERTH_N_ELEMENTS(bad), one, 1));

  /* the interpreter gives KILL_THREAD for what it cannot run, without reading past the end */
  assert_int_equal(berth_seccomp_run(bad, BERTH_N_ELEMENTS(bad), AUDIT_ARCH_X86_64, 1, 0, NULL, NULL),
                   SECCOMP_RET_KILL_THREAD);
  assert_int_equal(berth_seccomp_run(ok, BERTH_N_ELEMENTS(ok), AUDIT_ARCH_X86_64, 1, 0, NULL, NULL),
                   SECCOMP_RET_ALLOW);
  assert_int_equal(berth_seccomp_run(ok, BERTH_N_ELEMENTS(ok) - 1, AUDIT_ARCH_X86_64, 3, 0, NULL, NULL),
                   SECCOMP_RET_KILL_THREAD);
}

/* berth_seccomp_compile hands out the rewritten program for Docker's default profile as
 * the engine renders it: the search answers the native architecture in a few steps, and
 * the kernel accepts it and gives the profile's verdicts. */
static void test_compile_rewrites(void **state)
{
  (void) state;
  berth_error_t err = NULL;
  struct berth_seccomp_target t = {
    .caps = berth_ctrspec_default_caps(), .arch = "amd64", .kernel_major = 6, .kernel_minor = 1
  };
  json_t *sc = berth_seccomp_profile_render(berth_seccomp_default_profile(), &t, &err);
  unit_assert_no_error(&err);
  json_t *doc = json_pack("{s:s, s:{s:s}, s:{s:o}}", "ociVersion", "1.0.2", "root", "path", "rootfs", "linux",
                          "seccomp", sc);
  assert_non_null(doc);
  cleanup_free char *text = json_dumps(doc, JSON_COMPACT);
  json_decref(doc);
  berth_spec_t *spec = NULL;
  assert_int_equal(berth_spec_parse(text, strlen(text), "config.json", &spec, &err), 0);
  struct berth_seccomp_prog *p = NULL;
  assert_int_equal(berth_seccomp_compile(&spec->linux_.seccomp, NULL, &p, &err), 0);
  unit_assert_no_error(&err);

  const struct sock_filter *v = p->insns;
  assert_int_equal(v[0].code, BPF_LD | BPF_W | BPF_ABS);
  assert_int_equal(v[1].k, AUDIT_ARCH_X86_64);
  assert_int_equal(v[2].code, BPF_JMP | BPF_JA); /* to the search, not into libseccomp's chain */
  size_t most = 0;
  for (int32_t nr = 0; nr < 460; nr++) {
    size_t steps = 0;
    berth_seccomp_run(v, p->n_insns, AUDIT_ARCH_X86_64, nr, 0, NULL, &steps);
    most = steps > most ? steps : most;
  }
  assert_true(most < 24); /* libseccomp's chain walks up to ~600 */
  uint64_t args[6] = { CLONE_NEWUSER };
  assert_int_equal(berth_seccomp_run(v, p->n_insns, AUDIT_ARCH_X86_64, SYS_clone, 0, args, NULL),
                   SECCOMP_RET_ERRNO | EPERM);
  args[0] = SIGCHLD;
  assert_int_equal(berth_seccomp_run(v, p->n_insns, AUDIT_ARCH_X86_64, SYS_clone, 0, args, NULL),
                   SECCOMP_RET_ALLOW);
  assert_int_equal(berth_seccomp_run(v, p->n_insns, AUDIT_ARCH_X86_64, SYS_read, 0, NULL, NULL),
                   SECCOMP_RET_ALLOW);
  assert_int_equal(berth_seccomp_run(v, p->n_insns, AUDIT_ARCH_X86_64, SYS_mount, 0, NULL, NULL),
                   SECCOMP_RET_ERRNO | EPERM);
  assert_int_equal(berth_seccomp_run(v, p->n_insns, AUDIT_ARCH_I386, 3 /* read */, 0, NULL, NULL),
                   SECCOMP_RET_ALLOW);
  assert_int_equal(
    berth_seccomp_run(v, p->n_insns, AUDIT_ARCH_X86_64, (int32_t) (X32_BIT | SYS_read), 0, NULL, NULL),
    SECCOMP_RET_ALLOW);

  /* the kernel takes it, and a process under it sees the profile */
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    berth_error_t cerr = NULL;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || berth_seccomp_load(p, NULL, &cerr) < 0)
      _exit(10);
    if (syscall(SYS_getppid) <= 0)
      _exit(11);
    if (syscall(SYS_unshare, CLONE_NEWUSER) != -1 || errno != EPERM)
      _exit(12);
    _exit(0);
  }
  int st;
  assert_int_equal(waitpid(pid, &st, 0), pid);
  assert_true(WIFEXITED(st));
  assert_int_equal(WEXITSTATUS(st), 0);
  berth_seccomp_prog_free(p);
  berth_spec_free(spec);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_equivalent_linear),
    cmocka_unit_test(test_equivalent_tree),
    cmocka_unit_test(test_refuses),
    cmocka_unit_test(test_compile_rewrites),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
