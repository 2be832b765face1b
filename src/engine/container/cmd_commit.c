/* berth commit / container commit, berth diff / container diff (engine/commit/commit.h) */
#include <stdio.h>
#include <stdlib.h>

#include "base/cleanup.h"
#include "container_cmd.h"
#include "engine/commit/commit.h"

int cmd_commit(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  const char *author = NULL, *message = NULL;
  cleanup_free const char **changes = NULL;
  bool pause = true;
  const struct berth_cli_opt opts[] = {
    { "author", 'a', BERTH_CLI_STRING, &author, "string",
      "Author (e.g., \"John Hannibal Smith <hannibal@a-team.com>\")" },
    { "change", 'c', BERTH_CLI_STRINGS, &changes, "list",
      "Apply Dockerfile instruction to the created image" },
    { "message", 'm', BERTH_CLI_STRING, &message, "string", "Commit message" },
    { "pause", 'p', BERTH_CLI_BOOL, &pause, NULL, "Pause container during commit (default true)" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  int r = cli_parse(ctx, argc, argv, opts, "berth commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]",
                    "Create a new image from a container's changes", err);
  if (r != 0 || cli_want_args(ctx, 1, 2, "CONTAINER [REPOSITORY[:TAG]]", err) < 0)
    return r > 0 ? 0 : -1;
  struct berth_commit_opts o = { .reference = ctx->argc > 1 ? ctx->argv[1] : NULL,
                                 .author = author,
                                 .message = message,
                                 .changes = (char *const *) changes,
                                 .pause = pause };
  struct berth_engine *e = NULL;
  berth_digest_t id;
  if (cli_open_engine(ctx, &e, err) < 0)
    return -1;
  r = berth_commit_container(e, ctx->argv[0], &o, id, err);
  berth_engine_close(e);
  if (r < 0)
    return -1;
  puts(id);
  return 0;
}

int cmd_diff(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  int r = cli_parse(ctx, argc, argv, NULL, "berth diff CONTAINER",
                    "Inspect changes to files or directories on a container's filesystem", err);
  if (r != 0 || cli_want_args(ctx, 1, 1, "CONTAINER", err) < 0)
    return r > 0 ? 0 : -1;
  struct berth_engine *e = NULL;
  struct berth_change *v = NULL;
  size_t n = 0;
  if (cli_open_engine(ctx, &e, err) < 0)
    return -1;
  r = berth_commit_changes(e, ctx->argv[0], &v, &n, err);
  berth_engine_close(e);
  if (r < 0)
    return -1;
  for (size_t i = 0; i < n; i++)
    printf("%c %s\n", berth_change_letter(v[i].kind), v[i].path);
  berth_changes_free(v, n);
  return 0;
}
