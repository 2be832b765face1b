/* Volumes: create, inspect, rm, prune and ls's filters (volumes.h). */
#include "engine/volumes/volumes.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/privdir.h"
#include "base/strbuf.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/format.h"

static json_t *labels_json(char *const *labels)
{
  json_t *o = json_object();
  for (size_t i = 0; labels && labels[i]; i++) {
    const char *eq = strchr(labels[i], '=');
    cleanup_free char *k = eq ? xstrndup(labels[i], (size_t) (eq - labels[i])) : xstrdup(labels[i]);
    json_object_set_new(o, k, json_string(eq ? eq + 1 : ""));
  }
  return o;
}

int berth_volume_make_dir(struct berth_engine *e, const char *name, char **mountpoint, bool *made, int *lock,
                          berth_error_t *err)
{
  cleanup_free char *dir = xasprintf("%s/volumes/%s", e->root, name);
  cleanup_free char *parent = xasprintf("%s/volumes", e->root);
  if (lock)
    *lock = -1;
  if (berth_privdir_ensure(parent, 0700, err) < 0)
    return -1;
  *made = mkdir(dir, 0700) == 0;
  if (!*made && errno != EEXIST)
    return BERTH_ERR_ERRNO(err, "create `%s`", dir);
  if (lock)
    *lock = berth_dir_flock_shared(dir);
  *mountpoint = xasprintf("%s/_data", dir);
  if (berth_mkdir_p(*mountpoint, 0755, err) < 0) {
    free(steal_ptr(*mountpoint));
    if (lock && *lock >= 0)
      close(steal_fd(*lock));
    return -1;
  }
  return 0;
}

static BERTH_WUR int put_row(struct berth_engine *e, const char *name, const char *labels, berth_error_t *err)
{
  cleanup_free char *mountpoint = xasprintf("%s/volumes/%s/_data", e->root, name);
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  return berth_db_volume_put(e->db, name, now.tv_sec, labels, mountpoint, err);
}

int berth_volume_put_row(struct berth_engine *e, const char *name, bool anonymous, berth_error_t *err)
{
  char *const anon[] = { BERTH_VOLUME_ANONYMOUS_LABEL, NULL };
  json_t *labels = labels_json(anonymous ? anon : NULL);
  cleanup_free char *text = json_dumps(labels, JSON_COMPACT | JSON_SORT_KEYS);
  json_decref(labels);
  return put_row(e, name, text, err);
}

/* the row of a new volume (its directory made first); 1 made, 0 it existed */
static BERTH_WUR int add_volume(struct berth_engine *e, const char *name, const char *labels,
                                berth_error_t *err)
{
  cleanup_free char *mountpoint = NULL;
  bool made_dir;
  if (berth_volume_make_dir(e, name, &mountpoint, &made_dir, NULL, err) < 0 || berth_db_begin(e->db, err) < 0)
    return -1;
  int r = put_row(e, name, labels, err);
  if (r < 0 || berth_db_commit(e->db, err) < 0) {
    berth_db_rollback(e->db);
    cleanup_free char *dir = xasprintf("%s/volumes/%s", e->root, name);
    berth_ignore(made_dir && berth_rm_rf(dir, BERTH_IGNORED));
    return -1;
  }
  return r;
}

int berth_volume_name_check(const char *name, berth_error_t *err)
{
  if (!berth_engine_name_valid(name) || name[0] == '/')
    return BERTH_ERR(
      err, "volume name `%s` includes invalid characters; only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", name);
  return 0;
}

int berth_volume_create(struct berth_engine *e, const struct berth_volume_create_in *in, char **name_out,
                        berth_error_t *err)
{
  berth_ctr_id_t random;
  const char *name = in->name;
  if (in->driver && *in->driver && strcmp(in->driver, "local") != 0)
    return BERTH_ERR(err, "volume driver `%s` is not supported (only `local`)", in->driver);
  if (in->opts && in->opts[0])
    return BERTH_ERR(err, "the local driver takes no options here: `%s`", in->opts[0]);
  if (name == NULL) {
    berth_engine_new_id(random);
    name = random;
  } else if (berth_volume_name_check(name, err) < 0) {
    return -1;
  }
  json_t *labels = labels_json(in->labels);
  cleanup_free char *text = json_dumps(labels, JSON_COMPACT | JSON_SORT_KEYS);
  json_decref(labels);
  if (add_volume(e, name, text, err) < 0)
    return berth_error_wrap(err, "create volume `%s`", name);
  *name_out = xstrdup(name);
  const char *attrs[] = { "driver", "local", NULL };
  berth_engine_event(e, "volume", "create", name, attrs);
  return 0;
}

