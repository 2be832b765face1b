/* Containers: top — the pids the runtime's `ps --format json` lists, each described from /proc as
 * `ps -ef` does (UID PID PPID C STIME TTY TIME CMD; host pids and host user names, like Docker). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/strbuf.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/containers/containers_internal.h"

char *berth_ctr_top_stime(int64_t start, int64_t now)
{
  time_t t = (time_t) start;
  struct tm tm;
  char buf[32];
  localtime_r(&t, &tm);
  if (now - start < 24 * 3600)
    strftime(buf, sizeof buf, "%H:%M", &tm);
  else if (now - start < 365 * 24 * 3600)
    strftime(buf, sizeof buf, "%b%d", &tm);
  else
    strftime(buf, sizeof buf, "%Y", &tm);
  return xstrdup(buf);
}

char *berth_ctr_top_time(uint64_t s)
{
  uint64_t d = s / 86400, h = s / 3600 % 24, m = s / 60 % 60;
  if (d)
    return xasprintf("%llu-%02llu:%02llu:%02llu", (unsigned long long) d, (unsigned long long) h,
                     (unsigned long long) m, (unsigned long long) (s % 60));
  return xasprintf("%02llu:%02llu:%02llu", (unsigned long long) h, (unsigned long long) m,
                   (unsigned long long) (s % 60));
}

char *berth_ctr_top_tty(int64_t tty_nr)
{
  unsigned major = (unsigned) ((tty_nr >> 8) & 0xfff);
  unsigned minor = (unsigned) ((tty_nr & 0xff) | ((tty_nr >> 12) & 0xfff00));
  if (tty_nr <= 0)
    return xstrdup("?");
  if (major >= 136 && major <= 143)
    return xasprintf("pts/%u", minor + (major - 136) * 256);
  if (major == 4)
    return minor < 64 ? xasprintf("tty%u", minor) : xasprintf("ttyS%u", minor - 64);
  return xstrdup("?");
}

struct proc_facts {
  char *uid_name;
  long long pid, ppid, tty_nr, utime, stime, start; /* start: ticks after boot */
  char *cmd;
};

/* the host's user name of uid (its number when /etc/passwd has none) */
static char *user_name(const char *passwd, long long uid)
{
  cleanup_free char *copy = xstrdup(passwd ? passwd : "");
  char *save = NULL;
  for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (c2 && strtoll(c2 + 1, NULL, 10) == uid && c2[1] >= '0' && c2[1] <= '9') {
      *c1 = '\0';
      return xstrdup(line);
    }
  }
  return xasprintf("%lld", uid);
}

static char *read_proc(long long pid, const char *what)
{
  char path[64];
  char *text = NULL;
  size_t len = 0;
  berth_error_t none = NULL;
  snprintf(path, sizeof path, "/proc/%lld/%s", pid, what);
  if (berth_read_file(path, 1u << 20, &text, &len, &none) < 0) {
    berth_error_release(&none);
    return NULL;
  }
  for (size_t i = 0; strcmp(what, "cmdline") == 0 && i + 1 < len; i++)
    if (text[i] == '\0')
      text[i] = ' ';
  return text;
}

/* 0, or -1 when the process is gone */
static int proc_facts(long long pid, const char *passwd, struct proc_facts *f)
{
  cleanup_free char *stat = read_proc(pid, "stat"), *status = read_proc(pid, "status");
  const char *close_paren = stat ? strrchr(stat, ')') : NULL, *open_paren = stat ? strchr(stat, '(') : NULL;
  const char *uid = status ? strstr(status, "\nUid:") : NULL;
  long long ruid = 0, euid = 0;
  if (!close_paren || !open_paren || !uid || sscanf(uid, "\nUid: %lld %lld", &ruid, &euid) != 2)
    return -1;
  long long v[20] = { 0 };         /* fields 4 (ppid) to 22 (starttime) */
  const char *p = close_paren + 4; /* ") S <ppid> ..." */
  for (int i = 0; i < 19 && p; i++) {
    v[i] = strtoll(p, NULL, 10);
    p = strchr(p, ' ');
    p = p ? p + 1 : NULL;
  }
  *f = (struct proc_facts){
    .pid = pid, .ppid = v[0], .tty_nr = v[3], .utime = v[10], .stime = v[11], .start = v[18]
  };
  f->uid_name = user_name(passwd, euid);
  f->cmd = read_proc(pid, "cmdline");
  if (f->cmd == NULL || *f->cmd == '\0') { /* a kernel thread or a zombie: [comm] */
    free(f->cmd);
    f->cmd = xasprintf("[%.*s]", (int) (close_paren - open_paren - 1), open_paren + 1);
  }
  return 0;
}

