/* systemd's sd_notify through the container, as runc does it. With NOTIFY_SOCKET in the
 * runtime's environment, create binds <state dir>/notify on /run/notify in the container
 * (read-only, nosuid, nodev, noexec) and gives the process NOTIFY_SOCKET=/run/notify/notify.sock;
 * start listens there and passes the first READY=1 on to the host's socket with
 * MAINPID=<the container process's pid>, then stops listening. Nothing else the container
 * sends reaches the host (it could name pids or descriptors of its own). Internal to runtime/. */
#ifndef BERTH_RUNTIME_NOTIFY_H
#define BERTH_RUNTIME_NOTIFY_H

#include <stdbool.h>
#include <sys/types.h>

#include "base/error.h"
#include "oci/spec.h"

/* the runtime's NOTIFY_SOCKET, or NULL when unset or empty */
const char *berth_notify_host(void);
/* create: *spec again with the socket's directory bound and NOTIFY_SOCKET set (its text, what
 * the state dir keeps, stays the bundle's); makes <state_dir>/notify */
int berth_notify_spec(berth_spec_t **spec, const char *state_dir, berth_error_t *err) BERTH_WUR;
/* start: the socket, bound anew and writable by any user of the container; -1 without error
 * when the container was created without it (or NOTIFY_SOCKET is unset now) */
int berth_notify_listen(const char *state_dir, berth_error_t *err) BERTH_WUR;
/* Datagrams are waiting on sock: read every one queued, until READY=1, then tell the host
 * (READY=1, MAINPID=pid). Returns 1 once that is done, 0 to keep listening (none was READY=1),
 * -1 with *err. All of them: the container may have sent STATUS=… and READY=1 and exited before
 * the caller's poll, which then sees the exit too and stops listening. */
int berth_notify_read(int sock, pid_t pid, berth_error_t *err) BERTH_WUR;
/* Until READY=1 was passed on or the process of pidfd exited. */
int berth_notify_wait(int sock, pid_t pid, int pidfd, berth_error_t *err) BERTH_WUR;

#endif