static json_t *object_or_empty(const char *text)
{
  json_t *v = text ? json_loads(text, 0, NULL) : NULL;
  if (!json_is_object(v)) {
    json_decref(v);
    v = json_object();
  }
  return v;
}

json_t *berth_volume_json(const struct berth_db_volume *v)
{
  cleanup_free char *created = berth_fmt_rfc3339(v->created * 1000000000);
  return json_pack("{s:s, s:s, s:o, s:s, s:s, s:o, s:s}", "CreatedAt", created, "Driver", v->driver, "Labels",
                   object_or_empty(v->labels), "Mountpoint", v->mountpoint, "Name", v->name, "Options",
                   object_or_empty(v->options), "Scope", "local");
}

int berth_volume_get(struct berth_engine *e, const char *name, struct berth_db_volume *out,
                     berth_error_t *err)
{
  int r = berth_db_volume_find(e->db, name, out, err);
  if (r == 0)
    return BERTH_ERR(err, "no such volume: `%s`", name);
  return r < 0 ? -1 : 0;
}

static BERTH_WUR int in_use(struct berth_engine *e, const char *name, berth_error_t *err)
{
  cleanup_strv char **ids = NULL;
  if (berth_db_volume_user_ids(e->db, name, &ids, err) < 0)
    return -1;
  cleanup_strbuf struct berth_strbuf b = BERTH_STRBUF_INIT;
  for (size_t i = 0; ids[i]; i++)
    berth_strbuf_printf(&b, "%s%s", i ? ", " : "", ids[i]);
  return BERTH_ERR(err, "volume is in use - [%s]", b.buf ? b.buf : "");
}

/* delete the row when nobody uses the volume: 1 deleted, 0 absent */
static BERTH_WUR int delete_row(struct berth_engine *e, const char *name, berth_error_t *err)
{
  int64_t users = 0;
  if (berth_db_begin(e->db, err) < 0)
    return -1;
  int r = berth_db_volume_users(e->db, name, &users, err);
  if (r == 0 && users > 0)
    r = in_use(e, name, err);
  if (r == 0)
    r = berth_db_volume_delete(e->db, name, err);
  if (r < 0 || berth_db_commit(e->db, err) < 0) {
    berth_db_rollback(e->db);
    return -1;
  }
  return r;
}

static void remove_dir(struct berth_engine *e, const char *name)
{
  cleanup_free char *dir = xasprintf("%s/volumes/%s", e->root, name);
  berth_error_t none = NULL;
  if (berth_rm_rf(dir, &none) < 0)
    berth_error_release(&none);
}

void berth_volume_drop_new(struct berth_engine *e, const char *name, struct berth_volume_new *nv)
{
  if (nv->made_dir) {
    struct berth_db_volume v;
    berth_error_t none = NULL;
    int found = berth_db_volume_find(e->db, name, &v, &none);
    if (found > 0)
      berth_db_volume_release(&v);
    else if (found == 0)
      remove_dir(e, name);
    berth_error_release(&none);
  }
  if (nv->lock >= 0)
    close(steal_fd(nv->lock));
  nv->created = nv->made_dir = false;
}

int berth_volume_remove(struct berth_engine *e, const char *name, bool force, berth_error_t *err)
{
  int r = delete_row(e, name, err);
  if (r < 0)
    return berth_error_wrap(err, "remove `%s`", name);
  if (r == 0)
    return force ? 0 : BERTH_ERR(err, "no such volume: `%s`", name);
  remove_dir(e, name);
  const char *attrs[] = { "driver", "local", NULL };
  berth_engine_event(e, "volume", "destroy", name, attrs);
  return 0;
}

