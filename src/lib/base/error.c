#include "base/error.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"

/* glibc's texts in every build: musl words some differently, and messages are part of the
 * interface (tests, scripts and users match them) */
const char *berth_strerror(int errnum)
{
#ifndef __GLIBC__
  switch (errnum) {
  case EIO: return "Input/output error";
  case ECHILD: return "No child processes";
  case ENOMEM: return "Cannot allocate memory";
  case EBUSY: return "Device or resource busy";
  case EXDEV: return "Invalid cross-device link";
  case EMFILE: return "Too many open files";
  case ENOTTY: return "Inappropriate ioctl for device";
  case ESPIPE: return "Illegal seek";
  case ERANGE: return "Numerical result out of range";
  case ENAMETOOLONG: return "File name too long";
  case ELOOP: return "Too many levels of symbolic links";
  case EOPNOTSUPP: return "Operation not supported";
  case ENOTSOCK: return "Socket operation on non-socket";
  case EOVERFLOW: return "Value too large for defined data type";
  case EADDRINUSE: return "Address already in use";
  case ETIMEDOUT: return "Connection timed out";
  case ENOMEDIUM: return "No medium found";
  case ESTALE: return "Stale file handle";
  case EILSEQ: return "Invalid or incomplete multibyte or wide character";
  default: break;
  }
#endif
  return strerror(errnum);
}

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
    e->msg = xasprintf("%s: %s", base, berth_strerror(errnum));
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
