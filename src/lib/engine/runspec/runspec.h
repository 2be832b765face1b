/* runspec: from the options of `berth run`/`create` to a container's OCI config.json, in the
 * order the data flows — parsed and validated run options (runopts*.c), Docker-format seccomp
 * profiles resolved for one container (seccomp_default*.c), and the config built from the
 * image config, the options and the host's facts (ctrspec*.c). Pure but for reading the files
 * an option names; no engine state (it includes nothing of the engine). */
#ifndef BERTH_ENGINE_RUNSPEC_H
#define BERTH_ENGINE_RUNSPEC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"

/* ==== run options (runopts*.c) ==== */

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
  BERTH_NSMODE_BRIDGE,    /* --network <a berth network>: value its name (NULL: the default network,
                             "bridge"/"default"); every one given is in berth_run_opts.networks */
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

  /* networks (issue 14): each --network <name> in order (mode BRIDGE; a NULL list is the default
   * network), what is asked of the first one, published ports */
  char **networks;
  char **network_aliases; /* --network-alias (--alias): resolvable names on user networks */
  char *ip, *ip6;         /* --ip, --ip6 */
  char *mac_address;      /* --mac-address */
  char **publish;         /* -p as given, each checked (net/net.h's berth_net_ports_parse) */
  bool publish_all;       /* -P: every exposed port on a free host port */
  char **expose;          /* --expose "80", "53/udp", "8000-8010/tcp", checked */

  /* issue 16: more of Docker's flags (runopts_more.c) */
  int64_t cpu_quota;          /* --cpu-quota µs (0: not given, -1: unlimited) */
  uint64_t cpu_period;        /* --cpu-period µs (0: not given) */
  int64_t cpu_rt_runtime;     /* --cpu-rt-runtime µs (0: not given) */
  uint64_t cpu_rt_period;     /* --cpu-rt-period µs (0: not given) */
  char **device_cgroup_rules; /* --device-cgroup-rule "c 1:3 mr", checked */
  bool has_memory_swappiness;
  int64_t memory_swappiness;    /* --memory-swappiness 0..100 (-1: the host's) */
  bool oom_kill_disable;        /* --oom-kill-disable */
  char *domainname;             /* --domainname */
  struct berth_kv *annotations; /* --annotation k=v */
  size_t n_annotations;
  char **label_files;  /* --label-file, read by berth_runopts_load_files into labels */
  char *log_driver;    /* --log-driver json-file, k8s-file or none (NULL: not given) */
  char **volumes_from; /* --volumes-from CONTAINER[:ro|:rw], as given */
  /* healthcheck: --health-*, --no-healthcheck (merged with the image's HEALTHCHECK) */
  char **health_test; /* ["CMD-SHELL", cmd] from --health-cmd (NULL: not given) */
  int64_t health_interval, health_timeout, health_start_period, health_start_interval; /* ns, 0: not given */
  bool has_health_retries;
  int health_retries;
  bool no_healthcheck;
  /* the run command's own (berth run/create read them; the config ignores them) */
  char *cidfile;     /* --cidfile */
  char **attach;     /* -a stdin|stdout|stderr */
  char *detach_keys; /* --detach-keys, checked */
  bool has_sig_proxy;
  bool sig_proxy; /* --sig-proxy (default: true without a tty) */

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

/* --device-cgroup-rule: type a, b or c; major and minor (-1: any); access of r, w, m */
struct berth_cgroup_rule {
  char type;
  int64_t major, minor;
  char access[4];
};
int berth_runopts_parse_cgroup_rule(const char *value, struct berth_cgroup_rule *out);
/* --detach-keys "ctrl-p,ctrl-q" -> the bytes a terminal sends (at most BERTH_DETACH_KEYS_MAX) */
#define BERTH_DETACH_KEYS_MAX     16
#define BERTH_DETACH_KEYS_DEFAULT "ctrl-p,ctrl-q"
int berth_runopts_parse_detach_keys(const char *value, unsigned char *keys, size_t *n);
/* Go's durations: "30s", "1m30s", "500ms", "0"; -1 when invalid */
int berth_runopts_parse_duration(const char *s, int64_t *ns);

