/* The container process after `start`: process attributes, credentials, seccomp, execve. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/strutil.h"
#include "base/sync.h"
#include "base/xalloc.h"
#include "linux/caps.h"
#include "linux/console.h"
#include "linux/lsm.h"
#include "linux/process.h"
#include "linux/seccomp.h"
#include "runtime/init.h"
#include "runtime/proto.h"

static const char *env_path(const struct berth_spec_process *p)
{
  for (size_t i = 0; i < p->n_env; i++)
    if (berth_str_has_prefix(p->env[i], "PATH="))
      return p->env[i] + 5;
  return "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
}

static bool is_executable(const char *path)
{
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111) != 0;
}

char *berth_init_find_exe(const struct berth_spec_process *p, berth_error_t *err)
{
  const char *name = p->args[0];
  if (strchr(name, '/')) {
    if (!is_executable(name)) {
      struct stat st;
      if (stat(name, &st) < 0)
        BERTH_ERR_ERRNO(err, "exec: `%s`", name);
      else
        BERTH_ERR(err, "exec: `%s`: not an executable file", name);
      return NULL;
    }
    return xstrdup(name);
  }
  cleanup_free char *path = xstrdup(env_path(p));
  char *save = NULL;
  for (char *dir = strtok_r(path, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
    char *cand = xasprintf("%s/%s", *dir ? dir : ".", name);
    if (is_executable(cand))
      return cand;
    free(cand);
  }
  BERTH_ERR(err, "exec: `%s`: executable file not found in $PATH", name);
  return NULL;
}

int berth_console_setup(const struct berth_spec_process *p, bool bind_console, int *master, int *slave,
                        berth_error_t *err)
{
  int m = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (m < 0)
    return BERTH_ERR_ERRNO(err, "open `/dev/ptmx` in the container");
  int unlock = 0;
  if (ioctl(m, TIOCSPTLCK, &unlock) < 0) {
    close(m);
    return BERTH_ERR_ERRNO(err, "unlock pty");
  }
  int s = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (s < 0) {
    close(m);
    return BERTH_ERR_ERRNO(err, "open pty peer");
  }
  if (p->has_console_size) {
    struct winsize ws = { .ws_row = (unsigned short) p->console_height,
                          .ws_col = (unsigned short) p->console_width };
    ioctl(s, TIOCSWINSZ, &ws);
  }
  if (bind_console && berth_console_bind(s, err) < 0) {
    close(m);
    close(s);
    return -1;
  }
  *master = m;
  *slave = s;
  return 0;
}

/* The std streams a non-root process may reopen through /proc/self/fd, as under runc: the
 * pty we made and anonymous pipes get its uid (the group stays: devpts gives ttys the tty
 * group). Nothing else is touched: a file, a named fifo or a terminal of the host's passed as
 * stdio stays the caller's. Refusals (EPERM, EINVAL: owner or group not mapped in our user
 * namespace) leave the stream as it is, as runc does. */
static void own_stdio(uid_t uid, int console_slave)
{
  if (uid == 0)
    return;
  struct stat st;
  if (console_slave >= 0 && fstat(console_slave, &st) == 0)
    if (fchown(console_slave, uid, st.st_gid) < 0) {
      /* best effort, as runc: the console stays usable by root */
    }
  for (int fd = 0; fd < 3; fd++) {
    struct statfs sfs;
    if (fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode) && st.st_uid != uid && fstatfs(fd, &sfs) == 0 &&
        sfs.f_type == PIPEFS_MAGIC)
      if (fchown(fd, uid, st.st_gid) < 0) {
        /* best effort: a pipe we cannot hand over stays writable as before */
      }
  }
}

static BERTH_WUR int attach_console(int slave, berth_error_t *err)
{
  if (ioctl(slave, TIOCSCTTY, 0) < 0)
    return BERTH_ERR_ERRNO(err, "make the pty the controlling terminal");
  for (int fd = 0; fd < 3; fd++)
    if (dup2(slave, fd) < 0)
      return BERTH_ERR_ERRNO(err, "dup pty onto fd %d", fd);
  if (slave > 2)
    close(slave);
  return 0;
}

/* CVE-2024-21626: cwd is resolved inside "/" with magic links refused, so a leaked
 * /proc/self/fd/N can never be the working directory. Opened before seccomp is loaded
 * (a profile may not know openat2). */
