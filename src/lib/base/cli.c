/* The command-line parser of berth and berth-runtime (cli.h): Docker's and runc's dialects. */
#include "base/cli.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/strutil.h"
#include "base/xalloc.h"

static const struct berth_cli_opt *find_long(const struct berth_cli_opt *opts, const char *name, size_t len)
{
  for (const struct berth_cli_opt *o = opts; o && o->name; o++)
    if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
      return o;
  return NULL;
}

static const struct berth_cli_opt *find_short(const struct berth_cli_opt *opts, char c)
{
  for (const struct berth_cli_opt *o = opts; o && o->name; o++)
    if (o->short_name == c)
      return o;
  return NULL;
}

static bool takes_value(const struct berth_cli_opt *o)
{
  return o->type == BERTH_CLI_CALL ? o->metavar != NULL : o->type != BERTH_CLI_BOOL;
}

int berth_cli_parse_size(const char *s, uint64_t *out)
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

/* a value that does not fit the option's type, in the dialect's words */
static BERTH_WUR int bad_value(const struct berth_cli *p, const struct berth_cli_opt *o, const char *value,
                               const char *expected, berth_error_t *err)
{
  if (p->dialect == BERTH_CLI_RUNC)
    return o->type == BERTH_CLI_BOOL
             ? BERTH_ERR(err, "--%s: expected true or false, got `%s`", o->name, value)
             : BERTH_ERR(err, "--%s: invalid %s `%s`", o->name, expected, value);
  return BERTH_ERR(err, "invalid argument `%s` for --%s: expected %s", value, o->name, expected);
}

static BERTH_WUR int set_value(const struct berth_cli *p, const struct berth_cli_opt *o, const char *flag,
                               const char *value, berth_error_t *err)
{
  switch (o->type) {
  case BERTH_CLI_STRING: *(const char **) o->target = value; return 0;
  case BERTH_CLI_STRINGS: {
    const char ***v = (const char ***) o->target;
    size_t n = 0;
    while (*v && (*v)[n])
      n++;
    *v = xreallocarray(*v, n + 2, sizeof **v);
    (*v)[n] = value;
    (*v)[n + 1] = NULL;
    return 0;
  }
  case BERTH_CLI_INT:
    if (berth_parse_int(value, (int *) o->target) < 0)
      return bad_value(p, o, value, p->dialect == BERTH_CLI_RUNC ? "number" : "an integer", err);
    return 0;
  case BERTH_CLI_SIZE:
    if (berth_cli_parse_size(value, (uint64_t *) o->target) < 0)
      return bad_value(p, o, value, p->dialect == BERTH_CLI_RUNC ? "size" : "a size (4096, 512m, 2g)", err);
    return 0;
  case BERTH_CLI_BOOL:
    if (value == NULL || strcmp(value, "true") == 0)
      *(bool *) o->target = true;
    else if (strcmp(value, "false") == 0)
      *(bool *) o->target = false;
    else
      return bad_value(p, o, value, "true or false", err);
    return 0;
  case BERTH_CLI_CALL: return p->call(p->call_data, flag, value, err);
  }
  return 0;
}

/* Docker: -abc (combined booleans), or -o VALUE / -oVALUE / -o=VALUE for the last */
static BERTH_WUR int docker_short(const struct berth_cli *p, const char *a, int argc, char **argv, int *i,
                                  bool *help, berth_error_t *err)
{
  for (const char *c = a + 1; *c; c++) {
    const struct berth_cli_opt *o = find_short(p->opts, *c);
    char flag[3] = { '-', *c, '\0' };
    if (o == NULL && *c == 'h') {
      *help = true;
      continue;
    }
    if (o == NULL)
      return BERTH_ERR(err, "unknown shorthand flag: '%c' in %s", *c, a);
    if (!takes_value(o)) {
      if (set_value(p, o, flag, c[1] == '=' ? c + 2 : NULL, err) < 0)
        return -1;
      if (c[1] == '=')
        break;
      continue;
    }
    const char *value = c[1] ? c + 1 + (c[1] == '=') : NULL;
    if (value == NULL && *i + 1 >= argc)
      return BERTH_ERR(err, "flag needs an argument: '%c' in -%c", *c, *c);
    if (value == NULL)
      value = argv[++*i];
    return set_value(p, o, flag, value, err);
  }
  return 0;
}

