/* cgroup manager: detection of the host's cgroup layout (v1, v2, hybrid), one cgroup per
 * container in every hierarchy, linux.resources applied as planned file writes, freeze,
 * kill, stats, OOM notification and teardown. See docs/design/cgroups.md.
 *
 * Typical use by the runtime:
 *   berth_cgroup_detect(NULL, NULL, NULL, &layout, err);
 *   berth_cgroup_manager_new(&layout, &cfg, &m, err);   (cfg: kind, cgroupsPath, id)
 *   berth_cgroup_create(m, pid, err);                   (mkdir -p + join pid)
 *   berth_cgroup_apply(m, &resources, &warnings, err);  (log every warning)
 *   state.json <- berth_cgroup_manager_to_json(m)
 * later commands: berth_cgroup_manager_from_json(state["cgroup"], &m, err), then
 * freeze / kill / pids / stats / apply (update) / destroy. */
#ifndef BERTH_CGROUP_CGROUP_H
#define BERTH_CGROUP_CGROUP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"
#include "oci/spec.h"

enum berth_cgroup_mode {
  BERTH_CGROUP_MODE_NONE = 0, /* disabled manager */
  BERTH_CGROUP_MODE_V1,
  BERTH_CGROUP_MODE_V2,
  BERTH_CGROUP_MODE_HYBRID, /* v1 controllers + a cgroup2 mount (usually <root>/unified) */
};

/* Controllers, v1 and v2 names alike; IO is v2's, BLKIO v1's. NONE marks core cgroup.* files. */
enum berth_cgroup_ctl {
  BERTH_CGROUP_CTL_CPU,
  BERTH_CGROUP_CTL_CPUACCT,
  BERTH_CGROUP_CTL_CPUSET,
  BERTH_CGROUP_CTL_MEMORY,
  BERTH_CGROUP_CTL_DEVICES,
  BERTH_CGROUP_CTL_FREEZER,
  BERTH_CGROUP_CTL_BLKIO,
  BERTH_CGROUP_CTL_IO,
  BERTH_CGROUP_CTL_PIDS,
  BERTH_CGROUP_CTL_HUGETLB,
  BERTH_CGROUP_CTL_NET_CLS,
  BERTH_CGROUP_CTL_NET_PRIO,
  BERTH_CGROUP_CTL_PERF_EVENT,
  BERTH_CGROUP_CTL_RDMA,
  BERTH_CGROUP_CTL_MISC,
  BERTH_CGROUP_CTL__COUNT,
  BERTH_CGROUP_CTL_NONE = BERTH_CGROUP_CTL__COUNT,
};
#define BERTH_CGROUP_CTL_BIT(c) (1u << (c))

const char *berth_cgroup_ctl_name(enum berth_cgroup_ctl c);   /* "memory"; "cgroup" for NONE */
int berth_cgroup_ctl_from_name(const char *name);             /* -1 when unknown */
const char *berth_cgroup_mode_name(enum berth_cgroup_mode m); /* "v1", "v2", "hybrid", "none" */

/* One mounted hierarchy. */
struct berth_cgroup_hierarchy {
  char *mountpoint;     /* "/sys/fs/cgroup/memory" */
  char *mount_root;     /* mountinfo's root field: "/" unless a sub-tree is mounted */
  char *name;           /* named v1 hierarchy ("systemd" for name=systemd), else NULL */
  uint32_t controllers; /* v1: mounted controllers; v2: cgroup.controllers of the mount root */
  char *self;           /* this process's cgroup in it, from /proc/self/cgroup ("/" if absent) */
};

struct berth_cgroup_layout {
  enum berth_cgroup_mode mode;
  struct berth_cgroup_hierarchy *v1; /* v1 hierarchies (controllers or name=systemd) */
  size_t n_v1;
  bool has_unified;
  struct berth_cgroup_hierarchy unified; /* the cgroup2 mount when has_unified */
};

/* Detect the layout. root: where hierarchies are mounted ("/sys/fs/cgroup" when NULL; a cgroup2
 * mount exactly at root means pure v2, so passing "/sys/fs/cgroup/unified" on a hybrid host
 * gives a v2 view of its cgroup2 tree). mountinfo: "/proc/self/mountinfo" when NULL.
 * self_cgroup: "/proc/self/cgroup" when NULL (a missing file means every self path is "/").
 * Only mounts below root count. Error when no hierarchy is mounted there. */
