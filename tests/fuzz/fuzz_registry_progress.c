/* Fuzz the progress renderer: the input sets up to 16 items (state, sizes, note) and the view.
 * The text never holds a control character other than the renderer's own (ESC sequences,
 * \r, \n); a terminal rendering has exactly one line per item; a plain rendering prints only
 * changed items and clears their flags. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "registry/registry.h"

static uint64_t take64(const uint8_t **p, size_t *n)
{
  uint64_t v = 0;
  for (int i = 0; i < 8 && *n > 0; i++, (*p)++, (*n)--)
    v = v << 8 | **p;
  return v;
}

static void check(const char *out, const struct berth_progress_view *v, size_t n, size_t changed)
{
  size_t lines = 0;
  for (const char *p = out; *p; p++) {
    unsigned char c = (unsigned char) *p;
    if (c == '\n')
      lines++;
    else if (c < 0x20 && c != '\r' && c != 0x1b)
      abort();
  }
  if (v->tty ? lines != n : lines != changed)
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 2 || size > 4096)
    return 0;
  struct berth_progress_view v = { .push = data[0] & 1, .tty = data[0] & 2, .width = data[1] };
  const uint8_t *p = data + 2;
  size_t left = size - 2, n = 0, changed = 0;
  struct berth_progress_item items[16];
  char notes[16][24];
  while (left >= 20 && n < 16) {
    struct berth_progress_item *it = &items[n];
    memset(it, 0, sizeof *it);
    memcpy(it->id, p, 12);
    p += 12, left -= 12;
    it->state = (enum berth_progress_state)(*p % (BERTH_PROGRESS_FAILED + 1));
    it->changed = *p & 0x80;
    changed += it->changed;
    p++, left--;
    it->done = take64(&p, &left);
    it->total = take64(&p, &left) >> (it->done & 63);
    size_t nl = left < sizeof notes[n] - 1 ? left : sizeof notes[n] - 1;
    memcpy(notes[n], p, nl);
    notes[n][nl] = '\0';
    it->note = notes[n][0] ? notes[n] : NULL;
    n++;
  }
  char *out = berth_progress_render(&v, items, n);
  check(out, &v, n, changed);
  free(out);
  for (size_t i = 0; i < n; i++)
    if (items[i].changed)
      abort();
  return 0;
}
