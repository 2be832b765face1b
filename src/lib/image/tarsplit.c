/* tar-split recording (tarsplit.h): a state machine over 512-byte blocks. Headers and the
 * payloads of meta entries (pax 'x'/'g', GNU 'L'/'K') and of every non-file entry are kept as
 * bytes; a regular file's payload becomes a reference to the file; padding and what follows the
 * end of the archive are bytes again. The names an entry is known by come from its own header
 * (ustar prefix + name), a GNU long name before it, or a pax "path" record, in libarchive's
 * order of precedence. */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "base/cleanup.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "image/tarsplit.h"
#include "image/tarsplit_internal.h"

#define BLOCK     512
#define META_MAX  (1u << 20)
#define RAW_FLUSH (64u << 10)

enum state { HEADER, META, PAYLOAD, FILE_PAYLOAD, PADDING, TRAILER };

struct berth_tarsplit_rec {
  berth_tarsplit_out_fn out;
  void *out_data;
  berth_tarsplit_payload_fn payload;
  void *payload_data;
  int failed;
  const char *unsafe;
  enum state st;
  unsigned char block[BLOCK];
  size_t nblock;
  uint64_t left;  /* bytes left of the current payload */
  uint64_t pad;   /* padding after it */
  uint64_t total; /* bytes of the tar so far */
  uint64_t nfiles;
  char meta_type; /* META: the entry type whose payload is collected */
  char *meta;     /* its payload */
  size_t nmeta;
  char *long_name;  /* GNU 'L' for the next entry */
  char *pax_path;   /* pax 'x' path= for the next entry */
  int64_t pax_size; /* pax 'x' size= for the next entry (-1: none) */
  char *file_name;  /* FILE_PAYLOAD: the file's name (as recorded) */
  uint64_t file_size;
  uint32_t crc;
  bool first;
  unsigned char *raw; /* pending 'R' bytes */
  size_t nraw, capraw;
  struct tarsplit_names files, prefixes, symlinks; /* names with contents; their directories; symlinks */
};

/* ---- the record's encoding ---- */

static void emit(struct berth_tarsplit_rec *r, const void *buf, size_t len)
{
  if (r->failed || r->unsafe || len == 0)
    return;
  if (r->out(r->out_data, buf, len) < 0)
    r->failed = -1;
}

static void emit_varint(struct berth_tarsplit_rec *r, uint64_t v)
{
  unsigned char b[10];
  size_t n = tarsplit_varint_put(v, b);
  emit(r, b, n);
}

static void flush_raw(struct berth_tarsplit_rec *r)
{
  if (r->nraw == 0)
    return;
  emit(r, "R", 1);
  emit_varint(r, r->nraw);
  emit(r, r->raw, r->nraw);
  r->nraw = 0;
}

/* bytes kept as they are: segments of at most RAW_FLUSH bytes */
static void raw(struct berth_tarsplit_rec *r, const void *buf, size_t len)
{
  const unsigned char *p = buf;
  if (r->capraw == 0)
    r->raw = xmalloc(r->capraw = RAW_FLUSH);
  while (len > 0 && !r->unsafe) {
    size_t n = RAW_FLUSH - r->nraw < len ? RAW_FLUSH - r->nraw : len;
    memcpy(r->raw + r->nraw, p, n);
    r->nraw += n;
    p += n;
    len -= n;
    if (r->nraw == RAW_FLUSH)
      flush_raw(r);
  }
}

static void file_segment(struct berth_tarsplit_rec *r)
{
  flush_raw(r);
  size_t n = strlen(r->file_name);
  unsigned char crc[4] = { (unsigned char) r->crc, (unsigned char) (r->crc >> 8),
                           (unsigned char) (r->crc >> 16), (unsigned char) (r->crc >> 24) };
  emit(r, "F", 1);
  emit_varint(r, n);
  emit(r, r->file_name, n);
  emit_varint(r, r->file_size);
  emit(r, crc, 4);
}

struct berth_tarsplit_rec *berth_tarsplit_rec_new(berth_tarsplit_out_fn out, void *out_data)
{
  struct berth_tarsplit_rec *r = xcalloc(1, sizeof *r);
  r->out = out;
  r->out_data = out_data;
  r->pax_size = -1;
  emit(r, BERTH_TARSPLIT_MAGIC, strlen(BERTH_TARSPLIT_MAGIC));
  return r;
}

void berth_tarsplit_rec_set_payload(struct berth_tarsplit_rec *r, berth_tarsplit_payload_fn fn, void *data)
{
  r->payload = fn;
  r->payload_data = data;
}

static void unsafe(struct berth_tarsplit_rec *r, const char *why)
{
  if (r->unsafe == NULL)
    r->unsafe = why;
}

/* ---- names: what extraction does with them ---- */

/* a name's place in the tree as the layer's extraction finds it: "./a//b/" -> "a/b"; NULL for
 * ".." or an empty result (extraction refuses the one and applies the other to the root) */
