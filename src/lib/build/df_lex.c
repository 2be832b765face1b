/* Dockerfiles: physical lines to logical ones (continuations, comments), words, flags and
 * here-documents, as BuildKit's parser reads them. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/strbuf.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "build/df_internal.h"

void df_line_release(struct df_line *l)
{
  free(l->text);
  free(l->pieces);
  memset(l, 0, sizeof *l);
}

struct df_pos df_line_pos(const struct df_line *l, size_t off)
{
  struct df_pos p = { l->first_line, 1 };
  for (size_t i = 0; i < l->npieces; i++) {
    if (l->pieces[i].off > off)
      break;
    p.line = l->pieces[i].line;
    p.col = l->pieces[i].col + (unsigned) (off - l->pieces[i].off);
  }
  return p;
}

int df_error(berth_error_t *err, const char *file, struct df_pos p, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  cleanup_free char *msg = NULL;
  if (vasprintf(&msg, fmt, ap) < 0)
    berth_oom();
  va_end(ap);
  if (p.col > 0)
    return BERTH_ERR(err, "%s:%u:%u: %s", file, p.line, p.col, msg);
  return BERTH_ERR(err, "%s:%u: %s", file, p.line, msg);
}

void df_warn(struct df_reader *r, unsigned line, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  cleanup_free char *msg = NULL;
  if (vasprintf(&msg, fmt, ap) < 0)
    berth_oom();
  va_end(ap);
  cleanup_free char *w = xasprintf("%s:%u: %s", r->file, line, msg);
  r->warnings = berth_strv_append(r->warnings, w);
}

bool df_read_line(struct df_reader *r, const char **line, size_t *len)
{
  if (r->off >= r->len)
    return false;
  const char *s = r->text + r->off;
  const char *nl = memchr(s, '\n', r->len - r->off);
  size_t n = nl ? (size_t) (nl - s) : r->len - r->off;
  r->off += n + (nl != NULL);
  if (n > 0 && s[n - 1] == '\r')
    n--;
  r->lineno++;
  *line = s;
  *len = n;
  return true;
}

static bool blank(const char *s, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (!isspace((unsigned char) s[i]))
      return false;
  return true;
}

static bool comment(const char *s, size_t n)
{
  size_t i = 0;
  while (i < n && isspace((unsigned char) s[i]))
    i++;
  return i < n && s[i] == '#';
}

/* the length without trailing white space and the continuation escape; *cont tells whether the
 * line continues */
static size_t trim_continuation(const char *s, size_t n, char escape, bool *cont)
{
  while (n > 0 && isspace((unsigned char) s[n - 1]))
    n--;
  *cont = n > 0 && s[n - 1] == escape;
  return *cont ? n - 1 : n;
}

static void add_piece(struct df_line *l, struct berth_strbuf *b, const char *s, size_t n, unsigned line,
                      unsigned col)
{
  l->pieces = xreallocarray(l->pieces, l->npieces + 1, sizeof *l->pieces);
  l->pieces[l->npieces++] = (struct df_piece){ .off = b->len, .line = line, .col = col };
  berth_strbuf_append(b, s, n);
  l->last_line = line;
}

int df_next_logical(struct df_reader *r, struct df_line *out, berth_error_t *err)
{
  const char *s;
  size_t n;
  memset(out, 0, sizeof *out);
  do {
    if (!df_read_line(r, &s, &n))
      return 0;
  } while (blank(s, n) || comment(s, n));
  cleanup_strbuf struct berth_strbuf b = BERTH_STRBUF_INIT;
  size_t lead = 0;
  while (lead < n && isspace((unsigned char) s[lead]))
    lead++;
  bool cont;
  size_t keep = trim_continuation(s + lead, n - lead, r->escape, &cont);
  out->first_line = r->lineno;
  add_piece(out, &b, s + lead, keep, r->lineno, (unsigned) lead + 1);
  while (cont) {
    if (!df_read_line(r, &s, &n))
      break; /* an escape on the last line: the instruction ends there (BuildKit) */
    if (comment(s, n))
      continue;
    if (blank(s, n)) {
      df_warn(r, r->lineno, "empty continuation line (BuildKit will refuse these)");
      continue;
    }
    keep = trim_continuation(s, n, r->escape, &cont);
    add_piece(out, &b, s, keep, r->lineno, 1);
  }
  (void) err;
  out->len = b.len;
  out->text = berth_strbuf_detach(&b);
  return 1;
}

/* ---- words ---- */

char **df_words(const char *s, char escape)
{
  char **v = xcalloc(1, sizeof(char *));
  cleanup_strbuf struct berth_strbuf w = BERTH_STRBUF_INIT;
  enum { SPACES, WORD, QUOTE } phase = SPACES;
  char quote = 0;
  bool blank_ok = false;
  size_t len = strlen(s);
  for (size_t i = 0; i <= len; i++) {
    char c = i < len ? s[i] : 0;
    if (phase == SPACES) {
      if (i == len)
        break;
      if (isspace((unsigned char) c))
        continue;
      phase = WORD;
    }
    if (i == len) {
      if (blank_ok || w.len > 0)
        v = berth_strv_append(v, w.buf ? w.buf : "");
      break;
    }
    if (phase == WORD) {
      if (isspace((unsigned char) c)) {
        phase = SPACES;
        if (blank_ok || w.len > 0)
          v = berth_strv_append(v, w.buf ? w.buf : "");
        w.len = 0;
        if (w.buf)
          w.buf[0] = '\0';
        blank_ok = false;
        continue;
      }
      if (c == '\'' || c == '"') {
        quote = c;
        blank_ok = true;
        phase = QUOTE;
      } else if (c == escape) {
        if (i + 1 == len)
          continue;
        berth_strbuf_putc(&w, c);
        c = s[++i];
      }
      berth_strbuf_putc(&w, c);
      continue;
    }
    if (c == quote)
      phase = WORD;
    else if (c == escape && quote != '\'') {
      if (i + 1 == len) {
        phase = WORD;
        continue;
      }
      berth_strbuf_putc(&w, c);
      c = s[++i];
    }
    berth_strbuf_putc(&w, c);
  }
  return v;
}

