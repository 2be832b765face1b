/* Catalogue rows of containers and their mounts (schema version 2). */
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/catalogue/db_internal.h"

static const char *const state_names[] = {
  [BERTH_CTR_CREATED] = "created",       [BERTH_CTR_RUNNING] = "running", [BERTH_CTR_PAUSED] = "paused",
  [BERTH_CTR_RESTARTING] = "restarting", [BERTH_CTR_EXITED] = "exited",   [BERTH_CTR_DEAD] = "dead",
  [BERTH_CTR_REMOVING] = "removing",
};

const char *berth_ctr_state_name(enum berth_ctr_state s)
{
  return (size_t) s < BERTH_N_ELEMENTS(state_names) ? state_names[s] : "unknown";
}

int berth_ctr_state_parse(const char *s)
{
  for (size_t i = 0; s && i < BERTH_N_ELEMENTS(state_names); i++)
    if (strcmp(s, state_names[i]) == 0)
      return (int) i;
  return -1;
}

void berth_db_container_release(struct berth_db_container *c)
{
  if (c == NULL)
    return;
  free(c->name);
  free(c->image);
  free(c->error);
  free(c->runtime);
  free(c->config);
  free(c->host_config);
  c->name = c->image = c->error = c->runtime = c->config = c->host_config = NULL;
}

void berth_db_mounts_free(struct berth_db_mount *m, size_t n)
{
  for (size_t i = 0; m && i < n; i++) {
    free(m[i].type);
    free(m[i].source);
    free(m[i].destination);
    free(m[i].volume);
    free(m[i].mode);
    free(m[i].propagation);
  }
  free(m);
}

static const char *nz(const char *s) { return s ? s : ""; }

/* one added to (delta 1) or taken from (delta -1) each layer of the image's chain */
static BERTH_WUR int adjust_layers(struct berth_db *db, const char *image_id, int64_t delta,
                                   berth_error_t *err)
{
  return db_exec(db, err,
                 "UPDATE layers SET refcount = refcount + ? WHERE chain_id IN"
                 " (SELECT chain_id FROM image_layers WHERE image_id = ?)",
                 "is", delta, image_id) < 0
           ? -1
           : 0;
}

static BERTH_WUR int put_mounts(struct berth_db *db, const char *id, const struct berth_db_mount *m, size_t n,
                                berth_error_t *err)
{
  for (size_t i = 0; i < n; i++) {
    const char *vol = m[i].volume && *m[i].volume ? m[i].volume : NULL;
    if (db_exec(db, err,
                "INSERT INTO container_mounts(container_id, idx, type, source, destination, volume, mode,"
                " rw, propagation) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                "sisssssis", id, (int64_t) i, nz(m[i].type), nz(m[i].source), nz(m[i].destination), vol,
                nz(m[i].mode), (int64_t) m[i].rw, nz(m[i].propagation)) < 0)
      return berth_error_wrap(err, "mount %zu `%s`", i, nz(m[i].destination));
  }
  return 0;
}

int berth_db_container_name_used(struct berth_db *db, const char *name, berth_error_t *err)
{
  int64_t n = 0;
  if (db_query_i64(db, &n, err, "SELECT count(*) FROM containers WHERE name = ?", "s", name) < 0)
    return -1;
  return n > 0;
}

static BERTH_WUR int name_conflict(struct berth_db *db, const char *name, berth_error_t *err)
{
  cleanup_strv char **owner = NULL;
  if (db_collect_strings(db, &owner, err, "SELECT id FROM containers WHERE name = ?", "s", name) < 0)
    return -1;
  if (owner[0] == NULL)
    return 0;
  return BERTH_ERR(err,
                   "conflict: the container name `/%s` is already in use by container %s; remove (or rename) "
                   "that container to be able to reuse that name",
                   name, owner[0]);
}

int berth_db_container_put(struct berth_db *db, const struct berth_db_container *c,
                           const struct berth_db_mount *mounts, size_t nmounts, berth_error_t *err)
{
  if (db_require_tx(db, "add container", err) < 0)
    return -1;
  if (name_conflict(db, c->name, err) < 0)
    return -1;
  if (db_exec(
        db, err,
        "INSERT INTO containers(id, name, image_id, image, created, state, runtime, config, host_config)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        "ssssissss", c->id, c->name, c->image_id, nz(c->image), c->created, berth_ctr_state_name(c->state),
        nz(c->runtime), c->config ? c->config : "{}", c->host_config ? c->host_config : "{}") < 0 ||
      put_mounts(db, c->id, mounts, nmounts, err) < 0 || adjust_layers(db, c->image_id, 1, err) < 0)
    return berth_error_wrap(err, "add container `%s`", c->id);
  return 0;
}

