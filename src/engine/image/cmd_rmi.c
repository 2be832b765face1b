/* berth tag, berth rmi / image rm, berth image prune */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "cli.h"
#include "commands.h"
#include "engine/format.h"
#include "engine/images/images.h"

int cmd_tag(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  int r = cli_parse(ctx, argc, argv, NULL, "berth tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
                    "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE", err);
  if (r != 0 || cli_want_args(ctx, 2, 2, "SOURCE_IMAGE TARGET_IMAGE", err) < 0)
    return r > 0 ? 0 : -1;
  struct berth_engine *e = NULL;
  if (cli_open_engine(ctx, &e, err) < 0)
    return -1;
  r = berth_images_tag(e, ctx->argv[0], ctx->argv[1], err);
  berth_engine_close(e);
  return r < 0 ? -1 : 0;
}

int cmd_rmi(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  struct berth_rmi_opts o = { 0 };
  const struct berth_cli_opt opts[] = {
    { "force", 'f', BERTH_CLI_BOOL, &o.force, NULL, "Force removal of the image" },
    { "no-prune", 0, BERTH_CLI_BOOL, &o.no_prune, NULL, "Do not delete untagged parents" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  int r = cli_parse(ctx, argc, argv, opts, "berth rmi [OPTIONS] IMAGE [IMAGE...]",
                    "Remove one or more images", err);
  if (r != 0 || cli_want_args(ctx, 1, -1, "IMAGE", err) < 0)
    return r > 0 ? 0 : -1;
  struct berth_engine *e = NULL;
  if (cli_open_engine(ctx, &e, err) < 0)
    return -1;
  int status = 0;
  for (int i = 0; i < ctx->argc; i++) {
    cleanup_strv char **events = NULL;
    berth_error_t one = NULL;
    if (berth_images_remove(e, ctx->argv[i], &o, &events, &one) < 0) {
      fprintf(stderr, "berth: %s\n", one->msg);
      berth_error_release(&one);
      status = 1;
      continue;
    }
    for (char **ev = events; *ev; ev++)
      puts(*ev);
  }
  berth_engine_close(e);
  return status;
}

int cmd_image_prune(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  bool all = false, force = false;
  cleanup_free const char **filters = NULL;
  const struct berth_cli_opt opts[] = {
    { "all", 'a', BERTH_CLI_BOOL, &all, NULL, "Remove all unused images, not just dangling ones" },
    { "filter", 0, BERTH_CLI_STRINGS, &filters, "filter",
      "Provide filter values (e.g. \"until=<timestamp>\")" },
    { "force", 'f', BERTH_CLI_BOOL, &force, NULL, "Do not prompt for confirmation" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  int r = cli_parse(ctx, argc, argv, opts, "berth image prune [OPTIONS]", "Remove unused images", err);
  if (r != 0 || cli_want_args(ctx, 0, 0, "none", err) < 0)
    return r > 0 ? 0 : -1;
  struct berth_images_prune_opts po = { .all = all };
  cleanup_strv char **labels = NULL;
  if (cli_prune_filters(ctx, filters, &po.until, &labels, err) < 0)
    return -1;
  po.labels = labels;
  const char *warn =
    all ? "WARNING! This will remove all images without at least one container associated to them."
        : "WARNING! This will remove all dangling images.";
  if (!force && !cli_confirm(warn))
    return 0;
  struct berth_engine *e = NULL;
  if (cli_open_engine(ctx, &e, err) < 0)
    return -1;
  cleanup_strv char **events = NULL;
  uint64_t reclaimed = 0;
  r = berth_images_prune_filtered(e, &po, &events, &reclaimed, err);
  berth_engine_close(e);
  if (r < 0)
    return -1;
  cli_print_pruned("Deleted Images:", events, reclaimed);
  return 0;
}
