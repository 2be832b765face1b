/* Shared by the pull's files (pull.c, pull_layers.c) only. */
#ifndef BERTH_ENGINE_IMAGES_PULL_INTERNAL_H
#define BERTH_ENGINE_IMAGES_PULL_INTERNAL_H

#include "engine/images/images_internal.h"
#include "registry/registry.h"

typedef struct berth_db_layer *berth_db_layer_rows;

struct pull_layer {
  berth_digest_t chain;
  bool have_row; /* extracted and recorded already */
  struct berth_db_layer row;
  bool download; /* the blob is not in the store */
  char *stage;   /* extracted into while downloading, or NULL */
  int dirfd;     /* its diff/ */
  int recfd;     /* its tar-split record (stage/tar-split.gz) */
  struct berth_layer_info info;
  const char *unsafe; /* why the record cannot rebuild the tar (NULL: it can) */
};

struct pull_layers {
  const struct berth_manifest *m;
  size_t n;
  struct pull_layer *v;
  struct berth_blob_task *tasks;
  struct berth_progress_item *items; /* one per layer */
};

int pull_layers_plan(struct berth_engine *e, const struct berth_manifest *m,
                     const struct berth_imgconfig *cfg, struct pull_layers *pl, berth_error_t *err) BERTH_WUR;
int pull_layers_fetch(struct berth_engine *e, struct berth_registry *r, const char *repo,
                      struct pull_layers *pl, struct berth_progress *progress, struct ingest_files *added,
                      berth_error_t *err) BERTH_WUR;
int pull_layers_finish(struct berth_engine *e, struct pull_layers *pl, const struct berth_imgconfig *cfg,
                       struct ingest_files *added, berth_db_layer_rows *rows, berth_error_t *err) BERTH_WUR;
/* stages removed, descriptors closed */
void pull_layers_release(struct pull_layers *pl);

#endif
