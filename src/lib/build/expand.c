/* Variable expansion: a port of BuildKit's shell lexer (frontend/dockerfile/shell/lex.go). */
#include <ctype.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/strbuf.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "build/expand.h"

#define END (-1)

/* words being collected in words mode: unquoted white space ends one */
struct words {
  char **v;
  struct berth_strbuf cur;
  bool in_word;
};

static void words_add(struct words *w, char c, bool raw)
{
  if (!raw && isspace((unsigned char) c)) {
    if (w->in_word) {
      w->v = berth_strv_append(w->v, w->cur.buf ? w->cur.buf : "");
      w->cur.len = 0;
      if (w->cur.buf)
        w->cur.buf[0] = '\0';
      w->in_word = false;
    }
    return;
  }
  w->in_word = true;
  berth_strbuf_putc(&w->cur, c);
}

static void words_add_string(struct words *w, const char *s, bool raw)
{
  if (raw && *s == '\0')
    w->in_word = true; /* "" is a word */
  for (; *s; s++)
    words_add(w, *s, raw);
}

struct lexer {
  const char *s;
  size_t i, len;
  char escape;
  bool raw; /* here-document bodies: quotes and escapes stay in the text */
  berth_build_lookup_fn *lookup;
  void *data;
};

static int peek(const struct lexer *l) { return l->i < l->len ? (unsigned char) l->s[l->i] : END; }
static int next(struct lexer *l) { return l->i < l->len ? (unsigned char) l->s[l->i++] : END; }

static BERTH_WUR int process_stop(struct lexer *l, int stop, bool raw_escapes, char **out, struct words *w,
                                  berth_error_t *err);

static BERTH_WUR int single_quote(struct lexer *l, char **out, berth_error_t *err)
{
  size_t q = l->i;
  next(l);
  size_t b = l->i;
  while (peek(l) != '\'') {
    if (next(l) == END)
      return BERTH_ERR(err, "unexpected end of statement while looking for matching single-quote");
  }
  next(l);
  *out = l->raw ? xstrndup(l->s + q, l->i - q) : xstrndup(l->s + b, l->i - 1 - b);
  return 0;
}

static BERTH_WUR int dollar(struct lexer *l, char **out, berth_error_t *err);

static BERTH_WUR int double_quote(struct lexer *l, char **out, berth_error_t *err)
{
  cleanup_strbuf struct berth_strbuf b = BERTH_STRBUF_INIT;
  next(l);
  if (l->raw)
    berth_strbuf_putc(&b, '"');
  for (;;) {
    int c = peek(l);
    if (c == END)
      return BERTH_ERR(err, "unexpected end of statement while looking for matching double-quote");
    if (c == '"') {
      next(l);
      if (l->raw)
        berth_strbuf_putc(&b, '"');
      break;
    }
    if (c == '$') {
      cleanup_free char *v = NULL;
      if (dollar(l, &v, err) < 0)
        return -1;
      berth_strbuf_puts(&b, v);
      continue;
    }
    c = next(l);
    if (c == l->escape) {
      int n = peek(l);
      if (n == END)
        continue;
      if (n == '"' || n == '$' || n == l->escape) {
        if (l->raw)
          berth_strbuf_putc(&b, (char) c);
        c = next(l);
      }
    }
    berth_strbuf_putc(&b, (char) c);
  }
  *out = b.buf ? berth_strbuf_detach(&b) : xstrdup("");
  return 0;
}

static bool special_param(int c) { return c != END && strchr("@*#?-$!0", c) != NULL; }

static char *name(struct lexer *l)
{
  cleanup_strbuf struct berth_strbuf b = BERTH_STRBUF_INIT;
  int c = peek(l);
  if (c != END && isdigit(c)) {
    while (peek(l) != END && isdigit(peek(l)))
      berth_strbuf_putc(&b, (char) next(l));
    return berth_strbuf_detach(&b);
  }
  if (special_param(c)) {
    berth_strbuf_putc(&b, (char) next(l));
    return berth_strbuf_detach(&b);
  }
  while ((c = peek(l)) != END && (isalnum(c) || c == '_'))
    berth_strbuf_putc(&b, (char) next(l));
  return b.buf ? berth_strbuf_detach(&b) : xstrdup("");
}

