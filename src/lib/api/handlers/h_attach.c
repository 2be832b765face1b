/* POST /containers/{id}/attach (hijacked) and the start that serves it.
 *
 * The docker CLI attaches before it starts (`docker run` without -d): create, attach, wait,
 * start, each on its own connection, so each in its own process here. A container's monitor
 * lets a client connect before the container runs only when the one who starts it asks
 * (berth_ctr_start's attach_want), so an attach to a container that is not running yet
 * listens on a socket of its own, <runroot>/api/attach/<id>.<flags>.<pid>, and the start
 * (api_ctr_start) connects for it before the container runs and hands it the connection
 * (SCM_RIGHTS): no output is missed. A container started by someone else (`berth start`) is
 * found running by the waiting attach, which then connects itself. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "api/handlers/handlers_internal.h"
#include "base/cleanup.h"
#include "base/fs.h"
#include "base/sync.h"
#include "base/xalloc.h"
#include "engine/monitor/monitor.h"

int api_sun_path(const char *path, struct sockaddr_un *sa, int *dirfd)
{
  memset(sa, 0, sizeof *sa);
  sa->sun_family = AF_UNIX;
  *dirfd = -1;
  if (strlen(path) < sizeof sa->sun_path) {
    memcpy(sa->sun_path, path, strlen(path) + 1);
    return 0;
  }
  const char *slash = strrchr(path, '/');
  if (slash == NULL)
    return -1;
  cleanup_free char *dir = xstrndup(path, (size_t) (slash - path));
  *dirfd = open(dir[0] ? dir : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (*dirfd < 0)
    return -1;
  int n = snprintf(sa->sun_path, sizeof sa->sun_path, "/proc/self/fd/%d/%s", *dirfd, slash + 1);
  if (n < 0 || (size_t) n >= sizeof sa->sun_path) {
    close(*dirfd);
    *dirfd = -1;
    return -1;
  }
  return 0;
}

int api_sock_write(int fd, const void *data, size_t len)
{
  const char *p = data;
  while (len > 0) {
    ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
    if (n < 0 && errno == EAGAIN) {
      struct pollfd pf = { .fd = fd, .events = POLLOUT };
      if (poll(&pf, 1, 30000) <= 0)
        return -1;
      continue;
    }
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return -1;
    p += n;
    len -= (size_t) n;
  }
  return 0;
}

const char *api_stream_ctype(struct api_req *r, bool tty)
{
  return !tty && r->version >= 42 ? "application/vnd.docker.multiplexed-stream"
                                  : "application/vnd.docker.raw-stream";
}

/* ---- the start, with the hand-over ---- */

/* a client waiting for container id to start: an attach (the streams it wants) before a wait
 * (want 0); its socket path */
static char *find_waiter(struct berth_engine *e, const char *id, unsigned *want)
{
  cleanup_free char *dir = api_state_dir(e, "attach");
  cleanup_dir DIR *d = opendir(dir);
  struct dirent *de;
  size_t idlen = strlen(id);
  char *best = NULL;
  *want = 0;
  while (d && (de = readdir(d)) != NULL) {
    if (strncmp(de->d_name, id, idlen) != 0 || de->d_name[idlen] != '.')
      continue;
    unsigned w = (unsigned) strtoul(de->d_name + idlen + 1, NULL, 16) &
                 (BERTH_ATTACH_WANT_STDOUT | BERTH_ATTACH_WANT_STDERR | BERTH_ATTACH_WANT_STDIN);
    if (best == NULL || (w != 0 && *want == 0)) {
      free(best);
      best = xasprintf("%s/%s", dir, de->d_name);
      *want = w;
    }
  }
  return best;
}

static void hand_over(const char *path, int fd)
{
  struct sockaddr_un sa;
  cleanup_close int dirfd = -1;
  if (api_sun_path(path, &sa, &dirfd) < 0)
    return;
  cleanup_close int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  berth_error_t err = NULL;
  if (s < 0 || connect(s, (struct sockaddr *) &sa, sizeof sa) < 0 || berth_send_fd(s, fd, "A", &err) < 0)
    berth_error_release(&err); /* the attach went away: the container runs without it */
}

int api_ctr_start(struct berth_engine *e, const char *id, int *code, berth_error_t *err)
{
  unsigned want = 0;
  cleanup_free char *waiter = find_waiter(e, id, &want);
  struct berth_ctr_attach a = { .fd = -1 };
  if (berth_ctr_start(e, id, waiter ? (want ? want : BERTH_ATTACH_WANT_STDOUT) : 0, &a, code, err) < 0)
    return -1;
  if (waiter && a.fd >= 0)
    hand_over(waiter, a.fd);
  berth_ctr_attach_close(&a);
  return 0;
}

/* ---- the attach ---- */
struct attach {
  struct api_conn *conn;
  struct berth_ctr c;
  unsigned want;
  bool tty, logs, stream;
  int sock;   /* the client */
  int mon;    /* the monitor's attach connection */
  int listen; /* where the start hands it over (a container not running yet) */
  char *path;
};

