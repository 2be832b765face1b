/* Image configs (OCI application/vnd.oci.image.config.v1+json and Docker's
 * application/vnd.docker.container.image.v1+json: the same document for what berth uses). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "image/manifest.h"
#include "image/manifest_priv.h"

/* RFC 3339 date-time: YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM) */
static bool rfc3339(const char *s)
{
  static const char shape[] = "dddd-dd-ddTdd:dd:dd";
  for (size_t i = 0; shape[i]; i++) {
    if (shape[i] == 'd' ? !isdigit((unsigned char) s[i]) : (s[i] != shape[i] && !(i == 10 && s[i] == 't')))
      return false;
  }
  s += sizeof shape - 1;
  if (*s == '.') {
    if (!isdigit((unsigned char) *++s))
      return false;
    while (isdigit((unsigned char) *s))
      s++;
  }
  if ((*s == 'Z' || *s == 'z') && s[1] == '\0')
    return true;
  return (*s == '+' || *s == '-') && isdigit((unsigned char) s[1]) && isdigit((unsigned char) s[2]) &&
         s[3] == ':' && isdigit((unsigned char) s[4]) && isdigit((unsigned char) s[5]) && s[6] == '\0';
}

/* "80", "80/tcp", "53/udp", "9/sctp" */
static bool port_shaped(const char *s)
{
  char *end = NULL;
  long port = strtol(s, &end, 10);
  if (end == s || !isdigit((unsigned char) *s) || port < 1 || port > 65535)
    return false;
  return *end == '\0' || strcmp(end, "/tcp") == 0 || strcmp(end, "/udp") == 0 || strcmp(end, "/sctp") == 0;
}

static BERTH_WUR int parse_container_config(struct berth_jctx *c, json_t *o,
                                            struct berth_container_config *cc, berth_error_t *err)
{
  if (mf_get_str(c, o, "User", false, &cc->user, err) < 0 ||
      mf_get_keys(c, o, "ExposedPorts", &cc->exposed_ports, err) < 0 ||
      mf_get_strv(c, o, "Env", &cc->env, NULL, err) < 0 ||
      mf_get_strv(c, o, "Entrypoint", &cc->entrypoint, NULL, err) < 0 ||
      mf_get_strv(c, o, "Cmd", &cc->cmd, NULL, err) < 0 ||
      mf_get_keys(c, o, "Volumes", &cc->volumes, err) < 0 ||
      mf_get_str(c, o, "WorkingDir", false, &cc->working_dir, err) < 0 ||
      mf_get_strmap(c, o, "Labels", &cc->labels, err) < 0 ||
      mf_get_str(c, o, "StopSignal", false, &cc->stop_signal, err) < 0)
    return -1;
  for (size_t i = 0; cc->exposed_ports && cc->exposed_ports[i]; i++)
    if (!port_shaped(cc->exposed_ports[i]))
      return berth_jctx_error(c, "ExposedPorts", err, "`%s` is not <port>[/tcp|/udp|/sctp]",
                              cc->exposed_ports[i]);
  for (size_t i = 0; cc->env && cc->env[i]; i++)
    if (cc->env[i][0] == '\0' || cc->env[i][0] == '=') {
      size_t m = berth_jctx_push_key(c, "Env");
      berth_jctx_push_index(c, i);
      berth_jctx_error(c, NULL, err, "`%s` is not NAME=value", cc->env[i]);
      berth_jctx_pop(c, m);
      return -1;
    }
  return 0;
}

