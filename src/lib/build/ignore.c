/* .dockerignore patterns and the path rules of the build context. */
#include <ctype.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/strbuf.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "build/ignore.h"

struct pattern {
  char *text; /* cleaned, without the '!' */
  bool exception;
};

struct berth_ignore {
  struct pattern *v;
  size_t n;
  bool exceptions;
};

char *berth_build_path_clean(const char *path)
{
  if (path == NULL || *path == '\0')
    return xstrdup(".");
  bool rooted = path[0] == '/';
  size_t n = strlen(path);
  char *out = xmalloc(n + 2);
  size_t w = 0, dotdot = 0, r = 0;
  if (rooted) {
    out[w++] = '/';
    r = dotdot = 1;
  }
  while (r < n) {
    if (path[r] == '/') {
      r++;
    } else if (path[r] == '.' && (r + 1 == n || path[r + 1] == '/')) {
      r++;
    } else if (path[r] == '.' && path[r + 1] == '.' && (r + 2 == n || path[r + 2] == '/')) {
      r += 2;
      if (w > dotdot) {
        w--;
        while (w > dotdot && out[w] != '/')
          w--;
      } else if (!rooted) {
        if (w > 0)
          out[w++] = '/';
        out[w++] = '.';
        out[w++] = '.';
        dotdot = w;
      }
    } else {
      if ((rooted && w != 1) || (!rooted && w != 0))
        out[w++] = '/';
      for (; r < n && path[r] != '/'; r++)
        out[w++] = path[r];
    }
  }
  if (w == 0)
    out[w++] = '.';
  out[w] = '\0';
  return out;
}

char *berth_build_path_inside(const char *path)
{
  cleanup_free char *c = berth_build_path_clean(path);
  const char *p = c;
  if (*p == '/') {
    p++;
    if (*p == '\0')
      return xstrdup(".");
  }
  if (strcmp(p, "..") == 0 || berth_str_has_prefix(p, "../"))
    return NULL;
  return xstrdup(p);
}

bool berth_build_has_glob(const char *s) { return strpbrk(s, "*?[") != NULL; }

bool berth_build_glob_match(const char *pattern, const char *name)
{
  return fnmatch(pattern, name, FNM_PATHNAME) == 0;
}

/* a character class at p (after '['): 1 matched, 0 not, -1 malformed; *end past ']' */
static int class_match(const char *p, char c, const char **end)
{
  bool neg = *p == '^' || *p == '!';
  if (neg)
    p++;
  bool hit = false, first = true;
  while (*p && (*p != ']' || first)) {
    first = false;
    char lo = *p == '\\' && p[1] ? *++p : *p;
    p++;
    char hi = lo;
    if (*p == '-' && p[1] && p[1] != ']') {
      p++;
      hi = *p == '\\' && p[1] ? *++p : *p;
      p++;
    }
    if (c >= lo && c <= hi)
      hit = true;
  }
  if (*p != ']')
    return -1;
  *end = p + 1;
  return hit != neg;
}

/* patternmatcher's regular expression, matched by backtracking: the whole of s */
static bool pmatch(const char *p, const char *s, bool at_start)
{
  while (*p) {
    if (p[0] == '*' && p[1] == '*') {
      p += 2;
      bool slash = *p == '/';
      if (slash)
        p++;
      if (*p == '\0')
        return true;
      for (const char *t = s;; t++) {
        if ((t == s || t[-1] == '/' || (at_start && !slash)) && pmatch(p, t, false))
          return true;
        if (*t == '\0')
          return false;
      }
    }
    at_start = false;
    if (*p == '*') {
      for (const char *t = s;; t++) {
        if (pmatch(p + 1, t, false))
          return true;
        if (*t == '\0' || *t == '/')
          return false;
      }
    }
    if (*s == '\0')
      return false;
    if (*p == '?') {
      if (*s == '/')
        return false;
    } else if (*p == '[') {
      const char *end = NULL;
      if (class_match(p + 1, *s, &end) != 1)
        return false;
      p = end;
      s++;
      continue;
    } else {
      if (*p == '\\' && p[1])
        p++;
      if (*p != *s)
        return false;
    }
    p++;
    s++;
  }
  return *s == '\0';
}

int berth_ignore_parse(const char *text, size_t len, struct berth_ignore **out, berth_error_t *err)
{
  struct berth_ignore *ig = xmalloc0(sizeof *ig);
  if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
    text += 3;
    len -= 3;
  }
  for (size_t off = 0; off < len;) {
    const char *nl = memchr(text + off, '\n', len - off);
    size_t n = nl ? (size_t) (nl - (text + off)) : len - off;
    cleanup_free char *line = xstrndup(text + off, n);
    off += n + 1;
    if (line[0] == '#')
      continue;
    char *b = line, *e = line + strlen(line);
    while (*b && isspace((unsigned char) *b))
      b++;
    while (e > b && isspace((unsigned char) e[-1]))
      *--e = '\0';
    if (*b == '\0')
      continue;
    bool exc = *b == '!';
    if (exc) {
      b++;
      while (*b && isspace((unsigned char) *b))
        b++;
      if (*b == '\0') {
        berth_ignore_free(ig);
        return BERTH_ERR(err, ".dockerignore: illegal exclusion pattern: `!`");
      }
    }
    char *clean = berth_build_path_clean(b);
    if (clean[0] == '/' && clean[1] != '\0')
      memmove(clean, clean + 1, strlen(clean));
    ig->v = xreallocarray(ig->v, ig->n + 1, sizeof *ig->v);
    ig->v[ig->n++] = (struct pattern){ .text = clean, .exception = exc };
    ig->exceptions |= exc;
  }
  *out = ig;
  return 0;
}

void berth_ignore_free(struct berth_ignore *ig)
{
  if (ig == NULL)
    return;
  for (size_t i = 0; i < ig->n; i++)
    free(ig->v[i].text);
  free(ig->v);
  free(ig);
}

bool berth_ignore_has_exceptions(const struct berth_ignore *ig) { return ig && ig->exceptions; }

bool berth_ignore_match(const struct berth_ignore *ig, const char *path)
{
  if (ig == NULL || ig->n == 0)
    return false;
  bool matched = false;
  cleanup_free char *buf = xstrdup(path);
  for (size_t i = 0; i < ig->n; i++) {
    const struct pattern *p = &ig->v[i];
    if (p->exception != matched)
      continue;
    bool m = pmatch(p->text, path, true);
    for (char *slash = strchr(buf, '/'); !m && slash; slash = strchr(slash + 1, '/')) {
      *slash = '\0'; /* each parent directory, shortest first */
      m = pmatch(p->text, buf, true);
      *slash = '/';
    }
    if (m)
      matched = !p->exception;
  }
  return matched;
}
