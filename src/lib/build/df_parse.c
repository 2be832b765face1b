/* Dockerfiles: directives, then one instruction per logical line (keyword, flags, arguments in
 * the shape each instruction takes), checked as they are read. */
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/cleanup.h"
#include "base/strbuf.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "build/df_internal.h"

static const char *const cmd_names[] = {
  [BERTH_DF_ADD] = "ADD",
  [BERTH_DF_ARG] = "ARG",
  [BERTH_DF_CMD] = "CMD",
  [BERTH_DF_COPY] = "COPY",
  [BERTH_DF_ENTRYPOINT] = "ENTRYPOINT",
  [BERTH_DF_ENV] = "ENV",
  [BERTH_DF_EXPOSE] = "EXPOSE",
  [BERTH_DF_FROM] = "FROM",
  [BERTH_DF_HEALTHCHECK] = "HEALTHCHECK",
  [BERTH_DF_LABEL] = "LABEL",
  [BERTH_DF_MAINTAINER] = "MAINTAINER",
  [BERTH_DF_ONBUILD] = "ONBUILD",
  [BERTH_DF_RUN] = "RUN",
  [BERTH_DF_SHELL] = "SHELL",
  [BERTH_DF_STOPSIGNAL] = "STOPSIGNAL",
  [BERTH_DF_USER] = "USER",
  [BERTH_DF_VOLUME] = "VOLUME",
  [BERTH_DF_WORKDIR] = "WORKDIR",
};

const char *berth_df_cmd_name(enum berth_df_cmd c)
{
  return (size_t) c < BERTH_N_ELEMENTS(cmd_names) ? cmd_names[c] : "?";
}

static int cmd_lookup(const char *word, size_t n)
{
  for (size_t i = 0; i < BERTH_N_ELEMENTS(cmd_names); i++)
    if (strlen(cmd_names[i]) == n && strncasecmp(cmd_names[i], word, n) == 0)
      return (int) i;
  return -1;
}

void berth_df_instr_release(struct berth_df_instr *in)
{
  if (in == NULL)
    return;
  free(in->original);
  for (size_t i = 0; i < in->nflags; i++) {
    free(in->flags[i].name);
    free(in->flags[i].value);
  }
  free(in->flags);
  berth_strv_free(in->args);
  free(in->rest);
  for (size_t i = 0; i < in->nkvs; i++) {
    free(in->kvs[i].key);
    free(in->kvs[i].value);
  }
  free(in->kvs);
  for (size_t i = 0; i < in->nheredocs; i++) {
    free(in->heredocs[i].name);
    free(in->heredocs[i].body);
  }
  free(in->heredocs);
  if (in->sub) {
    berth_df_instr_release(in->sub);
    free(in->sub);
  }
  memset(in, 0, sizeof *in);
}

void berth_df_free(struct berth_dockerfile *df)
{
  if (df == NULL)
    return;
  for (size_t i = 0; i < df->n; i++)
    berth_df_instr_release(&df->instrs[i]);
  free(df->instrs);
  free(df->file);
  free(df->syntax);
  berth_strv_free(df->warnings);
  free(df);
}

const char *berth_df_flag(const struct berth_df_instr *in, const char *name, bool *has)
{
  const char *v = NULL;
  bool found = false;
  for (size_t i = 0; i < in->nflags; i++)
    if (strcmp(in->flags[i].name, name) == 0) {
      v = in->flags[i].value;
      found = true;
    }
  if (has)
    *has = found;
  return v;
}

const char **berth_df_flag_all(const struct berth_df_instr *in, const char *name)
{
  const char **v = xcalloc(in->nflags + 1, sizeof *v);
  size_t n = 0;
  for (size_t i = 0; i < in->nflags; i++)
    if (strcmp(in->flags[i].name, name) == 0)
      v[n++] = in->flags[i].value ? in->flags[i].value : "";
  return v;
}

/* ---- argument shapes ---- */

/* a JSON array of strings, else NULL */
static char **json_strings(const char *s)
{
  if (*s != '[')
    return NULL;
  json_t *j = json_loads(s, JSON_REJECT_DUPLICATES, NULL);
  if (!json_is_array(j)) {
    json_decref(j);
    return NULL;
  }
  char **v = xcalloc(json_array_size(j) + 1, sizeof(char *));
  size_t i;
  json_t *e;
  json_array_foreach (j, i, e) {
    if (!json_is_string(e)) {
      berth_strv_free(v);
      json_decref(j);
      return NULL;
    }
    v[i] = xstrdup(json_string_value(e));
  }
  json_decref(j);
  return v;
}

static char **split_ws(const char *s)
{
  char **v = xcalloc(1, sizeof(char *));
  while (*s) {
    while (*s && isspace((unsigned char) *s))
      s++;
    const char *b = s;
    while (*s && !isspace((unsigned char) *s))
      s++;
    if (s > b) {
      cleanup_free char *w = xstrndup(b, (size_t) (s - b));
      v = berth_strv_append(v, w);
    }
  }
  return v;
}

