/* OCI hooks: run each hook of a kind in order with the container state JSON on stdin,
 * its own env and args, killed after its timeout. */
#ifndef BERTH_RUNTIME_HOOKS_H
#define BERTH_RUNTIME_HOOKS_H

#include "base/error.h"
#include "oci/spec.h"

/* Runs spec->hooks.list[kind] in order; stops at the first failure (error names the
 * hook kind, index and path, exit status or timeout, and the hook's stderr tail). */
int berth_hooks_run(const berth_spec_t *spec, enum berth_hook_kind kind, const char *state_json,
                    berth_error_t *err) BERTH_WUR;

/* poststart and poststop: every hook runs; a failure is a warning (runtime-spec: the
 * lifecycle continues as if the hook had succeeded). Returns the number that failed. */
size_t berth_hooks_run_warn(const berth_spec_t *spec, enum berth_hook_kind kind, const char *state_json);

#endif
