/* A user namespace carrying a mount's uidMappings/gidMappings, for MOUNT_ATTR_IDMAP.
 * A user namespace only gets maps written from outside, so a short-lived child creates
 * it and waits while we write the maps and open /proc/<child>/ns/user. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fds.h"
#include "base/fs.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "linux/rootfs/rootfs_internal.h"

static BERTH_WUR int write_map(pid_t pid, const char *file, const struct berth_id_map *map, size_t n,
                               berth_error_t *err)
{
  cleanup_strbuf struct berth_strbuf b = BERTH_STRBUF_INIT;
  for (size_t i = 0; i < n; i++)
    berth_strbuf_printf(&b, "%" PRIu32 " %" PRIu32 " %" PRIu32 "\n", map[i].container_id, map[i].host_id,
                        map[i].size);
  if (n == 0)
    return 0;
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/%s", (int) pid, file);
  cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return BERTH_ERR_ERRNO(err, "open `%s`", path);
  ssize_t w = write(fd, b.buf, b.len);
  if (w < 0 || (size_t) w != b.len)
    return BERTH_ERR_ERRNO(err, "write `%s`", path);
  return 0;
}

/* the child: unshare, say so, wait for the parent to close the pipe. We may be non-dumpable
 * (CVE-2016-9962), which makes the child's /proc files root's: a parent that is a user
 * namespace's root could not write its maps. The child holds nothing but its two pipes, so it
 * may be dumpable. */
__attribute__((noreturn)) static void userns_child(int ready_w, int wait_r)
{
  char c = 0;
  const int keep[] = { ready_w, wait_r };
  if (berth_fds_close_from(3, keep, 2) < 0 || prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
    _exit(1);
  if (unshare(CLONE_NEWUSER) < 0)
    _exit(1);
  if (write(ready_w, &c, 1) != 1)
    _exit(1);
  while (read(wait_r, &c, 1) < 0 && errno == EINTR)
    ;
  _exit(0);
}

int rootfs_userns_for_mappings(const struct berth_spec_mount *m, berth_error_t *err)
{
  int ready[2], hold[2];
  if (pipe2(ready, O_CLOEXEC) < 0)
    return BERTH_ERR_ERRNO(err, "idmap: pipe");
  if (pipe2(hold, O_CLOEXEC) < 0) {
    int e = errno;
    close(ready[0]);
    close(ready[1]);
    return berth_error_make(err, e, "idmap: pipe");
  }
  pid_t pid = fork();
  if (pid == 0) {
    close(ready[0]);
    close(hold[1]);
    userns_child(ready[1], hold[0]);
  }
  int saved = errno;
  close(ready[1]);
  close(hold[0]);
  cleanup_close int ready_r = ready[0];
  cleanup_close int hold_w = hold[1];
  if (pid < 0)
    return berth_error_make(err, saved, "idmap: fork");
  int fd = -1;
  char c;
  if (berth_read_all(ready_r, &c, 1) != 1)
    BERTH_ERR(err, "idmap: the helper could not create a user namespace");
  else if (write_map(pid, "uid_map", m->uid_mappings, m->n_uid_mappings, err) == 0 &&
           write_map(pid, "gid_map", m->gid_mappings, m->n_gid_mappings, err) == 0) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/ns/user", (int) pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      BERTH_ERR_ERRNO(err, "idmap: open `%s`", path);
  }
  close(steal_fd(hold_w));
  while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
    ;
  return fd;
}
