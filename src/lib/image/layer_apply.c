/* Applying a layer stream: one pass over the input.
 *
 *   in_fd --read--> [digest of the stream] --> decoder --blocks--> [diff ID digest, size and
 *   ratio caps] --> tar reader (libarchive) --entries--> layer_entry.c (our code writes files)
 *
 * The decoder is zlib for gzip (detected by its magic; zlib checks every member's CRC-32 and
 * length, which libarchive's gzip reader does not) and libarchive otherwise (zstd, xz or an
 * uncompressed tar, detected; "raw" format). Decoded blocks are handed to the tar reader
 * without a copy. After the end of the archive, the rest of the decoded stream and of the
 * input are drained into the digests so that they cover the whole blob and the whole tar,
 * exactly what manifests and configs name. Only libarchive's built-in decoders are enabled:
 * it would otherwise fall back to running external programs (lrzip, lzop, ...). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "base/cleanup.h"
#include "base/log.h"
#include "base/xalloc.h"
#include "image/layer_priv.h"
#include "image/tarsplit.h"

#define DEFAULT_MAX_BYTES   (64ULL << 30)
#define DEFAULT_MAX_RATIO   1000ULL
#define DEFAULT_MAX_ENTRIES 10000000ULL
#define RATIO_FLOOR         (64ULL << 10) /* the ratio is judged against at least this many input bytes */
#define READ_BUF            (256 << 10)

struct pipe {
  int in_fd;
  char *buf;
  size_t pending; /* bytes of buf read (and hashed) but not yet handed to the decoder */
  bool in_eof;
  berth_digester_t *zdg, *tdg;
  uint64_t zsize, tsize;
  uint64_t max_bytes, max_ratio;
  bool gzip; /* zlib decodes; else libarchive (dec) */
  z_stream zs;
  bool zs_init, member_done;
  unsigned char *zout;
  struct archive *dec, *tar;
  bool dec_eof;
  berth_error_t perr;               /* the pipeline's own error: input, decoder, caps */
  struct berth_tarsplit_rec *split; /* the tar-split recorder, fed every decoded byte (or NULL) */
};

/* the next chunk of input into p->buf, hashed; 0 at the end, -1 on error (p->perr set) */
static ssize_t read_input(struct pipe *p)
{
  for (;;) {
    ssize_t n = read(p->in_fd, p->buf, READ_BUF);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      if (p->perr == NULL)
        BERTH_ERR_ERRNO(&p->perr, "read layer stream");
      return -1;
    }
    if (n == 0)
      p->in_eof = true;
    berth_digester_update(p->zdg, p->buf, (size_t) n);
    p->zsize += (uint64_t) n;
    return n;
  }
}

static la_ssize_t in_read(struct archive *a, void *cd, const void **buf)
{
  struct pipe *p = cd;
  *buf = p->buf;
  if (p->pending > 0) {
    la_ssize_t n = (la_ssize_t) p->pending;
    p->pending = 0;
    return n;
  }
  ssize_t n = read_input(p);
  if (n < 0)
    archive_set_error(a, EIO, "%s", p->perr->msg);
  return n;
}

static int check_caps(struct pipe *p)
{
  if (p->tsize > p->max_bytes)
    return BERTH_ERR(&p->perr, "decompression bomb: expanded size exceeds the limit of %llu bytes",
                     (unsigned long long) p->max_bytes);
  uint64_t base = p->zsize > RATIO_FLOOR ? p->zsize : RATIO_FLOOR;
  if (p->tsize / base >= p->max_ratio && p->tsize > base * p->max_ratio)
    return BERTH_ERR(
      &p->perr, "decompression bomb: %llu bytes expanded from %llu exceed the ratio limit of %llu",
      (unsigned long long) p->tsize, (unsigned long long) p->zsize, (unsigned long long) p->max_ratio);
  return 0;
}

