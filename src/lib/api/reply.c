/* Replies: JSON bodies, Docker's error shape ({"message": ...} with its status codes), chunked
 * streams from a job's pipe or a generator, and the hijack of attach and exec. Every response
 * carries Docker's headers (Api-Version, Docker-Experimental, Ostype, Server). */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/conn.h"
#include "base/cleanup.h"
#include "base/strutil.h"
#include "base/xalloc.h"

static void docker_headers(struct api_req *r, struct MHD_Response *resp)
{
  char v[16];
  snprintf(v, sizeof v, "1.%u", BERTH_API_VERSION_MAX);
  MHD_add_response_header(resp, "Api-Version", v);
  MHD_add_response_header(resp, "Docker-Experimental", "false");
  MHD_add_response_header(resp, "Ostype", "linux");
  MHD_add_response_header(resp, "Server", "berth/" BERTH_VERSION " (linux)");
  (void) r;
}

static enum MHD_Result queue(struct api_req *r, unsigned status, struct MHD_Response *resp)
{
  if (resp == NULL)
    return MHD_NO;
  docker_headers(r, resp);
  enum MHD_Result res = MHD_queue_response(r->mc, status, resp);
  MHD_destroy_response(resp);
  return res;
}

enum MHD_Result api_reply_raw(struct api_req *r, unsigned status, const char *ctype, const void *data,
                              size_t len)
{
  struct MHD_Response *resp = MHD_create_response_from_buffer(len, (void *) data, MHD_RESPMEM_MUST_COPY);
  if (resp && ctype)
    MHD_add_response_header(resp, "Content-Type", ctype);
  return queue(r, status, resp);
}

enum MHD_Result api_reply_json(struct api_req *r, unsigned status, json_t *body)
{
  char *text = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY);
  json_decref(body);
  if (text == NULL)
    return api_reply_error(r, 500, "cannot encode the response");
  size_t len = strlen(text);
  text = xrealloc(text, len + 2);
  text[len++] = '\n';
  struct MHD_Response *resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
  if (resp == NULL) {
    free(text);
    return MHD_NO;
  }
  MHD_add_response_header(resp, "Content-Type", "application/json");
  return queue(r, status, resp);
}

enum MHD_Result api_reply_error(struct api_req *r, unsigned status, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  char *msg = NULL;
  if (vasprintf(&msg, fmt, ap) < 0)
    msg = NULL;
  va_end(ap);
  json_t *o = json_pack("{s:s}", "message", msg ? msg : "error");
  if (o == NULL) /* a message that is not UTF-8 */
    o = json_pack("{s:s}", "message", "error (not UTF-8)");
  free(msg);
  return api_reply_json(r, status, o);
}

/* Docker's status codes from berth's messages: the engine's errors name what went wrong in
 * words ("no such container", "conflict", "is in use"), not in kinds */
