/* berth export [-o FILE] IMAGE: the image's flattened filesystem as a tar archive */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/xalloc.h"
#include "cli.h"
#include "engine/images.h"

int cmd_export(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  const char *output = NULL;
  const struct cli_opt opts[] = {
    { "output", 'o', CLI_STRING, &output, "string", "Write to a file, instead of STDOUT" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  int r =
    cli_parse(ctx, argc, argv, opts, "berth export [OPTIONS] IMAGE",
              "Export an image's filesystem (its layers merged, whiteouts applied) as a tar archive", err);
  if (r != 0 || cli_want_args(ctx, 1, 1, "IMAGE", err) < 0)
    return r > 0 ? 0 : -1;
  if (output == NULL && isatty(STDOUT_FILENO))
    return BERTH_ERR(err, "cowardly refusing to save to a terminal. Use the -o flag or redirect");
  cleanup_close int fd = -1;
  cleanup_free char *tmp = NULL;
  if (output) {
    tmp = xasprintf("%s.tmp-%d", output, (int) getpid());
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
      return BERTH_ERR_ERRNO(err, "create `%s`", tmp);
  }
  struct berth_engine *e = NULL;
  if (cli_open_engine(ctx, &e, err) < 0)
    r = -1;
  else
    r = berth_images_export(e, ctx->argv[0], fd >= 0 ? fd : STDOUT_FILENO, err);
  berth_engine_close(e);
  if (tmp && r == 0 && rename(tmp, output) < 0)
    r = BERTH_ERR_ERRNO(err, "rename `%s` to `%s`", tmp, output);
  if (tmp && r < 0)
    unlink(tmp);
  return r < 0 ? -1 : 0;
}
