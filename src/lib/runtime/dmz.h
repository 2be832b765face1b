/* When `run` may leave the protected re-exec out (CVE-2019-5736) and hand the container's last
 * exec to berth-dmz (src/dmz/dmz.c) from a sealed memfd. Pure. */
#ifndef BERTH_RUNTIME_DMZ_H
#define BERTH_RUNTIME_DMZ_H

#include <stdbool.h>

#include "oci/spec.h"

/* true when the container process is alone in new pid and mount namespaces until it execs,
 * no createContainer/startContainer hook would run a program of the container's filesystem
 * from the runtime's text, no LSM exec label would land on the helper instead of the program,
 * no process of the container may hold CAP_SYS_PTRACE over the host's user namespace, a user
 * other than root has no permitted capability beyond its ambient ones (which the helper's exec
 * would drop), and the seccomp profile lets every syscall of the helper's path through
 * unconditionally (docs/design/speed-risks.md).
 * Otherwise *why says which (for the debug log). */
bool berth_dmz_fits(const berth_spec_t *spec, const char **why);

#endif
