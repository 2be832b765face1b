/* berth kill / container kill */
#include <signal.h>
#include <stdio.h>

#include "container_cmd.h"

static int kill_one(struct berth_engine *e, const char *name, void *sig, berth_error_t *err)
{
  return berth_ctr_kill(e, name, *(int *) sig, err);
}

int cmd_kill(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  const char *signal_s = NULL;
  const struct berth_cli_opt opts[] = {
    { "signal", 's', BERTH_CLI_STRING, &signal_s, "string",
      "Signal to send to the container (default KILL)" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  int r = cli_parse(ctx, argc, argv, opts, "berth kill [OPTIONS] CONTAINER [CONTAINER...]",
                    "Kill one or more running containers", err);
  int sig = SIGKILL;
  if (r != 0 || cli_want_args(ctx, 1, -1, "CONTAINER", err) < 0)
    return r > 0 ? 0 : -1;
  if (signal_s && berth_runopts_parse_signal("--signal", signal_s, &sig, err) < 0) {
    ctx->usage_error = true;
    return berth_error_wrap(err, "%s", ctx->path);
  }
  struct berth_engine *e = NULL;
  if (cli_open_engine(ctx, &e, err) < 0)
    return -1;
  int status = cli_each_name(ctx, e, kill_one, &sig);
  berth_engine_close(e);
  return status;
}
