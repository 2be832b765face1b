/* OCI hooks. Each hook is forked and exec'd with the state JSON on stdin from a memfd (a regular
 * file: a hook that never reads it cannot make us block or take SIGPIPE), its stdout
 * and stderr captured through pipes (the last few KiB are kept: the error message
 * quotes them, success logs them at debug level, like runc which captures both), and
 * waited for through a pidfd so the timeout needs no signal handler or extra thread. */
#include "runtime/hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#if __has_include(<sys/pidfd.h>)
#include <sys/pidfd.h>
#endif
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/output.h"
#include "base/signals.h"
#include "base/xalloc.h"

#define TAIL_MAX 4096

struct tail {
  char buf[TAIL_MAX + 1];
  size_t len;
  int fd; /* read end, -1 at EOF */
};

struct hook_run {
  const struct berth_spec_hook *hook;
  pid_t pid;
  int pidfd;
  struct tail out, err;
  bool timed_out;
  siginfo_t info;
};

static void tail_append(struct tail *t, const char *data, size_t n)
{
  if (n >= TAIL_MAX) {
    memcpy(t->buf, data + n - TAIL_MAX, TAIL_MAX);
    t->len = TAIL_MAX;
  } else {
    size_t keep = t->len + n > TAIL_MAX ? TAIL_MAX - n : t->len;
    memmove(t->buf, t->buf + t->len - keep, keep);
    memcpy(t->buf + keep, data, n);
    t->len = keep + n;
  }
  t->buf[t->len] = '\0';
}

/* read what is available; closes the fd at EOF */
static void tail_drain(struct tail *t)
{
  char buf[4096];
  while (t->fd >= 0) {
    ssize_t n = read(t->fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && errno == EAGAIN)
      return;
    if (n <= 0) {
      close(t->fd);
      t->fd = -1;
      return;
    }
    tail_append(t, buf, (size_t) n);
  }
}

/* fds 0-2 may be closed in the caller: keep ours above them so dup2 cannot clobber */
static int above_stdio(int fd)
{
  if (fd < 0 || fd > 2)
    return fd;
  int n = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  int saved = errno;
  close(fd);
  errno = saved;
  return n;
}

static BERTH_WUR int state_memfd(const char *state_json, berth_error_t *err)
{
  cleanup_close int fd = above_stdio(memfd_create("berth-hook-state", MFD_CLOEXEC));
  if (fd < 0)
    return BERTH_ERR_ERRNO(err, "memfd_create");
  if (berth_write_all(fd, state_json, strlen(state_json)) < 0 || lseek(fd, 0, SEEK_SET) < 0)
    return BERTH_ERR_ERRNO(err, "write the state for the hook");
  return steal_fd(fd);
}

static BERTH_WUR int capture_pipe(int *rd, int *wr, berth_error_t *err)
{
  int p[2];
  if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
    return BERTH_ERR_ERRNO(err, "pipe");
  *rd = above_stdio(p[0]);
  /* the hook's end must block normally */
  *wr = above_stdio(p[1]);
  if (*rd < 0 || *wr < 0 || fcntl(*wr, F_SETFL, 0) < 0)
    return BERTH_ERR_ERRNO(err, "pipe");
  return 0;
}

__attribute__((noreturn)) static void child_fail(int errpipe)
{
  int e = errno;
  berth_ignore(write(errpipe, &e, sizeof e));
  _exit(127);
}

/* In the forked child (async-signal-safe calls only): stdio, no other fd survives exec,
 * signal mask empty, ignored signals back to default (execve resets handled ones). */
__attribute__((noreturn)) static void exec_child(const struct berth_spec_hook *h, char *const *argv,
                                                 char *const *envp, const int stdio[3], int errpipe)
{
  for (int i = 0; i < 3; i++)
    if (dup2(stdio[i], i) < 0)
      child_fail(errpipe);
  syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
  berth_signals_reset();
  execve(h->path, argv, envp);
  child_fail(errpipe);
}