static void add_kv(struct berth_df_instr *in, const char *k, size_t klen, const char *v)
{
  in->kvs = xreallocarray(in->kvs, in->nkvs + 1, sizeof *in->kvs);
  in->kvs[in->nkvs++] = (struct berth_df_kv){ .key = xstrndup(k, klen), .value = v ? xstrdup(v) : NULL };
}

/* ENV and LABEL: `k=v k2="v 2"`, or the old `k value with spaces` */
static BERTH_WUR int parse_name_val(const char *file, struct df_pos p, struct berth_df_instr *in, char escape,
                                    berth_error_t *err)
{
  const char *name = berth_df_cmd_name(in->cmd);
  cleanup_strv char **words = df_words(in->rest, escape);
  if (words[0] == NULL)
    return df_error(err, file, p, "%s requires at least one argument", name);
  if (strchr(words[0], '=') == NULL) {
    const char *s = in->rest;
    size_t k = 0;
    while (s[k] && !isspace((unsigned char) s[k]))
      k++;
    const char *v = s + k;
    while (*v && isspace((unsigned char) *v))
      v++;
    if (*v == '\0')
      return df_error(err, file, p, "%s must have two arguments", name);
    add_kv(in, s, k, v);
    return 0;
  }
  for (size_t i = 0; words[i]; i++) {
    const char *eq = strchr(words[i], '=');
    if (eq == NULL)
      return df_error(err, file, p, "syntax error - can't find = in `%s`. Must be of the form: name=value",
                      words[i]);
    if (eq == words[i])
      return df_error(err, file, p, "%s names must not be empty", name);
    add_kv(in, words[i], (size_t) (eq - words[i]), eq + 1);
  }
  return 0;
}

/* ARG name[=default] ... */
static BERTH_WUR int parse_args_decl(const char *file, struct df_pos p, struct berth_df_instr *in,
                                     char escape, berth_error_t *err)
{
  cleanup_strv char **words = df_words(in->rest, escape);
  if (words[0] == NULL)
    return df_error(err, file, p, "ARG requires at least one argument");
  for (size_t i = 0; words[i]; i++) {
    const char *eq = strchr(words[i], '=');
    size_t klen = eq ? (size_t) (eq - words[i]) : strlen(words[i]);
    if (klen == 0)
      return df_error(err, file, p, "ARG names can not be blank");
    add_kv(in, words[i], klen, eq ? eq + 1 : NULL);
  }
  return 0;
}

/* HEALTHCHECK NONE | [flags] CMD command */
static BERTH_WUR int parse_healthcheck(const char *file, struct df_pos p, struct berth_df_instr *in,
                                       berth_error_t *err)
{
  const char *s = in->rest;
  size_t k = 0;
  while (s[k] && !isspace((unsigned char) s[k]))
    k++;
  const char *after = s + k;
  while (*after && isspace((unsigned char) *after))
    after++;
  if (k == 4 && strncasecmp(s, "NONE", 4) == 0) {
    if (*after || in->nflags)
      return df_error(err, file, p, "HEALTHCHECK NONE takes no arguments or flags");
    in->healthcheck_none = true;
    return 0;
  }
  if (k != 3 || strncasecmp(s, "CMD", 3) != 0)
    return df_error(err, file, p, "HEALTHCHECK: unknown type `%.*s` (NONE or CMD)", (int) k, s);
  if (*after == '\0')
    return df_error(err, file, p, "HEALTHCHECK CMD: a command is required");
  cleanup_free char *cmd = xstrdup(after);
  free(in->rest);
  in->rest = steal_ptr(cmd);
  in->args = json_strings(in->rest);
  in->json = in->args != NULL;
  return 0;
}

static BERTH_WUR int parse_sub(struct df_reader *r, const struct df_line *l, size_t off,
                               struct berth_df_instr *in, berth_error_t *err)
{
  struct df_line sub = { .text = xstrdup(l->text + off), .len = l->len - off };
  sub.pieces = xcalloc(1, sizeof *sub.pieces);
  struct df_pos p = df_line_pos(l, off);
  sub.pieces[0] = (struct df_piece){ .off = 0, .line = p.line, .col = p.col };
  sub.npieces = 1;
  sub.first_line = sub.last_line = p.line;
  in->sub = xmalloc0(sizeof *in->sub);
  int rc = df_parse_instr(r, &sub, true, in->sub, err);
  df_line_release(&sub);
  return rc;
}

