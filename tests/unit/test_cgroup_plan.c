/* cgroup: the pure parts — v1/v2 planners (exact writes for every resource), the eBPF device
 * program (run through a small interpreter), cgroupsPath cleaning, layout detection on fake
 * mountinfo texts. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "cgroup/bpf.h"
#include "cgroup/internal.h"
#include "cgroup/plan.h"

/* ---------------- a resources struct with every field set ---------------- */

static struct berth_spec_device_rule devs[] = {
  { .allow = false, .type = 'a', .major = -1, .minor = -1, .access = "rwm" },
  { .allow = true, .type = 'c', .major = 1, .minor = 3, .access = "wr" },
  { .allow = true, .type = 'b', .major = 8, .minor = -1, .access = NULL },
  { .allow = true, .type = 'a', .major = 5, .minor = -1, .access = "m" },
};
static struct berth_spec_weight_device wdev[] = { { 8, 0, { true, 500 }, { true, 300 } } };
static struct berth_spec_throttle_device rbps[] = { { 8, 0, 1048576 } }, wbps[] = { { 8, 16, 2097152 } },
                                         riops[] = { { 8, 0, 100 } }, wiops[] = { { 8, 0, 200 } };
static struct berth_spec_hugepage_limit huge[] = { { "2MB", 4194304 } };
static struct berth_spec_net_priority prio[] = { { "eth0", 5 } };
static struct berth_spec_rdma rdma[] = { { "mlx5_1", { true, 3 }, { true, 4 } } };

static struct berth_spec_resources full_resources(void)
{
  struct berth_spec_resources r = { .present = true };
  r.devices = devs;
  r.n_devices = 4;
  r.memory.limit = (struct berth_opt_i64){ true, 67108864 };
  r.memory.reservation = (struct berth_opt_i64){ true, 33554432 };
  r.memory.swap = (struct berth_opt_i64){ true, 134217728 };
  r.memory.kernel = (struct berth_opt_i64){ true, 1 };
  r.memory.kernel_tcp = (struct berth_opt_i64){ true, 4194304 };
  r.memory.swappiness = (struct berth_opt_u64){ true, 60 };
  r.memory.has_disable_oom_killer = r.memory.disable_oom_killer = true;
  r.memory.has_use_hierarchy = r.memory.use_hierarchy = true;
  r.memory.has_check_before_update = r.memory.check_before_update = true;
  r.cpu.shares = (struct berth_opt_u64){ true, 1024 };
  r.cpu.quota = (struct berth_opt_i64){ true, 50000 };
  r.cpu.period = (struct berth_opt_u64){ true, 100000 };
  r.cpu.burst = (struct berth_opt_u64){ true, 10000 };
  r.cpu.realtime_runtime = (struct berth_opt_i64){ true, 950 };
  r.cpu.realtime_period = (struct berth_opt_u64){ true, 1000 };
  r.cpu.idle = (struct berth_opt_i64){ true, 1 };
  r.cpu.cpus = "0-1";
  r.cpu.mems = "0";
  r.pids.present = true;
  r.pids.limit = 100;
  r.block_io.weight = (struct berth_opt_u64){ true, 500 };
  r.block_io.leaf_weight = (struct berth_opt_u64){ true, 300 };
  r.block_io.weight_device = wdev;
  r.block_io.n_weight_device = 1;
  r.block_io.throttle_read_bps = rbps;
  r.block_io.n_throttle_read_bps = 1;
  r.block_io.throttle_write_bps = wbps;
  r.block_io.n_throttle_write_bps = 1;
  r.block_io.throttle_read_iops = riops;
  r.block_io.n_throttle_read_iops = 1;
  r.block_io.throttle_write_iops = wiops;
  r.block_io.n_throttle_write_iops = 1;
  r.hugepage_limits = huge;
  r.n_hugepage_limits = 1;
  r.network.class_id = (struct berth_opt_u64){ true, 0x100001 };
  r.network.priorities = prio;
  r.network.n_priorities = 1;
  r.rdma = rdma;
  r.n_rdma = 1;
  return r;
}

/* "ctl file=value" per line */
static char *dump(const struct berth_cgroup_plan *p)
{
  struct berth_strbuf b = BERTH_STRBUF_INIT;
  for (size_t i = 0; i < p->n; i++)
    berth_strbuf_printf(&b, "%s %s=%s\n", berth_cgroup_ctl_name(p->w[i].ctl), p->w[i].file, p->w[i].value);
  return berth_strbuf_detach(&b);
}

