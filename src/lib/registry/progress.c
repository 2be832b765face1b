/* Progress in Docker's style: on a terminal one line per layer, redrawn in place
 * ("a1b2c3d4e5f6: Downloading [=====>      ]  12.6MB/45.2MB"); otherwise one plain line per change
 * of state. The renderer is pure (text out of the items' state); berth_progress_flush writes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/fs.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "registry/registry.h"

#define BAR_WIDTH 50

void berth_progress_size(uint64_t n, char out[16])
{
  static const char *const units[] = { "B", "kB", "MB", "GB", "TB", "PB", "EB" };
  double v = (double) n;
  size_t u = 0;
  while (v >= 1000.0 && u + 1 < sizeof units / sizeof units[0]) {
    v /= 1000.0;
    u++;
  }
  snprintf(out, 16, "%.4g%s", v, units[u]);
}

static const char *state_word(const struct berth_progress_item *it, bool push)
{
  switch (it->state) {
  case BERTH_PROGRESS_WAITING: return push ? "Preparing" : "Pulling fs layer";
  case BERTH_PROGRESS_ACTIVE: return push ? "Pushing" : "Downloading";
  case BERTH_PROGRESS_VERIFYING: return "Verifying Checksum";
  case BERTH_PROGRESS_EXTRACTING: return "Extracting";
  case BERTH_PROGRESS_DONE: return push ? "Pushed" : "Pull complete";
  case BERTH_PROGRESS_EXISTS: return push ? "Layer already exists" : "Already exists";
  case BERTH_PROGRESS_MOUNTED: return "Mounted from";
  case BERTH_PROGRESS_RETRYING: return "Retrying";
  case BERTH_PROGRESS_FAILED: return "Failed";
  }
  return "?";
}

static void put_bar(struct berth_strbuf *b, uint64_t done, uint64_t total)
{
  if (total == 0)
    return;
  uint64_t d = done > total ? total : done;
  size_t fill = (size_t) (d * BAR_WIDTH / total);
  berth_strbuf_puts(b, " [");
  for (size_t i = 0; i < BAR_WIDTH; i++)
    berth_strbuf_putc(b, i < fill ? '=' : i == fill ? '>' : ' ');
  char a[16], t[16];
  berth_progress_size(done, a);
  berth_progress_size(total, t);
  berth_strbuf_printf(b, "] %8s/%s", a, t);
}

/* one item's line, without newline */
static void put_line(struct berth_strbuf *b, const struct berth_progress_item *it, bool push, bool bar)
{
  size_t start = b->len;
  char id[sizeof it->id];
  snprintf(id, sizeof id, "%.*s", (int) strnlen(it->id, sizeof it->id - 1), it->id);
  for (char *p = id; *p; p++)
    if ((unsigned char) *p < 0x20 || *p == 0x7f)
      *p = '?';
  berth_strbuf_printf(b, "%s: %s", id, state_word(it, push));
  if (it->note != NULL) {
    berth_strbuf_putc(b, ' ');
    for (const char *p = it->note; *p && b->len - start < 200; p++)
      berth_strbuf_putc(b, (unsigned char) *p < 0x20 || *p == 0x7f ? '?' : *p);
  }
  if (bar && (it->state == BERTH_PROGRESS_ACTIVE || it->state == BERTH_PROGRESS_EXTRACTING))
    put_bar(b, it->done, it->total);
}

static void render_tty(struct berth_strbuf *b, struct berth_progress_view *v,
                       struct berth_progress_item *items, size_t n)
{
  if (v->drawn > 0)
    berth_strbuf_printf(b, "\033[%zuA", v->drawn);
  int width = v->width > 20 ? v->width : 80;
  for (size_t i = 0; i < n; i++) {
    struct berth_strbuf line = BERTH_STRBUF_INIT;
    put_line(&line, &items[i], v->push, true);
    size_t len = line.len < (size_t) width - 1 ? line.len : (size_t) width - 1;
    berth_strbuf_puts(b, "\r\033[2K");
    berth_strbuf_append(b, line.buf, len);
    berth_strbuf_putc(b, '\n');
    berth_strbuf_release(&line);
    items[i].changed = false;
  }
  v->drawn = n;
}

char *berth_progress_render(struct berth_progress_view *v, struct berth_progress_item *items, size_t n)
{
  struct berth_strbuf b = BERTH_STRBUF_INIT;
  berth_strbuf_append(&b, "", 0);
  if (v->tty) {
    render_tty(&b, v, items, n);
    return berth_strbuf_detach(&b);
  }
  for (size_t i = 0; i < n; i++) {
    if (!items[i].changed)
      continue;
    put_line(&b, &items[i], v->push, false);
    berth_strbuf_putc(&b, '\n');
    items[i].changed = false;
  }
  return berth_strbuf_detach(&b);
}

void berth_progress_flush(struct berth_progress *p, bool force)
{
  if (p == NULL || p->fd < 0)
    return;
  int64_t t = berth_mono_ms();
  if (p->view.tty && !force && t - p->last_ms < 100)
    return;
  p->last_ms = t;
  char *s = berth_progress_render(&p->view, p->items, p->n);
  if (s[0] != '\0' && berth_write_all(p->fd, s, strlen(s)) < 0)
    p->fd = -1; /* the terminal went away: stop drawing, keep pulling */
  free(s);
}
