/* berth-monitor: the OCI runtime's create and start, and the berth handler runs. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "monitor.h"

#define ERRBUF 4096

/* output collected from a runtime command (its error message) */
struct errbuf {
  char text[ERRBUF];
  size_t len;
};

/* one read(2) into the buffer (what does not fit is dropped); returns what read(2) returned */
static ssize_t errbuf_read(struct errbuf *b, int fd)
{
  char tmp[4096];
  ssize_t n = read(fd, tmp, sizeof tmp);
  if (n <= 0)
    return n;
  size_t room = sizeof b->text - 1 - b->len;
  size_t k = (size_t) n < room ? (size_t) n : room;
  memcpy(b->text + b->len, tmp, k);
  b->len += k;
  b->text[b->len] = '\0';
  return n;
}

/* read a blocking fd to its end */
static void errbuf_drain(struct errbuf *b, int fd)
{
  for (;;) {
    ssize_t n = errbuf_read(b, fd);
    if (n == 0 || (n < 0 && errno != EINTR))
      return;
  }
}

/* the last non-empty line, trimmed (runtimes print the error last) */
static void errbuf_message(const struct errbuf *b, char *msg, size_t msglen, const char *fallback)
{
  size_t end = b->len;
  while (end > 0 && (b->text[end - 1] == '\n' || b->text[end - 1] == '\r' || b->text[end - 1] == ' '))
    end--;
  size_t start = end;
  while (start > 0 && b->text[start - 1] != '\n')
    start--;
  if (end == start)
    snprintf(msg, msglen, "%s", fallback);
  else
    snprintf(msg, msglen, "%.*s", (int) (end - start), b->text + start);
}

static void child_exec(const char *const *argv, int in, int out, int errfd)
{
  if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(errfd, 2) < 0)
    _exit(125);
  /* the runtime enters the container: nothing of ours but stdio (CVE-2016-9962); without
   * close_range (< 5.9) every descriptor of ours is close-on-exec anyway */
  (void) syscall(SYS_close_range, 3U, ~0U, 0U);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  signal(SIGPIPE, SIG_DFL);
  execv(argv[0], (char *const *) argv);
  dprintf(2, "exec `%s`: %s\n", argv[0], strerror(errno));
  _exit(127);
}

pid_t mon_spawn(const char *const *argv, int in, int out, int errfd)
{
  pid_t pid = fork();
  if (pid == 0)
    child_exec(argv, in, out, errfd);
  return pid;
}

size_t mon_runtime_argv(struct mon *m, const char **argv, size_t max, const char *const *tail)
{
  size_t n = 0;
  argv[n++] = m->runtime;
  for (size_t i = 0; i < m->n_rt_args && n + 1 < max; i++)
    argv[n++] = m->rt_args[i];
  for (size_t i = 0; tail[i] && n + 1 < max; i++)
    argv[n++] = tail[i];
  argv[n] = NULL;
  return n;
}

static int wait_pid(pid_t pid)
{
  int st = 0;
  while (waitpid(pid, &st, 0) < 0)
    if (errno != EINTR)
      return -1;
  return st;
}

/* a runtime command with stdin/stdout /dev/null and stderr collected; returns the wait status */
static int run_runtime(struct mon *m, const char *const *tail, struct errbuf *eb)
{
  const char *argv[MON_MAX_ARGS + 16];
  mon_runtime_argv(m, argv, MON_MAX_ARGS + 16, tail);
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0)
    return -1;
  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  pid_t pid = mon_spawn(argv, devnull, devnull, p[1]);
  close(p[1]);
  close(devnull);
  errbuf_drain(eb, p[0]);
  close(p[0]);
  return pid < 0 ? -1 : wait_pid(pid);
}

static int make_pipes(struct mon *m, int child[3])
{
  int o[2], e[2], i[2] = { -1, -1 };
  if (pipe2(o, O_CLOEXEC) < 0)
    return -1;
  if (pipe2(e, O_CLOEXEC) < 0 || (m->open_stdin && pipe2(i, O_CLOEXEC) < 0)) {
    close(o[0]);
    close(o[1]);
    return -1;
  }
  m->out_fd = o[0];
  m->err_fd = e[0];
  fcntl(o[0], F_SETFL, O_NONBLOCK);
  fcntl(e[0], F_SETFL, O_NONBLOCK);
  child[1] = o[1];
  child[2] = e[1];
  if (m->open_stdin) {
    m->in_fd = i[1];
    fcntl(i[1], F_SETFL, O_NONBLOCK);
    child[0] = i[0];
  } else {
    child[0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
  }
  return 0;
}

static int console_listen(struct mon *m, char *path, size_t len)
{
  snprintf(path, len, "%s/%s", m->rundir, BERTH_MON_CONSOLE_SOCK);
  unlink(path);
  struct sockaddr_un sa;
  int dirfd;
  if (mon_sun_addr(path, &sa, &dirfd) < 0)
    return -1;
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd >= 0 && (bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0 || listen(fd, 1) < 0)) {
    int e = errno;
    close(fd);
    fd = -1;
    errno = e;
  }
  if (dirfd >= 0)
    close(dirfd);
  return fd;
}

