/* Seccomp program rewrite: a balanced search over syscall numbers in front of the
 * original program (see seccomp_opt.h). Pure: no system calls. */
#include "linux/seccomp_opt.h"

#include <linux/seccomp.h>
#include <stdbool.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/xalloc.h"

#define DATA_WORDS (sizeof(struct seccomp_data) / sizeof(uint32_t))
#define WORD_NR    (offsetof(struct seccomp_data, nr) / sizeof(uint32_t))
#define WORD_ARCH  (offsetof(struct seccomp_data, arch) / sizeof(uint32_t))
#define JUMP_MAX   255 /* jt and jf are 8 bits */

/* ---------------------------------------------------------------- evaluation */

enum outcome_kind {
  OUT_RET,  /* returned `value` */
  OUT_LOAD, /* reached, at `pc`, a load of a word that is not known */
  OUT_BAD,  /* an instruction outside the subset, or the program fell off its end */
};

struct outcome {
  enum outcome_kind kind;
  uint32_t value;
  size_t pc;
  size_t steps;
};

static bool alu_k(uint16_t code, uint32_t k, uint32_t *a)
{
  switch (BPF_OP(code)) {
  case BPF_ADD: *a += k; return true;
  case BPF_SUB: *a -= k; return true;
  case BPF_MUL: *a *= k; return true;
  case BPF_AND: *a &= k; return true;
  case BPF_OR: *a |= k; return true;
  case BPF_XOR: *a ^= k; return true;
  case BPF_LSH:
    if (k >= 32)
      return false;
    *a <<= k;
    return true;
  case BPF_RSH:
    if (k >= 32)
      return false;
    *a >>= k;
    return true;
  default: return false;
  }
}

static bool jump_taken(uint16_t code, uint32_t a, uint32_t k)
{
  switch (BPF_OP(code)) {
  case BPF_JEQ: return a == k;
  case BPF_JGT: return a > k;
  case BPF_JGE: return a >= k;
  default: return (a & k) != 0; /* BPF_JSET */
  }
}

static bool is_cond_jump(uint16_t code)
{
  return code == (BPF_JMP | BPF_JEQ | BPF_K) || code == (BPF_JMP | BPF_JGT | BPF_K) ||
         code == (BPF_JMP | BPF_JGE | BPF_K) || code == (BPF_JMP | BPF_JSET | BPF_K);
}

/* Run from pc 0 with the words in `known` (a bit per 32-bit word of seccomp_data) set
 * from `words`; stops at a load of any other word. */
static struct outcome eval(const struct sock_filter *p, size_t n, const uint32_t *words, uint32_t known)
{
  struct outcome o = { .kind = OUT_BAD };
  uint32_t a = 0;
  size_t pc = 0;
  while (pc < n) {
    const struct sock_filter *i = &p[pc];
    o.steps++;
    o.pc = pc;
    if (i->code == (BPF_LD | BPF_W | BPF_ABS)) {
      if (i->k % sizeof(uint32_t) != 0 || i->k / sizeof(uint32_t) >= DATA_WORDS)
        return o;
      uint32_t w = i->k / sizeof(uint32_t);
      if (!(known & (1U << w))) {
        o.kind = OUT_LOAD;
        return o;
      }
      a = words[w];
      pc++;
    } else if (BPF_CLASS(i->code) == BPF_ALU && BPF_SRC(i->code) == BPF_K) {
      if (!alu_k(i->code, i->k, &a))
        return o;
      pc++;
    } else if (i->code == (BPF_JMP | BPF_JA)) {
      if (i->k >= n - pc - 1)
        return o;
      pc += 1 + i->k;
    } else if (is_cond_jump(i->code)) {
      pc += 1 + (size_t) (jump_taken(i->code, a, i->k) ? i->jt : i->jf);
    } else if (i->code == (BPF_RET | BPF_K)) {
      o.kind = OUT_RET;
      o.value = i->k;
      return o;
    } else {
      return o;
    }
  }
  o.kind = OUT_BAD;
  return o;
}

static void data_words(uint32_t arch, int32_t nr, uint64_t ip, const uint64_t args[6],
                       uint32_t words[DATA_WORDS])
{
  struct seccomp_data d = { .nr = nr, .arch = arch, .instruction_pointer = ip };
  if (args)
    memcpy(d.args, args, sizeof d.args);
  memcpy(words, &d, sizeof d);
}

