/* The router: "METHOD /v1.N/path" -> a route of the table (routes_internal.h) and its path
 * parameters. Pure: no allocation, no I/O; fuzzed (tests/fuzz/fuzz_api_router.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/routes.h"

struct route {
  const char *method;
  const char *pattern;
  unsigned flags;
  const char *name;
};

static const struct route routes[] = {
#define API_ROUTE_ROW(id, method, pattern, flags) { method, pattern, flags, method " " pattern },
  API_ROUTES(API_ROUTE_ROW)
#undef API_ROUTE_ROW
};

#define MAX_SEGS 64

struct seg {
  const char *p;
  size_t len;
};

/* split "/a/b/c" into segments (empty ones dropped: "//a/" is /a); -1 when too many */
static int split(const char *path, size_t len, struct seg *out)
{
  int n = 0;
  size_t i = 0;
  while (i < len) {
    while (i < len && path[i] == '/')
      i++;
    if (i >= len)
      break;
    size_t start = i;
    while (i < len && path[i] != '/')
      i++;
    if (n == MAX_SEGS)
      return -1;
    out[n++] = (struct seg){ path + start, i - start };
  }
  return n;
}

struct capture {
  int first, count; /* path segments of each parameter */
};

/* does path segment range [pi, np) match pattern segments [ki, nk) */
static bool match_from(const struct seg *ps, int pi, int np, const struct seg *ks, int ki, int nk,
                       struct capture *cap, int ncap)
{
  if (ki == nk)
    return pi == np;
  const struct seg *k = &ks[ki];
  bool param = k->len >= 2 && k->p[0] == '{' && k->p[k->len - 1] == '}';
  if (!param) {
    return pi < np && ps[pi].len == k->len && memcmp(ps[pi].p, k->p, k->len) == 0 &&
           match_from(ps, pi + 1, np, ks, ki + 1, nk, cap, ncap);
  }
  if (ncap >= 2 || pi >= np)
    return false;
  bool greedy = k->len >= 3 && k->p[k->len - 2] == '*';
  int max = greedy ? np - pi : 1;
  for (int take = max; take >= 1; take--) { /* the longest first: "/images/a/json/json" */
    if (match_from(ps, pi + take, np, ks, ki + 1, nk, cap, ncap + 1)) {
      cap[ncap] = (struct capture){ pi, take };
      return true;
    }
  }
  return false;
}

/* "/v1.43/..." -> 43 and the rest; *bad for a version outside what is served */
static const char *strip_version(const char *path, unsigned *version, bool *bad)
{
  *version = 0;
  *bad = false;
  if (path[0] != '/' || path[1] != 'v' || path[2] < '0' || path[2] > '9')
    return path;
  const char *p = path + 2;
  unsigned long major = 0, minor = 0;
  int digits = 0;
  while (*p >= '0' && *p <= '9' && digits < 4)
    major = major * 10 + (unsigned long) (*p++ - '0'), digits++;
  if (*p != '.')
    return path; /* "/v1/..." is not a version prefix: no route will match */
  p++;
  digits = 0;
  while (*p >= '0' && *p <= '9' && digits < 4)
    minor = minor * 10 + (unsigned long) (*p++ - '0'), digits++;
  if (digits == 0 || (*p != '/' && *p != '\0'))
    return path;
  if (major != 1 || minor < BERTH_API_VERSION_MIN || minor > BERTH_API_VERSION_MAX)
    *bad = true;
  *version = (unsigned) (major == 1 ? minor : 0);
  return *p ? p : "/";
}

static void copy_param(struct berth_api_match *m, int i, const struct seg *ps, const struct capture *c)
{
  const char *start = ps[c->first].p;
  const struct seg *last = &ps[c->first + c->count - 1];
  size_t len = (size_t) (last->p + last->len - start);
  if (len >= sizeof m->arg_buf[i])
    len = sizeof m->arg_buf[i] - 1;
  memcpy(m->arg_buf[i], start, len);
  m->arg_buf[i][len] = '\0';
  m->arg[i] = m->arg_buf[i];
}

static bool try_route(const struct route *r, const struct seg *ps, int np, struct berth_api_match *m)
{
  struct seg ks[16];
  int nk = split(r->pattern, strlen(r->pattern), ks);
  struct capture cap[2] = { { 0, 0 }, { 0, 0 } };
  if (nk < 0 || !match_from(ps, 0, np, ks, 0, nk, cap, 0))
    return false;
  for (int i = 0; i < 2; i++)
    if (cap[i].count > 0)
      copy_param(m, i, ps, &cap[i]);
  return true;
}

void berth_api_route(const char *method, const char *path, struct berth_api_match *m)
{
  memset(m, 0, sizeof *m);
  m->route = -1;
  m->name = "";
  if (method == NULL || path == NULL)
    return;
  path = strip_version(path, &m->version, &m->bad_version);
  struct seg ps[MAX_SEGS];
  int np = split(path, strlen(path), ps);
  if (np < 0)
    return;
  bool head = strcmp(method, "HEAD") == 0;
  for (int pass = 0; pass < (head ? 2 : 1); pass++) {
    const char *want = pass == 0 ? method : "GET"; /* HEAD as GET when no HEAD route exists */
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
      if (strcmp(routes[i].method, want) != 0 || !try_route(&routes[i], ps, np, m))
        continue;
      m->route = (int) i;
      m->flags = routes[i].flags;
      m->name = routes[i].name;
      return;
    }
  }
}
