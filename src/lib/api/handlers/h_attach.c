/* POST /containers/{id}/attach (hijacked) and the start that serves it.
 *
 * The docker CLI attaches before it starts (`docker run` without -d): create, attach, wait,
 * start, each on its own connection, so each in its own process here. A container's monitor
 * lets a client connect before the container runs only when the one who starts it asks
 * (berth_ctr_start's attach_want), so an attach to a container that is not running yet
 * listens on a socket of its own, <runroot>/api/attach/<id>.<flags>.<pid>. The start
 * (api_ctr_start) connects to that socket first (the claim), then starts the container with a
 * monitor connection made before it runs, and hands that over (SCM_RIGHTS): no output is
 * missed. A container started by someone else (`berth start`) is found running by the waiting
 * attach, which then connects itself — unless a claim is queued, whose hand-over it takes. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "api/handlers/handlers_internal.h"
#include "base/cleanup.h"
#include "base/unixsock.h"
#include "base/fs.h"
#include "base/sync.h"
#include "base/xalloc.h"
#include "engine/monitor/monitor.h"
#include "engine/runspec/runspec.h"

int api_sun_path(const char *path, struct sockaddr_un *sa, int *dirfd)
{
  berth_error_t err = NULL;
  int r = berth_unix_addr(path, sa, dirfd, &err);
  berth_error_release(&err);
  return r;
}

int api_sock_write(int fd, const void *data, size_t len)
{
  const char *p = data;
  while (len > 0) {
    ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
    if (n < 0 && errno == EAGAIN) {
      struct pollfd pf = { .fd = fd, .events = POLLOUT };
      if (poll(&pf, 1, 30000) <= 0)
        return -1;
      continue;
    }
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return -1;
    p += n;
    len -= (size_t) n;
  }
  return 0;
}

const char *api_stream_ctype(struct api_req *r, bool tty)
{
  return !tty && r->version >= 42 ? "application/vnd.docker.multiplexed-stream"
                                  : "application/vnd.docker.raw-stream";
}

/* ---- the start, with the hand-over ---- */

/* a client waiting for container id to start: an attach (the streams it wants) before a wait
 * (want 0); its socket path */
static char *find_waiter(struct berth_engine *e, const char *id, unsigned *want)
{
  cleanup_free char *dir = api_state_dir(e, "attach");
  cleanup_dir DIR *d = opendir(dir);
  struct dirent *de;
  size_t idlen = strlen(id);
  char *best = NULL;
  *want = 0;
  while (d && (de = readdir(d)) != NULL) {
    if (strncmp(de->d_name, id, idlen) != 0 || de->d_name[idlen] != '.')
      continue;
    unsigned w = (unsigned) strtoul(de->d_name + idlen + 1, NULL, 16) &
                 (BERTH_ATTACH_WANT_STDOUT | BERTH_ATTACH_WANT_STDERR | BERTH_ATTACH_WANT_STDIN);
    if (best == NULL || (w != 0 && *want == 0)) {
      free(best);
      best = xasprintf("%s/%s", dir, de->d_name);
      *want = w;
    }
  }
  return best;
}

/* a connection to the waiter's socket, made before the start: the waiter then knows that a
 * hand-over is coming, and waits for it rather than connecting itself to the running container
 * (which would miss what the container wrote first). Non-blocking: a waiter whose backlog is
 * full (other starts' claims) is passed over rather than waited for. */
static int claim(const char *path)
{
  struct sockaddr_un sa;
  cleanup_close int dirfd = -1;
  if (api_sun_path(path, &sa, &dirfd) < 0)
    return -1;
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (s >= 0 && connect(s, (struct sockaddr *) &sa, sizeof sa) < 0) {
    close(s);
    return -1;
  }
  return s;
}

int api_ctr_start(struct berth_engine *e, const char *id, int *code, berth_error_t *err)
{
  unsigned want = 0;
  cleanup_free char *waiter = find_waiter(e, id, &want);
  cleanup_close int to = waiter ? claim(waiter) : -1; /* the attach went away: none */
  struct berth_ctr_attach a = { .fd = -1 };
  /* a failed start closes the claim without a connection: the waiter goes on waiting */
  if (berth_ctr_start(e, id, to >= 0 ? (want ? want : BERTH_ATTACH_WANT_STDOUT) : 0, &a, code, err) < 0)
    return -1;
  berth_error_t lost = NULL;
  if (to >= 0 && a.fd >= 0 && berth_send_fd(to, a.fd, "A", &lost) < 0)
    berth_error_release(&lost); /* the attach went away: the container runs without it */
  berth_ctr_attach_close(&a);
  return 0;
}

