/* Parallel blob downloads over one curl multi handle: at most max_parallel at a time; a
 * failed attempt is retried (backoff, Retry-After) from where it stopped with a Range request;
 * a paused transfer (its extraction's pipe is full) is resumed when the pipe can take more. */
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/cleanup.h"
#include "base/log.h"
#include "base/xalloc.h"
#include "registry/blobs_int.h"

struct loop {
  struct berth_registry *r;
  CURLM *m;
  struct blob_job *jobs;
  size_t n, running, done;
  int max_parallel;
  struct berth_progress *progress;
};

static void job_start(struct loop *L, struct blob_job *j)
{
  struct berth_registry *r = L->r;
  reg_req_reset_response(&j->q);
  curl_slist_free_all(j->q.headers);
  j->q.headers = NULL;
  if (j->got > 0)
    reg_req_header(&j->q, "Range: bytes=%llu-", (unsigned long long) j->got);
  j->response_checked = false;
  j->skip = 0;
  j->got_at_start = j->got;
  j->paused = false;
  j->h = reg_easy_new(r, &j->q);
  curl_multi_add_handle(L->m, j->h);
  j->st = JOB_RUN;
  L->running++;
}

static void job_stop_handle(struct loop *L, struct blob_job *j)
{
  if (j->h == NULL)
    return;
  curl_multi_remove_handle(L->m, j->h);
  curl_easy_cleanup(j->h);
  j->h = NULL;
  L->running--;
}

static BERTH_WUR int foreign_error(const struct blob_job *j, berth_error_t *err)
{
  const struct berth_descriptor *d = j->t->desc;
  return BERTH_ERR(err,
                   "layer %s: a foreign (non-distributable) layer (`%s`) that the registry does not serve; "
                   "berth does not download layers from the URLs they name (%s)",
                   d->digest, d->media_type, d->urls[0]);
}

/* a failed attempt: again later, or the end */
static BERTH_WUR int job_retry(struct loop *L, struct blob_job *j, bool transport, berth_error_t *cause,
                               berth_error_t *err)
{
  if (j->got > j->got_at_start)
    j->attempt = 0; /* progress was made: count again from here */
  j->attempt++;
  struct berth_retry_input in = { j->attempt, j->q.status, transport, j->q.retry_after,
                                  (int64_t) time(NULL) };
  int64_t delay = berth_retry_plan(&L->r->o.retry, &in);
  if (delay < 0) {
    if (*cause != NULL) {
      *err = steal_ptr(*cause);
      return berth_error_wrap(err, "blob %s: after %d attempts", j->t->desc->digest, j->attempt);
    }
    return reg_status_error(&j->q, j->t->desc->digest, err);
  }
  berth_log_debug("blob %s: %s; again in %lld ms from byte %llu", j->t->desc->digest,
                  *cause ? (*cause)->msg : "server error", (long long) delay, (unsigned long long) j->got);
  berth_error_release(cause);
  j->not_before = berth_mono_ms() + delay;
  j->st = JOB_WAIT;
  return 0;
}

static BERTH_WUR int job_ended(struct loop *L, struct blob_job *j, CURLcode rc, berth_error_t *err)
{
  reg_easy_done(&j->q, j->h, rc);
  job_stop_handle(L, j);
  if (j->err != NULL) {
    *err = steal_ptr(j->err);
    return -1;
  }
  if (atomic_load(&j->th_failed))
    return job_finish(j, err); /* reports the extraction's error */
  if (rc != CURLE_OK) {
    berth_error_t cause = NULL;
    (void) reg_transport_error(&j->q, j->t->desc->digest, &cause);
    if (rc == CURLE_TOO_MANY_REDIRECTS || rc == CURLE_SSL_CONNECT_ERROR ||
        rc == CURLE_PEER_FAILED_VERIFICATION) {
      *err = cause;
      return -1;
    }
    return job_retry(L, j, true, &cause, err);
  }
  if (j->q.status == 401 && j->auth_tried)
    return reg_auth_refused(L->r, &j->q, err);
  if (j->q.status == 401) {
    j->auth_tried = true;
    if (reg_auth_handle(L->r, &j->q, err) < 0)
      return -1;
    j->st = JOB_WAIT;
    return 0;
  }
  if (j->q.status == 404 && j->t->desc->urls != NULL && j->t->desc->urls[0] != NULL)
    return foreign_error(j, err);
  if (j->q.status < 200 || j->q.status >= 300) {
    berth_error_t none = NULL;
    return job_retry(L, j, false, &none, err);
  }
  if (j->got < (uint64_t) j->t->desc->size) { /* a short body: the rest with a Range request */
    berth_error_t cause = NULL;
    BERTH_ERR(&cause, "blob %s: truncated body (%llu of %lld bytes)", j->t->desc->digest,
              (unsigned long long) j->got, (long long) j->t->desc->size);
    return job_retry(L, j, true, &cause, err);
  }
  if (j->item != NULL) {
    j->item->state = BERTH_PROGRESS_VERIFYING;
    j->item->changed = true;
  }
  if (job_finish(j, err) < 0)
    return -1;
  j->st = JOB_DONE;
  L->done++;
  return 0;
}

