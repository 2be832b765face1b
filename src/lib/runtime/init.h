/* The container process: everything between clone and execve of the user program.
 * Internal to runtime/. */
#ifndef BERTH_RUNTIME_INIT_H
#define BERTH_RUNTIME_INIT_H

#include <stdbool.h>
#include <stdint.h>

#include "linux/seccomp.h"
#include "oci/spec.h"
#include "runtime/create.h"

struct berth_init_ctx {
  const berth_spec_t *spec;
  const struct berth_create_opts *opts;
  const char *rootfs;          /* absolute, resolved */
  int sync_fd;                 /* our end of the sync channel */
  int start_fd;                /* listening start socket */
  int ns_fds[BERTH_NS__COUNT]; /* namespaces to join (-1: none) */
  uint64_t clone_flags;        /* CLONE_NEW* the clone already made (fast path) */
  uint64_t unshare_flags;      /* CLONE_NEW* still to make (two-stage path) */
  const struct berth_seccomp_prog *seccomp;
  int dmz_fd;      /* exec through berth-dmz from this memfd (-1: directly) */
  bool userns_new; /* a new user namespace (maps by the parent) */
  bool in_userns;  /* new or joined user namespace */
  bool setgroups_allowed;
  bool has_prestart_hooks;
  bool two_stage; /* forked by the intermediate process */
  bool cgroup_done;
  /* the parent has placed us in our cgroup */ /* prestart or createRuntime hooks: ask the parent */
};

/* Container process entry (fast path: right after clone3). Never returns. */
__attribute__((noreturn)) void berth_init_main(struct berth_init_ctx *ctx);
/* Intermediate process entry (two-stage path): joins / unshares, forks the container
 * process, reports its pid and exits. Never returns. */
__attribute__((noreturn)) void berth_init_intermediate(struct berth_init_ctx *ctx);

/* after `start`: apply the process attributes and execve (internal) */
int berth_init_exec(struct berth_init_ctx *ctx, int conn, int console_slave, const char *exe,
                    berth_error_t *err) BERTH_WUR;
/* search the program in the container's PATH (after pivot) */
char *berth_init_find_exe(const struct berth_spec_process *p, berth_error_t *err) BERTH_WUR;

/* the pty: open /dev/ptmx of the container, bind the peer on /dev/console */
int berth_console_setup(const struct berth_spec_process *p, bool bind_console, int *master, int *slave,
                        berth_error_t *err) BERTH_WUR;

#endif
