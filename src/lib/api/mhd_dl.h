/* libmicrohttpd, loaded by the connection process when it starts (dlopen) instead of at every
 * start of `berth`: Debian's libmicrohttpd12 drags GnuTLS in (and with it p11-kit, nettle,
 * hogweed, gmp, libtasn1, libidn2, libunistring), whose loading and initialisation every
 * command would pay, and whose pages (about 2.4 MiB) the idle service would keep resident, though
 * only a connection's process speaks HTTP. The scheme of registry/curl_dl.h: include this header
 * instead of <microhttpd.h>, call berth_mhd_load() before the first MHD_* call (an error value
 * when the library cannot be loaded); every MHD_* call then goes through a pointer resolved at
 * its first use. */
#ifndef BERTH_API_MHD_DL_H
#define BERTH_API_MHD_DL_H

#include <microhttpd.h>

#include "base/dl.h"
#include "base/error.h"

/* load libmicrohttpd once; the error names the library and why */
int berth_mhd_load(berth_error_t *err) BERTH_WUR;
/* the symbol NAME of the loaded library (aborts, naming it, if the library lacks it) */
void *berth_mhd_sym(const char *name);

#define BERTH_MHD_FN(name) BERTH_DL_FN(berth_mhd_sym, name)

#ifndef BERTH_MHD_DL_NO_MACROS
#define MHD_start_daemon                  BERTH_MHD_FN(MHD_start_daemon)
#define MHD_stop_daemon                   BERTH_MHD_FN(MHD_stop_daemon)
#define MHD_add_connection                BERTH_MHD_FN(MHD_add_connection)
#define MHD_run_wait                      BERTH_MHD_FN(MHD_run_wait)
#define MHD_set_connection_option         BERTH_MHD_FN(MHD_set_connection_option)
#define MHD_lookup_connection_value       BERTH_MHD_FN(MHD_lookup_connection_value)
#define MHD_get_connection_values         BERTH_MHD_FN(MHD_get_connection_values)
#define MHD_get_connection_info           BERTH_MHD_FN(MHD_get_connection_info)
#define MHD_create_response_from_buffer   BERTH_MHD_FN(MHD_create_response_from_buffer)
#define MHD_create_response_from_callback BERTH_MHD_FN(MHD_create_response_from_callback)
#define MHD_create_response_for_upgrade   BERTH_MHD_FN(MHD_create_response_for_upgrade)
#define MHD_add_response_header           BERTH_MHD_FN(MHD_add_response_header)
#define MHD_queue_response                BERTH_MHD_FN(MHD_queue_response)
#define MHD_destroy_response              BERTH_MHD_FN(MHD_destroy_response)
#define MHD_upgrade_action                BERTH_MHD_FN(MHD_upgrade_action)
#define MHD_suspend_connection            BERTH_MHD_FN(MHD_suspend_connection)
#define MHD_resume_connection             BERTH_MHD_FN(MHD_resume_connection)
#endif

#endif
