/* HostConfig.Mounts -> --mount specs (run's syntax: type=bind,source=...,target=...,readonly).
 * Pure; part of the create mapping's fuzzing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/map/map_internal.h"
#include "base/cleanup.h"
#include "base/strbuf.h"
#include "base/strutil.h"
#include "base/xalloc.h"

/* a value that fits run's comma-separated syntax */
static BERTH_WUR int put(struct berth_strbuf *b, const char *path, const char *key, const char *v,
                         berth_error_t *err)
{
  if (strpbrk(v, ",\"\n") != NULL)
    return BERTH_ERR(err, "%s: a %s with `,` or `\"` is not supported", path, key);
  berth_strbuf_printf(b, ",%s=%s", key, v);
  return 0;
}

static BERTH_WUR int check_keys(json_t *o, const char *path, const char *const *keys, berth_error_t *err)
{
  if (json_is_null(o) || o == NULL)
    return 0;
  if (!json_is_object(o))
    return BERTH_ERR(err, "%s: expected an object", path);
  const char *k;
  json_t *v;
  json_object_foreach (o, k, v) {
    size_t i = 0;
    while (keys[i] && strcmp(keys[i], k) != 0)
      i++;
    if (keys[i] == NULL)
      return BERTH_ERR(err, "unknown field `%s.%s`", path, k);
  }
  return 0;
}

static BERTH_WUR int bind_opts(struct berth_strbuf *b, const char *path, json_t *o, berth_error_t *err)
{
  static const char *const keys[] = { "Propagation",          "NonRecursive",           "CreateMountpoint",
                                      "ReadOnlyNonRecursive", "ReadOnlyForceRecursive", NULL };
  if (check_keys(o, path, keys, err) < 0)
    return -1;
  const char *prop = json_string_value(json_object_get(o, "Propagation"));
  if (prop && prop[0] && put(b, path, "bind-propagation", prop, err) < 0)
    return -1;
  if (json_is_true(json_object_get(o, "NonRecursive")))
    berth_strbuf_puts(b, ",bind-nonrecursive");
  if (json_is_true(json_object_get(o, "ReadOnlyNonRecursive")) ||
      json_is_true(json_object_get(o, "ReadOnlyForceRecursive")))
    return BERTH_ERR(err, "%s: ReadOnlyNonRecursive and ReadOnlyForceRecursive are not supported", path);
  return 0;
}

static BERTH_WUR int volume_opts(struct berth_strbuf *b, const char *path, json_t *o, berth_error_t *err)
{
  static const char *const keys[] = { "NoCopy", "Labels", "DriverConfig", "Subpath", NULL };
  if (check_keys(o, path, keys, err) < 0)
    return -1;
  if (json_is_true(json_object_get(o, "NoCopy")))
    berth_strbuf_puts(b, ",volume-nocopy");
  json_t *dc = json_object_get(o, "DriverConfig");
  const char *driver = json_string_value(json_object_get(dc, "Name"));
  if (driver && driver[0] && strcmp(driver, "local") != 0)
    return BERTH_ERR(err, "%s.DriverConfig.Name: only the local volume driver is supported", path);
  json_t *opts = json_object_get(dc, "Options");
  const char *k;
  json_t *v;
  json_object_foreach (opts, k, v) {
    if (!json_is_string(v))
      return BERTH_ERR(err, "%s.DriverConfig.Options.%s: expected a string", path, k);
    cleanup_free char *kv = xasprintf("%s=%s", k, json_string_value(v));
    if (put(b, path, "volume-opt", kv, err) < 0)
      return -1;
  }
  if (!api_json_is_zero(json_object_get(o, "Subpath")))
    return BERTH_ERR(err, "%s.Subpath: not supported by berth", path);
  return 0;
}

static BERTH_WUR int tmpfs_opts(struct berth_strbuf *b, const char *path, json_t *o, berth_error_t *err)
{
  static const char *const keys[] = { "SizeBytes", "Mode", "Options", NULL };
  if (check_keys(o, path, keys, err) < 0)
    return -1;
  json_t *size = json_object_get(o, "SizeBytes"), *mode = json_object_get(o, "Mode");
  if (json_is_integer(size) && json_integer_value(size) > 0)
    berth_strbuf_printf(b, ",tmpfs-size=%lld", (long long) json_integer_value(size));
  if (json_is_integer(mode) && json_integer_value(mode) > 0)
    berth_strbuf_printf(b, ",tmpfs-mode=%llo", (unsigned long long) json_integer_value(mode));
  if (!api_json_is_zero(json_object_get(o, "Options")))
    return BERTH_ERR(err, "%s.Options: not supported by berth", path);
  return 0;
}

static BERTH_WUR int one_mount(struct api_map *m, const char *path, json_t *mt, berth_error_t *err)
{
  static const char *const keys[] = {
    "Type",          "Source",       "Target",       "ReadOnly",       "Consistency", "BindOptions",
    "VolumeOptions", "TmpfsOptions", "ImageOptions", "ClusterOptions", NULL
  };
  if (!json_is_object(mt))
    return BERTH_ERR(err, "%s: expected an object", path);
  if (check_keys(mt, path, keys, err) < 0)
    return -1;
  const char *type = json_string_value(json_object_get(mt, "Type"));
  const char *src = json_string_value(json_object_get(mt, "Source"));
  const char *dst = json_string_value(json_object_get(mt, "Target"));
  if (type == NULL ||
      (strcmp(type, "bind") != 0 && strcmp(type, "volume") != 0 && strcmp(type, "tmpfs") != 0))
    return BERTH_ERR(err, "%s.Type: expected bind, volume or tmpfs", path);
  if (dst == NULL || dst[0] == '\0')
    return BERTH_ERR(err, "%s.Target: a path is needed", path);
  cleanup_strbuf struct berth_strbuf b = BERTH_STRBUF_INIT;
  berth_strbuf_printf(&b, "type=%s", type);
  if ((src && src[0] && put(&b, path, "source", src, err) < 0) || put(&b, path, "target", dst, err) < 0)
    return -1;
  if (json_is_true(json_object_get(mt, "ReadOnly")))
    berth_strbuf_puts(&b, ",readonly");
  if (bind_opts(&b, path, json_object_get(mt, "BindOptions"), err) < 0 ||
      volume_opts(&b, path, json_object_get(mt, "VolumeOptions"), err) < 0 ||
      tmpfs_opts(&b, path, json_object_get(mt, "TmpfsOptions"), err) < 0)
    return -1;
  if (!api_json_is_zero(json_object_get(mt, "ImageOptions")) ||
      !api_json_is_zero(json_object_get(mt, "ClusterOptions")))
    return BERTH_ERR(err, "%s: image and cluster mounts are not supported", path);
  return api_map_flag(m, path, "--mount", b.buf, err);
}

int api_map_mounts(struct api_map *m, const char *path, json_t *v, berth_error_t *err)
{
  if (json_is_null(v))
    return 0;
  if (!json_is_array(v))
    return BERTH_ERR(err, "%s: expected a list", path);
  size_t i;
  json_t *mt;
  json_array_foreach (v, i, mt) {
    cleanup_free char *p = xasprintf("%s[%zu]", path, i);
    if (one_mount(m, p, mt, err) < 0)
      return -1;
  }
  return 0;
}
