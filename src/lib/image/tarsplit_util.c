/* tar-split's pure helpers (tarsplit_internal.h) and the record reader (tarsplit.h). */
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/xalloc.h"
#include "image/tarsplit.h"
#include "image/tarsplit_internal.h"

/* ---- the name set ---- */

static uint64_t hash(const char *s)
{
  uint64_t h = 1469598103934665603ULL; /* FNV-1a */
  for (; *s; s++)
    h = (h ^ (unsigned char) *s) * 1099511628211ULL;
  return h;
}

static void grow(struct tarsplit_names *s)
{
  size_t cap = s->cap ? 2 * s->cap : 64;
  char **slots = xcalloc(cap, sizeof *slots);
  for (size_t i = 0; i < s->cap; i++)
    if (s->slots[i]) {
      size_t k = hash(s->slots[i]) & (cap - 1);
      while (slots[k])
        k = (k + 1) & (cap - 1);
      slots[k] = s->slots[i];
    }
  free(s->slots);
  s->slots = slots;
  s->cap = cap;
}

bool tarsplit_names_has(const struct tarsplit_names *s, const char *name)
{
  if (s->cap == 0)
    return false;
  for (size_t k = hash(name) & (s->cap - 1); s->slots[k]; k = (k + 1) & (s->cap - 1))
    if (strcmp(s->slots[k], name) == 0)
      return true;
  return false;
}

bool tarsplit_names_add(struct tarsplit_names *s, const char *name)
{
  if (tarsplit_names_has(s, name))
    return false;
  if (2 * (s->n + 1) > s->cap)
    grow(s);
  size_t k = hash(name) & (s->cap - 1);
  while (s->slots[k])
    k = (k + 1) & (s->cap - 1);
  s->slots[k] = xstrdup(name);
  s->n++;
  return true;
}

void tarsplit_names_release(struct tarsplit_names *s)
{
  for (size_t i = 0; i < s->cap; i++)
    free(s->slots[i]);
  free(s->slots);
  memset(s, 0, sizeof *s);
}

/* ---- numbers ---- */

size_t tarsplit_varint_put(uint64_t v, unsigned char *out)
{
  size_t n = 0;
  do {
    unsigned char b = v & 0x7f;
    v >>= 7;
    out[n++] = (unsigned char) (b | (v ? 0x80 : 0));
  } while (v);
  return n;
}

bool tarsplit_parse_number(const unsigned char *f, size_t len, uint64_t *out)
{
  uint64_t v = 0;
  if (f[0] & 0x80) { /* base-256, big-endian; a negative number is no size */
    if (f[0] & 0x40)
      return false;
    v = f[0] & 0x3f;
    for (size_t i = 1; i < len; i++) {
      if (v >> 55)
        return false;
      v = v << 8 | f[i];
    }
    *out = v;
    return true;
  }
  size_t i = 0;
  while (i < len && (f[i] == ' ' || f[i] == '\0'))
    i++;
  bool digits = false;
  for (; i < len && f[i] >= '0' && f[i] <= '7'; i++) {
    if (v >> 60)
      return false;
    v = v << 3 | (uint64_t) (f[i] - '0');
    digits = true;
  }
  for (; i < len; i++)
    if (f[i] != ' ' && f[i] != '\0')
      return false;
  *out = digits ? v : 0;
  return true;
}

/* ---- pax ---- */

void tarsplit_parse_pax(const char *buf, size_t len, struct tarsplit_pax *out)
{
  out->path = NULL;
  out->size = -1;
  out->sparse = false;
  size_t at = 0;
  while (at < len) {
    size_t rlen = 0, i = at;
    while (i < len && buf[i] >= '0' && buf[i] <= '9' && rlen < len)
      rlen = rlen * 10 + (size_t) (buf[i++] - '0');
    if (i >= len || buf[i] != ' ' || rlen <= i - at + 1 || rlen > len - at || buf[at + rlen - 1] != '\n')
      return;
    const char *kv = buf + i + 1, *end = buf + at + rlen - 1;
    const char *eq = memchr(kv, '=', (size_t) (end - kv));
    if (eq == NULL)
      return;
    size_t klen = (size_t) (eq - kv);
    if (klen == 4 && memcmp(kv, "path", 4) == 0) {
      free(out->path);
      out->path = xstrndup(eq + 1, (size_t) (end - eq - 1));
    } else if (klen == 4 && memcmp(kv, "size", 4) == 0) {
      int64_t v = 0;
      const char *p = eq + 1;
      for (; p < end && *p >= '0' && *p <= '9' && v < (INT64_MAX / 10 - 9); p++)
        v = v * 10 + (*p - '0');
      out->size = p == end && p > eq + 1 ? v : -1;
    } else if (klen > 11 && memcmp(kv, "GNU.sparse.", 11) == 0) {
      out->sparse = true;
    }
    at += rlen;
  }
}

