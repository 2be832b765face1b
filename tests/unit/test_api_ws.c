/* The websocket frames of GET /containers/{id}/attach/ws (src/lib/api/ws.c, RFC 6455). */
#include "unit.h"

#include <stdlib.h>
#include <string.h>

#include "api/api.h"

static void test_accept(void **state)
{
  char out[BERTH_API_WS_ACCEPT_LEN + 1];
  /* RFC 6455, section 1.3 */
  assert_int_equal(berth_api_ws_accept("dGhlIHNhbXBsZSBub25jZQ==", out), 0);
  assert_string_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  assert_int_equal(berth_api_ws_accept(NULL, out), -1);
  assert_int_equal(berth_api_ws_accept("", out), -1);
  assert_int_equal(berth_api_ws_accept("not base64 at all!!!!!==", out), -1);
  assert_int_equal(berth_api_ws_accept("dGhlIHNhbXBsZSBub25jZQ", out), -1);    /* no padding */
  assert_int_equal(berth_api_ws_accept("dGhlIHNhbXBsZSBub25jZTEy", out), -1);  /* 18 bytes */
  assert_int_equal(berth_api_ws_accept("dGhlIHNhbXBsZSBub25jZQ==x", out), -1); /* trailing */
}

static void test_header_lengths(void **state)
{
  unsigned char h[10];
  assert_int_equal(berth_api_ws_header(h, BERTH_API_WS_BINARY, 5), 2);
  assert_int_equal(h[0], 0x82);
  assert_int_equal(h[1], 5);
  assert_int_equal(berth_api_ws_header(h, BERTH_API_WS_TEXT, 125), 2);
  assert_int_equal(h[1], 125);
  assert_int_equal(berth_api_ws_header(h, BERTH_API_WS_TEXT, 126), 4);
  assert_int_equal(h[0], 0x81);
  assert_int_equal(h[1], 126);
  assert_int_equal(h[2] << 8 | h[3], 126);
  assert_int_equal(berth_api_ws_header(h, BERTH_API_WS_BINARY, 65535), 4);
  assert_int_equal(h[2] << 8 | h[3], 65535);
  assert_int_equal(berth_api_ws_header(h, BERTH_API_WS_BINARY, 65536), 10);
  assert_int_equal(h[1], 127);
  const unsigned char want[8] = { 0, 0, 0, 0, 0, 1, 0, 0 };
  assert_memory_equal(h + 2, want, 8);
}

static void test_close_frame(void **state)
{
  unsigned char f[127];
  size_t n = berth_api_ws_close(f, 1000, NULL);
  const unsigned char want[] = { 0x88, 2, 0x03, 0xe8 };
  assert_int_equal(n, sizeof want);
  assert_memory_equal(f, want, sizeof want);
  char reason[300];
  memset(reason, 'x', sizeof reason - 1);
  reason[sizeof reason - 1] = '\0';
  n = berth_api_ws_close(f, 1009, reason); /* cut to fit a control frame */
  assert_int_equal(n, 127);
  assert_int_equal(f[1], 125);
  assert_int_equal(f[2] << 8 | f[3], 1009);
}

/* a client frame: header, mask, payload masked */
static size_t client_frame(unsigned char *out, unsigned b0, const char *payload, size_t len)
{
  static const unsigned char mask[4] = { 0x37, 0xfa, 0x21, 0x3d };
  size_t h = berth_api_ws_header(out, b0 & 0xf, len);
  out[0] = (unsigned char) b0;
  out[1] |= 0x80;
  memcpy(out + h, mask, 4);
  for (size_t i = 0; i < len; i++)
    out[h + 4 + i] = (unsigned char) payload[i] ^ mask[i & 3];
  return h + 4 + len;
}

static void test_parse_rfc_example(void **state)
{
  /* RFC 6455, section 5.7: a single-frame masked text message "Hello" */
  unsigned char buf[] = { 0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58 };
  struct berth_api_ws_reader rd = { 0 };
  struct berth_api_ws_frame f;
  size_t used = 99;
  for (size_t len = 0; len < sizeof buf; len++) { /* every prefix: more bytes needed */
    unsigned char copy[sizeof buf];
    memcpy(copy, buf, sizeof buf);
    assert_int_equal(berth_api_ws_parse(&rd, copy, len, 1024, &used, &f), 0);
    assert_int_equal(used, 0);
  }
  assert_int_equal(berth_api_ws_parse(&rd, buf, sizeof buf, 1024, &used, &f), 1);
  assert_int_equal(used, sizeof buf);
  assert_int_equal(f.opcode, BERTH_API_WS_TEXT);
  assert_true(f.fin);
  assert_int_equal(f.len, 5);
  assert_memory_equal(f.payload, "Hello", 5);
}

