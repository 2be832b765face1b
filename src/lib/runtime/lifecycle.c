/* start, kill and delete of an existing container. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/signals.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/strutil.h"
#include "base/sync.h"
#include "base/xalloc.h"
#include "json/json.h"
#include "linux/seccomp.h"
#include "runtime/cgroups.h"
#include "runtime/create.h"
#include "runtime/hooks.h"
#include "runtime/internal.h"
#include "runtime/notify.h"
#include "runtime/proto.h"

int berth_container_load_spec(const struct berth_container *c, berth_spec_t **out, berth_error_t *err)
{
  cleanup_free char *path = berth_container_path(c, "config.json");
  cleanup_free char *text = NULL;
  size_t len = 0;
  if (berth_read_file(path, 0, &text, &len, err) < 0)
    return -1;
  return berth_spec_parse(text, len, path, out, err);
}

static char *state_text(struct berth_container *c)
{
  json_t *j = berth_container_state_json(c, false);
  char *t = berth_json_dumps(j);
  json_decref(j);
  return t;
}

/* The listener of process `pidfd`, at descriptor `num` there; when pidfd_getfd is refused
 * (a rootless parent may not reach a non-dumpable process), it is sent over `conn`. */
static BERTH_WUR int fetch_listener(int conn, int pidfd, int num, berth_error_t *err)
{
  int fd = (int) syscall(SYS_pidfd_getfd, pidfd, num, 0);
  if (fd >= 0)
    return fd;
  if (errno != EPERM && errno != EACCES && errno != ENOSYS)
    return BERTH_ERR_ERRNO(err, "take the seccomp listener (descriptor %d of the process)", num);
  struct berth_sync_msg msg;
  if (berth_sync_send(conn, BERTH_MSG_LISTENER_SEND, 0, NULL, 0, -1, err) < 0 ||
      berth_sync_expect(conn, BERTH_MSG_LISTENER, &msg, &fd, err) < 0)
    return -1;
  if (fd < 0)
    return BERTH_ERR(err, "the seccomp listener message came without a descriptor");
  return fd;
}

int berth_container_take_listener(int conn, int pidfd, const struct berth_sync_msg *msg,
                                  const berth_spec_t *spec, struct berth_container *c, berth_error_t *err)
{
  cleanup_close int fd = fetch_listener(conn, pidfd, msg->value, err);
  if (fd < 0)
    return -1;
  cleanup_free char *state = state_text(c);
  if (berth_seccomp_send_listener(&spec->linux_.seccomp, fd, state, err) < 0)
    return -1;
  return berth_sync_send(conn, BERTH_MSG_LISTENER_DONE, 0, NULL, 0, -1, err);
}

/* Talk to the released container until it execs (the connection closes on exec). */
static BERTH_WUR int start_conversation(int conn, const berth_spec_t *spec, struct berth_container *c,
                                        berth_error_t *err)
{
  cleanup_close int pidfd = -1;
  for (;;) {
    struct berth_sync_msg msg;
    int fd = -1;
    int r = berth_sync_recv_or_eof(conn, &msg, &fd, err);
    if (r != 0)
      return r < 0 ? -1 : 0;
    if (fd >= 0)
      close(fd);
    if (msg.type != BERTH_MSG_LISTENER || fd >= 0)
      return BERTH_ERR(err, "unexpected message %u from container", msg.type);
    if (pidfd < 0 && (pidfd = berth_container_pidfd(c, err)) < 0)
      return -1;
    if (berth_container_take_listener(conn, pidfd, &msg, spec, c, err) < 0)
      return -1;
  }
}

/* NOTIFY_SOCKET: wait for READY=1 here, or hand the socket to the caller (*notify, when not
 * NULL: `run` waits for the container and READY=1 together) */
static BERTH_WUR int notify_ready(struct berth_container *c, int *sock, int pidfd, int *notify,
                                  berth_error_t *err)
{
  if (*sock < 0)
    return 0;
  if (notify) {
    *notify = steal_fd(*sock);
    return 0;
  }
  return berth_notify_wait(*sock, c->pid, pidfd, err);
}

