#include "cli.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/format.h"

static const struct cli_opt *find_long(const struct cli_opt *opts, const char *name, size_t len)
{
  for (const struct cli_opt *o = opts; o && o->name; o++)
    if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
      return o;
  return NULL;
}

static const struct cli_opt *find_short(const struct cli_opt *opts, char c)
{
  for (const struct cli_opt *o = opts; o && o->name; o++)
    if (o->short_name == c)
      return o;
  return NULL;
}

int cli_parse_size(const char *s, uint64_t *out)
{
  char *end = NULL;
  errno = 0;
  if (!isdigit((unsigned char) *s))
    return -1;
  double v = strtod(s, &end);
  if (errno || end == s)
    return -1;
  uint64_t mult = 1;
  switch (tolower((unsigned char) *end)) {
  case '\0': break;
  case 'b': mult = 1; break;
  case 'k': mult = 1ULL << 10; break;
  case 'm': mult = 1ULL << 20; break;
  case 'g': mult = 1ULL << 30; break;
  case 't': mult = 1ULL << 40; break;
  default: return -1;
  }
  if (*end) {
    end++;
    if (tolower((unsigned char) *end) == 'b' && mult > 1)
      end++;
    else if (tolower((unsigned char) *end) == 'i' && tolower((unsigned char) end[1]) == 'b')
      end += 2;
  }
  if (*end || v * (double) mult > 1.8e19)
    return -1;
  *out = (uint64_t) (v * (double) mult);
  return 0;
}

static int set_value(struct cmd_ctx *ctx, const struct cli_opt *o, const char *value, berth_error_t *err)
{
  switch (o->type) {
  case CLI_STRING: *(const char **) o->target = value; return 0;
  case CLI_STRINGS: {
    const char ***v = (const char ***) o->target;
    size_t n = 0;
    while (*v && (*v)[n])
      n++;
    *v = xreallocarray(*v, n + 2, sizeof **v);
    (*v)[n] = value;
    (*v)[n + 1] = NULL;
    return 0;
  }
  case CLI_SIZE:
    if (cli_parse_size(value, (uint64_t *) o->target) < 0)
      return BERTH_ERR(err, "invalid argument `%s` for --%s: expected a size (4096, 512m, 2g)", value,
                       o->name);
    return 0;
  case CLI_BOOL:
    if (value == NULL || strcmp(value, "true") == 0)
      *(bool *) o->target = true;
    else if (strcmp(value, "false") == 0)
      *(bool *) o->target = false;
    else
      return BERTH_ERR(err, "invalid argument `%s` for --%s: expected true or false", value, o->name);
    return 0;
  }
  return 0;
}

/* -abc: combined booleans, or -o VALUE / -oVALUE for the last */
static int parse_short(struct cmd_ctx *ctx, const char *a, int argc, char **argv, int *i,
                       const struct cli_opt *opts, bool *help, berth_error_t *err)
{
  for (const char *p = a + 1; *p; p++) {
    if (*p == 'h') {
      *help = true;
      continue;
    }
    const struct cli_opt *o = find_short(opts, *p);
    if (o == NULL)
      return BERTH_ERR(err, "unknown shorthand flag: '%c' in %s", *p, a);
    if (o->type == CLI_BOOL) {
      if (set_value(ctx, o, p[1] == '=' ? p + 2 : NULL, err) < 0)
        return -1;
      if (p[1] == '=')
        break;
      continue;
    }
    const char *value = p[1] ? p + 1 + (p[1] == '=') : NULL;
    if (value == NULL && *i + 1 >= argc)
      return BERTH_ERR(err, "flag needs an argument: '%c' in -%c", *p, *p);
    if (value == NULL)
      value = argv[++*i];
    return set_value(ctx, o, value, err);
  }
  return 0;
}