static bool has_labels(const char *labels_text, char *const *filters)
{
  json_t *labels = object_or_empty(labels_text);
  bool ok = true;
  for (size_t i = 0; ok && filters && filters[i]; i++) {
    const char *f = filters[i];
    bool neg = f[0] == '!';
    f += neg;
    const char *eq = strchr(f, '=');
    cleanup_free char *key = eq ? xstrndup(f, (size_t) (eq - f)) : xstrdup(f);
    json_t *v = json_object_get(labels, key);
    bool hit = v && (eq == NULL || strcmp(json_string_value(v) ? json_string_value(v) : "", eq + 1) == 0);
    ok = hit != neg;
  }
  json_decref(labels);
  return ok;
}

int berth_volumes_prune(struct berth_engine *e, bool all, char *const *labels, char ***removed,
                        uint64_t *reclaimed, berth_error_t *err)
{
  struct berth_db_volume *v = NULL;
  size_t n = 0;
  *removed = xcalloc(1, sizeof **removed);
  *reclaimed = 0;
  if (berth_db_volume_list(e->db, &v, &n, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++) {
    if (v[i].users > 0 || !has_labels(v[i].labels, labels))
      continue;
    char *const anon[] = { BERTH_VOLUME_ANONYMOUS_LABEL, NULL };
    if (!all && !has_labels(v[i].labels, anon))
      continue;
    cleanup_free char *dir = xasprintf("%s/volumes/%s", e->root, v[i].name);
    uint64_t size = 0;
    berth_error_t one = NULL;
    if (berth_engine_dir_size(dir, &size, &one) < 0)
      berth_error_release(&one);
    if (delete_row(e, v[i].name, &one) <= 0) { /* used or removed meanwhile */
      berth_error_release(&one);
      continue;
    }
    remove_dir(e, v[i].name);
    const char *attrs[] = { "driver", "local", NULL };
    berth_engine_event(e, "volume", "destroy", v[i].name, attrs);
    *removed = berth_strv_append(*removed, v[i].name);
    *reclaimed += size;
  }
  berth_db_volume_list_free(v, n);
  return 0;
}

int berth_volume_filter_check(char *const *filters, berth_error_t *err)
{
  static const char *const keys[] = { "dangling=", "name=", "label=", "driver=" };
  for (size_t i = 0; filters && filters[i]; i++) {
    size_t k = 0;
    while (k < BERTH_N_ELEMENTS(keys) && !berth_str_has_prefix(filters[i], keys[k]))
      k++;
    if (k == BERTH_N_ELEMENTS(keys))
      return BERTH_ERR(err, "invalid filter `%s` (dangling=, name=, label=, driver=)", filters[i]);
    const char *val = filters[i] + strlen(keys[k]);
    if (k == 0 && strcmp(val, "true") && strcmp(val, "false") && strcmp(val, "1") && strcmp(val, "0"))
      return BERTH_ERR(err, "invalid filter `%s`: dangling takes true or false", filters[i]);
  }
  return 0;
}

static bool match_key(const struct berth_db_volume *v, const char *key, const char *val)
{
  if (strcmp(key, "dangling") == 0)
    return (v->users == 0) == (strcmp(val, "true") == 0 || strcmp(val, "1") == 0);
  if (strcmp(key, "name") == 0)
    return strstr(v->name, val) != NULL;
  if (strcmp(key, "driver") == 0)
    return strcmp(v->driver, val) == 0;
  char *const one[] = { (char *) val, NULL };
  return has_labels(v->labels, one);
}

bool berth_volume_filter_match(const struct berth_db_volume *v, char *const *filters)
{
  static const char *const keys[] = { "dangling", "name", "label", "driver" };
  for (size_t k = 0; k < BERTH_N_ELEMENTS(keys); k++) {
    bool seen = false, any = false;
    size_t klen = strlen(keys[k]);
    for (size_t i = 0; filters && filters[i]; i++) {
      if (strncmp(filters[i], keys[k], klen) != 0 || filters[i][klen] != '=')
        continue;
      seen = true;
      any = any || match_key(v, keys[k], filters[i] + klen + 1);
    }
    if (seen && !any)
      return false;
  }
  return true;
}
