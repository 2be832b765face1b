/* `berth tag`, `berth rmi`, `berth image prune`: rows changed in one transaction each, files of
 * what no row refers to any more removed after the commit (under the exclusive store lock). */
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/images/images_internal.h"
#include "image/reference.h"

static const char *short_id(const char *id) { return berth_str_has_prefix(id, "sha256:") ? id + 7 : id; }

int berth_images_tag(struct berth_engine *e, const char *source, const char *target, berth_error_t *err)
{
  berth_digest_t id;
  cleanup_free char *full = NULL;
  if (berth_engine_resolve(e, source, id, NULL, err) < 0 || images_tag_name(target, &full, err) < 0)
    return -1;
  if (berth_db_begin(e->db, err) < 0)
    return -1;
  cleanup_free char *familiar = images_familiar(full);
  const char *attrs[] = { "name", familiar, NULL };
  berth_engine_event(e, "image", "tag", id, attrs);
  if (berth_db_tag_set(e->db, full, id, NULL, err) < 0 || berth_db_commit(e->db, err) < 0) {
    berth_db_rollback(e->db);
    return berth_error_wrap(err, "tag `%s`", target);
  }
  return 0;
}

struct removal {
  char **events;
  char **layers; /* gone rows: files to remove after the commit */
  char **blobs;
};

static void event(struct removal *rm, const char *prefix, const char *arg)
{
  cleanup_free char *s = xasprintf("%s %s", prefix, arg);
  rm->events = berth_strv_append(rm->events, s);
}

static BERTH_WUR int untag(struct berth_engine *e, const char *full, const char *verb, struct removal *rm,
                           berth_error_t *err)
{
  berth_digest_t id = "";
  if (berth_db_tag_get(e->db, full, id, err) < 0 || berth_db_tag_delete(e->db, full, err) < 0)
    return -1;
  cleanup_free char *f = images_familiar(full);
  event(rm, verb, f);
  const char *attrs[] = { "name", f, NULL };
  berth_engine_event(e, "image", "untag", id, attrs); /* in the transaction: gone with a rollback */
  return 0;
}

/* delete an image's rows (no tags left); Docker's conflicts first */
static BERTH_WUR int delete_image(struct berth_engine *e, const char *id, bool force, const char *verb,
                                  struct removal *rm, berth_error_t *err)
{
  cleanup_strv char **children = NULL, **layers = NULL, **blobs = NULL;
  int64_t containers = 0;
  if (berth_db_image_children(e->db, id, &children, err) < 0 ||
      berth_db_image_containers(e->db, id, &containers, err) < 0)
    return -1;
  if (children[0])
    return BERTH_ERR(err,
                     "conflict: unable to delete %.12s (cannot be forced) - image has dependent child images",
                     short_id(id));
  if (containers > 0 && !force)
    return BERTH_ERR(err,
                     "conflict: unable to delete %.12s (must be forced) - image is being used by a container",
                     short_id(id));
  if (containers > 0) /* forced: untagged only, a container still needs it (Docker's rule) */
    return 0;
  if (berth_db_image_delete(e->db, id, &layers, &blobs, err) < 0)
    return -1;
  event(rm, verb, id);
  const char *attrs[] = { "name", id, NULL };
  berth_engine_event(e, "image", "delete", id, attrs);
  for (char **l = layers; *l; l++) {
    event(rm, verb, *l);
    rm->layers = berth_strv_append(rm->layers, *l);
  }
  for (char **b = blobs; *b; b++)
    rm->blobs = berth_strv_append(rm->blobs, *b);
  return 0;
}

/* after deleting an image: its parent goes too when untagged and childless (unless --no-prune) */
static BERTH_WUR int prune_parents(struct berth_engine *e, const char *parent, struct removal *rm,
                                   berth_error_t *err)
{
  berth_digest_t cur;
  snprintf(cur, sizeof cur, "%s", parent);
  while (cur[0]) {
    struct berth_db_image img;
    cleanup_strv char **tags = NULL, **children = NULL;
    int64_t containers = 0;
    int r = berth_db_image_get(e->db, cur, &img, err);
    if (r <= 0)
      return r;
    if (berth_db_tags_of(e->db, cur, &tags, err) < 0 ||
        berth_db_image_children(e->db, cur, &children, err) < 0 ||
        berth_db_image_containers(e->db, cur, &containers, err) < 0) {
      berth_db_image_release(&img);
      return -1;
    }
    berth_digest_t next;
    snprintf(next, sizeof next, "%s", img.parent);
    berth_db_image_release(&img);
    if (tags[0] || children[0] || containers)
      return 0;
    if (delete_image(e, cur, false, "Deleted:", rm, err) < 0)
      return -1;
    memcpy(cur, next, sizeof cur);
  }
  return 0;
}

