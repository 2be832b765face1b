/* The build plan (pure): a parsed Dockerfile and the build's arguments turned into stages — each
 * with its base (an image, scratch or an earlier stage), its instructions and the stages it needs
 * first (its base, COPY --from, RUN --mount from=) — pruned to what the target needs, and
 * ordered so that stages that do not depend on each other can build at once.
 *
 * Arguments: ARGs before the first FROM are the meta arguments, seen by FROM lines only (a stage
 * declares `ARG NAME` to see one); --build-arg overrides declared defaults; the platform
 * arguments (TARGETPLATFORM, TARGETOS, TARGETARCH, TARGETVARIANT and the BUILD* ones) are
 * predefined in the global scope, and in a stage once declared; the proxy arguments (HTTP_PROXY,
 * https_proxy, NO_PROXY, ...) reach RUN without a declaration and stay out of the history. */
#ifndef BERTH_BUILD_PLAN_H
#define BERTH_BUILD_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"
#include "build/dockerfile.h"

struct berth_build_platform {
  char os[32], arch[32], variant[32]; /* Go names: linux, amd64, "" */
};
/* "linux/arm64/v8" */
void berth_build_platform_string(const struct berth_build_platform *p, char out[100]);

struct berth_build_plan_in {
  const struct berth_dockerfile *df;
  char *const *build_args; /* "K=V" (--build-arg), NULL-terminated or NULL */
  const char *target;      /* --target stage name, NULL: the last stage */
  struct berth_build_platform build_platform, target_platform;
};

struct berth_build_stage {
  size_t index;
  char *name;                                 /* AS name (lower case), or NULL */
  char *base;                                 /* the FROM image, meta arguments expanded ("scratch" too) */
  int base_stage;                             /* the stage it builds on, or -1 */
  char *platform;                             /* FROM --platform, expanded; NULL when not given */
  const struct berth_df_instr *from;          /* borrowed from the Dockerfile */
  const struct berth_df_instr *const *instrs; /* the instructions after FROM (borrowed) */
  size_t ninstrs;
  size_t *deps; /* stages to finish first, without duplicates */
  size_t ndeps;
  bool needed; /* the target needs it */
};

struct berth_build_plan {
  struct berth_build_stage *stages;
  size_t nstages;
  size_t target;
  char **meta_args;     /* the global scope as FROM lines see it: "K=V" (platform ones included) */
  char **meta_declared; /* names of the ARGs before the first FROM (a stage's `ARG K` takes their value) */
  char **build_args;    /* the build's, "K=V" */
  char **unused_args;   /* build args no ARG anywhere declares (proxy ones excepted), to warn about */
  size_t nsteps;        /* FROM lines and instructions of the needed stages: the N of "step n/N" */
  struct berth_build_platform build_platform, target_platform;
};

int berth_build_plan_make(const struct berth_build_plan_in *in, struct berth_build_plan **out,
                          berth_error_t *err) BERTH_WUR;
void berth_build_plan_free(struct berth_build_plan *p);

/* the stage a --from / from= value names: a stage name (case-insensitive) or index among the
 * stages before `before`; -1: an image */
int berth_build_plan_stage_ref(const struct berth_build_plan *p, const char *ref, size_t before);

/* the predefined value of a platform argument (TARGETOS ...), NULL for other names; buf holds it */
const char *berth_build_platform_arg(const struct berth_build_plan *p, const char *name, char buf[100]);
/* HTTP_PROXY and friends */
bool berth_build_is_proxy_arg(const char *name);

#endif
