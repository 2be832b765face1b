/* The per-network resolver's loop (berth-dns): UDP and TCP on the gateway addresses, the names
 * file re-read when it changes, everything else forwarded (dns_forward.c). One process per
 * network with containers, started by the first and stopped with the last (networking.md). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/xalloc.h"
#include "net/dns_int.h"
#include "net/net.h"

#define TTL 60

void dns_send_client(int fd, bool tcp, const struct sockaddr_storage *peer, socklen_t peer_len,
                     const uint8_t *msg, size_t len)
{
  if (!tcp) {
    (void) sendto(fd, msg, len, MSG_NOSIGNAL | MSG_DONTWAIT, (const struct sockaddr *) peer, peer_len);
    return;
  }
  uint8_t pre[2] = { (uint8_t) (len >> 8), (uint8_t) len };
  /* small answers to one client: a blocking write is bounded by the socket's send buffer */
  if (berth_write_all(fd, pre, 2) == 0)
    (void) berth_write_all(fd, msg, len);
}

void dns_servfail(int fd, bool tcp, const struct sockaddr_storage *peer, socklen_t peer_len,
                  const uint8_t *msg, size_t len)
{
  if (len < 12)
    return;
  uint8_t out[12];
  memcpy(out, msg, 12);
  out[2] = (uint8_t) (0x80 | (msg[2] & 0x79)); /* QR, the opcode and RD echoed */
  out[3] = (uint8_t) (0x80 | BERTH_DNS_SERVFAIL);
  memset(out + 4, 0, 8);
  dns_send_client(fd, tcp, peer, peer_len, out, sizeof out);
}

static void reload_names(struct dns_server *s)
{
  struct stat st;
  if (stat(s->o->names_path, &st) < 0) {
    if (errno == ENOENT)
      s->names_gone = true;
    return;
  }
  if (st.st_ino == s->names_st.st_ino && st.st_size == s->names_st.st_size &&
      st.st_mtim.tv_sec == s->names_st.st_mtim.tv_sec && st.st_mtim.tv_nsec == s->names_st.st_mtim.tv_nsec)
    return;
  cleanup_free char *text = NULL;
  size_t len = 0;
  berth_error_t err = NULL;
  struct berth_dns_names n;
  if (berth_read_file(s->o->names_path, 1 << 22, &text, &len, &err) < 0 ||
      berth_dns_names_parse(text, len, &n, &err) < 0) {
    fprintf(stderr, "berth-dns: %s (keeping the names read before)\n", err->msg);
    berth_error_release(&err);
    return;
  }
  berth_dns_names_free(&s->names);
  s->names = n;
  s->names_st = st;
}

/* the answer from the names file, or 0 when the query is not ours */
static size_t answer_local(struct dns_server *s, const uint8_t *msg, const struct berth_dns_query *q,
                           uint8_t *out, size_t cap)
{
  if (!q->plain || q->qclass != 1)
    return 0;
  if (q->qtype == BERTH_DNS_PTR) {
    struct berth_net_addr a;
    const struct berth_dns_entry *e =
      berth_dns_ptr_addr(q->name, &a) == 0 ? berth_dns_names_find_addr(&s->names, &a) : NULL;
    return e ? berth_dns_build_reply(msg, q, BERTH_DNS_NOERROR, NULL, 0, e->names[0], TTL, out, cap) : 0;
  }
  int family = q->qtype == BERTH_DNS_A      ? AF_INET
               : q->qtype == BERTH_DNS_AAAA ? AF_INET6
               : q->qtype == BERTH_DNS_ANY  ? 0
                                            : -1;
  struct berth_net_addr addrs[16];
  bool known = false;
  size_t n = berth_dns_names_lookup(&s->names, q->name, family < 0 ? AF_UNSPEC : family, addrs, 16, &known);
  if (!known)
    return 0;
  /* a name of ours: its addresses of that family, or none (NOERROR, no data) */
  return berth_dns_build_reply(msg, q, BERTH_DNS_NOERROR, addrs, family < 0 ? 0 : n, NULL, TTL, out, cap);
}

