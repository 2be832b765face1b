/* Per-process attributes applied in the container process before exec. */
#ifndef BERTH_LINUX_PROCESS_H
#define BERTH_LINUX_PROCESS_H

#include <sys/types.h>

#include "base/error.h"
#include "oci/spec.h"

int berth_rlimits_apply(const struct berth_spec_process *p, berth_error_t *err) BERTH_WUR;
/* setgroups/setgid/setuid (with PR_SET_KEEPCAPS around it) and umask */
int berth_user_apply(const struct berth_spec_user *u, bool setgroups_allowed, berth_error_t *err) BERTH_WUR;
/* write net.* / kernel.* keys under /proc/sys (checked to be procfs) */
int berth_sysctl_apply(const berth_spec_t *spec, berth_error_t *err) BERTH_WUR;
int berth_personality_apply(const struct berth_spec_personality *p, berth_error_t *err) BERTH_WUR;
int berth_ioprio_apply(const struct berth_spec_io_priority *p, berth_error_t *err) BERTH_WUR;
int berth_scheduler_apply(const struct berth_spec_scheduler *s, berth_error_t *err) BERTH_WUR;
/* write /proc/<pid>/oom_score_adj (from the runtime, host /proc) */
int berth_oom_score_adj_apply(pid_t pid, int value, berth_error_t *err) BERTH_WUR;
/* parse "0-3,7" and sched_setaffinity(pid) */
int berth_cpu_affinity_apply(pid_t pid, const char *cpus, berth_error_t *err) BERTH_WUR;

#endif