#define CONTAINER_COLUMNS                                                                                    \
  "id, name, image_id, image, created, state, pid, exit_code, oom_killed, error, started_at, finished_at,"   \
  " restart_count, restart_delay_ms, manual_stop, runtime, monitor_pid, monitor_start, config, host_config"

static void read_container(sqlite3_stmt *st, struct berth_db_container *c)
{
  memset(c, 0, sizeof *c);
  const unsigned char *id = sqlite3_column_text(st, 0);
  snprintf(c->id, sizeof c->id, "%s", id ? (const char *) id : "");
  c->name = db_col_strdup(st, 1);
  db_col_digest(st, 2, c->image_id);
  c->image = db_col_strdup(st, 3);
  c->created = sqlite3_column_int64(st, 4);
  const unsigned char *state = sqlite3_column_text(st, 5);
  int s = berth_ctr_state_parse((const char *) state);
  c->state = s < 0 ? BERTH_CTR_DEAD : (enum berth_ctr_state) s;
  c->pid = sqlite3_column_int64(st, 6);
  c->exit_code = sqlite3_column_int64(st, 7);
  c->oom_killed = sqlite3_column_int64(st, 8) != 0;
  c->error = db_col_strdup(st, 9);
  c->started_at = sqlite3_column_int64(st, 10);
  c->finished_at = sqlite3_column_int64(st, 11);
  c->restart_count = sqlite3_column_int64(st, 12);
  c->restart_delay_ms = sqlite3_column_int64(st, 13);
  c->manual_stop = sqlite3_column_int64(st, 14) != 0;
  c->runtime = db_col_strdup(st, 15);
  c->monitor_pid = sqlite3_column_int64(st, 16);
  c->monitor_start = sqlite3_column_int64(st, 17);
  c->config = db_col_strdup(st, 18);
  c->host_config = db_col_strdup(st, 19);
}

int berth_db_container_get(struct berth_db *db, const char *id, struct berth_db_container *out,
                           berth_error_t *err)
{
  cleanup_stmt sqlite3_stmt *st = NULL;
  if (db_prepare(db, &st, err, "SELECT " CONTAINER_COLUMNS " FROM containers WHERE id = ?", "s", id) < 0)
    return -1;
  int r = db_step(db, st, err);
  if (r > 0)
    read_container(st, out);
  return r;
}

static bool lower_hex(const char *s)
{
  if (*s == '\0')
    return false;
  for (; *s; s++)
    if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
      return false;
  return true;
}

int berth_db_container_find(struct berth_db *db, const char *what, char ***ids, berth_error_t *err)
{
  cleanup_strv char **v = NULL;
  if (db_collect_strings(db, &v, err, "SELECT id FROM containers WHERE id = ?", "s", what) < 0)
    return -1;
  if (v[0] == NULL) {
    berth_strv_free(steal_ptr(v));
    const char *name = what[0] == '/' ? what + 1 : what;
    if (db_collect_strings(db, &v, err, "SELECT id FROM containers WHERE name = ?", "s", name) < 0)
      return -1;
  }
  if (v[0] == NULL && lower_hex(what)) {
    berth_strv_free(steal_ptr(v));
    cleanup_free char *hi = xasprintf("%s~", what); /* '~' sorts after every hex digit */
    if (db_collect_strings(db, &v, err, "SELECT id FROM containers WHERE id >= ? AND id < ? ORDER BY id",
                           "ss", what, hi) < 0)
      return -1;
  }
  *ids = steal_ptr(v);
  return 0;
}

void berth_db_container_list_free(struct berth_db_container *v, size_t n)
{
  for (size_t i = 0; v && i < n; i++)
    berth_db_container_release(&v[i]);
  free(v);
}

int berth_db_container_list(struct berth_db *db, struct berth_db_container **out, size_t *n,
                            berth_error_t *err)
{
  cleanup_stmt sqlite3_stmt *st = NULL;
  if (db_prepare(db, &st, err, "SELECT " CONTAINER_COLUMNS " FROM containers ORDER BY created DESC, id", "") <
      0)
    return -1;
  struct berth_db_container *v = NULL;
  size_t k = 0;
  int r;
  while ((r = db_step(db, st, err)) > 0) {
    v = xreallocarray(v, k + 1, sizeof *v);
    read_container(st, &v[k++]);
  }
  if (r < 0) {
    berth_db_container_list_free(v, k);
    return -1;
  }
  *out = v;
  *n = k;
  return 0;
}

