/* Raw rtnetlink for the link executor: build a request, send it, read the answer. Internal to
 * src/lib/net. */
#ifndef BERTH_NET_RTNL_H
#define BERTH_NET_RTNL_H

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

struct rtnl_msg {
  union {
    struct nlmsghdr h;
    uint8_t buf[4096];
  } u;
};

/* a request of type with flags (NLM_F_REQUEST | NLM_F_ACK are added) and its fixed header */
void rtnl_init(struct rtnl_msg *m, uint16_t type, uint16_t flags, const void *hdr, size_t hdrlen);
void rtnl_attr(struct rtnl_msg *m, uint16_t type, const void *data, size_t len);
void rtnl_attr_str(struct rtnl_msg *m, uint16_t type, const char *s);
void rtnl_attr_u32(struct rtnl_msg *m, uint16_t type, uint32_t v);
struct rtattr *rtnl_nest_begin(struct rtnl_msg *m, uint16_t type);
void rtnl_nest_end(struct rtnl_msg *m, struct rtattr *nest);
/* raw bytes (a nested ifinfomsg) */
void rtnl_put(struct rtnl_msg *m, const void *data, size_t len);

/* a NETLINK_ROUTE socket of the network namespace we are in (O_CLOEXEC) */
int rtnl_open(berth_error_t *err) BERTH_WUR;
/* send and wait for the acknowledgement: 0, or -errno of the kernel's answer */
int rtnl_talk(int fd, struct rtnl_msg *m);
/* a request whose answer carries data (RTM_GETLINK of one link): cb for it, then the ack */
int rtnl_request(int fd, struct rtnl_msg *m, void (*cb)(const struct nlmsghdr *h, void *data), void *data);
/* a dump request: cb for every message of the answer; 0 or -errno */
int rtnl_dump(int fd, struct rtnl_msg *m, void (*cb)(const struct nlmsghdr *h, void *data), void *data);
/* the attribute of type in a message's attributes (after a fixed header of hdrlen), or NULL */
const struct rtattr *rtnl_find(const struct nlmsghdr *h, size_t hdrlen, uint16_t type);

#endif