uint32_t berth_seccomp_run(const struct sock_filter *prog, size_t n, uint32_t arch, int32_t nr, uint64_t ip,
                           const uint64_t args[6], size_t *steps)
{
  uint32_t words[DATA_WORDS];
  data_words(arch, nr, ip, args, words);
  struct outcome o = eval(prog, n, words, (uint32_t) ((1ULL << DATA_WORDS) - 1));
  if (steps)
    *steps = o.steps;
  return o.kind == OUT_RET ? o.value : SECCOMP_RET_KILL_THREAD;
}

/* Every instruction in the subset, every jump inside the program, a return at the end:
 * what the kernel's checker asks, restricted to what eval() understands. */
static bool program_ok(const struct sock_filter *p, size_t n)
{
  if (n == 0 || n > BPF_MAXINSNS || p[n - 1].code != (BPF_RET | BPF_K))
    return false;
  for (size_t pc = 0; pc < n; pc++) {
    const struct sock_filter *i = &p[pc];
    size_t left = n - pc - 1;
    if (i->code == (BPF_LD | BPF_W | BPF_ABS)) {
      if (i->k % sizeof(uint32_t) != 0 || i->k / sizeof(uint32_t) >= DATA_WORDS)
        return false;
    } else if (BPF_CLASS(i->code) == BPF_ALU && BPF_SRC(i->code) == BPF_K) {
      uint32_t a = 0;
      if (!alu_k(i->code, i->k, &a))
        return false;
    } else if (i->code == (BPF_JMP | BPF_JA)) {
      if (i->k >= left)
        return false;
    } else if (is_cond_jump(i->code)) {
      if (i->jt >= left || i->jf >= left)
        return false;
    } else if (i->code != (BPF_RET | BPF_K)) {
      return false;
    }
  }
  return true;
}

/* ---------------------------------------------------------------- runs of numbers */

enum run_kind {
  RUN_RET,  /* return `value` */
  RUN_CONT, /* continue in the original program at pc `value` */
  RUN_FULL, /* run the original program from its start */
};

struct run {
  uint32_t start; /* first syscall number of the run */
  enum run_kind kind;
  uint32_t value;
};

/* Runs for one architecture over [0, SPAN), then one FULL run from SPAN on (numbers
 * beyond the span, and negative ones, which compare as large unsigned values). */
static size_t arch_runs(const struct sock_filter *p, size_t n, uint32_t arch, struct run *runs, size_t *steps)
{
  size_t count = 0;
  for (uint32_t nr = 0; nr < BERTH_SECCOMP_OPT_SPAN; nr++) {
    uint32_t words[DATA_WORDS];
    data_words(arch, (int32_t) nr, 0, NULL, words);
    struct outcome o = eval(p, n, words, (1U << WORD_NR) | (1U << WORD_ARCH));
    *steps += o.steps;
    struct run r = { .start = nr };
    if (o.kind == OUT_RET) {
      r.kind = RUN_RET;
      r.value = o.value;
    } else if (o.kind == OUT_LOAD) {
      r.kind = RUN_CONT; /* the load overwrites A, the only state: resume right there */
      r.value = (uint32_t) o.pc;
    } else {
      r.kind = RUN_FULL;
    }
    if (count > 0 && runs[count - 1].kind == r.kind && runs[count - 1].value == r.value)
      continue;
    runs[count++] = r;
  }
  if (runs[count - 1].kind != RUN_FULL)
    runs[count++] = (struct run){ .start = BERTH_SECCOMP_OPT_SPAN, .kind = RUN_FULL };
  return count;
}

/* ---------------------------------------------------------------- emission */

struct emit {
  struct sock_filter *v;
  size_t len;
  size_t orig; /* where the original program starts */
};

static void put(struct emit *e, struct sock_filter insn) { e->v[e->len++] = insn; }

static size_t tree_size(const struct run *r, size_t lo, size_t hi)
{
  if (lo == hi)
    return 1;
  size_t mid = lo + (hi - lo + 1) / 2;
  size_t left = tree_size(r, lo, mid - 1);
  return 1 + (left > JUMP_MAX ? 1 : 0) + left + tree_size(r, mid, hi);
}

static void put_ja_to(struct emit *e, size_t target)
{
  put(e, (struct sock_filter) BPF_JUMP(BPF_JMP | BPF_JA, (uint32_t) (target - e->len - 1), 0, 0));
}

