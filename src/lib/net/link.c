/* The link executor: runs a plan (plan.c) over rtnetlink, the container's side through a
 * socket opened inside its network namespace. */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/veth.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/xalloc.h"
#include "net/link_int.h"
#include "net/net.h"
#include "net/rtnl.h"

static void on_link(const struct nlmsghdr *h, void *data)
{
  struct link_info *li = data;
  if (h->nlmsg_type != RTM_NEWLINK || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg)))
    return;
  const struct ifinfomsg *ifi = NLMSG_DATA(h);
  li->index = ifi->ifi_index;
  const struct rtattr *a = rtnl_find(h, sizeof *ifi, IFLA_MTU);
  if (a && RTA_PAYLOAD(a) >= 4)
    memcpy(&li->mtu, RTA_DATA(a), 4);
  a = rtnl_find(h, sizeof *ifi, IFLA_MASTER);
  if (a && RTA_PAYLOAD(a) >= 4)
    memcpy(&li->master, RTA_DATA(a), 4);
  a = rtnl_find(h, sizeof *ifi, IFLA_LINKINFO);
  if (a == NULL)
    return;
  const struct rtattr *k = RTA_DATA(a);
  unsigned int len = RTA_PAYLOAD(a);
  for (; RTA_OK(k, len); k = RTA_NEXT(k, len))
    if (k->rta_type == IFLA_INFO_KIND)
      snprintf(li->kind, sizeof li->kind, "%.*s", (int) RTA_PAYLOAD(k), (const char *) RTA_DATA(k));
}

int link_get(int fd, const char *name, struct link_info *li)
{
  memset(li, 0, sizeof *li);
  struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
  struct rtnl_msg m;
  rtnl_init(&m, RTM_GETLINK, 0, &ifi, sizeof ifi);
  rtnl_attr_str(&m, IFLA_IFNAME, name);
  int r = rtnl_request(fd, &m, on_link, li);
  if (r == 0 && li->index <= 0)
    r = -ENODEV;
  return r;
}

static void random_mac(uint8_t mac[6])
{
  if (getrandom(mac, 6, GRND_NONBLOCK) != 6)
    memset(mac, 0x5a, 6);
  mac[0] = (uint8_t) ((mac[0] & 0xfe) | 0x02); /* unicast, locally administered */
}

/* the bridge, made unless it exists (then it must be a bridge); up */
static BERTH_WUR int op_bridge(struct link_exec *x, const struct berth_net_op *op, berth_error_t *err)
{
  struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_flags = IFF_UP, .ifi_change = IFF_UP };
  struct rtnl_msg m;
  uint8_t mac[6];
  random_mac(mac); /* a fixed MAC: otherwise the bridge takes its ports' and changes as they come and go */
  rtnl_init(&m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof ifi);
  rtnl_attr_str(&m, IFLA_IFNAME, op->ifname);
  rtnl_attr(&m, IFLA_ADDRESS, mac, 6);
  if (op->mtu)
    rtnl_attr_u32(&m, IFLA_MTU, op->mtu);
  struct rtattr *info = rtnl_nest_begin(&m, IFLA_LINKINFO);
  rtnl_attr_str(&m, IFLA_INFO_KIND, "bridge");
  rtnl_nest_end(&m, info);
  int r = rtnl_talk(x->host_fd, &m);
  if (r == 0) {
    x->made_bridge = true;
    snprintf(x->bridge, sizeof x->bridge, "%s", op->ifname);
    return 0;
  }
  if (r != -EEXIST)
    return berth_error_make(err, -r, "create bridge %s", op->ifname);
  struct link_info li;
  if ((r = link_get(x->host_fd, op->ifname, &li)) < 0)
    return berth_error_make(err, -r, "bridge %s", op->ifname);
  if (strcmp(li.kind, "bridge") != 0)
    return BERTH_ERR(err, "a link named %s exists and is not a bridge (%s)", op->ifname,
                     li.kind[0] ? li.kind : "device");
  return link_set_up(x->host_fd, li.index, NULL, err) < 0 ? berth_error_wrap(err, "bridge %s", op->ifname)
                                                          : 0;
}

