/* cgroup: the manager run on a fake cgroupfs (a temp dir of dirs and plain files) for v1, v2 and
 * hybrid layouts; every resource is read back from the files it lands in. */
#include "unit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "cgroup/cgroup.h"
#include "json/json.h"

struct fake {
  char *tmp, *root, *mountinfo, *self;
};

static void put(const char *dir, const char *file, const char *text)
{
  cleanup_free char *p = xasprintf("%s/%s", dir, file);
  FILE *f = fopen(p, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

static char *get(const char *root, const char *rel)
{
  cleanup_free char *p = xasprintf("%s/%s", root, rel);
  char *text = NULL;
  berth_error_t err = NULL;
  if (berth_read_file(p, 0, &text, NULL, &err) < 0) {
    berth_error_release(&err);
    return xstrdup("<missing>");
  }
  return text;
}

#define assert_file(root, rel, want)                                                                         \
  do {                                                                                                       \
    cleanup_free char *got_ = get(root, rel);                                                                \
    assert_string_equal(got_, want);                                                                         \
  } while (0)

/* mkdir -p dir and create each file (empty) in it */
static void mkfiles(const char *dir, const char *const *files)
{
  berth_error_t err = NULL;
  assert_int_equal(berth_mkdir_p(dir, 0755, &err), 0);
  for (; files && *files; files++)
    put(dir, *files, "");
}

static const char *const f_cpu[] = { "cpu.shares",
                                     "cpu.cfs_period_us",
                                     "cpu.cfs_quota_us",
                                     "cpu.cfs_burst_us",
                                     "cpu.rt_period_us",
                                     "cpu.rt_runtime_us",
                                     "cpu.idle",
                                     "cgroup.procs",
                                     "cpuacct.usage",
                                     "cpuacct.usage_percpu",
                                     "cpuacct.stat",
                                     "cpu.stat",
                                     NULL };
static const char *const f_cpuset[] = { "cpuset.cpus", "cpuset.mems", "cgroup.procs", NULL };
static const char *const f_memory[] = { "memory.limit_in_bytes",
                                        "memory.memsw.limit_in_bytes",
                                        "memory.soft_limit_in_bytes",
                                        "memory.kmem.tcp.limit_in_bytes",
                                        "memory.swappiness",
                                        "memory.oom_control",
                                        "memory.use_hierarchy",
                                        "memory.usage_in_bytes",
                                        "memory.stat",
                                        "cgroup.procs",
                                        NULL };
static const char *const f_devices[] = { "devices.allow", "devices.deny", "cgroup.procs", NULL };
static const char *const f_freezer[] = { "freezer.state", "cgroup.procs", NULL };
static const char *const f_blkio[] = { "blkio.bfq.weight",
                                       "blkio.weight_device",
                                       "blkio.throttle.read_bps_device",
                                       "blkio.throttle.write_bps_device",
                                       "blkio.throttle.read_iops_device",
                                       "blkio.throttle.write_iops_device",
                                       "cgroup.procs",
                                       NULL };
static const char *const f_pids[] = { "pids.max", "pids.current", "cgroup.procs", NULL };
static const char *const f_netcls[] = { "net_cls.classid", "cgroup.procs", NULL };
static const char *const f_netprio[] = { "net_prio.ifpriomap", "cgroup.procs", NULL };
static const char *const f_rdma[] = { "rdma.max", "cgroup.procs", NULL };
static const char *const f_plain[] = { "cgroup.procs", NULL };
static const char *const f_unified[] = { "cgroup.procs",  "hugetlb.2MB.max", "hugetlb.2MB.rsvd.max",
                                         "cgroup.freeze", "cgroup.kill",     NULL };

static const struct {
  const char *dir, *opts;
  const char *const *files;
} v1_hier[] = {
  { "cpu,cpuacct", "cpu,cpuacct", f_cpu },
  { "cpuset", "cpuset", f_cpuset },
  { "memory", "memory", f_memory },
  { "devices", "devices", f_devices },
  { "freezer", "freezer", f_freezer },
  { "blkio", "blkio", f_blkio },
  { "pids", "pids", f_pids },
  { "net_cls", "net_cls", f_netcls },
  { "net_prio", "net_prio", f_netprio },
  { "rdma", "rdma", f_rdma },
  { "systemd", "xattr,name=systemd", f_plain },
};

/* a v1 (or hybrid) tree with the container's leaf /berth/ctr populated in every hierarchy */
static struct fake fake_v1(bool hybrid)
{
  struct fake f = { .tmp = unit_mkdtemp() };
  f.root = xasprintf("%s/cg", f.tmp);
  struct berth_strbuf mi = BERTH_STRBUF_INIT;
  for (size_t i = 0; i < BERTH_N_ELEMENTS(v1_hier); i++) {
    cleanup_free char *leaf = xasprintf("%s/%s/berth/ctr", f.root, v1_hier[i].dir);
    mkfiles(leaf, v1_hier[i].files);
    berth_strbuf_printf(&mi, "%zu 31 0:%zu / %s/%s rw - cgroup cgroup rw,%s\n", 32 + i, 29 + i, f.root,
                        v1_hier[i].dir, v1_hier[i].opts);
  }
  if (hybrid) {
    cleanup_free char *uni = xasprintf("%s/unified", f.root), *leaf = xasprintf("%s/berth/ctr", uni);
    mkfiles(leaf, f_unified);
    put(uni, "cgroup.controllers", "hugetlb\n");
    put(leaf, "cgroup.controllers", "hugetlb\n");
    berth_strbuf_printf(&mi, "99 31 0:99 / %s rw - cgroup2 cgroup2 rw\n", uni);
  }
  f.mountinfo = xasprintf("%s/mountinfo", f.tmp);
  put(f.tmp, "mountinfo", mi.buf);
  berth_strbuf_release(&mi);
  put(f.tmp, "cgroup", "4:memory:/parent\n1:cpu,cpuacct:/\n0::/\n");
  f.self = xasprintf("%s/cgroup", f.tmp);
  return f;
}

static void fake_free(struct fake *f)
{
  unit_rm_rf(f->tmp);
  free(f->tmp);
  free(f->root);
  free(f->mountinfo);
  free(f->self);
}

static berth_cgroup_manager_t *open_mgr(struct fake *f, const char *path, const char *id)
{
  berth_error_t err = NULL;
  struct berth_cgroup_layout l;
  assert_int_equal(berth_cgroup_detect(f->root, f->mountinfo, f->self, &l, &err), 0);
  /* runc's rule (what a rootless runtime uses): relative paths under our own cgroup */
  struct berth_cgroup_config cfg = {
    .kind = BERTH_CGROUP_CGROUPFS, .cgroups_path = path, .id = id, .relative_to_self = true
  };
  berth_cgroup_manager_t *m = NULL;
  assert_int_equal(berth_cgroup_manager_new(&l, &cfg, &m, &err), 0);
  unit_assert_no_error(&err);
  berth_cgroup_layout_free(&l);
  return m;
}

static struct berth_spec_device_rule devs[] = {
  { .allow = false, .type = 'a', .major = -1, .minor = -1, .access = "rwm" },
  { .allow = true, .type = 'c', .major = 1, .minor = 3, .access = "rwm" },
};
static struct berth_spec_weight_device wdev[] = { { 8, 0, { true, 500 }, { true, 300 } } };
static struct berth_spec_throttle_device thr[] = { { 8, 0, 1048576 } };
static struct berth_spec_hugepage_limit huge[] = { { "2MB", 4194304 } };
static struct berth_spec_net_priority prio[] = { { "eth0", 5 } };
static struct berth_spec_rdma rdma[] = { { "mlx5_1", { true, 3 }, { false, 0 } } };

static struct berth_spec_resources resources(void)
{
  struct berth_spec_resources r = { .present = true, .devices = devs, .n_devices = 2 };
  r.memory.limit = (struct berth_opt_i64){ true, 67108864 };
  r.memory.swap = (struct berth_opt_i64){ true, 134217728 };
  r.memory.reservation = (struct berth_opt_i64){ true, 1048576 };
  r.memory.kernel = (struct berth_opt_i64){ true, 1 };
  r.memory.kernel_tcp = (struct berth_opt_i64){ true, 4194304 };
  r.memory.swappiness = (struct berth_opt_u64){ true, 10 };
  r.memory.has_disable_oom_killer = r.memory.disable_oom_killer = true;
  r.cpu.shares = (struct berth_opt_u64){ true, 512 };
  r.cpu.quota = (struct berth_opt_i64){ true, 20000 };
  r.cpu.period = (struct berth_opt_u64){ true, 100000 };
  r.cpu.burst = (struct berth_opt_u64){ true, 1000 };
  r.cpu.realtime_period = (struct berth_opt_u64){ true, 1000000 };
  r.cpu.realtime_runtime = (struct berth_opt_i64){ true, 500 };
  r.cpu.idle = (struct berth_opt_i64){ true, 0 };
  r.cpu.cpus = "1";
  r.cpu.mems = "0";
  r.pids.present = true;
  r.pids.limit = 42;
  r.block_io.weight = (struct berth_opt_u64){ true, 200 };
  r.block_io.leaf_weight = (struct berth_opt_u64){ true, 300 };
  r.block_io.weight_device = wdev;
  r.block_io.n_weight_device = 1;
  r.block_io.throttle_read_bps = r.block_io.throttle_write_bps = thr;
  r.block_io.throttle_read_iops = r.block_io.throttle_write_iops = thr;
  r.block_io.n_throttle_read_bps = r.block_io.n_throttle_write_bps = 1;
  r.block_io.n_throttle_read_iops = r.block_io.n_throttle_write_iops = 1;
  r.hugepage_limits = huge;
  r.n_hugepage_limits = 1;
  r.network.class_id = (struct berth_opt_u64){ true, 17 };
  r.network.priorities = prio;
  r.network.n_priorities = 1;
  r.rdma = rdma;
  r.n_rdma = 1;
  return r;
}

static void assert_warning(const struct berth_cgroup_warnings *w, const char *needle)
{
  for (size_t i = 0; i < w->n; i++)
    if (strstr(w->msgs[i], needle))
      return;
  for (size_t i = 0; i < w->n; i++)
    print_error("warning: %s\n", w->msgs[i]);
  fail_msg("no warning contains \"%s\"", needle);
}

static void test_v1_apply_reads_back(void **state)
{
  berth_error_t err = NULL;
  struct fake f = fake_v1(false);
  cleanup_cgroup_manager berth_cgroup_manager_t *m = open_mgr(&f, "/berth/ctr", "x");
  assert_int_equal(berth_cgroup_manager_mode(m), BERTH_CGROUP_MODE_V1);
  assert_int_equal(berth_cgroup_create(m, 0, &err), 0); /* the leaf exists: reused */
  unit_assert_no_error(&err);
  struct berth_spec_resources r = resources();
  struct berth_cgroup_warnings w = { 0 };
  assert_int_equal(berth_cgroup_apply(m, &r, &w, &err), 0);
  unit_assert_no_error(&err);
  const char *R = f.root;
  assert_file(R, "cpuset/berth/ctr/cpuset.cpus", "1");
  assert_file(R, "cpuset/berth/ctr/cpuset.mems", "0");
  assert_file(R, "devices/berth/ctr/devices.deny", "a"); /* the last of the writes each file got */
  assert_file(R, "devices/berth/ctr/devices.allow", "c 1:3 rwm");
  assert_file(R, "memory/berth/ctr/memory.limit_in_bytes", "67108864");
  assert_file(R, "memory/berth/ctr/memory.memsw.limit_in_bytes", "134217728");
  assert_file(R, "memory/berth/ctr/memory.soft_limit_in_bytes", "1048576");
  assert_file(R, "memory/berth/ctr/memory.kmem.tcp.limit_in_bytes", "4194304");
  assert_file(R, "memory/berth/ctr/memory.swappiness", "10");
  assert_file(R, "memory/berth/ctr/memory.oom_control", "1");
  assert_file(R, "cpu,cpuacct/berth/ctr/cpu.shares", "512");
  assert_file(R, "cpu,cpuacct/berth/ctr/cpu.cfs_quota_us", "20000");
  assert_file(R, "cpu,cpuacct/berth/ctr/cpu.cfs_period_us", "100000");
  assert_file(R, "cpu,cpuacct/berth/ctr/cpu.cfs_burst_us", "1000");
  assert_file(R, "cpu,cpuacct/berth/ctr/cpu.rt_period_us", "1000000");
  assert_file(R, "cpu,cpuacct/berth/ctr/cpu.rt_runtime_us", "500");
  assert_file(R, "cpu,cpuacct/berth/ctr/cpu.idle", "0");
  assert_file(R, "pids/berth/ctr/pids.max", "42");
  assert_file(R, "blkio/berth/ctr/blkio.bfq.weight", "200"); /* no blkio.weight: BFQ's file */
  assert_file(R, "blkio/berth/ctr/blkio.weight", "<missing>");
  assert_file(R, "blkio/berth/ctr/blkio.weight_device", "8:0 500");
  assert_file(R, "blkio/berth/ctr/blkio.throttle.read_bps_device", "8:0 1048576");
  assert_file(R, "blkio/berth/ctr/blkio.throttle.write_iops_device", "8:0 1048576");
  assert_file(R, "net_cls/berth/ctr/net_cls.classid", "17");
  assert_file(R, "net_prio/berth/ctr/net_prio.ifpriomap", "eth0 5");
  assert_file(R, "rdma/berth/ctr/rdma.max", "mlx5_1 hca_handle=3");
  assert_warning(&w, "linux.resources.memory.kernel: kernel memory limits are not enforced");
  assert_warning(&w, "linux.resources.blockIO.leafWeight: this kernel has no `blkio.leaf_weight`");
  assert_warning(&w,
                 "linux.resources.blockIO.weightDevice[0]: this kernel has no `blkio.leaf_weight_device`");
  assert_warning(&w, "linux.resources.hugepageLimits[0]: the `hugetlb` controller is not available");
  assert_int_equal(w.n, 4);
  berth_cgroup_warnings_free(&w);
  fake_free(&f);
}

static void test_v1_errors_name_field_and_file(void **state)
{
  berth_error_t err = NULL;
  struct fake f = fake_v1(false);
  cleanup_cgroup_manager berth_cgroup_manager_t *m = open_mgr(&f, "/berth/ctr", "x");
  cleanup_free char *lim = xasprintf("%s/memory/berth/ctr/memory.limit_in_bytes", f.root);
  assert_int_equal(unlink(lim), 0);
  assert_int_equal(mkdir(lim, 0755), 0); /* writing it now fails with EISDIR */
  struct berth_spec_resources r = { .present = true };
  r.memory.limit = (struct berth_opt_i64){ true, 1048576 };
  assert_int_equal(berth_cgroup_apply(m, &r, NULL, &err), -1);
  unit_assert_error_contains(&err,
                             "linux.resources.memory.limit: write memory.limit_in_bytes = 1048576: Is a "
                             "directory");
  /* a file that must exist and does not */
  cleanup_free char *pids = xasprintf("%s/pids/berth/ctr/pids.max", f.root);
  assert_int_equal(unlink(pids), 0);
  struct berth_spec_resources p = { .present = true, .pids = { true, 3 } };
  assert_int_equal(berth_cgroup_apply(m, &p, NULL, &err), -1);
  unit_assert_error_contains(&err, "linux.resources.pids.limit: `pids.max` does not exist in");
  const char *keys[] = { "memory.high" }, *values[] = { "1" };
  struct berth_spec_resources u = {
    .present = true, .unified_keys = keys, .unified_values = values, .n_unified = 1
  };
  assert_int_equal(berth_cgroup_apply(m, &u, NULL, &err), -1);
  unit_assert_error_contains(&err,
                             "linux.resources.unified.memory.high: cgroup v2 settings cannot be applied");
  fake_free(&f);
}

static void test_v1_freezer_pids_stats(void **state)
{
  berth_error_t err = NULL;
  struct fake f = fake_v1(false);
  cleanup_cgroup_manager berth_cgroup_manager_t *m = open_mgr(&f, "/berth/ctr", "x");
  enum berth_cgroup_freezer_state st;
  assert_int_equal(berth_cgroup_freeze(m, true, &err), 0);
  assert_file(f.root, "freezer/berth/ctr/freezer.state", "FROZEN");
  assert_int_equal(berth_cgroup_freezer_state(m, &st, &err), 0);
  assert_int_equal(st, BERTH_CGROUP_FROZEN);
  assert_int_equal(berth_cgroup_freeze(m, false, &err), 0);
  assert_file(f.root, "freezer/berth/ctr/freezer.state", "THAWED");

  cleanup_free char *pd = xasprintf("%s/pids/berth/ctr", f.root), *sub = xasprintf("%s/nested", pd);
  put(pd, "cgroup.procs", "12345\n67\n");
  mkfiles(sub, f_plain);
  put(sub, "cgroup.procs", "99\n67\n");
  cleanup_free pid_t *pids = NULL;
  size_t n = 0;
  assert_int_equal(berth_cgroup_pids(m, &pids, &n, &err), 0);
  assert_int_equal(n, 3);
  assert_int_equal(pids[0], 67);
  assert_int_equal(pids[1], 99);
  assert_int_equal(pids[2], 12345);

  cleanup_free char *md = xasprintf("%s/memory/berth/ctr", f.root),
                    *cd = xasprintf("%s/cpu,cpuacct/berth/ctr", f.root);
  put(md, "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 7\n");
  uint64_t kills = 0;
  assert_int_equal(berth_cgroup_oom_kill_count(m, &kills, &err), 0);
  assert_int_equal(kills, 7);
  put(md, "memory.usage_in_bytes", "1234\n");
  put(md, "memory.limit_in_bytes", "9223372036854771712\n");
  put(md, "memory.stat", "cache 5\nrss 6\n");
  put(pd, "pids.current", "3\n");
  put(pd, "pids.max", "max\n");
  put(cd, "cpuacct.usage", "999\n");
  put(cd, "cpuacct.usage_percpu", "500 499 \n");
  put(cd, "cpu.stat", "nr_periods 10\nnr_throttled 4\nthrottled_time 77\n");
  json_t *s = NULL;
  assert_int_equal(berth_cgroup_stats(m, &s, &err), 0);
  cleanup_free char *text = berth_json_dumps(s);
  json_decref(s);
  assert_non_null(strstr(text, "\"usage\":{\"limit\":9223372036854771712,\"usage\":1234,\"failcnt\":0}"));
  assert_non_null(strstr(text, "\"cache\":5"));
  assert_non_null(strstr(text, "\"raw\":{\"cache\":5,\"rss\":6}"));
  assert_non_null(strstr(text, "\"pids\":{\"current\":3,\"limit\":0}"));
  assert_non_null(strstr(text, "\"total\":999,\"percpu\":[500,499]"));
  assert_non_null(
    strstr(text, "\"throttling\":{\"periods\":10,\"throttledPeriods\":4,\"throttledTime\":77}"));
  fake_free(&f);
}

static void test_paths_relative_default_errors(void **state)
{
  berth_error_t err = NULL;
  struct fake f = fake_v1(false);
  {
    /* as root: relative paths start at the hierarchy root */
    struct berth_cgroup_layout lr;
    assert_int_equal(berth_cgroup_detect(f.root, f.mountinfo, f.self, &lr, &err), 0);
    struct berth_cgroup_config rc = { .kind = BERTH_CGROUP_CGROUPFS, .cgroups_path = "rel/ctr", .id = "x" };
    berth_cgroup_manager_t *m = NULL;
    assert_int_equal(berth_cgroup_manager_new(&lr, &rc, &m, &err), 0);
    cleanup_free char *mem = xasprintf("%s/memory/rel/ctr", f.root);
    assert_string_equal(berth_cgroup_manager_dir(m, BERTH_CGROUP_CTL_MEMORY), mem);
    berth_cgroup_manager_free(m);
    rc.cgroups_path = NULL;
    assert_int_equal(berth_cgroup_manager_new(&lr, &rc, &m, &err), 0);
    cleanup_free char *def = xasprintf("%s/memory/x", f.root);
    assert_string_equal(berth_cgroup_manager_dir(m, BERTH_CGROUP_CTL_MEMORY), def);
    berth_cgroup_manager_free(m);
    berth_cgroup_layout_free(&lr);
  }
  {
    cleanup_cgroup_manager berth_cgroup_manager_t *m = open_mgr(&f, "../rel/./ctr", "x");
    cleanup_free char *mem = xasprintf("%s/memory/parent/rel/ctr", f.root);
    cleanup_free char *cpu = xasprintf("%s/cpu,cpuacct/rel/ctr", f.root);
    assert_string_equal(berth_cgroup_manager_dir(m, BERTH_CGROUP_CTL_MEMORY), mem);
    assert_string_equal(berth_cgroup_manager_dir(m, BERTH_CGROUP_CTL_CPUACCT), cpu);
    assert_null(berth_cgroup_manager_dir(m, BERTH_CGROUP_CTL_HUGETLB));
  }
  {
    cleanup_cgroup_manager berth_cgroup_manager_t *m = open_mgr(&f, NULL, "abc");
    cleanup_free char *mem = xasprintf("%s/memory/parent/abc", f.root);
    assert_string_equal(berth_cgroup_manager_dir(m, BERTH_CGROUP_CTL_MEMORY), mem);
  }
  struct berth_cgroup_layout l;
  assert_int_equal(berth_cgroup_detect(f.root, f.mountinfo, f.self, &l, &err), 0);
  static const char *const bad[][2] = { { "/", "refusing to use the root cgroup" },
                                        { "..", "resolves to the runtime's own cgroup" },
                                        { "/a/../..", "refusing to use the root cgroup" } };
  berth_cgroup_manager_t *m = NULL;
  for (size_t i = 0; i < BERTH_N_ELEMENTS(bad); i++) {
    struct berth_cgroup_config cfg = {
      .kind = BERTH_CGROUP_CGROUPFS, .cgroups_path = bad[i][0], .id = "x", .relative_to_self = true
    };
    assert_int_equal(berth_cgroup_manager_new(&l, &cfg, &m, &err), -1);
    unit_assert_error_contains(&err, bad[i][1]);
  }
  struct berth_cgroup_config noid = { .kind = BERTH_CGROUP_CGROUPFS };
  assert_int_equal(berth_cgroup_manager_new(&l, &noid, &m, &err), -1);
  unit_assert_error_contains(&err, "no linux.cgroupsPath and no valid container id");
  struct berth_cgroup_config sd = { .kind = BERTH_CGROUP_SYSTEMD, .systemd_run_dir = "/nonexistent/systemd" };
  assert_int_equal(berth_cgroup_manager_new(&l, &sd, &m, &err), -1);
  unit_assert_error_contains(&err,
                             "the systemd cgroup manager needs systemd running as init on this host (no "
                             "`/nonexistent/systemd`); use --cgroup-manager cgroupfs");
  sd.systemd_run_dir = f.tmp;
  assert_int_equal(berth_cgroup_manager_new(&l, &sd, &m, &err), -1);
  unit_assert_error_contains(&err, "the systemd cgroup manager is not supported by berth yet");
  berth_cgroup_layout_free(&l);
  fake_free(&f);
}

static void test_disabled_manager(void **state)
{
  berth_error_t err = NULL;
  struct berth_cgroup_config cfg = { .kind = BERTH_CGROUP_DISABLED };
  cleanup_cgroup_manager berth_cgroup_manager_t *m = NULL;
  assert_int_equal(berth_cgroup_manager_new(NULL, &cfg, &m, &err), 0);
  struct berth_spec_resources r = resources();
  assert_int_equal(berth_cgroup_create(m, getpid(), &err), 0);
  assert_int_equal(berth_cgroup_apply(m, &r, NULL, &err), 0);
  assert_int_equal(berth_cgroup_freeze(m, true, &err), 0);
  assert_int_equal(berth_cgroup_kill(m, SIGKILL, &err), 0);
  bool empty = false;
  assert_int_equal(berth_cgroup_is_empty(m, &empty, &err), 0);
  assert_true(empty);
  json_t *s = NULL;
  assert_int_equal(berth_cgroup_stats(m, &s, &err), 0);
  assert_int_equal(json_object_size(s), 0);
  json_decref(s);
  assert_int_equal(berth_cgroup_destroy(m, &err), 0);
  assert_null(berth_cgroup_manager_path(m));
  json_t *j = berth_cgroup_manager_to_json(m);
  cleanup_free char *text = berth_json_dumps(j);
  assert_string_equal(text, "{\"manager\":\"disabled\"}");
  cleanup_cgroup_manager berth_cgroup_manager_t *back = NULL;
  assert_int_equal(berth_cgroup_manager_from_json(j, &back, &err), 0);
  assert_int_equal(berth_cgroup_manager_kind(back), BERTH_CGROUP_DISABLED);
  assert_int_equal(berth_cgroup_kill(back, SIGTERM, &err), 0);
  json_decref(j);
}

/* create makes the missing levels, remembers them through state JSON, destroy removes exactly
 * those; a failure half-way leaves nothing */
static void test_create_destroy_levels(void **state)
{
  berth_error_t err = NULL;
  struct fake f = fake_v1(false);
  cleanup_free char *keep = xasprintf("%s/memory/keep", f.root);
  assert_int_equal(mkdir(keep, 0755), 0);
  /* a layout without cpuset (a fresh fake dir has no cpuset.cpus to copy into) */
  cleanup_free char *mi = xasprintf("1 0 0:1 / %s/memory rw - cgroup cgroup rw,memory\n"
                                    "2 0 0:2 / %s/pids rw - cgroup cgroup rw,pids\n",
                                    f.root, f.root);
  put(f.tmp, "mountinfo", mi);
  json_t *j = NULL;
  {
    cleanup_cgroup_manager berth_cgroup_manager_t *m = open_mgr(&f, "/new/a/b", "x");
    assert_int_equal(berth_cgroup_create(m, 0, &err), 0);
    unit_assert_no_error(&err);
    j = berth_cgroup_manager_to_json(m);
  }
  cleanup_free char *text = berth_json_dumps(j);
  assert_non_null(strstr(text, "\"created\":3"));
  cleanup_cgroup_manager berth_cgroup_manager_t *back = NULL;
  assert_int_equal(berth_cgroup_manager_from_json(j, &back, &err), 0);
  json_decref(j);
  cleanup_free char *leaf = xasprintf("%s/pids/new/a/b", f.root), *top = xasprintf("%s/pids/new", f.root);
  assert_int_equal(access(leaf, F_OK), 0);
  assert_int_equal(berth_cgroup_destroy(back, &err), 0);
  unit_assert_no_error(&err);
  assert_int_equal(access(top, F_OK), -1);
  assert_int_equal(berth_cgroup_destroy(back, &err), 0); /* idempotent */

  cleanup_cgroup_manager berth_cgroup_manager_t *k = open_mgr(&f, "/keep/c", "x");
  assert_int_equal(berth_cgroup_create(k, 0, &err), 0);
  assert_int_equal(berth_cgroup_destroy(k, &err), 0);
  assert_int_equal(access(keep, F_OK), 0); /* existed before: kept */

  put(f.root, "pids/fail", "not a directory");
  cleanup_cgroup_manager berth_cgroup_manager_t *bad = open_mgr(&f, "/fail/x", "x");
  assert_int_equal(berth_cgroup_create(bad, 0, &err), -1);
  unit_assert_error_contains(&err, "create cgroup `");
  cleanup_free char *half = xasprintf("%s/memory/fail", f.root);
  assert_int_equal(access(half, F_OK), -1); /* rolled back */
  fake_free(&f);
}

static berth_cgroup_manager_t *open_noting(struct fake *f, const char *path, const char *parents)
{
  berth_error_t err = NULL;
  struct berth_cgroup_layout l;
  assert_int_equal(berth_cgroup_detect(f->root, f->mountinfo, f->self, &l, &err), 0);
  struct berth_cgroup_config cfg = { .kind = BERTH_CGROUP_CGROUPFS,
                                     .cgroups_path = path,
                                     .id = "x",
                                     .relative_to_self = true,
                                     .parents_dir = parents };
  berth_cgroup_manager_t *m = NULL;
  assert_int_equal(berth_cgroup_manager_new(&l, &cfg, &m, &err), 0);
  berth_cgroup_layout_free(&l);
  return m;
}

/* Two containers under a level the first one made: whichever goes last removes the level,
 * through the note in parents_dir (kept in the state record); a level berth did not make is
 * never removed, even when empty. */
static void test_shared_parent_levels(void **state)
{
  berth_error_t err = NULL;
  struct fake f = fake_v1(false);
  cleanup_free char *mi = xasprintf("1 0 0:1 / %s/memory rw - cgroup cgroup rw,memory\n", f.root);
  put(f.tmp, "mountinfo", mi);
  cleanup_free char *parents = xasprintf("%s/state/.cgroup-parents", f.tmp);
  cleanup_free char *holder = xasprintf("%s/state", f.tmp);
  assert_int_equal(mkdir(holder, 0700), 0); /* the runtime root: there before any create */
  cleanup_free char *level = xasprintf("%s/memory/shared", f.root),
                    *other = xasprintf("%s/memory/other", f.root);
  cleanup_cgroup_manager berth_cgroup_manager_t *a = open_noting(&f, "/shared/a", parents);
  cleanup_cgroup_manager berth_cgroup_manager_t *b = open_noting(&f, "/shared/b", parents);
  assert_int_equal(berth_cgroup_create(a, 0, &err), 0);
  assert_int_equal(berth_cgroup_create(b, 0, &err), 0);
  /* a's record, reopened (as delete does) */
  json_t *j = berth_cgroup_manager_to_json(a);
  cleanup_free char *text = berth_json_dumps(j);
  assert_non_null(strstr(text, "\"parents\""));
  cleanup_cgroup_manager berth_cgroup_manager_t *a2 = NULL;
  assert_int_equal(berth_cgroup_manager_from_json(j, &a2, &err), 0);
  json_decref(j);
  /* the maker goes first: the level stays for b */
  assert_int_equal(berth_cgroup_destroy(a2, &err), 0);
  assert_int_equal(access(level, F_OK), 0);
  /* b, which did not make it, goes last and removes it, and the note */
  assert_int_equal(berth_cgroup_destroy(b, &err), 0);
  unit_assert_no_error(&err);
  assert_int_equal(access(level, F_OK), -1);
  assert_int_equal(access(parents, F_OK), -1); /* the last note took the directory with it */
  /* a level that was there before: neither noted nor removed */
  assert_int_equal(mkdir(other, 0755), 0);
  cleanup_cgroup_manager berth_cgroup_manager_t *c = open_noting(&f, "/other/c", parents);
  assert_int_equal(berth_cgroup_create(c, 0, &err), 0);
  assert_int_equal(berth_cgroup_destroy(c, &err), 0);
  assert_int_equal(access(other, F_OK), 0);
  /* a note whose level is gone (removed by another runtime, by hand) goes at the next destroy,
   * and the directory with it */
  assert_int_equal(mkdir(parents, 0700), 0);
  cleanup_free char *gone = xasprintf("%s/memory/gone", f.root);
  cleanup_strbuf struct berth_strbuf enc = BERTH_STRBUF_INIT;
  for (const char *ch = gone; *ch; ch++)
    if (*ch == '/')
      berth_strbuf_puts(&enc, "%2F");
    else
      berth_strbuf_putc(&enc, *ch);
  cleanup_free char *stale = xasprintf("%s/%s", parents, enc.buf);
  put(parents, enc.buf, "");
  assert_int_equal(access(stale, F_OK), 0);
  cleanup_cgroup_manager berth_cgroup_manager_t *d = open_noting(&f, "/x/d", parents);
  assert_int_equal(berth_cgroup_create(d, 0, &err), 0);
  assert_int_equal(berth_cgroup_destroy(d, &err), 0);
  assert_int_equal(access(stale, F_OK), -1);
  assert_int_equal(access(parents, F_OK), -1);
  /* without the directory that holds the notes, nothing is made there (a runtime root
   * elsewhere leaves nothing behind) */
  cleanup_free char *nowhere = xasprintf("%s/nowhere/.cgroup-parents", f.tmp);
  cleanup_free char *nowhere_dir = xasprintf("%s/nowhere", f.tmp);
  cleanup_cgroup_manager berth_cgroup_manager_t *e = open_noting(&f, "/y/e", nowhere);
  assert_int_equal(berth_cgroup_create(e, 0, &err), 0);
  assert_int_equal(access(nowhere_dir, F_OK), -1);
  assert_int_equal(berth_cgroup_destroy(e, &err), 0);
  assert_int_equal(access(nowhere_dir, F_OK), -1);
  fake_free(&f);
}

static void test_state_json_errors(void **state)
{
  berth_error_t err = NULL;
  berth_cgroup_manager_t *m = NULL;
  static const char *const bad[][2] = {
    { "[]", "expected an object with \"manager\"" },
    { "{\"manager\":\"systemd2\"}", "unknown manager `systemd2`" },
    { "{\"manager\":\"cgroupfs\",\"mode\":\"v3\",\"path\":\"/x\",\"dirs\":[]}", "expected \"mode\"" },
    { "{\"manager\":\"cgroupfs\",\"mode\":\"v1\",\"path\":\"/x\",\"dirs\":[{\"path\":\"/etc\",\"mountpoint\":"
      "\"/sys/fs/cgroup/pids\",\"controllers\":[],\"created\":1}]}",
      "`/etc` is not below `/sys/fs/cgroup/pids`" },
    { "{\"manager\":\"cgroupfs\",\"mode\":\"v1\",\"path\":\"/x\",\"dirs\":[{\"path\":\"/m/x\",\"mountpoint\":"
      "\"/m\",\"controllers\":[\"bogus\"],\"created\":1}]}",
      "dirs[0].controllers[0]: unknown controller" },
  };
  for (size_t i = 0; i < BERTH_N_ELEMENTS(bad); i++) {
    json_t *j = json_loads(bad[i][0], 0, NULL);
    assert_non_null(j);
    assert_int_equal(berth_cgroup_manager_from_json(j, &m, &err), -1);
    unit_assert_error_contains(&err, bad[i][1]);
    json_decref(j);
  }
}

static void test_hybrid_routes_by_controller(void **state)
{
  berth_error_t err = NULL;
  struct fake f = fake_v1(true);
  cleanup_cgroup_manager berth_cgroup_manager_t *m = open_mgr(&f, "/berth/ctr", "x");
  assert_int_equal(berth_cgroup_manager_mode(m), BERTH_CGROUP_MODE_HYBRID);
  struct berth_spec_resources r = resources();
  const char *keys[] = { "hugetlb.2MB.rsvd.max" }, *values[] = { "8388608" };
  r.unified_keys = keys;
  r.unified_values = values;
  r.n_unified = 1;
  struct berth_cgroup_warnings w = { 0 };
  assert_int_equal(berth_cgroup_apply(m, &r, &w, &err), 0);
  unit_assert_no_error(&err);
  assert_file(f.root, "unified/berth/ctr/hugetlb.2MB.max",
              "4194304"); /* v1 has no hugetlb: cgroup2 serves it */
  assert_file(f.root, "unified/berth/ctr/hugetlb.2MB.rsvd.max", "8388608");
  assert_file(f.root, "memory/berth/ctr/memory.limit_in_bytes", "67108864");
  assert_file(f.root, "devices/berth/ctr/devices.allow", "c 1:3 rwm");
  for (size_t i = 0; i < w.n; i++) {
    assert_null(strstr(w.msgs[i], "hugetlb"));
    assert_null(strstr(w.msgs[i], "swappiness")); /* a v2-side warning for a v1-served controller */
  }
  assert_warning(&w, "memory.kernel");
  berth_cgroup_warnings_free(&w);
  cleanup_free char *u = xasprintf("%s/unified/berth/ctr", f.root);
  assert_string_equal(berth_cgroup_manager_dir(m, BERTH_CGROUP_CTL_HUGETLB), u);
  assert_string_equal(berth_cgroup_manager_dir(m, BERTH_CGROUP_CTL_NONE), u);

  keys[0] = "memory.high";
  struct berth_spec_resources bad = {
    .present = true, .unified_keys = keys, .unified_values = values, .n_unified = 1
  };
  assert_int_equal(berth_cgroup_apply(m, &bad, NULL, &err), -1);
  unit_assert_error_contains(&err,
                             "linux.resources.unified.memory.high: the `memory` controller is managed by "
                             "cgroup v1 on this host");
  keys[0] = "misc.max";
  assert_int_equal(berth_cgroup_apply(m, &bad, NULL, &err), -1);
  unit_assert_error_contains(&err,
                             "linux.resources.unified.misc.max: the `misc` controller is not available");

  /* SIGKILL goes through cgroup2's cgroup.kill, then the v1 freezer is thawed */
  assert_int_equal(berth_cgroup_kill(m, SIGKILL, &err), 0);
  assert_file(f.root, "unified/berth/ctr/cgroup.kill", "1");
  assert_file(f.root, "freezer/berth/ctr/freezer.state", "THAWED");
  fake_free(&f);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_v1_apply_reads_back),
    cmocka_unit_test(test_v1_errors_name_field_and_file),
    cmocka_unit_test(test_v1_freezer_pids_stats),
    cmocka_unit_test(test_paths_relative_default_errors),
    cmocka_unit_test(test_disabled_manager),
    cmocka_unit_test(test_create_destroy_levels),
    cmocka_unit_test(test_shared_parent_levels),
    cmocka_unit_test(test_state_json_errors),
    cmocka_unit_test(test_hybrid_routes_by_controller),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
