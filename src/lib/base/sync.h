/* A message channel between the runtime and the processes it forks (SOCK_SEQPACKET
 * socketpair). A child reports failure as a BERTH_SYNC_ERROR message and then _exits. */
#ifndef BERTH_BASE_SYNC_H
#define BERTH_BASE_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define BERTH_SYNC_MAX_DATA 8192

struct berth_sync_msg {
  uint32_t type;
  int32_t value;
  uint32_t len; /* bytes used in data (data is NUL-terminated) */
  char data[BERTH_SYNC_MAX_DATA + 1];
};

/* BERTH_SYNC_ERROR carries errno in value and the message in data */
#define BERTH_SYNC_ERROR 0xE7707u

int berth_sync_pair(int fds[2], berth_error_t *err) BERTH_WUR;
/* send a message, optionally with one fd (fd < 0: none) */
int berth_sync_send(int sock, uint32_t type, int32_t value, const void *data, size_t len, int fd,
                    berth_error_t *err) BERTH_WUR;
/* receive one message; *fd (if non-NULL) gets a passed fd or -1. A peer that closed
 * without a message is an error ("peer exited"). An ERROR message becomes *err. */
int berth_sync_recv(int sock, struct berth_sync_msg *msg, int *fd, berth_error_t *err) BERTH_WUR;
/* like berth_sync_recv, but the peer closing is not an error: returns 1 */
int berth_sync_recv_or_eof(int sock, struct berth_sync_msg *msg, int *fd, berth_error_t *err) BERTH_WUR;
/* A message without data or descriptor sent with write(2), and one received with read(2)
 * (none can carry a descriptor): for a process whose own seccomp filter may hand its
 * sendmsg/recvmsg to an agent that does not know it yet (runc's rule: notify may not take
 * write). A closed channel is an error. */
int berth_sync_write(int sock, uint32_t type, int32_t value, berth_error_t *err) BERTH_WUR;
int berth_sync_read(int sock, struct berth_sync_msg *msg, berth_error_t *err) BERTH_WUR;
/* receive and require a given type */
int berth_sync_expect(int sock, uint32_t type, struct berth_sync_msg *msg, int *fd,
                      berth_error_t *err) BERTH_WUR;
/* child side: report an error (consumes it); best effort */
void berth_sync_send_error(int sock, berth_error_t *err);

/* plain SCM_RIGHTS helpers for unix stream sockets (console socket) */
int berth_send_fd(int sock, int fd, const char *payload, berth_error_t *err) BERTH_WUR;
int berth_recv_fd(int sock, berth_error_t *err) BERTH_WUR;

#endif