/* ---- the attach ---- */
struct attach {
  struct api_conn *conn;
  struct berth_ctr c;
  unsigned want;
  bool tty, logs, stream;
  int sock;   /* the client */
  int mon;    /* the monitor's attach connection */
  int listen; /* where the start hands it over (a container not running yet) */
  char *path;
  /* GET .../attach/ws: the streams as websocket frames, stdin from the client's data frames */
  bool ws, ws_closed;            /* ws_closed: our close frame is sent */
  unsigned ws_op;                /* the output frames' opcode: binary (text before API 1.42) */
  struct berth_api_ws_reader rd; /* the client's fragmented message */
  unsigned char *in;             /* client bytes not parsed yet (a frame still arriving) */
  size_t in_len;
  unsigned char dk[BERTH_DETACH_KEYS_MAX]; /* detachKeys (with a tty): the bytes, how many */
  size_t dk_n, dk_pos;                     /* dk_pos: how many of them the input matched so far */
};

static void attach_free(void *p)
{
  struct attach *a = p;
  berth_ctr_release(&a->c);
  if (a->mon >= 0)
    close(a->mon);
  if (a->listen >= 0)
    close(a->listen);
  if (a->path)
    unlink(a->path);
  free(a->path);
  free(a->in);
  free(a);
}

/* one frame (or the raw bytes with a tty) to the client */
static int send_out(struct attach *a, int stream, const char *data, size_t len)
{
  if (a->ws) {
    unsigned char h[10];
    size_t hl = berth_api_ws_header(h, a->ws_op, len);
    if (api_sock_write(a->sock, h, hl) < 0)
      return -1;
  } else if (!a->tty) {
    unsigned char h[8];
    berth_api_mux_header(h, stream, (uint32_t) len);
    if (api_sock_write(a->sock, h, 8) < 0)
      return -1;
  }
  return api_sock_write(a->sock, data, len);
}

static int log_sink(void *data, const struct berth_log_record *rec)
{
  struct attach *a = data;
  if (!(a->want & (rec->stream == BERTH_LOG_STDERR ? BERTH_ATTACH_WANT_STDERR : BERTH_ATTACH_WANT_STDOUT)))
    return 0;
  cleanup_free char *line = xmalloc(rec->len + 1);
  memcpy(line, rec->data, rec->len);
  if (!rec->partial)
    line[rec->len] = '\n';
  return send_out(a, rec->stream == BERTH_LOG_STDERR ? 2 : 1, line, rec->len + !rec->partial);
}

int api_waiter_listen(struct berth_engine *e, const char *id, unsigned want, char **path)
{
  cleanup_free char *dir = api_state_dir(e, "attach");
  *path = xasprintf("%s/%s.%x.%d", dir, id, want, (int) getpid());
  struct sockaddr_un sa;
  cleanup_close int dirfd = -1;
  if (api_sun_path(*path, &sa, &dirfd) < 0)
    return -1;
  unlink(*path);
  int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (l >= 0 && (bind(l, (struct sockaddr *) &sa, sizeof sa) < 0 || listen(l, 1) < 0)) {
    close(l);
    l = -1;
  }
  return l;
}

int api_waiter_accept(int l)
{
  cleanup_close int s = accept4(l, NULL, NULL, SOCK_CLOEXEC);
  berth_error_t err = NULL;
  int fd = s >= 0 ? berth_recv_fd(s, &err) : -1;
  berth_error_release(&err);
  return fd;
}

void api_exit_note(struct berth_engine *e, const char *id, int64_t code)
{
  cleanup_free char *dir = api_state_dir(e, "exit");
  cleanup_free char *path = xasprintf("%s/%s", dir, id);
  char text[32];
  int n = snprintf(text, sizeof text, "%lld\n", (long long) code);
  berth_ignore(berth_write_file_atomic(path, text, (size_t) n, 0600, BERTH_IGNORED));
}

