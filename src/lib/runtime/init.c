/* The container process, from clone to waiting for `start` (see docs/design/runtime.md). */
#include "runtime/init.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/sync.h"
#include "base/xalloc.h"
#include "linux/rootfs/rootfs.h"
#include "linux/namespaces.h"
#include "linux/process.h"
#include "runtime/hooks.h"
#include "runtime/proto.h"
#include "runtime/wait.h"

#ifndef KEYCTL_JOIN_SESSION_KEYRING
#define KEYCTL_JOIN_SESSION_KEYRING 1
#endif

/* Receive `type` from the parent (and its descriptor in *fd when fd is not NULL); CGROUP_DONE
 * may arrive ahead of it at any time. */
static BERTH_WUR int child_expect_fd(struct berth_init_ctx *ctx, uint32_t type, struct berth_sync_msg *msg,
                                     int *fd, berth_error_t *err)
{
  if (type == BERTH_MSG_CGROUP_DONE && ctx->cgroup_done)
    return 0;
  for (;;) {
    if (berth_sync_recv(ctx->sync_fd, msg, fd, err) < 0)
      return -1;
    if (msg->type == BERTH_MSG_CGROUP_DONE) {
      ctx->cgroup_done = true;
      if (type == BERTH_MSG_CGROUP_DONE)
        return 0;
      continue;
    }
    if (msg->type != type) {
      if (fd && *fd >= 0)
        close(*fd);
      return BERTH_ERR(err, "unexpected sync message %#x (wanted %#x)", msg->type, type);
    }
    return 0;
  }
}

static BERTH_WUR int child_expect(struct berth_init_ctx *ctx, uint32_t type, struct berth_sync_msg *msg,
                                  berth_error_t *err)
{
  return child_expect_fd(ctx, type, msg, NULL, err);
}

/* In a new user namespace: become its root so files we create are owned by it. */
static BERTH_WUR int become_userns_root(berth_error_t *err)
{
  if (setresgid(0, 0, 0) < 0 && errno != EINVAL)
    return BERTH_ERR_ERRNO(err, "setresgid(0) in user namespace");
  if (setresuid(0, 0, 0) < 0 && errno != EINVAL)
    return BERTH_ERR_ERRNO(err, "setresuid(0) in user namespace");
  return 0;
}

static BERTH_WUR int set_names(const berth_spec_t *spec, berth_error_t *err)
{
  if (spec->hostname && sethostname(spec->hostname, strlen(spec->hostname)) < 0)
    return BERTH_ERR_ERRNO(err, "set hostname `%s`", spec->hostname);
  if (spec->domainname && setdomainname(spec->domainname, strlen(spec->domainname)) < 0)
    return BERTH_ERR_ERRNO(err, "set domainname `%s`", spec->domainname);
  return 0;
}

static BERTH_WUR int join_session_keyring(const struct berth_init_ctx *ctx, berth_error_t *err)
{
  if (ctx->opts->no_new_keyring)
    return 0;
  char name[256];
  snprintf(name, sizeof name, "_ses.%s", ctx->opts->id);
  if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name) < 0) {
    /* keyrings may be unavailable (ENOSYS) or filtered (EPERM/EACCES): not fatal, like runc */
    if (errno == ENOSYS || errno == EPERM || errno == EACCES || errno == EDQUOT)
      return 0;
    return BERTH_ERR_ERRNO(err, "join session keyring");
  }
  return 0;
}

/* Ask the parent for prestart/createRuntime hooks, then run createContainer ourselves. */
static BERTH_WUR int create_hooks(struct berth_init_ctx *ctx, berth_error_t *err)
{
  if (!ctx->has_prestart_hooks)
    return 0;
  struct berth_sync_msg msg;
  if (berth_sync_send(ctx->sync_fd, BERTH_MSG_HOOKS, 0, NULL, 0, -1, err) < 0 ||
      child_expect(ctx, BERTH_MSG_HOOKS_DONE, &msg, err) < 0)
    return -1;
  return berth_hooks_run(ctx->spec, BERTH_HOOK_CREATE_CONTAINER, msg.data, err);
}

static BERTH_WUR int setup_console(struct berth_init_ctx *ctx, int *slave, bool bind_console,
                                   berth_error_t *err)
{
  if (!ctx->spec->process.terminal)
    return 0;
  cleanup_close int master = -1;
  if (berth_console_setup(&ctx->spec->process, bind_console, &master, slave, err) < 0)
    return -1;
  return berth_sync_send(ctx->sync_fd, BERTH_MSG_CONSOLE, 0, NULL, 0, master, err);
}

