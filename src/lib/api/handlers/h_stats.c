/* GET /containers/{id}/stats: Docker's stats JSON (cpu_stats and precpu_stats, memory_stats,
 * pids_stats), streamed once a second, or one object (stream=false: two samples a second apart,
 * so the CPU share can be computed; one-shot=true: one sample, precpu empty). The samples come
 * from the runtime (berth_ctr_stats); the stream is a job writing JSON lines. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/handlers/handlers_internal.h"
#include "base/cleanup.h"
#include "base/fs.h"
#include "base/xalloc.h"

static json_t *cpu_json(const struct berth_ctr_stats_sample *s)
{
  return json_pack("{s:{s:I, s:I, s:I}, s:I, s:i, s:{s:i, s:i, s:i}}", "cpu_usage", "total_usage",
                   (json_int_t) s->cpu_total, "usage_in_kernelmode", (json_int_t) 0, "usage_in_usermode",
                   (json_int_t) 0, "system_cpu_usage", (json_int_t) s->system, "online_cpus",
                   (int) s->online_cpus, "throttling_data", "periods", 0, "throttled_periods", 0,
                   "throttled_time", 0);
}

static void rfc3339(int64_t ns, char *buf, size_t len)
{
  time_t t = (time_t) (ns / 1000000000);
  struct tm tm;
  gmtime_r(&t, &tm);
  char base[32];
  if (strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
    base[0] = '\0';
  long frac = (long) (ns % 1000000000);
  if (frac < 0)
    frac += 1000000000;
  snprintf(buf, len, "%.31s.%09ldZ", base, frac);
}

static char *stats_line(const struct berth_ctr *c, const struct berth_ctr_stats_sample *now,
                        const struct berth_ctr_stats_sample *prev, int64_t t, int64_t pt)
{
  static const struct berth_ctr_stats_sample zero;
  char read[64], preread[64] = "0001-01-01T00:00:00Z";
  rfc3339(t, read, sizeof read);
  if (prev)
    rfc3339(pt, preread, sizeof preread);
  cleanup_free char *name = xasprintf("/%s", c->row.name);
  json_t *o = json_pack(
    "{s:s, s:s, s:{s:I}, s:o, s:o, s:{s:I, s:I, s:I, s:{}}, s:{s:n, s:n, s:n, s:n, s:n, s:n, s:n, s:n}, s:i, "
    "s:{}, s:s, s:s}",
    "read", read, "preread", preread, "pids_stats", "current", (json_int_t) now->pids, "cpu_stats",
    cpu_json(now), "precpu_stats", cpu_json(prev ? prev : &zero), "memory_stats", "usage",
    (json_int_t) now->mem_usage, "max_usage", (json_int_t) now->mem_usage, "limit",
    (json_int_t) now->mem_limit, "stats", "blkio_stats", "io_service_bytes_recursive",
    "io_serviced_recursive", "io_queue_recursive", "io_service_time_recursive", "io_wait_time_recursive",
    "io_merged_recursive", "io_time_recursive", "sectors_recursive", "num_procs", 0, "storage_stats", "name",
    name, "id", c->row.id);
  char *text = json_dumps(o, JSON_COMPACT);
  json_decref(o);
  cleanup_free char *t2 = text;
  return xasprintf("%s\n", t2 ? t2 : "{}");
}

struct stats_job {
  const char *id;
  bool stream, one_shot;
};

static BERTH_WUR int sample(struct berth_engine *e, const char *id, struct berth_ctr *c,
                            struct berth_ctr_stats_sample *s, int64_t *t, berth_error_t *err)
{
  berth_ctr_release(c);
  memset(c, 0, sizeof *c);
  if (berth_ctr_get(e, id, c, err) < 0 || berth_ctr_stats(e, c, s, err) < 0)
    return -1;
  *t = api_now_ns();
  return 0;
}

static BERTH_WUR int stats_run(struct berth_engine *e, void *data, int in, int out, berth_error_t *err)
{
  struct stats_job *j = data;
  struct berth_ctr c = { 0 };
  struct berth_ctr_stats_sample prev = { 0 }, now = { 0 };
  int64_t pt = 0, t = 0;
  (void) in;
  int rc = sample(e, j->id, &c, &now, &t, err);
  bool have_prev = false;
  if (rc == 0 && !j->stream && !j->one_shot) { /* two samples, for the CPU share */
    prev = now, pt = t, have_prev = true;
    usleep(1000000);
    rc = sample(e, j->id, &c, &now, &t, err);
  }
  while (rc == 0) {
    cleanup_free char *line = stats_line(&c, &now, have_prev ? &prev : NULL, t, pt);
    if (berth_write_all(out, line, strlen(line)) < 0 || !j->stream || !now.running)
      break;
    usleep(1000000);
    prev = now, pt = t, have_prev = true;
    rc = sample(e, j->id, &c, &now, &t, err);
  }
  berth_ctr_release(&c);
  return rc;
}

enum MHD_Result api_h_CTR_STATS(struct api_req *r)
{
  cleanup_error berth_error_t err = NULL;
  struct berth_engine *e = NULL;
  struct berth_ctr c;
  if (api_ctr_get(r, &e, &c, &err) < 0)
    return api_reply_err(r, &err);
  struct stats_job j = { c.row.id, api_query_bool(r, "stream", true), api_query_bool(r, "one-shot", false) };
  struct api_job job;
  int fd = -1;
  int rc = api_job_start(r, stats_run, &j, NULL, &fd, &job, &err);
  berth_ctr_release(&c);
  if (rc < 0)
    return api_reply_err(r, &err);
  struct api_stream_opts so = { .ctype = "application/json", .kill_job = true };
  return api_reply_stream(r, 200, fd, &job, &so);
}
