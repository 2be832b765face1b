/* The template parser: Go's text/template/parse/parse.go over the token array, one function
 * per grammar rule, with its messages ("unexpected <end> in command", "function "x" not
 * defined"); the position is given as line and column. define, template and block are refused. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/xalloc.h"
#include "format/format_internal.h"

#define MAX_DEPTH 1000 /* Go's maxStackDepth: nested parentheses and actions */

struct parser {
  const char *text;
  struct toks toks;
  size_t i;    /* the next token */
  size_t last; /* the token read last: errors name its line */
  char **vars; /* the variables in scope (borrowed from the AST) */
  size_t nvars, capvars;
  int range_depth;
  int depth;
  berth_error_t *err;
};

static const struct tok *next(struct parser *p)
{
  p->last = p->i;
  const struct tok *t = &p->toks.v[p->i];
  if (p->i + 1 < p->toks.n)
    p->i++;
  else
    p->i = p->toks.n; /* past the end: next() keeps returning EOF/ERROR */
  return t;
}

static const struct tok *peek(struct parser *p)
{
  return &p->toks.v[p->i < p->toks.n ? p->i : p->toks.n - 1];
}

static const struct tok *next_nonspace(struct parser *p)
{
  const struct tok *t;
  while ((t = next(p))->type == TOK_SPACE)
    ;
  return t;
}

/* the next token that is not a space, left unread (the spaces before it are read) */
static const struct tok *peek_nonspace(struct parser *p)
{
  const struct tok *t = next_nonspace(p);
  p->i = (size_t) (t - p->toks.v);
  return t;
}

static void line_col(const char *text, size_t pos, size_t *line, size_t *col)
{
  *line = 1;
  size_t start = 0;
  for (size_t i = 0; i < pos; i++)
    if (text[i] == '\n') {
      (*line)++;
      start = i + 1;
    }
  *col = pos - start;
}

static int errorf(struct parser *p, const char *fmt, ...) BERTH_PRINTF(2, 3);
static int errorf(struct parser *p, const char *fmt, ...)
{
  if (*p->err)
    return -1;
  struct berth_strbuf b = BERTH_STRBUF_INIT;
  size_t line, col;
  line_col(p->text, p->toks.v[p->last < p->toks.n ? p->last : p->toks.n - 1].pos, &line, &col);
  berth_strbuf_printf(&b, "template: :%zu:%zu: ", line, col);
  va_list ap;
  va_start(ap, fmt);
  berth_strbuf_vprintf(&b, fmt, ap);
  va_end(ap);
  BERTH_ERR(p->err, "%s", b.buf);
  berth_strbuf_release(&b);
  return -1;
}

/* Go's item.String(): EOF, <keyword>, or the token quoted (the first 10 characters and "...") */
static void tok_string(const struct parser *p, const struct tok *t, struct berth_strbuf *b)
{
  const char *s = p->text + t->pos;
  if (t->type == TOK_EOF) {
    berth_strbuf_puts(b, "EOF");
  } else if (t->type == TOK_ERROR) {
    berth_strbuf_puts(b, t->msg);
  } else if (t->type > TOK_KEYWORD || t->type == TOK_DOT) {
    berth_strbuf_printf(b, "<%.*s>", (int) t->len, s);
  } else {
    size_t n = 0, cut = t->len;
    for (size_t i = 0; i < t->len; n++) {
      if (n == 10)
        cut = i;
      utf8_next(s, t->len, &i);
    }
    go_quote(b, s, n > 10 ? cut : t->len, false);
    if (n > 10)
      berth_strbuf_puts(b, "...");
  }
}

static struct node *unexpected(struct parser *p, const struct tok *t, const char *context)
{
  struct berth_strbuf b = BERTH_STRBUF_INIT;
  tok_string(p, t, &b);
  if (t->type == TOK_ERROR)
    errorf(p, "%s", b.buf);
  else
    errorf(p, "unexpected %s in %s", b.buf, context);
  berth_strbuf_release(&b);
  return NULL;
}

