/* `berth load`: docker-archive (manifest.json, RepoTags) and OCI layouts (index.json, nested
 * indexes, ref.name annotations), from an archive or a directory; every digest and size checked. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/images/images_internal.h"
#include "engine/images/load_src_internal.h"
#include "json/json.h"

void berth_load_result_release(struct berth_load_result *r)
{
  berth_strv_free(r->names);
  berth_strv_free(r->ids);
  berth_strv_free(r->untagged);
  r->names = r->ids = r->untagged = NULL;
}

void load_out_add(struct load_out *o, struct ingest_prepared *p)
{
  o->v = xreallocarray(o->v, o->n + 1, sizeof *o->v);
  o->v[o->n++] = p;
}

static void note(struct berth_load_result *res, const struct ingest_prepared *p)
{
  bool seen = false;
  for (char **i = res->ids; *i; i++)
    seen = seen || strcmp(*i, ingest_prepared_id(p)) == 0;
  if (!seen)
    res->ids = berth_strv_append(res->ids, ingest_prepared_id(p));
  if (!seen && ingest_prepared_tags(p)[0] == NULL)
    res->untagged = berth_strv_append(res->untagged, ingest_prepared_id(p));
  for (char *const *t = ingest_prepared_tags(p); *t; t++) {
    cleanup_free char *f = images_familiar(*t);
    res->names = berth_strv_append(res->names, f);
  }
}

/* "<64 hex>.json" or "blobs/sha256/<hex>": the digest the name promises, else "" */
static void promised_digest(const char *name, berth_digest_t out)
{
  const char *base = strrchr(name, '/');
  base = base ? base + 1 : name;
  size_t n = strlen(base);
  out[0] = '\0';
  if ((n == 69 && berth_str_has_suffix(base, ".json")) ||
      (n == 64 && berth_str_has_prefix(name, "blobs/sha256/"))) {
    snprintf(out, sizeof(berth_digest_t), "sha256:%.64s", base);
    berth_error_t e = NULL;
    if (berth_digest_validate(out, &e) < 0)
      out[0] = '\0';
    berth_error_release(&e);
  }
}

static BERTH_WUR int docker_tags(struct berth_jctx *j, json_t *entry, char ***tags, berth_error_t *err)
{
  const char **v = NULL;
  size_t n = 0;
  if (berth_json_get_strv(j, entry, "RepoTags", &v, &n, err) < 0)
    return -1;
  int r = 0;
  for (size_t i = 0; i < n && r == 0; i++) {
    cleanup_free char *full = NULL;
    if (images_tag_name(v[i], &full, err) < 0) {
      size_t m = berth_jctx_push_key(j, "RepoTags");
      berth_jctx_push_index(j, i);
      berth_error_t inner = steal_ptr(*err);
      r = berth_jctx_error(j, NULL, err, "%s", inner->msg);
      berth_error_release(&inner);
      berth_jctx_pop(j, m);
    } else {
      *tags = berth_strv_append(*tags, full);
    }
  }
  free(v);
  return r;
}

static BERTH_WUR int docker_entry(struct load_src *s, struct berth_jctx *j, json_t *entry, size_t idx,
                                  struct load_out *out, berth_error_t *err)
{
  const char *config = NULL;
  const char **layers = NULL;
  size_t nl = 0;
  cleanup_strv char **tags = xcalloc(1, sizeof(char *));
  cleanup_strv char **blobs = xcalloc(1, sizeof(char *));
  if (!json_is_object(entry))
    return berth_jctx_error(j, NULL, err, "expected an object");
  int r = berth_json_get_string(j, entry, "Config", &config, err);
  if (r == 0)
    r = berth_jctx_error(j, "Config", err, "missing");
  if (r > 0 && (r = berth_json_get_strv(j, entry, "Layers", &layers, &nl, err)) == 0)
    r = berth_jctx_error(j, "Layers", err, "missing");
  if (r > 0)
    r = docker_tags(j, entry, &tags, err);
  berth_digest_t cfg, promised, blob;
  uint64_t size;
  promised_digest(config ? config : "", promised);
  if (r >= 0 && load_src_blob(s, config, promised[0] ? promised : NULL, cfg, &size, err) < 0)
    r = -1;
  for (size_t i = 0; r >= 0 && i < nl; i++) {
    promised_digest(layers[i], promised);
    if (load_src_blob(s, layers[i], promised[0] ? promised : NULL, blob, &size, err) < 0)
      r = -1;
    else
      blobs = berth_strv_append(blobs, blob);
  }
  free(layers);
  if (r < 0)
    return -1;
  cleanup_free char *what = xasprintf("`%s`: image %zu (manifest.json)", s->display, idx + 1);
  struct ingest_image im = { .config = cfg, .nlayers = nl, .layer_blobs = blobs, .tags = tags, .what = what };
  struct ingest_prepared *p = NULL;
  if (ingest_prepare(s->e, &im, s->added, &p, err) < 0)
    return -1;
  load_out_add(out, p);
  return 0;
}

