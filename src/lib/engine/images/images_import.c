/* `berth import`: a rootfs tarball (file or stdin; plain, gzip, zstd...) -> a one-layer image. The
 * stream is stored as the layer's blob first (as received), then extracted from the store, so
 * that the blob, the layer dir and the rows follow the store's order rule. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/format.h"
#include "engine/images/images_internal.h"

/* the input stream as a blob (at most max bytes) */
static BERTH_WUR int store_stream(struct berth_engine *e, int fd, const char *source, berth_digest_t digest,
                                  struct ingest_files *added, berth_error_t *err)
{
  berth_blob_writer_t *w = NULL;
  if (berth_blob_writer_new(e->store, &w, err) < 0)
    return -1;
  uint64_t max = e->limits.max_bytes ? e->limits.max_bytes : (64ULL << 30), total = 0;
  cleanup_free char *buf = xmalloc(1 << 20);
  int r = 0;
  for (;;) {
    ssize_t n = read(fd, buf, 1 << 20);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      r = BERTH_ERR_ERRNO(err, "read `%s`", source);
      break;
    }
    if (n == 0)
      break;
    if ((total += (uint64_t) n) > max) {
      r = BERTH_ERR(err, "read `%s`: larger than %llu bytes (the layer size limit)", source,
                    (unsigned long long) max);
      break;
    }
    if ((r = berth_blob_write(w, buf, (size_t) n, err)) < 0)
      break;
  }
  if (r == 0 && total == 0)
    r = BERTH_ERR(err, "read `%s`: empty input (expected a tar archive)", source);
  if (r == 0 && (r = berth_blob_writer_commit(w, NULL, digest, NULL, err)) == 0)
    ingest_files_add_blob(added, digest);
  berth_blob_writer_free(w);
  return r;
}

static BERTH_WUR int parse_platform(const char *p, char **os, char **arch, char **variant, berth_error_t *err)
{
  const char *hos, *harch, *hvariant;
  images_host_platform(&hos, &harch, &hvariant);
  if (p == NULL || *p == '\0') {
    *os = xstrdup(hos);
    *arch = xstrdup(harch);
    *variant = xstrdup(hvariant);
    return 0;
  }
  const char *s1 = strchr(p, '/');
  const char *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
  if (s1 == NULL || s1 == p || s1[1] == '\0' || s1[1] == '/' ||
      (s2 && (s2[1] == '\0' || strchr(s2 + 1, '/'))))
    return BERTH_ERR(err, "invalid platform `%s` (expected os/arch[/variant])", p);
  *os = xstrndup(p, (size_t) (s1 - p));
  *arch = s2 ? xstrndup(s1 + 1, (size_t) (s2 - s1 - 1)) : xstrdup(s1 + 1);
  *variant = xstrdup(s2 ? s2 + 1 : "");
  return 0;
}

/* the image config: rootfs of the one layer, a history entry, the --change'd config */
static BERTH_WUR int build_config(const struct berth_import_opts *o, const char *diff_id, char **out,
                                  berth_error_t *err)
{
  cleanup_free char *os = NULL, *arch = NULL, *variant = NULL;
  if (parse_platform(o->platform, &os, &arch, &variant, err) < 0)
    return -1;
  json_t *config = json_object();
  if (berth_imgconfig_apply_changes(config, o->changes, err) < 0) {
    json_decref(config);
    return -1;
  }
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  int64_t now = o->created_ns ? o->created_ns : (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
  cleanup_free char *created = berth_fmt_rfc3339(now);
  cleanup_free char *imported = xasprintf("Imported from %s", o->source ? o->source : "-");
  const char *comment = o->message && *o->message ? o->message : imported;
  json_t *c = json_pack("{s:s, s:o, s:s, s:[{s:s, s:s}], s:s, s:{s:s, s:[s]}}", "architecture", arch,
                        "config", config, "created", created, "history", "created", created, "comment",
                        comment, "os", os, "rootfs", "type", "layers", "diff_ids", diff_id);
  if (c == NULL)
    berth_oom();
  if (*variant)
    json_object_set_new(c, "variant", json_string(variant));
  if (o->message && *o->message)
    json_object_set_new(c, "comment", json_string(o->message));
  char *s = json_dumps(c, JSON_COMPACT | JSON_SORT_KEYS);
  json_decref(c);
  if (s == NULL)
    berth_oom();
  *out = s;
  return 0;
}

static BERTH_WUR int import(struct berth_engine *e, int in_fd, const struct berth_import_opts *o,
                            berth_digest_t id, struct ingest_files *added, berth_error_t *err)
{
  const char *source = o->source ? o->source : "-";
  cleanup_strv char **tags = xcalloc(1, sizeof(char *));
  if (o->reference) {
    cleanup_free char *full = NULL;
    if (images_tag_name(o->reference, &full, err) < 0)
      return -1;
    tags = berth_strv_append(tags, full);
  }
  json_t *probe = json_object(); /* refuse bad --change before reading anything */
  int r = berth_imgconfig_apply_changes(probe, o->changes, err);
  json_decref(probe);
  berth_digest_t blob, config;
  struct berth_db_layer layer;
  if (r < 0 || store_stream(e, in_fd, source, blob, added, err) < 0 ||
      ingest_layer(e, blob, NULL, NULL, "layer", &layer, added, err) < 0)
    return -1;
  cleanup_free char *json = NULL;
  if (build_config(o, layer.diff_id, &json, err) < 0 ||
      berth_store_put_bytes(e->store, json, strlen(json), NULL, config, err) < 0)
    return -1;
  ingest_files_add_blob(added, config);
  char *blobs[] = { blob, NULL };
  struct ingest_image im = {
    .config = config,
    .nlayers = 1,
    .layer_blobs = blobs,
    .prepared = &layer,
    .tags = tags,
    .what = "image",
  };
  return ingest_image(e, &im, added, id, err);
}

int berth_images_import(struct berth_engine *e, int in_fd, const struct berth_import_opts *o,
                        berth_digest_t id, berth_error_t *err)
{
  if (berth_engine_lock(e, false, err) < 0)
    return -1;
  struct ingest_files added = { 0 };
  int r = import(e, in_fd, o, id, &added, err);
  berth_error_t cerr = NULL;
  if (ingest_files_cleanup(e, &added, &cerr) < 0) {
    if (r == 0)
      *err = steal_ptr(cerr);
    berth_error_release(&cerr);
    r = -1;
  }
  ingest_files_release(&added);
  if (r < 0)
    return berth_error_wrap(err, "import `%s`", o->source ? o->source : "-");
  const char *attrs[] = { "name", o->reference ? o->reference : id, NULL };
  berth_engine_event(e, "image", "import", id, attrs);
  return 0;
}
