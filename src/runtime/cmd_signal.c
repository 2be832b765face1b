/* kill and delete. */
#include <signal.h>
#include <string.h>

#include "cli.h"
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

int cmd_delete(struct globals *g, int argc, char **argv, berth_error_t *err)
{
  bool help = false, force = false;
  const struct berth_cli_opt opts[] = {
    { "force", 'f', BERTH_CLI_BOOL, &force, NULL, "kill a running container first" },
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
  return berth_container_delete(g->root, argv[idx], force, err) < 0 ? -1 : 0;
}