/* the pty master the runtime sends on the console socket */
static int console_recv(int lfd)
{
  int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
  if (c < 0)
    return -1;
  char data[256];
  char ctl[CMSG_SPACE(sizeof(int))];
  struct iovec iov = { .iov_base = data, .iov_len = sizeof data };
  struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl };
  ssize_t n = recvmsg(c, &mh, MSG_CMSG_CLOEXEC);
  close(c);
  struct cmsghdr *cm = n >= 0 ? CMSG_FIRSTHDR(&mh) : NULL;
  if (cm == NULL || cm->cmsg_type != SCM_RIGHTS)
    return -1;
  int fd;
  memcpy(&fd, CMSG_DATA(cm), sizeof fd);
  return fd;
}

/* One `run --detach` of the runtime: it creates and starts the container and returns. Its
 * stdio is the container's: when it fails, what arrived is its error message; when it
 * succeeds, what arrived is the container's first output, kept (up to a buffer each; the
 * container waits for the rest) and delivered once the run returned. */
struct create_run {
  pid_t pid;
  int status;
  bool done;
  int console_lfd;       /* terminal: the console socket */
  int errfd;             /* terminal: the runtime's stdout and stderr */
  bool eof[2];           /* stop polling these (end of file) */
  struct errbuf out, eb; /* stdout (terminal: unused), stderr (terminal: errfd) */
};

/* read what fits into b; returns false at the end of fd (or on an error) */
static bool keep_read(struct errbuf *b, int fd)
{
  size_t room = sizeof b->text - 1 - b->len;
  ssize_t n = read(fd, b->text + b->len, room);
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return true;
  if (n <= 0)
    return false;
  b->len += (size_t) n;
  b->text[b->len] = '\0';
  return true;
}

static bool has_room(const struct errbuf *b) { return b->len + 1 < sizeof b->text; }

static void create_poll(struct mon *m, struct create_run *cr)
{
  int out = m->terminal ? cr->errfd : m->out_fd;
  struct pollfd pf[4] = {
    { .fd = m->sigfd, .events = POLLIN },
    { .fd = cr->eof[0] || !has_room(m->terminal ? &cr->eb : &cr->out) ? -1 : out, .events = POLLIN },
    { .fd = cr->eof[1] || m->terminal || !has_room(&cr->eb) ? -1 : m->err_fd, .events = POLLIN },
    { .fd = cr->console_lfd, .events = POLLIN },
  };
  if (poll(pf, 4, -1) < 0)
    return;
  if (pf[0].revents & POLLIN) {
    struct signalfd_siginfo si;
    while (read(m->sigfd, &si, sizeof si) > 0)
      ;
    int st;
    if (!cr->done && waitpid(cr->pid, &st, WNOHANG) == cr->pid) {
      cr->done = true;
      cr->status = st;
    }
  }
  if ((pf[1].revents & (POLLIN | POLLHUP)) && !keep_read(m->terminal ? &cr->eb : &cr->out, pf[1].fd))
    cr->eof[0] = true; /* the container closed it (or, terminal, the runtime's end) */
  if ((pf[2].revents & (POLLIN | POLLHUP)) && !keep_read(&cr->eb, pf[2].fd))
    cr->eof[1] = true;
  if (pf[3].revents & POLLIN) {
    m->out_fd = console_recv(cr->console_lfd);
    m->in_fd = m->out_fd >= 0 ? fcntl(m->out_fd, F_DUPFD_CLOEXEC, 0) : -1;
    if (m->out_fd >= 0) {
      struct winsize ws = { .ws_row = 24, .ws_col = 80 };
      ioctl(m->out_fd, TIOCSWINSZ, &ws);
      fcntl(m->out_fd, F_SETFL, O_NONBLOCK);
      fcntl(m->in_fd, F_SETFL, O_NONBLOCK);
    }
    close(cr->console_lfd);
    cr->console_lfd = -1;
  }
}

static int read_pid_file(struct mon *m)
{
  char path[4096], buf[32];
  snprintf(path, sizeof path, "%s/%s", m->rundir, BERTH_MON_PID_FILE);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0)
    return -1;
  buf[n] = '\0';
  long v = strtol(buf, NULL, 10);
  return v > 0 ? (int) v : -1;
}

void mon_close_stdio(struct mon *m)
{
  int *fds[] = { &m->out_fd, &m->err_fd, &m->in_fd };
  for (size_t i = 0; i < 3; i++) {
    if (*fds[i] >= 0)
      close(*fds[i]);
    *fds[i] = -1;
  }
}

static int fail(int *code, char *msg, size_t msglen, int c, const char *text)
{
  if (text != msg)
    snprintf(msg, msglen, "%s", text);
  *code = c ? c : berth_ctr_start_error_code(text);
  return -1;
}

