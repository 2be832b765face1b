/* docker/cli's formatter.Context: "table" and "json" formats, \t and \n written as escapes,
 * rows rendered into a buffer, then (for a table) the header rendered with Docker's header
 * functions and everything aligned by the tabwriter (minwidth 10, padding 3). */
#include <string.h>

#include "base/cleanup.h"
#include "base/xalloc.h"
#include "format/format_internal.h"

/* Format.templateString(): "json" is {{json .}}, "table" is stripped, spaces trimmed, "\t" and
 * "\n" (backslash escapes as typed in a shell) become a tab and a line break */
static char *docker_text(const char *format, bool *table)
{
  *table = strncmp(format, "table", 5) == 0;
  if (strcmp(format, "json") == 0)
    return xstrdup("{{json .}}");
  const char *s = *table ? format + 5 : format;
  while (*s == ' ')
    s++;
  size_t len = strlen(s);
  while (len > 0 && s[len - 1] == ' ')
    len--;
  char *out = xmalloc(len + 1), *o = out;
  for (size_t i = 0; i < len; i++) {
    if (s[i] == '\\' && i + 1 < len && (s[i + 1] == 't' || s[i + 1] == 'n')) {
      *o++ = s[++i] == 't' ? '\t' : '\n';
      continue;
    }
    *o++ = s[i];
  }
  *o = '\0';
  return out;
}

int berth_format_writer_init(struct berth_format_writer *w, const char *format,
                             const struct berth_format_type *type, json_t *header, berth_error_t *err)
{
  memset(w, 0, sizeof *w);
  cleanup_free char *text = docker_text(format, &w->table);
  if (berth_format_parse(text, &w->tmpl, err) < 0)
    return berth_error_wrap(err, "template parsing error");
  w->type = type;
  w->header = header ? json_incref(header) : json_object();
  return 0;
}

int berth_format_writer_add(struct berth_format_writer *w, json_t *row, berth_error_t *err)
{
  return berth_format_writer_add_data(w, row, NULL, err);
}

int berth_format_writer_add_data(struct berth_format_writer *w, json_t *row, void *data, berth_error_t *err)
{
  if (exec_template(w->tmpl, row, w->type, false, data, &w->rows, err) < 0)
    return berth_error_wrap(err, "template parsing error");
  berth_strbuf_putc(&w->rows, '\n');
  return 0;
}

void berth_format_writer_finish(struct berth_format_writer *w, struct berth_strbuf *out)
{
  if (!w->table) {
    if (w->rows.len)
      berth_strbuf_append(out, w->rows.buf, w->rows.len);
    return;
  }
  /* docker ignores the header's errors: what was written before one stays */
  cleanup_strbuf struct berth_strbuf all = BERTH_STRBUF_INIT;
  berth_error_t ignored = NULL;
  if (exec_template(w->tmpl, w->header, NULL, true, NULL, &all, &ignored) < 0)
    berth_error_release(&ignored);
  berth_strbuf_putc(&all, '\n');
  if (w->rows.len)
    berth_strbuf_append(&all, w->rows.buf, w->rows.len);
  berth_format_tabwrite(all.buf, all.len, 10, 3, out);
}

void berth_format_writer_print(struct berth_format_writer *w, FILE *out)
{
  cleanup_strbuf struct berth_strbuf b = BERTH_STRBUF_INIT;
  berth_format_writer_finish(w, &b);
  if (b.len)
    fwrite(b.buf, 1, b.len, out);
}

void berth_format_writer_release(struct berth_format_writer *w)
{
  berth_format_free(w->tmpl);
  w->tmpl = NULL;
  if (w->header)
    json_decref(w->header);
  w->header = NULL;
  berth_strbuf_release(&w->rows);
}

bool berth_format_mentions(const char *format, const char *word) { return strstr(format, word) != NULL; }
