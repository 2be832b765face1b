/* berth save [-o FILE|DIR] [--format docker-archive|oci-archive|oci-dir] IMAGE... */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/xalloc.h"
#include "cli.h"
#include "engine/images.h"

int cmd_save(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  const char *output = NULL, *format = NULL;
  const struct cli_opt opts[] = {
    { "output", 'o', CLI_STRING, &output, "string",
      "Write to a file (a directory for oci-dir), instead of STDOUT" },
    { "format", 0, CLI_STRING, &format, "string", "docker-archive (default), oci-archive or oci-dir" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  int r = cli_parse(ctx, argc, argv, opts, "berth save [OPTIONS] IMAGE [IMAGE...]",
                    "Save one or more images to a tar archive (streamed to STDOUT by default)", err);
  if (r != 0 || cli_want_args(ctx, 1, -1, "IMAGE", err) < 0)
    return r > 0 ? 0 : -1;
  enum berth_save_format f;
  if (berth_save_format_parse(format, &f, err) < 0) {
    ctx->usage_error = true;
    return -1;
  }
  if (f == BERTH_SAVE_OCI_DIR && output == NULL) {
    ctx->usage_error = true;
    return BERTH_ERR(err, "--format oci-dir needs -o DIR");
  }
  if (output == NULL && isatty(STDOUT_FILENO))
    return BERTH_ERR(err, "cowardly refusing to save to a terminal. Use the -o flag or redirect");
  cleanup_close int fd = -1;
  cleanup_free char *tmp = NULL;
  if (output && f != BERTH_SAVE_OCI_DIR) { /* written aside, renamed into place when complete */
    tmp = xasprintf("%s.tmp-%d", output, (int) getpid());
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
      return BERTH_ERR_ERRNO(err, "create `%s`", tmp);
  }
  struct berth_engine *e = NULL;
  if (cli_open_engine(ctx, &e, err) < 0)
    r = -1;
  else
    r = berth_images_save(e, (char *const *) ctx->argv, f, fd >= 0 ? fd : STDOUT_FILENO, output, err);
  berth_engine_close(e);
  if (tmp && r == 0 && rename(tmp, output) < 0)
    r = BERTH_ERR_ERRNO(err, "rename `%s` to `%s`", tmp, output);
  if (tmp && r < 0)
    unlink(tmp);
  return r < 0 ? -1 : 0;
}
