/* berth create / container create, and the option parsing run shares: Docker's flags
 * (engine/runspec/runspec.h), which end at the image name. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "container_cmd.h"
#include "registry_opts.h"

static const char *host_env(void *data, const char *name) { return getenv(name); }

static int set_flag(void *data, const char *flag, const char *value, berth_error_t *err)
{
  struct run_args *ra = data;
  if (strcmp(flag, "--pull") == 0 || strcmp(flag, "--platform") == 0) {
    *(flag[2] == 'p' && flag[3] == 'u' ? &ra->pull : &ra->platform) = value;
    return 0;
  }
  if (strcmp(flag, "--quiet") == 0 || strcmp(flag, "-q") == 0) {
    ra->quiet = value == NULL || strcmp(value, "true") == 0;
    return 0;
  }
  if (strcmp(flag, "--runtime-flag") == 0) {
    cleanup_free char *f = xasprintf("--%s", value);
    ra->runtime_flags = berth_strv_append(ra->runtime_flags, f);
    return 0;
  }
  return berth_runopts_set(&ra->opts, flag, value, err);
}

/* the value's type as Docker's --help names it (pflag's types); repeatable flags are lists */
static const char *arg_type(const struct berth_runopts_flag *f)
{
  static const char *const types[][2] = {
    { "--memory", "bytes" },
    { "--memory-swap", "bytes" },
    { "--memory-reservation", "bytes" },
    { "--shm-size", "bytes" },
    { "--cpus", "decimal" },
    { "--cpu-shares", "int" },
    { "--stop-timeout", "int" },
    { "--oom-score-adj", "int" },
    { "--pids-limit", "int" },
    { "--blkio-weight", "uint16" },
    { "--mount", "mount" },
    { "--network", "network" },
    { "--ulimit", "ulimit" },
    { "--sysctl", "map" },
    { "--log-opt", "list" },
    { "--cpu-period", "int" },
    { "--cpu-quota", "int" },
    { "--cpu-rt-period", "int" },
    { "--cpu-rt-runtime", "int" },
    { "--health-retries", "int" },
    { "--memory-swappiness", "int" },
    { "--health-interval", "duration" },
    { "--health-timeout", "duration" },
    { "--health-start-period", "duration" },
    { "--health-start-interval", "duration" },
    { "--annotation", "map" },
  };
  if (!f->takes_value)
    return NULL;
  for (size_t i = 0; i < BERTH_N_ELEMENTS(types); i++)
    if (strcmp(f->name, types[i][0]) == 0)
      return types[i][1];
  return f->repeatable ? "list" : "string";
}

/* Docker's run/create flags (runspec's table, each handed to berth_runopts_set as typed),
 * podman's --runtime-flag, and --network's alias --net (hidden) */
static struct berth_cli_opt *run_flags(void)
{
  size_t n = 0;
  const struct berth_runopts_flag *f = berth_runopts_flags(&n);
  struct berth_cli_opt *v = xcalloc(n + 6, sizeof *v);
  for (size_t i = 0; i < n; i++)
    v[i] = (struct berth_cli_opt){ f[i].name + 2, f[i].short_name, BERTH_CLI_CALL,
                                   NULL,          arg_type(&f[i]), f[i].help };
  v[n] = (struct berth_cli_opt){ "runtime-flag", 0,      BERTH_CLI_CALL,
                                 NULL,           "flag", "Pass --flag to the OCI runtime (podman's option)" };
  v[n + 1] = (struct berth_cli_opt){ "net", 0, BERTH_CLI_CALL, NULL, "network", NULL };
  v[n + 2] = (struct berth_cli_opt){
    "pull", 0,        BERTH_CLI_CALL,
    NULL,   "string", "Pull image before running (\"always\", \"missing\", \"never\") (default \"missing\")"
  };
  v[n + 3] =
    (struct berth_cli_opt){ "platform", 0,        BERTH_CLI_CALL,
                            NULL,       "string", "Set platform if server is multi-platform capable" };
  v[n + 4] = (struct berth_cli_opt){ "quiet", 'q', BERTH_CLI_CALL, NULL, NULL, "Suppress the pull output" };
  return v;
}

