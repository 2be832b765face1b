/* Raw rtnetlink: requests are built in one buffer, sent with NLM_F_ACK, and the kernel's error
 * code comes back as -errno so that callers can accept EEXIST or ENODEV where that is fine. */
#include "net/rtnl.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/xalloc.h"

void rtnl_init(struct rtnl_msg *m, uint16_t type, uint16_t flags, const void *hdr, size_t hdrlen)
{
  memset(m, 0, sizeof *m);
  m->u.h.nlmsg_len = (uint32_t) NLMSG_LENGTH(hdrlen);
  m->u.h.nlmsg_type = type;
  m->u.h.nlmsg_flags = (uint16_t) (NLM_F_REQUEST | NLM_F_ACK | flags);
  if (hdrlen)
    memcpy(NLMSG_DATA(&m->u.h), hdr, hdrlen);
}

void rtnl_put(struct rtnl_msg *m, const void *data, size_t len)
{
  size_t at = NLMSG_ALIGN(m->u.h.nlmsg_len);
  if (at + RTA_ALIGN(len) > sizeof m->u.buf)
    berth_oom(); /* requests are fixed and small: this is a bug, not a runtime condition */
  memcpy(m->u.buf + at, data, len);
  m->u.h.nlmsg_len = (uint32_t) (at + RTA_ALIGN(len));
}

void rtnl_attr(struct rtnl_msg *m, uint16_t type, const void *data, size_t len)
{
  size_t at = NLMSG_ALIGN(m->u.h.nlmsg_len);
  if (at + RTA_SPACE(len) > sizeof m->u.buf)
    berth_oom();
  struct rtattr *a = (struct rtattr *) (m->u.buf + at);
  a->rta_type = type;
  a->rta_len = (unsigned short) RTA_LENGTH(len);
  if (len)
    memcpy(RTA_DATA(a), data, len);
  m->u.h.nlmsg_len = (uint32_t) (at + RTA_SPACE(len));
}

void rtnl_attr_str(struct rtnl_msg *m, uint16_t type, const char *s) { rtnl_attr(m, type, s, strlen(s) + 1); }

void rtnl_attr_u32(struct rtnl_msg *m, uint16_t type, uint32_t v) { rtnl_attr(m, type, &v, sizeof v); }

struct rtattr *rtnl_nest_begin(struct rtnl_msg *m, uint16_t type)
{
  struct rtattr *a = (struct rtattr *) (m->u.buf + NLMSG_ALIGN(m->u.h.nlmsg_len));
  rtnl_attr(m, type, NULL, 0);
  return a;
}

void rtnl_nest_end(struct rtnl_msg *m, struct rtattr *nest)
{
  nest->rta_len = (unsigned short) (m->u.buf + m->u.h.nlmsg_len - (uint8_t *) nest);
}

int rtnl_open(berth_error_t *err)
{
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0)
    return BERTH_ERR_ERRNO(err, "open rtnetlink socket");
  struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
  if (bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0) {
    int e = BERTH_ERR_ERRNO(err, "bind rtnetlink socket");
    close(fd);
    return e;
  }
  int one = 1; /* acks without a copy of the request */
  (void) setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
  return fd;
}

static uint32_t next_seq(void)
{
  static uint32_t seq;
  return ++seq;
}

static int send_msg(int fd, struct rtnl_msg *m)
{
  m->u.h.nlmsg_seq = next_seq();
  struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
  ssize_t n;
  do
    n = sendto(fd, m->u.buf, m->u.h.nlmsg_len, 0, (struct sockaddr *) &sa, sizeof sa);
  while (n < 0 && errno == EINTR);
  return n < 0 ? -errno : 0;
}

/* read answers to seq: cb for data messages; returns at the ack / NLMSG_DONE */
static int read_answers(int fd, uint32_t seq, void (*cb)(const struct nlmsghdr *h, void *data), void *data)
{
  uint8_t buf[32768] __attribute__((aligned(4)));
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -errno;
    if (n == 0)
      return -EPIPE;
    size_t len = (size_t) n;
    for (struct nlmsghdr *h = (struct nlmsghdr *) buf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_seq != seq)
        continue;
      if (h->nlmsg_type == NLMSG_ERROR) {
        const struct nlmsgerr *e = NLMSG_DATA(h);
        if (h->nlmsg_len < NLMSG_LENGTH(sizeof *e))
          return -EBADMSG;
        return e->error;
      }
      if (h->nlmsg_type == NLMSG_DONE)
        return 0;
      if (cb)
        cb(h, data);
    }
  }
}

int rtnl_talk(int fd, struct rtnl_msg *m) { return rtnl_request(fd, m, NULL, NULL); }

int rtnl_request(int fd, struct rtnl_msg *m, void (*cb)(const struct nlmsghdr *h, void *data), void *data)
{
  int r = send_msg(fd, m);
  return r < 0 ? r : read_answers(fd, m->u.h.nlmsg_seq, cb, data);
}

int rtnl_dump(int fd, struct rtnl_msg *m, void (*cb)(const struct nlmsghdr *h, void *data), void *data)
{
  m->u.h.nlmsg_flags = (uint16_t) (NLM_F_REQUEST | NLM_F_DUMP);
  int r = send_msg(fd, m);
  return r < 0 ? r : read_answers(fd, m->u.h.nlmsg_seq, cb, data);
}

const struct rtattr *rtnl_find(const struct nlmsghdr *h, size_t hdrlen, uint16_t type)
{
  if (h->nlmsg_len < NLMSG_LENGTH(hdrlen))
    return NULL;
  const struct rtattr *a = (const struct rtattr *) ((const uint8_t *) NLMSG_DATA(h) + NLMSG_ALIGN(hdrlen));
  unsigned int len = h->nlmsg_len - (unsigned int) NLMSG_LENGTH(NLMSG_ALIGN(hdrlen));
  for (; RTA_OK(a, len); a = RTA_NEXT(a, len))
    if (a->rta_type == type)
      return a;
  return NULL;
}
