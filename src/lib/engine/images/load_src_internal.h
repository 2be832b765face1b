/* Where `berth load` reads from: an archive stream (members spooled into the store as blobs
 * or, for small JSON documents, kept in memory) or an OCI layout directory. Internal to
 * engine/images/images_load*.c. */
#ifndef BERTH_ENGINE_IMAGES_LOAD_SRC_INTERNAL_H
#define BERTH_ENGINE_IMAGES_LOAD_SRC_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "engine/images/images_internal.h"

struct load_member {
  char *name; /* normalized: no "./", no trailing '/' */
  char *data; /* small document kept in memory, or NULL */
  size_t len;
  berth_digest_t blob; /* stored blob ("" when in memory only) */
  uint64_t size;
  char *link; /* a symlink/hardlink member: the member it names */
};

struct load_src {
  struct berth_engine *e;
  const char *display; /* the file name for messages ("-": stdin) */
  int dirfd;           /* an OCI layout directory; -1 for an archive */
  struct load_member *m;
  size_t n;
  struct ingest_files *added;
};

void load_src_release(struct load_src *s);
/* read the whole archive (any tar dialect, compressed or not) from fd */
int load_src_read_archive(struct load_src *s, int fd, berth_error_t *err) BERTH_WUR;
/* does the source have this member (file) */
bool load_src_has(struct load_src *s, const char *name);
/* a small document (at most IMAGES_MAX_JSON) */
int load_src_read(struct load_src *s, const char *name, char **data, size_t *len,
                  berth_error_t *err) BERTH_WUR;
/* a member as a stored blob; expected (may be NULL) must match its digest */
int load_src_blob(struct load_src *s, const char *name, const char *expected, berth_digest_t out,
                  uint64_t *size, berth_error_t *err) BERTH_WUR;

/* the OCI layout of the source (images_load_oci.c) */
int load_oci(struct load_src *s, struct load_out *out, berth_error_t *err) BERTH_WUR;

#endif
