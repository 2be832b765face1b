/* berth container prune: remove every stopped container (Docker's prompt, -f, --filter
 * until=|label=|label!=), then "Total reclaimed space". */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/cleanup.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "container_cmd.h"
#include "engine/format.h"

/* until=: RFC 3339, unix seconds, or a Go duration back from now ("24h", "1h30m", "10m") */
static int parse_until(const char *s, int64_t now, int64_t *out)
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
  for (const char *p = s; *p; p = end + 1) {
    double v = strtod(p, &end);
    int64_t unit = end == p      ? 0
                   : *end == 'h' ? 3600000000000LL
                   : *end == 'm' ? 60000000000LL
                   : *end == 's' ? 1000000000LL
                                 : 0;
    if (unit == 0)
      return -1;
    total += (int64_t) (v * (double) unit);
  }
  *out = now - total;
  return *s ? 0 : -1;
}

static int parse_filters(const char **filters, char ***labels, int64_t *until, berth_error_t *err)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  int64_t now = (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
  for (size_t i = 0; filters && filters[i]; i++) {
    const char *f = filters[i];
    if (berth_str_has_prefix(f, "until=")) {
      if (parse_until(f + 6, now, until) < 0)
        return BERTH_ERR(err, "invalid filter `%s`: expected a timestamp or a duration (24h)", f);
    } else if (berth_str_has_prefix(f, "label=")) {
      *labels = berth_strv_append(*labels, f + 6);
    } else if (berth_str_has_prefix(f, "label!=")) {
      cleanup_free char *neg = xasprintf("!%s", f + 7);
      *labels = berth_strv_append(*labels, neg);
    } else {
      return BERTH_ERR(err, "invalid filter `%s` (until=, label=, label!=)", f);
    }
  }
  return 0;
}

/* Docker's confirmation; true to go on */
int cmd_container_prune(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  bool force = false;
  cleanup_free const char **filters = NULL;
  const struct berth_cli_opt opts[] = {
    { "filter", 0, BERTH_CLI_STRINGS, &filters, "filter",
      "Provide filter values (e.g. \"until=<timestamp>\")" },
    { "force", 'f', BERTH_CLI_BOOL, &force, NULL, "Do not prompt for confirmation" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  int r =
    cli_parse(ctx, argc, argv, opts, "berth container prune [OPTIONS]", "Remove all stopped containers", err);
  if (r != 0 || cli_want_args(ctx, 0, 0, "none", err) < 0)
    return r > 0 ? 0 : -1;
  cleanup_strv char **labels = NULL, **removed = NULL;
  int64_t until = 0;
  if (parse_filters(filters, &labels, &until, err) < 0) {
    ctx->usage_error = true;
    return berth_error_wrap(err, "%s", ctx->path);
  }
  if (!force && !cli_confirm("WARNING! This will remove all stopped containers."))
    return 0;
  struct berth_engine *e = NULL;
  uint64_t reclaimed = 0;
  if (cli_open_engine(ctx, &e, err) < 0)
    return -1;
  r = berth_ctr_prune(e, labels, until, &removed, &reclaimed, err);
  berth_engine_close(e);
  if (r < 0)
    return -1;
  cli_print_pruned("Deleted Containers:", removed, reclaimed);
  return 0;
}
