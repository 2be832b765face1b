/* Sources of COPY and ADD, read in place: the build context (a directory of the user's, never
 * copied anywhere first) or another stage's root. Context paths are resolved beneath the context
 * (openat2 RESOLVE_BENEATH: a `..` or a symlink that would leave it is an error, "escapes the
 * build context"), and .dockerignore hides what it excludes; a stage's paths resolve inside its
 * root (RESOLVE_IN_ROOT), as a container would see them. Entries below a source are opened one
 * directory at a time, never following a symlink. And the copy itself: Docker's rules for
 * COPY, owners and modes as --chown and --chmod say, into a root that paths resolve inside. */
#ifndef BERTH_BUILD_CONTEXT_H
#define BERTH_BUILD_CONTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "base/error.h"
#include "build/ignore.h"
#include "image/digest.h"

/* where sources are read from */
struct berth_build_root {
  int fd;                            /* O_PATH | O_DIRECTORY */
  bool context;                      /* the build context: RESOLVE_BENEATH, owners reset to 0:0 */
  const struct berth_ignore *ignore; /* context only (may be NULL) */
};

/* one source, after wildcards */
struct berth_build_source {
  char *rel; /* relative to the root, cleaned ("." for the root itself) */
  int fd;    /* O_PATH of the entry (the source path's symlinks followed, the entry's own too) */
  struct stat st;
};
void berth_build_sources_free(struct berth_build_source *v, size_t n);

/* The entries a COPY source names: a path (absolute or not, always from the root) or a pattern
 * (Go's filepath.Match per component). A pattern matching nothing gives none; a missing path
 * is an error ("`x`: no such file or directory", also when .dockerignore excludes it). */
int berth_build_sources_resolve(const struct berth_build_root *r, const char *src,
                                struct berth_build_source **out, size_t *n, berth_error_t *err) BERTH_WUR;

/* A digest of what the sources are for a copy: each entry below them (not excluded) by
 * relative path, type, permission bits, size, symlink target and content (sha256) — not mtimes,
 * not owners for the context (COPY gives them 0:0), owners otherwise. */
int berth_build_sources_digest(const struct berth_build_root *r, const struct berth_build_source *v, size_t n,
                               char *const *excludes, char digest[BERTH_DIGEST_LEN + 1],
                               berth_error_t *err) BERTH_WUR;

struct berth_build_copy_opts {
  bool chown; /* uid/gid for every entry copied and every directory made */
  uint32_t uid, gid;
  bool chmod;                 /* mode for every entry copied (not the directories made) */
  uint32_t mode;              /* octal --chmod */
  const char *chmod_symbolic; /* or a symbolic one, applied to each entry's mode */
  bool clamp;                 /* mtimes newer than epoch become epoch (SOURCE_DATE_EPOCH) */
  int64_t epoch;
  char *const *excludes; /* COPY --exclude patterns (relative to the source) */
};

struct berth_build_copy_stats {
  uint64_t bytes, entries;
};

/* Copy src (of root r) to dest in the root dst_root (an O_PATH directory; paths resolve inside
 * it), as COPY does: a directory's contents go into dest (made with the directory's metadata
 * when missing); a file goes to dest, or into it when dest is a directory or dest_dir; the
 * parents of the destination are made (0755). Existing directories are merged into (the top
 * one keeps its metadata), files and symlinks replaced; hard links within the copy kept. */
int berth_build_copy(const struct berth_build_root *r, const struct berth_build_source *src, int dst_root,
                     const char *dest, bool dest_dir, const struct berth_build_copy_opts *o,
                     struct berth_build_copy_stats *stats, berth_error_t *err) BERTH_WUR;

/* Write data as the file dest (or dest/name when dest_dir) with mode (chmod overrides) and the
 * owner of o, parents made: a here-document, a downloaded file. mtime: seconds (clamped). */
int berth_build_write_file(int dst_root, const char *dest, bool dest_dir, const char *name, int data_fd,
                           const char *data, size_t len, uint32_t mode, int64_t mtime,
                           const struct berth_build_copy_opts *o, berth_error_t *err) BERTH_WUR;

/* mkdir -p path inside root: the directories made get mode and the owner (uid/gid); *fd: an
 * O_PATH fd of the last one (may be NULL) */
int berth_build_mkdir_p(int root, const char *path, uint32_t mode, uint32_t uid, uint32_t gid, int64_t mtime,
                        int *fd, berth_error_t *err) BERTH_WUR;

#endif
