/* Containers: the pure parts — ids, names, the restart policy's decision, ps's STATUS and
 * COMMAND texts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "base/cleanup.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "engine/containers/containers_internal.h"
#include "engine/format.h"

/* Docker's names generator (moby pkg/namesgenerator), a selection */
static const char *const adjectives[] = {
  "admiring",  "adoring",       "affectionate", "agitated",      "amazing",     "angry",       "awesome",
  "beautiful", "blissful",      "bold",         "boring",        "brave",       "busy",        "charming",
  "clever",    "compassionate", "competent",    "condescending", "confident",   "cool",        "cranky",
  "crazy",     "dazzling",      "determined",   "distracted",    "dreamy",      "eager",       "ecstatic",
  "elastic",   "elated",        "elegant",      "eloquent",      "epic",        "exciting",    "fervent",
  "festive",   "flamboyant",    "focused",      "friendly",      "frosty",      "funny",       "gallant",
  "gifted",    "goofy",         "gracious",     "great",         "happy",       "hardcore",    "heuristic",
  "hopeful",   "hungry",        "infallible",   "inspiring",     "intelligent", "interesting", "jolly",
  "jovial",    "keen",          "kind",         "laughing",      "loving",      "lucid",       "magical",
  "modest",    "musing",        "mystifying",   "naughty",       "nervous",     "nice",        "nifty",
  "nostalgic", "objective",     "optimistic",   "peaceful",      "pedantic",    "pensive",     "practical",
  "priceless", "quirky",        "quizzical",    "recursing",     "relaxed",     "reverent",    "romantic",
  "sad",       "serene",        "sharp",        "silly",         "sleepy",      "stoic",       "strange",
  "stupefied", "suspicious",    "sweet",        "tender",        "thirsty",     "trusting",    "unruffled",
  "upbeat",    "vibrant",       "vigilant",     "vigorous",      "wizardly",    "wonderful",   "xenodochial",
  "youthful",  "zealous",       "zen",
};
static const char *const surnames[] = {
  "albattani",    "allen",      "almeida",   "archimedes",    "ardinghelli", "aryabhata",   "austin",
  "babbage",      "banach",     "bardeen",   "bartik",        "bell",        "bhabha",      "bhaskara",
  "blackwell",    "bohr",       "booth",     "borg",          "bose",        "boyd",        "brahmagupta",
  "brattain",     "brown",      "carson",    "chandrasekhar", "colden",      "cori",        "cray",
  "curie",        "darwin",     "davinci",   "dijkstra",      "dubinsky",    "easley",      "einstein",
  "elion",        "engelbart",  "euclid",    "fermat",        "fermi",       "feynman",     "franklin",
  "galileo",      "goldberg",   "goldstine", "goodall",       "hamilton",    "hawking",     "heisenberg",
  "hodgkin",      "hoover",     "hopper",    "hugle",         "hypatia",     "jang",        "jennings",
  "jepsen",       "joliot",     "jones",     "kalam",         "kare",        "keller",      "khorana",
  "kilby",        "kirch",      "knuth",     "kowalevski",    "lalande",     "lamarr",      "leakey",
  "leavitt",      "lichterman", "liskov",    "lovelace",      "lumiere",     "mahavira",    "mayer",
  "mccarthy",     "mcclintock", "mclean",    "mcnulty",       "meitner",     "meninsky",    "mestorf",
  "minsky",       "mirzakhani", "morse",     "murdock",       "newton",      "nobel",       "noether",
  "northcutt",    "noyce",      "panini",    "pare",          "pasteur",     "payne",       "perlman",
  "pike",         "poincare",   "poitras",   "ptolemy",       "raman",       "ramanujan",   "ride",
  "ritchie",      "roentgen",   "rosalind",  "saha",          "sammet",      "shaw",        "shirley",
  "shockley",     "sinoussi",   "snyder",    "spence",        "stallman",    "stonebraker", "swanson",
  "swartz",       "swirles",    "tesla",     "thompson",      "torvalds",    "turing",      "varahamihira",
  "visvesvaraya", "volhard",    "wescoff",   "williams",      "wilson",      "wing",        "wozniak",
  "wright",       "yalow",      "yonath",
};

static uint32_t random_u32(void)
{
  uint32_t v = 0;
  if (getrandom(&v, sizeof v, 0) != (ssize_t) sizeof v)
    berth_oom(); /* cannot happen with the kernel's pool initialized; never silently predictable */
  return v;
}

char *berth_ctr_random_name(unsigned retry)
{
  for (;;) {
    const char *a = adjectives[random_u32() % BERTH_N_ELEMENTS(adjectives)];
    const char *s = surnames[random_u32() % BERTH_N_ELEMENTS(surnames)];
    if (strcmp(a, "boring") == 0 && strcmp(s, "wozniak") == 0) /* Steve Wozniak is not boring */
      continue;
    if (retry > 0)
      return xasprintf("%s_%s%u", a, s, random_u32() % 10);
    return xasprintf("%s_%s", a, s);
  }
}

