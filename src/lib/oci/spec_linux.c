/* The linux object: namespaces, id maps, time offsets, devices, sysctl, propagation,
 * masked and read-only paths, personality (seccomp and resources have their own files). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>

#include "base/cleanup.h"
#include "base/xalloc.h"
#include "oci/spec_internal.h"

static BERTH_WUR int parse_namespace(struct berth_jctx *c, json_t *o, struct berth_spec_linux *l,
                                     berth_error_t *err)
{
  const char *type = NULL, *path = NULL;
  if (oci_expect_object(c, o, err) < 0 || oci_get_string(c, o, "type", true, &type, err) < 0)
    return -1;
  int t = berth_ns_type_from_name(type);
  if (t < 0)
    return berth_jctx_error(c, "type", err, "unknown namespace type \"%s\"", type);
  if (l->ns[t].present)
    return berth_jctx_error(c, "type", err, "namespace type \"%s\" is listed twice", type);
  if (oci_get_abs_path(c, o, "path", false, &path, err) < 0)
    return -1;
  l->ns[t].present = true;
  l->ns[t].path = path;
  return 0;
}

static BERTH_WUR int parse_namespaces(struct berth_jctx *c, json_t *obj, struct berth_spec_linux *l,
                                      berth_error_t *err)
{
  json_t *arr = NULL;
  int r = berth_json_get_array(c, obj, "namespaces", &arr, err);
  if (r <= 0)
    return r;
  size_t m = berth_jctx_push_key(c, "namespaces");
  for (size_t i = 0; i < json_array_size(arr); i++) {
    size_t mi = berth_jctx_push_index(c, i);
    if (parse_namespace(c, json_array_get(arr, i), l, err) < 0)
      return -1;
    berth_jctx_pop(c, mi);
  }
  berth_jctx_pop(c, m);
  return 0;
}

/* runc's rules: mappings need a user namespace; a new one (no path) needs mappings. */
static BERTH_WUR int parse_id_mappings(struct berth_jctx *c, json_t *obj, struct berth_spec_linux *l,
                                       berth_error_t *err)
{
  if (oci_get_id_maps(c, obj, "uidMappings", &l->uid_mappings, &l->n_uid_mappings, err) < 0 ||
      oci_get_id_maps(c, obj, "gidMappings", &l->gid_mappings, &l->n_gid_mappings, err) < 0)
    return -1;
  const struct berth_spec_namespace *user = &l->ns[BERTH_NS_USER];
  if (!user->present && (l->n_uid_mappings || l->n_gid_mappings))
    return berth_jctx_error(c, l->n_uid_mappings ? "uidMappings" : "gidMappings", err,
                            "id mappings need a `user` namespace in linux.namespaces");
  if (user->present && user->path == NULL && (l->n_uid_mappings == 0 || l->n_gid_mappings == 0))
    return berth_jctx_error(c, l->n_uid_mappings ? "gidMappings" : "uidMappings", err,
                            "a new user namespace needs uidMappings and gidMappings");
  return 0;
}

static BERTH_WUR int parse_time_offset(struct berth_jctx *c, json_t *o, struct berth_spec_time_offset *t,
                                       berth_error_t *err)
{
  if (oci_expect_object(c, o, err) < 0 ||
      oci_get_i64(c, o, "secs", INT64_MIN, INT64_MAX, false, &t->secs, err) < 0 ||
      oci_get_u32(c, o, "nanosecs", false, &t->nanosecs, err) < 0)
    return -1;
  if (t->nanosecs >= 1000000000)
    return berth_jctx_error(c, "nanosecs", err, "%" PRIu32 " is out of range [0, 999999999]", t->nanosecs);
  t->present = true;
  return 0;
}

static BERTH_WUR int parse_time_offsets(struct berth_jctx *c, json_t *obj, struct berth_spec_linux *l,
                                        berth_error_t *err)
{
  json_t *offsets = NULL, *v;
  const char *key;
  int r = berth_json_get_object(c, obj, "timeOffsets", &offsets, err);
  if (r <= 0)
    return r;
  size_t m = berth_jctx_push_key(c, "timeOffsets");
  json_object_foreach (offsets, key, v) {
    struct berth_spec_time_offset *t = strcmp(key, "monotonic") == 0  ? &l->time_monotonic
                                       : strcmp(key, "boottime") == 0 ? &l->time_boottime
                                                                      : NULL;
    if (t == NULL)
      return berth_jctx_error(c, key, err, "unknown clock \"%s\" (expected monotonic or boottime)", key);
    size_t mk = berth_jctx_push_key(c, key);
    if (parse_time_offset(c, v, t, err) < 0)
      return -1;
    berth_jctx_pop(c, mk);
  }
  berth_jctx_pop(c, m);
  if (!l->ns[BERTH_NS_TIME].present)
    return berth_jctx_error(c, "timeOffsets", err,
                            "time offsets need a `time` namespace in linux.namespaces");
  return 0;
}