/* the shortest or longest prefix/suffix of value matching the shell pattern */
static char *trim_match(const char *pattern, const char *value, bool suffix, bool greedy)
{
  size_t n = strlen(value);
  for (size_t k = 0; k <= n; k++) {
    size_t len = greedy ? n - k : k;
    cleanup_free char *part = suffix ? xstrdup(value + n - len) : xstrndup(value, len);
    if (fnmatch(pattern, part, 0) == 0)
      return suffix ? xstrndup(value, n - len) : xstrdup(value + len);
  }
  return xstrdup(value);
}

static char *replace_match(const char *pattern, const char *repl, const char *value, bool all)
{
  cleanup_strbuf struct berth_strbuf b = BERTH_STRBUF_INIT;
  size_t n = strlen(value), i = 0;
  bool done = false;
  while (i <= n) {
    size_t best = 0;
    bool found = false;
    for (size_t len = n - i; !done && len > 0 && !found; len--) { /* longest match at i */
      cleanup_free char *part = xstrndup(value + i, len);
      if (fnmatch(pattern, part, 0) == 0) {
        best = len;
        found = true;
      }
    }
    if (found) {
      berth_strbuf_puts(&b, repl);
      i += best;
      done = !all;
      continue;
    }
    if (i < n)
      berth_strbuf_putc(&b, value[i]);
    i++;
  }
  return b.buf ? berth_strbuf_detach(&b) : xstrdup("");
}

static BERTH_WUR int modifier(struct lexer *l, const char *nm, int op, bool colon, char **out,
                              berth_error_t *err)
{
  cleanup_free char *word = NULL;
  if (process_stop(l, '}', op == '#' || op == '%', &word, NULL, err) < 0)
    return -1;
  const char *value = l->lookup(l->data, nm);
  bool set = value != NULL, empty = !set || (colon && *value == '\0');
  switch (op) {
  case '-': *out = xstrdup(empty ? word : value); return 0;
  case '+': *out = xstrdup(empty ? "" : word); return 0;
  case '?':
    if (empty)
      return BERTH_ERR(err, "%s: %s", nm,
                       *word ? word
                       : set ? "is not allowed to be empty"
                             : "is not allowed to be unset");
    *out = xstrdup(value);
    return 0;
  }
  bool greedy = word[0] == op;
  *out = trim_match(greedy ? word + 1 : word, value ? value : "", op == '%', greedy);
  return 0;
}

static BERTH_WUR int braced(struct lexer *l, char **out, berth_error_t *err)
{
  next(l); /* { */
  int c = peek(l);
  if (c == END)
    return BERTH_ERR(err, "syntax error: missing '}'");
  if (c == '{' || c == '}' || c == ':')
    return BERTH_ERR(err, "syntax error: bad substitution");
  cleanup_free char *nm = name(l);
  c = next(l);
  if (c == '}') {
    const char *v = l->lookup(l->data, nm);
    *out = xstrdup(v ? v : "");
    return 0;
  }
  if (c == ':') {
    c = next(l);
    if (c != '+' && c != '-' && c != '?')
      return c == END ? BERTH_ERR(err, "syntax error: missing '}'")
                      : BERTH_ERR(err, "unsupported modifier (%c) in substitution", c);
    return modifier(l, nm, c, true, out, err);
  }
  if (c == '+' || c == '-' || c == '?' || c == '#' || c == '%')
    return modifier(l, nm, c, false, out, err);
  if (c == '/') {
    bool all = peek(l) == '/';
    if (all)
      next(l);
    cleanup_free char *pattern = NULL, *repl = NULL;
    if (process_stop(l, '/', true, &pattern, NULL, err) < 0 ||
        process_stop(l, '}', true, &repl, NULL, err) < 0)
      return -1;
    const char *v = l->lookup(l->data, nm);
    *out = replace_match(pattern, repl, v ? v : "", all);
    return 0;
  }
  if (c == END)
    return BERTH_ERR(err, "syntax error: missing '}'");
  return BERTH_ERR(err, "unsupported modifier (%c) in substitution", c);
}

