/* berth update / container update: resources and the restart policy of one or more containers,
 * running or not (berth_ctr_update). The flags are run's, parsed by runspec's setters. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "container_cmd.h"

/* Docker's `update` flags: run's names, and the long name each short one stands for */
static const char *const update_flags[][2] = {
  { "--blkio-weight", NULL },
  { "--cpu-period", NULL },
  { "--cpu-quota", NULL },
  { "--cpu-rt-period", NULL },
  { "--cpu-rt-runtime", NULL },
  { "--cpu-shares", "-c" },
  { "--cpus", NULL },
  { "--cpuset-cpus", NULL },
  { "--cpuset-mems", NULL },
  { "--memory", "-m" },
  { "--memory-reservation", NULL },
  { "--memory-swap", NULL },
  { "--pids-limit", NULL },
  { "--restart", NULL },
};

struct update_args {
  struct berth_run_opts opts;
  char **given; /* long names */
};

static int set_flag(void *data, const char *flag, const char *value, berth_error_t *err)
{
  struct update_args *u = data;
  const char *name = flag;
  for (size_t i = 0; i < BERTH_N_ELEMENTS(update_flags); i++)
    if (update_flags[i][1] && strcmp(flag, update_flags[i][1]) == 0)
      name = update_flags[i][0];
  u->given = berth_strv_append(u->given, name);
  return berth_runopts_set(&u->opts, name, value, err);
}

static int update_one(struct berth_engine *e, const char *name, void *data, berth_error_t *err)
{
  struct update_args *u = data;
  const struct berth_ctr_update_in in = { .opts = &u->opts, .given = u->given };
  return berth_ctr_update(e, name, &in, err);
}

static struct berth_cli_opt *options(void)
{
  size_t n = BERTH_N_ELEMENTS(update_flags);
  struct berth_cli_opt *v = xcalloc(n + 2, sizeof *v);
  for (size_t i = 0; i < n; i++) {
    const struct berth_runopts_flag *f = berth_runopts_flag_find(update_flags[i][0]);
    v[i] = (struct berth_cli_opt){
      update_flags[i][0] + 2, update_flags[i][1] ? update_flags[i][1][1] : 0, BERTH_CLI_CALL, NULL, "string",
      f ? f->help : NULL
    };
  }
  v[n] = (struct berth_cli_opt){ "kernel-memory", 0, BERTH_CLI_CALL, NULL, "bytes", NULL }; /* refused */
  return v;
}

int cmd_update(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  cleanup_free struct berth_cli_opt *opts = options();
  struct update_args u = { .given = NULL };
  berth_runopts_init(&u.opts);
  const struct berth_cli p = {
    .dialect = BERTH_CLI_DOCKER, .opts = opts, .interspersed = true, .call = set_flag, .call_data = &u
  };
  bool help = false;
  int idx = 1;
  ctx->argv = xcalloc((size_t) argc + 1, sizeof(char *));
  ctx->argc = 0;
  int r = berth_cli_parse(&p, argc, argv, &idx, ctx->argv, &ctx->argc, &help, err);
  if (r == 0 && !help && berth_runopts_validate(&u.opts, err) < 0)
    r = -1;
  if (r < 0) {
    ctx->usage_error = true;
    r = berth_error_wrap(err, "%s", ctx->path);
  } else if (help) {
    berth_cli_print_help(BERTH_CLI_DOCKER, "berth update [OPTIONS] CONTAINER [CONTAINER...]",
                         "Update configuration of one or more containers", opts);
    r = 1;
  } else if (u.given == NULL) {
    ctx->usage_error = true;
    r = BERTH_ERR(err, "%s: you must provide one or more flags when using this command", ctx->path);
  } else if (cli_want_args(ctx, 1, -1, "CONTAINER", err) < 0) {
    r = -1;
  }
  struct berth_engine *e = NULL;
  if (r == 0 && cli_open_engine(ctx, &e, err) < 0)
    r = -1;
  if (r == 0) {
    r = cli_each_name(ctx, e, update_one, &u);
    berth_engine_close(e);
  }
  berth_runopts_release(&u.opts);
  berth_strv_free(u.given);
  return r > 0 && help ? 0 : r;
}
