/* Images: list, inspect, history, tag, remove, prune (the engine's images room). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/handlers/handlers_internal.h"
#include "base/cleanup.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/images/images.h"

static json_t *summary(json_t *inspect, const struct berth_image_row *row, json_t *tags)
{
  json_t *cfg = json_object_get(inspect, "Config");
  json_t *labels = json_object_get(cfg, "Labels");
  json_t *digests = json_object_get(inspect, "RepoDigests");
  const char *parent = json_string_value(json_object_get(inspect, "Parent"));
  return json_pack("{s:s, s:s, s:O, s:O, s:I, s:I, s:I, s:I, s:O, s:I}", "Id", row->id, "ParentId",
                   parent ? parent : "", "RepoTags", tags, "RepoDigests",
                   json_is_array(digests) ? digests : json_array(), "Created", (json_int_t) row->created,
                   "Size", (json_int_t) row->size, "SharedSize", (json_int_t) -1, "VirtualSize",
                   (json_int_t) row->size, "Labels", json_is_object(labels) ? labels : json_object(),
                   "Containers", (json_int_t) row->containers);
}

int api_image_summaries(struct berth_engine *e, bool all, json_t **out, berth_error_t *err)
{
  struct berth_image_row *rows = NULL;
  size_t n = 0;
  if (berth_images_list(e, all, NULL, &rows, &n, err) < 0)
    return -1;
  json_t *a = json_array();
  for (size_t i = 0; i < n; i++) {
    bool seen = false;
    for (size_t k = 0; k < i; k++)
      seen = seen || strcmp(rows[k].id, rows[i].id) == 0;
    if (seen)
      continue;
    json_t *tags = json_array();
    for (size_t k = i; k < n; k++)
      if (strcmp(rows[k].id, rows[i].id) == 0 && strcmp(rows[k].tag, "<none>") != 0)
        json_array_append_new(tags, json_pack("s++", rows[k].repository, ":", rows[k].tag));
    berth_error_t ignore = NULL;
    json_t *ins = berth_images_inspect(e, rows[i].id, &ignore);
    berth_error_release(&ignore);
    json_t *s = summary(ins, &rows[i], tags);
    json_decref(ins);
    json_decref(tags);
    if (s)
      json_array_append_new(a, s);
  }
  berth_image_rows_free(rows, n);
  *out = a;
  return 0;
}

/* filters: dangling=true|false, reference=<pattern> (a name, or name:tag), label=k[=v] */
static bool keep(json_t *s, const char **dangling, const char **refs, const char **labels)
{
  json_t *tags = json_object_get(s, "RepoTags");
  if (dangling[0] && (strcmp(dangling[0], "true") == 0) != (json_array_size(tags) == 0))
    return false;
  if (refs[0]) {
    bool any = false;
    size_t i;
    json_t *t;
    json_array_foreach (tags, i, t) {
      const char *tag = json_string_value(t);
      for (size_t k = 0; refs[k] && !any; k++) {
        size_t rl = strlen(refs[k]);
        any = strcmp(tag, refs[k]) == 0 ||
              (strncmp(tag, refs[k], rl) == 0 && tag[rl] == ':' && !strchr(refs[k], ':'));
      }
    }
    if (!any)
      return false;
  }
  for (size_t k = 0; labels[k]; k++) {
    const char *eq = strchr(labels[k], '=');
    cleanup_free char *key = eq ? xstrndup(labels[k], (size_t) (eq - labels[k])) : xstrdup(labels[k]);
    json_t *v = json_object_get(json_object_get(s, "Labels"), key);
    if (v == NULL || (eq && strcmp(json_string_value(v) ? json_string_value(v) : "", eq + 1) != 0))
      return false;
  }
  return true;
}

enum MHD_Result api_h_IMG_LIST(struct api_req *r)
{
  cleanup_error berth_error_t err = NULL;
  cleanup_strv char **filters = NULL;
  struct berth_engine *e = NULL;
  json_t *all = NULL;
  if (berth_api_filters_parse(api_query(r, "filters"), &filters, &err) < 0)
    return api_reply_err_status(r, 400, &err);
  for (size_t i = 0; filters[i]; i++)
    if (!berth_str_has_prefix(filters[i], "dangling=") && !berth_str_has_prefix(filters[i], "reference=") &&
        !berth_str_has_prefix(filters[i], "label="))
      return api_reply_error(r, 400, "invalid filter `%s` (dangling, reference, label)", filters[i]);
  if (api_engine(r, &e, &err) < 0 || api_image_summaries(e, api_query_bool(r, "all", false), &all, &err) < 0)
    return api_reply_err(r, &err);
  cleanup_free const char **dangling = berth_api_filters_get(filters, "dangling");
  cleanup_free const char **refs = berth_api_filters_get(filters, "reference");
  cleanup_free const char **labels = berth_api_filters_get(filters, "label");
  json_t *out = json_array();
  size_t i;
  json_t *s;
  json_array_foreach (all, i, s)
    if (keep(s, dangling, refs, labels))
      json_array_append(out, s);
  json_decref(all);
  return api_reply_json(r, 200, out);
}

