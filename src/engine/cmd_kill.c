/* berth kill / container kill */
#include <signal.h>
#include <stdio.h>

#include "cmd_containers.h"

int cmd_kill(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  const char *signal_s = NULL;
  const struct cli_opt opts[] = {
    { "signal", 's', CLI_STRING, &signal_s, "string", "Signal to send to the container (default KILL)" },
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
  int status = 0;
  for (int i = 0; i < ctx->argc; i++) {
    berth_error_t one = NULL;
    if (berth_containers_kill(e, ctx->argv[i], sig, &one) < 0) {
      cli_report(&one);
      status = 1;
    } else {
      puts(ctx->argv[i]);
    }
  }
  berth_engine_close(e);
  return status;
}