static void handle_query(struct dns_server *s, int fd, bool tcp, const struct sockaddr_storage *peer,
                         socklen_t peer_len, const uint8_t *msg, size_t len)
{
  struct berth_dns_query q;
  berth_error_t err = NULL;
  uint8_t out[DNS_UDP_MAX];
  if (berth_dns_parse_query(msg, len, &q, &err) < 0) {
    berth_error_release(&err);
    if (len >= 12 && !(msg[2] & 0x80)) { /* a query we cannot read: FORMERR, header only */
      memcpy(out, msg, 12);
      out[2] = (uint8_t) (0x80 | (msg[2] & 0x79));
      out[3] = (uint8_t) (0x80 | BERTH_DNS_FORMERR);
      memset(out + 4, 0, 8);
      dns_send_client(fd, tcp, peer, peer_len, out, 12);
    }
    if (tcp)
      dns_tcp_done(s, fd, false);
    return;
  }
  reload_names(s);
  size_t n = answer_local(s, msg, &q, out, sizeof out);
  if (n > 0) {
    dns_send_client(fd, tcp, peer, peer_len, out, n);
    if (tcp)
      dns_tcp_done(s, fd, false);
    return;
  }
  if (!dns_forward(s, fd, tcp, peer, peer_len, msg, len)) {
    dns_servfail(fd, tcp, peer, peer_len, msg, len);
    if (tcp)
      dns_tcp_done(s, fd, false);
  }
}

static void on_udp(struct dns_server *s, int fd)
{
  uint8_t buf[DNS_UDP_MAX];
  for (int i = 0; i < 64; i++) { /* a burst, then let the others have a turn */
    struct sockaddr_storage peer;
    socklen_t plen = sizeof peer;
    ssize_t n = recvfrom(fd, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *) &peer, &plen);
    if (n < 0)
      return;
    handle_query(s, fd, false, &peer, plen, buf, (size_t) n);
  }
}

void dns_tcp_done(struct dns_server *s, int fd, bool close_it)
{
  if (fd < 0)
    return;
  for (size_t i = 0; i < DNS_MAX_TCP; i++) {
    struct dns_tcp *c = &s->conns[i];
    if (c->fd != fd)
      continue;
    c->busy = false;
    c->have = 0;
    c->deadline = time(NULL) + DNS_TIMEOUT;
    if (close_it) {
      close(c->fd);
      c->fd = -1;
      free(c->buf);
      c->buf = NULL;
    }
  }
}

static void on_accept(struct dns_server *s, int lfd)
{
  int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (fd < 0)
    return;
  for (size_t i = 0; i < DNS_MAX_TCP; i++)
    if (s->conns[i].fd < 0) {
      s->conns[i] =
        (struct dns_tcp){ .fd = fd, .buf = xmalloc(2 + 65535), .deadline = time(NULL) + DNS_TIMEOUT };
      return;
    }
  close(fd); /* full: the client retries */
}

static void on_tcp(struct dns_server *s, struct dns_tcp *c)
{
  ssize_t n = recv(c->fd, c->buf + c->have, 2 + 65535 - c->have, MSG_DONTWAIT);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
    dns_tcp_done(s, c->fd, true);
    return;
  }
  if (n < 0)
    return;
  c->have += (size_t) n;
  if (c->have < 2)
    return;
  size_t want = (size_t) c->buf[0] << 8 | c->buf[1];
  if (c->have < 2 + want)
    return;
  c->busy = true;
  struct sockaddr_storage none;
  memset(&none, 0, sizeof none);
  /* the connection is now blocking for its answer (bounded writes) */
  (void) fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) & ~O_NONBLOCK);
  handle_query(s, c->fd, true, &none, 0, c->buf + 2, want);
}

