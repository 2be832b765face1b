/* Pushes: for each blob a HEAD (already there?), a cross-repository mount from a repository of
 * the same registry that has it, or an upload — one PUT up to chunk_size, PATCH chunks and a
 * closing PUT above — in parallel worker threads; then the manifest. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/cleanup.h"
#include "base/log.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "registry/registry_int.h"

struct push_ctx {
  struct berth_registry *r;
  const char *repo;
  struct berth_push_blob *blobs;
  struct berth_progress_item *items;
  size_t n;
  size_t next; /* atomic: the next blob to take */
  int failed;  /* atomic */
  berth_error_t *errs;
};

static void set_item(struct berth_progress_item *it, enum berth_progress_state s, const char *note)
{
  if (it == NULL)
    return;
  it->note = note;
  __atomic_store_n(&it->state, s, __ATOMIC_RELAXED);
  __atomic_store_n(&it->changed, true, __ATOMIC_RELAXED);
}

/* 1 there, 0 not (push: asked with the scope a push needs, else pull only) */
static BERTH_WUR int blob_exists_as(struct berth_registry *r, const char *repo, const char *digest, bool push,
                                    berth_error_t *err)
{
  struct reg_req q;
  reg_req_init(&q, "HEAD", reg_url(r, "%s/blobs/%s", repo, digest));
  q.scope = reg_scope(repo, push);
  int rc = reg_request(r, &q, err);
  if (rc == 0)
    rc = q.status == 200 ? 1 : q.status == 404 ? 0 : reg_status_error(&q, "check blob", err);
  reg_req_release(&q);
  return rc;
}

static BERTH_WUR int blob_exists(struct berth_registry *r, const char *repo, const char *digest,
                                 berth_error_t *err)
{
  return blob_exists_as(r, repo, digest, true, err);
}

/* probe_only: can the push name this blob? In the repository, or in one it can be mounted from
 * (a HEAD there, read access only; an error there counts as absent) */
static BERTH_WUR int probe(struct push_ctx *c, struct berth_push_blob *b, berth_error_t *err)
{
  int ex = blob_exists(c->r, c->repo, b->digest, err);
  for (char **from = b->mount_from; ex == 0 && from && *from; from++) {
    berth_error_t ferr = NULL;
    ex = blob_exists_as(c->r, *from, b->digest, false, &ferr);
    if (ex < 0) {
      berth_error_release(&ferr);
      ex = 0;
    }
  }
  if (ex < 0)
    return -1;
  b->missing = ex == 0;
  return 0;
}

/* POST an upload (or a mount): 1 mounted, 0 *location is where to upload */
static BERTH_WUR int start_upload(struct berth_registry *r, const char *repo, const char *digest,
                                  const char *from, char **location, berth_error_t *err)
{
  struct reg_req q;
  if (from != NULL)
    reg_req_init(&q, "POST", reg_url(r, "%s/blobs/uploads/?mount=%s&from=%s", repo, digest, from));
  else
    reg_req_init(&q, "POST", reg_url(r, "%s/blobs/uploads/", repo));
  q.scope =
    from ? xasprintf("repository:%s:pull,push repository:%s:pull", repo, from) : reg_scope(repo, true);
  q.send = "";
  int rc = reg_request(r, &q, err);
  if (rc == 0 && from != NULL && q.status == 201)
    rc = 1;
  else if (rc == 0 && q.status == 202 && q.location != NULL)
    *location = reg_resolve_location(r, q.location);
  else if (rc == 0)
    rc = reg_status_error(&q, "start upload", err);
  reg_req_release(&q);
  return rc;
}

static char *with_digest(const char *location, const char *digest)
{
  return xasprintf("%s%cdigest=%s", location, strchr(location, '?') ? '&' : '?', digest);
}

