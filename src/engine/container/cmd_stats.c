/* berth stats / container stats: CPU %, memory usage / limit, memory %, pids — streamed every
 * second (redrawn on a terminal), or once with --no-stream (after two samples a second apart,
 * CPU % needing both). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "cli_format.h"
#include "container_cmd.h"
#include "engine/format.h"

#define INTERVAL_MS 1000

struct stats_opts {
  bool all, no_stream, no_trunc;
  const char *format;
};

struct entry {
  char *id, *name;
  struct berth_ctr_stats_sample prev, now;
};

/* go-units BytesSize: binary units, 4 significant digits ("1.523MiB") */
static char *bytes_size(uint64_t v)
{
  static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
  double d = (double) v;
  size_t u = 0;
  while (d >= 1024.0 && u + 1 < BERTH_N_ELEMENTS(units)) {
    d /= 1024.0;
    u++;
  }
  return xasprintf("%.4g%s", d, units[u]);
}

static json_t *entry_json(const struct entry *en, bool no_trunc)
{
  cleanup_free char *cpu = xasprintf("%.2f%%", berth_ctr_stats_cpu_percent(&en->prev, &en->now));
  cleanup_free char *mp = xasprintf("%.2f%%", berth_ctr_stats_mem_percent(&en->now));
  cleanup_free char *u = bytes_size(en->now.mem_usage), *l = bytes_size(en->now.mem_limit);
  cleanup_free char *mem = xasprintf("%s / %s", u, l),
                    *pids = xasprintf("%llu", (unsigned long long) en->now.pids);
  char id[16];
  snprintf(id, sizeof id, "%.12s", en->id);
  return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Container", no_trunc ? en->id : id, "ID",
                   no_trunc ? en->id : id, "Name", en->name, "CPUPerc", cpu, "MemUsage", mem, "MemPerc", mp,
                   "PIDs", pids);
}

/* docker/cli's statsContext: its fields' column titles */
static const struct cli_list_format stats_format = {
  "*container.statsContext",
  "{\"Container\":\"CONTAINER\",\"Name\":\"NAME\",\"ID\":\"CONTAINER ID\",\"CPUPerc\":\"CPU %\","
  "\"MemUsage\":\"MEM USAGE / LIMIT\",\"MemPerc\":\"MEM %\",\"NetIO\":\"NET I/O\",\"BlockIO\":\"BLOCK I/O\","
  "\"PIDs\":\"PIDS\"}",
};

static int print_round(struct cmd_ctx *ctx, struct entry *v, size_t n, const struct stats_opts *o,
                       berth_error_t *err)
{
  bool table = cli_format_is_default(o->format);
  struct berth_table t;
  berth_table_init(&t, 6);
  const char *head[] = { "CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "PIDS" };
  berth_table_add(&t, head);
  int r = 0;
  json_t *rows = json_array();
  for (size_t i = 0; i < n; i++) {
    json_t *row = entry_json(&v[i], o->no_trunc);
    const char *keys[] = { "ID", "Name", "CPUPerc", "MemUsage", "MemPerc", "PIDs" };
    const char *cells[6];
    for (size_t k = 0; k < 6; k++)
      cells[k] = json_string_value(json_object_get(row, keys[k]));
    if (table)
      berth_table_add(&t, cells);
    json_array_append_new(rows, row);
  }
  if (!table)
    r = cli_format_list(ctx, o->format, &stats_format, rows, NULL, err);
  json_decref(rows);
  if (table) {
    if (!o->no_stream && isatty(STDOUT_FILENO))
      fputs("\033[2J\033[H", stdout); /* redraw in place, as Docker does */
    berth_table_print(&t, stdout);
  }
  berth_table_release(&t);
  fflush(stdout);
  return r;
}

static void entries_free(struct entry *v, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    free(v[i].id);
    free(v[i].name);
  }
  free(v);
}

/* the containers to show: those named, else every running one (-a: all), keeping the previous
 * samples of those already shown */
