/* config.json → berth_spec_t: the document, root, mounts, hostname, hooks, annotations,
 * and the checks that span sections. */
#include "oci/spec.h"

#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/xalloc.h"
#include "json/json.h"
#include "oci/spec_internal.h"

/* "1.<minor>[.<patch>][-pre][+build]" */
static bool version_is_1x(const char *v)
{
  if (strncmp(v, "1.", 2) != 0)
    return false;
  const char *p = v + 2;
  for (int part = 0; part < 2; part++) {
    if (*p < '0' || *p > '9')
      return false;
    while (*p >= '0' && *p <= '9')
      p++;
    if (*p != '.')
      break;
    p++;
  }
  return *p == '\0' || *p == '-' || *p == '+';
}

static BERTH_WUR int parse_version_root(struct berth_jctx *c, json_t *doc, berth_spec_t *spec,
                                        berth_error_t *err)
{
  if (oci_get_string(c, doc, "ociVersion", true, &spec->oci_version, err) < 0)
    return -1;
  if (!version_is_1x(spec->oci_version))
    return berth_jctx_error(c, "ociVersion", err, "unsupported version `%s` (expected 1.x)",
                            spec->oci_version);
  json_t *root = NULL;
  int r = berth_json_get_object(c, doc, "root", &root, err);
  if (r < 0)
    return -1;
  if (r == 0)
    return oci_required(c, "root", err);
  size_t m = berth_jctx_push_key(c, "root");
  if (oci_get_string(c, root, "path", true, &spec->root_path, err) < 0 ||
      berth_json_get_bool(c, root, "readonly", &spec->root_readonly, err) < 0)
    return -1;
  if (spec->root_path[0] == '\0')
    return berth_jctx_error(c, "path", err, "must not be empty");
  berth_jctx_pop(c, m);
  return 0;
}

/* runc 1.1 accepts a relative destination (with a warning) and mounts it relative to
 * "/"; do the same, rewriting the document so the borrowed string stays owned by it. */
static BERTH_WUR int mount_destination(struct berth_jctx *c, json_t *o, struct berth_spec_mount *mnt,
                                       berth_error_t *err)
{
  const char *dest = NULL;
  if (oci_get_string(c, o, "destination", true, &dest, err) < 0)
    return -1;
  if (dest[0] == '\0')
    return berth_jctx_error(c, "destination", err, "must not be empty");
  if (dest[0] != '/') {
    berth_log_warn("%s: %s.destination: `%s` is not absolute; mounting it on `/%s`",
                   c->file ? c->file : "config", c->path, dest, dest);
    cleanup_free char *abs = xasprintf("/%s", dest);
    json_t *s = json_string(abs);
    if (s == NULL)
      return berth_jctx_error(c, "destination", err, "invalid string");
    json_object_set_new(o, "destination", s);
    dest = json_string_value(s);
  }
  mnt->destination = dest;
  return 0;
}

static BERTH_WUR int parse_mount(struct berth_jctx *c, json_t *o, struct berth_spec_mount *mnt,
                                 berth_error_t *err)
{
  if (oci_expect_object(c, o, err) < 0 || mount_destination(c, o, mnt, err) < 0 ||
      berth_json_get_string(c, o, "type", &mnt->type, err) < 0 ||
      berth_json_get_string(c, o, "source", &mnt->source, err) < 0 ||
      berth_json_get_strv(c, o, "options", &mnt->options, &mnt->n_options, err) < 0 ||
      oci_get_id_maps(c, o, "uidMappings", &mnt->uid_mappings, &mnt->n_uid_mappings, err) < 0 ||
      oci_get_id_maps(c, o, "gidMappings", &mnt->gid_mappings, &mnt->n_gid_mappings, err) < 0)
    return -1;
  if ((mnt->uid_mappings == NULL) != (mnt->gid_mappings == NULL))
    return berth_jctx_error(c, mnt->uid_mappings ? "gidMappings" : "uidMappings", err,
                            "an idmapped mount needs both uidMappings and gidMappings");
  return 0;
}

