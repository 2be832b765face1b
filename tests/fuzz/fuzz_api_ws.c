/* Fuzz the websocket frame decoder of GET /containers/{id}/attach/ws (src/lib/api/ws.c).
 *
 * Input: the bytes a client sends after the handshake, parsed frame by frame as the attach does
 * (a small size cap, so that the cap is reached). Invariants: a frame takes at least its header
 * and no more than the input, its payload lies inside the frame and under the cap, control
 * frames are whole and at most 125 bytes, an error carries a close code of 1002 or 1009 and a
 * reason, and a data frame's message is text or binary. The first 24 bytes are also tried as a
 * Sec-WebSocket-Key: an accepted one gives 28 characters of base64. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "base/cleanup.h"
#include "base/xalloc.h"

static void check_frame(const unsigned char *buf, size_t len, size_t used, const struct berth_api_ws_frame *f)
{
  if (used < 6 || used > len || f->payload < buf || f->payload + f->len != buf + used || f->len > 4096)
    abort();
  if (f->opcode >= BERTH_API_WS_CLOSE && (f->len > 125 || !f->fin))
    abort();
  if (f->opcode < BERTH_API_WS_CLOSE && f->message != BERTH_API_WS_TEXT && f->message != BERTH_API_WS_BINARY)
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  cleanup_free unsigned char *buf = xmalloc(size + 1);
  memcpy(buf, data, size);
  struct berth_api_ws_reader rd = { 0 };
  size_t off = 0;
  for (;;) {
    struct berth_api_ws_frame f;
    size_t used = 0;
    int r = berth_api_ws_parse(&rd, buf + off, size - off, 4096, &used, &f);
    if (r < 0 && ((f.close_code != 1002 && f.close_code != 1009) || f.error == NULL))
      abort();
    if (r <= 0)
      break;
    check_frame(buf + off, size - off, used, &f);
    off += used;
  }
  if (size >= 24) {
    char key[25], accept[BERTH_API_WS_ACCEPT_LEN + 1];
    memcpy(key, data, 24);
    key[24] = '\0';
    if (berth_api_ws_accept(key, accept) == 0 && strlen(accept) != BERTH_API_WS_ACCEPT_LEN)
      abort();
  }
  return 0;
}
