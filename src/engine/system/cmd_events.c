/* berth events / system events: what every berth process did, then what it does, as Docker's
 * `events` prints it (engine/events/events.h; docs/design/events.md). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/cleanup.h"
#include "cli.h"
#include "cli_format.h"
#include "commands.h"
#include "engine/events/events.h"

static const struct cli_list_format events_format = {
  "events.Message",
  "{}",
};

struct sink {
  struct cmd_ctx *ctx;
  const char *format;
  berth_error_t err;
};

static int print_event(void *data, json_t *ev)
{
  struct sink *s = data;
  if (s->format == NULL || *s->format == '\0') {
    cleanup_free char *line = berth_events_text(ev);
    puts(line);
  } else {
    json_t *rows = json_pack("[O]", ev);
    int r = cli_format_list(s->ctx, s->format, &events_format, rows, NULL, &s->err);
    json_decref(rows);
    if (r < 0)
      return -1;
  }
  /* a reader that went away ends the stream */
  if (fflush(stdout) != 0 || ferror(stdout))
    return errno == EPIPE ? -1 : BERTH_ERR_ERRNO(&s->err, "write events");
  return 0;
}

static int parse_bounds(struct cmd_ctx *ctx, const char *since, const char *until,
                        struct berth_events_opts *o, berth_error_t *err)
{
  int64_t now = berth_engine_now();
  const char *bad = since && berth_events_parse_time(since, now, &o->since) < 0   ? "--since"
                    : until && berth_events_parse_time(until, now, &o->until) < 0 ? "--until"
                                                                                  : NULL;
  if (bad == NULL)
    return 0;
  ctx->usage_error = true;
  return BERTH_ERR(
    err,
    "%s: %s: invalid time `%s` (RFC 3339 like 2013-01-02T13:23:37Z, unix seconds, or a duration "
    "like 10m)",
    ctx->path, bad, bad[2] == 's' ? since : until);
}

int cmd_events(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  const char *since = NULL, *until = NULL, *format = NULL;
  cleanup_free const char **filters = NULL;
  const struct berth_cli_opt opts[] = {
    { "filter", 'f', BERTH_CLI_STRINGS, &filters, "filter", "Filter output based on conditions provided" },
    { "format", 0, BERTH_CLI_STRING, &format, "string",
      "Format output using a custom template: 'json': Print in JSON format; 'TEMPLATE': Print output using "
      "the given Go template" },
    { "since", 0, BERTH_CLI_STRING, &since, "string", "Show all events created since timestamp" },
    { "until", 0, BERTH_CLI_STRING, &until, "string", "Stream events until this timestamp" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  int r =
    cli_parse(ctx, argc, argv, opts, "berth events [OPTIONS]", "Get real time events from the server", err);
  if (r != 0)
    return r > 0 ? 0 : -1;
  if (cli_want_args(ctx, 0, 0, "none", err) < 0)
    return -1;
  struct berth_events_opts o = { 0 };
  cleanup_events_filter struct berth_events_filter *f = NULL;
  if (parse_bounds(ctx, since, until, &o, err) < 0)
    return -1;
  if (berth_events_filter_parse((char *const *) filters, &f, err) < 0) {
    ctx->usage_error = true;
    return berth_error_wrap(err, "%s: --filter", ctx->path);
  }
  o.filter = f;
  struct berth_engine *e = NULL;
  if (cli_open_engine(ctx, &e, err) < 0)
    return -1;
  struct sink s = { .ctx = ctx, .format = format };
  r = berth_events_stream(e, &o, print_event, &s, err);
  berth_engine_close(e);
  if (r > 0 && s.err) { /* the sink stopped it: an error, or a reader that went away */
    *err = s.err;
    return -1;
  }
  return r < 0 ? -1 : 0;
}
