/* berth export [-o FILE] CONTAINER|IMAGE: a container's (as docker export) or an image's
 * flattened filesystem as a tar archive */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/output.h"
#include "cli.h"
#include "commands.h"
#include "engine/containers/containers.h"
#include "engine/images/images.h"

/* a container by that name or id first (Docker's export), else an image */
static int export_one(struct berth_engine *e, const char *what, int fd, berth_error_t *err)
{
  struct berth_ctr c;
  berth_error_t nf = NULL;
  if (berth_ctr_get(e, what, &c, &nf) == 0) {
    berth_ctr_release(&c);
    return berth_ctr_export(e, what, fd, err);
  }
  berth_error_release(&nf);
  return berth_images_export(e, what, fd, err);
}

int cmd_export(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  const char *output = NULL;
  const struct berth_cli_opt opts[] = {
    { "output", 'o', BERTH_CLI_STRING, &output, "string", "Write to a file, instead of STDOUT" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  int r =
    cli_parse(ctx, argc, argv, opts, "berth export [OPTIONS] CONTAINER|IMAGE",
              "Export a container's filesystem (its image and its own changes; volumes excluded), or an\n"
              "image's (its layers merged, whiteouts applied), as a tar archive",
              err);
  if (r != 0 || cli_want_args(ctx, 1, 1, "CONTAINER|IMAGE", err) < 0)
    return r > 0 ? 0 : -1;
  if (output == NULL && isatty(STDOUT_FILENO))
    return BERTH_ERR(err, "cowardly refusing to save to a terminal. Use the -o flag or redirect");
  /* written aside, renamed into place when complete (base/output.h) */
  cleanup_output struct berth_output out = BERTH_OUTPUT_INIT;
  if (output && berth_output_open(output, 0600, &out, err) < 0)
    return -1;
  struct berth_engine *e = NULL;
  if (cli_open_engine(ctx, &e, err) < 0)
    r = -1;
  else
    r = export_one(e, ctx->argv[0], out.fd >= 0 ? out.fd : STDOUT_FILENO, err);
  berth_engine_close(e);
  if (r == 0 && out.fd >= 0)
    r = berth_output_commit(&out, err);
  return r < 0 ? -1 : 0;
}
