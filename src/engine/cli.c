#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/events/events.h"
#include "engine/format.h"

/* 1: help printed, 0: go on, -1: a usage error (wrapped with the command's path) */
static int parsed(struct cmd_ctx *ctx, int r, bool help, const struct berth_cli_opt *opts, const char *usage,
                  const char *summary, berth_error_t *err)
{
  if (r < 0) {
    ctx->usage_error = true;
    return berth_error_wrap(err, "%s", ctx->path);
  }
  if (help) {
    berth_cli_print_help(BERTH_CLI_DOCKER, usage, summary, opts);
    return 1;
  }
  return 0;
}

int cli_parse(struct cmd_ctx *ctx, int argc, char **argv, const struct berth_cli_opt *opts, const char *usage,
              const char *summary, berth_error_t *err)
{
  const struct berth_cli p = { .dialect = BERTH_CLI_DOCKER, .opts = opts, .interspersed = true };
  bool help = false;
  int idx = 1;
  ctx->argv = xcalloc((size_t) argc + 1, sizeof(char *));
  ctx->argc = 0;
  int r = berth_cli_parse(&p, argc, argv, &idx, ctx->argv, &ctx->argc, &help, err);
  return parsed(ctx, r, help, opts, usage, summary, err);
}

int cli_parse_head(struct cmd_ctx *ctx, int argc, char **argv, const struct berth_cli_opt *opts,
                   const char *usage, const char *summary, int *at, berth_error_t *err)
{
  const struct berth_cli p = { .dialect = BERTH_CLI_DOCKER, .opts = opts };
  bool help = false;
  *at = 1;
  ctx->argv = xcalloc(1, sizeof(char *));
  ctx->argc = 0;
  int r = berth_cli_parse(&p, argc, argv, at, NULL, NULL, &help, err);
  return parsed(ctx, r, help, opts, usage, summary, err);
}

int cli_want_args(struct cmd_ctx *ctx, int min, int max, const char *what, berth_error_t *err)
{
  if (ctx->argc >= min && (max < 0 || ctx->argc <= max))
    return 0;
  ctx->usage_error = true;
  if (min == max)
    return BERTH_ERR(err, "%s: requires exactly %d argument%s (%s), got %d; see '%s --help'", ctx->path, min,
                     min == 1 ? "" : "s", what, ctx->argc, ctx->path);
  if (max < 0)
    return BERTH_ERR(err, "%s: requires at least %d argument%s (%s); see '%s --help'", ctx->path, min,
                     min == 1 ? "" : "s", what, ctx->path);
  return BERTH_ERR(err, "%s: accepts %d to %d arguments (%s), got %d; see '%s --help'", ctx->path, min, max,
                   what, ctx->argc, ctx->path);
}

int cli_open_engine(struct cmd_ctx *ctx, struct berth_engine **e, berth_error_t *err)
{
  struct berth_engine_opts o = { .root = ctx->g->root, .runroot = ctx->g->runroot, .limits = ctx->g->limits };
  return berth_engine_open(&o, e, err);
}

void cli_print_json(json_t *v)
{
  char *s = json_dumps(v, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
  if (s == NULL)
    berth_oom();
  puts(s);
  free(s);
}

bool cli_confirm(const char *warning)
{
  char line[64];
  printf("%s\nAre you sure you want to continue? [y/N] ", warning);
  fflush(stdout);
  if (fgets(line, sizeof line, stdin) == NULL)
    return false;
  return line[0] == 'y' || line[0] == 'Y';
}

void cli_print_pruned(const char *heading, char *const *removed, uint64_t reclaimed)
{
  if (removed[0])
    puts(heading);
  for (size_t i = 0; removed[i]; i++)
    puts(removed[i]);
  if (removed[0])
    puts("");
  char *size = berth_fmt_size(reclaimed);
  printf("Total reclaimed space: %s\n", size);
  free(size);
}

void cli_print_error(const char *msg)
{
  if (strncmp(msg, "berth ", 6) == 0) /* already names its command: "berth run: --cap-add: ..." */
    fprintf(stderr, "%s\n", msg);
  else
    fprintf(stderr, "berth: %s\n", msg);
}

void cli_report(berth_error_t *err)
{
  cli_print_error((*err)->msg);
  berth_error_release(err);
}

int cli_each_name(struct cmd_ctx *ctx, struct berth_engine *e, cli_name_fn fn, void *data)
{
  int status = 0;
  for (int i = 0; i < ctx->argc; i++) {
    berth_error_t one = NULL;
    if (fn(e, ctx->argv[i], data, &one) < 0) {
      cli_report(&one);
      status = 1;
    } else {
      puts(ctx->argv[i]);
    }
  }
  return status;
}

int cli_prune_filters(struct cmd_ctx *ctx, const char **filters, int64_t *until, char ***labels,
                      berth_error_t *err)
{
  *labels = xcalloc(1, sizeof(char *));
  *until = 0;
  for (size_t i = 0; filters && filters[i]; i++) {
    const char *f = filters[i];
    if (strncmp(f, "until=", 6) == 0 && berth_events_parse_time(f + 6, berth_engine_now(), until) == 0 &&
        *until > 0)
      continue;
    if (strncmp(f, "label=", 6) == 0 || strncmp(f, "label!=", 7) == 0) {
      cleanup_free char *l = f[5] == '!' ? xasprintf("!%s", f + 7) : xstrdup(f + 6);
      *labels = berth_strv_append(*labels, l);
      continue;
    }
    ctx->usage_error = true;
    return BERTH_ERR(err,
                     "%s: --filter: invalid filter `%s` (until=<timestamp|duration>, label=<k[=v]>, "
                     "label!=<k[=v]>)",
                     ctx->path, f);
  }
  return 0;
}