static BERTH_WUR int dollar(struct lexer *l, char **out, berth_error_t *err)
{
  next(l); /* $ */
  if (peek(l) == '{')
    return braced(l, out, err);
  cleanup_free char *nm = name(l);
  if (*nm == '\0') {
    *out = xstrdup("$");
    return 0;
  }
  const char *v = l->lookup(l->data, nm);
  *out = xstrdup(v ? v : "");
  return 0;
}

/* The text up to stop (consumed) or the end: *out the expanded text, w (NULL: not needed) its
 * words. raw_escapes: the escape character is kept (patterns). */
static BERTH_WUR int process_stop(struct lexer *l, int stop, bool raw_escapes, char **out, struct words *w,
                                  berth_error_t *err)
{
  cleanup_strbuf struct berth_strbuf b = BERTH_STRBUF_INIT;
  bool stopped = stop == END;
  while (peek(l) != END) {
    int c = peek(l);
    if (c == stop) {
      next(l);
      stopped = true;
      break;
    }
    if ((c == '\'' || c == '"') && l->raw) {
      next(l);
      berth_strbuf_putc(&b, (char) c);
      continue;
    }
    if (c == '\'' || c == '"' || c == '$') {
      cleanup_free char *tmp = NULL;
      int rc = c == '\''  ? single_quote(l, &tmp, err)
               : c == '"' ? double_quote(l, &tmp, err)
                          : dollar(l, &tmp, err);
      if (rc < 0)
        return -1;
      berth_strbuf_puts(&b, tmp);
      if (w)
        words_add_string(w, tmp, c != '$');
      continue;
    }
    c = next(l);
    bool raw = false;
    if (c == l->escape && l->raw && peek(l) != '$' && peek(l) != l->escape) {
      berth_strbuf_putc(&b, (char) c); /* a here-document keeps \ unless it escapes $ or itself */
      continue;
    }
    if (c == l->escape && !l->raw) {
      if (raw_escapes)
        berth_strbuf_putc(&b, (char) c);
      c = next(l);
      if (c == END)
        break;
      raw = true;
    } else if (c == l->escape) {
      c = next(l);
    }
    if (w)
      words_add(w, (char) c, raw);
    berth_strbuf_putc(&b, (char) c);
  }
  if (!stopped)
    return BERTH_ERR(err, "syntax error: missing '%c'", stop);
  *out = b.buf ? berth_strbuf_detach(&b) : xstrdup("");
  return 0;
}

int berth_build_expand_word(const char *word, char escape, berth_build_lookup_fn *lookup, void *data,
                            char **out, berth_error_t *err)
{
  struct lexer l = { .s = word, .len = strlen(word), .escape = escape, .lookup = lookup, .data = data };
  if (process_stop(&l, END, false, out, NULL, err) < 0)
    return berth_error_wrap(err, "expand `%s`", word);
  return 0;
}

int berth_build_expand_words(const char *text, char escape, berth_build_lookup_fn *lookup, void *data,
                             char ***out, berth_error_t *err)
{
  struct lexer l = { .s = text, .len = strlen(text), .escape = escape, .lookup = lookup, .data = data };
  struct words w = { .v = xcalloc(1, sizeof(char *)) };
  cleanup_free char *all = NULL;
  int rc = process_stop(&l, END, false, &all, &w, err);
  if (rc == 0 && w.in_word)
    w.v = berth_strv_append(w.v, w.cur.buf ? w.cur.buf : "");
  berth_strbuf_release(&w.cur);
  if (rc < 0) {
    berth_strv_free(w.v);
    return berth_error_wrap(err, "expand `%s`", text);
  }
  *out = w.v;
  return 0;
}

int berth_build_expand_heredoc(const char *body, berth_build_lookup_fn *lookup, void *data, char **out,
                               berth_error_t *err)
{
  struct lexer l = {
    .s = body, .len = strlen(body), .escape = '\\', .raw = true, .lookup = lookup, .data = data
  };
  if (process_stop(&l, END, false, out, NULL, err) < 0)
    return berth_error_wrap(err, "expand here-document");
  return 0;
}

const char *berth_build_lookup_env(void *data, const char *name)
{
  char *const *env = data;
  const char *found = NULL;
  size_t n = strlen(name);
  for (size_t i = 0; env && env[i]; i++)
    if (strncmp(env[i], name, n) == 0 && env[i][n] == '=')
      found = env[i] + n + 1;
  return found;
}
