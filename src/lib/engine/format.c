/* Docker-identical presentation: sizes, durations, ellipsis, RFC 3339 times, tabwriter tables. */
#include "engine/format.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/xalloc.h"

char *berth_fmt_size(uint64_t bytes) { return berth_fmt_size_prec(bytes, 3); }

char *berth_fmt_size_prec(uint64_t bytes, int precision)
{
  static const char *const units[] = { "B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB" };
  double size = (double) bytes;
  size_t i = 0;
  while (size >= 1000.0 && i < sizeof units / sizeof units[0] - 1) {
    size /= 1000.0;
    i++;
  }
  return xasprintf("%.*g%s", precision, size, units[i]);
}

char *berth_fmt_duration(int64_t seconds)
{
  if (seconds < 1)
    return xstrdup("Less than a second");
  if (seconds == 1)
    return xstrdup("1 second");
  if (seconds < 60)
    return xasprintf("%lld seconds", (long long) seconds);
  int64_t minutes = seconds / 60;
  if (minutes == 1)
    return xstrdup("About a minute");
  if (minutes < 60)
    return xasprintf("%lld minutes", (long long) minutes);
  int64_t hours = (seconds + 1800) / 3600; /* Go: d.Round(time.Hour).Hours() */
  if (hours == 1)
    return xstrdup("About an hour");
  if (hours < 48)
    return xasprintf("%lld hours", (long long) hours);
  if (hours < 24 * 7 * 2)
    return xasprintf("%lld days", (long long) (hours / 24));
  if (hours < 24 * 30 * 2)
    return xasprintf("%lld weeks", (long long) (hours / 24 / 7));
  if (hours < 24 * 365 * 2)
    return xasprintf("%lld months", (long long) (hours / 24 / 30));
  return xasprintf("%lld years", (long long) (seconds / 3600 / 24 / 365));
}

char *berth_fmt_since(int64_t then, int64_t now)
{
  char *d = berth_fmt_duration(now - then);
  char *s = xasprintf("%s ago", d);
  free(d);
  return s;
}

char *berth_fmt_ellipsis(const char *s, size_t maxlen)
{
  size_t runes = 0, cut = 0;
  for (size_t i = 0; s[i]; i++) {
    if (((unsigned char) s[i] & 0xc0) == 0x80)
      continue; /* continuation byte */
    if (runes == (maxlen > 0 ? maxlen - 1 : 0))
      cut = i;
    runes++;
  }
  if (runes <= maxlen)
    return xstrdup(s);
  if (maxlen == 0)
    return xstrdup("");
  char *head = xstrndup(s, cut);
  char *r = xasprintf("%s\u2026", head);
  free(head);
  return r;
}

char *berth_fmt_rfc3339(int64_t unix_nanos)
{
  int64_t secs = unix_nanos / 1000000000, ns = unix_nanos % 1000000000;
  if (ns < 0) {
    ns += 1000000000;
    secs--;
  }
  time_t t = (time_t) secs;
  struct tm tm;
  gmtime_r(&t, &tm);
  char date[64];
  strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
  if (ns == 0)
    return xasprintf("%sZ", date);
  char frac[16];
  snprintf(frac, sizeof frac, "%09lld", (long long) ns);
  for (size_t n = strlen(frac); n > 0 && frac[n - 1] == '0'; n--)
    frac[n - 1] = '\0';
  return xasprintf("%s.%sZ", date, frac);
}

static int digits(const char **p, int n, int *out)
{
  int v = 0;
  for (int i = 0; i < n; i++, (*p)++) {
    if (**p < '0' || **p > '9')
      return -1;
    v = v * 10 + (**p - '0');
  }
  *out = v;
  return 0;
}

static int expect(const char **p, char c)
{
  if (**p != c)
    return -1;
  (*p)++;
  return 0;
}

/* the date/time separator: 'T' (RFC 3339), 't' or ' ' (allowed by its note) */
static int expect_sep(const char **p)
{
  if (**p != 'T' && **p != 't' && **p != ' ')
    return -1;
  (*p)++;
  return 0;
}

int berth_parse_rfc3339(const char *s, int64_t *unix_nanos)
{
  struct tm tm = { 0 };
  int y, mo, d, h, mi, sec;
  const char *p = s;
  if (digits(&p, 4, &y) || expect(&p, '-') || digits(&p, 2, &mo) || expect(&p, '-') || digits(&p, 2, &d) ||
      expect_sep(&p) || digits(&p, 2, &h) || expect(&p, ':') || digits(&p, 2, &mi) || expect(&p, ':') ||
      digits(&p, 2, &sec))
    return -1;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
    return -1;
  int64_t ns = 0, scale = 100000000;
  if (*p == '.') {
    p++;
    if (*p < '0' || *p > '9')
      return -1;
    for (; *p >= '0' && *p <= '9'; p++, scale /= 10)
      ns += scale > 0 ? (*p - '0') * scale : 0;
  }
  int64_t offset = 0;
  if (*p == 'Z' || *p == 'z') {
    p++;
  } else if (*p == '+' || *p == '-') {
    int sign = *p++ == '-' ? -1 : 1, oh, om;
    if (digits(&p, 2, &oh) || expect(&p, ':') || digits(&p, 2, &om))
      return -1;
    offset = sign * (oh * 3600 + om * 60);
  } else {
    return -1;
  }
  if (*p != '\0')
    return -1;
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  int64_t secs = (int64_t) timegm(&tm) - offset;
  *unix_nanos = secs * 1000000000 + ns;
  return 0;
}

void berth_table_init(struct berth_table *t, size_t ncols)
{
  memset(t, 0, sizeof *t);
  t->ncols = ncols;
  t->minwidth = 20;
  t->padding = 3;
}

void berth_table_add(struct berth_table *t, const char *const *cells)
{
  t->cells = xreallocarray(t->cells, (t->nrows + 1) * t->ncols, sizeof *t->cells);
  for (size_t c = 0; c < t->ncols; c++)
    t->cells[t->nrows * t->ncols + c] = xstrdup(cells[c] ? cells[c] : "");
  t->nrows++;
}

static size_t utf8_width(const char *s)
{
  size_t n = 0;
  for (; *s; s++)
    n += ((unsigned char) *s & 0xc0) != 0x80;
  return n;
}

void berth_table_print(const struct berth_table *t, FILE *out)
{
  size_t *w = xcalloc(t->ncols ? t->ncols : 1, sizeof *w);
  for (size_t r = 0; r < t->nrows; r++)
    for (size_t c = 0; c < t->ncols; c++) {
      size_t cw = utf8_width(t->cells[r * t->ncols + c]) + t->padding;
      if (cw > w[c])
        w[c] = cw;
    }
  for (size_t r = 0; r < t->nrows; r++) {
    /* the line without its trailing blanks: stop after the last non-empty cell */
    size_t last = 0;
    for (size_t c = 0; c < t->ncols; c++)
      if (*t->cells[r * t->ncols + c])
        last = c;
    for (size_t c = 0; c <= last && c < t->ncols; c++) {
      const char *cell = t->cells[r * t->ncols + c];
      fputs(cell, out);
      if (c == last)
        break;
      size_t width = w[c] < t->minwidth ? t->minwidth : w[c];
      for (size_t pad = utf8_width(cell); pad < width; pad++)
        fputc(' ', out);
    }
    fputc('\n', out);
  }
  free(w);
}

void berth_table_release(struct berth_table *t)
{
  for (size_t i = 0; i < t->nrows * t->ncols; i++)
    free(t->cells[i]);
  free(t->cells);
  t->cells = NULL;
  t->nrows = 0;
}
