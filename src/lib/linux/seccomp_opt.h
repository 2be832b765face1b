/* A pure rewrite of a compiled seccomp program that keeps its meaning and shortens the
 * path the kernel walks for each syscall number.
 *
 * libseccomp emits the syscall dispatch as a chain of comparisons: for Docker's profile
 * that is ~270 instructions on average before a syscall's verdict. When a filter is
 * installed, the kernel runs the program once for every syscall number of the native and
 * the compat architecture to find the syscalls it may always allow (seccomp's action
 * cache), so that chain costs ~0.7 ms at every container start, and every syscall that
 * is not always allowed walks it again at run time.
 *
 * The rewrite evaluates the program for each (architecture, number) pair with the
 * arguments unknown. Where the verdict does not depend on the arguments it is a constant;
 * where the program goes on to read an argument (or the instruction pointer), the rest
 * of the evaluation is the original program from that instruction, because the load
 * overwrites the only register such programs use. The new program is a balanced search
 * over runs of numbers with the same outcome, per architecture, in front of the original
 * program, which every other input (other architectures, numbers outside the enumerated
 * span) still reaches unchanged. */
#ifndef BERTH_LINUX_SECCOMP_OPT_H
#define BERTH_LINUX_SECCOMP_OPT_H

#include <linux/filter.h>
#include <stddef.h>
#include <stdint.h>

/* syscall numbers 0 .. BERTH_SECCOMP_OPT_SPAN-1 are enumerated per architecture */
#define BERTH_SECCOMP_OPT_SPAN 1024

/* rewrite even when the result would cost the kernel more to install (tests) */
#define BERTH_SECCOMP_OPT_FORCE 1U

/* Rewrite `in` (n instructions) for the given AUDIT_ARCH_* values. Returns 0 with a
 * malloc'd program in *out and its length in *n_out, or 1 when the program is kept as it
 * is: an instruction outside what the rewrite can reason about (anything but absolute
 * word loads, ALU with a constant, jumps with a constant and returns of a constant), a
 * malformed program, one that does not begin with a load (the kernel starts it with A = 0,
 * the search in front leaves a number in A), no architecture to dispatch, a result over
 * BPF_MAXINSNS, or (unless FORCE) no saving: the kernel's walks plus its per-instruction
 * JIT cost would not fall, as with small programs and with libseccomp's binary trees. */
int berth_seccomp_optimize(const struct sock_filter *in, size_t n, const uint32_t *arches, size_t n_arches,
                           unsigned int flags, struct sock_filter **out, size_t *n_out);

/* Run a program of that same subset on one input, as the kernel would; the verdict, or
 * 0 (SECCOMP_RET_KILL_THREAD) for an instruction outside the subset or a malformed
 * program. `*steps` (optional) gets the number of instructions executed. */
uint32_t berth_seccomp_run(const struct sock_filter *prog, size_t n, uint32_t arch, int32_t nr, uint64_t ip,
                           const uint64_t args[6], size_t *steps);

#endif
