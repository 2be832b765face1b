/* A layer's tar as save, push and system check read it: rebuilt from its tar-split record and its
 * tree (image/tarsplit.h) or, for a layer that kept its blob, decompressed from the blob; checked
 * against the layer's diff id either way. And the gzip a push sends of a layer without a blob. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/xalloc.h"
#include "engine/images/images_internal.h"
#include "image/archive_dl.h"
#include "image/tarsplit.h"

#define CHUNK (1u << 20)

static BERTH_WUR int rebuild(struct berth_engine *e, const struct berth_db_layer *l, bool verify,
                             berth_tarsplit_write_fn w, void *data, char *got, berth_error_t *err)
{
  cleanup_free char *dir = berth_store_layer_dir(e->store, l->chain_id);
  cleanup_free char *rec = xasprintf("%s/" BERTH_TARSPLIT_FILE, dir), *diff = xasprintf("%s/diff", dir);
  cleanup_close int recfd = open(rec, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  cleanup_close int rootfd = open(diff, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (recfd < 0 || rootfd < 0)
    return BERTH_ERR_ERRNO(err, "open `%s`", recfd < 0 ? rec : diff);
  struct berth_tarsplit_result res;
  if (berth_tarsplit_rebuild(recfd, rootfd, verify, w, data, &res, err) < 0)
    return -1;
  snprintf(got, BERTH_DIGEST_LEN + 1, "%s", res.diff_id);
  return 0;
}

static BERTH_WUR int decompress(struct berth_engine *e, const struct berth_db_layer *l,
                                berth_tarsplit_write_fn w, void *data, char *got, berth_error_t *err)
{
  if (berth_archive_load(err) < 0)
    return -1;
  cleanup_close int fd = berth_store_open_blob(e->store, l->blob_digest, err);
  if (fd < 0)
    return -1;
  struct archive *a = archive_read_new();
  archive_read_support_format_raw(a);
  struct archive_entry *ent;
  berth_digester_t *d = berth_digester_new();
  cleanup_free char *buf = xmalloc(CHUNK);
  int r = berth_archive_read_filters(a, BERTH_ARCHIVE_DECODERS, 0, err);
  if (r == 0 && (berth_archive_read_open_fd(a, fd, BERTH_ARCHIVE_DECODERS) != ARCHIVE_OK ||
                 archive_read_next_header(a, &ent) != ARCHIVE_OK))
    r = BERTH_ERR(err, "blob %s: %s", l->blob_digest, archive_error_string(a));
  for (la_ssize_t n; r == 0 && (n = archive_read_data(a, buf, CHUNK)) != 0;) {
    if (n < 0)
      r = BERTH_ERR(err, "blob %s: %s", l->blob_digest, archive_error_string(a));
    else if ((r = w(data, buf, (size_t) n, err)) == 0)
      berth_digester_update(d, buf, (size_t) n);
  }
  berth_digester_final(d, got);
  berth_digester_free(d);
  archive_read_free(a);
  return r;
}

int images_layer_tar(struct berth_engine *e, const struct berth_db_layer *l, bool verify,
                     berth_tarsplit_write_fn w, void *data, berth_error_t *err)
{
  berth_digest_t got;
  int r = l->tar_split ? rebuild(e, l, verify, w, data, got, err) : decompress(e, l, w, data, got, err);
  if (r == 0 && strcmp(got, l->diff_id) != 0)
    r = BERTH_ERR(err, "its tar is %s, not its diff id %s: the store is corrupt (berth system check)", got,
                  l->diff_id);
  return r < 0 ? berth_error_wrap(err, "layer %s", l->chain_id) : 0;
}

static BERTH_WUR int discard(void *data, const void *buf, size_t len, berth_error_t *err) { return 0; }

int berth_images_layer_verify(struct berth_engine *e, const struct berth_db_layer *l, berth_error_t *err)
{
  return images_layer_tar(e, l, true, discard, NULL, err);
}

/* ---- the gzip of a push ---- */

struct gz_out {
  z_stream zs;
  int fd;
  berth_digester_t *d;
  uint64_t size;
  unsigned char *buf;
};

static BERTH_WUR int gz_flush(struct gz_out *g, int flush, berth_error_t *err)
{
  do {
    g->zs.next_out = g->buf;
    g->zs.avail_out = CHUNK;
    (void) deflate(&g->zs, flush);
    size_t n = CHUNK - g->zs.avail_out;
    if (berth_write_all(g->fd, g->buf, n) < 0)
      return BERTH_ERR_ERRNO(err, "write the compressed layer");
    berth_digester_update(g->d, g->buf, n);
    g->size += n;
  } while (g->zs.avail_out == 0);
  return 0;
}

static BERTH_WUR int gz_write(void *data, const void *buf, size_t len, berth_error_t *err)
{
  struct gz_out *g = data;
  g->zs.next_in = (unsigned char *) buf;
  g->zs.avail_in = (uInt) len;
  return gz_flush(g, Z_NO_FLUSH, err);
}

int images_layer_gzip(struct berth_engine *e, const struct berth_db_layer *l, int *fd, berth_digest_t digest,
                      uint64_t *size, berth_error_t *err)
{
  cleanup_free char *tmp = xasprintf("%s/tmp", e->store->root);
  cleanup_close int out = open(tmp, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (out < 0)
    return BERTH_ERR_ERRNO(err, "layer %s: a temporary file in `%s`", l->chain_id, tmp);
  struct gz_out g = { .fd = out, .d = berth_digester_new(), .buf = xmalloc(CHUNK) };
  /* windowBits 16+15: a gzip header without name or time, so the same layer gives the same bytes */
  if (deflateInit2(&g.zs, 1, Z_DEFLATED, 16 + 15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    berth_oom();
  int r = images_layer_tar(e, l, false, gz_write, &g, err);
  if (r == 0) {
    g.zs.avail_in = 0;
    r = gz_flush(&g, Z_FINISH, err);
  }
  deflateEnd(&g.zs);
  berth_digester_final(g.d, digest);
  berth_digester_free(g.d);
  free(g.buf);
  if (r < 0)
    return -1;
  *size = g.size;
  *fd = steal_fd(out);
  return 0;
}
