/* Per-process attributes: rlimits, user, personality, I/O priority, scheduler, OOM score,
 * CPU affinity. */
#include "linux/process.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/ioprio.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "oci/names.h"

static const char *rlimit_label(int resource, char *buf, size_t len)
{
  const char *name = berth_rlimit_name(resource);
  if (name)
    return name;
  snprintf(buf, len, "rlimit %d", resource);
  return buf;
}

static BERTH_WUR int rlimit_error(const struct berth_spec_rlimit *r, berth_error_t *err)
{
  int saved = errno;
  char buf[32];
  const char *name = rlimit_label(r->resource, buf, sizeof buf);
  struct rlimit cur;
  if (saved == EPERM && getrlimit(r->resource, &cur) == 0 && r->hard > cur.rlim_max)
    return berth_error_make(err, saved,
                            "set `%s` to soft %llu, hard %llu: raising the hard limit above %llu needs "
                            "CAP_SYS_RESOURCE",
                            name, (unsigned long long) r->soft, (unsigned long long) r->hard,
                            (unsigned long long) cur.rlim_max);
  if (saved == EINVAL && r->soft > r->hard)
    return berth_error_make(err, saved, "set `%s`: soft limit %llu is above the hard limit %llu", name,
                            (unsigned long long) r->soft, (unsigned long long) r->hard);
  return berth_error_make(err, saved, "set `%s` to soft %llu, hard %llu", name, (unsigned long long) r->soft,
                          (unsigned long long) r->hard);
}

int berth_rlimits_apply(const struct berth_spec_process *p, berth_error_t *err)
{
  for (size_t i = 0; i < p->n_rlimits; i++) {
    const struct berth_spec_rlimit *r = &p->rlimits[i];
    struct rlimit lim = { .rlim_cur = r->soft, .rlim_max = r->hard };
    if (setrlimit(r->resource, &lim) < 0)
      return rlimit_error(r, err);
  }
  return 0;
}

static char *gid_list(const uint32_t *gids, size_t n)
{
  struct berth_strbuf b = BERTH_STRBUF_INIT;
  for (size_t i = 0; i < n; i++)
    berth_strbuf_printf(&b, "%s%u", i ? "," : "", gids[i]);
  return berth_strbuf_detach(&b);
}

int berth_user_apply(const struct berth_spec_user *u, bool setgroups_allowed, berth_error_t *err)
{
  /* keep the permitted set across setuid to a non-root uid; berth_caps_apply follows */
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
    return BERTH_ERR_ERRNO(err, "set keep-capabilities");
  if (setgroups_allowed) {
    cleanup_free gid_t *gids = xcalloc(u->n_additional_gids ? u->n_additional_gids : 1, sizeof(gid_t));
    for (size_t i = 0; i < u->n_additional_gids; i++)
      gids[i] = (gid_t) u->additional_gids[i];
    if (setgroups(u->n_additional_gids, gids) < 0) {
      int saved = errno;
      cleanup_free char *list = gid_list(u->additional_gids, u->n_additional_gids);
      return berth_error_make(err, saved, "set additional groups [%s]", list);
    }
  } else if (u->n_additional_gids > 0) {
    return BERTH_ERR(err, "set additional groups: not allowed in this user namespace (setgroups is denied)");
  }
  if (setresgid(u->gid, u->gid, u->gid) < 0)
    return BERTH_ERR_ERRNO(err, "set gid to %u", u->gid);
  if (setresuid(u->uid, u->uid, u->uid) < 0)
    return BERTH_ERR_ERRNO(err, "set uid to %u", u->uid);
  if (u->has_umask)
    umask((mode_t) (u->umask & 0777));
  return 0;
}

int berth_personality_apply(const struct berth_spec_personality *p, berth_error_t *err)
{
  if (!p->present)
    return 0;
  if (personality(p->domain | p->flags) < 0)
    return BERTH_ERR_ERRNO(err, "set personality 0x%lx", p->domain | p->flags);
  return 0;
}

int berth_ioprio_apply(const struct berth_spec_io_priority *p, berth_error_t *err)
{
  if (!p->present)
    return 0;
  if (p->priority < 0 || p->priority > 7)
    return BERTH_ERR(err, "set I/O priority: priority %d is out of range [0, 7]", p->priority);
  int value = (int) IOPRIO_PRIO_VALUE(p->class, p->priority);
  if (syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, value) < 0)
    return BERTH_ERR_ERRNO(err, "set I/O priority (class %d, priority %d)", p->class, p->priority);
  return 0;
}

/* <linux/sched/types.h> cannot be included together with <sched.h> */
struct berth_sched_attr {
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime, sched_deadline, sched_period;
};

