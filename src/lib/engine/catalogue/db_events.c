/* The catalogue's events: what every berth process did, appended in the transaction of the change
 * (or alone), the newest BERTH_DB_EVENTS_KEPT kept; and the watch a follower waits on. */
#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/xalloc.h"
#include "engine/catalogue/db_internal.h"

void berth_db_events_free(struct berth_db_event *v, size_t n)
{
  for (size_t i = 0; v && i < n; i++) {
    free(v[i].type);
    free(v[i].action);
    free(v[i].actor);
    free(v[i].attributes);
  }
  free(v);
}

int berth_db_event_add(struct berth_db *db, int64_t time, const char *type, const char *action,
                       const char *actor, const char *attributes, berth_error_t *err)
{
  if (db_exec(db, err, "INSERT INTO events(time, type, action, actor, attributes) VALUES (?, ?, ?, ?, ?)",
              "issss", time, type, action, actor ? actor : "", attributes ? attributes : "{}") < 0)
    return berth_error_wrap(err, "record event %s %s", type, action);
  int64_t seq = sqlite3_last_insert_rowid(db->h);
  if (seq > BERTH_DB_EVENTS_KEPT &&
      db_exec(db, err, "DELETE FROM events WHERE seq <= ?", "i", seq - BERTH_DB_EVENTS_KEPT) < 0)
    return berth_error_wrap(err, "drop old events");
  return 0;
}

int berth_db_events(struct berth_db *db, int64_t after, int64_t since, size_t limit,
                    struct berth_db_event **out, size_t *n, berth_error_t *err)
{
  cleanup_stmt sqlite3_stmt *st = NULL;
  if (db_prepare(db, &st, err,
                 "SELECT seq, time, type, action, actor, attributes FROM events WHERE seq > ? AND time >= ?"
                 " ORDER BY seq LIMIT ?",
                 "iii", after, since, (int64_t) (limit ? limit : BERTH_DB_EVENTS_KEPT)) < 0)
    return -1;
  struct berth_db_event *v = NULL;
  size_t k = 0;
  int r;
  while ((r = db_step(db, st, err)) > 0) {
    v = xreallocarray(v, k + 1, sizeof *v);
    v[k] = (struct berth_db_event){
      .seq = sqlite3_column_int64(st, 0),
      .time = sqlite3_column_int64(st, 1),
      .type = db_col_strdup(st, 2),
      .action = db_col_strdup(st, 3),
      .actor = db_col_strdup(st, 4),
      .attributes = db_col_strdup(st, 5),
    };
    k++;
  }
  if (r < 0) {
    berth_db_events_free(v, k);
    return -1;
  }
  *out = v ? v : xcalloc(1, sizeof *v);
  *n = k;
  return 0;
}

int berth_db_event_last(struct berth_db *db, int64_t *seq, berth_error_t *err)
{
  return db_query_i64(db, seq, err, "SELECT coalesce(max(seq), 0) FROM events", "");
}

/* The write-ahead log changes with every commit of every process (a checkpoint writes the
 * database file): the directory is watched, so that a log made again after a checkpoint that
 * removed it is seen too. Events that name neither file wake the follower for nothing, rarely. */
int berth_db_watch(struct berth_db *db, berth_error_t *err)
{
  cleanup_close int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0)
    return BERTH_ERR_ERRNO(err, "catalogue `%s`: watch", db->path);
  cleanup_free char *copy = xstrdup(db->path);
  const char *dir = dirname(copy);
  if (inotify_add_watch(fd, dir, IN_MODIFY | IN_CREATE | IN_MOVED_TO) < 0)
    return BERTH_ERR_ERRNO(err, "catalogue `%s`: watch `%s`", db->path, dir);
  return steal_fd(fd);
}

void berth_db_watch_drain(int fd)
{
  char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
  while (read(fd, buf, sizeof buf) > 0 || errno == EINTR)
    ;
}
