/* cgroup: the manager on this host's real hierarchies (root only). v1 tests use the hybrid
 * layout's v1 controllers (or a v1-only view of it); v2 tests use a v2 view of the cgroup2 mount
 * (/sys/fs/cgroup/unified on a hybrid host). Every cgroup is /berth-test-<pid>-<n>/..., removed
 * by the test and, failing that, by the group teardown. A test that this host cannot run skips
 * with the reason. */
#include "unit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/xalloc.h"
#include "cgroup/bpf.h"
#include "cgroup/cgroup.h"
#include "json/json.h"

static int counter;

#define SKIP(...)                                                                                            \
  do {                                                                                                       \
    print_message(__VA_ARGS__);                                                                              \
    print_message("\n");                                                                                     \
    skip();                                                                                                  \
  } while (0)

static bool have_v1(const struct berth_cgroup_layout *l, enum berth_cgroup_ctl c)
{
  for (size_t i = 0; i < l->n_v1; i++)
    if (l->v1[i].controllers & BERTH_CGROUP_CTL_BIT(c))
      return true;
  return false;
}

/* the host layout, with the v1 controllers the test needs (else skip) */
static void layout_v1(struct berth_cgroup_layout *l, uint32_t need)
{
  berth_error_t err = NULL;
  if (geteuid() != 0)
    SKIP("skip: cgroup host tests need root");
  if (berth_cgroup_detect(NULL, NULL, NULL, l, &err) < 0) {
    print_message("skip: %s\n", err->msg);
    berth_error_release(&err);
    skip();
  }
  for (int c = 0; c < BERTH_CGROUP_CTL__COUNT; c++)
    if ((need & BERTH_CGROUP_CTL_BIT(c)) && !have_v1(l, (enum berth_cgroup_ctl) c)) {
      berth_cgroup_layout_free(l);
      SKIP("skip: this host has no cgroup v1 `%s` hierarchy",
           berth_cgroup_ctl_name((enum berth_cgroup_ctl) c));
    }
}

/* a v2 view of the host's cgroup2 mount */
static void layout_v2(struct berth_cgroup_layout *l)
{
  berth_error_t err = NULL;
  struct berth_cgroup_layout host;
  if (geteuid() != 0)
    SKIP("skip: cgroup host tests need root");
  if (berth_cgroup_detect(NULL, NULL, NULL, &host, &err) < 0 || !host.has_unified) {
    berth_error_release(&err);
    SKIP("skip: this host has no cgroup2 mount");
  }
  cleanup_free char *mnt = xstrdup(host.unified.mountpoint);
  berth_cgroup_layout_free(&host);
  assert_int_equal(berth_cgroup_detect(mnt, NULL, NULL, l, &err), 0);
  assert_int_equal(l->mode, BERTH_CGROUP_MODE_V2);
}

static berth_cgroup_manager_t *manager(const struct berth_cgroup_layout *l, char **top)
{
  berth_error_t err = NULL;
  *top = xasprintf("/berth-test-%d-%d", (int) getpid(), ++counter);
  cleanup_free char *path = xasprintf("%s/ctr", *top);
  struct berth_cgroup_config cfg = { .kind = BERTH_CGROUP_CGROUPFS, .cgroups_path = path, .id = "x" };
  berth_cgroup_manager_t *m = NULL;
  assert_int_equal(berth_cgroup_manager_new(l, &cfg, &m, &err), 0);
  return m;
}

/* ---------------- children that wait for a go byte ---------------- */

struct kid {
  pid_t pid;
  int go;
};

static struct kid spawn(int (*fn)(void))
{
  int p[2];
  assert_int_equal(pipe2(p, O_CLOEXEC), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    close(p[1]);
    char c;
    if (read(p[0], &c, 1) != 1)
      _exit(100);
    _exit(fn());
  }
  close(p[0]);
  return (struct kid){ pid, p[1] };
}

static void go(struct kid *k)
{
  assert_int_equal(write(k->go, "g", 1), 1);
  close(k->go);
  k->go = -1;
}

static int wait_kid(struct kid *k)
{
  int status;
  while (waitpid(k->pid, &status, 0) < 0 && errno == EINTR)
    ;
  return status;
}

