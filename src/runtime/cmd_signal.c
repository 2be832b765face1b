/* kill and delete (one container, or every one an extended regex matches). */
#include <regex.h>
#include <signal.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/log.h"
#include "base/strutil.h"
#include "cli.h"
#include "runtime/container.h"
#include "runtime/create.h"

int cmd_kill(struct globals *g, int argc, char **argv, berth_error_t *err)
{
  bool help = false, all = false;
  const struct berth_cli_opt opts[] = {
    { "all", 'a', BERTH_CLI_BOOL, &all, NULL, "signal every process of the container" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  int idx = 1;
  if (cli_parse("kill", argc, argv, &idx, opts, &help, err) < 0)
    return -1;
  if (help) {
    cli_print_help("berth-runtime kill [options] <container-id> [signal]",
                   "Send a signal (name or number, default SIGTERM) to the container.", opts);
    return 0;
  }
  if (argc - idx != 1 && argc - idx != 2)
    return BERTH_ERR(err, "kill: expected a container id and an optional signal (see --help)");
  int sig = SIGTERM;
  if (argc - idx == 2 && (sig = berth_signal_parse(argv[idx + 1])) < 0)
    return BERTH_ERR(err, "kill: unknown signal `%s`", argv[idx + 1]);
  return berth_container_kill(g->root, argv[idx], sig, all, err) < 0 ? -1 : 0;
}

/* delete --regex: every container whose id the extended regex matches (unanchored, as crun);
 * one that cannot be deleted is reported and the others still go; exit status 1 then */
static int delete_matching(struct globals *g, const char *pattern, bool force, berth_error_t *err)
{
  regex_t re;
  int rc = regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB);
  if (rc != 0) {
    char why[256];
    regerror(rc, &re, why, sizeof why);
    return BERTH_ERR(err, "delete: --regex `%s`: %s", pattern, why);
  }
  cleanup_strv char **ids = berth_container_ids(g->root, err);
  int status = ids ? 0 : -1;
  for (char **id = ids; id && *id; id++) {
    if (regexec(&re, *id, 0, NULL, 0) != 0)
      continue;
    berth_error_t e = NULL;
    if (berth_container_delete(g->root, *id, force, &e) < 0) {
      berth_log_error("%s", e->msg);
      berth_error_release(&e);
      status = 1;
    }
  }
  regfree(&re);
  return status;
}

int cmd_delete(struct globals *g, int argc, char **argv, berth_error_t *err)
{
  bool help = false, force = false, regex = false;
  const struct berth_cli_opt opts[] = {
    { "force", 'f', BERTH_CLI_BOOL, &force, NULL, "kill a running container first" },
    { "regex", 'r', BERTH_CLI_BOOL, &regex, NULL,
      "the argument is an extended regex: delete every container it matches" },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  int idx = 1;
  if (cli_parse("delete", argc, argv, &idx, opts, &help, err) < 0)
    return -1;
  if (help) {
    cli_print_help("berth-runtime delete [options] <container-id>", "Delete a container and its state.",
                   opts);
    return 0;
  }
  if (cli_want_args("delete", argc, idx, 1, "a container id", err) < 0)
    return -1;
  if (regex)
    return delete_matching(g, argv[idx], force, err);
  return berth_container_delete(g->root, argv[idx], force, err) < 0 ? -1 : 0;
}
