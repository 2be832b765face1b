/* The container log's records and the rotating writer (see monitor.h). libc only. */
#include "engine/monitor/monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *const stream_names[] = { "stdout", "stderr" };

void berth_log_format_ts(int64_t unix_nanos, char *buf)
{
  time_t secs = (time_t) (unix_nanos / 1000000000);
  long ns = (long) (unix_nanos % 1000000000);
  if (ns < 0) {
    ns += 1000000000;
    secs--;
  }
  struct tm tm;
  gmtime_r(&secs, &tm);
  char tmp[64]; /* room for any int the compiler imagines; the result is always 30 characters */
  snprintf(tmp, sizeof tmp, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", (tm.tm_year + 1900) % 10000,
           (tm.tm_mon + 1) % 100, tm.tm_mday % 100, tm.tm_hour % 100, tm.tm_min % 100, tm.tm_sec % 100, ns);
  memcpy(buf, tmp, BERTH_LOG_TS_LEN);
  buf[BERTH_LOG_TS_LEN] = '\0';
}

static int num(const char **p, const char *end, int n, int *out)
{
  int v = 0;
  for (int i = 0; i < n; i++, (*p)++) {
    if (*p >= end || **p < '0' || **p > '9')
      return -EINVAL;
    v = v * 10 + (**p - '0');
  }
  *out = v;
  return 0;
}

static int lit(const char **p, const char *end, char c)
{
  if (*p >= end || **p != c)
    return -EINVAL;
  (*p)++;
  return 0;
}

static int parse_zone(const char **p, const char *end, int *offset)
{
  *offset = 0;
  if (*p < end && **p == 'Z') {
    (*p)++;
    return 0;
  }
  if (*p >= end || (**p != '+' && **p != '-'))
    return -EINVAL;
  int sign = **p == '-' ? -1 : 1, h, m;
  (*p)++;
  if (num(p, end, 2, &h) || lit(p, end, ':') || num(p, end, 2, &m))
    return -EINVAL;
  *offset = sign * (h * 3600 + m * 60);
  return 0;
}

int berth_log_parse_ts(const char *s, size_t len, int64_t *unix_nanos)
{
  const char *p = s, *end = s + len;
  int y, mo, d, h, mi, sec, offset;
  if (num(&p, end, 4, &y) || lit(&p, end, '-') || num(&p, end, 2, &mo) || lit(&p, end, '-') ||
      num(&p, end, 2, &d) || lit(&p, end, 'T') || num(&p, end, 2, &h) || lit(&p, end, ':') ||
      num(&p, end, 2, &mi) || lit(&p, end, ':') || num(&p, end, 2, &sec))
    return -EINVAL;
  int64_t ns = 0;
  if (p < end && *p == '.') {
    int digits = 0;
    for (p++; p < end && *p >= '0' && *p <= '9'; p++, digits++)
      if (digits < 9)
        ns = ns * 10 + (*p - '0');
    if (digits == 0)
      return -EINVAL;
    for (; digits < 9; digits++)
      ns *= 10;
  }
  if (parse_zone(&p, end, &offset) || p != end)
    return -EINVAL;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
    return -EINVAL;
  struct tm tm = {
    .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi, .tm_sec = sec
  };
  *unix_nanos = ((int64_t) timegm(&tm) - offset) * 1000000000 + ns;
  return 0;
}

size_t berth_log_format_record(char *out, int64_t unix_nanos, enum berth_log_stream s, bool partial,
                               const char *data, size_t len)
{
  berth_log_format_ts(unix_nanos, out);
  size_t n = BERTH_LOG_TS_LEN;
  const char *name = stream_names[s == BERTH_LOG_STDERR];
  out[n++] = ' ';
  memcpy(out + n, name, 6);
  n += 6;
  out[n++] = ' ';
  out[n++] = partial ? 'P' : 'F';
  out[n++] = ' ';
  memcpy(out + n, data, len);
  n += len;
  out[n++] = '\n';
  return n;
}

int berth_log_parse_record(const char *line, size_t len, struct berth_log_record *out)
{
  const char *sp = memchr(line, ' ', len);
  if (sp == NULL || berth_log_parse_ts(line, (size_t) (sp - line), &out->time) < 0)
    return -EINVAL;
  const char *p = sp + 1, *end = line + len;
  if (end - p < 9 || p[6] != ' ' || (p[7] != 'F' && p[7] != 'P') || p[8] != ' ')
    return -EINVAL;
  if (memcmp(p, "stdout", 6) == 0)
    out->stream = BERTH_LOG_STDOUT;
  else if (memcmp(p, "stderr", 6) == 0)
    out->stream = BERTH_LOG_STDERR;
  else
    return -EINVAL;
  out->partial = p[7] == 'P';
  out->data = p + 9;
  out->len = (size_t) (end - out->data);
  return 0;
}

