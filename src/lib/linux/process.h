/* Per-process attributes applied in the container process before exec. */
#ifndef BERTH_LINUX_PROCESS_H
#define BERTH_LINUX_PROCESS_H

#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"
#include "oci/spec.h"

/* setrlimit each of p->rlimits in order; EPERM when raising a hard limit names the
 * limit and CAP_SYS_RESOURCE */
int berth_rlimits_apply(const struct berth_spec_process *p, berth_error_t *err) BERTH_WUR;
/* PR_SET_KEEPCAPS on (cleared by execve), setgroups(additionalGids) — skipped when
 * setgroups_allowed is false (user namespace with setgroups=deny), where asking for
 * additional gids is an error — then setresgid, setresuid, and umask when has_umask. */
int berth_user_apply(const struct berth_spec_user *u, bool setgroups_allowed, berth_error_t *err) BERTH_WUR;
/* Write linux.sysctl under /proc/sys of the current root (checked to be procfs). Keys use
 * sysctl(8) syntax ("net.ipv4.ip_forward"; with a '/', the two separators swap as in
 * "net.ipv4.conf.eth0/100.forwarding"); they are resolved beneath /proc/sys with no
 * symlinks or "..". Errors name the key. */
int berth_sysctl_apply(const berth_spec_t *spec, berth_error_t *err) BERTH_WUR;
/* "net.ipv4.ip_forward" -> "net/ipv4/ip_forward" (malloc'd), or NULL and an error */
char *berth_sysctl_key_to_path(const char *key, berth_error_t *err) BERTH_WUR;
int berth_personality_apply(const struct berth_spec_personality *p, berth_error_t *err) BERTH_WUR;
int berth_ioprio_apply(const struct berth_spec_io_priority *p, berth_error_t *err) BERTH_WUR;
int berth_scheduler_apply(const struct berth_spec_scheduler *s, berth_error_t *err) BERTH_WUR;
/* write /proc/<pid>/oom_score_adj (from the runtime, host /proc) */
int berth_oom_score_adj_apply(pid_t pid, int value, berth_error_t *err) BERTH_WUR;
/* passwd.c: the home directory of `uid` in passwd(5) text (its first line with that uid;
 * comment and NIS lines skipped), malloc'd; NULL when no line has it or it is empty (the
 * caller then uses "/", as runc does). Pure. */
char *berth_passwd_home(const char *text, size_t len, uint32_t uid);
/* The same from /etc/passwd of the current root (a regular file, never a fifo; NULL when
 * missing or unreadable). */
char *berth_passwd_home_lookup(uint32_t uid);
#define BERTH_CPU_MAX 65536
/* Parse a cpu list ("0-3,7") into a CPU_ALLOC'd set (*size bytes; free with CPU_FREE). */
int berth_cpu_list_parse(const char *list, cpu_set_t **out, size_t *size, berth_error_t *err) BERTH_WUR;
/* parse "0-3,7" and sched_setaffinity(pid) */
int berth_cpu_affinity_apply(pid_t pid, const char *cpus, berth_error_t *err) BERTH_WUR;

#endif
