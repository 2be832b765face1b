/* Containers: rm — the row marked `removing`, the files removed, then the row (and with -v the
 * container's anonymous volumes) deleted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/containers/containers_internal.h"
#include "linux/mountns/mountns.h"

int ctr_remove_files(struct berth_engine *e, const struct berth_ctr *c, berth_error_t *err)
{
  cleanup_free char *rootfs = xasprintf("%s/bundle/rootfs", c->dir);
  cleanup_free char *rtstate = xasprintf("%s/runtime/%s", e->runroot, c->row.id);
  /* mounted only in the monitor's namespace: the --rm handler runs there */
  if (berth_mountns_detach(rootfs, err) < 0)
    return -1;
  if (access(rtstate, F_OK) == 0) {
    const char *del[] = { "delete", "--force", c->row.id, NULL };
    if (berth_ctr_runtime_run(e, c, del, err) < 0)
      return -1;
  }
  if (berth_rm_rf(c->dir, err) < 0 || berth_rm_rf(c->rundir, err) < 0)
    return -1;
  return 0;
}

static BERTH_WUR int mark_removing(struct berth_db_container *row, void *data, berth_error_t *err)
{
  if (berth_ctr_state_kept(row->state)) {
    if (berth_ctr_monitor_alive(row))
      return BERTH_ERR(err, "container %.12s was started again meanwhile", row->id);
  }
  row->state = BERTH_CTR_REMOVING;
  return 1;
}

/* A removal that failed leaves the row dead with the reason (Docker's "removal failed" state),
 * never "Removal In Progress": rm, rm -f, container prune and system check --repair try again;
 * start refuses it. */
static BERTH_WUR int mark_failed(struct berth_db_container *row, void *data, berth_error_t *err)
{
  if (row->state != BERTH_CTR_REMOVING)
    return 0;
  row->state = BERTH_CTR_DEAD;
  row->pid = 0;
  free(row->error);
  row->error = xstrdup(data);
  return 1;
}

static bool anonymous(struct berth_engine *e, const char *volume)
{
  cleanup_free char *labels = NULL;
  berth_error_t ignore = NULL;
  if (berth_db_volume_get(e->db, volume, NULL, &labels, &ignore) <= 0) {
    berth_error_release(&ignore);
    return false;
  }
  return strstr(labels, "\"com.docker.volume.anonymous\"") != NULL;
}

/* delete the row, and the anonymous volumes nobody else uses; their dirs in *dirs */
static BERTH_WUR int delete_row(struct berth_engine *e, const char *id, bool volumes, char ***dirs,
                                berth_error_t *err)
{
  struct berth_db_mount *m = NULL;
  size_t n = 0;
  if (berth_db_begin(e->db, err) < 0)
    return -1;
  int r = volumes ? berth_db_container_mounts(e->db, id, &m, &n, err) : 0;
  if (r == 0 && berth_db_container_delete(e->db, id, err) < 0)
    r = -1;
  for (size_t i = 0; r == 0 && i < n; i++) {
    int64_t users = 0;
    if (!*m[i].volume || !anonymous(e, m[i].volume))
      continue;
    if (berth_db_volume_users(e->db, m[i].volume, &users, err) < 0 ||
        (users == 0 && berth_db_volume_delete(e->db, m[i].volume, err) < 0))
      r = -1;
    else if (users == 0)
      *dirs = berth_strv_append(*dirs, m[i].volume);
  }
  berth_db_mounts_free(m, n);
  if (r < 0 || berth_db_commit(e->db, err) < 0) {
    berth_db_rollback(e->db);
    return -1;
  }
  return 0;
}

/* the files, while the runtime's delete runs: the container's directory first, then its end */
static BERTH_WUR int remove_files_during(struct berth_engine *e, const struct berth_ctr *c,
                                         struct ctr_runtime_proc *del, berth_error_t *err)
{
  cleanup_free char *rootfs = xasprintf("%s/bundle/rootfs", c->dir);
  if (berth_mountns_detach(rootfs, err) < 0) {
    berth_ignore(ctr_runtime_wait(del, BERTH_IGNORED));
    return -1;
  }
  int r = berth_rm_rf(c->dir, err);
  berth_ignore(
    ctr_runtime_wait(del, BERTH_IGNORED)); /* the next start of a container by this id deletes it again */
  if (r < 0 || berth_rm_rf(c->rundir, err) < 0)
    return -1;
  return 0;
}

int ctr_remove_during_delete(struct berth_engine *e, struct berth_ctr *c, bool volumes,
                             struct ctr_runtime_proc *del, berth_error_t *err)
{
  cleanup_strv char **gone = NULL;
  if (ctr_update(e, c->row.id, mark_removing, NULL, err) < 0) {
    berth_error_t ignore = NULL;
    if (del && ctr_runtime_wait(del, &ignore) < 0)
      berth_error_release(&ignore);
    return -1;
  }
  ctr_networks_teardown(e, c->row.id); /* nothing left in the common case: its exit took it */
  if ((del ? remove_files_during(e, c, del, err) : ctr_remove_files(e, c, err)) < 0 ||
      delete_row(e, c->row.id, volumes, &gone, err) < 0) {
    berth_error_t ignore = NULL;
    if (ctr_update(e, c->row.id, mark_failed, (*err)->msg, &ignore) < 0)
      berth_error_release(&ignore); /* the row stays removing: rm tries again */
    return -1;
  }
  for (size_t i = 0; gone && gone[i]; i++) {
    cleanup_free char *dir = xasprintf("%s/volumes/%s", e->root, gone[i]);
    berth_ignore(berth_rm_rf(dir, BERTH_IGNORED));
  }
  return 0;
}

int ctr_remove(struct berth_engine *e, struct berth_ctr *c, bool volumes, berth_error_t *err)
{
  return ctr_remove_during_delete(e, c, volumes, NULL, err);
}

/* what: the full id */
static BERTH_WUR int remove_loaded(struct berth_engine *e, const char *what, struct berth_ctr *c, bool force,
                                   bool volumes, berth_error_t *err)
{
  if (berth_ctr_state_kept(c->state) && !force)
    return BERTH_ERR(err,
                     "cannot remove container %.12s: container is %s: stop the container before removing or "
                     "force remove",
                     c->row.id, berth_ctr_state_name(c->state));
  if (berth_ctr_state_kept(c->state) && ctr_kill_now(e, c, err) < 0)
    return -1;
  berth_error_t gone = NULL;
  berth_ctr_release(c);
  if (berth_ctr_get(e, what, c, &gone) < 0) { /* --rm took it meanwhile */
    berth_error_release(&gone);
    return 0;
  }
  if (c->state == BERTH_CTR_DEAD && ctr_settle_dead(e, c, err) < 0)
    return -1;
  cleanup_close int lock = access(c->dir, F_OK) == 0 ? ctr_lock(c, err) : -2;
  if (lock == -1 || ctr_remove(e, c, volumes, err) < 0)
    return -1;
  berth_ctr_event(e, c, "destroy", NULL);
  return 0;
}

int berth_ctr_remove(struct berth_engine *e, const char *what, bool force, bool volumes, berth_error_t *err)
{
  struct berth_ctr c;
  if (berth_ctr_get(e, what, &c, err) < 0)
    return -1;
  berth_ctr_id_t id;
  memcpy(id, c.row.id, sizeof id);
  int r = remove_loaded(e, id, &c, force, volumes, err);
  berth_ctr_release(&c);
  return r < 0 ? berth_error_wrap(err, "remove container `%s`", what) : 0;
}
