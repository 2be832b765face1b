/* Go's builtin template functions (and, or, not, len, index, slice, print, printf, println,
 * eq, ne, lt, le, gt, ge, html, js, urlquery) and the call machinery every function goes through:
 * argument count and types checked as Go's reflection checks them, errors wrapped with the
 * function's name and the position. */
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/xalloc.h"
#include "format/format_internal.h"

struct func {
  const char *name;
  const char *params; /* a: any, s: string, i: int; a trailing '*': any number of any more */
  func_fn fn;         /* NULL: and, or */
  const char *header; /* Docker's HeaderFunctions: in a table's header the function returns its first
                         argument, with these parameters */
};

static BERTH_WUR int fn_not(struct exec *s, const char *name, struct val *a, size_t n, struct val *out,
                            berth_error_t *err)
{
  *out = val_take(json_boolean(!val_truth(&a[0])));
  return 0;
}

static BERTH_WUR int fn_len(struct exec *s, const char *name, struct val *a, size_t n, struct val *out,
                            berth_error_t *err)
{
  json_t *j = a[0].j;
  if (j == NULL)
    return BERTH_ERR(err, "len of untyped nil");
  if (json_is_null(j))
    return BERTH_ERR(err, "len of nil pointer");
  long long len = json_is_string(j)                ? (long long) json_string_length(j)
                  : json_is_array(j)               ? (long long) json_array_size(j)
                  : json_is_object(j) && !a[0].row ? (long long) json_object_size(j)
                                                   : -1;
  if (len < 0)
    return BERTH_ERR(err, "len of type %s", val_type(&a[0], s->type));
  *out = val_take(json_integer(len));
  return 0;
}

/* an index into an array or a string: Go's indexArg */
static BERTH_WUR int index_arg(struct exec *s, const struct val *ix, size_t cap, size_t *out,
                               berth_error_t *err)
{
  if (ix->j == NULL || json_is_null(ix->j))
    return BERTH_ERR(err, "cannot index slice/array with nil");
  if (!json_is_integer(ix->j))
    return BERTH_ERR(err, "cannot index slice/array with type %s", val_type(ix, s->type));
  long long x = json_integer_value(ix->j);
  if (x < 0 || (unsigned long long) x > cap)
    return BERTH_ERR(err, "index out of range: %lld", x);
  *out = (size_t) x;
  return 0;
}

static BERTH_WUR int index_one(struct exec *s, struct val *item, const struct val *ix, berth_error_t *err)
{
  json_t *j = item->j, *r = NULL;
  size_t x = 0;
  if (json_is_null(j))
    return BERTH_ERR(err, "index of nil pointer");
  if (json_is_array(j) || json_is_string(j)) {
    size_t len = json_is_array(j) ? json_array_size(j) : json_string_length(j);
    if (index_arg(s, ix, len, &x, err) < 0)
      return -1;
    if (x == len)
      return BERTH_ERR(err, "reflect: slice index out of range");
    r = json_is_array(j) ? json_incref(json_array_get(j, x))
                         : json_integer((unsigned char) json_string_value(j)[x]); /* a byte, as Go's */
    *item = (struct val){ r, json_is_array(j) ? item->path : NULL, false, json_is_array(j) };
    json_decref(j);
    return 0;
  }
  if (!json_is_object(j) || item->row)
    return BERTH_ERR(err, "can't index item of type %s", val_type(item, s->type));
  if (ix->j == NULL || !json_is_string(ix->j))
    return BERTH_ERR(err, "value has type %s; should be string", ix->j ? val_type(ix, s->type) : "<nil>");
  const char *key = json_string_value(ix->j);
  r = json_object_get(j, key);
  struct val next = { r                              ? json_incref(r)
                      : exec_map_of_strings(s, item) ? json_string("")
                                                     : json_null(),
                      r ? exec_path(s, item->path, key) : NULL, false, true };
  val_release(item);
  *item = next;
  return 0;
}

static BERTH_WUR int fn_index(struct exec *s, const char *name, struct val *a, size_t n, struct val *out,
                              berth_error_t *err)
{
  if (a[0].j == NULL || json_is_null(a[0].j))
    return BERTH_ERR(err, "index of untyped nil");
  struct val item = val_ref(&a[0]);
  for (size_t i = 1; i < n; i++)
    if (index_one(s, &item, &a[i], err) < 0) {
      val_release(&item);
      return -1;
    }
  *out = item;
  return 0;
}

