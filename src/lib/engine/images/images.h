/* Image operations of the engine (`berth import/load/save/export/tag/rmi/images/history/image
 * inspect/image prune`). They return data; the commands print it. Each state change follows the
 * catalogue's order rule: files first (renamed into place), rows second in one transaction;
 * on failure every file the operation added and no row refers to is removed again, so the
 * store is exactly as it was. */
#ifndef BERTH_ENGINE_IMAGES_IMAGES_H
#define BERTH_ENGINE_IMAGES_IMAGES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "engine/catalogue/catalogue.h"
#include "engine/engine.h"
#include "registry/registry.h"

/* ---- import: a rootfs tarball (plain, gzip, zstd...) -> a one-layer image ---- */
struct berth_import_opts {
  const char *source;    /* for the history comment "Imported from <source>" ("-": stdin) */
  const char *message;   /* -m: the history comment (and the config's comment) instead */
  char *const *changes;  /* --change instructions (berth_imgconfig_apply_changes) */
  const char *reference; /* REPOSITORY[:TAG] to tag the image with, or NULL */
  const char *platform;  /* "os/arch[/variant]" or NULL for the host's */
  int64_t created_ns;    /* 0: now */
};
int berth_images_import(struct berth_engine *e, int in_fd, const struct berth_import_opts *o,
                        berth_digest_t id, berth_error_t *err) BERTH_WUR;

/* ---- load: docker-archive (manifest.json), oci-archive (tar of an OCI layout) or an OCI layout
 * directory; archives may be compressed. Every digest is verified. ---- */
struct berth_load_result {
  char **names;    /* tags given to loaded images, familiar form ("busybox:latest") */
  char **ids;      /* every loaded image id, in archive order */
  char **untagged; /* the ids of loaded images the archive gives no name */
};
void berth_load_result_release(struct berth_load_result *r);
/* path: a directory (OCI layout) or an archive file; NULL: read the archive from in_fd */
int berth_images_load(struct berth_engine *e, const char *path, int in_fd, struct berth_load_result *res,
                      berth_error_t *err) BERTH_WUR;

/* ---- save ---- */
enum berth_save_format {
  BERTH_SAVE_DOCKER_ARCHIVE, /* manifest.json + repositories + blobs/sha256 (uncompressed layers) */
  BERTH_SAVE_OCI_ARCHIVE,    /* tar of an OCI image layout */
  BERTH_SAVE_OCI_DIR,        /* an OCI image layout directory */
};
int berth_save_format_parse(const char *s, enum berth_save_format *out, berth_error_t *err) BERTH_WUR;
/* names: images by reference or id (a reference names the image in the output). Archives go to
 * out_fd; OCI_DIR writes the directory dir (created; it must not exist or be empty). */
int berth_images_save(struct berth_engine *e, char *const *names, enum berth_save_format f, int out_fd,
                      const char *dir, berth_error_t *err) BERTH_WUR;

/* A layer's tar rebuilt (from its tar-split record and tree, each file's CRC-32 checked) or
 * decompressed from its blob, and its digest compared with its diff id: `system check --layers`
 * (issue 16: every layer's stream is the one its digest names) */
int berth_images_layer_verify(struct berth_engine *e, const struct berth_db_layer *l,
                              berth_error_t *err) BERTH_WUR;

/* ---- commit: a parent image plus one layer, an overlay upper dir's changes (`berth commit`, and
 * a build's steps) ---- */
struct berth_images_commit_opts {
  const char *parent;           /* the parent image's id */
  int upper_dirfd;              /* the changes (berth_layer_diff of it is the layer) */
  json_t *config;               /* the new image's "config" (borrowed; NULL: the parent's) */
  char *const *changes;         /* --change instructions applied to it */
  const char *author, *comment; /* "" or NULL: none */
  const char *created_by;       /* the history entry's */
  const char *container;        /* the container's id (the config's "container"), or NULL */
  const char *reference;        /* REPOSITORY[:TAG] to tag the image with, or NULL */
};
int berth_images_commit(struct berth_engine *e, const struct berth_images_commit_opts *o, berth_digest_t id,
                        berth_error_t *err) BERTH_WUR;

/* ---- a build's step (engine/builds): the parent image (NULL: none, FROM scratch) plus one layer,
 * the diff of an overlay upper dir (upper_dirfd < 0: no layer), under the config text the
 * builder returns from config() once the layer's diff id is known (NULL without a layer; the
 * config's rootfs.diff_ids and history are the builder's). The image is recorded untagged, with
 * parent as its parent. ---- */
