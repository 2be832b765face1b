/* HOME from the container's /etc/passwd, for a process whose config sets none (runc and crun
 * do the same). The parser is pure; the reader runs in the container after pivot_root. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/xalloc.h"
#include "linux/process.h"

/* a bigger passwd is not read: HOME then falls back to "/" */
#define PASSWD_MAX (4u << 20)

/* field `i` (0-based) of a passwd line [s, end), or false when it has fewer fields */
static bool field(const char *s, const char *end, int i, const char **f, size_t *n)
{
  for (; i > 0; i--) {
    const char *c = memchr(s, ':', (size_t) (end - s));
    if (c == NULL)
      return false;
    s = c + 1;
  }
  const char *c = memchr(s, ':', (size_t) (end - s));
  *f = s;
  *n = (size_t) ((c ? c : end) - s);
  return true;
}

static bool parse_uid(const char *s, size_t n, uint32_t *out)
{
  if (n == 0 || n > 10)
    return false;
  uint64_t v = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9')
      return false;
    v = v * 10 + (uint64_t) (s[i] - '0');
  }
  if (v > UINT32_MAX)
    return false;
  *out = (uint32_t) v;
  return true;
}

char *berth_passwd_home(const char *text, size_t len, uint32_t uid)
{
  const char *end = text + len;
  for (const char *line = text; line < end;) {
    const char *nl = memchr(line, '\n', (size_t) (end - line));
    const char *eol = nl ? nl : end;
    const char *f, *home;
    size_t n, hn;
    uint32_t u;
    if (line[0] != '#' && line[0] != '+' && line[0] != '-' && field(line, eol, 2, &f, &n) &&
        parse_uid(f, n, &u) && u == uid && field(line, eol, 5, &home, &hn))
      return hn > 0 ? xstrndup(home, hn) : NULL;
    line = eol + 1;
  }
  return NULL;
}

char *berth_passwd_home_lookup(uint32_t uid)
{
  /* never blocks on a fifo or a device planted at /etc/passwd */
  cleanup_close int fd = berth_openat2(AT_FDCWD, "/etc/passwd", O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC,
                                       0, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 || st.st_size > PASSWD_MAX)
    return NULL;
  size_t size = (size_t) st.st_size;
  cleanup_free char *buf = xmalloc(size);
  ssize_t r = berth_read_all(fd, buf, size);
  if (r <= 0)
    return NULL;
  return berth_passwd_home(buf, (size_t) r, uid);
}
