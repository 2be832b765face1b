/* /dev/console: the container's pty peer bind-mounted over a file we checked. */
#ifndef BERTH_LINUX_CONSOLE_H
#define BERTH_LINUX_CONSOLE_H

#include "base/error.h"

/* After pivot_root: bind the pty peer `slave` onto /dev/console. The target must be a
 * regular file or a char device (created empty when missing); a symlink or anything else
 * is refused, so a malicious rootfs cannot redirect the mount (CVE-2025-31133 class). */
int berth_console_bind(int slave, berth_error_t *err) BERTH_WUR;

#endif
