/* A private mount namespace, binds and unmounts for the engine (mountns.h). */
#include "linux/mountns/mountns.h"

#include <errno.h>
#include <sched.h>
#include <sys/mount.h>

#include "base/fs.h"

int berth_mountns_enter(enum berth_mountns_propagation p, berth_error_t *err)
{
  if (unshare(CLONE_NEWNS) < 0)
    return BERTH_ERR_ERRNO(err, "unshare the mount namespace");
  unsigned long how = p == BERTH_MOUNTNS_SLAVE ? MS_SLAVE : MS_PRIVATE;
  if (mount(NULL, "/", NULL, MS_REC | how, NULL) < 0)
    return BERTH_ERR_ERRNO(err, "make `/` %s", p == BERTH_MOUNTNS_SLAVE ? "a slave" : "private");
  return 0;
}

int berth_mountns_bind(const char *source, int dstfd, const char *dst, berth_error_t *err)
{
  char buf[32];
  if (mount(source, berth_fd_path(dstfd, buf, sizeof buf), NULL, MS_BIND | MS_REC, NULL) < 0)
    return BERTH_ERR_ERRNO(err, "bind `%s` on `%s`", source, dst);
  return 0;
}

int berth_mountns_make_readonly(int fd, const char *name, berth_error_t *err)
{
  char buf[32];
  if (mount(NULL, berth_fd_path(fd, buf, sizeof buf), NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0)
    return BERTH_ERR_ERRNO(err, "make `%s` read-only", name);
  return 0;
}

int berth_mountns_detach(const char *path, berth_error_t *err)
{
  if (umount2(path, MNT_DETACH) == 0)
    return 0;
  if (errno == EINVAL || errno == ENOENT)
    return 1;
  return BERTH_ERR_ERRNO(err, "unmount `%s`", path);
}
