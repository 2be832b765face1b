/* The mounter that gives a stopped container (or an image, for a volume's pre-fill) a root for
 * the time of a copy, and the overlay mount a container's start shares with it. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/strutil.h"
#include "base/sync.h"
#include "base/xalloc.h"
#include "engine/cp/cp.h"
#include "image/layer.h"

#define MSG_ROOT 0xC0917u

int berth_cp_mount_overlay(const char *const *lowers, size_t n, const char *upper, const char *work,
                           const char *target, unsigned flags, berth_error_t *err)
{
  for (int attempt = 0;; attempt++) {
    berth_error_t e = NULL;
    if (berth_overlay_mount_flags(lowers, n, upper, work, target, flags, &e) == 0)
      return 0;
    if (e->errnum != EBUSY || attempt == 50) {
      *err = e;
      return -1;
    }
    berth_error_release(&e);
    usleep(20000);
  }
}

/* a bind or volume mount at its destination inside the root (skipped when the destination is
 * missing: a container that never ran has no mount point yet) */
static int bind_inside(int root, const struct berth_db_mount *m, berth_error_t *err)
{
  if (strcmp(m->type, "tmpfs") == 0 || *m->source == '\0')
    return 0;
  berth_error_t none = NULL;
  cleanup_close int at = berth_open_in_root(root, m->destination, O_PATH, 0, &none);
  if (at < 0) {
    berth_error_release(&none);
    return 0;
  }
  char buf[32];
  if (mount(m->source, berth_fd_path(at, buf, sizeof buf), NULL, MS_BIND | MS_REC, NULL) < 0)
    return BERTH_ERR_ERRNO(err, "bind `%s` on `%s`", m->source, m->destination);
  if (m->rw)
    return 0;
  cleanup_close int now = berth_open_in_root(root, m->destination, O_PATH, 0, err); /* the new mount */
  if (now < 0)
    return -1;
  if (mount(NULL, berth_fd_path(now, buf, sizeof buf), NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0)
    return BERTH_ERR_ERRNO(err, "make `%s` read-only", m->destination);
  return 0;
}

static __attribute__((noreturn)) void mounter_child(const struct berth_cp_mount_in *in, int sock)
{
  berth_error_t err = NULL;
  int root = -1;
  if (unshare(CLONE_NEWNS) < 0)
    BERTH_ERR_ERRNO(&err, "unshare the mount namespace");
  else if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    BERTH_ERR_ERRNO(&err, "make `/` private");
  else if (berth_cp_mount_overlay(in->lowers, in->nlowers, in->upper, in->work, in->target, 0, &err) == 0 &&
           (root = open(in->target, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
    BERTH_ERR_ERRNO(&err, "open `%s`", in->target);
  for (size_t i = 0; err == NULL && i < in->nbinds; i++)
    (void) !bind_inside(root, &in->binds[i], &err);
  if (err == NULL && berth_sync_send(sock, MSG_ROOT, 0, NULL, 0, root, &err) == 0) {
    char c;
    while (recv(sock, &c, 1, 0) < 0 && errno == EINTR) /* until the parent closes its end */
      ;
    _exit(0);
  }
  berth_sync_send_error(sock, &err);
  _exit(1);
}

int berth_cp_mounter_start(const struct berth_cp_mount_in *in, struct berth_cp_mounter *out,
                           berth_error_t *err)
{
  int sv[2];
  *out = (struct berth_cp_mounter){ .pid = -1, .sock = -1, .root = -1 };
  if (berth_sync_pair(sv, err) < 0)
    return -1;
  pid_t pid = fork();
  if (pid == 0) {
    close(sv[0]);
    mounter_child(in, sv[1]);
  }
  close(sv[1]);
  if (pid < 0) {
    close(sv[0]);
    return BERTH_ERR_ERRNO(err, "fork");
  }
  struct berth_sync_msg msg;
  out->pid = pid;
  out->sock = sv[0];
  if (berth_sync_expect(sv[0], MSG_ROOT, &msg, &out->root, err) < 0 || out->root < 0) {
    if (*err == NULL)
      BERTH_ERR(err, "the mount process sent no root");
    berth_cp_mounter_stop(out);
    return -1;
  }
  return 0;
}

void berth_cp_mounter_stop(struct berth_cp_mounter *m)
{
  if (m->root >= 0)
    close(m->root);
  if (m->sock >= 0)
    close(m->sock);
  while (m->pid > 0 && waitpid(m->pid, NULL, 0) < 0 && errno == EINTR)
    ;
  *m = (struct berth_cp_mounter){ .pid = -1, .sock = -1, .root = -1 };
}
