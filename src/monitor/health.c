/* Healthchecks (issue 16): Docker's HEALTHCHECK, run by the container's monitor. One timerfd in
 * the monitor's poll set: idle, it fires at the next check (the start interval during the start
 * period, else the interval); while a check runs, at its timeout. A check is the runtime's
 * `exec --process <file berth wrote> --pid-file <rundir>/health.pid <id>`, its output (first
 * 4096 bytes, as Docker keeps) read from a pipe in the same poll, its end a SIGCHLD that
 * mon_reap hands here. A check that outlives its timeout is killed: the process inside the
 * container (its pid from the pid file) and the runtime. The state — Docker's State.Health with
 * the last 5 results — is rewritten (aside, renamed) after each check into <rundir>/health.json,
 * where berth reads it; a change of status is a health_status event (`--internal-health`).
 *
 * A paused container is not checked, as with Docker (its health monitor stops while paused): a
 * check's exec would wait on the frozen cgroup (or be refused) and count as a failure. The
 * monitor asks the cgroup's freezer (freezer.c) at each tick rather than being told by the
 * engine: one place, no message to lose if berth dies between freeze and telling, and every way
 * of freezing is covered. A paused tick starts no check and records nothing (status, streak and
 * log stay); a check running when the pause came is killed at its timeout, or ends while the
 * container is frozen, and is dropped uncounted (Docker cancels it); one whose container is
 * unpaused before it ends counts as usual, frozen time and all (the monitor looks at the freezer
 * at its ticks and at the end of a check, not in between). After the unpause the checks go on at
 * the next tick. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "monitor.h"

static int64_t mono_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void arm(struct mon_health *h, int64_t ns)
{
  struct itimerspec it = { .it_value = { .tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000 } };
  if (ns <= 0)
    it.it_value.tv_nsec = 1; /* 0 would disarm it */
  if (timerfd_settime(h->timer, 0, &it, NULL) < 0)
    mon_log_msg("healthcheck: arm the timer: %s", strerror(errno));
}

static void path_of(const struct mon *m, const char *name, char *out, size_t len)
{
  snprintf(out, len, "%s/%s", m->rundir, name);
}

void mon_health_begin(struct mon *m)
{
  struct mon_health *h = &m->health;
  if (h->process == NULL)
    return;
  if (h->timer < 0)
    h->timer = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
  if (h->timer < 0) {
    mon_log_msg("healthcheck: timerfd: %s", strerror(errno));
    return;
  }
  h->begun = mono_ns();
  h->paused = h->dropped = false;
  h->freezer.dir[0] = '\0'; /* a restart may bring another cgroup */
  h->streak = 0;
  h->nlog = 0;
  snprintf(h->status, sizeof h->status, "starting");
  char path[4200];
  path_of(m, BERTH_MON_HEALTH_FILE, path, sizeof path);
  unlink(path); /* a restart starts over, as Docker's */
  arm(h, h->start_period > 0 ? h->start_interval : h->interval);
}

/* JSON string of n bytes: quotes, escapes, bytes outside ASCII as '?' (berth reads it with jansson,
 * which takes valid UTF-8 only) */
static void put_json_string(FILE *f, const char *s, size_t n)
{
  fputc('"', f);
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char) s[i];
    if (c == '"' || c == '\\')
      fprintf(f, "\\%c", c);
    else if (c == '\n')
      fputs("\\n", f);
    else if (c < 0x20)
      fprintf(f, "\\u%04x", c);
    else
      fputc(c < 0x80 ? c : '?', f);
  }
  fputc('"', f);
}

static void put_time(FILE *f, int64_t ns)
{
  time_t t = (time_t) (ns / 1000000000);
  struct tm tm;
  gmtime_r(&t, &tm);
  char buf[64];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  fprintf(f, "\"%s.%09lldZ\"", buf, (long long) (ns % 1000000000));
}

static void write_state(const struct mon *m)
{
  const struct mon_health *h = &m->health;
  char path[4200], tmp[4300];
  path_of(m, BERTH_MON_HEALTH_FILE, path, sizeof path);
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *f = fopen(tmp, "we");
  if (f == NULL) {
    mon_log_msg("healthcheck: write `%s`: %s", tmp, strerror(errno));
    return;
  }
  fprintf(f, "{\"Status\":\"%s\",\"FailingStreak\":%d,\"Log\":[", h->status, h->streak);
  for (size_t i = 0; i < h->nlog; i++) {
    const struct mon_health_result *r = &h->log[i];
    fprintf(f, "%s{\"Start\":", i ? "," : "");
    put_time(f, r->start);
    fputs(",\"End\":", f);
    put_time(f, r->end);
    fprintf(f, ",\"ExitCode\":%d,\"Output\":", r->code);
    put_json_string(f, r->output, r->n);
    fputc('}', f);
  }
  fputs("]}\n", f);
  if (fclose(f) != 0 || rename(tmp, path) < 0)
    mon_log_msg("healthcheck: write `%s`: %s", path, strerror(errno));
}

static void start_check(struct mon *m)
{
  struct mon_health *h = &m->health;
  char pidfile[4200];
  path_of(m, "health.pid", pidfile, sizeof pidfile);
  unlink(pidfile);
  const char *tail[] = { "exec", "--process", h->process, "--pid-file", pidfile, m->id, NULL };
  const char *argv[MON_MAX_ARGS + 16];
  mon_runtime_argv(m, argv, MON_MAX_ARGS + 16, tail);
  int p[2];
  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (devnull < 0 || pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0) {
    mon_log_msg("healthcheck: pipe: %s", strerror(errno));
    if (devnull >= 0)
      close(devnull);
    arm(h, h->interval);
    return;
  }
  h->pid = mon_spawn(argv, devnull, p[1], p[1]);
  close(devnull);
  close(p[1]);
  h->out = p[0];
  h->nout = 0;
  h->timed_out = false;
  h->check_start = mon_now();
  arm(h, h->timeout);
}

