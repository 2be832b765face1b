#include "base/sync.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"

struct wire_hdr {
  uint32_t type;
  int32_t value;
  uint32_t len;
};

int berth_sync_pair(int fds[2], berth_error_t *err)
{
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0)
    return BERTH_ERR_ERRNO(err, "socketpair");
  return 0;
}

static int send_with_fd(int sock, struct iovec *iov, int niov, int fd)
{
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } u;
  struct msghdr mh = { .msg_iov = iov, .msg_iovlen = (size_t) niov };
  if (fd >= 0) {
    memset(&u, 0, sizeof u);
    mh.msg_control = u.buf;
    mh.msg_controllen = sizeof u.buf;
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof(int));
  }
  ssize_t r;
  do
    r = sendmsg(sock, &mh, MSG_NOSIGNAL);
  while (r < 0 && errno == EINTR);
  return r < 0 ? -1 : 0;
}

/* write(2) as sendmsg's MSG_NOSIGNAL would: a peer gone is EPIPE, not a SIGPIPE that kills us
 * (SIGPIPE blocked meanwhile, and the one this raised taken back) */
static ssize_t write_nosigpipe(int fd, const void *buf, size_t len)
{
  sigset_t pipe_set, old, pending;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  bool was_pending = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1;
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
  ssize_t r;
  do
    r = write(fd, buf, len);
  while (r < 0 && errno == EINTR);
  int saved = errno;
  if (r < 0 && saved == EPIPE && !was_pending) {
    struct timespec zero = { 0, 0 };
    (void) sigtimedwait(&pipe_set, NULL, &zero);
  }
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  errno = saved;
  return r;
}

int berth_sync_send(int sock, uint32_t type, int32_t value, const void *data, size_t len, int fd,
                    berth_error_t *err)
{
  if (len > BERTH_SYNC_MAX_DATA)
    len = BERTH_SYNC_MAX_DATA;
  struct wire_hdr h = { type, value, (uint32_t) len };
  if (fd < 0) {
    /* no descriptor: one write(2) of the whole message (a SOCK_SEQPACKET keeps it one). A
     * container process under a seccomp filter that notifies sendmsg reports through this
     * before its agent has the listener; write is the call a filter may never notify */
    char buf[sizeof h + BERTH_SYNC_MAX_DATA];
    memcpy(buf, &h, sizeof h);
    if (len)
      memcpy(buf + sizeof h, data, len);
    ssize_t r = write_nosigpipe(sock, buf, sizeof h + len);
    if (r != (ssize_t) (sizeof h + len))
      return r < 0 ? BERTH_ERR_ERRNO(err, "send sync message")
                   : BERTH_ERR(err, "send sync message: short write");
    return 0;
  }
  struct iovec iov[2] = { { &h, sizeof h }, { (void *) data, len } };
  if (send_with_fd(sock, iov, len ? 2 : 1, fd) < 0)
    return BERTH_ERR_ERRNO(err, "send sync message");
  return 0;
}

/* *msg_flags (when non-NULL) gets recvmsg's flags: MSG_TRUNC for a datagram longer than iov */
static int recv_with_fd(int sock, struct iovec *iov, int niov, int *fd, int *msg_flags)
{
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } u;
  struct msghdr mh = {
    .msg_iov = iov, .msg_iovlen = (size_t) niov, .msg_control = u.buf, .msg_controllen = sizeof u.buf
  };
  ssize_t r;
  do
    r = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
  while (r < 0 && errno == EINTR);
  if (fd)
    *fd = -1;
  if (r < 0)
    return -1;
  if (msg_flags)
    *msg_flags = mh.msg_flags;
  /* the kernel installs as many descriptors as the buffer holds (two of them fit in it):
   * the first is the caller's, every other one is closed */
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
      continue;
    size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < n; i++) {
      int got;
      memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
      if (fd && *fd < 0)
        *fd = got;
      else
        close(got);
    }
  }
  return (int) r;
}

int berth_sync_recv(int sock, struct berth_sync_msg *msg, int *fd, berth_error_t *err)
{
  int r = berth_sync_recv_or_eof(sock, msg, fd, err);
  if (r == 1)
    return BERTH_ERR(err, "container process exited before completing setup");
  return r;
}

