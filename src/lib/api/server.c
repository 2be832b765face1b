/* The listening process of `berth system service`: the socket (made root's, 0660, with an
 * optional group, or given by systemd), accept, the peer checked (SO_PEERCRED, SO_PEERGROUPS),
 * one forked process per connection (conn.c), a bound on their number, and the idle time-out.
 * It opens no catalogue and allocates nothing per connection: its RSS stays what the binary
 * maps. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "api/conn.h"
#include "api/tls.h"
#include "base/cleanup.h"
#include "base/clock.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/strutil.h"
#include "base/xalloc.h"

void berth_api_address_release(struct berth_api_address *a)
{
  free(a->path);
  free(a->host);
  memset(a, 0, sizeof *a);
}

static BERTH_WUR int parse_tcp(const char *s, const struct berth_api_opts *o, struct berth_api_address *out,
                               berth_error_t *err)
{
  const char *colon = s[0] == '[' ? strstr(s, "]:") : strrchr(s, ':');
  if (colon == NULL)
    return BERTH_ERR(err, "address `tcp://%s`: expected tcp://HOST:PORT", s);
  out->host = s[0] == '[' ? xstrndup(s + 1, (size_t) (colon - s - 1)) : xstrndup(s, (size_t) (colon - s));
  int port = 0;
  const char *ps = colon + (s[0] == '[' ? 2 : 1);
  if (berth_parse_int(ps, &port) < 0 || port < 1 || port > 65535)
    return BERTH_ERR(err, "address `tcp://%s`: invalid port `%s`", s, ps);
  out->port = (uint16_t) port;
  cleanup_free char *shown = xasprintf("tcp://%s", s);
  return berth_api_tcp_allowed(shown, out->host, o, err);
}

int berth_api_address_parse(const char *s, const struct berth_api_opts *o, struct berth_api_address *out,
                            berth_error_t *err)
{
  memset(out, 0, sizeof *out);
  int r;
  if (berth_str_has_prefix(s, "unix://")) {
    const char *p = s + strlen("unix://");
    if (p[0] != '/' || strlen(p) >= sizeof(((struct sockaddr_un *) 0)->sun_path))
      r = BERTH_ERR(err, "address `%s`: expected unix:///absolute/path (at most 107 bytes)", s);
    else if (berth_api_tls_on(&o->tls))
      r = BERTH_ERR(err,
                    "address `%s`: --tls, --tlsverify, --tlscacert, --tlscert and --tlskey are for tcp:// "
                    "addresses (a unix socket's peers are checked by their credentials)",
                    s);
    else
      out->unix_socket = true, out->path = xstrdup(p), r = 0;
  } else if (berth_str_has_prefix(s, "tcp://")) {
    r = parse_tcp(s + strlen("tcp://"), o, out, err);
  } else {
    r = BERTH_ERR(err, "address `%s`: expected unix:///path or tcp://127.0.0.1:PORT", s);
  }
  if (r < 0)
    berth_api_address_release(out);
  return r;
}

/* is something serving there already (then it is not ours to replace) */
static bool socket_in_use(const char *path)
{
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
  cleanup_close int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  return fd >= 0 && connect(fd, (struct sockaddr *) &sa, sizeof sa) == 0;
}

static BERTH_WUR int listen_unix(const char *path, gid_t gid, int *out, berth_error_t *err)
{
  cleanup_free char *dir = xstrdup(path);
  *strrchr(dir, '/') = '\0';
  if (dir[0] && berth_mkdir_p(dir, 0755, err) < 0)
    return berth_error_wrap(err, "listen on `%s`", path);
  if (socket_in_use(path))
    return BERTH_ERR(err, "listen on `%s`: a service is listening there already", path);
  if (unlink(path) < 0 && errno != ENOENT)
    return BERTH_ERR_ERRNO(err, "listen on `%s`: remove the stale socket", path);
  cleanup_close int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
  mode_t old = umask(0177); /* the socket is never more open than 0600 before chmod */
  int r = fd < 0 ? -1 : bind(fd, (struct sockaddr *) &sa, sizeof sa);
  umask(old);
  if (r < 0)
    return BERTH_ERR_ERRNO(err, "listen on `%s`", path);
  if (chown(path, geteuid(), gid) < 0 || chmod(path, 0660) < 0 || listen(fd, 128) < 0) {
    int saved = errno;
    unlink(path);
    errno = saved;
    return BERTH_ERR_ERRNO(err, "listen on `%s`", path);
  }
  *out = steal_fd(fd);
  return 0;
}

