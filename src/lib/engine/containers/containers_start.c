/* Containers: start — spawn the monitor (base/child.h: a new session, a mount namespace of its own
 * with the rootfs overlay mounted, detached), let it create and start the container, record the
 * result. */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/child.h"
#include "base/cleanup.h"
#include "base/fs.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/containers/containers_internal.h"
#include "engine/monitor/monitor.h"
#include "engine/cp/cp.h"
#include "linux/mountns/mountns.h"

int ctr_lock(const struct berth_ctr *c, berth_error_t *err)
{
  int fd = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return BERTH_ERR_ERRNO(err, "lock container `%.12s`: open `%s`", c->row.id, c->dir);
  while (flock(fd, LOCK_EX) < 0)
    if (errno != EINTR) {
      close(fd);
      return BERTH_ERR_ERRNO(err, "lock container `%.12s`", c->row.id);
    }
  return fd;
}

static char **monitor_argv(struct berth_engine *e, const struct berth_ctr *c, const char *monitor,
                           const char *self)
{
  cleanup_free char *bundle = xasprintf("%s/bundle", c->dir), *log = berth_ctr_log_path(e, c->row.id);
  const char *driver =
    json_string_value(json_object_get(json_object_get(c->host_config, "LogConfig"), "Type"));
  if (driver && strcmp(driver, "none") == 0) { /* --log-driver none: the output reaches clients, no file */
    free(log);
    log = xstrdup("/dev/null");
  }
  cleanup_free char *rtroot = xasprintf("%s/runtime", e->runroot);
  char **v = NULL;
  const char *fixed[] = { monitor,   "--id",          c->row.id,      "--bundle",      bundle, "--rundir",
                          c->rundir, "--runtime",     c->row.runtime, "--log",         log,    "--sync-fd",
                          "3",       "--runtime-arg", "--root",       "--runtime-arg", rtroot };
  for (size_t i = 0; i < BERTH_N_ELEMENTS(fixed); i++)
    v = berth_strv_append(v, fixed[i]);
  size_t i;
  json_t *f;
  json_array_foreach (json_object_get(c->host_config, "BerthRuntimeFlags"), i, f) {
    v = berth_strv_append(v, "--runtime-arg");
    v = berth_strv_append(v, json_string_value(f));
  }
  json_t *lg = json_object_get(c->host_config, "BerthLog");
  json_int_t max_size = json_integer_value(json_object_get(lg, "MaxSize"));
  json_int_t max_file = json_integer_value(json_object_get(lg, "MaxFile"));
  char num[32];
  if (max_size > 0) {
    snprintf(num, sizeof num, "%lld", (long long) max_size);
    v = berth_strv_append(berth_strv_append(v, "--log-max-size"), num);
    snprintf(num, sizeof num, "%lld", (long long) (max_file > 0 ? max_file : 1));
    v = berth_strv_append(berth_strv_append(v, "--log-max-files"), num);
  }
  if (json_is_true(json_object_get(c->config, "Tty")))
    v = berth_strv_append(v, "--terminal");
  if (json_is_true(json_object_get(c->config, "OpenStdin")))
    v = berth_strv_append(v, "--stdin");
  if (json_is_true(json_object_get(c->config, "StdinOnce")))
    v = berth_strv_append(v, "--stdin-once");
  if (json_is_true(json_object_get(c->host_config, "AutoRemove")))
    v = berth_strv_append(v, "--auto-remove");
  const char *handler[] = { self, "--root", e->root, "--runroot", e->runroot, "container" };
  for (i = 0; i < BERTH_N_ELEMENTS(handler); i++)
    v = berth_strv_append(berth_strv_append(v, "--handler"), handler[i]);
  return v;
}

struct spawn {
  char **argv;
  char **lowers;
  char *upper, *work, *rootfs, *monlog;
  char *netns; /* the container's network namespace is made and pinned here (NULL: none) */
  unsigned overlay_flags;
};

/* In the child, before the monitor runs (a new session already): a new mount namespace, a slave
 * of the host's (host unmounts reach it and it pins nothing), the network namespace pinned
 * there (it goes with the monitor, whatever kills it), the overlay. */
static BERTH_WUR int monitor_prepare(void *data, int sock, berth_error_t *err)
{
  const struct spawn *s = data;
  if (berth_mountns_enter(BERTH_MOUNTNS_SLAVE, err) < 0 ||
      (s->netns && berth_net_netns_pin(s->netns, err) < 0) ||
      berth_cp_mount_overlay((const char *const *) s->lowers, berth_strv_len(s->lowers), s->upper, s->work,
                             s->rootfs, s->overlay_flags, err) < 0)
    return berth_error_wrap(err, "mount rootfs");
  return 0;
}

static void spawn_release(struct spawn *s)
{
  berth_strv_free(s->argv);
  berth_strv_free(s->lowers);
  free(s->upper);
  free(s->work);
  free(s->rootfs);
  free(s->monlog);
  free(s->netns);
}

