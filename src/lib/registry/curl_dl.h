/* libcurl, loaded when a registry is first spoken to (dlopen) instead of at every start of
 * `berth`: Debian's libcurl drags OpenSSL, Kerberos, LDAP, libssh2, nghttp2 and more in, whose
 * loading and initialisation every command would pay (`berth run` included), though only
 * pull, push, login and manifest use them. The same scheme as image/archive_dl.h: include this
 * header instead of <curl/curl.h>, call berth_curl_load() before the first curl_* call (an
 * error value when the library cannot be loaded); every curl_* call then goes through a
 * pointer resolved at its first use. */
#ifndef BERTH_REGISTRY_CURL_DL_H
#define BERTH_REGISTRY_CURL_DL_H

#define CURL_DISABLE_TYPECHECK /* curl_easy_setopt is one of our pointers, not curl's macro */
#include <curl/curl.h>

#include "base/dl.h"
#include "base/error.h"

/* load libcurl once (and curl_global_init it); the error names the library and why */
int berth_curl_load(berth_error_t *err) BERTH_WUR;
/* the symbol NAME of the loaded library (aborts, naming it, if the library lacks it) */
void *berth_curl_sym(const char *name);

#define BERTH_CURL_FN(name) BERTH_DL_FN(berth_curl_sym, name)

#ifndef BERTH_CURL_DL_NO_MACROS
#undef curl_easy_setopt /* curl.h's pass-through macros */
#undef curl_easy_getinfo
#define curl_easy_init           BERTH_CURL_FN(curl_easy_init)
#define curl_easy_setopt         BERTH_CURL_FN(curl_easy_setopt)
#define curl_easy_getinfo        BERTH_CURL_FN(curl_easy_getinfo)
#define curl_easy_perform        BERTH_CURL_FN(curl_easy_perform)
#define curl_easy_cleanup        BERTH_CURL_FN(curl_easy_cleanup)
#define curl_easy_strerror       BERTH_CURL_FN(curl_easy_strerror)
#define curl_easy_escape         BERTH_CURL_FN(curl_easy_escape)
#define curl_easy_pause          BERTH_CURL_FN(curl_easy_pause)
#define curl_free                BERTH_CURL_FN(curl_free)
#define curl_slist_append        BERTH_CURL_FN(curl_slist_append)
#define curl_slist_free_all      BERTH_CURL_FN(curl_slist_free_all)
#define curl_multi_init          BERTH_CURL_FN(curl_multi_init)
#define curl_multi_add_handle    BERTH_CURL_FN(curl_multi_add_handle)
#define curl_multi_remove_handle BERTH_CURL_FN(curl_multi_remove_handle)
#define curl_multi_perform       BERTH_CURL_FN(curl_multi_perform)
#define curl_multi_info_read     BERTH_CURL_FN(curl_multi_info_read)
#define curl_multi_poll          BERTH_CURL_FN(curl_multi_poll)
#define curl_multi_cleanup       BERTH_CURL_FN(curl_multi_cleanup)
#endif

#endif
