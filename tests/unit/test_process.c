#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/ioprio.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/xalloc.h"
#include "linux/process.h"

/* Run fn in a forked child; it returns NULL on success or a malloc'd failure message,
 * which reaches the parent through a pipe and fails the test there. */
static void run_in_child(char *(*fn)(void) )
{
  int p[2];
  assert_int_equal(pipe2(p, O_CLOEXEC), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    close(p[0]);
    char *msg = fn();
    if (msg)
      berth_write_all(p[1], msg, strlen(msg));
    _exit(msg ? 1 : 0);
  }
  close(p[1]);
  char buf[4096];
  ssize_t n = berth_read_all(p[0], buf, sizeof buf - 1);
  close(p[0]);
  buf[n > 0 ? n : 0] = '\0';
  int st;
  assert_int_equal(waitpid(pid, &st, 0), pid);
  if (n > 0)
    fail_msg("child: %s", buf);
  assert_true(WIFEXITED(st));
  assert_int_equal(WEXITSTATUS(st), 0);
}

static char *take_error(berth_error_t *err)
{
  return *err ? berth_error_steal_msg(err) : xstrdup("expected an error");
}

static bool have_effective_cap(int cap)
{
  struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
  struct __user_cap_data_struct d[2];
  if (syscall(SYS_capget, &h, d) < 0)
    return false;
  return d[cap / 32].effective & (1U << (cap % 32));
}

static void drop_effective_cap(int cap)
{
  struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
  struct __user_cap_data_struct d[2];
  syscall(SYS_capget, &h, d);
  d[cap / 32].effective &= ~(1U << (cap % 32));
  syscall(SYS_capset, &h, d);
}

static char *child_rlimits(void)
{
  berth_error_t err = NULL;
  struct berth_spec_rlimit lims[] = { { RLIMIT_NOFILE, 100, 200 }, { RLIMIT_CORE, 0, 0 } };
  struct berth_spec_process p = { .rlimits = lims, .n_rlimits = 2 };
  if (berth_rlimits_apply(&p, &err) < 0)
    return take_error(&err);
  struct rlimit r;
  getrlimit(RLIMIT_NOFILE, &r);
  if (r.rlim_cur != 100 || r.rlim_max != 200)
    return xasprintf("RLIMIT_NOFILE is %lu/%lu", (unsigned long) r.rlim_cur, (unsigned long) r.rlim_max);
  getrlimit(RLIMIT_CORE, &r);
  if (r.rlim_cur != 0 || r.rlim_max != 0)
    return xasprintf("RLIMIT_CORE is %lu/%lu", (unsigned long) r.rlim_cur, (unsigned long) r.rlim_max);
  /* raising the hard limit needs CAP_SYS_RESOURCE (dropped here in case we have it) */
  drop_effective_cap(CAP_SYS_RESOURCE);
  struct berth_spec_rlimit up = { RLIMIT_NOFILE, 100, 400 };
  p.rlimits = &up;
  p.n_rlimits = 1;
  if (berth_rlimits_apply(&p, &err) == 0)
    return xstrdup("raising the hard limit succeeded");
  if (strcmp(err->msg, "set `RLIMIT_NOFILE` to soft 100, hard 400: raising the hard limit above 200 needs "
                       "CAP_SYS_RESOURCE: Operation not permitted") != 0)
    return take_error(&err);
  berth_error_release(&err);
  struct berth_spec_rlimit inverted = { RLIMIT_NOFILE, 150, 120 };
  p.rlimits = &inverted;
  if (berth_rlimits_apply(&p, &err) == 0)
    return xstrdup("soft above hard accepted");
  if (strstr(err->msg, "`RLIMIT_NOFILE`: soft limit 150 is above the hard limit 120") == NULL)
    return take_error(&err);
  berth_error_release(&err);
  return NULL;
}

static void test_rlimits(void **state) { run_in_child(child_rlimits); }

