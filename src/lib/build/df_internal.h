/* Shared by the Dockerfile parser's files (df_*.c) only. */
#ifndef BERTH_BUILD_DF_INTERNAL_H
#define BERTH_BUILD_DF_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"
#include "build/dockerfile.h"

/* a place in the file, for messages */
struct df_pos {
  unsigned line, col;
};

/* A logical line: physical lines joined at continuations, and where each piece came from, so
 * that an offset in text maps back to a line and column. */
struct df_line {
  char *text;
  size_t len;
  struct df_piece {
    size_t off; /* offset in text where the piece starts */
    unsigned line, col;
  } * pieces;
  size_t npieces;
  unsigned first_line, last_line;
};
void df_line_release(struct df_line *l);
struct df_pos df_line_pos(const struct df_line *l, size_t off);

/* the physical lines of a file */
struct df_reader {
  const char *text;
  size_t len, off;
  unsigned lineno; /* of the line read last */
  char escape;
  const char *file;
  char **warnings;
};
/* the next physical line (without its end of line, a final \r removed); false at the end */
bool df_read_line(struct df_reader *r, const char **line, size_t *len);

/* "<file>:<line>:<col>: <message>" */
int df_error(berth_error_t *err, const char *file, struct df_pos p, const char *fmt, ...)
  __attribute__((format(printf, 4, 5)));
void df_warn(struct df_reader *r, unsigned line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The next logical line: blank and comment lines skipped, continuations joined (comment and
 * blank lines inside one skipped, blank ones with a warning). 0 at the end of the file, 1 with
 * a line. */
int df_next_logical(struct df_reader *r, struct df_line *out, berth_error_t *err) BERTH_WUR;

/* BuildKit's parseWords: words split at white space outside quotes, quotes and escapes kept */
char **df_words(const char *s, char escape);
/* BuildKit's extractBuilderFlags: the leading --flag words (quotes processed); *rest points past
 * them into s */
char **df_flag_words(const char *s, const char **rest);

/* here-document markers in the words of a RUN/COPY/ADD line, in order */
int df_heredoc_markers(const char *line, char escape, struct berth_df_heredoc **out, size_t *n);
/* read the bodies of the markers from the lines that follow */
int df_heredoc_bodies(struct df_reader *r, struct berth_df_heredoc *h, size_t n, unsigned line,
                      berth_error_t *err) BERTH_WUR;

/* parse the instruction of a logical line (df_parse.c) */
int df_parse_instr(struct df_reader *r, const struct df_line *l, bool in_onbuild, struct berth_df_instr *out,
                   berth_error_t *err) BERTH_WUR;

/* the flags an instruction accepts, and checks of their values (df_check.c) */
int df_check_flags(const char *file, struct df_pos p, const struct berth_df_instr *in,
                   berth_error_t *err) BERTH_WUR;
int df_check_args(const char *file, struct df_pos p, struct berth_df_instr *in, berth_error_t *err) BERTH_WUR;

#endif
