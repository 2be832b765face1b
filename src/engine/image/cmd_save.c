/* berth save [-o FILE|DIR] [--format docker-archive|oci-archive|oci-dir] IMAGE... */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/output.h"
#include "cli.h"
#include "commands.h"
#include "engine/images/images.h"

int cmd_save(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  const char *output = NULL, *format = NULL;
  const struct berth_cli_opt opts[] = {
    { "output", 'o', BERTH_CLI_STRING, &output, "string",
      "Write to a file (a directory for oci-dir), instead of STDOUT" },
    { "format", 0, BERTH_CLI_STRING, &format, "string", "docker-archive (default), oci-archive or oci-dir" },
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
  /* written aside, renamed into place when complete (base/output.h) */
  cleanup_output struct berth_output out = BERTH_OUTPUT_INIT;
  if (output && f != BERTH_SAVE_OCI_DIR && berth_output_open(output, 0600, &out, err) < 0)
    return -1;
  struct berth_engine *e = NULL;
  if (cli_open_engine(ctx, &e, err) < 0)
    r = -1;
  else
    r = berth_images_save(e, (char *const *) ctx->argv, f, out.fd >= 0 ? out.fd : STDOUT_FILENO, output, err);
  berth_engine_close(e);
  if (r == 0 && out.fd >= 0)
    r = berth_output_commit(&out, err);
  return r < 0 ? -1 : 0;
}
