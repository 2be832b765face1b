/* Evaluating commands and their arguments: Go's evalCommand, evalArg and evalField over JSON —
 * a row's methods and fields, a struct's missing field as an error, a map's as "<no value>". */
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/xalloc.h"
#include "format/format_internal.h"

/* the arguments a field or function is given: nodes after the first word, then the value piped in */
struct args {
  const struct node *const *nodes;
  size_t n;
  struct val *final; /* NULL: nothing piped in */
};

static BERTH_WUR int field_chain(struct exec *s, const struct val *dot, struct val recv,
                                 const struct node *node, char *const *idents, size_t n, const struct args *a,
                                 struct val *out, berth_error_t *err);

static BERTH_WUR int not_a_function(struct exec *s, const struct node *cmd, const struct val *final,
                                    berth_error_t *err)
{
  if ((cmd->type == N_CMD && cmd->nkids > 1) || final) {
    struct berth_strbuf b = BERTH_STRBUF_INIT;
    node_string(cmd->type == N_CMD ? cmd->kids[0] : cmd, &b);
    exec_errorf(s, err, "can't give argument to non-function %s", b.buf);
    berth_strbuf_release(&b);
    return -1;
  }
  return 0;
}

/* Go's idealConstant: a float when written as one, else an int */
static BERTH_WUR int constant(struct exec *s, const struct node *n, struct val *out, berth_error_t *err)
{
  s->at = n;
  switch (n->type) {
  case N_BOOL: *out = val_take(json_boolean(n->b)); return 0;
  case N_STRING: *out = val_take(json_stringn_nocheck(n->text, n->len)); return 0;
  case N_NIL: return exec_errorf(s, err, "nil is not a command");
  default: break;
  }
  const char *t = n->orig;
  bool hex = t[0] == '0' && (t[1] == 'x' || t[1] == 'X') && strpbrk(t, "pP") == NULL;
  if (n->is_float && !hex && t[0] != '\'' && strpbrk(t, ".eEpP")) {
    *out = val_take(json_real(n->f));
    return 0;
  }
  if (!n->is_int)
    return exec_errorf(s, err, "%s overflows int", t);
  *out = val_take(json_integer(n->i));
  return 0;
}

static BERTH_WUR int method_args(struct exec *s, const struct val *dot, const struct args *a,
                                 struct val *vals, berth_error_t *err)
{
  for (size_t i = 0; i < a->n; i++)
    if (exec_arg(s, dot, a->nodes[i], &vals[i], err) < 0)
      return -1;
  if (a->final)
    vals[a->n] = val_ref(a->final);
  for (size_t i = 0; i < a->n + (a->final != NULL); i++) {
    if (vals[i].j == NULL)
      return exec_errorf(s, err, "invalid value; expected string");
    if (!json_is_string(vals[i].j))
      return exec_errorf(s, err, "wrong type for value; expected string; got %s",
                         val_type(&vals[i], s->type));
  }
  return 0;
}

/* SubHeaderContext.Label: the column of .Label "com.example.app-name" is "app name" */
static BERTH_WUR json_t *header_label(json_t *row, const char *const *args, void *data, berth_error_t *err)
{
  const char *dot = strrchr(args[0], '.');
  char *h = xstrdup(dot ? dot + 1 : args[0]);
  for (char *c = h; *c; c++)
    if (*c == '-' || *c == '_')
      *c = ' ';
  json_t *r = json_string_nocheck(h);
  free(h);
  return r;
}

static const struct berth_format_method label_method = { "Label", 1, header_label };

static const struct berth_format_method *find_method(const struct exec *s, const char *name)
{
  if (s->header)
    return strcmp(name, "Label") == 0 ? &label_method : NULL;
  if (s->type == NULL || s->type->methods == NULL)
    return NULL;
  for (const struct berth_format_method *m = s->type->methods; m->name; m++)
    if (strcmp(m->name, name) == 0)
      return m;
  return NULL;
}

static BERTH_WUR int call_method(struct exec *s, const struct val *dot, const struct berth_format_method *m,
                                 const struct val *recv, const struct args *a, struct val *out,
                                 berth_error_t *err)
{
  size_t n = a->n + (a->final != NULL);
  if (n != m->nargs)
    return exec_errorf(s, err, "wrong number of args for %s: want %zu got %zu", m->name, m->nargs, n);
  struct val *vals = xcalloc(n + 1, sizeof *vals);
  const char **strs = xcalloc(n + 1, sizeof *strs);
  int r = method_args(s, dot, a, vals, err);
  if (r == 0) {
    for (size_t i = 0; i < n; i++)
      strs[i] = json_string_value(vals[i].j);
    json_t *j = m->fn(recv->j, strs, s->row_data ? s->row_data : s->type ? s->type->data : NULL, err);
    r = j ? 0 : exec_wrap(s, err, m->name);
    *out = val_take(j);
  }
  for (size_t i = 0; i < n; i++)
    val_release(&vals[i]);
  free(vals);
  free(strs);
  return r;
}

static BERTH_WUR int missing_field(struct exec *s, const struct val *recv, const char *name, struct val *out,
                                   berth_error_t *err)
{
  if (exec_is_map(s, recv)) {
    *out = VAL_NONE;
    return 0;
  }
  if (recv->row && s->type && s->type->name)
    return exec_errorf(s, err, "can't evaluate field %s in type %s", name, s->type->name);
  return exec_errorf(s, err, "map has no entry for key \"%s\"", name);
}

