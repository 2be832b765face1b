/* A program in a child (child.h): setsid, prepare, descriptors, signals, execve, and the report
 * of the step that failed. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/child.h"
#include "base/child_internal.h"
#include "base/cleanup.h"
#include "base/fds.h"
#include "base/signals.h"
#include "base/xalloc.h"

#if defined(__SANITIZE_ADDRESS__)
#define CHILD_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CHILD_ASAN 1
#endif
#endif
#ifdef CHILD_ASAN
#include <sanitizer/asan_interface.h>
#endif

extern char **environ;

/* the step of the child that failed, and its errno */
struct failure {
  const char *step; /* NULL: none; STEP_EXEC: execve */
  int errnum;
};
static const char STEP_EXEC[] = "exec";

static int failed(struct failure *f, const char *step)
{
  f->step = step;
  f->errnum = errno;
  return -1;
}

/* fds[i] on i for i < nfds, every other descriptor closed but *keep (the channel, >= 0), which
 * moves above them when it is in the way */
static int set_fds(const struct berth_child_exec *x, int *keep, struct failure *f)
{
  int n = (int) x->nfds, tmp[BERTH_CHILD_MAX_FDS], null = -1;
  if (*keep >= 0 && *keep < n && (*keep = fcntl(*keep, F_DUPFD_CLOEXEC, n)) < 0)
    return failed(f, "set up descriptors");
  /* every source above the targets first, so that no dup2 overwrites one still needed */
  for (int i = 0; i < n; i++) {
    if (x->fds[i] < 0 && null < 0 && (null = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0)
      return failed(f, "open `/dev/null`");
    if ((tmp[i] = fcntl(x->fds[i] < 0 ? null : x->fds[i], F_DUPFD_CLOEXEC, n)) < 0)
      return failed(f, "set up descriptors");
  }
  for (int i = 0; i < n; i++)
    if (dup2(tmp[i], i) < 0)
      return failed(f, "set up descriptors");
  if (berth_fds_close_from(n, keep, *keep >= 0 ? 1 : 0) < 0)
    return failed(f, "close descriptors");
  return 0;
}

/* descriptors, signals, execve: returns only when a step failed. System calls only (the
 * clone(CLONE_VM) child runs it on our memory). */
static void exec_program(const struct berth_child_exec *x, int *keep, struct failure *f)
{
  if (set_fds(x, keep, f) < 0)
    return;
  berth_signals_reset();
  char *const *envp = x->envp ? x->envp : environ;
  if (x->flags & BERTH_CHILD_SEARCH)
    execvpe(x->argv[0], x->argv, envp);
  else
    execve(x->argv[0], x->argv, envp);
  failed(f, STEP_EXEC);
}

static int failure_error(const struct berth_child_exec *x, const struct failure *f, berth_error_t *err)
{
  errno = f->errnum;
  if (f->step == STEP_EXEC)
    return BERTH_ERR_ERRNO(err, "exec `%s`", x->argv[0]);
  return BERTH_ERR_ERRNO(err, "start `%s`: %s", x->argv[0], f->step);
}

struct vfork_arg {
  const struct berth_child_exec *x;
  struct failure f; /* written by the child, in our memory */
};

static int vfork_child(void *p)
{
  struct vfork_arg *a = p;
  int keep = -1;
  if ((a->x->flags & BERTH_CHILD_SETSID) && setsid() < 0)
    failed(&a->f, "setsid");
  else
    exec_program(a->x, &keep, &a->f);
  _exit(127);
}

/* glibc's posix_spawn: a stack of its own, every signal blocked across the clone so that none
 * of our handlers runs in the child before it restores the defaults */
static BERTH_WUR int exec_vfork(const struct berth_child_exec *x, pid_t *pid, berth_error_t *err)
{
  size_t size = 256 * 1024; /* execvpe: a path buffer, and argv again for a script without #! */
  void *stack = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED)
    return BERTH_ERR_ERRNO(err, "start `%s`: map a stack", x->argv[0]);
  struct vfork_arg a = { .x = x, .f = { NULL, 0 } };
  sigset_t all, old;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, &old);
  pid_t p = clone(vfork_child, (char *) stack + size, CLONE_VM | CLONE_VFORK | SIGCHLD, &a);
  int saved = errno;
  sigprocmask(SIG_SETMASK, &old, NULL);
