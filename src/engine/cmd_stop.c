/* berth stop / container stop, berth restart / container restart */
#include <limits.h>
#include <stdio.h>

#include "base/strutil.h"
#include "cmd_containers.h"

/* -t/--time: seconds, -1 for no limit */
int cli_parse_timeout(struct cmd_ctx *ctx, const char *s, int **out, int *storage, berth_error_t *err)
{
  *out = NULL;
  if (s == NULL)
    return 0;
  if (berth_parse_int(s, storage) < 0 || *storage < -1) {
    ctx->usage_error = true;
    return BERTH_ERR(err, "%s: invalid argument `%s` for --time: expected seconds (-1: no limit)", ctx->path,
                     s);
  }
  *out = storage;
  return 0;
}

/* stop and restart: the same flags, one container after another */
static int stop_like(struct cmd_ctx *ctx, int argc, char **argv, const char *usage, const char *summary,
                     int (*op)(struct berth_engine *, const char *, const int *, berth_error_t *),
                     berth_error_t *err)
{
  const char *time_s = NULL;
  const struct cli_opt opts[] = {
    { "time", 't', CLI_STRING, &time_s, "int", "Seconds to wait before killing the container" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  int r = cli_parse(ctx, argc, argv, opts, usage, summary, err);
  int storage = 0, *timeout = NULL;
  if (r != 0 || cli_want_args(ctx, 1, -1, "CONTAINER", err) < 0 ||
      cli_parse_timeout(ctx, time_s, &timeout, &storage, err) < 0)
    return r > 0 ? 0 : -1;
  struct berth_engine *e = NULL;
  if (cli_open_engine(ctx, &e, err) < 0)
    return -1;
  int status = 0;
  for (int i = 0; i < ctx->argc; i++) {
    berth_error_t one = NULL;
    if (op(e, ctx->argv[i], timeout, &one) < 0) {
      cli_report(&one);
      status = 1;
    } else {
      puts(ctx->argv[i]);
    }
  }
  berth_engine_close(e);
  return status;
}

int cmd_stop(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  return stop_like(ctx, argc, argv, "berth stop [OPTIONS] CONTAINER [CONTAINER...]",
                   "Stop one or more running containers", berth_containers_stop, err);
}

int cmd_restart(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  return stop_like(ctx, argc, argv, "berth restart [OPTIONS] CONTAINER [CONTAINER...]",
                   "Restart one or more containers", berth_containers_restart, err);
}
