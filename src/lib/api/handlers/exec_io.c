/* The attached exec on a hijacked connection. With a terminal: the pty master (handed over by
 * the runtime on its console socket) <-> the client, raw, and a datagram socket where
 * /exec/{id}/resize sends the size; a runtime that proxies the terminal itself (runc, crun) is
 * given the client's socket as its stdio. Without one: pipes, stdout and stderr framed with
 * Docker's 8-byte header, the client's input into stdin until it half-closes. The exit code is
 * recorded before the connection closes: the client asks for it next. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "api/handlers/exec_internal.h"
#include "api/handlers/exec_io_internal.h"
#include "api/handlers/handlers_internal.h"
#include "base/cleanup.h"
#include "base/fs.h"
#include "base/strutil.h"
#include "base/xalloc.h"

struct ex {
  struct api_conn *conn;
  json_t *rec, *body;
  bool tty, in_on, out_on, err_on;
  int sock;
};

static void ex_free(void *p)
{
  struct ex *x = p;
  json_decref(x->rec);
  json_decref(x->body);
  free(x);
}

static int out(struct ex *x, int stream, const char *data, size_t len)
{
  if (!x->tty) {
    if ((stream == 1 && !x->out_on) || (stream == 2 && !x->err_on))
      return 0;
    unsigned char h[8];
    berth_api_mux_header(h, stream, (uint32_t) len);
    if (api_sock_write(x->sock, h, 8) < 0)
      return -1;
  }
  return api_sock_write(x->sock, data, len);
}

/* copy what fd has to the client as stream; false at its end */
static bool pump_out(struct ex *x, int fd, int stream)
{
  char buf[16384];
  ssize_t n = read(fd, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return true;
  if (n <= 0)
    return false;
  return out(x, stream, buf, (size_t) n) == 0;
}

/* the client's input into fd (-1: dropped); false when the client's side ended */
static bool pump_in(struct ex *x, int fd)
{
  char buf[16384];
  ssize_t n = recv(x->sock, buf, sizeof buf, MSG_DONTWAIT);
  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return true;
  if (n <= 0)
    return false;
  if (fd >= 0 && berth_write_all(fd, buf, (size_t) n) < 0)
    return false;
  return true;
}

static int resize_socket(struct berth_engine *e, const char *id, char **path)
{
  *path = api_exec_sock_path(e, id);
  struct sockaddr_un sa;
  cleanup_close int dirfd = -1;
  if (api_sun_path(*path, &sa, &dirfd) < 0)
    return -1;
  unlink(*path);
  int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (s >= 0 && bind(s, (struct sockaddr *) &sa, sizeof sa) < 0) {
    close(s);
    s = -1;
  }
  return s;
}

static void on_resize(int rs, int master)
{
  unsigned short sz[2];
  while (recv(rs, sz, sizeof sz, MSG_DONTWAIT) == (ssize_t) sizeof sz) {
    struct winsize ws = { .ws_row = sz[0], .ws_col = sz[1] };
    ioctl(master, TIOCSWINSZ, &ws);
  }
}

/* terminal <-> client until the runtime ended and the master has nothing more */
static void proxy_tty(struct ex *x, struct berth_ctr_exec *run, int master, int rs)
{
  bool in_open = true, out_open = true, runtime = true;
  fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
  while (out_open || runtime) {
    struct pollfd pf[4] = { { .fd = out_open ? master : -1, .events = POLLIN },
                            { .fd = in_open ? x->sock : -1, .events = POLLIN | POLLRDHUP },
                            { .fd = rs, .events = POLLIN },
                            { .fd = runtime ? run->pidfd : -1, .events = POLLIN } };
    int n = poll(pf, 4, runtime ? -1 : 100);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    if (pf[0].revents & (POLLIN | POLLHUP | POLLERR))
      out_open = pump_out(x, master, 1);
    if ((pf[1].revents & (POLLIN | POLLRDHUP | POLLHUP | POLLERR)) && !pump_in(x, master))
      in_open = false;
    if (pf[2].revents & POLLIN)
      on_resize(rs, master);
    if (pf[3].revents & POLLIN)
      runtime = false;
  }
}

struct pipes {
  int in_w, out_r, err_r;
};

/* without a terminal: until the runtime ended and both outputs ended (or stayed idle) */
static void relay(struct ex *x, struct berth_ctr_exec *run, struct pipes *p)
{
  bool runtime = true, in_open = true;
  while (runtime || p->out_r >= 0 || p->err_r >= 0) {
    struct pollfd pf[4] = { { .fd = p->out_r, .events = POLLIN },
                            { .fd = p->err_r, .events = POLLIN },
                            { .fd = in_open ? x->sock : -1, .events = POLLIN | POLLRDHUP },
                            { .fd = runtime ? run->pidfd : -1, .events = POLLIN } };
    int n = poll(pf, 4, runtime ? -1 : 100);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    if ((pf[0].revents & (POLLIN | POLLHUP | POLLERR)) && !pump_out(x, p->out_r, 1))
      close(steal_fd(p->out_r));
    if ((pf[1].revents & (POLLIN | POLLHUP | POLLERR)) && !pump_out(x, p->err_r, 2))
      close(steal_fd(p->err_r));
    if ((pf[2].revents & (POLLIN | POLLRDHUP | POLLHUP | POLLERR)) && !pump_in(x, p->in_w)) {
      in_open = false; /* the client closed its side: the process sees the end of its input */
      if (p->in_w >= 0)
        close(steal_fd(p->in_w));
    }
    if (pf[3].revents & POLLIN)
      runtime = false;
  }
}

static void close_pipes(int p[3][2])
{
  for (int i = 0; i < 3; i++)
    for (int k = 0; k < 2; k++)
      if (p[i][k] >= 0)
        close(p[i][k]);
}

/* start the process; its stdio: pipes, or (terminal) the client's socket and a stderr pipe */
static BERTH_WUR int start(struct ex *x, struct berth_engine *e, struct berth_ctr_exec *run, int p[3][2],
                           berth_error_t *err)
{
  cleanup_strv char **args = NULL, **env = NULL;
  struct berth_ctr_exec_in in;
  api_exec_start_in(x->rec, x->body, &in, &args, &env);
  cleanup_close int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  if ((x->in_on && !x->tty && pipe2(p[0], O_CLOEXEC) < 0) || pipe2(p[1], O_CLOEXEC) < 0 ||
      pipe2(p[2], O_CLOEXEC) < 0)
    return BERTH_ERR_ERRNO(err, "exec: pipe");
  int stdio[3] = { p[0][0] >= 0 ? p[0][0] : devnull, p[1][1], p[2][1] };
  if (x->tty) {
    fcntl(x->sock, F_SETFL, fcntl(x->sock, F_GETFL) & ~O_NONBLOCK);
    stdio[0] = stdio[1] = x->sock; /* a runtime that proxies the terminal itself */
  }
  const char *cid = json_string_value(json_object_get(x->rec, "ContainerID"));
  int rc = berth_ctr_exec_start(e, cid, &in, stdio, run, err);
  for (int i = 0; i < 3; i++) /* only the runtime (and the process) hold the process's ends */
    if (p[i][i == 0 ? 0 : 1] >= 0)
      close(steal_fd(p[i][i == 0 ? 0 : 1]));
  return rc;
}

static void run_attached(struct ex *x, struct berth_engine *e, struct berth_ctr_exec *run, int p[3][2])
{
  const char *id = json_string_value(json_object_get(x->rec, "ID"));
  berth_error_t err = NULL;
  if (x->tty && run->console) {
    cleanup_free char *rpath = NULL;
    cleanup_close int rs = resize_socket(e, id, &rpath);
    int master = berth_ctr_exec_console(run, &err);
    if (master >= 0) {
      proxy_tty(x, run, master, rs);
      close(master);
    }
    unlink(rpath);
  } else if (!x->tty) {
    struct pipes pp = { p[0][1], p[1][0], p[2][0] };
    p[0][1] = p[1][0] = p[2][0] = -1;
    relay(x, run, &pp);
    if (pp.in_w >= 0)
      close(pp.in_w);
    if (pp.out_r >= 0)
      close(pp.out_r);
    if (pp.err_r >= 0)
      close(pp.err_r);
  } else {
    struct pollfd pf = { .fd = run->pidfd, .events = POLLIN };
    while (poll(&pf, 1, -1) < 0 && errno == EINTR)
      ;
  }
  if (x->tty && p[2][0] >= 0) { /* the runtime's own messages, if it wrote any */
    fcntl(p[2][0], F_SETFL, fcntl(p[2][0], F_GETFL) | O_NONBLOCK);
    while (pump_out(x, p[2][0], 2)) {
      struct pollfd pf = { .fd = p[2][0], .events = POLLIN };
      if (poll(&pf, 1, 0) <= 0)
        break;
    }
  }
  int code = 125;
  if (err == NULL && berth_ctr_exec_wait(run, &code, &err) < 0 && run->stderr_shared)
    berth_error_release(&err);
  if (err) {
    cleanup_free char *msg = xasprintf("%s\r\n", err->msg);
    berth_error_release(&err);
    if (out(x, 2, msg, strlen(msg)) < 0) {
      /* the client is gone: the record says it all */
    }
  }
  api_exec_record(e, x->rec, false, 0, code);
}

static void exec_run(void *data, int sock, const char *extra, size_t extra_len)
{
  struct ex *x = data;
  x->sock = sock;
  struct berth_engine *e = x->conn->e;
  int p[3][2] = { { -1, -1 }, { -1, -1 }, { -1, -1 } };
  struct berth_ctr_exec run;
  berth_error_t err = NULL;
  if (start(x, e, &run, p, &err) < 0) {
    int code = 126;
    if (err && strstr(err->msg, "not found"))
      code = 127;
    cleanup_free char *msg = xasprintf("%s\r\n", err ? err->msg : "exec failed");
    berth_error_release(&err);
    if (out(x, 2, msg, strlen(msg)) < 0) {
      /* gone */
    }
    api_exec_record(e, x->rec, false, 0, code);
    close_pipes(p);
    return;
  }
  api_exec_record(e, x->rec, true, run.pid, 0);
  if (extra_len && p[0][1] >= 0 && berth_write_all(p[0][1], extra, extra_len) < 0) {
    /* the process does not read */
  }
  run_attached(x, e, &run, p);
  berth_ctr_exec_release(&run);
  close_pipes(p);
  shutdown(sock, SHUT_RDWR);
}

enum MHD_Result api_exec_hijack(struct api_req *r, json_t *rec, json_t *body)
{
  struct ex *x = xcalloc(1, sizeof *x);
  x->conn = r->c;
  x->rec = rec;
  x->body = body;
  json_t *tty = json_object_get(body, "Tty");
  x->tty = json_is_boolean(tty) ? json_is_true(tty) : json_is_true(json_object_get(rec, "Tty"));
  json_object_set_new(rec, "Tty", json_boolean(x->tty));
  x->in_on = json_is_true(json_object_get(rec, "AttachStdin"));
  x->out_on = json_is_true(json_object_get(rec, "AttachStdout"));
  x->err_on = json_is_true(json_object_get(rec, "AttachStderr"));
  return api_reply_hijack(r, api_stream_ctype(r, x->tty), exec_run, x, ex_free);
}
