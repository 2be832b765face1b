/* Presentation helpers shared by the `berth` commands, matching Docker's output byte for byte:
 * sizes (go-units HumanSizeWithPrecision(size, 3)), "2 hours ago" durations (go-units
 * HumanDuration), truncation with an ellipsis, and tables laid out like Go's text/tabwriter
 * (minwidth 20, padding 3: the layout of `docker history`/`docker images` in the article). */
#ifndef BERTH_ENGINE_FORMAT_H
#define BERTH_ENGINE_FORMAT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* 29 -> "29B", 106000000 -> "106MB", 1234 -> "1.23kB" (decimal units) */
char *berth_fmt_size(uint64_t bytes);
/* the same with a given number of significant digits (Docker's HumanSize, used by df: 4) */
char *berth_fmt_size_prec(uint64_t bytes, int precision);
/* seconds elapsed -> "Less than a second", "5 minutes", "About an hour", "12 months" ... */
char *berth_fmt_duration(int64_t seconds);
/* now - then (unix seconds) -> "5 minutes ago" */
char *berth_fmt_since(int64_t then, int64_t now);
/* at most maxlen characters (UTF-8 code points): longer strings keep maxlen - 1 and gain "…" */
char *berth_fmt_ellipsis(const char *s, size_t maxlen);
/* RFC 3339 with nanoseconds in UTC ("2019-03-30T17:05:24.123456789Z"; zero nanoseconds omitted) */
char *berth_fmt_rfc3339(int64_t unix_nanos);
/* parse RFC 3339 ("2019-03-30T18:05:24.5+01:00", "...Z") into unix nanoseconds; -1 when invalid */
int berth_parse_rfc3339(const char *s, int64_t *unix_nanos);

/* A table of cells printed like Go's tabwriter(minwidth, tabwidth 1, padding, ' ', 0): every cell
 * but a row's last is padded to its column's width (widest cell + padding, at least minwidth);
 * berth trims the trailing blanks of each line, as the article's tables show them. */
struct berth_table {
  size_t ncols;
  size_t nrows;
  char **cells; /* nrows * ncols */
  size_t minwidth;
  size_t padding;
};
void berth_table_init(struct berth_table *t, size_t ncols);
/* append a row of ncols cells (copied; NULL is "") */
void berth_table_add(struct berth_table *t, const char *const *cells);
void berth_table_print(const struct berth_table *t, FILE *out);
void berth_table_release(struct berth_table *t);

#endif