static void reap_all(void)
{
  while (waitpid(-1, NULL, WNOHANG) > 0)
    ;
}

static unsigned long long cpu_ticks(pid_t pid)
{
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
  FILE *f = fopen(path, "re");
  if (f == NULL)
    return 0;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  const char *p = strrchr(buf, ')');
  unsigned long long ut = 0, st = 0;
  if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) == 2)
    return ut + st;
  return 0;
}

static bool in_cgroup(pid_t pid, const char *path)
{
  char proc[64];
  snprintf(proc, sizeof proc, "/proc/%d/cgroup", (int) pid);
  cleanup_free char *text = NULL;
  berth_error_t err = NULL;
  if (berth_read_file(proc, 0, &text, NULL, &err) < 0) {
    berth_error_release(&err);
    return false;
  }
  cleanup_free char *needle = xasprintf(":%s\n", path);
  return strstr(text, needle) != NULL;
}

static char *read_in(const char *dir, const char *file)
{
  cleanup_free char *p = xasprintf("%s/%s", dir, file);
  char *text = NULL;
  berth_error_t err = NULL;
  if (berth_read_file(p, 0, &text, NULL, &err) < 0) {
    berth_error_release(&err);
    return xstrdup("<missing>");
  }
  text[strcspn(text, "\n")] = '\0';
  return text;
}

#define assert_cg(dir, file, want)                                                                           \
  do {                                                                                                       \
    cleanup_free char *got_ = read_in(dir, file);                                                            \
    assert_string_equal(got_, want);                                                                         \
  } while (0)

/* destroy, then check nothing of the test is left in any hierarchy */
static void destroy_and_check(berth_cgroup_manager_t *m, const struct berth_cgroup_layout *l, const char *top)
{
  berth_error_t err = NULL;
  assert_int_equal(berth_cgroup_destroy(m, &err), 0);
  unit_assert_no_error(&err);
  for (size_t i = 0; i <= l->n_v1; i++) {
    const char *mnt = i < l->n_v1 ? l->v1[i].mountpoint : l->has_unified ? l->unified.mountpoint : NULL;
    if (mnt == NULL)
      continue;
    cleanup_free char *p = xasprintf("%s%s", mnt, top);
    if (access(p, F_OK) == 0)
      fail_msg("`%s` was left behind", p);
  }
}

static bool cg_file_exists(const char *dir, const char *file)
{
  cleanup_free char *p = xasprintf("%s/%s", dir, file);
  return access(p, F_OK) == 0;
}

static uint32_t cg_v2_root_controllers(const struct berth_cgroup_layout *l) { return l->unified.controllers; }

__attribute__((noreturn)) static int sleeper(void)
{
  for (;;)
    pause();
}

__attribute__((noreturn)) static int spinner(void)
{
  for (volatile unsigned long i = 0;; i++)
    ;
}

/* ---------------- v1 (the hybrid host's v1 hierarchies) ---------------- */

static void test_v1_create_join_destroy(void **state)
{
  berth_error_t err = NULL;
  struct berth_cgroup_layout l;
  layout_v1(&l, 0);
  cleanup_free char *top = NULL;
  cleanup_cgroup_manager berth_cgroup_manager_t *m = manager(&l, &top);
  struct kid k = spawn(sleeper);
  assert_int_equal(berth_cgroup_create(m, k.pid, &err), 0);
  unit_assert_no_error(&err);
  cleanup_free char *path = xasprintf("%s/ctr", top);
  assert_true(in_cgroup(k.pid, path)); /* every hierarchy line ends in the path */
  char proc[64];
  snprintf(proc, sizeof proc, "/proc/%d/cgroup", (int) k.pid);
  cleanup_free char *text = NULL;
  assert_int_equal(berth_read_file(proc, 0, &text, NULL, &err), 0);
  for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
    if (strstr(line, "name=systemd") || strstr(line, ":memory:") || strstr(line, ":pids:") ||
        strncmp(line, "0::", 3) == 0)
      assert_non_null(strstr(line, path));
  bool empty = true;
  assert_int_equal(berth_cgroup_is_empty(m, &empty, &err), 0);
  assert_false(empty);
  json_t *j = berth_cgroup_manager_to_json(m);
  cleanup_cgroup_manager berth_cgroup_manager_t *again = NULL;
  assert_int_equal(berth_cgroup_manager_from_json(j, &again, &err), 0); /* a later command */
  json_decref(j);
  destroy_and_check(again, &l, top); /* kills the sleeper, removes /berth-test-…/ctr and its parent */
  assert_true(WIFSIGNALED(wait_kid(&k)));
  berth_cgroup_layout_free(&l);
}

