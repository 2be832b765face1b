/* One instruction evaluated against a stage's state (pure): variables expanded by the
 * instruction's own rules, the image config changed (ENV, CMD, LABEL, USER, ...), or the work a
 * RUN, COPY, ADD or WORKDIR leaves to the executor described, with its history line and the text
 * its cache key covers. The executor appends the history entry once the step is done
 * (berth_build_state_commit). */
#ifndef BERTH_BUILD_DISPATCH_H
#define BERTH_BUILD_DISPATCH_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "build/dockerfile.h"
#include "build/instr.h"
#include "build/plan.h"

struct berth_build_state {
  json_t *image;   /* the image config being built (architecture, os, config, rootfs, history; owned) */
  char **args;     /* the stage's ARGs with a value: "K=V" */
  char **declared; /* every ARG the stage declared, in order (RUN's environment, the history's |N) */
  char **shell;    /* SHELL (default ["/bin/sh", "-c"]) */
  bool cmd_set;    /* a CMD in this stage: a later ENTRYPOINT keeps it */
  char escape;
  const struct berth_build_plan *plan;
};

/* The state at a stage's FROM: the base's config (NULL: scratch, for platform), every field
 * copied; ONBUILD triggers are left in "OnBuild" for the caller (berth_build_state_triggers). */
int berth_build_state_init(struct berth_build_state *st, const struct berth_build_plan *plan, json_t *base,
                           const struct berth_build_platform *platform, berth_error_t *err) BERTH_WUR;
void berth_build_state_release(struct berth_build_state *st);
/* the base's ONBUILD triggers, removed from the config (they run once, in the child build) */
char **berth_build_state_triggers(struct berth_build_state *st);

enum berth_build_op_kind {
  BERTH_BUILD_OP_CONFIG, /* the config changed; nothing to run */
  BERTH_BUILD_OP_RUN,
  BERTH_BUILD_OP_COPY,    /* COPY, and ADD (add set) */
  BERTH_BUILD_OP_WORKDIR, /* make the directory (as the USER) */
};

struct berth_build_op {
  enum berth_build_op_kind kind;
  char *created_by; /* the history line: "RUN /bin/sh -c make # buildkit" */
  char *cache_text; /* what the cache key covers besides the parent and the files */
  bool empty_layer; /* CONFIG */
  /* RUN */
  char **argv;
  char **env; /* "K=V": the ARGs the process sees (not stored in the image) */
  struct berth_build_mount *mounts;
  size_t nmounts;
  enum berth_build_network network;
  bool insecure;
  char *script;      /* RUN <<EOF whose body starts with #!: the script, run as a file */
  char *script_path; /* where the script is bound: /dev/pipes/<name> */
  /* COPY and ADD */
  bool add;
  char **srcs;      /* sources as expanded; "<<NAME" for a here-document */
  char **doc_names; /* here-documents: names and bodies (expanded when unquoted) */
  char **doc_bodies;
  char *dest;    /* absolute, cleaned; the WORKDIR for a relative one */
  bool dest_dir; /* the destination is a directory: it ends in '/', is "." or there are several sources */
  char *from;    /* --from, expanded (NULL: the context) */
  char *chown;   /* --chown, expanded (NULL: keep the owners; the context's are 0:0) */
  char *chmod;   /* --chmod, expanded */
  bool link;
  char *checksum; /* ADD --checksum */
  char **excludes;
  bool keep_git_dir;
  /* WORKDIR */
  char *dir;
  char *user; /* the USER at that point ("" : root) */
};
void berth_build_op_release(struct berth_build_op *op);

/* Evaluate in against st. */
int berth_build_dispatch(struct berth_build_state *st, const struct berth_df_instr *in,
                         struct berth_build_op *op, berth_error_t *err) BERTH_WUR;

/* After the step: one history entry (created as RFC 3339 of created_ns), and the layer's diff
 * id appended to rootfs.diff_ids unless empty. */
void berth_build_state_commit(struct berth_build_state *st, const struct berth_build_op *op,
                              const char *diff_id, int64_t created_ns);

/* the image config as stored: keys sorted, compact (never NULL) */
char *berth_build_state_dump(const struct berth_build_state *st);

/* "2026-12-06T06:21:05.123456789Z" (malloc'd); whole seconds print without a fraction */
char *berth_build_rfc3339(int64_t ns);

/* the expansion environment: ARGs, then the config's Env (which wins) */
char **berth_build_state_env(const struct berth_build_state *st);

#endif