static struct node *pipeline(struct parser *p, const char *context, enum tok_type end);
static struct node *item_list(struct parser *p, struct node **end);
static struct node *if_control(struct parser *p);
static struct node *with_control(struct parser *p);

static char *tok_dup(const struct parser *p, const struct tok *t)
{
  return xstrndup(p->text + t->pos, t->len);
}

static void add_var(struct parser *p, char *name)
{
  if (p->nvars == p->capvars) {
    p->capvars = p->capvars ? p->capvars * 2 : 8;
    p->vars = xreallocarray(p->vars, p->capvars, sizeof *p->vars);
  }
  p->vars[p->nvars++] = name;
}

/* a variable or field node from "$x.A.B" or ".A.B": idents split at the dots */
static struct node *dotted(enum node_type type, size_t pos, const char *s)
{
  struct node *n = node_new(type, pos);
  const char *start = type == N_FIELD ? s + 1 : s;
  for (;;) {
    const char *dot = strchr(start, '.');
    size_t len = dot ? (size_t) (dot - start) : strlen(start);
    node_ident(n, xstrndup(start, len));
    if (dot == NULL)
      break;
    start = dot + 1;
  }
  return n;
}

static struct node *use_var(struct parser *p, const struct tok *t)
{
  cleanup_free char *s = tok_dup(p, t);
  struct node *v = dotted(N_VAR, t->pos, s);
  for (size_t i = 0; i < p->nvars; i++)
    if (strcmp(p->vars[i], v->idents[0]) == 0)
      return v;
  errorf(p, "undefined variable \"%s\"", v->idents[0]);
  node_free(v);
  return NULL;
}

static struct node *literal(struct parser *p, const struct tok *t)
{
  cleanup_node struct node *n =
    node_new(t->type == TOK_STRING || t->type == TOK_RAW ? N_STRING : N_NUMBER, t->pos);
  n->orig = tok_dup(p, t);
  if (n->type == N_STRING) {
    struct berth_strbuf b = BERTH_STRBUF_INIT;
    berth_strbuf_append(&b, "", 0);
    if (go_unquote(n->orig, t->len, &b, NULL) < 0) {
      berth_strbuf_release(&b);
      errorf(p, "invalid syntax");
      return NULL;
    }
    n->len = b.len;
    n->text = berth_strbuf_detach(&b);
    return steal_ptr(n);
  }
  berth_error_t e = NULL;
  if (number_parse(n->orig, t->len, t->type == TOK_CHARCONST, n, &e) < 0) {
    errorf(p, "%s", e->msg);
    berth_error_release(&e);
    return NULL;
  }
  return steal_ptr(n);
}

static struct node *term(struct parser *p)
{
  const struct tok *t = next_nonspace(p);
  switch (t->type) {
  case TOK_IDENT: {
    cleanup_free char *name = tok_dup(p, t);
    if (func_find(name) == NULL) {
      errorf(p, "function \"%s\" not defined", name);
      return NULL;
    }
    struct node *n = node_new(N_IDENT, t->pos);
    node_ident(n, steal_ptr(name));
    return n;
  }
  case TOK_DOT: return node_new(N_DOT, t->pos);
  case TOK_NIL: return node_new(N_NIL, t->pos);
  case TOK_VAR: return use_var(p, t);
  case TOK_FIELD: {
    cleanup_free char *s = tok_dup(p, t);
    return dotted(N_FIELD, t->pos, s);
  }
  case TOK_BOOL: {
    struct node *n = node_new(N_BOOL, t->pos);
    n->b = p->text[t->pos] == 't';
    return n;
  }
  case TOK_CHARCONST:
  case TOK_COMPLEX:
  case TOK_NUMBER:
  case TOK_STRING:
  case TOK_RAW: return literal(p, t);
  case TOK_LPAREN: {
    if (++p->depth > MAX_DEPTH) {
      errorf(p, "max expression depth exceeded");
      return NULL;
    }
    struct node *n = pipeline(p, "parenthesized pipeline", TOK_RPAREN);
    p->depth--;
    return n;
  }
  default: p->i = (size_t) (t - p->toks.v); return NULL;
  }
}