bool berth_ctr_restart_decide(const struct berth_ctr_restart_state *s, int code, int64_t ran_ms,
                              int64_t *delay_ms)
{
  int64_t d = ran_ms >= 10000 ? 0 : s->delay_ms;
  d = d == 0 ? 100 : d < 60000 ? d * 2 : d;
  if (d > 60000)
    d = 60000;
  *delay_ms = d;
  if (s->manual_stop)
    return false;
  switch (s->policy) {
  case BERTH_RESTART_ALWAYS:
  case BERTH_RESTART_UNLESS_STOPPED: return true;
  case BERTH_RESTART_ON_FAILURE:
    return code != 0 && (s->max_retries == 0 || s->restart_count < s->max_retries);
  case BERTH_RESTART_NO: break;
  }
  return false;
}

static char *ago(int64_t then_ns, int64_t now_ns)
{
  int64_t secs = (now_ns - then_ns) / 1000000000;
  return berth_fmt_duration(secs < 0 ? 0 : secs);
}

char *berth_ctr_status_text(enum berth_ctr_state s, int64_t exit_code, int64_t started_at,
                            int64_t finished_at, int64_t now)
{
  cleanup_free char *up = ago(started_at, now), *down = ago(finished_at, now);
  switch (s) {
  case BERTH_CTR_RUNNING: return xasprintf("Up %s", up);
  case BERTH_CTR_PAUSED: return xasprintf("Up %s (Paused)", up);
  case BERTH_CTR_RESTARTING: return xasprintf("Restarting (%lld) %s ago", (long long) exit_code, down);
  case BERTH_CTR_REMOVING: return xstrdup("Removal In Progress");
  case BERTH_CTR_DEAD: return xstrdup("Dead");
  case BERTH_CTR_CREATED:
  case BERTH_CTR_EXITED: break;
  }
  if (started_at == 0)
    return xstrdup("Created");
  if (finished_at == 0)
    return xstrdup("");
  return xasprintf("Exited (%lld) %s ago", (long long) exit_code, down);
}

/* Go's strconv.Quote for the characters a command holds */
static void quote(struct berth_strbuf *b, const char *s)
{
  berth_strbuf_putc(b, '"');
  for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
    if (*p == '"' || *p == '\\')
      berth_strbuf_printf(b, "\\%c", *p);
    else if (*p == '\n')
      berth_strbuf_puts(b, "\\n");
    else if (*p == '\t')
      berth_strbuf_puts(b, "\\t");
    else if (*p < 0x20 || *p == 0x7f)
      berth_strbuf_printf(b, "\\x%02x", *p);
    else
      berth_strbuf_putc(b, (char) *p);
  }
  berth_strbuf_putc(b, '"');
}

char *berth_ctr_command_text(json_t *config, bool no_trunc)
{
  cleanup_strbuf struct berth_strbuf words = BERTH_STRBUF_INIT;
  const char *keys[] = { "Entrypoint", "Cmd" };
  for (size_t k = 0; k < 2; k++) {
    size_t i;
    json_t *w;
    json_array_foreach (json_object_get(config, keys[k]), i, w) {
      if (words.len)
        berth_strbuf_putc(&words, ' ');
      berth_strbuf_puts(&words, json_is_string(w) ? json_string_value(w) : "");
    }
  }
  cleanup_free char *cut =
    no_trunc ? xstrdup(words.buf ? words.buf : "") : berth_fmt_ellipsis(words.buf ? words.buf : "", 20);
  struct berth_strbuf out = BERTH_STRBUF_INIT;
  quote(&out, cut);
  return berth_strbuf_detach(&out);
}

int64_t ctr_now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void berth_ctr_event(struct berth_engine *e, const struct berth_ctr *c, const char *action,
                     const char *const *extra)
{
  size_t n = 4 + 2 * json_object_size(json_object_get(c->config, "Labels"));
  for (size_t i = 0; extra && extra[i]; i++)
    n++;
  const char **attrs = xcalloc(n + 1, sizeof *attrs);
  size_t k = 0;
  attrs[k++] = "name";
  attrs[k++] = c->row.name ? c->row.name : "";
  attrs[k++] = "image";
  attrs[k++] = c->row.image ? c->row.image : "";
  const char *key;
  json_t *v;
  json_object_foreach (json_object_get(c->config, "Labels"), key, v)
    if (json_is_string(v)) {
      attrs[k++] = key;
      attrs[k++] = json_string_value(v);
    }
  for (size_t i = 0; extra && extra[i] && extra[i + 1]; i += 2) {
    attrs[k++] = extra[i];
    attrs[k++] = extra[i + 1];
  }
  berth_engine_event(e, "container", action, c->row.id, attrs);
  free(attrs);
}

void ctr_event_id(struct berth_engine *e, const char *id, const char *action, const char *const *extra)
{
  struct berth_ctr c;
  berth_error_t err = NULL;
  if (berth_ctr_get(e, id, &c, &err) < 0) {
    berth_error_release(&err);
    return;
  }
  berth_ctr_event(e, &c, action, extra);
  berth_ctr_release(&c);
}
