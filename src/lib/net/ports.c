/* Published ports, pure: the -p syntax (Docker's nat.ParsePortSpec), EXPOSE keys, conflicts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "base/cleanup.h"
#include "base/xalloc.h"
#include "net/net.h"

static const char *const proto_names[] = { "tcp", "udp", "sctp" };

const char *berth_net_proto_name(enum berth_net_proto p)
{
  return (unsigned) p < BERTH_N_ELEMENTS(proto_names) ? proto_names[p] : "?";
}

int berth_net_proto_parse(const char *s, enum berth_net_proto *out, berth_error_t *err)
{
  for (size_t i = 0; i < BERTH_N_ELEMENTS(proto_names); i++)
    if (strcasecmp(s, proto_names[i]) == 0) {
      *out = (enum berth_net_proto) i;
      return 0;
    }
  return BERTH_ERR(err, "invalid protocol \"%s\" (tcp, udp or sctp)", s);
}

/* "80" or "80-90" (0 < port <= 65535, lo <= hi); allow0: "0" means any */
static int parse_range(const char *s, size_t len, bool allow0, uint16_t *lo, uint16_t *hi)
{
  unsigned v[2] = { 0, 0 };
  int k = 0;
  size_t digits = 0;
  for (size_t i = 0; i < len; i++) {
    if (s[i] == '-' && k == 0 && digits > 0) {
      k = 1;
      digits = 0;
      continue;
    }
    if (s[i] < '0' || s[i] > '9' || ++digits > 5)
      return -1;
    v[k] = v[k] * 10 + (unsigned) (s[i] - '0');
  }
  if (digits == 0)
    return -1;
  if (k == 0)
    v[1] = v[0];
  if (v[0] > 65535 || v[1] > 65535 || v[0] > v[1] || (!allow0 && v[0] == 0) || (v[0] == 0 && v[1] != 0))
    return -1;
  *lo = (uint16_t) v[0];
  *hi = (uint16_t) v[1];
  return 0;
}

int berth_net_port_key_parse(const char *key, uint16_t *port, enum berth_net_proto *proto, berth_error_t *err)
{
  const char *slash = strchr(key, '/');
  size_t n = slash ? (size_t) (slash - key) : strlen(key);
  uint16_t hi;
  *proto = BERTH_NET_TCP;
  if (parse_range(key, n, false, port, &hi) < 0 || hi != *port)
    return BERTH_ERR(err, "invalid port \"%s\"", key);
  if (slash && berth_net_proto_parse(slash + 1, proto, err) < 0)
    return berth_error_wrap(err, "port \"%s\"", key);
  return 0;
}

/* split "[ip:][host:]ctr" at its colons, the ip possibly "[v6]" */
static int split_spec(const char *s, char *ip, size_t ipcap, const char **host, size_t *hlen,
                      const char **ctr)
{
  ip[0] = '\0';
  *host = NULL;
  *hlen = 0;
  if (s[0] == '[') {
    const char *close = strchr(s, ']');
    if (close == NULL || close[1] != ':' || (size_t) (close - s - 1) >= ipcap || close == s + 1)
      return -1;
    memcpy(ip, s + 1, (size_t) (close - s - 1));
    ip[close - s - 1] = '\0';
    s = close + 2;
    const char *c = strchr(s, ':');
    if (c == NULL || strchr(c + 1, ':'))
      return -1;
    *host = s;
    *hlen = (size_t) (c - s);
    *ctr = c + 1;
    return 0;
  }
  const char *c1 = strchr(s, ':');
  if (c1 == NULL) {
    *ctr = s;
    return 0;
  }
  const char *c2 = strchr(c1 + 1, ':');
  if (c2 == NULL) {
    *host = s;
    *hlen = (size_t) (c1 - s);
    *ctr = c1 + 1;
    return 0;
  }
  if (strchr(c2 + 1, ':') || (size_t) (c1 - s) >= ipcap || c1 == s)
    return -1; /* an IPv6 address needs its brackets */
  memcpy(ip, s, (size_t) (c1 - s));
  ip[c1 - s] = '\0';
  *host = c1 + 1;
  *hlen = (size_t) (c2 - c1 - 1);
  *ctr = c2 + 1;
  return 0;
}

int berth_net_ports_parse(const char *spec, struct berth_net_port **out, size_t *n, berth_error_t *err)
{
  *out = NULL;
  *n = 0;
  char ip[BERTH_NET_ADDRSTRLEN];
  const char *host, *ctr;
  size_t hlen;
  if (spec == NULL || strlen(spec) > 128 || split_spec(spec, ip, sizeof ip, &host, &hlen, &ctr) < 0)
    return BERTH_ERR(err, "invalid port specification \"%s\"", spec ? spec : "");
  struct berth_net_port base = { .proto = BERTH_NET_TCP };
  const char *slash = strchr(ctr, '/');
  size_t clen = slash ? (size_t) (slash - ctr) : strlen(ctr);
  if (slash && berth_net_proto_parse(slash + 1, &base.proto, err) < 0)
    return berth_error_wrap(err, "invalid port specification \"%s\"", spec);
  if (ip[0] != '\0' && berth_net_addr_parse(ip, &base.host_ip, err) < 0)
    return berth_error_wrap(err, "invalid port specification \"%s\"", spec);
  uint16_t clo, chi, hlo = 0, hhi = 0;
  if (parse_range(ctr, clen, false, &clo, &chi) < 0)
    return BERTH_ERR(err, "invalid port specification \"%s\": invalid container port", spec);
  if (hlen > 0 && parse_range(host, hlen, true, &hlo, &hhi) < 0)
    return BERTH_ERR(err, "invalid port specification \"%s\": invalid host port", spec);
  size_t count = (size_t) (chi - clo) + 1;
  bool host_range = hhi > hlo;
  if (host_range && count > 1 && (size_t) (hhi - hlo) + 1 != count)
    return BERTH_ERR(
      err, "invalid port specification \"%s\": host and container port ranges differ in length", spec);
  if (!host_range && hlo != 0 && count > 1)
    return BERTH_ERR(err, "invalid port specification \"%s\": one host port for a range of container ports",
                     spec);
  struct berth_net_port *v = xcalloc(count, sizeof *v);
  for (size_t i = 0; i < count; i++) {
    v[i] = base;
    v[i].ctr_port = (uint16_t) (clo + i);
    if (host_range && count > 1) {
      v[i].host_port = (uint16_t) (hlo + i);
    } else if (host_range) {
      v[i].host_port = hlo;
      v[i].host_port_end = hhi;
    } else {
      v[i].host_port = hlo;
    }
  }
  *out = v;
  *n = count;
  return 0;
}

bool berth_net_port_conflict(const struct berth_net_port *a, const struct berth_net_port *b)
{
  if (a->proto != b->proto || a->host_port != b->host_port || a->host_port == 0)
    return false;
  if (a->host_ip.family == 0 || b->host_ip.family == 0)
    return true;
  if (a->host_ip.family != b->host_ip.family)
    return false;
  return berth_net_addr_is_any(&a->host_ip) || berth_net_addr_is_any(&b->host_ip) ||
         berth_net_addr_eq(&a->host_ip, &b->host_ip);
}
