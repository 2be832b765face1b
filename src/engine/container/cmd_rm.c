/* berth rm / container rm / container remove */
#include <stdio.h>

#include "container_cmd.h"

struct rm_flags {
  bool force, volumes;
};

static int remove_one(struct berth_engine *e, const char *name, void *data, berth_error_t *err)
{
  const struct rm_flags *f = data;
  return berth_ctr_remove(e, name, f->force, f->volumes, err);
}

int cmd_rm(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  bool force = false, volumes = false;
  const struct berth_cli_opt opts[] = {
    { "force", 'f', BERTH_CLI_BOOL, &force, NULL, "Force the removal of a running container (uses SIGKILL)" },
    { "volumes", 'v', BERTH_CLI_BOOL, &volumes, NULL,
      "Remove anonymous volumes associated with the container" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  int r = cli_parse(ctx, argc, argv, opts, "berth rm [OPTIONS] CONTAINER [CONTAINER...]",
                    "Remove one or more containers", err);
  if (r != 0 || cli_want_args(ctx, 1, -1, "CONTAINER", err) < 0)
    return r > 0 ? 0 : -1;
  struct rm_flags flags = { force, volumes };
  struct berth_engine *e = NULL;
  if (cli_open_engine(ctx, &e, err) < 0)
    return -1;
  int status = cli_each_name(ctx, e, remove_one, &flags);
  berth_engine_close(e);
  return status;
}
