/* Process-wide logger: text or runc-style JSON lines, to stderr or a --log file. */
#ifndef BERTH_BASE_LOG_H
#define BERTH_BASE_LOG_H

#include <stdbool.h>

enum berth_log_level {
  BERTH_LOG_ERROR = 0,
  BERTH_LOG_WARN = 1,
  BERTH_LOG_INFO = 2,
  BERTH_LOG_DEBUG = 3,
};

enum berth_log_format {
  BERTH_LOG_FORMAT_TEXT = 0,
  BERTH_LOG_FORMAT_JSON = 1,
};

/* fd < 0 means stderr. The fd is kept (and must be O_CLOEXEC). */
void berth_log_configure(int fd, enum berth_log_format format, enum berth_log_level level);
void berth_log_set_prefix(const char *prefix);
enum berth_log_level berth_log_get_level(void);
int berth_log_get_fd(void);
enum berth_log_format berth_log_get_format(void);
void berth_log(enum berth_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define berth_log_error(...) berth_log(BERTH_LOG_ERROR, __VA_ARGS__)
#define berth_log_warn(...)  berth_log(BERTH_LOG_WARN, __VA_ARGS__)
#define berth_log_info(...)  berth_log(BERTH_LOG_INFO, __VA_ARGS__)
#define berth_log_debug(...)                                                                                 \
  do {                                                                                                       \
    if (berth_log_get_level() >= BERTH_LOG_DEBUG)                                                            \
      berth_log(BERTH_LOG_DEBUG, __VA_ARGS__);                                                               \
  } while (0)

#endif
