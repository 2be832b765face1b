/* Helpers shared by the files of runtime/ (not a public interface). */
#ifndef BERTH_RUNTIME_INTERNAL_H
#define BERTH_RUNTIME_INTERNAL_H

#include "base/error.h"
#include "base/sync.h"
#include "oci/spec.h"
#include "runtime/container.h"

/* connect to <dir>/start.sock (SOCK_SEQPACKET) */
int berth_start_socket_connect(const char *dir, berth_error_t *err) BERTH_WUR;
/* the config saved at create time (<dir>/config.json) */
int berth_container_load_spec(const struct berth_container *c, berth_spec_t **out,
                              berth_error_t *err) BERTH_WUR;

/* connect to a --console-socket (unix stream) */
int berth_console_socket_connect(const char *path, berth_error_t *err) BERTH_WUR;
/* write a pid file atomically (tmp + rename) */
int berth_write_pid_file(const char *path, pid_t pid, berth_error_t *err) BERTH_WUR;
/* A LISTENER message (msg) came on `conn` from the process of `pidfd`: take its seccomp notify
 * listener, hand it to linux.seccomp.listenerPath with the state, say LISTENER_DONE. */
int berth_container_take_listener(int conn, int pidfd, const struct berth_sync_msg *msg,
                                  const berth_spec_t *spec, struct berth_container *c,
                                  berth_error_t *err) BERTH_WUR;

#endif