static BERTH_WUR int parse_rootfs(struct berth_jctx *c, json_t *root, struct berth_image_config *ic,
                                  berth_error_t *err)
{
  json_t *rootfs = NULL;
  int r = berth_json_get_object(c, root, "rootfs", &rootfs, err);
  if (r == 0)
    return berth_jctx_error(c, "rootfs", err, "missing");
  if (r < 0)
    return -1;
  size_t mark = berth_jctx_push_key(c, "rootfs");
  cleanup_free char *type = NULL;
  if (mf_get_str(c, rootfs, "type", true, &type, err) < 0)
    return -1;
  if (strcmp(type, "layers") != 0)
    return berth_jctx_error(c, "type", err, "expected `layers`, got `%s`", type);
  r = mf_get_strv(c, rootfs, "diff_ids", &ic->diff_ids, &ic->n_diff_ids, err);
  if (r == 0)
    return berth_jctx_error(c, "diff_ids", err, "missing");
  if (r < 0)
    return -1;
  berth_jctx_push_key(c, "diff_ids");
  for (size_t i = 0; i < ic->n_diff_ids; i++) {
    size_t m = berth_jctx_push_index(c, i);
    if (mf_check_digest(c, NULL, ic->diff_ids[i], err) < 0)
      return -1;
    berth_jctx_pop(c, m);
  }
  berth_jctx_pop(c, mark);
  return 0;
}

static BERTH_WUR int parse_history(struct berth_jctx *c, json_t *root, struct berth_image_config *ic,
                                   berth_error_t *err)
{
  json_t *arr = NULL;
  int r = berth_json_get_array(c, root, "history", &arr, err);
  if (r <= 0)
    return r;
  ic->n_history = json_array_size(arr);
  ic->history = xcalloc(ic->n_history ? ic->n_history : 1, sizeof *ic->history);
  size_t mark = berth_jctx_push_key(c, "history");
  for (size_t i = 0; i < ic->n_history; i++) {
    size_t m = berth_jctx_push_index(c, i);
    json_t *h = json_array_get(arr, i);
    struct berth_history *hi = &ic->history[i];
    if (!json_is_object(h))
      return berth_jctx_error(c, NULL, err, "expected an object");
    if (mf_get_str(c, h, "created", false, &hi->created, err) < 0 ||
        mf_get_str(c, h, "created_by", false, &hi->created_by, err) < 0 ||
        mf_get_str(c, h, "author", false, &hi->author, err) < 0 ||
        mf_get_str(c, h, "comment", false, &hi->comment, err) < 0 ||
        berth_json_get_bool(c, h, "empty_layer", &hi->empty_layer, err) < 0)
      return -1;
    if (hi->created != NULL && !rfc3339(hi->created))
      return berth_jctx_error(c, "created", err, "`%s` is not an RFC 3339 date-time", hi->created);
    berth_jctx_pop(c, m);
  }
  berth_jctx_pop(c, mark);
  return 0;
}

static BERTH_WUR int parse_config(struct berth_jctx *c, json_t *root, struct berth_image_config *ic,
                                  berth_error_t *err)
{
  if (mf_get_str(c, root, "created", false, &ic->created, err) < 0 ||
      mf_get_str(c, root, "author", false, &ic->author, err) < 0 ||
      mf_get_str(c, root, "architecture", true, &ic->architecture, err) < 0 ||
      mf_get_str(c, root, "os", true, &ic->os, err) < 0 ||
      mf_get_str(c, root, "os.version", false, &ic->os_version, err) < 0 ||
      mf_get_str(c, root, "variant", false, &ic->variant, err) < 0)
    return -1;
  if (ic->created != NULL && !rfc3339(ic->created))
    return berth_jctx_error(c, "created", err, "`%s` is not an RFC 3339 date-time", ic->created);
  json_t *cfg = NULL;
  int r = berth_json_get_object(c, root, "config", &cfg, err);
  if (r < 0)
    return -1;
  if (r > 0) {
    size_t m = berth_jctx_push_key(c, "config");
    if (parse_container_config(c, cfg, &ic->config, err) < 0)
      return -1;
    berth_jctx_pop(c, m);
  }
  if (parse_rootfs(c, root, ic, err) < 0 || parse_history(c, root, ic, err) < 0)
    return -1;
  return 0;
}

int berth_image_config_parse(const char *data, size_t len, const char *name, struct berth_image_config **out,
                             berth_error_t *err)
{
  struct berth_jctx c;
  cleanup_free char *file = NULL;
  json_t *root = mf_load(data, len, "image config", name, &c, &file, err);
  if (root == NULL)
    return -1;
  struct berth_image_config *ic = xmalloc0(sizeof *ic);
  int r = parse_config(&c, root, ic, err);
  json_decref(root);
  if (r < 0) {
    berth_image_config_free(ic);
    return -1;
  }
  *out = ic;
  return 0;
}

