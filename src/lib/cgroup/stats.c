/* Stats in the shape of runc's `events --stats` data (libcontainer/cgroups types). */
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "cgroup/internal.h"

/* a number from a file, 0 when the file is missing or odd (stats never fail on one file) */
static uint64_t num(const char *dir, const char *file)
{
  uint64_t v = 0;
  berth_ignore(cg_read_u64(dir, file, &v, BERTH_IGNORED));
  return v;
}

static uint64_t keyed(const char *dir, const char *file, const char *key)
{
  uint64_t v = 0;
  berth_ignore(cg_read_keyed(dir, file, key, &v, BERTH_IGNORED));
  return v;
}

/* jansson integers are signed: "max" (UINT64_MAX) and anything above INT64_MAX is reported as
 * INT64_MAX */
static void set_u64(json_t *o, const char *key, uint64_t v)
{
  json_object_set_new(o, key, json_integer(v > INT64_MAX ? INT64_MAX : (json_int_t) v));
}

/* pids.max "max" is reported as 0 (no limit), as runc does */
static uint64_t pids_limit(const char *dir)
{
  uint64_t v = num(dir, "pids.max");
  return v == UINT64_MAX ? 0 : v;
}

/* "key value" lines → {"key": value} */
static json_t *raw_map(const char *dir, const char *file)
{
  json_t *o = json_object();
  cleanup_free char *text = NULL;
  berth_error_t e = NULL;
  if (cg_read(dir, file, &text, &e) < 0) {
    berth_error_release(&e);
    return o;
  }
  for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
    char *sp = strchr(l, ' ');
    uint64_t v;
    if (sp == NULL)
      continue;
    *sp = '\0';
    if (berth_parse_u64(sp + 1, &v) == 0)
      set_u64(o, l, v);
  }
  return o;
}

static json_t *mem_entry(uint64_t limit, uint64_t usage, uint64_t max, uint64_t failcnt)
{
  json_t *o = json_object();
  set_u64(o, "limit", limit);
  if (usage)
    set_u64(o, "usage", usage);
  if (max)
    set_u64(o, "max", max);
  set_u64(o, "failcnt", failcnt);
  return o;
}

static json_t *v1_mem_entry(const char *dir, const char *prefix)
{
  char f[4][96];
  static const char *const names[] = { "limit_in_bytes", "usage_in_bytes", "max_usage_in_bytes", "failcnt" };
  for (int i = 0; i < 4; i++)
    snprintf(f[i], sizeof f[i], "%s%s", prefix, names[i]);
  return mem_entry(num(dir, f[0]), num(dir, f[1]), num(dir, f[2]), num(dir, f[3]));
}

static json_t *io_entry(unsigned maj, unsigned min, const char *op, uint64_t v)
{
  return json_pack("{s:i, s:i, s:s, s:I}", "major", (int) maj, "minor", (int) min, "op", op, "value",
                   (json_int_t) (v > INT64_MAX ? INT64_MAX : v));
}

/* blkio lines "8:0 Read 4096" (v1) → [{major, minor, op, value}] */
static json_t *v1_blkio_list(const char *dir, const char *file)
{
  json_t *a = json_array();
  cleanup_free char *text = NULL;
  berth_error_t e = NULL;
  if (cg_read(dir, file, &text, &e) < 0) {
    berth_error_release(&e);
    return a;
  }
  for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
    unsigned maj, min;
    char op[16];
    uint64_t v;
    if (sscanf(l, "%u:%u %15s %" SCNu64, &maj, &min, op, &v) != 4)
      continue;
    json_array_append_new(a, io_entry(maj, min, op, v));
  }
  return a;
}

static void hugetlb_sizes(const char *dir, const char *suffix, json_t *out, bool v2)
{
  cleanup_dir DIR *d = opendir(dir);
  for (struct dirent *e; d && (e = readdir(d));) {
    size_t len = strlen(e->d_name), sl = strlen(suffix);
    if (strncmp(e->d_name, "hugetlb.", 8) != 0 || len <= 8 + sl || strcmp(e->d_name + len - sl, suffix) != 0)
      continue;
    cleanup_free char *size = xstrndup(e->d_name + 8, len - 8 - sl);
    cleanup_free char *max = xasprintf("hugetlb.%s.%s", size, v2 ? "max" : "max_usage_in_bytes");
    cleanup_free char *fail = xasprintf("hugetlb.%s.%s", size, v2 ? "events" : "failcnt");
    json_t *h = json_object();
    uint64_t usage = num(dir, e->d_name), m = v2 ? 0 : num(dir, max);
    if (usage)
      set_u64(h, "usage", usage);
    if (m)
      set_u64(h, "max", m);
    set_u64(h, "failcnt", v2 ? keyed(dir, fail, "max") : num(dir, fail));
    json_object_set_new(out, size, h);
  }
}

