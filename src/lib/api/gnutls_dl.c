/* GnuTLS loaded on first use (api/gnutls_dl.h). */
#define BERTH_GNUTLS_DL_NO_MACROS /* the real names here */
#include "api/gnutls_dl.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/xalloc.h"

static const char soname[] = "libgnutls.so.30"; /* GnuTLS 3.x */
static void *lib;
static const char *load_error = "not loaded";
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load_once(void)
{
  lib = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
  if (lib == NULL) {
    const char *e = dlerror();
    load_error = e ? xstrdup(e) : "not found";
    return;
  }
  int (*init)(void) = (int (*)(void)) dlsym(lib, "gnutls_global_init");
  if (init == NULL || init() < 0) {
    load_error = "gnutls_global_init failed";
    lib = NULL;
  }
}

int berth_gnutls_load(berth_error_t *err)
{
  pthread_once(&once, load_once);
  if (lib == NULL)
    return berth_error_make(err, ELIBACC, "cannot load GnuTLS (%s: %s)", soname, load_error);
  return 0;
}

void *berth_gnutls_sym(const char *name)
{
  pthread_once(&once, load_once);
  void *p = lib ? dlsym(lib, name) : NULL;
  if (p == NULL) {
    fprintf(stderr, "berth: GnuTLS: no `%s` (%s)\n", name, lib ? "too old a GnuTLS?" : load_error);
    abort();
  }
  return p;
}
