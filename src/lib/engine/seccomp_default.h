/* Seccomp profiles in Docker's format, held in our own representation, and rendered as a
 * runtime-spec linux.seccomp object for one container.
 *
 * A profile is a list of syscall groups, each with conditions: the capabilities it needs
 * (includes.caps: all of them in the container's bounding set) or that cancel it
 * (excludes.caps: any of them), the architectures (Go names: "amd64", "arm64", ...), a minimum
 * kernel, and argument conditions that stay in the rule. berth_seccomp_profile_render resolves
 * the conditions against the container's final capability set and architecture, so the JSON
 * holds only unconditional rules (what Docker hands to runc).
 *
 * Docker's default profile (moby profiles/seccomp/default.json) is compiled in as data
 * (berth_seccomp_default_profile); a `--security-opt seccomp=<file>` profile is parsed into the
 * same representation by berth_seccomp_profile_parse and rendered by the same resolver.
 *
 * ENOSYS for syscalls newer than the profile: a program must be able to tell "the kernel does
 * not have this syscall" (ENOSYS: fall back, as glibc does for clone3, fchmodat2, ...) from
 * "the profile refuses it" (EPERM). runc patches a stub into the BPF program; berth instead
 * stays within the OCI format: for each architecture of the filter, the newest syscall number
 * the profile names (any group, conditional or not) is the profile's horizon, and every syscall
 * libseccomp knows above it that the profile does not name gets one more rule, action
 * SCMP_ACT_ERRNO with errnoRet 38 (ENOSYS). Only when the default action refuses (not ALLOW or
 * LOG). Syscalls newer than libseccomp's own table cannot be named in the OCI format and keep
 * the default action. */
#ifndef BERTH_ENGINE_SECCOMP_DEFAULT_H
#define BERTH_ENGINE_SECCOMP_DEFAULT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

/* one argument condition (kept in the rendered rule) */
struct berth_seccomp_cond {
  unsigned int index; /* 0..5 */
  uint64_t value;
  uint64_t value_two;
  const char *op; /* "SCMP_CMP_EQ", "SCMP_CMP_MASKED_EQ", ... */
};

/* includes / excludes of a group */
struct berth_seccomp_filter {
  uint64_t caps;                 /* bitmask of CAP_* numbers */
  const char *const *arches;     /* Go architecture names, NULL-terminated; NULL: none */
  unsigned int min_kernel_major; /* 0.0: none */
  unsigned int min_kernel_minor;
};

struct berth_seccomp_group {
  const char *const *names; /* NULL-terminated, at least one */
  const char *action;       /* "SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", ... */
  int errno_ret;            /* -1: none */
  const struct berth_seccomp_cond *args;
  size_t n_args;
  struct berth_seccomp_filter includes, excludes;
  const char *comment; /* may be NULL */
};

struct berth_seccomp_archmap {
  const char *arch;       /* "SCMP_ARCH_X86_64" */
  const char *const *sub; /* NULL-terminated sub-architectures; NULL: none */
};

struct berth_seccomp_profile {
  const char *default_action;
  int default_errno_ret; /* -1: none */
  const struct berth_seccomp_archmap *arch_map;
  size_t n_arch_map;
  const char *const *architectures;              /* a file's legacy "architectures" list (NULL: none) */
  const char *const *flags;                      /* "SECCOMP_FILTER_FLAG_*" (NULL: none) */
  const char *listener_path, *listener_metadata; /* NULL: none */
  const struct berth_seccomp_group *groups;
  size_t n_groups;
  void *owned; /* storage of a parsed profile (NULL for the built-in one) */
};

/* what the conditions are resolved against */
struct berth_seccomp_target {
  uint64_t caps;                           /* the container's bounding set */
  const char *arch;                        /* Go name ("amd64"); NULL: the build's native architecture */
  unsigned int kernel_major, kernel_minor; /* for minKernel; 0.0: assume a new kernel */
  bool no_enosys;                          /* leave out the ENOSYS rules (tests, comparisons with Docker) */
};

/* Docker's default profile (static; never freed). */
const struct berth_seccomp_profile *berth_seccomp_default_profile(void);

/* Parse a profile in Docker's format (defaultAction, defaultErrnoRet, archMap or architectures,
 * syscalls[] with names or name, action, errnoRet, args, includes, excludes, comment; flags,
 * listenerPath, listenerMetadata). Errors name `file` and the JSON path:
 * "profile.json: syscalls[3].includes.caps[0]: unknown capability \"CAP_FOO\"". */
int berth_seccomp_profile_parse(const char *text, size_t len, const char *file,
                                struct berth_seccomp_profile **out, berth_error_t *err) BERTH_WUR;
void berth_seccomp_profile_free(struct berth_seccomp_profile *p);

/* The linux.seccomp object for the target (new reference): defaultAction(+defaultErrnoRet),
 * architectures (the archMap entry of the target's architecture: it and its sub-architectures),
 * flags/listener as given, one rule per group whose conditions hold (names, action, errnoRet,
 * args), then the ENOSYS rule (see above). Fails only for an unknown target architecture. */
json_t *berth_seccomp_profile_render(const struct berth_seccomp_profile *p,
                                     const struct berth_seccomp_target *t, berth_error_t *err) BERTH_WUR;

/* The build's native architecture as a Go name ("amd64", "arm64", ...). */
const char *berth_seccomp_native_arch(void);

#endif
