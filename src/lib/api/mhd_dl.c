/* libmicrohttpd loaded on first use (api/mhd_dl.h). */
#define BERTH_MHD_DL_NO_MACROS /* the real names here */
#include "api/mhd_dl.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/xalloc.h"

/* Debian 12's libmicrohttpd12 */
static const char soname[] = "libmicrohttpd.so.12";
static void *lib;
static char *load_error;

int berth_mhd_load(berth_error_t *err)
{
  if (lib == NULL && load_error == NULL) { /* one process, one thread: no once needed */
    lib = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) {
      const char *e = dlerror();
      load_error = xstrdup(e ? e : "not found");
    }
  }
  if (lib == NULL)
    return berth_error_make(err, ELIBACC, "cannot load libmicrohttpd (%s: %s)", soname, load_error);
  return 0;
}

void *berth_mhd_sym(const char *name)
{
  void *p = lib ? dlsym(lib, name) : NULL;
  if (p == NULL) {
    fprintf(stderr, "berth: libmicrohttpd: no `%s` (%s)\n", name,
            lib          ? "too old a libmicrohttpd?"
            : load_error ? load_error
                         : "not loaded");
    abort();
  }
  return p;
}