static BERTH_WUR int create_cwd(int rootfs_fd, const char *cwd, berth_error_t *err)
{
  int fd = berth_mkdir_p_in_root(rootfs_fd, cwd, 0755, err);
  if (fd < 0)
    return berth_error_wrap(err, "process.cwd");
  close(fd);
  return 0;
}

static BERTH_WUR int wait_cgroup(void *data, berth_error_t *err)
{
  struct berth_sync_msg msg;
  return child_expect(data, BERTH_MSG_CGROUP_DONE, &msg, err);
}

/* A bind we cannot make ourselves: the runtime makes its tree (berth_rootfs_host_tree). */
static BERTH_WUR int host_tree(void *data, const struct berth_mount_op *op, berth_error_t *err)
{
  struct berth_init_ctx *ctx = data;
  struct berth_sync_msg msg;
  uint32_t flags = op->flags;
  int fd = -1;
  if (berth_sync_send(ctx->sync_fd, BERTH_MSG_MOUNT_TREE, (int32_t) op->index, &flags, sizeof flags, -1,
                      err) < 0 ||
      child_expect_fd(ctx, BERTH_MSG_MOUNT_TREE_DONE, &msg, &fd, err) < 0)
    return -1;
  if (fd < 0)
    return BERTH_ERR(err, "the runtime sent no tree");
  return fd;
}

/* The container's own filesystem: mounts, hooks that run before pivot, pivot, console,
 * sysctl (before /proc/sys turns read-only), masked and read-only paths. */
static BERTH_WUR int setup_rootfs(struct berth_init_ctx *ctx, int *slave, berth_error_t *err)
{
  const berth_spec_t *spec = ctx->spec;
  struct berth_rootfs_ctx rc = { .spec = spec,
                                 .rootfs = ctx->rootfs,
                                 .in_userns = ctx->in_userns,
                                 .no_pivot = ctx->opts->no_pivot,
                                 .console_fd = -1,
                                 .rootfs_fd = -1,
                                 .wait_cgroup = wait_cgroup,
                                 .wait_cgroup_data = ctx,
                                 .host_tree = host_tree,
                                 .host_tree_data = ctx };
  int r = berth_rootfs_prepare(&rc, err);
  if (r == 0 && spec->has_process)
    r = create_cwd(rc.rootfs_fd, spec->process.cwd, err);
  if (r == 0)
    r = create_hooks(ctx, err);
  if (r == 0)
    r = berth_rootfs_pivot(&rc, err);
  if (r == 0)
    r = setup_console(ctx, slave, true, err);
  if (r == 0)
    r = berth_sysctl_apply(spec, err);
  if (r == 0)
    r = berth_rootfs_finalize(&rc, err);
  berth_rootfs_ctx_release(&rc);
  return r;
}

/* Without a mount namespace the container shares the runtime's mounts: nothing of ours may
 * be mounted there, so (like runc) the process is only chroot'ed into the rootfs. */
static BERTH_WUR int chroot_only(struct berth_init_ctx *ctx, int *slave, berth_error_t *err)
{
  const berth_spec_t *spec = ctx->spec;
  if (spec->n_mounts || spec->linux_.n_masked_paths || spec->linux_.n_readonly_paths || spec->root_readonly)
    berth_log_warn("no mount namespace: mounts, masked and read-only paths of config.json are not applied");
  if (create_hooks(ctx, err) < 0)
    return -1;
  if (chdir(ctx->rootfs) < 0 || chroot(".") < 0 || chdir("/") < 0)
    return BERTH_ERR_ERRNO(err, "chroot to `%s`", ctx->rootfs);
  if (berth_sysctl_apply(spec, err) < 0)
    return -1;
  return setup_console(ctx, slave, false, err);
}

