/* POST /containers/{id}/wait?condition=not-running|next-exit|removed.
 *
 * The headers go out at once: the docker CLI sends the wait before the start and goes on when
 * the headers arrive, so the wait must be in place by then. The body follows when the condition
 * holds: {"StatusCode": N, "Error": null}. A running container is waited for on its monitor's
 * attach socket (the EXIT message, sent once the exit is recorded and, with --rm, the container
 * removed); otherwise the row is read again every 50 ms.
 *
 * next-exit and the start racing it: the CLI's wait and start travel on two connections, so
 * the start may be served first, and a short container may even have exited before the wait
 * reads the row. An exit counts as the next one when it finished after the exit the row showed
 * when the wait began, or when its run started less than a second before the wait arrived. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api/handlers/handlers_internal.h"
#include "base/cleanup.h"
#include "base/xalloc.h"
#include "engine/monitor/monitor.h"

enum cond { NOT_RUNNING, NEXT_EXIT, REMOVED };

struct waiting {
  struct api_conn *conn;
  berth_ctr_id_t id;
  enum cond cond;
  int64_t baseline; /* finished_at when the wait began */
  int64_t arrived;  /* unix ns of the request */
  int64_t code;     /* the exit code seen last */
  bool exited;      /* an exit that counts was seen */
  bool sent_space;  /* the first byte (white space) has gone out with the headers */
  bool done;
  char *error; /* Error.Message (NULL: none) */
  int listen;  /* the start's hand-over (a container not running when the wait began) */
  char *path;
  int64_t gone_since; /* monotonic ms the row was first found gone without a known exit */
};

static void waiting_free(void *p)
{
  struct waiting *w = p;
  if (w->listen >= 0)
    close(w->listen);
  if (w->path)
    unlink(w->path);
  free(w->path);
  free(w->error);
  free(w);
}

/* the running container's next EXIT through its monitor; -1 when the monitor went away or the
 * client did */
static int64_t exit_on(struct waiting *w, struct berth_ctr_attach a)
{
  int64_t code = -1;
  for (;;) {
    struct pollfd pf[2] = { { .fd = a.fd, .events = POLLIN }, { .fd = w->conn->fd, .events = POLLRDHUP } };
    if (poll(pf, 2, -1) < 0 && errno != EINTR)
      break;
    if (pf[1].revents & (POLLRDHUP | POLLHUP | POLLERR)) {
      w->done = true;
      break;
    }
    if (!(pf[0].revents & (POLLIN | POLLHUP | POLLERR)))
      continue;
    char msg[BERTH_ATTACH_MSG_MAX + 1];
    ssize_t n = recv(a.fd, msg, sizeof msg - 1, 0);
    if (n < 0 && (errno == EINTR || errno == ECONNRESET))
      continue;
    if (n <= 0)
      break;
    msg[n] = '\0';
    if (msg[0] == BERTH_ATTACH_EXIT) {
      code = atoll(msg + 1);
      break;
    }
  }
  berth_ctr_attach_close(&a);
  if (code >= 0)
    api_exit_note(w->conn->e, w->id, code);
  return code;
}

static int64_t exit_message(struct waiting *w, const struct berth_ctr *c)
{
  struct berth_ctr_attach a = { .fd = -1 };
  berth_error_t err = NULL;
  if (berth_ctr_attach_connect(c, 0, &a, &err) < 0) {
    berth_error_release(&err);
    return -1;
  }
  return exit_on(w, a);
}

/* the start handed us a connection made before the container ran */
static void handed_over(struct waiting *w)
{
  struct pollfd pf = { .fd = w->listen, .events = POLLIN };
  if (w->listen < 0 || poll(&pf, 1, 0) <= 0)
    return;
  struct berth_ctr_attach a = { .fd = api_waiter_accept(w->listen) };
  if (a.fd < 0)
    return;
  int64_t code = exit_on(w, a);
  if (code >= 0)
    w->code = code, w->exited = true;
}

