/* The runtime-spec 1.2 configuration (config.json) as C structs.
 *
 * Strings are borrowed from the parsed JSON document, which the spec owns (`doc`);
 * arrays are malloc'd and freed by berth_spec_free. Optional scalars carry a `has_`
 * flag. The parser validates everything that can be checked without touching the
 * system (types, ranges, absolute paths, known names) and converts names to numbers
 * (capabilities, rlimits, namespaces, seccomp actions) so executors never see text
 * they would have to interpret. */
#ifndef BERTH_OCI_SPEC_H
#define BERTH_OCI_SPEC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"

struct berth_id_map {
  uint32_t container_id;
  uint32_t host_id;
  uint32_t size;
};

struct berth_spec_mount {
  const char *destination; /* absolute inside the container (validated) */
  const char *type;        /* may be NULL (bind when options say so) */
  const char *source;      /* may be NULL */
  const char **options;    /* NULL-terminated, may be NULL */
  size_t n_options;
  struct berth_id_map *uid_mappings; /* idmapped mounts */
  size_t n_uid_mappings;
  struct berth_id_map *gid_mappings;
  size_t n_gid_mappings;
};

enum berth_ns_type {
  BERTH_NS_PID,
  BERTH_NS_NETWORK,
  BERTH_NS_MOUNT,
  BERTH_NS_IPC,
  BERTH_NS_UTS,
  BERTH_NS_USER,
  BERTH_NS_CGROUP,
  BERTH_NS_TIME,
  BERTH_NS__COUNT
};

struct berth_spec_namespace {
  bool present;     /* listed in linux.namespaces */
  const char *path; /* join this one (absolute) or NULL: create new */
};

/* one capability set as a bitmask over CAP_* numbers (0..63) */
struct berth_spec_caps {
  bool present; /* process.capabilities given at all */
  uint64_t bounding, effective, inheritable, permitted, ambient;
};

struct berth_spec_rlimit {
  int resource; /* RLIMIT_* */
  uint64_t soft, hard;
};

struct berth_spec_user {
  uint32_t uid, gid;
  bool has_umask;
  uint32_t umask;
  uint32_t *additional_gids;
  size_t n_additional_gids;
  const char *username;
};

struct berth_spec_io_priority {
  bool present;
  int class; /* IOPRIO_CLASS_RT/BE/IDLE */
  int priority;
};

struct berth_spec_scheduler {
  bool present;
  int policy; /* SCHED_* */
  bool has_nice;
  int nice;
  bool has_priority;
  int priority;
  uint64_t flags; /* SCHED_FLAG_* */
  uint64_t runtime, deadline, period;
};

struct berth_spec_process {
  bool terminal;
  bool has_console_size;
  uint32_t console_height, console_width;
  struct berth_spec_user user;
  const char **args; /* NULL-terminated, at least one element (validated) */
  size_t n_args;
  const char **env; /* NULL-terminated, may be NULL */
  size_t n_env;
  const char *cwd; /* absolute (validated) */
  struct berth_spec_caps caps;
  struct berth_spec_rlimit *rlimits;
  size_t n_rlimits;
  bool no_new_privileges;
  const char *apparmor_profile;
  const char *selinux_label;
  bool has_oom_score_adj;
  int oom_score_adj;
  struct berth_spec_io_priority io_priority;
  struct berth_spec_scheduler scheduler;
  const char *exec_cpu_affinity_initial;
  const char *exec_cpu_affinity_final;
};

struct berth_spec_hook {
  const char *path;  /* absolute */
  const char **args; /* may be NULL */
  const char **env;  /* may be NULL */
  bool has_timeout;
  int timeout; /* seconds, > 0 */
};

enum berth_hook_kind {
  BERTH_HOOK_PRESTART,
  BERTH_HOOK_CREATE_RUNTIME,
  BERTH_HOOK_CREATE_CONTAINER,
  BERTH_HOOK_START_CONTAINER,
  BERTH_HOOK_POSTSTART,
  BERTH_HOOK_POSTSTOP,
  BERTH_HOOK__COUNT
};

struct berth_spec_hooks {
  struct berth_spec_hook *list[BERTH_HOOK__COUNT];
  size_t n[BERTH_HOOK__COUNT];
};

