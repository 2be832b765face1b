/* berth-init: a tiny static PID 1 for containers (`berth run --init`).
 *
 * It blocks every catchable signal, forks the program, and then sleeps in read(2) on a
 * signalfd: SIGCHLD reaps every exited child (the program's orphans are reparented to us,
 * as PID 1 of a pid namespace or as a child subreaper), any other signal is forwarded to
 * the program (or its process group with -g). When the program exits, the children it
 * left get SIGTERM, a grace period measured by a timerfd, then SIGKILL; berth-init exits
 * with the program's status (128+N when a signal killed it).
 *
 * No libberth, no heap beyond libc's own: this runs as PID 1 of every `--init` container.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#ifndef BERTH_VERSION
#define BERTH_VERSION "unknown"
#endif

#define EXIT_INTERNAL   1   /* berth-init itself failed before the program ran */
#define EXIT_USAGE      2   /* bad command line or environment */
#define EXIT_CANNOT_RUN 126 /* the program exists but cannot be executed */
#define EXIT_NOT_FOUND  127 /* the program does not exist */

#define GRACE_ENV        "BERTH_INIT_GRACE_MS"
#define GRACE_DEFAULT_MS 2000UL
#define GRACE_MAX_MS     86400000UL

/* Processes seen in one scan of /proc when signalling our descendants as a subreaper. */
#define PROC_SCAN_MAX 16384

struct init {
  char **argv;            /* the program and its arguments */
  bool group;             /* -g: signals go to the program's process group */
  bool want_subreaper;    /* -s */
  bool verbose;           /* -v */
  bool pid1;              /* we are PID 1 of a pid namespace */
  unsigned long grace_ms; /* BERTH_INIT_GRACE_MS */
  int sfd;                /* signalfd of every blocked signal */
  int tty;                /* stdin when it is our terminal and we are its foreground, else -1 */
  pid_t child;            /* the program */
  bool child_done;        /* the program has exited (and was reaped) */
  int exit_code;          /* its exit code, or 128+signal */
};

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
  static const char prefix[] = "berth-init: ";
  char buf[512];
  size_t len = sizeof prefix - 1;
  va_list ap;
  int n;

  memcpy(buf, prefix, len);
  va_start(ap, fmt);
  n = vsnprintf(buf + len, sizeof buf - len - 1, fmt, ap);
  va_end(ap);
  if (n < 0)
    return;
  len += (size_t) n < sizeof buf - len - 1 ? (size_t) n : sizeof buf - len - 2;
  buf[len++] = '\n';
  /* one write(2) per message: lines from the program and from us do not interleave */
  (void) !write(STDERR_FILENO, buf, len);
}

#define debug(in, ...)                                                                                       \
  do {                                                                                                       \
    if ((in)->verbose)                                                                                       \
      say(__VA_ARGS__);                                                                                      \
  } while (0)

static const char usage_line[] = "usage: berth-init [-g] [-s] [-v] [--] PROGRAM [ARGS...]";

static void print_help(void)
{
  printf("%s\n\n"
         "Run PROGRAM as the child of a minimal init: forward signals to it, reap every zombie,\n"
         "exit with its status (128+N when signal N killed it).\n\n"
         "  -g  forward signals to the program's process group instead of the program only\n"
         "  -s  become a child subreaper (automatic when berth-init is not PID 1)\n"
         "  -v  log signals, reaped processes and the shutdown to stderr\n"
         "  -h, --help     this text\n"
         "  -V, --version  the version\n\n"
         "When PROGRAM exits, the processes left behind get SIGTERM, then SIGKILL after\n"
         "%s milliseconds (default %lu).\n",
         usage_line, GRACE_ENV, GRACE_DEFAULT_MS);
}

static int bad_usage(const char *what, const char *arg)
{
  if (arg)
    say("%s `%s`", what, arg);
  else
    say("%s", what);
  dprintf(STDERR_FILENO, "%s\n", usage_line);
  return EXIT_USAGE;
}