/* the container's Healthcheck (Docker's Config.Healthcheck: Test, Interval, Timeout, StartPeriod,
 * StartInterval in ns, Retries): the --health-* flags over the image's; NULL when neither has one */
json_t *berth_ctrspec_healthcheck(json_t *image_config, const struct berth_run_opts *o);

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
/* Docker's network names: [a-zA-Z0-9][a-zA-Z0-9_.-]+ */
bool berth_runopts_network_name_valid(const char *name);

/* ==== seccomp profiles (seccomp_default*.c) ==== */

/* Seccomp profiles in Docker's format, held in our own representation, and rendered as a
 * runtime-spec linux.seccomp object for one container.
 *
 * A profile is a list of syscall groups, each with conditions: the capabilities it needs
 * (includes.caps: all of them in the container's bounding set) or that cancel it
 * (excludes.caps: any of them), the architectures (Go names: "amd64", "arm64", ...), a minimum
 * kernel, and argument conditions that stay in the rule. berth_seccomp_profile_render resolves
 * the conditions against the container's final capability set and architecture, so the JSON
 * holds only unconditional rules (what Docker hands to runc).
 *
 * Docker's default profile (moby profiles/seccomp/default.json) is compiled in as data
 * (berth_seccomp_default_profile); a `--security-opt seccomp=<file>` profile is parsed into the
 * same representation by berth_seccomp_profile_parse and rendered by the same resolver.
 *
 * ENOSYS for syscalls newer than the profile: a program must be able to tell "the kernel does
 * not have this syscall" (ENOSYS: fall back, as glibc does for clone3, fchmodat2, ...) from
 * "the profile refuses it" (EPERM). runc patches a stub into the BPF program; berth instead
 * stays within the OCI format: for each architecture of the filter, the newest syscall number
 * the profile names (any group, conditional or not) is the profile's horizon, and every syscall
 * libseccomp knows above it that the profile does not name gets one more rule, action
 * SCMP_ACT_ERRNO with errnoRet 38 (ENOSYS). Only when the default action refuses (not ALLOW or
 * LOG). Syscalls newer than libseccomp's own table cannot be named in the OCI format and keep
 * the default action. */

/* one argument condition (kept in the rendered rule) */
struct berth_seccomp_cond {
  unsigned int index; /* 0..5 */
  uint64_t value;
  uint64_t value_two;
  const char *op; /* "SCMP_CMP_EQ", "SCMP_CMP_MASKED_EQ", ... */
};

/* includes / excludes of a group */
struct berth_seccomp_filter {
  uint64_t caps;                 /* bitmask of CAP_* numbers */
  const char *const *arches;     /* Go architecture names, NULL-terminated; NULL: none */
  unsigned int min_kernel_major; /* 0.0: none */
  unsigned int min_kernel_minor;
};

struct berth_seccomp_group {
  const char *const *names; /* NULL-terminated, at least one */
  const char *action;       /* "SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", ... */
  int errno_ret;            /* -1: none */
  const struct berth_seccomp_cond *args;
  size_t n_args;
  struct berth_seccomp_filter includes, excludes;
  const char *comment; /* may be NULL */
};

struct berth_seccomp_archmap {
  const char *arch;       /* "SCMP_ARCH_X86_64" */
  const char *const *sub; /* NULL-terminated sub-architectures; NULL: none */
};

struct berth_seccomp_profile {
  const char *default_action;
  int default_errno_ret; /* -1: none */
  const struct berth_seccomp_archmap *arch_map;
  size_t n_arch_map;
  const char *const *architectures;              /* a file's legacy "architectures" list (NULL: none) */
  const char *const *flags;                      /* "SECCOMP_FILTER_FLAG_*" (NULL: none) */
  const char *listener_path, *listener_metadata; /* NULL: none */
  const struct berth_seccomp_group *groups;
  size_t n_groups;
  void *owned; /* storage of a parsed profile (NULL for the built-in one) */
};

