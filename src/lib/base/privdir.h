/* Directories only their owner may enter: the top levels of berth's stores and run roots
 * (docs/security.md, "Other local users"). */
#ifndef BERTH_BASE_PRIVDIR_H
#define BERTH_BASE_PRIVDIR_H

#include <sys/types.h>

#include "base/error.h"

/* mkdir -p path, then make its last level exactly `mode` (0700 for a store): an existing
 * directory with looser bits (an older berth made them 0711/0755) is tightened. The last level
 * must be a directory owned by the effective uid, reached without following a symlink at its
 * last component: anything else is an error naming the path. */
int berth_privdir_ensure(const char *path, mode_t mode, berth_error_t *err) BERTH_WUR;

/* the same for `name` in the directory dirfd (one level, no symlink); returns an
 * O_RDONLY|O_DIRECTORY fd of it when out_fd is not NULL */
int berth_privdir_ensure_at(int dirfd, const char *name, mode_t mode, int *out_fd,
                            berth_error_t *err) BERTH_WUR;

#endif
