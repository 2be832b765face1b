/* CVE-2019-5736: a process that enters a container must not run from a file the container
 * could open for writing through /proc/PID/exe. Re-exec from a read-only (detached
 * overlayfs) or sealed-memfd copy of ourselves. */
#ifndef BERTH_LINUX_SELFEXE_H
#define BERTH_LINUX_SELFEXE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"

enum berth_selfexe_method {
  BERTH_SELFEXE_AUTO,        /* overlay, else memfd */
  BERTH_SELFEXE_OVERLAY,     /* detached read-only overlayfs (needs CAP_SYS_ADMIN, Linux 6.13+) */
  BERTH_SELFEXE_MEMFD,       /* sealed memfd copy */
  BERTH_SELFEXE_MEMFD_FIRST, /* memfd, else overlay: for a process that outlives us and
                              * would pay the overlay's teardown when it execs (selfexe.c) */
};

/* true when /proc/self/exe is already protected: a memfd sealed against writes, or a
 * file on a read-only overlayfs mount (checked on the file itself, not an env marker) */
bool berth_selfexe_is_protected(void);
/* Re-exec the current program protected (execveat of the copy with argv/envp); returns
 * only on error. Callers check berth_selfexe_is_protected() first to avoid a loop. */
int berth_selfexe_reexec(char **argv, char **envp, berth_error_t *err) BERTH_WUR;
int berth_selfexe_reexec_with(enum berth_selfexe_method method, char **argv, char **envp,
                              berth_error_t *err) BERTH_WUR;
/* the protected copies themselves (O_CLOEXEC fds to execveat with AT_EMPTY_PATH) */
int berth_selfexe_overlay_fd(berth_error_t *err) BERTH_WUR;
int berth_selfexe_memfd(berth_error_t *err) BERTH_WUR;
/* a sealed memfd holding BLOB, a helper program to execveat (MFD_EXEC where the kernel
 * knows it): fails where vm.memfd_noexec forbids executing memfds */
int berth_selfexe_blob_memfd(const char *name, const unsigned char *blob, size_t len,
                             berth_error_t *err) BERTH_WUR;

#endif
