/* Fuzz the service's PEM scan and checks (src/lib/api/tls_check.c): the bytes are a file given
 * as --tlscert, --tlskey or --tlscacert. Invariants: the scan stays inside the bytes (no NUL is
 * assumed), every counted block is a block, and each check fails with a message naming the flag
 * and the path, or succeeds only when the file holds what its kind asks for. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "base/xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *copy = xmalloc(size ? size : 1); /* exactly size bytes: ASan sees a read past the end */
  memcpy(copy, data, size);
  struct berth_api_pem_info pi;
  berth_api_pem_scan(copy, size, &pi);
  if (pi.certs + pi.keys + pi.encrypted_keys > pi.blocks)
    abort();
  static const enum berth_api_pem_kind kinds[] = { BERTH_API_PEM_CERT, BERTH_API_PEM_KEY, BERTH_API_PEM_CA };
  for (size_t i = 0; i < 3; i++) {
    berth_error_t err = NULL;
    int r = berth_api_pem_check("--tlsx", "/p.pem", copy, size, kinds[i], &err);
    if (r < 0 && (err == NULL || strstr(err->msg, "--tlsx `/p.pem`") == NULL))
      abort();
    if (r == 0 &&
        (err != NULL || pi.unterminated || (kinds[i] == BERTH_API_PEM_KEY ? pi.keys != 1 : pi.certs == 0)))
      abort();
    berth_error_release(&err);
  }
  free(copy);
  return 0;
}
