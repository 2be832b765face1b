/* berth top / container top: the container's processes, as `ps -ef` shows them */
#include <stdio.h>
#include <string.h>

#include "container_cmd.h"
#include "engine/format.h"

int cmd_top(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  const struct berth_cli_opt opts[] = { { NULL, 0, 0, NULL, NULL, NULL } };
  int at = argc > 1 && argv[1][0] != '-' ? 2 : argc; /* what follows CONTAINER is ps's */
  int r = cli_parse(ctx, at, argv, opts, "berth top CONTAINER [ps OPTIONS]",
                    "Display the running processes of a container", err);
  if (r != 0 || cli_want_args(ctx, 1, 1, "CONTAINER", err) < 0)
    return r > 0 ? 0 : -1;
  if (at < argc && (strcmp(argv[at], "-ef") != 0 || at + 1 < argc)) {
    ctx->usage_error = true;
    return BERTH_ERR(err, "%s: ps options other than the default `-ef` are not supported: `%s`", ctx->path,
                     argv[at]);
  }
  struct berth_engine *e = NULL;
  struct berth_ctr_top t;
  if (cli_open_engine(ctx, &e, err) < 0)
    return -1;
  r = berth_ctr_top(e, ctx->argv[0], &t, err);
  berth_engine_close(e);
  if (r < 0)
    return -1;
  struct berth_table tab;
  berth_table_init(&tab, t.ncols);
  berth_table_add(&tab, (const char *const *) t.titles);
  for (size_t i = 0; i < t.nrows; i++)
    berth_table_add(&tab, (const char *const *) t.rows[i]);
  berth_table_print(&tab, stdout);
  berth_table_release(&tab);
  berth_ctr_top_release(&t);
  return 0;
}
