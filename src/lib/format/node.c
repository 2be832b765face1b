/* AST nodes: making, freeing, printing them as Go does in messages, and Go's literals (numbers
 * with strconv's syntax, quoted strings and characters with strconv.Unquote's escapes). */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "format/format_internal.h"

struct node *node_new(enum node_type type, size_t pos)
{
  struct node *n = xcalloc(1, sizeof *n);
  n->type = type;
  n->pos = pos;
  return n;
}

void node_append(struct node ***v, size_t *n, struct node *kid)
{
  if ((*n & (*n - 1)) == 0) /* 0, 1, 2, 4, ...: grow to the next power of two */
    *v = xreallocarray(*v, *n ? *n * 2 : 1, sizeof **v);
  (*v)[(*n)++] = kid;
}

void node_ident(struct node *n, char *s)
{
  if ((n->nidents & (n->nidents - 1)) == 0)
    n->idents = xreallocarray(n->idents, n->nidents ? n->nidents * 2 : 1, sizeof *n->idents);
  n->idents[n->nidents++] = s;
}

void node_free(struct node *n)
{
  if (n == NULL)
    return;
  for (size_t i = 0; i < n->nkids; i++)
    node_free(n->kids[i]);
  free(n->kids);
  for (size_t i = 0; i < n->ndecl; i++)
    node_free(n->decl[i]);
  free(n->decl);
  node_free(n->pipe);
  node_free(n->list);
  node_free(n->else_list);
  node_free(n->term);
  for (size_t i = 0; i < n->nidents; i++)
    free(n->idents[i]);
  free(n->idents);
  free(n->text);
  free(n->orig);
  free(n);
}

static void idents_string(const struct node *n, size_t from, struct berth_strbuf *b)
{
  for (size_t i = from; i < n->nidents; i++) {
    berth_strbuf_putc(b, '.');
    berth_strbuf_puts(b, n->idents[i]);
  }
}

static void control_string(const struct node *n, const char *word, struct berth_strbuf *b)
{
  berth_strbuf_printf(b, "{{%s ", word);
  node_string(n->pipe, b);
  berth_strbuf_puts(b, "}}");
  node_string(n->list, b);
  if (n->else_list) {
    berth_strbuf_puts(b, "{{else}}");
    node_string(n->else_list, b);
  }
  berth_strbuf_puts(b, "{{end}}");
}

static void pipe_string(const struct node *n, struct berth_strbuf *b)
{
  for (size_t i = 0; i < n->ndecl; i++) {
    if (i)
      berth_strbuf_puts(b, ", ");
    node_string(n->decl[i], b);
  }
  if (n->ndecl)
    berth_strbuf_puts(b, " := ");
  for (size_t i = 0; i < n->nkids; i++) {
    if (i)
      berth_strbuf_puts(b, " | ");
    node_string(n->kids[i], b);
  }
}

/* a pipeline inside a command or a chain is written in parentheses */
static void arg_string(const struct node *n, struct berth_strbuf *b)
{
  if (n->type == N_PIPE)
    berth_strbuf_putc(b, '(');
  node_string(n, b);
  if (n->type == N_PIPE)
    berth_strbuf_putc(b, ')');
}

void node_string(const struct node *n, struct berth_strbuf *b)
{
  switch (n->type) {
  case N_LIST:
    for (size_t i = 0; i < n->nkids; i++)
      node_string(n->kids[i], b);
    break;
  case N_TEXT: berth_strbuf_append(b, n->text, n->len); break;
  case N_ACTION:
    berth_strbuf_puts(b, "{{");
    node_string(n->pipe, b);
    berth_strbuf_puts(b, "}}");
    break;
  case N_IF: control_string(n, "if", b); break;
  case N_RANGE: control_string(n, "range", b); break;
  case N_WITH: control_string(n, "with", b); break;
  case N_BREAK: berth_strbuf_puts(b, "{{break}}"); break;
  case N_CONTINUE: berth_strbuf_puts(b, "{{continue}}"); break;
  case N_END: berth_strbuf_puts(b, "{{end}}"); break;
  case N_ELSE: berth_strbuf_puts(b, "{{else}}"); break;
  case N_PIPE: pipe_string(n, b); break;
  case N_CMD:
    for (size_t i = 0; i < n->nkids; i++) {
      if (i)
        berth_strbuf_putc(b, ' ');
      arg_string(n->kids[i], b);
    }
    break;
  case N_FIELD: idents_string(n, 0, b); break;
  case N_VAR:
    berth_strbuf_puts(b, n->idents[0]);
    idents_string(n, 1, b);
    break;
  case N_CHAIN:
    arg_string(n->term, b);
    idents_string(n, 0, b);
    break;
  case N_DOT: berth_strbuf_putc(b, '.'); break;
  case N_NIL: berth_strbuf_puts(b, "nil"); break;
  case N_BOOL: berth_strbuf_puts(b, n->b ? "true" : "false"); break;
  case N_NUMBER:
  case N_STRING: berth_strbuf_puts(b, n->orig); break;
  case N_IDENT: berth_strbuf_puts(b, n->idents[0]); break;
  }
}

