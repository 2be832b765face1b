/* berth wait / container wait: block until the containers stop, print their exit codes */
#include <stdio.h>

#include "container_cmd.h"

int cmd_wait(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  int r = cli_parse(ctx, argc, argv, NULL, "berth wait CONTAINER [CONTAINER...]",
                    "Block until one or more containers stop, then print their exit codes", err);
  if (r != 0 || cli_want_args(ctx, 1, -1, "CONTAINER", err) < 0)
    return r > 0 ? 0 : -1;
  struct berth_engine *e = NULL;
  if (cli_open_engine(ctx, &e, err) < 0)
    return -1;
  int status = 0;
  for (int i = 0; i < ctx->argc; i++) {
    berth_error_t one = NULL;
    int64_t code = 0;
    if (berth_ctr_wait(e, ctx->argv[i], &code, &one) < 0) {
      cli_report(&one);
      status = 1;
    } else {
      printf("%lld\n", (long long) code);
      fflush(stdout);
    }
  }
  berth_engine_close(e);
  return status;
}
