/* berth attach / container attach, and the attached loop of run and start -a. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "container_cmd.h"
#include "engine/monitor/monitor.h"

static const int proxied[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };

struct stream {
  struct berth_engine *e;
  const char *id;
  struct berth_ctr_attach *a;
  const struct stream_opts *o;
  int sigfd;
  bool stdin_open;
  bool raw;
  struct termios saved;
  int exit_code; /* -1 until EXIT */
  struct detach_keys dk;
  bool detached;
};

static void send_size(struct stream *s)
{
  struct winsize ws;
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0 && ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) < 0)
    return;
  char text[32];
  int n = snprintf(text, sizeof text, "%u %u", ws.ws_row, ws.ws_col);
  berth_ignore(berth_ctr_attach_send(s->a, BERTH_ATTACH_RESIZE, text, (size_t) n, BERTH_IGNORED));
}

static int setup(struct stream *s)
{
  sigset_t set;
  sigemptyset(&set);
  for (size_t i = 0; s->o->sig_proxy && i < BERTH_N_ELEMENTS(proxied); i++)
    sigaddset(&set, proxied[i]);
  if (s->o->tty)
    sigaddset(&set, SIGWINCH);
  sigprocmask(SIG_BLOCK, &set, NULL);
  s->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (s->o->tty && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &s->saved) == 0) {
    struct termios raw = s->saved;
    cfmakeraw(&raw);
    s->raw = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
  }
  if (s->o->tty)
    send_size(s);
  return s->sigfd < 0 ? -1 : 0;
}

static void teardown(struct stream *s)
{
  if (s->raw)
    tcsetattr(STDIN_FILENO, TCSANOW, &s->saved);
  if (s->sigfd >= 0)
    close(s->sigfd);
  sigset_t set;
  sigemptyset(&set);
  for (size_t i = 0; i < BERTH_N_ELEMENTS(proxied); i++)
    sigaddset(&set, proxied[i]);
  sigaddset(&set, SIGWINCH);
  sigprocmask(SIG_UNBLOCK, &set, NULL);
}

static void on_signal(struct stream *s)
{
  struct signalfd_siginfo si;
  while (read(s->sigfd, &si, sizeof si) == (ssize_t) sizeof si) {
    if ((int) si.ssi_signo == SIGWINCH) {
      send_size(s);
      continue;
    }
    berth_ignore(berth_ctr_kill(s->e, s->id, (int) si.ssi_signo, BERTH_IGNORED));
  }
}

static void on_stdin(struct stream *s)
{
  char in[BERTH_ATTACH_MSG_MAX - 1 - BERTH_DETACH_KEYS_MAX], buf[BERTH_ATTACH_MSG_MAX - 1];
  ssize_t n = read(STDIN_FILENO, in, sizeof in);
  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return;
  size_t len = n > 0 ? (size_t) n : 0;
  if (n > 0 && s->o->tty) /* the detach keys: with a terminal only, as Docker */
    len = detach_keys_filter(&s->dk, in, (size_t) n, buf, &s->detached);
  else if (n > 0)
    memcpy(buf, in, len);
  berth_error_t ignore = NULL;
  if (s->detached || (n > 0 && len == 0)) /* detached, or all held back for now */
    return;
  int r = n > 0 ? berth_ctr_attach_send(s->a, BERTH_ATTACH_STDIN, buf, len, &ignore)
                : berth_ctr_attach_send(s->a, BERTH_ATTACH_STDIN_CLOSE, NULL, 0, &ignore);
  if (r < 0)
    berth_error_release(&ignore);
  if (n <= 0)
    s->stdin_open = false;
}

/* one message from the monitor; false when the stream ended */
static bool on_socket(struct stream *s)
{
  char msg[BERTH_ATTACH_MSG_MAX + 1];
  ssize_t n = recv(s->a->fd, msg, sizeof msg - 1, MSG_DONTWAIT);
  /* ECONNRESET: the monitor closed with a message of ours unread; the error comes before the
   * messages still queued for us (EXIT among them), which the next recv returns */
  if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == ECONNRESET))
    return true;
  if (n <= 0)
    return false;
  msg[n] = '\0';
  switch (msg[0]) {
  case BERTH_ATTACH_STDOUT: berth_write_all(STDOUT_FILENO, msg + 1, (size_t) n - 1); break;
  case BERTH_ATTACH_STDERR: berth_write_all(STDERR_FILENO, msg + 1, (size_t) n - 1); break;
  case BERTH_ATTACH_EXIT: s->exit_code = atoi(msg + 1); return false;
  case BERTH_ATTACH_EXITED: {    /* we asked to record exits (BERTH_ATTACH_WANT_RECORD) */
    berth_error_t ignore = NULL; /* the monitor's handler tries again and reports */
    if (berth_ctr_attach_record(s->e, s->a, s->id, msg + 1, &ignore) < 0)
      berth_error_release(&ignore);
    break;
  }
  default: break;
  }
  return true;
}