static char *dump_warnings(const struct berth_cgroup_plan *p)
{
  struct berth_strbuf b = BERTH_STRBUF_INIT;
  for (size_t i = 0; i < p->n_warnings; i++)
    berth_strbuf_printf(&b, "%s\n", p->warnings[i].msg);
  return berth_strbuf_detach(&b);
}

static const struct berth_cgroup_write *find(const struct berth_cgroup_plan *p, const char *file)
{
  for (size_t i = 0; i < p->n; i++)
    if (strcmp(p->w[i].file, file) == 0)
      return &p->w[i];
  return NULL;
}

static void test_plan_v1_every_resource(void **state)
{
  berth_error_t err = NULL;
  struct berth_spec_resources r = full_resources();
  struct berth_cgroup_plan p;
  assert_int_equal(berth_cgroup_plan_v1(&r, &p, &err), 0);
  unit_assert_no_error(&err);
  cleanup_free char *got = dump(&p);
  assert_string_equal(got, "cpuset cpuset.cpus=0-1\n"
                           "cpuset cpuset.mems=0\n"
                           "devices devices.deny=a\n"
                           "devices devices.deny=a\n"
                           "devices devices.allow=c 1:3 rw\n"
                           "devices devices.allow=b 8:* rwm\n"
                           "devices devices.allow=c 5:* m\n"
                           "devices devices.allow=b 5:* m\n"
                           "memory memory.limit_in_bytes=67108864\n"
                           "memory memory.memsw.limit_in_bytes=134217728\n"
                           "memory memory.soft_limit_in_bytes=33554432\n"
                           "memory memory.kmem.tcp.limit_in_bytes=4194304\n"
                           "memory memory.swappiness=60\n"
                           "memory memory.oom_control=1\n"
                           "memory memory.use_hierarchy=1\n"
                           "cpu cpu.shares=1024\n"
                           "cpu cpu.cfs_period_us=100000\n"
                           "cpu cpu.cfs_quota_us=50000\n"
                           "cpu cpu.cfs_burst_us=10000\n"
                           "cpu cpu.rt_period_us=1000\n"
                           "cpu cpu.rt_runtime_us=950\n"
                           "cpu cpu.idle=1\n"
                           "pids pids.max=100\n"
                           "blkio blkio.weight=500\n"
                           "blkio blkio.leaf_weight=300\n"
                           "blkio blkio.weight_device=8:0 500\n"
                           "blkio blkio.leaf_weight_device=8:0 300\n"
                           "blkio blkio.throttle.read_bps_device=8:0 1048576\n"
                           "blkio blkio.throttle.write_bps_device=8:16 2097152\n"
                           "blkio blkio.throttle.read_iops_device=8:0 100\n"
                           "blkio blkio.throttle.write_iops_device=8:0 200\n"
                           "hugetlb hugetlb.2MB.limit_in_bytes=4194304\n"
                           "net_cls net_cls.classid=1048577\n"
                           "net_prio net_prio.ifpriomap=eth0 5\n"
                           "rdma rdma.max=mlx5_1 hca_handle=3 hca_object=4\n");
  cleanup_free char *warn = dump_warnings(&p);
  assert_string_equal(warn,
                      "linux.resources.memory.kernel: kernel memory limits are not enforced by this kernel; "
                      "ignored\n");
  assert_string_equal(find(&p, "memory.limit_in_bytes")->field, "linux.resources.memory.limit");
  assert_true(find(&p, "memory.limit_in_bytes")->flags & BERTH_CGROUP_W_RETRY);
  assert_true(find(&p, "cpu.cfs_period_us")->flags & BERTH_CGROUP_W_RETRY);
  assert_string_equal(find(&p, "blkio.weight")->alt_file, "blkio.bfq.weight");
  assert_string_equal(p.w[4].field, "linux.resources.devices[1]");
  berth_cgroup_plan_free(&p);
}

