/* Links of the host as berth reads and removes them: teardown, system check, subnet choice. */
#include <errno.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "net/link_int.h"
#include "net/net.h"
#include "net/rtnl.h"

int link_del(int fd, const char *name)
{
  struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
  struct rtnl_msg m;
  rtnl_init(&m, RTM_DELLINK, 0, &ifi, sizeof ifi);
  rtnl_attr_str(&m, IFLA_IFNAME, name);
  return rtnl_talk(fd, &m);
}

int berth_net_link_delete(const char *ifname, berth_error_t *err)
{
  cleanup_close int fd = rtnl_open(err);
  if (fd < 0)
    return -1;
  int r = link_del(fd, ifname);
  if (r < 0 && r != -ENODEV)
    return berth_error_make(err, -r, "delete link %s", ifname);
  return 0;
}

int berth_net_link_set_down(const char *ifname, berth_error_t *err)
{
  cleanup_close int fd = rtnl_open(err);
  if (fd < 0)
    return -1;
  struct link_info li;
  int r = link_get(fd, ifname, &li);
  if (r == -ENODEV)
    return 0;
  struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = li.index, .ifi_change = IFF_UP };
  struct rtnl_msg m;
  rtnl_init(&m, RTM_NEWLINK, 0, &ifi, sizeof ifi);
  if (r == 0)
    r = rtnl_talk(fd, &m);
  if (r < 0 && r != -ENODEV)
    return berth_error_make(err, -r, "set link %s down", ifname);
  return 0;
}

struct del_in {
  const char *name;
};

static BERTH_WUR int del_inside(void *data, berth_error_t *err)
{
  const struct del_in *d = data;
  return berth_net_link_delete(d->name, err);
}

int berth_net_link_delete_in(int netns_fd, const char *ifname, berth_error_t *err)
{
  struct del_in d = { ifname };
  return link_with_netns(netns_fd, del_inside, &d, err);
}

bool berth_net_link_exists(const char *ifname)
{
  berth_error_t e = NULL;
  cleanup_close int fd = rtnl_open(&e);
  if (fd < 0) {
    berth_error_release(&e);
    return false;
  }
  struct link_info li;
  return link_get(fd, ifname, &li) == 0;
}

struct dump_links {
  const char *prefix;
  bool up_only;
  int master; /* count the ports of this ifindex (> 0) that are up */
  size_t n_ports;
  char **names;
};

static void on_dump_link(const struct nlmsghdr *h, void *data)
{
  struct dump_links *d = data;
  if (h->nlmsg_type != RTM_NEWLINK)
    return;
  const struct rtattr *a = rtnl_find(h, sizeof(struct ifinfomsg), IFLA_MASTER);
  int master = 0;
  if (a && RTA_PAYLOAD(a) >= 4)
    memcpy(&master, RTA_DATA(a), 4);
  const struct ifinfomsg *ifi = NLMSG_DATA(h);
  /* a port that is down is the veth of a stopped container: berth sets it down and the kernel
   * removes it with the container's namespace, a moment later */
  if (d->master > 0 && master == d->master && (ifi->ifi_flags & IFF_UP))
    d->n_ports++;
  a = rtnl_find(h, sizeof(struct ifinfomsg), IFLA_IFNAME);
  if (d->up_only && !(ifi->ifi_flags & IFF_UP))
    return;
  if (d->prefix && a) {
    char name[BERTH_NET_IFNAMSIZ];
    snprintf(name, sizeof name, "%.*s", (int) RTA_PAYLOAD(a), (const char *) RTA_DATA(a));
    if (berth_str_has_prefix(name, d->prefix))
      d->names = berth_strv_append(d->names, name);
  }
}

static int dump_links(int fd, struct dump_links *d)
{
  struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
  struct rtnl_msg m;
  rtnl_init(&m, RTM_GETLINK, 0, &ifi, sizeof ifi);
  return rtnl_dump(fd, &m, on_dump_link, d);
}

int berth_net_links_list(const char *prefix, bool up_only, char ***names, berth_error_t *err)
{
  *names = NULL;
  cleanup_close int fd = rtnl_open(err);
  if (fd < 0)
    return -1;
  struct dump_links d = { .prefix = prefix, .up_only = up_only };
  int r = dump_links(fd, &d);
  if (r < 0) {
    berth_strv_free(d.names);
    return berth_error_make(err, -r, "list links");
  }
  *names = d.names ? d.names : xcalloc(1, sizeof(char *));
  return 0;
}

int berth_net_bridge_remove_unused(const char *name, bool *removed, berth_error_t *err)
{
  *removed = false;
  cleanup_close int fd = rtnl_open(err);
  if (fd < 0)
    return -1;
  struct link_info li;
  int r = link_get(fd, name, &li);
  if (r == -ENODEV)
    return 0;
  if (r < 0)
    return berth_error_make(err, -r, "bridge %s", name);
  if (strcmp(li.kind, "bridge") != 0)
    return 0; /* not ours to remove */
  struct dump_links d = { .master = li.index };
  if ((r = dump_links(fd, &d)) < 0)
    return berth_error_make(err, -r, "list the ports of bridge %s", name);
  if (d.n_ports > 0)
    return 0;
  r = link_del(fd, name);
  if (r < 0 && r != -ENODEV)
    return berth_error_make(err, -r, "delete bridge %s", name);
  *removed = r == 0;
  return 0;
}

struct dump_routes {
  struct berth_net_prefix *v;
  size_t n;
};

static void on_route(const struct nlmsghdr *h, void *data)
{
  struct dump_routes *d = data;
  if (h->nlmsg_type != RTM_NEWROUTE || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct rtmsg)))
    return;
  const struct rtmsg *rt = NLMSG_DATA(h);
  if (rt->rtm_table != RT_TABLE_MAIN || rt->rtm_dst_len == 0 || rt->rtm_type != RTN_UNICAST ||
      (rt->rtm_family != AF_INET && rt->rtm_family != AF_INET6))
    return;
  const struct rtattr *a = rtnl_find(h, sizeof *rt, RTA_DST);
  size_t alen = rt->rtm_family == AF_INET ? 4 : 16;
  if (a == NULL || RTA_PAYLOAD(a) != alen)
    return;
  struct berth_net_addr addr = { .family = rt->rtm_family };
  memcpy(addr.a, RTA_DATA(a), alen);
  if (addr.family == AF_INET6 && addr.a[0] == 0xfe && (addr.a[1] & 0xc0) == 0x80)
    return; /* link-local: on every link */
  d->v = xreallocarray(d->v, d->n + 1, sizeof *d->v);
  berth_net_prefix_of(&addr, rt->rtm_dst_len, &d->v[d->n++]);
}

int berth_net_host_routes(struct berth_net_prefix **out, size_t *n, berth_error_t *err)
{
  *out = NULL;
  *n = 0;
  cleanup_close int fd = rtnl_open(err);
  if (fd < 0)
    return -1;
  struct rtmsg rt = { .rtm_family = AF_UNSPEC };
  struct rtnl_msg m;
  rtnl_init(&m, RTM_GETROUTE, 0, &rt, sizeof rt);
  struct dump_routes d = { NULL, 0 };
  int r = rtnl_dump(fd, &m, on_route, &d);
  if (r < 0) {
    free(d.v);
    return berth_error_make(err, -r, "list the host's routes");
  }
  *out = d.v;
  *n = d.n;
  return 0;
}
