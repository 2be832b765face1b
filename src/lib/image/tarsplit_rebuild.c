/* Rebuilding a layer's tar from its tar-split record (gzip) and its extracted tree: the record's
 * bytes as they are, each file's contents read through openat2(RESOLVE_IN_ROOT) and checked
 * (size always, CRC-32 when asked), the whole digested. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/xalloc.h"
#include "image/tarsplit.h"

#define COPY_BUF (256u << 10)

struct rebuild {
  gzFile gz;
  int rootfd;
  bool verify;
  berth_tarsplit_write_fn w;
  void *w_data;
  berth_digester_t *dg;
  uint64_t size, files;
  unsigned char *buf;
};

static BERTH_WUR int gz_in(void *data, void *buf, size_t n, berth_error_t *err)
{
  struct rebuild *rb = data;
  while (n > 0) {
    int k = gzread(rb->gz, buf, n > (1u << 30) ? 1u << 30 : (unsigned) n);
    if (k <= 0) {
      int code = 0;
      const char *msg = gzerror(rb->gz, &code);
      return BERTH_ERR(err, "read the record: %s", k == 0 ? "truncated" : msg);
    }
    buf = (char *) buf + k;
    n -= (size_t) k;
  }
  return 0;
}

static BERTH_WUR int put(struct rebuild *rb, const void *buf, size_t len, berth_error_t *err)
{
  berth_digester_update(rb->dg, buf, len);
  rb->size += len;
  return rb->w(rb->w_data, buf, len, err);
}

static BERTH_WUR int put_file(struct rebuild *rb, const struct berth_tarsplit_seg *seg, berth_error_t *err)
{
  cleanup_close int fd = berth_openat2(rb->rootfd, seg->name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0,
                                       RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) < 0)
    return BERTH_ERR_ERRNO(err, "file `%s`", seg->name);
  if (!S_ISREG(st.st_mode) || (uint64_t) st.st_size != seg->size)
    return BERTH_ERR(err, "file `%s`: the tree no longer matches the record (%s %llu bytes, expected %llu)",
                     seg->name, S_ISREG(st.st_mode) ? "size" : "not a regular file",
                     (unsigned long long) st.st_size, (unsigned long long) seg->size);
  uLong crc = crc32(0, NULL, 0);
  for (uint64_t left = seg->size; left > 0;) {
    ssize_t n = read(fd, rb->buf, left < COPY_BUF ? (size_t) left : COPY_BUF);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return n < 0 ? BERTH_ERR_ERRNO(err, "read `%s`", seg->name)
                   : BERTH_ERR(err, "file `%s`: shorter than the record says", seg->name);
    if (rb->verify)
      crc = crc32(crc, rb->buf, (uInt) n);
    if (put(rb, rb->buf, (size_t) n, err) < 0)
      return -1;
    left -= (uint64_t) n;
  }
  if (rb->verify && (uint32_t) crc != seg->crc)
    return BERTH_ERR(err, "file `%s`: the tree no longer matches the record (CRC-32)", seg->name);
  rb->files++;
  return 0;
}

static BERTH_WUR int run(struct rebuild *rb, berth_error_t *err)
{
  cleanup_tarsplit_reader struct berth_tarsplit_reader *rd = NULL;
  if (berth_tarsplit_reader_new(gz_in, rb, &rd, err) < 0)
    return -1;
  for (;;) {
    struct berth_tarsplit_seg seg;
    if (berth_tarsplit_reader_next(rd, &seg, err) < 0)
      return -1;
    if (seg.kind == 'E') {
      if (seg.size != rb->size)
        return BERTH_ERR(err, "rebuilt %llu bytes, the record says %llu", (unsigned long long) rb->size,
                         (unsigned long long) seg.size);
      return 0;
    }
    if (seg.kind == 'R' ? put(rb, seg.data, seg.len, err) < 0 : put_file(rb, &seg, err) < 0)
      return -1;
  }
}

int berth_tarsplit_rebuild(int record_fd, int rootfd, bool verify, berth_tarsplit_write_fn w, void *w_data,
                           struct berth_tarsplit_result *res, berth_error_t *err)
{
  int fd = fcntl(record_fd, F_DUPFD_CLOEXEC, 3); /* gzclose closes it */
  if (fd < 0)
    return BERTH_ERR_ERRNO(err, "rebuild layer tar: duplicate the record's descriptor");
  struct rebuild rb = { .rootfd = rootfd, .verify = verify, .w = w, .w_data = w_data };
  rb.gz = gzdopen(fd, "rb");
  if (rb.gz == NULL) {
    close(fd);
    berth_oom();
  }
  gzbuffer(rb.gz, 128u << 10);
  rb.dg = berth_digester_new();
  rb.buf = xmalloc(COPY_BUF);
  int r = run(&rb, err);
  if (r == 0 && res) {
    berth_digester_final(rb.dg, res->diff_id);
    res->size = rb.size;
    res->files = rb.files;
  }
  berth_digester_free(rb.dg);
  gzclose(rb.gz);
  free(rb.buf);
  return r < 0 ? berth_error_wrap(err, "rebuild layer tar") : 0;
}
