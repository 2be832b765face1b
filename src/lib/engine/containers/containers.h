/* Containers (issue 5): the model every container command builds on — `run create start stop
 * kill restart rm wait logs attach ps inspect` here, `exec top stats cp rename pause unpause
 * container prune` and volumes later. docs/design/containers.md is the long form.
 *
 * A container is a row of the catalogue (engine/catalogue/catalogue.h: struct berth_db_container; the run
 * options as Docker's Config and HostConfig JSON) and files:
 *
 *   <root>/containers/<id>/            berth_ctr_dir
 *     bundle/config.json               the OCI config (engine/runspec/runspec.h)
 *     bundle/rootfs/                   mount point of the overlay (image layers + upper/)
 *     upper/ work/                     the container's own layer
 *     hostname hosts resolv.conf       bound at /etc/...
 *     container.log[.N]                the log (engine/monitor/monitor.h)
 *     monitor.log                      the monitor's diagnostics
 *   <runroot>/<id>/                    berth_ctr_rundir, while a monitor runs: attach
 *                                      socket, console socket, pid file (engine/monitor/monitor.h)
 *   <runroot>/runtime/                 the OCI runtime's --root
 *
 * While it runs, a monitor process (berth-monitor, src/monitor/) keeps it: the rootfs is mounted
 * in the monitor's private mount namespace only (it disappears with the monitor, whatever kills
 * it), the runtime is driven through its command line, and exits are recorded
 * (berth_ctr_exited) by an attached client that asked to (a foreground `run`, `stop`,
 * `rm -f`: berth_ctr_attach_record), else by the monitor running `berth container --internal-exited`.
 *
 * Order of state changes: the row first (so that `ps -a` shows and `rm -f` removes whatever an
 * interrupted command leaves), then the files; removal marks the row `removing`, removes the
 * files, then deletes the row. */
#ifndef BERTH_ENGINE_CONTAINERS_CONTAINERS_H
#define BERTH_ENGINE_CONTAINERS_CONTAINERS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"
#include "engine/monitor/monitor.h"
#include "engine/catalogue/catalogue.h"
#include "engine/engine.h"
#include "engine/images/images.h"
#include "engine/networks/networks.h"
#include "engine/runspec/runspec.h"

#define BERTH_CTR_LOG_FILE     "container.log"
#define BERTH_CTR_STOP_TIMEOUT 10 /* seconds, Docker's default */

/* ---- the loaded container ---- */
struct berth_ctr {
  struct berth_db_container row;
  json_t *config;      /* row.config parsed: Docker's Config (Cmd, Entrypoint, Env, Tty, Labels, ...) */
  json_t *host_config; /* row.host_config parsed: Docker's HostConfig, plus "BerthRuntimeFlags" */
  /* row.state, except DEAD for a row that says running/paused/restarting whose monitor is gone */
  enum berth_ctr_state state;
  char *dir;    /* <root>/containers/<id> */
  char *rundir; /* <runroot>/<id> */
  /* running with a healthcheck: Docker's State.Health ({"Status", "FailingStreak", "Log"}) as its
   * monitor keeps it (<rundir>/health.json), else NULL */
  json_t *health;
};
void berth_ctr_release(struct berth_ctr *c);

/* running, paused or restarting: a monitor keeps the container (Docker's State.Running) */
static inline bool berth_ctr_state_kept(enum berth_ctr_state s)
{
  return s == BERTH_CTR_RUNNING || s == BERTH_CTR_PAUSED || s == BERTH_CTR_RESTARTING;
}

/* Find by full id, name or unique id prefix and load: "no such container: `x`"; an ambiguous
 * prefix is an error too. */
int berth_ctr_get(struct berth_engine *e, const char *what, struct berth_ctr *out,
                  berth_error_t *err) BERTH_WUR;
/* every container, newest first */
int berth_ctr_list(struct berth_engine *e, struct berth_ctr **out, size_t *n, berth_error_t *err) BERTH_WUR;
void berth_ctr_list_free(struct berth_ctr *v, size_t n);

