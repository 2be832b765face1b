/* Manifests and indexes: content negotiation, digest and media-type checks, platform selection
 * through an index, the config blob, and the tag list. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "json/json.h"
#include "registry/registry_int.h"

#define MT_SCHEMA1        "application/vnd.docker.distribution.manifest.v1+json"
#define MT_SCHEMA1_SIGNED "application/vnd.docker.distribution.manifest.v1+prettyjws"

void berth_registry_doc_release(struct berth_registry_doc *d)
{
  free(d->data);
  free(d->media_type);
  memset(d, 0, sizeof *d);
}

void berth_registry_image_release(struct berth_registry_image *im)
{
  berth_registry_doc_release(&im->index);
  berth_registry_doc_release(&im->manifest);
  berth_registry_doc_release(&im->config);
  berth_manifest_free(im->m);
  im->m = NULL;
}

/* "application/json; charset=utf-8" -> "application/json" */
static char *bare_type(const char *ct)
{
  if (ct == NULL)
    return xstrdup("");
  size_t n = strcspn(ct, "; ");
  return xstrndup(ct, n);
}

static bool is_schema1(const char *ct, json_t *j)
{
  json_int_t v = json_integer_value(json_object_get(j, "schemaVersion"));
  return strcmp(ct, MT_SCHEMA1) == 0 || strcmp(ct, MT_SCHEMA1_SIGNED) == 0 || v == 1;
}

/* what the document is, by its own mediaType or shape, against what the server says it is */
static BERTH_WUR int check_media_type(const char *what, const char *ct, const char *data, size_t len,
                                      char **out, berth_error_t *err)
{
  json_error_t je;
  json_t *j = json_loadb(data, len, 0, &je);
  if (j == NULL || !json_is_object(j)) {
    json_decref(j);
    return BERTH_ERR(err, "%s: not a JSON document (%s)", what, j ? "not an object" : je.text);
  }
  if (is_schema1(ct, j)) {
    json_decref(j);
    return BERTH_ERR(err,
                     "%s: a Docker schema 1 manifest: not supported (deprecated since 2017; push the image "
                     "again with a current client to get schema 2)",
                     what);
  }
  const char *mt = json_string_value(json_object_get(j, "mediaType"));
  const char *shape = json_object_get(j, "manifests") ? "index"
                      : json_object_get(j, "config")  ? "manifest"
                                                      : NULL;
  cleanup_free char *doc = xstrdup(mt ? mt : "");
  json_decref(j);
  bool ct_index = strcmp(ct, BERTH_MT_OCI_INDEX) == 0 || strcmp(ct, BERTH_MT_DOCKER_LIST) == 0;
  bool ct_manifest = strcmp(ct, BERTH_MT_OCI_MANIFEST) == 0 || strcmp(ct, BERTH_MT_DOCKER_MANIFEST) == 0;
  if (doc[0] != '\0' && (ct_index || ct_manifest) && strcmp(doc, ct) != 0)
    return BERTH_ERR(err, "%s: the registry serves it as `%s` but the document says `%s`", what, ct, doc);
  if (shape != NULL &&
      ((ct_index && strcmp(shape, "index") != 0) || (ct_manifest && strcmp(shape, "manifest") != 0)))
    return BERTH_ERR(err, "%s: the registry serves it as `%s` but the document is an image %s", what, ct,
                     shape);
  if (doc[0] == '\0' && !ct_index && !ct_manifest) {
    if (shape == NULL)
      return BERTH_ERR(err, "%s: neither a manifest nor an index (media type `%s`)", what, ct);
    free(doc);
    doc = xstrdup(strcmp(shape, "index") == 0 ? BERTH_MT_OCI_INDEX : BERTH_MT_OCI_MANIFEST);
  }
  *out = doc[0] != '\0' ? steal_ptr(doc) : xstrdup(ct);
  return 0;
}

static BERTH_WUR int check_digest(const char *what, const char *ref, const struct reg_req *q,
                                  const char *computed, berth_error_t *err)
{
  if (berth_str_has_prefix(ref, "sha256:") && strcmp(ref, computed) != 0)
    return BERTH_ERR(err, "%s: digest mismatch: asked for %s, got %s", what, ref, computed);
  if (q->docker_digest != NULL && berth_str_has_prefix(q->docker_digest, "sha256:") &&
      strcmp(q->docker_digest, computed) != 0)
    return BERTH_ERR(err, "%s: digest mismatch: the registry says %s, the content is %s", what,
                     q->docker_digest, computed);
  return 0;
}

