/* berth logs / container logs */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/fs.h"
#include "base/strutil.h"
#include "container_cmd.h"
#include "engine/format.h"

struct out {
  bool timestamps;
};

static int print_record(void *data, const struct berth_log_record *r)
{
  const struct out *o = data;
  int fd = r->stream == BERTH_LOG_STDERR ? 2 : 1;
  char ts[BERTH_LOG_TS_LEN + 2];
  if (o->timestamps) {
    berth_log_format_ts(r->time, ts);
    ts[BERTH_LOG_TS_LEN] = ' ';
    if (berth_write_all(fd, ts, BERTH_LOG_TS_LEN + 1) < 0)
      return -1;
  }
  if (berth_write_all(fd, r->data, r->len) < 0 || (!r->partial && berth_write_all(fd, "\n", 1) < 0))
    return -1;
  return 0;
}

/* Docker's --since/--until: RFC 3339, unix seconds (with a fraction), or a duration back from now (10m,
 * 1h30m) */
static int parse_time(const char *s, int64_t now, int64_t *out)
{
  if (berth_parse_rfc3339(s, out) == 0)
    return 0;
  char *end = NULL;
  double secs = strtod(s, &end);
  if (end != s && *end == '\0' && isdigit((unsigned char) *s)) {
    *out = (int64_t) (secs * 1e9);
    return 0;
  }
  int64_t total = 0;
  for (const char *p = s; *p;) {
    double v = strtod(p, &end);
    if (end == p)
      return -1;
    int64_t unit = *end == 'h'                    ? 3600000000000LL
                   : *end == 'm' && end[1] != 's' ? 60000000000LL
                   : *end == 's'                  ? 1000000000LL
                   : *end == 'm'                  ? 1000000LL
                                                  : 0;
    if (unit == 0)
      return -1;
    total += (int64_t) (v * (double) unit);
    p = end + (*end == 'm' && end[1] == 's' ? 2 : 1);
  }
  *out = now - total;
  return 0;
}

int cmd_logs(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  bool follow = false, timestamps = false;
  const char *tail = NULL, *since = NULL, *until = NULL;
  const struct berth_cli_opt opts[] = {
    { "follow", 'f', BERTH_CLI_BOOL, &follow, NULL, "Follow log output" },
    { "since", 0, BERTH_CLI_STRING, &since, "string",
      "Show logs since timestamp (2013-01-02T13:23:37Z) or relative (42m)" },
    { "tail", 'n', BERTH_CLI_STRING, &tail, "string",
      "Number of lines to show from the end of the logs (default all)" },
    { "timestamps", 't', BERTH_CLI_BOOL, &timestamps, NULL, "Show timestamps" },
    { "until", 0, BERTH_CLI_STRING, &until, "string", "Show logs before a timestamp or relative (42m)" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  int r =
    cli_parse(ctx, argc, argv, opts, "berth logs [OPTIONS] CONTAINER", "Fetch the logs of a container", err);
  if (r != 0 || cli_want_args(ctx, 1, 1, "CONTAINER", err) < 0)
    return r > 0 ? 0 : -1;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  int64_t now = (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
  struct berth_ctr_logs_opts lo = { .follow = follow, .tail = -1 };
  const char *bad = tail && strcmp(tail, "all") != 0 && berth_parse_i64(tail, &lo.tail) < 0 ? "tail"
                    : since && parse_time(since, now, &lo.since) < 0                        ? "since"
                    : until && parse_time(until, now, &lo.until) < 0                        ? "until"
                                                                                            : NULL;
  if (bad) {
    ctx->usage_error = true;
    if (bad[0] == 't')
      return BERTH_ERR(err, "%s: --tail: expected a number of lines or \"all\", got `%s`", ctx->path, tail);
    return BERTH_ERR(err,
                     "%s: --%s: expected a time (2013-01-02T13:23:37Z), unix seconds or a duration back from "
                     "now (42m), got `%s`",
                     ctx->path, bad, bad[0] == 's' ? since : until);
  }
  struct berth_engine *e = NULL;
  struct out o = { .timestamps = timestamps };
  if (cli_open_engine(ctx, &e, err) < 0)
    return -1;
  r = berth_ctr_logs(e, ctx->argv[0], &lo, print_record, &o, err);
  berth_engine_close(e);
  return r < 0 ? -1 : 0;
}
