/* Internal to the resolver (dns_server.c, dns_forward.c). */
#ifndef BERTH_NET_DNS_INT_H
#define BERTH_NET_DNS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include "net/net.h"

#define DNS_MAX_PENDING 256 /* queries forwarded and not answered yet */
#define DNS_MAX_TCP     64  /* client connections */
#define DNS_UDP_MAX     4096
#define DNS_TIMEOUT     5 /* seconds for an upstream answer, or a TCP client's query */

/* a query sent upstream */
struct dns_pending {
  int fd;        /* the socket to the upstream, -1: slot free */
  bool tcp;      /* the client came over TCP (the upstream is asked over TCP too) */
  int client_fd; /* UDP: the listening socket; TCP: the client's connection */
  struct sockaddr_storage peer;
  socklen_t peer_len;
  uint8_t *query; /* as the client sent it (without TCP's length) */
  size_t qlen;
  size_t upstream; /* index of the upstream asked */
  time_t deadline;
  bool sent;   /* TCP: the query went out */
  uint8_t *in; /* TCP: the answer so far, length prefix included */
  size_t in_have;
};

/* a TCP client connection reading its query */
struct dns_tcp {
  int fd; /* -1: slot free */
  uint8_t *buf;
  size_t have;
  time_t deadline;
  bool busy; /* its query is upstream: the connection waits for the answer */
};

struct dns_server {
  const struct berth_dns_server_opts *o;
  int udp[2], tcp[2];
  int sig_fd;
  struct berth_dns_names names;
  struct stat names_st;
  bool names_gone;
  struct dns_pending pend[DNS_MAX_PENDING];
  struct dns_tcp conns[DNS_MAX_TCP];
  struct pollfd fds[5 + DNS_MAX_TCP + DNS_MAX_PENDING]; /* one poll round's set */
  void *owners[5 + DNS_MAX_TCP + DNS_MAX_PENDING];      /* what each of fds belongs to */
};

/* send a message to a client: a datagram, or length-prefixed on its connection */
void dns_send_client(int fd, bool tcp, const struct sockaddr_storage *peer, socklen_t peer_len,
                     const uint8_t *msg, size_t len);
/* ask the next upstream; false when there is none left (the caller answers SERVFAIL) */
bool dns_forward(struct dns_server *s, int client_fd, bool tcp, const struct sockaddr_storage *peer,
                 socklen_t peer_len, const uint8_t *msg, size_t len);
/* an upstream socket is ready */
void dns_forward_io(struct dns_server *s, struct dns_pending *p, short revents);
/* drop what waited too long (or ask the next upstream) */
void dns_forward_expire(struct dns_server *s, time_t now);
void dns_pending_free(struct dns_pending *p);
/* a SERVFAIL for the query msg (its header echoed), when it has one */
void dns_servfail(int fd, bool tcp, const struct sockaddr_storage *peer, socklen_t peer_len,
                  const uint8_t *msg, size_t len);
/* the TCP client connection of fd is done with its query (answered or failed) */
void dns_tcp_done(struct dns_server *s, int fd, bool close_it);

#endif