/* Docker: --name, --name=VALUE, --name VALUE */
static BERTH_WUR int docker_long(const struct berth_cli *p, const char *a, int argc, char **argv, int *i,
                                 bool *help, berth_error_t *err)
{
  const char *name = a + 2;
  const char *eq = strchr(name, '=');
  size_t len = eq ? (size_t) (eq - name) : strlen(name);
  if (len == 4 && strncmp(name, "help", 4) == 0) {
    *help = true;
    return 0;
  }
  const struct berth_cli_opt *o = find_long(p->opts, name, len);
  if (o == NULL)
    return BERTH_ERR(err, "unknown flag: --%.*s", (int) len, name);
  const char *value = eq ? eq + 1 : NULL;
  if (value == NULL && takes_value(o)) {
    if (*i + 1 >= argc)
      return BERTH_ERR(err, "flag needs an argument: --%s", o->name);
    value = argv[++*i];
  }
  cleanup_free char *flag = xstrndup(a, len + 2);
  return set_value(p, o, flag, value, err);
}

static BERTH_WUR int parse_docker(const struct berth_cli *p, int argc, char **argv, int *idx, char **pos,
                                  int *npos, bool *help, berth_error_t *err)
{
  bool dashdash = false;
  for (int i = *idx; i < argc; i++) {
    const char *a = argv[i];
    int r = 0;
    if (dashdash || a[0] != '-' || a[1] == '\0') {
      if (!p->interspersed) {
        *idx = i;
        return 0;
      }
      pos[(*npos)++] = argv[i];
    } else if (strcmp(a, "--") == 0) {
      if (!p->interspersed) {
        *idx = i + 1;
        return 0;
      }
      dashdash = true;
    } else if (a[1] == '-') {
      r = docker_long(p, a, argc, argv, &i, help, err);
    } else {
      r = docker_short(p, a, argc, argv, &i, help, err);
    }
    if (r < 0)
      return -1;
  }
  *idx = argc;
  return 0;
}

/* runc (urfave/cli): options end at the first positional; -name and --name alike */
static BERTH_WUR int parse_runc(const struct berth_cli *p, int argc, char **argv, int *idx, bool *help,
                                berth_error_t *err)
{
  while (*idx < argc) {
    const char *a = argv[*idx];
    if (strcmp(a, "--") == 0) {
      (*idx)++;
      return 0;
    }
    if (a[0] != '-' || a[1] == '\0')
      return 0;
    (*idx)++;
    const char *name = a + (a[1] == '-' ? 2 : 1);
    const char *eq = strchr(name, '=');
    size_t len = eq ? (size_t) (eq - name) : strlen(name);
    if ((len == 4 && strncmp(name, "help", 4) == 0) || (len == 1 && name[0] == 'h')) {
      *help = true;
      continue;
    }
    const struct berth_cli_opt *o = find_long(p->opts, name, len);
    if (o == NULL && a[1] != '-' && len == 1)
      o = find_short(p->opts, name[0]);
    if (o == NULL)
      return BERTH_ERR(err, "unknown option `%s` (see --help)", a);
    const char *value = eq ? eq + 1 : NULL;
    if (value == NULL && takes_value(o)) {
      if (*idx >= argc)
        return BERTH_ERR(err, "option `%s` needs a value", a);
      value = argv[(*idx)++];
    }
    cleanup_free char *flag = xstrndup(a, (size_t) (name - a) + len);
    if (set_value(p, o, flag, value, err) < 0)
      return -1;
  }
  return 0;
}

int berth_cli_parse(const struct berth_cli *p, int argc, char **argv, int *idx, char **pos, int *npos,
                    bool *help, berth_error_t *err)
{
  if (p->dialect == BERTH_CLI_RUNC)
    return parse_runc(p, argc, argv, idx, help, err);
  return parse_docker(p, argc, argv, idx, pos, npos, help, err);
}

static void option_left(enum berth_cli_dialect d, const struct berth_cli_opt *o, char *left, size_t size)
{
  const char *mv = o->metavar ? o->metavar : "";
  const char *sep = *mv ? " " : "";
  if (o->short_name)
    snprintf(left, size, "-%c, --%s%s%s", o->short_name, o->name, sep, mv);
  else
    snprintf(left, size, "%s--%s%s%s", d == BERTH_CLI_DOCKER ? "    " : "", o->name, sep, mv);
}

void berth_cli_print_help(enum berth_cli_dialect d, const char *usage, const char *summary,
                          const struct berth_cli_opt *opts)
{
  bool docker = d == BERTH_CLI_DOCKER;
  if (docker)
    printf("\nUsage:  %s\n\n%s\n", usage, summary);
  else
    printf("usage: %s\n\n%s\n", usage, summary);
  if (!docker && (opts == NULL || opts->name == NULL))
    return;
  printf(docker ? "\nOptions:\n" : "\noptions:\n");
  for (const struct berth_cli_opt *o = opts; o && o->name; o++) {
    char left[64];
    if (o->help == NULL)
      continue;
    option_left(d, o, left, sizeof left);
    printf(docker ? "  %-28s %s\n" : "  %-30s %s\n", left, o->help);
  }
  if (docker)
    printf("  %-28s %s\n", find_short(opts, 'h') ? "    --help" : "-h, --help", "print this help");
}
