/* SHA-256 digests ("sha256:<64 hex>"), base/sha256 (the CPU's SHA extensions where it has them). */
#ifndef BERTH_IMAGE_DIGEST_H
#define BERTH_IMAGE_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define BERTH_DIGEST_LEN 71 /* "sha256:" + 64 hex */

typedef struct berth_digester berth_digester_t;
berth_digester_t *berth_digester_new(void);
void berth_digester_update(berth_digester_t *d, const void *data, size_t len);
/* out: "sha256:<hex>" NUL-terminated (BERTH_DIGEST_LEN + 1 bytes); the digester can be freed after */
void berth_digester_final(berth_digester_t *d, char out[BERTH_DIGEST_LEN + 1]);
void berth_digester_free(berth_digester_t *d);

void berth_digest_bytes(const void *data, size_t len, char out[BERTH_DIGEST_LEN + 1]);
/* validate "sha256:<64 lower-case hex>"; the error says what is wrong */
int berth_digest_validate(const char *digest, berth_error_t *err) BERTH_WUR;
/* the hex part of a valid digest */
const char *berth_digest_hex(const char *digest);

#endif