unsigned api_status_of(const char *msg)
{
  static const char *const not_found[] = { "no such ", "not found", "does not exist", "unknown container" };
  static const char *const conflict[] = { "conflict",       "already in use",      "is in use",
                                          "already exists", "is running",          "is not running",
                                          "is paused",      "is not paused",       "is restarting",
                                          "cannot remove",  "you cannot",          "stop the container",
                                          "has containers", "has active endpoints" };
  if (msg == NULL)
    return 500;
  cleanup_free char *low = xstrdup(msg);
  for (char *p = low; *p; p++)
    *p = (char) (*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
  for (size_t i = 0; i < BERTH_N_ELEMENTS(not_found); i++)
    if (strstr(low, not_found[i]))
      return 404;
  for (size_t i = 0; i < BERTH_N_ELEMENTS(conflict); i++)
    if (strstr(low, conflict[i]))
      return 409;
  return 500;
}

enum MHD_Result api_reply_err_status(struct api_req *r, unsigned status, berth_error_t *err)
{
  cleanup_free char *msg = berth_error_steal_msg(err);
  return api_reply_error(r, status, "%s", msg ? msg : "unknown error");
}

enum MHD_Result api_reply_err(struct api_req *r, berth_error_t *err)
{
  return api_reply_err_status(r, api_status_of(*err ? (*err)->msg : NULL), err);
}

enum MHD_Result api_reply_empty(struct api_req *r, unsigned status)
{
  struct MHD_Response *resp = MHD_create_response_from_buffer(0, (void *) "", MHD_RESPMEM_PERSISTENT);
  return queue(r, status, resp);
}

bool api_client_gone(struct api_conn *c, int timeout_ms)
{
  struct pollfd pf = { .fd = c->fd, .events = POLLRDHUP };
  return poll(&pf, 1, timeout_ms) > 0 && (pf.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

/* ---- streams from a pipe ---- */
struct stream {
  struct api_conn *c;
  int fd;
  struct api_job job;
  bool kill_job;
  char *prefix;
  size_t prefix_len, prefix_off;
};

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
  struct stream *s = cls;
  (void) pos;
  if (s->prefix_off < s->prefix_len) {
    size_t n = s->prefix_len - s->prefix_off < max ? s->prefix_len - s->prefix_off : max;
    memcpy(buf, s->prefix + s->prefix_off, n);
    s->prefix_off += n;
    return (ssize_t) n;
  }
  for (;;) {
    struct pollfd pf[2] = { { .fd = s->fd, .events = POLLIN }, { .fd = s->c->fd, .events = POLLRDHUP } };
    if (poll(pf, 2, -1) < 0) {
      if (errno == EINTR)
        continue;
      return MHD_CONTENT_READER_END_WITH_ERROR;
    }
    if (pf[1].revents & (POLLRDHUP | POLLHUP | POLLERR))
      return MHD_CONTENT_READER_END_WITH_ERROR; /* the client left: the job is ended with the stream */
    if (pf[0].revents) {
      ssize_t n = read(s->fd, buf, max);
      if (n > 0)
        return n;
      if (n == 0)
        return MHD_CONTENT_READER_END_OF_STREAM;
      if (errno != EINTR && errno != EAGAIN)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    }
  }
}

static void stream_free(void *cls)
{
  struct stream *s = cls;
  close(s->fd);
  api_job_end(&s->job, s->kill_job);
  free(s->prefix);
  free(s);
}

enum MHD_Result api_reply_stream(struct api_req *r, unsigned status, int fd, struct api_job *job,
                                 const struct api_stream_opts *so)
{
  struct stream *s = xcalloc(1, sizeof *s);
  s->c = r->c;
  s->fd = fd;
  s->job = job ? *job : (struct api_job){ .pid = -1, .sock = -1 };
  if (job)
    *job = (struct api_job){ .pid = -1, .sock = -1 };
  s->kill_job = so->kill_job;
  if (so->prefix_len) {
    s->prefix = xmalloc(so->prefix_len);
    memcpy(s->prefix, so->prefix, so->prefix_len);
    s->prefix_len = so->prefix_len;
  }
  struct MHD_Response *resp =
    MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, stream_read, s, stream_free);
  if (resp == NULL) {
    stream_free(s);
    return MHD_NO;
  }
  MHD_add_response_header(resp, "Content-Type", so->ctype ? so->ctype : "application/json");
  if (so->extra_header)
    MHD_add_response_header(resp, so->extra_header, so->extra_value);
  return queue(r, status, resp);
}

/* ---- streams from a generator ---- */
struct gen {
  api_gen_fn *next;
  void *data;
  void (*free_fn)(void *data);
};

static ssize_t gen_read(void *cls, uint64_t pos, char *buf, size_t max)
{
  struct gen *g = cls;
  (void) pos;
  for (;;) {
    ssize_t n = g->next(g->data, buf, max);
    if (n > 0)
      return n;
    if (n == -1)
      return MHD_CONTENT_READER_END_OF_STREAM;
    if (n < -1)
      return MHD_CONTENT_READER_END_WITH_ERROR;
  }
}

static void gen_free(void *cls)
{
  struct gen *g = cls;
  if (g->free_fn)
    g->free_fn(g->data);
  free(g);
}

enum MHD_Result api_reply_gen(struct api_req *r, unsigned status, const char *ctype, api_gen_fn *next,
                              void *data, void (*free_fn)(void *data))
{
  struct gen *g = xcalloc(1, sizeof *g);
  *g = (struct gen){ next, data, free_fn };
  struct MHD_Response *resp =
    MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, gen_read, g, gen_free);
  if (resp == NULL) {
    gen_free(g);
    return MHD_NO;
  }
  MHD_add_response_header(resp, "Content-Type", ctype);
  return queue(r, status, resp);
}

/* ---- the hijack ---- */
struct hijack {
  struct api_conn *c;
  api_hijack_fn *fn;
  void *data;
  void (*free_fn)(void *data);
};

static void on_upgrade(void *cls, struct MHD_Connection *mc, void *con_cls, const char *extra_in,
                       size_t extra_in_size, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
  struct hijack *h = cls;
  (void) mc;
  (void) con_cls;
  h->fn(h->data, sock, extra_in, extra_in_size);
  MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
  h->c->closed = true;
  if (h->free_fn)
    h->free_fn(h->data);
  free(h);
}

static enum MHD_Result upgrade(struct api_req *r, const char *proto, const char *hname, const char *hvalue,
                               api_hijack_fn *fn, void *data, void (*free_fn)(void *data))
{
  struct hijack *h = xcalloc(1, sizeof *h);
  *h = (struct hijack){ r->c, fn, data, free_fn };
  struct MHD_Response *resp = MHD_create_response_for_upgrade(on_upgrade, h);
  if (resp == NULL) {
    if (free_fn)
      free_fn(data);
    free(h);
    return MHD_NO;
  }
  MHD_add_response_header(resp, "Upgrade", proto);
  MHD_add_response_header(resp, hname, hvalue);
  return queue(r, 101, resp);
}

enum MHD_Result api_reply_hijack(struct api_req *r, const char *ctype, api_hijack_fn *fn, void *data,
                                 void (*free_fn)(void *data))
{
  const char *up = api_header(r, "Upgrade");
  if (up == NULL || strcasecmp(up, "tcp") != 0) {
    if (free_fn)
      free_fn(data);
    return api_reply_error(r, 400,
                           "%s needs a hijacked connection: send `Connection: Upgrade` and "
                           "`Upgrade: tcp`",
                           r->m.name);
  }
  return upgrade(r, "tcp", "Content-Type", ctype, fn, data, free_fn);
}

enum MHD_Result api_reply_ws(struct api_req *r, const char *accept, api_hijack_fn *fn, void *data,
                             void (*free_fn)(void *data))
{
  return upgrade(r, "websocket", "Sec-WebSocket-Accept", accept, fn, data, free_fn);
}