int berth_cgroup_detect(const char *root, const char *mountinfo, const char *self_cgroup,
                        struct berth_cgroup_layout *out, berth_error_t *err) BERTH_WUR;
void berth_cgroup_layout_free(struct berth_cgroup_layout *l);

/* Warnings: values the host cannot honour. Never silent: the caller logs each one. */
struct berth_cgroup_warnings {
  char **msgs;
  size_t n;
};
void berth_cgroup_warnings_free(struct berth_cgroup_warnings *w);

/* ---------------- the manager ---------------- */

enum berth_cgroup_kind {
  BERTH_CGROUP_CGROUPFS = 0,
  BERTH_CGROUP_SYSTEMD,  /* needs systemd (D-Bus); new() fails with a clear error */
  BERTH_CGROUP_DISABLED, /* every operation succeeds and does nothing */
};

struct berth_cgroup_config {
  enum berth_cgroup_kind kind;
  const char *cgroups_path;    /* linux.cgroupsPath, or NULL/"" */
  const char *id;              /* container id: the default path when cgroups_path is absent */
  const char *systemd_run_dir; /* NULL: "/run/systemd/system" (tests override) */
  /* relative cgroupsPath (and the default <id>) under this process's own cgroup, as runc does;
   * the runtime sets it only when not root (a rootless user can write only its delegated
   * subtree). false: relative paths start at each hierarchy's root. */
  bool relative_to_self;
  /* where the levels above a container's cgroup that a manager made are noted (one empty file
   * per level), so that whichever container under such a level goes last removes it, not only
   * the one that made it; NULL: each manager removes only the levels it made itself. Its own
   * parent directory must exist: it is flock'ed while levels are made or removed. */
  const char *parents_dir;
};

enum berth_cgroup_freezer_state {
  BERTH_CGROUP_THAWED = 0,
  BERTH_CGROUP_FREEZING,
  BERTH_CGROUP_FROZEN,
};

typedef struct berth_cgroup_manager berth_cgroup_manager_t;

/* Resolve the container's cgroup in every hierarchy (no I/O but for the systemd check).
 * cgroupsPath like runc's cgroupfs driver: cleaned lexically (".." cannot climb above the
 * start); absolute → <mountpoint><path>; relative → under this process's own cgroup in each
 * hierarchy (/proc/self/cgroup, made relative to the mount's root); absent → relative "<id>".
 * A path that resolves to the start cgroup itself is an error. layout may be NULL for
 * DISABLED. */
int berth_cgroup_manager_new(const struct berth_cgroup_layout *layout, const struct berth_cgroup_config *cfg,
                             berth_cgroup_manager_t **out, berth_error_t *err) BERTH_WUR;
void berth_cgroup_manager_free(berth_cgroup_manager_t *m);

/* mkdir -p the cgroup in every hierarchy (v1: every mounted one incl. name=systemd; hybrid: also
 * the unified dir), remembering which levels it made; v1 cpuset levels it makes get the
 * parent's cpuset.cpus/mems; v2 levels it makes (not the leaf) get their available controllers
 * enabled. pid > 0: then join it. On failure nothing it made is left. An existing leaf is
 * reused (created count 0 for it). */
int berth_cgroup_create(berth_cgroup_manager_t *m, pid_t pid, berth_error_t *err) BERTH_WUR;
/* Move pid into the cgroup in every hierarchy (cgroup.procs). For exec. */
int berth_cgroup_join(berth_cgroup_manager_t *m, pid_t pid, berth_error_t *err) BERTH_WUR;
/* Apply linux.resources (create and update). Unset fields are not touched; n_devices == 0
 * leaves the device rules alone (see berth_cgroup_devices_with_defaults). Warnings are appended
 * to *warnings (may be NULL: then they are dropped — only for tests). Errors name the field and
 * the file: "linux.resources.memory.limit: write memory.limit_in_bytes = 1048576: Device or
 * resource busy". */
int berth_cgroup_apply(berth_cgroup_manager_t *m, const struct berth_spec_resources *r,
                       struct berth_cgroup_warnings *warnings, berth_error_t *err) BERTH_WUR;
/* Freeze (and wait until frozen) or thaw: v1 freezer.state, v2 cgroup.freeze. */
int berth_cgroup_freeze(berth_cgroup_manager_t *m, bool frozen, berth_error_t *err) BERTH_WUR;
int berth_cgroup_freezer_state(berth_cgroup_manager_t *m, enum berth_cgroup_freezer_state *out,
                               berth_error_t *err) BERTH_WUR;