static int parse_long(struct cmd_ctx *ctx, const char *a, int argc, char **argv, int *i,
                      const struct cli_opt *opts, bool *help, berth_error_t *err)
{
  const char *name = a + 2;
  const char *eq = strchr(name, '=');
  size_t len = eq ? (size_t) (eq - name) : strlen(name);
  if (len == 4 && strncmp(name, "help", 4) == 0) {
    *help = true;
    return 0;
  }
  const struct cli_opt *o = find_long(opts, name, len);
  if (o == NULL)
    return BERTH_ERR(err, "unknown flag: --%.*s", (int) len, name);
  const char *value = eq ? eq + 1 : NULL;
  if (value == NULL && o->type != CLI_BOOL) {
    if (*i + 1 >= argc)
      return BERTH_ERR(err, "flag needs an argument: --%s", o->name);
    value = argv[++*i];
  }
  return set_value(ctx, o, value, err);
}

int cli_parse(struct cmd_ctx *ctx, int argc, char **argv, const struct cli_opt *opts, const char *usage,
              const char *summary, berth_error_t *err)
{
  bool help = false, dashdash = false;
  ctx->argv = xcalloc((size_t) argc + 1, sizeof(char *));
  ctx->argc = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    int r = 0;
    if (dashdash || a[0] != '-' || a[1] == '\0')
      ctx->argv[ctx->argc++] = argv[i];
    else if (strcmp(a, "--") == 0)
      dashdash = true;
    else if (a[1] == '-')
      r = parse_long(ctx, a, argc, argv, &i, opts, &help, err);
    else
      r = parse_short(ctx, a, argc, argv, &i, opts, &help, err);
    if (r < 0) {
      ctx->usage_error = true;
      return berth_error_wrap(err, "%s", ctx->path);
    }
  }
  if (help) {
    cli_print_help(usage, summary, opts);
    return 1;
  }
  return 0;
}

void cli_print_help(const char *usage, const char *summary, const struct cli_opt *opts)
{
  printf("\nUsage:  %s\n\n%s\n", usage, summary);
  printf("\nOptions:\n");
  for (const struct cli_opt *o = opts; o && o->name; o++) {
    char left[64];
    const char *mv = o->metavar ? o->metavar : "";
    if (o->short_name)
      snprintf(left, sizeof left, "-%c, --%s%s%s", o->short_name, o->name, *mv ? " " : "", mv);
    else
      snprintf(left, sizeof left, "    --%s%s%s", o->name, *mv ? " " : "", mv);
    printf("  %-28s %s\n", left, o->help);
  }
  printf("  %-28s %s\n", "-h, --help", "print this help");
}

int cli_want_args(struct cmd_ctx *ctx, int min, int max, const char *what, berth_error_t *err)
{
  if (ctx->argc >= min && (max < 0 || ctx->argc <= max))
    return 0;
  ctx->usage_error = true;
  if (min == max)
    return BERTH_ERR(err, "%s: requires exactly %d argument%s (%s), got %d; see '%s --help'", ctx->path, min,
                     min == 1 ? "" : "s", what, ctx->argc, ctx->path);
  if (max < 0)
    return BERTH_ERR(err, "%s: requires at least %d argument%s (%s); see '%s --help'", ctx->path, min,
                     min == 1 ? "" : "s", what, ctx->path);
  return BERTH_ERR(err, "%s: accepts %d to %d arguments (%s), got %d; see '%s --help'", ctx->path, min, max,
                   what, ctx->argc, ctx->path);
}

int cli_open_engine(struct cmd_ctx *ctx, struct berth_engine **e, berth_error_t *err)
{
  struct berth_engine_opts o = { .root = ctx->g->root, .runroot = ctx->g->runroot, .limits = ctx->g->limits };
  return berth_engine_open(&o, e, err);
}

void cli_print_json(json_t *v)
{
  char *s = json_dumps(v, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
  if (s == NULL)
    berth_oom();
  puts(s);
  free(s);
}

bool cli_confirm(const char *warning)
{
  char line[64];
  printf("%s\nAre you sure you want to continue? [y/N] ", warning);
  fflush(stdout);
  if (fgets(line, sizeof line, stdin) == NULL)
    return false;
  return line[0] == 'y' || line[0] == 'Y';
}

void cli_print_pruned(const char *heading, char *const *removed, uint64_t reclaimed)
{
  if (removed[0])
    puts(heading);
  for (size_t i = 0; removed[i]; i++)
    puts(removed[i]);
  if (removed[0])
    puts("");
  char *size = berth_fmt_size(reclaimed);
  printf("Total reclaimed space: %s\n", size);
  free(size);
}