/* Millisecond count from the environment: digits only, at most GRACE_MAX_MS. */
static int parse_grace(const char *s, unsigned long *out)
{
  unsigned long v = 0;

  if (s == NULL) {
    *out = GRACE_DEFAULT_MS;
    return 0;
  }
  if (*s == '\0')
    return -1;
  for (; *s; s++) {
    if (*s < '0' || *s > '9')
      return -1;
    v = v * 10 + (unsigned long) (*s - '0');
    if (v > GRACE_MAX_MS)
      return -1;
  }
  *out = v;
  return 0;
}

/* Returns -1 when parsing succeeded, else the exit code. */
static int parse_args(int argc, char **argv, struct init *in)
{
  static const struct option longopts[] = {
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'V' },
    { NULL, 0, NULL, 0 },
  };
  int c;

  opterr = 0;
  /* "+": stop at the program's name, its own options are its own */
  while ((c = getopt_long(argc, argv, "+gsvhV", longopts, NULL)) != -1) {
    switch (c) {
    case 'g': in->group = true; break;
    case 's': in->want_subreaper = true; break;
    case 'v': in->verbose = true; break;
    case 'h': print_help(); return 0;
    case 'V': printf("berth-init version %s\n", BERTH_VERSION); return 0;
    default: {
      char opt[3] = { '-', (char) optopt, '\0' };
      return bad_usage("unknown option", optopt ? opt : argv[optind - 1]);
    }
    }
  }
  if (optind >= argc)
    return bad_usage("missing program", NULL);
  if (argv[optind][0] == '\0')
    return bad_usage("empty program name", NULL);
  in->argv = argv + optind;
  if (parse_grace(getenv(GRACE_ENV), &in->grace_ms) < 0)
    return bad_usage("invalid " GRACE_ENV " (milliseconds, 0 to 86400000):", getenv(GRACE_ENV));
  return -1;
}

static const char *signame(int sig)
{
#ifdef __GLIBC__
  const char *d = sigabbrev_np(sig);
  return d ? d : "?";
#else
  static const char *const names[] = {
    [SIGHUP] = "HUP",       [SIGINT] = "INT",   [SIGQUIT] = "QUIT",   [SIGILL] = "ILL",   [SIGTRAP] = "TRAP",
    [SIGABRT] = "ABRT",     [SIGBUS] = "BUS",   [SIGFPE] = "FPE",     [SIGKILL] = "KILL", [SIGUSR1] = "USR1",
    [SIGSEGV] = "SEGV",     [SIGUSR2] = "USR2", [SIGPIPE] = "PIPE",   [SIGALRM] = "ALRM", [SIGTERM] = "TERM",
    [SIGSTKFLT] = "STKFLT", [SIGCHLD] = "CHLD", [SIGCONT] = "CONT",   [SIGSTOP] = "STOP", [SIGTSTP] = "TSTP",
    [SIGTTIN] = "TTIN",     [SIGTTOU] = "TTOU", [SIGURG] = "URG",     [SIGXCPU] = "XCPU", [SIGXFSZ] = "XFSZ",
    [SIGVTALRM] = "VTALRM", [SIGPROF] = "PROF", [SIGWINCH] = "WINCH", [SIGIO] = "IO",     [SIGPWR] = "PWR",
    [SIGSYS] = "SYS",
  };
  return sig > 0 && sig < (int) (sizeof names / sizeof names[0]) && names[sig] ? names[sig] : "?";
#endif
}

/* In the child, between fork and exec: its own process group (the terminal's foreground
 * when we had the terminal, so that ^C and ^Z reach it and job control works), default
 * dispositions, nothing blocked. SIGTTOU is still blocked at tcsetpgrp(), so the call is
 * allowed from what is, for that instant, a background process group. */
static void __attribute__((noreturn)) exec_child(const struct init *in)
{
  sigset_t none;
  int sig, err;

  (void) setpgid(0, 0);
  if (in->tty >= 0 && tcsetpgrp(in->tty, getpid()) < 0)
    debug(in, "give the terminal to the program: %s", strerror(errno));
  for (sig = 1; sig < NSIG; sig++) {
    if (sig != SIGKILL && sig != SIGSTOP)
      (void) signal(sig, SIG_DFL); /* fails harmlessly for libc's reserved signals */
  }
  sigemptyset(&none);
  (void) sigprocmask(SIG_SETMASK, &none, NULL);

  execvp(in->argv[0], in->argv);
  err = errno;
  say("exec `%s`: %s", in->argv[0], strerror(err));
  _exit(err == ENOENT || err == ENOTDIR ? EXIT_NOT_FOUND : EXIT_CANNOT_RUN);
}

