/* berth rename / container rename */
#include "container_cmd.h"

int cmd_rename(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  const struct berth_cli_opt opts[] = { { NULL, 0, 0, NULL, NULL, NULL } };
  int r = cli_parse(ctx, argc, argv, opts, "berth rename CONTAINER NEW_NAME", "Rename a container", err);
  if (r != 0 || cli_want_args(ctx, 2, 2, "CONTAINER NEW_NAME", err) < 0)
    return r > 0 ? 0 : -1;
  struct berth_engine *e = NULL;
  if (cli_open_engine(ctx, &e, err) < 0)
    return -1;
  r = berth_ctr_rename(e, ctx->argv[0], ctx->argv[1], err);
  berth_engine_close(e);
  return r < 0 ? -1 : 0;
}
