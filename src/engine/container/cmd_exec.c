/* berth exec / container exec: a process in a running container through its runtime's `exec`.
 * Without -t the process writes to pipes that berth copies to its own stdout and stderr (and
 * reads a pipe berth fills from its stdin with -i): never the caller's descriptors themselves,
 * which would let a process in the container change the file behind them through
 * /proc/self/fd or keep the caller's terminal after exec returned. With -t berth receives the
 * pty master on a console socket and proxies it — the terminal raw, SIGWINCH resizing the
 * pty. Signals sent to berth go to the runtime, which forwards them. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "container_cmd.h"

static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };

struct exec_flags {
  bool detach, interactive, tty, privileged;
  const char *user, *workdir, *detach_keys;
  const char **env, **env_files;
};

static const char *host_env(void *data, const char *name)
{
  (void) data;
  return getenv(name);
}

static int load_env(const struct exec_flags *f, char ***env, berth_error_t *err)
{
  for (size_t i = 0; f->env_files && f->env_files[i]; i++) {
    cleanup_free char *text = NULL;
    size_t len = 0;
    if (berth_read_file(f->env_files[i], BERTH_RUNOPTS_MAX_FILE, &text, &len, err) < 0)
      return berth_error_wrap(err, "--env-file");
    if (berth_runopts_parse_env_file(text, len, f->env_files[i], host_env, NULL, env, err) < 0)
      return berth_error_wrap(err, "--env-file");
  }
  for (size_t i = 0; f->env && f->env[i]; i++)
    if (berth_runopts_parse_env("--env", f->env[i], host_env, NULL, env, err) < 0)
      return -1;
  return 0;
}

/* a signal for the runtime (which forwards it to the process): not one the terminal sent, the
 * runtime is in berth's process group and has it already */
static void forward(struct berth_ctr_exec *x, int sigfd, int master)
{
  struct signalfd_siginfo si;
  while (read(sigfd, &si, sizeof si) == (ssize_t) sizeof si) {
    if ((int) si.ssi_signo == SIGWINCH) {
      struct winsize ws;
      if (master >= 0 &&
          (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 || ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0))
        ioctl(master, TIOCSWINSZ, &ws);
      continue;
    }
    if (si.ssi_code != SI_KERNEL && x->pid > 0)
      kill(x->pid, (int) si.ssi_signo);
  }
}

