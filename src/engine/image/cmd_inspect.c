/* berth image inspect: Docker's JSON array; -f with a small template subset (cli_render_template) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "cli.h"
#include "commands.h"
#include "engine/images/images.h"

int cmd_image_inspect(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  const char *format = NULL;
  const struct berth_cli_opt opts[] = {
    { "format", 'f', BERTH_CLI_STRING, &format, "string",
      "Format output using a template ({{.Id}}, {{json .Config}})" },
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
      fprintf(stderr, "berth: %s\n", one->msg);
      berth_error_release(&one);
      status = 1;
      continue;
    }
    json_array_append_new(all, o);
  }
  berth_engine_close(e);
  for (size_t i = 0; format && i < json_array_size(all) && status >= 0; i++) {
    cleanup_free char *line = NULL;
    if (cli_render_template(format, json_array_get(all, i), &line, err) < 0)
      status = -1;
    else
      puts(line);
  }
  if (format == NULL)
    cli_print_json(all);
  json_decref(all);
  return status;
}