static BERTH_WUR int parse_mounts(struct berth_jctx *c, json_t *doc, berth_spec_t *spec, berth_error_t *err)
{
  json_t *arr = NULL;
  int r = berth_json_get_array(c, doc, "mounts", &arr, err);
  if (r <= 0)
    return r;
  spec->n_mounts = json_array_size(arr);
  spec->mounts = xcalloc(spec->n_mounts + 1, sizeof *spec->mounts);
  size_t m = berth_jctx_push_key(c, "mounts");
  for (size_t i = 0; i < spec->n_mounts; i++) {
    size_t mi = berth_jctx_push_index(c, i);
    if (parse_mount(c, json_array_get(arr, i), &spec->mounts[i], err) < 0)
      return -1;
    berth_jctx_pop(c, mi);
  }
  berth_jctx_pop(c, m);
  return 0;
}

static BERTH_WUR int parse_hook(struct berth_jctx *c, json_t *o, struct berth_spec_hook *h,
                                berth_error_t *err)
{
  if (oci_expect_object(c, o, err) < 0 || oci_get_abs_path(c, o, "path", true, &h->path, err) < 0 ||
      berth_json_get_strv(c, o, "args", &h->args, NULL, err) < 0 ||
      berth_json_get_strv(c, o, "env", &h->env, NULL, err) < 0)
    return -1;
  int r = oci_get_int(c, o, "timeout", 1, INT32_MAX, false, &h->timeout, err);
  if (r < 0)
    return -1;
  h->has_timeout = r == 1;
  return 0;
}

static BERTH_WUR int parse_hooks(struct berth_jctx *c, json_t *doc, struct berth_spec_hooks *hooks,
                                 berth_error_t *err)
{
  json_t *obj = NULL;
  int r = berth_json_get_object(c, doc, "hooks", &obj, err);
  if (r <= 0)
    return r;
  size_t m = berth_jctx_push_key(c, "hooks");
  for (int k = 0; k < BERTH_HOOK__COUNT; k++) {
    const char *name = berth_hook_kind_name((enum berth_hook_kind) k);
    json_t *arr = NULL;
    if ((r = berth_json_get_array(c, obj, name, &arr, err)) < 0)
      return -1;
    if (r == 0)
      continue;
    hooks->n[k] = json_array_size(arr);
    hooks->list[k] = xcalloc(hooks->n[k] + 1, sizeof *hooks->list[k]);
    size_t mk = berth_jctx_push_key(c, name);
    for (size_t i = 0; i < hooks->n[k]; i++) {
      size_t mi = berth_jctx_push_index(c, i);
      if (parse_hook(c, json_array_get(arr, i), &hooks->list[k][i], err) < 0)
        return -1;
      berth_jctx_pop(c, mi);
    }
    berth_jctx_pop(c, mk);
  }
  berth_jctx_pop(c, m);
  return 0;
}

static BERTH_WUR int parse_misc(struct berth_jctx *c, json_t *doc, berth_spec_t *spec, berth_error_t *err)
{
  if (berth_json_get_string(c, doc, "hostname", &spec->hostname, err) < 0 ||
      berth_json_get_string(c, doc, "domainname", &spec->domainname, err) < 0 ||
      berth_json_get_string_map(c, doc, "annotations", &spec->annotation_keys, &spec->annotation_values,
                                &spec->n_annotations, err) < 0)
    return -1;
  for (size_t i = 0; i < spec->n_annotations; i++)
    if (spec->annotation_keys[i][0] == '\0')
      return berth_jctx_error(c, "annotations", err, "a key must not be empty");
  return 0;
}

static BERTH_WUR int parse_sections(struct berth_jctx *c, json_t *doc, berth_spec_t *spec, berth_error_t *err)
{
  json_t *obj = NULL;
  int r;
  if (parse_version_root(c, doc, spec, err) < 0 || parse_mounts(c, doc, spec, err) < 0)
    return -1;
  if ((r = berth_json_get_object(c, doc, "process", &obj, err)) < 0)
    return -1;
  if (r == 1) {
    size_t m = berth_jctx_push_key(c, "process");
    if (oci_parse_process(c, obj, &spec->process, err) < 0)
      return -1;
    berth_jctx_pop(c, m);
    spec->has_process = true;
  }
  if (parse_misc(c, doc, spec, err) < 0 || parse_hooks(c, doc, &spec->hooks, err) < 0)
    return -1;
  if ((r = berth_json_get_object(c, doc, "linux", &obj, err)) < 0)
    return -1;
  if (r == 1) {
    size_t m = berth_jctx_push_key(c, "linux");
    if (oci_parse_linux(c, obj, &spec->linux_, err) < 0)
      return -1;
    berth_jctx_pop(c, m);
  }
  return 0;
}

