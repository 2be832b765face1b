#include "base/error.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"

int berth_error_makev(berth_error_t *err, int errnum, const char *fmt, va_list ap)
{
  if (err == NULL)
    return -1;
  assert(*err == NULL);
  char *base = NULL;
  if (vasprintf(&base, fmt, ap) < 0)
    berth_oom();
  struct berth_error_s *e = xmalloc0(sizeof *e);
  e->errnum = errnum;
  if (errnum != 0) {
    char buf[128];
    const char *s = strerror_r(errnum, buf, sizeof buf);
    e->msg = xasprintf("%s: %s", base, s);
    free(base);
  } else {
    e->msg = base;
  }
  *err = e;
  return -1;
}

int berth_error_make(berth_error_t *err, int errnum, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  int r = berth_error_makev(err, errnum, fmt, ap);
  va_end(ap);
  return r;
}

int berth_error_wrap(berth_error_t *err, const char *fmt, ...)
{
  if (err == NULL || *err == NULL)
    return -1;
  char *ctx = NULL;
  va_list ap;
  va_start(ap, fmt);
  if (vasprintf(&ctx, fmt, ap) < 0)
    berth_oom();
  va_end(ap);
  char *msg = xasprintf("%s: %s", ctx, (*err)->msg);
  free(ctx);
  free((*err)->msg);
  (*err)->msg = msg;
  return -1;
}

void berth_error_release(berth_error_t *err)
{
  if (err == NULL || *err == NULL)
    return;
  free((*err)->msg);
  free(*err);
  *err = NULL;
}

char *berth_error_steal_msg(berth_error_t *err)
{
  if (err == NULL || *err == NULL)
    return NULL;
  char *m = (*err)->msg;
  free(*err);
  *err = NULL;
  return m;
}
