/* Published ports on the host: is a port free, which free port to take. Kernel DNAT binds no
 * socket, so a port a host process listens on would be shadowed without this check. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "net/net.h"

#ifndef IPPROTO_SCTP
#define IPPROTO_SCTP 132
#endif

static socklen_t fill_sockaddr(const struct berth_net_addr *ip, int family, uint16_t port,
                               struct sockaddr_storage *ss)
{
  memset(ss, 0, sizeof *ss);
  if (family == AF_INET) {
    struct sockaddr_in *in = (struct sockaddr_in *) ss;
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    if (ip->family == AF_INET)
      memcpy(&in->sin_addr, ip->a, 4);
    return sizeof *in;
  }
  struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) ss;
  in6->sin6_family = AF_INET6;
  in6->sin6_port = htons(port);
  if (ip->family == AF_INET6)
    memcpy(&in6->sin6_addr, ip->a, 16);
  return sizeof *in6;
}

/* bind proto on family/ip:port; the port bound (the kernel's pick when port is 0), 0 when the
 * family or protocol is missing here, -1 with errno */
static int try_bind(const struct berth_net_addr *ip, int family, uint16_t port, enum berth_net_proto proto)
{
  int type = proto == BERTH_NET_UDP ? SOCK_DGRAM : SOCK_STREAM;
  int p = proto == BERTH_NET_SCTP ? IPPROTO_SCTP : 0;
  cleanup_close int fd = socket(family, type | SOCK_CLOEXEC, p);
  if (fd < 0)
    return errno == EAFNOSUPPORT || errno == EPROTONOSUPPORT || errno == ESOCKTNOSUPPORT ? 0 : -1;
  if (family == AF_INET6) { /* [::]:port must not also claim 0.0.0.0:port: families are checked apart */
    int one = 1;
    (void) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  }
  struct sockaddr_storage ss;
  socklen_t len = fill_sockaddr(ip, family, port, &ss);
  if (bind(fd, (struct sockaddr *) &ss, len) < 0)
    return errno == EADDRNOTAVAIL && family == AF_INET6 && ip->family == 0 ? 0 : -1;
  if (port != 0)
    return port;
  if (getsockname(fd, (struct sockaddr *) &ss, &len) < 0)
    return -1;
  return ntohs(family == AF_INET ? ((struct sockaddr_in *) &ss)->sin_port
                                 : ((struct sockaddr_in6 *) &ss)->sin6_port);
}

int berth_net_port_probe(const struct berth_net_addr *host_ip, uint16_t port, enum berth_net_proto proto,
                         berth_error_t *err)
{
  int families[2] = { AF_INET, AF_INET6 };
  size_t nf = 2;
  if (host_ip->family != 0) {
    families[0] = host_ip->family;
    nf = 1;
  }
  for (size_t i = 0; i < nf; i++) {
    if (try_bind(host_ip, families[i], port, proto) >= 0)
      continue;
    char a[BERTH_NET_ADDRSTRLEN];
    berth_net_addr_str(host_ip, a);
    if (errno == EADDRINUSE)
      return BERTH_ERR(err, "port %u/%s is already in use on the host%s%s", port, berth_net_proto_name(proto),
                       a[0] ? " at " : "", a);
    return BERTH_ERR_ERRNO(err, "port %u/%s%s%s", port, berth_net_proto_name(proto), a[0] ? " at " : "", a);
  }
  return 0;
}

static bool taken_by(const struct berth_net_port *p, uint16_t port, const struct berth_net_port *taken,
                     size_t n)
{
  struct berth_net_port c = *p;
  c.host_port = port;
  for (size_t i = 0; i < n; i++)
    if (berth_net_port_conflict(&c, &taken[i]))
      return true;
  return false;
}

int berth_net_port_choose(struct berth_net_port *p, const struct berth_net_port *taken, size_t n_taken,
                          berth_error_t *err)
{
  const char *proto = berth_net_proto_name(p->proto);
  if (p->host_port != 0 && p->host_port_end <= p->host_port) {
    if (taken_by(p, p->host_port, taken, n_taken))
      return BERTH_ERR(err, "port %u/%s is already published by another container", p->host_port, proto);
    return berth_net_port_probe(&p->host_ip, p->host_port, p->proto, err);
  }
  if (p->host_port != 0) { /* the first free port of the range */
    for (unsigned port = p->host_port; port <= p->host_port_end; port++) {
      berth_error_t e = NULL;
      if (taken_by(p, (uint16_t) port, taken, n_taken) ||
          berth_net_port_probe(&p->host_ip, (uint16_t) port, p->proto, &e) < 0) {
        berth_error_release(&e);
        continue;
      }
      p->host_port = (uint16_t) port;
      p->host_port_end = 0;
      return 0;
    }
    return BERTH_ERR(err, "no free port in %u-%u/%s", p->host_port, p->host_port_end, proto);
  }
  /* the kernel's pick from the ephemeral range; again when another container has it */
  int family = p->host_ip.family ? p->host_ip.family : AF_INET;
  for (int tries = 0; tries < 64; tries++) {
    int port = try_bind(&p->host_ip, family, 0, p->proto);
    if (port < 0)
      return BERTH_ERR_ERRNO(err, "choose a host port for %u/%s", p->ctr_port, proto);
    if (port == 0)
      return BERTH_ERR(err, "choose a host port for %u/%s: protocol not available", p->ctr_port, proto);
    berth_error_t e = NULL;
    if (taken_by(p, (uint16_t) port, taken, n_taken) ||
        berth_net_port_probe(&p->host_ip, (uint16_t) port, p->proto, &e) < 0) {
      berth_error_release(&e);
      continue;
    }
    p->host_port = (uint16_t) port;
    return 0;
  }
  return BERTH_ERR(err, "choose a host port for %u/%s: none free", p->ctr_port, proto);
}
