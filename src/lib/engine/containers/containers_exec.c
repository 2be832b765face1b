/* Containers: exec — the container's own process object (config.json) changed by exec's options,
 * handed to `<runtime> exec --process`; the runtime joins the container's namespaces and cgroup.
 * Both the process object and the runtime's log are memfds the runtime opens as
 * /proc/<berth>/fd/N, so nothing is left on disk whatever happens to berth. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/child.h"
#include "base/cleanup.h"
#include "base/unixsock.h"
#include "base/fs.h"
#include "base/strbuf.h"
#include "base/strutil.h"
#include "base/sync.h"
#include "base/xalloc.h"
#include "engine/containers/containers_internal.h"
#include "engine/monitor/monitor.h"
#include "engine/runspec/runspec.h"
#include "oci/names.h"

#define UNLIMITED "18446744073709551615"

/* config.json's process object; ctrspec's unlimited rlimits (2^64-1, more than jansson holds)
 * become its marker string on the way in and the number again on the way out */
static BERTH_WUR json_t *bundle_process(const struct berth_ctr *c, berth_error_t *err)
{
  cleanup_free char *path = xasprintf("%s/bundle/config.json", c->dir), *text = NULL;
  if (berth_read_file(path, 0, &text, NULL, err) < 0)
    return NULL;
  cleanup_strbuf struct berth_strbuf b = BERTH_STRBUF_INIT;
  const char *p = text;
  for (const char *hit; (hit = strstr(p, ":" UNLIMITED)) != NULL; p = hit + sizeof UNLIMITED) {
    berth_strbuf_append(&b, p, (size_t) (hit - p));
    berth_strbuf_puts(&b, ":\"\\u0000" UNLIMITED "\"");
  }
  berth_strbuf_puts(&b, p);
  json_error_t je;
  json_t *cfg = json_loadb(b.buf, b.len, JSON_ALLOW_NUL, &je);
  json_t *proc = json_deep_copy(json_object_get(cfg, "process"));
  json_decref(cfg);
  if (!json_is_object(proc)) {
    json_decref(proc);
    BERTH_ERR(err, "`%s`: no process object (%s)", path, cfg ? "missing" : je.text);
    return NULL;
  }
  return proc;
}

/* a file of the running container, read inside its root (NULL when absent or not a regular
 * file: a device node or fifo the container made there is never opened) */
static char *container_file(int root, const char *path)
{
  char *text = NULL;
  (void) ctr_root_file(root, path, &text);
  return text;
}

static json_t *caps_json(uint64_t caps)
{
  json_t *a = json_array();
  for (int i = 0; i < 64; i++)
    if ((caps >> i) & 1 && berth_cap_name(i))
      json_array_append_new(a, json_string(berth_cap_name(i)));
  return a;
}

/* --privileged: every capability berth may give; Docker: root's effective and permitted sets are the
 * bounding set, another user's are empty */
static BERTH_WUR int set_caps(json_t *proc, bool privileged, uint32_t uid, berth_error_t *err)
{
  json_t *caps = json_object_get(proc, "capabilities");
  if (privileged) {
    struct berth_run_opts o;
    uint64_t all = 0;
    berth_runopts_init(&o);
    o.privileged = true;
    int r = berth_ctrspec_caps(&o, -1, &all, err);
    berth_runopts_release(&o);
    if (r < 0)
      return -1;
    for (int i = 0; i < 64; i++) /* what berth's bounding set allows: a host may hold some back */
      if ((all >> i) & 1 && prctl(PR_CAPBSET_READ, (unsigned long) i, 0, 0, 0) != 1)
        all &= ~(UINT64_C(1) << i);
    caps = json_object();
    json_object_set_new(caps, "bounding", caps_json(all));
    json_object_set_new(proc, "capabilities", caps);
  }
  if (!json_is_object(caps))
    return 0;
  json_t *bounding = json_object_get(caps, "bounding");
  json_t *eff = uid == 0 && bounding ? json_deep_copy(bounding) : json_array();
  json_object_set(caps, "permitted", eff);
  json_object_set_new(caps, "effective", eff);
  return 0;
}