/* Signal every process in the cgroup and its descendants. SIGKILL with a cgroup.kill file (v2,
 * hybrid's unified dir): one write. Otherwise freeze, signal each pid, thaw (v1 freezer or
 * v2 cgroup.freeze; without a freezer the pids are signalled twice to catch forks). Does not
 * wait for the processes to exit. ESRCH is not an error. */
int berth_cgroup_kill(berth_cgroup_manager_t *m, int sig, berth_error_t *err) BERTH_WUR;
/* Every pid in the cgroup and its descendants (malloc'd, sorted, may be empty). */
int berth_cgroup_pids(berth_cgroup_manager_t *m, pid_t **pids, size_t *n, berth_error_t *err) BERTH_WUR;
/* true when no process is in the cgroup (or it does not exist) */
int berth_cgroup_is_empty(berth_cgroup_manager_t *m, bool *empty, berth_error_t *err) BERTH_WUR;
/* Stats as runc's `events --stats` "data" object: cpu.usage (total, percpu, kernel, user),
 * cpu.throttling, memory.usage/swap/kernel/kernelTCP (limit, usage, max, failcnt), memory.cache,
 * memory.raw, pids (current, limit), blkio.ioServiceBytesRecursive/ioServicedRecursive,
 * hugetlb. Missing controllers leave their part empty. */
int berth_cgroup_stats(berth_cgroup_manager_t *m, json_t **out, berth_error_t *err) BERTH_WUR;
/* An O_CLOEXEC|O_NONBLOCK fd that becomes readable on OOM events: v1 an eventfd registered on
 * memory.oom_control, v2 an inotify watch on memory.events. Drain it with read(fd, buf, 4096)
 * and read berth_cgroup_oom_kill_count to see whether an OOM kill happened. */
int berth_cgroup_oom_fd(berth_cgroup_manager_t *m, berth_error_t *err) BERTH_WUR;
int berth_cgroup_oom_kill_count(berth_cgroup_manager_t *m, uint64_t *count, berth_error_t *err) BERTH_WUR;
/* Kill what is left (SIGKILL), thaw, rmdir the cgroup's descendants, the cgroup and the parent
 * levels this manager created, bottom-up, retrying EBUSY for about a second. Parents that are
 * not empty (shared with another container) are kept silently. Error only when a directory
 * the manager owns stays; it names it. Idempotent. */
int berth_cgroup_destroy(berth_cgroup_manager_t *m, berth_error_t *err) BERTH_WUR;

/* Persist in state.json and reopen in later commands (no re-detection needed). */
json_t *berth_cgroup_manager_to_json(const berth_cgroup_manager_t *m);
int berth_cgroup_manager_from_json(json_t *obj, berth_cgroup_manager_t **out, berth_error_t *err) BERTH_WUR;

/* Introspection. */
enum berth_cgroup_kind berth_cgroup_manager_kind(const berth_cgroup_manager_t *m);
enum berth_cgroup_mode berth_cgroup_manager_mode(const berth_cgroup_manager_t *m);
/* The resolved path inside the hierarchies ("/berth/abc" or "/user.slice/x/abc"); NULL disabled. */
const char *berth_cgroup_manager_path(const berth_cgroup_manager_t *m);
/* The container's directory serving a controller (v1 hierarchy or unified); NULL when none.
 * BERTH_CGROUP_CTL_NONE: the unified dir (v2, hybrid) or NULL. */
const char *berth_cgroup_manager_dir(const berth_cgroup_manager_t *m, enum berth_cgroup_ctl ctl);

/* The device rules runc enforces: linux.resources.devices, then the default allow-list (mknod of
 * any c/b device; /dev/null, zero, full, random, urandom, tty, ptmx, every pts), then rwm for every
 * linux.devices entry. malloc'd; strings are static or borrowed from the spec. */
struct berth_spec_device_rule *berth_cgroup_devices_with_defaults(const struct berth_spec_linux *lx,
                                                                  size_t *n);

static inline void berth_cleanup_cgroup_manager(berth_cgroup_manager_t **m)
{
  if (*m)
    berth_cgroup_manager_free(*m);
  *m = NULL;
}
#define cleanup_cgroup_manager __attribute__((cleanup(berth_cleanup_cgroup_manager)))

#endif
