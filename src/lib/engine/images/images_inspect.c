/* `berth image inspect`: Docker's image JSON. */
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/strbuf.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/format.h"
#include "engine/images/images_internal.h"

static json_t *string_array_familiar(char **v)
{
  json_t *a = json_array();
  for (char **p = v; p && *p; p++) {
    cleanup_free char *f = images_familiar(*p);
    json_array_append_new(a, json_string(f));
  }
  return a;
}

/* GraphDriver: the layers' diff dirs, overlay2's way (UpperDir the top, LowerDir the rest top first) */
static json_t *graph_driver(struct berth_engine *e, const struct berth_db_image *img)
{
  json_t *data = json_object();
  cleanup_strbuf struct berth_strbuf lower = BERTH_STRBUF_INIT;
  for (size_t i = img->nlayers; i-- > 0;) {
    cleanup_free char *dir = berth_store_layer_dir(e->store, img->chain_ids[i]);
    cleanup_free char *diff = xasprintf("%s/diff", dir ? dir : "");
    if (i == img->nlayers - 1) {
      json_object_set_new(data, "UpperDir", json_string(diff));
      continue;
    }
    if (lower.len)
      berth_strbuf_putc(&lower, ':');
    berth_strbuf_puts(&lower, diff);
  }
  if (lower.len)
    json_object_set_new(data, "LowerDir", json_string(lower.buf));
  return json_pack("{s:o, s:s}", "Data", data, "Name", "overlay");
}

static json_t *history_json(const struct berth_imgconfig *cfg)
{
  json_t *h = json_object_get(cfg->root, "history");
  return h ? json_deep_copy(h) : json_array();
}

static json_t *build(struct berth_engine *e, const struct berth_db_image *img,
                     const struct berth_imgconfig *cfg, char **tags, char **digests, int64_t tag_time)
{
  json_t *o = json_object();
  json_object_set_new(o, "Id", json_string(img->id));
  json_object_set_new(o, "RepoTags", string_array_familiar(tags));
  json_object_set_new(o, "RepoDigests", string_array_familiar(digests));
  json_object_set_new(o, "Parent", json_string(img->parent));
  json_object_set_new(o, "Comment", json_string(cfg->comment));
  json_object_set_new(o, "Created", json_string(cfg->created ? cfg->created : "0001-01-01T00:00:00Z"));
  const char *dv = json_string_value(json_object_get(cfg->root, "docker_version"));
  json_object_set_new(o, "DockerVersion", json_string(dv ? dv : ""));
  json_object_set_new(o, "Author", json_string(cfg->author));
  json_object_set_new(o, "Config", berth_imgconfig_docker_config(cfg->config));
  json_object_set_new(o, "Architecture", json_string(cfg->arch));
  if (*cfg->variant)
    json_object_set_new(o, "Variant", json_string(cfg->variant));
  json_object_set_new(o, "Os", json_string(cfg->os));
  json_object_set_new(o, "Size", json_integer((json_int_t) img->size));
  json_object_set_new(o, "VirtualSize", json_integer((json_int_t) img->size));
  json_object_set_new(o, "GraphDriver", graph_driver(e, img));
  json_t *layers = json_array();
  for (size_t i = 0; i < cfg->ndiff; i++)
    json_array_append_new(layers, json_string(cfg->diff_ids[i]));
  json_object_set_new(o, "RootFS", json_pack("{s:s, s:o}", "Type", "layers", "Layers", layers));
  json_object_set_new(o, "History", history_json(cfg));
  cleanup_free char *last =
    tag_time ? berth_fmt_rfc3339(tag_time * 1000000000) : xstrdup("0001-01-01T00:00:00Z");
  json_object_set_new(o, "Metadata", json_pack("{s:s}", "LastTagTime", last));
  return o;
}

json_t *berth_images_inspect(struct berth_engine *e, const char *what, berth_error_t *err)
{
  berth_digest_t id;
  if (berth_engine_resolve(e, what, id, NULL, err) < 0)
    return NULL;
  struct berth_db_image img;
  int r = berth_db_image_get(e->db, id, &img, err);
  if (r <= 0) {
    if (r == 0)
      BERTH_ERR(err, "no such image: `%s`", what);
    return NULL;
  }
  struct berth_imgconfig cfg;
  cleanup_strv char **tags = NULL, **digests = NULL;
  int64_t tag_time = 0;
  json_t *o = NULL;
  if (images_read_config(e, id, &cfg, err) == 0) {
    if (berth_db_tags_of(e->db, id, &tags, err) == 0 &&
        berth_db_repo_digests_of(e->db, id, &digests, err) == 0 &&
        berth_db_tag_last_time(e->db, id, &tag_time, err) == 0)
      o = build(e, &img, &cfg, tags, digests, tag_time);
    berth_imgconfig_release(&cfg);
  }
  berth_db_image_release(&img);
  return o;
}
