/* libmicrohttpd loaded on first use (api/mhd_dl.h, base/dl.h). */
#define BERTH_MHD_DL_NO_MACROS /* the real names here */
#include "api/mhd_dl.h"

#include "base/dl.h"

static const char *const sonames[] = { "libmicrohttpd.so.12", NULL }; /* Debian 12's libmicrohttpd12 */
static struct berth_dl dl = BERTH_DL("libmicrohttpd", sonames, NULL);

int berth_mhd_load(berth_error_t *err) { return berth_dl_load(&dl, err); }

void *berth_mhd_sym(const char *name) { return berth_dl_sym(&dl, name); }
