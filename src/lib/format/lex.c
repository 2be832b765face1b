/* The template lexer: Go's text/template/parse/lex.go state for state (trim markers, comments,
 * numbers with Go's syntax), run to the end into an array of tokens. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/xalloc.h"
#include "format/format_internal.h"

#define EOF_RUNE (-1)

struct lexer {
  const char *in;
  size_t len;
  size_t pos, start;
  int paren_depth;
  struct toks *out;
  size_t width; /* of the rune next() returned last */
};

enum state { S_TEXT, S_LEFT, S_COMMENT, S_RIGHT, S_INSIDE, S_SPACE, S_END };

static void emit(struct lexer *l, enum tok_type type)
{
  struct toks *t = l->out;
  if (t->n == t->cap) {
    t->cap = t->cap ? t->cap * 2 : 32;
    t->v = xreallocarray(t->v, t->cap, sizeof *t->v);
  }
  t->v[t->n++] = (struct tok){ type, l->start, l->pos - l->start, NULL };
  l->start = l->pos;
}

static enum state errorf(struct lexer *l, const char *fmt, ...) BERTH_PRINTF(2, 3);
static enum state errorf(struct lexer *l, const char *fmt, ...)
{
  struct berth_strbuf b = BERTH_STRBUF_INIT;
  va_list ap;
  va_start(ap, fmt);
  berth_strbuf_vprintf(&b, fmt, ap);
  va_end(ap);
  l->pos = l->start;
  emit(l, TOK_ERROR);
  l->out->v[l->out->n - 1].msg = berth_strbuf_detach(&b);
  return S_END;
}

static int next(struct lexer *l)
{
  if (l->pos >= l->len) {
    l->width = 0;
    return EOF_RUNE;
  }
  size_t p = l->pos;
  int r = utf8_next(l->in, l->len, &l->pos);
  l->width = l->pos - p;
  return r;
}

/* step back over the rune next() returned (nothing after the end) */
static void backup(struct lexer *l) { l->pos -= l->width; }

static int peek(struct lexer *l)
{
  int r = next(l);
  backup(l);
  return r;
}

static bool is_space(int r) { return r == ' ' || r == '\t' || r == '\r' || r == '\n'; }

