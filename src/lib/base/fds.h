/* Descriptors a process was given by whoever started it, and the ones it hands on. */
#ifndef BERTH_BASE_FDS_H
#define BERTH_BASE_FDS_H

#include <stddef.h>

/* Close every descriptor >= first except those in keep: close_range(2), or a walk of
 * /proc/self/fd on kernels without it (< 5.9), or close(2) up to RLIMIT_NOFILE without /proc.
 * Allocates nothing: safe in the child of a fork of a threaded process. -1 with errno set. */
int berth_fds_close_from(int first, const int *keep, size_t nkeep);

/* Descriptors passed by socket activation (sd_listen_fds(3)): LISTEN_FDS when LISTEN_PID is
 * this process, else 0. They are fds 3 .. 3+N-1. */
int berth_fds_listen_count(void);

#endif
