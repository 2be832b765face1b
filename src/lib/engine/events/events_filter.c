/* Events, the pure parts: Docker's message, its line, --filter and --since/--until. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/cleanup.h"
#include "base/strbuf.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/events/events.h"
#include "engine/format.h"

json_t *berth_events_json(const struct berth_db_event *ev)
{
  json_t *attrs = json_loads(ev->attributes ? ev->attributes : "{}", 0, NULL);
  if (!json_is_object(attrs)) {
    json_decref(attrs);
    attrs = json_object();
  }
  json_t *o = json_object();
  if (strcmp(ev->type, "container") == 0) { /* the fields of Docker's API before 1.22 */
    json_object_set_new(o, "status", json_string(ev->action));
    json_object_set_new(o, "id", json_string(ev->actor));
    json_t *image = json_object_get(attrs, "image");
    if (json_is_string(image))
      json_object_set(o, "from", image);
  }
  json_object_set_new(o, "Type", json_string(ev->type));
  json_object_set_new(o, "Action", json_string(ev->action));
  json_object_set_new(o, "Actor", json_pack("{s:s, s:o}", "ID", ev->actor, "Attributes", attrs));
  json_object_set_new(o, "scope", json_string("local"));
  json_object_set_new(o, "time", json_integer(ev->time / 1000000000));
  json_object_set_new(o, "timeNano", json_integer(ev->time));
  return o;
}

static int by_string(const void *a, const void *b)
{
  return strcmp(*(const char *const *) a, *(const char *const *) b);
}

static const char *str(json_t *o, const char *key)
{
  const char *s = json_string_value(json_object_get(o, key));
  return s ? s : "";
}

/* Go's "2006-01-02T15:04:05.000000000Z07:00" in local time */
static void local_time(int64_t ns, char *buf, size_t len)
{
  time_t secs = (time_t) (ns / 1000000000);
  long frac = (long) (ns % 1000000000);
  if (frac < 0) {
    secs--;
    frac += 1000000000;
  }
  struct tm tm;
  localtime_r(&secs, &tm);
  char date[32], zone[40] = "Z";
  strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
  if (tm.tm_gmtoff != 0) {
    long off = tm.tm_gmtoff < 0 ? -tm.tm_gmtoff : tm.tm_gmtoff;
    snprintf(zone, sizeof zone, "%c%02ld:%02ld", tm.tm_gmtoff < 0 ? '-' : '+', off / 3600, off / 60 % 60);
  }
  snprintf(buf, len, "%s.%09ld%s", date, frac, zone);
}

char *berth_events_text(json_t *event)
{
  cleanup_strbuf struct berth_strbuf b = BERTH_STRBUF_INIT;
  char when[64];
  local_time(json_integer_value(json_object_get(event, "timeNano")), when, sizeof when);
  json_t *actor = json_object_get(event, "Actor");
  berth_strbuf_printf(&b, "%s %s %s %s", when, str(event, "Type"), str(event, "Action"), str(actor, "ID"));
  json_t *attrs = json_object_get(actor, "Attributes");
  if (json_object_size(attrs) > 0) {
    /* sorted by key, as Docker's CLI prints them */
    size_t n = json_object_size(attrs), k = 0;
    cleanup_free const char **keys = xcalloc(n, sizeof *keys);
    const char *key;
    json_t *v;
    json_object_foreach (attrs, key, v)
      keys[k++] = key;
    qsort(keys, n, sizeof *keys, by_string);
    berth_strbuf_puts(&b, " (");
    for (size_t i = 0; i < n; i++)
      berth_strbuf_printf(&b, "%s%s=%s", i ? ", " : "", keys[i], str(attrs, keys[i]));
    berth_strbuf_putc(&b, ')');
  }
  return berth_strbuf_detach(&b);
}

/* ---- --filter ---- */