static BERTH_WUR int fn_slice(struct exec *s, const char *name, struct val *a, size_t n, struct val *out,
                              berth_error_t *err)
{
  json_t *j = a[0].j;
  if (j == NULL || json_is_null(j))
    return BERTH_ERR(err, "slice of untyped nil");
  if (n - 1 > 3)
    return BERTH_ERR(err, "too many slice indexes: %zu", n - 1);
  if (!json_is_string(j) && !json_is_array(j))
    return BERTH_ERR(err, "can't slice item of type %s", val_type(&a[0], s->type));
  if (json_is_string(j) && n - 1 == 3)
    return BERTH_ERR(err, "cannot 3-index slice a string");
  size_t len = json_is_string(j) ? json_string_length(j) : json_array_size(j), idx[3] = { 0, len, len };
  for (size_t i = 1; i < n; i++)
    if (index_arg(s, &a[i], len, &idx[i - 1], err) < 0)
      return -1;
  if (idx[0] > idx[1] || (n - 1 == 3 && idx[1] > idx[2]))
    return BERTH_ERR(err, "invalid slice index: %zu > %zu", idx[0] > idx[1] ? idx[0] : idx[1],
                     idx[0] > idx[1] ? idx[1] : idx[2]);
  if (json_is_string(j)) {
    *out = val_take(json_stringn_nocheck(json_string_value(j) + idx[0], idx[1] - idx[0]));
    return 0;
  }
  json_t *r = json_array();
  for (size_t i = idx[0]; i < idx[1]; i++)
    json_array_append(r, json_array_get(j, i));
  *out = (struct val){ r, a[0].path, false, false };
  return 0;
}

/* print's operands: nil for Go's invalid and nil values */
static json_t **operands(struct val *a, size_t n)
{
  json_t **v = xcalloc(n + 1, sizeof *v);
  for (size_t i = 0; i < n; i++)
    v[i] = a[i].j && !json_is_null(a[i].j) ? a[i].j : NULL;
  return v;
}

static BERTH_WUR int fn_print(struct exec *s, const char *name, struct val *a, size_t n, struct val *out,
                              berth_error_t *err)
{
  cleanup_free json_t **v = operands(a, n);
  cleanup_strbuf struct berth_strbuf b = BERTH_STRBUF_INIT;
  berth_strbuf_append(&b, "", 0);
  go_sprint(&b, v, n);
  *out = val_take(json_stringn_nocheck(b.buf, b.len));
  return 0;
}

static BERTH_WUR int fn_println(struct exec *s, const char *name, struct val *a, size_t n, struct val *out,
                                berth_error_t *err)
{
  cleanup_free json_t **v = operands(a, n);
  cleanup_strbuf struct berth_strbuf b = BERTH_STRBUF_INIT;
  go_sprintln(&b, v, n);
  *out = val_take(json_stringn_nocheck(b.buf, b.len));
  return 0;
}

static BERTH_WUR int fn_printf(struct exec *s, const char *name, struct val *a, size_t n, struct val *out,
                               berth_error_t *err)
{
  cleanup_free json_t **v = operands(a + 1, n - 1);
  cleanup_strbuf struct berth_strbuf b = BERTH_STRBUF_INIT;
  berth_strbuf_append(&b, "", 0);
  go_sprintf(&b, json_string_value(a[0].j), json_string_length(a[0].j), v, n - 1);
  *out = val_take(json_stringn_nocheck(b.buf, b.len));
  return 0;
}

/* html, js, urlquery: one string as it is, anything else printed as print prints it */
static void escaper_input(struct val *a, size_t n, struct berth_strbuf *b)
{
  if (n == 1 && a[0].j && json_is_string(a[0].j)) {
    berth_strbuf_append(b, json_string_value(a[0].j), json_string_length(a[0].j));
    return;
  }
  if (n == 1 && a[0].j == NULL) {
    berth_strbuf_puts(b, "<no value>");
    return;
  }
  json_t **v = operands(a, n);
  go_sprint(b, v, n);
  free(v);
}

static BERTH_WUR int fn_html(struct exec *s, const char *name, struct val *a, size_t n, struct val *out,
                             berth_error_t *err)
{
  cleanup_strbuf struct berth_strbuf in = BERTH_STRBUF_INIT, b = BERTH_STRBUF_INIT;
  escaper_input(a, n, &in);
  berth_strbuf_append(&b, "", 0);
  for (size_t i = 0; i < in.len; i++) {
    static const char *const rep[] = {
      ['"'] = "&#34;", ['\''] = "&#39;", ['&'] = "&amp;", ['<'] = "&lt;", ['>'] = "&gt;"
    };
    unsigned char c = (unsigned char) in.buf[i];
    if (c == 0)
      berth_strbuf_puts(&b, "\xef\xbf\xbd");
    else if (c < sizeof rep / sizeof rep[0] && rep[c])
      berth_strbuf_puts(&b, rep[c]);
    else
      berth_strbuf_putc(&b, (char) c);
  }
  *out = val_take(json_stringn_nocheck(b.buf, b.len));
  return 0;
}

