/* Shared by engine/containers/ only. */
#ifndef BERTH_ENGINE_CONTAINERS_CONTAINERS_INTERNAL_H
#define BERTH_ENGINE_CONTAINERS_CONTAINERS_INTERNAL_H

#include <sys/types.h>

#include "engine/containers/containers.h"
#include "engine/volumes/volumes.h"
#include "engine/runspec/runspec.h"

/* /proc/<pid>/stat starttime; -1 when the process is gone or a zombie */
int ctr_proc_start_time(pid_t pid, int64_t *start);
/* move a row into a loaded container (the row is left empty) */
void ctr_from_row(struct berth_engine *e, struct berth_db_container *row, struct berth_ctr *out);
/* what the user typed -> the full id (exact id, name, unique prefix) */
int ctr_resolve(struct berth_engine *e, const char *what, berth_ctr_id_t id, berth_error_t *err) BERTH_WUR;

/* Change a row in one transaction: fn sees the current row and returns 1 (write it back), 0
 * (nothing to write) or -1 (error, set *err; rolled back). A missing row is an error. */
typedef int (*ctr_update_fn)(struct berth_db_container *row, void *data, berth_error_t *err);
int ctr_update(struct berth_engine *e, const char *id, ctr_update_fn fn, void *data,
               berth_error_t *err) BERTH_WUR;

/* berth_ctr_event of the container with that id (loaded for it; gone: nothing) */
void ctr_event_id(struct berth_engine *e, const char *id, const char *action, const char *const *extra);

/* containers_health.c: with a healthcheck, the check's process file written (BERTH_CTR_HEALTH_PROCESS
 * in the container's directory) and the monitor's --health-* arguments appended to *argv */
#define BERTH_CTR_HEALTH_PROCESS "health-process.json"
int ctr_health_argv(const struct berth_ctr *c, char ***argv, berth_error_t *err) BERTH_WUR;

/* unix nanoseconds now */
int64_t ctr_now(void);

/* a runtime other than berth-runtime whose `features` say it knows only older versions of the
 * runtime-spec gets the config labelled with its newest (the config uses nothing newer) */
void ctr_clamp_oci_version(const char *runtime, json_t *spec);

/* containers_runtime.c: the monitor's program next to berth (or in PATH) */
char *ctr_find_helper(const char *name, const char *build_subdir, berth_error_t *err) BERTH_WUR;
/* a runtime command started by ctr_runtime_spawn: stdin and stdout /dev/null, stderr collected
 * by ctr_runtime_wait (berth_ctr_runtime_run is the two in a row) */
struct ctr_runtime_proc {
  pid_t pid;
  int errfd;
  char *runtime, *verb;
};
int ctr_runtime_spawn(const struct berth_engine *e, const struct berth_ctr *c, const char *const *tail,
                      struct ctr_runtime_proc *proc, berth_error_t *err) BERTH_WUR;
/* 0 when it succeeded, else its last stderr line is the error; *proc is released either way */
int ctr_runtime_wait(struct ctr_runtime_proc *proc, berth_error_t *err) BERTH_WUR;

/* containers_remove.c: the rootfs unmounted (in the monitor's namespace), the runtime's container,
 * the directory and run dir removed */
int ctr_remove_files(struct berth_engine *e, const struct berth_ctr *c, berth_error_t *err) BERTH_WUR;
/* mark removing, remove the files, delete the row (volumes: and its anonymous volumes) */
int ctr_remove(struct berth_engine *e, struct berth_ctr *c, bool volumes, berth_error_t *err) BERTH_WUR;
/* the same while the runtime's `delete` of the container runs (started by the caller): the
 * container's directory goes meanwhile (the runtime keeps its own copy of the config), the run
 * dir and the row after it ended (a failure of it is ignored: the next start deletes again) */
int ctr_remove_during_delete(struct berth_engine *e, struct berth_ctr *c, bool volumes,
                             struct ctr_runtime_proc *del, berth_error_t *err) BERTH_WUR;

/* containers_config.c */
struct ctr_config_in {
  json_t *image_config; /* the image config's "config" (may be NULL) */
  const struct berth_run_opts *opts;
  char *const *args;
  const char *hostname;
  const char *image; /* as the user named it */
};
int ctr_build_config(const struct ctr_config_in *in, json_t **out, berth_error_t *err) BERTH_WUR;
json_t *ctr_build_host_config(const struct berth_run_opts *o, char *const *runtime_flags);
/* "SIGTERM", "SIGRTMIN+3" */
char *ctr_signal_name(int sig);

/* containers_host.c: facts and callbacks for the config builder */
struct ctr_host {
  struct berth_host_facts facts;
  char hostname[256];
  char *init_path;
  struct berth_host_device *devices;
  char **dev_paths;
};
int ctr_host_facts(struct ctr_host *h, bool privileged, berth_error_t *err) BERTH_WUR;
void ctr_host_release(struct ctr_host *h);
/* What the config builder (berth_ctrspec_build) asks of the engine during a create — device
 * nodes, other containers' pids, volume mount sources — and the volumes it made meanwhile */
