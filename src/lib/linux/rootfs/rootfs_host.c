/* The runtime's side of the binds a container process cannot make itself: a detached tree made
 * as root on the host, in the container's mount namespace, handed to the process to attach. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/sync.h"
#include "linux/rootfs/rootfs_internal.h"

static BERTH_WUR int open_proc(pid_t pid, const char *file, int flags, berth_error_t *err)
{
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/%s", (int) pid, file);
  int fd = open(path, flags | O_CLOEXEC);
  if (fd < 0)
    return BERTH_ERR_ERRNO(err, "open `%s`", path);
  return fd;
}

/* the helper: in the container's mount namespace, from its working directory, clone the tree
 * (and idmap it); the tree goes back over `sock` */
__attribute__((noreturn)) static void tree_helper(int sock, int mntns, int cwd, int userns,
                                                  const struct berth_spec_mount *m, unsigned flags)
{
  berth_error_t err = NULL;
  unsigned tflags =
    OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | ((flags & BERTH_MOUNT_F_RECURSIVE) ? AT_RECURSIVE : 0);
  int tree = -1;
  if (setns(mntns, CLONE_NEWNS) < 0 || fchdir(cwd) < 0) {
    BERTH_ERR_ERRNO(&err, "enter the container's mount namespace");
  } else if ((tree = (int) open_tree(AT_FDCWD, m->source, tflags)) < 0) {
    BERTH_ERR_ERRNO(&err, "open `%s` as the runtime", m->source);
  } else if (userns >= 0) {
    struct mount_attr a = { .attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t) userns };
    if (mount_setattr(tree, "", AT_EMPTY_PATH | ((flags & BERTH_MOUNT_F_RIDMAP) ? AT_RECURSIVE : 0), &a,
                      sizeof a) < 0)
      BERTH_ERR_ERRNO(&err, "idmap");
  }
  if (err) {
    berth_sync_send_error(sock, &err);
    _exit(1);
  }
  if (berth_sync_send(sock, 0, 0, NULL, 0, tree, &err) < 0)
    _exit(1);
  _exit(0);
}

static BERTH_WUR int idmap_userns(pid_t pid, const struct berth_spec_mount *m, unsigned flags,
                                  berth_error_t *err)
{
  if (!(flags & BERTH_MOUNT_F_IDMAP))
    return -2;
  if (flags & BERTH_MOUNT_F_OWN_USERNS)
    return open_proc(pid, "ns/user", O_RDONLY, err);
  if (m->n_uid_mappings == 0 || m->n_gid_mappings == 0)
    return BERTH_ERR(err, "idmap needs uidMappings and gidMappings or a user namespace");
  return rootfs_userns_for_mappings(m, err);
}

int berth_rootfs_host_tree(pid_t pid, const struct berth_spec_mount *m, unsigned flags, berth_error_t *err)
{
  if (m->source == NULL)
    return BERTH_ERR(err, "bind mount without a source");
  cleanup_close int userns = idmap_userns(pid, m, flags, err);
  if (userns == -1)
    return -1;
  cleanup_close int mntns = open_proc(pid, "ns/mnt", O_RDONLY, err);
  if (mntns < 0)
    return -1;
  cleanup_close int cwd = open_proc(pid, "cwd", O_PATH | O_DIRECTORY, err);
  if (cwd < 0)
    return -1;
  int sv[2];
  if (berth_sync_pair(sv, err) < 0)
    return -1;
  pid_t child = fork();
  if (child == 0) {
    close(sv[0]);
    tree_helper(sv[1], mntns, cwd, userns, m, flags);
  }
  int saved = errno;
  close(sv[1]);
  cleanup_close int sock = sv[0];
  if (child < 0)
    return berth_error_make(err, saved, "fork");
  struct berth_sync_msg msg;
  int tree = -1;
  int r = berth_sync_recv_or_eof(sock, &msg, &tree, err);
  while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
    ;
  if (r < 0)
    return -1;
  if (r == 1 || tree < 0)
    return BERTH_ERR(err, "the runtime's helper made no tree");
  return tree;
}