/* PATCH chunks; *location follows the registry's answers */
static BERTH_WUR int upload_chunks(struct berth_registry *r, const char *repo, struct berth_push_blob *b,
                                   char **location, uint64_t *progress, berth_error_t *err)
{
  uint64_t chunk = r->o.chunk_size ? r->o.chunk_size : 64u << 20;
  for (uint64_t off = 0; off < b->size; off += chunk) {
    uint64_t len = b->size - off < chunk ? b->size - off : chunk;
    struct reg_req q;
    reg_req_init(&q, "PATCH", xstrdup(*location));
    q.scope = reg_scope(repo, true);
    q.body_fd = b->fd;
    q.body_off = off;
    q.body_size = len;
    q.upload_progress = progress;
    reg_req_header(&q, "Content-Type: application/octet-stream");
    reg_req_header(&q, "Content-Range: %llu-%llu", (unsigned long long) off,
                   (unsigned long long) (off + len - 1));
    int rc = reg_request(r, &q, err);
    if (rc == 0 && q.status == 202 && q.location != NULL) {
      free(*location);
      *location = reg_resolve_location(r, q.location);
    } else if (rc == 0) {
      rc = reg_status_error(&q, "upload chunk", err);
    }
    reg_req_release(&q);
    if (rc < 0)
      return -1;
  }
  return 0;
}

static BERTH_WUR int upload(struct berth_registry *r, const char *repo, struct berth_push_blob *b,
                            char *location, uint64_t *progress, berth_error_t *err)
{
  cleanup_free char *loc = location;
  bool chunked = b->size > (r->o.chunk_size ? r->o.chunk_size : 64u << 20);
  if (chunked && upload_chunks(r, repo, b, &loc, progress, err) < 0)
    return -1;
  struct reg_req q;
  reg_req_init(&q, "PUT", with_digest(loc, b->digest));
  q.scope = reg_scope(repo, true);
  if (chunked) {
    q.send = "";
  } else {
    q.body_fd = b->fd;
    q.body_size = b->size;
    q.upload_progress = progress;
    reg_req_header(&q, "Content-Type: application/octet-stream");
  }
  int rc = reg_request(r, &q, err);
  if (rc == 0 && q.status != 201)
    rc = reg_status_error(&q, "upload", err);
  if (rc == 0 && q.docker_digest != NULL && strcmp(q.docker_digest, b->digest) != 0)
    rc = BERTH_ERR(err, "upload: the registry stored %s", q.docker_digest);
  reg_req_release(&q);
  return rc;
}

static BERTH_WUR int push_one(struct push_ctx *c, size_t i, berth_error_t *err)
{
  struct berth_push_blob *b = &c->blobs[i];
  struct berth_progress_item *it = c->items ? &c->items[i] : NULL;
  if (b->probe_only)
    return probe(c, b, err);
  int ex = blob_exists(c->r, c->repo, b->digest, err);
  if (ex != 0) {
    b->outcome = BERTH_PROGRESS_EXISTS;
    set_item(it, BERTH_PROGRESS_EXISTS, NULL);
    return ex < 0 ? -1 : 0;
  }
  char *location = NULL;
  for (char **from = b->mount_from; from && *from; from++) {
    if (strcmp(*from, c->repo) == 0)
      continue;
    int m = start_upload(c->r, c->repo, b->digest, *from, &location, err);
    if (m < 0)
      return -1;
    if (m == 1) {
      b->outcome = BERTH_PROGRESS_MOUNTED;
      set_item(it, BERTH_PROGRESS_MOUNTED, *from);
      return 0;
    }
    break; /* 202: the registry started an upload instead */
  }
  if (location == NULL && start_upload(c->r, c->repo, b->digest, NULL, &location, err) < 0)
    return -1;
  set_item(it, BERTH_PROGRESS_ACTIVE, NULL);
  if (upload(c->r, c->repo, b, location, it ? &it->done : NULL, err) < 0)
    return -1;
  b->outcome = BERTH_PROGRESS_DONE;
  set_item(it, BERTH_PROGRESS_DONE, NULL);
  return 0;
}

