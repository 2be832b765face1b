/* berth start / container start: -a attaches (and exits with the container's code), -i too with stdin */
#include <stdio.h>

#include "container_cmd.h"
#include "engine/monitor/monitor.h"

static int start_attached(struct cmd_ctx *ctx, struct berth_engine *e, const char *what, bool interactive,
                          const char *detach_keys, berth_error_t *err)
{
  struct berth_ctr c;
  if (berth_ctr_get(e, what, &c, err) < 0)
    return -1;
  bool tty = json_is_true(json_object_get(c.config, "Tty"));
  bool in = interactive && json_is_true(json_object_get(c.config, "OpenStdin"));
  berth_ctr_id_t id;
  snprintf(id, sizeof id, "%s", c.row.id);
  berth_ctr_release(&c);
  unsigned want = BERTH_ATTACH_WANT_STDOUT | BERTH_ATTACH_WANT_STDERR | (in ? BERTH_ATTACH_WANT_STDIN : 0);
  struct berth_ctr_attach a = { .fd = -1 };
  int code = 0;
  if (berth_ctr_start(e, id, want, &a, &code, err) < 0)
    return -1;
  struct stream_opts so = { .tty = tty, .stdin_on = in, .sig_proxy = !tty, .detach_keys = detach_keys };
  int r = cli_stream(e, id, &a, &so, &code, err);
  berth_ctr_attach_close(&a);
  if (r == CLI_STREAM_DETACHED)
    return 0;
  return r < 0 ? -1 : code;
}

static int start_one(struct berth_engine *e, const char *name, void *data, berth_error_t *err)
{
  struct berth_ctr_attach none;
  return berth_ctr_start(e, name, 0, &none, NULL, err);
}

int cmd_start(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  bool attach = false, interactive = false;
  const char *detach_keys = NULL;
  const struct berth_cli_opt opts[] = {
    { "attach", 'a', BERTH_CLI_BOOL, &attach, NULL, "Attach STDOUT/STDERR and forward signals" },
    { "detach-keys", 0, BERTH_CLI_STRING, &detach_keys, "string",
      "Override the key sequence for detaching a container" },
    { "interactive", 'i', BERTH_CLI_BOOL, &interactive, NULL, "Attach container's STDIN" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  int r = cli_parse(ctx, argc, argv, opts, "berth start [OPTIONS] CONTAINER [CONTAINER...]",
                    "Start one or more stopped containers", err);
  if (r != 0 || cli_want_args(ctx, 1, -1, "CONTAINER", err) < 0)
    return r > 0 ? 0 : -1;
  struct detach_keys dk;
  if (detach_keys && detach_keys_init(&dk, detach_keys, err) < 0) {
    ctx->usage_error = true;
    return berth_error_wrap(err, "%s", ctx->path);
  }
  if ((attach || interactive) && ctx->argc > 1) {
    ctx->usage_error = true;
    return BERTH_ERR(err, "%s: you cannot start and attach multiple containers at once", ctx->path);
  }
  struct berth_engine *e = NULL;
  if (cli_open_engine(ctx, &e, err) < 0)
    return -1;
  int status = 0;
  if (attach || interactive) {
    status = start_attached(ctx, e, ctx->argv[0], interactive, detach_keys, err);
    berth_engine_close(e);
    return status;
  }
  status = cli_each_name(ctx, e, start_one, NULL);
  berth_engine_close(e);
  return status;
}
