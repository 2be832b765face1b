/* `berth completion`: the bash and zsh scripts made from main.c's command tables */
#ifndef BERTH_ENGINE_COMPLETION_H
#define BERTH_ENGINE_COMPLETION_H

#include <stddef.h>

#include "cli.h"

struct completion_cmd {
  const char *path; /* "container ls", "ps"; "" for berth itself */
  const char *name; /* the last word ("ls"), argv[0] of its --help */
  cmd_fn fn;        /* NULL: a group */
  const char *subs; /* a group's (or berth's) commands, space-separated; NULL for a command */
};

/* print the script for shell ("bash" or "zsh") */
int completion_print(const char *shell, const struct completion_cmd *v, size_t n,
                     berth_error_t *err) BERTH_WUR;

#endif
