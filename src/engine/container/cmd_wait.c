/* berth wait / container wait: block until the containers stop, print their exit codes;
 * --condition healthy (podman's): until their healthcheck passes */
#include <stdio.h>
#include <string.h>

#include "container_cmd.h"

static int wait_healthy(struct berth_engine *e, const char *name, void *data, berth_error_t *err)
{
  return berth_ctr_wait_healthy(e, name, err);
}

int cmd_wait(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  const char *condition = NULL;
  const struct berth_cli_opt opts[] = {
    { "condition", 0, BERTH_CLI_STRING, &condition, "string",
      "Wait until the container is not-running (default), or healthy" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  int r = cli_parse(ctx, argc, argv, opts, "berth wait [OPTIONS] CONTAINER [CONTAINER...]",
                    "Block until one or more containers stop, then print their exit codes", err);
  if (r != 0 || cli_want_args(ctx, 1, -1, "CONTAINER", err) < 0)
    return r > 0 ? 0 : -1;
  bool healthy = condition && strcmp(condition, "healthy") == 0;
  if (condition && !healthy && strcmp(condition, "not-running") != 0) {
    ctx->usage_error = true;
    return BERTH_ERR(err, "%s: --condition: expected not-running or healthy, got `%s`", ctx->path, condition);
  }
  struct berth_engine *e = NULL;
  if (cli_open_engine(ctx, &e, err) < 0)
    return -1;
  int status = 0;
  if (healthy) {
    status = cli_each_name(ctx, e, wait_healthy, NULL);
    berth_engine_close(e);
    return status;
  }
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
