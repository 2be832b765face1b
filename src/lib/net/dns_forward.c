/* The resolver's upstream side: a query that is not ours goes to the first upstream, the next
 * one when that refuses or does not answer in time; UDP queries over UDP, TCP ones over TCP.
 * One socket per query, so an answer can only come from the server asked. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/xalloc.h"
#include "net/dns_int.h"
#include "net/net.h"

void dns_pending_free(struct dns_pending *p)
{
  if (p->fd >= 0)
    close(p->fd);
  free(p->query);
  free(p->in);
  memset(p, 0, sizeof *p);
  p->fd = -1;
  p->client_fd = -1;
}

static socklen_t upstream_addr(const struct berth_dns_server_opts *o, size_t i, struct sockaddr_storage *ss)
{
  memset(ss, 0, sizeof *ss);
  uint16_t port = o->upstream_port[i] ? o->upstream_port[i] : 53;
  if (o->upstream[i].family == AF_INET) {
    struct sockaddr_in *in = (struct sockaddr_in *) ss;
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    memcpy(&in->sin_addr, o->upstream[i].a, 4);
    return sizeof *in;
  }
  struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) ss;
  in6->sin6_family = AF_INET6;
  in6->sin6_port = htons(port);
  memcpy(&in6->sin6_addr, o->upstream[i].a, 16);
  return sizeof *in6;
}

/* connect a socket to upstream p->upstream and send (UDP) or start connecting (TCP) */
static int ask(struct dns_server *s, struct dns_pending *p)
{
  struct sockaddr_storage ss;
  socklen_t len = upstream_addr(s->o, p->upstream, &ss);
  int fd = socket(ss.ss_family, (p->tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0)
    return -1;
  if (connect(fd, (struct sockaddr *) &ss, len) < 0 && errno != EINPROGRESS) {
    close(fd);
    return -1;
  }
  if (!p->tcp && send(fd, p->query, p->qlen, MSG_NOSIGNAL) < 0) {
    close(fd);
    return -1;
  }
  p->fd = fd;
  p->sent = !p->tcp;
  p->in_have = 0;
  p->deadline = time(NULL) + DNS_TIMEOUT;
  return 0;
}

/* the next upstream that takes the query; false when none is left */
static bool ask_next(struct dns_server *s, struct dns_pending *p)
{
  for (; p->upstream < s->o->n_upstream; p->upstream++)
    if (ask(s, p) == 0)
      return true;
  return false;
}

bool dns_forward(struct dns_server *s, int client_fd, bool tcp, const struct sockaddr_storage *peer,
                 socklen_t peer_len, const uint8_t *msg, size_t len)
{
  struct dns_pending *p = NULL;
  for (size_t i = 0; i < DNS_MAX_PENDING && p == NULL; i++)
    if (s->pend[i].fd < 0)
      p = &s->pend[i];
  if (p == NULL || s->o->n_upstream == 0)
    return false;
  memset(p, 0, sizeof *p);
  p->fd = -1;
  p->tcp = tcp;
  p->client_fd = client_fd;
  p->peer = *peer;
  p->peer_len = peer_len;
  p->query = xmalloc(len);
  memcpy(p->query, msg, len);
  p->qlen = len;
  if (ask_next(s, p))
    return true;
  dns_pending_free(p);
  return false;
}

/* the answer to the client, and the slot freed */
static void finish(struct dns_server *s, struct dns_pending *p, const uint8_t *answer, size_t len)
{
  if (answer)
    dns_send_client(p->client_fd, p->tcp, &p->peer, p->peer_len, answer, len);
  else
    dns_servfail(p->client_fd, p->tcp, &p->peer, p->peer_len, p->query, p->qlen);
  if (p->tcp)
    dns_tcp_done(s, p->client_fd, false);
  dns_pending_free(p);
}

/* this upstream failed: the next one, or SERVFAIL */
static void fail_over(struct dns_server *s, struct dns_pending *p)
{
  close(p->fd);
  p->fd = -1;
  p->upstream++;
  if (!ask_next(s, p))
    finish(s, p, NULL, 0);
}

static void tcp_io(struct dns_server *s, struct dns_pending *p, short revents)
{
  if (!p->sent) {
    uint8_t *out = xmalloc(p->qlen + 2);
    out[0] = (uint8_t) (p->qlen >> 8);
    out[1] = (uint8_t) p->qlen;
    memcpy(out + 2, p->query, p->qlen);
    ssize_t n = (revents & (POLLERR | POLLHUP)) ? -1 : send(p->fd, out, p->qlen + 2, MSG_NOSIGNAL);
    free(out);
    if (n != (ssize_t) (p->qlen + 2)) { /* a fresh connection takes 2 + 64 KiB at once, or failed */
      fail_over(s, p);
      return;
    }
    p->sent = true;
    p->in = xmalloc(2 + 65535);
    return;
  }
  ssize_t n = recv(p->fd, p->in + p->in_have, 2 + 65535 - p->in_have, MSG_DONTWAIT);
  if (n <= 0) {
    if (n == 0 || (errno != EAGAIN && errno != EINTR))
      fail_over(s, p);
    return;
  }
  p->in_have += (size_t) n;
  size_t want = p->in_have >= 2 ? (size_t) p->in[0] << 8 | p->in[1] : SIZE_MAX;
  if (want != SIZE_MAX && p->in_have >= 2 + want)
    finish(s, p, p->in + 2, want);
}

void dns_forward_io(struct dns_server *s, struct dns_pending *p, short revents)
{
  if (p->tcp) {
    tcp_io(s, p, revents);
    return;
  }
  uint8_t buf[DNS_UDP_MAX];
  ssize_t n = recv(p->fd, buf, sizeof buf, MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return;
  if (n < 12) { /* refused (ICMP), or not an answer */
    fail_over(s, p);
    return;
  }
  if (memcmp(buf, p->query, 2) != 0)
    return; /* not the answer to our id: keep waiting */
  finish(s, p, buf, (size_t) n);
}

void dns_forward_expire(struct dns_server *s, time_t now)
{
  for (size_t i = 0; i < DNS_MAX_PENDING; i++)
    if (s->pend[i].fd >= 0 && now > s->pend[i].deadline)
      fail_over(s, &s->pend[i]);
}