/* one look at the container: true when the condition holds */
static bool check(struct waiting *w, struct berth_engine *e)
{
  struct berth_ctr c;
  berth_error_t err = NULL;
  handed_over(w);
  if (w->exited && w->cond == NEXT_EXIT)
    return true;
  if (berth_ctr_get(e, w->id, &c, &err) < 0) { /* gone */
    berth_error_release(&err);
    if (!w->exited && api_exit_read(e, w->id, &w->code)) /* an attach saw the exit */
      w->exited = true;
    if (!w->exited && w->gone_since == 0)
      w->gone_since = berth_mono_ms();
    if (!w->exited && berth_mono_ms() - w->gone_since < 2000) /* the note may be on its way */
      return false;
    if (!w->exited && w->cond != REMOVED)
      w->error = xstrdup("the container was removed");
    return true;
  }
  bool holds = false;
  if (berth_ctr_state_kept(c.state)) {
    int64_t code = exit_message(w, &c);
    if (code >= 0) {
      w->code = code;
      w->exited = true;
      holds = w->cond != REMOVED;
    }
  } else if (c.state != BERTH_CTR_REMOVING) {
    bool recent = c.row.started_at >= w->arrived - 1000000000 && c.row.finished_at >= c.row.started_at;
    bool next = c.row.finished_at > w->baseline || (recent && c.row.finished_at > 0);
    if (w->cond == NOT_RUNNING || next) {
      w->code = c.row.exit_code;
      w->exited = true;
    }
    holds = w->cond == NOT_RUNNING || (w->cond == NEXT_EXIT && next);
  }
  berth_ctr_release(&c);
  return holds;
}

static ssize_t wait_next(void *data, char *buf, size_t max)
{
  struct waiting *w = data;
  if (!w->sent_space) { /* JSON may begin with white space: the headers go out now */
    w->sent_space = true;
    buf[0] = ' ';
    return 1;
  }
  if (w->done)
    return -1;
  while (!w->done) {
    if (check(w, w->conn->e)) {
      json_t *o = json_pack("{s:I, s:o}", "StatusCode", (json_int_t) w->code, "Error",
                            w->error ? json_pack("{s:s}", "Message", w->error) : json_null());
      char *text = json_dumps(o, JSON_COMPACT);
      json_decref(o);
      size_t n = snprintf(buf, max, "%s\n", text ? text : "{}");
      free(text);
      w->done = true;
      return (ssize_t) (n < max ? n : max);
    }
    if (w->done || api_client_gone(w->conn, 50))
      return -2;
  }
  return -1;
}

enum MHD_Result api_h_CTR_WAIT(struct api_req *r)
{
  cleanup_error berth_error_t err = NULL;
  struct berth_engine *e = NULL;
  struct berth_ctr c;
  const char *cond = api_query(r, "condition");
  enum cond k = NOT_RUNNING;
  if (cond && strcmp(cond, "next-exit") == 0)
    k = NEXT_EXIT;
  else if (cond && strcmp(cond, "removed") == 0)
    k = REMOVED;
  else if (cond && cond[0] && strcmp(cond, "not-running") != 0)
    return api_reply_error(r, 400, "invalid condition `%s` (not-running, next-exit, removed)", cond);
  if (api_ctr_get(r, &e, &c, &err) < 0)
    return api_reply_err(r, &err);
  struct waiting *w = xcalloc(1, sizeof *w);
  w->conn = r->c;
  w->cond = k;
  w->baseline = c.row.finished_at;
  w->arrived = r->started;
  snprintf(w->id, sizeof w->id, "%s", c.row.id);
  w->listen = -1;
  if (!berth_ctr_state_kept(c.state) && k != NOT_RUNNING)
    w->listen = api_waiter_listen(e, c.row.id, 0, &w->path);
  berth_ctr_release(&c);
  return api_reply_gen(r, 200, "application/json", wait_next, w, waiting_free);
}