static json_t *v1_cpu(berth_cgroup_manager_t *m)
{
  json_t *cpu = json_object(), *usage = json_object(), *thr = json_object();
  const struct cg_dir *acct = cg_dir_ctl(m, BERTH_CGROUP_CTL_CPUACCT),
                      *c = cg_dir_ctl(m, BERTH_CGROUP_CTL_CPU);
  if (acct) {
    long hz = sysconf(_SC_CLK_TCK);
    uint64_t ns_per_tick = hz > 0 ? 1000000000ull / (uint64_t) hz : 10000000ull;
    set_u64(usage, "total", num(acct->path, "cpuacct.usage"));
    cleanup_free char *pc = NULL;
    berth_error_t e = NULL;
    json_t *percpu = json_array();
    if (cg_read(acct->path, "cpuacct.usage_percpu", &pc, &e) == 0)
      for (char *save = NULL, *t = strtok_r(pc, " \n", &save); t; t = strtok_r(NULL, " \n", &save)) {
        uint64_t v;
        if (berth_parse_u64(t, &v) == 0)
          json_array_append_new(percpu, json_integer((json_int_t) v));
      }
    berth_error_release(&e);
    json_object_set_new(usage, "percpu", percpu);
    set_u64(usage, "kernel", keyed(acct->path, "cpuacct.stat", "system") * ns_per_tick);
    set_u64(usage, "user", keyed(acct->path, "cpuacct.stat", "user") * ns_per_tick);
  }
  if (c) {
    set_u64(thr, "periods", keyed(c->path, "cpu.stat", "nr_periods"));
    set_u64(thr, "throttledPeriods", keyed(c->path, "cpu.stat", "nr_throttled"));
    set_u64(thr, "throttledTime", keyed(c->path, "cpu.stat", "throttled_time"));
  }
  json_object_set_new(cpu, "usage", usage);
  json_object_set_new(cpu, "throttling", thr);
  return cpu;
}

int cg_stats_v1(berth_cgroup_manager_t *m, json_t **out, berth_error_t *err)
{
  json_t *s = json_object(), *mem = json_object(), *pids = json_object(), *blkio = json_object(),
         *huge = json_object();
  json_object_set_new(s, "cpu", v1_cpu(m));
  const struct cg_dir *d = cg_dir_ctl(m, BERTH_CGROUP_CTL_MEMORY);
  if (d) {
    json_t *raw = raw_map(d->path, "memory.stat");
    json_object_set_new(mem, "cache", json_integer(json_integer_value(json_object_get(raw, "cache"))));
    json_object_set_new(mem, "usage", v1_mem_entry(d->path, "memory."));
    json_object_set_new(mem, "swap", v1_mem_entry(d->path, "memory.memsw."));
    json_object_set_new(mem, "kernel", v1_mem_entry(d->path, "memory.kmem."));
    json_object_set_new(mem, "kernelTCP", v1_mem_entry(d->path, "memory.kmem.tcp."));
    json_object_set_new(mem, "raw", raw);
  }
  if ((d = cg_dir_ctl(m, BERTH_CGROUP_CTL_PIDS))) {
    set_u64(pids, "current", num(d->path, "pids.current"));
    set_u64(pids, "limit", pids_limit(d->path));
  }
  if ((d = cg_dir_ctl(m, BERTH_CGROUP_CTL_BLKIO))) {
    json_object_set_new(blkio, "ioServiceBytesRecursive",
                        v1_blkio_list(d->path, "blkio.throttle.io_service_bytes_recursive"));
    json_object_set_new(blkio, "ioServicedRecursive",
                        v1_blkio_list(d->path, "blkio.throttle.io_serviced_recursive"));
  }
  if ((d = cg_dir_ctl(m, BERTH_CGROUP_CTL_HUGETLB)))
    hugetlb_sizes(d->path, ".usage_in_bytes", huge, false);
  json_object_set_new(s, "memory", mem);
  json_object_set_new(s, "pids", pids);
  json_object_set_new(s, "blkio", blkio);
  json_object_set_new(s, "hugetlb", huge);
  *out = s;
  (void) err;
  return 0;
}