int cli_stream(struct berth_engine *e, const char *id, struct berth_ctr_attach *a,
               const struct stream_opts *o, int *exit_code, berth_error_t *err)
{
  struct stream s = {
    .e = e, .id = id, .a = a, .o = o, .sigfd = -1, .stdin_open = o->stdin_on, .exit_code = -1
  };
  if (o->tty && detach_keys_init(&s.dk, o->detach_keys, err) < 0)
    return -1;
  if (setup(&s) < 0) {
    teardown(&s);
    return BERTH_ERR_ERRNO(err, "attach: signalfd");
  }
  for (;;) {
    struct pollfd pf[3] = { { .fd = a->fd, .events = POLLIN },
                            { .fd = s.sigfd, .events = POLLIN },
                            { .fd = s.stdin_open ? STDIN_FILENO : -1, .events = POLLIN } };
    if (poll(pf, 3, -1) < 0 && errno != EINTR)
      break;
    if (pf[1].revents & POLLIN)
      on_signal(&s);
    if (pf[2].revents & (POLLIN | POLLHUP | POLLERR))
      on_stdin(&s);
    if (s.detached)
      break;
    if ((pf[0].revents & (POLLIN | POLLHUP | POLLERR)) && !on_socket(&s))
      break;
  }
  teardown(&s);
  if (s.detached)
    return CLI_STREAM_DETACHED;
  if (s.exit_code >= 0) {
    *exit_code = s.exit_code;
    return 0;
  }
  int64_t code = 0; /* the monitor went away without telling: what was recorded */
  if (berth_ctr_wait(e, id, &code, err) < 0)
    return -1;
  *exit_code = (int) code;
  return 0;
}

int cmd_attach(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  bool no_stdin = false, sig_proxy = true;
  const char *detach_keys = NULL;
  const struct berth_cli_opt opts[] = {
    { "detach-keys", 0, BERTH_CLI_STRING, &detach_keys, "string",
      "Override the key sequence for detaching a container" },
    { "no-stdin", 0, BERTH_CLI_BOOL, &no_stdin, NULL, "Do not attach STDIN" },
    { "sig-proxy", 0, BERTH_CLI_BOOL, &sig_proxy, NULL,
      "Proxy all received signals to the process (default true)" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  int r = cli_parse(ctx, argc, argv, opts, "berth attach [OPTIONS] CONTAINER",
                    "Attach local standard input, output, and error streams to a running container", err);
  if (r != 0 || cli_want_args(ctx, 1, 1, "CONTAINER", err) < 0)
    return r > 0 ? 0 : -1;
  struct berth_engine *e = NULL;
  struct berth_ctr c = { 0 };
  struct berth_ctr_attach a = { .fd = -1 };
  int code = 0;
  if (cli_open_engine(ctx, &e, err) < 0 || berth_ctr_get(e, ctx->argv[0], &c, err) < 0) {
    berth_engine_close(e);
    return -1;
  }
  bool tty = json_is_true(json_object_get(c.config, "Tty"));
  bool in = !no_stdin && json_is_true(json_object_get(c.config, "OpenStdin"));
  struct stream_opts so = {
    .tty = tty, .stdin_on = in, .sig_proxy = sig_proxy && !tty, .detach_keys = detach_keys
  };
  unsigned want = BERTH_ATTACH_WANT_STDOUT | BERTH_ATTACH_WANT_STDERR | (in ? BERTH_ATTACH_WANT_STDIN : 0);
  if (c.state != BERTH_CTR_RUNNING && c.state != BERTH_CTR_PAUSED)
    r = BERTH_ERR(err, "you cannot attach to a stopped container, start it first");
  else
    r = berth_ctr_attach_connect(&c, want, &a, err) < 0 ? -1 : cli_stream(e, c.row.id, &a, &so, &code, err);
  if (r == CLI_STREAM_DETACHED)
    r = code = 0;
  berth_ctr_attach_close(&a);
  berth_ctr_release(&c);
  berth_engine_close(e);
  return r < 0 ? -1 : code;
}