static BERTH_WUR int listen_on(struct dns_server *s, size_t i, berth_error_t *err)
{
  const struct berth_net_addr *a = &s->o->listen[i];
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  socklen_t len;
  if (a->family == AF_INET) {
    struct sockaddr_in *in = (struct sockaddr_in *) &ss;
    in->sin_family = AF_INET;
    in->sin_port = htons(s->o->port);
    memcpy(&in->sin_addr, a->a, 4);
    len = sizeof *in;
  } else {
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) &ss;
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(s->o->port);
    memcpy(&in6->sin6_addr, a->a, 16);
    len = sizeof *in6;
  }
  char buf[BERTH_NET_ADDRSTRLEN];
  int one = 1;
  s->udp[i] = socket(a->family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  s->tcp[i] = socket(a->family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (s->udp[i] < 0 || s->tcp[i] < 0 ||
      setsockopt(s->tcp[i], SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
      bind(s->udp[i], (struct sockaddr *) &ss, len) < 0 ||
      bind(s->tcp[i], (struct sockaddr *) &ss, len) < 0 || listen(s->tcp[i], 64) < 0)
    return BERTH_ERR_ERRNO(err, "listen on %s port %u", berth_net_addr_str(a, buf), s->o->port);
  return 0;
}

static BERTH_WUR int setup(struct dns_server *s, berth_error_t *err)
{
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigprocmask(SIG_BLOCK, &set, NULL);
  signal(SIGPIPE, SIG_IGN);
  s->sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (s->sig_fd < 0)
    return BERTH_ERR_ERRNO(err, "signalfd");
  for (size_t i = 0; i < s->o->n_listen && i < 2; i++)
    if (listen_on(s, i, err) < 0)
      return -1;
  reload_names(s);
  if (s->names_gone)
    return BERTH_ERR(err, "names file `%s` does not exist", s->o->names_path);
  return 0;
}

/* fill fds: [listeners..., signal, connections..., upstreams...]; owners[] says which is which */
static size_t build_poll(struct dns_server *s, struct pollfd *fds, void **owners)
{
  size_t n = 0;
  for (size_t i = 0; i < s->o->n_listen && i < 2; i++) {
    fds[n] = (struct pollfd){ .fd = s->udp[i], .events = POLLIN };
    owners[n++] = &s->udp[i];
    fds[n] = (struct pollfd){ .fd = s->tcp[i], .events = POLLIN };
    owners[n++] = &s->tcp[i];
  }
  fds[n] = (struct pollfd){ .fd = s->sig_fd, .events = POLLIN };
  owners[n++] = &s->sig_fd;
  for (size_t i = 0; i < DNS_MAX_TCP; i++)
    if (s->conns[i].fd >= 0 && !s->conns[i].busy) {
      fds[n] = (struct pollfd){ .fd = s->conns[i].fd, .events = POLLIN };
      owners[n++] = &s->conns[i];
    }
  for (size_t i = 0; i < DNS_MAX_PENDING; i++)
    if (s->pend[i].fd >= 0) {
      short ev = s->pend[i].tcp && !s->pend[i].sent ? POLLOUT : POLLIN;
      fds[n] = (struct pollfd){ .fd = s->pend[i].fd, .events = ev };
      owners[n++] = &s->pend[i];
    }
  return n;
}

static void expire_conns(struct dns_server *s, time_t now)
{
  for (size_t i = 0; i < DNS_MAX_TCP; i++)
    if (s->conns[i].fd >= 0 && !s->conns[i].busy && now > s->conns[i].deadline)
      dns_tcp_done(s, s->conns[i].fd, true);
}

/* one poll round; false when the server should stop */
static bool serve_once(struct dns_server *s)
{
  struct pollfd *fds = s->fds;
  void **owners = s->owners;
  size_t n = build_poll(s, fds, owners);
  int r = poll(fds, n, 1000);
  if (r < 0 && errno != EINTR)
    return false;
  for (size_t i = 0; i < n && r > 0; i++) {
    if (fds[i].revents == 0)
      continue;
    void *o = owners[i];
    if (o == &s->sig_fd)
      return false;
    if (o == &s->udp[0] || o == &s->udp[1])
      on_udp(s, fds[i].fd);
    else if (o == &s->tcp[0] || o == &s->tcp[1])
      on_accept(s, fds[i].fd);
    else if ((struct dns_tcp *) o >= s->conns && (struct dns_tcp *) o < s->conns + DNS_MAX_TCP)
      on_tcp(s, o);
    else
      dns_forward_io(s, o, fds[i].revents);
  }
  time_t now = time(NULL);
  dns_forward_expire(s, now);
  expire_conns(s, now);
  reload_names(s);
  return !s->names_gone;
}

static void server_release(struct dns_server *s)
{
  for (size_t i = 0; i < 2; i++) {
    if (s->udp[i] >= 0)
      close(s->udp[i]);
    if (s->tcp[i] >= 0)
      close(s->tcp[i]);
  }
  if (s->sig_fd >= 0)
    close(s->sig_fd);
  for (size_t i = 0; i < DNS_MAX_TCP; i++)
    if (s->conns[i].fd >= 0)
      dns_tcp_done(s, s->conns[i].fd, true);
  for (size_t i = 0; i < DNS_MAX_PENDING; i++)
    dns_pending_free(&s->pend[i]);
  berth_dns_names_free(&s->names);
}

int berth_dns_serve(const struct berth_dns_server_opts *o, berth_error_t *err)
{
  struct dns_server *s = xcalloc(1, sizeof *s);
  s->o = o;
  s->udp[0] = s->udp[1] = s->tcp[0] = s->tcp[1] = s->sig_fd = -1;
  for (size_t i = 0; i < DNS_MAX_TCP; i++)
    s->conns[i].fd = -1;
  for (size_t i = 0; i < DNS_MAX_PENDING; i++)
    s->pend[i].fd = -1;
  int r = setup(s, err);
  if (o->ready_fd >= 0) {
    const char *msg = r < 0 ? (*err)->msg : "ok";
    dprintf(o->ready_fd, "%s\n", msg);
    close(o->ready_fd);
  }
  while (r == 0 && serve_once(s))
    ;
  server_release(s);
  free(s);
  return r;
}
