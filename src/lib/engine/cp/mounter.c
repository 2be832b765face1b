/* The mounter that gives a stopped container (or an image, for a volume's pre-fill) a root for
 * the time of a copy, and the overlay mount a container's start shares with it. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "base/child.h"
#include "base/cleanup.h"
#include "base/fs.h"
#include "engine/cp/cp.h"
#include "linux/mountns/mountns.h"

#define MSG_ROOT 0xC0917u

int berth_cp_mount_overlay(const char *const *lowers, size_t n, const char *upper, const char *work,
                           const char *target, unsigned flags, berth_error_t *err)
{
  for (int attempt = 0;; attempt++) {
    berth_error_t e = NULL;
    if (berth_mountns_overlay(lowers, n, upper, work, target, flags, &e) == 0)
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
static BERTH_WUR int bind_inside(int root, const struct berth_db_mount *m, berth_error_t *err)
{
  if (strcmp(m->type, "tmpfs") == 0 || *m->source == '\0')
    return 0;
  berth_error_t none = NULL;
  cleanup_close int at = berth_open_in_root(root, m->destination, O_PATH, 0, &none);
  if (at < 0) {
    berth_error_release(&none);
    return 0;
  }
  if (berth_mountns_bind(m->source, at, m->destination, err) < 0)
    return -1;
  if (m->rw)
    return 0;
  cleanup_close int now = berth_open_in_root(root, m->destination, O_PATH, 0, err); /* the new mount */
  if (now < 0)
    return -1;
  return berth_mountns_make_readonly(now, m->destination, err);
}

/* the mount process: a private mount namespace with the root, sent to the parent, held until
 * the parent closes the channel */
static BERTH_WUR int mounter_child(void *data, int sock, berth_error_t *err)
{
  const struct berth_cp_mount_in *in = data;
  if (berth_mountns_enter(BERTH_MOUNTNS_PRIVATE, err) < 0 ||
      berth_cp_mount_overlay(in->lowers, in->nlowers, in->upper, in->work, in->target, 0, err) < 0)
    return -1;
  cleanup_close int root = open(in->target, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0)
    return BERTH_ERR_ERRNO(err, "open `%s`", in->target);
  for (size_t i = 0; i < in->nbinds; i++)
    if (bind_inside(root, &in->binds[i], err) < 0)
      return -1;
  if (berth_sync_send(sock, MSG_ROOT, 0, NULL, 0, root, err) < 0)
    return -1;
  berth_child_hold(sock);
  return 0;
}

int berth_cp_mounter_start(const struct berth_cp_mount_in *in, struct berth_cp_mounter *out,
                           berth_error_t *err)
{
  struct berth_sync_msg msg;
  *out = (struct berth_cp_mounter){ .child = { .pid = -1, .sock = -1 }, .root = -1 };
  if (berth_child_start("the mount process", mounter_child, (void *) in, &out->child, err) < 0)
    return -1;
  if (berth_child_recv(&out->child, MSG_ROOT, &msg, &out->root, err) < 0 || out->root < 0) {
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
  m->root = -1;
  berth_child_release(&m->child);
}
