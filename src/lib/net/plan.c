/* The link plan, pure: what joins a container's network namespace to a bridge, as a list of
 * operations the executor (link.c) runs in order. Everything is checked here, before the
 * first netlink message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "base/strbuf.h"
#include "base/xalloc.h"
#include "net/net.h"

bool berth_net_ifname_valid(const char *name)
{
  size_t n = name ? strlen(name) : 0;
  if (n == 0 || n >= BERTH_NET_IFNAMSIZ || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
    return false;
  for (size_t i = 0; i < n; i++)
    if (name[i] == '/' || name[i] == ':' || name[i] == '"' || name[i] == '\\' ||
        (unsigned char) name[i] <= ' ' || (unsigned char) name[i] >= 0x7f)
      return false;
  return true;
}

static struct berth_net_op *add(struct berth_net_plan *p, enum berth_net_op_kind kind, bool in_ctr,
                                const char *ifname)
{
  p->ops = xreallocarray(p->ops, p->n + 1, sizeof *p->ops);
  struct berth_net_op *op = &p->ops[p->n++];
  memset(op, 0, sizeof *op);
  op->kind = kind;
  op->in_ctr = in_ctr;
  if (ifname)
    snprintf(op->ifname, sizeof op->ifname, "%s", ifname);
  return op;
}

static void add_sysctl(struct berth_net_plan *p, bool in_ctr, const char *value, const char *path)
{
  struct berth_net_op *op = add(p, BERTH_NET_OP_SYSCTL, in_ctr, NULL);
  snprintf(op->path, sizeof op->path, "%s", path);
  snprintf(op->value, sizeof op->value, "%s", value);
}

static BERTH_WUR int check(const struct berth_net_bridge *br, const struct berth_net_attachment *at,
                           berth_error_t *err)
{
  if (!berth_net_ifname_valid(br->name) || !berth_net_ifname_valid(at->host_if) ||
      !berth_net_ifname_valid(at->ctr_if))
    return BERTH_ERR(err, "invalid interface name (bridge \"%s\", veth \"%s\", container \"%s\")",
                     br->name ? br->name : "", at->host_if, at->ctr_if);
  if (strcmp(at->ctr_if, "lo") == 0)
    return BERTH_ERR(err, "invalid interface name \"lo\" in the container");
  if (br->n_subnets < 1 || br->n_subnets > 2)
    return BERTH_ERR(err, "network %s: %zu subnets (1 or 2)", br->name, br->n_subnets);
  if (br->mtu != 0 && (br->mtu < 68 || br->mtu > 65535))
    return BERTH_ERR(err, "network %s: MTU %u out of range (68-65535)", br->name, br->mtu);
  for (size_t i = 0; i < br->n_subnets; i++) {
    char a[BERTH_NET_ADDRSTRLEN], s[BERTH_NET_PREFIXSTRLEN];
    const struct berth_net_prefix *sub = &br->subnet[i];
    berth_net_prefix_str(sub, s);
    if (sub->addr.family == 0 || (i == 1 && sub->addr.family == br->subnet[0].addr.family))
      return BERTH_ERR(err, "network %s: one subnet per address family", br->name);
    if (br->gateway[i].family != 0 && !berth_net_prefix_contains(sub, &br->gateway[i]))
      return BERTH_ERR(err, "network %s: gateway %s is not inside subnet %s", br->name,
                       berth_net_addr_str(&br->gateway[i], a), s);
    if (!berth_net_prefix_contains(sub, &at->addr[i]))
      return BERTH_ERR(err, "network %s: address %s is not inside subnet %s", br->name,
                       berth_net_addr_str(&at->addr[i], a), s);
    if (br->gateway[i].family != 0 && berth_net_addr_eq(&br->gateway[i], &at->addr[i]))
      return BERTH_ERR(err, "network %s: address %s is the gateway's", br->name, a);
  }
  if (at->mac[0] & 1)
    return BERTH_ERR(err, "invalid MAC address: a multicast address");
  return 0;
}

static void plan_host(const struct berth_net_bridge *br, const struct berth_net_attachment *at,
                      struct berth_net_plan *p)
{
  struct berth_net_op *op = add(p, BERTH_NET_OP_BRIDGE, false, br->name);
  op->mtu = br->mtu;
  for (size_t i = 0; i < br->n_subnets; i++) {
    if (br->gateway[i].family == 0)
      continue;
    op = add(p, BERTH_NET_OP_ADDR, false, br->name);
    op->addr.addr = br->gateway[i];
    op->addr.len = br->subnet[i].len;
  }
  for (size_t i = 0; i < br->n_subnets && !br->internal; i++) {
    if (br->subnet[i].addr.family == AF_INET) {
      char path[96];
      add_sysctl(p, false, "1", "net/ipv4/ip_forward");
      /* the host's own 127.0.0.1 reaches published ports: DNAT in output, then out this bridge */
      snprintf(path, sizeof path, "net/ipv4/conf/%s/route_localnet", br->name);
      add_sysctl(p, false, "1", path);
    } else {
      add_sysctl(p, false, "1", "net/ipv6/conf/all/forwarding");
    }
  }
  op = add(p, BERTH_NET_OP_VETH, false, at->host_if);
  snprintf(op->peer, sizeof op->peer, "%s", at->ctr_if);
  snprintf(op->master, sizeof op->master, "%s", br->name);
  op->mtu = br->mtu;
  add(p, BERTH_NET_OP_LINK_UP, false, at->host_if);
}

