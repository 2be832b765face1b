/* Events: the recorded ones, then the new ones as any berth process commits them. The watch is
 * set before the first read, so that nothing committed in between is missed; the loop sleeps in
 * poll(2) on it (until --until, or for ever, looking again at least every second) and reads the
 * rows after the last one seen. With
 * neither --since nor --until only new events are shown; with either, the recorded ones too
 * (Docker). */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "engine/events/events.h"

/* hand the rows after *seq (and from since) to the sink, filtered; 1 when `until` was passed,
 * 2 when the sink stopped */
static BERTH_WUR int deliver(struct berth_engine *e, const struct berth_events_opts *o, int64_t *seq,
                             berth_events_sink sink, void *data, berth_error_t *err)
{
  for (;;) {
    struct berth_db_event *v = NULL;
    size_t n = 0;
    if (berth_db_events(e->db, *seq, o->since, 512, &v, &n, err) < 0)
      return -1;
    int r = 0;
    for (size_t i = 0; i < n && r == 0; i++) {
      *seq = v[i].seq;
      if (o->until && v[i].time > o->until) {
        r = 1;
        break;
      }
      json_t *ev = berth_events_json(&v[i]);
      if (berth_events_filter_match(o->filter, ev) && sink(data, ev) < 0)
        r = 2;
      json_decref(ev);
    }
    berth_db_events_free(v, n);
    if (r != 0 || n < 512)
      return r;
  }
}

int berth_events_stream(struct berth_engine *e, const struct berth_events_opts *o, berth_events_sink sink,
                        void *data, berth_error_t *err)
{
  int64_t now = berth_engine_now();
  bool follow = o->until == 0 || o->until > now;
  cleanup_close int watch = follow ? berth_db_watch(e->db, err) : -1;
  if (follow && watch < 0)
    return -1;
  int64_t seq = 0;
  if (o->since == 0 && o->until == 0 && berth_db_event_last(e->db, &seq, err) < 0)
    return -1;
  bool woke = false;
  for (;;) {
    int64_t before = seq;
    int r = deliver(e, o, &seq, sink, data, err);
    if (r < 0 || r == 2)
      return r < 0 ? -1 : 1;
    if (r == 1 || !follow)
      return 0;
    now = berth_engine_now();
    if (o->until && now >= o->until)
      return 0;
    /* The watch wakes us at the write of the WAL, but a commit becomes visible only when the
     * writer updates the WAL index, which is a shared mapping that no watch sees: a wake that
     * found nothing new looks again soon, and no sleep lasts more than a second. */
    int timeout = woke && seq == before ? 50 : 1000;
    if (o->until) {
      int64_t ms = (o->until - now) / 1000000 + 1;
      if (ms < timeout)
        timeout = (int) ms;
    }
    struct pollfd p = { .fd = watch, .events = POLLIN };
    int pr = poll(&p, 1, timeout);
    if (pr < 0 && errno != EINTR)
      return BERTH_ERR_ERRNO(err, "wait for events");
    woke = pr > 0;
    if (woke)
      berth_db_watch_drain(watch);
  }
}