/* start waiting jobs whose time has come; the ms to wait for the next one (or 200) */
static int64_t start_due(struct loop *L)
{
  int64_t now = berth_mono_ms(), wait = 200;
  for (size_t i = 0; i < L->n && L->running < (size_t) L->max_parallel; i++) {
    struct blob_job *j = &L->jobs[i];
    if (j->st != JOB_WAIT)
      continue;
    if (j->not_before <= now)
      job_start(L, j);
    else if (j->not_before - now < wait)
      wait = j->not_before - now;
  }
  return wait;
}

/* paused jobs whose pipe drained go on */
static void resume_drained(struct loop *L)
{
  for (size_t i = 0; i < L->n; i++) {
    struct blob_job *j = &L->jobs[i];
    if (j->st == JOB_RUN && j->paused && (job_flush(j) || atomic_load(&j->th_failed))) {
      j->paused = false;
      curl_easy_pause(j->h, CURLPAUSE_CONT); /* may deliver (and pause) at once */
    }
  }
}

/* the pipes of the jobs still paused, to wake the loop when they can take more */
static size_t paused_fds(struct loop *L, struct curl_waitfd *fds, size_t max)
{
  size_t nfds = 0;
  for (size_t i = 0; i < L->n && nfds < max; i++)
    if (L->jobs[i].st == JOB_RUN && L->jobs[i].paused)
      fds[nfds++] = (struct curl_waitfd){ L->jobs[i].pipe_w, CURL_WAIT_POLLOUT, 0 };
  return nfds;
}

static BERTH_WUR int loop_step(struct loop *L, berth_error_t *err)
{
  int64_t wait = start_due(L);
  resume_drained(L);
  int still = 0;
  curl_multi_perform(L->m, &still);
  CURLMsg *msg;
  int left;
  while ((msg = curl_multi_info_read(L->m, &left)) != NULL) {
    if (msg->msg != CURLMSG_DONE)
      continue;
    struct reg_req *q = NULL;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **) &q);
    struct blob_job *j = (struct blob_job *) ((char *) q - offsetof(struct blob_job, q));
    if (job_ended(L, j, msg->data.result, err) < 0)
      return -1;
  }
  berth_progress_flush(L->progress, false);
  if (L->done < L->n) {
    /* after perform: a transfer it paused has its pipe polled now */
    struct curl_waitfd fds[64];
    size_t nfds = paused_fds(L, fds, 64);
    curl_multi_poll(L->m, fds, (unsigned) nfds, (int) wait, NULL);
  }
  return 0;
}

static void jobs_init(struct loop *L, const char *repo, struct berth_store *store,
                      const struct berth_layer_limits *lim, struct berth_blob_task *tasks)
{
  for (size_t i = 0; i < L->n; i++) {
    struct blob_job *j = &L->jobs[i];
    j->r = L->r;
    j->repo = repo;
    j->t = &tasks[i];
    j->store = store;
    j->lim = lim;
    j->item = L->progress && i < L->progress->n ? &L->progress->items[i] : NULL;
    j->pipe_r = j->pipe_w = -1;
    reg_req_init(&j->q, "GET", reg_url(L->r, "%s/blobs/%s", repo, tasks[i].desc->digest));
    j->q.scope = reg_scope(repo, false);
    j->q.sink = job_sink;
    j->q.sink_ctx = j;
    j->st = JOB_WAIT;
  }
}

int berth_registry_fetch_blobs(struct berth_registry *r, const char *repo, struct berth_store *store,
                               const struct berth_layer_limits *lim, struct berth_blob_task *tasks, size_t n,
                               struct berth_progress *progress, berth_error_t *err)
{
  if (n == 0)
    return 0;
  if (reg_ensure_base(r, err) < 0)
    return -1;
  struct loop L = { r,
                    curl_multi_init(),
                    xcalloc(n, sizeof(struct blob_job)),
                    n,
                    0,
                    0,
                    r->o.max_parallel > 0 ? r->o.max_parallel : 6,
                    progress };
  jobs_init(&L, repo, store, lim, tasks);
  int rc = 0;
  for (size_t i = 0; i < n && rc == 0; i++)
    rc = job_open(&L.jobs[i], err);
  while (rc == 0 && L.done < L.n)
    rc = loop_step(&L, err);
  for (size_t i = 0; i < n; i++) {
    job_stop_handle(&L, &L.jobs[i]);
    if (rc < 0 && L.jobs[i].item != NULL && !tasks[i].done) {
      L.jobs[i].item->state = BERTH_PROGRESS_FAILED;
      L.jobs[i].item->changed = true;
    }
    job_abort(&L.jobs[i]);
    reg_req_release(&L.jobs[i].q);
  }
  berth_progress_flush(progress, true);
  curl_multi_cleanup(L.m);
  free(L.jobs);
  return rc;
}
