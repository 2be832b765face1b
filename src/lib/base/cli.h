/* The one command-line parser of berth's programs: a table of options, two dialects.
 *
 *   BERTH_CLI_DOCKER  Docker's CLI (cobra/pflag), for `berth`: "--name value", "--name=value",
 *                     "-n value", "-nvalue", combined booleans ("-qa"); flags anywhere among the
 *                     arguments until "--" (interspersed), or up to the first positional;
 *                     "-h"/"--help" ask for help unless an option takes 'h' (run's --hostname).
 *   BERTH_CLI_RUNC    runc's (urfave/cli), for berth-runtime: "--name value", "-name value",
 *                     "--name=value", "-n"; options end at the first positional; "-h", "-help",
 *                     "--help" ask for help.
 *
 * Errors are the dialect's program's words without the command ("unknown flag: --x", "unknown
 * option `-x` (see --help)"): the caller wraps them with the command's name. */
#ifndef BERTH_BASE_CLI_H
#define BERTH_BASE_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"

enum berth_cli_dialect { BERTH_CLI_DOCKER, BERTH_CLI_RUNC };

enum berth_cli_type {
  BERTH_CLI_BOOL,    /* bool *: no value, or "=true" / "=false" */
  BERTH_CLI_STRING,  /* const char **: the last value given */
  BERTH_CLI_STRINGS, /* const char ***: every value given, NULL-terminated (the vector is malloc'd) */
  BERTH_CLI_INT,     /* int * */
  BERTH_CLI_SIZE,    /* uint64_t *: "4096", "512m", "2g" (berth_cli_parse_size) */
  BERTH_CLI_CALL,    /* struct berth_cli's call with the flag as typed; takes a value when metavar is set */
};

struct berth_cli_opt {
  const char *name; /* long name without dashes; NULL ends a table */
  char short_name;  /* 0 if none */
  enum berth_cli_type type;
  void *target;        /* see the types (unused for BERTH_CLI_CALL) */
  const char *metavar; /* the value's name in help; NULL for booleans */
  const char *help;    /* NULL: a hidden option (an alias) */
};

struct berth_cli {
  enum berth_cli_dialect dialect;
  const struct berth_cli_opt *opts; /* may be NULL: no options */
  bool interspersed;                /* DOCKER: options among the positionals (else they end at the first) */
  /* BERTH_CLI_CALL options: flag as typed ("--memory", "-m"), value (NULL: none given) */
  int (*call)(void *data, const char *flag, const char *value, berth_error_t *err);
  void *call_data;
};

/* Parse argv[*idx..argc). *idx: on return, the first argument not consumed (interspersed: argc;
 * else the first positional, after a "--" that ended the options). Interspersed, every
 * positional is appended to pos (room for argc - *idx entries), *npos counting them; otherwise
 * pos and npos may be NULL. *help: help was asked for (parsing goes on). */
int berth_cli_parse(const struct berth_cli *p, int argc, char **argv, int *idx, char **pos, int *npos,
                    bool *help, berth_error_t *err) BERTH_WUR;

/* Help in the dialect's layout: Docker's "Usage:  ..." with an "Options:" table and a last
 * "-h, --help" line; runc's "usage: ..." with "options:" */
void berth_cli_print_help(enum berth_cli_dialect d, const char *usage, const char *summary,
                          const struct berth_cli_opt *opts);

/* "1g", "500m", "4096", "2.5kb", "1MiB" (binary units, like Docker's RAMInBytes) */
int berth_cli_parse_size(const char *s, uint64_t *out);

#endif
