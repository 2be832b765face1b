/* fdrecv: the host side of the two OCI unix-socket handshakes that pass a descriptor.
 *
 *   fdrecv console SOCKET [INPUT]  listen on SOCKET (runtime's --console-socket), receive the
 *                                  pty master by SCM_RIGHTS, print "console=received" on
 *                                  stderr, write INPUT to it, then copy the console's output
 *                                  to stdout until the container side closes.
 *   fdrecv seccomp SOCKET ERRNO    listen on SOCKET (linux.seccomp.listenerPath), receive the
 *                                  seccomp listener and the state JSON (printed as state=...),
 *                                  answer every notification with -ERRNO and print
 *                                  notify=<syscall nr>, until every filtered process is gone.
 *   fdrecv seccomp-hold SOCKET K,..  listen on SOCKET for any number of listeners (conn=N for
 *                                  the Nth); let every notified call through (CONTINUE), but
 *                                  hold the first call of the Kth listener (each K listed, < 64)
 *                                  — its process stays in that syscall — print held=<pid> (in
 *                                  our pid namespace) and let it through on SIGUSR1
 *                                  (released=<pid>). Until killed.
 *
 *   fdrecv notify SOCKET           bind a datagram socket at SOCKET (a host's NOTIFY_SOCKET) and
 *                                  print every line of every datagram as notify=<line>, until
 *                                  killed.
 *
 * Built for the host by the integration harness (`cc -O2`). Exits 0 on success, 1 on error. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

static int die(const char *what)
{
  fprintf(stderr, "fdrecv: %s: %s\n", what, strerror(errno));
  return 1;
}

static int listen_on(const char *path)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  if (strlen(path) >= sizeof addr.sun_path) {
    errno = ENAMETOOLONG;
    return -1;
  }
  strncpy(addr.sun_path, path, sizeof addr.sun_path - 1);
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0)
    return -1;
  unlink(path);
  if (bind(s, (struct sockaddr *) &addr, sizeof addr) < 0 || listen(s, 1) < 0) {
    close(s);
    return -1;
  }
  return s;
}

/* does text hold a whole JSON object (its top-level braces closed)? */
static bool json_complete(const char *t, size_t n)
{
  int depth = 0;
  bool str = false, esc = false, seen = false;
  for (size_t i = 0; i < n; i++) {
    char c = t[i];
    if (str) {
      if (esc)
        esc = false;
      else if (c == '\\')
        esc = true;
      else if (c == '"')
        str = false;
    } else if (c == '"') {
      str = true;
    } else if (c == '{') {
      depth++;
      seen = true;
    } else if (c == '}' && --depth == 0 && seen) {
      return true;
    }
  }
  return false;
}

/* accept one connection and receive one descriptor (and the payload, NUL-terminated); with
 * `whole`, the payload is read until it is a whole JSON object or the peer closes (the seccomp
 * state: crun 1.8 sends it in several writes, indented, and keeps the connection open) */
static int recv_fd(int lsock, char *payload, size_t cap, bool whole)
{
  int c = accept4(lsock, NULL, NULL, SOCK_CLOEXEC);
  if (c < 0)
    return -1;
  union {
    char buf[CMSG_SPACE(sizeof(int) * 4)];
    struct cmsghdr align;
  } u;
  struct iovec iov = { .iov_base = payload, .iov_len = cap - 1 };
  struct msghdr msg = {
    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf
  };
  ssize_t n;
  do
    n = recvmsg(c, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  for (ssize_t more = n; whole && more > 0 && (size_t) n < cap - 1 && !json_complete(payload, (size_t) n);
       n += more > 0 ? more : 0) {
    do
      more = read(c, payload + n, cap - 1 - (size_t) n);
    while (more < 0 && errno == EINTR);
  }
  close(c);
  if (n < 0)
    return -1;
  payload[n] = '\0';
  for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
    if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
      int fd;
      memcpy(&fd, CMSG_DATA(cm), sizeof fd);
      return fd;
    }
  }
  errno = EBADMSG;
  return -1;
}

