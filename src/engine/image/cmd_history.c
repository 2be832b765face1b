/* berth history / berth image history: the table `docker history` prints */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/cleanup.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "cli.h"
#include "cli_format.h"
#include "commands.h"
#include "engine/format.h"
#include "engine/images/images.h"

/* RFC 3339 in the local zone, as Go's time.Format(time.RFC3339) */
static char *local_rfc3339(int64_t secs)
{
  time_t t = (time_t) secs;
  struct tm tm;
  localtime_r(&t, &tm);
  char buf[64], zone[8];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  strftime(zone, sizeof zone, "%z", &tm);
  if (strcmp(zone, "+0000") == 0)
    return xasprintf("%sZ", buf);
  return xasprintf("%s%.3s:%s", buf, zone, zone + 3);
}

struct cells {
  char *id, *created, *created_by, *size;
};

static void make_cells(const struct berth_history_row *r, bool human, bool no_trunc, int64_t now,
                       struct cells *c)
{
  const char *id = r->id;
  c->id = no_trunc || strcmp(id, "<missing>") == 0
            ? xstrdup(id)
            : xasprintf("%.12s", berth_str_has_prefix(id, "sha256:") ? id + 7 : id);
  c->created = human ? berth_fmt_since(r->created, now) : local_rfc3339(r->created);
  cleanup_free char *by = xstrdup(r->created_by);
  for (char *p = by; *p; p++)
    if (*p == '\t')
      *p = ' ';
  c->created_by = no_trunc ? xstrdup(by) : berth_fmt_ellipsis(by, 45);
  c->size = human ? berth_fmt_size(r->size) : xasprintf("%llu", (unsigned long long) r->size);
}

static void free_cells(struct cells *c)
{
  free(c->id);
  free(c->created);
  free(c->created_by);
  free(c->size);
}

/* docker/cli's historyContext: its fields' column titles */
static const struct cli_list_format history_format = {
  "*image.historyContext",
  "{\"ID\":\"IMAGE\",\"CreatedSince\":\"CREATED\",\"CreatedAt\":\"CREATED AT\",\"CreatedBy\":\"CREATED BY\","
  "\"Size\":\"SIZE\",\"Comment\":\"COMMENT\"}",
};

static json_t *row_json(const struct berth_history_row *r, const struct cells *c, int64_t now)
{
  cleanup_free char *at = local_rfc3339(r->created), *since = berth_fmt_since(r->created, now);
  return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "Comment", r->comment, "CreatedAt", at, "CreatedBy",
                   c->created_by, "CreatedSince", since, "ID", c->id, "Size", c->size);
}

static int print_rows(struct cmd_ctx *ctx, const struct berth_history_row *rows, size_t n, bool human,
                      bool no_trunc, bool quiet, const char *format, berth_error_t *err)
{
  int64_t now = (int64_t) time(NULL);
  bool table = !quiet && cli_format_is_default(format);
  struct berth_table t;
  berth_table_init(&t, 5);
  const char *head[] = { "IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT" };
  berth_table_add(&t, head);
  json_t *v = json_array();
  for (size_t i = 0; i < n; i++) {
    struct cells c;
    make_cells(&rows[i], human, no_trunc, now, &c);
    const char *cells[] = { c.id, c.created, c.created_by, c.size, rows[i].comment };
    if (quiet)
      puts(c.id);
    else if (table)
      berth_table_add(&t, cells);
    else
      json_array_append_new(v, row_json(&rows[i], &c, now));
    free_cells(&c);
  }
  int r = 0;
  if (table)
    berth_table_print(&t, stdout);
  else if (!quiet)
    r = cli_format_list(ctx, format, &history_format, v, NULL, err);
  berth_table_release(&t);
  json_decref(v);
  return r;
}

int cmd_history(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  bool human = true, no_trunc = false, quiet = false;
  const char *format = NULL;
  const struct berth_cli_opt opts[] = {
    { "format", 0, BERTH_CLI_STRING, &format, "string",
      "Format output: table (default), table TEMPLATE, json, or a Go template ({{.CreatedBy}})" },
    { "human", 'H', BERTH_CLI_BOOL, &human, NULL,
      "Print sizes and dates in human readable format (default true)" },
    { "no-trunc", 0, BERTH_CLI_BOOL, &no_trunc, NULL, "Don't truncate output" },
    { "quiet", 'q', BERTH_CLI_BOOL, &quiet, NULL, "Only show image IDs" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  int r =
    cli_parse(ctx, argc, argv, opts, "berth history [OPTIONS] IMAGE", "Show the history of an image", err);
  if (r != 0 || cli_want_args(ctx, 1, 1, "IMAGE", err) < 0)
    return r > 0 ? 0 : -1;
  struct berth_engine *e = NULL;
  struct berth_history_row *rows = NULL;
  size_t n = 0;
  if (cli_open_engine(ctx, &e, err) < 0)
    return -1;
  r = berth_images_history(e, ctx->argv[0], &rows, &n, err);
  berth_engine_close(e);
  if (r < 0)
    return -1;
  r = print_rows(ctx, rows, n, human, no_trunc, quiet, format, err);
  berth_history_rows_free(rows, n);
  return r < 0 ? -1 : 0;
}