static void *worker(void *arg)
{
  struct push_ctx *c = arg;
  for (;;) {
    size_t i = __atomic_fetch_add(&c->next, 1, __ATOMIC_RELAXED);
    if (i >= c->n || __atomic_load_n(&c->failed, __ATOMIC_RELAXED))
      return NULL;
    if (push_one(c, i, &c->errs[i]) < 0) {
      berth_error_wrap(&c->errs[i], "push blob %s", c->blobs[i].digest);
      __atomic_store_n(&c->failed, 1, __ATOMIC_RELAXED);
      set_item(c->items ? &c->items[i] : NULL, BERTH_PROGRESS_FAILED, NULL);
    }
  }
}

/* wait for the workers, drawing progress meanwhile */
static void join_workers(pthread_t *th, size_t nth, struct push_ctx *c, struct berth_progress *progress)
{
  while (progress != NULL && __atomic_load_n(&c->next, __ATOMIC_RELAXED) < c->n + nth) {
    struct timespec ts = { 0, 100 * 1000000 };
    nanosleep(&ts, NULL);
    berth_progress_flush(progress, false);
    bool all_done = true;
    for (size_t i = 0; i < c->n; i++)
      if (__atomic_load_n(&c->items[i].state, __ATOMIC_RELAXED) <= BERTH_PROGRESS_ACTIVE)
        all_done = false;
    if (all_done || __atomic_load_n(&c->failed, __ATOMIC_RELAXED))
      break;
  }
  for (size_t t = 0; t < nth; t++)
    pthread_join(th[t], NULL);
  berth_progress_flush(progress, true);
}

int berth_registry_push_blobs(struct berth_registry *r, const char *repo, struct berth_push_blob *blobs,
                              size_t n, struct berth_progress *progress, berth_error_t *err)
{
  if (n == 0)
    return 0;
  if (reg_ensure_base(r, err) < 0 || reg_creds(r, err) < 0)
    return -1;
  struct push_ctx c = { r, repo, blobs, progress ? progress->items : NULL,
                        n, 0,    0,     xcalloc(n, sizeof(berth_error_t)) };
  size_t nth = (size_t) (r->o.max_parallel > 0 ? r->o.max_parallel : 6);
  if (nth > n)
    nth = n;
  if (push_one(&c, c.next++, &c.errs[0]) < 0) /* the first alone: it learns the auth challenge */
    c.failed = 1;
  pthread_t th[64];
  size_t started = 0;
  for (; !c.failed && started < nth && started < 64; started++)
    if (pthread_create(&th[started], NULL, worker, &c) != 0)
      break;
  join_workers(th, started, &c, progress);
  int rc = 0;
  for (size_t i = 0; i < n; i++)
    if (c.errs[i] != NULL && rc == 0) {
      *err = steal_ptr(c.errs[i]);
      rc = -1;
    } else {
      berth_error_release(&c.errs[i]);
    }
  free(c.errs);
  return rc;
}

int berth_registry_put_manifest(struct berth_registry *r, const char *repo, const char *ref,
                                const char *media_type, const char *data, size_t len,
                                char digest_out[BERTH_DIGEST_LEN + 1], berth_error_t *err)
{
  if (reg_ensure_base(r, err) < 0)
    return -1;
  char computed[BERTH_DIGEST_LEN + 1];
  berth_digest_bytes(data, len, computed);
  struct reg_req q;
  reg_req_init(&q, "PUT", reg_url(r, "%s/manifests/%s", repo, ref));
  q.scope = reg_scope(repo, true);
  q.send = data;
  q.send_len = len;
  reg_req_header(&q, "Content-Type: %s", media_type);
  int rc = reg_request(r, &q, err);
  if (rc == 0 && q.status != 201 && q.status != 200)
    rc = reg_status_error(&q, "put manifest", err);
  if (rc == 0 && q.docker_digest != NULL && strcmp(q.docker_digest, computed) != 0)
    rc = BERTH_ERR(err, "put manifest: the registry says %s, the content is %s", q.docker_digest, computed);
  reg_req_release(&q);
  if (rc < 0)
    return berth_error_wrap(err, "%s/%s:%s", r->name, repo, ref);
  if (digest_out != NULL)
    snprintf(digest_out, BERTH_DIGEST_LEN + 1, "%s", computed);
  return 0;
}