int berth_scheduler_apply(const struct berth_spec_scheduler *s, berth_error_t *err)
{
  if (!s->present)
    return 0;
  struct berth_sched_attr attr = {
    .size = sizeof attr,
    .sched_policy = (uint32_t) s->policy,
    .sched_flags = s->flags,
    .sched_nice = s->has_nice ? s->nice : 0,
    .sched_priority = s->has_priority ? (uint32_t) s->priority : 0,
    .sched_runtime = s->runtime,
    .sched_deadline = s->deadline,
    .sched_period = s->period,
  };
  if (syscall(SYS_sched_setattr, 0, &attr, 0) < 0)
    return BERTH_ERR_ERRNO(err, "set scheduler (policy %d, priority %u, nice %d)", s->policy,
                           attr.sched_priority, attr.sched_nice);
  return 0;
}

int berth_oom_score_adj_apply(pid_t pid, int value, berth_error_t *err)
{
  if (value < -1000 || value > 1000)
    return BERTH_ERR(err, "set oom_score_adj to %d: out of range [-1000, 1000]", value);
  char path[64], text[16], now[16] = "";
  snprintf(path, sizeof path, "/proc/%d/oom_score_adj", (int) pid);
  int n = snprintf(text, sizeof text, "%d", value);
  /* already set (by the process itself, before it made its /proc files root's): done */
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
  ssize_t got = fd >= 0 ? berth_read_all(fd, now, sizeof now - 1) : -1;
  if (got > 0 && strtol(now, NULL, 10) == value)
    return 0;
  if (berth_write_file_at(AT_FDCWD, path, text, (size_t) n, err) < 0) {
    if ((*err)->errnum == EACCES || (*err)->errnum == EPERM)
      return berth_error_wrap(err, "set oom_score_adj of pid %d to %d (lowering it needs CAP_SYS_RESOURCE)",
                              (int) pid, value);
    return berth_error_wrap(err, "set oom_score_adj of pid %d to %d", (int) pid, value);
  }
  return 0;
}

static int parse_cpu(const char **p, unsigned long *out)
{
  if (**p < '0' || **p > '9')
    return -1;
  unsigned long v = 0;
  for (; **p >= '0' && **p <= '9'; (*p)++) {
    v = v * 10 + (unsigned long) (**p - '0');
    if (v >= BERTH_CPU_MAX)
      return -1;
  }
  *out = v;
  return 0;
}

int berth_cpu_list_parse(const char *list, cpu_set_t **out, size_t *size, berth_error_t *err)
{
  size_t cap = 0;
  cleanup_free unsigned long *ranges = NULL;
  size_t n = 0;
  unsigned long max = 0;
  for (const char *p = list;;) {
    unsigned long lo, hi;
    if (parse_cpu(&p, &lo) < 0)
      return BERTH_ERR(err, "cpu list `%s`: expected a cpu number (below %d) at offset %zu", list,
                       BERTH_CPU_MAX, (size_t) (p - list));
    hi = lo;
    if (*p == '-') {
      p++;
      if (parse_cpu(&p, &hi) < 0 || hi < lo)
        return BERTH_ERR(err, "cpu list `%s`: invalid range ending at offset %zu", list, (size_t) (p - list));
    }
    if (n + 2 > cap) {
      cap = cap ? cap * 2 : 16;
      ranges = xreallocarray(ranges, cap, sizeof *ranges);
    }
    ranges[n++] = lo;
    ranges[n++] = hi;
    max = hi > max ? hi : max;
    if (*p == '\0')
      break;
    if (*p++ != ',')
      return BERTH_ERR(err, "cpu list `%s`: unexpected character at offset %zu", list,
                       (size_t) (p - 1 - list));
  }
  cpu_set_t *set = CPU_ALLOC(max + 1);
  if (set == NULL)
    berth_oom();
  *size = CPU_ALLOC_SIZE(max + 1);
  CPU_ZERO_S(*size, set);
  for (size_t i = 0; i < n; i += 2)
    for (unsigned long c = ranges[i]; c <= ranges[i + 1]; c++)
      CPU_SET_S(c, *size, set);
  *out = set;
  return 0;
}

int berth_cpu_affinity_apply(pid_t pid, const char *cpus, berth_error_t *err)
{
  cpu_set_t *set = NULL;
  size_t size = 0;
  if (berth_cpu_list_parse(cpus, &set, &size, err) < 0)
    return berth_error_wrap(err, "set cpu affinity");
  int r = sched_setaffinity(pid, size, set);
  int saved = errno;
  CPU_FREE(set);
  if (r < 0)
    return berth_error_make(err, saved, "set cpu affinity of pid %d to `%s`", (int) pid, cpus);
  return 0;
}
