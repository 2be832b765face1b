/* The eBPF device filter for cgroup v2: generator (pure) and loader. */
#include "cgroup/bpf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/xalloc.h"
#include "cgroup/internal.h"

#define INSN(c, d, s, o, i)                                                                                  \
  ((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })
#define LDX_W(dst, src, off)  INSN(BPF_LDX | BPF_MEM | BPF_W, dst, src, off, 0)
#define ALU32_K(op, dst, imm) INSN(BPF_ALU | (op) | BPF_K, dst, 0, 0, imm)
#define MOV32_X(dst, src)     INSN(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0)
#define JMP32_K(op, dst, imm) INSN(BPF_JMP32 | (op) | BPF_K, dst, 0, 0, imm) /* off patched to block end */
#define EXIT_INSN()           INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

enum { R0, R1, R2, R3, R4, R5, R6 };
#define ACC_ALL (BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE)

struct prog {
  struct bpf_insn *insns;
  size_t n;
};

static void emit(struct prog *p, struct bpf_insn insn)
{
  p->insns = xreallocarray(p->insns, p->n + 1, sizeof *p->insns);
  p->insns[p->n++] = insn;
}

static int32_t access_bits(const char *access)
{
  if (access == NULL || access[0] == '\0')
    return ACC_ALL;
  int32_t bits = 0;
  for (const char *c = access; *c; c++)
    bits |= *c == 'r'   ? BPF_DEVCG_ACC_READ
            : *c == 'w' ? BPF_DEVCG_ACC_WRITE
            : *c == 'm' ? BPF_DEVCG_ACC_MKNOD
                        : 0;
  return bits;
}

/* one rule: every conditional jump skips to the end of the block (the next, older rule) */
static BERTH_WUR int emit_rule(struct prog *p, const struct berth_spec_device_rule *d, size_t index,
                               berth_error_t *err)
{
  struct bpf_insn b[12];
  size_t k = 0;
  if (d->type == 'c' || d->type == 'b')
    b[k++] = JMP32_K(BPF_JNE, R2, d->type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK);
  else if (d->type != 'a')
    return BERTH_ERR(err, "linux.resources.devices[%zu].type: unknown device type `%c`", index, d->type);
  if (d->major > (int64_t) UINT32_MAX || d->minor > (int64_t) UINT32_MAX)
    return BERTH_ERR(err, "linux.resources.devices[%zu]: major/minor out of range", index);
  if (d->major >= 0)
    b[k++] = JMP32_K(BPF_JNE, R4, (int32_t) (uint32_t) d->major);
  if (d->minor >= 0)
    b[k++] = JMP32_K(BPF_JNE, R5, (int32_t) (uint32_t) d->minor);
  int32_t acc = access_bits(d->access);
  if (d->allow && acc != ACC_ALL) {
    b[k++] = ALU32_K(BPF_AND, R6, ~acc); /* these bits are allowed */
    b[k++] = JMP32_K(BPF_JNE, R6, 0);    /* others still undecided: older rules */
  } else if (!d->allow && acc != ACC_ALL) {
    b[k++] = MOV32_X(R1, R6);
    b[k++] = ALU32_K(BPF_AND, R1, acc);
    b[k++] = JMP32_K(BPF_JEQ, R1, 0); /* names no undecided bit: older rules */
  }
  b[k++] = ALU32_K(BPF_MOV, R0, d->allow ? 1 : 0);
  b[k++] = EXIT_INSN();
  for (size_t i = 0; i < k; i++) {
    if (BPF_CLASS(b[i].code) == BPF_JMP32)
      b[i].off = (int16_t) (k - i - 1);
    emit(p, b[i]);
  }
  return 0;
}

int berth_cgroup_bpf_devices(const struct berth_spec_device_rule *rules, size_t n, struct bpf_insn **out,
                             size_t *n_out, berth_error_t *err)
{
  struct prog p = { 0 };
  /* struct bpf_cgroup_dev_ctx { u32 access_type (type | access << 16); u32 major; u32 minor; } */
  emit(&p, LDX_W(R2, R1, 0));
  emit(&p, ALU32_K(BPF_AND, R2, 0xFFFF));
  emit(&p, LDX_W(R3, R1, 0));
  emit(&p, ALU32_K(BPF_RSH, R3, 16));
  emit(&p, LDX_W(R4, R1, 4));
  emit(&p, LDX_W(R5, R1, 8));
  emit(&p, MOV32_X(R6, R3));
  bool decided = false;
  for (size_t i = n; i-- > 0 && !decided;) {
    if (emit_rule(&p, &rules[i], i, err) < 0) {
      free(p.insns);
      return -1;
    }
    /* a rule for every device and access always returns: older rules (and the default) would be
     * unreachable code, which the verifier refuses */
    const struct berth_spec_device_rule *d = &rules[i];
    decided = d->type == 'a' && d->major < 0 && d->minor < 0 && access_bits(d->access) == ACC_ALL;
  }
  if (!decided) {
    emit(&p, ALU32_K(BPF_MOV, R0, 0)); /* default: deny */
    emit(&p, EXIT_INSN());
  }
  *out = p.insns;
  *n_out = p.n;
  return 0;
}