#ifdef CHILD_ASAN
  ASAN_UNPOISON_MEMORY_REGION(stack, size); /* the child's frames left their redzones */
#endif
  munmap(stack, size);
  if (p < 0) {
    errno = saved;
    return BERTH_ERR_ERRNO(err, "start `%s`: clone", x->argv[0]);
  }
  if (a.f.step != NULL) {
    child_reap(p);
    return failure_error(x, &a.f, err);
  }
  *pid = p;
  return 0;
}

static __attribute__((noreturn)) void fork_child(const struct berth_child_exec *x, int sock)
{
  berth_error_t e = NULL;
  struct failure f = { NULL, 0 };
  if ((x->flags & BERTH_CHILD_SETSID) && setsid() < 0) {
    failed(&f, "setsid");
  } else if (x->prepare && x->prepare(x->data, sock, &e) < 0) {
    if (e == NULL)
      BERTH_ERR(&e, "start `%s`: failed without a message", x->argv[0]);
  } else {
    pid_t p = (x->flags & BERTH_CHILD_DETACH) ? fork() : 0;
    if (p > 0) { /* the intermediate: the program's pid, then gone */
      berth_ignore(berth_sync_send(sock, BERTH_CHILD_PID, p, NULL, 0, -1, BERTH_IGNORED));
      _exit(0);
    }
    if (p < 0)
      failed(&f, "fork");
    else
      exec_program(x, &sock, &f);
  }
  if (e == NULL)
    failure_error(x, &f, &e);
  berth_sync_send_error(sock, &e);
  _exit(127);
}

static BERTH_WUR int exec_fork(const struct berth_child_exec *x, pid_t *pid, berth_error_t *err)
{
  int sv[2];
  if (berth_sync_pair(sv, err) < 0)
    return -1;
  pid_t child = fork();
  if (child == 0) {
    close(sv[0]);
    fork_child(x, sv[1]);
  }
  close(sv[1]);
  if (child < 0) {
    close(sv[0]);
    return BERTH_ERR_ERRNO(err, "start `%s`: fork", x->argv[0]);
  }
  /* the program's pid (DETACH), an error, or the end of the channel once the program runs (it
   * is close-on-exec) */
  pid_t prog = (x->flags & BERTH_CHILD_DETACH) ? -1 : child;
  struct berth_sync_msg msg;
  int r;
  while ((r = berth_sync_recv_or_eof(sv[0], &msg, NULL, err)) == 0)
    if (msg.type == BERTH_CHILD_PID)
      prog = msg.value;
  close(sv[0]);
  int status = (r < 0 || prog != child) ? child_reap(child) : 0;
  if (r < 0)
    return -1;
  if (prog <= 0) { /* the intermediate of DETACH ended without a word */
    cleanup_free char *what = xasprintf("the process starting `%s`", x->argv[0]);
    return berth_child_status_error(what, status, err);
  }
  *pid = prog;
  return 0;
}

int berth_child_exec(const struct berth_child_exec *x, pid_t *pid, berth_error_t *err)
{
  if (x->argv == NULL || x->argv[0] == NULL || x->nfds < 3 || x->nfds > BERTH_CHILD_MAX_FDS)
    return BERTH_ERR(err, "start a program: no program, or %zu descriptors", x->nfds);
  if (x->prepare == NULL && !(x->flags & BERTH_CHILD_DETACH))
    return exec_vfork(x, pid, err);
  return exec_fork(x, pid, err);
}