static BERTH_WUR int fn_urlquery(struct exec *s, const char *name, struct val *a, size_t n, struct val *out,
                                 berth_error_t *err)
{
  cleanup_strbuf struct berth_strbuf in = BERTH_STRBUF_INIT, b = BERTH_STRBUF_INIT;
  escaper_input(a, n, &in);
  berth_strbuf_append(&b, "", 0);
  for (size_t i = 0; i < in.len; i++) {
    unsigned char c = (unsigned char) in.buf[i];
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
        (c && strchr("-_.~", c)))
      berth_strbuf_putc(&b, (char) c);
    else if (c == ' ')
      berth_strbuf_putc(&b, '+');
    else
      berth_strbuf_printf(&b, "%%%02X", c);
  }
  *out = val_take(json_stringn_nocheck(b.buf, b.len));
  return 0;
}

static BERTH_WUR int fn_js(struct exec *s, const char *name, struct val *a, size_t n, struct val *out,
                           berth_error_t *err)
{
  cleanup_strbuf struct berth_strbuf in = BERTH_STRBUF_INIT, b = BERTH_STRBUF_INIT;
  escaper_input(a, n, &in);
  berth_strbuf_append(&b, "", 0);
  for (size_t i = 0; i < in.len;) {
    unsigned char c = (unsigned char) in.buf[i];
    const char *e = strchr("\\'\"<>&=", c);
    if (c && e) {
      static const char *const rep[] = { "\\\\", "\\'", "\\\"", "\\u003C", "\\u003E", "\\u0026", "\\u003D" };
      berth_strbuf_puts(&b, rep[e - "\\'\"<>&="]);
      i++;
    } else if (c < ' ') {
      berth_strbuf_printf(&b, "\\u%04X", c);
      i++;
    } else {
      size_t start = i;
      utf8_next(in.buf, in.len, &i);
      berth_strbuf_append(&b, in.buf + start, i - start);
    }
  }
  *out = val_take(json_stringn_nocheck(b.buf, b.len));
  return 0;
}

static const struct func funcs[] = {
  { "and", "a*", NULL, NULL },
  { "or", "a*", NULL, NULL },
  { "not", "a", fn_not, NULL },
  { "len", "a", fn_len, NULL },
  { "index", "a*", fn_index, NULL },
  { "slice", "a*", fn_slice, NULL },
  { "print", "*", fn_print, NULL },
  { "printf", "s*", fn_printf, NULL },
  { "println", "*", fn_println, NULL },
  { "eq", "a*", fn_compare, NULL },
  { "ne", "aa", fn_compare, NULL },
  { "lt", "aa", fn_compare, NULL },
  { "le", "aa", fn_compare, NULL },
  { "gt", "aa", fn_compare, NULL },
  { "ge", "aa", fn_compare, NULL },
  { "html", "*", fn_html, NULL },
  { "js", "*", fn_js, NULL },
  { "urlquery", "*", fn_urlquery, NULL },
  /* Docker's (docker/cli templates.go) */
  { "json", "a", fn_json, "s" },
  { "split", "ss", fn_split, "ss" },
  { "join", "as", fn_join, "ss" },
  { "title", "s", fn_title, "s" },
  { "lower", "s", fn_lower, "s" },
  { "upper", "s", fn_upper, "s" },
  { "pad", "sii", fn_pad, NULL },
  { "truncate", "si", fn_truncate, "si" },
};

const struct func *func_find(const char *name)
{
  for (size_t i = 0; i < sizeof funcs / sizeof funcs[0]; i++)
    if (strcmp(funcs[i].name, name) == 0)
      return &funcs[i];
  return NULL;
}

/* a header's json, split, ...: the column title as it is */
static BERTH_WUR int fn_header(struct exec *s, const char *name, struct val *a, size_t n, struct val *out,
                               berth_error_t *err)
{
  *out = val_ref(&a[0]);
  return 0;
}

/* and, or: Go evaluates the arguments one by one and stops at the first that decides */
static BERTH_WUR int and_or(struct exec *s, const struct func *f, const struct val *dot,
                            const struct node *const *args, size_t nargs, struct val *final, struct val *out,
                            berth_error_t *err)
{
  bool is_or = f->name[0] == 'o';
  if (nargs + (final != NULL) < 1)
    return exec_errorf(s, err, "wrong number of args for %s: want at least 1 got 0", f->name);
  struct val v = VAL_NONE;
  for (size_t i = 0; i < nargs; i++) {
    val_release(&v);
    if (exec_arg(s, dot, args[i], &v, err) < 0)
      return -1;
    if (val_truth(&v) == is_or) {
      *out = v;
      return 0;
    }
  }
  if (final) {
    val_release(&v);
    v = val_ref(final);
  }
  *out = v;
  return 0;
}