/* Everything before waiting for `start`. */
static BERTH_WUR int setup(struct berth_init_ctx *ctx, int *slave, char **exe, berth_error_t *err)
{
  const berth_spec_t *spec = ctx->spec;
  struct berth_sync_msg msg;
  if (child_expect(ctx, BERTH_MSG_GO, &msg, err) < 0)
    return -1;
  if (ctx->userns_new && become_userns_root(err) < 0)
    return -1;
  /* a cgroup namespace is rooted at the cgroup we are in when making it: wait for the
   * parent to place us. Otherwise the parent works on the cgroup while we set up. */
  bool cgroupns = (ctx->unshare_flags & CLONE_NEWCGROUP) != 0;
  if (cgroupns && child_expect(ctx, BERTH_MSG_CGROUP_DONE, &msg, err) < 0)
    return -1;
  if (cgroupns && unshare(CLONE_NEWCGROUP) < 0)
    return BERTH_ERR_ERRNO(err, "unshare cgroup namespace");
  if (set_names(spec, err) < 0 || join_session_keyring(ctx, err) < 0)
    return -1;
  /* a network namespace of our own (not one joined by path): lo up, as runc and crun do */
  if ((berth_ns_new_flags(spec) & CLONE_NEWNET) && berth_netns_loopback_up(err) < 0)
    return -1;

  if (!spec->linux_.ns[BERTH_NS_MOUNT].present) {
    if (chroot_only(ctx, slave, err) < 0)
      return -1;
  } else if (setup_rootfs(ctx, slave, err) < 0) {
    return -1;
  }
  if (!cgroupns && child_expect(ctx, BERTH_MSG_CGROUP_DONE, &msg, err) < 0)
    return -1;
  if (!spec->has_process)
    return 0; /* allowed by create; `start` will refuse */
  *exe = berth_init_find_exe(&spec->process, err);
  return *exe ? 0 : -1;
}

/* Wait for `start` on the start socket; returns the accepted connection. */
static BERTH_WUR int wait_start(struct berth_init_ctx *ctx, char **state, berth_error_t *err)
{
  for (;;) {
    int conn = accept4(ctx->start_fd, NULL, NULL, SOCK_CLOEXEC);
    if (conn < 0 && errno == EINTR)
      continue;
    if (conn < 0)
      return BERTH_ERR_ERRNO(err, "accept on start socket");
    struct berth_sync_msg msg;
    berth_error_t e = NULL;
    if (berth_sync_expect(conn, BERTH_MSG_START, &msg, NULL, &e) < 0) {
      /* a connection that did not say start (a probe, a dead start command): keep waiting */
      berth_error_release(&e);
      close(conn);
      continue;
    }
    close(ctx->start_fd);
    ctx->start_fd = -1;
    *state = xstrndup(msg.data, msg.len);
    return conn;
  }
}

void berth_init_main(struct berth_init_ctx *ctx)
{
  berth_error_t err = NULL;
  berth_reset_signals();
  int slave = -1;
  cleanup_free char *exe = NULL;
  /* the fast path's parent is the runtime: die with it. (A grandchild's parent is the
   * intermediate, which exits at once; it notices a dead runtime by EOF on the channel.) */
  if ((!ctx->two_stage && prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) || setup(ctx, &slave, &exe, &err) < 0) {
    if (err == NULL)
      BERTH_ERR_ERRNO(&err, "set parent death signal");
    berth_sync_send_error(ctx->sync_fd, &err);
    _exit(1);
  }
  /* from here on we outlive `create` */
  prctl(PR_SET_PDEATHSIG, 0);
  /* CVE-2016-9962: from READY on `exec` may join us, and until execve we are the runtime's
   * text with its descriptors: nothing in the container may ptrace us or open our
   * /proc/<pid>/fd, exe, mem or map_files (the two-stage path is non-dumpable already) */
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
    BERTH_ERR_ERRNO(&err, "make the container process non-dumpable");
    berth_sync_send_error(ctx->sync_fd, &err);
    _exit(1);
  }
  if (berth_sync_send(ctx->sync_fd, BERTH_MSG_READY, 0, NULL, 0, -1, &err) < 0)
    _exit(1);
  close(ctx->sync_fd);
  ctx->sync_fd = -1;

  cleanup_free char *state = NULL;
  int conn = wait_start(ctx, &state, &err);
  if (conn < 0)
    _exit(1);
  if (!ctx->spec->has_process)
    BERTH_ERR(&err, "config.json has no process: nothing to start");
  else if (berth_hooks_run(ctx->spec, BERTH_HOOK_START_CONTAINER, state, &err) >= 0 &&
           berth_init_exec(ctx, conn, slave, exe, &err) == 0)
    _exit(1); /* not reached: exec returns only on failure */
  /* only failures come back here: tell `start` what went wrong */
  berth_sync_send_error(conn, &err);
  _exit(1);
}

static BERTH_WUR int intermediate_userns(struct berth_init_ctx *ctx, berth_error_t *err)
{
  if (ctx->ns_fds[BERTH_NS_USER] >= 0)
    return berth_ns_join(ctx->ns_fds[BERTH_NS_USER], BERTH_NS_USER, err);
  if (!(ctx->unshare_flags & CLONE_NEWUSER))
    return 0;
  struct berth_sync_msg msg;
  if (unshare(CLONE_NEWUSER) < 0)
    return BERTH_ERR_ERRNO(err, "unshare user namespace");
  if (berth_sync_send(ctx->sync_fd, BERTH_MSG_USERNS, 0, NULL, 0, -1, err) < 0 ||
      berth_sync_expect(ctx->sync_fd, BERTH_MSG_USERNS_DONE, &msg, NULL, err) < 0)
    return -1;
  return become_userns_root(err);
}

