/* Internal to the link executor (link.c, link_ns.c, link_query.c). */
#ifndef BERTH_NET_LINK_INT_H
#define BERTH_NET_LINK_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"
#include "net/net.h"

struct link_info {
  int index;
  unsigned mtu;
  int master;    /* ifindex of the bridge it is a port of, 0 */
  char kind[16]; /* "bridge", "veth", "" */
};

/* what one run of a plan holds and has made */
struct link_exec {
  int host_fd;  /* rtnetlink socket of the host's (our) namespace */
  int ctr_fd;   /* rtnetlink socket opened inside the container's namespace, or -1 */
  int netns_fd; /* the container's namespace */
  bool made_bridge;
  char bridge[BERTH_NET_IFNAMSIZ];
  char veth[BERTH_NET_IFNAMSIZ]; /* made by this run: removed again on failure */
};

/* open x->ctr_fd inside x->netns_fd (enter, open, come back) */
int link_enter(struct link_exec *x, berth_error_t *err) BERTH_WUR;
/* write a sysctl inside x->netns_fd */
int link_in_netns(struct link_exec *x, const char *path, const char *value, berth_error_t *err) BERTH_WUR;
/* enter netns_fd, run fn, come back; fn's result */
int link_with_netns(int netns_fd, int (*fn)(void *data, berth_error_t *err), void *data,
                    berth_error_t *err) BERTH_WUR;
/* delete a link by name: 0, or -errno (-ENODEV when missing) */
int link_del(int fd, const char *name);
int link_set_up(int fd, int index, const uint8_t *mac, berth_error_t *err) BERTH_WUR;
/* RTM_GETLINK of one link: 0 or -errno */
int link_get(int fd, const char *name, struct link_info *li);

#endif
