/* Go's text/template as Docker's CLI uses it for --format and inspect -f, over jansson values:
 * a lexer and parser into an AST (parse once), an evaluator (run per row), Docker's extra
 * functions (json, join, split, title, lower, upper, pad, truncate) and its "table" directive
 * laid out by a port of the CLI's tabwriter. Pure: no I/O but the writer's final fputs.
 *
 * Values follow Go's rules where Docker users meet them: a missing key of a map prints
 * "<no value>", a missing field of a struct is an error naming the template's line and column
 * (`template: :1:2: executing "" at <.Foo>: can't evaluate field Foo in type ...`). The data
 * says which is which through a berth_format_type: its objects are structs (rows, inspect
 * documents) unless a map rule names their path; with no type every object is a map. */
#ifndef BERTH_FORMAT_FORMAT_H
#define BERTH_FORMAT_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "base/error.h"
#include "base/strbuf.h"

struct berth_format_template;

/* A method of a row that takes arguments or is costly to compute (`.Label "com.x"`, `.Size`):
 * called with the row, its string arguments and the row's data (given with the row, else the
 * type's); returns a new reference, or NULL with *err set (the evaluator adds the position). */
typedef json_t *(*berth_format_method_fn)(json_t *row, const char *const *args, void *data,
                                          berth_error_t *err);
struct berth_format_method {
  const char *name;
  size_t nargs;
  berth_format_method_fn fn;
};

/* An object reached by a path that ends with `path` ("Labels", "Config.Volumes",
 * "NetworkSettings.Networks") is a Go map: a missing key is "<no value>" (index of it: "" when
 * `strings`, the map[string]string of Labels and Options), not an error. */
struct berth_format_map {
  const char *path;
  bool strings;
};

struct berth_format_type {
  /* the Go type named when a row has no such field ("can't evaluate field X in type <name>");
   * NULL: a document, where a missing field is "map has no entry for key "X"" */
  const char *name;
  const struct berth_format_method *methods; /* ends with a NULL name; may be NULL */
  const struct berth_format_map *maps;       /* ends with a NULL path; may be NULL */
  void *data;                                /* for the methods */
  bool sorted_json;                          /* `json .` sorts the keys (Docker marshals rows as maps) */
};

/* Parse a template. Errors read as Go's with the column added: `template: :1:9: function "foo"
 * not defined`. */
int berth_format_parse(const char *text, struct berth_format_template **out, berth_error_t *err) BERTH_WUR;
void berth_format_free(struct berth_format_template *t);
static inline void berth_format_freep(struct berth_format_template **t)
{
  berth_format_free(*t);
  *t = NULL;
}
#define cleanup_format_template __attribute__((cleanup(berth_format_freep)))

/* Run the template on data (type NULL: every object a map); the output is appended to out,
 * also what was written before an error. */
int berth_format_exec(const struct berth_format_template *t, json_t *data,
                      const struct berth_format_type *type, struct berth_strbuf *out,
                      berth_error_t *err) BERTH_WUR;

/* Parse and run once (inspect -f, info, version): the output, or NULL with *err set */
char *berth_format_render(const char *text, json_t *data, const struct berth_format_type *type,
                          berth_error_t *err) BERTH_WUR;

/* Go's text/tabwriter as docker/cli configures it (cells end at '\t', minwidth, tabwidth 1,
 * padding, ' ' as padding), appending the aligned text to out. */
void berth_format_tabwrite(const char *text, size_t len, size_t minwidth, size_t padding,
                           struct berth_strbuf *out);

/* Docker's formatter.Context: --format "table {{.ID}}\t{{.Image}}", "{{.ID}}" or "json"; one
 * line per row, and with "table" a header line from `header` (field -> column title) and the
 * columns aligned as docker's tabwriter aligns them (minwidth 10, padding 3). */
struct berth_format_writer {
  struct berth_format_template *tmpl;
  const struct berth_format_type *type;
  json_t *header; /* a reference */
  bool table;
  struct berth_strbuf rows;
};
/* format: what the user gave; a bare "table" must have been replaced by the command's default */
int berth_format_writer_init(struct berth_format_writer *w, const char *format,
                             const struct berth_format_type *type, json_t *header,
                             berth_error_t *err) BERTH_WUR;
int berth_format_writer_add(struct berth_format_writer *w, json_t *row, berth_error_t *err) BERTH_WUR;
/* the same with the data the type's methods get for this row (its labels for .Label) */
int berth_format_writer_add_data(struct berth_format_writer *w, json_t *row, void *data,
                                 berth_error_t *err) BERTH_WUR;
/* the header (table) and the rows, aligned, appended to out */
void berth_format_writer_finish(struct berth_format_writer *w, struct berth_strbuf *out);
void berth_format_writer_print(struct berth_format_writer *w, FILE *out);
void berth_format_writer_release(struct berth_format_writer *w);
/* true when the template mentions `word` (ps computes sizes only for a format with .Size) */
bool berth_format_mentions(const char *format, const char *word);

#endif
