/* Containers: the client side of the monitor's attach socket, and waiting for a monitor. */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/clock.h"
#include "base/unixsock.h"
#include "base/xalloc.h"
#include "engine/containers/containers_internal.h"
#include "engine/monitor/monitor.h"

int ctr_attach_open(const char *rundir, berth_error_t *err)
{
  /* a run root too long for sun_path goes through its descriptor (base/unixsock.h), as the
   * monitor binds it */
  cleanup_free char *path = xasprintf("%s/%s", rundir, BERTH_MON_ATTACH_SOCK);
  return berth_unix_connect(path, SOCK_SEQPACKET, err);
}

int berth_ctr_attach_connect(const struct berth_ctr *c, unsigned want, struct berth_ctr_attach *out,
                             berth_error_t *err)
{
  out->fd = -1;
  cleanup_close int fd = ctr_attach_open(c->rundir, err);
  if (fd < 0)
    return berth_error_wrap(err, "attach to container %.12s", c->row.id);
  struct berth_ctr_attach a = { .fd = fd };
  char flags = (char) want;
  if (berth_ctr_attach_send(&a, BERTH_ATTACH_HELLO, &flags, 1, err) < 0)
    return -1;
  out->fd = steal_fd(fd);
  return 0;
}

void berth_ctr_attach_close(struct berth_ctr_attach *a)
{
  if (a && a->fd >= 0)
    close(a->fd);
  if (a)
    a->fd = -1;
}

int berth_ctr_attach_send(struct berth_ctr_attach *a, char type, const void *data, size_t len,
                          berth_error_t *err)
{
  char msg[BERTH_ATTACH_MSG_MAX];
  if (len > sizeof msg - 1)
    len = sizeof msg - 1;
  msg[0] = type;
  if (len)
    memcpy(msg + 1, data, len);
  while (send(a->fd, msg, len + 1, MSG_NOSIGNAL) < 0)
    if (errno != EINTR)
      return BERTH_ERR_ERRNO(err, "send to the container's monitor");
  return 0;
}

/* a message on a recording connection: an EXITED is recorded here; false when it ended */
static bool recording_message(struct berth_engine *e, const struct berth_db_container *row,
                              struct berth_ctr_attach *a)
{
  char msg[BERTH_ATTACH_MSG_MAX + 1];
  ssize_t n = recv(a->fd, msg, sizeof msg - 1, MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EINTR || errno == ECONNRESET))
    return true;
  if (n <= 0)
    return false;
  msg[n] = '\0';
  berth_error_t ignore = NULL; /* the monitor's handler tries again and reports */
  if (msg[0] == BERTH_ATTACH_EXITED && berth_ctr_attach_record(e, a, row->id, msg + 1, &ignore) < 0)
    berth_error_release(&ignore);
  return msg[0] != BERTH_ATTACH_EXIT;
}

int ctr_wait_monitor_recording(struct berth_engine *e, const struct berth_db_container *row,
                               struct berth_ctr_attach *a, int64_t timeout_ms)
{
  cleanup_close int pfd = row->monitor_pid > 0 ? pidfd_open((pid_t) row->monitor_pid, 0) : -1;
  if (pfd < 0 || !berth_ctr_monitor_alive(row)) /* checked after pidfd_open: not a reused pid */
    return 1;
  int64_t until = timeout_ms < 0 ? 0 : berth_mono_ms() + timeout_ms;
  for (;;) {
    int left = timeout_ms < 0 ? -1 : (int) (until - berth_mono_ms());
    if (timeout_ms >= 0 && left <= 0)
      return 0;
    struct pollfd p[2] = { { .fd = pfd, .events = POLLIN }, { .fd = a ? a->fd : -1, .events = POLLIN } };
    int r = poll(p, 2, left);
    if (r < 0 && errno != EINTR)
      return 1;
    if (r > 0 && p[0].revents)
      return 1;
    if (r > 0 && p[1].revents && !recording_message(e, row, a))
      berth_ctr_attach_close(a); /* the monitor closed it: its end follows */
  }
}

/* 1 the monitor of row is gone, 0 still there after timeout_ms (< 0: no limit) */
int ctr_wait_monitor(const struct berth_db_container *row, int64_t timeout_ms)
{
  return ctr_wait_monitor_recording(NULL, row, NULL, timeout_ms);
}

/* Wait for the next EXIT of a running container: its code (>= 0), or -1 when the monitor closed
 * without one (it had already recorded the exit, or it died). */
int ctr_wait_exit_message(struct berth_ctr_attach *a)
{
  char msg[BERTH_ATTACH_MSG_MAX + 1];
  for (;;) {
    ssize_t n = recv(a->fd, msg, sizeof msg - 1, 0);
    if (n < 0 && (errno == EINTR || errno == ECONNRESET)) /* ECONNRESET: reported before what is queued */
      continue;
    if (n <= 0)
      return -1;
    msg[n] = '\0';
    if (msg[0] == BERTH_ATTACH_EXIT)
      return atoi(msg + 1);
  }
}