static int fork_storm(void)
{
  pid_t kids[20];
  int ok = 0;
  for (int i = 0; i < 20; i++) {
    pid_t p = fork();
    if (p == 0) {
      pause();
      _exit(0);
    }
    if (p > 0)
      kids[ok++] = p;
  }
  for (int i = 0; i < ok; i++) {
    kill(kids[i], SIGKILL);
    waitpid(kids[i], NULL, 0);
  }
  return ok;
}

static void test_v1_pids_limit_stops_fork_storm(void **state)
{
  berth_error_t err = NULL;
  struct berth_cgroup_layout l;
  layout_v1(&l, BERTH_CGROUP_CTL_BIT(BERTH_CGROUP_CTL_PIDS));
  cleanup_free char *top = NULL;
  cleanup_cgroup_manager berth_cgroup_manager_t *m = manager(&l, &top);
  struct berth_spec_resources r = { .present = true, .pids = { true, 5 } };
  struct kid k = spawn(fork_storm);
  assert_int_equal(berth_cgroup_create(m, k.pid, &err), 0);
  assert_int_equal(berth_cgroup_apply(m, &r, NULL, &err), 0);
  assert_cg(berth_cgroup_manager_dir(m, BERTH_CGROUP_CTL_PIDS), "pids.max", "5");
  go(&k);
  int status = wait_kid(&k);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 4); /* 5 tasks: the kid and 4 of its 20 forks */
  destroy_and_check(m, &l, top);
  berth_cgroup_layout_free(&l);
}

static int hog_mb = 20;
static int hog_ready = -1; /* the hog writes a byte here once its memory is touched */

static int memory_hog(void)
{
  size_t len = (size_t) hog_mb << 20;
  char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    return 2;
  for (size_t i = 0; i < len; i += 4096)
    p[i] = 1;
  if (hog_ready >= 0 && write(hog_ready, "r", 1) != 1)
    return 3;
  return sleeper();
}

