/* Ingesting an image whose blobs are in the store: layers extracted once by chain id (or reused),
 * then blobs, layers, image and tags recorded in one transaction. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "image/archive_dl.h"
#include "base/cleanup.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/images/images_internal.h"
#include "image/reference.h"
#include "image/tarsplit.h"

void ingest_files_add_blob(struct ingest_files *f, const char *digest)
{
  for (char **p = f->blobs; p && *p; p++)
    if (strcmp(*p, digest) == 0)
      return;
  f->blobs = berth_strv_append(f->blobs, digest);
}

void ingest_files_release(struct ingest_files *f)
{
  berth_strv_free(f->blobs);
  berth_strv_free(f->layers);
  f->blobs = f->layers = NULL;
}

int ingest_files_cleanup(struct berth_engine *e, struct ingest_files *f, berth_error_t *err)
{
  cleanup_strv char **layers = xcalloc(1, sizeof(char *));
  cleanup_strv char **blobs = xcalloc(1, sizeof(char *));
  for (char **p = f->layers; p && *p; p++) {
    struct berth_db_layer l;
    int r = berth_db_layer_get(e->db, *p, &l, err);
    if (r < 0)
      return -1;
    if (r == 0)
      layers = berth_strv_append(layers, *p);
  }
  for (char **p = f->blobs; p && *p; p++) {
    struct berth_db_blob b = { 0 };
    int r = berth_db_blob_get(e->db, *p, &b, err);
    berth_db_blob_release(&b);
    if (r < 0)
      return -1;
    if (r == 0)
      blobs = berth_strv_append(blobs, *p);
  }
  if (layers[0] == NULL && blobs[0] == NULL)
    return 0;
  return berth_engine_remove_unreferenced(e, layers, blobs, NULL, err);
}

/* decompress a stored layer blob to learn its diff id and tar size (a layer dir found without
 * its row: its content is trusted, its numbers are not) */
static BERTH_WUR int blob_tar_info(struct berth_engine *e, const char *blob, berth_digest_t diff_id,
                                   uint64_t *tar_size, berth_error_t *err)
{
  if (berth_archive_load(err) < 0)
    return -1;
  cleanup_close int fd = berth_store_open_blob(e->store, blob, err);
  if (fd < 0)
    return -1;
  struct archive *a = archive_read_new();
  archive_read_support_format_raw(a);
  struct archive_entry *ent;
  uint64_t max = e->limits.max_bytes ? e->limits.max_bytes : (64ULL << 30), total = 0;
  berth_digester_t *d = berth_digester_new();
  int r = berth_archive_read_filters(a, BERTH_ARCHIVE_DECODERS, 0, err);
  if (r == 0 && (berth_archive_read_open_fd(a, fd, BERTH_ARCHIVE_DECODERS) != ARCHIVE_OK ||
                 archive_read_next_header(a, &ent) != ARCHIVE_OK))
    r = BERTH_ERR(err, "blob %s: %s", blob, archive_error_string(a));
  cleanup_free char *buf = xmalloc(1 << 16);
  for (la_ssize_t n; r == 0 && (n = archive_read_data(a, buf, 1 << 16)) != 0;) {
    if (n < 0)
      r = BERTH_ERR(err, "blob %s: %s", blob, archive_error_string(a));
    else if ((total += (uint64_t) n) > max)
      r = BERTH_ERR(err, "blob %s: expands beyond %llu bytes", blob, (unsigned long long) max);
    else
      berth_digester_update(d, buf, (size_t) n);
  }
  if (r == 0) {
    berth_digester_final(d, diff_id);
    *tar_size = total;
  }
  berth_digester_free(d);
  archive_read_free(a);
  return r;
}

