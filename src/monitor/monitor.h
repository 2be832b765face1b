/* berth-monitor: one small process per running container (docs/design/containers.md).
 *
 * Started by `berth start`/`run` (setsid, double fork, in a private mount namespace where berth
 * has mounted the container's rootfs), it creates and starts the container through the OCI
 * runtime, is the subreaper and so the parent of the container's init, holds its stdio (pipes,
 * or the pty master received on a console socket), writes the log, serves attach over a unix
 * socket, and when the init exits has the exit recorded (and the container removed with --rm,
 * or a restart decided): by an attached client that records exits (a foreground `berth run`),
 * else by running `berth ... container --internal-exited`. libc only, no SQLite, no JSON:
 * everything it needs comes on its command line. */
#ifndef BERTH_MONITOR_H
#define BERTH_MONITOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "engine/monitor/monitor.h"

#define MON_MAX_ARGS    64
#define MON_MAX_CLIENTS 64
#define MON_MAX_HELD    64 /* pty masters of detached `exec -t` processes */

struct mon_client {
  int fd;
  bool hello;
  unsigned char want; /* BERTH_ATTACH_WANT_* */
};

/* freezer.c: where a process's cgroup freezer is read (v1 freezer.state, or v2's cgroup.freeze
 * and cgroup.events in dir) */
struct mon_freezer {
  bool v1;
  char dir[4096 + 4096]; /* empty: not looked up yet */
};

/* healthchecks (health.c) */
#define MON_HEALTH_LOG 5 /* results kept, as Docker */
struct mon_health_result {
  int64_t start, end; /* unix ns */
  int code;           /* -1: killed at its timeout */
  char output[4096];
  size_t n;
};
struct mon_health {
  const char *process; /* --health-process: the check for `exec --process` (NULL: no healthcheck) */
  int64_t interval, timeout, start_period, start_interval; /* ns */
  int64_t retries;
  int timer; /* timerfd: the next check, or the running one's timeout */
  int out;   /* the running check's output */
  pid_t pid; /* the runtime running it (0: none) */
  bool timed_out;
  bool dropped; /* the running check is not counted: the container was paused at its timeout */
  bool paused;  /* the last tick found the container paused (said once in the log) */
  struct mon_freezer freezer;
  int64_t begun;       /* monotonic ns of the container's start */
  int64_t check_start; /* unix ns */
  char output[4096];
  size_t nout;
  int streak;
  char status[16]; /* starting, healthy, unhealthy */
  struct mon_health_result log[MON_HEALTH_LOG];
  size_t nlog;
};

struct mon {
  /* from the command line */
  const char *id, *bundle, *rundir, *runtime, *log_path;
  const char *rt_args[MON_MAX_ARGS]; /* global runtime options (--root DIR, ...) */
  size_t n_rt_args;
  const char *handler[MON_MAX_ARGS]; /* berth --root R --runroot RR container */
  size_t n_handler;
  uint64_t log_max_size;
  unsigned log_max_files;
  bool terminal, open_stdin, stdin_once;
  bool auto_remove; /* --rm: no restart; the rootfs is unmounted before the exit is recorded */
  int sync_fd;

  /* run time */
  int sigfd, listen_fd;
  ino_t listen_ino; /* the attach socket's inode (removed at exit only while it is still ours) */
  struct mon_client clients[MON_MAX_CLIENTS];
  size_t nclients;
  int held[MON_MAX_HELD]; /* HOLD: read and discarded until EOF/EIO (-1: closed, compacted later) */
  size_t nheld;
  int out_fd, err_fd; /* container stdout/stderr (read ends), or the pty master as out_fd */
  int in_fd;          /* container stdin (write end), or the pty master; -1 when closed */
  char stdin_pending[BERTH_ATTACH_MSG_MAX];
  size_t n_stdin_pending;
  pid_t init_pid;
  bool exited;
  int status;  /* wait status of the init */
  bool cancel; /* CANCEL received: no further restart */
  struct mon_health health;
};

extern struct berth_logw mon_log;

/* io.c */
void mon_log_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int64_t mon_now(void);
int mon_listen(struct mon *m);
struct sockaddr_un;
/* the address of a socket file at PATH of any length (io.c); *dirfd to close after bind */
int mon_sun_addr(const char *path, struct sockaddr_un *sa, int *dirfd);
void mon_unlisten(struct mon *m);
void mon_accept(struct mon *m);
/* accept the clients waiting and read their first message (HELLO): before the container starts,
 * so that a client that connected before GO sees every byte */
void mon_read_hellos(struct mon *m);
void mon_close_clients(struct mon *m);
/* close the pty masters held for detached `exec -t` processes */
void mon_close_held(struct mon *m);
void mon_broadcast(struct mon *m, char type, const char *data, size_t len, unsigned char want);
/* what the container wrote: into the log and to the clients that want that stream */
void mon_deliver(struct mon *m, enum berth_log_stream s, const char *data, size_t len);
/* serve the container until its init exited and its output is drained */
void mon_serve(struct mon *m);
/* Ask the first client that records exits (BERTH_ATTACH_WANT_RECORD) to record this one: true
 * with its decision ("restart <ms>" / "stop") in decision; false when there is none or it did
 * not answer (its connection is closed then). */
bool mon_client_record(struct mon *m, int code, char *decision, size_t len);
/* wait ms milliseconds while accepting clients; returns false when CANCEL arrived */
bool mon_sleep(struct mon *m, int64_t ms);
void mon_reap(struct mon *m);

/* health.c: at each start of the container and when its init is gone; the timer fired, the
 * check's output readable, a child reaped (true when it was the check) */
void mon_health_begin(struct mon *m);
void mon_health_end(struct mon *m);
void mon_health_timer(struct mon *m);
void mon_health_read(struct mon *m);
bool mon_health_reaped(struct mon *m, pid_t pid, int st);

/* freezer.c */
/* the freezer of the process whose /proc/PID/cgroup is proc_cgroup, among the hierarchies in
 * mountinfo mounted under the directory UNDER; false when there is none */
bool mon_freezer_find(const char *proc_cgroup, const char *mountinfo, const char *under,
                      struct mon_freezer *fz);
/* frozen or freezing (the container paused) */
bool mon_freezer_frozen(const struct mon_freezer *fz);
/* is process pid's cgroup frozen; fz (zeroed at each start) keeps where to look */
bool mon_frozen(struct mon_freezer *fz, pid_t pid);

/* spawn.c */
/* fork and exec argv with these as its stdio (nothing else of the monitor's); the pid or -1 */
pid_t mon_spawn(const char *const *argv, int in, int out, int errfd);
/* argv: runtime [global options] tail... (NULL-terminated) */
size_t mon_runtime_argv(struct mon *m, const char **argv, size_t max, const char *const *tail);
/* create and start the container (the runtime's `run --detach`); on failure *code (125/126/127)
 * and msg are set */
int mon_start_container(struct mon *m, int *code, char *msg, size_t msglen);
void mon_close_stdio(struct mon *m);
/* run the handler: "--internal-exited ID CODE PID [MSG]" or "--internal-started ID PID"; the
 * first line it prints is copied into out (may be NULL) */
int mon_run_handler(struct mon *m, const char *verb, const char *const *args, char *out, size_t outlen);

#endif
