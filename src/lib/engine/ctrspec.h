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
#ifndef BERTH_ENGINE_CTRSPEC_H
#define BERTH_ENGINE_CTRSPEC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"
#include "engine/runopts.h"

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
  int cap_last; /* /proc/sys/kernel/cap_last_cap; < 0: every capability berth knows */
  uint64_t bounding; /* berth's own bounding set (what it can hand out); 0: unknown, no limit */
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
  json_t *image_config;              /* the image config's "config" object (borrowed; NULL: none) */
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