char *berth_ctr_dir(const struct berth_engine *e, const char *id);
char *berth_ctr_rundir(const struct berth_engine *e, const char *id);
char *berth_ctr_log_path(const struct berth_engine *e, const char *id);
/* is the monitor recorded in the row still that process (pid and start time) */
bool berth_ctr_monitor_alive(const struct berth_db_container *row);

/* ---- the OCI runtime (through its command line only) ---- */
/* argv: runtime, --root <runroot>/runtime, the container's runtime flags, then tail; NULL-terminated */
char **berth_ctr_runtime_argv(const struct berth_engine *e, const struct berth_ctr *c,
                              const char *const *tail);
/* run it with stdin/stdout on /dev/null; on failure the error is its last stderr line */
int berth_ctr_runtime_run(const struct berth_engine *e, const struct berth_ctr *c, const char *const *tail,
                          berth_error_t *err) BERTH_WUR;
/* the runtime to use for --runtime (NULL: berth-runtime): next to the berth binary, then PATH */
char *berth_ctr_find_runtime(const char *name, berth_error_t *err) BERTH_WUR;

/* ---- lifecycle ---- */
struct berth_ctr_create_in {
  const char *image;                 /* as the user named it */
  char *const *args;                 /* words after the image (NULL: the image's Cmd) */
  const struct berth_run_opts *opts; /* validated, files loaded */
  char *const *runtime_flags;        /* --runtime-flag X: "--X" for the runtime (podman's flag) */
};
/* Resolve the image, build the config, record the row, write the files. On failure nothing is
 * left (no row, directory, volume created for it). */
int berth_ctr_create(struct berth_engine *e, const struct berth_ctr_create_in *in, berth_ctr_id_t id,
                     berth_error_t *err) BERTH_WUR;

/* a connection to the monitor's attach socket (engine/monitor/monitor.h) */
struct berth_ctr_attach {
  int fd;
};
/* Start a created or stopped container: spawn its monitor (rootfs mounted), create and start it
 * through the runtime, record it running. attach_want (BERTH_ATTACH_WANT_*, 0: none) connects
 * to the attach socket before the container runs, so that no output is missed; the connection
 * is returned in *attach (fd -1 without). A failed start records the error and exit code
 * (125, 126 not executable, 127 not found: *code) and returns -1. */
int berth_ctr_start(struct berth_engine *e, const char *what, unsigned attach_want,
                    struct berth_ctr_attach *attach, int *code, berth_error_t *err) BERTH_WUR;
/* Stop: the stop signal, then SIGKILL after timeout seconds (NULL: the container's --stop-timeout,
 * else 10; -1: no limit); no automatic restart afterwards. A stopped container is fine. */
int berth_ctr_stop(struct berth_engine *e, const char *what, const int *timeout,
                   berth_error_t *err) BERTH_WUR;
/* send a signal to the container's init (through the runtime); it must be running */
int berth_ctr_kill(struct berth_engine *e, const char *what, int sig, berth_error_t *err) BERTH_WUR;
int berth_ctr_restart(struct berth_engine *e, const char *what, const int *timeout,
                      berth_error_t *err) BERTH_WUR;
/* stop -s / restart -s: sig instead of the container's stop signal (0: the container's) */
int berth_ctr_stop_signal(struct berth_engine *e, const char *what, const int *timeout, int sig,
                          berth_error_t *err) BERTH_WUR;
int berth_ctr_restart_signal(struct berth_engine *e, const char *what, const int *timeout, int sig,
                             berth_error_t *err) BERTH_WUR;
/* rm: a running container needs force (then it is killed); volumes: its anonymous volumes too */
int berth_ctr_remove(struct berth_engine *e, const char *what, bool force, bool volumes,
                     berth_error_t *err) BERTH_WUR;
/* wait until it is not running; its exit code */
int berth_ctr_wait(struct berth_engine *e, const char *what, int64_t *code, berth_error_t *err) BERTH_WUR;
/* Docker-compatible `container inspect` object (new reference) */
json_t *berth_ctr_inspect(struct berth_engine *e, const char *what, berth_error_t *err) BERTH_WUR;

