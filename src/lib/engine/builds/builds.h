/* Builds (issue 15): a Dockerfile and its context to an image, through src/lib/build (the parsed
 * Dockerfile, the plan, each instruction evaluated against its stage) and this room's executor,
 * which runs RUN steps as containers through the OCI runtime, copies COPY and ADD sources into
 * an overlay of the parent's layers, and turns each upper dir into a layer (images.h's
 * berth_images_step). docs/design/build.md is the long form.
 *
 * The cache: every step has a key, sha256 of its parent's key, the text its instruction
 * contributes (berth_build_op.cache_text: the instruction as evaluated, its flags, the
 * environment a RUN sees) and, for COPY and ADD, the digest of the sources' content and
 * metadata (mtimes left out, as Docker does) or the id of the stage or image they come from.
 * A stage's first key is its base image's id. A hit is the step's image, recorded under
 * <root>/builds/cache/<key> (written atomically: two builds at once agree or overwrite with an
 * equivalent entry); a key whose image is gone is a miss. One miss makes every later key new,
 * so the rest of the stage runs.
 *
 * Files: <root>/builds/cache/<key> (the cache), <root>/builds/mounts/<id> (RUN
 * --mount=type=cache), <root>/builds/steps/<random>/ (one step's upper, work, bundle; removed
 * after the step, and by `builder prune` when a killed build left one), <runroot>/builds/runtime
 * (the OCI runtime's --root for RUN containers). */
#ifndef BERTH_ENGINE_BUILDS_BUILDS_H
#define BERTH_ENGINE_BUILDS_BUILDS_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "engine/engine.h"
#include "engine/images/images.h"

enum berth_builds_event_kind {
  BERTH_BUILDS_EV_STEP,    /* a step starts: text is "[2/5] RUN mkdir /data" */
  BERTH_BUILDS_EV_CACHED,  /* the step was a cache hit (image: its image) */
  BERTH_BUILDS_EV_OUTPUT,  /* output of a RUN step (text, len: a chunk, not NUL-terminated) */
  BERTH_BUILDS_EV_DONE,    /* the step ran (image: its image; elapsed_ns) */
  BERTH_BUILDS_EV_ERROR,   /* the step failed (text: why) */
  BERTH_BUILDS_EV_WARNING, /* a warning of the Dockerfile or the build (text) */
  BERTH_BUILDS_EV_IMAGE,   /* the build's image (image), then each tag (text) */
};

struct berth_builds_event {
  enum berth_builds_event_kind kind;
  size_t step;       /* 1-based number among every step of the needed stages (0: none) */
  size_t nsteps;     /* how many there are */
  const char *stage; /* the stage's name, or NULL */
  const char *text;
  size_t len; /* bytes of text */
  const char *image;
  int64_t elapsed_ns;
};
typedef void berth_builds_progress_fn(void *data, const struct berth_builds_event *ev);

struct berth_builds_opts {
  /* the context: a directory, or a tar stream (plain or compressed) read from context_fd */
  const char *context_dir;
  int context_fd;              /* >= 0 when context_dir is NULL */
  const char *dockerfile;      /* path (relative: to the current directory, then the context); NULL:
                                  Dockerfile in the context */
  const char *dockerfile_text; /* or the Dockerfile itself (given on stdin) */
  size_t dockerfile_len;
  char *const *tags;         /* REPOSITORY[:TAG] names for the image (NULL-terminated; may be NULL) */
  char *const *build_args;   /* "K=V", or "K" for the value of the caller's environment */
  char *const *labels;       /* "K=V" added to the image's labels */
  char *const *secrets;      /* "id=x,src=file" or "id=x,env=VAR" */
  char *const *cache_from;   /* --cache-from images (local; their steps seed the cache) */
  const char *target;        /* --target stage (NULL: the last) */
  const char *network;       /* RUN's default network: "host" (NULL) or "none" */
  const char *runtime;       /* the OCI runtime of RUN steps: a name in PATH or an absolute path
                                (NULL: berth-runtime) */
  bool no_cache;             /* run every step (the results are still recorded) */
  bool pull;                 /* pull every base image even when present */
  int64_t source_date_epoch; /* >= 0: the time of every history entry, config and copied file,
                                and the newest mtime of a layer (reproducible builds); < 0: now */
  const struct berth_transfer_opts *transfer; /* for base images not in the store */
  berth_builds_progress_fn *progress;         /* may be NULL */
  void *progress_data;
  volatile sig_atomic_t *cancel; /* set (by a signal handler) to stop the build; may be NULL */
};

/* Build. On success id is the image, tagged with every tag. On failure (or cancel) nothing is
 * tagged, no container or mount is left, and the steps that completed stay as cache. */
int berth_builds_run(struct berth_engine *e, const struct berth_builds_opts *o, berth_digest_t id,
                     berth_error_t *err) BERTH_WUR;

/* `builder prune`: forget every cache entry, remove the cache mounts, the step directories of
 * killed builds and the untagged images only the cache kept (no child, no container).
 * *entries: cache entries removed; *reclaimed: bytes of the images' layers and mounts. */
int berth_builds_prune(struct berth_engine *e, uint64_t *entries, uint64_t *reclaimed,
                       berth_error_t *err) BERTH_WUR;

/* `system check`: the step directories of killed builds (a build's RUN container dies with the
 * build: its watchdog kills it, and the mounts were only in the watchdog's namespace); repair
 * removes them. Problems are appended to *v. */
int berth_builds_check(struct berth_engine *e, bool repair, struct berth_check_problem **v, size_t *n,
                       berth_error_t *err) BERTH_WUR;

#endif
