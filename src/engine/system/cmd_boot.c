/* berth system boot (contrib/berth-boot.service runs it once at boot) and berth generate systemd */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/strutil.h"
#include "cli.h"
#include "commands.h"
#include "engine/system/system.h"

int cmd_system_boot(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  bool quiet = false;
  const struct berth_cli_opt opts[] = {
    { "quiet", 'q', BERTH_CLI_BOOL, &quiet, NULL, "Print nothing but errors" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  int r =
    cli_parse(ctx, argc, argv, opts, "berth system boot [OPTIONS]",
              "Start the containers whose restart policy is always or unless-stopped (once, at boot)", err);
  if (r != 0 || cli_want_args(ctx, 0, 0, "none", err) < 0)
    return r > 0 ? 0 : -1;
  struct berth_engine *e = NULL;
  cleanup_strv char **started = NULL, **failed = NULL;
  if (cli_open_engine(ctx, &e, err) < 0)
    return -1;
  r = berth_system_boot(e, &started, &failed, err);
  berth_engine_close(e);
  if (r < 0)
    return -1;
  for (char **s = started; !quiet && *s; s++)
    printf("started %s\n", *s);
  for (char **f = failed; *f; f++)
    fprintf(stderr, "berth: system boot: %s\n", *f);
  return failed[0] ? 1 : 0;
}

int cmd_generate_systemd(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  bool name = false, new_ = false, files = false;
  int timeout = 10;
  const char *restart = NULL;
  const struct berth_cli_opt opts[] = {
    { "name", 'n', BERTH_CLI_BOOL, &name, NULL, "Use the container's name instead of its id in the unit" },
    { "restart-policy", 0, BERTH_CLI_STRING, &restart, "policy",
      "systemd restart-policy (no, on-success, on-failure, on-abnormal, on-watchdog, on-abort, always)" },
    { "time", 't', BERTH_CLI_INT, &timeout, "seconds", "Stop timeout override (default 10)" },
    { "new", 0, BERTH_CLI_BOOL, &new_, NULL,
      "Create a new container (refused: berth keeps no command line)" },
    { "files", 'f', BERTH_CLI_BOOL, &files, NULL, NULL },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  int r = cli_parse(ctx, argc, argv, opts, "berth generate systemd [OPTIONS] CONTAINER",
                    "Generate a systemd unit file for a container", err);
  if (r != 0 || cli_want_args(ctx, 1, 1, "CONTAINER", err) < 0)
    return r > 0 ? 0 : -1;
  static const char *const policies[] = { "no",          "on-success", "on-failure", "on-abnormal",
                                          "on-watchdog", "on-abort",   "always" };
  bool ok = restart == NULL;
  for (size_t i = 0; !ok && i < BERTH_N_ELEMENTS(policies); i++)
    ok = strcmp(restart, policies[i]) == 0;
  if (!ok || new_ || timeout < 0) {
    ctx->usage_error = true;
    return BERTH_ERR(err, "%s: %s", ctx->path,
                     new_ ? "--new: not supported (berth keeps no command line to create the container again)"
                     : !ok
                       ? "--restart-policy: expected no, on-success, on-failure, on-abnormal, on-watchdog, "
                         "on-abort or always"
                       : "--time: expected seconds, 0 or more");
  }
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  self[n > 0 ? n : 0] = '\0';
  struct berth_unit_opts o = {
    .berth = n > 0 ? self : "berth", .use_name = name, .restart = restart, .stop_timeout = timeout
  };
  struct berth_engine *e = NULL;
  cleanup_free char *unit = NULL;
  if (cli_open_engine(ctx, &e, err) < 0)
    return -1;
  r = berth_system_unit(e, ctx->argv[0], &o, &unit, err);
  berth_engine_close(e);
  if (r < 0)
    return -1;
  fputs(unit, stdout);
  return 0;
}
