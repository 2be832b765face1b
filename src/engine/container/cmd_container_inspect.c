/* berth container inspect, and berth inspect: containers and images alike (--type) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/strutil.h"
#include "cli_format.h"
#include "container_cmd.h"
#include "engine/images/images.h"

enum kind { ANY, CONTAINER, IMAGE };

static json_t *inspect_one(struct berth_engine *e, const char *what, enum kind k, berth_error_t *err)
{
  berth_error_t cerr = NULL;
  json_t *o = k == IMAGE ? NULL : berth_ctr_inspect(e, what, &cerr);
  if (o || k == CONTAINER) {
    if (cerr)
      *err = steal_ptr(cerr);
    return o;
  }
  berth_error_release(&cerr);
  o = berth_images_inspect(e, what, err);
  if (o == NULL && k == ANY) {
    berth_error_release(err);
    BERTH_ERR(err, "no such object: `%s`", what);
  }
  return o;
}

static int inspect(struct cmd_ctx *ctx, int argc, char **argv, enum kind k, const char *usage,
                   berth_error_t *err)
{
  const char *format = NULL, *type = NULL;
  const struct berth_cli_opt opts_any[] = {
    { "format", 'f', BERTH_CLI_STRING, &format, "string",
      "Format output: json, or a Go template ({{.Id}}, {{json .State}})" },
    { "type", 0, BERTH_CLI_STRING, &type, "string",
      "Only inspect objects of the given type (container or image)" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  int r = cli_parse(ctx, argc, argv, opts_any, usage, "Return low-level information on berth objects", err);
  if (r != 0 || cli_want_args(ctx, 1, -1, "NAME|ID", err) < 0)
    return r > 0 ? 0 : -1;
  if (type && k == ANY) {
    k = strcmp(type, "container") == 0 ? CONTAINER : strcmp(type, "image") == 0 ? IMAGE : ANY;
    if (k == ANY) {
      ctx->usage_error = true;
      return BERTH_ERR(err, "%s: --type: expected container or image, got `%s`", ctx->path, type);
    }
  }
  struct berth_engine *e = NULL;
  if (cli_open_engine(ctx, &e, err) < 0)
    return -1;
  json_t *all = json_array();
  int status = 0;
  for (int i = 0; i < ctx->argc; i++) {
    berth_error_t one = NULL;
    json_t *o = inspect_one(e, ctx->argv[i], k, &one);
    if (o == NULL) {
      cli_report(&one);
      status = 1;
    } else {
      json_array_append_new(all, o);
    }
  }
  berth_engine_close(e);
  int st = cli_format_inspect(ctx, format, all);
  json_decref(all);
  return st ? st : status;
}

int cmd_container_inspect(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  return inspect(ctx, argc, argv, CONTAINER, "berth container inspect [OPTIONS] CONTAINER [CONTAINER...]",
                 err);
}

int cmd_inspect(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  return inspect(ctx, argc, argv, ANY, "berth inspect [OPTIONS] NAME|ID [NAME|ID...]", err);
}
