/* Shared by the image operations (engine/images/) only. */
#ifndef BERTH_ENGINE_IMAGES_IMAGES_INTERNAL_H
#define BERTH_ENGINE_IMAGES_IMAGES_INTERNAL_H

#include "engine/catalogue/catalogue.h"
#include "engine/engine.h"
#include "engine/images/images.h"
#include "image/manifest.h"
#include "image/tarsplit.h"

/* largest JSON document (manifest, index, config) the engine reads */
#define IMAGES_MAX_JSON (16u << 20)

/* files this operation added to the store (candidates for removal when no row refers to them) */
struct ingest_files {
  char **blobs;  /* NULL-terminated, may be NULL */
  char **layers; /* chain ids */
};
void ingest_files_add_blob(struct ingest_files *f, const char *digest);
/* an upper dir's diff (uncompressed tar) stored as a blob, noted in added (commit and build steps) */
int images_diff_blob(struct berth_engine *e, int upper_dirfd, berth_digest_t blob, struct ingest_files *added,
                     berth_error_t *err) BERTH_WUR;
void ingest_files_release(struct ingest_files *f);
/* remove the added files no row refers to (taking the store lock exclusive only when needed) */
int ingest_files_cleanup(struct berth_engine *e, struct ingest_files *f, berth_error_t *err) BERTH_WUR;

/* Make sure layer `blob` (stored) is extracted on top of parent_chain: reuse the layer dir of its
 * chain id when present (never extracted twice), else apply it into a stage, check the diff id
 * (expected_diff_id NULL: accept any), measure it and rename it into place. out: the row. */
int ingest_layer(struct berth_engine *e, const char *blob, const char *parent_chain,
                 const char *expected_diff_id, const char *what, struct berth_db_layer *out,
                 struct ingest_files *added, berth_error_t *err) BERTH_WUR;

/* A layer applied into stage (berth_store_mkstage) while it was downloaded, its tar-split record
 * beside it (unsafe: why the record cannot rebuild the tar, NULL when it can): check its diff id
 * against the config's, measure it and rename it into place as the layer of chain
 * (parent_chain, expected_diff_id); the stage is gone afterwards either way. A layer kept by
 * its record (out->tar_split) names no blob: the blob goes once nothing else refers to it. */
int ingest_layer_staged(struct berth_engine *e, const char *stage, const struct berth_layer_info *info,
                        const char *unsafe, const char *blob, const char *parent_chain,
                        const char *expected_diff_id, struct berth_db_layer *out, struct ingest_files *added,
                        berth_error_t *err) BERTH_WUR;

struct ingest_image {
  const char *config; /* stored config blob */
  const char *config_media_type;
  const char *manifest; /* stored manifest blob or NULL */
  const char *manifest_media_type;
  size_t nlayers;
  char *const *layer_blobs;              /* stored layer blobs, bottom first */
  const struct berth_db_layer *prepared; /* NULL, or the rows of ingest_layer for every layer */
  char *const *tags;                     /* full names to point at the image */
  char *const *repo_digests;             /* "registry/repo@sha256:..." to record, or NULL */
  const char *what;                      /* for errors: "image 1 of `x.tar`" */
  const char *parent;                    /* the local parent image (commit, builds), or NULL */
  bool build_cache;                      /* a build's step (berth_images_step_opts) */
};
/* Extract (or reuse) the layers, then record blobs, layers, image and tags in one transaction. */
int ingest_image(struct berth_engine *e, const struct ingest_image *im, struct ingest_files *added,
                 berth_digest_t id, berth_error_t *err) BERTH_WUR;
/* the same in two steps, so that several images are recorded in one transaction (load) */
struct ingest_prepared;
int ingest_prepare(struct berth_engine *e, const struct ingest_image *im, struct ingest_files *added,
                   struct ingest_prepared **out, berth_error_t *err) BERTH_WUR;
int ingest_record(struct berth_engine *e, struct ingest_prepared *const *v, size_t n,
                  berth_error_t *err) BERTH_WUR;
const char *ingest_prepared_id(const struct ingest_prepared *p);
char *const *ingest_prepared_tags(const struct ingest_prepared *p);
void ingest_prepared_free(struct ingest_prepared *p);

/* images prepared by a load, recorded together at its end */
struct load_out {
  struct ingest_prepared **v;
  size_t n;
};
void load_out_add(struct load_out *o, struct ingest_prepared *p);

/* A layer's tar through w (rebuilt from its tar-split record and tree, or decompressed from its
 * blob), checked against its diff id at the end; verify: also each file's CRC-32 on the way
 * (images_layer_tar.c). */
int images_layer_tar(struct berth_engine *e, const struct berth_db_layer *l, bool verify,
                     berth_tarsplit_write_fn w, void *data, berth_error_t *err) BERTH_WUR;
/* the layer's tar gzipped into an unnamed temporary file of the store (a push of a layer kept by
 * its tar-split): *fd at offset 0 of it, its digest and size */
int images_layer_gzip(struct berth_engine *e, const struct berth_db_layer *l, int *fd, berth_digest_t digest,
                      uint64_t *size, berth_error_t *err) BERTH_WUR;

/* the host's platform in Go's names (amd64, arm64, arm/v7 ...) */
void images_host_platform(const char **os, const char **arch, const char **variant);
/* the layer media type matching a blob's compression (sniffed from its first bytes) */
int images_layer_media_type(struct berth_engine *e, const char *blob, const char **media_type,
                            berth_error_t *err) BERTH_WUR;
/* read and parse a stored config */
int images_read_config(struct berth_engine *e, const char *id, struct berth_imgconfig *cfg,
                       berth_error_t *err) BERTH_WUR;
/* normalize a user's reference for tagging: full "registry/repo:tag" (refusing digests) */
int images_tag_name(const char *ref, char **full, berth_error_t *err) BERTH_WUR;
/* familiar form of a full name ("docker.io/library/busybox:latest" -> "busybox:latest") */
char *images_familiar(const char *full);

#endif