/* ---- the reader ---- */

struct berth_tarsplit_reader {
  berth_tarsplit_in_fn in;
  void *in_data;
  unsigned char *buf;
  size_t cap;
  char *name;
  bool ended;
};

static BERTH_WUR int read_varint(struct berth_tarsplit_reader *rd, uint64_t *out, berth_error_t *err)
{
  uint64_t v = 0;
  for (unsigned shift = 0; shift < 64; shift += 7) {
    unsigned char b;
    if (rd->in(rd->in_data, &b, 1, err) < 0)
      return -1;
    if (shift == 63 && (b & 0x7e))
      break;
    v |= (uint64_t) (b & 0x7f) << shift;
    if (!(b & 0x80)) {
      *out = v;
      return 0;
    }
  }
  return BERTH_ERR(err, "tar-split record: a number is too long");
}

int berth_tarsplit_reader_new(berth_tarsplit_in_fn in, void *in_data, struct berth_tarsplit_reader **out,
                              berth_error_t *err)
{
  char magic[sizeof BERTH_TARSPLIT_MAGIC - 1];
  if (in(in_data, magic, sizeof magic, err) < 0)
    return berth_error_wrap(err, "tar-split record");
  if (memcmp(magic, BERTH_TARSPLIT_MAGIC, sizeof magic) != 0)
    return BERTH_ERR(err, "tar-split record: not a record (bad magic)");
  struct berth_tarsplit_reader *rd = xcalloc(1, sizeof *rd);
  rd->in = in;
  rd->in_data = in_data;
  *out = rd;
  return 0;
}

/* n bytes into the reader's buffer (a record's segment is at most 16 MiB: a corrupt length
 * is not an allocation) */
static BERTH_WUR int read_bytes(struct berth_tarsplit_reader *rd, uint64_t n, berth_error_t *err)
{
  if (n > (16u << 20))
    return BERTH_ERR(err, "tar-split record: a segment of %llu bytes", (unsigned long long) n);
  if (n + 1 > rd->cap) {
    rd->cap = (size_t) n + 1;
    rd->buf = xrealloc(rd->buf, rd->cap);
  }
  if (n && rd->in(rd->in_data, rd->buf, (size_t) n, err) < 0)
    return -1;
  rd->buf[n] = '\0';
  return 0;
}

static BERTH_WUR int read_file(struct berth_tarsplit_reader *rd, struct berth_tarsplit_seg *seg,
                               berth_error_t *err)
{
  uint64_t n = 0;
  unsigned char crc[4];
  if (read_varint(rd, &n, err) < 0 || n == 0 || n > 65536 || read_bytes(rd, n, err) < 0)
    return *err ? -1 : BERTH_ERR(err, "tar-split record: a file name of %llu bytes", (unsigned long long) n);
  if (memchr(rd->buf, '\0', (size_t) n))
    return BERTH_ERR(err, "tar-split record: a file name with a NUL byte");
  free(rd->name);
  rd->name = xstrndup((const char *) rd->buf, (size_t) n);
  if (read_varint(rd, &seg->size, err) < 0 || rd->in(rd->in_data, crc, 4, err) < 0)
    return -1;
  seg->name = rd->name;
  seg->crc = (uint32_t) crc[0] | (uint32_t) crc[1] << 8 | (uint32_t) crc[2] << 16 | (uint32_t) crc[3] << 24;
  return 0;
}

int berth_tarsplit_reader_next(struct berth_tarsplit_reader *rd, struct berth_tarsplit_seg *seg,
                               berth_error_t *err)
{
  memset(seg, 0, sizeof *seg);
  if (rd->ended)
    return BERTH_ERR(err, "tar-split record: read past its end");
  unsigned char kind;
  uint64_t n = 0;
  if (rd->in(rd->in_data, &kind, 1, err) < 0)
    return berth_error_wrap(err, "tar-split record");
  seg->kind = (char) kind;
  switch (kind) {
  case 'R':
    if (read_varint(rd, &n, err) < 0 || read_bytes(rd, n, err) < 0)
      return -1;
    seg->data = rd->buf;
    seg->len = (size_t) n;
    return 0;
  case 'F': return read_file(rd, seg, err);
  case 'E': rd->ended = true; return read_varint(rd, &seg->size, err);
  default: return BERTH_ERR(err, "tar-split record: unknown segment `%c` (0x%02x)", kind, kind);
  }
}

void berth_tarsplit_reader_free(struct berth_tarsplit_reader *rd)
{
  if (rd == NULL)
    return;
  free(rd->buf);
  free(rd->name);
  free(rd);
}