/* ---- logs ---- */
struct berth_ctr_logs_opts {
  bool follow;   /* then keep reading while the container runs */
  int64_t tail;  /* the last N records only (< 0: all) */
  int64_t since; /* unix ns; 0: no bound */
  int64_t until;
};
/* a record's data points into a buffer valid during the call; < 0 stops */
typedef int (*berth_ctr_log_sink)(void *data, const struct berth_log_record *r);
int berth_ctr_logs(struct berth_engine *e, const char *what, const struct berth_ctr_logs_opts *o,
                   berth_ctr_log_sink sink, void *data, berth_error_t *err) BERTH_WUR;

/* ---- attach ---- */
int berth_ctr_attach_connect(const struct berth_ctr *c, unsigned want, struct berth_ctr_attach *out,
                             berth_error_t *err) BERTH_WUR;
void berth_ctr_attach_close(struct berth_ctr_attach *a);
/* one message: type (engine/monitor/monitor.h) and payload */
int berth_ctr_attach_send(struct berth_ctr_attach *a, char type, const void *data, size_t len,
                          berth_error_t *err) BERTH_WUR;
/* An EXITED message (payload "<code> <pid>", NUL-terminated) to a client that connected with
 * BERTH_ATTACH_WANT_RECORD: record the exit of container id (berth_ctr_exited, guarded by
 * the pid) and answer RECORDED. A failed record is answered too (the monitor's handler then
 * tries) and returned. */
int berth_ctr_attach_record(struct berth_engine *e, struct berth_ctr_attach *a, const char *id,
                            const char *payload, berth_error_t *err) BERTH_WUR;

/* `system check`'s container part, problems appended to *v: container directories and run dirs
 * without rows, rows whose create was interrupted (over a minute ago), rows whose monitor
 * vanished, runtime state of stopped containers, rootfs mounts visible outside the monitors'
 * namespaces. repair: remove / record exited / runtime delete / unmount. */
int berth_ctr_check(struct berth_engine *e, bool repair, struct berth_check_problem **v, size_t *n,
                    berth_error_t *err) BERTH_WUR;

/* ---- the monitor's calls back into berth (`berth container --internal-*`) ---- */
/* The init (host pid) exited with code (msg: a restart that failed to start, pid 0). Reads the
 * OOM kill count, deletes the runtime's container, records the exit; then either removes the
 * container (--rm), or decides a restart (*restart_ms >= 0: in that many milliseconds) or not
 * (-1). pid > 0 guards against recording twice: when the row no longer shows that pid (or is
 * gone), the exit was recorded already and *restart_ms is what was decided then. */
int berth_ctr_exited(struct berth_engine *e, const char *id, int code, pid_t pid, const char *msg,
                     int64_t *restart_ms, berth_error_t *err) BERTH_WUR;
/* the monitor started (or restarted) the container without berth recording it */
int berth_ctr_started(struct berth_engine *e, const char *id, pid_t pid, berth_error_t *err) BERTH_WUR;

/* Record an event of the container (engine.h's berth_engine_event): its name, image and labels
 * as attributes (Docker's), then extra's "key", "value" pairs (NULL-terminated, may be NULL). */
void berth_ctr_event(struct berth_engine *e, const struct berth_ctr *c, const char *action,
                     const char *const *extra);

/* ---- pure parts (unit tested) ---- */
/* Docker's random names: "<adjective>_<surname>"; retry > 0 appends a digit (Docker's rule) */
char *berth_ctr_random_name(unsigned retry);

struct berth_ctr_restart_state {
  enum berth_restart_policy policy;
  int max_retries;       /* on-failure:N (0: unlimited) */
  int64_t restart_count; /* restarts so far */
  int64_t delay_ms;      /* the previous back-off (0: none yet) */
  bool manual_stop;
};
/* Docker's restart manager: whether to restart after an exit with code that ran for ran_ms, and
 * after how long (100 ms doubling to 1 min, back to 100 ms after a run of 10 s or more). */
bool berth_ctr_restart_decide(const struct berth_ctr_restart_state *s, int code, int64_t ran_ms,
                              int64_t *delay_ms);

