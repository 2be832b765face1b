/* berth push: the image's layers as stored compressed blobs (an uncompressed one is gzipped
 * once and that blob becomes the layer's, for every later push), its config and a manifest —
 * the one it was pulled with when its layers are still those blobs, else a new OCI manifest.
 * A layer kept by its tar-split (no blob) is named by the compressed form this registry was seen
 * to have, when it still has it; else its rebuilt tar is gzipped into a temporary file for this
 * push, and what the registry then has is remembered (layer_sources) for the next one. */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/images/images_internal.h"

struct push_layer {
  berth_digest_t chain, blob;
  const char *media_type;
  uint64_t size;
  struct berth_db_layer row;
  char *source_repo; /* split: the repository of this registry known to have blob, or NULL */
  char *source_mt;   /* split: blob's media type, from where it was seen */
  int fd;            /* split: the gzip made for this push (a temporary file), or -1 */
  char **mounts;     /* split: the image's mount sources and source_repo */
};

/* gzip a stored blob into a new one (digest out) */
static BERTH_WUR int gzip_blob(struct berth_engine *e, const char *blob, berth_digest_t out, uint64_t *size,
                               berth_error_t *err)
{
  cleanup_close int in = berth_store_open_blob(e->store, blob, err);
  berth_blob_writer_t *w = NULL;
  if (in < 0 || berth_blob_writer_new(e->store, &w, err) < 0)
    return -1;
  z_stream zs = { 0 };
  /* windowBits 16+15: a gzip header without name or time, so the same layer gives the same bytes */
  if (deflateInit2(&zs, 1, Z_DEFLATED, 16 + 15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    berth_oom();
  size_t cap = 1 << 18;
  cleanup_free unsigned char *ibuf = xmalloc(cap), *obuf = xmalloc(cap);
  int rc = 0, flush = Z_NO_FLUSH;
  while (rc == 0 && flush != Z_FINISH) {
    ssize_t n = berth_read_all(in, ibuf, cap);
    if (n < 0) {
      rc = BERTH_ERR_ERRNO(err, "read blob %s", blob);
      break;
    }
    flush = (size_t) n < cap ? Z_FINISH : Z_NO_FLUSH;
    zs.next_in = ibuf;
    zs.avail_in = (uInt) n;
    do {
      zs.next_out = obuf;
      zs.avail_out = (uInt) cap;
      (void) deflate(&zs, flush);
      rc = berth_blob_write(w, obuf, cap - zs.avail_out, err);
    } while (rc == 0 && zs.avail_out == 0);
  }
  deflateEnd(&zs);
  if (rc == 0)
    rc = berth_blob_writer_commit(w, NULL, out, size, err);
  berth_blob_writer_free(w);
  return rc;
}

/* the layer's blob becomes its gzip form (recorded; the old blob goes when nobody uses it) */
static BERTH_WUR int compress_layer(struct berth_engine *e, struct push_layer *l, berth_error_t *err)
{
  berth_digest_t gz;
  uint64_t size = 0;
  if (gzip_blob(e, l->blob, gz, &size, err) < 0)
    return berth_error_wrap(err, "compress layer %s", l->chain);
  berth_log_debug("layer %s: %s compressed to %s", l->chain, l->blob, gz);
  int64_t users = 0;
  cleanup_strv char **gone = xcalloc(2, sizeof(char *));
  int rc = berth_db_begin(e->db, err);
  if (rc == 0 &&
      (berth_db_blob_put(e->db, gz, size, BERTH_MT_OCI_LAYER_GZIP, err) < 0 ||
       berth_db_layer_set_blob(e->db, l->chain, gz, err) < 0 ||
       berth_db_blob_users(e->db, l->blob, &users, err) < 0 ||
       (users == 0 && berth_db_blob_delete(e->db, l->blob, err) < 0) || berth_db_commit(e->db, err) < 0))
    rc = -1;
  if (rc < 0) {
    berth_db_rollback(e->db);
    return -1;
  }
  if (users == 0) {
    gone[0] = xstrdup(l->blob);
    berth_error_t rerr = NULL;
    if (berth_engine_remove_unreferenced(e, NULL, gone, NULL, &rerr) < 0) {
      berth_log_warn("remove blob %s: %s", l->blob, rerr->msg);
      berth_error_release(&rerr);
    }
  }
  snprintf(l->blob, sizeof l->blob, "%s", gz);
  l->media_type = BERTH_MT_OCI_LAYER_GZIP;
  l->size = size;
  return 0;
}

static BERTH_WUR int blob_size(struct berth_engine *e, const char *digest, uint64_t *size, berth_error_t *err)
{
  struct berth_db_blob b = { 0 };
  int r = berth_db_blob_get(e->db, digest, &b, err);
  if (r > 0)
    *size = b.size;
  berth_db_blob_release(&b);
  if (r == 0)
    return BERTH_ERR(err, "blob %s: not in the catalogue", digest);
  return r < 0 ? -1 : 0;
}

/* A layer kept by its tar-split has no blob: the compressed form this registry was seen to have
 * (a pull from it, an earlier push), if any, is tried first (probe_split); else one is made. */
static BERTH_WUR int prepare_split(struct berth_engine *e, const char *registry, struct push_layer *l,
                                   berth_error_t *err)
{
  struct berth_db_layer_source *v = NULL;
  size_t n = 0;
  if (berth_db_layer_sources(e->db, l->row.diff_id, &v, &n, err) < 0)
    return -1;
  size_t rl = strlen(registry);
  for (size_t i = 0; i < n && l->source_repo == NULL; i++)
    if (strncmp(v[i].repository, registry, rl) == 0 && v[i].repository[rl] == '/' &&
        (strcmp(v[i].media_type, BERTH_MT_OCI_LAYER_GZIP) == 0 ||
         strcmp(v[i].media_type, BERTH_MT_DOCKER_LAYER_GZIP) == 0 ||
         strcmp(v[i].media_type, BERTH_MT_OCI_LAYER_ZSTD) == 0)) {
      l->source_repo = xstrdup(v[i].repository + rl + 1);
      l->source_mt = xstrdup(v[i].media_type);
      snprintf(l->blob, sizeof l->blob, "%s", v[i].digest);
      l->size = v[i].size;
    }
  berth_db_layer_sources_free(v, n);
  l->media_type = l->source_mt;
  return 0;
}

static BERTH_WUR int prepare_layer(struct berth_engine *e, const char *registry, const char *chain,
                                   struct push_layer *l, berth_error_t *err)
{
  struct berth_db_layer row;
  l->fd = -1;
  int r = berth_db_layer_get(e->db, chain, &row, err);
  if (r <= 0)
    return r < 0 ? -1 : BERTH_ERR(err, "layer %s: not in the catalogue", chain);
  l->row = row;
  snprintf(l->chain, sizeof l->chain, "%s", chain);
  if (row.tar_split)
    return prepare_split(e, registry, l, err);
  snprintf(l->blob, sizeof l->blob, "%s", row.blob_digest);
  if (row.blob_digest[0] == '\0' || !berth_store_has_blob(e->store, row.blob_digest))
    return BERTH_ERR(err, "layer %s: its blob is not in the store (berth system check)", chain);
  if (images_layer_media_type(e, l->blob, &l->media_type, err) < 0)
    return -1;
  if (strcmp(l->media_type, BERTH_MT_OCI_LAYER) == 0)
    return compress_layer(e, l, err);
  return blob_size(e, l->blob, &l->size, err);
}

/* the stored manifest, when its layers are exactly ours; else NULL */
static char *stored_manifest(struct berth_engine *e, const struct berth_db_image *img,
                             const struct push_layer *ls, size_t *len, const char **media_type)
{
  if (img->manifest_digest[0] == '\0')
    return NULL;
  char *data = NULL;
  berth_error_t rerr = NULL;
  struct berth_manifest *m = NULL;
  if (berth_store_read_blob(e->store, img->manifest_digest, 4u << 20, &data, len, &rerr) < 0 ||
      berth_manifest_parse(data, *len, img->manifest_digest, &m, &rerr) < 0) {
    berth_error_release(&rerr);
    free(data);
    return NULL;
  }
  bool same = m->n_layers == img->nlayers && strcmp(m->config.digest, img->id) == 0;
  for (size_t i = 0; same && i < m->n_layers; i++)
    same = strcmp(m->layers[i].digest, ls[i].blob) == 0;
  *media_type = m->media_type && strcmp(m->media_type, BERTH_MT_DOCKER_MANIFEST) == 0
                  ? BERTH_MT_DOCKER_MANIFEST
                  : BERTH_MT_OCI_MANIFEST;
  berth_manifest_free(m);
  if (!same) {
    free(data);
    return NULL;
  }
  return data;
}

static BERTH_WUR char *build_manifest(struct berth_engine *e, const struct berth_db_image *img,
                                      const struct push_layer *ls, size_t *len, berth_error_t *err)
{
  struct berth_db_blob cb = { 0 };
  if (berth_db_blob_get(e->db, img->id, &cb, err) <= 0) {
    berth_db_blob_release(&cb);
    if (*err == NULL)
      BERTH_ERR(err, "config %s: not in the catalogue", img->id);
    return NULL;
  }
  struct berth_manifest m = { .schema_version = 2, .media_type = (char *) BERTH_MT_OCI_MANIFEST };
  m.config.media_type = cb.media_type && cb.media_type[0] ? cb.media_type : (char *) BERTH_MT_OCI_CONFIG;
  snprintf(m.config.digest, sizeof m.config.digest, "%s", img->id);
  m.config.size = (int64_t) cb.size;
  m.n_layers = img->nlayers;
  m.layers = xcalloc(img->nlayers ? img->nlayers : 1, sizeof *m.layers);
  for (size_t i = 0; i < img->nlayers; i++) {
    m.layers[i].media_type = (char *) ls[i].media_type;
    snprintf(m.layers[i].digest, sizeof m.layers[i].digest, "%s", ls[i].blob);
    m.layers[i].size = (int64_t) ls[i].size;
  }
  char *out = berth_manifest_build(&m, len);
  free(m.layers);
  berth_db_blob_release(&cb);
  return out;
}

/* repositories of this registry that have the image (its repo digests): mount sources */
static BERTH_WUR char **mount_sources(struct berth_engine *e, const char *id, const char *registry,
                                      berth_error_t *err)
{
  cleanup_strv char **rds = NULL;
  char **out = xcalloc(1, sizeof(char *));
  if (berth_db_repo_digests_of(e->db, id, &rds, err) < 0) {
    berth_strv_free(out);
    return NULL;
  }
  size_t n = strlen(registry);
  for (char **p = rds; *p; p++)
    if (strncmp(*p, registry, n) == 0 && (*p)[n] == '/') {
      cleanup_free char *repo = xstrndup(*p + n + 1, strcspn(*p + n + 1, "@"));
      out = berth_strv_append(out, repo);
    }
  return out;
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

struct push_job {
  struct berth_engine *e;
  const struct berth_transfer_opts *o;
  const struct berth_ref *ref;
  struct berth_db_image img;
  struct push_layer *ls;
  struct berth_push_blob *blobs; /* layers, then the config */
  size_t nblobs;
  char **mount_from;
  size_t manifest_len;
};

static void push_job_release(struct push_job *j)
{
  for (size_t i = 0; i < j->nblobs; i++)
    if (j->blobs[i].fd >= 0)
      close(j->blobs[i].fd);
  for (size_t i = 0; j->ls && i < j->img.nlayers; i++) {
    if (j->ls[i].fd >= 0)
      close(j->ls[i].fd);
    free(j->ls[i].source_repo);
    free(j->ls[i].source_mt);
    berth_strv_free(j->ls[i].mounts);
  }
  free(j->blobs);
  free(j->ls);
  berth_strv_free(j->mount_from);
  berth_db_image_release(&j->img);
}

static BERTH_WUR int open_blobs(struct push_job *j, berth_error_t *err)
{
  j->nblobs = j->img.nlayers + 1;
  j->blobs = xcalloc(j->nblobs, sizeof *j->blobs);
  for (size_t i = 0; i < j->nblobs; i++)
    j->blobs[i].fd = -1;
  for (size_t i = 0; i < j->nblobs; i++) {
    struct berth_push_blob *b = &j->blobs[i];
    snprintf(b->digest, sizeof b->digest, "%s", i < j->img.nlayers ? j->ls[i].blob : j->img.id);
    if (i < j->img.nlayers)
      b->size = j->ls[i].size;
    else if (blob_size(j->e, j->img.id, &b->size, err) < 0)
      return -1;
    b->mount_from = j->mount_from;
    struct push_layer *l = i < j->img.nlayers ? &j->ls[i] : NULL;
    if (l && l->row.tar_split) { /* made for this push, or the registry has it (or mounts it) */
      if (l->source_repo && l->source_repo[0]) {
        l->mounts = berth_strv_dup(j->mount_from);
        bool listed = false;
        for (char **m = l->mounts; *m; m++)
          listed = listed || strcmp(*m, l->source_repo) == 0;
        if (!listed)
          l->mounts = berth_strv_append(l->mounts, l->source_repo);
        b->mount_from = l->mounts;
      }
      if (l->fd >= 0 && (b->fd = fcntl(l->fd, F_DUPFD_CLOEXEC, 3)) < 0)
        return BERTH_ERR_ERRNO(err, "layer %s", l->chain);
      continue;
    }
    if ((b->fd = berth_store_open_blob(j->e->store, b->digest, err)) < 0)
      return -1;
  }
  return 0;
}

/* the split layers' known compressed forms: does the registry have them (or can it mount them from
 * where they were seen)? Those it lacks, and layers with none known, are gzipped for this push. */
static BERTH_WUR int probe_split(struct push_job *j, struct berth_registry *r, berth_error_t *err)
{
  char *mount[2] = { NULL, NULL };
  int rc = 0;
  for (size_t i = 0; i < j->img.nlayers; i++) {
    struct push_layer *l = &j->ls[i];
    if (!l->row.tar_split || l->source_repo == NULL)
      continue;
    struct berth_push_blob probe = { .size = l->size, .fd = -1, .probe_only = true };
    snprintf(probe.digest, sizeof probe.digest, "%s", l->blob);
    mount[0] = l->source_repo;
    probe.mount_from = strcmp(l->source_repo, j->ref->repository) ? mount : NULL;
    if ((rc = berth_registry_push_blobs(r, j->ref->repository, &probe, 1, NULL, err)) < 0)
      break;
    if (probe.missing)
      l->source_repo[0] = '\0';
  }
  for (size_t i = 0; rc == 0 && i < j->img.nlayers; i++) {
    struct push_layer *l = &j->ls[i];
    if (!l->row.tar_split || (l->source_repo && l->source_repo[0]))
      continue;
    rc = images_layer_gzip(j->e, &l->row, &l->fd, l->blob, &l->size, err);
    l->media_type = BERTH_MT_OCI_LAYER_GZIP;
    berth_log_debug("layer %s: kept by its tar-split, gzipped to %s for this push", l->chain, l->blob);
  }
  return rc;
}

/* what this registry now has of the split layers, for the next push */
static void record_sources(struct push_job *j)
{
  cleanup_free char *repo = xasprintf("%s/%s", j->ref->registry, j->ref->repository);
  for (size_t i = 0; i < j->img.nlayers; i++) {
    const struct push_layer *l = &j->ls[i];
    struct berth_db_layer_source src = { .size = l->size,
                                         .media_type = (char *) l->media_type,
                                         .repository = repo };
    snprintf(src.diff_id, sizeof src.diff_id, "%s", l->row.diff_id);
    snprintf(src.digest, sizeof src.digest, "%s", l->blob);
    berth_ignore(berth_db_layer_source_put(j->e->db, &src, BERTH_IGNORED));
  }
}

static BERTH_WUR int send_all(struct push_job *j, struct berth_registry *r, berth_digest_t digest,
                              berth_error_t *err)
{
  struct berth_progress p = { .fd = j->o->progress_fd,
                              .view = { .push = true, .tty = j->o->tty, .width = j->o->width } };
  p.items = xcalloc(j->nblobs, sizeof *p.items);
  p.n = j->nblobs - 1; /* the config is not shown, as Docker does */
  for (size_t i = 0; i < j->nblobs; i++) {
    snprintf(p.items[i].id, sizeof p.items[i].id, "%.12s", berth_digest_hex(j->blobs[i].digest));
    p.items[i].total = j->blobs[i].size;
    p.items[i].changed = true;
  }
  int rc = berth_registry_push_blobs(r, j->ref->repository, j->blobs, j->nblobs, &p, err);
  free(p.items);
  if (rc < 0)
    return -1;
  size_t len = 0;
  const char *mt = BERTH_MT_OCI_MANIFEST;
  cleanup_free char *m = stored_manifest(j->e, &j->img, j->ls, &len, &mt);
  if (m == NULL && (m = build_manifest(j->e, &j->img, j->ls, &len, err)) == NULL)
    return -1;
  const char *where = j->ref->tag && !j->ref->digest ? j->ref->tag : NULL;
  char computed[BERTH_DIGEST_LEN + 1];
  berth_digest_bytes(m, len, computed);
  j->manifest_len = len;
  if (j->ref->digest != NULL && strcmp(j->ref->digest, computed) != 0)
    return BERTH_ERR(err, "the image's manifest is %s, not %s", computed, j->ref->digest);
  return berth_registry_put_manifest(r, j->ref->repository, where ? where : computed, mt, m, len, digest,
                                     err);
}

static BERTH_WUR int record_repo_digest(struct berth_engine *e, const struct berth_ref *ref, const char *id,
                                        const char *digest, berth_error_t *err)
{
  cleanup_free char *name = berth_ref_name(ref);
  cleanup_free char *rd = xasprintf("%s@%s", name, digest);
  if (berth_db_begin(e->db, err) < 0)
    return -1;
  if (berth_db_repo_digest_add(e->db, rd, id, err) < 0 || berth_db_commit(e->db, err) < 0) {
    berth_db_rollback(e->db);
    return -1;
  }
  return 0;
}

static BERTH_WUR int push_image(struct push_job *j, berth_digest_t digest, berth_error_t *err)
{
  struct berth_engine *e = j->e;
  j->ls = xcalloc(j->img.nlayers ? j->img.nlayers : 1, sizeof *j->ls);
  for (size_t i = 0; i < j->img.nlayers; i++)
    j->ls[i].fd = -1;
  for (size_t i = 0; i < j->img.nlayers; i++)
    if (prepare_layer(e, j->ref->registry, j->img.chain_ids[i], &j->ls[i], err) < 0)
      return -1;
  struct berth_registry *r = NULL;
  if (berth_registry_new(j->ref->registry, NULL, &j->o->reg, &r, err) < 0)
    return -1;
  int rc = probe_split(j, r, err);
  if (rc == 0 && ((j->mount_from = mount_sources(e, j->img.id, j->ref->registry, err)) == NULL ||
                  open_blobs(j, err) < 0))
    rc = -1;
  if (rc == 0)
    rc = send_all(j, r, digest, err);
  berth_registry_free(r);
  if (rc == 0)
    record_sources(j);
  if (rc == 0)
    rc = record_repo_digest(e, j->ref, j->img.id, digest, err);
  return rc;
}

int berth_images_push(struct berth_engine *e, const char *input, const struct berth_transfer_opts *o,
                      berth_digest_t digest, berth_error_t *err)
{
  struct berth_ref ref;
  if (berth_registry_normalize(o->reg.conf, input, &ref, err) < 0)
    return -1;
  cleanup_free char *full = berth_ref_string(&ref);
  struct push_job j = { .e = e, .o = o, .ref = &ref };
  berth_digest_t id;
  int rc = berth_engine_resolve(e, full, id, NULL, err);
  if (rc == 0 && berth_db_image_get(e->db, id, &j.img, err) <= 0)
    rc = *err ? -1 : BERTH_ERR(err, "no such image: `%s`", input);
  if (rc == 0 && (rc = berth_engine_lock(e, false, err)) == 0) {
    say(o, "The push refers to repository [%s/%s]\n", ref.registry, ref.repository);
    rc = push_image(&j, digest, err);
    berth_engine_unlock(e);
  }
  if (rc == 0) {
    const char *attrs[] = { "name", full, NULL };
    berth_engine_event(e, "image", "push", full, attrs);
    say(o, "%s: digest: %s size: %zu\n", ref.tag ? ref.tag : ref.digest, digest, j.manifest_len);
  }
  push_job_release(&j);
  berth_ref_release(&ref);
  return rc < 0 ? berth_error_wrap(err, "push %s", full) : 0;
}
