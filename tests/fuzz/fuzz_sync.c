/* Fuzz the sync channel's decoder (base/sync.h): what a forked child, perhaps one already
 * running code of the container, can send to the runtime over the socket pair.
 *
 * Input: records of [flags:1][length:2, little endian][packet bytes], each one packet. flags:
 *   bit 0  pass a descriptor (a pipe's read end) with the packet, as SCM_RIGHTS
 *   bit 1  receive without asking for a descriptor (fd argument NULL)
 *   bit 2  receive with berth_sync_expect for the type in the packet's first 4 bytes, XOR 1
 *          when bit 3 is set too (so the type differs)
 *   bit 4  send the packet with berth_sync_send (type, value, data taken from the bytes)
 *          instead of as raw bytes: the decoder must give back exactly what was sent
 *   bit 5  with bit 0 and raw bytes: pass the descriptor twice in one SCM_RIGHTS message
 * After the records, the sender closes and the receiver must see the end.
 *
 * Invariants: an accepted message is exactly what the packet held (header, data, NUL after
 * the data); an ERROR message becomes an error whose text is its data; anything else is
 * "malformed"; whatever the outcome, no descriptor is left open that the caller was not
 * handed (no leak into a container), and a descriptor handed over is the one sent.
 * Only a socket pair and a pipe: nothing on the filesystem. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.h"
#include "base/sync.h"

#define HDR 12

static int passed_fd = -1; /* a pipe's read end, sent along with packets; kept for the process */
static struct stat passed_st;

static void setup_once(void)
{
  int p[2];
  if (passed_fd >= 0)
    return;
  if (pipe2(p, O_CLOEXEC) < 0 || fstat(p[0], &passed_st) < 0)
    abort();
  passed_fd = p[0];
}

/* with n_fds (0..2) copies of passed_fd */
static void send_raw(int sock, const uint8_t *pkt, size_t len, int n_fds)
{
  union {
    char buf[CMSG_SPACE(2 * sizeof(int))];
    struct cmsghdr align;
  } u;
  struct iovec iov = { (void *) pkt, len };
  struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
  if (n_fds > 0) {
    int fds[2] = { passed_fd, passed_fd };
    memset(&u, 0, sizeof u);
    mh.msg_control = u.buf;
    mh.msg_controllen = CMSG_SPACE(n_fds * sizeof(int));
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(n_fds * sizeof(int));
    memcpy(CMSG_DATA(c), fds, n_fds * sizeof(int));
  }
  if (sendmsg(sock, &mh, MSG_NOSIGNAL) != (ssize_t) len)
    abort();
}

/* the lowest descriptor number free now: where a received descriptor would land */
static int lowest_free(void)
{
  int fd = fcntl(0, F_DUPFD_CLOEXEC, 0);
  if (fd < 0)
    abort();
  close(fd);
  return fd;
}

static uint32_t u32_at(const uint8_t *p)
{
  uint32_t v;
  memcpy(&v, p, sizeof v);
  return v;
}

/* what the packet should decode to: 0 a message, -1 an error, 1 the end */
static void check_result(int r, berth_error_t *err, const struct berth_sync_msg *msg, const uint8_t *pkt,
                         size_t len, bool expect, uint32_t want_type)
{
  if (len == 0) { /* a zero-length packet reads as the peer's end */
    if (r == 0)
      abort();
    berth_error_release(err);
    return;
  }
  bool well_formed = len >= HDR && u32_at(pkt + 8) <= BERTH_SYNC_MAX_DATA && len == HDR + u32_at(pkt + 8);
  if (!well_formed) {
    if (r != -1 || *err == NULL || strcmp((*err)->msg, "malformed sync message") != 0) {
      fprintf(stderr, "malformed packet of %zu bytes: r=%d %s\n", len, r, *err ? (*err)->msg : "");
      abort();
    }
    berth_error_release(err);
    return;
  }
  uint32_t type = u32_at(pkt);
  if (type == BERTH_SYNC_ERROR) {
    if (r != -1 || *err == NULL || strncmp((*err)->msg, (const char *) pkt + HDR, len - HDR) != 0)
      abort();
    berth_error_release(err);
    return;
  }
  if (expect && type != want_type) {
    if (r != -1 || *err == NULL || strncmp((*err)->msg, "unexpected sync message", 23) != 0)
      abort();
    berth_error_release(err);
    return;
  }
  if (r != 0 || *err != NULL || msg->type != type || (uint32_t) msg->value != u32_at(pkt + 4) ||
      msg->len != len - HDR || memcmp(msg->data, pkt + HDR, msg->len) != 0 || msg->data[msg->len] != '\0') {
    fprintf(stderr, "packet of %zu bytes decoded wrong: r=%d %s\n", len, r, *err ? (*err)->msg : "");
    abort();
  }
}

