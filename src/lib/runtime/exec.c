/* exec: join the namespaces of a container's init and run a process there. */
#include "runtime/exec.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/strbuf.h"
#include "base/sync.h"
#include "base/xalloc.h"
#include "json/json.h"
#include "linux/lsm.h"
#include "linux/namespaces.h"
#include "linux/seccomp.h"
#include "runtime/cgroups.h"
#include "runtime/container.h"
#include "runtime/init.h"
#include "runtime/internal.h"
#include "runtime/proto.h"
#include "runtime/wait.h"

struct exec_state {
  const struct berth_exec_opts *o;
  struct berth_container *c;
  berth_spec_t *spec; /* the container's config */
  berth_spec_t xspec; /* shallow copy whose process is the exec process */
  struct berth_spec_process proc;
  bool proc_parsed;
  struct berth_seccomp_prog *seccomp;
  struct berth_create_opts copts; /* preserve_fds for the shared exec code */
  int init_pidfd;
  int sync[2];
  int console_sock;
  pid_t pid;
  int pidfd;
  int master;
};

json_t *berth_container_process_json(const char *root, const char *id, berth_error_t *err)
{
  cleanup_container struct berth_container *c = NULL;
  if (berth_container_load(root, id, &c, err) < 0)
    return NULL;
  cleanup_free char *path = berth_container_path(c, "config.json");
  json_t *doc = berth_json_load_file(path, NULL, err);
  if (doc == NULL)
    return NULL;
  json_t *p = json_object_get(doc, "process");
  json_t *r = p ? json_deep_copy(p) : json_object();
  json_decref(doc);
  return r;
}

static void exec_state_release(struct exec_state *s, bool failed)
{
  if (failed && s->pidfd >= 0)
    syscall(SYS_pidfd_send_signal, s->pidfd, SIGKILL, NULL, 0);
  if (failed && s->pid > 0)
    waitpid(s->pid, NULL, __WALL);
  for (int i = 0; i < 2; i++)
    if (s->sync[i] >= 0)
      close(s->sync[i]);
  if (s->init_pidfd >= 0)
    close(s->init_pidfd);
  if (s->console_sock >= 0)
    close(s->console_sock);
  if (s->pidfd >= 0)
    close(s->pidfd);
  if (s->master >= 0)
    close(s->master);
  berth_seccomp_prog_free(s->seccomp);
  if (s->proc_parsed)
    berth_spec_process_free(&s->proc);
  if (s->spec)
    berth_spec_free(s->spec);
  berth_container_free(s->c);
}

static uint64_t ns_flags(const berth_spec_t *spec)
{
  uint64_t flags = 0;
  for (int t = 0; t < BERTH_NS__COUNT; t++)
    if (spec->linux_.ns[t].present)
      flags |= (uint64_t) berth_ns_clone_flag((enum berth_ns_type) t);
  return flags;
}

static bool setgroups_allowed(void)
{
  char buf[16] = "";
  cleanup_close int fd = open("/proc/self/setgroups", O_RDONLY | O_CLOEXEC);
  if (fd >= 0 && read(fd, buf, sizeof buf - 1) > 0)
    return strncmp(buf, "deny", 4) != 0;
  return true;
}

static BERTH_WUR int exec_child_setup(struct exec_state *s, struct berth_init_ctx *ctx, int *slave,
                                      char **exe, berth_error_t *err)
{
  struct berth_sync_msg msg;
  if (berth_sync_expect(ctx->sync_fd, BERTH_MSG_GO, &msg, NULL, err) < 0)
    return -1;
  /* in a user namespace: become its root, as the container's init did */
  if (ctx->in_userns && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) && errno != EINVAL)
    return BERTH_ERR_ERRNO(err, "become root of the container's user namespace");
  if (s->proc.terminal) {
    int master = -1;
    if (berth_console_setup(&s->proc, false, &master, slave, err) < 0)
      return -1;
    int r = berth_sync_send(ctx->sync_fd, BERTH_MSG_CONSOLE, 0, NULL, 0, master, err);
    close(master);
    if (r < 0)
      return -1;
  }
  berth_lsm_warn_unsupported(&s->proc, NULL);
  *exe = berth_init_find_exe(&s->proc, err);
  return *exe ? 0 : -1;
}

