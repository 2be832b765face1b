/* berth cp / container cp: files between a container and the host, both directions
 * (engine/cp/cp.h has the rules and how paths stay inside the container). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/xalloc.h"
#include "container_cmd.h"
#include "engine/cp/cp.h"
#include "engine/format.h"

/* Docker's splitCpArg: "CONTAINER:PATH", unless the argument is an absolute path or starts with
 * "." (a local path holding ':' is written ./a:b) */
static const char *split_arg(const char *arg, char **container)
{
  const char *colon = strchr(arg, ':');
  *container = NULL;
  if (arg[0] == '/' || arg[0] == '.' || colon == NULL)
    return arg;
  *container = xstrndup(arg, (size_t) (colon - arg));
  return colon + 1;
}

int cmd_cp(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  bool archive = false, follow = false, quiet = false;
  const struct berth_cli_opt opts[] = {
    { "archive", 'a', BERTH_CLI_BOOL, &archive, NULL, "Archive mode (owners are always kept)" },
    { "follow-link", 'L', BERTH_CLI_BOOL, &follow, NULL, "Always follow symbol link in SRC_PATH" },
    { "quiet", 'q', BERTH_CLI_BOOL, &quiet, NULL, "Suppress progress output during copy" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  int r = cli_parse(ctx, argc, argv, opts,
                    "berth cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH\n        berth cp [OPTIONS] SRC_PATH "
                    "CONTAINER:DEST_PATH",
                    "Copy files/folders between a container and the local filesystem", err);
  if (r != 0 || cli_want_args(ctx, 2, 2, "SRC DEST", err) < 0)
    return r > 0 ? 0 : -1;
  cleanup_free char *sc = NULL, *dc = NULL;
  const char *src = split_arg(ctx->argv[0], &sc), *dst = split_arg(ctx->argv[1], &dc);
  ctx->usage_error = true;
  if (sc && dc)
    return BERTH_ERR(err, "%s: copying between containers is not supported", ctx->path);
  if (!sc && !dc)
    return BERTH_ERR(err, "%s: must specify at least one container source", ctx->path);
  if (*src == '\0' || *dst == '\0')
    return BERTH_ERR(err, "%s: empty path", ctx->path);
  /* `-`: a tar stream of the container's SRC_PATH on stdout, or one from stdin extracted
   * into the container's directory DEST_PATH */
  bool stream = strcmp(sc ? dst : src, "-") == 0;
  if (stream && !sc && isatty(STDIN_FILENO))
    return BERTH_ERR(err, "%s: stdin is a terminal: pipe a tar stream into `berth cp -`", ctx->path);
  if (stream && sc && isatty(STDOUT_FILENO))
    return BERTH_ERR(err, "%s: stdout is a terminal: redirect the tar stream of `berth cp ... -`", ctx->path);
  ctx->usage_error = false;
  struct berth_ctr_cp_request req = { .container = sc ? sc : dc,
                                      .to_container = dc != NULL,
                                      .src = src,
                                      .dst = dst,
                                      .follow_link = follow,
                                      .stream_fd = !stream ? -1
                                                   : sc    ? STDOUT_FILENO
                                                           : STDIN_FILENO };
  struct berth_cp_stats stats = { 0 };
  struct berth_engine *e = NULL;
  if (cli_open_engine(ctx, &e, err) < 0)
    return -1;
  r = berth_ctr_cp(e, &req, &stats, err);
  berth_engine_close(e);
  if (r < 0)
    return -1;
  if (!quiet && !stream) {
    cleanup_free char *size = berth_fmt_size(stats.bytes);
    fprintf(stderr, "Successfully copied %s to %s\n", size, ctx->argv[1]);
  }
  return 0;
}