static void test_parse_fragments_and_control(void **state)
{
  unsigned char buf[256];
  struct berth_api_ws_reader rd = { 0 };
  struct berth_api_ws_frame f;
  size_t used, n;
  n = client_frame(buf, 0x02, "Hel", 3); /* binary, not fin */
  assert_int_equal(berth_api_ws_parse(&rd, buf, n, 1024, &used, &f), 1);
  assert_false(f.fin);
  assert_int_equal(f.message, BERTH_API_WS_BINARY);
  n = client_frame(buf, 0x89, "ping!", 5); /* a ping between the fragments */
  assert_int_equal(berth_api_ws_parse(&rd, buf, n, 1024, &used, &f), 1);
  assert_int_equal(f.opcode, BERTH_API_WS_PING);
  assert_memory_equal(f.payload, "ping!", 5);
  n = client_frame(buf, 0x01, "x", 1); /* a new message before the end of the first */
  assert_int_equal(berth_api_ws_parse(&rd, buf, n, 1024, &used, &f), -1);
  assert_int_equal(f.close_code, 1002);
  n = client_frame(buf, 0x80, "lo", 2); /* the last fragment */
  assert_int_equal(berth_api_ws_parse(&rd, buf, n, 1024, &used, &f), 1);
  assert_true(f.fin);
  assert_int_equal(f.opcode, BERTH_API_WS_CONT);
  assert_int_equal(f.message, BERTH_API_WS_BINARY);
  assert_memory_equal(f.payload, "lo", 2);
  assert_int_equal(rd.message, 0);
  n = client_frame(buf, 0x88,
                   "\x03\xe9"
                   "bye",
                   5); /* close 1001 */
  assert_int_equal(berth_api_ws_parse(&rd, buf, n, 1024, &used, &f), 1);
  assert_int_equal(f.close_code, 1001);
  n = client_frame(buf, 0x88, "", 0);
  assert_int_equal(berth_api_ws_parse(&rd, buf, n, 1024, &used, &f), 1);
  assert_int_equal(f.close_code, 1005);
  /* two frames in one buffer: one at a time */
  n = client_frame(buf, 0x81, "ab", 2);
  n += client_frame(buf + n, 0x81, "cd", 2);
  assert_int_equal(berth_api_ws_parse(&rd, buf, n, 1024, &used, &f), 1);
  assert_int_equal(used, n / 2);
  assert_memory_equal(f.payload, "ab", 2);
}

static void expect_error(struct berth_api_ws_reader *rd, unsigned char *buf, size_t n, size_t max,
                         uint16_t code, const char *needle)
{
  struct berth_api_ws_frame f;
  size_t used;
  assert_int_equal(berth_api_ws_parse(rd, buf, n, max, &used, &f), -1);
  assert_int_equal(f.close_code, code);
  assert_non_null(strstr(f.error, needle));
}

static void test_parse_errors(void **state)
{
  unsigned char buf[300];
  char big[200];
  memset(big, 'b', sizeof big);
  struct berth_api_ws_reader rd = { 0 };
  unsigned char unmasked[] = { 0x81, 0x02, 'h', 'i' };
  expect_error(&rd, unmasked, sizeof unmasked, 1024, 1002, "unmasked");
  size_t n = client_frame(buf, 0x83, "x", 1);
  expect_error(&rd, buf, n, 1024, 1002, "reserved opcode");
  n = client_frame(buf, 0x8b, "x", 1);
  expect_error(&rd, buf, n, 1024, 1002, "reserved opcode");
  n = client_frame(buf, 0xc1, "x", 1); /* RSV1 */
  expect_error(&rd, buf, n, 1024, 1002, "reserved bits");
  n = client_frame(buf, 0x82, big, sizeof big);
  expect_error(&rd, buf, n, 100, 1009, "size cap");
  expect_error(&rd, buf, 4, 100, 1009, "size cap"); /* known from the header alone */
  n = client_frame(buf, 0x89, big, 126);
  expect_error(&rd, buf, n, 1024, 1002, "over 125");
  n = client_frame(buf, 0x09, "x", 1);
  expect_error(&rd, buf, n, 1024, 1002, "fragmented control");
  n = client_frame(buf, 0x80, "x", 1);
  expect_error(&rd, buf, n, 1024, 1002, "continuation");
  n = client_frame(buf, 0x88, "\x03", 1);
  expect_error(&rd, buf, n, 1024, 1002, "1-byte");
  n = client_frame(buf, 0x88, "\x03\xe5", 2); /* 997 */
  expect_error(&rd, buf, n, 1024, 1002, "invalid code");
  n = client_frame(buf, 0x88, "\x03\xed", 2); /* 1005: never sent */
  expect_error(&rd, buf, n, 1024, 1002, "invalid code");
  n = client_frame(buf, 0x88, "\x0f\xa0", 2); /* 4000: an application's */
  struct berth_api_ws_frame f;
  size_t used;
  assert_int_equal(berth_api_ws_parse(&rd, buf, n, 1024, &used, &f), 1);
  assert_int_equal(f.close_code, 4000);
  /* a 64-bit length far over any cap */
  unsigned char huge[] = { 0x82, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
  expect_error(&rd, huge, sizeof huge, BERTH_API_WS_MAX_FRAME, 1009, "size cap");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_accept),
    cmocka_unit_test(test_header_lengths),
    cmocka_unit_test(test_close_frame),
    cmocka_unit_test(test_parse_rfc_example),
    cmocka_unit_test(test_parse_fragments_and_control),
    cmocka_unit_test(test_parse_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
