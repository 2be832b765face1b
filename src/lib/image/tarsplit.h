/* tar-split (issue 16, docs/design/tarsplit.md): a layer is kept once, as its extracted tree plus a
 * compact record of its tar stream — every byte that is not a regular file's contents (headers,
 * pax and GNU long-name records, padding, the end blocks, whatever follows them) and, for each
 * regular file, its name, size and CRC-32 — from which the exact tar is rebuilt, bit for bit,
 * with the same digest (the layer's diff ID). containers/storage's tar-split does the same; this
 * is berth's own, smaller and with one binary format.
 *
 * The record (before gzip, which the store adds):
 *
 *   "BTSPLIT1"                              magic
 *   'R' <varint n> <n bytes>                bytes of the tar as they were
 *   'F' <varint n> <name, n bytes> <varint size> <crc32, 4 bytes little-endian>
 *                                           size bytes of the file `name` of the tree
 *   'E' <varint total>                      the end: the tar had total bytes
 *
 * Recording is pure (fed the tar's bytes in order, in chunks of any size); a layer whose tree
 * cannot give the bytes back is "unsafe" and keeps its blob instead: a name that appears twice
 * where the later entry replaces a file's contents (or a whiteout removes it, or a
 * non-directory replaces a directory that held one), a file below a symlink of the same layer,
 * sparse files, hard links that carry data, a meta record over 1 MiB. Rebuilding reads each
 * file through openat2(RESOLVE_IN_ROOT) and checks its size and CRC-32. */
#ifndef BERTH_IMAGE_TARSPLIT_H
#define BERTH_IMAGE_TARSPLIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "image/digest.h"

#define BERTH_TARSPLIT_MAGIC "BTSPLIT1"
#define BERTH_TARSPLIT_FILE  "tar-split.gz" /* in the layer's directory, beside diff/ */

/* ---- recording (pure) ---- */
/* where the record's bytes go; < 0 stops the recording (the sink keeps its own error) */
typedef int (*berth_tarsplit_out_fn)(void *data, const void *buf, size_t len);
/* each regular file's contents as they pass (optional: tests and the fuzzer rebuild from it) */
typedef void (*berth_tarsplit_payload_fn)(void *data, const char *name, const void *buf, size_t len,
                                          bool first);

struct berth_tarsplit_rec;
struct berth_tarsplit_rec *berth_tarsplit_rec_new(berth_tarsplit_out_fn out, void *out_data);
void berth_tarsplit_rec_set_payload(struct berth_tarsplit_rec *r, berth_tarsplit_payload_fn fn, void *data);
/* the tar's next bytes; -1 only when the sink failed */
int berth_tarsplit_rec_feed(struct berth_tarsplit_rec *r, const void *buf, size_t len);
/* The end of the tar: the last segments and 'E'. NULL when the record is good, else why the
 * tree cannot give the tar back (a static string; the record is then worthless). -1 in *failed
 * when the sink failed. */
const char *berth_tarsplit_rec_finish(struct berth_tarsplit_rec *r, int *failed);
/* files recorded, bytes of the tar */
uint64_t berth_tarsplit_rec_files(const struct berth_tarsplit_rec *r);
void berth_tarsplit_rec_free(struct berth_tarsplit_rec *r);

/* ---- reading a record (pure) ---- */
/* the record's next n bytes exactly: 0, or -1 (error set) */
typedef int (*berth_tarsplit_in_fn)(void *data, void *buf, size_t n, berth_error_t *err);
struct berth_tarsplit_seg {
  char kind;           /* 'R', 'F' or 'E' */
  unsigned char *data; /* R: the bytes (owned by the reader until the next call) */
  size_t len;          /* R: their number */
  char *name;          /* F: the file's name as the tar gives it (owned by the reader) */
  uint64_t size;       /* F: its size; E: the tar's total size */
  uint32_t crc;        /* F */
};
struct berth_tarsplit_reader;
/* checks the magic */
int berth_tarsplit_reader_new(berth_tarsplit_in_fn in, void *in_data, struct berth_tarsplit_reader **out,
                              berth_error_t *err) BERTH_WUR;
/* the next segment; after 'E' the record is over */
int berth_tarsplit_reader_next(struct berth_tarsplit_reader *rd, struct berth_tarsplit_seg *seg,
                               berth_error_t *err) BERTH_WUR;
void berth_tarsplit_reader_free(struct berth_tarsplit_reader *rd);
static inline void berth_tarsplit_reader_cleanup(struct berth_tarsplit_reader **rd)
{
  berth_tarsplit_reader_free(*rd);
}
#define cleanup_tarsplit_reader __attribute__((cleanup(berth_tarsplit_reader_cleanup)))

/* ---- rebuilding from a record file and a tree (tarsplit_rebuild.c) ---- */
/* where the tar goes; 0 or -1 (error set) */
typedef int (*berth_tarsplit_write_fn)(void *data, const void *buf, size_t len, berth_error_t *err);
struct berth_tarsplit_result {
  char diff_id[BERTH_DIGEST_LEN + 1]; /* sha256 of what was written */
  uint64_t size;
  uint64_t files;
};
/* Rebuild the tar of record_fd (gzip, as the store keeps it) with the files of rootfd, written
 * through w. verify: check each file's CRC-32 (its size is always checked). res may be NULL. */
int berth_tarsplit_rebuild(int record_fd, int rootfd, bool verify, berth_tarsplit_write_fn w, void *w_data,
                           struct berth_tarsplit_result *res, berth_error_t *err) BERTH_WUR;

#endif
