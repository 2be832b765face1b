/* Image configs as the engine reads them (OCI image-spec config, Docker's v1 image JSON is the
 * same shape) and the `--change` instructions of `berth import` (Docker's `import -c`). */
#ifndef BERTH_ENGINE_IMGCONFIG_H
#define BERTH_ENGINE_IMGCONFIG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

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

#endif