/* Block every signal we may catch (libc keeps its two reserved ones) and open a signalfd
 * for them; SIGKILL and SIGSTOP are silently left out by the kernel. Blocked signals are
 * queued even for PID 1 of a pid namespace, which otherwise drops default-action signals
 * sent from inside it. */
static int setup_signals(struct init *in)
{
  sigset_t all;

  sigfillset(&all);
  if (sigprocmask(SIG_SETMASK, &all, NULL) < 0) {
    say("block signals: %s", strerror(errno));
    return -1;
  }
  in->sfd = signalfd(-1, &all, SFD_CLOEXEC);
  if (in->sfd < 0) {
    say("signalfd: %s", strerror(errno));
    return -1;
  }
  return 0;
}

static void setup_reaper(struct init *in)
{
  in->pid1 = getpid() == 1;
  if (!in->pid1 || in->want_subreaper) {
    if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
      say("become a child subreaper: %s (orphans will not be reaped by berth-init)", strerror(errno));
    else
      debug(in, "child subreaper");
  }
  in->tty = -1;
  if (isatty(STDIN_FILENO) && tcgetpgrp(STDIN_FILENO) == getpgrp())
    in->tty = STDIN_FILENO;
}

/* Job control exists when we handed the terminal to the program and someone above us
 * (a shell) can resume us; as PID 1 there is nobody to hand a stop to. */
static bool job_control(const struct init *in) { return in->tty >= 0 && !in->pid1; }

static void note_exit(struct init *in, pid_t pid, int status)
{
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);

  if (pid != in->child) {
    debug(in, "reaped orphan %d (%s %d)", (int) pid, WIFEXITED(status) ? "exit" : "signal",
          WIFEXITED(status) ? code : WTERMSIG(status));
    return;
  }
  in->child_done = true;
  in->exit_code = code;
  if (WIFEXITED(status))
    debug(in, "program %d exited with %d", (int) pid, code);
  else
    debug(in, "program %d killed by SIG%s", (int) pid, signame(WTERMSIG(status)));
}

/* The program stopped (^Z, SIGTSTP, SIGTTIN/SIGTTOU): take the terminal back and stop
 * ourselves, so that the shell above sees its job stop. It resumes us with SIGCONT, which
 * the main loop hands on (terminal first, then the signal). */
static void follow_stop(struct init *in, int sig)
{
  debug(in, "program stopped by SIG%s, stopping too", signame(sig));
  if (tcgetpgrp(in->tty) == in->child)
    (void) tcsetpgrp(in->tty, getpgrp());
  (void) kill(getpid(), SIGSTOP);
}

/* SIGCHLD: reap everything that has exited, without blocking. */
static void reap(struct init *in)
{
  pid_t pid;
  int status;

  if (job_control(in) && !in->child_done) {
    pid = waitpid(in->child, &status, WNOHANG | WUNTRACED);
    if (pid == in->child && WIFSTOPPED(status))
      follow_stop(in, WSTOPSIG(status));
    else if (pid == in->child)
      note_exit(in, pid, status);
  }
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
    note_exit(in, pid, status);
}

static void forward(struct init *in, int sig)
{
  pid_t target = in->group ? -in->child : in->child;

  if (in->child_done) {
    debug(in, "SIG%s during shutdown: ignored", signame(sig));
    return;
  }
  /* resumed by the shell's `fg` or `bg`: the terminal stopped the program's whole group, so
   * the whole group continues; it gets the terminal back only if we have it (after `bg`
   * the shell keeps it) */
  if (sig == SIGCONT && job_control(in)) {
    if (tcgetpgrp(in->tty) == getpgrp())
      (void) tcsetpgrp(in->tty, in->child);
    target = -in->child;
  }
  if (kill(target, sig) < 0 && in->group && errno == ESRCH) {
    target = in->child; /* the program left its group */
    (void) kill(target, sig);
  }
  debug(in, "forwarded SIG%s to %d", signame(sig), (int) target);
}

/* Whether any child, exited or not, remains (without reaping it). */
static bool have_children(void)
{
  siginfo_t si;

  return waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) == 0;
}

