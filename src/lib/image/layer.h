/* Layers: apply a tar stream (uncompressed, gzip or zstd; detected) into a directory — created by
 * descriptor, every path resolved inside the root (openat2 RESOLVE_IN_ROOT), never following a
 * link out of it — converting OCI whiteouts to overlayfs's format; and the reverse: an overlay
 * upper dir to a reproducible layer tar. Digests of the compressed stream and of the tar (the
 * diff ID) are computed while streaming. libarchive only reads and writes archives; writing
 * files to disk is ours (never archive_write_disk). */
#ifndef BERTH_IMAGE_LAYER_H
#define BERTH_IMAGE_LAYER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "image/digest.h"

struct berth_layer_limits {
  uint64_t max_bytes;   /* expanded size cap (0: default 64 GiB); also caps one entry's size */
  uint64_t max_ratio;   /* expanded / compressed cap (0: default 1000), judged against at least
                           64 KiB of input so that a small layer of zeros is not a "bomb" */
  uint64_t max_entries; /* (0: default 10 million) */
};

struct berth_layer_info {
  char diff_id[BERTH_DIGEST_LEN + 1]; /* sha256 of the uncompressed tar */
  char digest[BERTH_DIGEST_LEN + 1];  /* sha256 of the stream as read (compressed) */
  uint64_t size;                      /* bytes of the stream as read */
  uint64_t tar_size;                  /* bytes of the uncompressed tar */
  uint64_t entries;
};

/* Apply the stream read from in_fd into dirfd (an empty directory owned by the caller).
 * Refused with a clear error (and the caller removes the directory): a corrupt or truncated
 * archive (gzip members' CRC-32 and length are checked), ".." or absolute names (entry or
 * hardlink target), links leading outside, a whiteout outside the root, an expanded size,
 * ratio or entry count above the limits. Symlinks already extracted resolve inside the root
 * when later entries go through them, but no directory is created through a symlink (a
 * dangling one or a missing directory below one is refused). A later entry replaces an
 * earlier one (a directory over a directory keeps its contents); ".wh.<name>" replaces what
 * is at <name> in this layer by a 0:0 char device with the entry's owner, mode and times;
 * ".wh..wh..opq" sets trusted.overlay.opaque=y; other ".wh..wh." names are ignored. xattrs:
 * user.*, trusted.* (not trusted.overlay.*), security.capability and POSIX ACLs; others, or
 * ones the filesystem refuses, are skipped with a warning. The stream is read to its end:
 * info's digests cover every byte. info may be NULL. */
int berth_layer_apply(int in_fd, int dirfd, const struct berth_layer_limits *lim,
                      struct berth_layer_info *info, berth_error_t *err) BERTH_WUR;

/* berth_layer_apply that also records the layer's tar-split (image/tarsplit.h), gzip, into
 * record_fd. *unsafe: NULL when the record and the tree give the tar back, else why they
 * cannot (then the record is worthless and the layer keeps its blob). */
int berth_layer_apply_split(int in_fd, int dirfd, const struct berth_layer_limits *lim, int record_fd,
                            struct berth_layer_info *info, const char **unsafe, berth_error_t *err) BERTH_WUR;

enum berth_compression {
  BERTH_COMPRESSION_NONE,
  BERTH_COMPRESSION_GZIP,
  BERTH_COMPRESSION_ZSTD,
};

/* Write the layer tar of an overlay upper dir to out_fd: entries sorted by name in each
 * directory (depth first, the root itself not included), mtimes (whole seconds), owners,
 * modes and xattrs (the set apply accepts) as on disk, hardlinks by (dev, ino), whiteout
 * char devices (0:0) -> ".wh.<name>", opaque dirs (trusted.overlay.opaque=y) ->
 * "<dir>/.wh..wh..opq" right after the directory; sockets are skipped. The same tree gives
 * the same bytes (the gzip header has no time or name). Fills diff_id, digest (= diff_id
 * for NONE), size (bytes written), tar_size, entries; info may be NULL. */
int berth_layer_diff(int upper_dirfd, int out_fd, enum berth_compression c, struct berth_layer_info *info,
                     berth_error_t *err) BERTH_WUR;

/* docker cp's tar streams. berth_tar_write: the entry `name` of dirfd (a directory
 * recursively; never following a symlink) as a pax tar named `as` at the top, or with name
 * NULL the entries of dirfd itself at the top; like berth_layer_diff (sorted, owners, modes,
 * mtimes, xattrs, hardlinks within the stream, sockets skipped) but the tree as it is: no
 * whiteout or opaque conversion.
 * berth_tar_extract: a tar stream (plain, gzip or zstd) into the existing directory dirfd,
 * with berth_layer_apply's safety and limits, except that ".wh." names are ordinary files,
 * the archive's own root entry is skipped (dirfd keeps its owner, mode and times), and an
 * existing directory is never replaced by a non-directory (an error naming the entry). */
int berth_tar_write(int dirfd, const char *name, const char *as, int out_fd, berth_error_t *err) BERTH_WUR;
int berth_tar_extract(int in_fd, int dirfd, berth_error_t *err) BERTH_WUR;

#endif
