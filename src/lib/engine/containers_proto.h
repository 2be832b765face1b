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
 * Header-only, libc only (the monitor includes it). */
#ifndef BERTH_ENGINE_CONTAINERS_PROTO_H
#define BERTH_ENGINE_CONTAINERS_PROTO_H

#include <string.h>

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
#define BERTH_MON_ATTACH_SOCK  "attach"
#define BERTH_MON_CONSOLE_SOCK "console"
#define BERTH_MON_PID_FILE     "pid"
/* the monitor's diagnostics (its stderr), in the container's directory */
#define BERTH_MON_LOG "monitor.log"

/* A runtime's error text classified as Docker does for `run`/`start`: 127 the command was not
 * found, 126 it cannot be executed, 125 any other failure. */
static inline int berth_container_start_error_code(const char *msg)
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

#endif