static BERTH_WUR int start_steps(struct berth_container *c, const berth_spec_t *spec, int *notify,
                                 berth_error_t *err)
{
  if (c->status != BERTH_STATUS_CREATED)
    return BERTH_ERR(err, "cannot start a container that is %s", berth_status_name(c->status));
  /* bound before the program runs: it may say READY=1 at once */
  cleanup_close int sd = berth_notify_listen(c->dir, err);
  if (sd < 0 && *err)
    return -1;
  /* taken while the process waits for us: it may be gone before READY=1 */
  cleanup_close int pidfd = sd >= 0 && !notify ? berth_container_pidfd(c, err) : -1;
  if (sd >= 0 && !notify && pidfd < 0)
    return -1;
  cleanup_close int conn = berth_start_socket_connect(c->dir, err);
  if (conn < 0)
    return -1;
  cleanup_free char *sock = berth_container_path(c, "start.sock");
  unlink(sock);
  c->status = BERTH_STATUS_RUNNING;
  cleanup_free char *state = state_text(c);
  if (berth_sync_send(conn, BERTH_MSG_START, 0, state, strlen(state), -1, err) < 0)
    return -1;
  if (start_conversation(conn, spec, c, err) < 0)
    return -1;
  berth_hooks_run_warn(spec, BERTH_HOOK_POSTSTART, state);
  return notify_ready(c, &sd, pidfd, notify, err);
}

int berth_container_start_handle(struct berth_container_handle *h, int *notify, berth_error_t *err)
{
  if (notify)
    *notify = -1;
  if (start_steps(h->c, h->spec, notify, err) < 0)
    return berth_error_wrap(err, "start container `%s`", h->c->id);
  return 0;
}

int berth_container_start(const char *root, const char *id, berth_error_t *err)
{
  cleanup_container struct berth_container *c = NULL;
  cleanup_spec berth_spec_t *spec = NULL;
  if (berth_container_load(root, id, &c, err) < 0 || berth_container_load_spec(c, &spec, err) < 0 ||
      start_steps(c, spec, NULL, err) < 0)
    return berth_error_wrap(err, "start container `%s`", id);
  return 0;
}

void berth_container_handle_release(struct berth_container_handle *h)
{
  berth_container_free(h->c);
  if (h->spec)
    berth_spec_free(h->spec);
  berth_cgroup_manager_free(h->cgroup);
  h->c = NULL;
  h->spec = NULL;
  h->cgroup = NULL;
}

/* ---- kill ---- */

int berth_signal_parse(const char *s)
{
  int n;
  if (berth_parse_int(s, &n) == 0)
    return (n > 0 && n < NSIG) ? n : -1;
  return berth_signal_by_name(s);
}

/* every process in the pid namespace of the container's init; only for containers that
 * have their own pid namespace (checked here again: never the host's) */
static BERTH_WUR int kill_pidns(const struct berth_container *c, int sig, berth_error_t *err)
{
  if (!c->has_pidns || berth_same_pidns_as_self(c->pid))
    return BERTH_ERR(err, "container has no pid namespace of its own");
  char path[64], want[64], got[64];
  snprintf(path, sizeof path, "/proc/%d/ns/pid", (int) c->pid);
  ssize_t n = readlink(path, want, sizeof want - 1);
  if (n < 0)
    return BERTH_ERR_ERRNO(err, "read pid namespace of %d", (int) c->pid);
  want[n] = '\0';
  cleanup_dir DIR *d = opendir("/proc");
  if (d == NULL)
    return BERTH_ERR_ERRNO(err, "open /proc");
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    int pid;
    if (berth_parse_int(de->d_name, &pid) < 0)
      continue;
    snprintf(path, sizeof path, "/proc/%d/ns/pid", pid);
    n = readlink(path, got, sizeof got - 1);
    if (n < 0)
      continue;
    got[n] = '\0';
    if (strcmp(got, want) == 0)
      kill(pid, sig);
  }
  return 0;
}

static BERTH_WUR int thaw(struct berth_container *c, berth_error_t *err)
{
  cleanup_cgroup_manager berth_cgroup_manager_t *m = NULL;
  if (berth_container_cgroup_open(c, &m, err) < 0)
    return -1;
  return m ? berth_cgroup_freeze(m, false, err) : 0;
}

