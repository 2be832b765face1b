/* Linux security modules: AppArmor profiles and SELinux labels for the container process,
 * applied where the LSM is enabled, otherwise a warning (never silence). */
#ifndef BERTH_LINUX_LSM_H
#define BERTH_LINUX_LSM_H

#include <stdbool.h>

#include "base/error.h"
#include "oci/spec.h"

bool berth_lsm_apparmor_enabled(void);
bool berth_lsm_selinux_enabled(void);
/* Warn about the labels of p (and mountLabel) that this host cannot apply. */
void berth_lsm_warn_unsupported(const struct berth_spec_process *p, const char *mount_label);
/* Right before execve: ask the kernel to switch to p's AppArmor profile / SELinux label at
 * exec (a no-op for labels whose LSM is not enabled). */
int berth_lsm_set_exec_labels(const struct berth_spec_process *p, berth_error_t *err) BERTH_WUR;

#endif
