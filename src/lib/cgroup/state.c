/* The manager in state.json (so later commands reopen the same directories), and the
 * effective device rules. */
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "cgroup/internal.h"

static const char *kind_name(enum berth_cgroup_kind k)
{
  return k == BERTH_CGROUP_DISABLED ? "disabled" : k == BERTH_CGROUP_SYSTEMD ? "systemd" : "cgroupfs";
}

json_t *berth_cgroup_manager_to_json(const berth_cgroup_manager_t *m)
{
  json_t *o = json_object();
  json_object_set_new(o, "manager", json_string(kind_name(m->kind)));
  if (m->kind == BERTH_CGROUP_DISABLED)
    return o;
  json_object_set_new(o, "mode", json_string(berth_cgroup_mode_name(m->mode)));
  json_object_set_new(o, "path", json_string(m->path));
  json_t *dirs = json_array();
  for (size_t i = 0; i < m->n_dirs; i++) {
    const struct cg_dir *d = &m->dirs[i];
    json_t *ctls = json_array();
    for (int c = 0; c < BERTH_CGROUP_CTL__COUNT; c++)
      if (d->controllers & BERTH_CGROUP_CTL_BIT(c))
        json_array_append_new(ctls, json_string(berth_cgroup_ctl_name(c)));
    json_t *e = json_pack("{s:s, s:s, s:o, s:b, s:i}", "path", d->path, "mountpoint", d->mountpoint,
                          "controllers", ctls, "unified", d->unified, "created", (int) d->created);
    if (d->name)
      json_object_set_new(e, "name", json_string(d->name));
    json_array_append_new(dirs, e);
  }
  json_object_set_new(o, "dirs", dirs);
  if (m->parents_dir)
    json_object_set_new(o, "parents", json_string(m->parents_dir));
  return o;
}

static int mode_from_name(const char *s)
{
  for (int m = BERTH_CGROUP_MODE_V1; m <= BERTH_CGROUP_MODE_HYBRID; m++)
    if (berth_str_eq(s, berth_cgroup_mode_name(m)))
      return m;
  return -1;
}

static BERTH_WUR int dir_from_json(json_t *e, size_t i, struct cg_dir *d, berth_error_t *err)
{
  const char *path = NULL, *mnt = NULL, *name = NULL;
  json_t *ctls = NULL;
  int unified = 0, created = 0;
  if (json_unpack(e, "{s:s, s:s, s:o, s?b, s:i, s?s}", "path", &path, "mountpoint", &mnt, "controllers",
                  &ctls, "unified", &unified, "created", &created, "name", &name) < 0 ||
      !json_is_array(ctls))
    return BERTH_ERR(
      err, "cgroup state: dirs[%zu]: expected {path, mountpoint, controllers, unified, created}", i);
  size_t n = strlen(mnt);
  if (mnt[0] != '/' || strncmp(path, mnt, n) != 0 || path[n] != '/' || created < 0 || created > 256)
    return BERTH_ERR(err, "cgroup state: dirs[%zu]: `%s` is not below `%s`", i, path, mnt);
  *d = (struct cg_dir){ .path = xstrdup(path),
                        .mountpoint = xstrdup(mnt),
                        .name = name ? xstrdup(name) : NULL,
                        .unified = unified,
                        .created = (unsigned) created };
  size_t k;
  json_t *c;
  json_array_foreach (ctls, k, c) {
    int id = json_is_string(c) ? berth_cgroup_ctl_from_name(json_string_value(c)) : -1;
    if (id < 0)
      return BERTH_ERR(err, "cgroup state: dirs[%zu].controllers[%zu]: unknown controller", i, k);
    d->controllers |= BERTH_CGROUP_CTL_BIT(id);
  }
  return 0;
}

int berth_cgroup_manager_from_json(json_t *obj, berth_cgroup_manager_t **out, berth_error_t *err)
{
  const char *manager = NULL, *mode = NULL, *path = NULL;
  json_t *dirs = NULL;
  if (json_unpack(obj, "{s:s}", "manager", &manager) < 0)
    return BERTH_ERR(err, "cgroup state: expected an object with \"manager\"");
  berth_cgroup_manager_t *m = xmalloc0(sizeof *m);
  if (strcmp(manager, "disabled") == 0) {
    m->kind = BERTH_CGROUP_DISABLED;
  } else if (strcmp(manager, "cgroupfs") != 0) {
    free(m);
    return BERTH_ERR(err, "cgroup state: unknown manager `%s`", manager);
  }
  if (m->kind != BERTH_CGROUP_DISABLED) {
    int md = -1;
    if (json_unpack(obj, "{s:s, s:s, s:o}", "mode", &mode, "path", &path, "dirs", &dirs) < 0 ||
        (md = mode_from_name(mode)) < 0 || !json_is_array(dirs)) {
      free(m);
      return BERTH_ERR(err, "cgroup state: expected \"mode\" (v1, v2, hybrid), \"path\" and \"dirs\"");
    }
    m->mode = (enum berth_cgroup_mode) md;
    m->path = xstrdup(path);
    const char *parents = json_string_value(json_object_get(obj, "parents"));
    m->parents_dir = parents && parents[0] == '/' ? xstrdup(parents) : NULL;
    m->dirs = xcalloc(json_array_size(dirs) + 1, sizeof *m->dirs);
    for (size_t i = 0; i < json_array_size(dirs); i++, m->n_dirs++)
      if (dir_from_json(json_array_get(dirs, i), i, &m->dirs[i], err) < 0) {
        m->n_dirs++;
        berth_cgroup_manager_free(m);
        return -1;
      }
  }
  m->ops = cg_ops_for(m->kind, m->mode);
  if (m->ops == NULL) {
    berth_cgroup_manager_free(m);
    return BERTH_ERR(err, "cgroup state: no backend for mode `%s`", mode);
  }
  *out = m;
  return 0;
}

/* runc's AllowedDevices (libcontainer/specconv) */
static const struct berth_spec_device_rule default_rules[] = {
  { true, 'c', -1, -1, "m" }, { true, 'b', -1, -1, "m" }, { true, 'c', 1, 3, "rwm" },
  { true, 'c', 1, 8, "rwm" }, { true, 'c', 1, 7, "rwm" }, { true, 'c', 5, 0, "rwm" },
  { true, 'c', 1, 5, "rwm" }, { true, 'c', 1, 9, "rwm" }, { true, 'c', 136, -1, "rwm" },
  { true, 'c', 5, 2, "rwm" },
};

struct berth_spec_device_rule *berth_cgroup_devices_with_defaults(const struct berth_spec_linux *lx,
                                                                  size_t *n)
{
  size_t nd = BERTH_N_ELEMENTS(default_rules), total = lx->resources.n_devices + nd + lx->n_devices;
  struct berth_spec_device_rule *out = xcalloc(total + 1, sizeof *out);
  size_t k = 0;
  for (size_t i = 0; i < lx->resources.n_devices; i++)
    out[k++] = lx->resources.devices[i];
  for (size_t i = 0; i < nd; i++)
    out[k++] = default_rules[i];
  for (size_t i = 0; i < lx->n_devices; i++) {
    const struct berth_spec_device *d = &lx->devices[i];
    if (d->type == 'p')
      continue; /* a fifo is not a device the cgroup controls */
    out[k++] = (struct berth_spec_device_rule){ .allow = true,
                                                .type = d->type == 'u' ? 'c' : d->type,
                                                .major = d->major,
                                                .minor = d->minor,
                                                .access = "rwm" };
  }
  *n = k;
  return out;
}