static void test_plan_v2_every_resource(void **state)
{
  berth_error_t err = NULL;
  struct berth_spec_resources r = full_resources();
  const char *keys[] = { "memory.high", "cgroup.max.depth" }, *values[] = { "50000000", "3" };
  r.unified_keys = keys;
  r.unified_values = values;
  r.n_unified = 2;
  struct berth_cgroup_plan p;
  assert_int_equal(berth_cgroup_plan_v2(&r, &p, &err), 0);
  unit_assert_no_error(&err);
  cleanup_free char *got = dump(&p);
  assert_string_equal(got, "cpuset cpuset.cpus=0-1\n"
                           "cpuset cpuset.mems=0\n"
                           "memory memory.swap.max=67108864\n"
                           "memory memory.max=67108864\n"
                           "memory memory.low=33554432\n"
                           "cpu cpu.weight=39\n"
                           "cpu cpu.max=50000 100000\n"
                           "cpu cpu.max.burst=10000\n"
                           "cpu cpu.idle=1\n"
                           "pids pids.max=100\n"
                           "io io.weight=default 4950\n"
                           "io io.weight=8:0 4950\n"
                           "io io.max=8:0 rbps=1048576\n"
                           "io io.max=8:16 wbps=2097152\n"
                           "io io.max=8:0 riops=100\n"
                           "io io.max=8:0 wiops=200\n"
                           "hugetlb hugetlb.2MB.max=4194304\n"
                           "rdma rdma.max=mlx5_1 hca_handle=3 hca_object=4\n"
                           "memory memory.high=50000000\n"
                           "cgroup cgroup.max.depth=3\n");
  assert_true(find(&p, "memory.max")->flags & BERTH_CGROUP_W_CHECK_USAGE);
  assert_true(find(&p, "memory.high")->flags & BERTH_CGROUP_W_REQUIRED);
  assert_string_equal(find(&p, "memory.high")->field, "linux.resources.unified.memory.high");
  assert_ptr_equal(p.devices, devs);
  assert_int_equal(p.n_devices, 4);
  static const char *const expect[] = {
    "memory.swappiness",          "memory.disableOOMKiller",        "memory.kernel:",
    "memory.kernelTCP",           "realtimeRuntime/realtimePeriod", "blockIO.leafWeight",
    "weightDevice[0].leafWeight", "linux.resources.network"
  };
  assert_int_equal(p.n_warnings, BERTH_N_ELEMENTS(expect));
  for (size_t i = 0; i < BERTH_N_ELEMENTS(expect); i++)
    assert_non_null(strstr(p.warnings[i].msg, expect[i]));
  berth_cgroup_plan_free(&p);
}

static void test_plan_memory_rules(void **state)
{
  berth_error_t err = NULL;
  struct berth_cgroup_plan p;
  struct berth_spec_resources r = { .present = true };
  r.memory.limit = (struct berth_opt_i64){ true, -1 }; /* unlimited: memsw follows (runc) */
  assert_int_equal(berth_cgroup_plan_v1(&r, &p, &err), 0);
  cleanup_free char *v1 = dump(&p);
  assert_string_equal(v1, "memory memory.limit_in_bytes=-1\nmemory memory.memsw.limit_in_bytes=-1\n");
  berth_cgroup_plan_free(&p);
  assert_int_equal(berth_cgroup_plan_v2(&r, &p, &err), 0);
  cleanup_free char *v2 = dump(&p);
  assert_string_equal(v2, "memory memory.swap.max=max\nmemory memory.max=max\n");
  berth_cgroup_plan_free(&p);

  r.memory.limit = (struct berth_opt_i64){ true, 100 };
  r.memory.swap = (struct berth_opt_i64){ true, 50 };
  assert_int_equal(berth_cgroup_plan_v1(&r, &p, &err), -1);
  unit_assert_error_contains(&err,
                             "linux.resources.memory.swap: memory+swap (50) must not be below memory.limit");
  r.memory.limit.set = false;
  assert_int_equal(berth_cgroup_plan_v1(&r, &p, &err), 0); /* v1: memsw alone is fine */
  berth_cgroup_plan_free(&p);
  assert_int_equal(berth_cgroup_plan_v2(&r, &p, &err), -1);
  unit_assert_error_contains(
    &err, "linux.resources.memory.swap: cgroup v2 cannot limit swap without a memory limit");
  r.memory.swap = (struct berth_opt_i64){ true, -5 };
  assert_int_equal(berth_cgroup_plan_v2(&r, &p, &err), -1);
  unit_assert_error_contains(&err, "linux.resources.memory.swap: -5 is not a valid limit");

  struct berth_spec_resources h = { .present = true };
  h.memory.has_use_hierarchy = true; /* false: v1 best effort, v2 warning */
  assert_int_equal(berth_cgroup_plan_v1(&h, &p, &err), 0);
  assert_true(find(&p, "memory.use_hierarchy")->flags & BERTH_CGROUP_W_BEST_EFFORT);
  assert_string_equal(find(&p, "memory.use_hierarchy")->value, "0");
  berth_cgroup_plan_free(&p);
  assert_int_equal(berth_cgroup_plan_v2(&h, &p, &err), 0);
  assert_int_equal(p.n, 0);
  assert_int_equal(p.n_warnings, 1);
  berth_cgroup_plan_free(&p);
}