static const char *const filter_keys[] = { "container", "daemon", "event",  "image",  "label",
                                           "network",   "node",   "plugin", "scope",  "type",
                                           "volume",    "config", "secret", "service" };

struct berth_events_filter {
  char **keys; /* parallel: key, value */
  char **values;
};

int berth_events_filter_parse(char *const *filters, struct berth_events_filter **out, berth_error_t *err)
{
  struct berth_events_filter *f = xcalloc(1, sizeof *f);
  f->keys = xcalloc(1, sizeof(char *));
  f->values = xcalloc(1, sizeof(char *));
  for (size_t i = 0; filters && filters[i]; i++) {
    const char *eq = strchr(filters[i], '=');
    bool known = false;
    for (size_t k = 0; eq && k < BERTH_N_ELEMENTS(filter_keys); k++)
      known = known || (strlen(filter_keys[k]) == (size_t) (eq - filters[i]) &&
                        strncmp(filter_keys[k], filters[i], (size_t) (eq - filters[i])) == 0);
    if (eq == NULL) {
      berth_events_filter_free(f);
      return BERTH_ERR(err, "bad format of filter (expected name=value): `%s`", filters[i]);
    }
    if (!known) {
      berth_events_filter_free(f);
      return BERTH_ERR(err, "invalid filter `%.*s`", (int) (eq - filters[i]), filters[i]);
    }
    cleanup_free char *key = xstrndup(filters[i], (size_t) (eq - filters[i]));
    f->keys = berth_strv_append(f->keys, key);
    f->values = berth_strv_append(f->values, eq + 1);
  }
  *out = f;
  return 0;
}

void berth_events_filter_free(struct berth_events_filter *f)
{
  if (f == NULL)
    return;
  berth_strv_free(f->keys);
  berth_strv_free(f->values);
  free(f);
}

enum match { EXACT, PREFIX };

static bool has_key(const struct berth_events_filter *f, const char *key)
{
  for (size_t i = 0; f->keys[i]; i++)
    if (strcmp(f->keys[i], key) == 0)
      return true;
  return false;
}

/* true when the key is absent, or one of its values matches s */
static bool key_matches(const struct berth_events_filter *f, const char *key, const char *s, enum match m)
{
  for (size_t i = 0; f->keys[i]; i++)
    if (strcmp(f->keys[i], key) == 0 && s && *s &&
        (strcmp(f->values[i], s) == 0 ||
         (m == PREFIX && strncmp(s, f->values[i], strlen(f->values[i])) == 0)))
      return true;
  return false;
}

/* container=, volume=, network=: the actor of that type by id (or its prefix) or name */
static bool match_object(const struct berth_events_filter *f, const char *key, const char *type, json_t *ev)
{
  if (!has_key(f, key))
    return true;
  if (strcmp(str(ev, "Type"), type) != 0)
    return false;
  json_t *actor = json_object_get(ev, "Actor");
  return key_matches(f, key, str(actor, "ID"), PREFIX) ||
         key_matches(f, key, str(json_object_get(actor, "Attributes"), "name"), PREFIX);
}

/* "busybox" matches "busybox:latest" as Docker's reference.FamiliarName comparison does */
static bool image_name_matches(const struct berth_events_filter *f, const char *name)
{
  if (key_matches(f, "image", name, EXACT))
    return true;
  const char *colon = strrchr(name, ':');
  if (colon == NULL || strchr(colon, '/') != NULL)
    return false;
  cleanup_free char *bare = xstrndup(name, (size_t) (colon - name));
  return key_matches(f, "image", bare, EXACT);
}

static bool match_image(const struct berth_events_filter *f, json_t *ev)
{
  if (!has_key(f, "image"))
    return true;
  json_t *actor = json_object_get(ev, "Actor"), *attrs = json_object_get(actor, "Attributes");
  if (strcmp(str(ev, "Type"), "image") == 0)
    return key_matches(f, "image", str(actor, "ID"), PREFIX) || image_name_matches(f, str(attrs, "name"));
  return image_name_matches(f, str(attrs, "image"));
}

