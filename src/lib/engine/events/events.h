/* Events (issue 16; docs/design/events.md): what every berth process did, as Docker's
 * `events` shows it. The rooms record them (berth_engine_event, engine.h) into the catalogue;
 * this room reads them back, filters them and follows new ones as any process commits them —
 * waiting on an inotify watch of the catalogue's files (berth_db_watch), never polling. */
#ifndef BERTH_ENGINE_EVENTS_EVENTS_H
#define BERTH_ENGINE_EVENTS_EVENTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"
#include "engine/catalogue/catalogue.h"
#include "engine/engine.h"

/* ---- pure parts (unit tested) ---- */
/* Docker's event message: {"status","id","from" (containers), "Type","Action","Actor":{"ID",
 * "Attributes"},"scope":"local","time","timeNano"} (new reference) */
json_t *berth_events_json(const struct berth_db_event *ev);
/* the default line: "<RFC 3339 local time, nanoseconds> <type> <action> <id> (k=v, k2=v2)" */
char *berth_events_text(json_t *event);

/* --filter of events: container=, image=, volume=, network= (an id or name; containers,
 * volumes and networks also by prefix), event= (an action; "health_status" matches every
 * "health_status: ..."), type=, label=k[=v], scope=local; daemon=, node=, plugin=, config=,
 * secret=, service= are Docker's too and match nothing here. One key several times: any of
 * them; different keys: all. */
struct berth_events_filter;
int berth_events_filter_parse(char *const *filters, struct berth_events_filter **out,
                              berth_error_t *err) BERTH_WUR;
void berth_events_filter_free(struct berth_events_filter *f);
bool berth_events_filter_match(const struct berth_events_filter *f, json_t *event);
static inline void berth_events_filter_cleanup(struct berth_events_filter **f)
{
  berth_events_filter_free(*f);
}
#define cleanup_events_filter __attribute__((cleanup(berth_events_filter_cleanup)))

/* --since/--until: RFC 3339, unix seconds (with a fraction) or a duration back from now (10m,
 * 1h30m); -1 when it is none of them */
int berth_events_parse_time(const char *s, int64_t now, int64_t *unix_nanos);

/* ---- reading and following ---- */
struct berth_events_opts {
  int64_t since; /* unix ns; 0: only what happens from now on */
  int64_t until; /* unix ns; 0: follow until the sink stops it */
  const struct berth_events_filter *filter;
};
/* one event (Docker's message, borrowed); < 0 stops the stream (its error is the sink's own) */
typedef int (*berth_events_sink)(void *data, json_t *event);
/* The recorded events from since, then the new ones as they are recorded, until `until`
 * passes (at once when it is in the past): 0. The sink stopped it: 1. */
int berth_events_stream(struct berth_engine *e, const struct berth_events_opts *o, berth_events_sink sink,
                        void *data, berth_error_t *err) BERTH_WUR;

#endif
