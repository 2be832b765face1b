/* The stages of a build, in plan order, and each step of a stage: evaluated against the stage's
 * state (src/lib/build/dispatch.h), its key, then a cache hit or the work — a config change, a
 * RUN, a COPY or ADD, a WORKDIR — and the step's image. */
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/cleanup.h"
#include "base/strbuf.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/builds/builds_internal.h"

#define MAX_CONFIG (16u << 20)

struct commit_cb {
  struct berth_build_state *st;
  const struct berth_build_op *op; /* NULL: no history entry (--label) */
  const char *key;
  int64_t created;
};

/* the step's key beside its history entry: what --cache-from reads back */
static void record_key(json_t *image, const char *key)
{
  size_t n = json_array_size(json_object_get(image, "history"));
  json_t *k = json_object_get(image, BLD_KEYS_FIELD);
  if (!json_is_array(k)) {
    k = json_array();
    json_object_set_new(image, BLD_KEYS_FIELD, k);
  }
  while (json_array_size(k) + 1 < n)
    json_array_append_new(k, json_string(""));
  while (n > 0 && json_array_size(k) >= n)
    json_array_remove(k, json_array_size(k) - 1);
  json_array_append_new(k, json_string(key));
}

static BERTH_WUR char *commit_config(void *data, const char *diff_id, berth_error_t *err)
{
  struct commit_cb *c = data;
  (void) err;
  if (c->op)
    berth_build_state_commit(c->st, c->op, diff_id, c->created);
  if (c->op && c->key)
    record_key(c->st->image, c->key);
  return berth_build_state_dump(c->st);
}

int bld_commit(struct bld *b, struct berth_build_state *st, const struct berth_build_op *op,
               const char *parent, struct bld_dir *d, const char *key, const char *layer, berth_digest_t id,
               berth_error_t *err)
{
  bool changed = d && d->path && bld_dir_changed(d);
  if (changed && b->o->source_date_epoch >= 0 && bld_dir_clamp(d, b->o->source_date_epoch, err) < 0)
    return -1;
  struct commit_cb c = { .st = st, .op = op, .key = key, .created = bld_now(b) };
  struct berth_images_step_opts so = { .parent = parent && *parent ? parent : NULL,
                                       .upper_dirfd = changed ? d->upper_fd : -1,
                                       .config = commit_config,
                                       .data = &c,
                                       .build_cache = true,
                                       .layer = layer };
  return berth_images_step(b->e, &so, id, err);
}

/* the stored config of an image, parsed */
static BERTH_WUR int load_config(struct bld *b, const char *id, json_t **out, berth_error_t *err)
{
  cleanup_free char *data = NULL;
  size_t len = 0;
  if (berth_images_read_config(b->e, id, &data, &len, err) < 0)
    return -1;
  json_error_t je;
  *out = json_loadb(data, len, 0, &je);
  if (*out == NULL)
    return BERTH_ERR(err, "the config of image %s: %s", id, je.text);
  return 0;
}

int bld_image(struct bld *b, const char *name, berth_digest_t id, berth_error_t *err)
{
  berth_error_t none = NULL;
  if (!b->o->pull && berth_engine_resolve(b->e, name, id, NULL, &none) == 0)
    return 0;
  berth_error_release(&none);
  if (b->o->transfer == NULL)
    return BERTH_ERR(err, "no such image: `%s` (and no registry to pull it from)", name);
  struct berth_pull_result res = { 0 };
  if (berth_images_pull(b->e, name, b->o->transfer, &res, err) < 0)
    return berth_error_wrap(err, "FROM %s", name);
  snprintf(id, sizeof(berth_digest_t), "%s", res.id);
  berth_pull_result_release(&res);
  return 0;
}

int bld_from_image(struct bld *b, const char *from, size_t stage, berth_digest_t id, berth_error_t *err)
{
  int s = berth_build_plan_stage_ref(b->plan, from, stage);
  if (s >= 0) {
    if (!b->stages[s].done)
      return BERTH_ERR(err, "stage `%s` is not built yet", from);
    snprintf(id, sizeof(berth_digest_t), "%s", b->stages[s].image);
    return 0;
  }
  return bld_image(b, from, id, err);
}

/* "Dockerfile:7" */
static BERTH_WUR int at_line(struct bld *b, const struct berth_df_instr *in, berth_error_t *err)
{
  if (in->line)
    return berth_error_wrap(err, "%s:%u", b->df->file, in->line);
  return -1;
}

struct cur {
  struct berth_build_state st;
  berth_digest_t image; /* "" : none yet */
  char key[BLD_KEY_LEN + 1];
  size_t stage;
};

