/* Private directories: made with the mode asked for and tightened when found looser.
 *
 * A store directory is the only barrier between other local users and what containers and
 * images control (setuid files, device nodes, volume data: CVE-2021-41091). mkdir(2) only sets
 * a mode when it creates, so an existing directory is fchmod'ed through a descriptor that was
 * opened without following a symlink: a path swapped for a link cannot redirect the chmod. */
#include "base/privdir.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"

static BERTH_WUR int settle(int fd, const char *what, mode_t mode, berth_error_t *err)
{
  struct stat st;
  if (fstat(fd, &st) < 0)
    return BERTH_ERR_ERRNO(err, "stat `%s`", what);
  if (!S_ISDIR(st.st_mode))
    return BERTH_ERR(err, "`%s` is not a directory", what);
  if (st.st_uid != geteuid())
    return BERTH_ERR(err, "`%s` belongs to uid %u, not to berth's uid %u: refusing to use it", what,
                     (unsigned) st.st_uid, (unsigned) geteuid());
  if ((st.st_mode & 07777) != mode && fchmod(fd, mode) < 0)
    return BERTH_ERR_ERRNO(err, "chmod `%s` to %04o", what, (unsigned) mode);
  return 0;
}

int berth_privdir_ensure_at(int dirfd, const char *name, mode_t mode, int *out_fd, berth_error_t *err)
{
  if (mkdirat(dirfd, name, mode) < 0 && errno != EEXIST)
    return BERTH_ERR_ERRNO(err, "mkdir `%s`", name);
  cleanup_close int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return BERTH_ERR_ERRNO(err, "open `%s`", name);
  if (settle(fd, name, mode, err) < 0)
    return -1;
  if (out_fd)
    *out_fd = steal_fd(fd);
  return 0;
}

int berth_privdir_ensure(const char *path, mode_t mode, berth_error_t *err)
{
  if (berth_mkdir_p(path, mode, err) < 0)
    return -1;
  cleanup_close int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return BERTH_ERR_ERRNO(err, "open `%s`", path);
  return settle(fd, path, mode, err);
}