static void plan_ctr(const struct berth_net_bridge *br, const struct berth_net_attachment *at,
                     struct berth_net_plan *p)
{
  add(p, BERTH_NET_OP_LINK_UP, true, "lo");
  for (size_t i = 0; i < br->n_subnets; i++) {
    struct berth_net_op *op = add(p, BERTH_NET_OP_ADDR, true, at->ctr_if);
    op->addr.addr = at->addr[i];
    op->addr.len = br->subnet[i].len;
  }
  struct berth_net_op *up = add(p, BERTH_NET_OP_LINK_UP, true, at->ctr_if);
  memcpy(up->mac, at->mac, 6);
  up->has_mac = (at->mac[0] | at->mac[1] | at->mac[2] | at->mac[3] | at->mac[4] | at->mac[5]) != 0;
  for (size_t i = 0; i < br->n_subnets && at->default_route && !br->internal; i++) {
    if (br->gateway[i].family == 0)
      continue;
    struct berth_net_op *op = add(p, BERTH_NET_OP_ROUTE, true, at->ctr_if);
    op->gw = br->gateway[i];
  }
}

int berth_net_plan_attach(const struct berth_net_bridge *br, const struct berth_net_attachment *at,
                          struct berth_net_plan *out, berth_error_t *err)
{
  out->ops = NULL;
  out->n = 0;
  if (check(br, at, err) < 0)
    return -1;
  plan_host(br, at, out);
  plan_ctr(br, at, out);
  return 0;
}

void berth_net_plan_free(struct berth_net_plan *p)
{
  free(p->ops);
  p->ops = NULL;
  p->n = 0;
}

char *berth_net_op_str(const struct berth_net_op *op)
{
  struct berth_strbuf b = BERTH_STRBUF_INIT;
  char a[BERTH_NET_PREFIXSTRLEN], m[18];
  const char *where = op->in_ctr ? "container" : "host";
  switch (op->kind) {
  case BERTH_NET_OP_BRIDGE: berth_strbuf_printf(&b, "bridge %s mtu %u", op->ifname, op->mtu); break;
  case BERTH_NET_OP_ADDR:
    berth_strbuf_printf(&b, "addr %s on %s", berth_net_prefix_str(&op->addr, a), op->ifname);
    break;
  case BERTH_NET_OP_SYSCTL: berth_strbuf_printf(&b, "sysctl %s=%s", op->path, op->value); break;
  case BERTH_NET_OP_VETH:
    berth_strbuf_printf(&b, "veth %s master %s mtu %u peer %s", op->ifname, op->master, op->mtu, op->peer);
    break;
  case BERTH_NET_OP_LINK_UP:
    berth_strbuf_printf(&b, "up %s", op->ifname);
    if (op->has_mac)
      berth_strbuf_printf(&b, " mac %s", (berth_net_mac_str(op->mac, m), m));
    break;
  case BERTH_NET_OP_ROUTE:
    berth_strbuf_printf(&b, "route default via %s dev %s", berth_net_addr_str(&op->gw, a), op->ifname);
    break;
  }
  berth_strbuf_printf(&b, " (%s)", where);
  return berth_strbuf_detach(&b);
}
