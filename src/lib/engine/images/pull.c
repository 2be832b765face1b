/* berth pull: resolve the reference (mirrors first), say "up to date" when the image and its
 * tag are already here, else store manifest and config, download the missing layers (streamed
 * into extraction) and record everything in one transaction. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/images/pull_internal.h"

void berth_pull_result_release(struct berth_pull_result *r)
{
  free(r->name);
  r->name = NULL;
}

static void say(const struct berth_transfer_opts *o, const char *fmt, ...)
  __attribute__((format(printf, 2, 3)));
static void say(const struct berth_transfer_opts *o, const char *fmt, ...)
{
  if (o->progress_fd < 0)
    return;
  va_list ap;
  va_start(ap, fmt);
  char *s = NULL;
  if (vasprintf(&s, fmt, ap) < 0)
    berth_oom();
  va_end(ap);
  berth_ignore(berth_write_all(o->progress_fd, s, strlen(s)));
  free(s);
}

/* a client for a mirror ("host[:port]" or a URL) or, mirror NULL, the registry itself */
static BERTH_WUR int open_client(const struct berth_transfer_opts *o, const char *registry,
                                 const char *mirror, struct berth_registry **r, berth_error_t *err)
{
  if (mirror == NULL)
    return berth_registry_new(registry, NULL, &o->reg, r, err);
  const char *host = mirror;
  if (berth_str_has_prefix(host, "http://"))
    host += 7;
  else if (berth_str_has_prefix(host, "https://"))
    host += 8;
  cleanup_free char *name = xstrndup(host, strcspn(host, "/"));
  return berth_registry_new(name, strchr(mirror, '/') ? mirror : NULL, &o->reg, r, err);
}

/* the image from the first mirror that has it, else from the registry */
static BERTH_WUR int resolve(const struct berth_transfer_opts *o, const struct berth_ref *ref,
                             const char *what, const struct berth_platform_want *want,
                             struct berth_registry **out, struct berth_registry_image *im, berth_error_t *err)
{
  const char *tag_or_digest = ref->digest ? ref->digest : ref->tag;
  char *const *mirrors = berth_registry_mirrors(o->reg.conf, ref->registry);
  for (char *const *m = mirrors; m && *m; m++) {
    struct berth_registry *r = NULL;
    berth_error_t merr = NULL;
    if (open_client(o, ref->registry, *m, &r, &merr) == 0 &&
        berth_registry_resolve(r, ref->repository, tag_or_digest, want, im, &merr) == 0) {
      *out = r;
      return 0;
    }
    berth_log_debug("mirror %s: %s; trying the next", *m, merr->msg);
    berth_error_release(&merr);
    berth_registry_free(r);
  }
  struct berth_registry *r = NULL;
  if (open_client(o, ref->registry, NULL, &r, err) < 0 ||
      berth_registry_resolve(r, ref->repository, tag_or_digest, want, im, err) < 0) {
    berth_registry_free(r);
    return berth_error_wrap(err, "pull %s", what);
  }
  *out = r;
  return 0;
}

/* 1 when the image is here and its tag and repo digest already point at it */
static BERTH_WUR int up_to_date(struct berth_engine *e, const char *tag_name, const char *repo_digest,
                                const char *id, berth_error_t *err)
{
  struct berth_db_image img;
  int r = berth_db_image_get(e->db, id, &img, err);
  if (r <= 0)
    return r;
  berth_db_image_release(&img);
  berth_digest_t have;
  if (tag_name != NULL && ((r = berth_db_tag_get(e->db, tag_name, have, err)) <= 0 || strcmp(have, id) != 0))
    return r < 0 ? -1 : 0;
  if ((r = berth_db_repo_digest_find(e->db, repo_digest, have, err)) <= 0 || strcmp(have, id) != 0)
    return r < 0 ? -1 : 0;
  return 1;
}

struct pull_job {
  struct berth_engine *e;
  const struct berth_transfer_opts *o;
  struct berth_registry *r;
  const struct berth_ref *ref;
  struct berth_registry_image im;
  char *tag_name;    /* full name with tag, or NULL for a digest reference */
  char *repo_digest; /* registry/repo@digest */
  struct ingest_files added;
  struct berth_imgconfig cfg;
};