/* Docker's rmi: a tag reference untags (and deletes the image with its last reference); an id
 * deletes, refusing an image tagged in several repositories unless forced */
static BERTH_WUR int remove_rows(struct berth_engine *e, const char *what, const struct berth_rmi_opts *o,
                                 struct removal *rm, berth_error_t *err)
{
  berth_digest_t id;
  cleanup_free char *tag = NULL;
  cleanup_strv char **tags = NULL;
  struct berth_db_image img;
  if (berth_engine_resolve(e, what, id, &tag, err) < 0 || berth_db_tags_of(e->db, id, &tags, err) < 0)
    return -1;
  if (tag) {
    int64_t containers = 0;
    if (berth_db_image_containers(e->db, id, &containers, err) < 0)
      return -1;
    if (berth_strv_len(tags) == 1 && containers > 0 && !o->force)
      return BERTH_ERR(
        err,
        "conflict: unable to remove repository reference `%s` (must force) - a container is using its "
        "referenced image %.12s",
        what, short_id(id));
    if (untag(e, tag, "Untagged:", rm, err) < 0)
      return -1;
    if (berth_strv_len(tags) > 1)
      return 0;
  } else {
    bool several = false;
    for (size_t i = 1; tags[0] && tags[i]; i++) {
      cleanup_free char *a = NULL, *b = NULL;
      struct berth_ref ra = { 0 }, rb = { 0 };
      berth_error_t ignored = NULL;
      if (berth_ref_parse(tags[0], &ra, &ignored) == 0 && berth_ref_parse(tags[i], &rb, &ignored) == 0) {
        a = berth_ref_name(&ra);
        b = berth_ref_name(&rb);
      }
      berth_error_release(&ignored);
      berth_ref_release(&ra);
      berth_ref_release(&rb);
      several = several || a == NULL || b == NULL || strcmp(a, b) != 0;
    }
    if (several && !o->force)
      return BERTH_ERR(err,
                       "conflict: unable to delete %.12s (must be forced) - image is referenced in multiple "
                       "repositories",
                       short_id(id));
    for (char **t = tags; *t; t++)
      if (untag(e, *t, "Untagged:", rm, err) < 0)
        return -1;
  }
  int r = berth_db_image_get(e->db, id, &img, err);
  if (r <= 0)
    return r;
  berth_digest_t parent;
  snprintf(parent, sizeof parent, "%s", img.parent);
  berth_db_image_release(&img);
  if (delete_image(e, id, o->force, "Deleted:", rm, err) < 0)
    return -1;
  return o->no_prune ? 0 : prune_parents(e, parent, rm, err);
}

static void removal_release(struct removal *rm)
{
  berth_strv_free(rm->events);
  berth_strv_free(rm->layers);
  berth_strv_free(rm->blobs);
}

/* run fn in one transaction, then remove the files whose rows went */
static BERTH_WUR int in_transaction(struct berth_engine *e, struct removal *rm, uint64_t *freed,
                                    int (*fn)(struct berth_engine *, const void *, struct removal *,
                                              berth_error_t *),
                                    const void *arg, berth_error_t *err)
{
  if (berth_db_begin(e->db, err) < 0)
    return -1;
  if (fn(e, arg, rm, err) < 0 || berth_db_commit(e->db, err) < 0) {
    berth_db_rollback(e->db);
    return -1;
  }
  return berth_engine_remove_unreferenced(e, rm->layers, rm->blobs, freed, err);
}

struct rmi_args {
  const char *what;
  const struct berth_rmi_opts *o;
};

static BERTH_WUR int rmi_fn(struct berth_engine *e, const void *arg, struct removal *rm, berth_error_t *err)
{
  const struct rmi_args *a = arg;
  return remove_rows(e, a->what, a->o, rm, err);
}

