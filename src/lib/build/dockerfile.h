/* Dockerfiles, parsed (pure: text in, instructions out; fuzzed by tests/fuzz/fuzz_dockerfile.c).
 *
 * The grammar is BuildKit's: parser directives at the top (`# syntax=`, warned about and
 * ignored; `# escape=` with \ or `), comments, line continuations (comment and empty lines
 * inside one are skipped), here-documents for RUN, COPY and ADD (`<<EOF`, `<<-EOF` strips
 * leading tabs, a quoted delimiter turns expansion off), `--flag[=value]` words before the
 * arguments, JSON (exec) form or shell form. Each instruction is checked as it is read: its
 * flags against the instruction's own, the number and shape of its arguments, flag values that
 * need no variable to be understood. Errors name the file, line and column:
 * "Dockerfile:3:1: unknown instruction: `FOOBAR`". */
#ifndef BERTH_BUILD_DOCKERFILE_H
#define BERTH_BUILD_DOCKERFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"

enum berth_df_cmd {
  BERTH_DF_ADD,
  BERTH_DF_ARG,
  BERTH_DF_CMD,
  BERTH_DF_COPY,
  BERTH_DF_ENTRYPOINT,
  BERTH_DF_ENV,
  BERTH_DF_EXPOSE,
  BERTH_DF_FROM,
  BERTH_DF_HEALTHCHECK,
  BERTH_DF_LABEL,
  BERTH_DF_MAINTAINER,
  BERTH_DF_ONBUILD,
  BERTH_DF_RUN,
  BERTH_DF_SHELL,
  BERTH_DF_STOPSIGNAL,
  BERTH_DF_USER,
  BERTH_DF_VOLUME,
  BERTH_DF_WORKDIR,
};
/* "RUN", "COPY", ... */
const char *berth_df_cmd_name(enum berth_df_cmd c);

struct berth_df_flag {
  char *name;  /* without the dashes: "from" */
  char *value; /* quotes removed; NULL when given without '=' ("--link") */
};

struct berth_df_heredoc {
  char *name;  /* the delimiter */
  char *body;  /* the lines between the instruction and the delimiter, each ending in '\n' */
  bool expand; /* the delimiter was not quoted: COPY and ADD expand variables in the body */
  bool chomp;  /* <<-: leading tabs were removed from the body and the delimiter line */
};

/* ENV, LABEL (key and value as written: quotes kept, expanded later) and ARG (value NULL: no
 * default) */
struct berth_df_kv {
  char *key;
  char *value;
};

struct berth_df_instr {
  enum berth_df_cmd cmd;
  unsigned line, col; /* where the keyword is (1-based) */
  unsigned end_line;  /* the last line, heredoc bodies included */
  char *original;     /* as written, continuations joined (no heredoc bodies): "RUN echo hi" */
  struct berth_df_flag *flags;
  size_t nflags;
  bool json;   /* exec form: args is the JSON array */
  char **args; /* JSON form: the array; else the words of `rest` split at white space (FROM, COPY,
                  ADD, EXPOSE, VOLUME) or, for HEALTHCHECK CMD, the words after CMD; NULL-terminated */
  char *rest;  /* the text after the keyword and the flags, trimmed ("" when none); HEALTHCHECK: the
                  text after CMD */
  struct berth_df_kv *kvs; /* ENV, LABEL, ARG */
  size_t nkvs;
  struct berth_df_heredoc *heredocs; /* RUN, COPY, ADD */
  size_t nheredocs;
  bool healthcheck_none;      /* HEALTHCHECK NONE */
  struct berth_df_instr *sub; /* ONBUILD: the instruction it records */
};

struct berth_dockerfile {
  char *file;   /* for messages: "Dockerfile" */
  char escape;  /* '\\' or '`' */
  char *syntax; /* `# syntax=` value, or NULL */
  struct berth_df_instr *instrs;
  size_t n;
  char **warnings; /* "Dockerfile:2: ...", NULL-terminated (never NULL) */
};

/* Parse a Dockerfile. text need not be NUL-terminated. */
int berth_df_parse(const char *text, size_t len, const char *file, struct berth_dockerfile **out,
                   berth_error_t *err) BERTH_WUR;
void berth_df_free(struct berth_dockerfile *df);

/* One instruction on one line (an ONBUILD trigger read back from an image config); what names it
 * in errors. */
int berth_df_parse_line(const char *line, const char *what, char escape, struct berth_df_instr *out,
                        berth_error_t *err) BERTH_WUR;
void berth_df_instr_release(struct berth_df_instr *in);

/* the value of flag `name` (the last one given); has (may be NULL) tells whether it was given */
const char *berth_df_flag(const struct berth_df_instr *in, const char *name, bool *has);
/* every value of a repeatable flag (--mount), NULL-terminated (the strings are borrowed) */
const char **berth_df_flag_all(const struct berth_df_instr *in, const char *name);

#endif
