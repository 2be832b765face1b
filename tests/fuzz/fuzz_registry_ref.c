/* Fuzz the registries configuration and the reference normaliser: the input is a
 * registries.json document, a NUL, then a reference. An accepted configuration normalises the
 * reference to something that parses again to itself; insecure/mirror lookups never crash. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "registry/registry.h"

static void check_ref(const struct berth_registry_conf *c, const char *s)
{
  struct berth_ref r;
  berth_error_t err = NULL;
  if (berth_registry_normalize(c, s, &r, &err) < 0) {
    if (err == NULL || err->msg == NULL)
      abort();
    berth_error_release(&err);
    return;
  }
  char *full = berth_ref_string(&r);
  struct berth_ref again;
  if (berth_ref_parse(full, &again, &err) < 0) {
    fprintf(stderr, "`%s` normalised to `%s`, which does not parse: %s\n", s, full, err->msg);
    abort();
  }
  char *full2 = berth_ref_string(&again);
  if (strcmp(full, full2) != 0)
    abort();
  (void) berth_registry_is_insecure(c, r.registry);
  (void) berth_registry_mirrors(c, r.registry);
  char *wire = berth_registry_wire_host(r.registry);
  free(wire);
  free(full);
  free(full2);
  berth_ref_release(&r);
  berth_ref_release(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size > 65536)
    return 0;
  const uint8_t *nul = memchr(data, '\0', size);
  size_t jlen = nul ? (size_t) (nul - data) : size;
  struct berth_registry_conf c;
  berth_error_t err = NULL;
  if (berth_registry_conf_parse((const char *) data, jlen, "registries.json", &c, &err) < 0) {
    if (err == NULL)
      abort();
    berth_error_release(&err);
    memset(&c, 0, sizeof c);
  }
  if (nul != NULL && memchr(nul + 1, '\0', size - jlen - 1) == NULL) {
    char *ref = xstrndup((const char *) nul + 1, size - jlen - 1);
    check_ref(&c, ref);
    free(ref);
  }
  berth_registry_conf_release(&c);
  return 0;
}
