/* berth-monitor: the container's output (log and attached clients), stdin, the attach socket. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "monitor.h"

#define DRAIN_MS 1000 /* after the init exited, output still arriving is read this long at most */

struct berth_logw mon_log;
static char iobuf[BERTH_ATTACH_MSG_MAX];

void mon_log_msg(const char *fmt, ...)
{
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
  va_end(ap);
  if (n < 0)
    return;
  if ((size_t) n > sizeof buf - 2)
    n = (int) sizeof buf - 2;
  buf[n++] = '\n';
  if (write(2, "berth-monitor: ", 15) < 0 || write(2, buf, (size_t) n) < 0)
    return;
}

int64_t mon_now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* base/unixsock.h's berth_unix_addr without libberth (the monitor links libc only): PATH, or
 * /proc/self/fd/<dirfd>/<name> when PATH does not fit sun_path (a long --runroot); the caller
 * closes *dirfd (-1: none) after bind. -1 with errno set. */
int mon_sun_addr(const char *path, struct sockaddr_un *sa, int *dirfd)
{
  memset(sa, 0, sizeof *sa);
  sa->sun_family = AF_UNIX;
  *dirfd = -1;
  size_t len = strlen(path);
  if (len < sizeof sa->sun_path) {
    memcpy(sa->sun_path, path, len + 1);
    return 0;
  }
  const char *slash = strrchr(path, '/');
  char dir[4096];
  if (slash == NULL || (size_t) (slash - path) >= sizeof dir) {
    errno = ENAMETOOLONG;
    return -1;
  }
  memcpy(dir, path, (size_t) (slash - path));
  dir[slash - path] = '\0';
  *dirfd = open(dir[0] ? dir : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (*dirfd < 0)
    return -1;
  int n = snprintf(sa->sun_path, sizeof sa->sun_path, "/proc/self/fd/%d/%s", *dirfd, slash + 1);
  if (n < 0 || (size_t) n >= sizeof sa->sun_path) {
    close(*dirfd);
    *dirfd = -1;
    errno = ENAMETOOLONG;
    return -1;
  }
  return 0;
}

int mon_listen(struct mon *m)
{
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", m->rundir, BERTH_MON_ATTACH_SOCK);
  struct sockaddr_un sa;
  int dirfd;
  if (mon_sun_addr(path, &sa, &dirfd) < 0)
    return -1;
  unlink(path);
  m->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  struct stat st;
  int r = m->listen_fd < 0 || bind(m->listen_fd, (struct sockaddr *) &sa, sizeof sa) < 0 ||
              listen(m->listen_fd, 64) < 0 || stat(path, &st) < 0
            ? -1
            : 0;
  if (dirfd >= 0)
    close(dirfd);
  if (r == 0)
    m->listen_ino = st.st_ino;
  return r;
}

void mon_unlisten(struct mon *m)
{
  char path[4096];
  struct stat st;
  snprintf(path, sizeof path, "%s/%s", m->rundir, BERTH_MON_ATTACH_SOCK);
  /* a monitor started after this one may have bound the path again: only ours goes */
  if (stat(path, &st) == 0 && st.st_ino == m->listen_ino)
    unlink(path);
  if (m->listen_fd >= 0)
    close(m->listen_fd);
  m->listen_fd = -1;
}

/* closed now, removed from the table by compact_clients (poll slots keep their indexes meanwhile) */
static void drop_client(struct mon *m, size_t i)
{
  if (m->clients[i].fd >= 0)
    close(m->clients[i].fd);
  m->clients[i].fd = -1;
}

static void compact_clients(struct mon *m)
{
  size_t k = 0;
  for (size_t i = 0; i < m->nclients; i++)
    if (m->clients[i].fd >= 0)
      m->clients[k++] = m->clients[i];
  m->nclients = k;
}

void mon_accept(struct mon *m)
{
  for (;;) {
    int fd = accept4(m->listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0)
      return;
    compact_clients(m);
    if (m->nclients == MON_MAX_CLIENTS) {
      close(fd);
      continue;
    }
    struct timeval tv = { .tv_sec = 5 }; /* a client that stops reading is dropped, not waited for */
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    m->clients[m->nclients++] = (struct mon_client){ .fd = fd };
  }
}

void mon_close_clients(struct mon *m)
{
  char msg[BERTH_ATTACH_MSG_MAX];
  for (size_t i = 0; i < m->nclients; i++) {
    /* what a client sent and nobody read would turn its last messages into ECONNRESET */
    while (m->clients[i].fd >= 0 && recv(m->clients[i].fd, msg, sizeof msg, MSG_DONTWAIT) > 0)
      ;
    drop_client(m, i);
  }
  m->nclients = 0;
}

/* msg: the message with its type byte at msg[0] */
static void broadcast_msg(struct mon *m, const char *msg, size_t len, unsigned char want)
{
  for (size_t i = 0; i < m->nclients; i++) {
    struct mon_client *c = &m->clients[i];
    if (c->fd < 0 || (want && !(c->hello && (c->want & want))))
      continue;
    if (send(c->fd, msg, len, MSG_NOSIGNAL) < 0)
      drop_client(m, i);
  }
}

void mon_broadcast(struct mon *m, char type, const char *data, size_t len, unsigned char want)
{
  if (len > sizeof iobuf - 1)
    len = sizeof iobuf - 1;
  iobuf[0] = type;
  memcpy(iobuf + 1, data, len);
  broadcast_msg(m, iobuf, len + 1, want);
}

void mon_reap(struct mon *m)
{
  struct signalfd_siginfo si;
  while (read(m->sigfd, &si, sizeof si) > 0)
    ;
  int st;
  pid_t pid;
  while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
    if (mon_health_reaped(m, pid, st))
      continue;
    else if (pid == m->init_pid && !m->exited) {
      m->exited = true;
      m->status = st;
    }
}

static void stdin_write(struct mon *m, const char *data, size_t len)
{
  if (m->in_fd < 0)
    return;
  while (len > 0) {
    ssize_t n = write(m->in_fd, data, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && errno == EAGAIN) {
      memcpy(m->stdin_pending, data, len); /* written when the pipe has room; clients wait meanwhile */
      m->n_stdin_pending = len;
      return;
    }
    if (n < 0) { /* the container closed its stdin */
      close(m->in_fd);
      m->in_fd = -1;
      return;
    }
    data += n;
    len -= (size_t) n;
  }
}

static void stdin_flush(struct mon *m)
{
  char tmp[sizeof m->stdin_pending];
  size_t n = m->n_stdin_pending;
  memcpy(tmp, m->stdin_pending, n);
  m->n_stdin_pending = 0;
  stdin_write(m, tmp, n);
}

static void resize(struct mon *m, const char *data, size_t len)
{
  char buf[64];
  snprintf(buf, sizeof buf, "%.*s", (int) (len < sizeof buf ? len : sizeof buf - 1), data);
  unsigned rows = 0, cols = 0;
  if (!m->terminal || m->out_fd < 0 || sscanf(buf, "%u %u", &rows, &cols) != 2)
    return;
  struct winsize ws = { .ws_row = (unsigned short) rows, .ws_col = (unsigned short) cols };
  ioctl(m->out_fd, TIOCSWINSZ, &ws);
}

static void client_message(struct mon *m, size_t i, const char *msg, size_t len)
{
  struct mon_client *c = &m->clients[i];
  switch (msg[0]) {
  case BERTH_ATTACH_HELLO:
    c->hello = true;
    c->want = len > 1 ? (unsigned char) msg[1] : 0;
    break;
  case BERTH_ATTACH_STDIN: stdin_write(m, msg + 1, len - 1); break;
  case BERTH_ATTACH_STDIN_CLOSE:
    if (m->stdin_once && !m->terminal && m->in_fd >= 0 && m->n_stdin_pending == 0) {
      close(m->in_fd);
      m->in_fd = -1;
    }
    break;
  case BERTH_ATTACH_RESIZE: resize(m, msg + 1, len - 1); break;
  case BERTH_ATTACH_CANCEL: m->cancel = true; break;
  default: break;
  }
}

static void compact_held(struct mon *m)
{
  size_t k = 0;
  for (size_t i = 0; i < m->nheld; i++)
    if (m->held[i] >= 0)
      m->held[k++] = m->held[i];
  m->nheld = k;
}

void mon_close_held(struct mon *m)
{
  for (size_t i = 0; i < m->nheld; i++)
    if (m->held[i] >= 0)
      close(m->held[i]);
  m->nheld = 0;
}

/* HOLD: a pty master to keep open (a detached exec's terminal would hang up without it) */
static void hold(struct mon *m, int fd)
{
  compact_held(m);
  if (m->nheld == MON_MAX_HELD || fcntl(fd, F_SETFL, O_NONBLOCK) < 0) {
    mon_log_msg("cannot keep the terminal of a detached exec (%zu held)", m->nheld);
    close(fd);
    return;
  }
  m->held[m->nheld++] = fd;
}

/* read what a held terminal has (discarded); closed when its process side is all closed */
static void drain_held(struct mon *m, size_t i)
{
  char buf[4096];
  ssize_t n = read(m->held[i], buf, sizeof buf);
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return;
  if (n <= 0) {
    close(m->held[i]);
    m->held[i] = -1;
  }
}

static void client_read(struct mon *m, size_t i)
{
  char msg[BERTH_ATTACH_MSG_MAX];
  union {
    struct cmsghdr h;
    char buf[CMSG_SPACE(sizeof(int))];
  } cm;
  struct iovec iov = { msg, sizeof msg };
  struct msghdr mh = {
    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.buf, .msg_controllen = sizeof cm.buf
  };
  ssize_t n = recvmsg(m->clients[i].fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return;
  int fd = -1;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int)))
      memcpy(&fd, CMSG_DATA(c), sizeof fd);
  if (fd >= 0 && n > 0 && msg[0] == BERTH_ATTACH_HOLD)
    hold(m, fd); /* keeps or closes it */
  else if (fd >= 0)
    close(fd);
  if (n <= 0) {
    drop_client(m, i);
    return;
  }
  client_message(m, i, msg, (size_t) n);
}

