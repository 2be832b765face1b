/* Fuzz image references (berth_ref_parse): the input is one reference string. An accepted
 * reference has a registry, a repository of at most 255 characters and a tag or a digest; its
 * full form and its familiar form both parse again to the same full form (normalizing is
 * idempotent, and what `berth images` shows names the same image). A refused one says why.
 *
 * Except, as in Docker (distribution/reference's FamiliarName): the familiar form of a Docker
 * Hub repository whose first component looks like a registry ("docker.io/a.b/c" shows as
 * "a.b/c") names another registry; only the full form is checked for those. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/xalloc.h"
#include "image/reference.h"

static int str_eq(const char *a, const char *b)
{
  return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* s must parse, and to exactly the reference r */
static void check_reparse(const char *s, const struct berth_ref *r, const char *full)
{
  struct berth_ref again;
  berth_error_t err = NULL;
  if (berth_ref_parse(s, &again, &err) < 0) {
    fprintf(stderr, "`%s` does not parse again: %s\n", s, err->msg);
    abort();
  }
  char *full2 = berth_ref_string(&again);
  if (strcmp(full, full2) != 0 || !str_eq(r->registry, again.registry) ||
      !str_eq(r->repository, again.repository) || !str_eq(r->tag, again.tag) ||
      !str_eq(r->digest, again.digest)) {
    fprintf(stderr, "`%s` parses to `%s`, not `%s`\n", s, full2, full);
    abort();
  }
  free(full2);
  berth_ref_release(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size > 4096 || memchr(data, '\0', size) != NULL)
    return 0;
  char *s = xmalloc(size + 1);
  memcpy(s, data, size);
  s[size] = '\0';
  struct berth_ref r;
  berth_error_t err = NULL;
  if (berth_ref_parse(s, &r, &err) < 0) {
    if (err == NULL || err->msg == NULL || strncmp(err->msg, "invalid ", 8) != 0)
      abort();
    berth_error_release(&err);
    free(s);
    return 0;
  }
  if (r.registry == NULL || r.registry[0] == '\0' || r.repository == NULL || strlen(r.repository) > 255 ||
      (r.tag == NULL && r.digest == NULL))
    abort();
  char *full = berth_ref_string(&r);
  char *familiar = berth_ref_familiar(&r);
  check_reparse(full, &r, full);
  size_t first = strcspn(r.repository, "/");
  bool hub_looks_like_registry =
    strcmp(r.registry, "docker.io") == 0 && r.repository[first] == '/' &&
    (strcspn(r.repository, ".:") < first || (first == 9 && strncmp(r.repository, "localhost", 9) == 0));
  if (!hub_looks_like_registry)
    check_reparse(familiar, &r, full);
  free(familiar);
  free(full);
  berth_ref_release(&r);
  free(s);
  return 0;
}