static int hexval(int c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* one escape after the backslash at s[*i] (strconv.UnquoteChar); a byte (\x, octal) is
 * returned as -2 - byte; -1: invalid */
static int unescape(const char *s, size_t len, size_t *i, char quote)
{
  if (*i >= len)
    return -1;
  char c = s[(*i)++];
  static const char from[] = "abfnrtv\\", to[] = "\a\b\f\n\r\t\v\\";
  const char *e = strchr(from, c);
  if (e && c)
    return to[e - from];
  if (c == '\'' || c == '"')
    return c == quote ? c : -1;
  int ndig = c == 'x' ? 2 : c == 'u' ? 4 : c == 'U' ? 8 : 0;
  if (c >= '0' && c <= '7') {
    int v = c - '0';
    for (int k = 0; k < 2; k++, (*i)++) {
      if (*i >= len || s[*i] < '0' || s[*i] > '7')
        return -1;
      v = v * 8 + (s[*i] - '0');
    }
    return v > 255 ? -1 : -2 - v;
  }
  if (ndig == 0)
    return -1;
  long v = 0;
  for (int k = 0; k < ndig; k++, (*i)++) {
    int h = *i < len ? hexval((unsigned char) s[*i]) : -1;
    if (h < 0)
      return -1;
    v = v * 16 + h;
  }
  if (c == 'x')
    return (int) (-2 - v);
  if (v > 0x10ffff || (v >= 0xd800 && v < 0xe000))
    return -1;
  return (int) v;
}

/* strconv.Unquote of "...", `...` or '.' (the rune is put in *rune_out for a character) */
int go_unquote(const char *s, size_t len, struct berth_strbuf *out, long *rune_out)
{
  if (len < 2 || s[len - 1] != s[0])
    return -1;
  if (s[0] == '`') {
    for (size_t i = 1; i + 1 < len; i++)
      if (s[i] != '\r')
        berth_strbuf_putc(out, s[i]);
    return 0;
  }
  size_t n = 0;
  for (size_t i = 1; i + 1 < len; n++) {
    if (s[i] == s[0] || s[i] == '\n')
      return -1;
    int r;
    if (s[i] == '\\') {
      i++;
      r = unescape(s, len - 1, &i, s[0]);
      if (r == -1)
        return -1;
    } else {
      r = utf8_next(s, len - 1, &i);
    }
    if (r <= -2)
      berth_strbuf_putc(out, (char) (-2 - r));
    else
      utf8_put(out, r);
    if (rune_out)
      *rune_out = r <= -2 ? -2 - r : r;
  }
  return s[0] == '\'' && n != 1 ? -1 : 0;
}

/* strip Go's digit separators; false when one is misplaced */
static bool strip_underscores(const char *s, size_t len, char *out)
{
  size_t o = 0;
  bool ok = true;
  for (size_t i = 0; i < len; i++) {
    if (s[i] == '_')
      ok = ok && i > 0 && i + 1 < len && s[i + 1] != '_';
    else
      out[o++] = s[i];
  }
  out[o] = '\0';
  return ok;
}

/* strconv.ParseInt/ParseUint with base 0 */
static bool parse_integer(const char *t, bool *is_neg, unsigned long long *mag)
{
  const char *p = t;
  *is_neg = *p == '-';
  if (*p == '+' || *p == '-')
    p++;
  int base = 10;
  if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
    base = 16, p += 2;
  else if (p[0] == '0' && (p[1] == 'o' || p[1] == 'O'))
    base = 8, p += 2;
  else if (p[0] == '0' && (p[1] == 'b' || p[1] == 'B'))
    base = 2, p += 2;
  else if (p[0] == '0' && p[1])
    base = 8, p += 1;
  if (*p == '\0' || *p == '+' || *p == '-')
    return false;
  char *end;
  errno = 0;
  *mag = strtoull(p, &end, base);
  return *end == '\0' && errno == 0;
}

static void number_from_float(struct node *n)
{
  n->is_float = true;
  if (n->f >= -9223372036854775808.0 && n->f < 9223372036854775808.0 && (double) (long long) n->f == n->f) {
    n->is_int = true;
    n->i = (long long) n->f;
  }
}

/* Go's NumberNode: int, float or both; complex numbers are refused */
int number_parse(const char *text, size_t len, bool charconst, struct node *n, berth_error_t *err)
{
  if (charconst) {
    struct berth_strbuf b = BERTH_STRBUF_INIT;
    long r = 0;
    int rc = go_unquote(text, len, &b, &r);
    berth_strbuf_release(&b);
    if (rc < 0)
      return BERTH_ERR(err, "malformed character constant: %.*s", (int) len, text);
    n->is_int = n->is_float = true;
    n->i = r;
    n->f = (double) r;
    return 0;
  }
  if (len > 0 && text[len - 1] == 'i')
    return BERTH_ERR(err, "complex number %.*s is not supported", (int) len, text);
  char *t = xmalloc(len + 1);
  bool ok = strip_underscores(text, len, t), neg = false;
  unsigned long long mag = 0;
  if (ok && parse_integer(t, &neg, &mag)) {
    free(t);
    n->is_float = true;
    n->f = neg ? -(double) mag : (double) mag;
    if (neg ? mag <= (unsigned long long) INT64_MAX + 1 : mag <= INT64_MAX) {
      n->is_int = true; /* else only Go's uint: "overflows int" when it is used */
      n->i = neg ? (long long) (0 - mag) : (long long) mag;
    } else if (neg) {
      return BERTH_ERR(err, "integer overflow: \"%.*s\"", (int) len, text);
    }
    return 0;
  }
  char *end = NULL;
  bool hex = ok && strpbrk(t, "xX") != NULL;
  if (ok && (hex ? strpbrk(t, "pP") != NULL : true) && t[strspn(t, "+-")] != '\0') {
    errno = 0;
    n->f = strtod(t, &end);
    ok = *end == '\0' && !(errno == ERANGE && isinf(n->f));
  } else {
    ok = false;
  }
  free(t);
  if (ok && strcspn(text, ".eEpP") == len)
    return BERTH_ERR(err, "integer overflow: \"%.*s\"", (int) len, text);
  if (!ok)
    return BERTH_ERR(err, "illegal number syntax: \"%.*s\"", (int) len, text);
  number_from_float(n);
  return 0;
}
