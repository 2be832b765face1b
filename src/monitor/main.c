/* berth-monitor (see monitor.h): arguments, the start handshake with berth, the restart loop.
 *
 *   berth-monitor --id ID --bundle DIR --rundir DIR --runtime PATH [--runtime-arg ARG]...
 *                 --log FILE [--log-max-size BYTES] [--log-max-files N]
 *                 [--terminal] [--stdin] [--stdin-once] [--auto-remove] --sync-fd FD --handler ARG...
 *
 * Exit status: 0 after the container stopped for good (or berth went away before GO), 1 when it
 * could not start, 2 on bad arguments. Its stderr (diagnostics) goes to the container's
 * monitor.log. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "monitor.h"

static int parse_u64(const char *s, uint64_t *out)
{
  char *end = NULL;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || end == s || *end || *s == '-')
    return -1;
  *out = v;
  return 0;
}

static int add_arg(const char **v, size_t *n, const char *a)
{
  if (*n + 1 >= MON_MAX_ARGS)
    return -1;
  v[(*n)++] = a;
  return 0;
}

/* --health-interval NS, -timeout NS, -start-period NS, -start-interval NS, -retries N */
static int health_option(struct mon *m, const char *name, int64_t v)
{
  struct mon_health *h = &m->health;
  int64_t *slot = strcmp(name, "interval") == 0         ? &h->interval
                  : strcmp(name, "timeout") == 0        ? &h->timeout
                  : strcmp(name, "start-period") == 0   ? &h->start_period
                  : strcmp(name, "start-interval") == 0 ? &h->start_interval
                  : strcmp(name, "retries") == 0        ? &h->retries
                                                        : NULL;
  if (slot == NULL)
    return -1;
  *slot = v;
  return 0;
}

static int parse_option(struct mon *m, const char *a, const char *v)
{
  uint64_t u = 0;
  if (strcmp(a, "--id") == 0)
    m->id = v;
  else if (strcmp(a, "--bundle") == 0)
    m->bundle = v;
  else if (strcmp(a, "--rundir") == 0)
    m->rundir = v;
  else if (strcmp(a, "--runtime") == 0)
    m->runtime = v;
  else if (strcmp(a, "--log") == 0)
    m->log_path = v;
  else if (strcmp(a, "--runtime-arg") == 0)
    return add_arg(m->rt_args, &m->n_rt_args, v);
  else if (strcmp(a, "--handler") == 0)
    return add_arg(m->handler, &m->n_handler, v);
  else if (strcmp(a, "--log-max-size") == 0 && parse_u64(v, &u) == 0)
    m->log_max_size = u;
  else if (strcmp(a, "--log-max-files") == 0 && parse_u64(v, &u) == 0 && u > 0 && u < 1000)
    m->log_max_files = (unsigned) u;
  else if (strcmp(a, "--sync-fd") == 0 && parse_u64(v, &u) == 0 && u < 65536)
    m->sync_fd = (int) u;
  else if (strcmp(a, "--health-process") == 0)
    m->health.process = v;
  else if (strncmp(a, "--health-", 9) == 0 && parse_u64(v, &u) == 0 && u < INT64_MAX)
    return health_option(m, a + 9, (int64_t) u);
  else
    return -1;
  return 0;
}

static int parse_args(struct mon *m, int argc, char **argv)
{
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--terminal") == 0)
      m->terminal = true;
    else if (strcmp(a, "--stdin") == 0)
      m->open_stdin = true;
    else if (strcmp(a, "--stdin-once") == 0)
      m->stdin_once = true;
    else if (strcmp(a, "--auto-remove") == 0)
      m->auto_remove = true;
    else if (i + 1 >= argc || parse_option(m, a, argv[i + 1]) < 0) {
      mon_log_msg("invalid argument `%s`", a);
      return -1;
    } else
      i++;
  }
  if (!m->id || !m->bundle || !m->rundir || !m->runtime || !m->log_path || m->sync_fd < 0 || !m->n_handler) {
    mon_log_msg("missing arguments (see src/monitor/main.c)");
    return -1;
  }
  return 0;
}

static void sync_send(struct mon *m, char type, const char *text)
{
  char msg[4200];
  int n = snprintf(msg, sizeof msg, "%c%s", type, text ? text : "");
  if (m->sync_fd >= 0 &&
      send(m->sync_fd, msg, (size_t) (n < (int) sizeof msg ? n : (int) sizeof msg - 1), MSG_NOSIGNAL) < 0)
    mon_log_msg("tell berth `%c`: %s", type, strerror(errno));
}

/* the next message from berth: its type, or 0 when berth went away */
static char sync_recv(struct mon *m)
{
  char msg[64];
  ssize_t n;
  do
    n = recv(m->sync_fd, msg, sizeof msg, 0);
  while (n < 0 && errno == EINTR);
  return n > 0 ? msg[0] : 0;
}

static int setup(struct mon *m)
{
  signal(SIGPIPE, SIG_IGN);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  m->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  /* terminal hang-ups and stray signals must not end the container's keeper */
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGQUIT);
  sigprocmask(SIG_BLOCK, &set, NULL);
  if (m->sigfd < 0 || prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
    return -1;
  int r = berth_logw_open(&mon_log, m->log_path, m->log_max_size, m->log_max_files);
  if (r < 0) {
    errno = -r;
    return -1;
  }
  if (mon_listen(m) < 0)
    return -1;
  /* its own pid, for a unit's PIDFile (`berth generate systemd`): the monitor lives as long as
   * the container, restarts included */
  char path[4096], pid[24];
  snprintf(path, sizeof path, "%s/%s", m->rundir, BERTH_MON_SELF_PID_FILE);
  int n = snprintf(pid, sizeof pid, "%d\n", (int) getpid());
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0 || write(fd, pid, (size_t) n) != n) {
    if (fd >= 0)
      close(fd);
    return -1;
  }
  return close(fd);
}