static void test_v1_memory_limits(void **state)
{
  berth_error_t err = NULL;
  struct berth_cgroup_layout l;
  layout_v1(&l, BERTH_CGROUP_CTL_BIT(BERTH_CGROUP_CTL_MEMORY));
  cleanup_free char *top = NULL;
  cleanup_cgroup_manager berth_cgroup_manager_t *m = manager(&l, &top);
  assert_int_equal(berth_cgroup_create(m, 0, &err), 0);
  const char *dir = berth_cgroup_manager_dir(m, BERTH_CGROUP_CTL_MEMORY);
  struct berth_spec_resources r = { .present = true };
  r.memory.limit = (struct berth_opt_i64){ true, 32 << 20 };
  r.memory.swap = (struct berth_opt_i64){ true, 64 << 20 };
  r.memory.reservation = (struct berth_opt_i64){ true, 16 << 20 };
  r.memory.kernel = (struct berth_opt_i64){ true, 1 << 20 };
  r.memory.kernel_tcp = (struct berth_opt_i64){ true, 2 << 20 };
  r.memory.swappiness = (struct berth_opt_u64){ true, 30 };
  r.memory.has_disable_oom_killer = r.memory.disable_oom_killer = true;
  struct berth_cgroup_warnings w = { 0 };
  assert_int_equal(berth_cgroup_apply(m, &r, &w, &err), 0);
  unit_assert_no_error(&err);
  assert_cg(dir, "memory.limit_in_bytes", "33554432");
  assert_cg(dir, "memory.memsw.limit_in_bytes", "67108864");
  assert_cg(dir, "memory.soft_limit_in_bytes", "16777216");
  assert_cg(dir, "memory.kmem.tcp.limit_in_bytes", "2097152");
  assert_cg(dir, "memory.swappiness", "30");
  assert_cg(dir, "memory.oom_control", "oom_kill_disable 1");
  assert_int_equal(w.n, 1);
  assert_non_null(strstr(w.msgs[0], "linux.resources.memory.kernel"));
  berth_cgroup_warnings_free(&w);
  /* raising both: memory above the old memsw is refused (EINVAL) until memsw is raised */
  r.memory.limit.v = 128 << 20;
  r.memory.swap.v = 256 << 20;
  assert_int_equal(berth_cgroup_apply(m, &r, NULL, &err), 0);
  unit_assert_no_error(&err);
  assert_cg(dir, "memory.limit_in_bytes", "134217728");
  assert_cg(dir, "memory.memsw.limit_in_bytes", "268435456");
  /* below what a process uses (no swap here): the kernel refuses, the error names field and file */
  int ready[2];
  assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
  hog_ready = ready[1];
  struct kid k = spawn(memory_hog);
  hog_ready = -1;
  close(ready[1]);
  assert_int_equal(berth_cgroup_join(m, k.pid, &err), 0);
  go(&k);
  char c;
  assert_int_equal(read(ready[0], &c, 1), 1);
  close(ready[0]);
  json_t *stats = NULL; /* the hog's 20 MiB are charged here */
  assert_int_equal(berth_cgroup_stats(m, &stats, &err), 0);
  json_t *usage = json_object_get(json_object_get(stats, "memory"), "usage");
  assert_true(json_integer_value(json_object_get(usage, "usage")) >= 20 << 20);
  assert_int_equal(json_integer_value(json_object_get(usage, "limit")), 128 << 20);
  json_decref(stats);
  struct berth_spec_resources low = { .present = true };
  low.memory.limit = (struct berth_opt_i64){ true, 4 << 20 };
  int rc = berth_cgroup_apply(m, &low, NULL, &err);
  FILE *swaps = fopen("/proc/swaps", "re");
  char line[256];
  bool swap = swaps && fgets(line, sizeof line, swaps) && fgets(line, sizeof line, swaps);
  if (swaps)
    fclose(swaps);
  if (!swap) {
    assert_int_equal(rc, -1);
    unit_assert_error_contains(&err,
                               "linux.resources.memory.limit: write memory.limit_in_bytes = 4194304: Device "
                               "or resource busy");
  }
  berth_error_release(&err);
  destroy_and_check(m, &l, top);
  wait_kid(&k);
  berth_cgroup_layout_free(&l);
}

static void test_v1_freeze_thaw_busy_child(void **state)
{
  berth_error_t err = NULL;
  struct berth_cgroup_layout l;
  layout_v1(&l, BERTH_CGROUP_CTL_BIT(BERTH_CGROUP_CTL_FREEZER));
  cleanup_free char *top = NULL;
  cleanup_cgroup_manager berth_cgroup_manager_t *m = manager(&l, &top);
  struct kid k = spawn(spinner);
  assert_int_equal(berth_cgroup_create(m, k.pid, &err), 0);
  go(&k);
  usleep(50000);
  enum berth_cgroup_freezer_state st;
  assert_int_equal(berth_cgroup_freeze(m, true, &err), 0);
  unit_assert_no_error(&err);
  assert_int_equal(berth_cgroup_freezer_state(m, &st, &err), 0);
  assert_int_equal(st, BERTH_CGROUP_FROZEN);
  unsigned long long a = cpu_ticks(k.pid);
  usleep(300000);
  assert_true(cpu_ticks(k.pid) == a); /* frozen: no cpu time */
  assert_int_equal(berth_cgroup_freeze(m, false, &err), 0);
  assert_int_equal(berth_cgroup_freezer_state(m, &st, &err), 0);
  assert_int_equal(st, BERTH_CGROUP_THAWED);
  usleep(300000);
  assert_true(cpu_ticks(k.pid) > a);
  destroy_and_check(m, &l, top);
  assert_true(WIFSIGNALED(wait_kid(&k)));
  berth_cgroup_layout_free(&l);
}

static int parent_of_sleeper(void)
{
  if (fork() == 0)
    sleeper();
  return sleeper();
}