/* -u: resolved in the container's files; HOME follows the user */
static BERTH_WUR int set_user(json_t *proc, int root, const char *spec, json_t *group_add, char **home,
                              berth_error_t *err)
{
  cleanup_free char *passwd = container_file(root, "/etc/passwd"),
                    *group = container_file(root, "/etc/group");
  cleanup_strv char **extra = NULL;
  size_t i;
  json_t *g;
  json_array_foreach (group_add, i, g)
    if (json_is_string(g))
      extra = berth_strv_append(extra, json_string_value(g));
  struct berth_user u;
  if (berth_ctrspec_user(spec, passwd, group, extra, &u, err) < 0)
    return -1;
  json_t *user = json_pack("{s:I, s:I}", "uid", (json_int_t) u.uid, "gid", (json_int_t) u.gid);
  json_t *umask = json_object_get(json_object_get(proc, "user"), "umask");
  if (umask)
    json_object_set(user, "umask", umask);
  if (u.n_gids) {
    json_t *gids = json_array();
    for (size_t k = 0; k < u.n_gids; k++)
      json_array_append_new(gids, json_integer(u.gids[k]));
    json_object_set_new(user, "additionalGids", gids);
  }
  json_object_set_new(proc, "user", user);
  *home = xstrdup(u.home);
  berth_user_release(&u);
  return 0;
}

static char *env_value(json_t *env, const char *name)
{
  size_t i, len = strlen(name);
  json_t *v;
  json_array_foreach (env, i, v) {
    const char *s = json_string_value(v);
    if (s && strncmp(s, name, len) == 0 && s[len] == '=')
      return xstrdup(s + len + 1);
  }
  return NULL;
}

/* Config.Env + exec's variables, through ctrspec's rules (PATH, HOSTNAME, TERM with a tty, HOME) */
static void set_env(json_t *proc, const struct berth_ctr *c, const struct berth_ctr_exec_in *in,
                    const char *home)
{
  cleanup_strv char **env = NULL;
  size_t i;
  json_t *v;
  json_array_foreach (json_object_get(c->config, "Env"), i, v)
    if (json_is_string(v))
      env = berth_strv_append(env, json_string_value(v));
  for (i = 0; in->env && in->env[i]; i++)
    env = berth_strv_append(env, in->env[i]);
  cleanup_free char *old_home = home ? NULL : env_value(json_object_get(proc, "env"), "HOME");
  const char *hostname = json_string_value(json_object_get(c->config, "Hostname"));
  cleanup_strv char **all =
    berth_ctrspec_process_env(env, hostname ? hostname : c->row.id, in->tty, home ? home : old_home);
  json_t *arr = json_array();
  for (i = 0; all && all[i]; i++)
    json_array_append_new(arr, json_string(all[i]));
  json_object_set_new(proc, "env", arr);
}

static BERTH_WUR int build_process(const struct berth_ctr *c, int root, const struct berth_ctr_exec_in *in,
                                   json_t **out, berth_error_t *err)
{
  json_t *proc = bundle_process(c, err);
  if (proc == NULL)
    return -1;
  json_t *args = json_array();
  for (size_t i = 0; in->args[i]; i++)
    json_array_append_new(args, json_string(in->args[i]));
  json_object_set_new(proc, "args", args);
  bool tty = in->tty;
  json_object_set_new(proc, "terminal", json_boolean(tty));
  json_object_del(proc, "consoleSize");
  if (tty && in->rows && in->cols)
    json_object_set_new(proc, "consoleSize", json_pack("{s:i, s:i}", "height", in->rows, "width", in->cols));
  if (in->workdir)
    json_object_set_new(proc, "cwd", json_string(in->workdir));
  cleanup_free char *home = NULL;
  if (in->user &&
      set_user(proc, root, in->user, json_object_get(c->host_config, "GroupAdd"), &home, err) < 0) {
    json_decref(proc);
    return -1;
  }
  set_env(proc, c, in, home);
  json_int_t uid = json_integer_value(json_object_get(json_object_get(proc, "user"), "uid"));
  if (set_caps(proc, in->privileged, (uint32_t) uid, err) < 0) {
    json_decref(proc);
    return -1;
  }
  *out = proc;
  return 0;
}

