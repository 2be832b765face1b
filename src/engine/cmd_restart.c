/* berth restart / container restart */
#include <stdio.h>

#include "cmd_containers.h"

int cmd_restart(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  const char *time_s = NULL;
  const struct cli_opt opts[] = {
    { "time", 't', CLI_STRING, &time_s, "int", "Seconds to wait before killing the container" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  int r = cli_parse(ctx, argc, argv, opts, "berth restart [OPTIONS] CONTAINER [CONTAINER...]",
                    "Restart one or more containers", err);
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
    if (berth_containers_restart(e, ctx->argv[i], timeout, &one) < 0) {
      cli_report(&one);
      status = 1;
    } else {
      puts(ctx->argv[i]);
    }
  }
  berth_engine_close(e);
  return status;
}
