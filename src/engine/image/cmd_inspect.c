/* berth image inspect: Docker's JSON array, or -f json / a Go template */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "cli.h"
#include "cli_format.h"
#include "commands.h"
#include "engine/images/images.h"

int cmd_image_inspect(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  const char *format = NULL;
  const struct berth_cli_opt opts[] = {
    { "format", 'f', BERTH_CLI_STRING, &format, "string",
      "Format output: json, or a Go template ({{.Id}}, {{json .Config}})" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  int r = cli_parse(ctx, argc, argv, opts, "berth image inspect [OPTIONS] IMAGE [IMAGE...]",
                    "Display detailed information on one or more images", err);
  if (r != 0 || cli_want_args(ctx, 1, -1, "IMAGE", err) < 0)
    return r > 0 ? 0 : -1;
  struct berth_engine *e = NULL;
  if (cli_open_engine(ctx, &e, err) < 0)
    return -1;
  json_t *all = json_array();
  int status = 0;
  for (int i = 0; i < ctx->argc; i++) {
    berth_error_t one = NULL;
    json_t *o = berth_images_inspect(e, ctx->argv[i], &one);
    if (o == NULL) {
      cli_report(&one);
      status = 1;
      continue;
    }
    json_array_append_new(all, o);
  }
  berth_engine_close(e);
  int st = cli_format_inspect(ctx, format, all);
  json_decref(all);
  return st ? st : status;
}
