/* Values of the evaluator: jansson references with where they were found (for the map rules)
 * and Go's view of them (type names in messages, truth). */
#include <string.h>

#include "base/xalloc.h"
#include "format/format_internal.h"

struct val val_ref(const struct val *v)
{
  struct val r = *v;
  if (r.j)
    json_incref(r.j);
  return r;
}

void val_release(struct val *v)
{
  if (v->j)
    json_decref(v->j);
  *v = VAL_NONE;
}

const char *val_type(const struct val *v, const struct berth_format_type *type)
{
  if (v->row && type && type->name)
    return type->name;
  if (v->j == NULL)
    return "<nil>";
  switch (json_typeof(v->j)) {
  case JSON_STRING: return "string";
  case JSON_INTEGER: return "int";
  case JSON_REAL: return "float64";
  case JSON_TRUE:
  case JSON_FALSE: return "bool";
  case JSON_ARRAY: return "[]interface {}";
  case JSON_OBJECT: return "map[string]interface {}";
  case JSON_NULL: return "interface {}";
  }
  return "interface {}";
}

bool val_truth(const struct val *v)
{
  if (v->row)
    return true; /* a struct */
  if (v->j == NULL)
    return false;
  switch (json_typeof(v->j)) {
  case JSON_STRING: return json_string_length(v->j) > 0;
  case JSON_INTEGER: return json_integer_value(v->j) != 0;
  case JSON_REAL: return json_real_value(v->j) != 0;
  case JSON_TRUE: return true;
  case JSON_FALSE: return false;
  case JSON_ARRAY: return json_array_size(v->j) > 0;
  case JSON_OBJECT: return json_object_size(v->j) > 0;
  case JSON_NULL: return false;
  }
  return false;
}

const struct vpath *exec_path(struct exec *s, const struct vpath *up, const char *key)
{
  if (s->npaths == s->cappaths) {
    s->cappaths = s->cappaths ? s->cappaths * 2 : 16;
    s->paths = xreallocarray(s->paths, s->cappaths, sizeof *s->paths);
  }
  struct vpath *p = xmalloc(sizeof *p);
  p->up = up;
  p->key = xstrdup(key);
  s->paths[s->npaths++] = p;
  return p;
}

/* does the path end with the dotted rule ("NetworkSettings.Networks")? */
static bool path_ends_with(const struct vpath *p, const char *rule)
{
  size_t end = strlen(rule);
  while (end > 0) {
    if (p == NULL)
      return false;
    const char *dot = memrchr(rule, '.', end);
    size_t start = dot ? (size_t) (dot - rule) + 1 : 0;
    if (strlen(p->key) != end - start || memcmp(p->key, rule + start, end - start) != 0)
      return false;
    p = p->up;
    end = dot ? start - 1 : 0;
  }
  return true;
}

static const struct berth_format_map *map_rule(const struct exec *s, const struct val *v)
{
  if (s->type == NULL || s->type->maps == NULL || v->path == NULL)
    return NULL;
  for (const struct berth_format_map *m = s->type->maps; m->path; m++)
    if (path_ends_with(v->path, m->path))
      return m;
  return NULL;
}

bool exec_is_map(const struct exec *s, const struct val *v)
{
  if (s->type == NULL || s->header)
    return true; /* plain JSON: Go's map[string]interface{} */
  if (v->row)
    return false;
  if (v->path == NULL)
    return true; /* made by a function or a method */
  return map_rule(s, v) != NULL;
}

bool exec_map_of_strings(const struct exec *s, const struct val *v)
{
  if (s->header)
    return true;
  const struct berth_format_map *m = map_rule(s, v);
  return m && m->strings;
}
