#include "cli.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/fds.h"
#include "base/log.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "cgroup/cgroup.h"

static const struct cli_opt *find(const struct cli_opt *opts, const char *name, size_t len, char short_name)
{
  for (const struct cli_opt *o = opts; o->name; o++) {
    if (short_name && o->short_name == short_name)
      return o;
    if (!short_name && strlen(o->name) == len && strncmp(o->name, name, len) == 0)
      return o;
  }
  return NULL;
}

static int set_value(const char *cmd, const struct cli_opt *o, const char *value, berth_error_t *err)
{
  switch (o->type) {
  case CLI_STRING:
    *(const char **) o->target = value;
    return 0;
  case CLI_INT:
    if (berth_parse_int(value, (int *) o->target) < 0)
      return BERTH_ERR(err, "%s: --%s: invalid number `%s`", cmd, o->name, value);
    return 0;
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
  case CLI_BOOL:
    if (value == NULL || strcmp(value, "true") == 0)
      *(bool *) o->target = true;
    else if (strcmp(value, "false") == 0)
      *(bool *) o->target = false;
    else
      return BERTH_ERR(err, "%s: --%s: expected true or false, got `%s`", cmd, o->name, value);
    return 0;
  }
  return 0;
}

int cli_parse(const char *cmd, int argc, char **argv, int *idx, const struct cli_opt *opts, bool *help,
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
    const struct cli_opt *o = find(opts, name, len, 0);
    if (o == NULL && a[1] != '-' && len == 1)
      o = find(opts, NULL, 0, name[0]);
    if (o == NULL)
      return BERTH_ERR(err, "%s: unknown option `%s` (see --help)", cmd, a);
    const char *value = eq ? eq + 1 : NULL;
    if (value == NULL && o->type != CLI_BOOL) {
      if (*idx >= argc)
        return BERTH_ERR(err, "%s: option `%s` needs a value", cmd, a);
      value = argv[(*idx)++];
    }
    if (set_value(cmd, o, value, err) < 0)
      return -1;
  }
  return 0;
}

void cli_print_help(const char *usage, const char *summary, const struct cli_opt *opts)
{
  printf("usage: %s\n\n%s\n", usage, summary);
  if (opts == NULL || opts->name == NULL)
    return;
  printf("\noptions:\n");
  for (const struct cli_opt *o = opts; o->name; o++) {
    char left[64];
    if (o->short_name)
      snprintf(left, sizeof left, "-%c, --%s%s%s", o->short_name, o->name, o->metavar ? " " : "",
               o->metavar ? o->metavar : "");
    else
      snprintf(left, sizeof left, "--%s%s%s", o->name, o->metavar ? " " : "", o->metavar ? o->metavar : "");
    printf("  %-30s %s\n", left, o->help);
  }
}

int cli_want_args(const char *cmd, int argc, int idx, int n, const char *what, berth_error_t *err)
{
  if (argc - idx != n)
    return BERTH_ERR(err, "%s: expected %s, got %d argument%s (see --help)", cmd, what, argc - idx,
                     argc - idx == 1 ? "" : "s");
  return 0;
}

void cli_print_json(json_t *v)
{
  char *s = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
  if (s == NULL)
    berth_oom();
  puts(s);
  free(s);
}

int cli_cgroup_kind(const struct globals *g)
{
  if (g->systemd_cgroup || (g->cgroup_manager && strcmp(g->cgroup_manager, "systemd") == 0))
    return BERTH_CGROUP_SYSTEMD;
  if (g->cgroup_manager && strcmp(g->cgroup_manager, "disabled") == 0)
    return BERTH_CGROUP_DISABLED;
  return BERTH_CGROUP_CGROUPFS;
}

bool cli_rootless(const struct globals *g)
{
  if (g->rootless && strcmp(g->rootless, "true") == 0)
    return true;
  if (g->rootless && strcmp(g->rootless, "false") == 0)
    return false;
  return geteuid() != 0;
}

int cli_close_unasked_fds(int passed, berth_error_t *err)
{
  long first = 3L + (passed > 0 ? passed : 0);
  if (first > INT_MAX)
    return 0;
  int log = berth_log_get_fd();
  if (berth_fds_close_from((int) first, &log, log >= 0 ? 1 : 0) < 0)
    return BERTH_ERR_ERRNO(err, "close the descriptors inherited beyond fd %ld", first - 1);
  return 0;
}
