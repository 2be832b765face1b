/* A seccomp profile in Docker's format (`--security-opt seccomp=<file>`) parsed into the
 * representation of runspec.h. Strings are borrowed from the parsed document, which
 * the profile owns with every array made here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/xalloc.h"
#include "engine/runspec/runspec.h"
#include "json/json.h"
#include "oci/names.h"

#define ERRNO_RET_MAX 0xffff

struct owned {
  json_t *doc;
  void **allocs;
  size_t n_allocs;
};

static void *track(struct owned *o, void *p)
{
  o->allocs = xreallocarray(o->allocs, o->n_allocs + 1, sizeof *o->allocs);
  o->allocs[o->n_allocs++] = p;
  return p;
}

void berth_seccomp_profile_free(struct berth_seccomp_profile *p)
{
  if (p == NULL)
    return;
  struct owned *o = p->owned;
  if (o != NULL) {
    for (size_t i = 0; i < o->n_allocs; i++)
      free(o->allocs[i]);
    free(o->allocs);
    json_decref(o->doc);
    free(o);
  }
  free(p);
}

static BERTH_WUR int get_strv(struct berth_jctx *c, json_t *obj, const char *key, struct owned *o,
                              const char *const **out, berth_error_t *err)
{
  const char **v = NULL;
  int r = berth_json_get_strv(c, obj, key, &v, NULL, err);
  if (r == 1)
    *out = track(o, v);
  return r;
}

static BERTH_WUR int check_names(struct berth_jctx *c, const char *key, const char *const *v,
                                 int (*valid)(const char *, uint32_t *), const char *what, berth_error_t *err)
{
  for (size_t i = 0; v && v[i]; i++) {
    uint32_t x;
    if (valid(v[i], &x) < 0) {
      size_t m = berth_jctx_push_key(c, key);
      berth_jctx_push_index(c, i);
      berth_jctx_error(c, NULL, err, "unknown %s \"%s\"", what, v[i]);
      berth_jctx_pop(c, m);
      return -1;
    }
  }
  return 0;
}

static int flag_valid(const char *name, uint32_t *out)
{
  unsigned int f = 0;
  int r = berth_seccomp_flag_from_name(name, &f);
  *out = f;
  return r;
}

static BERTH_WUR int get_action(struct berth_jctx *c, json_t *obj, const char *key, const char **out,
                                berth_error_t *err)
{
  uint32_t a;
  int r = berth_json_get_string(c, obj, key, out, err);
  if (r == 0)
    return berth_jctx_error(c, key, err, "is required");
  if (r < 0)
    return -1;
  if (berth_seccomp_action_from_name(*out, &a) < 0)
    return berth_jctx_error(c, key, err, "unknown seccomp action \"%s\"", *out);
  return 0;
}

static BERTH_WUR int get_errno(struct berth_jctx *c, json_t *obj, const char *key, int *out,
                               berth_error_t *err)
{
  uint64_t v = 0;
  int r = berth_json_get_u64(c, obj, key, ERRNO_RET_MAX, &v, err);
  *out = r == 1 ? (int) v : -1;
  return r < 0 ? -1 : 0;
}

static BERTH_WUR int parse_filter(struct berth_jctx *c, json_t *obj, const char *key, struct owned *o,
                                  struct berth_seccomp_filter *f, berth_error_t *err)
{
  json_t *fo = NULL;
  int r = berth_json_get_object(c, obj, key, &fo, err);
  if (r <= 0)
    return r;
  size_t m = berth_jctx_push_key(c, key);
  const char *const *caps = NULL;
  const char *kernel = NULL;
  if (get_strv(c, fo, "caps", o, &caps, err) < 0 || get_strv(c, fo, "arches", o, &f->arches, err) < 0 ||
      berth_json_get_string(c, fo, "minKernel", &kernel, err) < 0)
    return -1;
  for (size_t i = 0; caps && caps[i]; i++) {
    int cap = berth_cap_from_name(caps[i]);
    if (cap < 0 || cap > 63) {
      berth_jctx_push_key(c, "caps");
      berth_jctx_push_index(c, i);
      return berth_jctx_error(c, NULL, err, "unknown capability \"%s\"", caps[i]);
    }
    f->caps |= UINT64_C(1) << cap;
  }
  char tail;
  if (kernel && (sscanf(kernel, "%u.%u%c", &f->min_kernel_major, &f->min_kernel_minor, &tail) != 2 ||
                 (f->min_kernel_major == 0 && f->min_kernel_minor == 0)))
    return berth_jctx_error(c, "minKernel", err, "invalid kernel version \"%s\" (major.minor)", kernel);
  berth_jctx_pop(c, m);
  return 0;
}

static BERTH_WUR int parse_cond(struct berth_jctx *c, json_t *a, struct berth_seccomp_cond *cond,
                                berth_error_t *err)
{
  uint64_t index = 0;
  int r;
  int op = 0;
  if (!json_is_object(a))
    return berth_jctx_error(c, NULL, err, "expected an object");
  if ((r = berth_json_get_u64(c, a, "index", 5, &index, err)) <= 0)
    return r < 0 ? -1 : berth_jctx_error(c, "index", err, "is required");
  if ((r = berth_json_get_u64(c, a, "value", INT64_MAX, &cond->value, err)) <= 0)
    return r < 0 ? -1 : berth_jctx_error(c, "value", err, "is required");
  if (berth_json_get_u64(c, a, "valueTwo", INT64_MAX, &cond->value_two, err) < 0)
    return -1;
  if ((r = berth_json_get_string(c, a, "op", &cond->op, err)) <= 0)
    return r < 0 ? -1 : berth_jctx_error(c, "op", err, "is required");
  if (berth_seccomp_op_from_name(cond->op, &op) < 0)
    return berth_jctx_error(c, "op", err, "unknown seccomp operator \"%s\"", cond->op);
  cond->index = (unsigned int) index;
  return 0;
}

static BERTH_WUR int parse_args(struct berth_jctx *c, json_t *obj, struct owned *o,
                                struct berth_seccomp_group *g, berth_error_t *err)
{
  json_t *arr = NULL;
  int r = berth_json_get_array(c, obj, "args", &arr, err);
  if (r <= 0)
    return r;
  struct berth_seccomp_cond *conds = track(o, xcalloc(json_array_size(arr) + 1, sizeof *conds));
  size_t m = berth_jctx_push_key(c, "args");
  for (size_t i = 0; i < json_array_size(arr); i++) {
    size_t mi = berth_jctx_push_index(c, i);
    if (parse_cond(c, json_array_get(arr, i), &conds[i], err) < 0)
      return -1;
    berth_jctx_pop(c, mi);
  }
  berth_jctx_pop(c, m);
  g->args = conds;
  g->n_args = json_array_size(arr);
  return 0;
}

static BERTH_WUR int parse_group(struct berth_jctx *c, json_t *obj, struct owned *o,
                                 struct berth_seccomp_group *g, berth_error_t *err)
{
  if (!json_is_object(obj))
    return berth_jctx_error(c, NULL, err, "expected an object");
  const char *name = NULL;
  int r = get_strv(c, obj, "names", o, &g->names, err);
  if (r < 0 || berth_json_get_string(c, obj, "name", &name, err) < 0)
    return -1;
  if (g->names == NULL && name != NULL) { /* the legacy single "name" */
    const char **v = track(o, xcalloc(2, sizeof *v));
    v[0] = name;
    g->names = v;
  }
  if (g->names == NULL || g->names[0] == NULL)
    return berth_jctx_error(c, "names", err, "is required and must not be empty");
  if (get_action(c, obj, "action", &g->action, err) < 0 ||
      get_errno(c, obj, "errnoRet", &g->errno_ret, err) < 0 || parse_args(c, obj, o, g, err) < 0 ||
      berth_json_get_string(c, obj, "comment", &g->comment, err) < 0 ||
      parse_filter(c, obj, "includes", o, &g->includes, err) < 0 ||
      parse_filter(c, obj, "excludes", o, &g->excludes, err) < 0)
    return -1;
  return 0;
}

