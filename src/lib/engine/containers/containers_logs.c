/* Containers: reading the log (oldest rotated file first), --tail, --since/--until, and following
 * it while the container's monitor lives (rotation seen by the inode changing under the name). */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/xalloc.h"
#include "engine/containers/containers_internal.h"

#define FOLLOW_POLL_MS 100

struct reader {
  const struct berth_ctr_logs_opts *o;
  berth_ctr_log_sink sink;
  void *data;
  bool initial; /* reading what was there when logs started (--tail applies) */
  char **ring;  /* --tail: the last o->tail lines */
  size_t head, count;
  int sink_status;
};

static void emit(struct reader *r, const char *line, size_t len)
{
  struct berth_log_record rec;
  if (r->sink_status < 0 || berth_log_parse_record(line, len, &rec) < 0)
    return;
  if ((r->o->since && rec.time < r->o->since) || (r->o->until && rec.time > r->o->until))
    return;
  if (r->sink(r->data, &rec) < 0)
    r->sink_status = -1;
}

static void take(struct reader *r, const char *line, size_t len)
{
  if (!r->initial || r->o->tail < 0) {
    emit(r, line, len);
    return;
  }
  if (r->o->tail == 0)
    return;
  size_t cap = (size_t) r->o->tail;
  size_t slot = (r->head + r->count) % cap;
  if (r->count == cap) {
    free(r->ring[r->head]);
    r->head = (r->head + 1) % cap;
    r->count--;
  }
  r->ring[slot] = xstrndup(line, len);
  r->count++;
}

static void flush_ring(struct reader *r)
{
  size_t cap = r->o->tail > 0 ? (size_t) r->o->tail : 1;
  for (; r->count > 0; r->count--, r->head = (r->head + 1) % cap) {
    emit(r, r->ring[r->head], strlen(r->ring[r->head]));
    free(r->ring[r->head]);
  }
  free(r->ring);
  r->ring = NULL;
}

/* lines of f to its end; a last line without its newline (being written) is left for later */
static void read_lines(struct reader *r, FILE *f, bool following)
{
  cleanup_free char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  while ((n = getline(&line, &cap, f)) > 0) {
    if (line[n - 1] != '\n' && following) {
      fseeko(f, -n, SEEK_CUR);
      break;
    }
    take(r, line, (size_t) (line[n - 1] == '\n' ? n - 1 : n));
  }
  clearerr(f);
}

static bool same_file(FILE *f, const char *path)
{
  struct stat a, b;
  return fstat(fileno(f), &a) == 0 && stat(path, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

static void follow(struct reader *r, FILE **f, const char *path, const struct berth_db_container *row)
{
  cleanup_close int pfd = pidfd_open((pid_t) row->monitor_pid, 0);
  bool alive = pfd >= 0 && berth_ctr_monitor_alive(row);
  while (r->sink_status == 0) {
    read_lines(r, *f, true);
    if (!same_file(*f, path)) { /* rotated: the rest of the old file, then the new one */
      read_lines(r, *f, false);
      FILE *nf = fopen(path, "re");
      if (nf) {
        fclose(*f);
        *f = nf;
        continue;
      }
    }
    if (!alive)
      break;
    struct pollfd p = { .fd = pfd, .events = POLLIN };
    if (poll(&p, 1, FOLLOW_POLL_MS) > 0)
      alive = false; /* the monitor ended: one last read */
  }
}

int berth_ctr_logs(struct berth_engine *e, const char *what, const struct berth_ctr_logs_opts *o,
                   berth_ctr_log_sink sink, void *data, berth_error_t *err)
{
  struct berth_ctr c;
  if (berth_ctr_get(e, what, &c, err) < 0)
    return -1;
  const char *driver =
    json_string_value(json_object_get(json_object_get(c.host_config, "LogConfig"), "Type"));
  if (driver && strcmp(driver, "none") == 0) {
    berth_ctr_release(&c);
    return BERTH_ERR(err, "configured logging driver does not support reading");
  }
  cleanup_free char *path = berth_ctr_log_path(e, c.row.id);
  json_int_t files =
    json_integer_value(json_object_get(json_object_get(c.host_config, "BerthLog"), "MaxFile"));
  struct reader r = { .o = o, .sink = sink, .data = data, .initial = true };
  if (o->tail > 0)
    r.ring = xcalloc((size_t) o->tail, sizeof *r.ring);
  FILE *cur = NULL;
  for (json_int_t i = files > 1 ? files - 1 : 0; i >= 0; i--) {
    char p[4200];
    berth_log_rotated_path(path, (unsigned) i, p, sizeof p);
    FILE *f = fopen(p, "re");
    if (f == NULL)
      continue;
    read_lines(&r, f, false);
    if (i == 0)
      cur = f;
    else
      fclose(f);
  }
  flush_ring(&r);
  r.initial = false;
  bool running = berth_ctr_state_kept(c.state);
  if (o->follow && running && cur == NULL)
    cur = fopen(path, "re");
  if (o->follow && running && cur)
    follow(&r, &cur, path, &c.row);
  if (cur)
    fclose(cur);
  berth_ctr_release(&c);
  return r.sink_status < 0 ? BERTH_ERR_ERRNO(err, "write logs") : 0;
}
