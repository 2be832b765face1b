/* NOTIFY_SOCKET through the container (notify.h). */
#include "runtime/notify.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/xalloc.h"
#include "json/json.h"

#define IN_CONTAINER "/run/notify"
#define SOCK_NAME    "notify.sock"

const char *berth_notify_host(void)
{
  const char *h = getenv("NOTIFY_SOCKET");
  return h && *h ? h : NULL;
}

static void cleanup_json(json_t **j)
{
  json_decref(*j);
  *j = NULL;
}

/* the mount and the environment entry, added to a copy of the document */
static void add_to_doc(json_t *doc, const char *dir)
{
  json_t *mounts = json_object_get(doc, "mounts");
  if (!json_is_array(mounts))
    json_object_set_new(doc, "mounts", mounts = json_array());
  json_array_append_new(mounts, json_pack("{s:s, s:s, s:s, s:[s,s,s,s,s]}", "destination", IN_CONTAINER,
                                          "type", "bind", "source", dir, "options", "bind", "nosuid", "nodev",
                                          "noexec", "ro"));
  json_t *process = json_object_get(doc, "process");
  if (!json_is_object(process))
    return; /* start refuses a container without a process anyway */
  json_t *env = json_object_get(process, "env");
  if (!json_is_array(env))
    json_object_set_new(process, "env", env = json_array());
  for (size_t i = json_array_size(env); i-- > 0;) {
    const char *e = json_string_value(json_array_get(env, i));
    if (e && strncmp(e, "NOTIFY_SOCKET=", 14) == 0)
      json_array_remove(env, i);
  }
  json_array_append_new(env, json_string("NOTIFY_SOCKET=" IN_CONTAINER "/" SOCK_NAME));
}

int berth_notify_spec(berth_spec_t **spec, const char *state_dir, berth_error_t *err)
{
  cleanup_free char *dir = xasprintf("%s/notify", state_dir);
  if (mkdir(dir, 0755) < 0 && errno != EEXIST)
    return BERTH_ERR_ERRNO(err, "NOTIFY_SOCKET: mkdir `%s`", dir);
  __attribute__((cleanup(cleanup_json))) json_t *doc = json_deep_copy((*spec)->doc);
  if (doc == NULL)
    return BERTH_ERR(err, "NOTIFY_SOCKET: copy the config");
  add_to_doc(doc, dir);
  cleanup_free char *text = json_dumps(doc, JSON_COMPACT);
  berth_spec_t *n = NULL;
  if (text == NULL || berth_spec_parse(text, strlen(text), "config.json (with NOTIFY_SOCKET)", &n, err) < 0)
    return text ? -1 : BERTH_ERR(err, "NOTIFY_SOCKET: serialize the config");
  n->text = steal_ptr((*spec)->text);
  n->text_len = (*spec)->text_len;
  berth_spec_free(*spec);
  *spec = n;
  return 0;
}

/* sun_path holds 108 bytes: a longer path goes through /proc/self/fd of its directory */
static BERTH_WUR int sock_addr(const char *dir, int dirfd, struct sockaddr_un *sa, berth_error_t *err)
{
  memset(sa, 0, sizeof *sa);
  sa->sun_family = AF_UNIX;
  int n = snprintf(sa->sun_path, sizeof sa->sun_path, "%s/%s", dir, SOCK_NAME);
  if (n > 0 && (size_t) n < sizeof sa->sun_path)
    return 0;
  n = snprintf(sa->sun_path, sizeof sa->sun_path, "/proc/self/fd/%d/%s", dirfd, SOCK_NAME);
  if (n <= 0 || (size_t) n >= sizeof sa->sun_path)
    return BERTH_ERR(err, "NOTIFY_SOCKET: socket path in `%s` is too long", dir);
  return 0;
}

int berth_notify_listen(const char *state_dir, berth_error_t *err)
{
  if (berth_notify_host() == NULL)
    return -1;
  cleanup_free char *dir = xasprintf("%s/notify", state_dir);
  cleanup_close int dirfd = open(dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dirfd < 0)
    return errno == ENOENT ? -1 : BERTH_ERR_ERRNO(err, "NOTIFY_SOCKET: open `%s`", dir);
  struct sockaddr_un sa;
  if (sock_addr(dir, dirfd, &sa, err) < 0)
    return -1;
  (void) unlinkat(dirfd, SOCK_NAME, 0);
  cleanup_close int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0 || bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0)
    return BERTH_ERR_ERRNO(err, "NOTIFY_SOCKET: bind `%s/%s`", dir, SOCK_NAME);
  /* any user of the container may notify (runc's mode); the directory is read-only there */
  if (fchmodat(dirfd, SOCK_NAME, 0777, 0) < 0)
    return BERTH_ERR_ERRNO(err, "NOTIFY_SOCKET: chmod `%s/%s`", dir, SOCK_NAME);
  return steal_fd(fd);
}

static bool has_ready(const char *msg)
{
  for (const char *l = msg; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
    if (strncmp(l, "READY=1", 7) == 0 && (l[7] == '\n' || l[7] == '\0'))
      return true;
  return false;
}

/* READY=1 and MAINPID in one datagram, as sd_notify(3) recommends (runc sends two) */
static BERTH_WUR int tell_host(pid_t pid, berth_error_t *err)
{
  const char *host = berth_notify_host();
  if (host == NULL)
    return 0;
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  size_t len = strlen(host);
  if (len >= sizeof sa.sun_path)
    return BERTH_ERR(err, "NOTIFY_SOCKET `%s`: path too long", host);
  memcpy(sa.sun_path, host, len);
  if (host[0] == '@') /* an abstract address */
    sa.sun_path[0] = '\0';
  socklen_t alen = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + len + (host[0] != '@'));
  char msg[64];
  int n = snprintf(msg, sizeof msg, "READY=1\nMAINPID=%d\n", (int) pid);
  cleanup_close int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || sendto(fd, msg, (size_t) n, MSG_NOSIGNAL, (struct sockaddr *) &sa, alen) < 0)
    return BERTH_ERR_ERRNO(err, "NOTIFY_SOCKET: tell `%s` the container is ready", host);
  return 0;
}

int berth_notify_read(int sock, pid_t pid, berth_error_t *err)
{
  char buf[4097];
  for (;;) {
    ssize_t n = recv(sock, buf, sizeof buf - 1, MSG_DONTWAIT);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return errno == EAGAIN ? 0 : BERTH_ERR_ERRNO(err, "NOTIFY_SOCKET: receive");
    buf[n] = '\0';
    if (has_ready(buf))
      return tell_host(pid, err) < 0 ? -1 : 1;
  }
}

int berth_notify_wait(int sock, pid_t pid, int pidfd, berth_error_t *err)
{
  for (;;) {
    struct pollfd p[2] = { { .fd = sock, .events = POLLIN }, { .fd = pidfd, .events = POLLIN } };
    if (poll(p, 2, -1) < 0) {
      if (errno == EINTR)
        continue;
      return BERTH_ERR_ERRNO(err, "NOTIFY_SOCKET: poll");
    }
    if (p[0].revents & POLLIN) {
      int r = berth_notify_read(sock, pid, err);
      if (r != 0)
        return r < 0 ? -1 : 0;
    }
    if (p[1].revents & (POLLIN | POLLHUP))
      return 0; /* gone before it was ready: systemd sees the exit */
  }
}
