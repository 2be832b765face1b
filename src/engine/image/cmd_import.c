/* berth import [OPTIONS] file|- [REPOSITORY[:TAG]] */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "cli.h"
#include "commands.h"
#include "engine/images/images.h"

int cmd_import(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  cleanup_free const char **changes = NULL;
  const char *message = NULL, *platform = NULL;
  uint64_t max_size = 0, max_ratio_dummy = 0;
  (void) max_ratio_dummy;
  const struct berth_cli_opt opts[] = {
    { "change", 'c', BERTH_CLI_STRINGS, &changes, "list",
      "Apply Dockerfile instruction to the created image" },
    { "message", 'm', BERTH_CLI_STRING, &message, "string", "Set commit message for imported image" },
    { "platform", 0, BERTH_CLI_STRING, &platform, "string", "Set platform (os/arch[/variant]) of the image" },
    { "max-layer-size", 0, BERTH_CLI_SIZE, &max_size, "size",
      "Refuse a layer expanding beyond this (default 64g)" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  int r = cli_parse(ctx, argc, argv, opts, "berth import [OPTIONS] file|- [REPOSITORY[:TAG]]",
                    "Import the contents from a tarball to create a filesystem image", err);
  if (r != 0)
    return r < 0 ? -1 : 0;
  if (cli_want_args(ctx, 1, 2, "file|- [REPOSITORY[:TAG]]", err) < 0)
    return -1;
  const char *src = ctx->argv[0];
  cleanup_close int fd = strcmp(src, "-") == 0 ? -1 : open(src, O_RDONLY | O_CLOEXEC);
  if (fd < 0 && strcmp(src, "-") != 0)
    return BERTH_ERR_ERRNO(err, "import: open `%s`", src);
  if (max_size)
    ctx->g->limits.max_bytes = max_size;
  struct berth_engine *e = NULL;
  if (cli_open_engine(ctx, &e, err) < 0)
    return -1;
  struct berth_import_opts o = {
    .source = src,
    .message = message,
    .changes = (char *const *) changes,
    .reference = ctx->argc > 1 ? ctx->argv[1] : NULL,
    .platform = platform,
  };
  berth_digest_t id;
  r = berth_images_import(e, fd >= 0 ? fd : STDIN_FILENO, &o, id, err);
  berth_engine_close(e);
  if (r < 0)
    return -1;
  printf("%s\n", id);
  return 0;
}