static BERTH_WUR int open_cwd(const char *cwd, berth_error_t *err)
{
  int fd = berth_openat2(AT_FDCWD, cwd, O_PATH | O_DIRECTORY | O_CLOEXEC, 0,
                         RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
  if (fd < 0)
    return BERTH_ERR_ERRNO(err, "process.cwd `%s`", cwd);
  return fd;
}

static BERTH_WUR int enter_cwd(int fd, const char *cwd, berth_error_t *err)
{
  if (fchdir(fd) < 0)
    return BERTH_ERR_ERRNO(err, "chdir to process.cwd `%s`", cwd);
  return 0;
}

static BERTH_WUR int load_seccomp(struct berth_init_ctx *ctx, int conn, berth_error_t *err)
{
  if (ctx->seccomp == NULL)
    return 0;
  int listener = -1;
  if (berth_seccomp_load(ctx->seccomp, &listener, err) < 0)
    return berth_error_wrap(err, "load seccomp filter");
  if (listener < 0)
    return 0;
  /* `start` hands the listener to linux.seccomp.listenerPath on the host. The filter is on
   * already: a sendmsg of ours that it hands to the agent would wait forever, the agent not
   * having the listener yet. So only write(2) (notify may not take it, runc's rule) says
   * where the listener is, and `start` takes it with pidfd_getfd; from then on the agent
   * answers whatever of ours the filter hands it (read, close). */
  struct berth_sync_msg msg;
  int r = berth_sync_write(conn, BERTH_MSG_LISTENER, listener, err);
  if (r == 0)
    r = berth_sync_read(conn, &msg, err);
  if (r == 0 && msg.type == BERTH_MSG_LISTENER_SEND && ctx->seccomp->notifies_sendmsg) {
    /* pidfd_getfd was refused (a rootless `start`) and our sendmsg would wait on the agent
     * that this sendmsg is to reach: an error, never a process stuck for good */
    r = BERTH_ERR(err, "linux.seccomp: the listener cannot reach the agent: `start` may not take it "
                       "(pidfd_getfd refused) and the filter notifies sendmsg, the only other way");
  } else if (r == 0 && msg.type == BERTH_MSG_LISTENER_SEND) { /* refused: a rootless `start` */
    r = berth_sync_send(conn, BERTH_MSG_LISTENER, 0, NULL, 0, listener, err) < 0
          ? -1
          : berth_sync_read(conn, &msg, err);
  }
  (void) close(listener);
  if (r < 0)
    return -1;
  if (msg.type != BERTH_MSG_LISTENER_DONE)
    return BERTH_ERR(err, "unexpected sync message %#x (wanted %#x)", msg.type, BERTH_MSG_LISTENER_DONE);
  return 0;
}

static BERTH_WUR int credentials(struct berth_init_ctx *ctx, berth_error_t *err)
{
  const struct berth_spec_process *p = &ctx->spec->process;
  if (p->caps.present && berth_caps_apply_bounding(&p->caps, err) < 0)
    return -1;
  /* run.oci.keep_original_groups (crun's, podman's --group-add keep-groups): no setgroups at
   * all, the caller's supplementary groups stay (additionalGids too are not set) */
  struct berth_spec_user user = p->user;
  bool setgroups = ctx->setgroups_allowed;
  if (berth_spec_annotation(ctx->spec, BERTH_ANNOTATION_KEEP_GROUPS)) {
    user.n_additional_gids = 0;
    setgroups = false;
  }
  if (berth_user_apply(&user, setgroups, err) < 0)
    return -1;
  /* a change of uid or gid set dumpability to fs.suid_dumpable (1 makes us attachable): from
   * here on our credentials are the container's, so take it back at once */
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
    return BERTH_ERR_ERRNO(err, "make the container process non-dumpable");
  if (p->caps.present && berth_caps_apply(&p->caps, err) < 0)
    return -1;
  return 0;
}

/* Exec the program through berth-dmz (src/dmz/dmz.c): argv "berth-dmz CONN EXE ARGS...". The
 * connection to `start` stays open across this one exec so that the helper can report a
 * failed execve; the helper makes it close-on-exec again. */
static BERTH_WUR int exec_via_dmz(int dmz_fd, int conn, const char *exe, const struct berth_spec_process *p,
                                  char *const *envp, berth_error_t *err)
{
  cleanup_free char **argv = xcalloc(p->n_args + 4, sizeof *argv);
  char fd_text[16];
  snprintf(fd_text, sizeof fd_text, "%d", conn);
  argv[0] = (char *) "berth-dmz";
  argv[1] = fd_text;
  argv[2] = (char *) exe;
  for (size_t i = 0; i < p->n_args; i++)
    argv[3 + i] = (char *) p->args[i];
  if (fcntl(conn, F_SETFD, 0) < 0)
    return BERTH_ERR_ERRNO(err, "pass the start connection to berth-dmz");
  syscall(SYS_execveat, dmz_fd, "", argv, envp, AT_EMPTY_PATH);
  int e = errno;
  (void) fcntl(conn, F_SETFD, FD_CLOEXEC);
  return berth_error_make(err, e, "exec `%s` through berth-dmz", exe);
}

static bool env_has(const struct berth_spec_process *p, const char *prefix)
{
  for (size_t i = 0; i < p->n_env; i++)
    if (berth_str_has_prefix(p->env[i], prefix))
      return true;
  return false;
}

/* HOME=<dir> when the config sets no HOME: the user's home in the container's /etc/passwd,
 * else "/" (runc's rule; crun's too). Read as root, before the filter and the user switch. */
static char *home_env(const struct berth_spec_process *p)
{
  if (env_has(p, "HOME="))
    return NULL;
  cleanup_free char *home = berth_passwd_home_lookup(p->user.uid);
  return xasprintf("HOME=%s", home ? home : "/");
}

/* the process's environment, plus `home` when not NULL; with socket activation, LISTEN_FDS
 * and LISTEN_PID as runc sets them (the container process is pid 1) in place of any it had */
static char **exec_env(const struct berth_spec_process *p, char *home, int listen_fds, char *listen_buf,
                       size_t len)
{
  char **envp = xcalloc(p->n_env + 4, sizeof *envp);
  size_t n = 0;
  for (size_t i = 0; i < p->n_env; i++)
    if (listen_fds == 0 ||
        (!berth_str_has_prefix(p->env[i], "LISTEN_FDS=") && !berth_str_has_prefix(p->env[i], "LISTEN_PID=")))
      envp[n++] = (char *) p->env[i];
  if (home)
    envp[n++] = home;
  if (listen_fds > 0) {
    snprintf(listen_buf, len, "LISTEN_FDS=%d", listen_fds);
    envp[n++] = listen_buf;
    envp[n++] = (char *) "LISTEN_PID=1";
  }
  return envp;
}

/* The order is docs/design/runtime.md's "Entering a container safely": we are non-dumpable
 * already (exec: before joining; create: from READY), descriptors nobody asked for were
 * closed when the command began, and the filter comes last, right before execve. */
int berth_init_exec(struct berth_init_ctx *ctx, int conn, int console_slave, const char *exe,
                    berth_error_t *err)
{
  const struct berth_spec_process *p = &ctx->spec->process;
  setsid();
  own_stdio(p->user.uid, console_slave);
  if (console_slave >= 0 && attach_console(console_slave, err) < 0)
    return -1;
  if (berth_rlimits_apply(p, err) < 0 || berth_personality_apply(&ctx->spec->linux_.personality, err) < 0 ||
      berth_ioprio_apply(&p->io_priority, err) < 0 || berth_scheduler_apply(&p->scheduler, err) < 0)
    return -1;
  if (p->exec_cpu_affinity_initial && berth_cpu_affinity_apply(0, p->exec_cpu_affinity_initial, err) < 0)
    return -1;
  /* root's cwd first (a directory only root may enter), then checked again as the user */
  cleanup_close int cwd = open_cwd(p->cwd, err);
  if (cwd < 0 || enter_cwd(cwd, p->cwd, err) < 0)
    return -1;
  cleanup_free char *home = home_env(p);
  if (berth_cloexec_fds_from(3 + ctx->opts->listen_fds + ctx->opts->preserve_fds) < 0)
    return BERTH_ERR_ERRNO(err, "mark descriptors close-on-exec");
  /* without no_new_privs, installing a filter needs CAP_SYS_ADMIN: do it while we have it */
  if (!p->no_new_privileges && load_seccomp(ctx, conn, err) < 0)
    return -1;
  if (credentials(ctx, err) < 0 || enter_cwd(cwd, p->cwd, err) < 0)
    return -1;
  if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return BERTH_ERR_ERRNO(err, "set no_new_privs");
  if (p->exec_cpu_affinity_final && berth_cpu_affinity_apply(0, p->exec_cpu_affinity_final, err) < 0)
    return -1;
  if (berth_lsm_set_exec_labels(p, err) < 0)
    return -1;
  if (p->no_new_privileges && load_seccomp(ctx, conn, err) < 0)
    return -1;
  char listen_buf[32];
  cleanup_free char **envp = exec_env(p, home, ctx->opts->listen_fds, listen_buf, sizeof listen_buf);
  if (ctx->dmz_fd >= 0)
    return exec_via_dmz(ctx->dmz_fd, conn, exe, p, envp, err);
  execve(exe, (char *const *) p->args, envp);
  return BERTH_ERR_ERRNO(err, "exec `%s`", exe);
}
