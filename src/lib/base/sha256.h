/* SHA-256 (FIPS 180-4), dependency-free: the portable code, or the CPU's SHA extensions
 * (x86-64 SHA-NI, detected on first use) at OpenSSL's speed for the engine's layer digests
 * without linking OpenSSL. */
#ifndef BERTH_BASE_SHA256_H
#define BERTH_BASE_SHA256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BERTH_SHA256_LEN     32
#define BERTH_SHA256_HEX_LEN 64

struct berth_sha256_ctx {
  uint32_t h[8];
  uint64_t total; /* bytes hashed so far */
  uint8_t block[64];
  size_t used; /* bytes pending in block */
};

void berth_sha256_init(struct berth_sha256_ctx *c);
void berth_sha256_update(struct berth_sha256_ctx *c, const void *data, size_t len);
void berth_sha256_final(struct berth_sha256_ctx *c, uint8_t out[BERTH_SHA256_LEN]);
/* one-shot */
void berth_sha256(const void *data, size_t len, uint8_t out[BERTH_SHA256_LEN]);
/* Whether digests use the CPU's SHA extensions; `portable` true makes them use the
 * portable code from now on (tests compare the two), false lets them use the CPU's. */
bool berth_sha256_accelerated(bool portable);
/* lower-case hex of a digest into hex[65] (NUL-terminated); returns hex */
char *berth_sha256_hex(const uint8_t digest[BERTH_SHA256_LEN], char hex[BERTH_SHA256_HEX_LEN + 1]);

#endif