static void progress_init(const struct berth_transfer_opts *o, struct berth_progress *p)
{
  memset(p, 0, sizeof *p);
  p->fd = o->progress_fd;
  p->view.tty = o->tty;
  p->view.width = o->width;
}

/* store manifest and config, download and extract, record */
/* the compressed forms this registry serves of the image's layers, for a later push (a layer kept
 * by its tar-split has no blob: the push names this one when the registry has it) */
static void record_sources(struct pull_job *j)
{
  cleanup_free char *repo = xasprintf("%s/%s", j->ref->registry, j->ref->repository);
  for (size_t i = 0; i < j->im.m->n_layers && i < j->cfg.ndiff; i++) {
    const struct berth_descriptor *d = &j->im.m->layers[i];
    struct berth_db_layer_source src = { .size = (uint64_t) d->size,
                                         .media_type = d->media_type,
                                         .repository = repo };
    snprintf(src.diff_id, sizeof src.diff_id, "%s", j->cfg.diff_ids[i]);
    snprintf(src.digest, sizeof src.digest, "%s", d->digest);
    berth_ignore(berth_db_layer_source_put(j->e->db, &src, BERTH_IGNORED));
  }
}

static BERTH_WUR int fetch_and_record(struct pull_job *j, berth_digest_t id, berth_error_t *err)
{
  struct berth_engine *e = j->e;
  struct berth_registry_image *im = &j->im;
  if (berth_registry_get_config(j->r, j->ref->repository, im, err) < 0 ||
      berth_store_put_bytes(e->store, im->config.data, im->config.len, im->config.digest, NULL, err) < 0)
    return -1;
  ingest_files_add_blob(&j->added, im->config.digest);
  if (berth_store_put_bytes(e->store, im->manifest.data, im->manifest.len, im->manifest.digest, NULL, err) <
      0)
    return -1;
  ingest_files_add_blob(&j->added, im->manifest.digest);
  cleanup_free char *cname = xasprintf("config %s", im->config.digest);
  if (berth_imgconfig_parse(im->config.data, im->config.len, cname, &j->cfg, err) < 0)
    return -1;
  struct pull_layers pl;
  struct berth_progress progress;
  progress_init(j->o, &progress);
  berth_db_layer_rows rows = NULL;
  int rc = pull_layers_plan(e, im->m, &j->cfg, &pl, err);
  for (size_t i = 0; rc == 0 && i < pl.n; i++) /* what is here already, once */
    if (!pl.v[i].download)
      say(j->o, "%s: Already exists\n", pl.items[i].id);
  if (rc == 0)
    rc = pull_layers_fetch(e, j->r, j->ref->repository, &pl, &progress, &j->added, err);
  if (rc == 0)
    rc = pull_layers_finish(e, &pl, &j->cfg, &j->added, &rows, err);
  char **blobs = xcalloc(pl.n + 1, sizeof(char *));
  for (size_t i = 0; i < pl.n; i++)
    blobs[i] = im->m->layers[i].digest;
  char *tags[] = { j->tag_name, NULL }, *digests[] = { j->repo_digest, NULL };
  struct ingest_image in = { .config = im->config.digest,
                             .config_media_type = im->config.media_type,
                             .manifest = im->manifest.digest,
                             .manifest_media_type = im->manifest.media_type,
                             .nlayers = pl.n,
                             .layer_blobs = blobs,
                             .prepared = rows,
                             .tags = tags,
                             .repo_digests = digests,
                             .what = j->repo_digest };
  if (rc == 0)
    rc = ingest_image(e, &in, &j->added, id, err);
  if (rc == 0)
    record_sources(j);
  free(blobs);
  free(rows);
  pull_layers_release(&pl);
  return rc;
}

