/* The options of `berth run` / `berth create` in parsed, validated form (Docker's flags).
 *
 * The CLI parses argv itself and hands every option to berth_runopts_set as (flag, value):
 * the flag as typed ("--memory", "-m", "--net"), the value as typed ("512m"), NULL for a
 * boolean flag given without a value. Values are checked here, with errors that name the flag
 * (`--memory: invalid size "10q"`); the CLI maps every error of this module to exit code 125.
 * After the last flag, berth_runopts_validate checks the combinations (Docker's rules), and
 * berth_runopts_load_files reads the two kinds of file an option names (--env-file and
 * --security-opt seccomp=<file>) — the only I/O of the module.
 *
 * Everything in the struct is owned by it (malloc'd) and freed by berth_runopts_release.
 * Vectors are NULL-terminated and NULL when empty. */
#ifndef BERTH_ENGINE_RUNOPTS_H
#define BERTH_ENGINE_RUNOPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

/* largest file --env-file / --security-opt seccomp= reads */
#define BERTH_RUNOPTS_MAX_FILE (4u << 20)
/* Docker's default /dev/shm size (64 MiB) */
#define BERTH_RUNOPTS_DEFAULT_SHM (64 * 1024 * 1024)

enum berth_restart_policy {
  BERTH_RESTART_NO,
  BERTH_RESTART_ON_FAILURE, /* restart_max_retries: 0 = unlimited */
  BERTH_RESTART_ALWAYS,
  BERTH_RESTART_UNLESS_STOPPED,
};

/* --network, --pid, --ipc, --uts, --cgroupns */
enum berth_ns_mode {
  BERTH_NSMODE_DEFAULT,   /* flag not given: Docker's default (network: none until the bridge exists;
                             pid/ipc/uts: private; cgroupns: private on cgroup v2, host on v1) */
  BERTH_NSMODE_PRIVATE,   /* a new namespace: --ipc private, --cgroupns private */
  BERTH_NSMODE_SHAREABLE, /* --ipc shareable (a new namespace others may join) */
  BERTH_NSMODE_NONE,      /* --network none (new netns, loopback only), --ipc none (no /dev/shm) */
  BERTH_NSMODE_BRIDGE,    /* --network bridge / default (accepted; the bridge is the networking issue's) */
  BERTH_NSMODE_HOST,      /* the host's namespace: omitted from linux.namespaces */
  BERTH_NSMODE_CONTAINER, /* container:<name|id>; value holds the name */
  BERTH_NSMODE_PATH,      /* --network ns:<path>; value holds the absolute path */
};

struct berth_ns_opt {
  enum berth_ns_mode mode;
  char *value; /* CONTAINER: name or id; PATH: path; else NULL */
};

enum berth_mount_type {
  BERTH_MOUNT_BIND,
  BERTH_MOUNT_VOLUME,
  BERTH_MOUNT_TMPFS,
};

/* one -v, --mount or --tmpfs */
struct berth_run_mount {
  enum berth_mount_type type;
  char *source; /* BIND: absolute host path (cleaned); VOLUME: name, NULL for an anonymous
                   volume; TMPFS: NULL */
  char *target; /* absolute path in the container, cleaned ("/a/b", never "/") */
  bool readonly;
  const char *propagation; /* static: "rprivate" "private" "rshared" "shared" "rslave" "slave";
                              NULL: default (rprivate) */
  bool nonrecursive;    /* BIND: --mount bind-recursive=disabled / bind-nonrecursive ("bind", not "rbind") */
  bool create_source;   /* BIND from -v: a missing host directory is created (Docker); --mount: error */
  bool nocopy;          /* VOLUME: do not pre-fill a new volume from the image (nocopy, volume-nocopy) */
  char **volume_opts;   /* VOLUME: --mount volume-opt=<k=v> values, in order */
  char **tmpfs_options; /* TMPFS: options after Docker's defaults, in order ("size=64m", "mode=1777",
                           "exec" ...): --tmpfs's own, or --mount's tmpfs-size (bytes) / tmpfs-mode */
  char selinux_relabel; /* 'z', 'Z' or 0 (accepted; relabeling is not done) */
  char *spec;           /* the flag value as typed (messages, inspect) */
};

/* --ulimit name=soft[:hard] */
struct berth_run_ulimit {
  int resource;     /* RLIMIT_* */
  const char *name; /* static Docker name: "nofile" */
  int64_t soft;     /* -1: unlimited */
  int64_t hard;     /* -1: unlimited; soft <= hard unless hard is unlimited */
};

/* --device host[:container][:perms] */
struct berth_run_device {
  char *host_path;      /* absolute, cleaned */
  char *container_path; /* absolute, cleaned; defaults to host_path */
  char perms[4];        /* non-empty subset of "rwm" in that order; default "rwm" */
};

/* --add-host name:ip (or name=ip) */
struct berth_run_host {
  char *name;
  char *ip; /* an IPv4/IPv6 address (brackets removed), or "host-gateway" */
};