/* a layer dir is present without its row: measure it and check the blob matches it */
static BERTH_WUR int adopt_layer(struct berth_engine *e, const char *blob, const char *chain,
                                 const char *expected, struct berth_db_layer *out, berth_error_t *err)
{
  berth_digest_t diff;
  cleanup_free char *dir = berth_store_layer_dir(e->store, chain);
  cleanup_free char *diffdir = xasprintf("%s/diff", dir);
  if (blob_tar_info(e, blob, diff, &out->tar_size, err) < 0 ||
      berth_engine_dir_size(diffdir, &out->size, err) < 0)
    return -1;
  if (strcmp(diff, expected) != 0)
    return BERTH_ERR(err, "diff id mismatch: the config says %s, the layer's content is %s", expected, diff);
  cleanup_free char *rec = xasprintf("%s/" BERTH_TARSPLIT_FILE, dir);
  out->tar_split = access(rec, F_OK) == 0; /* a record is only ever renamed into place whole and good */
  if (out->tar_split)
    out->blob_digest[0] = '\0';
  return 0;
}

/* The layer of stage is kept by its tar-split record (its blob goes) unless the record cannot
 * rebuild the tar (unsafe: why; the record goes, the blob stays). */
static void decide_split(const char *stage, const char *unsafe, const char *blob, struct berth_db_layer *out)
{
  cleanup_free char *rec = xasprintf("%s/" BERTH_TARSPLIT_FILE, stage);
  out->tar_split = unsafe == NULL && access(rec, F_OK) == 0;
  if (out->tar_split) {
    out->blob_digest[0] = '\0';
    return;
  }
  if (unsafe)
    berth_log_debug("layer %s: kept as its blob %s (the tree cannot give its tar back: %s)", out->chain_id,
                    blob, unsafe);
  if (unlink(rec) < 0 && errno != ENOENT)
    berth_log_warn("remove `%s`: %s", rec, strerror(errno));
}

/* apply blob into a fresh stage, recording its tar-split; on success *stage is the staged dir and
 * info is filled */
