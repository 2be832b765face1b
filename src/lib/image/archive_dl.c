/* libarchive loaded on first use (image/archive_dl.h, base/dl.h). */
#define BERTH_ARCHIVE_DL_NO_MACROS /* the real names here: this file defines the wrappers */
#include "image/archive_dl.h"

#include "base/dl.h"

/* Debian 12's libarchive13; the unversioned name (libarchive-dev) as a fallback */
static const char *const sonames[] = { "libarchive.so.13", "libarchive.so", NULL };
static struct berth_dl dl = BERTH_DL("libarchive", sonames, NULL);

int berth_archive_load(berth_error_t *err) { return berth_dl_load(&dl, err); }

void *berth_archive_sym(const char *name) { return berth_dl_sym(&dl, name); }

/* the constructors: NULL when the library cannot be loaded (as when out of memory) */
#define CONSTRUCTOR(type, ours, theirs)                                                                      \
  type *ours(void)                                                                                           \
  {                                                                                                          \
    static type *(*fn)(void);                                                                                \
    if (fn == NULL) {                                                                                        \
      berth_error_t err = NULL;                                                                              \
      if (berth_dl_load(&dl, &err) < 0) {                                                                    \
        berth_error_release(&err);                                                                           \
        return NULL;                                                                                         \
      }                                                                                                      \
      fn = (type * (*) (void) ) berth_dl_sym(&dl, #theirs);                                                  \
    }                                                                                                        \
    return fn();                                                                                             \
  }

CONSTRUCTOR(struct archive, berth_archive_read_new, archive_read_new)
CONSTRUCTOR(struct archive, berth_archive_write_new, archive_write_new)
CONSTRUCTOR(struct archive_entry, berth_archive_entry_new, archive_entry_new)