/* Go's evalField: name on recv, with the arguments given to the last field of a chain */
static BERTH_WUR int field(struct exec *s, const struct val *dot, const struct val *recv, const char *name,
                           const struct args *a, struct val *out, berth_error_t *err)
{
  bool has_args = a->n > 0 || a->final;
  if (recv->j == NULL) {
    if (s->type == NULL || s->header) {
      *out = VAL_NONE;
      return 0;
    }
    return exec_errorf(s, err, "nil data; no entry for key \"%s\"", name);
  }
  const struct berth_format_method *m = recv->row ? find_method(s, name) : NULL;
  if (m)
    return call_method(s, dot, m, recv, a, out, err);
  if (json_is_null(recv->j))
    return exec_errorf(s, err, "nil pointer evaluating interface {}.%s", name);
  if (!json_is_object(recv->j))
    return exec_errorf(s, err, "can't evaluate field %s in type %s", name,
                       recv->iface ? "interface {}" : val_type(recv, s->type));
  if (has_args && recv->row && s->type && s->type->name) /* a row's fields are Go methods */
    return exec_errorf(s, err, "wrong number of args for %s: want 0 got %zu", name,
                       a->n + (a->final != NULL));
  if (has_args)
    return exec_errorf(s, err, "%s is not a method but has arguments", name);
  json_t *v = json_object_get(recv->j, name);
  if (v == NULL)
    return missing_field(s, recv, name, out, err);
  /* a row's fields are typed (Go struct fields); everything else was read from a map */
  bool typed = recv->row && s->type && s->type->name;
  *out = (struct val){ json_incref(v), exec_path(s, recv->path, name), false, !typed };
  return 0;
}

static BERTH_WUR int field_chain(struct exec *s, const struct val *dot, struct val recv,
                                 const struct node *node, char *const *idents, size_t n, const struct args *a,
                                 struct val *out, berth_error_t *err)
{
  static const struct args none = { NULL, 0, NULL };
  recv = val_ref(&recv);
  for (size_t i = 0; i < n; i++) {
    struct val next;
    int r = field(s, dot, &recv, idents[i], i + 1 == n ? a : &none, &next, err);
    val_release(&recv);
    if (r < 0)
      return -1;
    recv = next;
  }
  *out = recv;
  return 0;
}

static BERTH_WUR int chain(struct exec *s, const struct val *dot, const struct node *n, const struct args *a,
                           struct val *out, berth_error_t *err)
{
  s->at = n;
  if (n->term->type == N_NIL) {
    struct berth_strbuf b = BERTH_STRBUF_INIT;
    node_string(n, &b);
    exec_errorf(s, err, "indirection through explicit nil in %s", b.buf);
    berth_strbuf_release(&b);
    return -1;
  }
  struct val recv;
  if (exec_arg(s, dot, n->term, &recv, err) < 0)
    return -1;
  int r = field_chain(s, dot, recv, n, n->idents, n->nidents, a, out, err);
  val_release(&recv);
  return r;
}

static BERTH_WUR int variable(struct exec *s, const struct val *dot, const struct node *n,
                              const struct args *a, struct val *out, berth_error_t *err)
{
  s->at = n;
  struct val *v = exec_var(s, n->idents[0]);
  if (v == NULL)
    return exec_errorf(s, err, "undefined variable: %s", n->idents[0]);
  if (n->nidents == 1) {
    if (a->n > 0 || a->final) {
      struct berth_strbuf b = BERTH_STRBUF_INIT;
      node_string(n, &b);
      exec_errorf(s, err, "can't give argument to non-function %s", b.buf);
      berth_strbuf_release(&b);
      return -1;
    }
    *out = val_ref(v);
    return 0;
  }
  return field_chain(s, dot, *v, n, n->idents + 1, n->nidents - 1, a, out, err);
}

int exec_command(struct exec *s, const struct val *dot, const struct node *cmd, struct val *final,
                 struct val *out, berth_error_t *err)
{
  const struct node *first = cmd->kids[0];
  struct args a = { (const struct node *const *) cmd->kids + 1, cmd->nkids - 1, final };
  switch (first->type) {
  case N_FIELD:
    s->at = first;
    return field_chain(s, dot, *dot, first, first->idents, first->nidents, &a, out, err);
  case N_CHAIN: return chain(s, dot, first, &a, out, err);
  case N_IDENT: s->at = first; return func_call(s, func_find(first->idents[0]), dot, cmd, final, out, err);
  case N_VAR: return variable(s, dot, first, &a, out, err);
  case N_PIPE:
    if (not_a_function(s, cmd, final, err) < 0)
      return -1;
    return exec_pipeline(s, dot, first, out, err);
  case N_DOT:
    s->at = first;
    if (not_a_function(s, cmd, final, err) < 0)
      return -1;
    *out = val_ref(dot);
    return 0;
  default:
    s->at = first;
    if (not_a_function(s, cmd, final, err) < 0)
      return -1;
    return constant(s, first, out, err);
  }
}

int exec_arg(struct exec *s, const struct val *dot, const struct node *n, struct val *out, berth_error_t *err)
{
  static const struct args none = { NULL, 0, NULL };
  s->at = n;
  switch (n->type) {
  case N_DOT: *out = val_ref(dot); return 0;
  case N_NIL: *out = val_take(json_null()); return 0;
  case N_FIELD: return field_chain(s, dot, *dot, n, n->idents, n->nidents, &none, out, err);
  case N_VAR: return variable(s, dot, n, &none, out, err);
  case N_PIPE: return exec_pipeline(s, dot, n, out, err);
  case N_IDENT: return func_call(s, func_find(n->idents[0]), dot, n, NULL, out, err);
  case N_CHAIN: return chain(s, dot, n, &none, out, err);
  default: return constant(s, n, out, err);
  }
}
