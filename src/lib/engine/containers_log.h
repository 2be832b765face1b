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
 * libc only: compiled into berth-monitor (which writes) as well as libberth-engine (which reads).
 * Functions return 0 or -errno; they never allocate behind the caller's back except the writer's
 * path copy. */
#ifndef BERTH_ENGINE_CONTAINERS_LOG_H
#define BERTH_ENGINE_CONTAINERS_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
