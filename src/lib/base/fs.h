/* File-system helpers; everything inside a container root resolves with
 * openat2(RESOLVE_IN_ROOT) so that no symlink or ".." can leave the root. */
#ifndef BERTH_BASE_FS_H
#define BERTH_BASE_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"

#ifndef RESOLVE_NO_XDEV
#define RESOLVE_NO_XDEV       0x01
#define RESOLVE_NO_MAGICLINKS 0x02
#define RESOLVE_NO_SYMLINKS   0x04
#define RESOLVE_BENEATH       0x08
#define RESOLVE_IN_ROOT       0x10
#define RESOLVE_CACHED        0x20
#endif

/* raw openat2(2); retries EINTR and the EAGAIN that RESOLVE_IN_ROOT gives on a racing rename */
int berth_openat2(int dirfd, const char *path, int flags, mode_t mode, uint64_t resolve);

/* Open path resolved inside root (absolute or relative, symlinks followed but never out
 * of root, magic links refused). flags always gain O_CLOEXEC. */
int berth_open_in_root(int rootfd, const char *path, int flags, mode_t mode, berth_error_t *err) BERTH_WUR;

/* mkdir -p of path inside root; returns an O_PATH|O_DIRECTORY fd of the last directory. */
int berth_mkdir_p_in_root(int rootfd, const char *path, mode_t mode, berth_error_t *err) BERTH_WUR;

/* mkdir -p on the host (plain paths). */
int berth_mkdir_p(const char *path, mode_t mode, berth_error_t *err) BERTH_WUR;

/* Read a whole file (at most max bytes, 0 = 64 MiB); *out is NUL-terminated. */
int berth_read_file_at(int dirfd, const char *path, size_t max, char **out, size_t *len,
                       berth_error_t *err) BERTH_WUR;
static inline BERTH_WUR int berth_read_file(const char *path, size_t max, char **out, size_t *len,
                                            berth_error_t *err)
{
  return berth_read_file_at(-100 /* AT_FDCWD */, path, max, out, len, err);
}

/* Write data to an existing file (O_WRONLY|O_TRUNC unless append). */
int berth_write_file_at(int dirfd, const char *path, const void *data, size_t len,
                        berth_error_t *err) BERTH_WUR;
/* Write data to a new file in the same dir, fsync-less rename into place (base/output.h: never
 * through a symlink or into an existing file; a symlink at path is replaced). */
int berth_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
                            berth_error_t *err) BERTH_WUR;

/* write(2)/read(2) loops that retry EINTR and short transfers. */
int berth_write_all(int fd, const void *data, size_t len);
ssize_t berth_read_all(int fd, void *data, size_t len);
/* A shared flock on a directory (a mark that a command is using it: `system check` leaves such a
 * directory alone); the descriptor to close when done, or -1. */
int berth_dir_flock_shared(const char *dir);

/* rm -rf of a tree a container may have made: never follows a symlink nor enters a mount point,
 * holds at most a fixed number of descriptors whatever the depth (fs_rmrf.c); returns 0 if path
 * did not exist. */
int berth_rm_rf(const char *path, berth_error_t *err) BERTH_WUR;
/* The same for the entry name (a path) in the directory dirfd. */
int berth_rm_rf_at(int dirfd, const char *name, berth_error_t *err) BERTH_WUR;

/* Is the fd on a procfs? (CVE-2019-16884: check before writing through /proc)
 * Returns 1 when it is, 0 when it is not, < 0 when fstatfs fails. */
int berth_fd_is_procfs(int fd, berth_error_t *err) BERTH_WUR;

/* Path of an fd as /proc/self/fd/N (buffer of at least 32 bytes). */
const char *berth_fd_path(int fd, char *buf, size_t len);

/* Close every fd >= first except those listed (close_range where possible). */
int berth_close_fds_from(int first, const int *keep, size_t nkeep);
/* Mark every fd >= first close-on-exec. */
int berth_cloexec_fds_from(int first);

#endif
