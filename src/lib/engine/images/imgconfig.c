/* Image configs: parse and check, and Docker's view of the "config" object for inspect. */
#include "engine/images/images.h"

#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/xalloc.h"
#include "engine/format.h"
#include "image/digest.h"
#include "json/json.h"

void berth_imgconfig_release(struct berth_imgconfig *c)
{
  if (c == NULL)
    return;
  json_decref(c->root);
  free(c->diff_ids);
  free(c->history);
  memset(c, 0, sizeof *c);
}

static BERTH_WUR int get_time(struct berth_jctx *j, json_t *obj, const char *key, const char **raw,
                              int64_t *ns, berth_error_t *err)
{
  int r = berth_json_get_string(j, obj, key, raw, err);
  if (r <= 0)
    return r;
  if (berth_parse_rfc3339(*raw, ns) < 0)
    return berth_jctx_error(j, key, err, "expected an RFC 3339 time, got `%s`", *raw);
  return 1;
}

static BERTH_WUR int parse_rootfs(struct berth_jctx *j, json_t *root, struct berth_imgconfig *c,
                                  berth_error_t *err)
{
  json_t *rootfs = NULL;
  const char *type = NULL;
  int r = berth_json_get_object(j, root, "rootfs", &rootfs, err);
  if (r <= 0)
    return r < 0 ? -1 : berth_jctx_error(j, "rootfs", err, "missing");
  size_t m = berth_jctx_push_key(j, "rootfs");
  r = berth_json_get_string(j, rootfs, "type", &type, err);
  if (r == 0 || (r > 0 && strcmp(type, "layers") != 0))
    r = berth_jctx_error(j, "type", err, "expected \"layers\", got %s%s%s", type ? "`" : "",
                         type ? type : "nothing", type ? "`" : "");
  if (r >= 0 && berth_json_get_strv(j, rootfs, "diff_ids", &c->diff_ids, &c->ndiff, err) < 0)
    r = -1;
  for (size_t i = 0; r >= 0 && i < c->ndiff; i++) {
    berth_error_t e = NULL;
    if (berth_digest_validate(c->diff_ids[i], &e) < 0) {
      size_t m2 = berth_jctx_push_key(j, "diff_ids");
      berth_jctx_push_index(j, i);
      r = berth_jctx_error(j, NULL, err, "%s", e->msg);
      berth_jctx_pop(j, m2);
      berth_error_release(&e);
    }
  }
  berth_jctx_pop(j, m);
  return r < 0 ? -1 : 0;
}

static BERTH_WUR int parse_history_entry(struct berth_jctx *j, json_t *h, struct berth_history_entry *e,
                                         berth_error_t *err)
{
  e->created_by = e->comment = e->author = "";
  if (!json_is_object(h))
    return berth_jctx_error(j, NULL, err, "expected an object");
  if (get_time(j, h, "created", &e->created, &e->created_ns, err) < 0 ||
      berth_json_get_string(j, h, "created_by", &e->created_by, err) < 0 ||
      berth_json_get_string(j, h, "comment", &e->comment, err) < 0 ||
      berth_json_get_string(j, h, "author", &e->author, err) < 0 ||
      berth_json_get_bool(j, h, "empty_layer", &e->empty_layer, err) < 0)
    return -1;
  return 0;
}

static BERTH_WUR int parse_history(struct berth_jctx *j, json_t *root, struct berth_imgconfig *c,
                                   berth_error_t *err)
{
  json_t *hist = NULL;
  int r = berth_json_get_array(j, root, "history", &hist, err);
  if (r <= 0)
    return r;
  c->nhistory = json_array_size(hist);
  c->history = xcalloc(c->nhistory ? c->nhistory : 1, sizeof *c->history);
  size_t m = berth_jctx_push_key(j, "history");
  for (size_t i = 0; i < c->nhistory && r >= 0; i++) {
    size_t m2 = berth_jctx_push_index(j, i);
    r = parse_history_entry(j, json_array_get(hist, i), &c->history[i], err);
    berth_jctx_pop(j, m2);
  }
  berth_jctx_pop(j, m);
  return r < 0 ? -1 : 0;
}

