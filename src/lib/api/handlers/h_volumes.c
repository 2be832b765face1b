/* Volumes: list (filters), create, inspect, remove, prune — the engine's volumes room. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/handlers/handlers_internal.h"
#include "base/cleanup.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/volumes/volumes.h"

int api_volume_list(struct berth_engine *e, char *const *filters, bool usage, json_t **out,
                    berth_error_t *err)
{
  struct berth_db_volume *v = NULL;
  size_t n = 0;
  if (berth_volume_filter_check(filters, err) < 0 || berth_db_volume_list(e->db, &v, &n, err) < 0)
    return -1;
  json_t *a = json_array();
  for (size_t i = 0; i < n; i++) {
    if (!berth_volume_filter_match(&v[i], filters))
      continue;
    json_t *o = berth_volume_json(&v[i]);
    if (o && usage) {
      uint64_t size = 0;
      berth_error_t ignore = NULL;
      if (berth_engine_dir_size(v[i].mountpoint, &size, &ignore) < 0)
        berth_error_release(&ignore);
      json_object_set_new(
        o, "UsageData",
        json_pack("{s:I, s:I}", "Size", (json_int_t) size, "RefCount", (json_int_t) v[i].users));
    }
    if (o)
      json_array_append_new(a, o);
  }
  berth_db_volume_list_free(v, n);
  *out = a;
  return 0;
}

enum MHD_Result api_h_VOL_LIST(struct api_req *r)
{
  cleanup_error berth_error_t err = NULL;
  cleanup_strv char **filters = NULL;
  struct berth_engine *e = NULL;
  json_t *a = NULL;
  if (berth_api_filters_parse(api_query(r, "filters"), &filters, &err) < 0)
    return api_reply_err_status(r, 400, &err);
  if (api_engine(r, &e, &err) < 0)
    return api_reply_err(r, &err);
  if (api_volume_list(e, filters, false, &a, &err) < 0)
    return api_reply_err_status(r, 400, &err);
  return api_reply_json(r, 200, json_pack("{s:o, s:[]}", "Volumes", a, "Warnings"));
}

static BERTH_WUR json_t *inspect(struct berth_engine *e, const char *name, berth_error_t *err)
{
  struct berth_db_volume v;
  if (berth_volume_get(e, name, &v, err) < 0)
    return NULL;
  json_t *o = berth_volume_json(&v);
  berth_db_volume_release(&v);
  return o;
}

enum MHD_Result api_h_VOL_INSPECT(struct api_req *r)
{
  cleanup_error berth_error_t err = NULL;
  struct berth_engine *e = NULL;
  json_t *o = NULL;
  if (api_engine(r, &e, &err) < 0 || (o = inspect(e, r->m.arg[0], &err)) == NULL)
    return api_reply_err(r, &err);
  return api_reply_json(r, 200, o);
}

static char **kv_strings(json_t *o)
{
  char **v = xcalloc(1, sizeof *v);
  const char *k;
  json_t *x;
  json_object_foreach (o, k, x) {
    cleanup_free char *kv = xasprintf("%s=%s", k, json_is_string(x) ? json_string_value(x) : "");
    v = berth_strv_append(v, kv);
  }
  return v;
}

enum MHD_Result api_h_VOL_CREATE(struct api_req *r)
{
  cleanup_error berth_error_t err = NULL;
  struct berth_engine *e = NULL;
  json_t *b = api_body(r, &err);
  if (b == NULL)
    return api_reply_err_status(r, 400, &err);
  const char *k;
  json_t *x;
  json_object_foreach (b, k, x)
    if (strcmp(k, "Name") != 0 && strcmp(k, "Driver") != 0 && strcmp(k, "DriverOpts") != 0 &&
        strcmp(k, "Labels") != 0 && !(strcmp(k, "ClusterVolumeSpec") == 0 && json_is_null(x))) {
      json_decref(b);
      return api_reply_error(r, 400, "unknown field `%s`", k);
    }
  const char *name = json_string_value(json_object_get(b, "Name"));
  const char *driver = json_string_value(json_object_get(b, "Driver"));
  cleanup_strv char **labels = kv_strings(json_object_get(b, "Labels"));
  cleanup_strv char **opts = kv_strings(json_object_get(b, "DriverOpts"));
  struct berth_volume_create_in in = { .name = name && name[0] ? name : NULL,
                                       .driver = driver && driver[0] ? driver : NULL,
                                       .labels = labels,
                                       .opts = opts };
  cleanup_free char *made = NULL;
  json_t *o = NULL;
  int rc = api_engine(r, &e, &err) < 0 ? -1 : berth_volume_create(e, &in, &made, &err);
  json_decref(b);
  if (rc < 0) {
    unsigned s = api_status_of(err->msg);
    return api_reply_err_status(r, s == 500 ? 400 : s, &err);
  }
  if ((o = inspect(e, made, &err)) == NULL)
    return api_reply_err(r, &err);
  return api_reply_json(r, 201, o);
}

enum MHD_Result api_h_VOL_REMOVE(struct api_req *r)
{
  cleanup_error berth_error_t err = NULL;
  struct berth_engine *e = NULL;
  if (api_engine(r, &e, &err) < 0 ||
      berth_volume_remove(e, r->m.arg[0], api_query_bool(r, "force", false), &err) < 0)
    return api_reply_err(r, &err);
  return api_reply_empty(r, 204);
}

enum MHD_Result api_h_VOL_PRUNE(struct api_req *r)
{
  cleanup_error berth_error_t err = NULL;
  cleanup_strv char **filters = NULL, **labels = NULL, **removed = NULL;
  struct berth_engine *e = NULL;
  if (berth_api_filters_parse(api_query(r, "filters"), &filters, &err) < 0)
    return api_reply_err_status(r, 400, &err);
  bool all = false;
  for (size_t i = 0; filters[i]; i++) {
    if (berth_str_has_prefix(filters[i], "all="))
      all = berth_api_query_bool(filters[i] + 4, false);
    else if (berth_str_has_prefix(filters[i], "label="))
      labels = berth_strv_append(labels, filters[i] + 6);
    else if (berth_str_has_prefix(filters[i], "label!=")) {
      cleanup_free char *neg = xasprintf("!%s", filters[i] + 7);
      labels = berth_strv_append(labels, neg);
    } else {
      return api_reply_error(r, 400, "invalid filter `%s` (all, label, label!)", filters[i]);
    }
  }
  uint64_t reclaimed = 0;
  if (api_engine(r, &e, &err) < 0 || berth_volumes_prune(e, all, labels, &removed, &reclaimed, &err) < 0)
    return api_reply_err(r, &err);
  json_t *names = json_array();
  for (size_t i = 0; removed && removed[i]; i++)
    json_array_append_new(names, json_string(removed[i]));
  return api_reply_json(
    r, 200, json_pack("{s:o, s:I}", "VolumesDeleted", names, "SpaceReclaimed", (json_int_t) reclaimed));
}