/* options, then IMAGE [COMMAND] [ARG...] */
static int parse_argv(struct run_args *ra, int argc, char **argv, const struct berth_cli_opt *opts,
                      bool *help, berth_error_t *err)
{
  const struct berth_cli p = { .dialect = BERTH_CLI_DOCKER, .opts = opts, .call = set_flag, .call_data = ra };
  int i = 1;
  if (berth_cli_parse(&p, argc, argv, &i, NULL, NULL, help, err) < 0)
    return -1;
  if (*help)
    return 0;
  if (i >= argc)
    return BERTH_ERR(err, "requires at least 1 argument (IMAGE [COMMAND] [ARG...])");
  ra->image = argv[i++];
  ra->args = xcalloc((size_t) (argc - i) + 1, sizeof *ra->args);
  for (int k = 0; i < argc; i++, k++)
    ra->args[k] = argv[i];
  return 0;
}

int run_args_parse(struct cmd_ctx *ctx, int argc, char **argv, const char *usage, const char *summary,
                   struct run_args *ra, berth_error_t *err)
{
  memset(ra, 0, sizeof *ra);
  berth_runopts_init(&ra->opts);
  ra->opts.lookup_env = host_env;
  bool help = false;
  cleanup_free struct berth_cli_opt *opts = run_flags();
  if (parse_argv(ra, argc, argv, opts, &help, err) < 0 ||
      (!help &&
       (berth_runopts_validate(&ra->opts, err) < 0 || berth_runopts_load_files(&ra->opts, err) < 0))) {
    ctx->usage_error = true;
    return berth_error_wrap(err, "%s", ctx->path);
  }
  if (help) {
    berth_cli_print_help(BERTH_CLI_DOCKER, usage, summary, opts);
    return 1;
  }
  return 0;
}

void run_args_release(struct run_args *ra)
{
  berth_runopts_release(&ra->opts);
  free(ra->args);
  berth_strv_free(ra->runtime_flags);
  ra->args = ra->runtime_flags = NULL;
}

int cidfile_check(const struct run_args *ra, berth_error_t *err)
{
  const char *f = ra->opts.cidfile;
  if (f && access(f, F_OK) == 0)
    return BERTH_ERR(err,
                     "--cidfile: container ID file found, make sure the other container isn't running or "
                     "delete %s",
                     f);
  return 0;
}

int cidfile_write(const struct run_args *ra, const char *id, berth_error_t *err)
{
  const char *f = ra->opts.cidfile;
  int fd = f ? open(f, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644) : -2;
  if (fd == -2)
    return 0;
  if (fd < 0 || berth_write_all(fd, id, strlen(id)) < 0) {
    int e = errno;
    if (fd >= 0)
      close(fd);
    errno = e;
    return BERTH_ERR_ERRNO(err, "--cidfile: write the container ID to `%s` (the container %.12s was created)",
                           f, id);
  }
  close(fd);
  return 0;
}

int cmd_create(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err)
{
  struct run_args ra;
  int r = run_args_parse(ctx, argc, argv, "berth create [OPTIONS] IMAGE [COMMAND] [ARG...]",
                         "Create a new container", &ra, err);
  if (r != 0) {
    run_args_release(&ra);
    return r > 0 ? 0 : -1;
  }
  struct berth_engine *e = NULL;
  struct berth_ctr_create_in in = {
    .image = ra.image, .args = ra.args, .opts = &ra.opts, .runtime_flags = ra.runtime_flags
  };
  berth_ctr_id_t id;
  r = cli_open_engine(ctx, &e, err) < 0 ||
          cli_pull_policy(ctx, e, ra.image, ra.pull, ra.platform, ra.quiet, err) < 0 ||
          cidfile_check(&ra, err) < 0 || berth_ctr_create(e, &in, id, err) < 0 ||
          cidfile_write(&ra, id, err) < 0
        ? -1
        : 0;
  berth_engine_close(e);
  run_args_release(&ra);
  if (r < 0) {
    ctx->usage_error = true; /* Docker: every create failure is 125 */
    return -1;
  }
  puts(id);
  return 0;
}