static char *place_of(const char *name)
{
  cleanup_free char *copy = xstrdup(name);
  char *out = xcalloc(1, strlen(name) + 1), *save = NULL;
  size_t n = 0;
  for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
    if (strcmp(c, ".") == 0)
      continue;
    if (strcmp(c, "..") == 0) {
      free(out);
      return NULL;
    }
    if (n)
      out[n++] = '/';
    memcpy(out + n, c, strlen(c));
    n += strlen(c);
  }
  out[n] = '\0';
  return out;
}

static void add_prefixes(struct tarsplit_names *set, const char *place)
{
  cleanup_free char *p = xstrdup(place);
  for (char *s = strrchr(p, '/'); s; s = strrchr(p, '/')) {
    *s = '\0';
    if (!tarsplit_names_add(set, p))
      return; /* its own prefixes are there already */
  }
}

static bool below_symlink(struct berth_tarsplit_rec *r, const char *place)
{
  if (r->symlinks.n == 0)
    return false;
  cleanup_free char *p = xstrdup(place);
  for (char *s = strrchr(p, '/'); s; s = strrchr(p, '/')) {
    *s = '\0';
    if (tarsplit_names_has(&r->symlinks, p))
      return true;
  }
  return false;
}

/* An entry arrives at place: does it destroy contents recorded before? (type: the tar's) */
static void check_place(struct berth_tarsplit_rec *r, const char *name, char type, bool data_file)
{
  cleanup_free char *place = place_of(name);
  if (place == NULL || place[0] == '\0') {
    if (data_file)
      unsafe(r, "a file at the layer's root or above it");
    return;
  }
  const char *base = strrchr(place, '/');
  base = base ? base + 1 : place;
  if (strncmp(base, ".wh.", 4) == 0) { /* a whiteout removes <dir>/<name> and below */
    if (strncmp(base, ".wh..wh.", 8) == 0)
      return;
    cleanup_free char *target = xasprintf("%.*s%s", (int) (base - place), place, base + 4);
    if (tarsplit_names_has(&r->files, target) || tarsplit_names_has(&r->prefixes, target))
      unsafe(r, "a whiteout removes a file of the same layer");
    return;
  }
  bool dir = type == '5';
  if (tarsplit_names_has(&r->files, place) || (!dir && tarsplit_names_has(&r->prefixes, place)))
    unsafe(r, "an entry replaces a file of the same layer");
  if (type == '2')
    tarsplit_names_add(&r->symlinks, place);
  if (data_file) {
    if (below_symlink(r, place))
      unsafe(r, "a file below a symlink of the same layer");
    tarsplit_names_add(&r->files, place);
    add_prefixes(&r->prefixes, place);
  }
}

/* ---- headers ---- */

static bool all_zero(const unsigned char *b)
{
  for (size_t i = 0; i < BLOCK; i++)
    if (b[i])
      return false;
  return true;
}

/* the entry's own name: ustar's prefix "/" name (POSIX ustar only: GNU uses those bytes) */
static char *header_name(const unsigned char *b)
{
  char name[101], prefix[156];
  memcpy(name, b, 100);
  name[100] = '\0';
  memcpy(prefix, b + 345, 155);
  prefix[155] = '\0';
  if (memcmp(b + 257, "ustar\0", 6) == 0 && prefix[0])
    return xasprintf("%s/%s", prefix, name);
  return xstrdup(name);
}

static void start_entry(struct berth_tarsplit_rec *r, const unsigned char *b)
{
  char type = (char) b[156];
  uint64_t size = 0;
  bool size_ok = tarsplit_parse_number(b + 124, 12, &size);
  raw(r, b, BLOCK);
  if (!size_ok) {
    unsafe(r, "a header's size is unreadable");
    size = 0;
  }
  bool meta = type == 'x' || type == 'g' || type == 'L' || type == 'K';
  if (!meta && r->pax_size >= 0)
    size = (uint64_t) r->pax_size;
  r->left = size;
  r->pad = (BLOCK - size % BLOCK) % BLOCK;
  if (meta) {
    r->meta_type = type;
    r->nmeta = 0;
    r->st = size ? META : (r->pad ? PADDING : HEADER);
    if (size > META_MAX)
      unsafe(r, "a meta record over 1 MiB");
    return;
  }
  cleanup_free char *own = header_name(b);
  char *name = r->pax_path ? steal_ptr(r->pax_path) : r->long_name ? steal_ptr(r->long_name) : steal_ptr(own);
  free(r->pax_path);
  free(r->long_name);
  r->pax_path = r->long_name = NULL;
  r->pax_size = -1;
  bool regular = type == '0' || type == '\0' || type == '7';
  if (type == 'S')
    unsafe(r, "a sparse file");
  if (type == '1' && size > 0)
    unsafe(r, "a hard link with data");
  const char *base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
  bool data_file = regular && size > 0 && strncmp(base, ".wh.", 4) != 0;
  check_place(r, name, regular ? '0' : type, data_file);
  if (data_file) {
    free(r->file_name);
    r->file_name = name;
    r->file_size = size;
    r->crc = (uint32_t) crc32(0, NULL, 0);
    r->first = true;
    r->nfiles++;
    r->st = FILE_PAYLOAD;
    return;
  }
  free(name);
  r->st = size ? PAYLOAD : (r->pad ? PADDING : HEADER);
}