struct berth_spec_device {
  char type;            /* 'c', 'b', 'u' (= 'c'), 'p' */
  const char *path;     /* absolute */
  int64_t major, minor; /* -1 when absent (only allowed for 'p') */
  bool has_file_mode;
  uint32_t file_mode; /* permission bits */
  bool has_uid, has_gid;
  uint32_t uid, gid;
};

/* ---------------- seccomp ---------------- */

struct berth_spec_seccomp_arg {
  unsigned int index;
  uint64_t value, value_two;
  int op; /* enum scmp_compare */
};

struct berth_spec_seccomp_rule {
  const char **names;
  size_t n_names;
  uint32_t action; /* SCMP_ACT_* without the errno/trace data */
  bool has_errno_ret;
  uint32_t errno_ret;
  struct berth_spec_seccomp_arg *args;
  size_t n_args;
};

struct berth_spec_seccomp {
  bool present;
  uint32_t default_action;
  bool has_default_errno_ret;
  uint32_t default_errno_ret;
  uint32_t *architectures; /* SCMP_ARCH_* tokens */
  size_t n_architectures;
  unsigned int flags; /* SECCOMP_FILTER_FLAG_* */
  const char *listener_path;
  const char *listener_metadata;
  struct berth_spec_seccomp_rule *syscalls;
  size_t n_syscalls;
  json_t *json;              /* the linux.seccomp object, for hashing */
  bool fail_unknown_syscall; /* annotation run.oci.seccomp_fail_unknown_syscall (crun's) */
};

/* ---------------- cgroup resources (applied by cgroup/) ---------------- */

struct berth_opt_i64 {
  bool set;
  int64_t v;
};
struct berth_opt_u64 {
  bool set;
  uint64_t v;
};

struct berth_spec_device_rule {
  bool allow;
  char type;            /* 'a', 'c', 'b' */
  int64_t major, minor; /* -1 = wildcard */
  const char *access;   /* subset of "rwm" */
};

struct berth_spec_weight_device {
  int64_t major, minor;
  struct berth_opt_u64 weight, leaf_weight;
};

struct berth_spec_throttle_device {
  int64_t major, minor;
  uint64_t rate;
};

struct berth_spec_hugepage_limit {
  const char *page_size; /* "2MB", "1GB" */
  uint64_t limit;
};

struct berth_spec_net_priority {
  const char *name;
  uint32_t priority;
};

struct berth_spec_rdma {
  const char *device;
  struct berth_opt_u64 hca_handles, hca_objects;
};

struct berth_spec_resources {
  bool present;
  struct berth_spec_device_rule *devices;
  size_t n_devices;
  struct {
    struct berth_opt_i64 limit, reservation, swap, kernel, kernel_tcp;
    struct berth_opt_u64 swappiness;
    bool has_disable_oom_killer, disable_oom_killer;
    bool has_use_hierarchy, use_hierarchy;
    bool has_check_before_update, check_before_update;
  } memory;
  struct {
    struct berth_opt_u64 shares, period, realtime_period, burst;
    struct berth_opt_i64 quota, realtime_runtime, idle;
    const char *cpus, *mems;
  } cpu;
  struct {
    bool present;
    int64_t limit;
  } pids;
  struct {
    struct berth_opt_u64 weight, leaf_weight;
    struct berth_spec_weight_device *weight_device;
    size_t n_weight_device;
    struct berth_spec_throttle_device *throttle_read_bps, *throttle_write_bps, *throttle_read_iops,
      *throttle_write_iops;
    size_t n_throttle_read_bps, n_throttle_write_bps, n_throttle_read_iops, n_throttle_write_iops;
  } block_io;
  struct berth_spec_hugepage_limit *hugepage_limits;
  size_t n_hugepage_limits;
  struct {
    struct berth_opt_u64 class_id;
    struct berth_spec_net_priority *priorities;
    size_t n_priorities;
  } network;
  struct berth_spec_rdma *rdma;
  size_t n_rdma;
  const char **unified_keys, **unified_values;
  size_t n_unified;
  json_t *json; /* linux.resources as given */
};

struct berth_spec_time_offset {
  bool present;
  int64_t secs;
  uint32_t nanosecs;
};

struct berth_spec_personality {
  bool present;
  unsigned long domain; /* PER_LINUX or PER_LINUX32 */
  unsigned long flags;
};