static json_t *container_config_json(const struct berth_container_config *cc)
{
  json_t *o = json_object();
  mf_set_str(o, "User", cc->user);
  mf_set(o, "ExposedPorts",
         cc->exposed_ports && cc->exposed_ports[0] ? mf_keys_json(cc->exposed_ports) : NULL);
  mf_set(o, "Env", cc->env && cc->env[0] ? mf_strv_json(cc->env) : NULL);
  mf_set(o, "Entrypoint", cc->entrypoint && cc->entrypoint[0] ? mf_strv_json(cc->entrypoint) : NULL);
  mf_set(o, "Cmd", cc->cmd && cc->cmd[0] ? mf_strv_json(cc->cmd) : NULL);
  mf_set(o, "Volumes", cc->volumes && cc->volumes[0] ? mf_keys_json(cc->volumes) : NULL);
  mf_set_str(o, "WorkingDir", cc->working_dir && cc->working_dir[0] ? cc->working_dir : NULL);
  mf_set(o, "Labels", cc->labels.n ? mf_strmap_json(&cc->labels) : NULL);
  mf_set_str(o, "StopSignal", cc->stop_signal && cc->stop_signal[0] ? cc->stop_signal : NULL);
  return o;
}

char *berth_image_config_build(const struct berth_image_config *ic, size_t *len)
{
  json_t *o = json_object();
  mf_set_str(o, "created", ic->created);
  mf_set_str(o, "author", ic->author);
  mf_set_str(o, "architecture", ic->architecture);
  mf_set_str(o, "os", ic->os);
  mf_set_str(o, "os.version", ic->os_version);
  mf_set_str(o, "variant", ic->variant);
  mf_set(o, "config", container_config_json(&ic->config));
  json_t *rootfs = json_object();
  mf_set_str(rootfs, "type", "layers");
  mf_set(rootfs, "diff_ids", mf_strv_json(ic->diff_ids));
  mf_set(o, "rootfs", rootfs);
  if (ic->n_history > 0) {
    json_t *arr = json_array();
    for (size_t i = 0; i < ic->n_history; i++) {
      const struct berth_history *h = &ic->history[i];
      json_t *e = json_object();
      mf_set_str(e, "created", h->created);
      mf_set_str(e, "created_by", h->created_by);
      mf_set_str(e, "author", h->author);
      mf_set_str(e, "comment", h->comment);
      mf_set(e, "empty_layer", h->empty_layer ? json_true() : NULL);
      json_array_append_new(arr, e);
    }
    mf_set(o, "history", arr);
  }
  return mf_dump(o, len);
}

void berth_image_config_free(struct berth_image_config *ic)
{
  if (ic == NULL)
    return;
  free(ic->created);
  free(ic->author);
  free(ic->architecture);
  free(ic->os);
  free(ic->os_version);
  free(ic->variant);
  struct berth_container_config *cc = &ic->config;
  free(cc->user);
  berth_strv_free(cc->exposed_ports);
  berth_strv_free(cc->env);
  berth_strv_free(cc->entrypoint);
  berth_strv_free(cc->cmd);
  berth_strv_free(cc->volumes);
  free(cc->working_dir);
  berth_strmap_release(&cc->labels);
  free(cc->stop_signal);
  berth_strv_free(ic->diff_ids);
  for (size_t i = 0; i < ic->n_history; i++) {
    free(ic->history[i].created);
    free(ic->history[i].created_by);
    free(ic->history[i].author);
    free(ic->history[i].comment);
  }
  free(ic->history);
  free(ic);
}

int berth_manifest_check_config(const struct berth_manifest *m, const struct berth_image_config *c,
                                const char *name, berth_error_t *err)
{
  if (m->n_layers != c->n_diff_ids)
    return BERTH_ERR(err, "image%s%s: the manifest has %zu layers but the config %zu diff IDs",
                     name ? " " : "", name ? name : "", m->n_layers, c->n_diff_ids);
  return 0;
}