static BERTH_WUR int parse_fields(struct berth_jctx *j, json_t *root, struct berth_imgconfig *c,
                                  berth_error_t *err)
{
  c->os = c->arch = c->variant = c->author = c->comment = "";
  if (!json_is_object(root))
    return berth_jctx_error(j, NULL, err, "expected an object");
  if (get_time(j, root, "created", &c->created, &c->created_ns, err) < 0 ||
      berth_json_get_string(j, root, "os", &c->os, err) < 0 ||
      berth_json_get_string(j, root, "architecture", &c->arch, err) < 0 ||
      berth_json_get_string(j, root, "variant", &c->variant, err) < 0 ||
      berth_json_get_string(j, root, "author", &c->author, err) < 0 ||
      berth_json_get_string(j, root, "comment", &c->comment, err) < 0 ||
      berth_json_get_object(j, root, "config", &c->config, err) < 0)
    return -1;
  if (parse_rootfs(j, root, c, err) < 0 || parse_history(j, root, c, err) < 0)
    return -1;
  return 0;
}

int berth_imgconfig_parse(const char *data, size_t len, const char *file, struct berth_imgconfig *out,
                          berth_error_t *err)
{
  memset(out, 0, sizeof *out);
  out->root = berth_json_parse(data, len, file, err);
  if (out->root == NULL)
    return -1;
  struct berth_jctx j;
  berth_jctx_init(&j, file);
  if (parse_fields(&j, out->root, out, err) < 0) {
    berth_imgconfig_release(out);
    return -1;
  }
  return 0;
}

/* ---- Docker's container.Config for inspect ---- */

static json_t *copy_or(json_t *config, const char *key, json_t *def)
{
  json_t *v = config ? json_object_get(config, key) : NULL;
  if (v && !json_is_null(v)) {
    json_decref(def);
    return json_deep_copy(v);
  }
  return def;
}

json_t *berth_imgconfig_docker_config(json_t *config)
{
  json_t *o = json_object();
  json_object_set_new(o, "Hostname", json_string(""));
  json_object_set_new(o, "Domainname", json_string(""));
  json_object_set_new(o, "User", copy_or(config, "User", json_string("")));
  json_object_set_new(o, "AttachStdin", json_false());
  json_object_set_new(o, "AttachStdout", json_false());
  json_object_set_new(o, "AttachStderr", json_false());
  json_t *ports = copy_or(config, "ExposedPorts", NULL);
  if (ports)
    json_object_set_new(o, "ExposedPorts", ports);
  json_object_set_new(o, "Tty", json_false());
  json_object_set_new(o, "OpenStdin", json_false());
  json_object_set_new(o, "StdinOnce", json_false());
  json_object_set_new(o, "Env", copy_or(config, "Env", json_null()));
  json_object_set_new(o, "Cmd", copy_or(config, "Cmd", json_null()));
  json_t *esc = copy_or(config, "ArgsEscaped", NULL);
  if (esc)
    json_object_set_new(o, "ArgsEscaped", esc);
  json_object_set_new(o, "Image", copy_or(config, "Image", json_string("")));
  json_object_set_new(o, "Volumes", copy_or(config, "Volumes", json_null()));
  json_object_set_new(o, "WorkingDir", copy_or(config, "WorkingDir", json_string("")));
  json_object_set_new(o, "Entrypoint", copy_or(config, "Entrypoint", json_null()));
  json_object_set_new(o, "OnBuild", copy_or(config, "OnBuild", json_null()));
  json_object_set_new(o, "Labels", copy_or(config, "Labels", json_null()));
  json_t *sig = copy_or(config, "StopSignal", NULL);
  if (sig)
    json_object_set_new(o, "StopSignal", sig);
  json_t *health = copy_or(config, "Healthcheck", NULL); /* Docker's inspect shows the image's HEALTHCHECK */
  if (health)
    json_object_set_new(o, "Healthcheck", health);
  return o;
}