static BERTH_WUR int parse_groups(struct berth_jctx *c, json_t *doc, struct owned *o,
                                  struct berth_seccomp_profile *p, berth_error_t *err)
{
  json_t *arr = NULL;
  int r = berth_json_get_array(c, doc, "syscalls", &arr, err);
  if (r <= 0)
    return r;
  struct berth_seccomp_group *groups = track(o, xcalloc(json_array_size(arr) + 1, sizeof *groups));
  size_t m = berth_jctx_push_key(c, "syscalls");
  for (size_t i = 0; i < json_array_size(arr); i++) {
    size_t mi = berth_jctx_push_index(c, i);
    if (parse_group(c, json_array_get(arr, i), o, &groups[i], err) < 0)
      return -1;
    berth_jctx_pop(c, mi);
  }
  berth_jctx_pop(c, m);
  p->groups = groups;
  p->n_groups = json_array_size(arr);
  return 0;
}

static BERTH_WUR int parse_archmap_entry(struct berth_jctx *c, json_t *e, struct owned *o,
                                         struct berth_seccomp_archmap *a, berth_error_t *err)
{
  uint32_t tok;
  if (!json_is_object(e))
    return berth_jctx_error(c, NULL, err, "expected an object");
  int r = berth_json_get_string(c, e, "architecture", &a->arch, err);
  if (r <= 0)
    return r < 0 ? -1 : berth_jctx_error(c, "architecture", err, "is required");
  if (berth_seccomp_arch_from_name(a->arch, &tok) < 0)
    return berth_jctx_error(c, "architecture", err, "unknown seccomp architecture \"%s\"", a->arch);
  if (get_strv(c, e, "subArchitectures", o, &a->sub, err) < 0 ||
      check_names(c, "subArchitectures", a->sub, berth_seccomp_arch_from_name, "seccomp architecture", err) <
        0)
    return -1;
  return 0;
}