struct berth_kv {
  char *key;
  char *value; /* "" when the flag gave none (--label k) */
};

struct berth_run_opts {
  /* how to run (the CLI's business; kept here so that one struct holds the whole command line) */
  bool detach, interactive, tty, auto_remove; /* -d -i -t --rm */
  char *name;                                 /* --name: [a-zA-Z0-9][a-zA-Z0-9_.-]+ */
  char *runtime; /* --runtime: "berth-runtime", "runc", "crun" or an absolute path */

  /* process */
  char **env;            /* -e, in order: "K=V"; "K" alone took the host's value through lookup_env,
                            or stays "K" when unset there, which removes K from the image's
                            environment (Docker) */
  char **env_files;      /* --env-file paths, in order */
  char **env_from_files; /* "K=V" lines of the env files, filled by berth_runopts_load_files */
  char *workdir;         /* -w: absolute */
  char *user;            /* -u user[:group] as typed (resolved against the image by ctrspec) */
  char **group_add;      /* --group-add: names or numbers */
  bool has_entrypoint;   /* --entrypoint given */
  char **entrypoint;     /* its value: one element ("a b" is one program name, like Docker) or a JSON
                            array of strings; NULL with has_entrypoint: --entrypoint "" (cleared) */
  bool init;             /* --init */
  int stop_signal;       /* --stop-signal: signal number (0: not given) */
  bool has_stop_timeout;
  int stop_timeout; /* --stop-timeout seconds (-1: wait forever) */
  bool has_oom_score_adj;
  int oom_score_adj; /* [-1000, 1000] */

  /* identity and files */
  char *hostname; /* -h: RFC 1123 labels, at most 63 characters */
  struct berth_run_host *add_hosts;
  size_t n_add_hosts;
  char **dns;              /* --dns: IP addresses */
  char **dns_search;       /* --dns-search: domains ("." = none) */
  char **dns_options;      /* --dns-option */
  struct berth_kv *labels; /* --label k=v, last one wins (unique keys, in first-seen order) */
  size_t n_labels;

  /* filesystem */
  bool read_only;                 /* --read-only */
  struct berth_run_mount *mounts; /* -v, --mount, --tmpfs in command-line order */
  size_t n_mounts;
  int64_t shm_size; /* --shm-size bytes (0: not given, BERTH_RUNOPTS_DEFAULT_SHM) */

  /* security */
  bool privileged;
  char **cap_add, **cap_drop; /* "CAP_NET_ADMIN" (normalized, validated) or "ALL" */
  bool seccomp_unconfined;    /* --security-opt seccomp=unconfined */
  char *seccomp_path;         /* --security-opt seccomp=<file> */
  char *seccomp_profile;      /* its text (berth_runopts_load_files) */
  size_t seccomp_profile_len;
  bool no_new_privileges;      /* --security-opt no-new-privileges[=true|:true] */
  char *apparmor;              /* --security-opt apparmor=<profile> ("unconfined" allowed) */
  char **selinux_opts;         /* --security-opt label=user:|role:|type:|level:<x> values ("type:x") */
  bool label_disable;          /* --security-opt label=disable */
  bool systempaths_unconfined; /* --security-opt systempaths=unconfined: no masked/read-only paths */

  /* resources */
  int64_t memory;             /* -m bytes (0: not given; at least 6 MiB) */
  int64_t memory_swap;        /* --memory-swap bytes, memory + swap (0: not given, -1: unlimited) */
  int64_t memory_reservation; /* --memory-reservation bytes (0: not given) */
  int64_t nano_cpus;          /* --cpus × 1e9 (0: not given) */
  uint64_t cpu_shares;        /* -c (0: not given) */
  char *cpuset_cpus;          /* --cpuset-cpus "0-3,5" (validated list syntax) */
  char *cpuset_mems;
  bool has_pids_limit;
  int64_t pids_limit;               /* --pids-limit (<= 0: unlimited) */
  uint16_t blkio_weight;            /* --blkio-weight [10, 1000] (0: not given) */
  struct berth_run_ulimit *ulimits; /* one per resource, last one wins */
  size_t n_ulimits;
  struct berth_run_device *devices;
  size_t n_devices;
  struct berth_kv *sysctls; /* --sysctl k=v, last one wins */
  size_t n_sysctls;

  /* namespaces */
  struct berth_ns_opt network, pid, ipc, uts, cgroupns;

  /* lifecycle and logs */
  enum berth_restart_policy restart;
  int restart_max_retries;   /* on-failure:N (0: unlimited) */
  int64_t log_max_size;      /* --log-opt max-size bytes (0: not given, -1: unlimited) */
  int log_max_file;          /* --log-opt max-file (0: not given) */
  bool log_compress;         /* --log-opt compress=true */
  struct berth_kv *log_opts; /* every --log-opt as given, last one wins */
  size_t n_log_opts;