/* the n bytes at iobuf + 1: into the log and to the clients */
static void deliver_iobuf(struct mon *m, enum berth_log_stream s, size_t n)
{
  int r = berth_logw_feed(&mon_log, s, iobuf + 1, n, mon_now());
  if (r < 0)
    mon_log_msg("write log `%s`: %s", mon_log.path, strerror(-r));
  iobuf[0] = s == BERTH_LOG_STDERR ? BERTH_ATTACH_STDERR : BERTH_ATTACH_STDOUT;
  broadcast_msg(m, iobuf, n + 1, s == BERTH_LOG_STDERR ? BERTH_ATTACH_WANT_STDERR : BERTH_ATTACH_WANT_STDOUT);
}

void mon_deliver(struct mon *m, enum berth_log_stream s, const char *data, size_t len)
{
  while (len > 0) {
    size_t n = len < sizeof iobuf - 1 ? len : sizeof iobuf - 1;
    memcpy(iobuf + 1, data, n);
    deliver_iobuf(m, s, n);
    data += n;
    len -= n;
  }
}

/* one read of a container stream into the log and to the clients; false at its end */
static bool pump(struct mon *m, int fd, enum berth_log_stream s)
{
  ssize_t n = read(fd, iobuf + 1, sizeof iobuf - 1);
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return true;
  if (n <= 0) { /* end of file, or EIO from a pty master whose slave side is all closed */
    berth_logw_flush(&mon_log, s, mon_now());
    return false;
  }
  deliver_iobuf(m, s, (size_t) n);
  return true;
}