int berth_registry_get_manifest(struct berth_registry *r, const char *repo, const char *ref,
                                struct berth_registry_doc *out, berth_error_t *err)
{
  memset(out, 0, sizeof *out);
  cleanup_free char *what =
    xasprintf("manifest %s/%s%s%s", r->name, repo, ref[0] == 's' && strchr(ref, ':') ? "@" : ":", ref);
  if (reg_ensure_base(r, err) < 0)
    return -1;
  struct reg_req q;
  reg_req_init(&q, "GET", reg_url(r, "%s/manifests/%s", repo, ref));
  q.scope = reg_scope(repo, false);
  q.max_body = REG_MAX_MANIFEST;
  reg_req_header(&q, "Accept: %s, %s, %s, %s, %s;q=0.1", BERTH_MT_OCI_INDEX, BERTH_MT_OCI_MANIFEST,
                 BERTH_MT_DOCKER_LIST, BERTH_MT_DOCKER_MANIFEST, MT_SCHEMA1_SIGNED);
  int rc = reg_request(r, &q, err);
  if (rc == 0 && q.status != 200)
    rc = reg_status_error(&q, what, err);
  cleanup_free char *ct = bare_type(q.content_type);
  if (rc == 0) {
    berth_digest_bytes(q.body.buf ? q.body.buf : "", q.body.len, out->digest);
    rc = check_digest(what, ref, &q, out->digest, err);
  }
  if (rc == 0)
    rc = check_media_type(what, ct, q.body.buf ? q.body.buf : "", q.body.len, &out->media_type, err);
  if (rc == 0) {
    out->len = q.body.len;
    out->data = q.body.len ? berth_strbuf_detach(&q.body) : xstrdup("");
  }
  if (rc < 0 && q.rc == CURLE_WRITE_ERROR)
    berth_error_wrap(err, "%s: larger than %u bytes", what, REG_MAX_MANIFEST);
  reg_req_release(&q);
  if (rc < 0)
    berth_registry_doc_release(out);
  return rc;
}

static bool is_index_type(const char *mt)
{
  return strcmp(mt, BERTH_MT_OCI_INDEX) == 0 || strcmp(mt, BERTH_MT_DOCKER_LIST) == 0;
}

/* the manifest of the wanted platform, from an index */
static BERTH_WUR int pick_from_index(struct berth_registry *r, const char *repo,
                                     struct berth_registry_image *out, const struct berth_platform_want *want,
                                     berth_error_t *err)
{
  struct berth_index *ix = NULL;
  if (berth_index_parse(out->index.data, out->index.len, out->index.digest, &ix, err) < 0)
    return -1;
  ssize_t i = berth_platform_select(ix, want);
  int rc = 0;
  if (i < 0) {
    cleanup_free char *w = berth_platform_want_string(want);
    rc = BERTH_ERR(err, "%s/%s@%s: no image for platform %s in the index (%zu entries)", r->name, repo,
                   out->index.digest, w, ix->n_manifests);
  } else if (strcmp(ix->manifests[i].digest, out->index.digest) == 0) {
    rc = BERTH_ERR(err, "%s/%s@%s: the index names itself", r->name, repo, out->index.digest);
  } else {
    rc = berth_registry_get_manifest(r, repo, ix->manifests[i].digest, &out->manifest, err);
    if (rc == 0 && is_index_type(out->manifest.media_type))
      rc = BERTH_ERR(err, "%s/%s@%s: an index inside an index: not supported", r->name, repo,
                     ix->manifests[i].digest);
  }
  berth_index_free(ix);
  return rc;
}

int berth_registry_resolve(struct berth_registry *r, const char *repo, const char *ref,
                           const struct berth_platform_want *want, struct berth_registry_image *out,
                           berth_error_t *err)
{
  memset(out, 0, sizeof *out);
  struct berth_registry_doc first;
  if (berth_registry_get_manifest(r, repo, ref, &first, err) < 0)
    return -1;
  int rc = 0;
  if (is_index_type(first.media_type)) {
    out->index = first;
    rc = pick_from_index(r, repo, out, want, err);
  } else {
    out->manifest = first;
  }
  if (rc == 0)
    rc = berth_manifest_parse(out->manifest.data, out->manifest.len, out->manifest.digest, &out->m, err);
  if (rc == 0 && !berth_manifest_is_image(out->m))
    rc = BERTH_ERR(err, "%s/%s@%s: not an image (config media type `%s`)", r->name, repo,
                   out->manifest.digest, out->m->config.media_type);
  if (rc < 0)
    berth_registry_image_release(out);
  return rc;
}