/* zlib: the next decoded block of a (possibly multi-member) gzip stream; 0 at its end */
static la_ssize_t gzip_next(struct pipe *p, const void **buf)
{
  for (;;) {
    if (p->zs.avail_in == 0 && (p->pending > 0 || !p->in_eof)) {
      ssize_t n = (ssize_t) p->pending;
      if (n == 0 && (n = read_input(p)) < 0)
        return -1;
      p->pending = 0;
      p->zs.next_in = (unsigned char *) p->buf;
      p->zs.avail_in = (uInt) n;
    }
    if (p->zs.avail_in == 0) {
      if (p->member_done)
        return 0;
      return BERTH_ERR(&p->perr, "decompress: truncated gzip stream");
    }
    if (p->member_done) {
      /* after a member: another member, or zero padding (ignored, as gzip(1) does) */
      if (p->zs.next_in[0] == 0) {
        p->zs.next_in++;
        p->zs.avail_in--;
        continue;
      }
      if (inflateReset(&p->zs) != Z_OK)
        return BERTH_ERR(&p->perr, "decompress: cannot reset the gzip decoder");
      p->member_done = false;
    }
    p->zs.next_out = p->zout;
    p->zs.avail_out = READ_BUF;
    int r = inflate(&p->zs, Z_NO_FLUSH);
    if (r == Z_STREAM_END)
      p->member_done = true;
    else if (r != Z_OK && r != Z_BUF_ERROR)
      return BERTH_ERR(&p->perr, "decompress: corrupt gzip stream: %s", p->zs.msg ? p->zs.msg : "data error");
    size_t n = READ_BUF - p->zs.avail_out;
    if (n > 0) {
      *buf = p->zout;
      return (la_ssize_t) n;
    }
  }
}

static la_ssize_t archive_next(struct pipe *p, const void **buf)
{
  while (!p->dec_eof) {
    size_t len = 0;
    la_int64_t off;
    int r = archive_read_data_block(p->dec, buf, &len, &off);
    if (r == ARCHIVE_EOF)
      break;
    if (r < ARCHIVE_WARN) {
      if (p->perr == NULL)
        BERTH_ERR(&p->perr, "decompress: %s", archive_error_string(p->dec));
      return -1;
    }
    if (len > 0)
      return (la_ssize_t) len;
  }
  p->dec_eof = true;
  return 0;
}

/* the next decoded block, hashed and counted; 0 at the end, -1 on error (p->perr set) */
static la_ssize_t next_decoded(struct pipe *p, const void **buf)
{
  if (p->perr != NULL) /* libarchive may ask again after an error */
    return -1;
  la_ssize_t n = p->gzip ? gzip_next(p, buf) : archive_next(p, buf);
  if (n <= 0)
    return n;
  berth_digester_update(p->tdg, *buf, (size_t) n);
  p->tsize += (uint64_t) n;
  if (p->split && berth_tarsplit_rec_feed(p->split, *buf, (size_t) n) < 0)
    return BERTH_ERR(&p->perr, "write the layer's tar-split record");
  if (check_caps(p) < 0)
    return -1;
  return n;
}

static la_ssize_t tar_read(struct archive *a, void *cd, const void **buf)
{
  struct pipe *p = cd;
  la_ssize_t n = next_decoded(p, buf);
  if (n < 0)
    archive_set_error(a, EIO, "%s", p->perr ? p->perr->msg : "decoder failed");
  return n;
}

/* the pipeline's error if it has one, else libarchive's (lower-cased), in a context */
static int archive_fail(struct pipe *p, struct archive *a, berth_error_t *err, const char *fmt, ...)
  BERTH_PRINTF(4, 5);
static int archive_fail(struct pipe *p, struct archive *a, berth_error_t *err, const char *fmt, ...)
{
  if (p->perr != NULL) {
    *err = steal_ptr(p->perr);
  } else {
    cleanup_free char *msg = xstrdup(archive_error_string(a) ? archive_error_string(a) : "unknown error");
    msg[0] = (char) tolower((unsigned char) msg[0]);
    berth_error_make(err, 0, "%s", msg); /* libarchive's errno adds nothing to its message */
  }
  va_list ap;
  va_start(ap, fmt);
  cleanup_free char *ctx = NULL;
  if (vasprintf(&ctx, fmt, ap) < 0)
    berth_oom();
  va_end(ap);
  return berth_error_wrap(err, "%s", ctx);
}

