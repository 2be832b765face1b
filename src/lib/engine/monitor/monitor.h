/* What berth and berth-monitor (src/monitor/) share, and all they share: the messages of the
 * start channel and the attach socket, and the container log the monitor writes and berth
 * reads. libc only: the monitor links this folder alone (the library berth-monitor-link), and
 * libberth-engine links it too. */
#ifndef BERTH_ENGINE_MONITOR_MONITOR_H
#define BERTH_ENGINE_MONITOR_MONITOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* ==== the messages ==== */

/* The messages between `berth` and a container's monitor (berth-monitor, src/monitor/). Both
 * channels are SOCK_SEQPACKET unix sockets: one message per send, the first byte its type.
 *
 * The start channel (a socketpair given to the monitor as --sync-fd):
 *   monitor -> berth  READY "<pid>"         the attach socket listens (pid: the monitor's)
 *   berth -> monitor  GO                    create and start the container now
 *   monitor -> berth  STARTED "<pid>"       running (the container's init pid on the host)
 *                     FAILED "<code> <msg>" not started; code 125 (engine/runtime error),
 *                                           126 (cannot execute) or 127 (not found)
 *   berth -> monitor  ACK                   berth recorded the start; without it (berth died
 *                                           meanwhile) the monitor records it itself
 *
 * The attach socket (<runroot>/<id>/attach): any number of clients, each first sends
 *   HELLO <flags byte>                      BERTH_ATTACH_* streams it wants
 * then, client -> monitor:
 *   STDIN <bytes>, STDIN_CLOSE, RESIZE "<rows> <cols>", CANCEL (no further automatic restart:
 *   `stop` of a restarting container), HOLD with a descriptor (SCM_RIGHTS): the pty master of
 *   a detached `exec -t`, which the monitor keeps open and reads (discarding the output, as
 *   Docker does) until its process side is closed or the container's init exits
 * and monitor -> client:
 *   STDOUT <bytes>, STDERR <bytes>          what the container writes (a terminal: STDOUT)
 *   EXIT "<code>"                           the container exited and berth has recorded it
 *                                           (and removed it, with --rm); the monitor closes
 *                                           the connection after it
 * A client that records exits (HELLO with BERTH_ATTACH_WANT_RECORD: a foreground `run`, which
 * has the catalogue open already) is asked to, instead of the monitor running
 * `berth container --internal-exited` (a process, and the catalogue opened again):
 *   monitor -> client EXITED "<code> <pid>"  the init (host pid) exited with code: record it
 *   client -> monitor RECORDED "<decision>"  done: "restart <ms>" or "stop"; empty: failed
 * The first such client is asked; no answer within BERTH_ATTACH_RECORD_MS, or the connection
 * lost: the monitor runs the handler itself. Recording is guarded by the pid, so of a late
 * answer and the handler exactly one records.
 */

#define BERTH_MON_READY   'R'
#define BERTH_MON_GO      'G'
#define BERTH_MON_STARTED 'S'
#define BERTH_MON_FAILED  'F'
#define BERTH_MON_ACK     'A'

#define BERTH_ATTACH_HELLO       'H'
#define BERTH_ATTACH_STDIN       'I'
#define BERTH_ATTACH_STDIN_CLOSE 'C'
#define BERTH_ATTACH_RESIZE      'W'
#define BERTH_ATTACH_CANCEL      'Q'
#define BERTH_ATTACH_STDOUT      'O'
#define BERTH_ATTACH_STDERR      'E'
#define BERTH_ATTACH_EXIT        'X'
#define BERTH_ATTACH_EXITED      'T'
#define BERTH_ATTACH_RECORDED    'D'
#define BERTH_ATTACH_HOLD        'P'

/* HELLO flags */
#define BERTH_ATTACH_WANT_STDOUT 0x1
#define BERTH_ATTACH_WANT_STDERR 0x2
#define BERTH_ATTACH_WANT_STDIN  0x4
#define BERTH_ATTACH_WANT_RECORD 0x8 /* this client records exits: EXITED, RECORDED */

/* how long the monitor waits for a recording client's answer */
#define BERTH_ATTACH_RECORD_MS 5000

/* largest message (type byte included) */
#define BERTH_ATTACH_MSG_MAX 16385

/* file names in the container's run dir (<runroot>/<id>/, removed by the monitor as it ends) */
#define BERTH_MON_ATTACH_SOCK   "attach"
#define BERTH_MON_CONSOLE_SOCK  "console"
#define BERTH_MON_PID_FILE      "pid"
#define BERTH_MON_SELF_PID_FILE "monitor.pid" /* the monitor's own */
#define BERTH_MON_HEALTH_FILE   "health.json" /* State.Health, rewritten after each check */
/* the monitor's diagnostics (its stderr), in the container's directory */
#define BERTH_MON_LOG "monitor.log"