static BERTH_WUR int extract_layer(struct berth_engine *e, const char *blob, char **stage,
                                   struct berth_layer_info *info, const char **unsafe, uint64_t *size,
                                   berth_error_t *err)
{
  cleanup_free char *st = berth_store_mkstage(e->store, err);
  if (st == NULL)
    return -1;
  cleanup_free char *diffdir = xasprintf("%s/diff", st);
  cleanup_free char *rec = xasprintf("%s/" BERTH_TARSPLIT_FILE, st);
  int r = -1;
  cleanup_close int in = berth_store_open_blob(e->store, blob, err);
  if (in >= 0) {
    cleanup_close int dirfd = open(diffdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    cleanup_close int recfd = open(rec, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (dirfd < 0 || recfd < 0)
      BERTH_ERR_ERRNO(err, "open `%s`", dirfd < 0 ? diffdir : rec);
    else if (berth_layer_apply_split(in, dirfd, &e->limits, recfd, info, unsafe, err) == 0)
      r = berth_engine_dir_size(diffdir, size, err);
  }
  if (r < 0) {
    berth_ignore(berth_rm_rf(st, BERTH_IGNORED));
    return -1;
  }
  *stage = steal_ptr(st);
  return 0;
}

/* stage committed as chain (or dropped when another command committed it first) */
static BERTH_WUR int commit_stage(struct berth_engine *e, const char *stage, const char *chain,
                                  struct ingest_files *added, berth_error_t *err)
{
  berth_error_t cerr = NULL;
  int r = 0;
  if (berth_store_commit_layer(e->store, stage, chain, &cerr) == 0)
    added->layers = berth_strv_append(added->layers, chain);
  else if (cerr->errnum == EEXIST) /* extracted meanwhile by another command: keep that one */
    berth_error_release(&cerr);
  else
    r = -1;
  berth_ignore(access(stage, F_OK) == 0 && berth_rm_rf(stage, BERTH_IGNORED));
  if (r < 0)
    *err = steal_ptr(cerr);
  return r;
}

static BERTH_WUR int ensure_layer(struct berth_engine *e, const char *blob, const char *expected,
                                  struct berth_db_layer *out, struct ingest_files *added, berth_error_t *err)
{
  berth_chain_id(out->parent, expected, out->chain_id);
  snprintf(out->diff_id, sizeof out->diff_id, "%s", expected);
  int r = berth_db_layer_get(e->db, out->chain_id, out, err);
  if (r > 0)
    berth_log_debug("layer %s: already extracted, reused", out->chain_id);
  if (r != 0)
    return r < 0 ? -1 : 0; /* recorded: never extracted again */
  if (berth_store_has_layer(e->store, out->chain_id)) {
    berth_log_debug("layer %s: directory present without its row, adopted", out->chain_id);
    return adopt_layer(e, blob, out->chain_id, expected, out, err);
  }
  cleanup_free char *stage = NULL;
  struct berth_layer_info info;
  const char *unsafe = NULL;
  if (extract_layer(e, blob, &stage, &info, &unsafe, &out->size, err) < 0)
    return -1;
  out->tar_size = info.tar_size;
  if (strcmp(info.diff_id, expected) != 0) {
    berth_ignore(berth_rm_rf(stage, BERTH_IGNORED));
    return BERTH_ERR(err, "diff id mismatch: the config says %s, the layer's content is %s", expected,
                     info.diff_id);
  }
  berth_log_debug("layer %s: extracted from %s (%llu bytes)", out->chain_id, blob,
                  (unsigned long long) out->size);
  decide_split(stage, unsafe, blob, out);
  return commit_stage(e, stage, out->chain_id, added, err);
}

int ingest_layer(struct berth_engine *e, const char *blob, const char *parent_chain,
                 const char *expected_diff_id, const char *what, struct berth_db_layer *out,
                 struct ingest_files *added, berth_error_t *err)
{
  memset(out, 0, sizeof *out);
  snprintf(out->parent, sizeof out->parent, "%s", parent_chain ? parent_chain : "");
  snprintf(out->blob_digest, sizeof out->blob_digest, "%s", blob);
  berth_digest_t computed;
  if (expected_diff_id == NULL) { /* know the chain id before extracting (reuse) */
    uint64_t tar_size;
    if (blob_tar_info(e, blob, computed, &tar_size, err) < 0)
      return berth_error_wrap(err, "%s", what);
    expected_diff_id = computed;
  }
  if (ensure_layer(e, blob, expected_diff_id, out, added, err) < 0)
    return berth_error_wrap(err, "%s", what);
  return 0;
}

int ingest_layer_staged(struct berth_engine *e, const char *stage, const struct berth_layer_info *info,
                        const char *unsafe, const char *blob, const char *parent_chain,
                        const char *expected_diff_id, struct berth_db_layer *out, struct ingest_files *added,
                        berth_error_t *err)
{
  memset(out, 0, sizeof *out);
  snprintf(out->parent, sizeof out->parent, "%s", parent_chain ? parent_chain : "");
  snprintf(out->blob_digest, sizeof out->blob_digest, "%s", blob);
  snprintf(out->diff_id, sizeof out->diff_id, "%s", expected_diff_id);
  berth_chain_id(out->parent, expected_diff_id, out->chain_id);
  out->tar_size = info->tar_size;
  cleanup_free char *diffdir = xasprintf("%s/diff", stage);
  int r = 0;
  if (strcmp(info->diff_id, expected_diff_id) != 0)
    r = BERTH_ERR(err, "diff id mismatch: the config says %s, the layer's content is %s", expected_diff_id,
                  info->diff_id);
  else if (berth_engine_dir_size(diffdir, &out->size, err) < 0)
    r = -1;
  if (r < 0) {
    berth_ignore(berth_rm_rf(stage, BERTH_IGNORED));
    return berth_error_wrap(err, "layer %s", blob);
  }
  decide_split(stage, unsafe, blob, out);
  return commit_stage(e, stage, out->chain_id, added, err);
}