static BERTH_WUR int parse_archmap(struct berth_jctx *c, json_t *doc, struct owned *o,
                                   struct berth_seccomp_profile *p, berth_error_t *err)
{
  json_t *arr = NULL;
  int r = berth_json_get_array(c, doc, "archMap", &arr, err);
  if (r <= 0)
    return r;
  if (p->architectures != NULL)
    return berth_jctx_error(c, "archMap", err, "use either \"architectures\" or \"archMap\", not both");
  struct berth_seccomp_archmap *map = track(o, xcalloc(json_array_size(arr) + 1, sizeof *map));
  size_t m = berth_jctx_push_key(c, "archMap");
  for (size_t i = 0; i < json_array_size(arr); i++) {
    size_t mi = berth_jctx_push_index(c, i);
    if (parse_archmap_entry(c, json_array_get(arr, i), o, &map[i], err) < 0)
      return -1;
    berth_jctx_pop(c, mi);
  }
  berth_jctx_pop(c, m);
  p->arch_map = map;
  p->n_arch_map = json_array_size(arr);
  return 0;
}

/* SCMP_ACT_NOTIFY as the runtime takes it (oci/spec_seccomp.c): refused here, when the profile
 * is read, rather than by the runtime when the container starts */
static BERTH_WUR int check_notify(struct berth_jctx *c, const struct berth_seccomp_profile *p,
                                  berth_error_t *err)
{
  bool notify = false;
  if (strcmp(p->default_action, "SCMP_ACT_NOTIFY") == 0)
    return berth_jctx_error(c, "defaultAction", err, "SCMP_ACT_NOTIFY cannot be the default action");
  for (size_t i = 0; i < p->n_groups; i++) {
    if (strcmp(p->groups[i].action, "SCMP_ACT_NOTIFY") != 0)
      continue;
    notify = true;
    for (size_t k = 0; p->groups[i].names[k]; k++)
      if (strcmp(p->groups[i].names[k], "write") == 0) { /* the agent could never be told: deadlock */
        size_t m = berth_jctx_push_key(c, "syscalls");
        berth_jctx_push_index(c, i);
        berth_jctx_error(c, "action", err, "SCMP_ACT_NOTIFY cannot be used for the `write` syscall");
        berth_jctx_pop(c, m);
        return -1;
      }
  }
  if (notify && p->listener_path == NULL)
    return berth_jctx_error(c, "listenerPath", err, "is required when SCMP_ACT_NOTIFY is used");
  return 0;
}

static BERTH_WUR int parse_top(struct berth_jctx *c, json_t *doc, struct owned *o,
                               struct berth_seccomp_profile *p, berth_error_t *err)
{
  if (!json_is_object(doc))
    return berth_jctx_error(c, NULL, err, "expected an object");
  if (get_action(c, doc, "defaultAction", &p->default_action, err) < 0 ||
      get_errno(c, doc, "defaultErrnoRet", &p->default_errno_ret, err) < 0 ||
      get_strv(c, doc, "architectures", o, &p->architectures, err) < 0 ||
      check_names(c, "architectures", p->architectures, berth_seccomp_arch_from_name, "seccomp architecture",
                  err) < 0 ||
      get_strv(c, doc, "flags", o, &p->flags, err) < 0 ||
      check_names(c, "flags", p->flags, flag_valid, "seccomp flag", err) < 0 ||
      berth_json_get_string(c, doc, "listenerPath", &p->listener_path, err) < 0 ||
      berth_json_get_string(c, doc, "listenerMetadata", &p->listener_metadata, err) < 0)
    return -1;
  if (p->listener_path && p->listener_path[0] != '/')
    return berth_jctx_error(c, "listenerPath", err, "must be an absolute path");
  if (parse_archmap(c, doc, o, p, err) < 0 || parse_groups(c, doc, o, p, err) < 0)
    return -1;
  return check_notify(c, p, err);
}

int berth_seccomp_profile_parse(const char *text, size_t len, const char *file,
                                struct berth_seccomp_profile **out, berth_error_t *err)
{
  json_t *doc = berth_json_parse(text, len, file, err);
  if (doc == NULL)
    return -1;
  struct berth_seccomp_profile *p = xcalloc(1, sizeof *p);
  struct owned *o = xcalloc(1, sizeof *o);
  o->doc = doc;
  p->owned = o;
  p->default_errno_ret = -1;
  struct berth_jctx c;
  berth_jctx_init(&c, file);
  if (parse_top(&c, doc, o, p, err) < 0) {
    berth_seccomp_profile_free(p);
    return -1;
  }
  *out = p;
  return 0;
}