/* A container removed when it exits (--rm) gets a volatile upper dir: never synced, so that the
 * unmount before its removal does not sync the host's filesystem (podman does the same). The
 * mark overlayfs leaves in the work dir (it refuses a volatile upper dir again while it is
 * there) goes first: a --rm container is mounted again only after a failed removal. */
static void volatile_upper(struct spawn *s)
{
  cleanup_free char *mark = xasprintf("%s/work/incompat/volatile", s->work);
  berth_ignore(berth_rm_rf(mark, BERTH_IGNORED));
  s->overlay_flags |= BERTH_MOUNTNS_OVERLAY_VOLATILE;
}

struct started {
  int64_t pid;
  int code;
  const char *error;
};

static BERTH_WUR int set_started(struct berth_db_container *row, void *data, berth_error_t *err)
{
  const struct started *s = data;
  free(row->error);
  row->error = xstrdup(s->error ? s->error : "");
  if (s->error) { /* Docker keeps the state and records the error and its exit code */
    row->exit_code = s->code;
    return 1;
  }
  row->state = BERTH_CTR_RUNNING;
  row->pid = s->pid;
  row->exit_code = 0;
  row->oom_killed = false;
  row->started_at = ctr_now();
  return 1;
}

/* Docker keeps the state of a container that did not start and records the error and its code */
static void record_failure(struct berth_engine *e, const struct berth_ctr *c, const char *error, int code)
{
  struct started s = { .code = code, .error = error };
  berth_ignore(ctr_update(e, c->row.id, set_started, &s, BERTH_IGNORED));
}