static BERTH_WUR int nondumpable(berth_error_t *err)
{
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
    return BERTH_ERR_ERRNO(err, "make the container process non-dumpable");
  return 0;
}

/* Files of /proc/self that we (or a rootless parent) must write once we are non-dumpable
 * (they are then root's): the offsets file opened now, oom_score_adj set now (inherited). */
static BERTH_WUR int before_nondumpable(struct berth_init_ctx *ctx, int *offsets, berth_error_t *err)
{
  const berth_spec_t *spec = ctx->spec;
  if ((ctx->unshare_flags & CLONE_NEWTIME_FLAG) && berth_timens_has_offsets(spec) &&
      (*offsets = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC)) < 0)
    return BERTH_ERR_ERRNO(err, "open `/proc/self/timens_offsets`");
  if (spec->process.has_oom_score_adj &&
      berth_oom_score_adj_apply(getpid(), spec->process.oom_score_adj, err) < 0)
    return -1;
  return 0;
}

/* CVE-2016-9962: non-dumpable before joining any namespace, so that nothing in one we join can
 * reach us through /proc or ptrace. A new user namespace comes first: the parent writes its
 * maps, which it could not open on a non-dumpable (rootless) process. */
static BERTH_WUR int intermediate_setup(struct berth_init_ctx *ctx, berth_error_t *err)
{
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
    return BERTH_ERR_ERRNO(err, "set parent death signal");
  cleanup_close int offsets = -1;
  bool new_userns = ctx->ns_fds[BERTH_NS_USER] < 0 && (ctx->unshare_flags & CLONE_NEWUSER);
  if (before_nondumpable(ctx, &offsets, err) < 0 || (!new_userns && nondumpable(err) < 0))
    return -1;
  /* (again: becoming root of a user namespace set it to fs.suid_dumpable) */
  if (intermediate_userns(ctx, err) < 0 || nondumpable(err) < 0)
    return -1;
  /* the mount namespace last: joining it changes our root */
  static const enum berth_ns_type order[] = { BERTH_NS_IPC,    BERTH_NS_UTS,  BERTH_NS_NETWORK, BERTH_NS_PID,
                                              BERTH_NS_CGROUP, BERTH_NS_TIME, BERTH_NS_MOUNT };
  for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
    int fd = ctx->ns_fds[order[i]];
    if (fd >= 0 && berth_ns_join(fd, order[i], err) < 0)
      return -1;
  }
  if (ctx->unshare_flags & CLONE_NEWTIME_FLAG) {
    if (unshare(CLONE_NEWTIME_FLAG) < 0)
      return BERTH_ERR_ERRNO(err, "unshare time namespace");
    if (offsets >= 0 && berth_timens_write_offsets(offsets, ctx->spec, err) < 0)
      return -1;
  }
  uint64_t rest = ctx->unshare_flags & ~(uint64_t) (CLONE_NEWUSER | CLONE_NEWCGROUP | CLONE_NEWTIME_FLAG);
  if (rest && unshare((int) rest) < 0)
    return BERTH_ERR_ERRNO(err, "unshare namespaces");
  return 0;
}

void berth_init_intermediate(struct berth_init_ctx *ctx)
{
  berth_error_t err = NULL;
  berth_reset_signals();
  if (intermediate_setup(ctx, &err) < 0) {
    berth_sync_send_error(ctx->sync_fd, &err);
    _exit(1);
  }
  pid_t pid = berth_clone3(0, NULL, SIGCHLD);
  if (pid < 0) {
    BERTH_ERR_ERRNO(&err, "fork container process");
    berth_sync_send_error(ctx->sync_fd, &err);
    _exit(1);
  }
  if (pid == 0) {
    berth_ns_close_all(ctx->ns_fds);
    ctx->userns_new = false; /* the intermediate made it and became its root */
    ctx->two_stage = true;
    ctx->unshare_flags &= (uint64_t) CLONE_NEWCGROUP;
    berth_init_main(ctx);
  }
  if (berth_sync_send(ctx->sync_fd, BERTH_MSG_CHILD_PID, pid, NULL, 0, -1, &err) < 0)
    _exit(1);
  _exit(0);
}
