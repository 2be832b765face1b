/* berth system df, berth system check [--repair] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/xalloc.h"
#include "cli.h"
#include "cli_format.h"
#include "commands.h"
#include "engine/format.h"
#include "engine/images/images.h"
#include "engine/system/system.h"

/* docker/cli's DiskUsageContext (not verbose): its fields' column titles */
static const struct cli_list_format df_format = {
  "*formatter.diskUsageImagesContext",
  "{\"Type\":\"TYPE\",\"TotalCount\":\"TOTAL\",\"Active\":\"ACTIVE\",\"Size\":\"SIZE\","
  "\"Reclaimable\":\"RECLAIMABLE\"}",
};

static json_t *df_rows(const struct berth_df_row *rows)
{
  json_t *v = json_array();
  for (int i = 0; i < 4; i++) {
    cleanup_free char *total = xasprintf("%llu", (unsigned long long) rows[i].total);
    cleanup_free char *active = xasprintf("%llu", (unsigned long long) rows[i].active);
    cleanup_free char *size = berth_fmt_size_prec(rows[i].size, 4);
    cleanup_free char *rec = berth_fmt_size_prec(rows[i].reclaimable, 4);
    cleanup_free char *recl =
      rows[i].size
        ? xasprintf("%s (%llu%%)", rec, (unsigned long long) (100 * rows[i].reclaimable / rows[i].size))
        : xstrdup(rec);
    json_array_append_new(v, json_pack("{s:s, s:s, s:s, s:s, s:s}", "Active", active, "Reclaimable", recl,
                                       "Size", size, "TotalCount", total, "Type", rows[i].type));
  }
  return v;
}

static void df_table(json_t *rows)
{
  struct berth_table t;
  berth_table_init(&t, 5);
  t.minwidth = 10; /* docker system df's layout */
  const char *head[] = { "TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE" };
  berth_table_add(&t, head);
  size_t i;
  json_t *r;
  json_array_foreach (rows, i, r) {
    const char *keys[] = { "Type", "TotalCount", "Active", "Size", "Reclaimable" };
    const char *cells[5];
    for (size_t k = 0; k < 5; k++)
      cells[k] = json_string_value(json_object_get(r, keys[k]));
    berth_table_add(&t, cells);
  }
  berth_table_print(&t, stdout);
  berth_table_release(&t);
}

int cmd_system_df(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  const char *format = NULL;
  const struct berth_cli_opt opts[] = {
    { "format", 0, BERTH_CLI_STRING, &format, "string",
      "Format output: table (default), table TEMPLATE, json, or a Go template ({{.Type}})" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  int r = cli_parse(ctx, argc, argv, opts, "berth system df [OPTIONS]", "Show berth disk usage", err);
  if (r != 0 || cli_want_args(ctx, 0, 0, "none", err) < 0)
    return r > 0 ? 0 : -1;
  struct berth_engine *e = NULL;
  struct berth_df_row rows[4];
  if (cli_open_engine(ctx, &e, err) < 0)
    return -1;
  r = berth_system_df(e, rows, err);
  berth_engine_close(e);
  if (r < 0)
    return -1;
  json_t *v = df_rows(rows);
  if (cli_format_is_default(format))
    df_table(v);
  else
    r = cli_format_list(ctx, format, &df_format, v, NULL, err);
  json_decref(v);
  return r < 0 ? -1 : 0;
}

int cmd_system_check(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  bool repair = false, quiet = false;
  const struct berth_cli_opt opts[] = {
    { "repair", 'r', BERTH_CLI_BOOL, &repair, NULL,
      "Remove orphans and leftovers, recompute reference counts" },
    { "quiet", 'q', BERTH_CLI_BOOL, &quiet, NULL, "Only the exit status: 0 consistent (or repaired), 1 not" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  int r =
    cli_parse(ctx, argc, argv, opts, "berth system check [OPTIONS]",
              "Check the store's files against the catalogue; each problem is reported with whether --repair "
              "can fix it",
              err);
  if (r != 0 || cli_want_args(ctx, 0, 0, "none", err) < 0)
    return r > 0 ? 0 : -1;
  struct berth_engine *e = NULL;
  struct berth_check_problem *p = NULL;
  size_t n = 0;
  if (cli_open_engine(ctx, &e, err) < 0)
    return -1;
  r = berth_system_check(e, repair, &p, &n, err);
  berth_engine_close(e);
  if (r < 0)
    return -1;
  size_t repairable = 0, left = 0;
  for (size_t i = 0; i < n; i++) {
    repairable += p[i].repairable;
    left += !p[i].repaired;
    if (!quiet)
      printf("%s: %s\n", p[i].repaired ? "repaired" : p[i].repairable ? "repairable" : "damaged", p[i].what);
  }
  if (!quiet && n == 0)
    printf("store and catalogue are consistent\n");
  else if (!quiet)
    printf("%zu problem%s, %zu repairable, %zu left\n", n, n == 1 ? "" : "s", repairable, left);
  berth_check_problems_free(p, n);
  return left ? 1 : 0;
}
