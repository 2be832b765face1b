/* Shared by the files of engine/builds only. */
#ifndef BERTH_ENGINE_BUILDS_BUILDS_INTERNAL_H
#define BERTH_ENGINE_BUILDS_BUILDS_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "build/context.h"
#include "build/dispatch.h"
#include "build/dockerfile.h"
#include "build/ignore.h"
#include "build/plan.h"
#include "engine/builds/builds.h"
#include "engine/cp/cp.h"

#define BLD_KEY_LEN 64

/* a call whose error only means "no": its result, the error (given as BLD_Q) released */
#define BLD_TRY(call)                                                                                        \
  __extension__({                                                                                            \
    berth_error_t bld_q_ = NULL;                                                                             \
    int bld_r_ = (call);                                                                                     \
    berth_error_release(&bld_q_);                                                                            \
    bld_r_;                                                                                                  \
  })
#define BLD_Q (&bld_q_)

/* one stage's outcome */
struct bld_stage {
  bool done;
  berth_digest_t image; /* "" while it has none (FROM scratch and nothing since) */
  char key[BLD_KEY_LEN + 1];
};

/* one secret of --secret */
struct bld_secret {
  char *id;
  char *data; /* the value (a file's content or a variable's) */
  size_t len;
};

/* a file ADD fetched from a URL, once a build (the key needs its digest, the copy its content) */
struct bld_download {
  char *url;
  int fd; /* an O_TMPFILE of <root>/builds/steps */
  char digest[BERTH_DIGEST_LEN + 1];
  int64_t mtime; /* Last-Modified, or -1 */
};

/* one build */
struct bld {
  struct berth_engine *e;
  const struct berth_builds_opts *o;
  struct berth_dockerfile *df;
  struct berth_build_plan *plan;
  struct berth_ignore *ignore;
  char *ctx_dir; /* absolute */
  char *ctx_tmp; /* a context extracted from a tar: this directory, removed at the end */
  int ctx_lock;  /* a shared flock on ctx_tmp: `builder prune` and `system check` leave it */
  int ctx_fd;    /* O_PATH of ctx_dir */
  struct bld_stage *stages;
  size_t *first_step; /* each needed stage's first step number (its FROM) */
  /* Independent stages build at once, a thread each. The lock is the build's: a stage's thread
   * holds it except while it waits (for the stages it needs, for a RUN's process, for a locked
   * cache mount), so the store, the catalogue and the progress callback see one step at a time. */
  pthread_mutex_t lock;
  pthread_cond_t changed; /* a stage finished, or one failed */
  int failed;             /* a stage failed (atomic): the others stop */
  berth_error_t error;    /* the first stage's error */
  char *runtime, *runtime_root;
  struct bld_secret *secrets;
  size_t nsecrets;
  char **build_args; /* "K=V", the caller's "K" resolved */
  char **cache_from; /* --cache-from images that exist, by id */
  struct bld_download *downloads;
  size_t ndownloads;
};

/* a step's scratch space: <root>/builds/steps/<random>/{upper,work,...} */
struct bld_dir {
  char *path;
  char *upper, *work;
  int upper_fd; /* O_RDONLY | O_DIRECTORY */
  int lock_fd;  /* a shared flock on path: `builder prune` leaves it alone */
};
int bld_dir_new(struct bld *b, struct bld_dir *d, berth_error_t *err) BERTH_WUR;
/* removes the directory (keep: leave it, for a failed step's inspection: never) */
void bld_dir_free(struct bld_dir *d);
/* does the upper dir hold anything */
bool bld_dir_changed(const struct bld_dir *d);
/* SOURCE_DATE_EPOCH: every mtime of the upper dir newer than epoch set to epoch */
int bld_dir_clamp(const struct bld_dir *d, int64_t epoch, berth_error_t *err) BERTH_WUR;

/* the number of the current thread's step (0: none) */
extern _Thread_local size_t bld_step;
void bld_unlock(struct bld *b); /* before a wait ... */
void bld_relock(struct bld *b); /* ... and after it */

/* progress */
void bld_event(struct bld *b, enum berth_builds_event_kind k, const char *text, size_t len, const char *image,
               int64_t elapsed_ns);