/* the arguments after the flags, in the instruction's shape */
static BERTH_WUR int parse_args(struct df_reader *r, const struct df_line *l, size_t rest_off,
                                struct berth_df_instr *in, berth_error_t *err)
{
  struct df_pos p = df_line_pos(l, rest_off);
  switch (in->cmd) {
  case BERTH_DF_ENV:
  case BERTH_DF_LABEL: return parse_name_val(r->file, p, in, r->escape, err);
  case BERTH_DF_ARG: return parse_args_decl(r->file, p, in, r->escape, err);
  case BERTH_DF_HEALTHCHECK: return parse_healthcheck(r->file, p, in, err);
  case BERTH_DF_ONBUILD:
    if (in->rest[0] == '\0')
      return df_error(err, r->file, p, "ONBUILD requires at least one argument");
    return parse_sub(r, l, rest_off, in, err);
  case BERTH_DF_RUN:
  case BERTH_DF_CMD:
  case BERTH_DF_ENTRYPOINT:
  case BERTH_DF_SHELL:
    in->args = json_strings(in->rest);
    in->json = in->args != NULL;
    break;
  case BERTH_DF_COPY:
  case BERTH_DF_ADD:
  case BERTH_DF_VOLUME:
  case BERTH_DF_EXPOSE:
  case BERTH_DF_FROM:
    in->args = in->cmd == BERTH_DF_FROM || in->cmd == BERTH_DF_EXPOSE ? NULL : json_strings(in->rest);
    in->json = in->args != NULL;
    if (!in->json)
      in->args = split_ws(in->rest);
    break;
  case BERTH_DF_MAINTAINER:
  case BERTH_DF_STOPSIGNAL:
  case BERTH_DF_USER:
  case BERTH_DF_WORKDIR: break;
  }
  if (in->args == NULL)
    in->args = xcalloc(1, sizeof(char *));
  return df_check_args(r->file, p, in, err);
}

static BERTH_WUR int parse_flags(const char *file, struct df_pos p, struct berth_df_instr *in, char **words,
                                 berth_error_t *err)
{
  for (size_t i = 0; words[i]; i++) {
    const char *w = words[i] + 2; /* past "--" */
    const char *eq = strchr(w, '=');
    if (eq == w || *w == '\0')
      return df_error(err, file, p, "%s: invalid flag `%s`", berth_df_cmd_name(in->cmd), words[i]);
    in->flags = xreallocarray(in->flags, in->nflags + 1, sizeof *in->flags);
    in->flags[in->nflags++] = (struct berth_df_flag){
      .name = eq ? xstrndup(w, (size_t) (eq - w)) : xstrdup(w),
      .value = eq ? xstrdup(eq + 1) : NULL,
    };
  }
  return df_check_flags(file, p, in, err);
}

int df_parse_instr(struct df_reader *r, const struct df_line *l, bool in_onbuild, struct berth_df_instr *out,
                   berth_error_t *err)
{
  memset(out, 0, sizeof *out);
  const char *s = l->text;
  size_t k = 0;
  while (s[k] && !isspace((unsigned char) s[k]))
    k++;
  struct df_pos kp = df_line_pos(l, 0);
  int cmd = cmd_lookup(s, k);
  if (cmd < 0)
    return df_error(err, r->file, kp, "unknown instruction: `%.*s`", (int) (k > 64 ? 64 : k), s);
  out->cmd = (enum berth_df_cmd) cmd;
  out->line = kp.line;
  out->col = kp.col;
  out->end_line = l->last_line;
  out->original = xstrdup(s);
  if (in_onbuild && (cmd == BERTH_DF_ONBUILD || cmd == BERTH_DF_FROM || cmd == BERTH_DF_MAINTAINER))
    return df_error(err, r->file, kp, "%s isn't allowed as an ONBUILD trigger", cmd_names[cmd]);
  const char *after = s + k;
  while (*after && isspace((unsigned char) *after))
    after++;
  const char *rest = after;
  cleanup_strv char **flags =
    cmd == BERTH_DF_ONBUILD ? xcalloc(1, sizeof(char *)) : df_flag_words(after, &rest);
  size_t rest_off = (size_t) (rest - s);
  if (parse_flags(r->file, df_line_pos(l, (size_t) (after - s)), out, flags, err) < 0)
    return -1;
  size_t rlen = strlen(rest);
  while (rlen > 0 && isspace((unsigned char) rest[rlen - 1]))
    rlen--;
  out->rest = xstrndup(rest, rlen);
  cleanup_strv char **as_json = json_strings(out->rest); /* the exec form has no here-documents */
  if (!in_onbuild && as_json == NULL &&
      (cmd == BERTH_DF_RUN || cmd == BERTH_DF_COPY || cmd == BERTH_DF_ADD)) {
    (void) df_heredoc_markers(out->rest, r->escape, &out->heredocs, &out->nheredocs);
    if (df_heredoc_bodies(r, out->heredocs, out->nheredocs, out->line, err) < 0)
      return -1;
    out->end_line = out->nheredocs ? r->lineno : out->end_line;
  }
  return parse_args(r, l, rest_off, out, err);
}

