#include "linux/namespaces.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/strbuf.h"
#include "base/xalloc.h"

#ifndef NS_GET_NSTYPE
#define NS_GET_NSTYPE 0xb703
#endif
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

pid_t berth_clone3(uint64_t flags, int *pidfd, int exit_signal)
{
  struct clone_args args;
  memset(&args, 0, sizeof args);
  args.flags = flags;
  args.exit_signal = (uint64_t) exit_signal;
  if (pidfd) {
    args.flags |= CLONE_PIDFD;
    args.pidfd = (uint64_t) (uintptr_t) pidfd;
  }
  return (pid_t) syscall(SYS_clone3, &args, sizeof args);
}

uint64_t berth_ns_new_flags(const berth_spec_t *spec)
{
  uint64_t flags = 0;
  for (int t = 0; t < BERTH_NS__COUNT; t++) {
    const struct berth_spec_namespace *ns = &spec->linux_.ns[t];
    if (ns->present && ns->path == NULL)
      flags |= (uint64_t) berth_ns_clone_flag((enum berth_ns_type) t);
  }
  return flags;
}

int berth_ns_open_joined(const berth_spec_t *spec, int fds[BERTH_NS__COUNT], berth_error_t *err)
{
  for (int t = 0; t < BERTH_NS__COUNT; t++)
    fds[t] = -1;
  for (int t = 0; t < BERTH_NS__COUNT; t++) {
    const struct berth_spec_namespace *ns = &spec->linux_.ns[t];
    if (!ns->present || ns->path == NULL)
      continue;
    const char *name = berth_ns_type_name((enum berth_ns_type) t);
    fds[t] = open(ns->path, O_RDONLY | O_CLOEXEC);
    if (fds[t] < 0) {
      BERTH_ERR_ERRNO(err, "open %s namespace `%s`", name, ns->path);
      berth_ns_close_all(fds);
      return -1;
    }
    int type = ioctl(fds[t], NS_GET_NSTYPE);
    if (type < 0 || type != berth_ns_clone_flag((enum berth_ns_type) t)) {
      berth_error_make(err, 0, "`%s` is not a %s namespace", ns->path, name);
      berth_ns_close_all(fds);
      return -1;
    }
  }
  return 0;
}

void berth_ns_close_all(int fds[BERTH_NS__COUNT])
{
  for (int t = 0; t < BERTH_NS__COUNT; t++) {
    if (fds[t] >= 0)
      close(fds[t]);
    fds[t] = -1;
  }
}

int berth_ns_join(int fd, enum berth_ns_type type, berth_error_t *err)
{
  if (setns(fd, berth_ns_clone_flag(type)) < 0)
    return BERTH_ERR_ERRNO(err, "join %s namespace", berth_ns_type_name(type));
  return 0;
}

static char *format_map(const struct berth_id_map *m, size_t n)
{
  struct berth_strbuf b = BERTH_STRBUF_INIT;
  for (size_t i = 0; i < n; i++)
    berth_strbuf_printf(&b, "%u %u %u\n", m[i].container_id, m[i].host_id, m[i].size);
  return berth_strbuf_detach(&b);
}

