/* One way to run work in a forked child (DESIGN.md §4): the child runs a callback of ours, or a
 * program, and reports to its parent over a sync channel (base/sync.h) — success, or the
 * berth_error_t of the step that failed — then _exits. Nothing else: no text on a pipe, no
 * message on stderr, no exit code that stands for an error.
 *
 * Namespaces are the callback's to enter (linux/mountns/mountns.h for a mount namespace). */
#ifndef BERTH_BASE_CHILD_H
#define BERTH_BASE_CHILD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"
#include "base/sync.h"

/* Runs in the child. sock is the child's end of the channel: the callback may send messages
 * of its own on it first (a descriptor, …), which the parent reads with berth_child_recv.
 * Returns < 0 with *err set on failure. */
typedef int berth_child_fn(void *data, int sock, berth_error_t *err);

struct berth_child {
  pid_t pid;        /* -1: none */
  int sock;         /* the parent's end of the channel, -1 once closed */
  const char *what; /* the child in errors ("the export process"); not copied */
};

/* Fork; the child runs fn(data, sock, err), reports its error or its success and _exits. */
int berth_child_start(const char *what, berth_child_fn *fn, void *data, struct berth_child *c,
                      berth_error_t *err) BERTH_WUR;
/* One message of the callback's own, of this type (with a descriptor when fd is non-NULL: *fd
 * gets it, or -1). The child's error instead when it failed; "<what> exited with status N"
 * (or "was killed by signal N") when it ended without a word. */
int berth_child_recv(struct berth_child *c, uint32_t type, struct berth_sync_msg *msg, int *fd,
                     berth_error_t *err) BERTH_WUR;
/* The child's report, then the child reaped: 0 when the callback succeeded, else its error (or
 * how the child ended, as above). Releases c. */
int berth_child_wait(struct berth_child *c, berth_error_t *err) BERTH_WUR;
/* berth_child_start, then berth_child_wait */
int berth_child_run(const char *what, berth_child_fn *fn, void *data, berth_error_t *err) BERTH_WUR;
/* Close the channel and reap the child without its report (a child that holds something
 * until its parent lets go: berth_child_hold). Safe on a released child. */
void berth_child_release(struct berth_child *c);
/* In the child: wait until the parent closes its end of the channel (or dies). */
void berth_child_hold(int sock);

/* ---- a program in a child ---- */

#define BERTH_CHILD_MAX_FDS 8
/* flags of struct berth_child_exec */
#define BERTH_CHILD_SEARCH 0x1u /* argv[0] without a '/' is looked up in PATH (execvp's rules) */
#define BERTH_CHILD_SETSID 0x2u /* a new session first */
/* The child forks the program's process and exits: the program is not ours to wait for (it
 * is reparented to init or the nearest subreaper); *pid is its pid all the same. */
#define BERTH_CHILD_DETACH 0x4u

struct berth_child_exec {
  char *const *argv; /* argv[0] is the program */
  char *const *envp; /* NULL: this process's environment */
  /* descriptor i of the program is fds[i] (< 0: /dev/null), for i < nfds (at least 3); every
   * other descriptor is closed: nothing our caller left open reaches the program (a runtime
   * that joins a container, CVE-2016-9962) */
  int fds[BERTH_CHILD_MAX_FDS];
  size_t nfds;
  unsigned flags;
  berth_child_fn *prepare; /* runs in the child first, after setsid (NULL: nothing) */
  void *data;
};

/* Start a program in a child: setsid, prepare, the descriptors, every signal to its default
 * disposition and an empty mask, execve. Returns once the program runs, with its pid, or with
 * the error of the step that failed: prepare's own, or "exec `<argv[0]>`: <strerror>". Without
 * prepare or DETACH the child is a clone(CLONE_VM | CLONE_VFORK), as posix_spawn makes it: no
 * copy of our page tables and no copy-on-write faults after it (berth is a large dynamically
 * linked process); it runs nothing but system calls, and reports a failed step through the
 * memory it shares with us instead of the channel. */
int berth_child_exec(const struct berth_child_exec *x, pid_t *pid, berth_error_t *err) BERTH_WUR;

/* How a reaped child ended, as an error of what: "<what> exited with status N", "<what> was
 * killed by signal N (<name>)". Returns -1. */
int berth_child_status_error(const char *what, int status, berth_error_t *err);

#endif
