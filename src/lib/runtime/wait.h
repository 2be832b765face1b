/* `run` in the foreground: forward signals to the container, proxy its pty, and wait. */
#ifndef BERTH_RUNTIME_WAIT_H
#define BERTH_RUNTIME_WAIT_H

#include <signal.h>

#include "base/error.h"
#include "runtime/create.h"

struct berth_wait_ctx {
  sigset_t old_mask;
  int sigfd;
  int notify_fd; /* NOTIFY_SOCKET's socket until READY=1 is passed on (notify.h), else -1 (owned) */
};

/* Block the forwarded signals (before the container exists, so none is lost). */
int berth_wait_prepare(struct berth_wait_ctx *w, berth_error_t *err) BERTH_WUR;
/* Wait for the container process; returns its exit status (128+N when killed by N). */
int berth_wait_container(struct berth_wait_ctx *w, const struct berth_create_result *res,
                         berth_error_t *err) BERTH_WUR;
void berth_wait_release(struct berth_wait_ctx *w);

/* The signals a container process must start with: all unblocked, default dispositions. */
void berth_reset_signals(void);

#endif