/* ps's STATUS: "Up 5 minutes", "Exited (0) 3 seconds ago", "Created", "Restarting (1) 2 seconds
 * ago", "Up 3 minutes (Paused)", "Dead", "Removal In Progress" (times in unix ns) */
char *berth_ctr_status_text(enum berth_ctr_state s, int64_t exit_code, int64_t started_at,
                            int64_t finished_at, int64_t now);
/* ps's COMMAND: the words joined by spaces, truncated to 20 characters with "…" unless no_trunc,
 * in double quotes */
char *berth_ctr_command_text(json_t *config, bool no_trunc);

/* ps --filter: status=, name= (regular expression), label=key[=value], ancestor= (image id,
 * itself or a parent), id= (prefix), exited=<code>, before=/since= (a container: created before
 * or after it), volume= (a volume's name, a mount's destination or a bind's source),
 * health=starting|healthy|unhealthy|none; one key several times: any of them,
 * different keys: all of them */
struct berth_ctr_filter;
int berth_ctr_filter_parse(char *const *filters, struct berth_ctr_filter **out, berth_error_t *err) BERTH_WUR;
void berth_ctr_filter_free(struct berth_ctr_filter *f);
/* status= or exited= given: stopped containers are listed without -a (Docker) */
bool berth_ctr_filter_implies_all(const struct berth_ctr_filter *f);
/* ancestor values resolved to image ids by the caller: they are passed back here */
const char *const *berth_ctr_filter_ancestors(const struct berth_ctr_filter *f);
/* what before=, since= and volume= name, read from the catalogue; before matching (unresolved,
 * those three keys match everything) */
int berth_ctr_filter_resolve(struct berth_engine *e, struct berth_ctr_filter *f,
                             berth_error_t *err) BERTH_WUR;
/* image_chain: the container's image id and its parents (NULL-terminated); ancestor_ids: the
 * resolved ancestor values */
bool berth_ctr_filter_match(const struct berth_ctr_filter *f, const struct berth_ctr *c,
                            char *const *image_chain, char *const *ancestor_ids);

/* ---- exec, cp, pause, rename, prune, top, stats (containers_exec*.c, containers_cp.c, cp/,
 * containers_stats*.c) ---- */
struct berth_ctr_exec_in {
  char *const *args;         /* the command (not empty) */
  char *const *env;          /* "K=V" from --env-file then -e, in order (later wins; NULL: none) */
  const char *user;          /* -u user[:group], resolved in the container's /etc/passwd and /etc/group
                                (NULL: the container's user) */
  const char *workdir;       /* -w, absolute (NULL: the container's) */
  bool tty;                  /* a pty, passed to berth through a console socket (ignored with detach) */
  bool detach;               /* the runtime returns once the process runs; its stdio is /dev/null */
  bool privileged;           /* every capability */
  unsigned short rows, cols; /* tty: the terminal's size (0: unknown) */
};
/* a `runtime exec` in progress */
struct berth_ctr_exec {
  pid_t pid; /* the runtime process */
  int pidfd;
  int listen;  /* tty: the console socket */
  int log;     /* the runtime's --log (json), a memfd */
  int process; /* process.json, a memfd */
  char *sock_dir;
  bool stderr_shared; /* the runtime's stderr is the caller's: it has printed its own error */
  bool console;       /* tty: the caller proxies the pty (berth_ctr_exec_console); false: the runtime
                         proxies it through the caller's stdio itself (runc and crun refuse a
                         console socket without --detach) */
  char *hold_rundir;  /* with a tty: the container's run dir, whose monitor keeps the pty (-d, a detach) */
  bool foreground;    /* not -d: the runtime's status is the process's unless it logged an error */
  /* its events (exec_create, exec_start, exec_die): the container, an id, the command's words */
  char *ctr_id, *exec_id, *cmd;
};
/* Start `<runtime> exec` in a running container (the runtime it was created with): the process
 * is the container's own (config.json's) with in's changes; stdio: its stdin, stdout and
 * stderr (the runtime's stderr too; ignored with detach: /dev/null; with a tty and x->console
 * only stderr is used). Not running, paused: an error. */