static long sys_bpf(int cmd, union bpf_attr *attr) { return syscall(SYS_bpf, cmd, attr, sizeof *attr); }

static BERTH_WUR int load(const struct bpf_insn *insns, size_t n, berth_error_t *err)
{
  static const char license[] = "Apache";
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  a.expected_attach_type = BPF_CGROUP_DEVICE;
  a.insns = (uintptr_t) insns;
  a.insn_cnt = (uint32_t) n;
  a.license = (uintptr_t) license;
  long fd = sys_bpf(BPF_PROG_LOAD, &a);
  if (fd >= 0)
    return (int) fd;
  int e = errno;
  cleanup_free char *log = xmalloc0(16384); /* again, for the verifier's reason */
  a.log_buf = (uintptr_t) log;
  a.log_size = 16384;
  a.log_level = 1;
  fd = sys_bpf(BPF_PROG_LOAD, &a);
  if (fd >= 0)
    return (int) fd;
  errno = e;
  log[strcspn(log, "\n")] = '\0';
  return BERTH_ERR_ERRNO(err, "load the device program%s%s", log[0] ? ": " : "", log);
}

static int prog_id(int fd, uint32_t *id)
{
  struct bpf_prog_info info;
  union bpf_attr a;
  memset(&info, 0, sizeof info);
  memset(&a, 0, sizeof a);
  a.info.bpf_fd = (uint32_t) fd;
  a.info.info_len = sizeof info;
  a.info.info = (uintptr_t) &info;
  if (sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a) < 0)
    return -1;
  *id = info.id;
  return 0;
}

static BERTH_WUR int detach_others(int dirfd, const char *dir, uint32_t keep, berth_error_t *err)
{
  uint32_t ids[64];
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.query.target_fd = (uint32_t) dirfd;
  a.query.attach_type = BPF_CGROUP_DEVICE;
  a.query.prog_ids = (uintptr_t) ids;
  a.query.prog_cnt = BERTH_N_ELEMENTS(ids);
  if (sys_bpf(BPF_PROG_QUERY, &a) < 0)
    return BERTH_ERR_ERRNO(err, "query device programs of `%s`", dir);
  for (uint32_t i = 0; i < a.query.prog_cnt && i < BERTH_N_ELEMENTS(ids); i++) {
    if (ids[i] == keep)
      continue;
    union bpf_attr g;
    memset(&g, 0, sizeof g);
    g.prog_id = ids[i];
    cleanup_close int fd = (int) sys_bpf(BPF_PROG_GET_FD_BY_ID, &g);
    if (fd < 0)
      return BERTH_ERR_ERRNO(err, "open device program %u of `%s`", ids[i], dir);
    union bpf_attr d;
    memset(&d, 0, sizeof d);
    d.target_fd = (uint32_t) dirfd;
    d.attach_bpf_fd = (uint32_t) fd;
    d.attach_type = BPF_CGROUP_DEVICE;
    if (sys_bpf(BPF_PROG_DETACH, &d) < 0 && errno != ENOENT)
      return BERTH_ERR_ERRNO(err, "detach the old device program %u from `%s`", ids[i], dir);
  }
  return 0;
}

int berth_cgroup_bpf_attach(const char *dir, const struct bpf_insn *insns, size_t n, berth_error_t *err)
{
  cleanup_close int prog = load(insns, n, err);
  if (prog < 0)
    return berth_error_wrap(err, "cgroup `%s`", dir);
  cleanup_close int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0)
    return BERTH_ERR_ERRNO(err, "open cgroup `%s`", dir);
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.target_fd = (uint32_t) dirfd;
  a.attach_bpf_fd = (uint32_t) prog;
  a.attach_type = BPF_CGROUP_DEVICE;
  a.attach_flags = BPF_F_ALLOW_MULTI;
  if (sys_bpf(BPF_PROG_ATTACH, &a) < 0)
    return BERTH_ERR_ERRNO(err, "attach the device program to `%s`", dir);
  uint32_t id;
  if (prog_id(prog, &id) < 0)
    return BERTH_ERR_ERRNO(err, "device program of `%s`: get its id", dir);
  return detach_others(dirfd, dir, id, err);
}

int cg_v2_apply_devices(const char *dir, const struct berth_spec_device_rule *rules, size_t n,
                        berth_error_t *err)
{
  cleanup_free struct bpf_insn *insns = NULL;
  size_t count = 0;
  if (berth_cgroup_bpf_devices(rules, n, &insns, &count, err) < 0)
    return -1;
  if (berth_cgroup_bpf_attach(dir, insns, count, err) < 0)
    return berth_error_wrap(err, "linux.resources.devices");
  return 0;
}
