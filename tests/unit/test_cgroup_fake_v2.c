/* cgroup: the v2 backend on a fake cgroup2 tree (files read back, controller enabling,
 * checkBeforeUpdate, freezer, OOM, stats). */
#include "unit.h"

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/xalloc.h"
#include "cgroup/cgroup.h"
#include "json/json.h"

static void put(const char *dir, const char *file, const char *text)
{
  cleanup_free char *p = xasprintf("%s/%s", dir, file);
  FILE *f = fopen(p, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

static char *get(const char *dir, const char *file)
{
  cleanup_free char *p = xasprintf("%s/%s", dir, file);
  char *text = NULL;
  berth_error_t err = NULL;
  if (berth_read_file(p, 0, &text, NULL, &err) < 0) {
    berth_error_release(&err);
    return xstrdup("<missing>");
  }
  return text;
}

#define assert_file(dir, file, want)                                                                         \
  do {                                                                                                       \
    cleanup_free char *got_ = get(dir, file);                                                                \
    assert_string_equal(got_, want);                                                                         \
  } while (0)

struct fake2 {
  char *tmp, *root, *leaf, *mountinfo;
};

static const char *const leaf_files[] = {
  "cgroup.procs",
  "cpuset.cpus",
  "cpuset.mems",
  "memory.swap.max",
  "memory.max",
  "memory.low",
  "memory.high",
  "cpu.weight",
  "cpu.max",
  "cpu.max.burst",
  "cpu.idle",
  "pids.max",
  "io.weight",
  "io.max",
  "hugetlb.2MB.max",
  "rdma.max",
  "cgroup.max.depth",
  "cgroup.freeze",
  "cgroup.subtree_control",
  NULL,
};

static struct fake2 fake_v2(const char *leaf_controllers)
{
  berth_error_t err = NULL;
  struct fake2 f = { .tmp = unit_mkdtemp() };
  f.root = xasprintf("%s/cg2", f.tmp);
  f.leaf = xasprintf("%s/berth/ctr", f.root);
  assert_int_equal(berth_mkdir_p(f.leaf, 0755, &err), 0);
  for (const char *const *p = leaf_files; *p; p++)
    put(f.leaf, *p, "");
  put(f.leaf, "cgroup.controllers", leaf_controllers);
  put(f.leaf, "memory.current", "1000\n");
  put(f.leaf, "cgroup.events", "populated 0\nfrozen 1\n");
  put(f.leaf, "memory.events", "low 0\nhigh 0\nmax 4\noom 1\noom_kill 2\n");
  cleanup_free char *mid = xasprintf("%s/berth", f.root);
  put(f.root, "cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
  put(f.root, "cgroup.subtree_control", "cpu io memory pids\n");
  put(mid, "cgroup.controllers", "cpu io memory pids\n");
  put(mid, "cgroup.subtree_control", "");
  cleanup_free char *mi = xasprintf("30 1 0:26 / %s rw - cgroup2 cgroup2 rw\n", f.root);
  put(f.tmp, "mountinfo", mi);
  f.mountinfo = xasprintf("%s/mountinfo", f.tmp);
  return f;
}

static void fake2_free(struct fake2 *f)
{
  unit_rm_rf(f->tmp);
  free(f->tmp);
  free(f->root);
  free(f->leaf);
  free(f->mountinfo);
}

static berth_cgroup_manager_t *open_v2(struct fake2 *f)
{
  berth_error_t err = NULL;
  struct berth_cgroup_layout l;
  assert_int_equal(berth_cgroup_detect(f->root, f->mountinfo, "/nonexistent", &l, &err), 0);
  assert_int_equal(l.mode, BERTH_CGROUP_MODE_V2);
  struct berth_cgroup_config cfg = { .kind = BERTH_CGROUP_CGROUPFS, .cgroups_path = "/berth/ctr", .id = "x" };
  berth_cgroup_manager_t *m = NULL;
  assert_int_equal(berth_cgroup_manager_new(&l, &cfg, &m, &err), 0);
  berth_cgroup_layout_free(&l);
  assert_int_equal(berth_cgroup_create(m, 0, &err), 0);
  unit_assert_no_error(&err);
  return m;
}

static struct berth_spec_weight_device wdev[] = { { 8, 0, { true, 1000 }, { false, 0 } } };
static struct berth_spec_throttle_device thr[] = { { 8, 0, 4096 } };
static struct berth_spec_hugepage_limit huge[] = { { "2MB", 2097152 } };
static struct berth_spec_rdma rdma[] = { { "mlx4_0", { false, 0 }, { true, 9 } } };

static void test_v2_apply_reads_back(void **state)
{
  berth_error_t err = NULL;
  struct fake2 f = fake_v2("cpuset cpu io memory hugetlb pids rdma\n");
  cleanup_cgroup_manager berth_cgroup_manager_t *m = open_v2(&f);
  struct berth_spec_resources r = { .present = true };
  r.memory.limit = (struct berth_opt_i64){ true, 1048576 };
  r.memory.swap = (struct berth_opt_i64){ true, 3145728 };
  r.memory.reservation = (struct berth_opt_i64){ true, -1 };
  r.memory.swappiness = (struct berth_opt_u64){ true, 0 };
  r.cpu.shares = (struct berth_opt_u64){ true, 2048 };
  r.cpu.quota = (struct berth_opt_i64){ true, 25000 };
  r.cpu.period = (struct berth_opt_u64){ true, 50000 };
  r.cpu.burst = (struct berth_opt_u64){ true, 500 };
  r.cpu.idle = (struct berth_opt_i64){ true, 1 };
  r.cpu.cpus = "0";
  r.cpu.mems = "0";
  r.pids.present = true;
  r.pids.limit = 7;
  r.block_io.weight = (struct berth_opt_u64){ true, 10 };
  r.block_io.weight_device = wdev;
  r.block_io.n_weight_device = 1;
  r.block_io.throttle_write_iops = thr;
  r.block_io.n_throttle_write_iops = 1;
  r.hugepage_limits = huge;
  r.n_hugepage_limits = 1;
  r.rdma = rdma;
  r.n_rdma = 1;
  const char *keys[] = { "memory.high", "cgroup.max.depth" }, *values[] = { "900000", "5" };
  r.unified_keys = keys;
  r.unified_values = values;
  r.n_unified = 2;
  struct berth_cgroup_warnings w = { 0 };
  assert_int_equal(berth_cgroup_apply(m, &r, &w, &err), 0);
  unit_assert_no_error(&err);
  assert_file(f.leaf, "memory.max", "1048576");
  assert_file(f.leaf, "memory.swap.max", "2097152"); /* memory+swap 3 MiB - memory 1 MiB */
  assert_file(f.leaf, "memory.low", "max");
  assert_file(f.leaf, "memory.high", "900000");
  assert_file(f.leaf, "cpu.weight", "79");
  assert_file(f.leaf, "cpu.max", "25000 50000");
  assert_file(f.leaf, "cpu.max.burst", "500");
  assert_file(f.leaf, "cpu.idle", "1");
  assert_file(f.leaf, "cpuset.cpus", "0");
  assert_file(f.leaf, "pids.max", "7");
  assert_file(f.leaf, "io.weight", "8:0 10000");
  assert_file(f.leaf, "io.max", "8:0 wiops=4096");
  assert_file(f.leaf, "hugetlb.2MB.max", "2097152");
  assert_file(f.leaf, "rdma.max", "mlx4_0 hca_object=9");
  assert_file(f.leaf, "cgroup.max.depth", "5");
  assert_int_equal(w.n, 1);
  assert_non_null(
    strstr(w.msgs[0], "linux.resources.memory.swappiness: cgroup v2 has no per-cgroup swappiness"));
  berth_cgroup_warnings_free(&w);
  fake2_free(&f);
}

static void test_v2_enable_controllers(void **state)
{
  berth_error_t err = NULL;
  struct fake2 f = fake_v2("cpu\n"); /* memory is not passed down to the leaf yet */
  cleanup_cgroup_manager berth_cgroup_manager_t *m = open_v2(&f);
  struct berth_spec_resources r = { .present = true };
  r.memory.limit = (struct berth_opt_i64){ true, 1048576 };
  r.cpu.shares = (struct berth_opt_u64){ true, 1024 };
  struct berth_cgroup_warnings w = { 0 };
  assert_int_equal(berth_cgroup_apply(m, &r, &w, &err), 0);
  cleanup_free char *mid = xasprintf("%s/berth", f.root);
  assert_file(mid, "cgroup.subtree_control", "+memory"); /* the root already had it: untouched */
  assert_file(f.root, "cgroup.subtree_control", "cpu io memory pids\n");
  assert_file(f.leaf, "cpu.weight", "39");
  assert_file(f.leaf, "memory.max", ""); /* the fake kernel did not follow: warned, not written */
  assert_int_equal(w.n, 1);
  assert_non_null(
    strstr(w.msgs[0], "linux.resources.memory.limit: the `memory` controller is not available"));
  berth_cgroup_warnings_free(&w);

  r.memory.limit.set = false;
  r.cpu.shares.set = false;
  r.pids.present = true;
  r.pids.limit = 1;
  put(mid, "cgroup.controllers", "cpu\n");
  assert_int_equal(berth_cgroup_apply(m, &r, &w, &err), 0);
  assert_int_equal(w.n, 2);
  assert_non_null(strstr(w.msgs[0], "enable controller `pids`: not available in `"));
  assert_non_null(strstr(w.msgs[1], "linux.resources.pids.limit: the `pids` controller is not available"));
  berth_cgroup_warnings_free(&w);
  fake2_free(&f);
}

static void test_v2_check_before_update(void **state)
{
  berth_error_t err = NULL;
  struct fake2 f = fake_v2("memory\n");
  cleanup_cgroup_manager berth_cgroup_manager_t *m = open_v2(&f);
  struct berth_spec_resources r = { .present = true };
  r.memory.limit = (struct berth_opt_i64){ true, 999 };
  r.memory.has_check_before_update = r.memory.check_before_update = true;
  assert_int_equal(berth_cgroup_apply(m, &r, NULL, &err), -1);
  unit_assert_error_contains(&err,
                             "linux.resources.memory.limit: memory.max = 999 is below the current usage of "
                             "1000 bytes (checkBeforeUpdate)");
  assert_file(f.leaf, "memory.max", "");
  r.memory.limit.v = 1000;
  assert_int_equal(berth_cgroup_apply(m, &r, NULL, &err), 0);
  assert_file(f.leaf, "memory.max", "1000");
  r.memory.check_before_update = false;
  r.memory.limit.v = 10;
  assert_int_equal(berth_cgroup_apply(m, &r, NULL, &err), 0);
  assert_file(f.leaf, "memory.max", "10");
  fake2_free(&f);
}

static void test_v2_freezer_oom_stats(void **state)
{
  berth_error_t err = NULL;
  struct fake2 f = fake_v2("cpu memory pids\n");
  cleanup_cgroup_manager berth_cgroup_manager_t *m = open_v2(&f);
  enum berth_cgroup_freezer_state st;
  assert_int_equal(berth_cgroup_freeze(m, true, &err), 0);
  assert_file(f.leaf, "cgroup.freeze", "1");
  assert_int_equal(berth_cgroup_freezer_state(m, &st, &err), 0);
  assert_int_equal(st, BERTH_CGROUP_FROZEN);
  put(f.leaf, "cgroup.events", "populated 1\nfrozen 0\n");
  assert_int_equal(berth_cgroup_freezer_state(m, &st, &err), 0);
  assert_int_equal(st, BERTH_CGROUP_FREEZING);
  assert_int_equal(berth_cgroup_freeze(m, true, &err), -1);
  unit_assert_error_contains(&err, "not frozen after 1 s");
  assert_int_equal(berth_cgroup_freeze(m, false, &err), 0);
  assert_int_equal(berth_cgroup_freezer_state(m, &st, &err), 0);
  assert_int_equal(st, BERTH_CGROUP_THAWED);

  uint64_t kills;
  assert_int_equal(berth_cgroup_oom_kill_count(m, &kills, &err), 0);
  assert_int_equal(kills, 2);
  int fd = berth_cgroup_oom_fd(m, &err);
  assert_true(fd >= 0);
  struct pollfd p = { .fd = fd, .events = POLLIN };
  assert_int_equal(poll(&p, 1, 0), 0);
  put(f.leaf, "memory.events", "max 4\noom 2\noom_kill 3\n");
  assert_int_equal(poll(&p, 1, 1000), 1);
  close(fd);

  put(f.leaf, "cpu.stat",
      "usage_usec 10\nuser_usec 4\nsystem_usec 6\nnr_periods 3\nnr_throttled 1\n"
      "throttled_usec 2\n");
  put(f.leaf, "pids.current", "2\n");
  put(f.leaf, "pids.max", "64\n");
  put(f.leaf, "memory.max", "max\n");
  put(f.leaf, "memory.stat", "anon 7\nfile 8\n");
  put(f.leaf, "io.stat", "8:0 rbytes=100 wbytes=200 rios=1 wios=2 dbytes=0 dios=0\n");
  json_t *s = NULL;
  assert_int_equal(berth_cgroup_stats(m, &s, &err), 0);
  cleanup_free char *text = berth_json_dumps(s);
  json_decref(s);
  assert_non_null(strstr(text, "\"usage\":{\"total\":10000,\"kernel\":6000,\"user\":4000}"));
  assert_non_null(
    strstr(text, "\"throttling\":{\"periods\":3,\"throttledPeriods\":1,\"throttledTime\":2000}"));
  assert_non_null(strstr(text, "\"cache\":8"));
  assert_non_null(strstr(text, "\"usage\":{\"limit\":9223372036854775807,\"usage\":1000,\"failcnt\":4}"));
  assert_non_null(strstr(text, "\"pids\":{\"current\":2,\"limit\":64}"));
  assert_non_null(strstr(text, "{\"major\":8,\"minor\":0,\"op\":\"Write\",\"value\":200}"));
  fake2_free(&f);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_v2_apply_reads_back),
    cmocka_unit_test(test_v2_enable_controllers),
    cmocka_unit_test(test_v2_check_before_update),
    cmocka_unit_test(test_v2_freezer_oom_stats),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