/* The process in the container: after the parent's GO, console, then the shared exec code. */
__attribute__((noreturn)) static void exec_child(struct exec_state *s, int sync_fd)
{
  berth_error_t err = NULL;
  berth_reset_signals();
  int slave = -1;
  cleanup_free char *exe = NULL;
  struct berth_init_ctx ctx = { .spec = &s->xspec,
                                .opts = &s->copts,
                                .sync_fd = sync_fd,
                                .start_fd = -1,
                                .dmz_fd = -1,
                                .seccomp = s->seccomp,
                                .in_userns = s->spec->linux_.ns[BERTH_NS_USER].present };
  for (int t = 0; t < BERTH_NS__COUNT; t++)
    ctx.ns_fds[t] = -1;
  ctx.setgroups_allowed = setgroups_allowed();
  if (exec_child_setup(s, &ctx, &slave, &exe, &err) == 0 &&
      berth_init_exec(&ctx, sync_fd, slave, exe, &err) == 0)
    _exit(1); /* not reached: exec returns only on failure */
  berth_sync_send_error(sync_fd, &err);
  _exit(1);
}

/* Intermediate: join every namespace of the container's init at once, wait until the parent
 * has put us in the container's cgroup, fork the process that lives there (the pid namespace
 * applies to children only, the cgroup is inherited), report its pid. */
__attribute__((noreturn)) static void exec_intermediate(struct exec_state *s, int sync_fd)
{
  berth_error_t err = NULL;
  struct berth_sync_msg msg;
  if (setns(s->init_pidfd, (int) ns_flags(s->spec)) < 0) {
    BERTH_ERR_ERRNO(&err, "join the namespaces of container `%s`", s->c->id);
    berth_sync_send_error(sync_fd, &err);
    _exit(1);
  }
  /* the parent moves us into the container's cgroup meanwhile; our child is born there */
  if (berth_sync_expect(sync_fd, BERTH_MSG_CGROUP_DONE, &msg, NULL, &err) < 0)
    _exit(1);
  pid_t pid = berth_clone3(0, NULL, SIGCHLD);
  if (pid == 0)
    exec_child(s, sync_fd);
  if (pid < 0) {
    BERTH_ERR_ERRNO(&err, "fork the exec process");
    berth_sync_send_error(sync_fd, &err);
    _exit(1);
  }
  if (berth_sync_send(sync_fd, BERTH_MSG_CHILD_PID, pid, NULL, 0, -1, &err) < 0)
    _exit(1);
  _exit(0);
}

static BERTH_WUR int prepare(struct exec_state *s, berth_error_t *err)
{
  const struct berth_exec_opts *o = s->o;
  if (berth_container_load(o->root, o->id, &s->c, err) < 0)
    return -1;
  if (s->c->status == BERTH_STATUS_STOPPED)
    return BERTH_ERR(err, "cannot exec in a stopped container");
  if (s->c->status == BERTH_STATUS_PAUSED && !o->ignore_paused)
    return BERTH_ERR(err, "cannot exec in a paused container (thaw it first, or --ignore-paused)");
  if (berth_container_load_spec(s->c, &s->spec, err) < 0)
    return -1;
  if (berth_spec_parse_process(o->process, o->process_file, &s->proc, err) < 0)
    return -1;
  s->proc_parsed = true;
  s->xspec = *s->spec;
  s->xspec.process = s->proc;
  s->xspec.has_process = true;
  s->copts.preserve_fds = o->preserve_fds;
  s->copts.id = o->id;
  if (s->proc.terminal && o->console_socket == NULL && o->detach)
    return BERTH_ERR(err, "process.terminal is true: --console-socket is required with --detach");
  if (s->spec->linux_.seccomp.present) {
    cleanup_free char *cache = xasprintf("%s/.seccomp", o->root);
    if (berth_seccomp_compile(&s->spec->linux_.seccomp, cache, &s->seccomp, err) < 0)
      return berth_error_wrap(err, "linux.seccomp");
  }
  s->init_pidfd = berth_container_pidfd(s->c, err);
  if (s->init_pidfd < 0)
    return -1;
  if (o->console_socket && (s->console_sock = berth_console_socket_connect(o->console_socket, err)) < 0)
    return -1;
  return berth_sync_pair(s->sync, err);
}

