/* Creating, starting, signalling and deleting containers (the OCI lifecycle). */
#ifndef BERTH_RUNTIME_CREATE_H
#define BERTH_RUNTIME_CREATE_H

#include <stdbool.h>
#include <sys/types.h>

#include "base/error.h"
#include "oci/spec.h"
#include "runtime/container.h"

struct berth_cgroup_manager;

struct berth_create_opts {
  const char *root;
  const char *id;
  const char *bundle;         /* may be relative; NULL = cwd */
  const char *pid_file;       /* may be NULL */
  const char *console_socket; /* may be NULL */
  bool no_pivot;
  bool no_new_keyring;
  int listen_fds;    /* socket activation (LISTEN_FDS for us): fds 3 .. 3+N-1 pass into
                      * the container, whose process gets LISTEN_FDS=N, LISTEN_PID=1 */
  int preserve_fds;  /* the next N fds (after the listen ones) pass into the container */
  bool keep_console; /* `run` without --console-socket: return the pty master */
  int cgroup_kind;   /* enum berth_cgroup_kind: cgroupfs (0), systemd, disabled */
  bool rootless;     /* --rootless (auto: not root): cgroups are best effort */
  /* `run` not running from a protected copy (CVE-2019-5736): when the config fits
   * (runtime/dmz.h), the container process execs through this helper program (berth-dmz);
   * when it does not, create makes nothing and returns BERTH_CREATE_REEXEC, and the caller
   * re-executes itself from a protected copy. NULL when the caller is protected already. */
  const unsigned char *dmz;
  size_t dmz_len;
};

#define BERTH_CREATE_REEXEC (-2)

struct berth_create_result {
  pid_t pid;
  int pidfd;          /* pidfd of the container process (-1 if none) */
  int console_master; /* keep_console only, else -1 */
  bool dmz;           /* the helper is used: the caller stays the host's binary */
};

/* What one process knows about a container it just made: `run` starts, waits and deletes
 * without reading its state back. */
struct berth_container_handle {
  struct berth_container *c;
  berth_spec_t *spec;
  struct berth_cgroup_manager *cgroup;
};
void berth_container_handle_release(struct berth_container_handle *h);

/* keep: when non-NULL, receives the container, its config and cgroup. Returns 0, -1 with *err,
 * or BERTH_CREATE_REEXEC (only with o->dmz, nothing made, *err untouched). */
int berth_container_create(const struct berth_create_opts *o, struct berth_create_result *res,
                           struct berth_container_handle *keep, berth_error_t *err) BERTH_WUR;
/* notify: NULL to wait here for NOTIFY_SOCKET's READY=1 (notify.h), else it gets the socket
 * to watch (berth_wait_ctx.notify_fd) or -1 */
int berth_container_start_handle(struct berth_container_handle *h, int *notify, berth_error_t *err) BERTH_WUR;
int berth_container_delete_handle(struct berth_container_handle *h, bool force, berth_error_t *err) BERTH_WUR;

/* start: release a created container; runs poststart hooks. */
int berth_container_start(const char *root, const char *id, berth_error_t *err) BERTH_WUR;
/* kill: signal the container's init (or every process with all). */
int berth_container_kill(const char *root, const char *id, int sig, bool all, berth_error_t *err) BERTH_WUR;
/* delete: remove a stopped (or, with force, any) container; runs poststop hooks. */
int berth_container_delete(const char *root, const char *id, bool force, berth_error_t *err) BERTH_WUR;

/* Parse "KILL", "SIGKILL", "9" → signal number; -1 if unknown. */
int berth_signal_parse(const char *s);

#endif