struct berth_images_step_opts {
  const char *parent;
  int upper_dirfd;
  char *(*config)(void *data, const char *diff_id, berth_error_t *err); /* malloc'd; NULL: failed */
  void *data;
  bool build_cache;  /* a new image is the build cache's: not listed untagged (berth_images_keep) */
  const char *layer; /* instead of an upper dir: this stored layer (chain id) on the parent's */
};
int berth_images_step(struct berth_engine *e, const struct berth_images_step_opts *o, berth_digest_t id,
                      berth_error_t *err) BERTH_WUR;
/* a build's result: an image of its own, no longer only the build cache's */
int berth_images_keep(struct berth_engine *e, const char *id, berth_error_t *err) BERTH_WUR;
/* the stored config of image id, as its bytes */
int berth_images_read_config(struct berth_engine *e, const char *id, char **data, size_t *len,
                             berth_error_t *err) BERTH_WUR;

/* ---- export: the image's flattened filesystem as a tar (whiteouts applied) ---- */
int berth_images_export(struct berth_engine *e, const char *image, int out_fd, berth_error_t *err) BERTH_WUR;

/* ---- tags ---- */
int berth_images_tag(struct berth_engine *e, const char *source, const char *target,
                     berth_error_t *err) BERTH_WUR;

/* ---- rmi / prune: events are Docker's lines, "Untagged: busybox:latest", "Deleted: sha256:..." ---- */
struct berth_rmi_opts {
  bool force;
  bool no_prune; /* keep untagged parents */
};
int berth_images_remove(struct berth_engine *e, const char *what, const struct berth_rmi_opts *o,
                        char ***events, berth_error_t *err) BERTH_WUR;
/* dangling images (untagged, no children, no containers); all: every image without containers */
int berth_images_prune(struct berth_engine *e, bool all, char ***events, uint64_t *reclaimed,
                       berth_error_t *err) BERTH_WUR;
/* the same, only images created before until (unix ns; 0: any) whose config labels match labels
 * (k, k=v, and "!k[=v]" for label!=; NULL: any) — `system prune --filter` */
struct berth_images_prune_opts {
  bool all;
  int64_t until;
  char *const *labels;
};
int berth_images_prune_filtered(struct berth_engine *e, const struct berth_images_prune_opts *o,
                                char ***events, uint64_t *reclaimed, berth_error_t *err) BERTH_WUR;

/* ---- listing ---- */
struct berth_image_row {
  berth_digest_t id;
  char *repository; /* familiar ("busybox", "localhost:5000/a"), "<none>" when untagged */
  char *tag;        /* "<none>" when untagged */
  char *digest;     /* repo digest of that repository, "<none>" when none */
  int64_t created;  /* unix seconds */
  uint64_t size;
  int64_t containers;
  bool dangling;
};
/* one row per tag (untagged images: one <none> row); all: also intermediate images (untagged
 * parents of other images); filter: REPOSITORY[:TAG] or NULL */
int berth_images_list(struct berth_engine *e, bool all, const char *filter, struct berth_image_row **rows,
                      size_t *n, berth_error_t *err) BERTH_WUR;
void berth_image_rows_free(struct berth_image_row *rows, size_t n);

/* Docker-compatible `image inspect` object of one image (new reference) */
json_t *berth_images_inspect(struct berth_engine *e, const char *what, berth_error_t *err) BERTH_WUR;

struct berth_history_row {
  char *id;         /* "sha256:..." of the image whose top this entry is, or "<missing>" */
  int64_t created;  /* unix seconds (0 when unknown) */
  char *created_at; /* RFC 3339 as in the config, or "" */
  char *created_by;
  uint64_t size;
  char *comment;
  char **tags; /* familiar names of that image */
};
/* newest entry first, like `docker history` */
int berth_images_history(struct berth_engine *e, const char *what, struct berth_history_row **rows, size_t *n,
                         berth_error_t *err) BERTH_WUR;
void berth_history_rows_free(struct berth_history_row *rows, size_t n);

/* Mount the lower dirs (top first) read-only in a private mount namespace of a child process
 * and write their merged tree as a tar to out_fd: nothing stays mounted. */
int berth_export_lowers(struct berth_engine *e, char *const *lowers, size_t n, int out_fd,
                        berth_error_t *err) BERTH_WUR;