static BERTH_WUR int spawn(struct exec_state *s, berth_error_t *err)
{
  /* the process in the container is our grandchild: as a subreaper we get it back when the
   * intermediate exits — to wait for it, or to reap it when setting it up fails */
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
    return BERTH_ERR_ERRNO(err, "become child subreaper");
  /* CVE-2016-9962: the intermediate and the exec process inherit this, so they are
   * non-dumpable before they join anything; until its execve, nothing in the container may
   * ptrace the exec process or open its /proc/<pid>/fd, exe or mem (docs/design/runtime.md) */
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
    return BERTH_ERR_ERRNO(err, "make `exec` non-dumpable");
  pid_t mid = berth_clone3(0, NULL, SIGCHLD);
  if (mid < 0)
    return BERTH_ERR_ERRNO(err, "fork");
  if (mid == 0) {
    close(s->sync[0]);
    exec_intermediate(s, s->sync[1]);
  }
  close(s->sync[1]);
  s->sync[1] = -1;
  /* the cgroup join (a cgroup.procs write waits for an RCU grace period) overlaps with the
   * intermediate's setns */
  cleanup_cgroup_manager berth_cgroup_manager_t *m = NULL;
  struct berth_sync_msg msg;
  int r = berth_container_cgroup_open(s->c, &m, err);
  if (r == 0 && m)
    r = berth_cgroup_join(m, mid, err);
  if (r == 0)
    r = berth_sync_send(s->sync[0], BERTH_MSG_CGROUP_DONE, 0, NULL, 0, -1, err);
  if (r < 0) {
    /* an intermediate that failed (setns) has exited: its own error says why */
    berth_error_t mine = NULL;
    if (berth_sync_recv(s->sync[0], &msg, NULL, &mine) < 0 && mine && (*err)->errnum == ESRCH) {
      berth_error_release(err);
      *err = mine;
    } else {
      berth_error_release(&mine);
    }
    kill(mid, SIGKILL);
  } else {
    r = berth_sync_expect(s->sync[0], BERTH_MSG_CHILD_PID, &msg, NULL, err);
  }
  while (waitpid(mid, NULL, 0) < 0 && errno == EINTR)
    ;
  if (r < 0)
    return -1;
  s->pid = (pid_t) msg.value;
  s->pidfd = (int) syscall(SYS_pidfd_open, s->pid, 0);
  if (s->pidfd < 0)
    return BERTH_ERR_ERRNO(err, "pidfd of exec process %d", (int) s->pid);
  return 0;
}

/* Until the process execs (the channel closes): console, seccomp listener, errors. */
static BERTH_WUR int converse(struct exec_state *s, berth_error_t *err)
{
  if (berth_sync_send(s->sync[0], BERTH_MSG_GO, 0, NULL, 0, -1, err) < 0)
    return -1;
  for (;;) {
    struct berth_sync_msg msg;
    int fd = -1;
    int r = berth_sync_recv_or_eof(s->sync[0], &msg, &fd, err);
    if (r != 0)
      return r < 0 ? -1 : 0;
    if (msg.type == BERTH_MSG_CONSOLE && fd >= 0) {
      if (s->console_sock >= 0) {
        r = berth_send_fd(s->console_sock, fd, "/dev/console", err);
        close(fd);
        if (r < 0)
          return -1;
      } else {
        s->master = fd;
      }
    } else if (msg.type == BERTH_MSG_LISTENER && fd < 0) {
      if (berth_container_take_listener(s->sync[0], s->pidfd, &msg, s->spec, s->c, err) < 0)
        return -1;
    } else {
      if (fd >= 0)
        close(fd);
      return BERTH_ERR(err, "unexpected message %u from exec process", msg.type);
    }
  }
}

static BERTH_WUR int exec_steps(struct exec_state *s, struct berth_wait_ctx *w, berth_error_t *err)
{
  if (prepare(s, err) < 0 || spawn(s, err) < 0 || converse(s, err) < 0)
    return -1;
  if (s->o->pid_file && berth_write_pid_file(s->o->pid_file, s->pid, err) < 0)
    return -1;
  if (s->o->detach)
    return 0;
  struct berth_create_result res = { .pid = s->pid, .pidfd = s->pidfd, .console_master = s->master };
  return berth_wait_container(w, &res, err);
}

int berth_container_exec(const struct berth_exec_opts *o, berth_error_t *err)
{
  struct exec_state s = {
    .o = o, .init_pidfd = -1, .sync = { -1, -1 }, .console_sock = -1, .pidfd = -1, .master = -1
  };
  struct berth_wait_ctx w = { .sigfd = -1 };
  if (!o->detach && berth_wait_prepare(&w, err) < 0)
    return berth_error_wrap(err, "exec in container `%s`", o->id);
  int r = exec_steps(&s, &w, err);
  if (!o->detach)
    berth_wait_release(&w);
  if (r < 0)
    berth_error_wrap(err, "exec in container `%s`", o->id);
  exec_state_release(&s, r < 0);
  return r;
}