/* a term and the fields that follow it (.A.B, $x.A, (pipe).A) */
static struct node *operand(struct parser *p, bool *failed)
{
  cleanup_node struct node *n = term(p);
  *failed = n == NULL && *p->err != NULL;
  if (n == NULL || peek(p)->type != TOK_FIELD)
    return steal_ptr(n);
  cleanup_node struct node *chain = node_new(N_CHAIN, peek(p)->pos);
  while (peek(p)->type == TOK_FIELD) {
    const struct tok *t = next(p);
    node_ident(chain, xstrndup(p->text + t->pos + 1, t->len - 1));
  }
  if (n->type == N_FIELD || n->type == N_VAR) {
    struct berth_strbuf b = BERTH_STRBUF_INIT;
    node_string(n, &b);
    for (size_t i = 0; i < chain->nidents; i++)
      berth_strbuf_printf(&b, ".%s", chain->idents[i]);
    struct node *merged = dotted(n->type, chain->pos, b.buf);
    berth_strbuf_release(&b);
    return merged;
  }
  if (n->type == N_BOOL || n->type == N_STRING || n->type == N_NUMBER || n->type == N_NIL ||
      n->type == N_DOT) {
    struct berth_strbuf b = BERTH_STRBUF_INIT;
    node_string(n, &b);
    struct berth_strbuf q = BERTH_STRBUF_INIT;
    go_quote(&q, b.buf, b.len, false);
    errorf(p, "unexpected . after term %s", q.buf);
    berth_strbuf_release(&b);
    berth_strbuf_release(&q);
    *failed = true;
    return NULL;
  }
  chain->term = steal_ptr(n);
  return steal_ptr(chain);
}

static struct node *command(struct parser *p)
{
  cleanup_node struct node *cmd = node_new(N_CMD, peek_nonspace(p)->pos);
  for (;;) {
    peek_nonspace(p);
    bool failed;
    struct node *op = operand(p, &failed);
    if (failed)
      return NULL;
    if (op)
      node_append(&cmd->kids, &cmd->nkids, op);
    const struct tok *t = next(p);
    if (t->type == TOK_SPACE)
      continue;
    if (t->type == TOK_RIGHT || t->type == TOK_RPAREN)
      p->i = (size_t) (t - p->toks.v);
    else if (t->type != TOK_PIPE)
      return unexpected(p, t, "operand");
    break;
  }
  if (cmd->nkids == 0) {
    errorf(p, "empty command");
    return NULL;
  }
  return steal_ptr(cmd);
}

static int check_pipeline(struct parser *p, const struct node *pipe, const char *context)
{
  if (pipe->nkids == 0)
    return errorf(p, "missing value for %s", context);
  for (size_t i = 1; i < pipe->nkids; i++) {
    enum node_type t = pipe->kids[i]->kids[0]->type;
    if (t == N_BOOL || t == N_DOT || t == N_NIL || t == N_NUMBER || t == N_STRING)
      return errorf(p, "non executable command in pipeline stage %zu", i + 1);
  }
  return 0;
}