/* a v1-only view: kill goes freeze → signal every pid → thaw */
static void test_v1_kill_freeze_signal_thaw(void **state)
{
  berth_error_t err = NULL;
  struct berth_cgroup_layout l;
  layout_v1(&l, BERTH_CGROUP_CTL_BIT(BERTH_CGROUP_CTL_FREEZER));
  struct berth_cgroup_layout v1 = l;
  v1.has_unified = false;
  v1.mode = BERTH_CGROUP_MODE_V1;
  cleanup_free char *top = NULL;
  cleanup_cgroup_manager berth_cgroup_manager_t *m = manager(&v1, &top);
  struct kid k = spawn(parent_of_sleeper);
  assert_int_equal(berth_cgroup_create(m, k.pid, &err), 0);
  go(&k);
  cleanup_free pid_t *pids = NULL;
  size_t n = 0;
  for (int i = 0; i < 100 && n < 2; i++) {
    free(pids);
    assert_int_equal(berth_cgroup_pids(m, &pids, &n, &err), 0);
    usleep(10000);
  }
  assert_int_equal(n, 2);
  assert_int_equal(berth_cgroup_kill(m, SIGTERM, &err), 0);
  unit_assert_no_error(&err);
  int status = wait_kid(&k);
  assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
  bool empty = false;
  for (int i = 0; i < 100 && !empty; i++) {
    reap_all(); /* the grandchild comes to us: we are a subreaper */
    assert_int_equal(berth_cgroup_is_empty(m, &empty, &err), 0);
    usleep(10000);
  }
  assert_true(empty);
  enum berth_cgroup_freezer_state st;
  assert_int_equal(berth_cgroup_freezer_state(m, &st, &err), 0);
  assert_int_equal(st, BERTH_CGROUP_THAWED);
  destroy_and_check(m, &l, top);
  berth_cgroup_layout_free(&l);
}

static void test_v1_oom_kill_reported(void **state)
{
  berth_error_t err = NULL;
  struct berth_cgroup_layout l;
  layout_v1(&l, BERTH_CGROUP_CTL_BIT(BERTH_CGROUP_CTL_MEMORY));
  cleanup_free char *top = NULL;
  cleanup_cgroup_manager berth_cgroup_manager_t *m = manager(&l, &top);
  struct berth_spec_resources r = { .present = true };
  r.memory.limit = (struct berth_opt_i64){ true, 16 << 20 };
  r.memory.swap = (struct berth_opt_i64){ true, 16 << 20 };
  hog_mb = 64;
  struct kid k = spawn(memory_hog);
  assert_int_equal(berth_cgroup_create(m, k.pid, &err), 0);
  assert_int_equal(berth_cgroup_apply(m, &r, NULL, &err), 0);
  int fd = berth_cgroup_oom_fd(m, &err);
  unit_assert_no_error(&err);
  assert_true(fd >= 0);
  go(&k);
  int status = wait_kid(&k);
  assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  struct pollfd p = { .fd = fd, .events = POLLIN };
  assert_int_equal(poll(&p, 1, 2000), 1);
  uint64_t events = 0;
  assert_int_equal(read(fd, &events, sizeof events), (ssize_t) sizeof events);
  assert_true(events >= 1);
  close(fd);
  uint64_t kills = 0;
  assert_int_equal(berth_cgroup_oom_kill_count(m, &kills, &err), 0);
  assert_true(kills >= 1);
  destroy_and_check(m, &l, top);
  berth_cgroup_layout_free(&l);
}

/* exit 0 when /dev/null is refused with EPERM and /dev/zero opens */
static int open_null_zero(void)
{
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  int e = errno;
  int zero = open("/dev/zero", O_RDONLY | O_CLOEXEC);
  if (null >= 0)
    return 1;
  if (e != EPERM)
    return 2;
  return zero >= 0 ? 0 : 3;
}

static struct berth_spec_device_rule deny_null[] = { { true, 'a', -1, -1, "rwm" },
                                                     { false, 'c', 1, 3, "rw" } };