static BERTH_WUR int execute(struct bld *b, struct cur *c, const struct berth_build_op *op, const char *key,
                             berth_digest_t id, berth_error_t *err)
{
  struct bld_dir d = { .upper_fd = -1, .lock_fd = -1 };
  int r = 0;
  if (op->kind != BERTH_BUILD_OP_CONFIG)
    r = bld_dir_new(b, &d, err);
  if (r == 0 && op->kind == BERTH_BUILD_OP_RUN)
    r = bld_run_run(b, &c->st, op, c->stage, c->image, &d, err);
  else if (r == 0 && op->kind == BERTH_BUILD_OP_COPY)
    r = bld_copy_run(b, &c->st, op, c->stage, c->image, &d, err);
  else if (r == 0 && op->kind == BERTH_BUILD_OP_WORKDIR)
    r = bld_workdir_run(b, op, c->image, &d, err);
  if (r == 0 && bld_cancelled(b))
    r = BERTH_ERR(err, "the build was interrupted");
  if (r == 0)
    r = bld_commit(b, &c->st, op, c->image, &d, key, NULL, id, err);
  bld_dir_free(&d);
  return r;
}

/* where key is in an image's keys: the history entry's index, its layer's index, empty_layer */
static bool find_key(json_t *config, const char *key, size_t *layer, bool *empty)
{
  json_t *keys = json_object_get(config, BLD_KEYS_FIELD), *hist = json_object_get(config, "history");
  *layer = 0;
  for (size_t j = 0; j < json_array_size(keys) && j < json_array_size(hist); j++) {
    const char *k = json_string_value(json_array_get(keys, j));
    *empty = json_is_true(json_object_get(json_array_get(hist, j), "empty_layer"));
    if (k && strcmp(k, key) == 0)
      return true;
    *layer += !*empty;
  }
  return false;
}

/* --cache-from: an image whose keys hold the step's key (the same parent chain, instruction and
 * files: the key covers them all) gives the step's layer; the step's image is the parent plus
 * that layer, made without work. 1 hit (id), 0 miss, -1 error. */
static BERTH_WUR int cache_from(struct bld *b, struct cur *c, const struct berth_build_op *op,
                                const char *key, berth_digest_t id, berth_error_t *err)
{
  for (size_t i = 0; b->cache_from[i]; i++) {
    json_t *config = NULL;
    size_t layer = 0;
    bool empty = false, found = false;
    if (BLD_TRY(load_config(b, b->cache_from[i], &config, BLD_Q)) == 0)
      found = find_key(config, key, &layer, &empty);
    json_decref(config);
    struct berth_db_image img = { 0 }, parent = { 0 };
    if (!found || BLD_TRY(berth_db_image_get(b->e->db, b->cache_from[i], &img, BLD_Q)) <= 0)
      continue;
    int have = *c->image ? BLD_TRY(berth_db_image_get(b->e->db, c->image, &parent, BLD_Q)) : 1;
    /* the parent's layers are the image's first ones (the key says so; checked all the same) */
    bool ok = have > 0 && parent.nlayers == layer && layer + !empty <= img.nlayers;
    for (size_t k = 0; ok && k < layer; k++)
      ok = strcmp(parent.chain_ids[k], img.chain_ids[k]) == 0;
    int r =
      ok ? bld_commit(b, &c->st, op, c->image, NULL, key, empty ? NULL : img.chain_ids[layer], id, err) : 0;
    berth_db_image_release(&img);
    berth_db_image_release(&parent);
    if (!ok)
      continue;
    return r < 0 ? -1 : 1;
  }
  return 0;
}

