/* berth system prune [-a] [--volumes] [--filter until=|label=] [-f] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "cli.h"
#include "commands.h"
#include "engine/format.h"
#include "engine/system/system.h"

static void section(const char *title, char *const *v)
{
  if (v == NULL || v[0] == NULL)
    return;
  printf("%s:\n", title);
  for (char *const *p = v; *p; p++)
    puts(*p);
  puts("");
}

int cmd_system_prune(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  bool all = false, volumes = false, force = false;
  cleanup_free const char **filters = NULL;
  const struct berth_cli_opt opts[] = {
    { "all", 'a', BERTH_CLI_BOOL, &all, NULL, "Remove all unused images not just dangling ones" },
    { "filter", 0, BERTH_CLI_STRINGS, &filters, "filter",
      "Provide filter values (e.g. \"label=<key>=<value>\")" },
    { "force", 'f', BERTH_CLI_BOOL, &force, NULL, "Do not prompt for confirmation" },
    { "volumes", 0, BERTH_CLI_BOOL, &volumes, NULL, "Prune anonymous volumes" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  int r = cli_parse(ctx, argc, argv, opts, "berth system prune [OPTIONS]", "Remove unused data", err);
  if (r != 0 || cli_want_args(ctx, 0, 0, "none", err) < 0)
    return r > 0 ? 0 : -1;
  struct berth_system_prune_opts o = { .all = all, .volumes = volumes };
  cleanup_strv char **labels = NULL;
  if (cli_prune_filters(ctx, filters, &o.until, &labels, err) < 0)
    return -1;
  o.labels = labels;
  if (!force) {
    cleanup_free char *warning = xasprintf(
      "WARNING! This will remove:\n  - all stopped containers\n  - all networks not used by at least one "
      "container\n%s  - %s\n  - unused build cache\n",
      volumes ? "  - all anonymous volumes not used by at least one container\n" : "",
      all ? "all images without at least one container associated to them" : "all dangling images");
    warning[strlen(warning) - 1] = '\0';
    if (!cli_confirm(warning))
      return 0;
  }
  struct berth_engine *e = NULL;
  struct berth_system_prune_result res = { 0 };
  if (cli_open_engine(ctx, &e, err) < 0)
    return -1;
  r = berth_system_prune(e, &o, &res, err);
  berth_engine_close(e);
  if (r == 0) {
    section("Deleted Containers", res.containers);
    section("Deleted Networks", res.networks);
    section("Deleted Volumes", res.volumes);
    section("Deleted Images", res.images);
    cleanup_free char *size = berth_fmt_size(res.reclaimed);
    printf("Total reclaimed space: %s\n", size);
  }
  berth_system_prune_result_release(&res);
  if (r < 0)
    ctx->usage_error = false;
  return r;
}
