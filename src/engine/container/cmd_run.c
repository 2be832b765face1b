/* berth run / container run: create, start, and (without -d) attach until the container exits.
 * Exit status as Docker's: 125 berth failed, 126 the command cannot be executed, 127 it was not
 * found, otherwise the container's own. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "container_cmd.h"
#include "registry_opts.h"
#include "engine/monitor/monitor.h"

/* a failed start: the error printed, the container removed with --rm; returns the exit status */
static int start_failed(struct berth_engine *e, const struct run_args *ra, const char *id, int code,
                        berth_error_t *err)
{
  cli_report(err);
  if (ra->opts.auto_remove) {
    berth_error_t ignore = NULL;
    if (berth_ctr_remove(e, id, true, true, &ignore) < 0)
      cli_report(&ignore);
  }
  return code ? code : 125;
}

/* the streams of -a (all three without it; stdin only with -i) */
static unsigned attach_want(const struct berth_run_opts *o)
{
  if (o->attach == NULL)
    return BERTH_ATTACH_WANT_STDOUT | BERTH_ATTACH_WANT_STDERR |
           (o->interactive ? BERTH_ATTACH_WANT_STDIN : 0);
  unsigned want = 0;
  for (char **a = o->attach; *a; a++)
    want |= strcmp(*a, "stdout") == 0   ? BERTH_ATTACH_WANT_STDOUT
            : strcmp(*a, "stderr") == 0 ? BERTH_ATTACH_WANT_STDERR
            : o->interactive            ? BERTH_ATTACH_WANT_STDIN
                                        : 0;
  return want;
}

/* Docker's checks of run's own flags, before anything is made */
static int run_check(const struct berth_run_opts *o, berth_error_t *err)
{
  if (o->detach && o->attach)
    return BERTH_ERR(err, "conflicting options: cannot specify both --attach and --detach");
  if (o->detach && o->has_sig_proxy && o->sig_proxy)
    return BERTH_ERR(err, "conflicting options: cannot specify both --sig-proxy and --detach");
  if (o->tty && o->interactive && !o->detach && !isatty(STDIN_FILENO))
    return BERTH_ERR(err, "the input device is not a TTY");
  return 0;
}

static int run_created(struct cmd_ctx *ctx, struct berth_engine *e, const struct run_args *ra, const char *id,
                       berth_error_t *err)
{
  const struct berth_run_opts *o = &ra->opts;
  struct berth_ctr_attach a = { .fd = -1 };
  int code = 125;
  if (o->detach) {
    if (berth_ctr_start(e, id, 0, &a, &code, err) < 0)
      return start_failed(e, ra, id, code, err);
    puts(id);
    return 0;
  }
  /* this process records the exit (and with --rm removes the container): the catalogue is open */
  unsigned want = attach_want(o) | BERTH_ATTACH_WANT_RECORD;
  if (berth_ctr_start(e, id, want, &a, &code, err) < 0)
    return start_failed(e, ra, id, code, err);
  struct stream_opts so = { .tty = o->tty,
                            .stdin_on = (want & BERTH_ATTACH_WANT_STDIN) != 0,
                            .sig_proxy = (o->has_sig_proxy ? o->sig_proxy : true) && !o->tty,
                            .detach_keys = o->detach_keys };
  int r = cli_stream(e, id, &a, &so, &code, err);
  berth_ctr_attach_close(&a);
  if (r == CLI_STREAM_DETACHED) /* the container runs on; its monitor records its exit */
    return 0;
  if (r < 0) {
    ctx->usage_error = true;
    return -1;
  }
  return code;
}

int cmd_run(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  struct run_args ra;
  int r = run_args_parse(ctx, argc, argv, "berth run [OPTIONS] IMAGE [COMMAND] [ARG...]",
                         "Create and run a new container from an image", &ra, err);
  if (r != 0) {
    run_args_release(&ra);
    return r > 0 ? 0 : -1;
  }
  struct berth_engine *e = NULL;
  struct berth_ctr_create_in in = {
    .image = ra.image, .args = ra.args, .opts = &ra.opts, .runtime_flags = ra.runtime_flags
  };
  berth_ctr_id_t id;
  if (run_check(&ra.opts, err) < 0) {
    ctx->usage_error = true;
    berth_error_wrap(err, "%s", ctx->path);
    r = -1;
  } else if (cli_open_engine(ctx, &e, err) < 0 ||
             cli_pull_policy(ctx, e, ra.image, ra.pull, ra.platform, ra.quiet, err) < 0 ||
             cidfile_check(&ra, err) < 0 || berth_ctr_create(e, &in, id, err) < 0 ||
             cidfile_write(&ra, id, err) < 0) {
    ctx->usage_error = true; /* 125 */
    r = -1;
  } else {
    r = run_created(ctx, e, &ra, id, err);
  }
  berth_engine_close(e);
  run_args_release(&ra);
  return r;
}