/* io.stat "8:0 rbytes=1 wbytes=2 rios=3 wios=4 ..." → v1-shaped lists */
static void v2_io(const char *dir, json_t *blkio)
{
  json_t *bytes = json_array(), *ios = json_array();
  cleanup_free char *text = NULL;
  berth_error_t e = NULL;
  if (cg_read(dir, "io.stat", &text, &e) == 0) {
    for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
      unsigned maj, min;
      uint64_t rb = 0, wb = 0, rio = 0, wio = 0;
      if (sscanf(l, "%u:%u", &maj, &min) != 2)
        continue;
      char *p;
      if ((p = strstr(l, "rbytes=")))
        rb = strtoull(p + 7, NULL, 10);
      if ((p = strstr(l, "wbytes=")))
        wb = strtoull(p + 7, NULL, 10);
      if ((p = strstr(l, "rios=")))
        rio = strtoull(p + 5, NULL, 10);
      if ((p = strstr(l, "wios=")))
        wio = strtoull(p + 5, NULL, 10);
      json_array_append_new(bytes, io_entry(maj, min, "Read", rb));
      json_array_append_new(bytes, io_entry(maj, min, "Write", wb));
      json_array_append_new(ios, io_entry(maj, min, "Read", rio));
      json_array_append_new(ios, io_entry(maj, min, "Write", wio));
    }
  }
  berth_error_release(&e);
  json_object_set_new(blkio, "ioServiceBytesRecursive", bytes);
  json_object_set_new(blkio, "ioServicedRecursive", ios);
}

static json_t *v2_memory(const char *dir)
{
  json_t *mem = json_object();
  if (!cg_exists(dir, "memory.current"))
    return mem;
  json_t *raw = raw_map(dir, "memory.stat");
  uint64_t usage = num(dir, "memory.current"), limit = num(dir, "memory.max");
  uint64_t swap = num(dir, "memory.swap.current"), swap_max = num(dir, "memory.swap.max");
  json_object_set_new(mem, "cache", json_integer(json_integer_value(json_object_get(raw, "file"))));
  uint64_t peak = num(dir, "memory.peak"), failcnt = keyed(dir, "memory.events", "max");
  json_object_set_new(mem, "usage", mem_entry(limit, usage, peak, failcnt));
  /* v1 reports memory+swap: add the memory figures for compatibility, as runc does */
  uint64_t both = swap_max == UINT64_MAX || limit == UINT64_MAX ? UINT64_MAX : swap_max + limit;
  json_object_set_new(mem, "swap", mem_entry(both, swap + usage, 0, 0));
  json_object_set_new(mem, "raw", raw);
  return mem;
}

int cg_stats_v2(berth_cgroup_manager_t *m, json_t **out, berth_error_t *err)
{
  const struct cg_dir *d = cg_dir_unified(m);
  json_t *s = json_object(), *cpu = json_object(), *usage = json_object(), *thr = json_object(),
         *pids = json_object(), *blkio = json_object(), *huge = json_object();
  if (d) {
    const char *p = d->path;
    set_u64(usage, "total", keyed(p, "cpu.stat", "usage_usec") * 1000);
    set_u64(usage, "kernel", keyed(p, "cpu.stat", "system_usec") * 1000);
    set_u64(usage, "user", keyed(p, "cpu.stat", "user_usec") * 1000);
    set_u64(thr, "periods", keyed(p, "cpu.stat", "nr_periods"));
    set_u64(thr, "throttledPeriods", keyed(p, "cpu.stat", "nr_throttled"));
    set_u64(thr, "throttledTime", keyed(p, "cpu.stat", "throttled_usec") * 1000);
    if (cg_exists(p, "pids.current")) {
      set_u64(pids, "current", num(p, "pids.current"));
      set_u64(pids, "limit", pids_limit(p));
    }
    v2_io(p, blkio);
    hugetlb_sizes(p, ".current", huge, true);
  }
  json_object_set_new(cpu, "usage", usage);
  json_object_set_new(cpu, "throttling", thr);
  json_object_set_new(s, "cpu", cpu);
  json_object_set_new(s, "memory", d ? v2_memory(d->path) : json_object());
  json_object_set_new(s, "pids", pids);
  json_object_set_new(s, "blkio", blkio);
  json_object_set_new(s, "hugetlb", huge);
  *out = s;
  (void) err;
  return 0;
}