static BERTH_WUR int open_archive_decoder(struct pipe *p, berth_error_t *err)
{
  p->dec = archive_read_new();
  if (p->dec == NULL)
    berth_oom();
  const unsigned layer_decoders = BERTH_ARCHIVE_ZSTD | BERTH_ARCHIVE_XZ; /* gzip: zlib, above */
  if (berth_archive_read_filters(p->dec, layer_decoders, layer_decoders, err) < 0)
    return -1;
  archive_read_support_format_raw(p->dec);
  if (archive_read_open(p->dec, p, NULL, in_read, NULL) != ARCHIVE_OK)
    return archive_fail(p, p->dec, err, "open layer stream");
  struct archive_entry *e;
  int r = archive_read_next_header(p->dec, &e);
  if (r < ARCHIVE_WARN || r == ARCHIVE_EOF)
    return archive_fail(p, p->dec, err, "open layer stream");
  return 0;
}

static BERTH_WUR int open_decoder(struct pipe *p, berth_error_t *err)
{
  if (berth_archive_load(err) < 0)
    return -1;
  ssize_t n = read_input(p);
  if (n < 0) {
    *err = steal_ptr(p->perr);
    return -1;
  }
  if (n == 0)
    return BERTH_ERR(err, "empty layer stream");
  p->pending = (size_t) n;
  p->gzip = n >= 2 && (unsigned char) p->buf[0] == 0x1f && (unsigned char) p->buf[1] == 0x8b;
  if (p->gzip) {
    p->zout = xmalloc(READ_BUF);
    if (inflateInit2(&p->zs, 16 + MAX_WBITS) != Z_OK)
      berth_oom();
    p->zs_init = true;
  } else if (open_archive_decoder(p, err) < 0) {
    return -1;
  }
  p->tar = archive_read_new();
  if (p->tar == NULL)
    berth_oom();
  archive_read_support_format_tar(p->tar);
  if (archive_read_open(p->tar, p, NULL, tar_read, NULL) != ARCHIVE_OK)
    return archive_fail(p, p->tar, err, "read archive");
  return 0;
}

static BERTH_WUR int read_entries(struct pipe *p, struct layer_apply_ctx *c, uint64_t *entries,
                                  berth_error_t *err)
{
  for (;;) {
    struct archive_entry *e;
    int r = archive_read_next_header(p->tar, &e);
    if (r == ARCHIVE_EOF)
      return 0;
    if (r < ARCHIVE_WARN)
      return archive_fail(p, p->tar, err, "read archive (after %llu entries)", (unsigned long long) *entries);
    const char *name = layer_entry_name(e);
    if (name == NULL)
      name = "";
    if (r == ARCHIVE_WARN)
      berth_log_debug("layer entry `%s`: %s", name, archive_error_string(p->tar));
    if (++*entries > c->max_entries)
      return BERTH_ERR(err, "too many entries: more than the limit of %llu",
                       (unsigned long long) c->max_entries);
    if (archive_entry_size(e) < 0 || (uint64_t) archive_entry_size(e) > c->max_bytes)
      return BERTH_ERR(err, "entry `%s`: size %lld exceeds the limit of %llu bytes", name,
                       (long long) archive_entry_size(e), (unsigned long long) c->max_bytes);
    r = layer_entry_apply(c, p->tar, e, err);
    if (r == -2)
      return archive_fail(p, p->tar, err, "entry `%s`", name);
    if (r < 0)
      return berth_error_wrap(err, "entry `%s`", name);
  }
}

/* hash what follows the end of the archive: the rest of the tar, then the rest of the input */
static BERTH_WUR int drain(struct pipe *p, berth_error_t *err)
{
  const void *buf;
  la_ssize_t n;
  while ((n = next_decoded(p, &buf)) > 0)
    ;
  while (n == 0 && !p->in_eof)
    n = read_input(p);
  if (n < 0) {
    *err = steal_ptr(p->perr);
    return -1;
  }
  return 0;
}

