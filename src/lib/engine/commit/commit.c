/* `berth diff` and `berth commit`: the container's upper dir against its image's layers, or made
 * a layer of a new image (images/images_commit.c does the store's part). */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/log.h"
#include "base/strbuf.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/commit/commit_internal.h"
#include "engine/containers/containers.h"
#include "engine/images/images.h"

/* the container's upper dir and its image's layer dirs (top first), opened */
struct dirs {
  int upper;
  int *lowers;
  size_t n;
};

static void dirs_close(struct dirs *d)
{
  if (d->upper >= 0)
    close(d->upper);
  for (size_t i = 0; i < d->n; i++)
    if (d->lowers[i] >= 0)
      close(d->lowers[i]);
  free(d->lowers);
}

static BERTH_WUR int dirs_open(struct berth_engine *e, const struct berth_ctr *c, struct dirs *d,
                               berth_error_t *err)
{
  *d = (struct dirs){ .upper = -1 };
  cleanup_free char *upper = xasprintf("%s/upper", c->dir);
  d->upper = open(upper, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (d->upper < 0)
    return BERTH_ERR_ERRNO(err, "container %.12s: open `%s`", c->row.id, upper);
  struct berth_db_image img;
  int r = berth_db_image_get(e->db, c->row.image_id, &img, err);
  if (r <= 0)
    return r < 0 ? -1 : BERTH_ERR(err, "container %.12s: its image %s is gone", c->row.id, c->row.image_id);
  cleanup_strv char **lowers = berth_image_lowers(e, &img, xcalloc(1, sizeof(char *)));
  berth_db_image_release(&img);
  d->n = berth_strv_len(lowers);
  d->lowers = xcalloc(d->n ? d->n : 1, sizeof *d->lowers);
  for (size_t i = 0; i < d->n; i++)
    if ((d->lowers[i] = open(lowers[i], O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
      return BERTH_ERR_ERRNO(err, "open `%s`", lowers[i]);
  return 0;
}

int berth_commit_changes(struct berth_engine *e, const char *what, struct berth_change **out, size_t *n,
                         berth_error_t *err)
{
  struct berth_ctr c = { 0 };
  struct dirs d = { .upper = -1 };
  int r = berth_ctr_get(e, what, &c, err);
  if (r == 0 && (r = dirs_open(e, &c, &d, err)) == 0)
    r = commit_changes_of(d.upper, d.lowers, d.n, out, n, err);
  dirs_close(&d);
  berth_ctr_release(&c);
  return r;
}

/* the container's config as an image's "config": the keys an image carries */
static json_t *image_config(json_t *config)
{
  static const char *const keys[] = { "User",    "ExposedPorts", "Env",         "Entrypoint", "Cmd",
                                      "Volumes", "WorkingDir",   "Labels",      "StopSignal", "Healthcheck",
                                      "OnBuild", "ArgsEscaped",  "StopTimeout", "Shell" };
  json_t *out = json_object();
  for (size_t i = 0; i < BERTH_N_ELEMENTS(keys); i++) {
    json_t *v = json_object_get(config, keys[i]);
    if (v && !json_is_null(v) && !(json_is_string(v) && json_string_length(v) == 0))
      json_object_set(out, keys[i], v);
  }
  return out;
}

/* Docker's history line of a commit: the container's command */
static char *created_by(json_t *config)
{
  struct berth_strbuf b = BERTH_STRBUF_INIT;
  berth_strbuf_append(&b, "", 0);
  size_t i;
  json_t *w;
  json_array_foreach (json_object_get(config, "Cmd"), i, w)
    berth_strbuf_printf(&b, "%s%s", i ? " " : "", json_string_value(w) ? json_string_value(w) : "");
  return berth_strbuf_detach(&b);
}

static BERTH_WUR int commit_loaded(struct berth_engine *e, const struct berth_ctr *c,
                                   const struct berth_commit_opts *o, berth_digest_t id, berth_error_t *err)
{
  struct dirs d;
  if (dirs_open(e, c, &d, err) < 0) {
    dirs_close(&d);
    return -1;
  }
  json_t *config = image_config(c->config);
  cleanup_free char *by = created_by(c->config);
  struct berth_images_commit_opts co = { .parent = c->row.image_id,
                                         .upper_dirfd = d.upper,
                                         .config = config,
                                         .changes = o->changes,
                                         .author = o->author,
                                         .comment = o->message,
                                         .created_by = by,
                                         .container = c->row.id,
                                         .reference = o->reference };
  int r = berth_images_commit(e, &co, id, err);
  json_decref(config);
  dirs_close(&d);
  return r;
}

int berth_commit_container(struct berth_engine *e, const char *what, const struct berth_commit_opts *o,
                           berth_digest_t id, berth_error_t *err)
{
  struct berth_ctr c = { 0 };
  if (berth_ctr_get(e, what, &c, err) < 0)
    return -1;
  bool paused = false;
  int r = 0;
  if (o->pause && c.state == BERTH_CTR_RUNNING) { /* a consistent tree: nothing writes while it is read */
    r = berth_ctr_pause(e, c.row.id, err);
    paused = r == 0;
  }
  if (r == 0)
    r = commit_loaded(e, &c, o, id, err);
  if (paused) {
    berth_error_t uerr = NULL;
    if (berth_ctr_unpause(e, c.row.id, &uerr) < 0) {
      berth_log_warn("container %.12s: unpause after the commit: %s", c.row.id, uerr->msg);
      berth_error_release(&uerr);
    }
  }
  if (r == 0) {
    const char *attrs[] = {
      "comment", o->message ? o->message : "", "imageID", id, "imageRef", o->reference ? o->reference : "",
      "author",  o->author ? o->author : "",   NULL
    };
    berth_ctr_event(e, &c, "commit", attrs);
  }
  berth_ctr_release(&c);
  return r < 0 ? berth_error_wrap(err, "commit %s", what) : 0;
}