/* "$x :=", "$x =", "$i, $e :=" (range): 1 when declarations were read, 0 when none, -1 */
static int declarations(struct parser *p, struct node *pipe, const char *context)
{
  for (;;) {
    const struct tok *v = peek_nonspace(p);
    if (v->type != TOK_VAR)
      return 0;
    next(p);
    const struct tok *t = peek_nonspace(p);
    bool comma = t->type == TOK_CHAR && p->text[t->pos] == ',';
    if (t->type != TOK_ASSIGN && t->type != TOK_DECLARE && !comma) {
      p->i = (size_t) (v - p->toks.v); /* not a declaration: the variable is an operand */
      return 0;
    }
    next_nonspace(p);
    cleanup_free char *name = tok_dup(p, v);
    struct node *var = dotted(N_VAR, v->pos, name);
    node_append(&pipe->decl, &pipe->ndecl, var);
    add_var(p, var->idents[0]);
    if (!comma) {
      pipe->is_assign = t->type == TOK_ASSIGN;
      return 1;
    }
    if (strcmp(context, "range") != 0 || pipe->ndecl >= 2)
      return errorf(p, "too many declarations in %s", context);
    enum tok_type after = peek_nonspace(p)->type;
    if (after != TOK_VAR && after != TOK_RIGHT && after != TOK_RPAREN)
      return errorf(p, "range can only initialize variables");
  }
}

static struct node *pipeline(struct parser *p, const char *context, enum tok_type end)
{
  cleanup_node struct node *pipe = node_new(N_PIPE, peek_nonspace(p)->pos);
  if (declarations(p, pipe, context) < 0)
    return NULL;
  for (;;) {
    const struct tok *t = next_nonspace(p);
    if (t->type == end)
      return check_pipeline(p, pipe, context) < 0 ? NULL : steal_ptr(pipe);
    switch (t->type) {
    case TOK_BOOL:
    case TOK_CHARCONST:
    case TOK_COMPLEX:
    case TOK_DOT:
    case TOK_FIELD:
    case TOK_IDENT:
    case TOK_NUMBER:
    case TOK_NIL:
    case TOK_RAW:
    case TOK_STRING:
    case TOK_VAR:
    case TOK_LPAREN: {
      p->i = (size_t) (t - p->toks.v);
      struct node *cmd = command(p);
      if (cmd == NULL)
        return NULL;
      node_append(&pipe->kids, &pipe->nkids, cmd);
      break;
    }
    default: return unexpected(p, t, context);
    }
  }
}

/* if, range, with: the pipeline, the list, the else branch ("else if", "else with" nest) */
static struct node *control(struct parser *p, enum node_type type, const char *context)
{
  size_t nvars = p->nvars;
  cleanup_node struct node *n = node_new(type, 0);
  n->pipe = pipeline(p, context, TOK_RIGHT);
  if (n->pipe == NULL)
    return NULL;
  n->pos = n->pipe->pos;
  p->range_depth += type == N_RANGE;
  cleanup_node struct node *end = NULL;
  n->list = item_list(p, &end);
  p->range_depth -= type == N_RANGE;
  if (n->list == NULL)
    return NULL;
  if (end->type == N_ELSE) {
    enum tok_type chained = type == N_IF ? TOK_IF : type == N_WITH ? TOK_WITH : TOK_EOF;
    if (chained != TOK_EOF && peek(p)->type == chained) {
      next(p);
      n->else_list = node_new(N_LIST, end->pos);
      struct node *inner = type == N_IF ? if_control(p) : with_control(p);
      if (inner == NULL)
        return NULL;
      node_append(&n->else_list->kids, &n->else_list->nkids, inner);
    } else {
      node_free(end);
      end = NULL;
      n->else_list = item_list(p, &end);
      if (n->else_list == NULL)
        return NULL;
      if (end->type != N_END) {
        errorf(p, "expected end; found {{else}}");
        return NULL;
      }
    }
  }
  p->nvars = nvars;
  return steal_ptr(n);
}

static struct node *if_control(struct parser *p) { return control(p, N_IF, "if"); }
static struct node *with_control(struct parser *p) { return control(p, N_WITH, "with"); }

/* break, continue, end: the closing delimiter must follow */
static struct node *closed(struct parser *p, enum node_type type, size_t pos, const char *context)
{
  const struct tok *t = next_nonspace(p);
  if (t->type != TOK_RIGHT)
    return unexpected(p, t, context);
  if (type != N_END && p->range_depth == 0) {
    errorf(p, "%s outside {{range}}", context);
    return NULL;
  }
  return node_new(type, pos);
}