static void pipe_release(struct pipe *p)
{
  if (p->tar)
    archive_read_free(p->tar);
  if (p->dec)
    archive_read_free(p->dec);
  berth_digester_free(p->zdg);
  berth_digester_free(p->tdg);
  berth_error_release(&p->perr);
  if (p->zs_init)
    inflateEnd(&p->zs);
  free(p->zout);
  free(p->buf);
}

static BERTH_WUR int apply_stream(struct pipe *p, struct layer_apply_ctx *c, struct berth_layer_info *info,
                                  berth_error_t *err)
{
  uint64_t entries = 0;
  if (open_decoder(p, err) < 0 || read_entries(p, c, &entries, err) < 0)
    return -1;
  if (drain(p, err) < 0)
    return -1;
  layer_journal_finish(c, true); /* what was set aside goes before the directories get their times */
  if (layer_set_dir_times(c, err) < 0)
    return -1;
  if (info != NULL) {
    memset(info, 0, sizeof *info);
    berth_digester_final(p->tdg, info->diff_id);
    berth_digester_final(p->zdg, info->digest);
    info->size = p->zsize;
    info->tar_size = p->tsize;
    info->entries = entries;
  }
  return 0;
}

static BERTH_WUR int apply(int in_fd, int dirfd, const struct berth_layer_limits *lim, bool plain,
                           struct berth_tarsplit_rec *split, struct berth_layer_info *info,
                           berth_error_t *err)
{
  struct layer_apply_ctx c;
  layer_ctx_init(&c, dirfd);
  c.plain = plain;
  c.max_bytes = lim && lim->max_bytes ? lim->max_bytes : DEFAULT_MAX_BYTES;
  c.max_ratio = lim && lim->max_ratio ? lim->max_ratio : DEFAULT_MAX_RATIO;
  c.max_entries = lim && lim->max_entries ? lim->max_entries : DEFAULT_MAX_ENTRIES;
  struct pipe p = {
    .in_fd = in_fd,
    .buf = xmalloc(READ_BUF),
    .zdg = berth_digester_new(),
    .tdg = berth_digester_new(),
    .max_bytes = c.max_bytes,
    .max_ratio = c.max_ratio,
    .split = split,
  };
  struct layer_locale loc = layer_utf8_begin();
  int r = apply_stream(&p, &c, info, err);
  layer_utf8_end(loc);
  layer_journal_finish(&c, r == 0);
  pipe_release(&p);
  layer_ctx_release(&c);
  return r;
}

int berth_layer_apply(int in_fd, int dirfd, const struct berth_layer_limits *lim,
                      struct berth_layer_info *info, berth_error_t *err)
{
  return apply(in_fd, dirfd, lim, false, NULL, info, err) < 0 ? berth_error_wrap(err, "apply layer") : 0;
}

static int to_gz(void *data, const void *buf, size_t len)
{
  return gzwrite(data, buf, (unsigned) len) == (int) len ? 0 : -1;
}

int berth_layer_apply_split(int in_fd, int dirfd, const struct berth_layer_limits *lim, int record_fd,
                            struct berth_layer_info *info, const char **unsafe, berth_error_t *err)
{
  int fd = fcntl(record_fd, F_DUPFD_CLOEXEC, 3); /* gzclose closes it */
  if (fd < 0)
    return BERTH_ERR_ERRNO(err, "apply layer: open its tar-split record");
  gzFile gz = gzdopen(fd, "wb");
  if (gz == NULL)
    berth_oom();
  struct berth_tarsplit_rec *rec = berth_tarsplit_rec_new(to_gz, gz);
  int r = apply(in_fd, dirfd, lim, false, rec, info, err);
  int failed = 0;
  *unsafe = berth_tarsplit_rec_finish(rec, &failed);
  berth_tarsplit_rec_free(rec);
  if (gzclose(gz) != Z_OK || failed < 0) {
    if (r == 0)
      r = BERTH_ERR(err, "write the layer's tar-split record");
  }
  return r < 0 ? berth_error_wrap(err, "apply layer") : 0;
}

int berth_tar_extract(int in_fd, int dirfd, berth_error_t *err)
{
  return apply(in_fd, dirfd, NULL, true, NULL, NULL, err) < 0 ? berth_error_wrap(err, "extract tar") : 0;
}
