/* berth pull [OPTIONS] NAME[:TAG|@DIGEST] */
#include <stdio.h>
#include <stdlib.h>

#include "commands.h"
#include "registry_opts.h"

int cmd_pull(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  struct reg_cli rc;
  reg_cli_init(&rc, argc, argv);
  bool quiet = false, all_tags = false;
  const char *platform = NULL;
  const struct berth_cli_opt opts[] = {
    { "all-tags", 'a', BERTH_CLI_BOOL, &all_tags, NULL, "Download all tagged images in the repository" },
    { "platform", 0, BERTH_CLI_STRING, &platform, "os/arch[/variant]",
      "Pull the image of this platform (default: the host's)" },
    { "quiet", 'q', BERTH_CLI_BOOL, &quiet, NULL, "Suppress verbose output" },
    { "max-concurrent-downloads", 0, BERTH_CLI_SIZE, &rc.parallel, "n",
      "Download at most n layers at a time (default 6)" },
    REG_CLI_OPTS(&rc),
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  int r = cli_parse(ctx, argc, argv, opts, "berth pull [OPTIONS] NAME[:TAG|@DIGEST]",
                    "Download an image from a registry", err);
  if (r != 0 || cli_want_args(ctx, 1, 1, "NAME[:TAG|@DIGEST]", err) < 0)
    return r > 0 ? 0 : -1;
  struct berth_transfer_opts o;
  struct berth_engine *e = NULL;
  struct berth_pull_result res = { 0 };
  r = reg_cli_transfer(&rc, quiet, &o, err);
  o.platform = platform;
  o.all_tags = all_tags;
  if (r == 0 && (r = cli_open_engine(ctx, &e, err)) == 0)
    r = berth_images_pull(e, ctx->argv[0], &o, &res, err);
  if (r == 0)
    printf("%s\n", res.name);
  berth_pull_result_release(&res);
  berth_engine_close(e);
  reg_cli_release(&rc);
  return r;
}