  /* The host environment for `-e NAME` / env-file lines without '=' (NULL: treated as unset,
   * which keeps the module pure). Set by the CLI before the first berth_runopts_set. */
  const char *(*lookup_env)(void *data, const char *name);
  void *lookup_env_data;
};

/* one entry of the flag table (for the CLI's argv parser and its --help) */
struct berth_runopts_flag {
  const char *name; /* long name with dashes: "--memory" */
  char short_name;  /* 'm', or 0 */
  bool takes_value; /* false: a boolean flag ("--rm", or "--rm=false") */
  bool repeatable;
  const char *help; /* one line, Docker's wording */
};

void berth_runopts_init(struct berth_run_opts *o);
void berth_runopts_release(struct berth_run_opts *o);

/* Every flag of run/create, in --help order; *n receives the count. */
const struct berth_runopts_flag *berth_runopts_flags(size_t *n);
/* The table entry of a flag as typed ("--net", "-m", "--memory"), NULL if unknown. */
const struct berth_runopts_flag *berth_runopts_flag_find(const char *flag);

/* Apply one option. Boolean flags take value NULL (true) or true/false/1/0; a repeatable flag
 * accumulates; a single-valued one given twice keeps the last value (Docker). Unknown flag:
 * "unknown flag: --x". */
int berth_runopts_set(struct berth_run_opts *o, const char *flag, const char *value,
                      berth_error_t *err) BERTH_WUR;

/* Docker's cross-flag rules: --rm with a restart policy, --memory-swap without --memory or below
 * it, --hostname/--add-host/--dns with --network container:, a duplicate mount target, ... */
int berth_runopts_validate(const struct berth_run_opts *o, berth_error_t *err) BERTH_WUR;

/* Read every --env-file into env_from_files and the --security-opt seccomp=<file> into
 * seccomp_profile. Errors name the flag and the file. */
int berth_runopts_load_files(struct berth_run_opts *o, berth_error_t *err) BERTH_WUR;

/* ---- single-value parsers (also for exec/update); each names `flag` in its errors ---- */

/* Docker's RAMInBytes: "512m", "1.5g", "1024", "10 KiB" (binary units b k m g t p, case-insensitive,
 * optional i and b). Negative or overflowing: error. */
int berth_runopts_parse_size(const char *flag, const char *value, int64_t *out, berth_error_t *err) BERTH_WUR;
/* "9", "KILL", "SIGKILL", "SIGRTMIN+3" -> number */
int berth_runopts_parse_signal(const char *flag, const char *value, int *sig, berth_error_t *err) BERTH_WUR;
/* -e: "K=V" appended; "K" takes lookup(K), or stays "K" when unset; "=V" or a blank name is an error */
int berth_runopts_parse_env(const char *flag, const char *value, const char *(*lookup)(void *, const char *),
                            void *data, char ***env, berth_error_t *err) BERTH_WUR;
/* --env-file text: blank lines and '#' comments skipped, a leading BOM and leading white space
 * removed; names with white space are errors ("<file>: line 3: variable `a b` contains whitespaces") */
int berth_runopts_parse_env_file(const char *text, size_t len, const char *file,
                                 const char *(*lookup)(void *, const char *), void *data, char ***env,
                                 berth_error_t *err) BERTH_WUR;
int berth_runopts_parse_volume(const char *flag, const char *value, struct berth_run_mount *out,
                               berth_error_t *err) BERTH_WUR;
int berth_runopts_parse_mount(const char *flag, const char *value, struct berth_run_mount *out,
                              berth_error_t *err) BERTH_WUR;
int berth_runopts_parse_tmpfs(const char *flag, const char *value, struct berth_run_mount *out,
                              berth_error_t *err) BERTH_WUR;
void berth_run_mount_release(struct berth_run_mount *m);
int berth_runopts_parse_ulimit(const char *flag, const char *value, struct berth_run_ulimit *out,
                               berth_error_t *err) BERTH_WUR;
int berth_runopts_parse_device(const char *flag, const char *value, struct berth_run_device *out,
                               berth_error_t *err) BERTH_WUR;
int berth_runopts_parse_restart(const char *flag, const char *value, enum berth_restart_policy *policy,
                                int *max_retries, berth_error_t *err) BERTH_WUR;
/* "none" "host" "bridge" "default" "container:<x>" "ns:<path>" (network); "host" "container:<x>"
 * (pid); "none" "private" "shareable" "host" "container:<x>" (ipc); "host" (uts);
 * "host" "private" (cgroupns). "" means the default for pid/ipc/uts. */
int berth_runopts_parse_ns(const char *flag, const char *value, struct berth_ns_opt *out,
                           berth_error_t *err) BERTH_WUR;

/* Normalized path: absolute, "." and ".." resolved lexically, duplicate and trailing '/' removed. */
char *berth_runopts_clean_path(const char *path);

#endif