enum MHD_Result api_h_IMG_INSPECT(struct api_req *r)
{
  cleanup_error berth_error_t err = NULL;
  struct berth_engine *e = NULL;
  json_t *o = NULL;
  if (api_engine(r, &e, &err) < 0 || (o = berth_images_inspect(e, r->m.arg[0], &err)) == NULL)
    return api_reply_err(r, &err);
  return api_reply_json(r, 200, o);
}

enum MHD_Result api_h_IMG_HISTORY(struct api_req *r)
{
  cleanup_error berth_error_t err = NULL;
  struct berth_engine *e = NULL;
  struct berth_history_row *rows = NULL;
  size_t n = 0;
  if (api_engine(r, &e, &err) < 0 || berth_images_history(e, r->m.arg[0], &rows, &n, &err) < 0)
    return api_reply_err(r, &err);
  json_t *a = json_array();
  for (size_t i = 0; i < n; i++) {
    json_t *tags = json_array();
    for (size_t k = 0; rows[i].tags && rows[i].tags[k]; k++)
      json_array_append_new(tags, json_string(rows[i].tags[k]));
    json_t *o =
      json_pack("{s:s, s:I, s:s, s:o, s:I, s:s}", "Id", rows[i].id, "Created", (json_int_t) rows[i].created,
                "CreatedBy", rows[i].created_by ? rows[i].created_by : "", "Tags", tags, "Size",
                (json_int_t) rows[i].size, "Comment", rows[i].comment ? rows[i].comment : "");
    if (o)
      json_array_append_new(a, o);
  }
  berth_history_rows_free(rows, n);
  return api_reply_json(r, 200, a);
}

enum MHD_Result api_h_IMG_TAG(struct api_req *r)
{
  cleanup_error berth_error_t err = NULL;
  struct berth_engine *e = NULL;
  const char *repo = api_query(r, "repo"), *tag = api_query(r, "tag");
  if (repo == NULL || repo[0] == '\0')
    return api_reply_error(r, 400, "a repository is needed (?repo=)");
  cleanup_free char *target = tag && tag[0] ? xasprintf("%s:%s", repo, tag) : xstrdup(repo);
  if (api_engine(r, &e, &err) < 0 || berth_images_tag(e, r->m.arg[0], target, &err) < 0) {
    unsigned s = api_status_of(err->msg);
    return api_reply_err_status(r, s == 500 && strstr(err->msg, "invalid") ? 400 : s, &err);
  }
  return api_reply_empty(r, 201);
}

/* "Untagged: x" / "Deleted: sha256:..." -> [{"Untagged": "x"}, {"Deleted": "sha256:..."}] */
static json_t *events_json(char *const *events)
{
  json_t *a = json_array();
  for (size_t i = 0; events && events[i]; i++) {
    const char *colon = strstr(events[i], ": ");
    if (colon == NULL)
      continue;
    cleanup_free char *key = xstrndup(events[i], (size_t) (colon - events[i]));
    json_t *o = json_pack("{s:s}", key, colon + 2);
    if (o)
      json_array_append_new(a, o);
  }
  return a;
}

enum MHD_Result api_h_IMG_REMOVE(struct api_req *r)
{
  cleanup_error berth_error_t err = NULL;
  cleanup_strv char **events = NULL;
  struct berth_engine *e = NULL;
  struct berth_rmi_opts o = { .force = api_query_bool(r, "force", false),
                              .no_prune = api_query_bool(r, "noprune", false) };
  if (api_engine(r, &e, &err) < 0 || berth_images_remove(e, r->m.arg[0], &o, &events, &err) < 0)
    return api_reply_err(r, &err);
  return api_reply_json(r, 200, events_json(events));
}

enum MHD_Result api_h_IMG_PRUNE(struct api_req *r)
{
  cleanup_error berth_error_t err = NULL;
  cleanup_strv char **filters = NULL, **events = NULL;
  struct berth_engine *e = NULL;
  if (berth_api_filters_parse(api_query(r, "filters"), &filters, &err) < 0)
    return api_reply_err_status(r, 400, &err);
  bool all = false;
  for (size_t i = 0; filters[i]; i++) {
    if (strcmp(filters[i], "dangling=false") == 0 || strcmp(filters[i], "dangling=0") == 0)
      all = true;
    else if (!berth_str_has_prefix(filters[i], "dangling="))
      return api_reply_error(r, 400, "invalid filter `%s` (dangling)", filters[i]);
  }
  uint64_t reclaimed = 0;
  if (api_engine(r, &e, &err) < 0 || berth_images_prune(e, all, &events, &reclaimed, &err) < 0)
    return api_reply_err(r, &err);
  return api_reply_json(
    r, 200,
    json_pack("{s:o, s:I}", "ImagesDeleted", events_json(events), "SpaceReclaimed", (json_int_t) reclaimed));
}
