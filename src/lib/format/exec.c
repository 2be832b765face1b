/* Running a template: Go's text/template/exec.go walk over the AST (text, actions, if, with,
 * range with break and continue, variables), the messages with the template's line and column,
 * and the limits that keep a hostile template from running forever. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/xalloc.h"
#include "format/format_internal.h"

#define MAX_OUTPUT (64u << 20) /* bytes */
#define MAX_STEPS  1000000     /* passes of range bodies */

enum { WALK_OK = 0, WALK_BREAK = 1, WALK_CONTINUE = 2 };

static void location(const struct exec *s, struct berth_strbuf *b)
{
  const char *text = s->t->text;
  size_t pos = s->at->pos, line = 1, start = 0;
  for (size_t i = 0; i < pos && text[i]; i++)
    if (text[i] == '\n') {
      line++;
      start = i + 1;
    }
  berth_strbuf_printf(b, "template: :%zu:%zu: executing \"\" at <", line, pos - start);
  node_string(s->at, b);
  berth_strbuf_puts(b, ">: ");
}

int exec_errorf(struct exec *s, berth_error_t *err, const char *fmt, ...)
{
  struct berth_strbuf b = BERTH_STRBUF_INIT;
  if (s->at)
    location(s, &b);
  else
    berth_strbuf_puts(&b, "template: : ");
  va_list ap;
  va_start(ap, fmt);
  berth_strbuf_vprintf(&b, fmt, ap);
  va_end(ap);
  BERTH_ERR(err, "%s", b.buf);
  berth_strbuf_release(&b);
  return -1;
}

int exec_wrap(struct exec *s, berth_error_t *err, const char *name)
{
  cleanup_free char *msg = berth_error_steal_msg(err);
  return exec_errorf(s, err, "error calling %s: %s", name, msg);
}

static void push_var(struct exec *s, const char *name, struct val v)
{
  if (s->nvars == s->capvars) {
    s->capvars = s->capvars ? s->capvars * 2 : 8;
    s->vars = xreallocarray(s->vars, s->capvars, sizeof *s->vars);
  }
  s->vars[s->nvars++] = (struct var){ name, v };
}

static void pop_vars(struct exec *s, size_t mark)
{
  while (s->nvars > mark)
    val_release(&s->vars[--s->nvars].v);
}

struct val *exec_var(struct exec *s, const char *name)
{
  for (size_t i = s->nvars; i-- > 0;)
    if (strcmp(s->vars[i].name, name) == 0)
      return &s->vars[i].v;
  return NULL;
}

int exec_pipeline(struct exec *s, const struct val *dot, const struct node *pipe, struct val *out,
                  berth_error_t *err)
{
  s->at = pipe;
  struct val v = VAL_NONE;
  for (size_t i = 0; i < pipe->nkids; i++) {
    struct val nv;
    int r = exec_command(s, dot, pipe->kids[i], i ? &v : NULL, &nv, err);
    val_release(&v);
    if (r < 0)
      return -1;
    v = nv;
    v.iface = false; /* Go: an interface value becomes what it holds, a nil one the invalid value */
    if (v.j && json_is_null(v.j))
      val_release(&v);
  }
  for (size_t i = 0; i < pipe->ndecl; i++) {
    const char *name = pipe->decl[i]->idents[0];
    struct val *var = pipe->is_assign ? exec_var(s, name) : NULL;
    if (pipe->is_assign && var == NULL) {
      val_release(&v);
      return exec_errorf(s, err, "undefined variable: %s", name);
    }
    if (var) {
      val_release(var);
      *var = val_ref(&v);
    } else {
      push_var(s, name, val_ref(&v));
    }
  }
  *out = v;
  return 0;
}

static BERTH_WUR int walk(struct exec *s, const struct val *dot, const struct node *n, berth_error_t *err);

static int print_action(struct exec *s, const struct val *v)
{
  if (v->j == NULL)
    berth_strbuf_puts(s->out, "<no value>");
  else
    go_print_value(s->out, v->j);
  return 0;
}

static BERTH_WUR int walk_if_with(struct exec *s, const struct val *dot, const struct node *n,
                                  berth_error_t *err)
{
  size_t mark = s->nvars;
  struct val v;
  if (exec_pipeline(s, dot, n->pipe, &v, err) < 0)
    return -1;
  int r = 0;
  if (val_truth(&v))
    r = walk(s, n->type == N_WITH ? &v : dot, n->list, err);
  else if (n->else_list)
    r = walk(s, dot, n->else_list, err);
  val_release(&v);
  pop_vars(s, mark);
  return r;
}

/* one pass of a range's body with the element (and its index or key) in the variables */
static BERTH_WUR int range_once(struct exec *s, const struct node *r, struct val *index, struct val *elem,
                                size_t mark, berth_error_t *err)
{
  if (++s->steps > MAX_STEPS) { /* nested ranges over a large document */
    val_release(index);
    val_release(elem);
    s->at = r->pipe;
    return exec_errorf(s, err, "the template takes more than %d steps", MAX_STEPS);
  }
  if (r->pipe->ndecl > 0) {
    val_release(&s->vars[s->nvars - 1].v);
    s->vars[s->nvars - 1].v = val_ref(elem);
  }
  if (r->pipe->ndecl > 1) {
    val_release(&s->vars[s->nvars - 2].v);
    s->vars[s->nvars - 2].v = val_ref(index);
  }
  int rc = walk(s, elem, r->list, err);
  pop_vars(s, mark);
  val_release(index);
  val_release(elem);
  return rc;
}