/* ---- the file ---- */

/* a parser directive line: `# key = value`; 1 with key and value, 0 when not one */
static int directive(const char *s, size_t n, char **key, char **value)
{
  size_t i = 0;
  if (n == 0 || s[0] != '#')
    return 0;
  for (i = 1; i < n && isspace((unsigned char) s[i]); i++)
    ;
  size_t kb = i;
  if (i >= n || !isalpha((unsigned char) s[i]))
    return 0;
  while (i < n && isalnum((unsigned char) s[i]))
    i++;
  size_t ke = i;
  while (i < n && isspace((unsigned char) s[i]))
    i++;
  if (i >= n || s[i] != '=')
    return 0;
  for (i++; i < n && isspace((unsigned char) s[i]); i++)
    ;
  size_t ve = n;
  while (ve > i && isspace((unsigned char) s[ve - 1]))
    ve--;
  if (ve == i)
    return 0;
  *key = xstrndup(s + kb, ke - kb);
  for (char *c = *key; *c; c++)
    *c = (char) tolower((unsigned char) *c);
  *value = xstrndup(s + i, ve - i);
  return 1;
}

/* the directives at the top; the reader is left at the first line that is not one */
static BERTH_WUR int read_directives(struct df_reader *r, struct berth_dockerfile *df, berth_error_t *err)
{
  cleanup_strv char **seen = xcalloc(1, sizeof(char *));
  for (;;) {
    size_t save = r->off;
    unsigned saveline = r->lineno;
    const char *s;
    size_t n;
    cleanup_free char *key = NULL, *value = NULL;
    if (!df_read_line(r, &s, &n) || directive(s, n, &key, &value) == 0) {
      r->off = save;
      r->lineno = saveline;
      return 0;
    }
    for (size_t i = 0; seen[i]; i++)
      if (strcmp(seen[i], key) == 0)
        return df_error(err, r->file, (struct df_pos){ r->lineno, 1 },
                        "only one `%s` parser directive can be used", key);
    seen = berth_strv_append(seen, key);
    if (strcmp(key, "escape") == 0) {
      if (strcmp(value, "\\") != 0 && strcmp(value, "`") != 0)
        return df_error(err, r->file, (struct df_pos){ r->lineno, 1 },
                        "invalid escape token `%s` does not match ` or \\", value);
      r->escape = df->escape = value[0];
    } else if (strcmp(key, "syntax") == 0) {
      df->syntax = xstrdup(value);
      df_warn(r, r->lineno, "the syntax directive `%s` is ignored: berth parses Dockerfiles itself", value);
    }
  }
}

int berth_df_parse(const char *text, size_t len, const char *file, struct berth_dockerfile **out,
                   berth_error_t *err)
{
  struct berth_dockerfile *df = xmalloc0(sizeof *df);
  df->file = xstrdup(file ? file : "Dockerfile");
  df->escape = '\\';
  if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) { /* a BOM */
    text += 3;
    len -= 3;
  }
  struct df_reader r = { .text = text, .len = len, .escape = '\\', .file = df->file };
  r.warnings = xcalloc(1, sizeof(char *));
  int rc = read_directives(&r, df, err);
  while (rc == 0) {
    struct df_line l;
    int got = df_next_logical(&r, &l, err);
    if (got <= 0) {
      rc = got;
      break;
    }
    struct berth_df_instr in;
    rc = df_parse_instr(&r, &l, false, &in, err);
    df_line_release(&l);
    if (rc < 0) {
      berth_df_instr_release(&in);
      break;
    }
    df->instrs = xreallocarray(df->instrs, df->n + 1, sizeof *df->instrs);
    df->instrs[df->n++] = in;
  }
  df->warnings = r.warnings;
  if (rc == 0 && df->n == 0)
    rc = BERTH_ERR(err, "%s: the file has no instructions", df->file);
  if (rc < 0) {
    berth_df_free(df);
    return -1;
  }
  *out = df;
  return 0;
}

int berth_df_parse_line(const char *line, const char *what, char escape, struct berth_df_instr *out,
                        berth_error_t *err)
{
  struct df_reader r = { .text = line, .len = strlen(line), .escape = escape ? escape : '\\', .file = what };
  r.warnings = xcalloc(1, sizeof(char *));
  struct df_line l;
  int got = df_next_logical(&r, &l, err);
  int rc = got;
  if (got == 0)
    rc = BERTH_ERR(err, "%s: no instruction", what);
  if (got > 0) {
    rc = df_parse_instr(&r, &l, true, out, err);
    df_line_release(&l);
    if (rc < 0)
      berth_df_instr_release(out);
  }
  berth_strv_free(r.warnings);
  return rc;
}
