/* berth stop / container stop, berth restart / container restart */
#include <limits.h>
#include <stdio.h>

#include "base/strutil.h"
#include "container_cmd.h"

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

typedef int (*stop_fn)(struct berth_engine *, const char *, const int *, int, berth_error_t *);

struct stop_call {
  stop_fn op;
  const int *timeout;
  int sig; /* -s: 0 for the container's stop signal */
};

static int stop_one(struct berth_engine *e, const char *name, void *data, berth_error_t *err)
{
  const struct stop_call *c = data;
  return c->op(e, name, c->timeout, c->sig, err);
}

/* stop and restart: the same flags, one container after another */
static int stop_like(struct cmd_ctx *ctx, int argc, char **argv, const char *usage, const char *summary,
                     stop_fn op, berth_error_t *err)
{
  const char *time_s = NULL, *signal_s = NULL;
  const struct berth_cli_opt opts[] = {
    { "signal", 's', BERTH_CLI_STRING, &signal_s, "string", "Signal to send to the container" },
    { "time", 't', BERTH_CLI_STRING, &time_s, "int", "Seconds to wait before killing the container" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  int r = cli_parse(ctx, argc, argv, opts, usage, summary, err);
  int storage = 0, *timeout = NULL;
  if (r != 0 || cli_want_args(ctx, 1, -1, "CONTAINER", err) < 0 ||
      cli_parse_timeout(ctx, time_s, &timeout, &storage, err) < 0)
    return r > 0 ? 0 : -1;
  struct stop_call call = { op, timeout, 0 };
  if (signal_s && berth_runopts_parse_signal("--signal", signal_s, &call.sig, err) < 0) {
    ctx->usage_error = true;
    return berth_error_wrap(err, "%s", ctx->path);
  }
  struct berth_engine *e = NULL;
  if (cli_open_engine(ctx, &e, err) < 0)
    return -1;
  int status = cli_each_name(ctx, e, stop_one, &call);
  berth_engine_close(e);
  return status;
}

int cmd_stop(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  return stop_like(ctx, argc, argv, "berth stop [OPTIONS] CONTAINER [CONTAINER...]",
                   "Stop one or more running containers", berth_ctr_stop_signal, err);
}

int cmd_restart(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  return stop_like(ctx, argc, argv, "berth restart [OPTIONS] CONTAINER [CONTAINER...]",
                   "Restart one or more containers", berth_ctr_restart_signal, err);
}
