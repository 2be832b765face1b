/* One connection, one process: libmicrohttpd parses the requests of the socket the service
 * accepted (no listening socket of its own, no thread: MHD_run_wait in this process's loop), and
 * each request is routed, its body gathered (JSON, capped) or streamed to a job (tar), and
 * handed to its handler. The connection ends when the client closes it, after a request's
 * headers took too long (slowloris) or a keep-alive stayed idle, or after a hijack. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/conn.h"
#include "base/cleanup.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/strutil.h"
#include "base/xalloc.h"

int64_t api_now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

const char *api_query(struct api_req *r, const char *key)
{
  return MHD_lookup_connection_value(r->mc, MHD_GET_ARGUMENT_KIND, key);
}

bool api_query_bool(struct api_req *r, const char *key, bool dflt)
{
  return berth_api_query_bool(api_query(r, key), dflt);
}

int api_query_int(struct api_req *r, const char *key, int64_t dflt, int64_t *out, berth_error_t *err)
{
  const char *v = api_query(r, key);
  *out = dflt;
  if (v == NULL || v[0] == '\0')
    return 0;
  if (berth_parse_i64(v, out) < 0)
    return BERTH_ERR(err, "invalid value for `%s`: `%s` is not an integer", key, v);
  return 0;
}

const char *api_header(struct api_req *r, const char *key)
{
  return MHD_lookup_connection_value(r->mc, MHD_HEADER_KIND, key);
}

int api_engine(struct api_req *r, struct berth_engine **e, berth_error_t *err)
{
  if (r->c->e == NULL && berth_engine_open(&r->c->o->engine, &r->c->e, err) < 0)
    return -1;
  *e = r->c->e;
  return 0;
}

json_t *api_body(struct api_req *r, berth_error_t *err)
{
  if (r->body.len == 0)
    return json_object();
  json_error_t je;
  json_t *v = json_loadb(r->body.buf, r->body.len, JSON_REJECT_DUPLICATES, &je);
  if (v == NULL)
    BERTH_ERR(err, "invalid JSON body: line %d, column %d: %s", je.line, je.column, je.text);
  return v;
}

static void req_free(struct api_req *r)
{
  if (r == NULL)
    return;
  if (r->upload_fd >= 0)
    close(r->upload_fd);
  api_job_end(&r->job, true);
  if (r->data_free)
    r->data_free(r->data);
  berth_strbuf_release(&r->body);
  free(r->method);
  free(r->url);
  free(r);
}

static struct api_req *req_new(struct api_conn *c, struct MHD_Connection *mc, const char *url,
                               const char *method)
{
  struct api_req *r = xcalloc(1, sizeof *r);
  r->c = c;
  r->mc = mc;
  r->method = xstrdup(method);
  r->url = xstrdup(url);
  r->upload_fd = -1;
  r->job.pid = -1;
  r->job.sock = -1;
  r->started = api_now_ns();
  berth_api_route(method, url, &r->m);
  r->version = r->m.version ? r->m.version : BERTH_API_VERSION_MAX;
  return r;
}

/* the first call, at the headers: what can be refused before the body, and a streamed body's job */
static void begin(struct api_req *r)
{
  if (r->m.bad_version || r->m.route < 0 || (r->m.flags & BERTH_API_UNSUPPORTED))
    return; /* answered at the end (the body is read and dropped) */
  const char *cl = api_header(r, "Content-Length");
  uint64_t len = 0;
  if (!(r->m.flags & BERTH_API_BODY_STREAM) && cl && berth_parse_u64(cl, &len) == 0 &&
      len > BERTH_API_MAX_BODY)
    r->too_large = true;
  api_begin_fn *b = api_begin_of(r->m.route);
  cleanup_error berth_error_t err = NULL;
  if (b && b(r, &err) < 0) {
    if (r->data_free)
      r->data_free(r->data);
    r->upload_failed = true;
    r->data_free = free;
    r->data = berth_error_steal_msg(&err);
  }
}

static void take_upload(struct api_req *r, const char *data, size_t len)
{
  r->c->last_upload = berth_mono_ms();
  if (r->upload_fd >= 0) {
    if (berth_write_all(r->upload_fd, data, len) < 0) { /* the job ended: it says why at the end */
      close(r->upload_fd);
      r->upload_fd = -1;
    }
    return;
  }
  if (r->too_large || r->upload_failed || (r->m.flags & BERTH_API_BODY_STREAM))
    return;
  if (r->body.len + len > BERTH_API_MAX_BODY) {
    r->too_large = true;
    berth_strbuf_release(&r->body);
    return;
  }
  berth_strbuf_append(&r->body, data, len);
}

