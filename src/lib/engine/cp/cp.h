/* Copying files between a container's root and the host (`berth cp`, and the pre-fill of a new
 * volume from its image): the copy engine and the roots it works in.
 *
 * Safety: every path on a container's side is resolved inside its root (openat2
 * RESOLVE_IN_ROOT: "..", absolute symlinks and magic links never leave it), and every entry
 * below the copied item is opened by name relative to its directory's descriptor without
 * following symlinks. Whatever a container holds (a symlink to /etc/shadow, to ../../..), berth
 * neither reads nor writes a host file through it. Symlinks are copied as symlinks. */
#ifndef BERTH_ENGINE_CP_H
#define BERTH_ENGINE_CP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/child.h"
#include "base/error.h"
#include "engine/catalogue/catalogue.h"

/* One side of a copy: root >= 0 is a directory (a container's root) that paths resolve inside;
 * root < 0 is the host (paths as given, relative ones from the current directory). */
struct berth_cp_side {
  int root;
};

struct berth_cp_opts {
  bool follow_link; /* -L: a symlink named by the source path is followed (inside its root) */
};

struct berth_cp_stats {
  uint64_t bytes;   /* regular file bytes written */
  uint64_t entries; /* entries created */
};

/* docker cp's rules, src_path -> dst_path:
 *   a file to a missing path: that file; to a file: replaces it; to a directory: dir/<name>
 *   a directory to a missing path: created with the directory's contents; to a directory:
 *     dir/<name>, or its contents when src_path ends with "/."; to a file: an error
 *   dst_path ending with "/": must be an existing directory; src_path ending with "/": must be
 *   a directory.
 * An existing entry is replaced by one of the same kind (a directory is merged into); a
 * directory is never replaced by a non-directory or the reverse. Owners, modes (setuid too),
 * times, hard links within the copy, user.* and security.capability xattrs are preserved;
 * sockets are skipped; the contents of proc, sysfs, cgroup, devpts and mqueue mounts are not
 * copied (the directory is). stats may be NULL. */
int berth_cp_copy(const struct berth_cp_side *src, const char *src_path, const struct berth_cp_side *dst,
                  const char *dst_path, const struct berth_cp_opts *o, struct berth_cp_stats *stats,
                  berth_error_t *err) BERTH_WUR;

/* The entries of the directory src_dirfd copied into the directory dst_dirfd (same rules), then
 * src's owner, mode and times given to dst (a volume takes its image directory's). */
int berth_cp_tree_into(int src_dirfd, int dst_dirfd, struct berth_cp_stats *stats,
                       berth_error_t *err) BERTH_WUR;

/* docker cp's `-` (stream.c): src inside root (resolved there; a trailing "/."
 * or "/" means the directory's entries, else the item under its own name; follow: a symlink
 * named by src is followed inside root) as a tar to out_fd; a tar from in_fd extracted into
 * the existing directory dst inside root (berth_tar_extract). */
int berth_cp_stream_out(int root, const char *src, bool follow, int out_fd, berth_error_t *err) BERTH_WUR;
int berth_cp_stream_in(int in_fd, int root, const char *dst, berth_error_t *err) BERTH_WUR;

/* ---- roots (mounter.c) ---- */

/* A child process in a private mount namespace holding an overlay mounted at target (and bind
 * mounts inside it), alive while the parent works through root (an O_PATH descriptor of the
 * merged tree). The mounts go when the child ends, whatever happens to berth. */
struct berth_cp_mounter {
  struct berth_child child; /* closing its channel ends it */
  int root;
};
struct berth_cp_mount_in {
  const char *const *lowers; /* layer dirs, top first */
  size_t nlowers;
  const char *upper, *work;           /* NULL: a read-only overlay */
  const char *target;                 /* an empty directory */
  const struct berth_db_mount *binds; /* bind and volume mounts (others ignored) */
  size_t nbinds;
};
int berth_cp_mounter_start(const struct berth_cp_mount_in *in, struct berth_cp_mounter *out,
                           berth_error_t *err) BERTH_WUR;
/* closes root, ends the child and waits for it */
void berth_cp_mounter_stop(struct berth_cp_mounter *m);

/* Mount a container's overlay (n lowers, top first; berth_mountns_overlay), retried for a
 * second on EBUSY: overlayfs refuses an upper dir another overlay still uses, as the previous
 * monitor's namespace may while it is torn down right after a stop. The mounter's, and a
 * container's start. */
int berth_cp_mount_overlay(const char *const *lowers, size_t n, const char *upper, const char *work,
                           const char *target, unsigned flags, berth_error_t *err) BERTH_WUR;

#endif
