#include "base/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "base/strbuf.h"

/* The logger is the one piece of process-wide state: main() configures it once. */
static struct {
  int fd;
  enum berth_log_format format;
  enum berth_log_level level;
  const char *prefix;
} logger = { -1, BERTH_LOG_FORMAT_TEXT, BERTH_LOG_WARN, "berth" };

static const char *const level_names[] = { "error", "warning", "info", "debug" };

void berth_log_configure(int fd, enum berth_log_format format, enum berth_log_level level)
{
  logger.fd = fd;
  logger.format = format;
  logger.level = level;
}

void berth_log_set_prefix(const char *prefix) { logger.prefix = prefix; }
enum berth_log_level berth_log_get_level(void) { return logger.level; }
int berth_log_get_fd(void) { return logger.fd; }
enum berth_log_format berth_log_get_format(void) { return logger.format; }

static void format_time(char *buf, size_t len)
{
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(buf + n, len - n, ".%09ldZ", ts.tv_nsec);
}

void berth_log(enum berth_log_level level, const char *fmt, ...)
{
  if (level > logger.level)
    return;
  int saved = errno;
  char msg[4096];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);

  struct berth_strbuf b = BERTH_STRBUF_INIT;
  if (logger.format == BERTH_LOG_FORMAT_JSON) {
    char ts[64];
    format_time(ts, sizeof ts);
    berth_strbuf_printf(
      &b, "{\"level\":\"%s\",\"msg\":", level == BERTH_LOG_WARN ? "warning" : level_names[level]);
    berth_strbuf_append_json_string(&b, msg);
    berth_strbuf_printf(&b, ",\"time\":\"%s\"}\n", ts);
  } else if (logger.fd >= 0) {
    char ts[64];
    format_time(ts, sizeof ts);
    berth_strbuf_printf(&b, "%s %s: %s\n", ts, level_names[level], msg);
  } else {
    berth_strbuf_printf(&b, "%s: %s%s\n", logger.prefix,
                        level == BERTH_LOG_ERROR  ? ""
                        : level == BERTH_LOG_WARN ? "warning: "
                                                  : "",
                        msg);
  }
  int fd = logger.fd >= 0 ? logger.fd : STDERR_FILENO;
  size_t off = 0;
  while (off < b.len) {
    ssize_t w = write(fd, b.buf + off, b.len - off);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      break;
    off += (size_t) w;
  }
  berth_strbuf_release(&b);
  errno = saved;
}