static void attach_free(void *p)
{
  struct attach *a = p;
  berth_ctr_release(&a->c);
  if (a->mon >= 0)
    close(a->mon);
  if (a->listen >= 0)
    close(a->listen);
  if (a->path)
    unlink(a->path);
  free(a->path);
  free(a);
}

/* one frame (or the raw bytes with a tty) to the client */
static int send_out(struct attach *a, int stream, const char *data, size_t len)
{
  if (!a->tty) {
    unsigned char h[8];
    berth_api_mux_header(h, stream, (uint32_t) len);
    if (api_sock_write(a->sock, h, 8) < 0)
      return -1;
  }
  return api_sock_write(a->sock, data, len);
}

static int log_sink(void *data, const struct berth_log_record *rec)
{
  struct attach *a = data;
  if (!(a->want & (rec->stream == BERTH_LOG_STDERR ? BERTH_ATTACH_WANT_STDERR : BERTH_ATTACH_WANT_STDOUT)))
    return 0;
  cleanup_free char *line = xmalloc(rec->len + 1);
  memcpy(line, rec->data, rec->len);
  if (!rec->partial)
    line[rec->len] = '\n';
  return send_out(a, rec->stream == BERTH_LOG_STDERR ? 2 : 1, line, rec->len + !rec->partial);
}

int api_waiter_listen(struct berth_engine *e, const char *id, unsigned want, char **path)
{
  cleanup_free char *dir = api_state_dir(e, "attach");
  *path = xasprintf("%s/%s.%x.%d", dir, id, want, (int) getpid());
  struct sockaddr_un sa;
  cleanup_close int dirfd = -1;
  if (api_sun_path(*path, &sa, &dirfd) < 0)
    return -1;
  unlink(*path);
  int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (l >= 0 && (bind(l, (struct sockaddr *) &sa, sizeof sa) < 0 || listen(l, 1) < 0)) {
    close(l);
    l = -1;
  }
  return l;
}

int api_waiter_accept(int l)
{
  cleanup_close int s = accept4(l, NULL, NULL, SOCK_CLOEXEC);
  berth_error_t err = NULL;
  int fd = s >= 0 ? berth_recv_fd(s, &err) : -1;
  berth_error_release(&err);
  return fd;
}

void api_exit_note(struct berth_engine *e, const char *id, int64_t code)
{
  cleanup_free char *dir = api_state_dir(e, "exit");
  cleanup_free char *path = xasprintf("%s/%s", dir, id);
  char text[32];
  int n = snprintf(text, sizeof text, "%lld\n", (long long) code);
  berth_ignore(berth_write_file_atomic(path, text, (size_t) n, 0600, BERTH_IGNORED));
}

bool api_exit_read(struct berth_engine *e, const char *id, int64_t *code)
{
  cleanup_free char *dir = api_state_dir(e, "exit");
  cleanup_free char *path = xasprintf("%s/%s", dir, id);
  cleanup_free char *text = NULL;
  size_t len = 0;
  berth_error_t err = NULL;
  if (berth_read_file(path, 64, &text, &len, &err) < 0) {
    berth_error_release(&err);
    return false;
  }
  *code = atoll(text);
  return true;
}

/* wait for the start's hand-over, or for a start we were not told about; false: give up */
static bool wait_for_start(struct attach *a, struct berth_engine *e)
{
  bool ok = false;
  for (;;) {
    struct pollfd pf[2] = { { .fd = a->listen, .events = POLLIN }, { .fd = a->sock, .events = 0 } };
    int n = poll(pf, 2, 200);
    if (n > 0 && (pf[1].revents & (POLLHUP | POLLERR))) /* half-closed (no stdin) is fine */
      break;
    if (n > 0 && (pf[0].revents & POLLIN) && (ok = (a->mon = api_waiter_accept(a->listen)) >= 0))
      break;
    struct berth_ctr now;
    berth_error_t err = NULL;
    if (berth_ctr_get(e, a->c.row.id, &now, &err) < 0) {
      berth_error_release(&err);
      break; /* removed meanwhile */
    }
    bool running = berth_ctr_state_kept(now.state);
    struct berth_ctr_attach at = { .fd = -1 };
    if (running && berth_ctr_attach_connect(&now, a->want, &at, &err) == 0)
      a->mon = at.fd, ok = true;
    berth_error_release(&err);
    berth_ctr_release(&now);
    if (ok)
      break;
  }
  unlink(a->path);
  return ok;
}

