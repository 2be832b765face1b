/* Small shared pieces of engine/networks/: the lock, state paths, names. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/strbuf.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/networks/networks_internal.h"

char *net_join(char *const *v, const char *sep)
{
  struct berth_strbuf b = BERTH_STRBUF_INIT;
  berth_strbuf_puts(&b, "");
  for (size_t i = 0; v && v[i]; i++)
    berth_strbuf_printf(&b, "%s%s", i ? sep : "", v[i]);
  return berth_strbuf_detach(&b);
}

int net_lock(struct berth_engine *e, berth_error_t *err)
{
  if (berth_mkdir_p(e->runroot, 0700, err) < 0)
    return -1;
  cleanup_free char *path = xasprintf("%s/networks.lock", e->runroot);
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return BERTH_ERR_ERRNO(err, "open `%s`", path);
  while (flock(fd, LOCK_EX) < 0)
    if (errno != EINTR) {
      int r = BERTH_ERR_ERRNO(err, "lock `%s`", path);
      close(fd);
      return r;
    }
  return fd;
}

char *net_state_dir(struct berth_engine *e, const char *network_id)
{
  return xasprintf("%s/networks/%.64s", e->runroot, network_id);
}

/* field 22 of /proc/<pid>/stat: the start time; -1 when gone or a zombie (a monitor that ended
 * stays one until whoever adopted it reaps it) */
static int64_t start_time(pid_t pid)
{
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
  ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
  if (n <= 0)
    return -1;
  buf[n] = '\0';
  char *p = strrchr(buf, ')'); /* the command may hold spaces and parentheses */
  if (p == NULL || p[1] != ' ' || p[2] == 'Z' || p[2] == 'X')
    return -1;
  for (int field = 2; p && field < 22; field++)
    p = strchr(p + 1, ' ');
  return p ? strtoll(p + 1, NULL, 10) : -1;
}

bool net_monitor_alive(const struct berth_db_container *row)
{
  return row->monitor_pid > 0 && start_time((pid_t) row->monitor_pid) == row->monitor_start;
}

bool net_pid_alive(pid_t pid, int64_t start) { return pid > 0 && start_time(pid) == start; }

int64_t net_pid_start(pid_t pid) { return start_time(pid); }

void net_host_if(const char *container_id, int64_t idx, char out[BERTH_NET_IFNAMSIZ])
{
  snprintf(out, BERTH_NET_IFNAMSIZ, "bv%.9s-%lld", container_id, (long long) idx);
}

void net_test_stop(const char *step)
{
  const char *v = getenv("BERTH_TEST_NET_STOP");
  if (v && strcmp(v, step) == 0)
    raise(SIGSTOP);
}
