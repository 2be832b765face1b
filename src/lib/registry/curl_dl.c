/* libcurl loaded on first use (registry/curl_dl.h, base/dl.h). */
#define BERTH_CURL_DL_NO_MACROS /* the real names here */
#include "registry/curl_dl.h"

#include <dlfcn.h>

#include "base/dl.h"

static const char *init(void *lib)
{
  CURLcode (*global_init)(long) = (CURLcode(*)(long)) dlsym(lib, "curl_global_init");
  return global_init && global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? NULL : "curl_global_init failed";
}

/* Debian 12's libcurl4 (OpenSSL flavour), then the GnuTLS and NSS flavours' names */
static const char *const sonames[] = { "libcurl.so.4", "libcurl-gnutls.so.4", "libcurl-nss.so.4", NULL };
static struct berth_dl dl = BERTH_DL("libcurl", sonames, init);

int berth_curl_load(berth_error_t *err) { return berth_dl_load(&dl, err); }

void *berth_curl_sym(const char *name) { return berth_dl_sym(&dl, name); }
