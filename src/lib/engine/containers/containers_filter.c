/* `ps --filter`: Docker's keys status, name, label, ancestor, id, exited, before, since, volume
 * and health; pure but for berth_ctr_filter_resolve, which reads what before/since/volume name. */
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/containers/containers_internal.h"

struct berth_ctr_filter {
  char **status;
  regex_t *names;
  size_t nnames;
  char **labels; /* "key" or "key=value" */
  char **ancestors;
  char **ids;
  int *exited;
  size_t nexited;
  char *before, *since; /* a container's name or id */
  char **volumes;       /* a volume's name or a mount's destination */
  char **health;        /* starting, healthy, unhealthy, none */
  /* berth_ctr_filter_resolve's: created times of before/since, ids of the volumes' users */
  bool resolved;
  int64_t before_created, since_created;
  char **volume_users;
};

void berth_ctr_filter_free(struct berth_ctr_filter *f)
{
  if (f == NULL)
    return;
  berth_strv_free(f->status);
  for (size_t i = 0; i < f->nnames; i++)
    regfree(&f->names[i]);
  free(f->names);
  berth_strv_free(f->labels);
  berth_strv_free(f->ancestors);
  berth_strv_free(f->ids);
  free(f->exited);
  free(f->before);
  free(f->since);
  berth_strv_free(f->volumes);
  berth_strv_free(f->health);
  berth_strv_free(f->volume_users);
  free(f);
}

static BERTH_WUR int add_name(struct berth_ctr_filter *f, const char *re, berth_error_t *err)
{
  f->names = xreallocarray(f->names, f->nnames + 1, sizeof *f->names);
  int rc = regcomp(&f->names[f->nnames], re, REG_EXTENDED | REG_NOSUB);
  if (rc != 0) {
    char msg[256];
    regerror(rc, &f->names[f->nnames], msg, sizeof msg);
    return BERTH_ERR(err, "invalid filter `name=%s`: %s", re, msg);
  }
  f->nnames++;
  return 0;
}

static BERTH_WUR int add_one(struct berth_ctr_filter *f, const char *key, const char *value,
                             berth_error_t *err)
{
  if (strcmp(key, "status") == 0) {
    if (berth_ctr_state_parse(value) < 0)
      return BERTH_ERR(err,
                       "invalid filter `status=%s`: expected created, restarting, running, removing, "
                       "paused, exited or dead",
                       value);
    f->status = berth_strv_append(f->status, value);
  } else if (strcmp(key, "name") == 0) {
    return add_name(f, value, err);
  } else if (strcmp(key, "label") == 0) {
    f->labels = berth_strv_append(f->labels, value);
  } else if (strcmp(key, "ancestor") == 0) {
    f->ancestors = berth_strv_append(f->ancestors, value);
  } else if (strcmp(key, "id") == 0) {
    f->ids = berth_strv_append(f->ids, value);
  } else if (strcmp(key, "exited") == 0) {
    int code;
    if (berth_parse_int(value, &code) < 0)
      return BERTH_ERR(err, "invalid filter `exited=%s`: expected an integer", value);
    f->exited = xreallocarray(f->exited, f->nexited + 1, sizeof *f->exited);
    f->exited[f->nexited++] = code;
  } else if (strcmp(key, "before") == 0 || strcmp(key, "since") == 0) {
    char **slot = key[0] == 'b' ? &f->before : &f->since;
    free(*slot);
    *slot = xstrdup(value);
  } else if (strcmp(key, "volume") == 0) {
    f->volumes = berth_strv_append(f->volumes, value);
  } else if (strcmp(key, "health") == 0) {
    if (strcmp(value, "starting") != 0 && strcmp(value, "healthy") != 0 && strcmp(value, "unhealthy") != 0 &&
        strcmp(value, "none") != 0)
      return BERTH_ERR(err, "invalid filter `health=%s`: expected starting, healthy, unhealthy or none",
                       value);
    f->health = berth_strv_append(f->health, value);
  } else {
    return BERTH_ERR(
      err,
      "invalid filter `%s` (supported: status, name, label, ancestor, id, exited, before, since, "
      "volume, health)",
      key);
  }
  return 0;
}

int berth_ctr_filter_parse(char *const *filters, struct berth_ctr_filter **out, berth_error_t *err)
{
  struct berth_ctr_filter *f = xmalloc0(sizeof *f);
  for (size_t i = 0; filters && filters[i]; i++) {
    const char *eq = strchr(filters[i], '=');
    if (eq == NULL || eq == filters[i]) {
      berth_ctr_filter_free(f);
      return BERTH_ERR(err, "bad format of filter `%s` (expected name=value)", filters[i]);
    }
    cleanup_free char *key = xstrndup(filters[i], (size_t) (eq - filters[i]));
    if (add_one(f, key, eq + 1, err) < 0) {
      berth_ctr_filter_free(f);
      return -1;
    }
  }
  *out = f;
  return 0;
}

const char *const *berth_ctr_filter_ancestors(const struct berth_ctr_filter *f)
{
  return (const char *const *) f->ancestors;
}

