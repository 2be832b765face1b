/* Files of the store seen from the engine: removing what no row refers to, measuring layer dirs. */
#include <errno.h>
#include <fts.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/cleanup.h"
#include "base/xalloc.h"
#include "engine/engine.h"

/* an open-addressing set of inode numbers (hard links counted once) */
struct inoset {
  uint64_t *slots; /* 0: empty (inode 0 never names a file) */
  size_t cap, len;
};

static bool inoset_add(struct inoset *s, uint64_t ino)
{
  if (2 * (s->len + 1) > s->cap) {
    struct inoset bigger = { xcalloc(s->cap ? s->cap * 2 : 64, sizeof(uint64_t)), s->cap ? s->cap * 2 : 64,
                             0 };
    for (size_t i = 0; i < s->cap; i++)
      if (s->slots[i])
        inoset_add(&bigger, s->slots[i]);
    free(s->slots);
    *s = bigger;
  }
  size_t i = (size_t) (ino * 0x9e3779b97f4a7c15ULL) & (s->cap - 1);
  while (s->slots[i]) {
    if (s->slots[i] == ino)
      return false;
    i = (i + 1) & (s->cap - 1);
  }
  s->slots[i] = ino;
  s->len++;
  return true;
}

int berth_engine_dir_size(const char *path, uint64_t *size, berth_error_t *err)
{
  char *const paths[] = { (char *) path, NULL };
  /* fts: arbitrary depth without running out of descriptors; FTS_XDEV: never cross a mount */
  FTS *fts = fts_open(paths, FTS_PHYSICAL | FTS_XDEV, NULL);
  if (fts == NULL)
    return BERTH_ERR_ERRNO(err, "measure `%s`", path);
  struct inoset seen = { 0 };
  uint64_t total = 0;
  int r = 0;
  FTSENT *ent;
  errno = 0;
  while ((ent = fts_read(fts)) != NULL) {
    if (ent->fts_info == FTS_ERR || ent->fts_info == FTS_DNR || ent->fts_info == FTS_NS) {
      errno = ent->fts_errno;
      r = BERTH_ERR_ERRNO(err, "measure `%s`", ent->fts_path);
      break;
    }
    if (ent->fts_info == FTS_D || ent->fts_info == FTS_DP || ent->fts_statp == NULL)
      continue;
    const struct stat *st = ent->fts_statp;
    if (st->st_nlink > 1 && !inoset_add(&seen, (uint64_t) st->st_ino))
      continue;
    total += (uint64_t) st->st_size;
  }
  if (r == 0 && errno != 0 && ent == NULL)
    r = BERTH_ERR_ERRNO(err, "measure `%s`", path);
  fts_close(fts);
  free(seen.slots);
  if (r == 0)
    *size = total;
  return r;
}

static uint64_t blob_file_size(struct berth_engine *e, const char *digest)
{
  cleanup_free char *p = berth_store_blob_path(e->store, digest);
  struct stat st;
  return p && lstat(p, &st) == 0 ? (uint64_t) st.st_size : 0;
}

int berth_engine_remove_unreferenced(struct berth_engine *e, char *const *layers, char *const *blobs,
                                     uint64_t *freed, berth_error_t *err)
{
  if (berth_engine_lock(e, true, err) < 0)
    return -1;
  uint64_t total = 0;
  for (char *const *c = layers; c && *c; c++) {
    struct berth_db_layer l;
    int r = berth_db_layer_get(e->db, *c, &l, err);
    if (r != 0) {
      if (r < 0)
        return -1;
      continue; /* recorded again meanwhile */
    }
    if (!berth_store_has_layer(e->store, *c))
      continue;
    cleanup_free char *dir = berth_store_layer_dir(e->store, *c);
    uint64_t sz = 0;
    berth_ignore(berth_engine_dir_size(dir, &sz, BERTH_IGNORED));
    if (berth_store_remove_layer(e->store, *c, err) < 0)
      return -1;
    total += sz;
  }
  for (char *const *c = blobs; c && *c; c++) {
    struct berth_db_blob b;
    int r = berth_db_blob_get(e->db, *c, &b, err);
    if (r != 0) {
      if (r < 0)
        return -1;
      berth_db_blob_release(&b);
      continue;
    }
    if (!berth_store_has_blob(e->store, *c))
      continue;
    uint64_t sz = blob_file_size(e, *c);
    if (berth_store_remove_blob(e->store, *c, err) < 0)
      return -1;
    total += sz;
  }
  if (freed)
    *freed += total;
  return 0;
}