/* client -> container's stdin; false when the client is gone */
static bool from_client(struct attach *a, bool *stdin_open)
{
  char buf[BERTH_ATTACH_MSG_MAX - 1];
  ssize_t n = recv(a->sock, buf, sizeof buf, MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return true;
  struct berth_ctr_attach at = { .fd = a->mon };
  berth_error_t err = NULL;
  if (n > 0 && (a->want & BERTH_ATTACH_WANT_STDIN)) {
    if (berth_ctr_attach_send(&at, BERTH_ATTACH_STDIN, buf, (size_t) n, &err) < 0)
      berth_error_release(&err);
    return true;
  }
  if (n > 0)
    return true; /* input nobody asked for */
  if (n == 0 && (a->want & BERTH_ATTACH_WANT_STDIN) &&
      berth_ctr_attach_send(&at, BERTH_ATTACH_STDIN_CLOSE, NULL, 0, &err) < 0)
    berth_error_release(&err);
  *stdin_open = false; /* half-closed (CloseWrite): the output goes on */
  return n == 0;
}

/* container -> client; false at the end */
static bool from_monitor(struct attach *a)
{
  char msg[BERTH_ATTACH_MSG_MAX + 1];
  ssize_t n = recv(a->mon, msg, sizeof msg, MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EINTR || errno == ECONNRESET))
    return true;
  if (n <= 0)
    return false;
  if (msg[0] == BERTH_ATTACH_STDOUT || msg[0] == BERTH_ATTACH_STDERR)
    return send_out(a, msg[0] == BERTH_ATTACH_STDERR ? 2 : 1, msg + 1, (size_t) n - 1) == 0;
  if (msg[0] == BERTH_ATTACH_EXIT) {
    msg[n < (ssize_t) sizeof msg ? n : (ssize_t) sizeof msg - 1] = '\0';
    api_exit_note(a->conn->e, a->c.row.id, atoll(msg + 1));
    return false;
  }
  return true;
}

static void relay(struct attach *a, const char *extra, size_t extra_len)
{
  if (extra_len && (a->want & BERTH_ATTACH_WANT_STDIN)) {
    struct berth_ctr_attach at = { .fd = a->mon };
    berth_error_t err = NULL;
    if (berth_ctr_attach_send(&at, BERTH_ATTACH_STDIN, extra, extra_len, &err) < 0)
      berth_error_release(&err);
  }
  bool stdin_open = true;
  for (;;) {
    struct pollfd pf[2] = { { .fd = a->mon, .events = POLLIN },
                            { .fd = a->sock, .events = stdin_open ? POLLIN | POLLRDHUP : 0 } };
    if (poll(pf, 2, -1) < 0 && errno != EINTR)
      return;
    if ((pf[0].revents & (POLLIN | POLLHUP | POLLERR)) && !from_monitor(a))
      return;
    if (pf[1].revents & (POLLHUP | POLLERR))
      return;
    if ((pf[1].revents & (POLLIN | POLLRDHUP)) && stdin_open && !from_client(a, &stdin_open))
      return;
  }
}

static void attach_run(void *data, int sock, const char *extra, size_t extra_len)
{
  struct attach *a = data;
  a->sock = sock;
  struct berth_engine *e = a->conn->e;
  if (a->logs) {
    struct berth_ctr_logs_opts lo = { .tail = -1 };
    berth_error_t err = NULL;
    if (berth_ctr_logs(e, a->c.row.id, &lo, log_sink, a, &err) < 0)
      berth_error_release(&err);
  }
  if (!a->stream)
    return;
  if (a->mon < 0 && (a->listen < 0 || !wait_for_start(a, e)))
    return;
  relay(a, extra, extra_len);
  shutdown(sock, SHUT_RDWR);
}

enum MHD_Result api_h_CTR_ATTACH(struct api_req *r)
{
  cleanup_error berth_error_t err = NULL;
  struct berth_engine *e = NULL;
  struct attach *a = xcalloc(1, sizeof *a);
  a->mon = -1;
  a->listen = -1;
  a->conn = r->c;
  if (api_ctr_get(r, &e, &a->c, &err) < 0) {
    free(a);
    return api_reply_err(r, &err);
  }
  a->tty = json_is_true(json_object_get(a->c.config, "Tty"));
  a->logs = api_query_bool(r, "logs", false);
  a->stream = api_query_bool(r, "stream", false);
  if (api_query_bool(r, "stdout", false))
    a->want |= BERTH_ATTACH_WANT_STDOUT;
  if (api_query_bool(r, "stderr", false))
    a->want |= BERTH_ATTACH_WANT_STDERR;
  if (api_query_bool(r, "stdin", false) && json_is_true(json_object_get(a->c.config, "OpenStdin")))
    a->want |= BERTH_ATTACH_WANT_STDIN;
  /* a running container: connect now, so that what it writes from here on reaches the client */
  struct berth_ctr_attach at = { .fd = -1 };
  if (a->stream && berth_ctr_state_kept(a->c.state) &&
      berth_ctr_attach_connect(&a->c, a->want, &at, &err) < 0) {
    attach_free(a);
    return api_reply_err(r, &err);
  }
  a->mon = at.fd;
  if (a->stream && a->mon < 0 && (a->listen = api_waiter_listen(e, a->c.row.id, a->want, &a->path)) < 0) {
    attach_free(a);
    return api_reply_error(r, 500, "attach: cannot listen for the start");
  }
  return api_reply_hijack(r, api_stream_ctype(r, a->tty), attach_run, a, attach_free);
}