void mon_read_hellos(struct mon *m)
{
  mon_accept(m);
  for (size_t i = 0; i < m->nclients; i++)
    if (m->clients[i].fd >= 0)
      client_read(m, i);
}

enum { P_SIG, P_LISTEN, P_OUT, P_ERR, P_IN, P_HTIMER, P_HOUT, P_CLIENTS };

static size_t fill_poll(struct mon *m, struct pollfd *pf)
{
  compact_clients(m);
  pf[P_SIG] = (struct pollfd){ .fd = m->sigfd, .events = POLLIN };
  pf[P_LISTEN] = (struct pollfd){ .fd = m->listen_fd, .events = POLLIN };
  pf[P_OUT] = (struct pollfd){ .fd = m->out_fd, .events = POLLIN };
  pf[P_ERR] = (struct pollfd){ .fd = m->err_fd, .events = POLLIN };
  pf[P_IN] = (struct pollfd){ .fd = m->n_stdin_pending ? m->in_fd : -1, .events = POLLOUT };
  pf[P_HTIMER] = (struct pollfd){ .fd = m->exited ? -1 : m->health.timer, .events = POLLIN };
  pf[P_HOUT] = (struct pollfd){ .fd = m->health.out, .events = POLLIN };
  for (size_t i = 0; i < m->nclients; i++) /* while stdin is backed up, clients wait */
    pf[P_CLIENTS + i] = (struct pollfd){ .fd = m->n_stdin_pending ? -1 : m->clients[i].fd, .events = POLLIN };
  compact_held(m);
  for (size_t i = 0; i < m->nheld; i++)
    pf[P_CLIENTS + m->nclients + i] = (struct pollfd){ .fd = m->held[i], .events = POLLIN };
  return P_CLIENTS + m->nclients + m->nheld;
}