/* fork the monitor; returns berth's end of the start channel */
static BERTH_WUR int spawn_monitor(struct berth_engine *e, const struct berth_ctr *c, berth_error_t *err)
{
  cleanup_free char *monitor = ctr_find_helper("berth-monitor", "monitor", err);
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (monitor == NULL || n <= 0)
    return monitor ? BERTH_ERR_ERRNO(err, "readlink `/proc/self/exe`") : -1;
  self[n] = '\0';
  struct spawn s = { .argv = monitor_argv(e, c, monitor, self),
                     .lowers = ctr_layer_dirs(e, c->row.image_id, err),
                     .upper = xasprintf("%s/upper", c->dir),
                     .work = xasprintf("%s/work", c->dir),
                     .rootfs = xasprintf("%s/bundle/rootfs", c->dir),
                     .monlog = xasprintf("%s/" BERTH_MON_LOG, c->dir),
                     .netns = ctr_uses_networks(e, c) ? ctr_netns_path(e, c->row.id) : NULL };
  if (json_is_true(json_object_get(c->host_config, "AutoRemove")))
    volatile_upper(&s);
  int sv[2] = { -1, -1 };
  cleanup_close int log = -1;
  pid_t pid = -1;
  int r = s.lowers ? 0 : -1;
  if (r == 0 && ctr_health_argv(c, &s.argv, err) < 0)
    r = -1;
  if (r == 0 && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    r = BERTH_ERR_ERRNO(err, "socketpair");
  if (r == 0 && (log = open(s.monlog, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0)
    r = BERTH_ERR_ERRNO(err, "open `%s`", s.monlog);
  if (r == 0) { /* the monitor: stdin and stdout /dev/null, stderr its log, the start channel fd 3 */
    struct berth_child_exec x = { .argv = s.argv,
                                  .fds = { -1, -1, log, sv[1] },
                                  .nfds = 4,
                                  .flags = BERTH_CHILD_SETSID | BERTH_CHILD_DETACH,
                                  .prepare = monitor_prepare,
                                  .data = &s };
    r = berth_child_exec(&x, &pid, err);
  }
  spawn_release(&s);
  if (sv[1] >= 0)
    close(sv[1]);
  if (r < 0) {
    if (sv[0] >= 0)
      close(sv[0]);
    if (*err)
      record_failure(e, c, (*err)->msg, 125);
    return -1;
  }
  return sv[0];
}

/* one message from the monitor into buf (NUL-terminated); its type, or -1 when it went away */
static int sync_recv(int fd, char *buf, size_t len)
{
  ssize_t n;
  do
    n = recv(fd, buf, len - 1, 0);
  while (n < 0 && errno == EINTR);
  if (n <= 0)
    return -1;
  buf[n] = '\0';
  return (unsigned char) buf[0];
}

static BERTH_WUR int sync_send(int fd, char type, berth_error_t *err)
{
  if (send(fd, &type, 1, MSG_NOSIGNAL) < 0)
    return BERTH_ERR_ERRNO(err, "talk to the container's monitor");
  return 0;
}

static BERTH_WUR int set_monitor(struct berth_db_container *row, void *data, berth_error_t *err)
{
  const int64_t *v = data;
  row->monitor_pid = v[0];
  row->monitor_start = v[1];
  row->manual_stop = false;
  return 1;
}

/* READY: record the monitor, attach when asked, GO, then STARTED or FAILED */
static BERTH_WUR int handshake(struct berth_engine *e, const struct berth_ctr *c, int fd, unsigned want,
                               struct berth_ctr_attach *attach, int *code, berth_error_t *err)
{
  char msg[4200];
  int type = sync_recv(fd, msg, sizeof msg);
  if (type == BERTH_MON_READY) {
    int64_t v[2] = { strtoll(msg + 1, NULL, 10), 0 };
    if (ctr_proc_start_time((pid_t) v[0], &v[1]) < 0 || ctr_update(e, c->row.id, set_monitor, v, err) < 0 ||
        (ctr_uses_networks(e, c) && ctr_networks_setup(e, c, (pid_t) v[0], err) < 0) ||
        (want && berth_ctr_attach_connect(c, want, attach, err) < 0) || sync_send(fd, BERTH_MON_GO, err) < 0)
      return *err ? -1 : BERTH_ERR(err, "the container's monitor went away");
    type = sync_recv(fd, msg, sizeof msg);
  }
  if (type == BERTH_MON_STARTED) {
    struct started s = { .pid = strtoll(msg + 1, NULL, 10) };
    if (ctr_update(e, c->row.id, set_started, &s, err) < 0)
      return -1;
    return sync_send(fd, BERTH_MON_ACK, err);
  }
  char *text = type == BERTH_MON_FAILED ? msg + 1 : NULL;
  const char *error =
    text ? text + strcspn(text, " ") + (text[strcspn(text, " ")] != '\0') : "the monitor exited";
  *code = text && atoi(text) ? atoi(text) : 125;
  record_failure(e, c, error, text ? atoi(text) : 125);
  return BERTH_ERR(err, "%s", error);
}

static BERTH_WUR int prepare(struct berth_engine *e, const struct berth_ctr *c, berth_error_t *err)
{
  cleanup_free char *config = xasprintf("%s/bundle/config.json", c->dir);
  if (access(config, F_OK) < 0)
    return BERTH_ERR(err, "container %.12s is incomplete (its create was interrupted): remove it with rm -f",
                     c->row.id);
  if (berth_mkdir_p(c->rundir, 0700, err) < 0)
    return -1;
  if (ctr_uses_networks(e, c)) { /* the mount point of the namespace the monitor pins */
    cleanup_free char *netns = ctr_netns_path(e, c->row.id);
    int fd = open(netns, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
      return BERTH_ERR_ERRNO(err, "create `%s`", netns);
    close(fd);
  }
  cleanup_free char *rtstate = xasprintf("%s/runtime/%s", e->runroot, c->row.id);
  if (access(rtstate, F_OK) == 0) { /* left by a monitor that died: the runtime's container goes first */
    const char *del[] = { "delete", "--force", c->row.id, NULL };
    berth_ignore(berth_ctr_runtime_run(e, c, del, BERTH_IGNORED));
  }
  return 0;
}

int berth_ctr_start(struct berth_engine *e, const char *what, unsigned attach_want,
                    struct berth_ctr_attach *attach, int *code, berth_error_t *err)
{
  struct berth_ctr c;
  int dummy = 0;
  if (code == NULL)
    code = &dummy;
  *code = 125;
  attach->fd = -1;
  if (berth_ctr_get(e, what, &c, err) < 0)
    return -1;
  cleanup_close int lock = ctr_lock(&c, err);
  int r = lock < 0 ? -1 : 0;
  if (r == 0) { /* again under the lock: another start may have won */
    berth_ctr_release(&c);
    r = berth_ctr_get(e, what, &c, err);
  }
  if (r == 0 && c.state != BERTH_CTR_RUNNING && c.state != BERTH_CTR_PAUSED &&
      c.state != BERTH_CTR_RESTARTING)
    ctr_wait_monitor(&c.row, 10000); /* a previous monitor finishing after its exit was recorded */
  if (r == 0 && (c.state == BERTH_CTR_RUNNING || c.state == BERTH_CTR_PAUSED)) {
    r = attach_want ? berth_ctr_attach_connect(&c, attach_want, attach, err) : 0; /* Docker: nothing to do */
  } else if (r == 0 && c.state == BERTH_CTR_REMOVING) {
    r = BERTH_ERR(err, "container %.12s is being removed", c.row.id);
  } else if (r == 0 && c.row.state == BERTH_CTR_DEAD) { /* a removal failed: remove it again */
    r = BERTH_ERR(err, "container %.12s is marked for removal and cannot be started: %s", c.row.id,
                  c.row.error);
  } else if (r == 0 && c.state == BERTH_CTR_RESTARTING) {
    r = BERTH_ERR(err, "container %.12s is restarting: stop it first", c.row.id);
  } else if (r == 0) {
    int fd = -1;
    if (c.state == BERTH_CTR_DEAD)
      r = ctr_settle_dead(e, &c, err);
    if (r == 0 && (prepare(e, &c, err) < 0 || (fd = spawn_monitor(e, &c, err)) < 0))
      r = -1;
    if (r == 0)
      r = handshake(e, &c, fd, attach_want, attach, code, err);
    if (r == 0)
      berth_ctr_event(e, &c, "start", NULL);
    if (fd >= 0)
      close(fd);
    if (r < 0)
      berth_ctr_attach_close(attach);
  }
  berth_ctr_release(&c);
  return r < 0 ? berth_error_wrap(err, "start container `%s`", what) : 0;
}