static BERTH_WUR int step(struct bld *b, struct cur *c, const struct berth_df_instr *in, const char *label,
                          berth_error_t *err)
{
  int64_t t0 = berth_engine_now();
  cleanup_free char *title = xasprintf("[%zu/%zu] %s%s", bld_step, b->plan->nsteps, label, in->original);
  bld_event(b, BERTH_BUILDS_EV_STEP, title, 0, NULL, 0);
  if (bld_cancelled(b))
    return BERTH_ERR(err, "the build was interrupted");
  struct berth_build_op op;
  if (berth_build_dispatch(&c->st, in, &op, err) < 0)
    return at_line(b, in, err);
  cleanup_free char *extra = NULL;
  int r = 0;
  if (op.kind == BERTH_BUILD_OP_COPY)
    r = bld_copy_key(b, &op, c->stage, &extra, err);
  else if (op.kind == BERTH_BUILD_OP_RUN)
    r = bld_run_key(b, &op, c->stage, &extra, err);
  char key[BLD_KEY_LEN + 1];
  bld_key(c->key, op.cache_text, extra, key);
  berth_digest_t id;
  json_t *cached = NULL;
  if (r == 0 && !b->o->no_cache && bld_cache_get(b, key, id) &&
      BLD_TRY(load_config(b, id, &cached, BLD_Q)) == 0) {
    json_decref(c->st.image);
    c->st.image = cached;
    bld_event(b, BERTH_BUILDS_EV_CACHED, NULL, 0, id, berth_engine_now() - t0);
  } else if (r == 0 && !b->o->no_cache && (r = cache_from(b, c, &op, key, id, err)) > 0) {
    r = 0;
    bld_cache_put(b, key, id);
    bld_event(b, BERTH_BUILDS_EV_CACHED, NULL, 0, id, berth_engine_now() - t0);
  } else if (r == 0 && (r = execute(b, c, &op, key, id, err)) == 0) {
    bld_cache_put(b, key, id);
    bld_event(b, BERTH_BUILDS_EV_DONE, NULL, 0, id, berth_engine_now() - t0);
  }
  berth_build_op_release(&op);
  if (r < 0) {
    r = at_line(b, in, err);
    bld_event(b, BERTH_BUILDS_EV_ERROR, (*err)->msg, 0, NULL, berth_engine_now() - t0);
    return r;
  }
  snprintf(c->image, sizeof c->image, "%s", id);
  memcpy(c->key, key, sizeof key);
  return 0;
}

/* the base of a stage: its image (or none) and its first key */
static BERTH_WUR int base(struct bld *b, const struct berth_build_stage *s, struct cur *c, berth_error_t *err)
{
  char plat[100];
  berth_build_platform_string(&b->plan->target_platform, plat);
  if (s->base_stage >= 0) {
    const struct bld_stage *from = &b->stages[s->base_stage];
    snprintf(c->image, sizeof c->image, "%s", from->image);
    memcpy(c->key, from->key, sizeof c->key);
  } else if (strcasecmp(s->base, "scratch") == 0) {
    c->image[0] = '\0';
    bld_key(NULL, "FROM scratch", plat, c->key);
  } else {
    if (bld_image(b, s->base, c->image, err) < 0)
      return -1;
    cleanup_free char *text = xasprintf("FROM %s", c->image);
    bld_key(NULL, text, plat, c->key);
  }
  json_t *config = NULL;
  if (*c->image && load_config(b, c->image, &config, err) < 0)
    return -1;
  int r = berth_build_state_init(&c->st, b->plan, config, &b->plan->target_platform, err);
  json_decref(config);
  if (r == 0)
    c->st.escape = b->df->escape;
  return r;
}

/* the base's ONBUILD triggers, each a step of this stage */
static BERTH_WUR int triggers(struct bld *b, struct cur *c, berth_error_t *err)
{
  cleanup_strv char **v = berth_build_state_triggers(&c->st);
  for (size_t i = 0; v[i]; i++) {
    struct berth_df_instr in;
    if (berth_df_parse_line(v[i], "ONBUILD trigger", c->st.escape, &in, err) < 0)
      return -1;
    int r = step(b, c, &in, "ONBUILD ", err);
    berth_df_instr_release(&in);
    if (r < 0)
      return -1;
  }
  return 0;
}

/* --label: the labels added to the target's config, without a history entry */
static BERTH_WUR int labels(struct bld *b, struct cur *c, berth_error_t *err)
{
  if (b->o->labels == NULL || b->o->labels[0] == NULL)
    return 0;
  json_t *config = json_object_get(c->st.image, "config");
  if (!json_is_object(config)) {
    config = json_object();
    json_object_set_new(c->st.image, "config", config);
  }
  json_t *l = json_object_get(config, "Labels");
  if (!json_is_object(l)) {
    l = json_object();
    json_object_set_new(config, "Labels", l);
  }
  cleanup_strbuf struct berth_strbuf text = BERTH_STRBUF_INIT;
  berth_strbuf_puts(&text, "--label");
  for (size_t i = 0; b->o->labels[i]; i++) {
    const char *kv = b->o->labels[i], *eq = strchr(kv, '=');
    cleanup_free char *k = eq ? xstrndup(kv, (size_t) (eq - kv)) : xstrdup(kv);
    json_object_set_new(l, k, json_string(eq ? eq + 1 : ""));
    berth_strbuf_printf(&text, " %s", kv);
  }
  char key[BLD_KEY_LEN + 1];
  bld_key(c->key, text.buf, NULL, key);
  berth_digest_t id;
  if (b->o->no_cache || !bld_cache_get(b, key, id)) {
    if (bld_commit(b, &c->st, NULL, c->image, NULL, NULL, NULL, id, err) < 0)
      return -1;
    bld_cache_put(b, key, id);
  }
  snprintf(c->image, sizeof c->image, "%s", id);
  memcpy(c->key, key, sizeof key);
  return 0;
}