/* what the conditions are resolved against */
struct berth_seccomp_target {
  uint64_t caps;                           /* the container's bounding set */
  const char *arch;                        /* Go name ("amd64"); NULL: the build's native architecture */
  unsigned int kernel_major, kernel_minor; /* for minKernel; 0.0: assume a new kernel */
  bool no_enosys;                          /* leave out the ENOSYS rules (tests, comparisons with Docker) */
};

/* Docker's default profile (static; never freed). */
const struct berth_seccomp_profile *berth_seccomp_default_profile(void);

/* Parse a profile in Docker's format (defaultAction, defaultErrnoRet, archMap or architectures,
 * syscalls[] with names or name, action, errnoRet, args, includes, excludes, comment; flags,
 * listenerPath, listenerMetadata). Errors name `file` and the JSON path:
 * "profile.json: syscalls[3].includes.caps[0]: unknown capability \"CAP_FOO\"". */
int berth_seccomp_profile_parse(const char *text, size_t len, const char *file,
                                struct berth_seccomp_profile **out, berth_error_t *err) BERTH_WUR;
void berth_seccomp_profile_free(struct berth_seccomp_profile *p);

/* The linux.seccomp object for the target (new reference): defaultAction(+defaultErrnoRet),
 * architectures (the archMap entry of the target's architecture: it and its sub-architectures),
 * flags/listener as given, one rule per group whose conditions hold (names, action, errnoRet,
 * args), then the ENOSYS rule (see above). Fails only for an unknown target architecture. */
json_t *berth_seccomp_profile_render(const struct berth_seccomp_profile *p,
                                     const struct berth_seccomp_target *t, berth_error_t *err) BERTH_WUR;

/* The build's native architecture as a Go name ("amd64", "arm64", ...). */
const char *berth_seccomp_native_arch(void);

/* ==== the OCI config (ctrspec*.c) ==== */

/* The OCI config.json (runtime-spec 1.2) of a container, built from its image config and the
 * options of `berth run`/`create` with Docker's defaults: the 14 default capabilities, the
 * default seccomp profile resolved for the final capability set, masked and read-only paths,
 * proc/dev/devpts/sysfs/cgroup/mqueue/shm mounts, /etc/hostname, /etc/hosts and
 * /etc/resolv.conf from the container's directory, resources, namespaces, --init.
 *
 * Pure: everything about the host comes in as facts (struct berth_host_facts) and through
 * callbacks the caller implements (device nodes, other containers' pids, volume directories);
 * the caller reads the image's /etc/passwd and /etc/group (inside the root) and passes their
 * text. The mapping from each flag to the config is written down in
 * docs/design/container-config.md.
 *
 * Serialize the result with berth_ctrspec_dumps: an unlimited rlimit is 2^64-1, which jansson
 * cannot hold as an integer; the builder stores it as the string "\u0000" "18446744073709551615"
 * and berth_ctrspec_dumps writes it as the number. */

/* where --init's binary appears in the container (podman's choice: /dev is our own tmpfs, so
 * no mount point is created in the image's root) */
#define BERTH_CTRSPEC_INIT_PATH "/dev/init"
/* the annotation holding the stop signal ("SIGTERM"): the image-spec's name, as containerd */
#define BERTH_CTRSPEC_STOP_SIGNAL_ANNOTATION "org.opencontainers.image.stopSignal"
#define BERTH_CTRSPEC_DEFAULT_PATH           "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* a device node on the host (for --device and --privileged) */
struct berth_host_device {
  const char *path; /* host path; under --privileged also the path in the container */
  char type;        /* 'c' or 'b' */
  int64_t major, minor;
  uint32_t mode; /* permission bits (st_mode & 07777) */
  uint32_t uid, gid;
};

