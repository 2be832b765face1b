#include "base/sha1.h"

#include <string.h>

static inline uint32_t rol(uint32_t x, unsigned n) { return (x << n) | (x >> (32 - n)); }

static void compress(uint32_t h[5], const uint8_t *p)
{
  uint32_t w[80];
  for (int i = 0; i < 16; i++)
    w[i] = (uint32_t) p[4 * i] << 24 | (uint32_t) p[4 * i + 1] << 16 | (uint32_t) p[4 * i + 2] << 8 |
           (uint32_t) p[4 * i + 3];
  for (int i = 16; i < 80; i++)
    w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
  uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
  for (int i = 0; i < 80; i++) {
    uint32_t f, k;
    if (i < 20)
      f = (b & c) | (~b & d), k = 0x5a827999;
    else if (i < 40)
      f = b ^ c ^ d, k = 0x6ed9eba1;
    else if (i < 60)
      f = (b & c) | (b & d) | (c & d), k = 0x8f1bbcdc;
    else
      f = b ^ c ^ d, k = 0xca62c1d6;
    uint32_t t = rol(a, 5) + f + e + k + w[i];
    e = d;
    d = c;
    c = rol(b, 30);
    b = a;
    a = t;
  }
  h[0] += a;
  h[1] += b;
  h[2] += c;
  h[3] += d;
  h[4] += e;
}

void berth_sha1_init(struct berth_sha1_ctx *c)
{
  static const uint32_t iv[5] = { 0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0 };
  memcpy(c->h, iv, sizeof iv);
  c->total = 0;
  c->used = 0;
}

void berth_sha1_update(struct berth_sha1_ctx *c, const void *data, size_t len)
{
  const uint8_t *p = data;
  c->total += len;
  if (c->used) {
    size_t n = 64 - c->used < len ? 64 - c->used : len;
    memcpy(c->block + c->used, p, n);
    c->used += n;
    p += n;
    len -= n;
    if (c->used < 64)
      return;
    compress(c->h, c->block);
    c->used = 0;
  }
  for (; len >= 64; p += 64, len -= 64)
    compress(c->h, p);
  memcpy(c->block, p, len);
  c->used = len;
}

void berth_sha1_final(struct berth_sha1_ctx *c, uint8_t out[BERTH_SHA1_LEN])
{
  uint64_t bits = c->total * 8;
  c->block[c->used++] = 0x80;
  if (c->used > 56) {
    memset(c->block + c->used, 0, 64 - c->used);
    compress(c->h, c->block);
    c->used = 0;
  }
  memset(c->block + c->used, 0, 56 - c->used);
  for (int i = 0; i < 8; i++)
    c->block[56 + i] = (uint8_t) (bits >> (56 - 8 * i));
  compress(c->h, c->block);
  for (int i = 0; i < 5; i++) {
    out[4 * i] = (uint8_t) (c->h[i] >> 24);
    out[4 * i + 1] = (uint8_t) (c->h[i] >> 16);
    out[4 * i + 2] = (uint8_t) (c->h[i] >> 8);
    out[4 * i + 3] = (uint8_t) c->h[i];
  }
}

void berth_sha1(const void *data, size_t len, uint8_t out[BERTH_SHA1_LEN])
{
  struct berth_sha1_ctx c;
  berth_sha1_init(&c);
  berth_sha1_update(&c, data, len);
  berth_sha1_final(&c, out);
}
