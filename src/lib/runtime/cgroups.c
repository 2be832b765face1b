#include "runtime/cgroups.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/log.h"
#include "base/xalloc.h"

int berth_cgroup_apply_spec(berth_cgroup_manager_t *m, const berth_spec_t *spec, berth_error_t *err)
{
  struct berth_spec_resources r = spec->linux_.resources;
  size_t n = 0;
  cleanup_free struct berth_spec_device_rule *rules = berth_cgroup_devices_with_defaults(&spec->linux_, &n);
  r.devices = rules;
  r.n_devices = n;
  struct berth_cgroup_warnings w = { 0 };
  int ret = berth_cgroup_apply(m, &r, &w, err);
  for (size_t i = 0; i < w.n; i++)
    berth_log_warn("%s", w.msgs[i]);
  berth_cgroup_warnings_free(&w);
  return ret;
}

static bool asks_for_resources(const berth_spec_t *spec)
{
  json_t *r = spec->linux_.resources.json;
  return spec->linux_.resources.present && json_is_object(r) && json_object_size(r) > 0;
}

/* Rootless without a delegated cgroup (runc's rule): fine as long as nothing is asked of it. */
static BERTH_WUR int rootless_fallback(const berth_spec_t *spec, berth_cgroup_manager_t **out,
                                       berth_error_t *err)
{
  if (asks_for_resources(spec))
    return berth_error_wrap(err, "rootless: linux.resources need a cgroup this user may write "
                                 "(delegate one, or drop linux.resources)");
  berth_log_debug("rootless: no writable cgroup, running without one: %s", (*err)->msg);
  berth_error_release(err);
  struct berth_cgroup_config cfg = { .kind = BERTH_CGROUP_DISABLED };
  return berth_cgroup_manager_new(NULL, &cfg, out, err);
}

int berth_container_cgroup_setup(const berth_spec_t *spec, enum berth_cgroup_kind kind, const char *root,
                                 const char *id, bool rootless, pid_t pid, berth_cgroup_manager_t **out,
                                 berth_error_t *err)
{
  struct berth_cgroup_layout layout = { 0 };
  bool have_layout = false;
  if (kind != BERTH_CGROUP_DISABLED) {
    if (berth_cgroup_detect(NULL, NULL, NULL, &layout, err) < 0)
      return berth_error_wrap(err, "cgroups");
    have_layout = true;
  }
  /* as root, one place for every runtime root: containers of different roots (engines,
   * podman, containerd) share parent levels such as the engine's /berth */
  cleanup_free char *parents = geteuid() == 0 ? xstrdup(BERTH_CGROUP_NOTES_DIR)
                               : root         ? xasprintf("%s/.cgroup-parents", root)
                                              : NULL;
  struct berth_cgroup_config cfg = { .kind = kind,
                                     .cgroups_path = spec->linux_.cgroups_path,
                                     .id = id,
                                     .relative_to_self = geteuid() != 0,
                                     .parents_dir = parents };
  berth_cgroup_manager_t *m = NULL;
  int r = berth_cgroup_manager_new(have_layout ? &layout : NULL, &cfg, &m, err);
  if (have_layout)
    berth_cgroup_layout_free(&layout);
  if (r < 0)
    return berth_error_wrap(err, "cgroups");
  if (berth_cgroup_create(m, pid, err) < 0) {
    berth_cgroup_manager_free(m);
    int e = (*err)->errnum;
    if (rootless && (e == EACCES || e == EPERM || e == EROFS))
      return rootless_fallback(spec, out, err);
    return berth_error_wrap(err, "create cgroup");
  }
  if (berth_cgroup_apply_spec(m, spec, err) < 0) {
    berth_ignore(berth_cgroup_destroy(m, BERTH_IGNORED));
    berth_cgroup_manager_free(m);
    return -1;
  }
  *out = m;
  return 0;
}

int berth_container_cgroup_open(const struct berth_container *c, berth_cgroup_manager_t **out,
                                berth_error_t *err)
{
  *out = NULL;
  if (c->cgroup == NULL)
    return 0;
  if (berth_cgroup_manager_from_json(c->cgroup, out, err) < 0)
    return berth_error_wrap(err, "cgroup of container `%s`", c->id);
  return 0;
}
