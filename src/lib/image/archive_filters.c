/* Decompression of untrusted archives in-process only (image/archive_dl.h).
 *
 * archive_read_support_filter_all() lets libarchive run lrzip, grzip and lzop (and gzip, bzip2,
 * lz4... where it was built without their libraries) as external programs: root running
 * whatever is installed under those names on input that anyone may have crafted. Here each
 * decoder is registered only when libarchive has it built in, which it reports by returning
 * ARCHIVE_OK rather than ARCHIVE_WARN ("Using external ... program"); and a stream in any other
 * compression is refused by name before libarchive looks at it.
 */
#include "image/archive_dl.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/xalloc.h"

struct decoder {
  unsigned bit;
  const char *name;
  int (*support)(struct archive *);
};

static int support_gzip(struct archive *a) { return archive_read_support_filter_gzip(a); }
static int support_bzip2(struct archive *a) { return archive_read_support_filter_bzip2(a); }
static int support_xz(struct archive *a) { return archive_read_support_filter_xz(a); }
static int support_lzma(struct archive *a) { return archive_read_support_filter_lzma(a); }
static int support_zstd(struct archive *a) { return archive_read_support_filter_zstd(a); }
static int support_lz4(struct archive *a) { return archive_read_support_filter_lz4(a); }

static const struct decoder decoders[] = {
  { BERTH_ARCHIVE_GZIP, "gzip", support_gzip }, { BERTH_ARCHIVE_BZIP2, "bzip2", support_bzip2 },
  { BERTH_ARCHIVE_XZ, "xz", support_xz },       { BERTH_ARCHIVE_LZMA, "lzma", support_lzma },
  { BERTH_ARCHIVE_ZSTD, "zstd", support_zstd }, { BERTH_ARCHIVE_LZ4, "lz4", support_lz4 },
};
#define N_DECODERS (sizeof decoders / sizeof decoders[0])

/* the decoders built into the loaded libarchive, probed once on a scratch reader */
unsigned berth_archive_builtin_filters(void)
{
  static int probed = -1;
  if (probed >= 0)
    return (unsigned) probed;
  unsigned have = 0;
  for (size_t i = 0; i < N_DECODERS; i++) {
    struct archive *t = archive_read_new();
    if (t == NULL)
      return 0;
    if (decoders[i].support(t) == ARCHIVE_OK)
      have |= decoders[i].bit;
    archive_read_free(t);
  }
  probed = (int) have;
  return have;
}

int berth_archive_read_filters(struct archive *a, unsigned want, unsigned need, berth_error_t *err)
{
  unsigned have = berth_archive_builtin_filters();
  for (size_t i = 0; i < N_DECODERS; i++) {
    if ((need & decoders[i].bit) && !(have & decoders[i].bit))
      return BERTH_ERR(err, "libarchive has no built-in %s decoder (external programs are not used)",
                       decoders[i].name);
    if ((want & have & decoders[i].bit) && decoders[i].support(a) != ARCHIVE_OK)
      return BERTH_ERR(err, "libarchive: enable the %s decoder: %s", decoders[i].name,
                       archive_error_string(a));
  }
  return 0;
}

/* compressions by their first bytes: bit 0 for those never decoded in-process */
static const struct magic {
  unsigned bit;
  const char *name;
  size_t len;
  const char *bytes;
} magics[] = {
  { BERTH_ARCHIVE_GZIP, "gzip", 2, "\x1f\x8b" },
  { BERTH_ARCHIVE_BZIP2, "bzip2", 3, "BZh" },
  { BERTH_ARCHIVE_XZ, "xz", 6, "\xfd\x37\x7a\x58\x5a\x00" },
  { BERTH_ARCHIVE_ZSTD, "zstd", 4, "\x28\xb5\x2f\xfd" },
  { BERTH_ARCHIVE_LZ4, "lz4", 4, "\x04\x22\x4d\x18" },
  { BERTH_ARCHIVE_LZ4, "lz4", 4, "\x02\x21\x4c\x18" },
  { 0, "lzop", 9, "\x89LZO\0\r\n\x1a\n" },
  { 0, "lrzip", 4, "LRZI" },
  { 0, "grzip", 12, "GRZipII\0\x02\x04:)" },
  { 0, "lzip", 4, "LZIP" },
  { 0, "compress (.Z)", 2, "\x1f\x9d" },
};

/* the name of the compression head is in when it is not one of `usable`, else NULL */
static const char *refused_compression(const unsigned char *head, size_t n, unsigned usable)
{
  /* a tar whose first member's name happens to start like a magic number is a tar */
  if (n >= 262 && memcmp(head + 257, "ustar", 5) == 0)
    return NULL;
  for (size_t i = 0; i < sizeof magics / sizeof magics[0]; i++)
    if (n >= magics[i].len && memcmp(head, magics[i].bytes, magics[i].len) == 0)
      return (magics[i].bit & usable) ? NULL : magics[i].name;
  return NULL;
}

#define SRC_BUF (1 << 16)

struct src {
  int fd;
  unsigned usable;
  bool looked;
  unsigned char buf[SRC_BUF];
};

static la_ssize_t src_read(struct archive *a, void *data, const void **out)
{
  struct src *s = data;
  size_t n = 0;
  /* the first block: at least a tar header's worth, to tell a tar from a compressed stream */
  do {
    ssize_t r = read(s->fd, s->buf + n, SRC_BUF - n);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0) {
      archive_set_error(a, errno, "read: %s", strerror(errno));
      return -1;
    }
    if (r == 0)
      break;
    n += (size_t) r;
  } while (!s->looked && n < 512);
  if (!s->looked) {
    s->looked = true;
    const char *name = refused_compression(s->buf, n, s->usable);
    if (name != NULL) {
      archive_set_error(a, EILSEQ, /* libarchive's ARCHIVE_ERRNO_FILE_FORMAT */
                        "%s-compressed input is not supported (only gzip, bzip2, xz, zstd and lz4 are "
                        "decompressed, in-process; no external program is run)",
                        name);
      return -1;
    }
  }
  *out = s->buf;
  return (la_ssize_t) n;
}

static int src_close(struct archive *a, void *data)
{
  (void) a;
  free(data);
  return ARCHIVE_OK;
}

int berth_archive_read_open_fd(struct archive *a, int fd, unsigned usable)
{
  struct src *s = xmalloc0(sizeof *s);
  s->fd = fd;
  s->usable = usable & berth_archive_builtin_filters();
  return archive_read_open(a, s, NULL, src_read, src_close);
}