/* the layer dirs of an image, top first, appended to the NULL-terminated vector v */
struct berth_db_image;
char **berth_image_lowers(struct berth_engine *e, const struct berth_db_image *img, char **v);

/* ---- image configs ---- */
/* Image configs as the engine reads them (OCI image-spec config, Docker's v1 image JSON is the
 * same shape) and the `--change` instructions of `berth import` (Docker's `import -c`). */

struct berth_history_entry {
  const char *created;    /* as written (NULL when absent) */
  int64_t created_ns;     /* 0 when absent */
  const char *created_by; /* "" when absent */
  const char *comment;    /* "" when absent */
  const char *author;     /* "" when absent */
  bool empty_layer;
};

struct berth_imgconfig {
  json_t *root;                                       /* the whole config (owned) */
  json_t *config;                                     /* its "config" object (borrowed; NULL when absent) */
  const char *created;                                /* as written (NULL when absent) */
  int64_t created_ns;                                 /* 0 when absent */
  const char *os, *arch, *variant, *author, *comment; /* "" when absent */
  size_t ndiff;
  const char **diff_ids; /* rootfs.diff_ids (strings borrowed from root) */
  size_t nhistory;
  struct berth_history_entry *history;
};

/* Parse and check a config: JSON object, rootfs.type "layers", rootfs.diff_ids valid sha256
 * digests, created RFC 3339, typed fields; errors name file and JSON path. */
int berth_imgconfig_parse(const char *data, size_t len, const char *file, struct berth_imgconfig *out,
                          berth_error_t *err) BERTH_WUR;
void berth_imgconfig_release(struct berth_imgconfig *c);

/* Apply Dockerfile-style instructions to a config's "config" object, as `docker import -c`:
 * CMD, ENTRYPOINT (exec form ["a","b"] or shell form), ENV, LABEL (k=v ..., or ENV's legacy
 * "k v"), WORKDIR (relative joins the previous), USER, EXPOSE (80, 80/udp, 8000-8002),
 * VOLUME (["/a"] or /a /b), STOPSIGNAL, ONBUILD. Others: "<X> is not a valid change command". */
int berth_imgconfig_apply_changes(json_t *config, char *const *changes, berth_error_t *err) BERTH_WUR;

/* Docker's container.Config (every key, as `docker image inspect` shows it) from an OCI "config"
 * object (NULL: an empty one). New reference. */
json_t *berth_imgconfig_docker_config(json_t *config);

/* ---- registries: pull and push (images/pull*.c, push.c; docs/design/registry.md) ---- */
struct berth_transfer_opts {
  struct berth_registry_opts reg; /* conf, auth files, TLS, parallelism */
  const char *platform;           /* pull: "os/arch[/variant]" or NULL for the host's */
  bool all_tags;                  /* pull: every tag of the repository */
  int progress_fd;                /* where progress goes, -1: nowhere (--quiet) */
  bool tty;                       /* progress_fd is a terminal: bars redrawn in place */
  int width;
};
struct berth_pull_result {
  berth_digest_t id;     /* the image */
  berth_digest_t digest; /* the manifest's digest (the repo digest) */
  char *name;            /* "docker.io/library/alpine:latest" (or name@digest) */
  bool up_to_date;       /* nothing was downloaded */
};
void berth_pull_result_release(struct berth_pull_result *r);
/* Pull ref (a mirror first when one is configured): manifest (through an index for the
 * platform), config and the layers not yet extracted, streamed into extraction while they are
 * hashed; then blobs, layers, image, tag and repo digest recorded in one transaction. On
 * failure nothing of it is left in the store or the catalogue. all_tags: *res is the last one. */
int berth_images_pull(struct berth_engine *e, const char *ref, const struct berth_transfer_opts *o,
                      struct berth_pull_result *res, berth_error_t *err) BERTH_WUR;
/* Push a local image to the registry its reference names (berth tag it first): layers not there
 * yet (HEAD, a cross-repository mount, or an upload of the stored compressed blob; uncompressed
 * layers are compressed once, and that blob is kept for the next push), the config, the
 * manifest by tag. digest: the manifest's digest, also recorded as a repo digest. */
int berth_images_push(struct berth_engine *e, const char *ref, const struct berth_transfer_opts *o,
                      berth_digest_t digest, berth_error_t *err) BERTH_WUR;

#endif
