#include "unit.h"

#include <stdlib.h>
#include <string.h>

#include "base/sha256.h"

static void check_hex(const uint8_t d[BERTH_SHA256_LEN], const char *want)
{
  char hex[BERTH_SHA256_HEX_LEN + 1];
  assert_string_equal(berth_sha256_hex(d, hex), want);
}

static void test_fips_vectors(void **state)
{
  uint8_t d[BERTH_SHA256_LEN];
  berth_sha256("abc", 3, d);
  check_hex(d, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  berth_sha256("", 0, d);
  check_hex(d, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  const char *m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  berth_sha256(m448, strlen(m448), d);
  check_hex(d, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  const char *m896 = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopq"
                     "rlmnopqrsmnopqrstnopqrstu";
  berth_sha256(m896, strlen(m896), d);
  check_hex(d, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

static void test_million_a(void **state)
{
  uint8_t d[BERTH_SHA256_LEN];
  char chunk[1000];
  memset(chunk, 'a', sizeof chunk);
  struct berth_sha256_ctx c;
  berth_sha256_init(&c);
  for (int i = 0; i < 1000; i++)
    berth_sha256_update(&c, chunk, sizeof chunk);
  berth_sha256_final(&c, d);
  check_hex(d, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

/* incremental hashing with every split point (and odd chunk sizes across block
 * boundaries) gives the one-shot digest */
static void test_incremental_splits(void **state)
{
  uint8_t msg[200], want[BERTH_SHA256_LEN], got[BERTH_SHA256_LEN];
  for (size_t i = 0; i < sizeof msg; i++)
    msg[i] = (uint8_t) (i * 7 + 3);
  for (size_t len = 0; len <= sizeof msg; len += 13) {
    berth_sha256(msg, len, want);
    for (size_t step = 1; step <= 67; step += 11) {
      struct berth_sha256_ctx c;
      berth_sha256_init(&c);
      for (size_t off = 0; off < len; off += step)
        berth_sha256_update(&c, msg + off, len - off < step ? len - off : step);
      berth_sha256_final(&c, got);
      assert_memory_equal(got, want, sizeof want);
    }
  }
  /* lengths around the padding boundary (55, 56, 63, 64 bytes) */
  const char *m55 = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
  berth_sha256(m55, 55, got);
  check_hex(got, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
  berth_sha256("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 64, got);
  check_hex(got, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
}

/* the SHA extensions and the portable code agree on every length around the block size
 * and on large inputs hashed in odd pieces */
static void test_accelerated_matches_portable(void **state)
{
  if (!berth_sha256_accelerated(false))
    skip(); /* no SHA-NI on this CPU: only the portable code runs */
  size_t big = 3 * 1024 * 1024 + 17;
  uint8_t *msg = malloc(big);
  assert_non_null(msg);
  uint32_t x = 2463534242U;
  for (size_t i = 0; i < big; i++) {
    x ^= x << 13, x ^= x >> 17, x ^= x << 5;
    msg[i] = (uint8_t) x;
  }
  uint8_t fast[BERTH_SHA256_LEN], slow[BERTH_SHA256_LEN];
  for (size_t len = 0; len <= 1100; len++) {
    berth_sha256_accelerated(false);
    berth_sha256(msg, len, fast);
    berth_sha256_accelerated(true);
    berth_sha256(msg + 1, len, slow); /* unaligned, a different message... */
    berth_sha256(msg, len, slow);     /* ...then the same one */
    assert_memory_equal(fast, slow, sizeof fast);
  }
  for (size_t step = 1; step < 200000; step = step * 7 + 3) {
    struct berth_sha256_ctx c;
    berth_sha256_accelerated(false);
    berth_sha256_init(&c);
    for (size_t off = 0; off < big; off += step)
      berth_sha256_update(&c, msg + off, big - off < step ? big - off : step);
    berth_sha256_final(&c, fast);
    berth_sha256_accelerated(true);
    berth_sha256(msg, big, slow);
    assert_memory_equal(fast, slow, sizeof fast);
  }
  berth_sha256_accelerated(false);
  free(msg);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_fips_vectors),
    cmocka_unit_test(test_million_a),
    cmocka_unit_test(test_incremental_splits),
    cmocka_unit_test(test_accelerated_matches_portable),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
