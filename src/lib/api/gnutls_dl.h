/* GnuTLS, loaded (dlopen) by the processes that speak TLS — the checker of the service's
 * certificate files and the connection processes of a TLS service (tls.c) — instead of at
 * every start of `berth`: the command line, a unix-socket service and the idle listener never
 * map it nor run its initialisation. The scheme of registry/curl_dl.h: include this header
 * instead of <gnutls/gnutls.h>, call berth_gnutls_load() first; each gnutls_* call then goes
 * through a pointer resolved at its first use. */
#ifndef BERTH_API_GNUTLS_DL_H
#define BERTH_API_GNUTLS_DL_H

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "base/dl.h"
#include "base/error.h"

/* load libgnutls once (and gnutls_global_init it); the error names the library and why */
int berth_gnutls_load(berth_error_t *err) BERTH_WUR;
/* the symbol NAME of the loaded library (aborts, naming it, if the library lacks it) */
void *berth_gnutls_sym(const char *name);

#define BERTH_GNUTLS_FN(name) BERTH_DL_FN(berth_gnutls_sym, name)

#ifndef BERTH_GNUTLS_DL_NO_MACROS
#define gnutls_strerror                         BERTH_GNUTLS_FN(gnutls_strerror)
#define gnutls_error_is_fatal                   BERTH_GNUTLS_FN(gnutls_error_is_fatal)
#define gnutls_alert_get                        BERTH_GNUTLS_FN(gnutls_alert_get)
#define gnutls_alert_get_name                   BERTH_GNUTLS_FN(gnutls_alert_get_name)
#define gnutls_certificate_allocate_credentials BERTH_GNUTLS_FN(gnutls_certificate_allocate_credentials)
#define gnutls_certificate_free_credentials     BERTH_GNUTLS_FN(gnutls_certificate_free_credentials)
#define gnutls_certificate_set_x509_key         BERTH_GNUTLS_FN(gnutls_certificate_set_x509_key)
#define gnutls_certificate_set_x509_trust       BERTH_GNUTLS_FN(gnutls_certificate_set_x509_trust)
#define gnutls_certificate_set_verify_function  BERTH_GNUTLS_FN(gnutls_certificate_set_verify_function)
#define gnutls_certificate_server_set_request   BERTH_GNUTLS_FN(gnutls_certificate_server_set_request)
#define gnutls_certificate_verify_peers         BERTH_GNUTLS_FN(gnutls_certificate_verify_peers)
#define gnutls_certificate_verification_status_print                                                         \
  BERTH_GNUTLS_FN(gnutls_certificate_verification_status_print)
#define gnutls_x509_crt_list_import2               BERTH_GNUTLS_FN(gnutls_x509_crt_list_import2)
#define gnutls_x509_crt_deinit                     BERTH_GNUTLS_FN(gnutls_x509_crt_deinit)
#define gnutls_x509_crt_get_expiration_time        BERTH_GNUTLS_FN(gnutls_x509_crt_get_expiration_time)
#define gnutls_x509_privkey_init                   BERTH_GNUTLS_FN(gnutls_x509_privkey_init)
#define gnutls_x509_privkey_import2                BERTH_GNUTLS_FN(gnutls_x509_privkey_import2)
#define gnutls_x509_privkey_deinit                 BERTH_GNUTLS_FN(gnutls_x509_privkey_deinit)
#define gnutls_init                                BERTH_GNUTLS_FN(gnutls_init)
#define gnutls_deinit                              BERTH_GNUTLS_FN(gnutls_deinit)
#define gnutls_priority_set_direct                 BERTH_GNUTLS_FN(gnutls_priority_set_direct)
#define gnutls_credentials_set                     BERTH_GNUTLS_FN(gnutls_credentials_set)
#define gnutls_transport_set_int2                  BERTH_GNUTLS_FN(gnutls_transport_set_int2)
#define gnutls_transport_set_pull_function         BERTH_GNUTLS_FN(gnutls_transport_set_pull_function)
#define gnutls_transport_set_pull_timeout_function BERTH_GNUTLS_FN(gnutls_transport_set_pull_timeout_function)
#define gnutls_transport_set_ptr2                  BERTH_GNUTLS_FN(gnutls_transport_set_ptr2)
#define gnutls_handshake                           BERTH_GNUTLS_FN(gnutls_handshake)
#define gnutls_record_recv                         BERTH_GNUTLS_FN(gnutls_record_recv)
#define gnutls_record_send                         BERTH_GNUTLS_FN(gnutls_record_send)
#define gnutls_record_get_direction                BERTH_GNUTLS_FN(gnutls_record_get_direction)
#define gnutls_bye                                 BERTH_GNUTLS_FN(gnutls_bye)
#define gnutls_session_set_ptr                     BERTH_GNUTLS_FN(gnutls_session_set_ptr)
#define gnutls_session_get_ptr                     BERTH_GNUTLS_FN(gnutls_session_get_ptr)
#define gnutls_alert_send_appropriate              BERTH_GNUTLS_FN(gnutls_alert_send_appropriate)
/* a variable of the library (a pointer to its free function), not a function */
#undef gnutls_free
#define gnutls_free (*(gnutls_free_function *) berth_gnutls_sym("gnutls_free"))
#endif

#endif
