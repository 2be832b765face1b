/* berth load [-i FILE|DIR]: docker-archive, oci-archive or an OCI layout dir (stdin by default) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/strutil.h"
#include "cli.h"
#include "commands.h"
#include "engine/images/images.h"

int cmd_load(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  const char *input = NULL;
  bool quiet = false;
  uint64_t max_size = 0, max_ratio = 0;
  const struct berth_cli_opt opts[] = {
    { "input", 'i', BERTH_CLI_STRING, &input, "string",
      "Read from tar archive file or OCI layout directory, instead of STDIN" },
    { "quiet", 'q', BERTH_CLI_BOOL, &quiet, NULL, "Suppress the load output" },
    { "max-layer-size", 0, BERTH_CLI_SIZE, &max_size, "size",
      "Refuse a layer expanding beyond this (default 64g)" },
    { "max-layer-ratio", 0, BERTH_CLI_SIZE, &max_ratio, "n",
      "Refuse a layer expanding more than n times (default 1000)" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  int r = cli_parse(ctx, argc, argv, opts, "berth load [OPTIONS]",
                    "Load an image from a tar archive, an OCI layout directory or STDIN", err);
  if (r != 0 || cli_want_args(ctx, 0, 0, "none", err) < 0)
    return r > 0 ? 0 : -1;
  if (input == NULL && isatty(STDIN_FILENO)) {
    ctx->usage_error = true;
    return BERTH_ERR(err, "requested load from stdin, but stdin is empty");
  }
  if (max_size)
    ctx->g->limits.max_bytes = max_size;
  if (max_ratio)
    ctx->g->limits.max_ratio = max_ratio;
  struct berth_engine *e = NULL;
  if (cli_open_engine(ctx, &e, err) < 0)
    return -1;
  struct berth_load_result res;
  r = berth_images_load(e, input, STDIN_FILENO, &res, err);
  berth_engine_close(e);
  if (r < 0)
    return -1;
  for (char **n = res.names; !quiet && *n; n++)
    printf("Loaded image: %s\n", *n);
  for (char **id = res.untagged; !quiet && *id; id++)
    printf("Loaded image ID: %s\n", *id);
  berth_load_result_release(&res);
  return 0;
}
