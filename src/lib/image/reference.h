/* Image references parsed and normalized as Docker does:
 *   busybox                 -> docker.io/library/busybox:latest
 *   localhost:5000/a/b:v1   -> localhost:5000/a/b:v1
 *   x/y@sha256:<hex>        -> docker.io/x/y@sha256:<hex>
 * A first component with '.' or ':' or equal to "localhost" is a registry. Repository
 * components are lower-case [a-z0-9]+ joined by separators [._-]; tags [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}. */
#ifndef BERTH_IMAGE_REFERENCE_H
#define BERTH_IMAGE_REFERENCE_H

#include <stdbool.h>

#include "base/error.h"

struct berth_ref {
  char *registry;   /* "docker.io", "localhost:5000" */
  char *repository; /* "library/busybox" */
  char *tag;        /* "latest" when neither tag nor digest given; NULL with a digest only */
  char *digest;     /* "sha256:<hex>" or NULL */
};

int berth_ref_parse(const char *s, struct berth_ref *out, berth_error_t *err) BERTH_WUR;
void berth_ref_release(struct berth_ref *r);
/* "docker.io/library/busybox:latest" (tag and/or @digest) */
char *berth_ref_string(const struct berth_ref *r);
/* "docker.io/library/busybox" */
char *berth_ref_name(const struct berth_ref *r);
/* Docker's short form for display: "busybox:latest", "localhost:5000/a/b:v1" */
char *berth_ref_familiar(const struct berth_ref *r);

#endif