static BERTH_WUR int pull_one(struct berth_engine *e, const struct berth_ref *ref,
                              const struct berth_transfer_opts *o, const struct berth_platform_want *want,
                              struct berth_pull_result *res, berth_error_t *err)
{
  cleanup_free char *full = berth_ref_string(ref), *name = berth_ref_name(ref);
  struct pull_job j = { .e = e, .o = o, .ref = ref };
  if (resolve(o, ref, full, want, &j.r, &j.im, err) < 0)
    return -1;
  say(o, "%s: Pulling from %s\n", ref->digest ? ref->digest : ref->tag, ref->repository);
  j.tag_name = ref->tag && !ref->digest ? xasprintf("%s:%s", name, ref->tag) : NULL;
  j.repo_digest = xasprintf("%s@%s", name, j.im.index.data ? j.im.index.digest : j.im.manifest.digest);
  memset(res, 0, sizeof *res);
  snprintf(res->digest, sizeof res->digest, "%s", j.im.index.data ? j.im.index.digest : j.im.manifest.digest);
  res->name = xstrdup(full);
  int rc = up_to_date(e, j.tag_name, j.repo_digest, j.im.m->config.digest, err);
  if (rc > 0) {
    res->up_to_date = true;
    snprintf(res->id, sizeof res->id, "%s", j.im.m->config.digest);
    rc = 0;
  } else if (rc == 0) {
    rc = fetch_and_record(&j, res->id, err);
    /* what no row refers to: a failed pull's files, and the blobs of layers kept by their tar-split */
    berth_error_t cerr = NULL;
    if (ingest_files_cleanup(e, &j.added, &cerr) < 0) {
      berth_log_warn("pull %s: cleanup: %s", full, cerr->msg);
      berth_error_release(&cerr);
    }
    if (rc < 0)
      berth_error_wrap(err, "pull %s", full);
  }
  if (rc == 0) {
    const char *attrs[] = { "name", full, NULL };
    berth_engine_event(e, "image", "pull", full, attrs);
  }
  if (rc == 0)
    say(o, "Digest: %s\nStatus: %s for %s\n", res->digest,
        res->up_to_date ? "Image is up to date" : "Downloaded newer image", full);
  ingest_files_release(&j.added);
  berth_imgconfig_release(&j.cfg);
  berth_registry_image_release(&j.im);
  berth_registry_free(j.r);
  free(j.tag_name);
  free(j.repo_digest);
  return rc;
}

static BERTH_WUR int pull_all_tags(struct berth_engine *e, struct berth_ref *ref,
                                   const struct berth_transfer_opts *o,
                                   const struct berth_platform_want *want, struct berth_pull_result *res,
                                   berth_error_t *err)
{
  if (ref->digest != NULL || (ref->tag != NULL && strcmp(ref->tag, "latest") != 0))
    return BERTH_ERR(err, "tag can't be used with --all-tags/-a");
  struct berth_registry *r = NULL;
  cleanup_strv char **tags = NULL;
  if (open_client(o, ref->registry, NULL, &r, err) < 0)
    return -1;
  int rc = berth_registry_list_tags(r, ref->repository, &tags, err);
  berth_registry_free(r);
  if (rc < 0)
    return berth_error_wrap(err, "pull %s/%s", ref->registry, ref->repository);
  for (char **t = tags; *t; t++) {
    free(ref->tag);
    ref->tag = xstrdup(*t);
    berth_pull_result_release(res);
    if (pull_one(e, ref, o, want, res, err) < 0)
      return -1;
  }
  return 0;
}

int berth_images_pull(struct berth_engine *e, const char *input, const struct berth_transfer_opts *o,
                      struct berth_pull_result *res, berth_error_t *err)
{
  memset(res, 0, sizeof *res);
  struct berth_platform_want want;
  struct berth_ref ref;
  if (berth_platform_want_parse(o->platform, &want, err) < 0 ||
      berth_registry_normalize(o->reg.conf, input, &ref, err) < 0)
    return -1;
  if (berth_engine_lock(e, false, err) < 0) {
    berth_ref_release(&ref);
    return -1;
  }
  int rc = o->all_tags ? pull_all_tags(e, &ref, o, &want, res, err) : pull_one(e, &ref, o, &want, res, err);
  berth_engine_unlock(e);
  berth_ref_release(&ref);
  return rc;
}