static BERTH_WUR int parse_device(struct berth_jctx *c, json_t *o, struct berth_spec_device *d,
                                  berth_error_t *err)
{
  const char *type = NULL;
  if (oci_expect_object(c, o, err) < 0 || oci_get_string(c, o, "type", true, &type, err) < 0)
    return -1;
  if (strlen(type) != 1 || strchr("cbup", type[0]) == NULL)
    return berth_jctx_error(c, "type", err, "unknown device type \"%s\" (expected c, b, u or p)", type);
  d->type = type[0];
  bool need_numbers = d->type != 'p';
  d->major = d->minor = -1;
  int r;
  if (oci_get_abs_path(c, o, "path", true, &d->path, err) < 0 ||
      oci_get_i64(c, o, "major", 0, UINT32_MAX, need_numbers, &d->major, err) < 0 ||
      oci_get_i64(c, o, "minor", 0, UINT32_MAX, need_numbers, &d->minor, err) < 0 ||
      (r = oci_get_u32(c, o, "fileMode", false, &d->file_mode, err)) < 0)
    return -1;
  d->has_file_mode = r == 1;
  d->file_mode &= 07777; /* like runc, ignore file-type bits some callers copy from stat */
  if ((r = oci_get_u32(c, o, "uid", false, &d->uid, err)) < 0)
    return -1;
  d->has_uid = r == 1;
  if ((r = oci_get_u32(c, o, "gid", false, &d->gid, err)) < 0)
    return -1;
  d->has_gid = r == 1;
  return 0;
}

static BERTH_WUR int parse_devices(struct berth_jctx *c, json_t *obj, struct berth_spec_linux *l,
                                   berth_error_t *err)
{
  json_t *arr = NULL;
  int r = berth_json_get_array(c, obj, "devices", &arr, err);
  if (r <= 0)
    return r;
  l->n_devices = json_array_size(arr);
  l->devices = xcalloc(l->n_devices + 1, sizeof *l->devices);
  size_t m = berth_jctx_push_key(c, "devices");
  for (size_t i = 0; i < l->n_devices; i++) {
    size_t mi = berth_jctx_push_index(c, i);
    if (parse_device(c, json_array_get(arr, i), &l->devices[i], err) < 0)
      return -1;
    berth_jctx_pop(c, mi);
  }
  berth_jctx_pop(c, m);
  return 0;
}

static const struct {
  const char *name;
  unsigned long flags;
} propagations[] = {
  { "shared", MS_SHARED },
  { "slave", MS_SLAVE },
  { "private", MS_PRIVATE },
  { "unbindable", MS_UNBINDABLE },
  { "rshared", MS_SHARED | MS_REC },
  { "rslave", MS_SLAVE | MS_REC },
  { "rprivate", MS_PRIVATE | MS_REC },
  { "runbindable", MS_UNBINDABLE | MS_REC },
};

static BERTH_WUR int parse_propagation(struct berth_jctx *c, json_t *obj, struct berth_spec_linux *l,
                                       berth_error_t *err)
{
  const char *s = NULL;
  int r = berth_json_get_string(c, obj, "rootfsPropagation", &s, err);
  if (r <= 0 || s[0] == '\0')
    return r < 0 ? -1 : 0;
  for (size_t i = 0; i < BERTH_N_ELEMENTS(propagations); i++)
    if (strcmp(propagations[i].name, s) == 0) {
      l->rootfs_propagation = propagations[i].flags;
      return 0;
    }
  return berth_jctx_error(c, "rootfsPropagation", err, "unknown propagation \"%s\"", s);
}