/* unicode.IsLetter || IsDigit || '_', with every non-ASCII letter taken for a letter */
static bool is_alnum(int r)
{
  if (r == '_' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z'))
    return true;
  if (r < 0xc0 || r == 0xd7 || r == 0xf7 || r == 0xfffd)
    return false;
  return !(r >= 0x2000 && r < 0x3000) && !(r >= 0x1f000 && r < 0x20000) && !(r >= 0xe000 && r < 0xf900);
}

static bool starts(const struct lexer *l, size_t at, const char *s)
{
  size_t n = strlen(s);
  return at <= l->len && l->len - at >= n && memcmp(l->in + at, s, n) == 0;
}

static bool left_trim_marker(const struct lexer *l, size_t at)
{
  return at + 2 <= l->len && l->in[at] == '-' && is_space((unsigned char) l->in[at + 1]);
}

static bool right_trim_marker(const struct lexer *l, size_t at)
{
  return at + 2 <= l->len && is_space((unsigned char) l->in[at]) && l->in[at + 1] == '-';
}

/* at "}}" or " -}}"; *trim: with the marker */
static bool at_right_delim(const struct lexer *l, bool *trim)
{
  *trim = right_trim_marker(l, l->pos) && starts(l, l->pos + 2, "}}");
  return *trim || starts(l, l->pos, "}}");
}

static void skip_spaces(struct lexer *l)
{
  while (l->pos < l->len && is_space((unsigned char) l->in[l->pos]))
    l->pos++;
  l->start = l->pos;
}

static enum state lex_text(struct lexer *l)
{
  const char *open = memmem(l->in + l->pos, l->len - l->pos, "{{", 2);
  if (open == NULL) {
    l->pos = l->len;
    if (l->pos > l->start)
      emit(l, TOK_TEXT);
    emit(l, TOK_EOF);
    return S_END;
  }
  size_t at = (size_t) (open - l->in), end = at;
  if (left_trim_marker(l, at + 2))
    while (end > l->start && is_space((unsigned char) l->in[end - 1]))
      end--;
  l->pos = end;
  if (l->pos > l->start)
    emit(l, TOK_TEXT);
  l->pos = l->start = at;
  return S_LEFT;
}

static enum state lex_left(struct lexer *l)
{
  l->pos += 2;
  size_t after = left_trim_marker(l, l->pos) ? 2 : 0;
  if (starts(l, l->pos + after, "/*")) {
    l->pos += after;
    l->start = l->pos;
    return S_COMMENT;
  }
  emit(l, TOK_LEFT);
  l->pos += after;
  l->start = l->pos;
  l->paren_depth = 0;
  return S_INSIDE;
}

static enum state lex_comment(struct lexer *l)
{
  l->pos += 2;
  const char *close = memmem(l->in + l->pos, l->len - l->pos, "*/", 2);
  if (close == NULL)
    return errorf(l, "unclosed comment");
  l->pos = (size_t) (close - l->in) + 2;
  bool trim;
  if (!at_right_delim(l, &trim))
    return errorf(l, "comment ends before closing delimiter");
  l->pos += (trim ? 2 : 0) + 2;
  if (trim)
    skip_spaces(l);
  l->start = l->pos;
  return S_TEXT;
}

static enum state lex_right(struct lexer *l)
{
  bool trim = right_trim_marker(l, l->pos);
  if (trim)
    l->start = l->pos += 2;
  l->pos += 2;
  emit(l, TOK_RIGHT);
  if (trim)
    skip_spaces(l);
  return S_TEXT;
}

static enum state lex_space(struct lexer *l)
{
  size_t n = 0;
  while (l->pos < l->len && is_space((unsigned char) l->in[l->pos])) {
    l->pos++;
    n++;
  }
  if (right_trim_marker(l, l->pos - 1) && starts(l, l->pos + 1, "}}")) {
    l->pos--; /* leave " -}}" to the right delimiter */
    if (n == 1)
      return S_RIGHT;
  }
  emit(l, TOK_SPACE);
  return S_INSIDE;
}

static bool at_terminator(struct lexer *l)
{
  int r = peek(l);
  if (is_space(r) || r == EOF_RUNE || strchr(".,|:)(", r) != NULL)
    return true;
  return starts(l, l->pos, "}}");
}

static enum state bad_char(struct lexer *l, int r)
{
  if (r == EOF_RUNE)
    return errorf(l, "bad character U+FFFFFFFF");
  struct berth_strbuf b = BERTH_STRBUF_INIT;
  utf8_put(&b, r);
  enum state s = r >= 0x20 && r != 0x7f ? errorf(l, "bad character U+%04X '%s'", (unsigned) r, b.buf)
                                        : errorf(l, "bad character U+%04X", (unsigned) r);
  berth_strbuf_release(&b);
  return s;
}

static const struct {
  const char *word;
  enum tok_type type;
} keywords[] = {
  { "block", TOK_BLOCK },
  { "break", TOK_BREAK },
  { "continue", TOK_CONTINUE },
  { "define", TOK_DEFINE },
  { "else", TOK_ELSE },
  { "end", TOK_END },
  { "if", TOK_IF },
  { "nil", TOK_NIL },
  { "range", TOK_RANGE },
  { "template", TOK_TEMPLATE },
  { "with", TOK_WITH },
};

static enum state lex_identifier(struct lexer *l)
{
  int r;
  while (is_alnum(r = next(l)))
    ;
  backup(l);
  if (!at_terminator(l))
    return bad_char(l, r);
  size_t n = l->pos - l->start;
  const char *w = l->in + l->start;
  for (size_t i = 0; i < BERTH_N_ELEMENTS(keywords); i++)
    if (strlen(keywords[i].word) == n && memcmp(keywords[i].word, w, n) == 0) {
      emit(l, keywords[i].type);
      return S_INSIDE;
    }
  emit(l, (n == 4 && memcmp(w, "true", 4) == 0) || (n == 5 && memcmp(w, "false", 5) == 0) ? TOK_BOOL
                                                                                          : TOK_IDENT);
  return S_INSIDE;
}

/* after the '.' or '$' */
static enum state lex_field_or_var(struct lexer *l, enum tok_type type)
{
  if (at_terminator(l)) {
    emit(l, type == TOK_VAR ? TOK_VAR : TOK_DOT);
    return S_INSIDE;
  }
  int r;
  while (is_alnum(r = next(l)))
    ;
  backup(l);
  if (!at_terminator(l))
    return bad_char(l, r);
  emit(l, type);
  return S_INSIDE;
}

static bool accept(struct lexer *l, const char *valid)
{
  if (l->pos < l->len && strchr(valid, l->in[l->pos]) != NULL && l->in[l->pos] != '\0') {
    l->pos++;
    return true;
  }
  return false;
}

static void accept_run(struct lexer *l, const char *valid)
{
  while (accept(l, valid))
    ;
}

static bool scan_number(struct lexer *l)
{
  accept(l, "+-");
  const char *digits = "0123456789_";
  if (accept(l, "0")) {
    if (accept(l, "xX"))
      digits = "0123456789abcdefABCDEF_";
    else if (accept(l, "oO"))
      digits = "01234567_";
    else if (accept(l, "bB"))
      digits = "01_";
  }
  accept_run(l, digits);
  if (accept(l, "."))
    accept_run(l, digits);
  if (strlen(digits) == 11 && accept(l, "eE")) {
    accept(l, "+-");
    accept_run(l, "0123456789_");
  }
  if (strlen(digits) == 23 && accept(l, "pP")) {
    accept(l, "+-");
    accept_run(l, "0123456789_");
  }
  accept(l, "i");
  if (is_alnum(peek(l))) {
    next(l);
    return false;
  }
  return true;
}

static enum state lex_number(struct lexer *l)
{
  if (!scan_number(l))
    return errorf(l, "bad number syntax: \"%.*s\"", (int) (l->pos - l->start), l->in + l->start);
  int sign = peek(l);
  if (sign == '+' || sign == '-') {
    if (!scan_number(l) || l->in[l->pos - 1] != 'i')
      return errorf(l, "bad number syntax: \"%.*s\"", (int) (l->pos - l->start), l->in + l->start);
    emit(l, TOK_COMPLEX);
  } else {
    emit(l, TOK_NUMBER);
  }
  return S_INSIDE;
}

/* "..." or '.': the opening quote is read */
static enum state lex_quoted(struct lexer *l, int quote, enum tok_type type, const char *what)
{
  for (;;) {
    int r = next(l);
    if (r == '\\') {
      r = next(l);
      if (r != EOF_RUNE && r != '\n')
        continue;
    }
    if (r == EOF_RUNE || r == '\n')
      return errorf(l, "unterminated %s", what);
    if (r == quote)
      break;
  }
  emit(l, type);
  return S_INSIDE;
}

static enum state lex_raw(struct lexer *l)
{
  const char *close = memchr(l->in + l->pos, '`', l->len - l->pos);
  if (close == NULL)
    return errorf(l, "unterminated raw quoted string");
  l->pos = (size_t) (close - l->in) + 1;
  emit(l, TOK_RAW);
  return S_INSIDE;
}

static enum state lex_paren(struct lexer *l, int r)
{
  emit(l, r == '(' ? TOK_LPAREN : TOK_RPAREN);
  l->paren_depth += r == '(' ? 1 : -1;
  if (l->paren_depth < 0)
    return errorf(l, "unexpected right paren U+0029 ')'");
  return S_INSIDE;
}

static enum state lex_inside(struct lexer *l)
{
  bool trim;
  if (at_right_delim(l, &trim))
    return l->paren_depth == 0 ? S_RIGHT : errorf(l, "unclosed left paren");
  int r = next(l);
  if (r == EOF_RUNE)
    return errorf(l, "unclosed action");
  if (is_space(r)) {
    backup(l);
    return S_SPACE;
  }
  switch (r) {
  case '=': emit(l, TOK_ASSIGN); return S_INSIDE;
  case ':':
    if (next(l) != '=')
      return errorf(l, "expected :=");
    emit(l, TOK_DECLARE);
    return S_INSIDE;
  case '|': emit(l, TOK_PIPE); return S_INSIDE;
  case '"': return lex_quoted(l, '"', TOK_STRING, "quoted string");
  case '`': return lex_raw(l);
  case '$': return lex_field_or_var(l, TOK_VAR);
  case '\'': return lex_quoted(l, '\'', TOK_CHARCONST, "character constant");
  case '(':
  case ')': return lex_paren(l, r);
  case '.':
    if (l->pos < l->len && (l->in[l->pos] < '0' || l->in[l->pos] > '9'))
      return lex_field_or_var(l, TOK_FIELD);
    /* fall through: '.' starts a number */
  default: break;
  }
  if (r == '.' || r == '+' || r == '-' || (r >= '0' && r <= '9')) {
    backup(l);
    return lex_number(l);
  }
  if (is_alnum(r)) {
    backup(l);
    return lex_identifier(l);
  }
  if (r < 0x7f && r > 0x20) {
    emit(l, TOK_CHAR);
    return S_INSIDE;
  }
  return errorf(l, "unrecognized character in action: U+%04X", (unsigned) r);
}

void lex_template(const char *text, size_t len, struct toks *out)
{
  struct lexer l = { .in = text, .len = len, .out = out };
  enum state s = S_TEXT;
  while (s != S_END) {
    switch (s) {
    case S_TEXT: s = lex_text(&l); break;
    case S_LEFT: s = lex_left(&l); break;
    case S_COMMENT: s = lex_comment(&l); break;
    case S_RIGHT: s = lex_right(&l); break;
    case S_INSIDE: s = lex_inside(&l); break;
    case S_SPACE: s = lex_space(&l); break;
    case S_END: break;
    }
  }
}

void toks_release(struct toks *t)
{
  for (size_t i = 0; i < t->n; i++)
    free(t->v[i].msg);
  free(t->v);
  t->v = NULL;
  t->n = t->cap = 0;
}