static BERTH_WUR int memfd_with(const char *name, const char *text, berth_error_t *err)
{
  int fd = memfd_create(name, MFD_CLOEXEC);
  if (fd < 0)
    return BERTH_ERR_ERRNO(err, "memfd_create");
  if (text && berth_write_all(fd, text, strlen(text)) < 0) {
    close(fd);
    return BERTH_ERR_ERRNO(err, "write `%s`", name);
  }
  return fd;
}

/* tty: a console socket in <runroot>/exec-XXXXXX (removed once the master arrived) */
static BERTH_WUR int console_socket(struct berth_engine *e, struct berth_ctr_exec *x, char **path,
                                    berth_error_t *err)
{
  x->sock_dir = xasprintf("%s/exec-XXXXXX", e->runroot);
  if (berth_mkdir_p(e->runroot, 0700, err) < 0)
    return -1;
  if (mkdtemp(x->sock_dir) == NULL) {
    int r = BERTH_ERR_ERRNO(err, "create `%s`", x->sock_dir);
    free(steal_ptr(x->sock_dir));
    return r;
  }
  *path = xasprintf("%s/console", x->sock_dir);
  struct sockaddr_un a;
  cleanup_close int dirfd = -1; /* a run root too long for sun_path: through its descriptor */
  if (berth_unix_addr(*path, &a, &dirfd, err) < 0)
    return -1;
  x->listen = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (x->listen < 0 || bind(x->listen, (struct sockaddr *) &a, sizeof a) < 0 || listen(x->listen, 1) < 0)
    return BERTH_ERR_ERRNO(err, "console socket `%s`", *path);
  return 0;
}

static char **exec_argv(struct berth_engine *e, const struct berth_ctr *c, const struct berth_ctr_exec *x,
                        const char *sock, bool detach)
{
  char logp[64], procp[64];
  snprintf(logp, sizeof logp, "/proc/%d/fd/%d", (int) getpid(), x->log);
  snprintf(procp, sizeof procp, "/proc/%d/fd/%d", (int) getpid(), x->process);
  const char *tail[16] = { "--log", logp, "--log-format", "json", "exec", "--process", procp };
  size_t n = 7;
  if (sock) {
    tail[n++] = "--console-socket";
    tail[n++] = sock;
  }
  if (detach)
    tail[n++] = "--detach";
  tail[n++] = c->row.id;
  tail[n] = NULL;
  return berth_ctr_runtime_argv(e, c, tail);
}

/* the runtime's exec; what our caller left open must not reach it: it joins the container
 * (CVE-2016-9962, docs/design/runtime.md), and berth_child_exec closes everything but stdio */
static BERTH_WUR int spawn(char *const *argv, const int stdio[3], struct berth_ctr_exec *x,
                           berth_error_t *err)
{
  /* with a console: a session of its own, so that the hang-up of berth's terminal when berth
   * detached and ended does not reach the runtime (and through it the process) */
  struct berth_child_exec cx = { .argv = argv,
                                 .fds = { stdio[0], stdio[1], stdio[2] },
                                 .nfds = 3,
                                 .flags = x->console ? BERTH_CHILD_SETSID : 0 };
  if (berth_child_exec(&cx, &x->pid, err) < 0) {
    x->pid = -1;
    return -1;
  }
  x->pidfd = pidfd_open(x->pid, 0);
  return x->pidfd < 0 ? BERTH_ERR_ERRNO(err, "pidfd_open") : 0;
}

static BERTH_WUR int running_root(const struct berth_ctr *c, berth_error_t *err)
{
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/root", (int) c->row.pid);
  int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  return fd < 0 ? BERTH_ERR(err, "container %.12s is not running", c->row.id) : fd;
}

