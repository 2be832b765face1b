/* Containers: stats — one sample from the runtime's `events --stats` (runc's JSON: cpu, memory,
 * pids) and the host's CPU time from /proc/stat; Docker's CLI arithmetic on two samples. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/child.h"
#include "base/cleanup.h"
#include "base/fs.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "engine/containers/containers_internal.h"

static char *last_line(const char *text)
{
  size_t end = strlen(text);
  while (end > 0 && (text[end - 1] == '\n' || text[end - 1] == ' '))
    end--;
  size_t start = end;
  while (start > 0 && text[start - 1] != '\n')
    start--;
  return end > start ? xstrndup(text + start, end - start) : xstrdup("failed without a message");
}

/* read fd to its end (at most 16 MiB kept) */
static void drain(int fd, struct berth_strbuf *b)
{
  char buf[8192];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return;
    if (b->len < (16u << 20))
      berth_strbuf_append(b, buf, (size_t) n);
  }
}

int stats_runtime_output(struct berth_engine *e, const struct berth_ctr *c, const char *const *tail,
                         char **out, berth_error_t *err)
{
  cleanup_strv char **argv = berth_ctr_runtime_argv(e, c, tail);
  int po[2], pe[2];
  if (pipe2(po, O_CLOEXEC) < 0)
    return BERTH_ERR_ERRNO(err, "pipe");
  if (pipe2(pe, O_CLOEXEC) < 0) {
    close(po[0]);
    close(po[1]);
    return BERTH_ERR_ERRNO(err, "pipe");
  }
  struct berth_child_exec x = { .argv = argv, .fds = { -1, po[1], pe[1] }, .nfds = 3 };
  pid_t pid = -1;
  int r = berth_child_exec(&x, &pid, err);
  close(po[1]);
  close(pe[1]);
  cleanup_strbuf struct berth_strbuf o = BERTH_STRBUF_INIT, ebuf = BERTH_STRBUF_INIT;
  if (r == 0) {
    drain(po[0], &o); /* the runtime's stderr is small: the pipe's buffer holds it meanwhile */
    drain(pe[0], &ebuf);
  }
  close(po[0]);
  close(pe[0]);
  if (r < 0)
    return berth_error_wrap(err, "OCI runtime `%s` %s", c->row.runtime, tail[0]);
  int st = 0;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
    ;
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
    cleanup_free char *msg = last_line(ebuf.buf ? ebuf.buf : "");
    return BERTH_ERR(err, "OCI runtime `%s` %s: %s", c->row.runtime, tail[0], msg);
  }
  *out = berth_strbuf_detach(&o);
  if (*out == NULL)
    *out = xstrdup("");
  return 0;
}

/* the host's CPU time in ns: Docker sums the first seven fields of /proc/stat's "cpu" line */
static uint64_t system_cpu_ns(void)
{
  cleanup_free char *text = NULL;
  berth_error_t none = NULL;
  if (berth_read_file("/proc/stat", 1u << 20, &text, NULL, &none) < 0) {
    berth_error_release(&none);
    return 0;
  }
  unsigned long long f[7] = { 0 };
  if (sscanf(text, "cpu %llu %llu %llu %llu %llu %llu %llu", &f[0], &f[1], &f[2], &f[3], &f[4], &f[5],
             &f[6]) != 7)
    return 0;
  uint64_t ticks = 0;
  for (int i = 0; i < 7; i++)
    ticks += f[i];
  long hz = sysconf(_SC_CLK_TCK);
  return ticks * (1000000000ULL / (uint64_t) (hz > 0 ? hz : 100));
}

static uint64_t num(json_t *v)
{
  double d = json_number_value(v);
  return d > 0 ? (uint64_t) d : 0;
}

static void parse_sample(json_t *data, struct berth_ctr_stats_sample *s)
{
  json_t *cpu = json_object_get(json_object_get(data, "cpu"), "usage");
  json_t *mem = json_object_get(data, "memory");
  json_t *raw = json_object_get(mem, "raw");
  s->cpu_total = num(json_object_get(cpu, "total"));
  size_t ncpu = json_array_size(json_object_get(cpu, "percpu"));
  long online = sysconf(_SC_NPROCESSORS_ONLN);
  s->online_cpus = (uint32_t) (ncpu ? ncpu : online > 0 ? (size_t) online : 1);
  uint64_t usage = num(json_object_get(json_object_get(mem, "usage"), "usage"));
  json_t *inactive = json_object_get(raw, "total_inactive_file"); /* cgroup v1 */
  if (inactive == NULL)
    inactive = json_object_get(raw, "inactive_file"); /* v2 */
  uint64_t cache = num(inactive);
  s->mem_usage = cache < usage ? usage - cache : usage;
  s->mem_limit = num(json_object_get(json_object_get(mem, "usage"), "limit"));
  struct sysinfo si;
  uint64_t host = sysinfo(&si) == 0 ? (uint64_t) si.totalram * si.mem_unit : 0;
  if (s->mem_limit == 0 || (host && s->mem_limit > host))
    s->mem_limit = host;
  s->pids = num(json_object_get(json_object_get(data, "pids"), "current"));
}

int berth_ctr_stats(struct berth_engine *e, const struct berth_ctr *c, struct berth_ctr_stats_sample *out,
                    berth_error_t *err)
{
  memset(out, 0, sizeof *out);
  if (c->state != BERTH_CTR_RUNNING && c->state != BERTH_CTR_PAUSED)
    return 0;
  const char *tail[] = { "events", "--stats", c->row.id, NULL };
  cleanup_free char *text = NULL;
  if (stats_runtime_output(e, c, tail, &text, err) < 0)
    return berth_error_wrap(err, "stats of container %.12s", c->row.id);
  out->system = system_cpu_ns();
  json_error_t je;
  /* reals: cgroup v2's "max" comes as 2^64-1, beyond jansson's integers */
  json_t *j = json_loads(text, JSON_DECODE_INT_AS_REAL | JSON_DECODE_ANY, &je);
  json_t *data = json_object_get(j, "data");
  if (!json_is_object(data)) {
    json_decref(j);
    return BERTH_ERR(err, "stats of container %.12s: the runtime's `events --stats` printed no stats",
                     c->row.id);
  }
  parse_sample(data, out);
  out->running = true;
  json_decref(j);
  return 0;
}

double berth_ctr_stats_cpu_percent(const struct berth_ctr_stats_sample *prev,
                                   const struct berth_ctr_stats_sample *now)
{
  if (!prev->running || !now->running || now->system <= prev->system || now->cpu_total < prev->cpu_total)
    return 0.0;
  double cpu = (double) (now->cpu_total - prev->cpu_total), sys = (double) (now->system - prev->system);
  return cpu / sys * (double) (now->online_cpus ? now->online_cpus : 1) * 100.0;
}

double berth_ctr_stats_mem_percent(const struct berth_ctr_stats_sample *s)
{
  return s->mem_limit ? (double) s->mem_usage / (double) s->mem_limit * 100.0 : 0.0;
}