/* r bytes arrived: the header in h, the data already in msg->data */
static BERTH_WUR int decode(const struct wire_hdr *h, int r, bool truncated, struct berth_sync_msg *msg,
                            int *fd, berth_error_t *err)
{
  /* a descriptor that came with anything but a message is not the caller's to close */
  bool ok = r > 0 && !truncated && (size_t) r >= sizeof *h && h->len <= BERTH_SYNC_MAX_DATA &&
            (size_t) r == sizeof *h + h->len;
  if (!ok && fd && *fd >= 0) {
    close(*fd);
    *fd = -1;
  }
  if (r == 0)
    return 1;
  if (!ok)
    return BERTH_ERR(err, "malformed sync message");
  msg->type = h->type;
  msg->value = h->value;
  msg->len = h->len;
  msg->data[h->len] = '\0';
  if (h->type == BERTH_SYNC_ERROR) {
    if (fd && *fd >= 0) {
      close(*fd);
      *fd = -1;
    }
    /* the child's message is complete already (errno text included) */
    return berth_error_make(err, 0, "%s", msg->data);
  }
  return 0;
}

int berth_sync_recv_or_eof(int sock, struct berth_sync_msg *msg, int *fd, berth_error_t *err)
{
  struct wire_hdr h;
  struct iovec iov[2] = { { &h, sizeof h }, { msg->data, BERTH_SYNC_MAX_DATA } };
  int flags = 0;
  int r = recv_with_fd(sock, iov, 2, fd, &flags);
  if (r < 0)
    return BERTH_ERR_ERRNO(err, "receive sync message");
  return decode(&h, r, (flags & MSG_TRUNC) != 0, msg, fd, err);
}

int berth_sync_write(int sock, uint32_t type, int32_t value, berth_error_t *err)
{
  struct wire_hdr h = { type, value, 0 };
  ssize_t r = write_nosigpipe(sock, &h, sizeof h);
  if (r != (ssize_t) sizeof h)
    return r < 0 ? BERTH_ERR_ERRNO(err, "write sync message")
                 : BERTH_ERR(err, "write sync message: short write");
  return 0;
}

int berth_sync_read(int sock, struct berth_sync_msg *msg, berth_error_t *err)
{
  char buf[sizeof(struct wire_hdr) + BERTH_SYNC_MAX_DATA + 1];
  ssize_t r;
  do
    r = read(sock, buf, sizeof buf);
  while (r < 0 && errno == EINTR);
  if (r < 0)
    return BERTH_ERR_ERRNO(err, "read sync message");
  struct wire_hdr h = { 0, 0, 0 };
  if ((size_t) r >= sizeof h) {
    memcpy(&h, buf, sizeof h);
    memcpy(msg->data, buf + sizeof h,
           (size_t) r - sizeof h > BERTH_SYNC_MAX_DATA ? BERTH_SYNC_MAX_DATA : (size_t) r - sizeof h);
  }
  int d = decode(&h, (int) r, (size_t) r > sizeof h + BERTH_SYNC_MAX_DATA, msg, NULL, err);
  return d == 1 ? BERTH_ERR(err, "read sync message: the peer closed the channel") : d;
}

int berth_sync_expect(int sock, uint32_t type, struct berth_sync_msg *msg, int *fd, berth_error_t *err)
{
  if (berth_sync_recv(sock, msg, fd, err) < 0)
    return -1;
  if (msg->type != type) {
    if (fd && *fd >= 0) {
      close(*fd);
      *fd = -1;
    }
    return BERTH_ERR(err, "unexpected sync message %#x (wanted %#x)", msg->type, type);
  }
  return 0;
}

void berth_sync_send_error(int sock, berth_error_t *err)
{
  if (err == NULL || *err == NULL)
    return;
  berth_error_t ignored = NULL;
  const char *m = (*err)->msg;
  if (berth_sync_send(sock, BERTH_SYNC_ERROR, (*err)->errnum, m, strlen(m), -1, &ignored) < 0)
    berth_error_release(&ignored);
  berth_error_release(err);
}

int berth_send_fd(int sock, int fd, const char *payload, berth_error_t *err)
{
  const char *p = payload ? payload : "";
  struct iovec iov = { (void *) p, strlen(p) + 1 };
  if (send_with_fd(sock, &iov, 1, fd) < 0)
    return BERTH_ERR_ERRNO(err, "send fd over socket");
  return 0;
}

int berth_recv_fd(int sock, berth_error_t *err)
{
  char buf[256];
  struct iovec iov = { buf, sizeof buf };
  int fd = -1;
  int r = recv_with_fd(sock, &iov, 1, &fd, NULL);
  if (r < 0)
    return BERTH_ERR_ERRNO(err, "receive fd");
  if (fd < 0)
    return BERTH_ERR(err, "receive fd: no descriptor in message");
  return fd;
}
