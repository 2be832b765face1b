/* The plan executor: each write goes to the directory its controller lives in; errors name the
 * OCI field and the file. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "cgroup/internal.h"

static BERTH_WUR int check_usage(const char *dir, const struct berth_cgroup_write *w, berth_error_t *err)
{
  uint64_t want, current;
  if (berth_parse_u64(w->value, &want) < 0)
    return 0;
  if (cg_read_u64(dir, "memory.current", &current, err) < 0)
    return berth_error_wrap(err, "%s: checkBeforeUpdate", w->field);
  if (want < current)
    return BERTH_ERR(err, "%s: %s = %s is below the current usage of %" PRIu64 " bytes (checkBeforeUpdate)",
                     w->field, w->file, w->value, current);
  return 0;
}

/* 0 written, 1 deferred (EINVAL that may be an ordering problem), -1 error */
static BERTH_WUR int write_one(const char *dir, const struct berth_cgroup_write *w, bool first_try,
                               struct berth_cgroup_warnings *warn, berth_error_t *err)
{
  if ((w->flags & BERTH_CGROUP_W_CHECK_USAGE) && check_usage(dir, w, err) < 0)
    return -1;
  const char *file = w->file;
  if (cg_write(dir, file, w->value) == 0)
    return 0;
  int e = errno;
  if (e == ENOENT && w->alt_file && !cg_exists(dir, file)) {
    file = w->alt_file;
    if (cg_write(dir, file, w->value) == 0)
      return 0;
    e = errno;
  }
  if (e == ENOENT && !cg_exists(dir, file)) {
    if (w->flags & BERTH_CGROUP_W_OPTIONAL) {
      cg_warn(warn, "%s: this kernel has no `%s`; ignored", w->field, w->file);
      return 0;
    }
    return BERTH_ERR(err, "%s: `%s` does not exist in `%s`", w->field, file, dir);
  }
  if (e == EINVAL && first_try && (w->flags & BERTH_CGROUP_W_RETRY))
    return 1;
  if (w->flags & BERTH_CGROUP_W_BEST_EFFORT) {
    cg_warn(warn, "%s: write %s = %s: %s; ignored", w->field, file, w->value, berth_strerror(e));
    return 0;
  }
  errno = e;
  return BERTH_ERR_ERRNO(err, "%s: write %s = %s", w->field, file, w->value);
}

int cg_exec_plan(const struct berth_cgroup_plan *p, cg_route_fn route, void *ctx,
                 struct berth_cgroup_warnings *warn, berth_error_t *err)
{
  cleanup_free size_t *deferred = xcalloc(p->n + 1, sizeof *deferred);
  cleanup_free const char **dirs = xcalloc(p->n + 1, sizeof *dirs);
  size_t n_deferred = 0;
  for (size_t i = 0; i < p->n; i++) {
    const struct berth_cgroup_write *w = &p->w[i];
    enum cg_route r = route(ctx, w, &dirs[i]);
    if (r == CG_ROUTE_OTHER)
      continue;
    if (r == CG_ROUTE_MISSING) {
      const char *ctl = berth_cgroup_ctl_name(w->ctl);
      if (w->flags & BERTH_CGROUP_W_REQUIRED)
        return BERTH_ERR(err, "%s: the `%s` controller is not available", w->field, ctl);
      cg_warn(warn, "%s: the `%s` controller is not available; %s not set", w->field, ctl, w->file);
      continue;
    }
    int rc = write_one(dirs[i], w, true, warn, err);
    if (rc < 0)
      return -1;
    if (rc == 1)
      deferred[n_deferred++] = i;
  }
  for (size_t k = 0; k < n_deferred; k++)
    if (write_one(dirs[deferred[k]], &p->w[deferred[k]], false, warn, err) < 0)
      return -1;
  return 0;
}