static int run_create(struct mon *m, struct create_run *cr, int child[3])
{
  char console[4096], pidfile[4096];
  snprintf(pidfile, sizeof pidfile, "%s/%s", m->rundir, BERTH_MON_PID_FILE);
  unlink(pidfile);
  const char *tail[] = { "run",   "--detach", "--bundle", m->bundle, "--pid-file",
                         pidfile, m->id,      NULL,       NULL,      NULL };
  if (m->terminal) {
    tail[6] = "--console-socket";
    tail[7] = console;
    tail[8] = m->id;
    cr->console_lfd = console_listen(m, console, sizeof console);
    if (cr->console_lfd < 0)
      return -1;
  }
  const char *argv[MON_MAX_ARGS + 16];
  mon_runtime_argv(m, argv, MON_MAX_ARGS + 16, tail);
  cr->pid = mon_spawn(argv, child[0], child[1], child[2]);
  return cr->pid < 0 ? -1 : 0;
}

/* the runtime's error: the last line it wrote on stderr (or, without one, on stdout) */
static int run_failed(struct mon *m, struct create_run *cr, int *code, char *msg, size_t msglen,
                      const char *fallback)
{
  errbuf_message(cr->eb.len ? &cr->eb : &cr->out, msg, msglen, fallback);
  const char *del[] = { "delete", "--force", m->id, NULL }; /* if it left the container behind */
  struct errbuf ignored = { .len = 0 };
  run_runtime(m, del, &ignored);
  mon_close_stdio(m);
  return fail(code, msg, msglen, 0, msg);
}

int mon_start_container(struct mon *m, int *code, char *msg, size_t msglen)
{
  struct create_run cr = { .console_lfd = -1, .errfd = -1 };
  int child[3] = { -1, -1, -1 }, ep[2] = { -1, -1 };
  m->out_fd = m->err_fd = m->in_fd = -1;
  m->exited = false;
  m->init_pid = 0;
  if (m->terminal) {
    if (pipe2(ep, O_CLOEXEC) < 0)
      return fail(code, msg, msglen, 125, "monitor: pipe failed");
    child[0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
    child[1] = fcntl(ep[1], F_DUPFD_CLOEXEC, 0);
    child[2] = ep[1];
    cr.errfd = ep[0];
    fcntl(ep[0], F_SETFL, O_NONBLOCK); /* the container's init may hold the other end until it execs */
  } else if (make_pipes(m, child) < 0) {
    return fail(code, msg, msglen, 125, "monitor: pipe failed");
  }
  int r = run_create(m, &cr, child);
  for (int i = 0; i < 3; i++)
    close(child[i]);
  if (r < 0) {
    if (cr.errfd >= 0)
      close(cr.errfd);
    return fail(code, msg, msglen, 125, "monitor: cannot run the OCI runtime");
  }
  while (!cr.done)
    create_poll(m, &cr);
  if (cr.console_lfd >= 0)
    close(cr.console_lfd);
  if (cr.errfd >= 0) {
    if (!cr.eof[0])
      errbuf_drain(&cr.eb, cr.errfd);
    close(cr.errfd);
  }
  if (!WIFEXITED(cr.status) || WEXITSTATUS(cr.status) != 0)
    return run_failed(m, &cr, code, msg, msglen, "OCI runtime run failed");
  m->init_pid = read_pid_file(m);
  if (m->init_pid <= 0 || (m->terminal && m->out_fd < 0))
    return run_failed(m, &cr, code, msg, msglen,
                      m->init_pid <= 0 ? "no pid file from the OCI runtime"
                                       : "no terminal from the OCI runtime");
  if (!m->terminal) { /* the container's first output */
    mon_deliver(m, BERTH_LOG_STDOUT, cr.out.text, cr.out.len);
    mon_deliver(m, BERTH_LOG_STDERR, cr.eb.text, cr.eb.len);
  }
  return 0;
}

int mon_run_handler(struct mon *m, const char *verb, const char *const *args, char *out, size_t outlen)
{
  const char *argv[MON_MAX_ARGS + 8];
  size_t n = 0;
  for (size_t i = 0; i < m->n_handler; i++)
    argv[n++] = m->handler[i];
  argv[n++] = verb;
  argv[n++] = m->id;
  for (size_t i = 0; args[i] && n + 1 < sizeof argv / sizeof *argv; i++)
    argv[n++] = args[i];
  argv[n] = NULL;
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0)
    return -1;
  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  pid_t pid = mon_spawn(argv, devnull, p[1], 2);
  close(p[1]);
  close(devnull);
  struct errbuf eb = { .len = 0 };
  errbuf_drain(&eb, p[0]);
  close(p[0]);
  int st = pid < 0 ? -1 : wait_pid(pid);
  if (out) {
    size_t k = strcspn(eb.text, "\n");
    snprintf(out, outlen, "%.*s", (int) k, eb.text);
  }
  if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
    mon_log_msg("handler %s failed (wait status %d)", verb, st);
    return -1;
  }
  return 0;
}