/* Rules that need more than one section (runc's validator has the same ones). */
static BERTH_WUR int check_cross(struct berth_jctx *c, const berth_spec_t *spec, berth_error_t *err)
{
  const struct berth_spec_linux *l = &spec->linux_;
  if (spec->hostname && spec->hostname[0] && !l->ns[BERTH_NS_UTS].present)
    return berth_jctx_error(c, "hostname", err,
                            "setting the hostname needs a `uts` namespace in linux.namespaces");
  if (spec->domainname && spec->domainname[0] && !l->ns[BERTH_NS_UTS].present)
    return berth_jctx_error(c, "domainname", err,
                            "setting the domainname needs a `uts` namespace in linux.namespaces");
  return 0;
}

int berth_spec_parse(const char *text, size_t len, const char *file, berth_spec_t **out, berth_error_t *err)
{
  size_t big_len = 0;
  cleanup_free char *big = oci_rewrite_big_integers(text, len, &big_len);
  json_t *doc = berth_json_parse(big ? big : text, big ? big_len : len, file, err);
  if (doc == NULL)
    return -1;
  cleanup_spec berth_spec_t *spec = xcalloc(1, sizeof *spec);
  spec->doc = doc;
  struct berth_jctx c;
  berth_jctx_init(&c, file);
  if (oci_expect_object(&c, doc, err) < 0 || parse_sections(&c, doc, spec, err) < 0)
    return -1;
  spec->linux_.seccomp.fail_unknown_syscall =
    berth_spec_annotation(spec, BERTH_ANNOTATION_SECCOMP_FAIL_UNKNOWN) != NULL;
  berth_jctx_init(&c, file);
  if (check_cross(&c, spec, err) < 0)
    return -1;
  *out = steal_ptr(spec);
  return 0;
}

const char *berth_spec_annotation(const berth_spec_t *spec, const char *key)
{
  for (size_t i = 0; i < spec->n_annotations; i++)
    if (strcmp(spec->annotation_keys[i], key) == 0)
      return spec->annotation_values[i];
  return NULL;
}

int berth_spec_load(const char *bundle, berth_spec_t **out, berth_error_t *err)
{
  cleanup_free char *path = xasprintf("%s/config.json", bundle && bundle[0] ? bundle : ".");
  cleanup_free char *text = NULL;
  size_t len = 0;
  if (berth_read_file(path, 0, &text, &len, err) < 0)
    return -1;
  if (berth_spec_parse(text, len, path, out, err) < 0)
    return -1;
  (*out)->text = steal_ptr(text);
  (*out)->text_len = len;
  return 0;
}

int berth_spec_parse_process(json_t *obj, const char *file, struct berth_spec_process *out,
                             berth_error_t *err)
{
  struct berth_jctx c;
  berth_jctx_init(&c, file);
  memset(out, 0, sizeof *out);
  if (oci_expect_object(&c, obj, err) < 0)
    return -1;
  if (oci_parse_process(&c, obj, out, err) < 0) {
    berth_spec_process_free(out);
    return -1;
  }
  return 0;
}

static void mounts_free(struct berth_spec_mount *mounts, size_t n)
{
  for (size_t i = 0; mounts && i < n; i++) {
    free(mounts[i].options);
    free(mounts[i].uid_mappings);
    free(mounts[i].gid_mappings);
  }
  free(mounts);
}

void berth_spec_free(berth_spec_t *spec)
{
  if (spec == NULL)
    return;
  free(spec->text);
  mounts_free(spec->mounts, spec->n_mounts);
  berth_spec_process_free(&spec->process);
  for (int k = 0; k < BERTH_HOOK__COUNT; k++) {
    for (size_t i = 0; spec->hooks.list[k] && i < spec->hooks.n[k]; i++) {
      free(spec->hooks.list[k][i].args);
      free(spec->hooks.list[k][i].env);
    }
    free(spec->hooks.list[k]);
  }
  free(spec->annotation_keys);
  free(spec->annotation_values);
  oci_linux_free(&spec->linux_);
  json_decref(spec->doc);
  free(spec);
}