static bool in(char *const *v, const char *s)
{
  for (size_t i = 0; v && v[i]; i++)
    if (strcmp(v[i], s) == 0)
      return true;
  return false;
}

static bool label_match(json_t *labels, const char *want)
{
  const char *eq = strchr(want, '=');
  cleanup_free char *key = eq ? xstrndup(want, (size_t) (eq - want)) : xstrdup(want);
  json_t *v = json_object_get(labels, key);
  if (!json_is_string(v))
    return false;
  return eq == NULL || strcmp(json_string_value(v), eq + 1) == 0;
}

static bool names_match(const struct berth_ctr_filter *f, const char *name)
{
  if (f->nnames == 0)
    return true;
  cleanup_free char *slashed = xasprintf("/%s", name);
  for (size_t i = 0; i < f->nnames; i++)
    if (regexec(&f->names[i], name, 0, NULL, 0) == 0 || regexec(&f->names[i], slashed, 0, NULL, 0) == 0)
      return true;
  return false;
}

static bool ids_match(const struct berth_ctr_filter *f, const char *id)
{
  if (f->ids == NULL)
    return true;
  for (size_t i = 0; f->ids[i]; i++)
    if (berth_str_has_prefix(id, f->ids[i]))
      return true;
  return false;
}

static bool exited_match(const struct berth_ctr_filter *f, const struct berth_ctr *c)
{
  if (f->nexited == 0)
    return true;
  for (size_t i = 0; i < f->nexited; i++)
    if (c->state == BERTH_CTR_EXITED && c->row.exit_code == f->exited[i])
      return true;
  return false;
}

static bool ancestors_match(const struct berth_ctr_filter *f, char *const *chain, char *const *ancestor_ids)
{
  if (f->ancestors == NULL)
    return true;
  for (size_t i = 0; ancestor_ids && ancestor_ids[i]; i++)
    if (in(chain, ancestor_ids[i]))
      return true;
  return false;
}

int berth_ctr_filter_resolve(struct berth_engine *e, struct berth_ctr_filter *f, berth_error_t *err)
{
  const char *bounds[2] = { f->before, f->since };
  int64_t *created[2] = { &f->before_created, &f->since_created };
  for (int i = 0; i < 2; i++) {
    struct berth_ctr c;
    if (bounds[i] == NULL)
      continue;
    if (berth_ctr_get(e, bounds[i], &c, err) < 0)
      return berth_error_wrap(err, "filter `%s=%s`", i ? "since" : "before", bounds[i]);
    *created[i] = c.row.created;
    berth_ctr_release(&c);
  }
  struct berth_db_container *rows = NULL;
  size_t n = 0;
  if (f->volumes && berth_db_container_list(e->db, &rows, &n, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++) {
    struct berth_db_mount *m = NULL;
    size_t nm = 0;
    if (berth_db_container_mounts(e->db, rows[i].id, &m, &nm, err) < 0) {
      berth_db_container_list_free(rows, n);
      return -1;
    }
    bool hit = false;
    for (size_t k = 0; k < nm && !hit; k++)
      hit = in(f->volumes, m[k].destination) || (m[k].volume[0] && in(f->volumes, m[k].volume)) ||
            (strcmp(m[k].type, "bind") == 0 && in(f->volumes, m[k].source));
    berth_db_mounts_free(m, nm);
    if (hit)
      f->volume_users = berth_strv_append(f->volume_users, rows[i].id);
  }
  berth_db_container_list_free(rows, n);
  f->resolved = true;
  return 0;
}

/* the health status as ps shows it: "none" without a healthcheck */
static const char *health_of(const struct berth_ctr *c)
{
  const char *h = json_string_value(json_object_get(c->health, "Status"));
  return h ? h : "none";
}

static bool more_match(const struct berth_ctr_filter *f, const struct berth_ctr *c)
{
  if (f->resolved && f->before && c->row.created >= f->before_created)
    return false;
  if (f->resolved && f->since && c->row.created <= f->since_created)
    return false;
  if (f->resolved && f->volumes && !in(f->volume_users, c->row.id))
    return false;
  return f->health == NULL || in(f->health, health_of(c));
}

bool berth_ctr_filter_match(const struct berth_ctr_filter *f, const struct berth_ctr *c,
                            char *const *image_chain, char *const *ancestor_ids)
{
  if (!more_match(f, c))
    return false;
  if (f->status && !in(f->status, berth_ctr_state_name(c->state)))
    return false;
  json_t *labels = json_object_get(c->config, "Labels");
  for (size_t i = 0; f->labels && f->labels[i]; i++) /* labels: every one must match (Docker) */
    if (!label_match(labels, f->labels[i]))
      return false;
  return names_match(f, c->row.name) && ids_match(f, c->row.id) && exited_match(f, c) &&
         ancestors_match(f, image_chain, ancestor_ids);
}

bool berth_ctr_filter_implies_all(const struct berth_ctr_filter *f)
{
  return f->status != NULL || f->nexited > 0;
}
