/* Fuzz the retry planner: the input is a policy (3 numbers), an attempt, a status and a
 * Retry-After value. A plan is -1 or within [0, the cap]; never a retry for a status that
 * will not change, nor beyond the attempts allowed. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "registry/registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 12 || size > 512)
    return 0;
  struct berth_retry_policy p = { data[0] % 16, (int64_t) data[1] * 10,
                                  (int64_t) (data[2] | data[3] << 8) * 10 };
  struct berth_retry_input in = { data[4] % 32, (long) (data[5] | data[6] << 8) % 700, data[7] & 1, NULL,
                                  (int64_t) data[8] << 24 | data[9] << 16 | data[10] << 8 | data[11] };
  char *ra = size > 12 && memchr(data + 12, '\0', size - 12) == NULL
               ? xstrndup((const char *) data + 12, size - 12)
               : NULL;
  in.retry_after = ra;
  int64_t d = berth_retry_plan(&p, &in);
  int64_t cap = p.max_delay_ms > 0 ? p.max_delay_ms : 10000;
  int max = p.max_attempts > 0 ? p.max_attempts : 5;
  bool retriable = in.transport_error || in.status == 408 || in.status == 429 || in.status == 500 ||
                   in.status == 502 || in.status == 503 || in.status == 504;
  if (d < -1 || d > cap)
    abort();
  if (d >= 0 && (!retriable || in.attempt >= max || in.attempt < 1))
    abort();
  free(ra);
  return 0;
}
