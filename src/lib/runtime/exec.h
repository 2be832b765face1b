/* exec: run another process inside a running container. */
#ifndef BERTH_RUNTIME_EXEC_H
#define BERTH_RUNTIME_EXEC_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "base/error.h"

struct berth_exec_opts {
  const char *root;
  const char *id;
  json_t *process;            /* the process object (runtime-spec), validated by exec */
  const char *process_file;   /* named in errors ("process.json") */
  const char *console_socket; /* may be NULL */
  const char *pid_file;       /* may be NULL */
  int preserve_fds;
  bool detach;
  bool ignore_paused;
};

/* Starts the process; with detach returns 0 once it runs, else waits and returns its exit
 * status (128+N when killed by signal N). */
int berth_container_exec(const struct berth_exec_opts *o, berth_error_t *err) BERTH_WUR;

/* The container's own process object (from the config saved at create), a new reference:
 * the base that `exec` flags modify. */
json_t *berth_container_process_json(const char *root, const char *id, berth_error_t *err) BERTH_WUR;

#endif