/* One scan of /proc: the parent of every process. */
struct proc_scan {
  size_t n;
  bool sorted; /* procfs lists pids in ascending order: binary search then */
  pid_t pid[PROC_SCAN_MAX];
  pid_t ppid[PROC_SCAN_MAX];
  bool mark[PROC_SCAN_MAX];
};

static pid_t read_ppid(int procfd, const char *name)
{
  char path[64], buf[512], *p;
  ssize_t n;
  int fd;

  if ((size_t) snprintf(path, sizeof path, "%s/stat", name) >= sizeof path)
    return -1;
  fd = openat(procfd, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0)
    return -1;
  buf[n] = '\0';
  /* "pid (comm) S ppid ...": comm may hold anything, so look for the last ')' */
  p = strrchr(buf, ')');
  if (p == NULL || p[1] != ' ' || p[2] == '\0' || p[3] != ' ')
    return -1;
  return (pid_t) strtol(p + 4, NULL, 10);
}

/* the kernel's getdents64 record (the C libraries disagree on a wrapper) */
struct linux_dirent64 {
  uint64_t d_ino;
  int64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};

static int scan_proc(struct proc_scan *s)
{
  _Alignas(8) char dents[4096];
  ssize_t len, off;
  int procfd;

  procfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (procfd < 0)
    return -1;
  s->n = 0;
  s->sorted = true;
  while ((len = syscall(SYS_getdents64, procfd, dents, sizeof dents)) > 0) {
    for (off = 0; off < len;) {
      struct linux_dirent64 *d = (struct linux_dirent64 *) (dents + off);
      off += d->d_reclen;
      if (d->d_name[0] < '1' || d->d_name[0] > '9' || s->n == PROC_SCAN_MAX)
        continue;
      s->pid[s->n] = (pid_t) strtol(d->d_name, NULL, 10);
      if (s->n > 0 && s->pid[s->n] <= s->pid[s->n - 1])
        s->sorted = false;
      s->ppid[s->n] = read_ppid(procfd, d->d_name);
      s->mark[s->n] = false;
      s->n++;
    }
  }
  close(procfd);
  return 0;
}

static bool is_marked(const struct proc_scan *s, pid_t pid)
{
  size_t lo = 0, hi = s->n, i;

  if (!s->sorted) {
    for (i = 0; i < s->n; i++) {
      if (s->pid[i] == pid)
        return s->mark[i];
    }
    return false;
  }
  while (lo < hi) {
    i = lo + (hi - lo) / 2;
    if (s->pid[i] == pid)
      return s->mark[i];
    if (s->pid[i] < pid)
      lo = i + 1;
    else
      hi = i;
  }
  return false;
}

/* As a subreaper, "everything we leave behind" is our descendants: our children (adopted
 * or not) and theirs, from one scan of /proc. A process forked after the scan escapes this
 * round; kill_all() rescans after every SIGCHLD, so it is caught the next time. */
static int signal_descendants(struct init *in, int sig)
{
  static struct proc_scan scan; /* 200 KiB of bss, touched only at shutdown */
  pid_t self = getpid();
  bool grew = true;
  size_t i;
  int n = 0;

  if (scan_proc(&scan) < 0) {
    say("scan /proc: %s", strerror(errno));
    return -1;
  }
  while (grew) {
    grew = false;
    for (i = 0; i < scan.n; i++) {
      if (!scan.mark[i] && scan.ppid[i] > 0 && (scan.ppid[i] == self || is_marked(&scan, scan.ppid[i]))) {
        scan.mark[i] = true;
        grew = true;
      }
    }
  }
  for (i = 0; i < scan.n; i++) {
    if (scan.mark[i] && kill(scan.pid[i], sig) == 0)
      n++;
  }
  return n;
}

/* Signal everything the program left: the whole pid namespace when we are its PID 1
 * (kill(-1) spares the caller), else our descendants. */
static void signal_rest(struct init *in, int sig)
{
  if (in->pid1) {
    (void) kill(-1, sig);
    debug(in, "SIG%s to every process of the pid namespace", signame(sig));
  } else {
    int n = signal_descendants(in, sig);
    if (n >= 0)
      debug(in, "SIG%s to %d descendant%s", signame(sig), n, n == 1 ? "" : "s");
  }
}