static int compare_keys(const void *a, const void *b)
{
  return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* Go ranges over a map in key order; 1: it was empty */
static BERTH_WUR int range_object(struct exec *s, const struct node *r, const struct val *v, size_t mark,
                                  berth_error_t *err)
{
  size_t n = json_object_size(v->j), i = 0;
  if (n == 0)
    return 1;
  const char **keys = xcalloc(n, sizeof *keys);
  const char *k;
  json_t *e;
  json_object_foreach (v->j, k, e)
    keys[i++] = k;
  qsort(keys, n, sizeof *keys, compare_keys);
  int rc = 0;
  for (i = 0; i < n && rc >= 0 && rc != WALK_BREAK; i++) {
    struct val key = val_take(json_string(keys[i]));
    struct val elem = { json_incref(json_object_get(v->j, keys[i])), exec_path(s, v->path, keys[i]), false,
                        true };
    rc = range_once(s, r, &key, &elem, mark, err);
  }
  free(keys);
  return rc < 0 ? -1 : 0;
}

static BERTH_WUR int range_items(struct exec *s, const struct node *r, const struct val *v, size_t mark,
                                 berth_error_t *err)
{
  if (json_is_object(v->j) && !v->row)
    return range_object(s, r, v, mark, err);
  long long n = json_is_array(v->j) ? (long long) json_array_size(v->j) : json_integer_value(v->j);
  if (n <= 0)
    return 1;
  int rc = 0;
  for (long long i = 0; i < n && rc >= 0 && rc != WALK_BREAK; i++) {
    struct val index = val_take(json_integer(i));
    struct val elem = json_is_array(v->j)
                        ? (struct val){ json_incref(json_array_get(v->j, (size_t) i)), v->path, false, true }
                        : val_take(json_integer(i));
    rc = range_once(s, r, &index, &elem, mark, err);
  }
  return rc < 0 ? -1 : 0;
}

static BERTH_WUR int walk_range(struct exec *s, const struct val *dot, const struct node *r,
                                berth_error_t *err)
{
  size_t mark0 = s->nvars;
  struct val v;
  if (exec_pipeline(s, dot, r->pipe, &v, err) < 0)
    return -1;
  int rc = 1; /* empty */
  if (v.j && (json_is_array(v.j) || (json_is_object(v.j) && !v.row) || json_is_integer(v.j))) {
    rc = range_items(s, r, &v, s->nvars, err);
  } else if (v.j && !json_is_null(v.j)) {
    struct berth_strbuf b = BERTH_STRBUF_INIT;
    go_print_value(&b, v.j);
    rc = exec_errorf(s, err, "range can't iterate over %s", b.buf);
    berth_strbuf_release(&b);
  }
  if (rc == 1 && r->else_list)
    rc = walk(s, dot, r->else_list, err);
  val_release(&v);
  pop_vars(s, mark0);
  return rc < 0 ? -1 : 0;
}

static BERTH_WUR int walk(struct exec *s, const struct val *dot, const struct node *n, berth_error_t *err)
{
  if (s->out->len > MAX_OUTPUT)
    return exec_errorf(s, err, "the output passes %u bytes", MAX_OUTPUT);
  s->at = n;
  switch (n->type) {
  case N_ACTION: {
    struct val v;
    if (exec_pipeline(s, dot, n->pipe, &v, err) < 0)
      return -1;
    if (n->pipe->ndecl == 0)
      print_action(s, &v);
    val_release(&v);
    return 0;
  }
  case N_BREAK: return WALK_BREAK;
  case N_CONTINUE: return WALK_CONTINUE;
  case N_IF:
  case N_WITH: return walk_if_with(s, dot, n, err);
  case N_LIST:
    for (size_t i = 0; i < n->nkids; i++) {
      int r = walk(s, dot, n->kids[i], err);
      if (r != 0)
        return r;
    }
    return 0;
  case N_RANGE: return walk_range(s, dot, n, err);
  case N_TEXT: berth_strbuf_append(s->out, n->text, n->len); return 0;
  default: return exec_errorf(s, err, "unknown node");
  }
}

int exec_template(const struct berth_format_template *t, json_t *data, const struct berth_format_type *type,
                  bool header, void *row_data, struct berth_strbuf *out, berth_error_t *err)
{
  struct exec s = { .t = t, .type = type, .out = out, .header = header, .row_data = row_data };
  struct val dot = { data, exec_path(&s, NULL, ""), type != NULL || header, false };
  if (data)
    json_incref(data);
  berth_strbuf_append(out, "", 0);
  push_var(&s, "$", val_ref(&dot));
  int r = walk(&s, &dot, t->root, err);
  pop_vars(&s, 0);
  free(s.vars);
  val_release(&dot);
  for (size_t i = 0; i < s.npaths; i++) {
    free(s.paths[i]->key);
    free(s.paths[i]);
  }
  free(s.paths);
  return r < 0 ? -1 : 0;
}

int berth_format_exec(const struct berth_format_template *t, json_t *data,
                      const struct berth_format_type *type, struct berth_strbuf *out, berth_error_t *err)
{
  return exec_template(t, data, type, false, NULL, out, err);
}

char *berth_format_render(const char *text, json_t *data, const struct berth_format_type *type,
                          berth_error_t *err)
{
  cleanup_format_template struct berth_format_template *t = NULL;
  if (berth_format_parse(text, &t, err) < 0)
    return NULL;
  cleanup_strbuf struct berth_strbuf b = BERTH_STRBUF_INIT;
  if (berth_format_exec(t, data, type, &b, err) < 0)
    return NULL;
  return berth_strbuf_detach(&b);
}