static BERTH_WUR int spawn_hook(struct hook_run *r, const int stdio[3], berth_error_t *err)
{
  const struct berth_spec_hook *h = r->hook;
  const char *default_argv[] = { h->path, NULL };
  const char *empty_env[] = { NULL };
  char *const *argv = (char *const *) (h->args && h->args[0] ? h->args : default_argv);
  char *const *envp = (char *const *) (h->env ? h->env : empty_env);
  int ep[2];
  if (pipe2(ep, O_CLOEXEC) < 0)
    return BERTH_ERR_ERRNO(err, "pipe");
  r->pid = fork();
  if (r->pid < 0) {
    int saved = errno;
    close(ep[0]);
    close(ep[1]);
    return berth_error_make(err, saved, "fork");
  }
  if (r->pid == 0)
    exec_child(h, argv, envp, stdio, ep[1]);
  close(ep[1]);
  int child_errno = 0;
  ssize_t n = berth_read_all(ep[0], &child_errno, sizeof child_errno);
  close(ep[0]);
  r->pidfd = n == 0 ? pidfd_open(r->pid, 0) : -1;
  if (r->pidfd < 0) {
    int saved = n == 0 ? errno : child_errno;
    kill(r->pid, SIGKILL);
    waitpid(r->pid, NULL, 0);
    return berth_error_make(err, saved, n == 0 ? "pidfd_open" : "exec");
  }
  return 0;
}

static long ms_left(const struct timespec *deadline)
{
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  long ms = (deadline->tv_sec - now.tv_sec) * 1000 + (deadline->tv_nsec - now.tv_nsec) / 1000000;
  return ms < 0 ? 0 : ms;
}

/* Wait for exit (or the deadline: SIGKILL) while collecting output; reaps the hook. */
static BERTH_WUR int wait_hook(struct hook_run *r, berth_error_t *err)
{
  struct timespec deadline;
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  deadline.tv_sec += r->hook->has_timeout ? r->hook->timeout : 0;
  for (;;) {
    struct pollfd pfd[3] = { { r->pidfd, POLLIN, 0 }, { r->out.fd, POLLIN, 0 }, { r->err.fd, POLLIN, 0 } };
    long ms = r->hook->has_timeout ? ms_left(&deadline) : -1;
    int n = poll(pfd, 3, ms > INT32_MAX ? INT32_MAX : (int) ms);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return BERTH_ERR_ERRNO(err, "poll");
    if (n == 0) {
      r->timed_out = true;
      if (pidfd_send_signal(r->pidfd, SIGKILL, NULL, 0) < 0 && errno != ESRCH)
        return BERTH_ERR_ERRNO(err, "kill the hook after its timeout");
      break;
    }
    if (pfd[1].revents)
      tail_drain(&r->out);
    if (pfd[2].revents)
      tail_drain(&r->err);
    if (pfd[0].revents)
      break;
  }
  /* the hook is gone; children it left may keep the pipes open: take what is there */
  tail_drain(&r->out);
  tail_drain(&r->err);
  while (waitid(P_PIDFD, (id_t) r->pidfd, &r->info, WEXITED) < 0)
    if (errno != EINTR)
      return BERTH_ERR_ERRNO(err, "wait for the hook");
  return 0;
}

/* one line: trailing blanks cut, newlines shown as "; " */
static char *one_line(const char *s)
{
  size_t len = strlen(s);
  while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == ' ' || s[len - 1] == '\r' || s[len - 1] == '\t'))
    len--;
  char *o = xmalloc(len * 2 + 1), *q = o;
  for (size_t i = 0; i < len; i++) {
    if (s[i] == '\n') {
      *q++ = ';';
      *q++ = ' ';
    } else {
      *q++ = s[i];
    }
  }
  *q = '\0';
  return o;
}

static BERTH_WUR int hook_result(const struct hook_run *r, berth_error_t *err)
{
  cleanup_free char *e = one_line(r->err.buf);
  cleanup_free char *o = one_line(r->out.buf);
  cleanup_free char *output = *e ? xasprintf(": %s", e) : *o ? xasprintf(": stdout: %s", o) : xstrdup("");
  if (r->timed_out)
    return BERTH_ERR(err, "timed out after %ds%s", r->hook->timeout, output);
  if (r->info.si_code == CLD_EXITED && r->info.si_status == 0) {
    if (*e || *o)
      berth_log_debug("hook `%s`: stdout: %s; stderr: %s", r->hook->path, o, e);
    return 0;
  }
  if (r->info.si_code == CLD_EXITED)
    return BERTH_ERR(err, "exited with status %d%s", r->info.si_status, output);
  return BERTH_ERR(err, "killed by signal %d (%s)%s", r->info.si_status, strsignal(r->info.si_status),
                   output);
}

