/* Helpers shared by the files of runtime/ (not a public interface). */
#ifndef BERTH_RUNTIME_INTERNAL_H
#define BERTH_RUNTIME_INTERNAL_H

#include "base/error.h"
#include "oci/spec.h"
#include "runtime/container.h"

/* connect to <dir>/start.sock (SOCK_SEQPACKET) */
int berth_start_socket_connect(const char *dir, berth_error_t *err) BERTH_WUR;
/* the config saved at create time (<dir>/config.json) */
int berth_container_load_spec(const struct berth_container *c, berth_spec_t **out, berth_error_t *err) BERTH_WUR;

#endif