int berth_images_remove(struct berth_engine *e, const char *what, const struct berth_rmi_opts *o,
                        char ***events, berth_error_t *err)
{
  struct removal rm = { .events = xcalloc(1, sizeof(char *)) };
  struct rmi_args a = { what, o };
  int r = in_transaction(e, &rm, NULL, rmi_fn, &a, err);
  if (r == 0)
    *events = steal_ptr(rm.events);
  removal_release(&rm);
  return r;
}

/* ---- prune ---- */

/* label=k[=v] and label!=k[=v] ("!k[=v]") of the image's config labels */
static bool labels_match(struct berth_engine *e, const char *id, char *const *labels)
{
  if (labels == NULL || labels[0] == NULL)
    return true;
  struct berth_imgconfig cfg;
  berth_error_t err = NULL;
  if (images_read_config(e, id, &cfg, &err) < 0) {
    berth_error_release(&err);
    return false;
  }
  json_t *l = json_object_get(cfg.config, "Labels");
  bool ok = true;
  for (size_t i = 0; ok && labels[i]; i++) {
    const char *f = labels[i] + (labels[i][0] == '!');
    const char *eq = strchr(f, '=');
    cleanup_free char *key = eq ? xstrndup(f, (size_t) (eq - f)) : xstrdup(f);
    json_t *v = json_object_get(l, key);
    bool hit = json_is_string(v) && (eq == NULL || strcmp(json_string_value(v), eq + 1) == 0);
    ok = hit != (labels[i][0] == '!');
  }
  berth_imgconfig_release(&cfg);
  return ok;
}

/* one pass: every image that can go (untagged, or any with all; no children, no containers) */
static BERTH_WUR int prune_pass(struct berth_engine *e, const struct berth_images_prune_opts *o,
                                struct removal *rm, bool *changed, berth_error_t *err)
{
  bool all = o->all;
  struct berth_db_image *imgs = NULL;
  size_t n = 0;
  if (berth_db_image_list(e->db, &imgs, &n, err) < 0)
    return -1;
  int r = 0;
  for (size_t i = 0; i < n && r == 0; i++) {
    cleanup_strv char **tags = NULL, **children = NULL;
    int64_t containers = 0;
    r = berth_db_tags_of(e->db, imgs[i].id, &tags, err) < 0 ||
            berth_db_image_children(e->db, imgs[i].id, &children, err) < 0 ||
            berth_db_image_containers(e->db, imgs[i].id, &containers, err) < 0
          ? -1
          : 0;
    if (r < 0 || children[0] || containers || (tags[0] && !all) ||
        (o->until && imgs[i].created >= o->until) || !labels_match(e, imgs[i].id, o->labels))
      continue;
    for (char **t = tags; *t && r == 0; t++)
      r = untag(e, *t, "untagged:", rm, err);
    if (r == 0)
      r = delete_image(e, imgs[i].id, false, "deleted:", rm, err);
    *changed = true;
  }
  berth_db_image_list_free(imgs, n);
  return r;
}

static BERTH_WUR int prune_fn(struct berth_engine *e, const void *arg, struct removal *rm, berth_error_t *err)
{
  bool changed = true;
  while (changed) { /* a parent becomes prunable once its children went */
    changed = false;
    if (prune_pass(e, arg, rm, &changed, err) < 0)
      return -1;
  }
  return 0;
}

int berth_images_prune(struct berth_engine *e, bool all, char ***events, uint64_t *reclaimed,
                       berth_error_t *err)
{
  struct berth_images_prune_opts o = { .all = all };
  return berth_images_prune_filtered(e, &o, events, reclaimed, err);
}

int berth_images_prune_filtered(struct berth_engine *e, const struct berth_images_prune_opts *o,
                                char ***events, uint64_t *reclaimed, berth_error_t *err)
{
  struct removal rm = { .events = xcalloc(1, sizeof(char *)) };
  *reclaimed = 0;
  int r = in_transaction(e, &rm, reclaimed, prune_fn, o, err);
  if (r == 0)
    *events = steal_ptr(rm.events);
  removal_release(&rm);
  return r;
}
