/* Where a blob's bytes go: counted against its descriptor's size, into the store's blob writer
 * (hashed there) and through a pipe into a thread that applies the layer while it arrives.
 * The pipe's write end is non-blocking: when it is full the transfer is paused (curl keeps the
 * data) and resumed by the loop when the pipe drains, so a slow extraction slows only its own
 * download. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/xalloc.h"
#include "registry/blobs_int.h"

#define PIPE_SIZE (1 << 20)

static void *extract_main(void *arg)
{
  struct blob_job *j = arg;
  int r = j->t->record_fd >= 0
            ? berth_layer_apply_split(j->pipe_r, j->t->extract_dirfd, j->lim, j->t->record_fd, &j->t->info,
                                      &j->t->unsafe, &j->th_err)
            : berth_layer_apply(j->pipe_r, j->t->extract_dirfd, j->lim, &j->t->info, &j->th_err);
  if (r < 0) {
    atomic_store(&j->th_failed, true);
    char buf[1 << 16]; /* drain, so that the writer never waits on a reader that left */
    for (;;) {
      ssize_t n = read(j->pipe_r, buf, sizeof buf);
      if (n == 0 || (n < 0 && errno != EINTR))
        break;
    }
  }
  return NULL;
}

int job_open(struct blob_job *j, berth_error_t *err)
{
  if (j->t->store_blob && berth_blob_writer_new(j->store, &j->bw, err) < 0)
    return -1;
  if (j->t->extract_dirfd < 0)
    return 0;
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0)
    return BERTH_ERR_ERRNO(err, "blob %s: pipe", j->t->desc->digest);
  (void) fcntl(p[1], F_SETPIPE_SZ, PIPE_SIZE);
  (void) fcntl(p[1], F_SETFL, O_NONBLOCK);
  j->pipe_r = p[0];
  j->pipe_w = p[1];
  int e = pthread_create(&j->th, NULL, extract_main, j);
  if (e != 0) {
    errno = e;
    return BERTH_ERR_ERRNO(err, "blob %s: start the extraction", j->t->desc->digest);
  }
  j->th_started = true;
  return 0;
}

bool job_flush(struct blob_job *j)
{
  size_t off = 0;
  while (off < j->pend_len) {
    ssize_t w = write(j->pipe_w, j->pend + off, j->pend_len - off);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      break;
    off += (size_t) w;
  }
  memmove(j->pend, j->pend + off, j->pend_len - off);
  j->pend_len -= off;
  return j->pend_len == 0;
}

static void to_pipe(struct blob_job *j, const char *data, size_t n)
{
  size_t off = 0;
  if (j->pend_len == 0)
    while (off < n) {
      ssize_t w = write(j->pipe_w, data + off, n - off);
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        break;
      off += (size_t) w;
    }
  if (off == n)
    return;
  if (j->pend_len + (n - off) > j->pend_cap) {
    j->pend_cap = j->pend_len + (n - off);
    j->pend = xrealloc(j->pend, j->pend_cap);
  }
  memcpy(j->pend + j->pend_len, data + off, n - off);
  j->pend_len += n - off;
}

/* the first bytes of a response: where it starts in the blob */
static int check_response(struct blob_job *j)
{
  j->response_checked = true;
  if (j->q.status == 206) {
    unsigned long long start = 0;
    if (j->q.content_range == NULL || sscanf(j->q.content_range, "bytes %llu-", &start) != 1 ||
        start != j->got)
      return BERTH_ERR(&j->err, "blob %s: the registry answered the range request from %llu with `%s`",
                       j->t->desc->digest, (unsigned long long) j->got,
                       j->q.content_range ? j->q.content_range : "no Content-Range");
  } else {
    j->skip = j->got; /* a whole body again: drop what we have */
  }
  return 0;
}

size_t job_sink(void *ctx, const char *data, size_t n)
{
  struct blob_job *j = ctx;
  if (j->pend_len > 0 && !job_flush(j)) {
    j->paused = true;
    return CURL_WRITEFUNC_PAUSE;
  }
  if (atomic_load(&j->th_failed))
    return 0;
  if (!j->response_checked && check_response(j) < 0)
    return 0;
  size_t drop = j->skip < n ? (size_t) j->skip : n;
  j->skip -= drop;
  const char *p = data + drop;
  size_t len = n - drop;
  uint64_t size = (uint64_t) j->t->desc->size;
  if (j->got + len > size) {
    BERTH_ERR(&j->err, "blob %s: larger than its descriptor says (%llu bytes)", j->t->desc->digest,
              (unsigned long long) size);
    return 0;
  }
  if (j->bw != NULL && berth_blob_write(j->bw, p, len, &j->err) < 0)
    return 0;
  if (j->pipe_w >= 0)
    to_pipe(j, p, len);
  j->got += len;
  if (j->item != NULL) {
    j->item->done = j->got;
    if (j->item->state != BERTH_PROGRESS_ACTIVE)
      j->item->changed = true;
    j->item->state = BERTH_PROGRESS_ACTIVE;
  }
  return n;
}

/* close the pipe (after its last bytes) and wait for the extraction */
static BERTH_WUR int join_extraction(struct blob_job *j, berth_error_t *err)
{
  if (j->pipe_w >= 0) {
    int fl = fcntl(j->pipe_w, F_GETFL);
    (void) fcntl(j->pipe_w, F_SETFL, fl & ~O_NONBLOCK);
    if (j->pend_len > 0 && berth_write_all(j->pipe_w, j->pend, j->pend_len) < 0 &&
        !atomic_load(&j->th_failed))
      BERTH_ERR_ERRNO(&j->err, "blob %s: feed the extraction", j->t->desc->digest);
    j->pend_len = 0;
    close(j->pipe_w);
    j->pipe_w = -1;
  }
  if (j->th_started) {
    pthread_join(j->th, NULL);
    j->th_started = false;
  }
  if (j->pipe_r >= 0) {
    close(j->pipe_r);
    j->pipe_r = -1;
  }
  if (j->th_err != NULL) {
    *err = steal_ptr(j->th_err);
    return berth_error_wrap(err, "layer %s", j->t->desc->digest);
  }
  return 0;
}

int job_finish(struct blob_job *j, berth_error_t *err)
{
  const struct berth_descriptor *d = j->t->desc;
  if (join_extraction(j, err) < 0)
    return -1;
  if (j->t->extract_dirfd >= 0 && strcmp(j->t->info.digest, d->digest) != 0)
    return BERTH_ERR(err, "blob %s: digest mismatch: got %s", d->digest, j->t->info.digest);
  if (j->bw != NULL) {
    int rc = berth_blob_writer_commit(j->bw, d->digest, NULL, NULL, err);
    berth_blob_writer_free(j->bw);
    j->bw = NULL;
    if (rc < 0)
      return berth_error_wrap(err, "blob %s", d->digest);
  }
  j->t->done = true;
  if (j->item != NULL) {
    j->item->state = BERTH_PROGRESS_DONE;
    j->item->done = j->got;
    j->item->changed = true;
  }
  return 0;
}

void job_abort(struct blob_job *j)
{
  berth_error_t ignored = NULL;
  j->pend_len = 0;
  if (join_extraction(j, &ignored) < 0)
    berth_error_release(&ignored);
  berth_blob_writer_free(j->bw);
  j->bw = NULL;
  free(j->pend);
  j->pend = NULL;
  j->pend_len = j->pend_cap = 0;
  berth_error_release(&j->err);
}
