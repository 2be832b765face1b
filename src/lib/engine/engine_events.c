/* Recording events: every room says what it did through berth_engine_event; the catalogue keeps
 * them (engine/catalogue/catalogue.h), and `berth events` reads and follows them
 * (engine/events/events.h). */
#include <jansson.h>
#include <stdlib.h>
#include <time.h>

#include "base/cleanup.h"
#include "base/log.h"
#include "base/xalloc.h"
#include "engine/engine.h"

int64_t berth_engine_now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void berth_engine_event(struct berth_engine *e, const char *type, const char *action, const char *actor,
                        const char *const *attrs)
{
  if (e == NULL || e->db == NULL)
    return;
  json_t *o = json_object();
  for (size_t i = 0; attrs && attrs[i] && attrs[i + 1]; i += 2)
    json_object_set_new(o, attrs[i], json_string(attrs[i + 1]));
  char *text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
  json_decref(o);
  if (text == NULL)
    berth_oom();
  berth_error_t err = NULL;
  if (berth_db_event_add(e->db, berth_engine_now(), type, action, actor, text, &err) < 0) {
    berth_log_warn("%s", err->msg);
    berth_error_release(&err);
  }
  free(text);
}
