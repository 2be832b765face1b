/* Network namespaces for the link executor: entering a container's for a moment, making and
 * pinning a new one, sysctls. The engine is single-threaded; setns moves only this thread,
 * and it comes back before these functions return. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "net/link_int.h"
#include "net/net.h"
#include "net/rtnl.h"

#ifndef NS_GET_NSTYPE
#define NS_GET_NSTYPE 0xb703
#endif

int berth_net_netns_open(const char *path, berth_error_t *err)
{
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return BERTH_ERR_ERRNO(err, "open network namespace `%s`", path);
  int type = ioctl(fd, NS_GET_NSTYPE);
  if (type < 0 || type != CLONE_NEWNET)
    return BERTH_ERR(err, "`%s` is not a network namespace", path);
  return steal_fd(fd);
}

int link_with_netns(int netns_fd, int (*fn)(void *data, berth_error_t *err), void *data, berth_error_t *err)
{
  cleanup_close int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (self < 0)
    return BERTH_ERR_ERRNO(err, "open our own network namespace");
  if (setns(netns_fd, CLONE_NEWNET) < 0)
    return BERTH_ERR_ERRNO(err, "enter the container's network namespace");
  int r = fn(data, err);
  if (setns(self, CLONE_NEWNET) < 0) {
    /* not reached in practice (our own namespace); say so loudly rather than go on inside */
    if (r == 0)
      return BERTH_ERR_ERRNO(err, "return to our network namespace");
    return berth_error_wrap(err, "(and could not return to our network namespace)");
  }
  return r;
}

static BERTH_WUR int open_rtnl(void *data, berth_error_t *err)
{
  int *fd = data;
  *fd = rtnl_open(err);
  return *fd < 0 ? -1 : 0;
}

int link_enter(struct link_exec *x, berth_error_t *err)
{
  return link_with_netns(x->netns_fd, open_rtnl, &x->ctr_fd, err);
}

struct sysctl_args {
  const char *path, *value;
};

static BERTH_WUR int set_sysctl(void *data, berth_error_t *err)
{
  const struct sysctl_args *a = data;
  return berth_net_sysctl_set(a->path, a->value, err);
}

int link_in_netns(struct link_exec *x, const char *path, const char *value, berth_error_t *err)
{
  struct sysctl_args a = { path, value };
  return link_with_netns(x->netns_fd, set_sysctl, &a, err);
}

int berth_net_sysctl_set(const char *path, const char *value, berth_error_t *err)
{
  char full[160], cur[32];
  snprintf(full, sizeof full, "/proc/sys/%s", path);
  cleanup_close int fd = open(full, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return BERTH_ERR_ERRNO(err, "sysctl %s", path);
  ssize_t n;
  do
    n = read(fd, cur, sizeof cur - 1);
  while (n < 0 && errno == EINTR);
  size_t vl = strlen(value);
  if (n > 0 && (size_t) n == vl + 1 && memcmp(cur, value, vl) == 0 && cur[vl] == '\n')
    return 0;
  ssize_t w;
  do
    w = pwrite(fd, value, vl, 0);
  while (w < 0 && errno == EINTR);
  if (w < 0 || (size_t) w != vl)
    return BERTH_ERR_ERRNO(err, "sysctl %s=%s", path, value);
  return 0;
}

int berth_net_netns_pin(const char *path, berth_error_t *err)
{
  cleanup_close int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (self < 0)
    return BERTH_ERR_ERRNO(err, "open our own network namespace");
  if (unshare(CLONE_NEWNET) < 0)
    return BERTH_ERR_ERRNO(err, "new network namespace");
  int r = 0;
  if (mount("/proc/thread-self/ns/net", path, NULL, MS_BIND, NULL) < 0)
    r = BERTH_ERR_ERRNO(err, "pin the network namespace on `%s`", path);
  if (setns(self, CLONE_NEWNET) < 0 && r == 0)
    r = BERTH_ERR_ERRNO(err, "return to our network namespace");
  return r;
}
