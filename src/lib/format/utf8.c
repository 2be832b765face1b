/* UTF-8 as Go reads it (a bad byte is U+FFFD, one byte long) and display widths as
 * go-runewidth counts them for docker's tabwriter. */
#include "format/format_internal.h"

/* the rune of an n-byte sequence at p, or -1 when it is not valid UTF-8 */
static int decode(const unsigned char *p, size_t left, int n)
{
  static const int min[] = { 0, 0, 0x80, 0x800, 0x10000 };
  if (n == 0 || left < (size_t) n)
    return -1;
  int r = (int) (p[0] & (0x7f >> n));
  for (int k = 1; k < n; k++) {
    if ((p[k] & 0xc0) != 0x80)
      return -1;
    r = (r << 6) | (p[k] & 0x3f);
  }
  if (r < min[n] || r > 0x10ffff || (r >= 0xd800 && r < 0xe000))
    return -1;
  return r;
}

int utf8_next(const char *s, size_t len, size_t *i)
{
  const unsigned char *p = (const unsigned char *) s + *i;
  unsigned c = p[0];
  int n = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
  int r = n == 1 ? (int) c : decode(p, len - *i, n);
  if (r < 0) {
    (*i)++;
    return 0xfffd;
  }
  *i += (size_t) n;
  return r;
}

void utf8_put(struct berth_strbuf *b, int r)
{
  char buf[4];
  if (r < 0 || r > 0x10ffff || (r >= 0xd800 && r < 0xe000))
    r = 0xfffd;
  if (r < 0x80) {
    berth_strbuf_putc(b, (char) r);
    return;
  }
  size_t n;
  if (r < 0x800) {
    buf[0] = (char) (0xc0 | (r >> 6));
    n = 2;
  } else if (r < 0x10000) {
    buf[0] = (char) (0xe0 | (r >> 12));
    n = 3;
  } else {
    buf[0] = (char) (0xf0 | (r >> 18));
    n = 4;
  }
  for (size_t k = 1; k < n; k++)
    buf[k] = (char) (0x80 | ((r >> (6 * (n - 1 - k))) & 0x3f));
  berth_strbuf_append(b, buf, n);
}

/* the wide ranges of go-runewidth's East Asian table that matter in practice */
static const int wide[][2] = {
  { 0x1100, 0x115f }, { 0x2e80, 0x303e },   { 0x3041, 0x33ff },   { 0x3400, 0x4dbf },   { 0x4e00, 0x9fff },
  { 0xa000, 0xa4cf }, { 0xac00, 0xd7a3 },   { 0xf900, 0xfaff },   { 0xfe30, 0xfe4f },   { 0xff00, 0xff60 },
  { 0xffe0, 0xffe6 }, { 0x1f300, 0x1f64f }, { 0x1f900, 0x1f9ff }, { 0x20000, 0x2fffd }, { 0x30000, 0x3fffd },
};

int rune_width(int r)
{
  if (r == 0 || (r >= 0x300 && r < 0x370) || r == 0x200b || (r >= 0xfe00 && r < 0xfe10))
    return 0;
  for (size_t i = 0; i < sizeof wide / sizeof wide[0]; i++)
    if (r >= wide[i][0] && r <= wide[i][1])
      return 2;
  return 1;
}