static int block_signals(sigset_t *old)
{
  sigset_t set;
  sigemptyset(&set);
  for (size_t i = 0; i < BERTH_N_ELEMENTS(forwarded); i++)
    sigaddset(&set, forwarded[i]);
  sigprocmask(SIG_BLOCK, &set, old);
  return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

/* copy what is readable from in to out; false at its end */
static bool pump(int in, int out)
{
  char buf[16384];
  ssize_t n = read(in, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return true;
  if (n <= 0)
    return false;
  return berth_write_all(out, buf, (size_t) n) == 0;
}

/* the terminal's input to the master, but for the detach keys: true when they were typed */
static bool pump_keys(int in, int out, struct detach_keys *dk, bool *in_on)
{
  char buf[16384], pass[16384 + BERTH_DETACH_KEYS_MAX];
  ssize_t n = read(in, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return false;
  if (n <= 0) {
    *in_on = false;
    return false;
  }
  bool detached = false;
  size_t k = detach_keys_filter(dk, buf, (size_t) n, pass, &detached);
  if (k > 0 && berth_write_all(out, pass, k) < 0)
    *in_on = false;
  return detached;
}

/* -t: terminal <-> pty master until the runtime ends (and the master has nothing more); true
 * when the detach keys were typed (the process runs on) */
static bool proxy(struct berth_ctr_exec *x, int master, bool in_on, int sigfd, struct detach_keys *dk)
{
  bool detached = false;
  struct termios saved;
  bool raw = false;
  if (in_on && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0) {
    struct termios t = saved;
    cfmakeraw(&t);
    raw = tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0;
  }
  fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
  bool out_open = true, runtime = true;
  while ((out_open || runtime) && !detached) {
    struct pollfd pf[4] = { { .fd = out_open ? master : -1, .events = POLLIN },
                            { .fd = in_on ? STDIN_FILENO : -1, .events = POLLIN },
                            { .fd = sigfd, .events = POLLIN },
                            { .fd = runtime ? x->pidfd : -1, .events = POLLIN } };
    /* after the runtime ended: only what the master still holds */
    if (poll(pf, 4, runtime ? -1 : 100) <= 0 && !runtime)
      break;
    if (pf[0].revents & (POLLIN | POLLHUP | POLLERR))
      out_open = pump(master, STDOUT_FILENO);
    if (pf[1].revents & (POLLIN | POLLHUP | POLLERR))
      detached = pump_keys(STDIN_FILENO, master, dk, &in_on);
    if (pf[2].revents & POLLIN)
      forward(x, sigfd, master);
    if (pf[3].revents & POLLIN)
      runtime = false;
  }
  if (raw)
    tcsetattr(STDIN_FILENO, TCSANOW, &saved);
  return detached;
}

/* what the pipes of a process without a terminal carry; -1: not used */
struct relay {
  int in_w, out_r, err_r;
};

/* Without -t: the process's stdout and stderr pipes to berth's, berth's stdin to the
 * process's pipe (buffered: a process that does not read never blocks its own output), and
 * signals forwarded, until the runtime has ended and both output pipes have ended or stay idle
 * (a process left in the background may hold them open for ever). A process that closes its
 * output early still gets its input and berth's signals until it exits. */
static void relay(struct berth_ctr_exec *x, struct relay *r, int sigfd)
{
  struct sigaction ign = { .sa_handler = SIG_IGN }, old_pipe;
  sigaction(SIGPIPE, &ign, &old_pipe); /* a closed reader on either side is EPIPE */
  char buf[16384];
  size_t len = 0, off = 0;
  bool runtime = true, stdin_open = r->in_w >= 0;
  fcntl(r->out_r, F_SETFL, fcntl(r->out_r, F_GETFL) | O_NONBLOCK);
  fcntl(r->err_r, F_SETFL, fcntl(r->err_r, F_GETFL) | O_NONBLOCK);
  if (r->in_w >= 0)
    fcntl(r->in_w, F_SETFL, fcntl(r->in_w, F_GETFL) | O_NONBLOCK);
  while (runtime || r->out_r >= 0 || r->err_r >= 0) {
    struct pollfd pf[6] = { { .fd = r->out_r, .events = POLLIN },
                            { .fd = r->err_r, .events = POLLIN },
                            { .fd = stdin_open && len == 0 ? STDIN_FILENO : -1, .events = POLLIN },
                            { .fd = len > 0 ? r->in_w : -1, .events = POLLOUT },
                            { .fd = sigfd, .events = POLLIN },
                            { .fd = runtime ? x->pidfd : -1, .events = POLLIN } };
    int n = poll(pf, 6, runtime ? -1 : 100);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break; /* the runtime ended and nothing more came */
    if ((pf[0].revents & (POLLIN | POLLHUP | POLLERR)) && !pump(r->out_r, STDOUT_FILENO))
      close(steal_fd(r->out_r));
    if ((pf[1].revents & (POLLIN | POLLHUP | POLLERR)) && !pump(r->err_r, STDERR_FILENO))
      close(steal_fd(r->err_r));
    if (pf[2].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t got = read(STDIN_FILENO, buf, sizeof buf);
      if (got > 0) {
        len = (size_t) got;
        off = 0;
      } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
        stdin_open = false; /* the process sees the end of its input */
      }
    }
    if (pf[3].revents & (POLLOUT | POLLERR | POLLHUP)) {
      ssize_t w = write(r->in_w, buf + off, len - off);
      if (w > 0 && (off += (size_t) w) == len)
        len = 0;
      else if (w < 0 && errno != EAGAIN && errno != EINTR)
        stdin_open = false, len = 0;
    }
    if (!stdin_open && len == 0 && r->in_w >= 0)
      close(steal_fd(r->in_w));
    if (pf[4].revents & POLLIN)
      forward(x, sigfd, -1);
    if (pf[5].revents & POLLIN) {
      runtime = false; /* the process is gone: its input with it */
      stdin_open = false;
      len = 0;
      if (r->in_w >= 0)
        close(steal_fd(r->in_w));
    }
  }
  sigaction(SIGPIPE, &old_pipe, NULL);
}

static void wait_runtime(struct berth_ctr_exec *x, int sigfd)
{
  for (;;) {
    struct pollfd pf[2] = { { .fd = x->pidfd, .events = POLLIN }, { .fd = sigfd, .events = POLLIN } };
    if (poll(pf, 2, -1) < 0 && errno != EINTR)
      return;
    if (pf[1].revents & POLLIN)
      forward(x, sigfd, -1);
    if (pf[0].revents & POLLIN)
      return;
  }
}

/* the runtime started: stream, wait, the exit code (or the runtime's failure, printed here
 * unless the runtime printed it on our stderr itself) */
static int attend(struct berth_ctr_exec *x, const struct exec_flags *f, struct relay *r)
{
  sigset_t old;
  int sigfd = block_signals(&old), master = -1, code = 125;
  berth_error_t err = NULL;
  struct detach_keys dk;
  bool detached = false;
  if (f->tty && detach_keys_init(&dk, f->detach_keys, &err) < 0) {
    /* checked before the process started (run_exec) */
  } else if (f->detach && x->console && x->hold_rundir) { /* -dt: the monitor keeps the terminal */
    if (berth_ctr_exec_hand_console(x, &err) == 0)
      wait_runtime(x, sigfd);
  } else if (x->console && (master = berth_ctr_exec_console(x, &err)) >= 0) {
    /* detached: the monitor keeps the terminal, the process runs on */
    detached = proxy(x, master, f->interactive, sigfd, &dk) && berth_ctr_exec_detach(x, master, &err) == 0;
  } else if (err == NULL && r->out_r >= 0) {
    relay(x, r, sigfd);
  } else if (err == NULL) {
    wait_runtime(x, sigfd);
  }
  if (master >= 0)
    close(master);
  if (detached)
    code = 0;
  else if (err == NULL && berth_ctr_exec_wait(x, &code, &err) < 0 && x->stderr_shared)
    berth_error_release(&err);
  if (err)
    cli_report(&err);
  if (sigfd >= 0)
    close(sigfd);
  sigprocmask(SIG_SETMASK, &old, NULL);
  return code;
}

static int run_exec(struct cmd_ctx *ctx, const struct exec_flags *f, const char *what, char **args,
                    berth_error_t *err)
{
  cleanup_strv char **env = NULL;
  ctx->usage_error = true; /* every failure before the process runs: 125 */
  if (load_env(f, &env, err) < 0)
    return berth_error_wrap(err, "%s", ctx->path);
  if (f->tty && f->interactive && !f->detach && !isatty(STDIN_FILENO))
    return BERTH_ERR(err, "%s: the input device is not a TTY", ctx->path);
  struct detach_keys dk;
  if (f->detach_keys && detach_keys_init(&dk, f->detach_keys, err) < 0)
    return berth_error_wrap(err, "%s", ctx->path);
  struct winsize ws = { 0 };
  if (f->tty && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0)
    ioctl(STDIN_FILENO, TIOCGWINSZ, &ws);
  struct berth_ctr_exec_in in = { .args = args,
                                  .env = env,
                                  .user = f->user,
                                  .workdir = f->workdir,
                                  .tty = f->tty,
                                  .detach = f->detach,
                                  .privileged = f->privileged,
                                  .rows = ws.ws_row,
                                  .cols = ws.ws_col };
  struct berth_engine *e = NULL;
  struct berth_ctr_exec x;
  cleanup_close int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  /* the process's ends of the pipes (without -t, in the foreground), and berth's */
  cleanup_close int in_r = -1, out_w = -1, err_w = -1;
  struct relay rl = { -1, -1, -1 };
  int stdio[3] = { f->interactive ? STDIN_FILENO : devnull, STDOUT_FILENO, STDERR_FILENO };
  if (!f->tty && !f->detach) {
    int p[3][2] = { { -1, -1 }, { -1, -1 }, { -1, -1 } };
    if ((f->interactive && pipe2(p[0], O_CLOEXEC) < 0) || pipe2(p[1], O_CLOEXEC) < 0 ||
        pipe2(p[2], O_CLOEXEC) < 0) {
      for (int i = 0; i < 3; i++)
        for (int k = 0; k < 2; k++)
          if (p[i][k] >= 0)
            close(p[i][k]);
      return BERTH_ERR_ERRNO(err, "%s: pipe", ctx->path);
    }
    in_r = p[0][0], rl.in_w = p[0][1], rl.out_r = p[1][0], out_w = p[1][1], rl.err_r = p[2][0],
    err_w = p[2][1];
    stdio[0] = f->interactive ? in_r : devnull;
    stdio[1] = out_w;
    stdio[2] = err_w;
  }
  int r = cli_open_engine(ctx, &e, err) < 0 ? -1 : 0;
  if (r == 0) {
    r = berth_ctr_exec_start(e, what, &in, stdio, &x, err);
    berth_engine_close(e);
  }
  /* only the runtime (and the process) hold the process's ends now */
  close(steal_fd(in_r));
  close(steal_fd(out_w));
  close(steal_fd(err_w));
  int code = -1;
  if (r == 0) {
    ctx->usage_error = false;
    code = attend(&x, f, &rl);
    berth_error_t ignore = NULL; /* the event records the past: no failure of the exec */
    if (!f->detach && cli_open_engine(ctx, &e, &ignore) == 0) {
      berth_ctr_exec_died(e, &x, code);
      berth_engine_close(e);
    }
    berth_error_release(&ignore);
    berth_ctr_exec_release(&x);
  }
  close(rl.in_w); /* -1 when closed already or never used: EBADF, nothing else */
  close(rl.out_r);
  close(rl.err_r);
  return code;
}

int cmd_exec(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  struct exec_flags f = { 0 };
  const struct berth_cli_opt opts[] = {
    { "detach", 'd', BERTH_CLI_BOOL, &f.detach, NULL, "Detached mode: run command in the background" },
    { "detach-keys", 0, BERTH_CLI_STRING, &f.detach_keys, "string",
      "Override the key sequence for detaching a container" },
    { "env", 'e', BERTH_CLI_STRINGS, &f.env, "list", "Set environment variables" },
    { "env-file", 0, BERTH_CLI_STRINGS, &f.env_files, "list", "Read in a file of environment variables" },
    { "interactive", 'i', BERTH_CLI_BOOL, &f.interactive, NULL, "Keep STDIN open even if not attached" },
    { "privileged", 0, BERTH_CLI_BOOL, &f.privileged, NULL, "Give extended privileges to the command" },
    { "tty", 't', BERTH_CLI_BOOL, &f.tty, NULL, "Allocate a pseudo-TTY" },
    { "user", 'u', BERTH_CLI_STRING, &f.user, "string",
      "Username or UID (format: \"<name|uid>[:<group|gid>]\")" },
    { "workdir", 'w', BERTH_CLI_STRING, &f.workdir, "string", "Working directory inside the container" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  int at = 1;
  int r = cli_parse_head(ctx, argc, argv, opts, "berth exec [OPTIONS] CONTAINER COMMAND [ARG...]",
                         "Execute a command in a running container", &at, err);
  if (r == 0 && argc - at < 2) {
    ctx->usage_error = true;
    r = BERTH_ERR(err, "%s: requires at least 2 arguments (CONTAINER COMMAND); see '%s --help'", ctx->path,
                  ctx->path);
  }
  int code = r == 0 ? run_exec(ctx, &f, argv[at], argv + at + 1, err) : r > 0 ? 0 : -1;
  free(f.env);
  free(f.env_files);
  return code;
}
