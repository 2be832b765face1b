/* GnuTLS loaded on first use (api/gnutls_dl.h, base/dl.h). */
#define BERTH_GNUTLS_DL_NO_MACROS /* the real names here */
#include "api/gnutls_dl.h"

#include <dlfcn.h>

#include "base/dl.h"

static const char *init(void *lib)
{
  int (*global_init)(void) = (int (*)(void)) dlsym(lib, "gnutls_global_init");
  return global_init && global_init() >= 0 ? NULL : "gnutls_global_init failed";
}

static const char *const sonames[] = { "libgnutls.so.30", NULL }; /* GnuTLS 3.x */
static struct berth_dl dl = BERTH_DL("GnuTLS", sonames, init);

int berth_gnutls_load(berth_error_t *err) { return berth_dl_load(&dl, err); }

void *berth_gnutls_sym(const char *name) { return berth_dl_sym(&dl, name); }
