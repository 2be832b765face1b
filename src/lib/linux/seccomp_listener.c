/* SCMP_ACT_NOTIFY: hand the listener fd to the seccomp agent at linux.seccomp.listenerPath. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/unixsock.h"
#include "json/json.h"
#include "linux/seccomp.h"

static void cleanup_json(json_t **j)
{
  if (*j)
    json_decref(*j);
  *j = NULL;
}

char *berth_seccomp_process_state(const char *state_json, const char *metadata, berth_error_t *err)
{
  __attribute__((cleanup(cleanup_json))) json_t *state =
    berth_json_parse(state_json, strlen(state_json), "state", err);
  if (state == NULL)
    return NULL;
  json_t *pid = json_object_get(state, "pid");
  if (!json_is_object(state) || !json_is_integer(pid)) {
    berth_error_make(err, 0, "seccomp agent state: container state has no `pid`");
    return NULL;
  }
  json_t *ver = json_object_get(state, "ociVersion");
  __attribute__((cleanup(cleanup_json))) json_t *cps = json_object();
  json_object_set_new(cps, "ociVersion",
                      json_is_string(ver) ? json_incref(ver) : json_string(BERTH_OCI_SPEC_VERSION));
  json_object_set_new(cps, "fds", json_pack("[s]", "seccompFd"));
  json_object_set(cps, "pid", pid);
  if (metadata)
    json_object_set_new(cps, "metadata", json_string(metadata));
  json_object_set(cps, "state", state);
  return berth_json_dumps(cps);
}

/* a listenerPath of any length (base/unixsock.h) */
static BERTH_WUR int connect_unix(const char *path, berth_error_t *err)
{
  int sock = berth_unix_connect(path, SOCK_STREAM, err);
  return sock < 0 ? berth_error_wrap(err, "seccomp agent") : sock;
}

/* one sendmsg carries the fd and as much of the payload as fits; the rest follows */
static int send_payload_with_fd(int sock, int fd, const char *data, size_t len)
{
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } u;
  memset(&u, 0, sizeof u);
  struct iovec iov = { (void *) data, len };
  struct msghdr mh = {
    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf
  };
  struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof(int));
  ssize_t w;
  do
    w = sendmsg(sock, &mh, MSG_NOSIGNAL);
  while (w < 0 && errno == EINTR);
  if (w < 0)
    return -1;
  for (size_t off = (size_t) w; off < len; off += (size_t) w) {
    do
      w = send(sock, data + off, len - off, MSG_NOSIGNAL);
    while (w < 0 && errno == EINTR);
    if (w < 0)
      return -1;
  }
  return 0;
}

int berth_seccomp_send_listener(const struct berth_spec_seccomp *sc, int listener_fd, const char *state_json,
                                berth_error_t *err)
{
  if (sc->listener_path == NULL)
    return BERTH_ERR(err, "seccomp: SCMP_ACT_NOTIFY needs `linux.seccomp.listenerPath`");
  cleanup_free char *payload = berth_seccomp_process_state(state_json, sc->listener_metadata, err);
  if (payload == NULL)
    return -1;
  cleanup_close int sock = connect_unix(sc->listener_path, err);
  if (sock < 0)
    return -1;
  if (send_payload_with_fd(sock, listener_fd, payload, strlen(payload)) < 0)
    return BERTH_ERR_ERRNO(err, "send seccomp listener to `%s`", sc->listener_path);
  return 0;
}
