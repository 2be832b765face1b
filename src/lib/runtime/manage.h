/* pause, resume, ps, update and events of a container (through its cgroup). */
#ifndef BERTH_RUNTIME_MANAGE_H
#define BERTH_RUNTIME_MANAGE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "base/error.h"
#include "oci/spec.h"

int berth_container_pause(const char *root, const char *id, berth_error_t *err) BERTH_WUR;
int berth_container_resume(const char *root, const char *id, berth_error_t *err) BERTH_WUR;
/* pids of every process of the container (malloc'd) */
int berth_container_pids(const char *root, const char *id, pid_t **pids, size_t *n,
                         berth_error_t *err) BERTH_WUR;
/* apply new resources to a running (or paused, created) container */
int berth_container_update(const char *root, const char *id, const struct berth_spec_resources *r,
                           berth_error_t *err) BERTH_WUR;
/* One stats event: {"type":"stats","id":...,"data":{...}} (new reference). */
json_t *berth_container_stats_event(const char *root, const char *id, berth_error_t *err) BERTH_WUR;
/* Print events as JSON lines until the container stops: stats every interval_ms (0: none)
 * and "oom" whenever the kernel OOM-kills in the container. */
int berth_container_events(const char *root, const char *id, int interval_ms, FILE *out,
                           berth_error_t *err) BERTH_WUR;

#endif
