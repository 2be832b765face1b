/* Shared libraries loaded on first use (base/dl.h). */
#include "base/dl.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/xalloc.h"

int berth_dl_load(struct berth_dl *d, berth_error_t *err)
{
  pthread_mutex_lock(&d->lock);
  if (!d->tried) {
    d->tried = true;
    for (size_t i = 0; d->sonames[i] && d->lib == NULL; i++) {
      d->lib = dlopen(d->sonames[i], RTLD_NOW | RTLD_LOCAL);
      if (d->lib == NULL && i == 0) {
        const char *e = dlerror();
        d->error = xstrdup(e ? e : "not found");
      }
    }
    const char *why = d->lib && d->init ? d->init(d->lib) : NULL;
    if (why) {
      free(d->error);
      d->error = xstrdup(why);
      d->lib = NULL; /* left mapped: a library that failed its initialisation is not unloaded */
    }
  }
  void *lib = d->lib;
  pthread_mutex_unlock(&d->lock);
  if (lib == NULL)
    return berth_error_make(err, ELIBACC, "cannot load %s (%s: %s)", d->what, d->sonames[0], d->error);
  return 0;
}

void *berth_dl_sym(struct berth_dl *d, const char *name)
{
  berth_error_t err = NULL;
  void *p = berth_dl_load(d, &err) == 0 ? dlsym(d->lib, name) : NULL;
  if (p == NULL) {
    fprintf(stderr, "berth: %s: no `%s` (%s)\n", d->what, name, err ? err->msg : "an older library?");
    abort();
  }
  return p;
}