char **df_flag_words(const char *s, const char **rest)
{
  char **v = xcalloc(1, sizeof(char *));
  cleanup_strbuf struct berth_strbuf w = BERTH_STRBUF_INIT;
  enum { SPACES, WORD, QUOTE } phase = SPACES;
  char quote = 0;
  bool blank_ok = false;
  size_t len = strlen(s);
  *rest = s + len;
  for (size_t i = 0; i <= len; i++) {
    char c = i < len ? s[i] : 0;
    if (phase == SPACES) {
      if (i == len)
        break;
      if (isspace((unsigned char) c))
        continue;
      if (c != '-' || i + 1 == len || s[i + 1] != '-') {
        *rest = s + i;
        return v;
      }
      phase = WORD;
    }
    if (i == len) {
      if (!berth_str_eq(w.buf, "--") && (blank_ok || w.len > 0))
        v = berth_strv_append(v, w.buf ? w.buf : "");
      break;
    }
    if (phase == WORD) {
      if (isspace((unsigned char) c)) {
        phase = SPACES;
        if (berth_str_eq(w.buf, "--")) {
          *rest = s + i;
          return v;
        }
        if (blank_ok || w.len > 0)
          v = berth_strv_append(v, w.buf ? w.buf : "");
        w.len = 0;
        if (w.buf)
          w.buf[0] = '\0';
        blank_ok = false;
        continue;
      }
      if (c == '\'' || c == '"') {
        quote = c;
        blank_ok = true;
        phase = QUOTE;
        continue;
      }
      if (c == '\\') {
        if (i + 1 == len)
          continue;
        c = s[++i];
      }
      berth_strbuf_putc(&w, c);
      continue;
    }
    if (c == quote) {
      phase = WORD;
      continue;
    }
    if (c == '\\') {
      if (i + 1 == len) {
        phase = WORD;
        continue;
      }
      c = s[++i];
    }
    berth_strbuf_putc(&w, c);
  }
  return v;
}

/* ---- here-documents ---- */

/* a word "<<[-]NAME" with NAME possibly quoted: 1 and the heredoc, 0 when it is not one */
static int heredoc_word(const char *w, struct berth_df_heredoc *h)
{
  if (strncmp(w, "<<", 2) != 0 || w[2] == '<')
    return 0;
  const char *p = w + 2;
  bool chomp = *p == '-';
  if (chomp)
    p++;
  if (*p == '\0' || strchr(p, '<'))
    return 0;
  cleanup_strbuf struct berth_strbuf name = BERTH_STRBUF_INIT;
  bool quoted = false;
  char q = 0;
  for (; *p; p++) {
    if (q) {
      if (*p == q)
        q = 0;
      else
        berth_strbuf_putc(&name, *p);
    } else if (*p == '"' || *p == '\'') {
      q = *p;
      quoted = true;
    } else if (*p == '\\' && p[1]) {
      quoted = true;
      berth_strbuf_putc(&name, *++p);
    } else {
      berth_strbuf_putc(&name, *p);
    }
  }
  if (q || name.len == 0)
    return 0;
  *h = (struct berth_df_heredoc){ .name = berth_strbuf_detach(&name), .expand = !quoted, .chomp = chomp };
  return 1;
}

int df_heredoc_markers(const char *line, char escape, struct berth_df_heredoc **out, size_t *n)
{
  cleanup_strv char **words = df_words(line, escape);
  *out = NULL;
  *n = 0;
  for (size_t i = 0; words[i]; i++) {
    struct berth_df_heredoc h;
    if (heredoc_word(words[i], &h) == 0)
      continue;
    *out = xreallocarray(*out, *n + 1, sizeof **out);
    (*out)[(*n)++] = h;
  }
  return 0;
}

int df_heredoc_bodies(struct df_reader *r, struct berth_df_heredoc *h, size_t n, unsigned line,
                      berth_error_t *err)
{
  for (size_t i = 0; i < n; i++) {
    cleanup_strbuf struct berth_strbuf body = BERTH_STRBUF_INIT;
    bool done = false;
    const char *s;
    size_t len;
    while (!done && df_read_line(r, &s, &len)) {
      if (h[i].chomp)
        while (len > 0 && *s == '\t') {
          s++;
          len--;
        }
      if (len == strlen(h[i].name) && memcmp(s, h[i].name, len) == 0) {
        done = true;
        break;
      }
      berth_strbuf_append(&body, s, len);
      berth_strbuf_putc(&body, '\n');
    }
    if (!done)
      return df_error(err, r->file, (struct df_pos){ line, 0 }, "unterminated here-document `%s`", h[i].name);
    h[i].body = body.buf ? berth_strbuf_detach(&body) : xstrdup("");
  }
  return 0;
}