struct berth_host_facts {
  bool cgroup_v2;        /* unified hierarchy: --cgroupns defaults to private (Docker), else host */
  bool swap_limit;       /* swap can be limited: -m without --memory-swap gives swap = 2 × memory */
  const char *hostname;  /* the host's name: the default hostname under --network host */
  const char *init_path; /* berth-init on the host, bound at BERTH_CTRSPEC_INIT_PATH by --init
                            (NULL: --init is an error) */
  const char *arch;      /* Go architecture name for seccomp (NULL: native) */
  unsigned int kernel_major, kernel_minor; /* seccomp minKernel conditions (0.0: assume new) */
  int cap_last;       /* /proc/sys/kernel/cap_last_cap; < 0: every capability berth knows */
  uint64_t bounding;  /* berth's own bounding set (what it can hand out); 0: unknown, no limit */
  unsigned int ncpus; /* CPUs berth may run on: --cpus above it is refused (Docker); 0: unknown */
  const struct berth_host_device *devices; /* every host device, for --privileged */
  size_t n_devices;
};

struct berth_ctrspec_callbacks {
  /* --device: the node at a host path (symlinks followed); an error names the path */
  int (*device)(void *data, const char *host_path, struct berth_host_device *out, berth_error_t *err);
  /* container:<x> modes: the pid of that running container (its namespaces are
   * /proc/<pid>/ns/<type>; --ipc container:<x> also binds /proc/<pid>/root/dev/shm) */
  int (*container_pid)(void *data, const char *name, pid_t *pid, berth_error_t *err);
  /* The host directory to mount for a BIND or VOLUME mount, called once per mount in the final
   * order, including the anonymous volumes of the image's Volumes (type VOLUME, source NULL,
   * spec NULL). VOLUME: create/look up the volume (and pre-fill it unless nocopy); BIND: check or
   * create (create_source) the host path. *source receives a malloc'd absolute path.
   * NULL callback: binds use their source as is, volumes are an error. */
  int (*mount_source)(void *data, const struct berth_run_mount *m, char **source, berth_error_t *err);
  void *data;
};

struct berth_ctrspec_in {
  const char *id;            /* full container id; the default hostname is its first 12 characters */
  const char *name;          /* container name (annotation "berth.container.name"); may be NULL */
  const char *rootfs;        /* absolute path of the container's root (root.path) */
  const char *cgroups_path;  /* linux.cgroupsPath (NULL: omitted, the runtime's default) */
  const char *hostname_path; /* files of the container's directory bound at /etc/hostname, /etc/hosts, */
  const char *hosts_path;    /* /etc/resolv.conf (read-only when --read-only); NULL: not bound */
  const char *resolv_path;
  const char *netns_path; /* --network <a berth network>: the namespace the monitor pins there and the
                             engine sets up (<runroot>/<id>/netns); the runtime joins it */
  json_t *image_config;   /* the image config's "config" object (borrowed; NULL: none) */
  const struct berth_run_opts *opts; /* validated (berth_runopts_validate) and loaded */
  char *const *args;                 /* words after the image name (NULL or empty: none): replace Cmd */
  const char *passwd;                /* text of the image's /etc/passwd (NULL: absent) */
  const char *group;                 /* text of the image's /etc/group (NULL: absent) */
  const struct berth_host_facts *host;
  const struct berth_ctrspec_callbacks *cb; /* may be NULL */
};

/* The config.json object (new reference). Errors name the flag or image field at fault:
 * "--device `/dev/nope`: no such file or directory", "unable to find user `bob`: no matching
 * entries in passwd file", "no command specified". */
json_t *berth_ctrspec_build(const struct berth_ctrspec_in *in, berth_error_t *err) BERTH_WUR;
/* compact JSON text of a built config (never NULL), unlimited rlimits as 18446744073709551615 */
char *berth_ctrspec_dumps(const json_t *config, size_t *len);

/* ---- the parts, for `inspect`, `ps` and `exec` ---- */

/* Docker's Entrypoint/Cmd rules: --entrypoint resets the image's Cmd; --entrypoint "" clears the
 * entrypoint; run arguments replace Cmd. entrypoint/cmd (may be NULL) receive the container's
 * Config.Entrypoint/Cmd (NULL when empty), argv the process args (entrypoint + cmd, never empty:
 * "no command specified"). */
