#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/sha1.h"

static void check_hex(const uint8_t d[BERTH_SHA1_LEN], const char *want)
{
  char hex[2 * BERTH_SHA1_LEN + 1];
  for (int i = 0; i < BERTH_SHA1_LEN; i++)
    snprintf(hex + 2 * i, 3, "%02x", d[i]);
  assert_string_equal(hex, want);
}

/* FIPS 180 / RFC 3174's test vectors */
static void test_vectors(void **state)
{
  uint8_t d[BERTH_SHA1_LEN];
  berth_sha1("abc", 3, d);
  check_hex(d, "a9993e364706816aba3e25717850c26c9cd0d89d");
  berth_sha1("", 0, d);
  check_hex(d, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  const char *m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  berth_sha1(m448, strlen(m448), d);
  check_hex(d, "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  const char *m896 = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopq"
                     "rlmnopqrsmnopqrstnopqrstu";
  berth_sha1(m896, strlen(m896), d);
  check_hex(d, "a49b2446a02c645bf419f995b67091253a04a259");
}

static void test_million_a_and_rfc3174_4(void **state)
{
  uint8_t d[BERTH_SHA1_LEN];
  char chunk[1000];
  memset(chunk, 'a', sizeof chunk);
  struct berth_sha1_ctx c;
  berth_sha1_init(&c);
  for (int i = 0; i < 1000; i++)
    berth_sha1_update(&c, chunk, sizeof chunk);
  berth_sha1_final(&c, d);
  check_hex(d, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
  const char *t4 = "0123456701234567012345670123456701234567012345670123456701234567";
  berth_sha1_init(&c);
  for (int i = 0; i < 10; i++)
    berth_sha1_update(&c, t4, strlen(t4));
  berth_sha1_final(&c, d);
  check_hex(d, "dea356a2cddd90c7a7ecedc5ebb563934f460452");
}

/* incremental hashing with every split gives the one-shot digest (lengths around the padding
 * boundary at 55/56/64 bytes included) */
static void test_incremental_splits(void **state)
{
  uint8_t msg[200], want[BERTH_SHA1_LEN], got[BERTH_SHA1_LEN];
  for (size_t i = 0; i < sizeof msg; i++)
    msg[i] = (uint8_t) (i * 7 + 3);
  for (size_t len = 0; len <= sizeof msg; len++) {
    berth_sha1(msg, len, want);
    for (size_t step = 1; step <= 67; step += 11) {
      struct berth_sha1_ctx c;
      berth_sha1_init(&c);
      for (size_t off = 0; off < len; off += step)
        berth_sha1_update(&c, msg + off, len - off < step ? len - off : step);
      berth_sha1_final(&c, got);
      assert_memory_equal(got, want, sizeof want);
    }
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_vectors),
    cmocka_unit_test(test_million_a_and_rfc3174_4),
    cmocka_unit_test(test_incremental_splits),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