void berth_log_rotated_path(const char *path, unsigned i, char *buf, size_t len)
{
  int n = i == 0 ? snprintf(buf, len, "%s", path) : snprintf(buf, len, "%s.%u", path, i);
  if (n < 0 || (size_t) n >= len) /* too long: no such file */
    buf[0] = '\0';
}

static int open_log(struct berth_logw *w, bool truncate)
{
  int fd =
    open(w->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW | (truncate ? O_TRUNC : 0), 0640);
  if (fd < 0)
    return -errno;
  struct stat st;
  if (fstat(fd, &st) < 0) {
    int e = errno;
    close(fd);
    return -e;
  }
  if (w->fd >= 0)
    close(w->fd);
  w->fd = fd;
  w->size = (uint64_t) st.st_size;
  return 0;
}

int berth_logw_open(struct berth_logw *w, const char *path, uint64_t max_size, unsigned max_files)
{
  if (strlen(path) >= sizeof w->path - 16)
    return -ENAMETOOLONG;
  snprintf(w->path, sizeof w->path, "%s", path);
  w->fd = -1;
  w->max_size = max_size;
  w->max_files = max_files ? max_files : 1;
  w->npending[0] = w->npending[1] = 0;
  return open_log(w, false);
}

void berth_logw_close(struct berth_logw *w)
{
  if (w->fd >= 0)
    close(w->fd);
  w->fd = -1;
}

static int rotate(struct berth_logw *w)
{
  if (w->max_files <= 1)
    return open_log(w, true);
  char from[sizeof w->path], to[sizeof w->path];
  berth_log_rotated_path(w->path, w->max_files - 1, to, sizeof to);
  if (unlink(to) < 0 && errno != ENOENT)
    return -errno;
  for (unsigned i = w->max_files - 1; i > 0; i--) {
    berth_log_rotated_path(w->path, i - 1, from, sizeof from);
    berth_log_rotated_path(w->path, i, to, sizeof to);
    if (rename(from, to) < 0 && errno != ENOENT)
      return -errno;
  }
  return open_log(w, true);
}

static int write_all(int fd, const char *p, size_t n)
{
  while (n > 0) {
    ssize_t k = write(fd, p, n);
    if (k < 0 && errno == EINTR)
      continue;
    if (k < 0)
      return -errno;
    p += k;
    n -= (size_t) k;
  }
  return 0;
}

int berth_logw_write(struct berth_logw *w, enum berth_log_stream s, bool partial, const char *data,
                     size_t len, int64_t now)
{
  static char rec[BERTH_LOG_TS_LEN + 16 + BERTH_LOG_LINE_MAX];
  if (len > BERTH_LOG_LINE_MAX)
    return -EINVAL;
  size_t n = berth_log_format_record(rec, now, s, partial, data, len);
  if (w->max_size > 0 && w->size > 0 && w->size + n > w->max_size) {
    int r = rotate(w);
    if (r < 0)
      return r;
  }
  int r = write_all(w->fd, rec, n);
  if (r == 0)
    w->size += n;
  return r;
}

int berth_logw_feed(struct berth_logw *w, enum berth_log_stream s, const char *data, size_t len, int64_t now)
{
  char *buf = w->pending[s == BERTH_LOG_STDERR];
  size_t *have = &w->npending[s == BERTH_LOG_STDERR];
  while (len > 0) {
    const char *nl = memchr(data, '\n', len);
    size_t take = nl ? (size_t) (nl - data) : len;
    size_t room = BERTH_LOG_LINE_MAX - *have;
    bool full = take >= room;
    if (full)
      take = room;
    memcpy(buf + *have, data, take);
    *have += take;
    data += take;
    len -= take;
    if (full || nl) {
      bool partial = full && !(nl && data == nl);
      int r = berth_logw_write(w, s, partial, buf, *have, now);
      *have = 0;
      if (r < 0)
        return r;
      if (len > 0 && *data == '\n' && !partial) {
        data++;
        len--;
      }
    }
  }
  return 0;
}

int berth_logw_flush(struct berth_logw *w, enum berth_log_stream s, int64_t now)
{
  size_t *have = &w->npending[s == BERTH_LOG_STDERR];
  if (*have == 0)
    return 0;
  int r = berth_logw_write(w, s, true, w->pending[s == BERTH_LOG_STDERR], *have, now);
  *have = 0;
  return r;
}