static BERTH_WUR int stage(struct bld *b, size_t i, berth_error_t *err)
{
  const struct berth_build_stage *s = &b->plan->stages[i];
  struct cur c = { .stage = i };
  bld_step++;
  int64_t t0 = berth_engine_now();
  cleanup_free char *title = xasprintf("[%zu/%zu] %s", bld_step, b->plan->nsteps, s->from->original);
  bld_event(b, BERTH_BUILDS_EV_STEP, title, 0, NULL, 0);
  if (base(b, s, &c, err) < 0) {
    berth_ignore(at_line(b, s->from, err));
    bld_event(b, BERTH_BUILDS_EV_ERROR, (*err)->msg, 0, NULL, 0);
    return -1;
  }
  bld_event(b, BERTH_BUILDS_EV_DONE, NULL, 0, c.image[0] ? c.image : NULL, berth_engine_now() - t0);
  int r = triggers(b, &c, err);
  for (size_t k = 0; r == 0 && k < s->ninstrs; k++) {
    bld_step++;
    r = step(b, &c, s->instrs[k], "", err);
  }
  if (r == 0 && i == b->plan->target)
    r = labels(b, &c, err);
  if (r == 0) {
    struct bld_stage *out = &b->stages[i];
    snprintf(out->image, sizeof out->image, "%s", c.image);
    memcpy(out->key, c.key, sizeof out->key);
    out->done = true;
  }
  berth_build_state_release(&c.st);
  return r;
}

static bool deps_done(const struct bld *b, size_t i)
{
  const struct berth_build_stage *s = &b->plan->stages[i];
  for (size_t k = 0; k < s->ndeps; k++)
    if (!b->stages[s->deps[k]].done)
      return false;
  return true;
}

struct worker {
  struct bld *b;
  size_t stage;
  pthread_t thread;
  bool started;
};

/* one stage's thread: it waits for the stages it needs, then builds; the first failure stops
 * the others (their RUNs are killed: bld_cancelled) and is the build's error */
static void *worker_main(void *data)
{
  struct worker *w = data;
  struct bld *b = w->b;
  bld_relock(b);
  while (!__atomic_load_n(&b->failed, __ATOMIC_RELAXED) && !deps_done(b, w->stage))
    pthread_cond_wait(&b->changed, &b->lock);
  if (!__atomic_load_n(&b->failed, __ATOMIC_RELAXED)) {
    berth_error_t err = NULL;
    bld_step = b->first_step[w->stage] - 1;
    if (stage(b, w->stage, &err) < 0) {
      if (__atomic_exchange_n(&b->failed, 1, __ATOMIC_RELAXED) == 0)
        b->error = steal_ptr(err);
      berth_error_release(&err);
    }
  }
  pthread_cond_broadcast(&b->changed);
  bld_unlock(b);
  return NULL;
}

int bld_stages(struct bld *b, berth_error_t *err)
{
  size_t n = b->plan->nstages, next = 1;
  struct worker *w = xcalloc(n ? n : 1, sizeof *w);
  for (size_t i = 0; i < n; i++)
    if (b->plan->stages[i].needed) {
      b->first_step[i] = next;
      next += 1 + b->plan->stages[i].ninstrs;
    }
  for (size_t i = 0; i < n; i++) {
    if (!b->plan->stages[i].needed)
      continue;
    w[i] = (struct worker){ .b = b, .stage = i };
    int e = pthread_create(&w[i].thread, NULL, worker_main, &w[i]);
    if (e != 0) {
      bld_relock(b);
      if (__atomic_exchange_n(&b->failed, 1, __ATOMIC_RELAXED) == 0) {
        errno = e;
        BERTH_ERR_ERRNO(&b->error, "start a thread for stage %zu", i);
      }
      pthread_cond_broadcast(&b->changed);
      bld_unlock(b);
      break;
    }
    w[i].started = true;
  }
  for (size_t i = 0; i < n; i++)
    if (w[i].started)
      pthread_join(w[i].thread, NULL);
  free(w);
  if (b->failed) {
    *err = steal_ptr(b->error);
    return -1;
  }
  return 0;
}