static void test_plan_cpu_pids(void **state)
{
  berth_error_t err = NULL;
  struct berth_cgroup_plan p;
  struct berth_spec_resources r = { .present = true };
  r.cpu.quota = (struct berth_opt_i64){ true, -1 };
  r.pids.present = true;
  r.pids.limit = 0;
  assert_int_equal(berth_cgroup_plan_v2(&r, &p, &err), 0);
  cleanup_free char *a = dump(&p);
  assert_string_equal(a, "cpu cpu.max=max\npids pids.max=max\n");
  berth_cgroup_plan_free(&p);
  r.cpu.quota.set = false;
  r.cpu.period = (struct berth_opt_u64){ true, 20000 };
  r.pids.limit = -1;
  assert_int_equal(berth_cgroup_plan_v2(&r, &p, &err), 0);
  cleanup_free char *b = dump(&p);
  assert_string_equal(b, "cpu cpu.max=max 20000\npids pids.max=max\n");
  berth_cgroup_plan_free(&p);
  assert_int_equal(berth_cgroup_plan_v1(&r, &p, &err), 0);
  cleanup_free char *c = dump(&p);
  assert_string_equal(c, "cpu cpu.cfs_period_us=20000\npids pids.max=max\n");
  berth_cgroup_plan_free(&p);

  r.cpu.quota = (struct berth_opt_i64){ true, -2 };
  assert_int_equal(berth_cgroup_plan_v1(&r, &p, &err), -1);
  unit_assert_error_contains(&err, "linux.resources.cpu.quota: -2 is not valid");
  r.cpu.quota.set = false;
  r.cpu.idle = (struct berth_opt_i64){ true, 2 };
  assert_int_equal(berth_cgroup_plan_v2(&r, &p, &err), -1);
  unit_assert_error_contains(&err, "linux.resources.cpu.idle: 2 is not 0 or 1");

  assert_int_equal(berth_cgroup_shares_to_weight(2), 1);
  assert_int_equal(berth_cgroup_shares_to_weight(1024), 39);
  assert_int_equal(berth_cgroup_shares_to_weight(262144), 10000);
  assert_int_equal(berth_cgroup_shares_to_weight(1), 1); /* clamped */
  assert_int_equal(berth_cgroup_blkio_to_io_weight(10), 1);
  assert_int_equal(berth_cgroup_blkio_to_io_weight(1000), 10000);
  assert_int_equal(berth_cgroup_blkio_to_io_weight(100), 910);
}

static void test_plan_errors(void **state)
{
  berth_error_t err = NULL;
  struct berth_cgroup_plan p;
  const char *k1[] = { "memory.high" }, *v1[] = { "1" };
  struct berth_spec_resources r = {
    .present = true, .unified_keys = k1, .unified_values = v1, .n_unified = 1
  };
  assert_int_equal(berth_cgroup_plan_v1(&r, &p, &err), -1);
  unit_assert_error_contains(&err,
                             "linux.resources.unified.memory.high: cgroup v2 settings cannot be applied on "
                             "cgroup v1");
  static const char *const bad[] = { "../memory.max", "memory",       "cgroup.procs", ".hidden",
                                     "a/b.c",         "blkio.weight", "foo.bar" };
  for (size_t i = 0; i < BERTH_N_ELEMENTS(bad); i++) {
    k1[0] = bad[i];
    assert_int_equal(berth_cgroup_plan_v2(&r, &p, &err), -1);
    unit_assert_error_contains(&err, "linux.resources.unified");
  }
  struct berth_spec_resources w = { .present = true };
  w.block_io.weight = (struct berth_opt_u64){ true, 5 };
  assert_int_equal(berth_cgroup_plan_v2(&w, &p, &err), -1);
  unit_assert_error_contains(&err, "linux.resources.blockIO.weight: 5 is out of range [10, 1000]");
  struct berth_spec_hugepage_limit hp[] = { { "2M", 1 } };
  struct berth_spec_resources h = { .present = true, .hugepage_limits = hp, .n_hugepage_limits = 1 };
  assert_int_equal(berth_cgroup_plan_v1(&h, &p, &err), -1);
  unit_assert_error_contains(&err, "linux.resources.hugepageLimits[0].pageSize: `2M` is not a page size");
  struct berth_spec_device_rule d[] = { { .allow = true, .type = 'x', .major = 1, .minor = 1 } };
  struct berth_spec_resources dv = { .present = true, .devices = d, .n_devices = 1 };
  assert_int_equal(berth_cgroup_plan_v1(&dv, &p, &err), -1);
  unit_assert_error_contains(&err, "linux.resources.devices[0].type: unknown device type `x`");
  assert_int_equal(berth_cgroup_plan_v2(&dv, &p, &err), -1);
  unit_assert_error_contains(&err, "unknown device type");
}