static BERTH_WUR int exec_loaded(struct berth_engine *e, const struct berth_ctr *c,
                                 const struct berth_ctr_exec_in *in, const int stdio[3],
                                 struct berth_ctr_exec *x, berth_error_t *err)
{
  if (c->state == BERTH_CTR_PAUSED)
    return BERTH_ERR(err, "container %.12s is paused, unpause the container before exec", c->row.id);
  if (c->state != BERTH_CTR_RUNNING || c->row.pid <= 0)
    return BERTH_ERR(err, "container %.12s is not running", c->row.id);
  if (in->args == NULL || in->args[0] == NULL)
    return BERTH_ERR(err, "no command specified");
  if (in->workdir && in->workdir[0] != '/')
    return BERTH_ERR(err, "the working directory `%s` is invalid, it needs to be an absolute path",
                     in->workdir);
  cleanup_close int root = running_root(c, err);
  json_t *proc = NULL;
  if (root < 0 || build_process(c, root, in, &proc, err) < 0)
    return -1;
  cleanup_free char *text = berth_ctrspec_dumps(proc, NULL), *sock = NULL;
  json_decref(proc);
  const char *base = strrchr(c->row.runtime, '/');
  /* runc and crun take a console socket only with --detach */
  x->console =
    in->tty && (in->detach || berth_str_has_prefix(base ? base + 1 : c->row.runtime, "berth-runtime"));
  if (in->tty) /* -dt, or a detach (Ctrl-P Ctrl-Q): the monitor keeps the terminal */
    x->hold_rundir = xstrdup(c->rundir);
  x->process = memfd_with("berth-exec-process", text, err);
  if (x->process < 0 || (x->log = memfd_with("berth-exec-log", NULL, err)) < 0)
    return -1;
  if (x->console && console_socket(e, x, &sock, err) < 0)
    return -1;
  cleanup_strv char **argv = exec_argv(e, c, x, sock, in->detach);
  cleanup_close int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (devnull < 0)
    return BERTH_ERR_ERRNO(err, "open `/dev/null`");
  /* with a console the runtime's errors come from its log: it holds nothing of berth's terminal,
   * which a detach (Ctrl-P Ctrl-Q) leaves behind */
  const int quiet[3] = { devnull, devnull, devnull };
  x->stderr_shared = !in->detach && !x->console;
  x->foreground = !in->detach;
  return spawn(argv, in->detach || x->console ? quiet : stdio, x, err);
}

int berth_ctr_exec_start(struct berth_engine *e, const char *what, const struct berth_ctr_exec_in *in,
                         const int stdio[3], struct berth_ctr_exec *x, berth_error_t *err)
{
  *x = (struct berth_ctr_exec){ .pid = -1, .pidfd = -1, .listen = -1, .log = -1, .process = -1 };
  struct berth_ctr c;
  if (berth_ctr_get(e, what, &c, err) < 0)
    return -1;
  int r = exec_loaded(e, &c, in, stdio, x, err);
  if (r == 0) { /* Docker's actions name the command: "exec_start: sh -c ls" */
    berth_ctr_id_t exec_id;
    berth_engine_new_id(exec_id);
    struct berth_strbuf cmd = BERTH_STRBUF_INIT;
    berth_strbuf_append(&cmd, "", 0);
    for (size_t i = 0; in->args[i]; i++)
      berth_strbuf_printf(&cmd, "%s%s", i ? " " : "", in->args[i]);
    x->ctr_id = xstrdup(c.row.id);
    x->exec_id = xstrdup(exec_id);
    x->cmd = berth_strbuf_detach(&cmd);
    cleanup_free char *created = xasprintf("exec_create: %s", x->cmd),
                      *started = xasprintf("exec_start: %s", x->cmd);
    const char *attrs[] = { "execID", x->exec_id, NULL };
    berth_ctr_event(e, &c, created, attrs);
    berth_ctr_event(e, &c, started, attrs);
  }
  berth_ctr_release(&c);
  if (r < 0) {
    berth_ctr_exec_release(x);
    return berth_error_wrap(err, "exec in container `%s`", what);
  }
  return 0;
}

static void remove_socket(struct berth_ctr_exec *x)
{
  if (x->listen >= 0)
    close(steal_fd(x->listen));
  if (x->sock_dir) {
    cleanup_free char *p = xasprintf("%s/console", x->sock_dir);
    unlink(p);
    rmdir(x->sock_dir);
    free(steal_ptr(x->sock_dir));
  }
}

int berth_ctr_exec_console(struct berth_ctr_exec *x, berth_error_t *err)
{
  struct pollfd pf[2] = { { .fd = x->listen, .events = POLLIN }, { .fd = x->pidfd, .events = POLLIN } };
  for (;;) {
    if (poll(pf, 2, -1) < 0 && errno != EINTR)
      return BERTH_ERR_ERRNO(err, "poll");
    if (pf[0].revents & POLLIN)
      break;
    if (pf[1].revents & POLLIN) {
      remove_socket(x);
      return -1;
    }
  }
  cleanup_close int conn = accept4(x->listen, NULL, NULL, SOCK_CLOEXEC);
  int master = conn < 0 ? BERTH_ERR_ERRNO(err, "accept on the console socket") : berth_recv_fd(conn, err);
  remove_socket(x);
  return master;
}

