/* Seccomp: a linux.seccomp config compiled to a BPF program with libseccomp (its syscall
 * dispatch rewritten as a balanced search, seccomp_opt.h), cached by
 * the content hash of the config so later containers skip compilation, and loaded with
 * seccomp(2). */
#ifndef BERTH_LINUX_SECCOMP_H
#define BERTH_LINUX_SECCOMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "oci/spec.h"

struct berth_seccomp_prog {
  void *insns; /* struct sock_filter[] */
  size_t n_insns;
  unsigned int flags;    /* SECCOMP_FILTER_FLAG_* for seccomp(2) */
  bool wants_listener;   /* SCMP_ACT_NOTIFY used: SECCOMP_FILTER_FLAG_NEW_LISTENER */
  bool notifies_sendmsg; /* sendmsg(2) may go to the listener: no sending it with SCM_RIGHTS */
};

/* Compile (or load from cache_dir/<sha256>.bpf when cache_dir is non-NULL). */
int berth_seccomp_compile(const struct berth_spec_seccomp *sc, const char *cache_dir,
                          struct berth_seccomp_prog **out, berth_error_t *err) BERTH_WUR;
/* Install in the calling thread; *listener_fd gets the notify fd when wanted (else -1). */
int berth_seccomp_load(const struct berth_seccomp_prog *p, int *listener_fd, berth_error_t *err) BERTH_WUR;
void berth_seccomp_prog_free(struct berth_seccomp_prog *p);

/* The runtime-spec "containerProcessState" for a seccomp agent, built from the container
 * state JSON (ociVersion and pid are taken from it): {ociVersion, fds: ["seccompFd"], pid,
 * metadata (omitted when NULL), state}. Returns a malloc'd compact JSON string. */
char *berth_seccomp_process_state(const char *state_json, const char *metadata, berth_error_t *err) BERTH_WUR;
/* Connect to sc->listener_path (a unix stream socket) and send the listener fd with
 * SCM_RIGHTS and the containerProcessState (built from state_json and
 * sc->listener_metadata) as the payload. */
int berth_seccomp_send_listener(const struct berth_spec_seccomp *sc, int listener_fd, const char *state_json,
                                berth_error_t *err) BERTH_WUR;

#endif