/* A runtime's error text classified as Docker does for `run`/`start`: 127 the command was not
 * found, 126 it cannot be executed, 125 any other failure. */
static inline int berth_ctr_start_error_code(const char *msg)
{
  static const char *const not_found[] = { "executable file not found", "no such file or directory" };
  static const char *const cannot[] = { "permission denied", "not an executable", "exec format error",
                                        "is a directory" };
  char low[4096];
  size_t i = 0;
  for (; msg && msg[i] && i + 1 < sizeof low; i++)
    low[i] = (char) (msg[i] >= 'A' && msg[i] <= 'Z' ? msg[i] + 32 : msg[i]);
  low[i] = '\0';
  if (strstr(low, "exec") == NULL)
    return 125;
  for (size_t k = 0; k < sizeof not_found / sizeof *not_found; k++)
    if (strstr(low, not_found[k]))
      return 127;
  for (size_t k = 0; k < sizeof cannot / sizeof *cannot; k++)
    if (strstr(low, cannot[k]))
      return 126;
  return 125;
}

/* ==== the container log (log.c) ==== */

/* A container's log: CRI's format, one line per line the container wrote,
 *
 *   2024-05-01T12:34:56.123456789Z stdout F hello
 *   2024-05-01T12:34:56.123456789Z stderr P a partial line (no newline yet)
 *
 * (time of the read, UTC, nine fraction digits; "F" a full line whose newline is not stored,
 * "P" a chunk without a newline: a line longer than the buffer, or what was left at EOF).
 * Size-rotated like Docker's json-file driver: with max_size set, a write that would pass it
 * first renames container.log -> .1 -> .2 ... keeping max_files files in all (1: truncated).
 *
 * Functions return 0 or -errno; they never allocate behind the caller's back except the writer's
 * path copy. */

#define BERTH_LOG_LINE_MAX 16384 /* a longer line is stored as several "P" chunks */
#define BERTH_LOG_TS_LEN   30    /* "2024-05-01T12:34:56.123456789Z" */

enum berth_log_stream { BERTH_LOG_STDOUT = 0, BERTH_LOG_STDERR = 1 };

struct berth_logw {
  char path[4096];
  int fd;
  uint64_t size;      /* bytes in the current file */
  uint64_t max_size;  /* 0: never rotate */
  unsigned max_files; /* files kept in all, >= 1 */
  /* a line being assembled per stream (no newline seen yet) */
  char pending[2][BERTH_LOG_LINE_MAX];
  size_t npending[2];
};

/* "2024-05-01T12:34:56.123456789Z" (buf of at least BERTH_LOG_TS_LEN + 1) */
void berth_log_format_ts(int64_t unix_nanos, char *buf);
/* parse "YYYY-MM-DDTHH:MM:SS[.fraction](Z|±hh:mm)"; -EINVAL when malformed */
int berth_log_parse_ts(const char *s, size_t len, int64_t *unix_nanos);

/* Format one record into out (size >= BERTH_LOG_TS_LEN + 12 + len): returns its length. */
size_t berth_log_format_record(char *out, int64_t unix_nanos, enum berth_log_stream s, bool partial,
                               const char *data, size_t len);

struct berth_log_record {
  int64_t time; /* unix nanoseconds */
  enum berth_log_stream stream;
  bool partial;
  const char *data; /* points into the parsed line (not NUL-terminated) */
  size_t len;
};
/* Parse one line (without its newline); -EINVAL when it is not a record. */
int berth_log_parse_record(const char *line, size_t len, struct berth_log_record *out);

/* Open (append, creating 0640) the log at path. */
int berth_logw_open(struct berth_logw *w, const char *path, uint64_t max_size, unsigned max_files);
void berth_logw_close(struct berth_logw *w);
/* Feed bytes the container wrote on a stream at time now: every complete line becomes an "F"
 * record, a line reaching BERTH_LOG_LINE_MAX a "P" record; the rest waits for more. */
int berth_logw_feed(struct berth_logw *w, enum berth_log_stream s, const char *data, size_t len, int64_t now);
/* End of a stream: what is pending is written as a "P" record. */
int berth_logw_flush(struct berth_logw *w, enum berth_log_stream s, int64_t now);
/* Write one record (rotating first when it would pass max_size). */
int berth_logw_write(struct berth_logw *w, enum berth_log_stream s, bool partial, const char *data,
                     size_t len, int64_t now);
/* path of rotated file i (0: the current file) into buf */
void berth_log_rotated_path(const char *path, unsigned i, char *buf, size_t len);

#endif
