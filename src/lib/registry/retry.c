/* The retry planner: after a failed attempt, how long to wait before the next one, or whether
 * to give up. Exponential backoff (base * 2^(attempt-1)), or the registry's Retry-After
 * (delta-seconds or an IMF-fixdate), both capped. Pure: the caller passes the time. */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/strutil.h"
#include "registry/registry.h"

static bool retriable_status(long status)
{
  return status == 408 || status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

static int month_of(const char *m)
{
  static const char *const names[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
  for (int i = 0; i < 12; i++)
    if (strncmp(m, names[i], 3) == 0)
      return i;
  return -1;
}

/* days since 1970-01-01 of a civil date (Howard Hinnant's algorithm) */
static int64_t days_from_civil(int64_t y, int m, int d)
{
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

/* "Sun, 06 Nov 1994 08:49:37 GMT" -> unix seconds, or -1 */
static int64_t parse_http_date(const char *s)
{
  char wd[4], mon[4], zone[4];
  int d, y, hh, mm, ss, used = 0;
  if (strlen(s) > 64 ||
      sscanf(s, "%3[A-Za-z], %2d %3[A-Za-z] %4d %2d:%2d:%2d %3[A-Z]%n", wd, &d, mon, &y, &hh, &mm, &ss, zone,
             &used) != 8 ||
      s[used] != '\0' || strcmp(zone, "GMT") != 0)
    return -1;
  int m = month_of(mon);
  if (m < 0 || d < 1 || d > 31 || y < 1970 || hh > 23 || mm > 59 || ss > 60)
    return -1;
  return days_from_civil(y, m + 1, d) * 86400 + hh * 3600 + mm * 60 + ss;
}

/* the Retry-After header in ms from now, or -1 when absent or unreadable */
static int64_t retry_after_ms(const char *h, int64_t now)
{
  if (h == NULL)
    return -1;
  while (*h == ' ')
    h++;
  uint64_t secs;
  if (h[0] >= '0' && h[0] <= '9') {
    if (berth_parse_u64(h, &secs) < 0)
      return -1;
    return secs > 86400 ? 86400 * 1000LL : (int64_t) secs * 1000;
  }
  int64_t t = parse_http_date(h);
  if (t < 0)
    return -1;
  return t <= now ? 0 : (t - now > 86400 ? 86400 : t - now) * 1000;
}

int64_t berth_retry_plan(const struct berth_retry_policy *p, const struct berth_retry_input *in)
{
  int max_attempts = p && p->max_attempts > 0 ? p->max_attempts : 5;
  int64_t base = p && p->base_ms > 0 ? p->base_ms : 200;
  int64_t cap = p && p->max_delay_ms > 0 ? p->max_delay_ms : 10000;
  if (in->attempt >= max_attempts || in->attempt < 1)
    return -1;
  if (!in->transport_error && !retriable_status(in->status))
    return -1;
  int64_t d = retry_after_ms(in->retry_after, in->now);
  if (d < 0) {
    int shift = in->attempt - 1 > 20 ? 20 : in->attempt - 1;
    d = base << shift;
  }
  return d > cap ? cap : d;
}
