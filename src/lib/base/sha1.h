/* SHA-1 (FIPS 180-4, RFC 3174), dependency-free and small: only for the websocket handshake
 * (RFC 6455's Sec-WebSocket-Accept), where linking libcrypto would cost every `berth` start.
 * Not for anything that needs collision resistance. */
#ifndef BERTH_BASE_SHA1_H
#define BERTH_BASE_SHA1_H

#include <stddef.h>
#include <stdint.h>

#define BERTH_SHA1_LEN 20

struct berth_sha1_ctx {
  uint32_t h[5];
  uint64_t total; /* bytes hashed so far */
  uint8_t block[64];
  size_t used; /* bytes pending in block */
};

void berth_sha1_init(struct berth_sha1_ctx *c);
void berth_sha1_update(struct berth_sha1_ctx *c, const void *data, size_t len);
void berth_sha1_final(struct berth_sha1_ctx *c, uint8_t out[BERTH_SHA1_LEN]);
/* one-shot */
void berth_sha1(const void *data, size_t len, uint8_t out[BERTH_SHA1_LEN]);

#endif
