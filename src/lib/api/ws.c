/* RFC 6455 websocket frames for the attach endpoint (pure): the handshake's accept value,
 * server frames (unmasked) and the checks on a client's frames (masked, possibly fragmented). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "base/cleanup.h"
#include "base/sha1.h"
#include "registry/registry.h"

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

int berth_api_ws_accept(const char *key, char out[BERTH_API_WS_ACCEPT_LEN + 1])
{
  if (key == NULL || strlen(key) != 24)
    return -1;
  size_t n = 0;
  cleanup_free void *raw = berth_base64_decode(key, &n);
  if (raw == NULL || n != 16)
    return -1;
  struct berth_sha1_ctx c;
  uint8_t d[BERTH_SHA1_LEN];
  berth_sha1_init(&c);
  berth_sha1_update(&c, key, strlen(key));
  berth_sha1_update(&c, WS_GUID, strlen(WS_GUID));
  berth_sha1_final(&c, d);
  cleanup_free char *b64 = berth_base64_encode(d, sizeof d);
  if (b64 == NULL || strlen(b64) != BERTH_API_WS_ACCEPT_LEN)
    return -1;
  memcpy(out, b64, BERTH_API_WS_ACCEPT_LEN + 1);
  return 0;
}

size_t berth_api_ws_header(unsigned char out[10], unsigned opcode, uint64_t len)
{
  out[0] = (unsigned char) (0x80 | (opcode & 0xf));
  if (len < 126) {
    out[1] = (unsigned char) len;
    return 2;
  }
  if (len <= 0xffff) {
    out[1] = 126;
    out[2] = (unsigned char) (len >> 8);
    out[3] = (unsigned char) len;
    return 4;
  }
  out[1] = 127;
  for (int i = 0; i < 8; i++)
    out[2 + i] = (unsigned char) (len >> (56 - 8 * i));
  return 10;
}

size_t berth_api_ws_close(unsigned char out[127], uint16_t code, const char *reason)
{
  size_t rlen = reason ? strlen(reason) : 0;
  if (rlen > 123)
    rlen = 123;
  size_t h = berth_api_ws_header(out, BERTH_API_WS_CLOSE, 2 + rlen);
  out[h] = (unsigned char) (code >> 8);
  out[h + 1] = (unsigned char) code;
  if (rlen)
    memcpy(out + h + 2, reason, rlen);
  return h + 2 + rlen;
}

static int fail(struct berth_api_ws_frame *f, uint16_t code, const char *what)
{
  f->close_code = code;
  f->error = what;
  return -1;
}

/* the opcode against the message state: which message a data frame belongs to */
static int check_opcode(struct berth_api_ws_reader *rd, struct berth_api_ws_frame *f)
{
  switch (f->opcode) {
  case BERTH_API_WS_CONT:
    if (rd->message == 0)
      return fail(f, 1002, "a continuation frame without a message to continue");
    f->message = rd->message;
    return 0;
  case BERTH_API_WS_TEXT:
  case BERTH_API_WS_BINARY:
    if (rd->message != 0)
      return fail(f, 1002, "a new data frame before the fragmented message ended");
    f->message = f->opcode;
    return 0;
  case BERTH_API_WS_CLOSE:
  case BERTH_API_WS_PING:
  case BERTH_API_WS_PONG:
    if (!f->fin)
      return fail(f, 1002, "a fragmented control frame");
    return 0;
  default: return fail(f, 1002, "a reserved opcode");
  }
}

int berth_api_ws_parse(struct berth_api_ws_reader *rd, unsigned char *buf, size_t len, size_t max,
                       size_t *used, struct berth_api_ws_frame *f)
{
  memset(f, 0, sizeof *f);
  *used = 0;
  if (len < 2)
    return 0;
  f->fin = buf[0] & 0x80;
  f->opcode = buf[0] & 0xf;
  if (buf[0] & 0x70)
    return fail(f, 1002, "reserved bits set (no extension was agreed)");
  if (!(buf[1] & 0x80))
    return fail(f, 1002, "an unmasked frame from the client");
  if (check_opcode(rd, f) < 0)
    return -1;
  uint64_t plen = buf[1] & 0x7f;
  size_t h = 2;
  if (plen == 126 || plen == 127) {
    size_t n = plen == 126 ? 2 : 8;
    if (len < 2 + n)
      return 0;
    plen = 0;
    for (size_t i = 0; i < n; i++)
      plen = plen << 8 | buf[2 + i];
    h += n;
  }
  if (f->opcode >= BERTH_API_WS_CLOSE && plen > 125)
    return fail(f, 1002, "a control frame over 125 bytes");
  if (plen > max)
    return fail(f, 1009, "a frame over the size cap");
  if (len - h < 4 || len - h - 4 < plen)
    return 0;
  const unsigned char *mask = buf + h;
  f->payload = buf + h + 4;
  f->len = (size_t) plen;
  for (size_t i = 0; i < f->len; i++)
    f->payload[i] ^= mask[i & 3];
  *used = h + 4 + f->len;
  if (f->opcode == BERTH_API_WS_CLOSE) {
    if (f->len == 1)
      return fail(f, 1002, "a close frame with a 1-byte payload");
    f->close_code = f->len >= 2 ? (uint16_t) (f->payload[0] << 8 | f->payload[1]) : 1005;
    uint16_t c = f->close_code;
    if (f->len >= 2 && (c < 1000 || c >= 5000 || (c >= 1004 && c <= 1006) || (c >= 1012 && c < 3000)))
      return fail(f, 1002, "a close frame with an invalid code");
  }
  if (f->opcode < BERTH_API_WS_CLOSE)
    rd->message = f->fin ? 0 : f->message;
  return 1;
}