/* files[0], files[1]: where the hook's stdout and stderr go instead of our capture (the
 * run.oci.hooks.* annotations), or -1 */
static BERTH_WUR int run_hook(const struct berth_spec_hook *hook, const char *state_json, const int files[2],
                              berth_error_t *err)
{
  struct hook_run r = { .hook = hook, .pid = -1, .pidfd = -1, .out.fd = -1, .err.fd = -1 };
  cleanup_close int in_fd = state_memfd(state_json, err);
  if (in_fd < 0)
    return -1;
  cleanup_close int out_w = -1, err_w = -1;
  int rc = -1;
  if ((files[0] < 0 && capture_pipe(&r.out.fd, &out_w, err) < 0) ||
      (files[1] < 0 && capture_pipe(&r.err.fd, &err_w, err) < 0))
    goto out;
  if (spawn_hook(&r,
                 (const int[3]){ in_fd, files[0] >= 0 ? files[0] : out_w, files[1] >= 0 ? files[1] : err_w },
                 err) < 0)
    goto out;
  close(steal_fd(out_w));
  close(steal_fd(err_w));
  if (wait_hook(&r, err) == 0) {
    rc = hook_result(&r, err);
  } else {
    kill(r.pid, SIGKILL);
    waitpid(r.pid, NULL, 0);
  }
out:
  if (r.out.fd >= 0)
    close(r.out.fd);
  if (r.err.fd >= 0)
    close(r.err.fd);
  if (r.pidfd >= 0)
    close(r.pidfd);
  return rc;
}

static void close_files(int files[2])
{
  for (int i = 0; i < 2; i++)
    if (files[i] >= 0)
      close(files[i]);
}

/* The run.oci.hooks.stdout/stderr files (crun's annotations), opened for appending, made when
 * missing, where the hooks run (a startContainer hook's in the container); -1 for none. */
static BERTH_WUR int open_files(const berth_spec_t *spec, int files[2], berth_error_t *err)
{
  const char *keys[2] = { BERTH_ANNOTATION_HOOKS_STDOUT, BERTH_ANNOTATION_HOOKS_STDERR };
  files[0] = files[1] = -1;
  for (int i = 0; i < 2; i++) {
    const char *path = berth_spec_annotation(spec, keys[i]);
    if (path == NULL)
      continue;
    int fd = berth_output_open_trusted(path, O_WRONLY | O_APPEND | O_CREAT | O_NOCTTY | O_CLOEXEC, 0600, err);
    if (fd < 0) {
      close_files(files);
      return berth_error_wrap(err, "annotation %s", keys[i]);
    }
    files[i] = above_stdio(fd);
  }
  return 0;
}

int berth_hooks_run(const berth_spec_t *spec, enum berth_hook_kind kind, const char *state_json,
                    berth_error_t *err)
{
  if (spec->hooks.n[kind] == 0)
    return 0;
  int files[2];
  if (open_files(spec, files, err) < 0)
    return berth_error_wrap(err, "run %s hooks", berth_hook_kind_name(kind));
  int r = 0;
  for (size_t i = 0; i < spec->hooks.n[kind] && r == 0; i++) {
    const struct berth_spec_hook *h = &spec->hooks.list[kind][i];
    if ((r = run_hook(h, state_json, files, err)) < 0)
      berth_error_wrap(err, "run %s hook %zu (`%s`)", berth_hook_kind_name(kind), i, h->path);
  }
  close_files(files);
  return r;
}

size_t berth_hooks_run_warn(const berth_spec_t *spec, enum berth_hook_kind kind, const char *state_json)
{
  size_t failed = 0;
  int files[2] = { -1, -1 };
  berth_error_t ferr = NULL;
  if (spec->hooks.n[kind] > 0 && open_files(spec, files, &ferr) < 0) {
    berth_log_warn("run %s hooks: %s", berth_hook_kind_name(kind), ferr->msg);
    berth_error_release(&ferr);
  }
  for (size_t i = 0; i < spec->hooks.n[kind]; i++) {
    const struct berth_spec_hook *h = &spec->hooks.list[kind][i];
    berth_error_t err = NULL;
    if (run_hook(h, state_json, files, &err) < 0) {
      berth_log_warn("run %s hook %zu (`%s`): %s", berth_hook_kind_name(kind), i, h->path, err->msg);
      berth_error_release(&err);
      failed++;
    }
  }
  close_files(files);
  return failed;
}
