#include "base/sha256.h"

#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#endif

static const uint32_t K[64] = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static inline uint32_t ror(uint32_t x, unsigned n) { return (x >> n) | (x << (32 - n)); }

static void compress_portable(uint32_t h[8], const uint8_t *p)
{
  uint32_t w[64];
  for (int i = 0; i < 16; i++)
    w[i] = (uint32_t) p[4 * i] << 24 | (uint32_t) p[4 * i + 1] << 16 | (uint32_t) p[4 * i + 2] << 8 |
           (uint32_t) p[4 * i + 3];
  for (int i = 16; i < 64; i++) {
    uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
    uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
  for (int i = 0; i < 64; i++) {
    uint32_t t1 = k + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
    uint32_t t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
    k = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  h[0] += a;
  h[1] += b;
  h[2] += c;
  h[3] += d;
  h[4] += e;
  h[5] += f;
  h[6] += g;
  h[7] += k;
}

#if defined(__x86_64__)
/* The SHA extensions (SHA-NI): two rounds per sha256rnds2, the message schedule with
 * sha256msg1/msg2. The state lives as ABEF and CDGH in two registers. ~5x the portable
 * code; OpenSSL's speed without linking OpenSSL (0.5 ms of every `berth` start). */
__attribute__((target("sha,sse4.1"))) static void compress_shani(uint32_t h[8], const uint8_t *p,
                                                                 size_t blocks)
{
  const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
  __m128i dcba = _mm_loadu_si128((const __m128i *) &h[0]);
  __m128i hgfe = _mm_loadu_si128((const __m128i *) &h[4]);
  __m128i badc = _mm_shuffle_epi32(dcba, 0xB1);
  __m128i efgh = _mm_shuffle_epi32(hgfe, 0x1B);
  __m128i abef = _mm_alignr_epi8(badc, efgh, 8);
  __m128i cdgh = _mm_blend_epi16(efgh, badc, 0xF0);
  for (; blocks > 0; blocks--, p += 64) {
    __m128i abef0 = abef, cdgh0 = cdgh, m[4];
    for (int i = 0; i < 16; i++) {
      __m128i w;
      if (i < 4) {
        w = m[i] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *) (p + 16 * i)), bswap);
      } else {
        /* W[t..t+3] from W[t-16..t-13] (m[i%4]), W[t-12..] (next), W[t-8..], W[t-4..t-1] */
        __m128i t = _mm_sha256msg1_epu32(m[i % 4], m[(i + 1) % 4]);
        t = _mm_add_epi32(t, _mm_alignr_epi8(m[(i + 3) % 4], m[(i + 2) % 4], 4));
        w = m[i % 4] = _mm_sha256msg2_epu32(t, m[(i + 3) % 4]);
      }
      __m128i wk = _mm_add_epi32(w, _mm_loadu_si128((const __m128i *) &K[4 * i]));
      cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk);
      abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(wk, 0x0E));
    }
    abef = _mm_add_epi32(abef, abef0);
    cdgh = _mm_add_epi32(cdgh, cdgh0);
  }
  __m128i feba = _mm_shuffle_epi32(abef, 0x1B);
  __m128i dchg = _mm_shuffle_epi32(cdgh, 0xB1);
  _mm_storeu_si128((__m128i *) &h[0], _mm_blend_epi16(feba, dchg, 0xF0));
  _mm_storeu_si128((__m128i *) &h[4], _mm_alignr_epi8(dchg, feba, 8));
}

static bool portable_only;

/* CPUID once, on the first digest: SHA (leaf 7 EBX bit 29), SSSE3 and SSE4.1 (leaf 1 ECX) */
static bool have_shani(void)
{
  static int known = -1;
  if (known < 0) {
    unsigned int a, b, c, d;
    bool sse = __get_cpuid(1, &a, &b, &c, &d) && (c & bit_SSSE3) && (c & bit_SSE4_1);
    known = sse && __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & bit_SHA);
  }
  return known && !portable_only;
}
#endif

bool berth_sha256_accelerated(bool portable)
{
#if defined(__x86_64__)
  portable_only = portable;
  return have_shani();
#else
  (void) portable;
  return false;
#endif
}

static void compress(uint32_t h[8], const uint8_t *p, size_t blocks)
{
#if defined(__x86_64__)
  if (have_shani()) {
    compress_shani(h, p, blocks);
    return;
  }
#endif
  for (; blocks > 0; blocks--, p += 64)
    compress_portable(h, p);
}

void berth_sha256_init(struct berth_sha256_ctx *c)
{
  static const uint32_t iv[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                  0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
  memcpy(c->h, iv, sizeof iv);
  c->total = 0;
  c->used = 0;
}

void berth_sha256_update(struct berth_sha256_ctx *c, const void *data, size_t len)
{
  const uint8_t *p = data;
  c->total += len;
  if (c->used > 0) {
    size_t take = 64 - c->used < len ? 64 - c->used : len;
    memcpy(c->block + c->used, p, take);
    c->used += take;
    p += take;
    len -= take;
    if (c->used < 64)
      return;
    compress(c->h, c->block, 1);
    c->used = 0;
  }
  compress(c->h, p, len / 64);
  p += len / 64 * 64;
  len %= 64;
  memcpy(c->block, p, len);
  c->used = len;
}

void berth_sha256_final(struct berth_sha256_ctx *c, uint8_t out[BERTH_SHA256_LEN])
{
  uint64_t bits = c->total * 8;
  c->block[c->used++] = 0x80;
  if (c->used > 56) {
    memset(c->block + c->used, 0, 64 - c->used);
    compress(c->h, c->block, 1);
    c->used = 0;
  }
  memset(c->block + c->used, 0, 56 - c->used);
  for (int i = 0; i < 8; i++)
    c->block[56 + i] = (uint8_t) (bits >> (56 - 8 * i));
  compress(c->h, c->block, 1);
  for (int i = 0; i < 8; i++) {
    out[4 * i] = (uint8_t) (c->h[i] >> 24);
    out[4 * i + 1] = (uint8_t) (c->h[i] >> 16);
    out[4 * i + 2] = (uint8_t) (c->h[i] >> 8);
    out[4 * i + 3] = (uint8_t) c->h[i];
  }
  memset(c, 0, sizeof *c);
}

void berth_sha256(const void *data, size_t len, uint8_t out[BERTH_SHA256_LEN])
{
  struct berth_sha256_ctx c;
  berth_sha256_init(&c);
  berth_sha256_update(&c, data, len);
  berth_sha256_final(&c, out);
}

char *berth_sha256_hex(const uint8_t digest[BERTH_SHA256_LEN], char hex[BERTH_SHA256_HEX_LEN + 1])
{
  static const char digits[] = "0123456789abcdef";
  for (int i = 0; i < BERTH_SHA256_LEN; i++) {
    hex[2 * i] = digits[digest[i] >> 4];
    hex[2 * i + 1] = digits[digest[i] & 0xf];
  }
  hex[BERTH_SHA256_HEX_LEN] = '\0';
  return hex;
}