int berth_ctrspec_command(json_t *image_config, const struct berth_run_opts *o, char *const *args,
                          char ***entrypoint, char ***cmd, char ***argv, berth_error_t *err) BERTH_WUR;

/* Config.Env as Docker merges it: -e, then --env-file lines (overridden by -e), then the image's
 * variables not overridden. */
char **berth_ctrspec_config_env(json_t *image_config, const struct berth_run_opts *o);
/* process.env: PATH (default when absent), HOSTNAME, TERM=xterm with -t, then Config.Env
 * replacing or appending by name ("K" alone removes K); HOME from the user when still absent. */
char **berth_ctrspec_process_env(char *const *config_env, const char *hostname, bool tty, const char *home);

/* The hostname of the container: -h, else the host's under --network host, else id[:12]. */
char *berth_ctrspec_hostname(const struct berth_run_opts *o, const char *id, const char *host_hostname);

/* The final capability set (bitmask over CAP_*): Docker's 14 defaults, --cap-add/--cap-drop
 * (ALL), --privileged: everything up to cap_last (< 0: berth_cap_last()). */
int berth_ctrspec_caps(const struct berth_run_opts *o, int cap_last, uint64_t *caps,
                       berth_error_t *err) BERTH_WUR;
/* Docker's 14 default capabilities as a bitmask */
uint64_t berth_ctrspec_default_caps(void);

struct berth_user {
  uint32_t uid, gid;
  uint32_t *gids; /* additional groups: /etc/group membership (only when no group was given),
                     then --group-add; without duplicates */
  size_t n_gids;
  char *home; /* from /etc/passwd, "/" when the user has no entry */
  char *name; /* the passwd name, NULL when the user has no entry */
};
/* Resolve `spec` (-u, or the image's User; NULL or "": root) as runc does: "name", "uid",
 * "name:group", "uid:gid", names looked up in the passwd/group texts (NULL: absent files),
 * numbers pass through. group_add entries are names or numbers. */
int berth_ctrspec_user(const char *spec, const char *passwd, const char *group, char *const *group_add,
                       struct berth_user *out, berth_error_t *err) BERTH_WUR;
void berth_user_release(struct berth_user *u);

/* The stop signal: --stop-signal, else the image's StopSignal, else SIGTERM. */
int berth_ctrspec_stop_signal(json_t *image_config, const struct berth_run_opts *o, int *sig,
                              berth_error_t *err) BERTH_WUR;

/* ---- the three files of the container's directory ---- */

/* "<hostname>\n" */
char *berth_ctrspec_render_hostname(const char *hostname);

struct berth_hosts_in {
  const char *hostname;
  char *const *own_ips;     /* the container's addresses, each gets "<ip>\t<hostname>" (NULL: none) */
  const char *host_hosts;   /* --network host: the host's /etc/hosts text, used instead of the defaults */
  const char *host_gateway; /* the address of --add-host x:host-gateway (NULL: such an entry is an error) */
};
/* Docker's /etc/hosts: localhost and the IPv6 defaults (or the host's file under --network
 * host), then each --add-host as "<ip>\t<name>", then the container's own addresses. */
char *berth_ctrspec_render_hosts(const struct berth_run_opts *o, const struct berth_hosts_in *in,
                                 berth_error_t *err) BERTH_WUR;

/* Docker's /etc/resolv.conf from the host's text (NULL: empty): --dns, --dns-search and
 * --dns-option replace the host's nameservers, search domains and options; otherwise the host's
 * are kept minus those the container cannot reach: localhost (127.0.0.0/8, ::1) and, without
 * ipv6, IPv6 ones (under --network host the host's file is copied as is, or with only the
 * overrides applied); when no nameserver is left, Google's public DNS (8.8.8.8, 8.8.4.4; with
 * ipv6 also 2001:4860:4860::8888 and ::8844). Output: search, nameserver and options lines. */
char *berth_ctrspec_render_resolv(const struct berth_run_opts *o, const char *host_resolv, bool ipv6);

#endif