/* ---------------- the eBPF device program, run by a tiny interpreter ---------------- */

static int run_prog(const struct bpf_insn *p, size_t n, uint32_t type, uint32_t access, uint32_t major,
                    uint32_t minor)
{
  uint64_t r[11] = { 0 };
  uint32_t ctx[3] = { type | (access << 16), major, minor };
  for (size_t pc = 0; pc < n; pc++) {
    const struct bpf_insn *i = &p[pc];
    uint8_t cls = BPF_CLASS(i->code);
    if (i->code == (BPF_LDX | BPF_MEM | BPF_W)) {
      assert_int_equal(i->src_reg, 1);
      assert_true(i->off >= 0 && i->off <= 8 && i->off % 4 == 0);
      r[i->dst_reg] = ctx[i->off / 4];
    } else if (cls == BPF_ALU) {
      uint32_t src = BPF_SRC(i->code) == BPF_X ? (uint32_t) r[i->src_reg] : (uint32_t) i->imm;
      uint32_t d = (uint32_t) r[i->dst_reg];
      switch (BPF_OP(i->code)) {
      case BPF_AND: d &= src; break;
      case BPF_RSH: d >>= src; break;
      case BPF_MOV: d = src; break;
      default: fail_msg("unexpected ALU op %#x", i->code);
      }
      r[i->dst_reg] = d;
    } else if (cls == BPF_JMP32) {
      uint32_t a = (uint32_t) r[i->dst_reg], b = (uint32_t) i->imm;
      bool jump = BPF_OP(i->code) == BPF_JNE ? a != b : BPF_OP(i->code) == BPF_JEQ ? a == b : false;
      assert_true(BPF_OP(i->code) == BPF_JNE || BPF_OP(i->code) == BPF_JEQ);
      assert_true(pc + (size_t) i->off + 1 < n);
      if (jump)
        pc += (size_t) i->off;
    } else if (i->code == (BPF_JMP | BPF_EXIT)) {
      return (int) r[0];
    } else {
      fail_msg("unexpected instruction %#x", i->code);
    }
  }
  fail_msg("fell off the end of the program");
  return -1;
}

enum {
  C = BPF_DEVCG_DEV_CHAR,
  B = BPF_DEVCG_DEV_BLOCK,
  R = BPF_DEVCG_ACC_READ,
  W = BPF_DEVCG_ACC_WRITE,
  M = BPF_DEVCG_ACC_MKNOD
};

/* the verifier refuses unreachable instructions and a last instruction that is not an exit */
static void assert_all_reachable(const struct bpf_insn *p, size_t n)
{
  cleanup_free bool *seen = xcalloc(n, sizeof *seen);
  cleanup_free size_t *todo = xcalloc(2 * n + 1, sizeof *todo);
  size_t k = 0;
  todo[k++] = 0;
  while (k > 0) {
    size_t pc = todo[--k];
    if (pc >= n || seen[pc])
      continue;
    seen[pc] = true;
    if (p[pc].code == (BPF_JMP | BPF_EXIT))
      continue;
    todo[k++] = pc + 1;
    if (BPF_CLASS(p[pc].code) == BPF_JMP32)
      todo[k++] = pc + 1 + (size_t) p[pc].off;
  }
  for (size_t i = 0; i < n; i++)
    if (!seen[i])
      fail_msg("unreachable instruction %zu", i);
  assert_int_equal(p[n - 1].code, BPF_JMP | BPF_EXIT);
}

static int eval(const struct berth_spec_device_rule *rules, size_t n, uint32_t type, uint32_t acc,
                uint32_t maj, uint32_t min)
{
  berth_error_t err = NULL;
  cleanup_free struct bpf_insn *insns = NULL;
  size_t count;
  assert_int_equal(berth_cgroup_bpf_devices(rules, n, &insns, &count, &err), 0);
  assert_all_reachable(insns, count);
  return run_prog(insns, count, type, acc, maj, min);
}

