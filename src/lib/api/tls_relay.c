/* A TLS connection's process (api/tls.h): the handshake, then a child serves HTTP (conn.c) on
 * one end of a socketpair while this process relays between the TLS session and the other end.
 * Both directions are buffered and non-blocking, so that neither side waits on the other (a
 * hijacked exec reads stdin while it writes output); each ends on its own, as a TCP
 * connection's halves do: the client's close_notify or FIN (docker's hijack half-closes the TCP
 * connection when its stdin ends) shuts the socketpair's write side, the HTTP side's shutdown
 * or close sends close_notify. The process ends when both have ended, or the HTTP side has
 * closed its end, or the session failed; it then waits for its child, which the kernel kills
 * should this process be killed (the service's drain). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "api/conn.h"
#include "api/tls_int.h"
#include "base/log.h"

struct relay {
  struct api_tls_session *ts;
  int ux;
  char in[16384]; /* from the client, for the HTTP side */
  size_t in_len, in_off;
  char out[16384]; /* from the HTTP side, for the client */
  size_t out_len, out_off;
  bool in_eof, in_done;   /* the client sends no more; the HTTP side's input is shut */
  bool out_eof, out_done; /* the HTTP side sends no more; close_notify has been sent */
  bool recv_wants_write;  /* the last receive waits for the socket to take bytes */
  bool failed;
};

static bool again(ssize_t r) { return r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED; }

/* client -> HTTP side; true when something moved */
static bool step_in(struct relay *r)
{
  struct api_tls_session *ts = r->ts;
  bool moved = false;
  if (!r->in_done && !r->in_eof && r->in_len == 0) {
    ssize_t n = gnutls_record_recv(ts->s, r->in, sizeof r->in);
    r->recv_wants_write = false;
    if (n > 0) {
      r->in_len = (size_t) n, r->in_off = 0, moved = true;
    } else if (n == 0 || (again(n) && ts->eof) || n == GNUTLS_E_PREMATURE_TERMINATION) {
      r->in_eof = true, moved = true;
    } else if (again(n)) {
      r->recv_wants_write = gnutls_record_get_direction(ts->s) == 1;
    } else if (gnutls_error_is_fatal((int) n)) {
      berth_log_debug("api: TLS: %s: %s", ts->peer, gnutls_strerror((int) n));
      r->failed = true;
    } else {
      moved = true; /* a warning alert: receive again */
    }
  }
  if (r->in_len > 0) {
    ssize_t w = write(r->ux, r->in + r->in_off, r->in_len - r->in_off);
    if (w > 0) {
      r->in_off += (size_t) w, moved = true;
      if (r->in_off == r->in_len)
        r->in_len = 0;
    } else if (w == 0 || (errno != EAGAIN && errno != EINTR)) { /* the HTTP side is gone */
      r->in_len = 0, r->in_eof = r->in_done = true, moved = true;
    }
  }
  if (r->in_eof && r->in_len == 0 && !r->in_done) {
    shutdown(r->ux, SHUT_WR);
    r->in_done = true, moved = true;
  }
  return moved;
}

/* HTTP side -> client */
static bool step_out(struct relay *r)
{
  struct api_tls_session *ts = r->ts;
  bool moved = false;
  if (!r->out_eof && r->out_len == 0) {
    ssize_t n = read(r->ux, r->out, sizeof r->out);
    if (n > 0)
      r->out_len = (size_t) n, r->out_off = 0, moved = true;
    else if (n == 0 || (errno != EAGAIN && errno != EINTR))
      r->out_eof = true, moved = true;
  }
  if (r->out_len > 0) {
    ssize_t w = gnutls_record_send(ts->s, r->out + r->out_off, r->out_len - r->out_off);
    if (w > 0) {
      r->out_off += (size_t) w, moved = true;
      if (r->out_off == r->out_len)
        r->out_len = 0;
    } else if (!again(w)) {
      berth_log_debug("api: TLS: %s: %s", ts->peer, gnutls_strerror((int) w));
      r->failed = true;
    }
  }
  if (r->out_eof && r->out_len == 0 && !r->out_done) {
    int b = gnutls_bye(ts->s, GNUTLS_SHUT_WR);
    if (!again(b)) {
      shutdown(ts->fd, SHUT_WR);
      r->out_done = true, moved = true;
    }
  }
  return moved;
}

