/* Name <-> number tables of the runtime spec (pure; used by the parser, the CLI and
 * `features`). Each lookup returns -1 for an unknown name. */
#ifndef BERTH_OCI_NAMES_H
#define BERTH_OCI_NAMES_H

#include <stddef.h>
#include <stdint.h>

/* "CAP_SYS_ADMIN" (also accepted without the CAP_ prefix by the CLI helpers only) */
int berth_cap_from_name(const char *name);
const char *berth_cap_name(int cap); /* NULL if unknown */
int berth_cap_last(void);            /* highest capability number known */

int berth_rlimit_from_name(const char *name); /* "RLIMIT_NOFILE" */
const char *berth_rlimit_name(int resource);

/* seccomp: actions ("SCMP_ACT_ERRNO" -> SCMP_ACT_ERRNO(0) base value), architectures
 * ("SCMP_ARCH_X86_64" -> SCMP_ARCH_X86_64), operators ("SCMP_CMP_EQ"), flags
 * ("SECCOMP_FILTER_FLAG_LOG" -> bit) */
int berth_seccomp_action_from_name(const char *name, uint32_t *action);
int berth_seccomp_arch_from_name(const char *name, uint32_t *arch);
int berth_seccomp_op_from_name(const char *name, int *op);
int berth_seccomp_flag_from_name(const char *name, unsigned int *flag);

/* lists for `features` (NULL-terminated, static) */
extern const char *const berth_cap_names[];
extern const char *const berth_seccomp_action_names[];
extern const char *const berth_seccomp_arch_names[];
extern const char *const berth_seccomp_op_names[];
extern const char *const berth_seccomp_flag_names[];
extern const char *const berth_mount_option_names[];

#endif
