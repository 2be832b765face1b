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

int cli_parse(const char *cmd, int argc, char **argv, int *idx, const struct berth_cli_opt *opts, bool *help,
              berth_error_t *err)
{
  const struct berth_cli p = { .dialect = BERTH_CLI_RUNC, .opts = opts };
  if (berth_cli_parse(&p, argc, argv, idx, NULL, NULL, help, err) < 0)
    return berth_error_wrap(err, "%s", cmd);
  return 0;
}

void cli_print_help(const char *usage, const char *summary, const struct berth_cli_opt *opts)
{
  berth_cli_print_help(BERTH_CLI_RUNC, usage, summary, opts);
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
