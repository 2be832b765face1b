/* Docker's detach keys (Ctrl-P Ctrl-Q, or --detach-keys): the bytes typed on a terminal are
 * passed on until they complete the sequence; a partial sequence is held back and passed on
 * when the next byte does not continue it (docker's term.EscapeProxy). */
#include <string.h>

#include "container_cmd.h"

int detach_keys_init(struct detach_keys *d, const char *spec, berth_error_t *err)
{
  memset(d, 0, sizeof *d);
  if (berth_runopts_parse_detach_keys(spec ? spec : BERTH_DETACH_KEYS_DEFAULT, d->keys, &d->n) < 0)
    return BERTH_ERR(err,
                     "--detach-keys: invalid detach keys `%s` (a comma-separated list: a letter, or "
                     "ctrl-<a-z, @, [, \\, ], ^ or _>)",
                     spec);
  return 0;
}

size_t detach_keys_filter(struct detach_keys *d, const char *in, size_t n, char *out, bool *detached)
{
  size_t k = 0;
  *detached = false;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char) in[i];
    if (c == d->keys[d->matched]) {
      if (++d->matched == d->n) {
        *detached = true;
        d->matched = 0;
        return k;
      }
      continue;
    }
    memcpy(out + k, d->keys, d->matched); /* held back: not the sequence after all */
    k += d->matched;
    d->matched = 0;
    if (c == d->keys[0] && d->n > 1) {
      d->matched = 1;
      continue;
    }
    if (c == d->keys[0]) {
      *detached = true;
      return k;
    }
    out[k++] = (char) c;
  }
  return k;
}
