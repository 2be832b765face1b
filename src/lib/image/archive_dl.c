/* libarchive loaded on first use (image/archive_dl.h). */
#define BERTH_ARCHIVE_DL_NO_MACROS /* the real names here: this file defines the wrappers */
#include "image/archive_dl.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/xalloc.h"

/* Debian 12's libarchive13; the unversioned name (libarchive-dev) as a fallback */
static const char *const sonames[] = { "libarchive.so.13", "libarchive.so" };
static void *lib;

static const char *load_error;

static int load(void)
{
  if (lib)
    return 0;
  for (size_t i = 0; i < sizeof sonames / sizeof sonames[0] && lib == NULL; i++) {
    lib = dlopen(sonames[i], RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL && i == 0) {
      const char *e = dlerror();
      load_error = e ? xstrdup(e) : "not found";
    }
  }
  return lib ? 0 : -1;
}

int berth_archive_load(berth_error_t *err)
{
  if (load() < 0)
    return berth_error_make(err, ELIBACC, "cannot load libarchive (%s: %s)", sonames[0], load_error);
  return 0;
}

void *berth_archive_sym(const char *name)
{
  void *p = load() == 0 ? dlsym(lib, name) : NULL;
  if (p == NULL) {
    fprintf(stderr, "berth: libarchive: no `%s` (%s)\n", name, lib ? "too old a libarchive?" : load_error);
    abort();
  }
  return p;
}

#define CONSTRUCTOR(type, ours, theirs)                                                                      \
  type *ours(void)                                                                                           \
  {                                                                                                          \
    static type *(*fn)(void);                                                                                \
    if (fn == NULL) {                                                                                        \
      if (load() < 0)                                                                                        \
        return NULL;                                                                                         \
      fn = (type * (*) (void) ) berth_archive_sym(#theirs);                                                  \
    }                                                                                                        \
    return fn();                                                                                             \
  }

CONSTRUCTOR(struct archive, berth_archive_read_new, archive_read_new)
CONSTRUCTOR(struct archive, berth_archive_write_new, archive_write_new)
CONSTRUCTOR(struct archive_entry, berth_archive_entry_new, archive_entry_new)