/* newuidmap/newgidmap: the setuid helpers for unprivileged multi-range maps */
static BERTH_WUR int run_map_helper(const char *helper, pid_t pid, const struct berth_id_map *m, size_t n,
                                    berth_error_t *err)
{
  size_t argc = 2 + 3 * n + 1;
  cleanup_strv char **argv = xcalloc(argc, sizeof *argv);
  argv[0] = xstrdup(helper);
  argv[1] = xasprintf("%d", (int) pid);
  for (size_t i = 0; i < n; i++) {
    argv[2 + 3 * i] = xasprintf("%u", m[i].container_id);
    argv[3 + 3 * i] = xasprintf("%u", m[i].host_id);
    argv[4 + 3 * i] = xasprintf("%u", m[i].size);
  }
  pid_t child = fork();
  if (child < 0)
    return BERTH_ERR_ERRNO(err, "fork `%s`", helper);
  if (child == 0) {
    execvp(helper, argv);
    _exit(127);
  }
  int status;
  while (waitpid(child, &status, 0) < 0)
    if (errno != EINTR)
      return BERTH_ERR_ERRNO(err, "wait for `%s`", helper);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return BERTH_ERR(err, "`%s` failed (status %d)", helper, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  return 0;
}

static BERTH_WUR int write_map(pid_t pid, const char *file, const char *helper, const struct berth_id_map *m,
                               size_t n, berth_error_t *err)
{
  if (n == 0)
    return 0;
  cleanup_free char *path = xasprintf("/proc/%d/%s", (int) pid, file);
  cleanup_free char *text = format_map(m, n);
  cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd >= 0 && write(fd, text, strlen(text)) == (ssize_t) strlen(text))
    return 0;
  int saved = errno;
  if (saved == EPERM && geteuid() != 0)
    return run_map_helper(helper, pid, m, n, err);
  return berth_error_make(err, saved, "write `%s` (%s)", path, file);
}

int berth_userns_write_maps(pid_t pid, const struct berth_id_map *uids, size_t n_uids,
                            const struct berth_id_map *gids, size_t n_gids, bool deny_setgroups,
                            berth_error_t *err)
{
  if (deny_setgroups) {
    cleanup_free char *path = xasprintf("/proc/%d/setgroups", (int) pid);
    cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, "deny", 4) != 4)
      return BERTH_ERR_ERRNO(err, "write `%s`", path);
  }
  if (write_map(pid, "uid_map", "newuidmap", uids, n_uids, err) < 0)
    return -1;
  return write_map(pid, "gid_map", "newgidmap", gids, n_gids, err);
}

bool berth_timens_has_offsets(const berth_spec_t *spec)
{
  return spec->linux_.time_monotonic.present || spec->linux_.time_boottime.present;
}

int berth_timens_write_offsets(int fd, const berth_spec_t *spec, berth_error_t *err)
{
  struct berth_strbuf b = BERTH_STRBUF_INIT;
  const struct berth_spec_time_offset *mono = &spec->linux_.time_monotonic;
  const struct berth_spec_time_offset *boot = &spec->linux_.time_boottime;
  if (mono->present)
    berth_strbuf_printf(&b, "monotonic %lld %u\n", (long long) mono->secs, mono->nanosecs);
  if (boot->present)
    berth_strbuf_printf(&b, "boottime %lld %u\n", (long long) boot->secs, boot->nanosecs);
  if (b.len == 0)
    return 0;
  /* one write per line (the kernel parses a single offset per write on older kernels), each
   * at offset 0: the file takes writes only there (and refuses pwrite) */
  int r = 0;
  char *save = NULL;
  for (char *line = strtok_r(b.buf, "\n", &save); line && r == 0; line = strtok_r(NULL, "\n", &save))
    if (lseek(fd, 0, SEEK_SET) < 0 || write(fd, line, strlen(line)) < 0)
      r = BERTH_ERR_ERRNO(err, "write time namespace offset `%s`", line);
  berth_strbuf_release(&b);
  return r;
}

bool berth_id_map_to_container(const struct berth_id_map *m, size_t n, uint32_t host, uint32_t *out)
{
  for (size_t i = 0; i < n; i++) {
    if (host >= m[i].host_id && host - m[i].host_id < m[i].size) {
      *out = m[i].container_id + (host - m[i].host_id);
      return true;
    }
  }
  return false;
}

int berth_netns_loopback_up(berth_error_t *err)
{
  cleanup_close int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return BERTH_ERR_ERRNO(err, "bring up lo: socket");
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
  if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
    return BERTH_ERR_ERRNO(err, "bring up lo: get flags");
  if (ifr.ifr_flags & IFF_UP)
    return 0;
  ifr.ifr_flags |= IFF_UP;
  if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
    return BERTH_ERR_ERRNO(err, "bring up lo");
  return 0;
}