static int exit_code(int status)
{
  if (WIFEXITED(status))
    return WEXITSTATUS(status);
  if (WIFSIGNALED(status))
    return 128 + WTERMSIG(status);
  return 255;
}

/* --rm: what this mount namespace holds of the container goes before the handler removes its
 * directories — the rootfs, and the network namespace pinned at <rundir>/netns (a mount point
 * here, so its unlink would fail with EBUSY) */
static void unmount_rootfs(const struct mon *m)
{
  char path[4096];
  snprintf(path, sizeof path, "%s/rootfs", m->bundle);
  umount2(path, 0);
  snprintf(path, sizeof path, "%s/netns", m->rundir);
  umount2(path, MNT_DETACH);
}

/* Record an exit (or a failed restart: msg) through an attached client that records exits, else
 * the handler; tell the clients; true: restart. With --rm there is no restart: the mounts go
 * first, so that the overlay no longer uses the upper dir that the removal deletes. */
static bool after_exit(struct mon *m, int code, const char *msg)
{
  char codes[16], pid[16], decision[128] = "";
  snprintf(codes, sizeof codes, "%d", code);
  snprintf(pid, sizeof pid, "%d", msg ? 0 : (int) m->init_pid);
  if (m->auto_remove)
    unmount_rootfs(m);
  if (msg || !mon_client_record(m, code, decision, sizeof decision)) {
    const char *args[] = { codes, pid, msg, NULL };
    mon_run_handler(m, "--internal-exited", args, decision, sizeof decision);
  }
  mon_broadcast(m, BERTH_ATTACH_EXIT, codes, strlen(codes), 0);
  mon_close_clients(m);
  uint64_t ms = 0;
  if (strncmp(decision, "restart ", 8) != 0 || parse_u64(decision + 8, &ms) < 0 || m->cancel)
    return false;
  return mon_sleep(m, (int64_t) ms);
}

static void run_loop(struct mon *m)
{
  for (;;) {
    mon_serve(m);
    int code = exit_code(m->status);
    if (!after_exit(m, code, NULL))
      return;
    for (;;) {
      char msg[2048];
      if (mon_start_container(m, &code, msg, sizeof msg) == 0) {
        char pid[16];
        snprintf(pid, sizeof pid, "%d", (int) m->init_pid);
        const char *args[] = { pid, NULL };
        mon_run_handler(m, "--internal-started", args, NULL, 0);
        break;
      }
      if (!after_exit(m, code, msg))
        return;
    }
  }
}

/* READY, GO, start, STARTED/FAILED, ACK; false when there is nothing to run */
static bool first_start(struct mon *m)
{
  char self[16];
  snprintf(self, sizeof self, "%d", (int) getpid());
  sync_send(m, BERTH_MON_READY, self);
  if (sync_recv(m) != BERTH_MON_GO)
    return false;
  mon_read_hellos(m);
  int code = 0;
  char msg[2048], text[2100];
  if (mon_start_container(m, &code, msg, sizeof msg) < 0) {
    mon_log_msg("start: %s", msg);
    snprintf(text, sizeof text, "%d %s", code, msg);
    sync_send(m, BERTH_MON_FAILED, text);
    return false;
  }
  snprintf(text, sizeof text, "%d", (int) m->init_pid);
  sync_send(m, BERTH_MON_STARTED, text);
  if (sync_recv(m) != BERTH_MON_ACK) { /* berth died before recording the start */
    const char *args[] = { text, NULL };
    mon_run_handler(m, "--internal-started", args, NULL, 0);
  }
  return true;
}

/* run-time state goes with the monitor (a new monitor's files keep the directory) */
static void remove_rundir(const struct mon *m)
{
  const char *names[] = { BERTH_MON_CONSOLE_SOCK, BERTH_MON_PID_FILE, BERTH_MON_SELF_PID_FILE,
                          BERTH_MON_HEALTH_FILE, "health.pid" };
  char path[4096];
  for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
    snprintf(path, sizeof path, "%s/%s", m->rundir, names[i]);
    unlink(path);
  }
  rmdir(m->rundir);
}

int main(int argc, char **argv)
{
  static struct mon m = {
    .sync_fd = -1,
    .listen_fd = -1,
    .out_fd = -1,
    .err_fd = -1,
    .in_fd = -1,
    .log_max_files = 1,
    .health = { .timer = -1,
                .out = -1,
                .interval = 30000000000LL,
                .timeout = 30000000000LL,
                .retries = 3,
                .start_interval = 5000000000LL },
  };
  if (parse_args(&m, argc, argv) < 0)
    return 2;
  /* berth's end of the start channel: never in the runtime or a handler we run */
  (void) fcntl(m.sync_fd, F_SETFD, FD_CLOEXEC);
  if (setup(&m) < 0) {
    char text[512];
    snprintf(text, sizeof text, "125 monitor: set up in `%s`: %s", m.rundir, strerror(errno));
    mon_log_msg("%s", text + 4);
    sync_send(&m, BERTH_MON_FAILED, text);
    return 1;
  }
  bool started = first_start(&m);
  close(m.sync_fd);
  m.sync_fd = -1;
  if (started)
    run_loop(&m);
  mon_unlisten(&m);
  berth_logw_close(&mon_log);
  remove_rundir(&m);
  /* the rootfs goes with this mount namespace anyway; unmounting now releases the overlay's
   * upper dir at once, so that a start right after this exit can mount it again */
  unmount_rootfs(&m);
  return started ? 0 : 1;
}