int berth_registry_get_config(struct berth_registry *r, const char *repo, struct berth_registry_image *im,
                              berth_error_t *err)
{
  if (berth_registry_get_blob(r, repo, &im->m->config, 16u << 20, &im->config.data, &im->config.len, err) < 0)
    return -1;
  free(im->config.media_type);
  im->config.media_type = xstrdup(im->m->config.media_type);
  snprintf(im->config.digest, sizeof im->config.digest, "%s", im->m->config.digest);
  return 0;
}

int berth_registry_get_blob(struct berth_registry *r, const char *repo, const struct berth_descriptor *d,
                            size_t max, char **data, size_t *len, berth_error_t *err)
{
  cleanup_free char *what = xasprintf("blob %s", d->digest);
  if (d->size < 0 || (uint64_t) d->size > max)
    return BERTH_ERR(err, "%s: size %lld above the limit of %zu bytes", what, (long long) d->size, max);
  if (reg_ensure_base(r, err) < 0)
    return -1;
  struct reg_req q;
  reg_req_init(&q, "GET", reg_url(r, "%s/blobs/%s", repo, d->digest));
  q.scope = reg_scope(repo, false);
  q.max_body = (size_t) d->size + 1;
  int rc = reg_request(r, &q, err);
  if (rc == 0 && q.status != 200)
    rc = reg_status_error(&q, what, err);
  if (rc < 0 && q.body_too_big)
    berth_error_wrap(err, "%s: larger than its descriptor says (%lld bytes)", what, (long long) d->size);
  if (rc == 0 && q.body.len != (size_t) d->size)
    rc = BERTH_ERR(err, "%s: %zu bytes, its descriptor says %lld", what, q.body.len, (long long) d->size);
  char got[BERTH_DIGEST_LEN + 1];
  if (rc == 0) {
    berth_digest_bytes(q.body.buf ? q.body.buf : "", q.body.len, got);
    if (strcmp(got, d->digest) != 0)
      rc = BERTH_ERR(err, "%s: digest mismatch: got %s", what, got);
  }
  if (rc == 0) {
    *len = q.body.len;
    *data = q.body.len ? berth_strbuf_detach(&q.body) : xstrdup("");
  }
  reg_req_release(&q);
  return rc;
}

/* Link: </v2/a/tags/list?n=100&last=x>; rel="next" -> the URL */
static char *next_link(struct berth_registry *r, const char *link)
{
  if (link == NULL || strstr(link, "rel=\"next\"") == NULL)
    return NULL;
  const char *lt = strchr(link, '<'), *gt = lt ? strchr(lt, '>') : NULL;
  if (gt == NULL)
    return NULL;
  cleanup_free char *loc = xstrndup(lt + 1, (size_t) (gt - lt - 1));
  return reg_resolve_location(r, loc);
}

int berth_registry_list_tags(struct berth_registry *r, const char *repo, char ***tags, berth_error_t *err)
{
  if (reg_ensure_base(r, err) < 0)
    return -1;
  char **v = xcalloc(1, sizeof(char *));
  char *url = reg_url(r, "%s/tags/list", repo);
  for (int page = 0; url != NULL && page < 1000; page++) {
    struct reg_req q;
    reg_req_init(&q, "GET", url);
    q.scope = reg_scope(repo, false);
    q.max_body = 16u << 20;
    int rc = reg_request(r, &q, err);
    if (rc == 0 && q.status != 200)
      rc = reg_status_error(&q, "list tags", err);
    json_error_t je;
    json_t *j = rc == 0 ? json_loadb(q.body.buf ? q.body.buf : "", q.body.len, 0, &je) : NULL;
    if (rc == 0 && j == NULL)
      rc = BERTH_ERR(err, "list tags of %s: not JSON: %s", repo, je.text);
    size_t i;
    json_t *t;
    json_array_foreach (json_object_get(j, "tags"), i, t)
      if (json_is_string(t))
        v = berth_strv_append(v, json_string_value(t));
    json_decref(j);
    url = rc == 0 ? next_link(r, q.link) : NULL;
    reg_req_release(&q);
    if (rc < 0) {
      berth_strv_free(v);
      return -1;
    }
  }
  *tags = v;
  return 0;
}