int berth_ctr_exec_start(struct berth_engine *e, const char *what, const struct berth_ctr_exec_in *in,
                         const int stdio[3], struct berth_ctr_exec *x, berth_error_t *err) BERTH_WUR;
/* tty: the pty master the runtime passes on the console socket; -1 when the runtime ended
 * without passing one (berth_ctr_exec_wait then says why) */
int berth_ctr_exec_console(struct berth_ctr_exec *x, berth_error_t *err) BERTH_WUR;
/* detached with a tty (x->hold_rundir): the pty master goes to the container's monitor, which
 * keeps it open and discards the output (Docker's `exec -dt`) while the process lives */
int berth_ctr_exec_hand_console(struct berth_ctr_exec *x, berth_error_t *err) BERTH_WUR;
/* Wait for the runtime. 0: *code is the process's exit status (128+N when killed by signal
 * N; with detach 0). -1: the runtime could not start it: the error is its message and *code
 * 127 (not found), 126 (cannot execute) or 125. */
int berth_ctr_exec_wait(struct berth_ctr_exec *x, int *code, berth_error_t *err) BERTH_WUR;
/* the detach keys of `exec -it`: the terminal's master (berth_ctr_exec_console's) handed to the
 * container's monitor, which keeps it; the process and its runtime run on, not waited for */
int berth_ctr_exec_detach(struct berth_ctr_exec *x, int master, berth_error_t *err) BERTH_WUR;
/* the exec_die event of a process berth_ctr_exec_wait collected (code: its exit status); the
 * engine may be one opened again for it: an exec does not keep the catalogue open while it runs */
void berth_ctr_exec_died(struct berth_engine *e, const struct berth_ctr_exec *x, int code);
void berth_ctr_exec_release(struct berth_ctr_exec *x);

/* `berth cp` (engine/cp/cp.h has the rules): one side the container, the other the
 * host. Running or paused: the container's own root (its init's, volumes included); stopped:
 * its rootfs and volumes mounted for the copy in a private mount namespace (start waits). */
struct berth_ctr_cp_request {
  const char *container;
  bool to_container; /* host src -> container dst; else container src -> host dst */
  const char *src, *dst;
  bool follow_link; /* -L */
  int stream_fd;    /* >= 0: the host side is a tar stream on this fd (`-`: stdin or stdout) */
};
struct berth_cp_stats;
int berth_ctr_cp(struct berth_engine *e, const struct berth_ctr_cp_request *req, struct berth_cp_stats *stats,
                 berth_error_t *err) BERTH_WUR;

/* `berth update`: the flags given (opts: as berth_runopts_set left them; given: "--memory", ...):
 * --memory, --memory-swap, --memory-reservation, --cpus, --cpu-shares, --cpu-quota, --cpu-period,
 * --cpu-rt-period, --cpu-rt-runtime, --cpuset-cpus, --cpuset-mems, --pids-limit, --blkio-weight
 * (the runtime's `update` while it runs, then config.json and the row), --restart (the row: the
 * next exit reads it) */
struct berth_ctr_update_in {
  const struct berth_run_opts *opts;
  char *const *given;
};
int berth_ctr_update(struct berth_engine *e, const char *what, const struct berth_ctr_update_in *in,
                     berth_error_t *err) BERTH_WUR;

/* healthchecks (containers_health.c): a Healthcheck whose Test is not NONE; the health_status
 * event the monitor reports (status: starting, healthy, unhealthy); `wait --condition healthy`
 * (returns once the container is healthy; an error when it stops first or has no healthcheck) */
bool berth_ctr_health_enabled(json_t *config);
int berth_ctr_health_event(struct berth_engine *e, const char *id, const char *status,
                           berth_error_t *err) BERTH_WUR;
int berth_ctr_wait_healthy(struct berth_engine *e, const char *what, berth_error_t *err) BERTH_WUR;

/* Containers whose monitor is gone while their init runs on (the monitor was killed): each
 * stopped cleanly (its stop signal, its timeout, then SIGKILL; the exit recorded, its networks
 * torn down) and said so in *notes ("container web (abc) ran on without its monitor ...") */