static void header_block(struct berth_tarsplit_rec *r, const unsigned char *b)
{
  if (all_zero(b)) { /* the end of the archive: what follows is bytes, whatever it is */
    raw(r, b, BLOCK);
    r->st = TRAILER;
    return;
  }
  start_entry(r, b);
}

/* a meta entry's payload is complete: what it says about the next entry */
static void end_meta(struct berth_tarsplit_rec *r)
{
  if (r->meta_type == 'L') {
    free(r->long_name);
    r->long_name = xstrndup(r->meta, r->nmeta); /* up to its first NUL */
  } else if (r->meta_type == 'x' || r->meta_type == 'g') {
    struct tarsplit_pax pax;
    tarsplit_parse_pax(r->meta, r->nmeta, &pax);
    if (pax.sparse)
      unsafe(r, "a sparse file");
    if (r->meta_type == 'g' && (pax.path || pax.size >= 0))
      unsafe(r, "a global pax header with a path or size");
    if (r->meta_type == 'x') {
      if (pax.path) {
        free(r->pax_path);
        r->pax_path = steal_ptr(pax.path);
      }
      if (pax.size >= 0)
        r->pax_size = pax.size;
    }
    free(pax.path);
  }
  r->nmeta = 0;
}

/* ---- feeding ---- */

static size_t feed_payload(struct berth_tarsplit_rec *r, const unsigned char *p, size_t len)
{
  size_t n = len < r->left ? len : (size_t) r->left;
  if (r->st == META) {
    if (r->nmeta + n <= META_MAX) {
      r->meta = xrealloc(r->meta, r->nmeta + n + 1);
      memcpy(r->meta + r->nmeta, p, n);
      r->nmeta += n;
      r->meta[r->nmeta] = '\0';
    }
    raw(r, p, n);
  } else if (r->st == FILE_PAYLOAD) {
    r->crc = (uint32_t) crc32(r->crc, p, (uInt) n);
    if (r->payload)
      r->payload(r->payload_data, r->file_name, p, n, r->first);
    r->first = false;
  } else {
    raw(r, p, n);
  }
  r->left -= n;
  if (r->left == 0) {
    if (r->st == META)
      end_meta(r);
    if (r->st == FILE_PAYLOAD)
      file_segment(r);
    r->st = r->pad ? PADDING : HEADER;
  }
  return n;
}

static size_t feed_padding(struct berth_tarsplit_rec *r, const unsigned char *p, size_t len)
{
  size_t n = len < r->pad ? len : (size_t) r->pad;
  raw(r, p, n);
  r->pad -= n;
  if (r->pad == 0)
    r->st = HEADER;
  return n;
}

static size_t feed_header(struct berth_tarsplit_rec *r, const unsigned char *p, size_t len)
{
  size_t n = BLOCK - r->nblock < len ? BLOCK - r->nblock : len;
  if (r->nblock == 0 && n == BLOCK) { /* a whole block in place: no copy */
    header_block(r, p);
    return n;
  }
  memcpy(r->block + r->nblock, p, n);
  r->nblock += n;
  if (r->nblock == BLOCK) {
    r->nblock = 0;
    header_block(r, r->block);
  }
  return n;
}

int berth_tarsplit_rec_feed(struct berth_tarsplit_rec *r, const void *buf, size_t len)
{
  const unsigned char *p = buf;
  r->total += len;
  while (len > 0 && !r->failed) {
    size_t n;
    switch (r->st) {
    case HEADER: n = feed_header(r, p, len); break;
    case META:
    case PAYLOAD:
    case FILE_PAYLOAD: n = feed_payload(r, p, len); break;
    case PADDING: n = feed_padding(r, p, len); break;
    default:
      raw(r, p, len);
      n = len;
      break;
    }
    p += n;
    len -= n;
  }
  return r->failed;
}

const char *berth_tarsplit_rec_finish(struct berth_tarsplit_rec *r, int *failed)
{
  if (r->st == HEADER && r->nblock > 0) { /* a last partial block */
    raw(r, r->block, r->nblock);
    r->nblock = 0;
  } else if (r->st != HEADER && r->st != TRAILER) {
    unsafe(r, "the archive ends inside an entry");
  }
  flush_raw(r);
  emit(r, "E", 1);
  emit_varint(r, r->total);
  *failed = r->failed;
  return r->unsafe;
}

uint64_t berth_tarsplit_rec_files(const struct berth_tarsplit_rec *r) { return r->nfiles; }

void berth_tarsplit_rec_free(struct berth_tarsplit_rec *r)
{
  if (r == NULL)
    return;
  free(r->meta);
  free(r->long_name);
  free(r->pax_path);
  free(r->file_name);
  free(r->raw);
  tarsplit_names_release(&r->files);
  tarsplit_names_release(&r->prefixes);
  tarsplit_names_release(&r->symlinks);
  free(r);
}
