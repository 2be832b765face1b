/* Shared by the seccomp fuzz targets: what the kernel's checker (seccomp_check_filter and
 * bpf_check_classic) asks of a classic BPF program before seccomp(2) takes it. */
#ifndef BERTH_FUZZ_SECCOMP_CHECK_H
#define BERTH_FUZZ_SECCOMP_CHECK_H

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

static inline bool fuzz_bpf_insn_ok(const struct sock_filter *i, size_t left)
{
  switch (i->code) {
  case BPF_LD | BPF_W | BPF_ABS: return i->k % 4 == 0 && i->k < sizeof(struct seccomp_data);
  case BPF_RET | BPF_K:
  case BPF_RET | BPF_A:
  case BPF_LD | BPF_IMM:
  case BPF_LDX | BPF_IMM:
  case BPF_MISC | BPF_TAX:
  case BPF_MISC | BPF_TXA: return true;
  case BPF_LD | BPF_MEM:
  case BPF_LDX | BPF_MEM:
  case BPF_ST:
  case BPF_STX: return i->k < BPF_MEMWORDS;
  case BPF_JMP | BPF_JA: return i->k < left;
  case BPF_JMP | BPF_JEQ | BPF_K:
  case BPF_JMP | BPF_JEQ | BPF_X:
  case BPF_JMP | BPF_JGE | BPF_K:
  case BPF_JMP | BPF_JGE | BPF_X:
  case BPF_JMP | BPF_JGT | BPF_K:
  case BPF_JMP | BPF_JGT | BPF_X:
  case BPF_JMP | BPF_JSET | BPF_K:
  case BPF_JMP | BPF_JSET | BPF_X: return i->jt < left && i->jf < left;
  }
  if (BPF_CLASS(i->code) == BPF_ALU) {
    switch (BPF_OP(i->code)) {
    case BPF_DIV:
    case BPF_MOD: return BPF_SRC(i->code) == BPF_X || i->k != 0;
    case BPF_LSH:
    case BPF_RSH: return BPF_SRC(i->code) == BPF_X || i->k < 32;
    case BPF_ADD:
    case BPF_SUB:
    case BPF_MUL:
    case BPF_AND:
    case BPF_OR:
    case BPF_XOR:
    case BPF_NEG: return true;
    }
  }
  return false;
}

/* the program would pass the kernel's checks; prints the first problem */
static inline bool fuzz_bpf_ok(const struct sock_filter *p, size_t n)
{
  if (n == 0 || n > BPF_MAXINSNS) {
    fprintf(stderr, "program of %zu instructions\n", n);
    return false;
  }
  if (BPF_CLASS(p[n - 1].code) != BPF_RET) {
    fprintf(stderr, "program does not end in a return\n");
    return false;
  }
  for (size_t pc = 0; pc < n; pc++)
    if (!fuzz_bpf_insn_ok(&p[pc], n - pc - 1)) {
      fprintf(stderr, "instruction %zu {%#x, %u, %u, %#x} refused\n", pc, p[pc].code, p[pc].jt, p[pc].jf,
              p[pc].k);
      return false;
    }
  return true;
}

#endif
