#include "base/xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void berth_oom(void)
{
  static const char msg[] = "berth: out of memory\n";
  ssize_t r = write(2, msg, sizeof msg - 1);
  (void) r;
  abort();
}

void *xmalloc(size_t n)
{
  void *p = malloc(n ? n : 1);
  if (p == NULL)
    berth_oom();
  return p;
}

void *xmalloc0(size_t n) { return xcalloc(1, n ? n : 1); }

void *xcalloc(size_t nmemb, size_t size)
{
  void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
  if (p == NULL)
    berth_oom();
  return p;
}

void *xrealloc(void *p, size_t n)
{
  void *q = realloc(p, n ? n : 1);
  if (q == NULL)
    berth_oom();
  return q;
}

void *xreallocarray(void *p, size_t nmemb, size_t size)
{
  void *q = reallocarray(p, nmemb ? nmemb : 1, size ? size : 1);
  if (q == NULL)
    berth_oom();
  return q;
}

char *xstrdup(const char *s)
{
  char *p = strdup(s);
  if (p == NULL)
    berth_oom();
  return p;
}

char *xstrndup(const char *s, size_t n)
{
  char *p = strndup(s, n);
  if (p == NULL)
    berth_oom();
  return p;
}

char *xasprintf(const char *fmt, ...)
{
  char *s = NULL;
  va_list ap;
  va_start(ap, fmt);
  int r = vasprintf(&s, fmt, ap);
  va_end(ap);
  if (r < 0)
    berth_oom();
  return s;
}