static BERTH_WUR int parse_personality(struct berth_jctx *c, json_t *obj, struct berth_spec_personality *p,
                                       berth_error_t *err)
{
  json_t *pers = NULL;
  const char *domain = NULL;
  int r = berth_json_get_object(c, obj, "personality", &pers, err);
  if (r <= 0)
    return r;
  size_t m = berth_jctx_push_key(c, "personality");
  if (oci_get_string(c, pers, "domain", true, &domain, err) < 0)
    return -1;
  if (strcmp(domain, "LINUX") == 0)
    p->domain = PER_LINUX;
  else if (strcmp(domain, "LINUX32") == 0)
    p->domain = PER_LINUX32;
  else
    return berth_jctx_error(c, "domain", err, "unknown personality domain \"%s\" (expected LINUX or LINUX32)",
                            domain);
  cleanup_free const char **flags = NULL;
  size_t n = 0;
  if (berth_json_get_strv(c, pers, "flags", &flags, &n, err) < 0)
    return -1;
  if (n > 0) /* runtime-spec 1.2 defines no personality flags */
    return berth_jctx_error(c, "flags", err, "unknown personality flag \"%s\"", flags[0]);
  berth_jctx_pop(c, m);
  p->present = true;
  return 0;
}

static BERTH_WUR int parse_paths(struct berth_jctx *c, json_t *obj, struct berth_spec_linux *l,
                                 berth_error_t *err)
{
  if (berth_json_get_strv(c, obj, "maskedPaths", &l->masked_paths, &l->n_masked_paths, err) < 0 ||
      oci_check_abs_paths(c, "maskedPaths", l->masked_paths, l->n_masked_paths, err) < 0 ||
      berth_json_get_strv(c, obj, "readonlyPaths", &l->readonly_paths, &l->n_readonly_paths, err) < 0 ||
      oci_check_abs_paths(c, "readonlyPaths", l->readonly_paths, l->n_readonly_paths, err) < 0)
    return -1;
  return 0;
}

static BERTH_WUR int parse_sub_objects(struct berth_jctx *c, json_t *obj, struct berth_spec_linux *l,
                                       berth_error_t *err)
{
  json_t *sub = NULL;
  int r;
  if ((r = berth_json_get_object(c, obj, "resources", &sub, err)) < 0)
    return -1;
  if (r == 1) {
    size_t m = berth_jctx_push_key(c, "resources");
    if (oci_parse_resources(c, sub, &l->resources, err) < 0)
      return -1;
    berth_jctx_pop(c, m);
  }
  if ((r = berth_json_get_object(c, obj, "seccomp", &sub, err)) < 0)
    return -1;
  if (r == 1) {
    size_t m = berth_jctx_push_key(c, "seccomp");
    if (oci_parse_seccomp(c, sub, &l->seccomp, err) < 0)
      return -1;
    berth_jctx_pop(c, m);
  }
  if ((r = berth_json_get_object(c, obj, "intelRdt", &sub, err)) < 0)
    return -1;
  l->intel_rdt = r == 1 ? sub : NULL;
  return 0;
}

int oci_parse_linux(struct berth_jctx *c, json_t *obj, struct berth_spec_linux *l, berth_error_t *err)
{
  if (parse_namespaces(c, obj, l, err) < 0 || parse_id_mappings(c, obj, l, err) < 0 ||
      parse_time_offsets(c, obj, l, err) < 0 || parse_devices(c, obj, l, err) < 0 ||
      berth_json_get_string(c, obj, "cgroupsPath", &l->cgroups_path, err) < 0 ||
      berth_json_get_string_map(c, obj, "sysctl", &l->sysctl_keys, &l->sysctl_values, &l->n_sysctl, err) <
        0 ||
      parse_propagation(c, obj, l, err) < 0 || parse_paths(c, obj, l, err) < 0 ||
      berth_json_get_string(c, obj, "mountLabel", &l->mount_label, err) < 0 ||
      parse_personality(c, obj, &l->personality, err) < 0 || parse_sub_objects(c, obj, l, err) < 0)
    return -1;
  return 0;
}

void oci_linux_free(struct berth_spec_linux *l)
{
  free(l->uid_mappings);
  free(l->gid_mappings);
  free(l->devices);
  free(l->sysctl_keys);
  free(l->sysctl_values);
  free(l->masked_paths);
  free(l->readonly_paths);
  oci_resources_free(&l->resources);
  oci_seccomp_free(&l->seccomp);
}
