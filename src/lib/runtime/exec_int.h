/* exec's state shared by exec.c and exec_reexec.c (internal to runtime/). */
#ifndef BERTH_RUNTIME_EXEC_INT_H
#define BERTH_RUNTIME_EXEC_INT_H

#include <stdbool.h>
#include <sys/types.h>

#include "linux/seccomp.h"
#include "oci/spec.h"
#include "runtime/container.h"
#include "runtime/create.h"
#include "runtime/exec.h"

struct exec_state {
  const struct berth_exec_opts *o;
  struct berth_container *c;
  berth_spec_t *spec;             /* the container's config */
  berth_spec_t xspec;             /* shallow copy whose process is the exec process */
  struct berth_spec_process proc;
  bool proc_parsed;
  struct berth_seccomp_prog *seccomp;
  struct berth_create_opts copts; /* preserve_fds for the shared exec code */
  int init_pidfd;
  int sync[2];
  int console_sock;
  pid_t pid;
  int pidfd;
  int master;
  int exe_fd;                     /* protected copy for the exec'd process to re-exec from, or -1 */
  int mnt_fd;                     /* with exe_fd: the container's mount namespace, joined after the
                                   * re-exec (a dynamic binary needs the host's ld.so to start) */
  char *seccomp_cache;
  bool go_done;                   /* the child got GO before a re-exec */
  json_t *process_doc;            /* the re-executed child's own parse of the process */
};

/* the process in the container (after the intermediate's fork); never returns */
__attribute__((noreturn)) void berth_exec_child(struct exec_state *s, int sync_fd);
/* GO from the parent (and root of the container's user namespace) */
int berth_exec_child_go(int sync_fd, bool in_userns, berth_error_t *err) BERTH_WUR;
/* hand the child over to the protected copy (`berth-runtime __exec-init`); returns on error */
int berth_exec_reexec(struct exec_state *s, int sync_fd, berth_error_t *err) BERTH_WUR;
/* `berth-runtime __exec-init SYNC CTX`: the re-executed child rebuilds its state, continues */
__attribute__((noreturn)) void berth_exec_reexec_main(int argc, char **argv);

#endif
