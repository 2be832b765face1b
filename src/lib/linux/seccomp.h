/* Seccomp: a linux.seccomp config compiled to a BPF program with libseccomp, cached by
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
  void *insns;                /* struct sock_filter[] */
  size_t n_insns;
  unsigned int flags;         /* SECCOMP_FILTER_FLAG_* for seccomp(2) */
  bool wants_listener;        /* SCMP_ACT_NOTIFY used: SECCOMP_FILTER_FLAG_NEW_LISTENER */
};

/* Compile (or load from cache_dir/<sha256>.bpf when cache_dir is non-NULL). */
int berth_seccomp_compile(const struct berth_spec_seccomp *sc, const char *cache_dir,
                          struct berth_seccomp_prog **out, berth_error_t *err) BERTH_WUR;
/* Install in the calling thread; *listener_fd gets the notify fd when wanted (else -1). */
int berth_seccomp_load(const struct berth_seccomp_prog *p, int *listener_fd, berth_error_t *err) BERTH_WUR;
void berth_seccomp_prog_free(struct berth_seccomp_prog *p);

/* Send the listener fd and the container process state (JSON) to listenerPath. */
int berth_seccomp_send_listener(const char *listener_path, int listener_fd, const char *state_json,
                                berth_error_t *err) BERTH_WUR;

#endif
