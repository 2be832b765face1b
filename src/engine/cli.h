/* The `berth` command line: Docker's (cobra's) conventions, parsed by base/cli.h's
 * BERTH_CLI_DOCKER dialect — flags anywhere among the arguments until "--", "--name value",
 * "--name=value", "-n value", combined short booleans ("-qa"), repeatable string flags; usage
 * errors exit 125 like Docker's CLI. The globals and the helpers every command shares. */
#ifndef BERTH_ENGINE_CLI_H
#define BERTH_ENGINE_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "base/cli.h"
#include "base/error.h"
#include "engine/engine.h"

#define EXIT_USAGE 125

struct globals {
  const char *root;
  const char *runroot;
  const char *log_level;
  struct berth_layer_limits limits;
};

struct cmd_ctx {
  struct globals *g;
  const char *path; /* "berth image ls" for messages */
  int argc;         /* positional arguments after option parsing */
  char **argv;
  bool usage_error; /* set by helpers: main exits 125 */
};

/* Parse options out of argv[1..argc) (argv[0] is the command name); positionals land in ctx.
 * Returns 1 when --help was given (help printed), 0 to go on, -1 on a usage error. */
int cli_parse(struct cmd_ctx *ctx, int argc, char **argv, const struct berth_cli_opt *opts, const char *usage,
              const char *summary, berth_error_t *err);
/* The same for the options before the first positional only (exec: what follows the container is
 * the command's); *at: the first positional (after a "--" that ended the options). */
int cli_parse_head(struct cmd_ctx *ctx, int argc, char **argv, const struct berth_cli_opt *opts,
                   const char *usage, const char *summary, int *at, berth_error_t *err);
/* between min and max (-1: any) positional arguments, else a usage error */
int cli_want_args(struct cmd_ctx *ctx, int min, int max, const char *what, berth_error_t *err);
/* open the engine with the global options */
int cli_open_engine(struct cmd_ctx *ctx, struct berth_engine **e, berth_error_t *err);
/* the prune commands' prompt, as Docker's: "<warning>\nAre you sure you want to continue?
 * [y/N] "; true when the answer starts with y */
bool cli_confirm(const char *warning);
/* what a prune removed: "<heading>" and one line each (nothing when none), then
 * "Total reclaimed space: <size>" */
void cli_print_pruned(const char *heading, char *const *removed, uint64_t reclaimed);
/* the prune commands' --filter: until=<time|duration> (unix ns, 0: none), label=k[=v] and
 * label!=k[=v] ("!k[=v]" in *labels); anything else a usage error */
int cli_prune_filters(struct cmd_ctx *ctx, const char **filters, int64_t *until, char ***labels,
                      berth_error_t *err) BERTH_WUR;
/* print JSON indented like Docker (4 spaces) */
void cli_print_json(json_t *v);

/* a command's error on stderr: "berth run: --cap-add: ..." as it is, any other message after
 * "berth: " */
void cli_print_error(const char *msg);
/* cli_print_error and release the error */
void cli_report(berth_error_t *err);
/* fn on each argument in turn (docker's "one or more containers" commands): the name printed
 * when it succeeds, its error reported when it fails, the next one tried either way; returns
 * 1 when any failed, else 0 */
typedef int (*cli_name_fn)(struct berth_engine *e, const char *name, void *data, berth_error_t *err);
int cli_each_name(struct cmd_ctx *ctx, struct berth_engine *e, cli_name_fn fn, void *data);

typedef int (*cmd_fn)(struct cmd_ctx *ctx, int argc, char **argv, berth_error_t *err);

#endif