static BERTH_WUR int listen_tcp(const struct berth_api_address *a, int *out, berth_error_t *err)
{
  struct sockaddr_storage ss = { 0 };
  socklen_t len;
  const char *host = strcmp(a->host, "localhost") == 0 ? "127.0.0.1" : a->host;
  struct sockaddr_in *s4 = (struct sockaddr_in *) &ss;
  struct sockaddr_in6 *s6 = (struct sockaddr_in6 *) &ss;
  if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
    s4->sin_family = AF_INET, s4->sin_port = htons(a->port), len = sizeof *s4;
  } else if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
    s6->sin6_family = AF_INET6, s6->sin6_port = htons(a->port), len = sizeof *s6;
  } else {
    return BERTH_ERR(err, "listen on `%s`: not an address", a->host);
  }
  cleanup_close int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
      bind(fd, (struct sockaddr *) &ss, len) < 0 || listen(fd, 128) < 0)
    return BERTH_ERR_ERRNO(err, "listen on tcp://%s:%u", a->host, a->port);
  *out = steal_fd(fd);
  return 0;
}

struct server {
  const struct berth_api_opts *o;
  int lfd;
  bool unix_socket;
  gid_t gid;          /* the socket's group (0: root's only) */
  struct api_tls tls; /* TLS on TCP (tls.cert NULL: none) */
  pid_t *kids;
  unsigned nkids, max;
  int64_t idle_since; /* monotonic ms; the last connection's end */
};

/* root, our own user, or (a group socket) a member of its group */
static bool peer_allowed(struct server *s, int fd)
{
  struct ucred cr;
  socklen_t len = sizeof cr;
  if (!s->unix_socket) /* TLS: the client's certificate is checked in the connection process, */
    return true;       /* before a byte reaches HTTP; else loopback and --insecure-loopback */
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
    return false;
  if (cr.uid == 0 || cr.uid == geteuid())
    return true;
  if (s->gid == 0)
    return false;
  if (cr.gid == s->gid)
    return true;
  gid_t groups[256];
  len = sizeof groups;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0)
    return false;
  for (size_t i = 0; i < len / sizeof groups[0]; i++)
    if (groups[i] == s->gid)
      return true;
  return false;
}

static void reap(struct server *s)
{
  pid_t pid;
  while ((pid = waitpid(-1, NULL, WNOHANG)) > 0) {
    for (unsigned i = 0; i < s->nkids; i++)
      if (s->kids[i] == pid) {
        s->kids[i] = s->kids[--s->nkids];
        break;
      }
  }
  if (s->nkids == 0 && s->idle_since == 0)
    s->idle_since = berth_mono_ms();
}

static void on_connection(struct server *s, sigset_t *blocked)
{
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  int fd = accept4(s->lfd, (struct sockaddr *) &ss, &len, SOCK_CLOEXEC);
  if (fd < 0)
    return;
  if (s->nkids >= s->max || !peer_allowed(s, fd)) {
    if (s->nkids >= s->max)
      berth_log_warn("api: %u connections open: one refused", s->nkids);
    else
      berth_log_warn("api: a peer without access to the socket was refused");
    close(fd);
    return;
  }
  pid_t pid = fork();
  if (pid == 0) {
    close(s->lfd);
    sigprocmask(SIG_SETMASK, blocked, NULL);
    if (s->tls.cert)
      _exit(api_tls_serve(s->o, &s->tls, fd, (struct sockaddr *) &ss, len));
    _exit(api_conn_serve(s->o, fd, (struct sockaddr *) &ss, len) < 0 ? 1 : 0);
  }
  close(fd);
  if (pid > 0) {
    s->kids[s->nkids++] = pid;
    s->idle_since = 0;
  }
}

/* connections in progress get a few seconds to end, then are ended */
static void drain(struct server *s)
{
  for (int i = 0; i < 50 && s->nkids > 0; i++) {
    reap(s);
    if (s->nkids > 0)
      usleep(100000);
  }
  for (unsigned i = 0; i < s->nkids; i++)
    kill(s->kids[i], SIGKILL);
  /* each by its pid: waitpid(-1) took one off the list's back, and reap() then never found it */
  for (unsigned i = 0; i < s->nkids; i++)
    while (waitpid(s->kids[i], NULL, 0) < 0 && errno == EINTR)
      ;
  s->nkids = 0;
}

static int loop(struct server *s, int sfd, sigset_t *old)
{
  for (;;) {
    int timeout = -1;
    if (s->o->idle_timeout > 0 && s->nkids == 0) {
      int64_t left = s->idle_since + (int64_t) s->o->idle_timeout * 1000 - berth_mono_ms();
      if (left <= 0)
        return 0;
      timeout = (int) (left > 60000 ? 60000 : left);
    }
    struct pollfd pf[2] = { { .fd = s->lfd, .events = POLLIN }, { .fd = sfd, .events = POLLIN } };
    if (poll(pf, 2, timeout) < 0 && errno != EINTR)
      return -1;
    if (pf[1].revents & POLLIN) {
      struct signalfd_siginfo si;
      while (read(sfd, &si, sizeof si) == (ssize_t) sizeof si) {
        if (si.ssi_signo == SIGCHLD)
          reap(s);
        else
          return 0;
      }
    }
    if (pf[0].revents & POLLIN)
      on_connection(s, old);
  }
}

