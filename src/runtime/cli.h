/* berth-runtime's command line: runc's (urfave/cli's) conventions, parsed by base/cli.h's
 * BERTH_CLI_RUNC dialect; the globals and the helpers every command shares. */
#ifndef BERTH_RUNTIME_CLI_H
#define BERTH_RUNTIME_CLI_H

#include <stdbool.h>

#include <jansson.h>

#include "base/cli.h"
#include "base/error.h"

/* Parse options from argv[*idx] (errors begin with cmd); on return *idx is the first positional. */
int cli_parse(const char *cmd, int argc, char **argv, int *idx, const struct berth_cli_opt *opts, bool *help,
              berth_error_t *err);
void cli_print_help(const char *usage, const char *summary, const struct berth_cli_opt *opts);

struct globals {
  const char *root;
  const char *log;
  const char *log_format;
  bool debug;
  bool systemd_cgroup;
  const char *cgroup_manager;
  const char *rootless;
  char **argv; /* the whole original argv (for re-exec) */
  char **envp;
};

/* every command: returns the exit status, or -1 with *err set */
typedef int (*cmd_fn)(struct globals *g, int argc, char **argv, berth_error_t *err);

int cmd_create(struct globals *g, int argc, char **argv, berth_error_t *err);
int cmd_start(struct globals *g, int argc, char **argv, berth_error_t *err);
int cmd_run(struct globals *g, int argc, char **argv, berth_error_t *err);
int cmd_state(struct globals *g, int argc, char **argv, berth_error_t *err);
int cmd_kill(struct globals *g, int argc, char **argv, berth_error_t *err);
int cmd_delete(struct globals *g, int argc, char **argv, berth_error_t *err);
int cmd_list(struct globals *g, int argc, char **argv, berth_error_t *err);
int cmd_spec(struct globals *g, int argc, char **argv, berth_error_t *err);
int cmd_exec(struct globals *g, int argc, char **argv, berth_error_t *err);
int cmd_pause(struct globals *g, int argc, char **argv, berth_error_t *err);
int cmd_resume(struct globals *g, int argc, char **argv, berth_error_t *err);
int cmd_ps(struct globals *g, int argc, char **argv, berth_error_t *err);
int cmd_events(struct globals *g, int argc, char **argv, berth_error_t *err);
int cmd_update(struct globals *g, int argc, char **argv, berth_error_t *err);
int cmd_checkpoint(struct globals *g, int argc, char **argv, berth_error_t *err);
int cmd_features(struct globals *g, int argc, char **argv, berth_error_t *err);

/* enum berth_cgroup_kind from --cgroup-manager / --systemd-cgroup */
int cli_cgroup_kind(const struct globals *g);
/* --rootless true|false|auto (auto: not running as root) */
bool cli_rootless(const struct globals *g);
/* exactly n positional arguments remain, else a usage error */
int cli_want_args(const char *cmd, int argc, int idx, int n, const char *what, berth_error_t *err);
/* CVE-2016-9962, for the commands that enter a container: close every descriptor inherited
 * from the caller but 0-2 and the `passed` ones after them (socket activation's, then
 * --preserve-fds), before any process of ours joins or makes the container's namespaces: a
 * process in the container that reaches ours through /proc must find nothing of the caller's.
 * (Ours are all close-on-exec; the log file is the only one open yet.) */
int cli_close_unasked_fds(int passed, berth_error_t *err);
/* print JSON to stdout (indented like runc) */
void cli_print_json(json_t *v);

#endif
