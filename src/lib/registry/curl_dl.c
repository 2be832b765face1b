/* libcurl loaded on first use (registry/curl_dl.h). */
#define BERTH_CURL_DL_NO_MACROS /* the real names here */
#include "registry/curl_dl.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/xalloc.h"

/* Debian 12's libcurl4 (OpenSSL flavour), then the GnuTLS and NSS flavours' names */
static const char *const sonames[] = { "libcurl.so.4", "libcurl-gnutls.so.4", "libcurl-nss.so.4" };
static void *lib;
static const char *load_error = "not loaded";
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load_once(void)
{
  for (size_t i = 0; i < sizeof sonames / sizeof sonames[0] && lib == NULL; i++) {
    lib = dlopen(sonames[i], RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL && i == 0) {
      const char *e = dlerror();
      load_error = e ? xstrdup(e) : "not found";
    }
  }
  if (lib == NULL)
    return;
  CURLcode (*init)(long) = (CURLcode(*)(long)) dlsym(lib, "curl_global_init");
  if (init == NULL || init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    load_error = "curl_global_init failed";
    lib = NULL;
  }
}

int berth_curl_load(berth_error_t *err)
{
  pthread_once(&once, load_once);
  if (lib == NULL)
    return berth_error_make(err, ELIBACC, "cannot load libcurl (%s: %s)", sonames[0], load_error);
  return 0;
}

void *berth_curl_sym(const char *name)
{
  pthread_once(&once, load_once);
  void *p = lib ? dlsym(lib, name) : NULL;
  if (p == NULL) {
    fprintf(stderr, "berth: libcurl: no `%s` (%s)\n", name, lib ? "too old a libcurl?" : load_error);
    abort();
  }
  return p;
}