static void test_bpf_exact_program(void **state)
{
  berth_error_t err = NULL;
  struct berth_spec_device_rule one[] = {
    { .allow = true, .type = 'c', .major = 1, .minor = 3, .access = "rwm" }
  };
  cleanup_free struct bpf_insn *p = NULL;
  size_t n;
  assert_int_equal(berth_cgroup_bpf_devices(one, 1, &p, &n, &err), 0);
  assert_int_equal(n, 14);
  static const struct {
    uint8_t code, dst, src;
    int16_t off;
    int32_t imm;
  } want[] = {
    { BPF_LDX | BPF_MEM | BPF_W, 2, 1, 0, 0 },   { BPF_ALU | BPF_AND | BPF_K, 2, 0, 0, 0xFFFF },
    { BPF_LDX | BPF_MEM | BPF_W, 3, 1, 0, 0 },   { BPF_ALU | BPF_RSH | BPF_K, 3, 0, 0, 16 },
    { BPF_LDX | BPF_MEM | BPF_W, 4, 1, 4, 0 },   { BPF_LDX | BPF_MEM | BPF_W, 5, 1, 8, 0 },
    { BPF_ALU | BPF_MOV | BPF_X, 6, 3, 0, 0 },   { BPF_JMP32 | BPF_JNE | BPF_K, 2, 0, 4, BPF_DEVCG_DEV_CHAR },
    { BPF_JMP32 | BPF_JNE | BPF_K, 4, 0, 3, 1 }, { BPF_JMP32 | BPF_JNE | BPF_K, 5, 0, 2, 3 },
    { BPF_ALU | BPF_MOV | BPF_K, 0, 0, 0, 1 },   { BPF_JMP | BPF_EXIT, 0, 0, 0, 0 },
    { BPF_ALU | BPF_MOV | BPF_K, 0, 0, 0, 0 },   { BPF_JMP | BPF_EXIT, 0, 0, 0, 0 },
  };
  for (size_t i = 0; i < n; i++) {
    assert_int_equal(p[i].code, want[i].code);
    assert_int_equal(p[i].dst_reg, want[i].dst);
    assert_int_equal(p[i].src_reg, want[i].src);
    assert_int_equal(p[i].off, want[i].off);
    assert_int_equal(p[i].imm, want[i].imm);
  }
}

static void test_bpf_semantics(void **state)
{
  assert_int_equal(eval(NULL, 0, C, R, 1, 3), 0); /* default deny */
  struct berth_spec_device_rule all[] = { { true, 'a', -1, -1, NULL } };
  assert_int_equal(eval(all, 1, B, R | W | M, 8, 0), 1);
  struct berth_spec_device_rule hole[] = { { true, 'a', -1, -1, "rwm" }, { false, 'c', 1, 3, "rw" } };
  assert_int_equal(eval(hole, 2, C, R, 1, 3), 0);
  assert_int_equal(eval(hole, 2, C, R | W, 1, 3), 0);
  assert_int_equal(eval(hole, 2, C, M, 1, 3), 1);
  assert_int_equal(eval(hole, 2, C, R, 1, 5), 1);
  assert_int_equal(eval(hole, 2, B, R, 1, 3), 1);
  /* each access bit is decided by the last rule naming it */
  struct berth_spec_device_rule split[] = { { true, 'c', 1, 3, "r" }, { true, 'c', 1, 3, "w" } };
  assert_int_equal(eval(split, 2, C, R | W, 1, 3), 1);
  assert_int_equal(eval(split, 2, C, R | M, 1, 3), 0);
  struct berth_spec_device_rule later_deny[] = { { true, 'c', 1, 3, "rw" }, { false, 'c', 1, 3, "w" } };
  assert_int_equal(eval(later_deny, 2, C, R, 1, 3), 1);
  assert_int_equal(eval(later_deny, 2, C, W, 1, 3), 0);
  assert_int_equal(eval(later_deny, 2, C, R | W, 1, 3), 0);
  struct berth_spec_device_rule later_allow[] = { { false, 'c', 1, 3, "rwm" }, { true, 'c', 1, 3, "r" } };
  assert_int_equal(eval(later_allow, 2, C, R, 1, 3), 1);
  assert_int_equal(eval(later_allow, 2, C, W, 1, 3), 0);
  struct berth_spec_device_rule shadowed[] = { { false, 'c', 1, 3, "r" },
                                               { true, 'a', -1, -1, "" },
                                               { false, 'b', 8, 0, "w" } };
  assert_int_equal(eval(shadowed, 3, C, R, 1, 3), 1); /* the allow-all hides the older deny */
  assert_int_equal(eval(shadowed, 3, B, W, 8, 0), 0);
  assert_int_equal(eval(shadowed, 3, B, R, 8, 0), 1);
  struct berth_spec_device_rule big[] = { { true, 'b', 4294967295LL, -1, "r" } };
  assert_int_equal(eval(big, 1, B, R, 4294967295u, 7), 1);
  assert_int_equal(eval(big, 1, B, R, 7, 7), 0);
}

