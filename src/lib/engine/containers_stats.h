/* Shared by engine/containers_stats*.c only. */
#ifndef BERTH_ENGINE_CONTAINERS_STATS_H
#define BERTH_ENGINE_CONTAINERS_STATS_H

#include "engine/containers.h"

/* run the container's runtime with tail (stdin /dev/null) and collect its stdout; on failure the
 * error is its last stderr line */
int stats_runtime_output(struct berth_engine *e, const struct berth_container *c, const char *const *tail,
                         char **out, berth_error_t *err) BERTH_WUR;

#endif