int berth_db_container_update(struct berth_db *db, const struct berth_db_container *c, berth_error_t *err)
{
  if (db_require_tx(db, "update container", err) < 0)
    return -1;
  int64_t other = 0;
  if (db_query_i64(db, &other, err, "SELECT count(*) FROM containers WHERE name = ? AND id != ?", "ss",
                   c->name, c->id) < 0)
    return -1;
  if (other > 0)
    return name_conflict(db, c->name, err);
  int r =
    db_exec(db, err,
            "UPDATE containers SET name = ?, state = ?, pid = ?, exit_code = ?, oom_killed = ?, error = ?,"
            " started_at = ?, finished_at = ?, restart_count = ?, restart_delay_ms = ?, manual_stop = ?,"
            " monitor_pid = ?, monitor_start = ? WHERE id = ?",
            "ssiiisiiiiiiis", c->name, berth_ctr_state_name(c->state), c->pid, c->exit_code,
            (int64_t) c->oom_killed, nz(c->error), c->started_at, c->finished_at, c->restart_count,
            c->restart_delay_ms, (int64_t) c->manual_stop, c->monitor_pid, c->monitor_start, c->id);
  if (r < 0)
    return berth_error_wrap(err, "update container `%s`", c->id);
  return r > 0;
}

int berth_db_container_set_host_config(struct berth_db *db, const char *id, const char *host_config,
                                       berth_error_t *err)
{
  if (db_require_tx(db, "update container", err) < 0)
    return -1;
  int r = db_exec(db, err, "UPDATE containers SET host_config = ? WHERE id = ?", "ss", host_config, id);
  if (r < 0)
    return berth_error_wrap(err, "update container `%s`", id);
  return r > 0;
}

int berth_db_container_delete(struct berth_db *db, const char *id, berth_error_t *err)
{
  if (db_require_tx(db, "delete container", err) < 0)
    return -1;
  struct berth_db_container c;
  int r = berth_db_container_get(db, id, &c, err);
  if (r <= 0)
    return r;
  r = adjust_layers(db, c.image_id, -1, err) < 0 ||
          db_exec(db, err, "DELETE FROM containers WHERE id = ?", "s", id) < 0
        ? -1
        : 1;
  berth_db_container_release(&c);
  return r < 0 ? berth_error_wrap(err, "delete container `%s`", id) : 1;
}

int berth_db_container_mounts(struct berth_db *db, const char *id, struct berth_db_mount **out, size_t *n,
                              berth_error_t *err)
{
  cleanup_stmt sqlite3_stmt *st = NULL;
  if (db_prepare(db, &st, err,
                 "SELECT type, source, destination, volume, mode, rw, propagation FROM container_mounts"
                 " WHERE container_id = ? ORDER BY idx",
                 "s", id) < 0)
    return -1;
  struct berth_db_mount *v = NULL;
  size_t k = 0;
  int r;
  while ((r = db_step(db, st, err)) > 0) {
    v = xreallocarray(v, k + 1, sizeof *v);
    struct berth_db_mount *m = &v[k++];
    m->type = db_col_strdup(st, 0);
    m->source = db_col_strdup(st, 1);
    m->destination = db_col_strdup(st, 2);
    m->volume = db_col_strdup(st, 3);
    m->mode = db_col_strdup(st, 4);
    m->rw = sqlite3_column_int64(st, 5) != 0;
    m->propagation = db_col_strdup(st, 6);
  }
  if (r < 0) {
    berth_db_mounts_free(v, k);
    return -1;
  }
  *out = v;
  *n = k;
  return 0;
}

int berth_db_volume_put(struct berth_db *db, const char *name, int64_t created, const char *labels_json,
                        const char *mountpoint, berth_error_t *err)
{
  if (db_require_tx(db, "add volume", err) < 0)
    return -1;
  int r =
    db_exec(db, err, "INSERT OR IGNORE INTO volumes(name, created, labels, mountpoint) VALUES (?, ?, ?, ?)",
            "siss", name, created, labels_json ? labels_json : "{}", mountpoint);
  return r < 0 ? berth_error_wrap(err, "add volume `%s`", name) : r > 0;
}

int berth_db_volume_get(struct berth_db *db, const char *name, char **mountpoint, char **labels_json,
                        berth_error_t *err)
{
  cleanup_stmt sqlite3_stmt *st = NULL;
  if (db_prepare(db, &st, err, "SELECT mountpoint, labels FROM volumes WHERE name = ?", "s", name) < 0)
    return -1;
  int r = db_step(db, st, err);
  if (r > 0 && mountpoint)
    *mountpoint = db_col_strdup(st, 0);
  if (r > 0 && labels_json)
    *labels_json = db_col_strdup(st, 1);
  return r;
}

int berth_db_volume_users(struct berth_db *db, const char *name, int64_t *n, berth_error_t *err)
{
  return db_query_i64(
    db, n, err, "SELECT count(DISTINCT container_id) FROM container_mounts WHERE volume = ?", "s", name);
}

int berth_db_volume_delete(struct berth_db *db, const char *name, berth_error_t *err)
{
  if (db_require_tx(db, "delete volume", err) < 0)
    return -1;
  int r = db_exec(db, err, "DELETE FROM volumes WHERE name = ?", "s", name);
  return r < 0 ? berth_error_wrap(err, "delete volume `%s`", name) : r > 0;
}
