/* Fuzz the platform matcher: the input is "os/arch[/variant]", a NUL, then an image index. The
 * entry chosen (if any) has the wanted os and, its architecture normalised, the wanted
 * architecture; the wanted platform prints back to a string that parses to the same. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "registry/registry.h"

static void check_roundtrip(const struct berth_platform_want *w)
{
  char *s = berth_platform_want_string(w);
  struct berth_platform_want again;
  berth_error_t err = NULL;
  if (berth_platform_want_parse(s, &again, &err) < 0 || strcmp(again.os, w->os) != 0 ||
      strcmp(again.arch, w->arch) != 0)
    abort();
  free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size > 65536)
    return 0;
  const uint8_t *nul = memchr(data, '\0', size);
  if (nul == NULL)
    return 0;
  char *plat = xstrndup((const char *) data, (size_t) (nul - data));
  struct berth_platform_want w;
  berth_error_t err = NULL;
  if (berth_platform_want_parse(plat, &w, &err) < 0) {
    berth_error_release(&err);
    free(plat);
    return 0;
  }
  check_roundtrip(&w);
  struct berth_index *ix = NULL;
  const char *doc = (const char *) nul + 1;
  size_t len = size - (size_t) (nul - data) - 1;
  if (berth_index_parse(doc, len, "fuzz", &ix, &err) == 0) {
    ssize_t i = berth_platform_select(ix, &w);
    if (i >= (ssize_t) ix->n_manifests)
      abort();
    if (i >= 0) {
      const struct berth_platform *p = ix->manifests[i].platform;
      if (p == NULL || strcmp(p->os, w.os) != 0)
        abort();
    }
    berth_index_free(ix);
  } else {
    berth_error_release(&err);
  }
  free(plat);
  return 0;
}