static void check_key(const char *key, const char *want)
{
  berth_error_t err = NULL;
  cleanup_free char *path = berth_sysctl_key_to_path(key, &err);
  if (want) {
    unit_assert_no_error(&err);
    assert_string_equal(path, want);
  } else {
    assert_null(path);
    unit_assert_error_contains(&err, "sysctl `");
  }
}

static void test_sysctl_keys(void **state)
{
  check_key("net.ipv4.ip_forward", "net/ipv4/ip_forward");
  check_key("kernel.shmmax", "kernel/shmmax");
  check_key("net.ipv4.conf.eth0/100.forwarding", "net/ipv4/conf/eth0.100/forwarding");
  check_key("", NULL);
  check_key("net..ipv4", NULL);
  check_key(".net", NULL);
  check_key("net.", NULL);
  check_key("..", NULL);
  check_key("net/..", NULL);
  check_key("a.//.b", NULL); /* swaps to a/../b */
  check_key("net.ipv4/../..", NULL);
}

static char *child_sysctl(void)
{
  berth_error_t err = NULL;
  if (unshare(CLONE_NEWNET) < 0)
    return xasprintf("unshare(CLONE_NEWNET): %s", strerror(errno));
  const char *keys[] = { "net.ipv4.ip_forward", "net.ipv4.conf.lo.forwarding" };
  const char *values[] = { "1", "1" };
  berth_spec_t spec;
  memset(&spec, 0, sizeof spec);
  spec.linux_.sysctl_keys = keys;
  spec.linux_.sysctl_values = values;
  spec.linux_.n_sysctl = 2;
  if (berth_sysctl_apply(&spec, &err) < 0)
    return take_error(&err);
  cleanup_free char *v = NULL;
  if (berth_read_file("/proc/sys/net/ipv4/ip_forward", 0, &v, NULL, &err) < 0)
    return take_error(&err);
  if (strcmp(v, "1\n") != 0)
    return xasprintf("ip_forward is %s", v);
  keys[0] = "net.ipv4.no_such_key";
  if (berth_sysctl_apply(&spec, &err) == 0)
    return xstrdup("unknown key accepted");
  if (strstr(err->msg,
             "sysctl `net.ipv4.no_such_key`: open `/proc/sys/net/ipv4/no_such_key`: No such file") == NULL)
    return take_error(&err);
  berth_error_release(&err);
  keys[0] = "net..ipv4";
  if (berth_sysctl_apply(&spec, &err) == 0)
    return xstrdup("bad key accepted");
  berth_error_release(&err);
  return NULL;
}

static void test_sysctl_apply(void **state) { run_in_child(child_sysctl); }

static void check_cpus(const char *list, const char *want_bits)
{
  berth_error_t err = NULL;
  cpu_set_t *set = NULL;
  size_t size = 0;
  int r = berth_cpu_list_parse(list, &set, &size, &err);
  if (want_bits == NULL) {
    assert_int_equal(r, -1);
    unit_assert_error_contains(&err, "cpu list `");
    return;
  }
  unit_assert_no_error(&err);
  assert_int_equal(r, 0);
  size_t n = strlen(want_bits);
  for (size_t i = 0; i < size * 8; i++)
    assert_int_equal(CPU_ISSET_S(i, size, set) ? 1 : 0, i < n && want_bits[i] == '1');
  CPU_FREE(set);
}

static void test_cpu_list(void **state)
{
  check_cpus("0-3,7", "11110001");
  check_cpus("0", "1");
  check_cpus("2,2,1-2", "011");
  check_cpus("5-5", "000001");
  check_cpus("", NULL);
  check_cpus("3-1", NULL);
  check_cpus("1,,2", NULL);
  check_cpus("1-", NULL);
  check_cpus("a", NULL);
  check_cpus("1,2,", NULL);
  check_cpus(" 1", NULL);
  check_cpus("1 ", NULL);
  check_cpus("99999999999999999999999", NULL);
  check_cpus("65536", NULL);
  berth_error_t err = NULL;
  cpu_set_t *set = NULL;
  size_t size = 0;
  assert_int_equal(berth_cpu_list_parse("1-x", &set, &size, &err), -1);
  unit_assert_error_contains(&err, "cpu list `1-x`: invalid range ending at offset 2");
}