bool api_exit_read(struct berth_engine *e, const char *id, int64_t *code)
{
  cleanup_free char *dir = api_state_dir(e, "exit");
  cleanup_free char *path = xasprintf("%s/%s", dir, id);
  cleanup_free char *text = NULL;
  size_t len = 0;
  berth_error_t err = NULL;
  if (berth_read_file(path, 64, &text, &len, &err) < 0) {
    berth_error_release(&err);
    return false;
  }
  *code = atoll(text);
  return true;
}

/* wait for the start's hand-over, or for a start we were not told about; false: give up */
static bool wait_for_start(struct attach *a, struct berth_engine *e)
{
  bool ok = false;
  for (;;) {
    struct pollfd pf[2] = { { .fd = a->listen, .events = POLLIN }, { .fd = a->sock, .events = 0 } };
    int n = poll(pf, 2, 200);
    if (n > 0 && (pf[1].revents & (POLLHUP | POLLERR))) /* half-closed (no stdin) is fine */
      break;
    if (n > 0 && (pf[0].revents & POLLIN) && (ok = (a->mon = api_waiter_accept(a->listen)) >= 0))
      break;
    struct berth_ctr now;
    berth_error_t err = NULL;
    if (berth_ctr_get(e, a->c.row.id, &now, &err) < 0) {
      berth_error_release(&err);
      break; /* removed meanwhile */
    }
    bool running = berth_ctr_state_kept(now.state);
    /* a start through the API claims us before the container runs: once it is running, its
     * claim is already queued here, and its hand-over is taken instead (nothing missed) */
    struct pollfd again = { .fd = a->listen, .events = POLLIN };
    if (running && poll(&again, 1, 0) > 0) {
      berth_ctr_release(&now);
      if ((ok = (a->mon = api_waiter_accept(a->listen)) >= 0))
        break;
      continue;
    }
    struct berth_ctr_attach at = { .fd = -1 };
    if (running && berth_ctr_attach_connect(&now, a->want, &at, &err) == 0)
      a->mon = at.fd, ok = true;
    berth_error_release(&err);
    berth_ctr_release(&now);
    if (ok)
      break;
  }
  unlink(a->path);
  return ok;
}

/* client -> container's stdin; false when the client is gone */
static bool from_client(struct attach *a, bool *stdin_open)
{
  char buf[BERTH_ATTACH_MSG_MAX - 1];
  ssize_t n = recv(a->sock, buf, sizeof buf, MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return true;
  struct berth_ctr_attach at = { .fd = a->mon };
  berth_error_t err = NULL;
  if (n > 0 && (a->want & BERTH_ATTACH_WANT_STDIN)) {
    if (berth_ctr_attach_send(&at, BERTH_ATTACH_STDIN, buf, (size_t) n, &err) < 0)
      berth_error_release(&err);
    return true;
  }
  if (n > 0)
    return true; /* input nobody asked for */
  if (n == 0 && (a->want & BERTH_ATTACH_WANT_STDIN) &&
      berth_ctr_attach_send(&at, BERTH_ATTACH_STDIN_CLOSE, NULL, 0, &err) < 0)
    berth_error_release(&err);
  *stdin_open = false; /* half-closed (CloseWrite): the output goes on */
  return n == 0;
}

/* container -> client; false at the end */
static bool from_monitor(struct attach *a)
{
  char msg[BERTH_ATTACH_MSG_MAX + 1];
  ssize_t n = recv(a->mon, msg, sizeof msg, MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EINTR || errno == ECONNRESET))
    return true;
  if (n <= 0)
    return false;
  if (msg[0] == BERTH_ATTACH_STDOUT || msg[0] == BERTH_ATTACH_STDERR)
    return send_out(a, msg[0] == BERTH_ATTACH_STDERR ? 2 : 1, msg + 1, (size_t) n - 1) == 0;
  if (msg[0] == BERTH_ATTACH_EXIT) {
    msg[n < (ssize_t) sizeof msg ? n : (ssize_t) sizeof msg - 1] = '\0';
    api_exit_note(a->conn->e, a->c.row.id, atoll(msg + 1));
    return false;
  }
  return true;
}