static void add_row(struct berth_ctr_top *t, const struct proc_facts *f, int64_t boot, double uptime,
                    int64_t now)
{
  long hz = sysconf(_SC_CLK_TCK);
  hz = hz > 0 ? hz : 100;
  double ran = uptime - (double) f->start / (double) hz;
  long long cpu_ticks = f->utime + f->stime;
  long long c = ran > 0 ? (long long) ((double) cpu_ticks / (double) hz / ran * 100.0) : 0;
  char **row = xcalloc(t->ncols + 1, sizeof *row);
  row[0] = xstrdup(f->uid_name);
  row[1] = xasprintf("%lld", f->pid);
  row[2] = xasprintf("%lld", f->ppid);
  row[3] = xasprintf("%lld", c);
  row[4] = berth_ctr_top_stime(boot + f->start / hz, now);
  row[5] = berth_ctr_top_tty(f->tty_nr);
  row[6] = berth_ctr_top_time((uint64_t) (cpu_ticks / hz));
  row[7] = xstrdup(f->cmd);
  t->rows = xreallocarray(t->rows, t->nrows + 1, sizeof *t->rows);
  t->rows[t->nrows++] = row;
}

static void host_times(int64_t *boot, double *uptime)
{
  cleanup_free char *stat = NULL, *up = NULL;
  berth_error_t none = NULL;
  *boot = 0;
  *uptime = 0;
  if (berth_read_file("/proc/stat", 1u << 20, &stat, NULL, &none) == 0) {
    const char *b = strstr(stat, "\nbtime ");
    *boot = b ? strtoll(b + 7, NULL, 10) : 0;
  }
  berth_error_release(&none);
  if (berth_read_file("/proc/uptime", 4096, &up, NULL, &none) == 0)
    *uptime = strtod(up, NULL);
  berth_error_release(&none);
}

static BERTH_WUR int fill(struct berth_engine *e, const struct berth_ctr *c, struct berth_ctr_top *t,
                          berth_error_t *err)
{
  const char *tail[] = { "ps", "--format", "json", c->row.id, NULL };
  cleanup_free char *text = NULL, *passwd = NULL;
  if (stats_runtime_output(e, c, tail, &text, err) < 0)
    return -1;
  json_t *pids = json_loads(text, JSON_DECODE_ANY, NULL);
  if (!json_is_array(pids)) {
    json_decref(pids);
    return BERTH_ERR(err, "the runtime's `ps --format json` printed no list of pids");
  }
  berth_ignore(berth_read_file("/etc/passwd", 4u << 20, &passwd, NULL, BERTH_IGNORED));
  int64_t boot;
  double uptime;
  host_times(&boot, &uptime);
  size_t i;
  json_t *p;
  json_array_foreach (pids, i, p) {
    struct proc_facts f;
    if (!json_is_integer(p) || proc_facts(json_integer_value(p), passwd, &f) < 0)
      continue; /* gone meanwhile */
    add_row(t, &f, boot, uptime, (int64_t) time(NULL));
    free(f.uid_name);
    free(f.cmd);
  }
  json_decref(pids);
  return 0;
}

int berth_ctr_top(struct berth_engine *e, const char *what, struct berth_ctr_top *out, berth_error_t *err)
{
  static const char *const titles[] = { "UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD", NULL };
  struct berth_ctr c;
  memset(out, 0, sizeof *out);
  if (berth_ctr_get(e, what, &c, err) < 0)
    return -1;
  out->ncols = 8;
  out->titles = berth_strv_dup((char *const *) titles);
  int r = 0;
  if (c.state != BERTH_CTR_RUNNING && c.state != BERTH_CTR_PAUSED)
    r = BERTH_ERR(err, "container %.12s is not running", c.row.id);
  else
    r = fill(e, &c, out, err);
  berth_ctr_release(&c);
  if (r < 0) {
    berth_ctr_top_release(out);
    return berth_error_wrap(err, "top of container `%s`", what);
  }
  return 0;
}

void berth_ctr_top_release(struct berth_ctr_top *t)
{
  berth_strv_free(t->titles);
  for (size_t i = 0; i < t->nrows; i++)
    berth_strv_free(t->rows[i]);
  free(t->rows);
  memset(t, 0, sizeof *t);
}