/* a socket systemd gave: the same rules as an address (TLS on TCP only; TCP on a non-loopback
 * address only with --tlsverify) */
static BERTH_WUR int check_given(const struct berth_api_opts *o, struct server *s, berth_error_t *err)
{
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (getsockname(s->lfd, (struct sockaddr *) &ss, &len) < 0)
    return BERTH_ERR_ERRNO(err, "the socket given by systemd");
  s->unix_socket = ss.ss_family == AF_UNIX;
  char host[INET6_ADDRSTRLEN] = "";
  if (s->unix_socket) {
    struct stat st;
    if (len > sizeof(sa_family_t) && stat(((struct sockaddr_un *) &ss)->sun_path, &st) == 0 &&
        (st.st_mode & 0070))
      s->gid = st.st_gid;
    if (berth_api_tls_on(&o->tls))
      return BERTH_ERR(err, "the socket given by systemd is a unix socket: the TLS flags are for TCP");
    return 0;
  }
  unsigned port = 0;
  if (ss.ss_family == AF_INET) {
    inet_ntop(AF_INET, &((struct sockaddr_in *) &ss)->sin_addr, host, sizeof host);
    port = ntohs(((struct sockaddr_in *) &ss)->sin_port);
  } else if (ss.ss_family == AF_INET6) {
    inet_ntop(AF_INET6, &((struct sockaddr_in6 *) &ss)->sin6_addr, host, sizeof host);
    port = ntohs(((struct sockaddr_in6 *) &ss)->sin6_port);
  } else {
    return BERTH_ERR(err, "the socket given by systemd is neither a unix nor a TCP socket");
  }
  cleanup_free char *shown = xasprintf(ss.ss_family == AF_INET6 ? "tcp://[%s]:%u (given by systemd)"
                                                                : "tcp://%s:%u (given by systemd)",
                                       host, port);
  return berth_api_tcp_allowed(shown, host, o, err);
}

static BERTH_WUR int open_listener(const struct berth_api_opts *o, struct server *s, char **made,
                                   berth_error_t *err)
{
  if (o->listen_fd >= 0) {
    s->lfd = o->listen_fd;
    return check_given(o, s, err);
  }
  struct berth_api_address a;
  if (berth_api_address_parse(o->address ? o->address : BERTH_API_DEFAULT_SOCKET, o, &a, err) < 0)
    return -1;
  int r;
  if (a.unix_socket) {
    s->unix_socket = true;
    r = listen_unix(a.path, s->gid, &s->lfd, err);
    if (r == 0)
      *made = xstrdup(a.path);
  } else {
    r = listen_tcp(&a, &s->lfd, err);
  }
  berth_api_address_release(&a);
  return r;
}

int berth_api_serve(const struct berth_api_opts *o, berth_error_t *err)
{
  struct server s = { .o = o,
                      .lfd = -1,
                      .max = o->max_connections ? o->max_connections : BERTH_API_MAX_CONNECTIONS };
  if (o->group && o->group[0]) {
    struct group *g = getgrnam(o->group);
    int gid = -1;
    if (g == NULL && berth_parse_int(o->group, &gid) < 0)
      return BERTH_ERR(err, "group `%s`: no such group", o->group);
    s.gid = g ? g->gr_gid : (gid_t) gid;
  }
  cleanup_free char *made = NULL;
  /* the files are read and checked before anything listens */
  if (api_tls_load(&o->tls, &s.tls, err) < 0)
    return -1;
  if (open_listener(o, &s, &made, err) < 0) {
    api_tls_release(&s.tls);
    return -1;
  }
  sigset_t set, old;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  sigprocmask(SIG_BLOCK, &set, &old);
  signal(SIGPIPE, SIG_IGN);
  int sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  s.kids = xcalloc(s.max, sizeof *s.kids);
  s.idle_since = berth_mono_ms();
  int r = sfd < 0 ? BERTH_ERR_ERRNO(err, "signalfd") : loop(&s, sfd, &old);
  if (r < 0 && err && *err == NULL)
    BERTH_ERR_ERRNO(err, "serve");
  if (made)
    unlink(made); /* no new connection from here on */
  if (o->listen_fd < 0)
    close(s.lfd);
  drain(&s);
  free(s.kids);
  api_tls_release(&s.tls);
  if (sfd >= 0)
    close(sfd);
  sigprocmask(SIG_SETMASK, &old, NULL);
  return r;
}
