/* GET of any http(s) URL, for `ADD <url>` of builds: the registry client's HTTP (libcurl, TLS
 * configuration, redirects, proxies from the environment) without its registry parts — no
 * credentials are sent, one attempt (the body goes straight to the caller's file). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/xalloc.h"
#include "registry/registry_int.h"

struct fetch_sink {
  int fd;
  uint64_t n, max;
  bool too_big, failed;
};

static size_t fetch_write(void *ctx, const char *data, size_t n)
{
  struct fetch_sink *s = ctx;
  if (n > s->max - s->n) {
    s->too_big = true;
    return 0;
  }
  if (berth_write_all(s->fd, data, n) < 0) {
    s->failed = true;
    return 0;
  }
  s->n += n;
  return n;
}

/* "Wed, 21 Oct 2015 07:28:00 GMT" (RFC 7231's IMF-fixdate), -1 otherwise */
static int64_t http_date(const char *v)
{
  struct tm tm;
  memset(&tm, 0, sizeof tm);
  const char *end = v ? strptime(v, "%a, %d %b %Y %H:%M:%S GMT", &tm) : NULL;
  return end ? (int64_t) timegm(&tm) : -1;
}

int berth_http_get(const char *url, const struct berth_registry_opts *o, int fd, uint64_t max, int64_t *mtime,
                   berth_error_t *err)
{
  *mtime = -1;
  const char *scheme_end = strstr(url, "://");
  if (scheme_end == NULL || (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0))
    return BERTH_ERR(err, "`%s`: not an http:// or https:// URL", url);
  const char *host = scheme_end + 3;
  size_t hlen = strcspn(host, "/?#");
  if (hlen == 0)
    return BERTH_ERR(err, "`%s`: no host", url);
  cleanup_free char *name = xstrndup(host, hlen);
  cleanup_free char *base = xstrndup(url, (size_t) (host + hlen - url));
  struct berth_registry_opts ro = *o;
  ro.retry.max_attempts = 1;
  ro.creds = NULL;
  struct berth_registry *r = NULL;
  if (berth_registry_new(name, base, &ro, &r, err) < 0)
    return berth_error_wrap(err, "GET %s", url);
  r->base_fixed = true; /* the URL's own scheme, no https -> http fallback */
  r->creds_known = true;
  r->have_creds = false;
  struct fetch_sink s = { .fd = fd, .max = max };
  struct reg_req q;
  reg_req_init(&q, "GET", xstrdup(url));
  q.no_auth = true;
  q.max_body = 64u << 10;
  q.sink = fetch_write;
  q.sink_ctx = &s;
  int rc = reg_request(r, &q, err);
  if (s.too_big)
    rc = BERTH_ERR(err, "GET %s: larger than %llu bytes", url, (unsigned long long) max);
  else if (s.failed)
    rc = BERTH_ERR_ERRNO(err, "GET %s: write the download", url);
  else if (rc < 0)
    rc = berth_error_wrap(err, "GET %s", url);
  else if (q.status < 200 || q.status >= 300)
    rc = BERTH_ERR(err, "GET %s: %ld %s", url, q.status,
                   q.status == 404   ? "Not Found"
                   : q.status == 403 ? "Forbidden"
                                     : "(not a success)");
  else
    *mtime = http_date(q.last_modified);
  reg_req_release(&q);
  berth_registry_free(r);
  return rc;
}