static char *child_affinity(void)
{
  berth_error_t err = NULL;
  if (berth_cpu_affinity_apply(0, "0", &err) < 0)
    return take_error(&err);
  cpu_set_t set;
  sched_getaffinity(0, sizeof set, &set);
  if (CPU_COUNT(&set) != 1 || !CPU_ISSET(0, &set))
    return xasprintf("affinity has %d cpus", CPU_COUNT(&set));
  if (berth_cpu_affinity_apply(0, "0-2,x", &err) == 0)
    return xstrdup("bad list accepted");
  if (strstr(err->msg, "set cpu affinity: cpu list `0-2,x`") == NULL)
    return take_error(&err);
  berth_error_release(&err);
  return NULL;
}

static void test_cpu_affinity(void **state) { run_in_child(child_affinity); }

static char *child_user(void)
{
  berth_error_t err = NULL;
  uint32_t gids[] = { 1001, 1002 };
  struct berth_spec_user u = {
    .uid = 1000, .gid = 1000, .has_umask = true, .umask = 027, .additional_gids = gids, .n_additional_gids = 2
  };
  if (berth_user_apply(&u, false, &err) == 0)
    return xstrdup("additional gids accepted with setgroups denied");
  berth_error_release(&err);
  if (berth_user_apply(&u, true, &err) < 0)
    return take_error(&err);
  uid_t r, e, s;
  gid_t gr, ge, gs;
  getresuid(&r, &e, &s);
  getresgid(&gr, &ge, &gs);
  if (r != 1000 || e != 1000 || s != 1000 || gr != 1000 || ge != 1000 || gs != 1000)
    return xasprintf("ids %u/%u/%u %u/%u/%u", r, e, s, gr, ge, gs);
  gid_t groups[8];
  int n = getgroups(8, groups);
  if (n != 2 || groups[0] != 1001 || groups[1] != 1002)
    return xasprintf("getgroups gave %d groups", n);
  mode_t m = umask(0);
  if (m != 027)
    return xasprintf("umask is %o", m);
  /* PR_SET_KEEPCAPS kept the permitted set across setuid */
  struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
  struct __user_cap_data_struct d[2];
  syscall(SYS_capget, &h, d);
  if (d[0].permitted == 0 || d[0].effective != 0)
    return xasprintf("permitted 0x%x effective 0x%x after setuid", d[0].permitted, d[0].effective);
  return NULL;
}

static void test_user(void **state) { run_in_child(child_user); }

static char *child_user_no_setgroups(void)
{
  berth_error_t err = NULL;
  struct berth_spec_user u = { .uid = 0, .gid = 0 };
  gid_t one = 4242;
  if (setgroups(1, &one) < 0)
    return xstrdup("setgroups");
  if (berth_user_apply(&u, false, &err) < 0)
    return take_error(&err);
  gid_t g[8];
  if (getgroups(8, g) != 1 || g[0] != 4242)
    return xstrdup("groups changed although setgroups is not allowed");
  if (berth_user_apply(&u, true, &err) < 0)
    return take_error(&err);
  if (getgroups(8, g) != 0)
    return xstrdup("groups not cleared");
  return NULL;
}

static void test_user_setgroups_denied(void **state) { run_in_child(child_user_no_setgroups); }