static BERTH_WUR int load_docker(struct load_src *s, struct load_out *out, berth_error_t *err)
{
  cleanup_free char *data = NULL;
  size_t len = 0;
  if (load_src_read(s, "manifest.json", &data, &len, err) < 0)
    return -1;
  json_t *m = berth_json_parse(data, len, "manifest.json", err);
  if (m == NULL)
    return berth_error_wrap(err, "`%s`", s->display);
  struct berth_jctx j;
  berth_jctx_init(&j, "manifest.json");
  int r = json_is_array(m) && json_array_size(m) > 0
            ? 0
            : berth_jctx_error(&j, NULL, err, "expected a non-empty array of images");
  for (size_t i = 0; r == 0 && i < json_array_size(m); i++) {
    size_t mark = berth_jctx_push_index(&j, i);
    r = docker_entry(s, &j, json_array_get(m, i), i, out, err);
    berth_jctx_pop(&j, mark);
  }
  json_decref(m);
  if (r < 0 && !berth_str_has_prefix((*err)->msg, "`"))
    berth_error_wrap(err, "`%s`", s->display);
  return r;
}

static BERTH_WUR int load_from(struct load_src *s, struct load_out *out, berth_error_t *err)
{
  if (load_src_has(s, "manifest.json"))
    return load_docker(s, out, err);
  if (load_src_has(s, "index.json"))
    return load_oci(s, out, err);
  return BERTH_ERR(err, "`%s`: neither a docker-archive (no manifest.json) nor an OCI layout (no index.json)",
                   s->display);
}

static BERTH_WUR int load(struct berth_engine *e, const char *path, int in_fd, struct ingest_files *added,
                          struct berth_load_result *res, berth_error_t *err)
{
  struct load_src s = { .e = e, .display = path ? path : "-", .dirfd = -1, .added = added };
  struct stat st;
  cleanup_close int fd = -1;
  if (path) {
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) < 0)
      return BERTH_ERR_ERRNO(err, "open `%s`", path);
    if (S_ISDIR(st.st_mode))
      s.dirfd = fd;
  }
  int r = s.dirfd >= 0 ? 0 : load_src_read_archive(&s, path ? fd : in_fd, err);
  struct load_out out = { 0 };
  if (r == 0)
    r = load_from(&s, &out, err);
  if (r == 0) /* every image of the archive in one transaction: all or nothing */
    r = ingest_record(e, out.v, out.n, err);
  for (size_t i = 0; i < out.n; i++) {
    if (r == 0)
      note(res, out.v[i]);
    ingest_prepared_free(out.v[i]);
  }
  free(out.v);
  load_src_release(&s);
  return r;
}

int berth_images_load(struct berth_engine *e, const char *path, int in_fd, struct berth_load_result *res,
                      berth_error_t *err)
{
  memset(res, 0, sizeof *res);
  res->names = xcalloc(1, sizeof(char *));
  res->ids = xcalloc(1, sizeof(char *));
  res->untagged = xcalloc(1, sizeof(char *));
  if (berth_engine_lock(e, false, err) < 0)
    return -1;
  struct ingest_files added = { 0 };
  int r = load(e, path, in_fd, &added, res, err);
  berth_error_t cerr = NULL;
  if (ingest_files_cleanup(e, &added, &cerr) < 0) { /* on success too: members no image used */
    if (r == 0)
      *err = steal_ptr(cerr);
    berth_error_release(&cerr);
    r = -1;
  }
  ingest_files_release(&added);
  if (r < 0) {
    berth_load_result_release(res);
    return berth_error_wrap(err, "load");
  }
  for (char **id = res->ids; *id; id++) {
    const char *attrs[] = { "name", *id, NULL };
    berth_engine_event(e, "image", "load", *id, attrs);
  }
  return 0;
}