static void handle_held(struct mon *m, const struct pollfd *pf, size_t nclients, size_t nheld)
{
  for (size_t i = 0; i < nheld; i++)
    if (m->held[i] >= 0 && (pf[P_CLIENTS + nclients + i].revents & (POLLIN | POLLHUP | POLLERR)))
      drain_held(m, i);
}

static void handle_clients(struct mon *m, const struct pollfd *pf, size_t nclients)
{
  for (size_t i = 0; i < nclients; i++)
    if (m->clients[i].fd >= 0 && (pf[P_CLIENTS + i].revents & (POLLIN | POLLHUP | POLLERR)))
      client_read(m, i);
}

static void close_fd(int *fd)
{
  if (*fd >= 0)
    close(*fd);
  *fd = -1;
}

void mon_serve(struct mon *m)
{
  struct pollfd pf[P_CLIENTS + MON_MAX_CLIENTS + MON_MAX_HELD];
  int64_t deadline = 0;
  mon_reap(m); /* the init may be gone already: its SIGCHLD may have been read while the runtime ran */
  mon_health_begin(m);
  while (!m->exited || m->out_fd >= 0 || m->err_fd >= 0) {
    if (m->exited && deadline == 0)
      deadline = berth_mono_ms() + DRAIN_MS;
    int timeout = m->exited ? (int) (deadline - berth_mono_ms()) : -1;
    if (m->exited && timeout <= 0)
      break;
    size_t n = fill_poll(m, pf);
    size_t nclients = m->nclients, nheld = m->nheld;
    if (poll(pf, n, timeout) < 0)
      continue;
    if (pf[P_SIG].revents & POLLIN)
      mon_reap(m);
    if ((pf[P_OUT].revents & (POLLIN | POLLHUP | POLLERR)) && !pump(m, m->out_fd, BERTH_LOG_STDOUT)) {
      if (m->in_fd >= 0 && m->terminal)
        close_fd(&m->in_fd);
      close_fd(&m->out_fd);
    }
    if ((pf[P_ERR].revents & (POLLIN | POLLHUP | POLLERR)) && !pump(m, m->err_fd, BERTH_LOG_STDERR))
      close_fd(&m->err_fd);
    if (pf[P_IN].revents & (POLLOUT | POLLERR | POLLHUP))
      stdin_flush(m);
    if (pf[P_HOUT].revents & (POLLIN | POLLHUP | POLLERR))
      mon_health_read(m);
    if (pf[P_HTIMER].revents & POLLIN)
      mon_health_timer(m);
    handle_clients(m, pf, nclients); /* a HOLD appends to held: polled from the next round */
    handle_held(m, pf, nclients, nheld);
    if (pf[P_LISTEN].revents & POLLIN)
      mon_accept(m);
  }
  mon_health_end(m);
  mon_close_held(m); /* the init is gone: a detached exec's terminal goes with it */
  berth_logw_flush(&mon_log, BERTH_LOG_STDOUT, mon_now());
  berth_logw_flush(&mon_log, BERTH_LOG_STDERR, mon_now());
  m->n_stdin_pending = 0;
  mon_close_stdio(m);
}