static enum MHD_Result finish(struct api_req *r)
{
  MHD_set_connection_option(r->mc, MHD_CONNECTION_OPTION_TIMEOUT, 0u); /* handlers may take long */
  berth_log_debug("api: %s %s (%s)", r->method, r->url, r->m.name);
  if (r->upload_fd >= 0) {
    close(r->upload_fd);
    r->upload_fd = -1;
  }
  if (r->m.bad_version)
    return api_reply_error(r, 400, "client version %u is not supported: berth serves API 1.%u to 1.%u",
                           r->m.version, BERTH_API_VERSION_MIN, BERTH_API_VERSION_MAX);
  if (r->m.route < 0)
    return api_reply_error(r, 404, "page not found: %s %s", r->method, r->url);
  if (r->m.flags & BERTH_API_UNSUPPORTED) /* the endpoint as the client asked for it */
    return api_reply_error(r, 501, "%s %s is not supported by berth", r->method, r->url);
  if (r->too_large)
    return api_reply_error(r, 413, "request body too large (at most %u bytes)", BERTH_API_MAX_BODY);
  if (r->upload_failed && r->job.pid < 0)
    return api_reply_error(r, r->upload_status ? r->upload_status : api_status_of(r->data), "%s",
                           (const char *) r->data);
  return api_dispatch(r);
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *mc, const char *url, const char *method,
                                 const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
  struct api_conn *c = cls;
  struct api_req *r = *con_cls;
  (void) version;
  if (r == NULL) {
    r = req_new(c, mc, url, method);
    *con_cls = r;
    c->in_request = true;
    c->uploading = true;
    c->last_upload = berth_mono_ms();
    begin(r);
    return MHD_YES;
  }
  if (*upload_size > 0) {
    take_upload(r, upload, *upload_size);
    *upload_size = 0;
    return MHD_YES;
  }
  c->uploading = false;
  return finish(r);
}

static void on_completed(void *cls, struct MHD_Connection *mc, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
  struct api_conn *c = cls;
  (void) mc;
  (void) toe;
  req_free(*con_cls);
  *con_cls = NULL;
  c->in_request = false;
  c->uploading = false;
  c->idle_since = berth_mono_ms();
}

static void on_connection(void *cls, struct MHD_Connection *mc, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
  struct api_conn *c = cls;
  (void) mc;
  (void) socket_context;
  if (toe == MHD_CONNECTION_NOTIFY_CLOSED)
    c->closed = true;
}

/* libmicrohttpd's own messages: fmt is its format string, not ours */
__attribute__((format(printf, 2, 0))) static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
  (void) cls;
  char buf[512];
  vsnprintf(buf, sizeof buf, fmt, ap);
  buf[strcspn(buf, "\n")] = '\0';
  berth_log_debug("api: http: %s", buf);
}

/* the connection has been quiet too long: between requests, or while a request's headers or
 * body arrive */
static bool overdue(struct api_conn *c, int64_t now, unsigned deadline)
{
  if (!c->in_request)
    return now - c->idle_since > (int64_t) deadline * 1000;
  return c->uploading && now - c->last_upload > (int64_t) deadline * 1000;
}

int api_conn_serve(const struct berth_api_opts *o, int fd, const struct sockaddr *sa, socklen_t len)
{
  signal(SIGPIPE, SIG_IGN);
  signal(SIGCHLD, SIG_DFL);
  struct api_conn c = { .o = o, .fd = fd, .idle_since = berth_mono_ms() };
  unsigned deadline = o->request_deadline ? o->request_deadline : BERTH_API_REQUEST_DEADLINE;
  cleanup_error berth_error_t err = NULL;
  if (berth_mhd_load(&err) < 0) { /* no HTTP library: answer once, by hand, with why */
    berth_log_error("api: %s", err->msg);
    json_t *j = json_pack("{s:s}", "message", err->msg);
    cleanup_free char *body = j ? json_dumps(j, 0) : NULL;
    json_decref(j);
    if (body == NULL)
      body = xstrdup("{}");
    cleanup_free char *resp =
      xasprintf("HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\n"
                "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                strlen(body), body);
    (void) !berth_write_all(fd, resp, strlen(resp));
    close(fd);
    return -1;
  }
  c.d = MHD_start_daemon(MHD_USE_NO_LISTEN_SOCKET | MHD_ALLOW_UPGRADE | MHD_USE_ERROR_LOG, 0, NULL, NULL,
                         on_access, &c, MHD_OPTION_NOTIFY_COMPLETED, on_completed, &c,
                         MHD_OPTION_NOTIFY_CONNECTION, on_connection, &c, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
                         (size_t) 64 * 1024, MHD_OPTION_CONNECTION_TIMEOUT, deadline,
                         MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL, MHD_OPTION_END);
  if (c.d == NULL || MHD_add_connection(c.d, fd, sa, len) != MHD_YES) {
    berth_log_error("api: cannot serve a connection");
    close(fd);
    if (c.d)
      MHD_stop_daemon(c.d);
    return -1;
  }
  while (!c.closed) {
    if (MHD_run_wait(c.d, 1000) != MHD_YES && errno != EINTR)
      break;
    if (!c.closed && overdue(&c, berth_mono_ms(), deadline))
      break;
  }
  MHD_stop_daemon(c.d); /* closes the connection if it is still open */
  berth_engine_close(c.e);
  return 0;
}

char *api_state_dir(struct berth_engine *e, const char *sub)
{
  cleanup_free char *dir = xasprintf("%s/api/%s", e->runroot, sub);
  berth_error_t err = NULL;
  if (berth_mkdir_p(dir, 0700, &err) < 0) {
    berth_log_warn("api: %s", err->msg);
    berth_error_release(&err);
  }
  return steal_ptr(dir);
}
