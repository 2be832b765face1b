/* tar-split (image/tarsplit.h): any bytes recorded as a tar — in chunks whose sizes the input
 * chooses — never crash the recorder or the reader, and when the recorder calls the record safe,
 * reading it back with the files' contents as an extraction leaves them (the last payload of
 * each name) gives the input back, byte for byte. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "image/tarsplit.h"

struct buf {
  unsigned char *p;
  size_t len, at;
};

static void put(struct buf *b, const void *data, size_t len)
{
  b->p = xrealloc(b->p, b->len + len + 1);
  memcpy(b->p + b->len, data, len);
  b->len += len;
}

static int out(void *data, const void *p, size_t len)
{
  put(data, p, len);
  return 0;
}

/* the files as an extraction leaves them: a name's last payload */
struct files {
  char **names;
  struct buf *data;
  size_t n;
};

static void payload(void *data, const char *name, const void *p, size_t len, bool first)
{
  struct files *f = data;
  size_t i = 0;
  while (i < f->n && strcmp(f->names[i], name) != 0)
    i++;
  if (i == f->n) {
    f->names = xreallocarray(f->names, f->n + 1, sizeof *f->names);
    f->data = xreallocarray(f->data, f->n + 1, sizeof *f->data);
    f->names[i] = xstrdup(name);
    f->data[i] = (struct buf){ 0 };
    f->n++;
  }
  if (first)
    f->data[i].len = 0;
  put(&f->data[i], p, len);
}

static int in(void *data, void *p, size_t n, berth_error_t *err)
{
  struct buf *b = data;
  if (n > b->len - b->at)
    return BERTH_ERR(err, "truncated");
  memcpy(p, b->p + b->at, n);
  b->at += n;
  return 0;
}

static void check_rebuild(struct buf *rec, struct files *f, const uint8_t *tar, size_t len)
{
  struct berth_tarsplit_reader *rd = NULL;
  berth_error_t err = NULL;
  if (berth_tarsplit_reader_new(in, rec, &rd, &err) < 0)
    abort();
  struct buf rebuilt = { 0 };
  for (;;) {
    struct berth_tarsplit_seg seg;
    if (berth_tarsplit_reader_next(rd, &seg, &err) < 0)
      abort();
    if (seg.kind == 'E') {
      if (seg.size != len)
        abort();
      break;
    }
    if (seg.kind == 'R') {
      put(&rebuilt, seg.data, seg.len);
      continue;
    }
    size_t i = 0;
    while (i < f->n && strcmp(f->names[i], seg.name) != 0)
      i++;
    if (i == f->n || f->data[i].len != seg.size)
      abort();
    put(&rebuilt, f->data[i].p, f->data[i].len);
  }
  if (rebuilt.len != len || (len && memcmp(rebuilt.p, tar, len) != 0))
    abort();
  free(rebuilt.p);
  berth_tarsplit_reader_free(rd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  size_t chunk = (size_t) data[0] * 7 + 1; /* the first byte picks the chunk size */
  data++;
  size--;
  struct buf rec = { 0 };
  struct files f = { 0 };
  struct berth_tarsplit_rec *r = berth_tarsplit_rec_new(out, &rec);
  berth_tarsplit_rec_set_payload(r, payload, &f);
  for (size_t at = 0; at < size; at += chunk)
    berth_tarsplit_rec_feed(r, data + at, size - at < chunk ? size - at : chunk);
  int failed = 0;
  const char *why = berth_tarsplit_rec_finish(r, &failed);
  berth_tarsplit_rec_free(r);
  /* the files are looked up by name as the tar gives them: names that reach one place
   * differently ("a" and "./a") are the recorder's to call unsafe */
  if (why == NULL)
    check_rebuild(&rec, &f, data, size);
  for (size_t i = 0; i < f.n; i++) {
    free(f.names[i]);
    free(f.data[i].p);
  }
  free(f.names);
  free(f.data);
  free(rec.p);
  return 0;
}