static int select_entries(struct berth_engine *e, struct cmd_ctx *ctx, const struct stats_opts *o,
                          struct entry **v, size_t *n, berth_error_t *err)
{
  struct berth_ctr *all = NULL;
  size_t k = 0;
  struct entry *out = NULL;
  size_t m = 0;
  if (berth_ctr_list(e, &all, &k, err) < 0)
    return -1;
  for (int i = 0; i < ctx->argc; i++) { /* named: each must exist */
    struct berth_ctr c;
    if (berth_ctr_get(e, ctx->argv[i], &c, err) < 0) {
      berth_ctr_list_free(all, k);
      entries_free(out, m);
      return -1;
    }
    out = xreallocarray(out, m + 1, sizeof *out);
    out[m++] = (struct entry){ .id = xstrdup(c.row.id), .name = xstrdup(c.row.name) };
    berth_ctr_release(&c);
  }
  for (size_t i = 0; ctx->argc == 0 && i < k; i++)
    if (o->all || berth_ctr_state_kept(all[i].state)) {
      out = xreallocarray(out, m + 1, sizeof *out);
      out[m++] = (struct entry){ .id = xstrdup(all[i].row.id), .name = xstrdup(all[i].row.name) };
    }
  berth_ctr_list_free(all, k);
  for (size_t i = 0; i < m; i++) /* carry the samples over */
    for (size_t j = 0; j < *n; j++)
      if (strcmp(out[i].id, (*v)[j].id) == 0) {
        out[i].now = (*v)[j].now;
      }
  entries_free(*v, *n);
  *v = out;
  *n = m;
  return 0;
}

/* a new sample of each; a container that went away meanwhile reads as stopped (zeros) */
static void sample(struct berth_engine *e, struct entry *v, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    struct berth_ctr c;
    berth_error_t none = NULL;
    v[i].prev = v[i].now;
    if (berth_ctr_get(e, v[i].id, &c, &none) == 0) {
      if (berth_ctr_stats(e, &c, &v[i].now, &none) < 0)
        memset(&v[i].now, 0, sizeof v[i].now);
      berth_ctr_release(&c);
    }
    berth_error_release(&none);
  }
}

static void sleep_ms(int ms)
{
  struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000L };
  while (nanosleep(&ts, &ts) < 0)
    ;
}

int cmd_stats(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  struct stats_opts o = { 0 };
  const struct berth_cli_opt opts[] = {
    { "all", 'a', BERTH_CLI_BOOL, &o.all, NULL, "Show all containers (default shows just running)" },
    { "format", 0, BERTH_CLI_STRING, &o.format, "string",
      "Format output: table (default), table TEMPLATE, json, or a Go template ({{.CPUPerc}})" },
    { "no-stream", 0, BERTH_CLI_BOOL, &o.no_stream, NULL,
      "Disable streaming stats and only pull the first result" },
    { "no-trunc", 0, BERTH_CLI_BOOL, &o.no_trunc, NULL, "Do not truncate output" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  int r = cli_parse(ctx, argc, argv, opts, "berth stats [OPTIONS] [CONTAINER...]",
                    "Display a live stream of container(s) resource usage statistics", err);
  if (r != 0)
    return r > 0 ? 0 : -1;
  struct berth_engine *e = NULL;
  struct entry *v = NULL;
  size_t n = 0;
  if (cli_open_engine(ctx, &e, err) < 0)
    return -1;
  for (int round = 0; r == 0; round++) {
    if ((r = select_entries(e, ctx, &o, &v, &n, err)) < 0)
      break;
    sample(e, v, n);
    if (round == 0) { /* CPU % needs two samples */
      sleep_ms(INTERVAL_MS);
      sample(e, v, n);
    }
    if ((r = print_round(ctx, v, n, &o, err)) < 0 || o.no_stream)
      break;
    sleep_ms(INTERVAL_MS);
  }
  entries_free(v, n);
  berth_engine_close(e);
  return r < 0 ? -1 : 0;
}