static void test_v1_devices_denied(void **state)
{
  berth_error_t err = NULL;
  struct berth_cgroup_layout l;
  layout_v1(&l, BERTH_CGROUP_CTL_BIT(BERTH_CGROUP_CTL_DEVICES));
  cleanup_free char *top = NULL;
  cleanup_cgroup_manager berth_cgroup_manager_t *m = manager(&l, &top);
  struct berth_spec_resources r = { .present = true, .devices = deny_null, .n_devices = 2 };
  struct kid k = spawn(open_null_zero);
  assert_int_equal(berth_cgroup_create(m, k.pid, &err), 0);
  assert_int_equal(berth_cgroup_apply(m, &r, NULL, &err), 0);
  unit_assert_no_error(&err);
  go(&k);
  int status = wait_kid(&k);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
  destroy_and_check(m, &l, top);
  berth_cgroup_layout_free(&l);
}

static int only_cpu0(void)
{
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) < 0)
    return 2;
  return CPU_COUNT(&set) == 1 && CPU_ISSET(0, &set) ? 0 : 1;
}

static void test_v1_cpuset_and_cpu_quota(void **state)
{
  berth_error_t err = NULL;
  struct berth_cgroup_layout l;
  layout_v1(&l, BERTH_CGROUP_CTL_BIT(BERTH_CGROUP_CTL_CPUSET) | BERTH_CGROUP_CTL_BIT(BERTH_CGROUP_CTL_CPU));
  cleanup_free char *top = NULL;
  cleanup_cgroup_manager berth_cgroup_manager_t *m = manager(&l, &top);
  struct kid k = spawn(only_cpu0);
  /* joining needs cpus/mems in the new levels: copied from the parent */
  assert_int_equal(berth_cgroup_create(m, k.pid, &err), 0);
  unit_assert_no_error(&err);
  struct berth_spec_resources r = { .present = true };
  r.cpu.cpus = "0";
  r.cpu.mems = "0";
  r.cpu.quota = (struct berth_opt_i64){ true, 10000 };
  r.cpu.period = (struct berth_opt_u64){ true, 100000 };
  assert_int_equal(berth_cgroup_apply(m, &r, NULL, &err), 0);
  unit_assert_no_error(&err);
  assert_cg(berth_cgroup_manager_dir(m, BERTH_CGROUP_CTL_CPU), "cpu.cfs_quota_us", "10000");
  go(&k);
  int status = wait_kid(&k);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
  /* a throttled spinner is counted */
  struct kid s = spawn(spinner);
  assert_int_equal(berth_cgroup_join(m, s.pid, &err), 0);
  go(&s);
  usleep(400000);
  json_t *stats = NULL;
  assert_int_equal(berth_cgroup_stats(m, &stats, &err), 0);
  json_t *cpu = json_object_get(stats, "cpu");
  assert_true(json_integer_value(json_object_get(json_object_get(cpu, "throttling"), "throttledPeriods")) >
              0);
  assert_true(json_integer_value(json_object_get(json_object_get(cpu, "usage"), "total")) > 0);
  assert_int_equal(json_integer_value(json_object_get(json_object_get(stats, "pids"), "current")), 1);
  json_decref(stats);
  struct berth_spec_resources bad = { .present = true };
  bad.cpu.cpus = "99";
  assert_int_equal(berth_cgroup_apply(m, &bad, NULL, &err), -1);
  unit_assert_error_contains(&err, "linux.resources.cpu.cpus: write cpuset.cpus = 99: ");
  destroy_and_check(m, &l, top);
  assert_true(WIFSIGNALED(wait_kid(&s)));
  berth_cgroup_layout_free(&l);
}

static void test_destroy_removes_nested_cgroups(void **state)
{
  berth_error_t err = NULL;
  struct berth_cgroup_layout l;
  layout_v1(&l, 0);
  cleanup_free char *top = NULL;
  cleanup_cgroup_manager berth_cgroup_manager_t *m = manager(&l, &top);
  struct kid k = spawn(sleeper);
  assert_int_equal(berth_cgroup_create(m, k.pid, &err), 0);
  /* the container made its own sub-cgroup and moved into it */
  const char *mem = berth_cgroup_manager_dir(m, BERTH_CGROUP_CTL_MEMORY);
  cleanup_free char *sub = xasprintf("%s/inner", mem);
  assert_int_equal(mkdir(sub, 0755), 0);
  char pid[24];
  snprintf(pid, sizeof pid, "%d", (int) k.pid);
  berth_error_t e = NULL;
  cleanup_free char *procs = xasprintf("%s/cgroup.procs", sub);
  assert_int_equal(berth_write_file_at(AT_FDCWD, procs, pid, strlen(pid), &e), 0);
  destroy_and_check(m, &l, top);
  assert_true(WIFSIGNALED(wait_kid(&k)));
  berth_cgroup_layout_free(&l);
}

