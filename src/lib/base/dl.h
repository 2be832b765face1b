/* Shared libraries loaded when first needed (dlopen) instead of at every start of `berth`:
 * libarchive (image/archive_dl.h), libcurl (registry/curl_dl.h), libmicrohttpd
 * (api/mhd_dl.h) and GnuTLS (api/gnutls_dl.h) drag in dozens of libraries whose loading and
 * initialisation every command would pay. Each of those headers is included instead of the
 * library's own; it maps each function name to a pointer resolved at its first call through
 * BERTH_DL_FN. Thread-safe (pulls load in threads). Never used by berth-runtime. */
#ifndef BERTH_BASE_DL_H
#define BERTH_BASE_DL_H

#include <pthread.h>
#include <stdbool.h>

#include "base/error.h"

struct berth_dl {
  const char *what;            /* the library as messages name it: "libcurl" */
  const char *const *sonames;  /* tried in order, NULL-terminated; the first is the one named */
  const char *(*init)(void *); /* after dlopen (curl_global_init, ...): NULL, or why it failed */
  pthread_mutex_t lock;
  bool tried;
  void *lib;
  char *error; /* why it is not loaded */
};
#define BERTH_DL(what, sonames, init)                                                                        \
  {                                                                                                          \
    (what), (sonames), (init), PTHREAD_MUTEX_INITIALIZER, false, NULL, NULL                                  \
  }

/* load it once; the error names the library, its first soname and why */
int berth_dl_load(struct berth_dl *d, berth_error_t *err) BERTH_WUR;
/* the symbol NAME of the loaded library; aborts, naming both, when it cannot be had (a
 * programming error: every caller loaded the library first) */
void *berth_dl_sym(struct berth_dl *d, const char *name);

/* the function NAME through the pointer SYM (a berth_*_sym of one of the headers above) gives,
 * resolved once */
#define BERTH_DL_FN(sym, name)                                                                               \
  (*({                                                                                                       \
    static __typeof__(&name) berth_fn_;                                                                      \
    if (berth_fn_ == NULL)                                                                                   \
      berth_fn_ = (__typeof__(&name)) sym(#name);                                                            \
    berth_fn_;                                                                                               \
  }))

#endif