static void test_bpf_runc_defaults(void **state)
{
  struct berth_spec_device_rule user[] = { { false, 'a', -1, -1, "rwm" }, { true, 'c', 10, 200, "rwm" } };
  struct berth_spec_device ldev[] = { { .type = 'b', .path = "/dev/sda", .major = 8, .minor = 0 },
                                      { .type = 'p', .path = "/dev/fifo", .major = -1, .minor = -1 } };
  struct berth_spec_linux lx = { .devices = ldev, .n_devices = 2 };
  lx.resources.devices = user;
  lx.resources.n_devices = 2;
  size_t n = 0;
  cleanup_free struct berth_spec_device_rule *rules = berth_cgroup_devices_with_defaults(&lx, &n);
  assert_int_equal(n, 2 + 10 + 1);
  assert_int_equal(eval(rules, n, C, R | W, 1, 3), 1);   /* /dev/null */
  assert_int_equal(eval(rules, n, C, R | W, 136, 4), 1); /* a pty */
  assert_int_equal(eval(rules, n, C, R, 10, 200), 1);    /* tun, from resources */
  assert_int_equal(eval(rules, n, C, R, 10, 229), 0);    /* fuse: not allowed */
  assert_int_equal(eval(rules, n, C, M, 10, 229), 1);    /* mknod of anything */
  assert_int_equal(eval(rules, n, B, R | W, 8, 0), 1);   /* linux.devices entry */
  assert_int_equal(eval(rules, n, B, R, 8, 1), 0);
}

/* ---------------- cgroupsPath ---------------- */

static void test_clean_path(void **state)
{
  static const char *const cases[][2] = {
    { "/a/b", "/a/b" },   { "/a//b/", "/a/b" }, { "/a/../../b", "/b" }, { "a/./b", "a/b" },
    { "../../x", "x" },   { "..", "" },         { "/", "/" },           { "", "" },
    { "a/../../..", "" }, { "/..", "/" },
  };
  for (size_t i = 0; i < BERTH_N_ELEMENTS(cases); i++) {
    cleanup_free char *got = cg_clean_path(cases[i][0]);
    assert_string_equal(got, cases[i][1]);
  }
}

/* ---------------- detection on fake mountinfo ---------------- */