static int console(const char *path, const char *input)
{
  int l = listen_on(path);
  if (l < 0)
    return die("listen");
  char name[4096];
  int master = recv_fd(l, name, sizeof name, false);
  close(l);
  if (master < 0)
    return die("receive console");
  fprintf(stderr, "console=received\n");
  if (input && write(master, input, strlen(input)) < 0)
    return die("write console");
  char buf[4096];
  for (;;) {
    ssize_t n = read(master, buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) /* EIO once the last slave descriptor is closed */
      break;
    if (write(1, buf, (size_t) n) < 0)
      return die("write stdout");
  }
  close(master);
  return 0;
}

static int seccomp_agent(const char *path, int err)
{
  int l = listen_on(path);
  if (l < 0)
    return die("listen");
  static char state[1 << 16];
  int listener = recv_fd(l, state, sizeof state, true);
  close(l);
  if (listener < 0)
    return die("receive listener");
  for (char *c = state; *c; c++) /* one line of output, for jq */
    if (*c == '\n')
      *c = ' ';
  printf("state=%s\n", state);
  fflush(stdout);
  struct seccomp_notif_sizes sizes;
  if (syscall(__NR_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) < 0)
    return die("notif sizes");
  struct seccomp_notif *req = calloc(1, sizes.seccomp_notif);
  struct seccomp_notif_resp *resp = calloc(1, sizes.seccomp_notif_resp);
  for (;;) {
    struct pollfd p = { .fd = listener, .events = POLLIN };
    if (poll(&p, 1, -1) < 0) {
      if (errno == EINTR)
        continue;
      return die("poll");
    }
    if (!(p.revents & POLLIN))
      break; /* POLLHUP: no process uses the filter any more */
    memset(req, 0, sizes.seccomp_notif);
    if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, req) < 0) {
      if (errno == EINTR || errno == ENOENT)
        continue;
      break;
    }
    printf("notify=%d\n", req->data.nr);
    fflush(stdout);
    memset(resp, 0, sizes.seccomp_notif_resp);
    resp->id = req->id;
    resp->error = -err;
    if (ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, resp) < 0 && errno != ENOENT)
      return die("notif send");
  }
  free(req);
  free(resp);
  close(listener);
  return 0;
}

/* answer a notification: let the call run (or fail with EPERM when CONTINUE is refused) */
static void let_through(int listener, uint64_t id, struct seccomp_notif_resp *resp, size_t size)
{
  memset(resp, 0, size);
  resp->id = id;
  resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
  if (ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, resp) < 0 && errno != ENOENT)
    fprintf(stderr, "fdrecv: notif send: %s\n", strerror(errno));
}

struct hold {
  struct pollfd p[64]; /* [0] the socket, [1] the signalfd, then listeners */
  int conn_of[64];     /* listener index (1-based) of each p[] entry */
  int n, conns;
  uint64_t want; /* bit K: hold the first call of the Kth listener */
  int held_fd;   /* listener of the held call, -1 when none */
  uint64_t held_id;
  unsigned held_pid;
};

static void hold_notify(struct hold *h, int i, struct seccomp_notif *req, struct seccomp_notif_resp *resp,
                        const struct seccomp_notif_sizes *sz)
{
  memset(req, 0, sz->seccomp_notif);
  if (ioctl(h->p[i].fd, SECCOMP_IOCTL_NOTIF_RECV, req) < 0)
    return;
  printf("notify=%d:%d:%u\n", h->conn_of[i], req->data.nr, req->pid);
  uint64_t bit = UINT64_C(1) << h->conn_of[i];
  if (h->held_fd == h->p[i].fd && req->pid == h->held_pid) {
    /* the held call again: a signal interrupted it (Go's runtime sends SIGURG), and the
     * kernel restarts it as a new notification */
    h->held_id = req->id;
  } else if ((h->want & bit) && h->held_fd < 0) {
    h->want &= ~bit;
    h->held_fd = h->p[i].fd;
    h->held_id = req->id;
    h->held_pid = req->pid;
    printf("held=%u\n", req->pid);
  } else {
    let_through(h->p[i].fd, req->id, resp, sz->seccomp_notif_resp);
  }
  fflush(stdout);
}

