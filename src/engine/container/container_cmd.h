/* What the container commands of `berth` (container/) share. */
#ifndef BERTH_ENGINE_CONTAINER_CMD_H
#define BERTH_ENGINE_CONTAINER_CMD_H

#include <stdbool.h>

#include "cli.h"
#include "commands.h"
#include "engine/containers/containers.h"
#include "engine/runspec/runspec.h"

/* run and create: [OPTIONS] IMAGE [COMMAND] [ARG...] (options end at the image) */
struct run_args {
  struct berth_run_opts opts;
  const char *image;
  char **args;          /* borrowed from argv (the vector is malloc'd) */
  char **runtime_flags; /* --runtime-flag X as "--X" */
  const char *pull;     /* --pull missing|always|never */
  const char *platform; /* --platform os/arch[/variant] (of the image to pull) */
  bool quiet;           /* -q, --quiet: no pull output */
};
/* 1: --help printed, 0: parsed and validated, -1: error (ctx->usage_error set) */
int run_args_parse(struct cmd_ctx *ctx, int argc, char **argv, const char *usage, const char *summary,
                   struct run_args *ra, berth_error_t *err);
void run_args_release(struct run_args *ra);
/* --cidfile: refused when the file exists (before the create); the id written (after it) */
int cidfile_check(const struct run_args *ra, berth_error_t *err) BERTH_WUR;
int cidfile_write(const struct run_args *ra, const char *id, berth_error_t *err) BERTH_WUR;

/* detach.c: the detach keys of run -it, attach and exec -it */
struct detach_keys {
  unsigned char keys[BERTH_DETACH_KEYS_MAX];
  size_t n, matched;
};
/* spec: --detach-keys, NULL for Docker's ctrl-p,ctrl-q */
int detach_keys_init(struct detach_keys *d, const char *spec, berth_error_t *err) BERTH_WUR;
/* in's bytes to pass on into out (room for n + BERTH_DETACH_KEYS_MAX); *detached when the
 * sequence completed (what followed it is dropped) */
size_t detach_keys_filter(struct detach_keys *d, const char *in, size_t n, char *out, bool *detached);

/* The attached side of run, start -a and attach: container output to stdout/stderr, stdin to
 * the container (stdin_on), the terminal raw with resizes forwarded (tty), signals sent to the
 * container (sig_proxy). *exit_code: the container's (from the monitor, else recorded). */
struct stream_opts {
  bool tty;
  bool stdin_on;
  bool sig_proxy;
  const char *detach_keys; /* with tty: --detach-keys (NULL: ctrl-p,ctrl-q) */
};
int cli_stream(struct berth_engine *e, const char *id, struct berth_ctr_attach *a,
               const struct stream_opts *o, int *exit_code, berth_error_t *err);
/* cli_stream's result when the detach keys were typed: the container runs on */
#define CLI_STREAM_DETACHED (-2)

/* stop/restart -t: *out NULL when s is NULL, else storage holding the seconds (-1: no limit) */
int cli_parse_timeout(struct cmd_ctx *ctx, const char *s, int **out, int *storage, berth_error_t *err);

#endif