struct berth_spec_linux {
  struct berth_spec_namespace ns[BERTH_NS__COUNT];
  struct berth_id_map *uid_mappings;
  size_t n_uid_mappings;
  struct berth_id_map *gid_mappings;
  size_t n_gid_mappings;
  struct berth_spec_time_offset time_monotonic, time_boottime;
  struct berth_spec_device *devices;
  size_t n_devices;
  const char *cgroups_path;
  struct berth_spec_resources resources;
  const char **sysctl_keys, **sysctl_values;
  size_t n_sysctl;
  struct berth_spec_seccomp seccomp;
  unsigned long rootfs_propagation; /* MS_SHARED/MS_SLAVE/MS_PRIVATE/MS_UNBINDABLE, 0 = default */
  const char **masked_paths;
  size_t n_masked_paths;
  const char **readonly_paths;
  size_t n_readonly_paths;
  const char *mount_label;
  struct berth_spec_personality personality;
  json_t *intel_rdt; /* kept as JSON; not supported on this host class */
};

struct berth_spec {
  json_t *doc; /* owns every borrowed string below */
  char *text;  /* the file's bytes as read (berth_spec_load only), else NULL */
  size_t text_len;
  const char *oci_version;
  const char *root_path; /* as given (relative to the bundle or absolute) */
  bool root_readonly;
  struct berth_spec_mount *mounts;
  size_t n_mounts;
  bool has_process;
  struct berth_spec_process process;
  const char *hostname;
  const char *domainname;
  struct berth_spec_hooks hooks;
  const char **annotation_keys, **annotation_values;
  size_t n_annotations;
  struct berth_spec_linux linux_;
};
typedef struct berth_spec berth_spec_t;

/* Parse and validate a config document. `file` names it in errors ("config.json"). */
int berth_spec_parse(const char *text, size_t len, const char *file, berth_spec_t **out,
                     berth_error_t *err) BERTH_WUR;
/* The value of annotation `key`, or NULL when the config has none. */
const char *berth_spec_annotation(const berth_spec_t *spec, const char *key);
/* podman's annotations that berth-runtime acts on, as crun does (docs/conformance.md lists
 * the others): keep the caller's supplementary groups; hooks' stdout/stderr appended to a
 * file; an unknown syscall name in linux.seccomp is an error instead of skipped */
#define BERTH_ANNOTATION_KEEP_GROUPS          "run.oci.keep_original_groups"
#define BERTH_ANNOTATION_HOOKS_STDOUT         "run.oci.hooks.stdout"
#define BERTH_ANNOTATION_HOOKS_STDERR         "run.oci.hooks.stderr"
#define BERTH_ANNOTATION_SECCOMP_FAIL_UNKNOWN "run.oci.seccomp_fail_unknown_syscall"
/* Load <bundle>/config.json. */
int berth_spec_load(const char *bundle, berth_spec_t **out, berth_error_t *err) BERTH_WUR;
/* Parse a process object alone (runc exec --process), errors prefixed with file. */
int berth_spec_parse_process(json_t *obj, const char *file, struct berth_spec_process *out,
                             berth_error_t *err) BERTH_WUR;
void berth_spec_process_free(struct berth_spec_process *p);
/* Parse a linux.resources object alone (runc update -r), paths relative to it. Strings are
 * borrowed from obj. */
int berth_spec_parse_resources(json_t *obj, const char *file, struct berth_spec_resources *out,
                               berth_error_t *err) BERTH_WUR;
void berth_spec_resources_free(struct berth_spec_resources *r);
void berth_spec_free(berth_spec_t *spec);

static inline void berth_cleanup_spec(berth_spec_t **s)
{
  if (*s)
    berth_spec_free(*s);
  *s = NULL;
}
#define cleanup_spec __attribute__((cleanup(berth_cleanup_spec)))

/* Name tables (also used by `features` and the CLI). */
const char *berth_ns_type_name(enum berth_ns_type t);     /* "pid", "network", ... */
int berth_ns_type_from_name(const char *name);            /* -1 if unknown */
int berth_ns_clone_flag(enum berth_ns_type t);            /* CLONE_NEW* */
const char *berth_ns_proc_name(enum berth_ns_type t);     /* /proc/PID/ns/<name> */
const char *berth_hook_kind_name(enum berth_hook_kind k); /* "prestart", ... */

/* The default config.json of `spec` (runc's), rootless variant when asked. */
json_t *berth_spec_default(bool rootless);

#endif