int link_set_up(int fd, int index, const uint8_t *mac, berth_error_t *err)
{
  struct ifinfomsg ifi = {
    .ifi_family = AF_UNSPEC, .ifi_index = index, .ifi_flags = IFF_UP, .ifi_change = IFF_UP
  };
  struct rtnl_msg m;
  rtnl_init(&m, RTM_NEWLINK, 0, &ifi, sizeof ifi);
  if (mac)
    rtnl_attr(&m, IFLA_ADDRESS, mac, 6);
  int r = rtnl_talk(fd, &m);
  return r < 0 ? berth_error_make(err, -r, mac ? "set MAC address and up" : "set up") : 0;
}

static BERTH_WUR int op_addr(int fd, const struct berth_net_op *op, berth_error_t *err)
{
  char s[BERTH_NET_PREFIXSTRLEN];
  struct link_info li;
  int r = link_get(fd, op->ifname, &li);
  if (r < 0)
    return berth_error_make(err, -r, "add address %s to %s", berth_net_prefix_str(&op->addr, s), op->ifname);
  size_t alen = berth_net_addr_len(&op->addr.addr);
  bool v6 = op->addr.addr.family == AF_INET6;
  struct ifaddrmsg ifa = { .ifa_family = op->addr.addr.family,
                           .ifa_prefixlen = op->addr.len,
                           .ifa_flags = v6 ? IFA_F_NODAD : 0,
                           .ifa_index = (unsigned) li.index };
  struct rtnl_msg m;
  rtnl_init(&m, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, &ifa, sizeof ifa);
  rtnl_attr(&m, IFA_LOCAL, op->addr.addr.a, alen);
  rtnl_attr(&m, IFA_ADDRESS, op->addr.addr.a, alen);
  if (v6) { /* no duplicate address detection: the address works at once (netavark too) */
    rtnl_attr_u32(&m, IFA_FLAGS, IFA_F_NODAD);
  } else {
    struct berth_net_prefix p;
    struct berth_net_addr bcast;
    berth_net_prefix_of(&op->addr.addr, op->addr.len, &p);
    berth_net_prefix_last(&p, &bcast);
    rtnl_attr(&m, IFA_BROADCAST, bcast.a, 4);
  }
  r = rtnl_talk(fd, &m);
  if (r < 0 && !(r == -EEXIST && !op->in_ctr))
    return berth_error_make(err, -r, "add address %s to %s", berth_net_prefix_str(&op->addr, s), op->ifname);
  return 0;
}

static BERTH_WUR int op_veth(struct link_exec *x, const struct berth_net_op *op, berth_error_t *err)
{
  struct link_info br;
  int r = link_get(x->host_fd, op->master, &br);
  if (r < 0)
    return berth_error_make(err, -r, "veth %s: bridge %s", op->ifname, op->master);
  unsigned mtu = op->mtu ? op->mtu : br.mtu; /* the MTU is the bridge's */
  struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
  struct rtnl_msg m;
  rtnl_init(&m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof ifi);
  rtnl_attr_str(&m, IFLA_IFNAME, op->ifname);
  rtnl_attr_u32(&m, IFLA_MASTER, (uint32_t) br.index);
  if (mtu)
    rtnl_attr_u32(&m, IFLA_MTU, mtu);
  struct rtattr *info = rtnl_nest_begin(&m, IFLA_LINKINFO);
  rtnl_attr_str(&m, IFLA_INFO_KIND, "veth");
  struct rtattr *data = rtnl_nest_begin(&m, IFLA_INFO_DATA);
  struct rtattr *peer = rtnl_nest_begin(&m, VETH_INFO_PEER);
  struct ifinfomsg pifi = { .ifi_family = AF_UNSPEC };
  rtnl_put(&m, &pifi, sizeof pifi);
  rtnl_attr_str(&m, IFLA_IFNAME, op->peer);
  rtnl_attr_u32(&m, IFLA_NET_NS_FD, (uint32_t) x->netns_fd);
  if (mtu)
    rtnl_attr_u32(&m, IFLA_MTU, mtu);
  rtnl_nest_end(&m, peer);
  rtnl_nest_end(&m, data);
  rtnl_nest_end(&m, info);
  r = rtnl_talk(x->host_fd, &m);
  if (r == -EEXIST)
    return BERTH_ERR(err, "create veth %s (peer %s in the container): a link of that name exists", op->ifname,
                     op->peer);
  if (r < 0)
    return berth_error_make(err, -r, "create veth %s (peer %s in the container)", op->ifname, op->peer);
  snprintf(x->veth, sizeof x->veth, "%s", op->ifname);
  return 0;
}

