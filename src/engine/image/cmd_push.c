/* berth push [OPTIONS] NAME[:TAG] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fs.h"
#include "commands.h"
#include "registry_opts.h"

int cmd_push(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  struct reg_cli rc;
  reg_cli_init(&rc, argc, argv);
  bool quiet = false;
  const char *digestfile = NULL;
  uint64_t chunk = 0;
  const struct berth_cli_opt opts[] = {
    { "digestfile", 0, BERTH_CLI_STRING, &digestfile, "path",
      "Write the digest of the pushed manifest to the file" },
    { "quiet", 'q', BERTH_CLI_BOOL, &quiet, NULL, "Suppress verbose output" },
    { "max-concurrent-uploads", 0, BERTH_CLI_SIZE, &rc.parallel, "n",
      "Upload at most n layers at a time (default 6)" },
    { "chunk-size", 0, BERTH_CLI_SIZE, &chunk, "size",
      "Upload blobs larger than this in chunks (default 64m)" },
    REG_CLI_OPTS(&rc),
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  int r =
    cli_parse(ctx, argc, argv, opts, "berth push [OPTIONS] NAME[:TAG]", "Upload an image to a registry", err);
  if (r != 0 || cli_want_args(ctx, 1, 1, "NAME[:TAG]", err) < 0)
    return r > 0 ? 0 : -1;
  struct berth_transfer_opts o;
  struct berth_engine *e = NULL;
  berth_digest_t digest;
  r = reg_cli_transfer(&rc, quiet, &o, err);
  o.reg.chunk_size = chunk;
  if (r == 0 && (r = cli_open_engine(ctx, &e, err)) == 0)
    r = berth_images_push(e, ctx->argv[0], &o, digest, err);
  if (r == 0 && digestfile != NULL)
    r = berth_write_file_atomic(digestfile, digest, strlen(digest), 0644, err);
  if (r == 0 && quiet)
    printf("%s\n", digest);
  berth_engine_close(e);
  reg_cli_release(&rc);
  return r;
}