struct ctr_resolver {
  struct berth_engine *e;
  const struct berth_db_image *img; /* the container's image: new volumes are filled from it */
  struct berth_db_mount *mounts;    /* bind and volume mounts as resolved, in order */
  size_t nmounts;
  struct ctr_new_volume {
    char *name;
    bool anonymous;
    bool row_added; /* by this create's transaction */
    struct berth_volume_new nv;
  } * new_volumes; /* volumes without a row this create prepared */
  size_t n_new_volumes;
  char **strings; /* kept alive for the builder */
};
int ctr_resolver_device(void *data, const char *host_path, struct berth_host_device *out,
                        berth_error_t *err) BERTH_WUR;
int ctr_resolver_container_pid(void *data, const char *name, pid_t *pid, berth_error_t *err) BERTH_WUR;
int ctr_resolver_mount_source(void *data, const struct berth_run_mount *m, char **source,
                              berth_error_t *err) BERTH_WUR;
void ctr_resolver_release(struct ctr_resolver *res);
/* in the caller's transaction: the rows of the volumes this create made */
int ctr_resolver_add_volume_rows(struct ctr_resolver *res, berth_error_t *err) BERTH_WUR;
void ctr_resolver_undo_volumes(struct ctr_resolver *res);
/* a file of an image (top layer first, whiteouts respected), NULL when absent */
char *ctr_image_file(struct berth_engine *e, const struct berth_db_image *img, const char *path);
/* A regular file under root (a container's or an image's): opened O_PATH and checked before it
 * is opened for reading, so that a device node or fifo there is never opened by us. 1 with
 * *text (at most 1 MiB), 0 when it is no regular file or unreadable, -1 when absent. */
int ctr_root_file(int root, const char *path, char **text);
/* a connection to the monitor's attach socket in rundir (no HELLO sent) */
int ctr_attach_open(const char *rundir, berth_error_t *err) BERTH_WUR;
/* the layer dirs of a container's image, top first: an error when the image is gone or has no
 * layers */
char **ctr_layer_dirs(struct berth_engine *e, const char *image_id, berth_error_t *err) BERTH_WUR;

/* containers_networks.c (engine/networks/networks.h does the work) */
/* BERTH_DEFAULT_NETWORK=none: no network without --network (the test suites on a real host) */
bool ctr_default_network_is_bridge(void);
/* --network <name>, bridge, or the default network when that is the bridge */
bool ctr_opts_use_networks(const struct berth_run_opts *o);
/* the attachment rows the options ask for (none without networks); the default network is made
 * here when it is first needed */
int ctr_networks_resolve(struct berth_engine *e, const char *id, const struct berth_run_opts *o,
                         struct berth_db_attachment **out, size_t *n, berth_error_t *err) BERTH_WUR;
/* <runroot>/<id>/netns: where the monitor pins the container's network namespace */
char *ctr_netns_path(const struct berth_engine *e, const char *id);
json_t *ctr_port_bindings(const struct berth_run_opts *o);
void ctr_exposed_ports(json_t *config, const struct berth_run_opts *o);
bool ctr_uses_networks(struct berth_engine *e, const struct berth_ctr *c);
/* before the monitor's GO (monitor: its pid, whose mount namespace holds the netns mount) */
int ctr_networks_setup(struct berth_engine *e, const struct berth_ctr *c, pid_t monitor,
                       berth_error_t *err) BERTH_WUR;
/* when the container stops for good: a failure is a warning (system check --repair finishes it) */
void ctr_networks_teardown(struct berth_engine *e, const char *id);

/* containers_start.c / containers_stop.c / containers_attach.c */
/* flock the container's directory (the fd, to close) */
int ctr_lock(const struct berth_ctr *c, berth_error_t *err) BERTH_WUR;
/* a container whose monitor vanished: the runtime's container deleted, the row exited */
int ctr_settle_dead(struct berth_engine *e, struct berth_ctr *c, berth_error_t *err) BERTH_WUR;
/* its monitor is gone but its init (row.pid, in the container's cgroup) runs on */
bool ctr_orphan_running(const struct berth_ctr *c);
/* no more restarts, SIGKILL, wait for the monitor to record the exit */
int ctr_kill_now(struct berth_engine *e, struct berth_ctr *c, berth_error_t *err) BERTH_WUR;
/* 1 when the monitor of row has ended (or never was), 0 after timeout_ms (< 0: wait for ever) */
int ctr_wait_monitor(const struct berth_db_container *row, int64_t timeout_ms);
/* the same, recording the exit when the monitor asks on a (may be NULL) connection made with
 * BERTH_ATTACH_WANT_RECORD (closed here when the monitor closes it) */
int ctr_wait_monitor_recording(struct berth_engine *e, const struct berth_db_container *row,
                               struct berth_ctr_attach *a, int64_t timeout_ms);
/* the code of the next EXIT message, -1 when the connection ends without one */
int ctr_wait_exit_message(struct berth_ctr_attach *a);

/* containers_stats.c / containers_stats_top.c: run the container's runtime with tail (stdin
 * /dev/null) and collect its stdout; on failure the error is its last stderr line */
int stats_runtime_output(struct berth_engine *e, const struct berth_ctr *c, const char *const *tail,
                         char **out, berth_error_t *err) BERTH_WUR;

#endif