/* ---------------- v2 (a v2 view of the cgroup2 mount) ---------------- */

static void test_v2_procs_freeze_kill(void **state)
{
  berth_error_t err = NULL;
  struct berth_cgroup_layout l;
  layout_v2(&l);
  cleanup_free char *top = NULL;
  cleanup_cgroup_manager berth_cgroup_manager_t *m = manager(&l, &top);
  struct kid k = spawn(spinner);
  assert_int_equal(berth_cgroup_create(m, k.pid, &err), 0);
  unit_assert_no_error(&err);
  const char *dir = berth_cgroup_manager_dir(m, BERTH_CGROUP_CTL_NONE);
  char want[24];
  snprintf(want, sizeof want, "%d", (int) k.pid);
  assert_cg(dir, "cgroup.procs", want);
  if (!cg_file_exists(dir, "cgroup.freeze") || !cg_file_exists(dir, "cgroup.kill")) {
    kill(k.pid, SIGKILL);
    wait_kid(&k);
    destroy_and_check(m, &l, top);
    berth_cgroup_layout_free(&l);
    SKIP("skip: this kernel has no cgroup.freeze/cgroup.kill");
  }
  go(&k);
  usleep(50000);
  enum berth_cgroup_freezer_state st;
  assert_int_equal(berth_cgroup_freeze(m, true, &err), 0);
  unit_assert_no_error(&err);
  assert_int_equal(berth_cgroup_freezer_state(m, &st, &err), 0);
  assert_int_equal(st, BERTH_CGROUP_FROZEN);
  assert_cg(dir, "cgroup.freeze", "1");
  unsigned long long a = cpu_ticks(k.pid);
  usleep(300000);
  assert_true(cpu_ticks(k.pid) == a);
  assert_int_equal(berth_cgroup_freeze(m, false, &err), 0);
  usleep(300000);
  assert_true(cpu_ticks(k.pid) > a);
  assert_int_equal(berth_cgroup_kill(m, SIGKILL, &err), 0); /* cgroup.kill */
  int status = wait_kid(&k);
  assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  /* no controllers here: a memory limit is a warning, never silence */
  struct berth_spec_resources r = { .present = true };
  r.memory.limit = (struct berth_opt_i64){ true, 1 << 30 };
  struct berth_cgroup_warnings w = { 0 };
  assert_int_equal(berth_cgroup_apply(m, &r, &w, &err), 0);
  bool warned = false;
  for (size_t i = 0; i < w.n; i++)
    warned |=
      strstr(w.msgs[i], "linux.resources.memory.limit: the `memory` controller is not available") != NULL;
  if (!(cg_v2_root_controllers(&l) & BERTH_CGROUP_CTL_BIT(BERTH_CGROUP_CTL_MEMORY)))
    assert_true(warned);
  berth_cgroup_warnings_free(&w);
  destroy_and_check(m, &l, top);
  berth_cgroup_layout_free(&l);
}

static int bpf_prog_count(const char *dir)
{
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  uint32_t ids[8];
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.query.target_fd = (uint32_t) fd;
  a.query.attach_type = BPF_CGROUP_DEVICE;
  a.query.prog_ids = (uintptr_t) ids;
  a.query.prog_cnt = 8;
  long rc = syscall(SYS_bpf, BPF_PROG_QUERY, &a, sizeof a);
  close(fd);
  return rc < 0 ? -1 : (int) a.query.prog_cnt;
}

static int open_null(void)
{
  int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  return fd >= 0 ? 0 : errno == EPERM ? 1 : 2;
}