/* A >= start of the middle run: the upper half, else the lower half (laid out first). */
static void put_tree(struct emit *e, const struct run *r, size_t lo, size_t hi)
{
  if (lo == hi) {
    if (r[lo].kind == RUN_RET)
      put(e, (struct sock_filter) BPF_STMT(BPF_RET | BPF_K, r[lo].value));
    else
      put_ja_to(e, e->orig + (r[lo].kind == RUN_CONT ? r[lo].value : 0));
    return;
  }
  size_t mid = lo + (hi - lo + 1) / 2;
  size_t left = tree_size(r, lo, mid - 1);
  if (left <= JUMP_MAX) {
    put(e, (struct sock_filter) BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, r[mid].start, (uint8_t) left, 0));
  } else {
    put(e, (struct sock_filter) BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, r[mid].start, 0, 1));
    put(e, (struct sock_filter) BPF_JUMP(BPF_JMP | BPF_JA, (uint32_t) left, 0, 0));
  }
  put_tree(e, r, lo, mid - 1);
  put_tree(e, r, mid, hi);
}

/* Instructions walked, summed over the enumerated inputs, until a verdict or a load of
 * an argument: the kernel's work when it builds its action cache. */
static size_t total_steps(const struct sock_filter *p, size_t n, const uint32_t *arches, size_t n_arches)
{
  size_t steps = 0;
  for (size_t i = 0; i < n_arches; i++)
    for (uint32_t nr = 0; nr < BERTH_SECCOMP_OPT_SPAN; nr++) {
      uint32_t words[DATA_WORDS];
      data_words(arches[i], (int32_t) nr, 0, NULL, words);
      steps += eval(p, n, words, (1U << WORD_NR) | (1U << WORD_ARCH)).steps;
    }
  return steps;
}

/* What installing a program costs the kernel, in units of one instruction walked while it
 * builds the action cache (~2.6 ns on the test VM): the walks over the enumerated span,
 * of which the kernel does ~460 numbers per architecture, plus ~70 ns per instruction to
 * convert and JIT the program. Measured with 1000-instruction programs: a chain of
 * comparisons costs 0.74 ms to install, the same length returning at once 0.07 ms. */
static size_t cost(size_t span_steps, size_t len) { return span_steps + 60 * len; }

int berth_seccomp_optimize(const struct sock_filter *in, size_t n, const uint32_t *arches, size_t n_arches,
                           unsigned int flags, struct sock_filter **out, size_t *n_out)
{
  /* the search leaves the number or the architecture in A where the kernel starts a
   * program with A = 0: only a program that loads before anything reads A keeps its meaning */
  if (n_arches == 0 || n_arches > 16 || !program_ok(in, n) || in[0].code != (BPF_LD | BPF_W | BPF_ABS))
    return 1;
  for (size_t i = 0; i < n_arches; i++)
    for (size_t j = 0; j < i; j++)
      if (arches[i] == arches[j])
        return 1; /* the caller dedups; a repeat would be a dead branch */

  /* the runs of every architecture, and the layout they need */
  size_t cap_runs = BERTH_SECCOMP_OPT_SPAN + 1;
  cleanup_free struct run *runs = xmalloc(n_arches * cap_runs * sizeof *runs);
  size_t n_runs[16], tree[16];
  size_t old_steps = 0;
  size_t prefix = 1 + 2 * n_arches + 1; /* ld arch; (jeq, ja) per arch; ja original */
  size_t total = prefix + n;
  for (size_t i = 0; i < n_arches; i++) {
    n_runs[i] = arch_runs(in, n, arches[i], runs + i * cap_runs, &old_steps);
    tree[i] = tree_size(runs + i * cap_runs, 0, n_runs[i] - 1);
    total += 1 + tree[i]; /* ld nr; the search */
  }
  if (total > BPF_MAXINSNS)
    return 1;

  struct emit e = { .v = xmalloc(total * sizeof *e.v), .orig = total - n };
  put(&e, (struct sock_filter) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)));
  size_t block = prefix;
  for (size_t i = 0; i < n_arches; i++) {
    put(&e, (struct sock_filter) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, arches[i], 0, 1));
    put_ja_to(&e, block);
    block += 1 + tree[i];
  }
  put_ja_to(&e, e.orig);
  for (size_t i = 0; i < n_arches; i++) {
    put(&e, (struct sock_filter) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)));
    put_tree(&e, runs + i * cap_runs, 0, n_runs[i] - 1);
  }
  memcpy(e.v + e.len, in, n * sizeof *in);
  e.len += n;

  if (e.len != total || (!(flags & BERTH_SECCOMP_OPT_FORCE) &&
                         cost(total_steps(e.v, e.len, arches, n_arches), e.len) >= cost(old_steps, n))) {
    free(e.v);
    return 1;
  }
  *out = e.v;
  *n_out = e.len;
  return 0;
}