static char *child_attrs(void)
{
  berth_error_t err = NULL;
  struct berth_spec_personality per = { true, PER_LINUX32, 0 };
  if (berth_personality_apply(&per, &err) < 0)
    return take_error(&err);
  if (personality(0xffffffff) != PER_LINUX32)
    return xstrdup("personality not PER_LINUX32");
  struct berth_spec_io_priority io = { true, IOPRIO_CLASS_BE, 5 };
  if (berth_ioprio_apply(&io, &err) < 0)
    return take_error(&err);
  long v = syscall(SYS_ioprio_get, IOPRIO_WHO_PROCESS, 0);
  if (v != IOPRIO_PRIO_VALUE(IOPRIO_CLASS_BE, 5))
    return xasprintf("ioprio is 0x%lx", v);
  io.priority = 9;
  if (berth_ioprio_apply(&io, &err) == 0)
    return xstrdup("ioprio 9 accepted");
  berth_error_release(&err);
  struct berth_spec_scheduler s = { .present = true, .policy = SCHED_BATCH, .has_nice = true, .nice = 5 };
  if (berth_scheduler_apply(&s, &err) < 0)
    return take_error(&err);
  errno = 0;
  if (sched_getscheduler(0) != SCHED_BATCH || getpriority(PRIO_PROCESS, 0) != 5)
    return xasprintf("scheduler %d nice %d", sched_getscheduler(0), getpriority(PRIO_PROCESS, 0));
  s.policy = 77;
  if (berth_scheduler_apply(&s, &err) == 0)
    return xstrdup("policy 77 accepted");
  if (strstr(err->msg, "set scheduler (policy 77") == NULL)
    return take_error(&err);
  berth_error_release(&err);
  return NULL;
}

static void test_attrs(void **state) { run_in_child(child_attrs); }

static void test_oom_score_adj(void **state)
{
  berth_error_t err = NULL;
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    pause();
    _exit(0);
  }
  assert_int_equal(berth_oom_score_adj_apply(pid, 500, &err), 0);
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/oom_score_adj", (int) pid);
  cleanup_free char *v = NULL;
  assert_int_equal(berth_read_file(path, 0, &v, NULL, &err), 0);
  assert_string_equal(v, "500\n");
  int r = berth_oom_score_adj_apply(pid, -1000, &err);
  if (have_effective_cap(CAP_SYS_RESOURCE)) {
    assert_int_equal(r, 0);
  } else {
    assert_int_equal(r, -1);
    unit_assert_error_contains(&err, "(lowering it needs CAP_SYS_RESOURCE)");
  }
  assert_int_equal(berth_oom_score_adj_apply(pid, 1001, &err), -1);
  unit_assert_error_contains(&err, "out of range");
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
}

static void expect_home(const char *text, uint32_t uid, const char *want)
{
  cleanup_free char *got = berth_passwd_home(text, strlen(text), uid);
  if (want == NULL)
    assert_null(got);
  else
    assert_string_equal(got, want);
}

static void test_passwd_home(void **state)
{
  (void) state;
  const char *pw = "root:x:0:0:root:/root:/bin/sh\n"
                   "# user:x:1000:1000::/commented:/bin/sh\n"
                   "+nis:x:1001:1001::/nis:/bin/sh\n"
                   "bad:x:12a:0::/bad:/bin/sh\n"
                   "user:x:1000:1000:Some User,,,:/home/user:/bin/sh\n"
                   "again:x:1000:1000::/second:/bin/sh\n"
                   "nohome:x:7:7::::\n"
                   "short:x:8:8\n"
                   "big:x:4294967295:0::/max\n"
                   "over:x:4294967296:0::/over\n"
                   "last:x:9:9::/nonl";
  expect_home(pw, 0, "/root");
  /* the first line with the uid wins */
  expect_home(pw, 1000, "/home/user");
  expect_home(pw, 1001, NULL);
  expect_home(pw, 7, NULL);
  expect_home(pw, 8, NULL);
  expect_home(pw, 4294967295u, "/max");
  expect_home(pw, 9, "/nonl");
  expect_home(pw, 4242, NULL);
  expect_home("", 0, NULL);
  expect_home("\n\n:::\n", 0, NULL);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_rlimits),
    cmocka_unit_test(test_sysctl_keys),
    cmocka_unit_test(test_sysctl_apply),
    cmocka_unit_test(test_cpu_list),
    cmocka_unit_test(test_cpu_affinity),
    cmocka_unit_test(test_user),
    cmocka_unit_test(test_user_setgroups_denied),
    cmocka_unit_test(test_attrs),
    cmocka_unit_test(test_oom_score_adj),
    cmocka_unit_test(test_passwd_home),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
