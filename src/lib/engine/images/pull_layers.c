/* The layers of a pull: what is there already (a layer row by chain id, a stored blob, a layer
 * directory without its row), what to download (into the store and, streamed, into a staging
 * directory), and the rows of all of them once the downloads are done. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/xalloc.h"
#include "engine/images/pull_internal.h"
#include "image/tarsplit.h"

void pull_layers_release(struct pull_layers *pl)
{
  for (size_t i = 0; i < pl->n; i++) {
    if (pl->v[i].dirfd >= 0)
      close(pl->v[i].dirfd);
    if (pl->v[i].recfd >= 0)
      close(pl->v[i].recfd);
    if (pl->v[i].stage != NULL) {
      berth_ignore(berth_rm_rf(pl->v[i].stage, BERTH_IGNORED));
      free(pl->v[i].stage);
    }
  }
  free(pl->v);
  free(pl->tasks);
  free(pl->items);
  memset(pl, 0, sizeof *pl);
}

static void short_id(const char *digest, char out[16])
{
  snprintf(out, 16, "%.12s", berth_digest_hex(digest) ? berth_digest_hex(digest) : digest);
}

/* a layer to download into the store and (unless its directory is there) a fresh stage */
static BERTH_WUR int plan_download(struct berth_engine *e, struct pull_layer *l, bool extract,
                                   berth_error_t *err)
{
  l->download = true;
  if (!extract)
    return 0;
  l->stage = berth_store_mkstage(e->store, err);
  if (l->stage == NULL)
    return -1;
  cleanup_free char *diff = xasprintf("%s/diff", l->stage);
  l->dirfd = open(diff, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (l->dirfd < 0)
    return BERTH_ERR_ERRNO(err, "open `%s`", diff);
  cleanup_free char *rec = xasprintf("%s/" BERTH_TARSPLIT_FILE, l->stage);
  l->recfd = open(rec, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (l->recfd < 0)
    return BERTH_ERR_ERRNO(err, "create `%s`", rec);
  return 0;
}

static BERTH_WUR int plan_one(struct berth_engine *e, struct pull_layers *pl, size_t i, const char *diff_id,
                              berth_error_t *err)
{
  struct pull_layer *l = &pl->v[i];
  const struct berth_descriptor *d = &pl->m->layers[i];
  enum berth_compression c;
  if (berth_layer_media_type_compression(d->media_type, &c) < 0)
    return BERTH_ERR(err, "layer %zu (%s): media type `%s` is not a layer", i + 1, d->digest, d->media_type);
  berth_chain_id(i ? pl->v[i - 1].chain : NULL, diff_id, l->chain);
  short_id(d->digest, pl->items[i].id);
  pl->items[i].total = (uint64_t) d->size;
  pl->items[i].changed = true;
  struct berth_db_layer row;
  int r = berth_db_layer_get(e->db, l->chain, &row, err);
  if (r < 0)
    return -1;
  if (r > 0) {
    l->row = row;
    l->have_row = true;
    pl->items[i].state = BERTH_PROGRESS_EXISTS;
    return 0;
  }
  if (berth_store_has_blob(e->store, d->digest)) {
    pl->items[i].state = BERTH_PROGRESS_EXISTS;
    return 0; /* extracted from the stored blob afterwards */
  }
  return plan_download(e, l, !berth_store_has_layer(e->store, l->chain), err);
}

int pull_layers_plan(struct berth_engine *e, const struct berth_manifest *m,
                     const struct berth_imgconfig *cfg, struct pull_layers *pl, berth_error_t *err)
{
  memset(pl, 0, sizeof *pl);
  if (cfg->ndiff != m->n_layers)
    return BERTH_ERR(err, "the config lists %zu diff ids for %zu layers", cfg->ndiff, m->n_layers);
  pl->m = m;
  pl->n = m->n_layers;
  pl->v = xcalloc(pl->n ? pl->n : 1, sizeof *pl->v);
  pl->tasks = xcalloc(pl->n ? pl->n : 1, sizeof *pl->tasks);
  pl->items = xcalloc(pl->n ? pl->n : 1, sizeof *pl->items);
  for (size_t i = 0; i < pl->n; i++)
    pl->v[i].dirfd = pl->v[i].recfd = -1;
  for (size_t i = 0; i < pl->n; i++)
    if (plan_one(e, pl, i, cfg->diff_ids[i], err) < 0)
      return -1;
  return 0;
}

int pull_layers_fetch(struct berth_engine *e, struct berth_registry *r, const char *repo,
                      struct pull_layers *pl, struct berth_progress *progress, struct ingest_files *added,
                      berth_error_t *err)
{
  /* the downloads only (progress items in their order) */
  size_t nt = 0;
  size_t *which = xcalloc(pl->n ? pl->n : 1, sizeof *which);
  for (size_t i = 0; i < pl->n; i++)
    if (pl->v[i].download) {
      pl->tasks[nt] = (struct berth_blob_task){ .desc = &pl->m->layers[i],
                                                .store_blob = true,
                                                .extract_dirfd = pl->v[i].dirfd,
                                                .record_fd = pl->v[i].recfd };
      which[nt++] = i;
    }
  struct berth_progress_item *items = xcalloc(nt ? nt : 1, sizeof *items);
  for (size_t k = 0; k < nt; k++)
    items[k] = pl->items[which[k]];
  struct berth_progress sub = progress ? *progress : (struct berth_progress){ .fd = -1 };
  sub.items = items;
  sub.n = nt;
  int rc = berth_registry_fetch_blobs(r, repo, e->store, &e->limits, pl->tasks, nt, &sub, err);
  for (size_t k = 0; k < nt; k++) {
    pl->v[which[k]].info = pl->tasks[k].info;
    pl->v[which[k]].unsafe = pl->tasks[k].unsafe;
    if (pl->tasks[k].done)
      ingest_files_add_blob(added, pl->m->layers[which[k]].digest);
  }
  free(items);
  free(which);
  return rc;
}

/* the rows of every layer: kept, staged during the download, or extracted from a stored blob */
int pull_layers_finish(struct berth_engine *e, struct pull_layers *pl, const struct berth_imgconfig *cfg,
                       struct ingest_files *added, berth_db_layer_rows *rows, berth_error_t *err)
{
  struct berth_db_layer *v = xcalloc(pl->n ? pl->n : 1, sizeof *v);
  for (size_t i = 0; i < pl->n; i++) {
    struct pull_layer *l = &pl->v[i];
    const char *blob = pl->m->layers[i].digest, *parent = i ? v[i - 1].chain_id : NULL;
    int r = 0;
    if (l->have_row) {
      v[i] = l->row;
    } else if (l->stage != NULL) {
      close(l->dirfd);
      close(l->recfd);
      l->dirfd = l->recfd = -1;
      r = ingest_layer_staged(e, l->stage, &l->info, l->unsafe, blob, parent, cfg->diff_ids[i], &v[i], added,
                              err);
      free(l->stage);
      l->stage = NULL;
    } else {
      cleanup_free char *what = xasprintf("layer %zu (%s)", i + 1, blob);
      r = ingest_layer(e, blob, parent, cfg->diff_ids[i], what, &v[i], added, err);
    }
    if (r < 0) {
      free(v);
      return -1;
    }
  }
  *rows = v;
  return 0;
}
