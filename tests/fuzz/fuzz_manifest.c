/* Fuzz the image documents (image/manifest.h): the input is given to every parser, as an
 * image manifest, an index (manifest list), an image config, and to berth_doc_kind.
 * Invariants: a refused document says which kind of document it is; an accepted one builds
 * canonical JSON that parses again and builds to the same bytes (the digest of a document
 * berth writes does not change when it is read and written again); a document berth_doc_kind
 * calls a manifest (an index) is never one that only the other parser accepts. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "image/manifest.h"

/* "<kind> x: ..." or, for bad JSON, "<kind> x:<line>:<column>: ..." */
static void check_error(berth_error_t *err, const char *kind)
{
  size_t n = strlen(kind);
  if (*err == NULL || (*err)->msg == NULL || strncmp((*err)->msg, kind, n) != 0 || (*err)->msg[n] != ':') {
    fprintf(stderr, "error without `%s`: %s\n", kind, *err ? (*err)->msg : "(none)");
    abort();
  }
  berth_error_release(err);
}

static void check_same(const char *what, const char *a, size_t na, const char *b, size_t nb)
{
  if (na != nb || memcmp(a, b, na) != 0) {
    fprintf(stderr, "%s is not canonical:\n%s\n%s\n", what, a, b);
    abort();
  }
}

static bool fuzz_manifest(const char *data, size_t size)
{
  struct berth_manifest *m = NULL, *m2 = NULL;
  berth_error_t err = NULL;
  if (berth_manifest_parse(data, size, "x", &m, &err) < 0) {
    check_error(&err, "manifest x");
    return false;
  }
  size_t n1, n2;
  char *b1 = berth_manifest_build(m, &n1);
  if (berth_manifest_parse(b1, n1, "x", &m2, &err) < 0) {
    fprintf(stderr, "built manifest refused: %s\n%s\n", err->msg, b1);
    abort();
  }
  char *b2 = berth_manifest_build(m2, &n2);
  check_same("manifest", b1, n1, b2, n2);
  if (m2->n_layers != m->n_layers || berth_manifest_is_image(m) != berth_manifest_is_image(m2))
    abort();
  for (size_t i = 0; i < m->n_layers; i++) {
    enum berth_compression c;
    if (berth_manifest_is_image(m) && berth_layer_media_type_compression(m->layers[i].media_type, &c) < 0)
      abort();
  }
  free(b1);
  free(b2);
  berth_manifest_free(m2);
  berth_manifest_free(m);
  return true;
}

static bool fuzz_index(const char *data, size_t size)
{
  struct berth_index *ix = NULL, *ix2 = NULL;
  berth_error_t err = NULL;
  if (berth_index_parse(data, size, "x", &ix, &err) < 0) {
    check_error(&err, "index x");
    return false;
  }
  size_t n1, n2;
  char *b1 = berth_index_build(ix, &n1);
  if (berth_index_parse(b1, n1, "x", &ix2, &err) < 0) {
    fprintf(stderr, "built index refused: %s\n%s\n", err->msg, b1);
    abort();
  }
  char *b2 = berth_index_build(ix2, &n2);
  check_same("index", b1, n1, b2, n2);
  static const char *const plats[][3] = { { "linux", "amd64", NULL },
                                          { "linux", "arm64", "v8" },
                                          { "", "", "" } };
  for (size_t i = 0; i < sizeof plats / sizeof plats[0]; i++) {
    const struct berth_descriptor *d = berth_index_find(ix, plats[i][0], plats[i][1], plats[i][2]);
    const struct berth_descriptor *d2 = berth_index_find(ix2, plats[i][0], plats[i][1], plats[i][2]);
    if ((d == NULL) != (d2 == NULL) || (d && (d - ix->manifests != d2 - ix2->manifests)))
      abort();
  }
  free(b1);
  free(b2);
  berth_index_free(ix2);
  berth_index_free(ix);
  return true;
}

static void fuzz_config(const char *data, size_t size)
{
  struct berth_image_config *c = NULL, *c2 = NULL;
  berth_error_t err = NULL;
  if (berth_image_config_parse(data, size, "x", &c, &err) < 0) {
    check_error(&err, "image config x");
    return;
  }
  size_t n1, n2;
  char *b1 = berth_image_config_build(c, &n1);
  if (berth_image_config_parse(b1, n1, "x", &c2, &err) < 0) {
    fprintf(stderr, "built image config refused: %s\n%s\n", err->msg, b1);
    abort();
  }
  char *b2 = berth_image_config_build(c2, &n2);
  check_same("image config", b1, n1, b2, n2);
  if (c2->n_diff_ids != c->n_diff_ids || c2->n_history != c->n_history)
    abort();
  free(b1);
  free(b2);
  berth_image_config_free(c2);
  berth_image_config_free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size > 1 << 20)
    return 0;
  const char *text = (const char *) data;
  bool is_manifest = fuzz_manifest(text, size);
  bool is_index = fuzz_index(text, size);
  fuzz_config(text, size);
  enum berth_doc_kind kind;
  berth_error_t err = NULL;
  if (berth_doc_kind(text, size, "x", &kind, &err) < 0) {
    check_error(&err, "manifest x");
    return 0;
  }
  if ((kind == BERTH_DOC_MANIFEST && is_index && !is_manifest) ||
      (kind == BERTH_DOC_INDEX && is_manifest && !is_index)) {
    fprintf(stderr, "berth_doc_kind says %s\n", kind == BERTH_DOC_MANIFEST ? "manifest" : "index");
    abort();
  }
  return 0;
}
