/* `berth cp`: the container's root to copy in or out of (running: its init's; stopped: a mounter). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/containers/containers_internal.h"
#include "engine/cp/cp.h"

/* ---- the container's root ---- */

struct cp_root {
  int root; /* the root paths resolve in */
  int lock; /* a stopped container's directory, locked: start waits for the copy */
  struct berth_cp_mounter m;
};

static void cp_root_release(struct cp_root *r)
{
  berth_cp_mounter_stop(&r->m); /* before the lock goes: start mounts the same upper dir */
  if (r->root >= 0)
    close(r->root);
  if (r->lock >= 0)
    close(r->lock);
  r->root = r->lock = -1;
}

/* a running (or paused) container: its init's root, volumes and all */
static BERTH_WUR int running_root(const struct berth_ctr *c, struct cp_root *r, berth_error_t *err)
{
  cleanup_close int pidfd = c->row.pid > 0 ? pidfd_open((pid_t) c->row.pid, 0) : -1;
  if (pidfd < 0)
    return BERTH_ERR(err, "container %.12s is not running", c->row.id);
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/root", (int) c->row.pid);
  r->root = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (r->root < 0)
    return BERTH_ERR_ERRNO(err, "open the root of container %.12s", c->row.id);
  if (pidfd_send_signal(pidfd, 0, NULL, 0) < 0) /* still the same process: not a reused pid */
    return BERTH_ERR(err, "container %.12s exited during the copy", c->row.id);
  return 0;
}

/* a stopped container: its overlay and its bind and volume mounts, in a mounter */
static BERTH_WUR int stopped_root(struct berth_engine *e, const struct berth_ctr *c, struct cp_root *r,
                                  berth_error_t *err)
{
  cleanup_strv char **lowers = ctr_layer_dirs(e, c->row.image_id, err);
  struct berth_db_mount *mounts = NULL;
  size_t n = 0;
  if (lowers == NULL || berth_db_container_mounts(e->db, c->row.id, &mounts, &n, err) < 0)
    return -1;
  cleanup_free char *upper = xasprintf("%s/upper", c->dir), *work = xasprintf("%s/work", c->dir);
  cleanup_free char *target = xasprintf("%s/bundle/rootfs", c->dir);
  struct berth_cp_mount_in in = { .lowers = (const char *const *) lowers,
                                  .nlowers = berth_strv_len(lowers),
                                  .upper = upper,
                                  .work = work,
                                  .target = target,
                                  .binds = mounts,
                                  .nbinds = n };
  int ret = berth_cp_mounter_start(&in, &r->m, err);
  berth_db_mounts_free(mounts, n);
  if (ret < 0)
    return berth_error_wrap(err, "mount the root of container %.12s", c->row.id);
  r->root = fcntl(r->m.root, F_DUPFD_CLOEXEC, 0);
  return r->root < 0 ? BERTH_ERR_ERRNO(err, "dup") : 0;
}

static BERTH_WUR int open_root(struct berth_engine *e, struct berth_ctr *c, struct cp_root *r,
                               berth_error_t *err)
{
  if (c->state == BERTH_CTR_RUNNING || c->state == BERTH_CTR_PAUSED)
    return running_root(c, r, err);
  if (c->state == BERTH_CTR_RESTARTING)
    return BERTH_ERR(err, "container %.12s is restarting, wait until it runs", c->row.id);
  r->lock = ctr_lock(c, err);
  if (r->lock < 0)
    return -1;
  berth_ctr_id_t id;
  memcpy(id, c->row.id, sizeof id);
  berth_ctr_release(c);
  if (berth_ctr_get(e, id, c, err) < 0) /* again under the lock: started meanwhile? */
    return -1;
  if (c->state == BERTH_CTR_REMOVING)
    return BERTH_ERR(err, "container %.12s is being removed", c->row.id);
  if (berth_ctr_state_kept(c->state)) {
    close(steal_fd(r->lock));
    return open_root(e, c, r, err);
  }
  ctr_wait_monitor(&c->row, 10000); /* a monitor finishing after its exit was recorded */
  return stopped_root(e, c, r, err);
}

int berth_ctr_cp(struct berth_engine *e, const struct berth_ctr_cp_request *req, struct berth_cp_stats *stats,
                 berth_error_t *err)
{
  struct berth_ctr c;
  struct cp_root r = { .root = -1, .lock = -1, .m = { .child = { .pid = -1, .sock = -1 }, .root = -1 } };
  if (berth_ctr_get(e, req->container, &c, err) < 0)
    return -1;
  struct berth_cp_side host = { .root = -1 }, ctr = { .root = -1 };
  struct berth_cp_opts o = { .follow_link = req->follow_link };
  int ret = open_root(e, &c, &r, err);
  ctr.root = r.root;
  if (ret == 0 && req->stream_fd >= 0)
    ret = req->to_container ? berth_cp_stream_in(req->stream_fd, r.root, req->dst, err)
                            : berth_cp_stream_out(r.root, req->src, req->follow_link, req->stream_fd, err);
  else if (ret == 0)
    ret = req->to_container ? berth_cp_copy(&host, req->src, &ctr, req->dst, &o, stats, err)
                            : berth_cp_copy(&ctr, req->src, &host, req->dst, &o, stats, err);
  cp_root_release(&r);
  berth_ctr_release(&c);
  if (ret < 0)
    return berth_error_wrap(err, "copy %s container `%s`", req->to_container ? "to" : "from", req->container);
  return 0;
}
