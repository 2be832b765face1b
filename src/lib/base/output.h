/* Files berth makes at a path someone named (`save -o`, `export -o`, `--pid-file`, `--log`, state
 * files): safe where another user can write the directory they go in (docs/security.md).
 *
 * The directory is opened once; everything happens relative to that descriptor. A whole file
 * is written to a new temporary name there, created O_CREAT|O_EXCL|O_NOFOLLOW (never an
 * existing file, never through a symlink, never a hard link someone planted), and renameat()
 * moves it to its name when complete. When that name is a symlink, the rename replaces the
 * link itself: nothing is written through it (Docker's `save -o` and runc's --pid-file do the
 * same). The directory part of the path is the caller's and is followed as given.
 */
#ifndef BERTH_BASE_OUTPUT_H
#define BERTH_BASE_OUTPUT_H

#include <stdbool.h>
#include <sys/types.h>

#include "base/error.h"

struct berth_output {
  int dirfd;  /* the directory of the file (O_PATH) */
  int fd;     /* the new file, to write */
  char *name; /* its final name in dirfd */
  char *tmp;  /* its temporary name in dirfd */
  char *path; /* the path as given, for messages */
};
#define BERTH_OUTPUT_INIT                                                                                    \
  {                                                                                                          \
    .dirfd = -1, .fd = -1, .name = NULL, .tmp = NULL, .path = NULL                                           \
  }

/* Start the file path (mode as for open(2), umask applied): o->fd is a new, empty file under a
 * temporary name. An existing directory at path is an error. */
int berth_output_open(const char *path, mode_t mode, struct berth_output *o, berth_error_t *err) BERTH_WUR;
/* Close o->fd and rename the file to its name; on failure the temporary file is removed. o is
 * released either way. */
int berth_output_commit(struct berth_output *o, berth_error_t *err) BERTH_WUR;
/* Remove the temporary file and release o; safe on BERTH_OUTPUT_INIT and after commit. */
void berth_output_abort(struct berth_output *o);
#define cleanup_output __attribute__((cleanup(berth_output_abort)))

/* The directory path for output (`save --format oci-dir -o DIR`): made with mode when absent
 * (*made says so), then opened O_RDONLY|O_DIRECTORY|O_NOFOLLOW relative to its parent. A
 * symlink there is refused, never followed. Returns the descriptor. */
int berth_output_mkdir(const char *path, mode_t mode, bool *made, berth_error_t *err) BERTH_WUR;

/* Open path with flags (mode for O_CREAT) where it already exists or is to be made, as a log
 * file (`--log`) or a destination (`cp` to the host): a symlink at its last component is followed
 * only when it belongs to the caller's effective uid or to root (so `/dev/stderr` works), and
 * then to the target read from the link that was checked. Another user's planted link is
 * refused (EPERM), never followed. Returns the descriptor. */
int berth_output_open_trusted(const char *path, int flags, mode_t mode, berth_error_t *err) BERTH_WUR;

#endif
