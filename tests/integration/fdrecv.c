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
 *
 * Built for the host by the integration harness (`cc -O2`). Exits 0 on success, 1 on error. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
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

/* accept one connection and receive one descriptor (and the payload, NUL-terminated) */
static int recv_fd(int lsock, char *payload, size_t cap)
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
  int master = recv_fd(l, name, sizeof name);
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
  int listener = recv_fd(l, state, sizeof state);
  close(l);
  if (listener < 0)
    return die("receive listener");
  state[strcspn(state, "\n")] = '\0';
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

int main(int argc, char **argv)
{
  if (argc >= 3 && !strcmp(argv[1], "console"))
    return console(argv[2], argc > 3 ? argv[3] : NULL);
  if (argc == 4 && !strcmp(argv[1], "seccomp"))
    return seccomp_agent(argv[2], atoi(argv[3]));
  fprintf(stderr, "usage: fdrecv console SOCKET [INPUT] | fdrecv seccomp SOCKET ERRNO\n");
  return 2;
}