static struct node *action(struct parser *p)
{
  const struct tok *t = next_nonspace(p);
  if (++p->depth > MAX_DEPTH) {
    errorf(p, "max expression depth exceeded");
    return NULL;
  }
  struct node *n = NULL;
  switch (t->type) {
  case TOK_BLOCK:
  case TOK_DEFINE:
  case TOK_TEMPLATE:
    errorf(p, "{{%.*s}} is not supported (one template only)", (int) t->len, p->text + t->pos);
    break;
  case TOK_BREAK: n = closed(p, N_BREAK, t->pos, "{{break}}"); break;
  case TOK_CONTINUE: n = closed(p, N_CONTINUE, t->pos, "{{continue}}"); break;
  case TOK_END: n = closed(p, N_END, t->pos, "end"); break;
  case TOK_ELSE: {
    const struct tok *k = peek_nonspace(p);
    if (k->type == TOK_IF || k->type == TOK_WITH)
      n = node_new(N_ELSE, k->pos);
    else if ((k = next_nonspace(p))->type == TOK_RIGHT)
      n = node_new(N_ELSE, k->pos);
    else
      unexpected(p, k, "else");
    break;
  }
  case TOK_IF: n = control(p, N_IF, "if"); break;
  case TOK_RANGE: n = control(p, N_RANGE, "range"); break;
  case TOK_WITH: n = control(p, N_WITH, "with"); break;
  default: {
    p->i = (size_t) (t - p->toks.v);
    size_t pos = peek(p)->pos;
    struct node *pipe = pipeline(p, "command", TOK_RIGHT);
    if (pipe) {
      n = node_new(N_ACTION, pos);
      n->pipe = pipe;
    }
  }
  }
  p->depth--;
  return n;
}

static struct node *text_or_action(struct parser *p)
{
  const struct tok *t = next_nonspace(p);
  if (t->type == TOK_TEXT) {
    struct node *n = node_new(N_TEXT, t->pos);
    n->text = tok_dup(p, t);
    n->len = t->len;
    return n;
  }
  if (t->type == TOK_LEFT)
    return action(p);
  return unexpected(p, t, "input");
}

/* nodes up to an {{end}} or {{else}}, given in *end */
static struct node *item_list(struct parser *p, struct node **end)
{
  cleanup_node struct node *list = node_new(N_LIST, peek_nonspace(p)->pos);
  while (peek_nonspace(p)->type != TOK_EOF) {
    struct node *n = text_or_action(p);
    if (n == NULL)
      return NULL;
    if (n->type == N_END || n->type == N_ELSE) {
      *end = n;
      return steal_ptr(list);
    }
    node_append(&list->kids, &list->nkids, n);
  }
  errorf(p, "unexpected EOF");
  return NULL;
}

static struct node *parse_root(struct parser *p)
{
  cleanup_node struct node *root = node_new(N_LIST, 0);
  while (peek(p)->type != TOK_EOF) {
    struct node *n = text_or_action(p);
    if (n == NULL)
      return NULL;
    if (n->type == N_END || n->type == N_ELSE) {
      errorf(p, "unexpected %s", n->type == N_END ? "{{end}}" : "{{else}}");
      node_free(n);
      return NULL;
    }
    node_append(&root->kids, &root->nkids, n);
  }
  return steal_ptr(root);
}

int berth_format_parse(const char *text, struct berth_format_template **out, berth_error_t *err)
{
  struct parser p = { .text = text, .err = err };
  lex_template(text, strlen(text), &p.toks);
  add_var(&p, "$");
  struct node *root = parse_root(&p);
  toks_release(&p.toks);
  free(p.vars);
  if (root == NULL)
    return -1;
  struct berth_format_template *t = xcalloc(1, sizeof *t);
  t->text = xstrdup(text);
  t->root = root;
  *out = t;
  return 0;
}

void berth_format_free(struct berth_format_template *t)
{
  if (t == NULL)
    return;
  node_free(t->root);
  free(t->text);
  free(t);
}
