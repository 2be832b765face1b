/* Fuzz the seccomp program rewrite (linux/seccomp_opt.h), differentially: a rewritten program
 * must give the verdict of the program it came from for every input, or the container's
 * filter allows what its profile refuses.
 *
 * Input: [arches:1][instructions: 8 bytes each, struct sock_filter in host order]. Bits 0-6
 * of the first byte pick the architectures to dispatch (none: x86_64), bit 7 asks for
 * BERTH_SECCOMP_OPT_FORCE. Invariants when the rewrite takes the program: the result passes
 * the kernel's checks, ends with the original program, and for every architecture (picked or
 * not), syscall number and arguments tried, berth_seccomp_run gives both programs the same
 * verdict. The numbers and arguments tried are the edges of the enumerated span, negative and
 * x32 numbers, and every constant the program compares with, and its neighbours. */
#include <linux/audit.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linux/seccomp_opt.h"
#include "seccomp_check.h"

#define MAX_INSNS  1024
#define MAX_VALUES 48

static const uint32_t arch_table[] = { AUDIT_ARCH_X86_64, AUDIT_ARCH_I386,    AUDIT_ARCH_AARCH64,
                                       AUDIT_ARCH_ARM,    AUDIT_ARCH_PPC64LE, AUDIT_ARCH_S390X,
                                       AUDIT_ARCH_RISCV64 };
#define N_ARCH_TABLE (sizeof arch_table / sizeof arch_table[0])

struct values {
  uint32_t v[MAX_VALUES];
  size_t n;
};

static void add(struct values *s, uint32_t v)
{
  for (size_t i = 0; i < s->n; i++)
    if (s->v[i] == v)
      return;
  if (s->n < MAX_VALUES)
    s->v[s->n++] = v;
}

/* syscall numbers worth trying: fixed edges, then each compared constant and its neighbours */
static void collect(const struct sock_filter *p, size_t n, struct values *nrs, struct values *ks)
{
  static const uint32_t fixed[] = { 0,
                                    1,
                                    2,
                                    59,
                                    BERTH_SECCOMP_OPT_SPAN - 1,
                                    BERTH_SECCOMP_OPT_SPAN,
                                    BERTH_SECCOMP_OPT_SPAN + 1,
                                    0x40000000u,
                                    0x40000001u,
                                    0x7fffffffu,
                                    0x80000000u,
                                    0xffffffffu };
  for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
    add(nrs, fixed[i]);
  for (size_t i = 0; i < n; i++) {
    uint16_t c = p[i].code;
    if (BPF_CLASS(c) == BPF_JMP && BPF_OP(c) != BPF_JA && BPF_SRC(c) == BPF_K) {
      add(ks, p[i].k);
      add(nrs, p[i].k);
      add(nrs, p[i].k - 1);
      add(nrs, p[i].k + 1);
    }
  }
}

static void compare(const struct sock_filter *a, size_t na, const struct sock_filter *b, size_t nb,
                    uint32_t arch, const struct values *nrs, const struct values *ks)
{
  uint64_t args[3][6];
  memset(args[0], 0, sizeof args[0]);
  memset(args[1], 0xff, sizeof args[1]);
  for (size_t j = 0; j < 6; j++) {
    uint32_t lo = ks->n ? ks->v[j % ks->n] : 0, hi = ks->n ? ks->v[(j + 1) % ks->n] : 0;
    args[2][j] = (uint64_t) hi << 32 | lo;
  }
  for (size_t i = 0; i < nrs->n; i++)
    for (size_t k = 0; k < 3; k++) {
      int32_t nr = (int32_t) nrs->v[i];
      uint64_t ip = k == 2 ? args[2][0] : 0;
      uint32_t va = berth_seccomp_run(a, na, arch, nr, ip, args[k], NULL);
      uint32_t vb = berth_seccomp_run(b, nb, arch, nr, ip, args[k], NULL);
      if (va != vb) {
        fprintf(stderr, "arch %#x nr %d args #%zu: %#x before the rewrite, %#x after\n", arch, nr, k, va, vb);
        abort();
      }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1 + sizeof(struct sock_filter))
    return 0;
  size_t n = (size - 1) / sizeof(struct sock_filter);
  if (n > MAX_INSNS)
    return 0;
  struct sock_filter *prog = malloc(n * sizeof *prog);
  memcpy(prog, data + 1, n * sizeof *prog);
  uint32_t arches[N_ARCH_TABLE];
  size_t n_arches = 0;
  for (size_t i = 0; i < N_ARCH_TABLE; i++)
    if (data[0] & (1u << i))
      arches[n_arches++] = arch_table[i];
  if (n_arches == 0)
    arches[n_arches++] = AUDIT_ARCH_X86_64;
  unsigned int flags = (data[0] & 0x80) ? BERTH_SECCOMP_OPT_FORCE : 0;

  struct sock_filter *out = NULL;
  size_t n_out = 0;
  if (berth_seccomp_optimize(prog, n, arches, n_arches, flags, &out, &n_out) == 0) {
    if (!fuzz_bpf_ok(out, n_out) || n_out < n || memcmp(out + n_out - n, prog, n * sizeof *prog) != 0) {
      fprintf(stderr, "the rewrite of a %zu-instruction program is not a program that ends with it\n", n);
      abort();
    }
    struct values nrs = { .n = 0 }, ks = { .n = 0 };
    collect(prog, n, &nrs, &ks);
    for (size_t i = 0; i < N_ARCH_TABLE; i++)
      compare(prog, n, out, n_out, arch_table[i], &nrs, &ks);
    compare(prog, n, out, n_out, 0, &nrs, &ks);
    free(out);
  }
  free(prog);
  return 0;
}