/* a check outlived its timeout: the process inside the container first, then the runtime */
static void kill_check(struct mon *m)
{
  struct mon_health *h = &m->health;
  char pidfile[4200], buf[32] = "";
  path_of(m, "health.pid", pidfile, sizeof pidfile);
  int fd = open(pidfile, O_RDONLY | O_CLOEXEC);
  ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
  if (fd >= 0)
    close(fd);
  long pid = n > 0 ? strtol(buf, NULL, 10) : 0;
  if (pid > 1 && pid != m->init_pid)
    kill((pid_t) pid, SIGKILL);
  kill(h->pid, SIGKILL);
  h->timed_out = true;
}

/* the wait before the next check: the start interval while starting in the start period */
static int64_t next_delay(const struct mon_health *h)
{
  bool in_start = mono_ns() - h->begun < h->start_period;
  return in_start && strcmp(h->status, "starting") == 0 ? h->start_interval : h->interval;
}

void mon_health_timer(struct mon *m)
{
  struct mon_health *h = &m->health;
  uint64_t ticks;
  if (read(h->timer, &ticks, sizeof ticks) < 0 && errno == EAGAIN)
    return;
  bool paused = mon_frozen(&h->freezer, m->init_pid);
  if (paused && !h->paused)
    mon_log_msg("healthcheck: the container is paused: no check until it is unpaused");
  h->paused = paused;
  if (h->pid > 0) {
    h->dropped = paused;
    kill_check(m);
  } else if (paused) {
    arm(h, next_delay(h));
  } else {
    start_check(m);
  }
}

void mon_health_read(struct mon *m)
{
  struct mon_health *h = &m->health;
  char buf[4096];
  ssize_t n;
  while ((n = read(h->out, buf, sizeof buf)) > 0) {
    size_t room = sizeof h->output - h->nout;
    size_t k = (size_t) n < room ? (size_t) n : room;
    memcpy(h->output + h->nout, buf, k);
    h->nout += k;
  }
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
    close(h->out);
    h->out = -1;
  }
}

/* Docker's rules: a pass is healthy at once; a failure counts unless in the start period while
 * starting; retries failures in a row are unhealthy */
static void record(struct mon *m, int code)
{
  struct mon_health *h = &m->health;
  if (h->nlog == MON_HEALTH_LOG) {
    memmove(&h->log[0], &h->log[1], (MON_HEALTH_LOG - 1) * sizeof h->log[0]);
    h->nlog--;
  }
  struct mon_health_result *r = &h->log[h->nlog++];
  r->start = h->check_start;
  r->end = mon_now();
  r->code = code;
  if (h->timed_out)
    r->n = (size_t) snprintf(r->output, sizeof r->output, "Health check exceeded timeout (%llds)",
                             (long long) (h->timeout / 1000000000));
  else
    memcpy(r->output, h->output, r->n = h->nout);
  char before[16];
  snprintf(before, sizeof before, "%s", h->status);
  bool in_start = mono_ns() - h->begun < h->start_period;
  if (code == 0) {
    h->streak = 0;
    snprintf(h->status, sizeof h->status, "healthy");
  } else if (!(in_start && strcmp(h->status, "starting") == 0)) {
    h->streak++;
    if (h->streak >= h->retries)
      snprintf(h->status, sizeof h->status, "unhealthy");
  }
  write_state(m);
  if (strcmp(before, h->status) != 0) {
    const char *args[] = { h->status, NULL };
    mon_run_handler(m, "--internal-health", args, NULL, 0);
  }
}

bool mon_health_reaped(struct mon *m, pid_t pid, int st)
{
  struct mon_health *h = &m->health;
  if (h->pid <= 0 || pid != h->pid)
    return false;
  h->pid = 0;
  if (h->out >= 0) { /* what is left in the pipe (a process inside may hold it: not waited for) */
    mon_health_read(m);
    if (h->out >= 0) {
      close(h->out);
      h->out = -1;
    }
  }
  int code = h->timed_out ? -1 : WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
  /* paused at its timeout, or ended while paused (e.g. the runtime refused a frozen container) */
  if (h->dropped || mon_frozen(&h->freezer, m->init_pid))
    mon_log_msg("healthcheck: the container was paused during a check: its result is not counted");
  else
    record(m, code);
  h->dropped = false;
  arm(h, next_delay(h));
  return true;
}

void mon_health_end(struct mon *m)
{
  struct mon_health *h = &m->health;
  if (h->process == NULL)
    return;
  if (h->pid > 0) {
    kill(h->pid, SIGKILL);
    int st;
    while (waitpid(h->pid, &st, 0) < 0 && errno == EINTR)
      ;
    h->pid = 0;
  }
  if (h->out >= 0)
    close(h->out);
  h->out = -1;
  struct itimerspec off = { 0 };
  if (h->timer >= 0)
    timerfd_settime(h->timer, 0, &off, NULL);
  const char *names[] = { BERTH_MON_HEALTH_FILE, "health.pid" };
  char path[4200];
  for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
    path_of(m, names[i], path, sizeof path);
    unlink(path);
  }
}