/* client i's answer to EXITED: 1 recorded (decision set), 0 it could not, -1 its connection
 * ended, -2 no answer in time */
static int await_recorded(struct mon *m, size_t i, char *decision, size_t len)
{
  int64_t until = berth_mono_ms() + BERTH_ATTACH_RECORD_MS;
  char msg[BERTH_ATTACH_MSG_MAX];
  for (;;) {
    int left = (int) (until - berth_mono_ms());
    struct pollfd pf = { .fd = m->clients[i].fd, .events = POLLIN };
    int r = left > 0 ? poll(&pf, 1, left) : 0;
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      return r == 0 ? -2 : -1;
    ssize_t n = recv(pf.fd, msg, sizeof msg - 1, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
      continue;
    if (n <= 0)
      return -1;
    if (msg[0] != BERTH_ATTACH_RECORDED)
      continue; /* stdin, a resize: the container is gone */
    msg[n] = '\0';
    snprintf(decision, len, "%s", msg + 1);
    return n > 1 ? 1 : 0;
  }
}

bool mon_client_record(struct mon *m, int code, char *decision, size_t len)
{
  for (size_t i = 0; i < m->nclients; i++) {
    struct mon_client *c = &m->clients[i];
    if (c->fd < 0 || !c->hello || !(c->want & BERTH_ATTACH_WANT_RECORD))
      continue;
    char msg[48];
    int n = snprintf(msg, sizeof msg, "%c%d %d", BERTH_ATTACH_EXITED, code, (int) m->init_pid);
    int r = send(c->fd, msg, (size_t) n, MSG_NOSIGNAL) < 0 ? -1 : await_recorded(m, i, decision, len);
    if (r > 0)
      return true;
    decision[0] = '\0';
    if (r == -1)
      drop_client(m, i);
    /* a stopped client keeps its connection: the EXIT after the handler's record is queued for
     * it, and its late answer finds the exit recorded */
  }
  return false;
}

bool mon_sleep(struct mon *m, int64_t ms)
{
  int64_t until = berth_mono_ms() + ms;
  struct pollfd pf[P_CLIENTS + MON_MAX_CLIENTS + MON_MAX_HELD];
  while (!m->cancel) {
    int64_t left = until - berth_mono_ms();
    if (left <= 0)
      return true;
    size_t n = fill_poll(m, pf); /* no container: its three fds are -1 */
    size_t nclients = m->nclients;
    if (poll(pf, n, (int) left) < 0)
      continue;
    if (pf[P_SIG].revents & POLLIN)
      mon_reap(m);
    handle_clients(m, pf, nclients);
    if (pf[P_LISTEN].revents & POLLIN)
      mon_accept(m);
  }
  return false;
}
