/* One blob download of berth_registry_fetch_blobs (blobs.c: the loop; blobs_sink.c: where the
 * bytes go). */
#ifndef BERTH_REGISTRY_BLOBS_INT_H
#define BERTH_REGISTRY_BLOBS_INT_H

#include <stdatomic.h>

#include "registry/registry_int.h"

enum job_state { JOB_WAIT, JOB_RUN, JOB_DONE };

struct blob_job {
  struct berth_registry *r;
  const char *repo;
  struct berth_blob_task *t;
  struct berth_progress_item *item; /* NULL without progress */
  struct berth_store *store;
  const struct berth_layer_limits *lim;
  struct reg_req q;
  CURL *h;
  enum job_state st;
  int attempt; /* attempts without progress */
  bool auth_tried;
  int64_t not_before; /* monotonic ms */
  uint64_t got;       /* bytes taken into the sinks */
  uint64_t got_at_start;
  uint64_t skip; /* bytes to drop: a 200 answer to a Range request */
  bool response_checked;
  berth_blob_writer_t *bw;
  /* extraction: a thread applies the layer from a pipe */
  int pipe_w, pipe_r;
  pthread_t th;
  bool th_started;
  atomic_bool th_failed;
  berth_error_t th_err;
  char *pend; /* bytes not yet in the pipe */
  size_t pend_len, pend_cap;
  bool paused;
  berth_error_t err; /* the sink's error (aborts the transfer) */
};

int job_open(struct blob_job *j, berth_error_t *err) BERTH_WUR;
/* curl's write callback for a 2xx body */
size_t job_sink(void *ctx, const char *data, size_t n);
/* move pending bytes into the pipe; true when none are left */
bool job_flush(struct blob_job *j);
/* the whole blob arrived: finish the extraction, verify, commit the blob */
int job_finish(struct blob_job *j, berth_error_t *err) BERTH_WUR;
/* drop everything of the job (thread stopped and joined, temporary blob gone) */
void job_abort(struct blob_job *j);

#endif
