/* docker/cli's tabwriter (Go's text/tabwriter with display widths from go-runewidth), as the
 * CLI sets it up: padding with spaces, no flags. Cells end at '\t' (or '\v'); a column block is
 * a run of lines that have a cell in that column, as wide as its widest cell plus the padding
 * and at least minwidth; a line without tabs ends every block, '\f' too. */
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "format/format_internal.h"

#define ESCAPE '\xff'

struct cell {
  size_t size, width;
  bool htab;
};

struct line {
  struct cell *cells;
  size_t n, cap;
};

struct tw {
  size_t minwidth, padding;
  struct berth_strbuf *out;
  struct berth_strbuf buf; /* the text of the cells, without the tabs and line breaks */
  size_t pos;              /* buf up to here is counted in cell.width */
  struct cell cell;        /* the cell being read */
  bool escaped;
  struct line *lines;
  size_t nlines, caplines;
  size_t *widths;
  size_t nwidths, capwidths;
};

static void add_line(struct tw *t)
{
  if (t->nlines == t->caplines) {
    t->caplines = t->caplines ? t->caplines * 2 : 16;
    t->lines = xreallocarray(t->lines, t->caplines, sizeof *t->lines);
  }
  t->lines[t->nlines++] = (struct line){ NULL, 0, 0 };
}

static void reset(struct tw *t)
{
  for (size_t i = 0; i < t->nlines; i++)
    free(t->lines[i].cells);
  t->nlines = 0;
  t->buf.len = 0;
  t->pos = 0;
  t->cell = (struct cell){ 0, 0, false };
  t->escaped = false;
  add_line(t);
}

static void update_width(struct tw *t)
{
  for (size_t i = t->pos; i < t->buf.len;)
    t->cell.width += (size_t) rune_width(utf8_next(t->buf.buf, t->buf.len, &i));
  t->pos = t->buf.len;
}

static size_t terminate_cell(struct tw *t, bool htab)
{
  struct line *l = &t->lines[t->nlines - 1];
  if (l->n == l->cap) {
    l->cap = l->cap ? l->cap * 2 : 8;
    l->cells = xreallocarray(l->cells, l->cap, sizeof *l->cells);
  }
  t->cell.htab = htab;
  l->cells[l->n++] = t->cell;
  t->cell = (struct cell){ 0, 0, false };
  return l->n;
}

static void padding(struct tw *t, size_t textw, size_t cellw)
{
  for (size_t i = textw; i < cellw; i++)
    berth_strbuf_putc(t->out, ' ');
}

static size_t write_lines(struct tw *t, size_t pos, size_t line0, size_t line1)
{
  for (size_t i = line0; i < line1; i++) {
    const struct line *l = &t->lines[i];
    for (size_t j = 0; j < l->n; j++) {
      const struct cell *c = &l->cells[j];
      if (c->size > 0) {
        berth_strbuf_append(t->out, t->buf.buf + pos, c->size);
        pos += c->size;
      }
      if (j < t->nwidths)
        padding(t, c->width, t->widths[j]);
    }
    if (i + 1 == t->nlines) { /* the last line: what is left, without a line break */
      berth_strbuf_append(t->out, t->buf.buf + pos, t->cell.size);
      pos += t->cell.size;
    } else {
      berth_strbuf_putc(t->out, '\n');
    }
  }
  return pos;
}

static void push_width(struct tw *t, size_t w)
{
  if (t->nwidths == t->capwidths) {
    t->capwidths = t->capwidths ? t->capwidths * 2 : 8;
    t->widths = xreallocarray(t->widths, t->capwidths, sizeof *t->widths);
  }
  t->widths[t->nwidths++] = w;
}

/* Go's Writer.format: the blocks of the next column, recursively */
static size_t format(struct tw *t, size_t pos, size_t line0, size_t line1)
{
  size_t column = t->nwidths;
  for (size_t this = line0; this < line1; this ++) {
    if (column + 1 >= t->lines[this].n)
      continue;
    pos = write_lines(t, pos, line0, this);
    line0 = this;
    size_t width = t->minwidth;
    for (; this < line1; this ++) {
      const struct line *l = &t->lines[this];
      if (column + 1 >= l->n)
        break;
      if (l->cells[column].width + t->padding > width)
        width = l->cells[column].width + t->padding;
    }
    push_width(t, width);
    pos = format(t, pos, line0, this);
    t->nwidths--;
    line0 = this;
  }
  return write_lines(t, pos, line0, line1);
}

static void flush(struct tw *t)
{
  if (t->cell.size > 0) {
    if (t->escaped) {
      update_width(t);
      t->cell.width -= t->cell.width >= 2 ? 2 : t->cell.width;
      t->escaped = false;
    }
    terminate_cell(t, false);
  }
  format(t, 0, 0, t->nlines);
  reset(t);
}

static void append(struct tw *t, const char *s, size_t n)
{
  berth_strbuf_append(&t->buf, s, n);
  t->cell.size += n;
}

static void write_text(struct tw *t, const char *s, size_t len)
{
  size_t n = 0;
  for (size_t i = 0; i < len; i++) {
    char ch = s[i];
    if (t->escaped) {
      if (ch == ESCAPE) {
        append(t, s + n, i + 1 - n);
        n = i + 1;
        update_width(t);
        t->cell.width -= t->cell.width >= 2 ? 2 : t->cell.width; /* the Escape bytes take no room */
        t->escaped = false;
      }
      continue;
    }
    if (ch == '\t' || ch == '\v' || ch == '\n' || ch == '\f') {
      append(t, s + n, i - n);
      update_width(t);
      n = i + 1;
      size_t ncells = terminate_cell(t, ch == '\t');
      if (ch == '\n' || ch == '\f') {
        add_line(t);
        if (ch == '\f' || ncells == 1)
          flush(t);
      }
    } else if (ch == ESCAPE) {
      append(t, s + n, i - n);
      update_width(t);
      n = i;
      t->escaped = true;
    }
  }
  append(t, s + n, len - n);
}

void berth_format_tabwrite(const char *text, size_t len, size_t minwidth, size_t padding,
                           struct berth_strbuf *out)
{
  struct tw t = { .minwidth = minwidth, .padding = padding, .out = out };
  berth_strbuf_append(out, "", 0);
  reset(&t);
  write_text(&t, text, len);
  flush(&t);
  for (size_t i = 0; i < t.nlines; i++)
    free(t.lines[i].cells);
  free(t.lines);
  free(t.widths);
  berth_strbuf_release(&t.buf);
}