static void test_v2_ebpf_device_filter(void **state)
{
  berth_error_t err = NULL;
  struct berth_cgroup_layout l;
  layout_v2(&l);
  cleanup_free char *top = NULL;
  cleanup_cgroup_manager berth_cgroup_manager_t *m = manager(&l, &top);
  assert_int_equal(berth_cgroup_create(m, 0, &err), 0);
  struct berth_spec_resources r = { .present = true, .devices = deny_null, .n_devices = 2 };
  if (berth_cgroup_apply(m, &r, NULL, &err) < 0) {
    print_message("skip: cannot attach a device program here: %s\n", err->msg);
    berth_error_release(&err);
    destroy_and_check(m, &l, top);
    berth_cgroup_layout_free(&l);
    skip();
  }
  const char *dir = berth_cgroup_manager_dir(m, BERTH_CGROUP_CTL_NONE);
  assert_int_equal(bpf_prog_count(dir), 1);
  struct kid k = spawn(open_null_zero);
  assert_int_equal(berth_cgroup_join(m, k.pid, &err), 0);
  go(&k);
  int status = wait_kid(&k);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0); /* /dev/null: EPERM, /dev/zero: fine */
  /* new rules replace the old program: /dev/null opens again */
  struct berth_spec_device_rule all[] = { { true, 'a', -1, -1, "rwm" } };
  struct berth_spec_resources r2 = { .present = true, .devices = all, .n_devices = 1 };
  assert_int_equal(berth_cgroup_apply(m, &r2, NULL, &err), 0);
  assert_int_equal(bpf_prog_count(dir), 1);
  struct kid k2 = spawn(open_null);
  assert_int_equal(berth_cgroup_join(m, k2.pid, &err), 0);
  go(&k2);
  status = wait_kid(&k2);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
  destroy_and_check(m, &l, top);
  berth_cgroup_layout_free(&l);
}

/* safety net: whatever a failed test left under /berth-test-<pid>-* */
static void remove_tree(const char *dir)
{
  cleanup_free char *procs = xasprintf("%s/cgroup.procs", dir);
  FILE *f = fopen(procs, "re");
  for (int pid; f && fscanf(f, "%d", &pid) == 1;)
    if (pid > 1 && pid != getpid())
      kill(pid, SIGKILL); /* a kid of a failed test */
  if (f)
    fclose(f);
  usleep(20000);
  reap_all();
  DIR *d = opendir(dir);
  for (struct dirent *e; d && (e = readdir(d));) {
    if (e->d_type != DT_DIR || strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    cleanup_free char *sub = xasprintf("%s/%s", dir, e->d_name);
    remove_tree(sub);
  }
  if (d)
    closedir(d);
  rmdir(dir);
}

static int teardown(void **state)
{
  struct berth_cgroup_layout l;
  berth_error_t err = NULL;
  reap_all();
  if (berth_cgroup_detect(NULL, NULL, NULL, &l, &err) < 0) {
    berth_error_release(&err);
    return 0;
  }
  cleanup_free char *prefix = xasprintf("berth-test-%d-", (int) getpid());
  for (size_t i = 0; i <= l.n_v1; i++) {
    const char *mnt = i < l.n_v1 ? l.v1[i].mountpoint : l.has_unified ? l.unified.mountpoint : NULL;
    DIR *d = mnt ? opendir(mnt) : NULL;
    for (struct dirent *e; d && (e = readdir(d));)
      if (strncmp(e->d_name, prefix, strlen(prefix)) == 0) {
        cleanup_free char *p = xasprintf("%s/%s", mnt, e->d_name);
        remove_tree(p);
      }
    if (d)
      closedir(d);
  }
  berth_cgroup_layout_free(&l);
  return 0;
}

int main(void)
{
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_teardown(test_v1_create_join_destroy, teardown),
    cmocka_unit_test_teardown(test_v1_pids_limit_stops_fork_storm, teardown),
    cmocka_unit_test_teardown(test_v1_memory_limits, teardown),
    cmocka_unit_test_teardown(test_v1_freeze_thaw_busy_child, teardown),
    cmocka_unit_test_teardown(test_v1_kill_freeze_signal_thaw, teardown),
    cmocka_unit_test_teardown(test_v1_oom_kill_reported, teardown),
    cmocka_unit_test_teardown(test_v1_devices_denied, teardown),
    cmocka_unit_test_teardown(test_v1_cpuset_and_cpu_quota, teardown),
    cmocka_unit_test_teardown(test_destroy_removes_nested_cgroups, teardown),
    cmocka_unit_test_teardown(test_v2_procs_freeze_kill, teardown),
    cmocka_unit_test_teardown(test_v2_ebpf_device_filter, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