int berth_ctr_settle_orphans(struct berth_engine *e, char ***notes, berth_error_t *err) BERTH_WUR;

/* pause/unpause: the runtime's pause/resume; the state is `paused` meanwhile */
int berth_ctr_pause(struct berth_engine *e, const char *what, berth_error_t *err) BERTH_WUR;
int berth_ctr_unpause(struct berth_engine *e, const char *what, berth_error_t *err) BERTH_WUR;
/* a new unique name, running or not (Docker) */
int berth_ctr_rename(struct berth_engine *e, const char *what, const char *name,
                     berth_error_t *err) BERTH_WUR;
/* Remove every stopped container (created, exited, dead) whose labels match (label=k[=v],
 * label!=k[=v]) and that was created before until (unix ns; 0: no bound). *removed: full ids;
 * *reclaimed: bytes of their own layers and logs. */
int berth_ctr_prune(struct berth_engine *e, char *const *labels, int64_t until, char ***removed,
                    uint64_t *reclaimed, berth_error_t *err) BERTH_WUR;

/* top: the container's processes (the runtime's `ps`), as ps -ef shows them */
struct berth_ctr_top {
  char **titles; /* UID PID PPID C STIME TTY TIME CMD */
  char ***rows;  /* each ncols strings */
  size_t nrows, ncols;
};
int berth_ctr_top(struct berth_engine *e, const char *what, struct berth_ctr_top *out,
                  berth_error_t *err) BERTH_WUR;
void berth_ctr_top_release(struct berth_ctr_top *t);

/* stats: one sample of a container (the runtime's `events --stats`) */
struct berth_ctr_stats_sample {
  uint64_t cpu_total; /* ns of CPU used by the container */
  uint64_t system;    /* ns of CPU time of the host (every CPU), /proc/stat */
  uint32_t online_cpus;
  uint64_t mem_usage; /* bytes, minus the inactive file cache (Docker's CLI) */
  uint64_t mem_limit; /* bytes (the host's memory when unlimited) */
  uint64_t pids;
  bool running; /* false: a stopped container (zeros) */
};
int berth_ctr_stats(struct berth_engine *e, const struct berth_ctr *c, struct berth_ctr_stats_sample *out,
                    berth_error_t *err) BERTH_WUR;
/* Docker's CPU %: the container's share of the host's CPU time between two samples, times the
 * number of CPUs, in percent (0 when either is not running or no time passed) */
double berth_ctr_stats_cpu_percent(const struct berth_ctr_stats_sample *prev,
                                   const struct berth_ctr_stats_sample *now);
double berth_ctr_stats_mem_percent(const struct berth_ctr_stats_sample *s);
/* ps -ef's columns: STIME (start, unix s) "HH:MM" today else "MonDD" (else the year), TIME
 * "[DD-]HH:MM:SS" of CPU seconds, TTY "pts/N" or "?" from the tty_nr of /proc/<pid>/stat */
char *berth_ctr_top_stime(int64_t start, int64_t now);
char *berth_ctr_top_time(uint64_t seconds);
char *berth_ctr_top_tty(int64_t tty_nr);

/* `berth export CONTAINER`: the container's filesystem now (image layers + its own changes,
 * volumes excluded) as a tar archive */
int berth_ctr_export(struct berth_engine *e, const char *what, int out_fd, berth_error_t *err) BERTH_WUR;

/* ---- networks (containers_networks.c; engine/networks/networks.h) ---- */
/* network connect / disconnect: the row always, the interface too when it runs */
int berth_ctr_network_connect(struct berth_engine *e, const char *what,
                              const struct berth_network_request *req, berth_error_t *err) BERTH_WUR;
int berth_ctr_network_disconnect(struct berth_engine *e, const char *what, const char *network,
                                 berth_error_t *err) BERTH_WUR;
/* `berth port`: "80/tcp -> 0.0.0.0:8080" lines, or "0.0.0.0:8080" of one port (filter "80[/tcp]") */
int berth_ctr_port(struct berth_engine *e, const char *what, const char *filter, char ***lines,
                   berth_error_t *err) BERTH_WUR;

#endif
