/* CVE-2019-5736: a process that enters a container must not run from a file the container
 * could open for writing through /proc/PID/exe. Re-exec from a read-only (detached
 * overlayfs) or sealed-memfd copy of ourselves. */
#ifndef BERTH_LINUX_SELFEXE_H
#define BERTH_LINUX_SELFEXE_H

#include <stdbool.h>

#include "base/error.h"

/* true when /proc/self/exe is already protected */
bool berth_selfexe_is_protected(void);
/* Re-exec the current program protected; returns only on error. */
int berth_selfexe_reexec(char **argv, char **envp, berth_error_t *err) BERTH_WUR;

#endif