int berth_container_kill(const char *root, const char *id, int sig, bool all, berth_error_t *err)
{
  cleanup_container struct berth_container *c = NULL;
  if (berth_container_load(root, id, &c, err) < 0)
    return berth_error_wrap(err, "kill container `%s`", id);
  if (c->status == BERTH_STATUS_STOPPED)
    return BERTH_ERR(err, "kill container `%s`: container not running", id);
  if (all) {
    cleanup_cgroup_manager berth_cgroup_manager_t *m = NULL;
    if (berth_container_cgroup_open(c, &m, err) < 0)
      return berth_error_wrap(err, "kill container `%s`", id);
    if (m != NULL && berth_cgroup_manager_kind(m) != BERTH_CGROUP_DISABLED) {
      if (berth_cgroup_kill(m, sig, err) < 0)
        return berth_error_wrap(err, "kill container `%s`", id);
      return 0;
    }
    if (c->has_pidns)
      return kill_pidns(c, sig, err) < 0 ? berth_error_wrap(err, "kill container `%s`", id) : 0;
  }
  cleanup_close int pidfd = berth_container_pidfd(c, err);
  if (pidfd < 0)
    return berth_error_wrap(err, "kill container `%s`", id);
  if (syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0)
    return BERTH_ERR_ERRNO(err, "kill container `%s`: signal %d", id, sig);
  /* a frozen process acts on SIGKILL only once thawed (runc thaws too) */
  if (sig == SIGKILL && c->status == BERTH_STATUS_PAUSED && thaw(c, err) < 0)
    return berth_error_wrap(err, "kill container `%s`", id);
  return 0;
}

/* ---- delete ---- */

static BERTH_WUR int kill_and_wait(struct berth_container *c, berth_error_t *err)
{
  berth_error_t ignored = NULL;
  cleanup_close int pidfd = berth_container_pidfd(c, &ignored);
  if (pidfd < 0) {
    berth_error_release(&ignored);
    return 0;
  }
  /* Only the init: killing "every process in the pid namespace" of a container that
   * shares the host's pid namespace would kill the host. Without a pid namespace the
   * remaining processes are found through the container's cgroup. */
  syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
  if (c->status == BERTH_STATUS_PAUSED && thaw(c, err) < 0)
    return -1;
  struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
  for (int waited = 0; waited < 10000; waited += 100) {
    int r = poll(&pfd, 1, 100);
    if (r > 0 || !berth_container_alive(c))
      return 0;
  }
  return BERTH_ERR(err, "container process %d did not die after SIGKILL", (int) c->pid);
}

/* Delete with what the caller has loaded already (a NULL spec or cgroup is loaded here). */
static BERTH_WUR int delete_steps(struct berth_container *c, const berth_spec_t *spec,
                                  berth_cgroup_manager_t *m, bool force, berth_error_t *err)
{
  if (c->status != BERTH_STATUS_STOPPED && !force)
    return BERTH_ERR(err, "cannot delete a %s container (use --force)", berth_status_name(c->status));
  if (c->status != BERTH_STATUS_STOPPED && kill_and_wait(c, err) < 0)
    return -1;
  /* the cgroup goes with whatever is left in it (processes of a container without its own
   * pid namespace, or forked away from init) */
  cleanup_cgroup_manager berth_cgroup_manager_t *own = NULL;
  if (m == NULL && berth_container_cgroup_open(c, &own, err) < 0)
    return -1;
  if (m == NULL)
    m = own;
  if (m && berth_cgroup_destroy(m, err) < 0)
    return -1;
  cleanup_spec berth_spec_t *loaded = NULL;
  berth_error_t e = NULL;
  if (spec == NULL && berth_container_load_spec(c, &loaded, &e) < 0) {
    berth_log_warn("poststop hooks not run: %s", e->msg);
    berth_error_release(&e);
  }
  if (spec == NULL)
    spec = loaded;
  c->status = BERTH_STATUS_STOPPED;
  if (spec && spec->hooks.n[BERTH_HOOK_POSTSTOP] > 0) {
    cleanup_free char *state = state_text(c);
    berth_hooks_run_warn(spec, BERTH_HOOK_POSTSTOP, state);
  }
  return berth_rm_rf(c->dir, err);
}

int berth_container_delete_handle(struct berth_container_handle *h, bool force, berth_error_t *err)
{
  if (berth_container_alive(h->c) == false)
    h->c->status = BERTH_STATUS_STOPPED;
  if (delete_steps(h->c, h->spec, h->cgroup, force, err) < 0)
    return berth_error_wrap(err, "delete container `%s`", h->c->id);
  return 0;
}

int berth_container_delete(const char *root, const char *id, bool force, berth_error_t *err)
{
  cleanup_container struct berth_container *c = NULL;
  if (berth_container_load(root, id, &c, err) < 0) {
    /* --force: a container that is not there is deleted already (runc's behaviour) */
    if (force && (*err)->errnum == ENOENT) {
      berth_error_release(err);
      return 0;
    }
    return berth_error_wrap(err, "delete container `%s`", id);
  }
  if (delete_steps(c, NULL, NULL, force, err) < 0)
    return berth_error_wrap(err, "delete container `%s`", id);
  return 0;
}