static bool match_event(const struct berth_events_filter *f, json_t *ev)
{
  if (!has_key(f, "event"))
    return true;
  const char *action = str(ev, "Action");
  if (key_matches(f, "event", action, EXACT))
    return true;
  const char *colon = strchr(action, ':');
  cleanup_free char *head = colon ? xstrndup(action, (size_t) (colon - action)) : NULL;
  return head && key_matches(f, "event", head, EXACT);
}

static bool match_labels(const struct berth_events_filter *f, json_t *ev)
{
  if (!has_key(f, "label"))
    return true;
  json_t *attrs = json_object_get(json_object_get(ev, "Actor"), "Attributes");
  for (size_t i = 0; f->keys[i]; i++) {
    if (strcmp(f->keys[i], "label") != 0)
      continue;
    const char *eq = strchr(f->values[i], '=');
    cleanup_free char *key =
      eq ? xstrndup(f->values[i], (size_t) (eq - f->values[i])) : xstrdup(f->values[i]);
    json_t *v = json_object_get(attrs, key);
    if (!json_is_string(v) || (eq && strcmp(json_string_value(v), eq + 1) != 0))
      return false; /* every label filter must hold (Docker) */
  }
  return true;
}

/* the keys Docker knows but berth has no events for: given, they match nothing */
static bool match_foreign(const struct berth_events_filter *f)
{
  static const char *const none[] = { "daemon", "node", "plugin", "config", "secret", "service" };
  for (size_t i = 0; i < BERTH_N_ELEMENTS(none); i++)
    if (has_key(f, none[i]))
      return false;
  return !has_key(f, "scope") || key_matches(f, "scope", "local", EXACT);
}

bool berth_events_filter_match(const struct berth_events_filter *f, json_t *ev)
{
  if (f == NULL)
    return true;
  return match_foreign(f) && (!has_key(f, "type") || key_matches(f, "type", str(ev, "Type"), EXACT)) &&
         match_event(f, ev) && match_object(f, "container", "container", ev) &&
         match_object(f, "volume", "volume", ev) && match_object(f, "network", "network", ev) &&
         match_image(f, ev) && match_labels(f, ev);
}

/* ---- --since / --until ---- */

static int parse_duration(const char *s, int64_t *out)
{
  int64_t total = 0;
  if (*s == '\0')
    return -1;
  for (const char *p = s; *p;) {
    char *end = NULL;
    if (!isdigit((unsigned char) *p) && *p != '.')
      return -1;
    double v = strtod(p, &end);
    if (end == p)
      return -1;
    int64_t unit = end[0] == 'h'                    ? 3600000000000LL
                   : end[0] == 'm' && end[1] == 's' ? 1000000LL
                   : end[0] == 'm'                  ? 60000000000LL
                   : end[0] == 's'                  ? 1000000000LL
                   : end[0] == 'u' && end[1] == 's' ? 1000LL
                   : end[0] == 'n' && end[1] == 's' ? 1LL
                                                    : 0;
    if (unit == 0)
      return -1;
    total += (int64_t) (v * (double) unit);
    p = end + (unit == 1000000LL || unit == 1000LL || unit == 1LL ? 2 : 1);
  }
  *out = total;
  return 0;
}

int berth_events_parse_time(const char *s, int64_t now, int64_t *unix_nanos)
{
  if (s == NULL || *s == '\0')
    return -1;
  if (berth_parse_rfc3339(s, unix_nanos) == 0)
    return 0;
  char *end = NULL;
  if (isdigit((unsigned char) s[0])) {
    double secs = strtod(s, &end);
    if (end != s && *end == '\0') {
      *unix_nanos = (int64_t) (secs * 1e9);
      return 0;
    }
  }
  int64_t back = 0;
  if (parse_duration(s, &back) < 0)
    return -1;
  *unix_nanos = now - back;
  return 0;
}