/* ---- websocket (GET .../attach/ws) ---- */
static void ws_close(struct attach *a, uint16_t code, const char *reason)
{
  if (a->ws_closed)
    return;
  unsigned char f[127];
  size_t n = berth_api_ws_close(f, code, reason);
  a->ws_closed = true;
  (void) api_sock_write(a->sock, f, n);
}

/* after our close frame: the client's answer, a little of it, before the connection goes */
static void ws_linger(struct attach *a)
{
  char buf[4096];
  for (int i = 0; i < 16; i++) {
    struct pollfd pf = { .fd = a->sock, .events = POLLIN };
    if (poll(&pf, 1, 2000) <= 0 || recv(a->sock, buf, sizeof buf, MSG_DONTWAIT) <= 0)
      return;
  }
}

static void to_stdin(struct attach *a, char type, const void *data, size_t len)
{
  struct berth_ctr_attach at = { .fd = a->mon };
  berth_error_t err = NULL;
  const char *p = data;
  do {
    size_t n = len < BERTH_ATTACH_MSG_MAX - 1 ? len : BERTH_ATTACH_MSG_MAX - 1;
    if (berth_ctr_attach_send(&at, type, p, n, &err) < 0) {
      berth_error_release(&err);
      return;
    }
    p += n;
    len -= n;
  } while (len > 0);
}

/* the detach keys over the client's input (a tty only, as Docker's): false when they were
 * typed; out gets the bytes to pass on (a partial match is held back until it fails) */
static bool detach_filter(struct attach *a, const unsigned char *in, size_t len, unsigned char *out,
                          size_t *n)
{
  *n = 0;
  for (size_t i = 0; i < len; i++) {
    if (a->dk_pos < a->dk_n && in[i] == a->dk[a->dk_pos]) {
      if (++a->dk_pos == a->dk_n)
        return false;
      continue;
    }
    memcpy(out + *n, a->dk, a->dk_pos);
    *n += a->dk_pos;
    a->dk_pos = 0;
    if (a->dk_n && in[i] == a->dk[0]) {
      a->dk_pos = 1;
      continue;
    }
    out[(*n)++] = in[i];
  }
  return true;
}

/* one client frame; false when the attach ends */
static bool ws_frame(struct attach *a, const struct berth_api_ws_frame *f)
{
  switch (f->opcode) {
  case BERTH_API_WS_PING: {
    unsigned char h[10];
    size_t hl = berth_api_ws_header(h, BERTH_API_WS_PONG, f->len);
    return api_sock_write(a->sock, h, hl) == 0 && api_sock_write(a->sock, f->payload, f->len) == 0;
  }
  case BERTH_API_WS_PONG: return true;
  case BERTH_API_WS_CLOSE:
    if (a->want & BERTH_ATTACH_WANT_STDIN)
      to_stdin(a, BERTH_ATTACH_STDIN_CLOSE, NULL, 0);
    ws_close(a, f->close_code == 1005 ? 1000 : f->close_code, NULL);
    return false;
  default: break;
  }
  if (!(a->want & BERTH_ATTACH_WANT_STDIN) || f->len == 0)
    return true; /* input nobody asked for */
  if (!a->tty || a->dk_n == 0) {
    to_stdin(a, BERTH_ATTACH_STDIN, f->payload, f->len);
    return true;
  }
  cleanup_free unsigned char *pass = xmalloc(f->len + BERTH_DETACH_KEYS_MAX);
  size_t n = 0;
  bool go = detach_filter(a, f->payload, f->len, pass, &n);
  if (n)
    to_stdin(a, BERTH_ATTACH_STDIN, pass, n);
  if (!go)
    ws_close(a, 1000, "detached");
  return go;
}

/* the complete frames in a->in; false when the attach ends */
static bool ws_parse_all(struct attach *a)
{
  for (;;) {
    struct berth_api_ws_frame f;
    size_t used = 0;
    int r = berth_api_ws_parse(&a->rd, a->in, a->in_len, BERTH_API_WS_MAX_FRAME, &used, &f);
    if (r < 0)
      ws_close(a, f.close_code, f.error);
    if (r <= 0)
      return r == 0;
    bool go = ws_frame(a, &f);
    memmove(a->in, a->in + used, a->in_len - used);
    a->in_len -= used;
    if (!go)
      return false;
  }
}

