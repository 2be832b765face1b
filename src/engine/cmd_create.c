/* berth create / container create, and the option parsing run shares: Docker's flags
 * (engine/runspec/runspec.h), which end at the image name. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "cmd_containers.h"

void cli_report(berth_error_t *err)
{
  fprintf(stderr, "berth: %s\n", (*err)->msg);
  berth_error_release(err);
}

int cli_each_name(struct cmd_ctx *ctx, struct berth_engine *e, cli_name_fn fn, void *data)
{
  int status = 0;
  for (int i = 0; i < ctx->argc; i++) {
    berth_error_t one = NULL;
    if (fn(e, ctx->argv[i], data, &one) < 0) {
      cli_report(&one);
      status = 1;
    } else {
      puts(ctx->argv[i]);
    }
  }
  return status;
}

static const char *host_env(void *data, const char *name) { return getenv(name); }

static void print_run_help(const char *usage, const char *summary)
{
  size_t n = 0;
  const struct berth_runopts_flag *f = berth_runopts_flags(&n);
  printf("\nUsage:  %s\n\n%s\n\nOptions:\n", usage, summary);
  for (size_t i = 0; i < n; i++) {
    char left[64];
    if (f[i].short_name)
      snprintf(left, sizeof left, "-%c, %s%s", f[i].short_name, f[i].name, f[i].takes_value ? " value" : "");
    else
      snprintf(left, sizeof left, "    %s%s", f[i].name, f[i].takes_value ? " value" : "");
    printf("  %-28s %s\n", left, f[i].help);
  }
  printf("  %-28s %s\n", "    --runtime-flag flag", "Pass --flag to the OCI runtime (podman's option)");
  printf("  %-28s %s\n", "    --help", "print this help");
}

static int set_flag(struct run_args *ra, const char *flag, const char *value, berth_error_t *err)
{
  if (strcmp(flag, "--runtime-flag") == 0) {
    cleanup_free char *f = xasprintf("--%s", value);
    ra->runtime_flags = berth_strv_append(ra->runtime_flags, f);
    return 0;
  }
  return berth_runopts_set(&ra->opts, flag, value, err);
}

/* "--name=x", "--name x", "--rm", "--rm=false" */
static int parse_long(struct run_args *ra, int argc, char **argv, int *i, berth_error_t *err)
{
  const char *a = argv[*i], *eq = strchr(a, '=');
  cleanup_free char *flag = eq ? xstrndup(a, (size_t) (eq - a)) : xstrdup(a);
  bool takes = strcmp(flag, "--runtime-flag") == 0;
  if (!takes) {
    const struct berth_runopts_flag *f = berth_runopts_flag_find(flag);
    if (f == NULL)
      return BERTH_ERR(err, "unknown flag: %s", flag);
    takes = f->takes_value;
  }
  const char *value = eq ? eq + 1 : NULL;
  if (value == NULL && takes) {
    if (*i + 1 >= argc)
      return BERTH_ERR(err, "flag needs an argument: %s", flag);
    value = argv[++*i];
  }
  return set_flag(ra, flag, value, err);
}

/* "-it", "-m512m", "-m 512m", "-e=X" */
static int parse_short(struct run_args *ra, int argc, char **argv, int *i, berth_error_t *err)
{
  const char *a = argv[*i];
  for (const char *p = a + 1; *p; p++) {
    char flag[3] = { '-', *p, '\0' };
    const struct berth_runopts_flag *f = berth_runopts_flag_find(flag);
    if (f == NULL)
      return BERTH_ERR(err, "unknown shorthand flag: '%c' in %s", *p, a);
    if (!f->takes_value) {
      if (set_flag(ra, flag, p[1] == '=' ? p + 2 : NULL, err) < 0)
        return -1;
      if (p[1] == '=')
        return 0;
      continue;
    }
    const char *value = p[1] ? p + 1 + (p[1] == '=') : NULL;
    if (value == NULL && *i + 1 >= argc)
      return BERTH_ERR(err, "flag needs an argument: '%c' in -%c", *p, *p);
    return set_flag(ra, flag, value ? value : argv[++*i], err);
  }
  return 0;
}

static int parse_argv(struct run_args *ra, int argc, char **argv, bool *help, berth_error_t *err)
{
  int i = 1;
  for (; i < argc; i++) {
    const char *a = argv[i];
    int r = 0;
    if (strcmp(a, "--") == 0) {
      i++;
      break;
    }
    if (a[0] != '-' || a[1] == '\0')
      break;
    if (strcmp(a, "--help") == 0)
      *help = true;
    else if (a[1] == '-')
      r = parse_long(ra, argc, argv, &i, err);
    else
      r = parse_short(ra, argc, argv, &i, err);
    if (r < 0)
      return -1;
  }
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
  if (parse_argv(ra, argc, argv, &help, err) < 0 ||
      (!help &&
       (berth_runopts_validate(&ra->opts, err) < 0 || berth_runopts_load_files(&ra->opts, err) < 0))) {
    ctx->usage_error = true;
    return berth_error_wrap(err, "%s", ctx->path);
  }
  if (help) {
    print_run_help(usage, summary);
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
  struct berth_container_create in = {
    .image = ra.image, .args = ra.args, .opts = &ra.opts, .runtime_flags = ra.runtime_flags
  };
  berth_container_id_t id;
  r = cli_open_engine(ctx, &e, err) < 0 || berth_containers_create(e, &in, id, err) < 0 ? -1 : 0;
  berth_engine_close(e);
  run_args_release(&ra);
  if (r < 0) {
    ctx->usage_error = true; /* Docker: every create failure is 125 */
    return -1;
  }
  puts(id);
  return 0;
}