static int read_signal(struct init *in)
{
  struct signalfd_siginfo si;
  ssize_t n;

  do
    n = read(in->sfd, &si, sizeof si);
  while (n < 0 && errno == EINTR);
  if (n != (ssize_t) sizeof si) {
    say("read signalfd: %s", n < 0 ? strerror(errno) : "short read");
    return -1;
  }
  return (int) si.ssi_signo;
}

/* Wait until no child is left or the grace period is over. Returns 0 when none is left. */
static int wait_grace(struct init *in)
{
  struct itimerspec its = {
    .it_value = { .tv_sec = (time_t) (in->grace_ms / 1000),
                  .tv_nsec = (long) (in->grace_ms % 1000) * 1000000L },
  };
  struct pollfd fds[2];
  int tfd, sig, rc = 1;

  tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
  if (tfd < 0 || timerfd_settime(tfd, 0, &its, NULL) < 0) {
    say("grace timer: %s (no grace period)", strerror(errno));
    if (tfd >= 0)
      close(tfd);
    return 1;
  }
  fds[0] = (struct pollfd){ .fd = in->sfd, .events = POLLIN };
  fds[1] = (struct pollfd){ .fd = tfd, .events = POLLIN };
  for (;;) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR)
        continue;
      say("poll: %s", strerror(errno));
      break;
    }
    if (fds[0].revents & POLLIN) {
      sig = read_signal(in);
      if (sig < 0)
        break;
      if (sig != SIGCHLD) {
        forward(in, sig);
        continue;
      }
      reap(in);
      if (!have_children()) {
        rc = 0;
        break;
      }
    }
    if (fds[1].revents & POLLIN) {
      debug(in, "grace period of %lu ms over", in->grace_ms);
      break;
    }
  }
  close(tfd);
  return rc;
}

/* SIGKILL whatever is left until no child remains: after each SIGCHLD, scan and kill again
 * (orphans of the killed processes are reparented to us meanwhile). */
static void kill_all(struct init *in)
{
  int sig;

  for (;;) {
    signal_rest(in, SIGKILL);
    reap(in);
    if (!have_children())
      return;
    do
      sig = read_signal(in);
    while (sig >= 0 && sig != SIGCHLD);
    if (sig < 0)
      return;
  }
}

/* The program has exited: give what it left a grace period, then kill it; reap it all. */
static void shutdown_rest(struct init *in)
{
  if (in->tty >= 0 && tcgetpgrp(in->tty) == in->child)
    (void) tcsetpgrp(in->tty, getpgrp()); /* SIGTTOU is blocked: allowed from the background */
  reap(in);
  if (!have_children())
    return;
  if (in->grace_ms > 0) {
    signal_rest(in, SIGTERM);
    signal_rest(in, SIGCONT); /* a stopped process cannot act on SIGTERM */
    if (wait_grace(in) == 0)
      return;
  }
  kill_all(in);
}

static int supervise(struct init *in)
{
  int sig;

  while (!in->child_done) {
    sig = read_signal(in);
    if (sig < 0)
      return -1;
    if (sig == SIGCHLD)
      reap(in);
    else
      forward(in, sig);
  }
  shutdown_rest(in);
  return 0;
}

int main(int argc, char **argv)
{
  struct init in = { .sfd = -1, .tty = -1, .child = -1 };
  int rc;

  rc = parse_args(argc, argv, &in);
  if (rc >= 0)
    return rc;
  if (setup_signals(&in) < 0)
    return EXIT_INTERNAL;
  setup_reaper(&in);

  in.child = fork();
  if (in.child < 0) {
    say("fork: %s", strerror(errno));
    return EXIT_INTERNAL;
  }
  if (in.child == 0)
    exec_child(&in);
  (void) setpgid(in.child, in.child); /* also here: -g may signal the group before the child ran */
  debug(&in, "started `%s` as %d%s", in.argv[0], (int) in.child, in.pid1 ? " (berth-init is pid 1)" : "");

  if (supervise(&in) < 0) {
    /* the signalfd broke: kill the program rather than leave it unsupervised */
    (void) kill(in.child, SIGKILL);
    return EXIT_INTERNAL;
  }
  debug(&in, "exit %d", in.exit_code);
  return in.exit_code;
}
