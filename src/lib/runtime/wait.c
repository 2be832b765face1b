#include "runtime/wait.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/signals.h"
#include "runtime/notify.h"

static bool synchronous(int sig)
{
  return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE || sig == SIGABRT ||
         sig == SIGTRAP || sig == SIGSYS || sig == SIGKILL || sig == SIGSTOP;
}

void berth_reset_signals(void) { berth_signals_reset(); }

int berth_wait_prepare(struct berth_wait_ctx *w, berth_error_t *err)
{
  sigset_t set;
  sigfillset(&set);
  for (int sig = 1; sig < NSIG; sig++)
    if (synchronous(sig))
      sigdelset(&set, sig);
  w->notify_fd = -1;
  if (sigprocmask(SIG_BLOCK, &set, &w->old_mask) < 0)
    return BERTH_ERR_ERRNO(err, "block signals");
  w->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (w->sigfd < 0) {
    int e = errno;
    sigprocmask(SIG_SETMASK, &w->old_mask, NULL);
    return berth_error_make(err, e, "signalfd");
  }
  return 0;
}

void berth_wait_release(struct berth_wait_ctx *w)
{
  if (w->sigfd >= 0)
    close(w->sigfd);
  if (w->notify_fd >= 0)
    close(w->notify_fd);
  w->sigfd = w->notify_fd = -1;
  sigprocmask(SIG_SETMASK, &w->old_mask, NULL);
}

static void resize(int master)
{
  struct winsize ws;
  if (master >= 0 && ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
    ioctl(master, TIOCSWINSZ, &ws);
}

/* copy what is readable from `from` to `to`; false on EOF/error of `from` */
static bool pump(int from, int to)
{
  char buf[8192];
  ssize_t n = read(from, buf, sizeof buf);
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return true;
  if (n <= 0)
    return false;
  berth_write_all(to, buf, (size_t) n);
  return true;
}

static void drain(int master)
{
  struct pollfd p = { .fd = master, .events = POLLIN };
  while (poll(&p, 1, 0) > 0 && (p.revents & POLLIN) && pump(master, STDOUT_FILENO))
    ;
}

static BERTH_WUR int exit_status(pid_t pid, berth_error_t *err)
{
  int status;
  while (waitpid(pid, &status, __WALL) < 0) {
    if (errno != EINTR)
      return BERTH_ERR_ERRNO(err, "wait for container process %d", (int) pid);
  }
  if (WIFEXITED(status))
    return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}

static void on_signal(struct berth_wait_ctx *w, const struct berth_create_result *res)
{
  struct signalfd_siginfo si;
  while (read(w->sigfd, &si, sizeof si) == sizeof si) {
    int sig = (int) si.ssi_signo;
    if (sig == SIGWINCH)
      resize(res->console_master);
    else if (sig == SIGCHLD) {
      /* reap adopted orphans (we are a subreaper) but leave the container's own exit
       * status for exit_status() */
      for (;;) {
        siginfo_t info;
        memset(&info, 0, sizeof info);
        if (waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT | __WALL) < 0 || info.si_pid == 0 ||
            info.si_pid == res->pid)
          break;
        waitpid(info.si_pid, NULL, __WALL);
      }
    } else if (sig != SIGURG)
      syscall(SYS_pidfd_send_signal, res->pidfd, sig, NULL, 0);
  }
}

/* READY=1 passed on (or the socket failed: logged, systemd then times out as without it) */
static void on_notify(struct berth_wait_ctx *w, const struct berth_create_result *res)
{
  berth_error_t e = NULL;
  int r = berth_notify_read(w->notify_fd, res->pid, &e);
  if (r < 0) {
    berth_log_warn("%s", e->msg);
    berth_error_release(&e);
  }
  if (r != 0) {
    close(w->notify_fd);
    w->notify_fd = -1;
  }
}

int berth_wait_container(struct berth_wait_ctx *w, const struct berth_create_result *res, berth_error_t *err)
{
  int master = res->console_master;
  struct termios saved;
  bool raw = master >= 0 && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
  if (raw) {
    struct termios t = saved;
    cfmakeraw(&t);
    tcsetattr(STDIN_FILENO, TCSANOW, &t);
    resize(master);
  }
  bool stdin_open = master >= 0;
  for (;;) {
    struct pollfd p[5] = {
      { .fd = res->pidfd, .events = POLLIN },   { .fd = w->sigfd, .events = POLLIN },
      { .fd = master, .events = POLLIN },       { .fd = stdin_open ? STDIN_FILENO : -1, .events = POLLIN },
      { .fd = w->notify_fd, .events = POLLIN },
    };
    if (poll(p, 5, -1) < 0 && errno != EINTR)
      break;
    if (p[4].revents & POLLIN)
      on_notify(w, res);
    if (p[1].revents & POLLIN)
      on_signal(w, res);
    if (master >= 0 && (p[2].revents & (POLLIN | POLLHUP)) && !pump(master, STDOUT_FILENO))
      master = -1;
    if (stdin_open && (p[3].revents & (POLLIN | POLLHUP)) && !pump(STDIN_FILENO, res->console_master))
      stdin_open = false;
    if (p[0].revents & POLLIN)
      break;
  }
  if (master >= 0)
    drain(master);
  if (raw)
    tcsetattr(STDIN_FILENO, TCSANOW, &saved);
  return exit_status(res->pid, err);
}