static char *write_tmp(const char *dir, const char *name, const char *text)
{
  char *path = xasprintf("%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
  return path;
}

static void test_detect_hybrid(void **state)
{
  berth_error_t err = NULL;
  cleanup_free char *tmp = unit_mkdtemp();
  cleanup_free char *root = xasprintf("%s/cg", tmp), *uni = xasprintf("%s/cg/unified", tmp);
  assert_int_equal(mkdir(root, 0755), 0);
  assert_int_equal(mkdir(uni, 0755), 0);
  free(write_tmp(uni, "cgroup.controllers", "hugetlb misc\n"));
  struct berth_strbuf mi = BERTH_STRBUF_INIT;
  berth_strbuf_printf(&mi, "31 23 0:28 / %s rw,relatime - tmpfs tmpfs rw,mode=755\n", root);
  berth_strbuf_printf(&mi, "32 31 0:29 / %s/cpu,cpuacct rw shared:9 - cgroup cgroup rw,cpu,cpuacct\n", root);
  berth_strbuf_printf(&mi, "35 31 0:32 /sub %s/memory rw - cgroup cgroup rw,memory\n", root);
  berth_strbuf_printf(&mi, "36 31 0:33 / %s/my\\040devices rw - cgroup cgroup rw,devices\n", root);
  berth_strbuf_printf(&mi, "40 31 0:37 / %s/systemd rw - cgroup cgroup rw,xattr,name=systemd\n", root);
  berth_strbuf_printf(&mi, "42 31 0:39 / %s/other rw - cgroup cgroup rw,name=other\n", root);
  berth_strbuf_printf(&mi, "41 31 0:38 / %s rw,relatime - cgroup2 cgroup2 rw\n", uni);
  berth_strbuf_printf(&mi, "50 23 0:40 / /elsewhere/memory rw - cgroup cgroup rw,memory\n");
  cleanup_free char *mpath = write_tmp(tmp, "mountinfo", mi.buf);
  berth_strbuf_release(&mi);
  cleanup_free char *spath = write_tmp(tmp, "cgroup",
                                       "9:name=systemd:/user/1\n4:memory:/sub/x/y\n"
                                       "1:cpu,cpuacct:/a\n5:devices:/\n0::/u\n");
  struct berth_cgroup_layout l;
  assert_int_equal(berth_cgroup_detect(root, mpath, spath, &l, &err), 0);
  unit_assert_no_error(&err);
  assert_int_equal(l.mode, BERTH_CGROUP_MODE_HYBRID);
  assert_int_equal(l.n_v1, 4);
  assert_int_equal(l.v1[0].controllers, BERTH_CGROUP_CTL_BIT(BERTH_CGROUP_CTL_CPU) |
                                          BERTH_CGROUP_CTL_BIT(BERTH_CGROUP_CTL_CPUACCT));
  assert_string_equal(l.v1[0].self, "/a");
  assert_string_equal(l.v1[1].mount_root, "/sub");
  assert_string_equal(l.v1[1].self, "/x/y"); /* made relative to the mounted sub-tree */
  cleanup_free char *dev = xasprintf("%s/my devices", root);
  assert_string_equal(l.v1[2].mountpoint, dev);
  assert_string_equal(l.v1[3].name, "systemd");
  assert_int_equal(l.v1[3].controllers, 0);
  assert_string_equal(l.v1[3].self, "/user/1");
  assert_true(l.has_unified);
  assert_string_equal(l.unified.mountpoint, uni);
  assert_string_equal(l.unified.self, "/u");
  assert_int_equal(l.unified.controllers, BERTH_CGROUP_CTL_BIT(BERTH_CGROUP_CTL_HUGETLB) |
                                            BERTH_CGROUP_CTL_BIT(BERTH_CGROUP_CTL_MISC));
  berth_cgroup_layout_free(&l);
  unit_rm_rf(tmp);
}

static void test_detect_v1_v2_none(void **state)
{
  berth_error_t err = NULL;
  cleanup_free char *tmp = unit_mkdtemp();
  struct berth_cgroup_layout l;
  cleanup_free char *v2 =
    write_tmp(tmp, "v2", "30 1 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n");
  assert_int_equal(berth_cgroup_detect("/sys/fs/cgroup", v2, "/nonexistent", &l, &err), 0);
  assert_int_equal(l.mode, BERTH_CGROUP_MODE_V2);
  assert_string_equal(l.unified.self, "/");
  berth_cgroup_layout_free(&l);
  cleanup_free char *v1 = write_tmp(tmp, "v1",
                                    "32 31 0:29 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n"
                                    "33 31 0:30 / /sys/fs/cgroup/pids2 rw - cgroup cgroup rw,pids\n");
  assert_int_equal(berth_cgroup_detect(NULL, v1, "/nonexistent", &l, &err), 0);
  assert_int_equal(l.mode, BERTH_CGROUP_MODE_V1);
  assert_int_equal(l.n_v1, 1); /* the same hierarchy twice: the first mount */
  assert_false(l.has_unified);
  berth_cgroup_layout_free(&l);
  assert_int_equal(berth_cgroup_detect("/elsewhere", v1, NULL, &l, &err), -1);
  unit_assert_error_contains(&err, "no cgroup hierarchy is mounted under `/elsewhere`");
  assert_int_equal(berth_cgroup_detect(NULL, "/nonexistent/mountinfo", NULL, &l, &err), -1);
  unit_assert_error_contains(&err, "detect cgroups: open `/nonexistent/mountinfo`");
  unit_rm_rf(tmp);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_plan_v1_every_resource),
    cmocka_unit_test(test_plan_v2_every_resource),
    cmocka_unit_test(test_plan_memory_rules),
    cmocka_unit_test(test_plan_cpu_pids),
    cmocka_unit_test(test_plan_errors),
    cmocka_unit_test(test_bpf_exact_program),
    cmocka_unit_test(test_bpf_semantics),
    cmocka_unit_test(test_bpf_runc_defaults),
    cmocka_unit_test(test_clean_path),
    cmocka_unit_test(test_detect_hybrid),
    cmocka_unit_test(test_detect_v1_v2_none),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