bool bld_cancelled(const struct bld *b);
int64_t bld_now(const struct bld *b); /* history time: SOURCE_DATE_EPOCH or now (ns) */

/* the layer dirs of an image, top first, NULL-terminated (image "" or NULL: none) */
int bld_lowers(struct bld *b, const char *image, char ***out, berth_error_t *err) BERTH_WUR;
/* a file of the tree the lowers make (top first, whiteouts respected); NULL when absent */
char *bld_lower_file(char *const *lowers, const char *path);
/* does path exist in the tree the lowers make */
bool bld_lower_has(char *const *lowers, const char *path);

/* A root to read from or write into: an overlay of an image's layers (and an upper dir) held
 * by a mounter, or a plain directory when there are no layers. */
struct bld_root {
  struct berth_cp_mounter m;
  bool mounted;
  int fd;       /* O_PATH of the root */
  char *target; /* where it is mounted (NULL: not mounted) */
};
/* upper NULL: read-only */
int bld_root_open(struct bld *b, const char *image, const struct bld_dir *d, const char *name,
                  struct bld_root *r, berth_error_t *err) BERTH_WUR;
void bld_root_close(struct bld_root *r);

/* ---- the cache (builds_cache.c) ---- */
/* key = sha256(parent "\n" text "\n" extra) */
void bld_key(const char *parent, const char *text, const char *extra, char out[BLD_KEY_LEN + 1]);
/* 1 hit (image set), 0 miss */
int bld_cache_get(struct bld *b, const char *key, berth_digest_t image);
void bld_cache_put(struct bld *b, const char *key, const char *image);

/* the step directories no build holds (a killed build's), removed when remove (those that could
 * not be removed are returned then) */
char **bld_sweep(struct berth_engine *e, bool remove);

/* ---- the steps ---- */
/* the step's image: the parent plus the upper dir's diff (d NULL or unchanged: no layer) or a
 * stored layer (chain id: --cache-from), the state's config with the step's history entry and
 * its key (BLD_KEYS_FIELD) */
int bld_commit(struct bld *b, struct berth_build_state *st, const struct berth_build_op *op,
               const char *parent, struct bld_dir *d, const char *key, const char *layer, berth_digest_t id,
               berth_error_t *err) BERTH_WUR;
/* the config's list of the steps' keys, one a history entry ("" for entries of no berth step) */
#define BLD_KEYS_FIELD "berth.build.keys"
/* COPY and ADD: the extra text of the key (the sources' digest or the stage's image) */
int bld_copy_key(struct bld *b, const struct berth_build_op *op, size_t stage, char **extra,
                 berth_error_t *err) BERTH_WUR;
/* COPY, ADD and WORKDIR into an overlay of parent with d's upper dir */
int bld_copy_run(struct bld *b, struct berth_build_state *st, const struct berth_build_op *op, size_t stage,
                 const char *parent, struct bld_dir *d, berth_error_t *err) BERTH_WUR;
int bld_workdir_run(struct bld *b, const struct berth_build_op *op, const char *parent, struct bld_dir *d,
                    berth_error_t *err) BERTH_WUR;
/* RUN --mount=type=bind: the extra text of the key (the sources' digests) */
int bld_run_key(struct bld *b, const struct berth_build_op *op, size_t stage, char **extra,
                berth_error_t *err) BERTH_WUR;
/* RUN: a container of parent's layers with d's upper dir */
int bld_run_run(struct bld *b, struct berth_build_state *st, const struct berth_build_op *op, size_t stage,
                const char *parent, struct bld_dir *d, berth_error_t *err) BERTH_WUR;
/* the image a --from / from= names: a stage's (built) or an image's (pulled when missing) */
int bld_from_image(struct bld *b, const char *from, size_t stage, berth_digest_t id,
                   berth_error_t *err) BERTH_WUR;
/* an image by name, pulled when missing (or always with --pull) */
int bld_image(struct bld *b, const char *name, berth_digest_t id, berth_error_t *err) BERTH_WUR;

/* the stages (builds_stage.c) */
int bld_stages(struct bld *b, berth_error_t *err) BERTH_WUR;

#endif