/* Go's validateType for the typed parameters of Docker's functions */
static BERTH_WUR int check_type(struct exec *s, char param, const struct val *v, berth_error_t *err)
{
  const char *want = param == 's' ? "string" : param == 'i' ? "int" : NULL;
  if (want == NULL)
    return 0;
  if (v->j == NULL || json_is_null(v->j))
    return exec_errorf(s, err, "invalid value; expected %s", want);
  if ((param == 's' && !json_is_string(v->j)) || (param == 'i' && !json_is_integer(v->j)))
    return exec_errorf(s, err, "wrong type for value; expected %s; got %s", want, val_type(v, s->type));
  return 0;
}

/* a literal given to a typed parameter is read as that type (Go's evalString, evalInteger) */
static BERTH_WUR int typed_literal(struct exec *s, char param, const struct node *n, struct val *out,
                                   bool *done, berth_error_t *err)
{
  const char *want = param == 's' ? "string" : "integer";
  *done = (param == 's' || param == 'i') &&
          (n->type == N_STRING || n->type == N_NUMBER || n->type == N_BOOL || n->type == N_NIL);
  if (!*done)
    return 0;
  s->at = n;
  if (n->type == N_NIL)
    return exec_errorf(s, err, "cannot assign nil to %s", param == 's' ? "string" : "int");
  if (param == 's' && n->type == N_STRING) {
    *out = val_take(json_stringn_nocheck(n->text, n->len));
    return 0;
  }
  if (param == 'i' && n->type == N_NUMBER && n->is_int) {
    *out = val_take(json_integer(n->i));
    return 0;
  }
  struct berth_strbuf b = BERTH_STRBUF_INIT;
  node_string(n, &b);
  exec_errorf(s, err, "expected %s; found %s", want, b.buf);
  berth_strbuf_release(&b);
  return -1;
}

static BERTH_WUR int check_count(struct exec *s, const struct func *f, const char *params, size_t nargs,
                                 size_t numin, berth_error_t *err)
{
  size_t fixed = strlen(params);
  bool variadic = fixed > 0 && params[fixed - 1] == '*';
  if (variadic && numin < fixed - 1)
    return exec_errorf(s, err, "wrong number of args for %s: want at least %zu got %zu", f->name, fixed - 1,
                       nargs);
  if (!variadic && numin != fixed)
    return exec_errorf(s, err, "wrong number of args for %s: want %zu got %zu", f->name, fixed, numin);
  return 0;
}

static BERTH_WUR int eval_args(struct exec *s, const char *params, const struct val *dot,
                               const struct node *const *args, size_t nargs, struct val *final,
                               struct val *vals, berth_error_t *err)
{
  size_t fixed = strlen(params);
  for (size_t i = 0; i < nargs; i++) {
    bool done = false;
    if (i < fixed && typed_literal(s, params[i], args[i], &vals[i], &done, err) < 0)
      return -1;
    if (done)
      continue;
    if (exec_arg(s, dot, args[i], &vals[i], err) < 0)
      return -1;
    if (i < fixed && check_type(s, params[i], &vals[i], err) < 0)
      return -1;
  }
  if (final) {
    vals[nargs] = val_ref(final);
    if (nargs < fixed && check_type(s, params[nargs], final, err) < 0)
      return -1;
  }
  return 0;
}

int func_call(struct exec *s, const struct func *f, const struct val *dot, const struct node *cmd,
              struct val *final, struct val *out, berth_error_t *err)
{
  const struct node *const *args = cmd->type == N_CMD ? (const struct node *const *) cmd->kids + 1 : NULL;
  size_t nargs = cmd->type == N_CMD ? cmd->nkids - 1 : 0, numin = nargs + (final != NULL);
  const struct node *at = cmd->type == N_CMD ? cmd->kids[0] : cmd;
  s->at = at;
  if (f->fn == NULL)
    return and_or(s, f, dot, args, nargs, final, out, err);
  bool header = s->header && f->header;
  const char *params = header ? f->header : f->params;
  if (check_count(s, f, params, nargs, numin, err) < 0)
    return -1;
  struct val *vals = xcalloc(numin + 1, sizeof *vals);
  int r = eval_args(s, params, dot, args, nargs, final, vals, err);
  if (r == 0) {
    *out = VAL_NONE;
    r = (header ? fn_header : f->fn)(s, f->name, vals, numin, out, err);
    if (r < 0) {
      s->at = cmd;
      exec_wrap(s, err, f->name);
    }
  }
  for (size_t i = 0; i < numin; i++)
    val_release(&vals[i]);
  free(vals);
  return r;
}