#define WS_IN_CAP (BERTH_API_WS_MAX_FRAME + 14) /* the largest frame with its header and mask */

static bool ws_feed(struct attach *a, const void *data, size_t len)
{
  if (a->in == NULL)
    a->in = xmalloc(WS_IN_CAP);
  while (len > 0) {
    size_t n = len < WS_IN_CAP - a->in_len ? len : WS_IN_CAP - a->in_len;
    memcpy(a->in + a->in_len, data, n);
    a->in_len += n;
    data = (const char *) data + n;
    len -= n;
    if (!ws_parse_all(a))
      return false;
  }
  return true;
}

/* client frames -> the container's stdin, pings answered; false when the client is gone */
static bool ws_from_client(struct attach *a)
{
  if (a->in == NULL)
    a->in = xmalloc(WS_IN_CAP);
  ssize_t n = recv(a->sock, a->in + a->in_len, WS_IN_CAP - a->in_len, MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return true;
  if (n <= 0) { /* gone without a close frame */
    if (a->want & BERTH_ATTACH_WANT_STDIN)
      to_stdin(a, BERTH_ATTACH_STDIN_CLOSE, NULL, 0);
    a->ws_closed = true;
    return false;
  }
  a->in_len += (size_t) n;
  return ws_parse_all(a);
}

static void relay(struct attach *a, const char *extra, size_t extra_len)
{
  if (a->ws && !ws_feed(a, extra, extra_len))
    return;
  if (!a->ws && extra_len && (a->want & BERTH_ATTACH_WANT_STDIN)) {
    struct berth_ctr_attach at = { .fd = a->mon };
    berth_error_t err = NULL;
    if (berth_ctr_attach_send(&at, BERTH_ATTACH_STDIN, extra, extra_len, &err) < 0)
      berth_error_release(&err);
  }
  bool stdin_open = true;
  for (;;) {
    struct pollfd pf[2] = { { .fd = a->mon, .events = POLLIN },
                            { .fd = a->sock, .events = stdin_open ? POLLIN | POLLRDHUP : 0 } };
    if (poll(pf, 2, -1) < 0 && errno != EINTR)
      return;
    if ((pf[0].revents & (POLLIN | POLLHUP | POLLERR)) && !from_monitor(a))
      return;
    if (pf[1].revents & (POLLHUP | POLLERR))
      return;
    if ((pf[1].revents & (POLLIN | POLLRDHUP)) && stdin_open &&
        !(a->ws ? ws_from_client(a) : from_client(a, &stdin_open)))
      return;
  }
}

static void attach_run(void *data, int sock, const char *extra, size_t extra_len)
{
  struct attach *a = data;
  a->sock = sock;
  struct berth_engine *e = a->conn->e;
  if (a->logs) {
    struct berth_ctr_logs_opts lo = { .tail = -1 };
    berth_error_t err = NULL;
    if (berth_ctr_logs(e, a->c.row.id, &lo, log_sink, a, &err) < 0)
      berth_error_release(&err);
  }
  if (a->stream && (a->mon >= 0 || (a->listen >= 0 && wait_for_start(a, e))))
    relay(a, extra, extra_len);
  if (a->ws && !a->ws_closed) { /* the container exited (or there was no stream) */
    ws_close(a, 1000, NULL);
    ws_linger(a);
  }
  if (a->stream)
    shutdown(sock, SHUT_RDWR);
}

/* the attach of the request's container, connected to its monitor when it runs (NULL: *res is
 * the error's reply) */
static struct attach *attach_new(struct api_req *r, enum MHD_Result *res)
{
  cleanup_error berth_error_t err = NULL;
  struct berth_engine *e = NULL;
  struct attach *a = xcalloc(1, sizeof *a);
  a->mon = -1;
  a->listen = -1;
  a->conn = r->c;
  if (api_ctr_get(r, &e, &a->c, &err) < 0) {
    free(a);
    *res = api_reply_err(r, &err);
    return NULL;
  }
  a->tty = json_is_true(json_object_get(a->c.config, "Tty"));
  a->logs = api_query_bool(r, "logs", false);
  a->stream = api_query_bool(r, "stream", false);
  if (api_query_bool(r, "stdout", false))
    a->want |= BERTH_ATTACH_WANT_STDOUT;
  if (api_query_bool(r, "stderr", false))
    a->want |= BERTH_ATTACH_WANT_STDERR;
  if (api_query_bool(r, "stdin", false) && json_is_true(json_object_get(a->c.config, "OpenStdin")))
    a->want |= BERTH_ATTACH_WANT_STDIN;
  /* a running container: connect now, so that what it writes from here on reaches the client */
  struct berth_ctr_attach at = { .fd = -1 };
  if (a->stream && berth_ctr_state_kept(a->c.state) &&
      berth_ctr_attach_connect(&a->c, a->want, &at, &err) < 0) {
    attach_free(a);
    *res = api_reply_err(r, &err);
    return NULL;
  }
  a->mon = at.fd;
  if (a->stream && a->mon < 0 && (a->listen = api_waiter_listen(e, a->c.row.id, a->want, &a->path)) < 0) {
    attach_free(a);
    *res = api_reply_error(r, 500, "attach: cannot listen for the start");
    return NULL;
  }
  return a;
}

enum MHD_Result api_h_CTR_ATTACH(struct api_req *r)
{
  enum MHD_Result res = MHD_NO;
  struct attach *a = attach_new(r, &res);
  if (a == NULL)
    return res;
  return api_reply_hijack(r, api_stream_ctype(r, a->tty), attach_run, a, attach_free);
}

/* whether a header's comma-separated tokens hold word (case-insensitive) */
static bool has_token(const char *v, const char *word)
{
  size_t n = strlen(word);
  while (v && *v) {
    v += strspn(v, " \t,");
    size_t len = strcspn(v, ",");
    size_t t = len;
    while (t > 0 && (v[t - 1] == ' ' || v[t - 1] == '\t'))
      t--;
    if (t == n && strncasecmp(v, word, n) == 0)
      return true;
    v += len;
  }
  return false;
}

/* RFC 6455's handshake (Docker's endpoint: golang.org/x/net/websocket's server), then the attach
 * with websocket frames */
enum MHD_Result api_h_CTR_ATTACH_WS(struct api_req *r)
{
  const char *up = api_header(r, "Upgrade"), *conn = api_header(r, "Connection");
  const char *version = api_header(r, "Sec-WebSocket-Version");
  const char *key = api_header(r, "Sec-WebSocket-Key");
  char accept[BERTH_API_WS_ACCEPT_LEN + 1];
  if (!has_token(up, "websocket") || !has_token(conn, "upgrade"))
    return api_reply_error(
      r, 400, "%s: not a websocket handshake: send `Connection: Upgrade` and `Upgrade: websocket`",
      r->m.name);
  if (version == NULL || strcmp(version, "13") != 0)
    return api_reply_error(r, 400, "%s: Sec-WebSocket-Version `%s`: only version 13 is supported", r->m.name,
                           version ? version : "");
  if (berth_api_ws_accept(key, accept) < 0)
    return api_reply_error(r, 400, "%s: Sec-WebSocket-Key `%s`: expected the base64 of 16 bytes", r->m.name,
                           key ? key : "");
  unsigned char dk[BERTH_DETACH_KEYS_MAX];
  size_t dk_n = 0;
  const char *keys = api_query(r, "detachKeys");
  if (keys && keys[0] && berth_runopts_parse_detach_keys(keys, dk, &dk_n) < 0)
    return api_reply_error(r, 400, "detachKeys `%s`: not a key sequence (e.g. ctrl-p,ctrl-q)", keys);
  if (!(keys && keys[0]) && berth_runopts_parse_detach_keys(BERTH_DETACH_KEYS_DEFAULT, dk, &dk_n) < 0)
    dk_n = 0;
  enum MHD_Result res = MHD_NO;
  struct attach *a = attach_new(r, &res);
  if (a == NULL)
    return res;
  a->ws = true;
  a->ws_op = r->version >= 42 ? BERTH_API_WS_BINARY : BERTH_API_WS_TEXT;
  memcpy(a->dk, dk, dk_n);
  a->dk_n = dk_n;
  return api_reply_ws(r, accept, attach_run, a, attach_free);
}
