/* Fuzz the WWW-Authenticate parser (berth_auth_challenges_parse): the input is one header value.
 * Accepted: at least one challenge, each with a non-empty lower-case scheme; refused: an error
 * that names the header. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "registry/registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size > 8192 || memchr(data, '\0', size) != NULL)
    return 0;
  char *s = xstrndup((const char *) data, size);
  struct berth_auth_challenge *c = NULL;
  size_t n = 0;
  berth_error_t err = NULL;
  if (berth_auth_challenges_parse(s, &c, &n, &err) < 0) {
    if (err == NULL || strncmp(err->msg, "www-authenticate: ", 18) != 0)
      abort();
    berth_error_release(&err);
  } else {
    if (n == 0 || c == NULL)
      abort();
    for (size_t i = 0; i < n; i++) {
      if (c[i].scheme == NULL || c[i].scheme[0] == '\0')
        abort();
      for (const char *p = c[i].scheme; *p; p++)
        if (isupper((unsigned char) *p))
          abort();
    }
    berth_auth_challenges_free(c, n);
  }
  free(s);
  return 0;
}
