/* Containers' part of `berth system check`: directories without rows, rows whose create was
 * interrupted, rows whose removal failed or was interrupted, rows whose monitor vanished,
 * run-time state without a monitor, and container rootfs mounts visible in this mount namespace
 * (berth mounts them only in the monitors' own). */
#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/containers/containers_internal.h"
#include "engine/images/images.h"
#include "linux/mountns/mountns.h"

/* a create this much older than now is not one in progress */
#define INCOMPLETE_AGE_NS (60LL * 1000000000)

/* what containers' part of `system check` carries from step to step */
struct ctr_check {
  struct berth_engine *e;
  bool repair;
  struct berth_check_problem **v;
  size_t *n;
};

static void problem(struct ctr_check *c, bool repaired, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));
static void problem(struct ctr_check *c, bool repaired, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  char *s = NULL;
  if (vasprintf(&s, fmt, ap) < 0)
    berth_oom();
  va_end(ap);
  *c->v = xreallocarray(*c->v, *c->n + 1, sizeof **c->v);
  (*c->v)[(*c->n)++] = (struct berth_check_problem){ .what = s, .repairable = true, .repaired = repaired };
}

static bool has_row(struct ctr_check *c, const char *id)
{
  struct berth_db_container row;
  berth_error_t ignore = NULL;
  int r = berth_db_container_get(c->e->db, id, &row, &ignore);
  berth_error_release(&ignore);
  if (r > 0)
    berth_db_container_release(&row);
  return r != 0; /* an error: keep the files */
}

static bool container_id(const char *s)
{
  return strlen(s) == BERTH_CTR_ID_LEN && strspn(s, "0123456789abcdef") == BERTH_CTR_ID_LEN;
}

/* entries of dir named like a container id whose container has no row */
static BERTH_WUR int orphan_dirs(struct ctr_check *c, const char *dir, const char *what, berth_error_t *err)
{
  cleanup_dir DIR *d = opendir(dir);
  for (struct dirent *de; d && (de = readdir(d)) != NULL;) {
    if (!container_id(de->d_name) || has_row(c, de->d_name))
      continue;
    cleanup_free char *path = xasprintf("%s/%s", dir, de->d_name);
    if (c->repair && berth_rm_rf(path, err) < 0)
      return -1;
    problem(c, c->repair, "%s `%s` of no container", what, path);
  }
  return 0;
}

/* A removal that failed (dead: the row says why) or was interrupted (removing) and that nobody
 * is doing now (the container's lock is free): removed again. A failure is reported, not fatal. */
static void check_half_removed(struct ctr_check *c, struct berth_ctr *ct)
{
  cleanup_close int lock = open(ct->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (lock < 0 || flock(lock, LOCK_EX | LOCK_NB) < 0)
    return; /* a removal under way, or no directory: the check of the bundle sees to it */
  const char *why = ct->row.state == BERTH_CTR_DEAD && *ct->row.error ? ct->row.error : "interrupted";
  berth_error_t e = NULL;
  if (!c->repair || ctr_remove(c->e, ct, true, &e) == 0) {
    problem(c, c->repair, "container %.12s was left half removed (%s)%s", ct->row.id, why,
            c->repair ? ": removed" : "");
    return;
  }
  problem(c, false, "container %.12s was left half removed: %s", ct->row.id, e->msg);
  berth_error_release(&e);
}

static BERTH_WUR int check_one(struct ctr_check *c, struct berth_ctr *ct, int64_t now, berth_error_t *err)
{
  cleanup_free char *config = xasprintf("%s/bundle/config.json", ct->dir);
  if (access(config, F_OK) < 0 && now - ct->row.created > INCOMPLETE_AGE_NS) {
    problem(c, c->repair, "container %.12s has no bundle (its create was interrupted)%s", ct->row.id,
            c->repair ? ": removed" : "");
    return c->repair ? ctr_remove(c->e, ct, true, err) : 0;
  }
  if (ct->row.state == BERTH_CTR_REMOVING || ct->row.state == BERTH_CTR_DEAD) {
    check_half_removed(c, ct);
    return 0;
  }
  if (ctr_orphan_running(ct)) {
    problem(c, c->repair, "container %.12s runs on without its monitor (init pid %lld)%s", ct->row.id,
            (long long) ct->row.pid, c->repair ? ": stopped" : "");
    return c->repair ? berth_ctr_stop(c->e, ct->row.id, NULL, err) : 0;
  }
  if (ct->state == BERTH_CTR_DEAD) {
    problem(c, c->repair, "container %.12s is %s but its monitor is gone%s", ct->row.id,
            berth_ctr_state_name(ct->row.state), c->repair ? ": recorded as exited" : "");
    if (c->repair && ctr_settle_dead(c->e, ct, err) < 0)
      return -1;
  }
  cleanup_free char *rt = xasprintf("%s/runtime/%s", c->e->runroot, ct->row.id);
  if (!berth_ctr_monitor_alive(&ct->row) && access(rt, F_OK) == 0) {
    problem(c, c->repair, "runtime state `%s` of a container that is not running", rt);
    const char *del[] = { "delete", "--force", ct->row.id, NULL };
    if (c->repair && berth_ctr_runtime_run(c->e, ct, del, err) < 0)
      return -1;
  }
  if (!berth_ctr_monitor_alive(&ct->row) && access(ct->rundir, F_OK) == 0) {
    problem(c, c->repair, "run dir `%s` without a monitor", ct->rundir);
    if (c->repair && berth_rm_rf(ct->rundir, err) < 0)
      return -1;
  }
  return 0;
}

/* container rootfs mounts in this namespace (mountinfo field 5, octal escapes aside) */
static void stray_mounts(struct ctr_check *c)
{
  cleanup_free char *prefix = xasprintf("%s/containers/", c->e->root);
  cleanup_fclose FILE *f = fopen("/proc/self/mountinfo", "re");
  char line[8192];
  while (f && fgets(line, sizeof line, f)) {
    char *save = NULL, *field = strtok_r(line, " ", &save);
    for (int i = 1; field && i < 5; i++)
      field = strtok_r(NULL, " ", &save);
    if (field == NULL || !berth_str_has_prefix(field, prefix))
      continue;
    cleanup_error berth_error_t e = NULL;
    bool done = c->repair && berth_mountns_detach(field, &e) == 0;
    problem(c, done, "mount `%s` outside a monitor's namespace%s", field, done ? ": unmounted" : "");
  }
}

int berth_ctr_check(struct berth_engine *e, bool repair, struct berth_check_problem **v, size_t *n,
                    berth_error_t *err)
{
  struct ctr_check c = { .e = e, .repair = repair, .v = v, .n = n };
  struct berth_ctr *all = NULL;
  size_t k = 0;
  cleanup_free char *dir = xasprintf("%s/containers", e->root);
  stray_mounts(&c);
  if (berth_ctr_list(e, &all, &k, err) < 0)
    return -1;
  int r = 0;
  int64_t now = ctr_now();
  for (size_t i = 0; r == 0 && i < k; i++)
    r = check_one(&c, &all[i], now, err);
  berth_ctr_list_free(all, k);
  if (r == 0)
    r = orphan_dirs(&c, dir, "directory", err);
  if (r == 0)
    r = orphan_dirs(&c, e->runroot, "run dir", err);
  return r;
}