static int seccomp_hold(const char *path, const char *list)
{
  struct hold h = { .n = 2, .held_fd = -1 };
  for (char *end; *list; list = *end ? end + 1 : end) {
    long k = strtol(list, &end, 10);
    if (k > 0 && k < 64)
      h.want |= UINT64_C(1) << k;
  }
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  sigprocmask(SIG_BLOCK, &usr1, NULL);
  h.p[0] = (struct pollfd){ .fd = listen_on(path), .events = POLLIN };
  h.p[1] = (struct pollfd){ .fd = signalfd(-1, &usr1, SFD_CLOEXEC), .events = POLLIN };
  if (h.p[0].fd < 0 || h.p[1].fd < 0)
    return die("listen");
  struct seccomp_notif_sizes sz;
  if (syscall(__NR_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sz) < 0)
    return die("notif sizes");
  struct seccomp_notif *req = calloc(1, sz.seccomp_notif);
  struct seccomp_notif_resp *resp = calloc(1, sz.seccomp_notif_resp);
  static char state[1 << 16];
  for (;;) {
    if (poll(h.p, (nfds_t) h.n, -1) < 0 && errno != EINTR)
      return die("poll");
    if ((h.p[0].revents & POLLIN) && h.n < 64) {
      int fd = recv_fd(h.p[0].fd, state, sizeof state, true);
      if (fd >= 0) {
        h.conn_of[h.n] = ++h.conns;
        h.p[h.n++] = (struct pollfd){ .fd = fd, .events = POLLIN };
        printf("conn=%d\n", h.conns);
        fflush(stdout);
      }
    }
    if (h.p[1].revents & POLLIN) {
      struct signalfd_siginfo si;
      if (read(h.p[1].fd, &si, sizeof si) > 0 && h.held_fd >= 0) {
        let_through(h.held_fd, h.held_id, resp, sz.seccomp_notif_resp);
        printf("released=%u\n", h.held_pid);
        fflush(stdout);
        h.held_fd = -1;
      }
    }
    for (int i = 2; i < h.n; i++) {
      if (h.p[i].revents & POLLIN)
        hold_notify(&h, i, req, resp, &sz);
      else if (h.p[i].revents & (POLLHUP | POLLERR)) { /* every process of that filter is gone */
        if (h.held_fd == h.p[i].fd)
          h.held_fd = -1;
        close(h.p[i].fd);
        h.p[i].fd = -1;
      }
    }
  }
}

static int notify_listener(const char *path)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  if (strlen(path) >= sizeof addr.sun_path) {
    errno = ENAMETOOLONG;
    return die("notify socket");
  }
  strncpy(addr.sun_path, path, sizeof addr.sun_path - 1);
  int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  unlink(path);
  if (s < 0 || bind(s, (struct sockaddr *) &addr, sizeof addr) < 0)
    return die("bind notify socket");
  char buf[4097];
  for (;;) {
    ssize_t n = recv(s, buf, sizeof buf - 1, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return die("recv");
    buf[n] = '\0';
    for (char *save = NULL, *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
      printf("notify=%s\n", l);
    fflush(stdout);
  }
}

int main(int argc, char **argv)
{
  if (argc >= 3 && !strcmp(argv[1], "console"))
    return console(argv[2], argc > 3 ? argv[3] : NULL);
  if (argc == 4 && !strcmp(argv[1], "seccomp"))
    return seccomp_agent(argv[2], atoi(argv[3]));
  if (argc == 4 && !strcmp(argv[1], "seccomp-hold"))
    return seccomp_hold(argv[2], argv[3]);
  if (argc == 3 && !strcmp(argv[1], "notify"))
    return notify_listener(argv[2]);
  fprintf(stderr, "usage: fdrecv console SOCKET [INPUT] | fdrecv seccomp SOCKET ERRNO\n"
                  "       fdrecv seccomp-hold SOCKET K[,K...] | fdrecv notify SOCKET\n");
  return 2;
}