static void relay(struct api_tls_session *ts, int ux)
{
  static struct relay r; /* one per process; 32 KiB off the stack */
  memset(&r, 0, sizeof r);
  r.ts = ts, r.ux = ux;
  for (;;) {
    for (bool moved = true; moved && !r.failed;) {
      moved = step_in(&r);
      moved = step_out(&r) || moved;
    }
    if (r.failed || (r.in_done && r.out_done))
      return;
    struct pollfd pf[2] = { { .fd = ts->fd }, { .fd = ux } };
    if (!r.in_done && !r.in_eof && r.in_len == 0)
      pf[0].events |= r.recv_wants_write ? POLLOUT : POLLIN;
    if (r.out_len > 0 || (r.out_eof && !r.out_done))
      pf[0].events |= POLLOUT;
    if (r.in_len > 0)
      pf[1].events |= POLLOUT;
    if (!r.out_eof && r.out_len == 0)
      pf[1].events |= POLLIN;
    if (pf[0].events == 0)
      pf[0].fd = -1;
    bool watch_hup = r.out_eof && !r.in_done; /* has the HTTP side closed its end altogether */
    if (pf[1].events == 0 && !watch_hup)
      pf[1].fd = -1;
    if (poll(pf, 2, -1) < 0 && errno != EINTR)
      return;
    if (watch_hup && (pf[1].revents & POLLHUP))
      r.in_len = 0, r.in_eof = r.in_done = true;
  }
}

static void peer_name(const struct sockaddr *sa, char *buf, size_t size)
{
  char host[INET6_ADDRSTRLEN] = "?";
  unsigned port = 0;
  if (sa->sa_family == AF_INET) {
    const struct sockaddr_in *s4 = (const struct sockaddr_in *) sa;
    inet_ntop(AF_INET, &s4->sin_addr, host, sizeof host);
    port = ntohs(s4->sin_port);
  } else if (sa->sa_family == AF_INET6) {
    const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *) sa;
    inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof host);
    port = ntohs(s6->sin6_port);
  }
  snprintf(buf, size, sa->sa_family == AF_INET6 ? "[%s]:%u" : "%s:%u", host, port);
}

/* the HTTP side: an ordinary connection on the socketpair's end (a unix peer to libmicrohttpd);
 * the process that runs the engine's code keeps no key: neither the session's nor the server's */
static void serve_http(const struct berth_api_opts *o, struct api_tls_session *ts, int mine, int theirs,
                       pid_t parent)
{
  close(ts->fd);
  close(theirs);
  api_tls_session_free(ts);
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
    _exit(1);
  struct sockaddr_un su = { .sun_family = AF_UNIX };
  _exit(api_conn_serve(o, mine, (struct sockaddr *) &su, sizeof su.sun_family) < 0 ? 1 : 0);
}

int api_tls_serve(const struct berth_api_opts *o, struct api_tls *t, int fd, const struct sockaddr *sa,
                  socklen_t len)
{
  (void) len;
  signal(SIGPIPE, SIG_IGN);
  char peer[INET6_ADDRSTRLEN + 16];
  peer_name(sa, peer, sizeof peer);
  unsigned deadline = o->request_deadline ? o->request_deadline : BERTH_API_REQUEST_DEADLINE;
  struct api_tls_session *ts = api_tls_handshake(t, fd, berth_mono_ms() + (int64_t) deadline * 1000, peer);
  if (ts == NULL) {
    close(fd);
    return 1;
  }
  berth_log_debug("api: TLS: %s: handshake done", peer);
  api_tls_release(t); /* this process's copy of the files: the session has what it needs */
  int sp[2];
  pid_t parent = getpid(), pid = -1;
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == 0) {
    pid = fork();
    if (pid == 0)
      serve_http(o, ts, sp[1], sp[0], parent);
    close(sp[1]);
    if (pid > 0 && fcntl(sp[0], F_SETFL, O_NONBLOCK) == 0)
      relay(ts, sp[0]);
    close(sp[0]);
  }
  if (pid < 0)
    berth_log_error("api: TLS: %s: cannot serve the connection: %s", peer, strerror(errno));
  api_tls_session_free(ts);
  close(fd);
  while (pid > 0 && waitpid(pid, NULL, 0) < 0 && errno == EINTR)
    ;
  return pid > 0 ? 0 : 1;
}