/* one record: send, receive, check the result and the descriptors */
static void one_packet(int tx, int rx, uint8_t flags, const uint8_t *pkt, size_t len,
                       struct berth_sync_msg *msg)
{
  bool with_fd = flags & 1, want_fd = !(flags & 2), expect = flags & 4;
  uint8_t sent[HDR + BERTH_SYNC_MAX_DATA];
  berth_error_t err = NULL;
  if (flags & 16) { /* through the encoder: what it sends is header + at most MAX_DATA bytes */
    uint8_t hdr[HDR] = { 0 };
    memcpy(hdr, pkt, len < HDR ? len : HDR);
    size_t dlen = len > HDR ? len - HDR : 0;
    if (berth_sync_send(tx, u32_at(hdr), (int32_t) u32_at(hdr + 4), dlen ? pkt + HDR : NULL, dlen,
                        with_fd ? passed_fd : -1, &err) < 0)
      abort();
    if (dlen > BERTH_SYNC_MAX_DATA)
      dlen = BERTH_SYNC_MAX_DATA;
    uint32_t l32 = (uint32_t) dlen;
    memcpy(sent, hdr, 8);
    memcpy(sent + 8, &l32, 4);
    if (dlen)
      memcpy(sent + HDR, pkt + HDR, dlen);
    pkt = sent;
    len = HDR + dlen;
  } else {
    send_raw(tx, pkt, len, with_fd ? ((flags & 32) ? 2 : 1) : 0);
  }
  uint32_t want = len >= 4 ? u32_at(pkt) ^ ((flags & 8) ? 1 : 0) : 0;
  int low = lowest_free(), fd = -1;
  bool open_before[4];
  for (int i = 0; i < 4; i++)
    open_before[i] = fcntl(low + i, F_GETFD) >= 0;
  int r = expect ? berth_sync_expect(rx, want, msg, want_fd ? &fd : NULL, &err)
                 : berth_sync_recv_or_eof(rx, msg, want_fd ? &fd : NULL, &err);
  if (r < 0 && fd >= 0) {
    fprintf(stderr, "a failed receive hands back descriptor %d\n", fd);
    abort();
  }
  if (fd >= 0) {
    struct stat st;
    if (!with_fd || fstat(fd, &st) < 0 || st.st_ino != passed_st.st_ino || st.st_dev != passed_st.st_dev ||
        !(fcntl(fd, F_GETFD) & FD_CLOEXEC))
      abort();
    close(fd);
  } else if (r == 0 && with_fd && want_fd && len > 0) {
    abort(); /* a message with a descriptor lost it */
  }
  for (int i = low; i < low + 4; i++) /* where received descriptors landed */
    if (!open_before[i - low] && fcntl(i, F_GETFD) >= 0) {
      fprintf(stderr, "descriptor %d left open (packet of %zu bytes, flags %#x, r=%d)\n", i, len, flags, r);
      abort();
    }
  check_result(r, &err, msg, pkt, len, expect, want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static struct berth_sync_msg msg;
  setup_once();
  int sv[2];
  berth_error_t err = NULL;
  if (berth_sync_pair(sv, &err) < 0)
    abort();
  int sndbuf = 1 << 20;
  setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  for (int n = 0; size >= 3 && n < 16; n++) {
    uint8_t flags = data[0];
    size_t len = (size_t) data[1] | (size_t) data[2] << 8;
    data += 3;
    size -= 3;
    if (len > size)
      len = size;
    one_packet(sv[0], sv[1], flags, data, len, &msg);
    data += len;
    size -= len;
  }
  close(sv[0]);
  int r = berth_sync_recv_or_eof(sv[1], &msg, NULL, &err);
  if (r != 1 || err != NULL)
    abort();
  if (berth_sync_recv(sv[1], &msg, NULL, &err) != -1 || err == NULL)
    abort();
  berth_error_release(&err);
  close(sv[1]);
  return 0;
}
