/* OCI image-spec and Docker v2.2 documents: image manifests, indexes / manifest lists and
 * image configs. Parsing validates and names the document and the JSON path in errors
 * ("manifest sha256:ab12…: layers[2].digest: not a sha256 digest: …"); building gives
 * canonical compact JSON (fixed key order — the Go structs' order, maps sorted by key — and
 * empty fields left out), so that the same document always has the same digest. */
#ifndef BERTH_IMAGE_MANIFEST_H
#define BERTH_IMAGE_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "image/digest.h"
#include "image/layer.h"

#define BERTH_MT_OCI_MANIFEST         "application/vnd.oci.image.manifest.v1+json"
#define BERTH_MT_OCI_INDEX            "application/vnd.oci.image.index.v1+json"
#define BERTH_MT_OCI_CONFIG           "application/vnd.oci.image.config.v1+json"
#define BERTH_MT_OCI_LAYER            "application/vnd.oci.image.layer.v1.tar"
#define BERTH_MT_OCI_LAYER_GZIP       "application/vnd.oci.image.layer.v1.tar+gzip"
#define BERTH_MT_OCI_LAYER_ZSTD       "application/vnd.oci.image.layer.v1.tar+zstd"
#define BERTH_MT_OCI_LAYER_ND         "application/vnd.oci.image.layer.nondistributable.v1.tar"
#define BERTH_MT_OCI_LAYER_ND_GZIP    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
#define BERTH_MT_OCI_LAYER_ND_ZSTD    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd"
#define BERTH_MT_DOCKER_MANIFEST      "application/vnd.docker.distribution.manifest.v2+json"
#define BERTH_MT_DOCKER_LIST          "application/vnd.docker.distribution.manifest.list.v2+json"
#define BERTH_MT_DOCKER_CONFIG        "application/vnd.docker.container.image.v1+json"
#define BERTH_MT_DOCKER_LAYER_GZIP    "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define BERTH_MT_DOCKER_LAYER_FOREIGN "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"

/* string -> string, sorted by key (annotations, labels) */
struct berth_strmap {
  size_t n;
  char **keys;
  char **values;
};

struct berth_platform {
  char *architecture; /* "amd64" */
  char *os;           /* "linux" */
  char *os_version;   /* NULL when absent */
  char *variant;      /* "v8", or NULL */
  char **os_features; /* NULL-terminated, NULL when absent */
};

struct berth_descriptor {
  char *media_type;
  char digest[BERTH_DIGEST_LEN + 1];
  int64_t size;
  char **urls; /* NULL-terminated, NULL when absent */
  struct berth_strmap annotations;
  struct berth_platform *platform; /* index entries only; NULL when absent */
};

struct berth_manifest {
  int schema_version; /* 2 */
  char *media_type;   /* NULL when absent (allowed for OCI) */
  struct berth_descriptor config;
  struct berth_descriptor *layers;
  size_t n_layers;
  struct berth_strmap annotations;
};

struct berth_index {
  int schema_version;
  char *media_type; /* NULL when absent (allowed for OCI) */
  struct berth_descriptor *manifests;
  size_t n_manifests;
  struct berth_strmap annotations;
};

struct berth_history {
  char *created;
  char *created_by;
  char *author;
  char *comment;
  bool empty_layer;
};

/* the container defaults of an image ("config" inside the image config) */
struct berth_container_config {
  char *user;
  char **exposed_ports; /* "80/tcp" … sorted, NULL-terminated */
  char **env;           /* "K=V" in order, NULL-terminated */
  char **entrypoint;    /* NULL when absent */
  char **cmd;           /* NULL when absent */
  char **volumes;       /* sorted, NULL-terminated */
  char *working_dir;
  struct berth_strmap labels;
  char *stop_signal;
};

struct berth_image_config {
  char *created; /* RFC 3339, or NULL */
  char *author;
  char *architecture;
  char *os;
  char *os_version;
  char *variant;
  struct berth_container_config config;
  char **diff_ids; /* rootfs.diff_ids, NULL-terminated */
  size_t n_diff_ids;
  struct berth_history *history;
  size_t n_history;
};

/* what a document is: by its mediaType, else by shape ("manifests" → index, "config" → manifest) */
enum berth_doc_kind {
  BERTH_DOC_MANIFEST,
  BERTH_DOC_INDEX,
};

/* name: shown in errors after the document kind ("manifest <name>: …"), e.g. its digest; may be NULL */
int berth_doc_kind(const char *data, size_t len, const char *name, enum berth_doc_kind *kind,
                   berth_error_t *err) BERTH_WUR;

int berth_manifest_parse(const char *data, size_t len, const char *name, struct berth_manifest **out,
                         berth_error_t *err) BERTH_WUR;
/* canonical compact JSON (NUL-terminated; *len without the NUL; len may be NULL) */
char *berth_manifest_build(const struct berth_manifest *m, size_t *len);
void berth_manifest_free(struct berth_manifest *m);
/* true when the config is an OCI or Docker image config (not an artifact) */
bool berth_manifest_is_image(const struct berth_manifest *m);

int berth_index_parse(const char *data, size_t len, const char *name, struct berth_index **out,
                      berth_error_t *err) BERTH_WUR;
char *berth_index_build(const struct berth_index *ix, size_t *len);
void berth_index_free(struct berth_index *ix);
/* The entry for a platform: os and architecture must match, variant too when both have one
 * (an entry without a variant matches any); the first match in document order. NULL when none. */
const struct berth_descriptor *berth_index_find(const struct berth_index *ix, const char *os,
                                                const char *arch, const char *variant);

int berth_image_config_parse(const char *data, size_t len, const char *name, struct berth_image_config **out,
                             berth_error_t *err) BERTH_WUR;
char *berth_image_config_build(const struct berth_image_config *c, size_t *len);
void berth_image_config_free(struct berth_image_config *c);

/* a manifest and its config agree: one diff ID per layer */
int berth_manifest_check_config(const struct berth_manifest *m, const struct berth_image_config *c,
                                const char *name, berth_error_t *err) BERTH_WUR;

/* the compression a layer media type declares; -1 for a type that is not a layer */
int berth_layer_media_type_compression(const char *media_type, enum berth_compression *c) BERTH_WUR;

/* helpers for documents built in code */
void berth_strmap_set(struct berth_strmap *m, const char *key, const char *value);
const char *berth_strmap_get(const struct berth_strmap *m, const char *key);
void berth_strmap_release(struct berth_strmap *m);
void berth_descriptor_release(struct berth_descriptor *d);

#endif