static BERTH_WUR int op_route(int fd, const struct berth_net_op *op, berth_error_t *err)
{
  char a[BERTH_NET_ADDRSTRLEN];
  struct link_info li;
  int r = link_get(fd, op->ifname, &li);
  if (r == 0) {
    struct rtmsg rt = { .rtm_family = op->gw.family,
                        .rtm_table = RT_TABLE_MAIN,
                        .rtm_protocol = RTPROT_BOOT,
                        .rtm_scope = RT_SCOPE_UNIVERSE,
                        .rtm_type = RTN_UNICAST };
    struct rtnl_msg m;
    rtnl_init(&m, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, &rt, sizeof rt);
    rtnl_attr(&m, RTA_GATEWAY, op->gw.a, berth_net_addr_len(&op->gw));
    rtnl_attr_u32(&m, RTA_OIF, (uint32_t) li.index);
    r = rtnl_talk(fd, &m);
  }
  return r < 0 ? berth_error_make(err, -r, "default route via %s on %s", berth_net_addr_str(&op->gw, a),
                                  op->ifname)
               : 0;
}

static BERTH_WUR int op_up(int fd, const struct berth_net_op *op, berth_error_t *err)
{
  struct link_info li;
  int r = link_get(fd, op->ifname, &li);
  if (r < 0)
    return berth_error_make(err, -r, "set %s up", op->ifname);
  return link_set_up(fd, li.index, op->has_mac ? op->mac : NULL, err) < 0
           ? berth_error_wrap(err, "%s", op->ifname)
           : 0;
}

static BERTH_WUR int run_op(struct link_exec *x, const struct berth_net_op *op, berth_error_t *err)
{
  if (op->in_ctr && x->ctr_fd < 0 && link_enter(x, err) < 0)
    return -1;
  int fd = op->in_ctr ? x->ctr_fd : x->host_fd;
  switch (op->kind) {
  case BERTH_NET_OP_BRIDGE: return op_bridge(x, op, err);
  case BERTH_NET_OP_ADDR: return op_addr(fd, op, err);
  case BERTH_NET_OP_VETH: return op_veth(x, op, err);
  case BERTH_NET_OP_LINK_UP: return op_up(fd, op, err);
  case BERTH_NET_OP_ROUTE: return op_route(fd, op, err);
  case BERTH_NET_OP_SYSCTL:
    if (!op->in_ctr)
      return berth_net_sysctl_set(op->path, op->value, err);
    return link_in_netns(x, op->path, op->value, err);
  }
  return BERTH_ERR(err, "unknown link operation %d", (int) op->kind);
}

int berth_net_plan_run(const struct berth_net_plan *p, int netns_fd, berth_error_t *err)
{
  struct link_exec x = { .host_fd = -1, .ctr_fd = -1, .netns_fd = netns_fd };
  x.host_fd = rtnl_open(err);
  if (x.host_fd < 0)
    return -1;
  int r = 0;
  for (size_t i = 0; i < p->n && r == 0; i++)
    r = run_op(&x, &p->ops[i], err);
  if (r < 0) { /* undo: the veth (its peer goes with it), the bridge if this call made it */
    if (x.veth[0])
      link_del(x.host_fd, x.veth);
    if (x.made_bridge)
      link_del(x.host_fd, x.bridge);
  }
  if (x.ctr_fd >= 0)
    close(x.ctr_fd);
  close(x.host_fd);
  return r;
}