static BERTH_WUR int hold(const struct berth_ctr_exec *x, int master, berth_error_t *err)
{
  if (x->hold_rundir == NULL)
    return BERTH_ERR(err, "no monitor to keep the terminal");
  cleanup_close int sock = ctr_attach_open(x->hold_rundir, err);
  const char msg[2] = { BERTH_ATTACH_HOLD, 0 };
  if (sock < 0 || berth_send_fd(sock, master, msg, err) < 0)
    return berth_error_wrap(err, "hand the terminal to the container's monitor");
  return 0;
}

int berth_ctr_exec_hand_console(struct berth_ctr_exec *x, berth_error_t *err)
{
  cleanup_close int master = berth_ctr_exec_console(x, err);
  if (master < 0)
    return -1;
  return hold(x, master, err);
}

int berth_ctr_exec_detach(struct berth_ctr_exec *x, int master, berth_error_t *err)
{
  if (hold(x, master, err) < 0)
    return -1;
  x->pid = -1; /* the runtime goes on waiting for the process: not killed at the release */
  return 0;
}

/* the last error the runtime logged (its --log-format json lines), NULL when none */
static char *logged_error(int fd)
{
  struct stat st;
  if (fstat(fd, &st) < 0 || st.st_size <= 0 || st.st_size > (16 << 20))
    return NULL;
  cleanup_free char *text = xmalloc((size_t) st.st_size + 1);
  ssize_t n = pread(fd, text, (size_t) st.st_size, 0);
  text[n > 0 ? n : 0] = '\0';
  char *found = NULL, *save = NULL;
  for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    json_t *j = json_loads(line, 0, NULL);
    const char *level = json_string_value(json_object_get(j, "level"));
    const char *msg = json_string_value(json_object_get(j, "msg"));
    if (level && msg && (strcmp(level, "error") == 0 || strcmp(level, "fatal") == 0)) {
      free(found);
      found = xstrdup(msg);
    }
    json_decref(j);
  }
  return found;
}

void berth_ctr_exec_died(struct berth_engine *e, const struct berth_ctr_exec *x, int code)
{
  if (x->ctr_id == NULL)
    return;
  char codes[16];
  snprintf(codes, sizeof codes, "%d", code);
  const char *attrs[] = { "execID", x->exec_id, "exitCode", codes, NULL };
  ctr_event_id(e, x->ctr_id, "exec_die", attrs);
}

int berth_ctr_exec_wait(struct berth_ctr_exec *x, int *code, berth_error_t *err)
{
  int st = 0;
  while (waitpid(x->pid, &st, 0) < 0)
    if (errno != EINTR)
      return BERTH_ERR_ERRNO(err, "wait for the runtime");
  x->pid = -1;
  *code = WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : 125;
  if (*code == 0)
    return 0;
  cleanup_free char *msg = logged_error(x->log);
  if (msg == NULL && x->foreground)
    return 0; /* the process ran and this is its status (detached, the runtime's failed) */
  *code = msg ? berth_ctr_start_error_code(msg) : 125;
  return BERTH_ERR(err, "OCI runtime exec failed: %s", msg ? msg : "the runtime failed without a message");
}

void berth_ctr_exec_release(struct berth_ctr_exec *x)
{
  remove_socket(x);
  if (x->pid > 0) { /* not waited for: the caller gave up */
    kill(x->pid, SIGKILL);
    while (waitpid(x->pid, NULL, 0) < 0 && errno == EINTR)
      ;
  }
  if (x->pidfd >= 0)
    close(x->pidfd);
  if (x->log >= 0)
    close(x->log);
  if (x->process >= 0)
    close(x->process);
  free(x->hold_rundir);
  free(x->ctr_id);
  free(x->exec_id);
  free(x->cmd);
  *x = (struct berth_ctr_exec){ .pid = -1, .pidfd = -1, .listen = -1, .log = -1, .process = -1 };
}
