/* berth pause / unpause (container pause / unpause): the runtime's pause and resume */
#include <stdio.h>

#include "container_cmd.h"

typedef int (*state_fn)(struct berth_engine *e, const char *what, berth_error_t *err);

static int state_one(struct berth_engine *e, const char *name, void *fn, berth_error_t *err)
{
  return (*(state_fn *) fn)(e, name, err);
}

static int each(struct cmd_ctx *ctx, int argc, char **argv, const char *usage, const char *summary,
                state_fn fn, berth_error_t *err)
{
  const struct berth_cli_opt opts[] = { { NULL, 0, 0, NULL, NULL, NULL } };
  int r = cli_parse(ctx, argc, argv, opts, usage, summary, err);
  if (r != 0 || cli_want_args(ctx, 1, -1, "CONTAINER", err) < 0)
    return r > 0 ? 0 : -1;
  struct berth_engine *e = NULL;
  if (cli_open_engine(ctx, &e, err) < 0)
    return -1;
  int status = cli_each_name(ctx, e, state_one, &fn);
  berth_engine_close(e);
  return status;
}

int cmd_pause(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  return each(ctx, argc, argv, "berth pause CONTAINER [CONTAINER...]",
              "Pause all processes within one or more containers", berth_ctr_pause, err);
}

int cmd_unpause(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  return each(ctx, argc, argv, "berth unpause CONTAINER [CONTAINER...]",
              "Unpause all processes within one or more containers", berth_ctr_unpause, err);
}
