/* `berth system df`: space of images counted once per layer and blob however many images share
 * them; containers, volumes and the build cache arrive with later issues (zero rows for now). */
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/system/system.h"

/* space of the layers and blobs of the given images, each counted once */
static BERTH_WUR int space_of(struct berth_engine *e, struct berth_db_image *imgs, size_t n, const bool *pick,
                              uint64_t *total, berth_error_t *err)
{
  cleanup_strv char **seen = xcalloc(1, sizeof(char *));
  uint64_t sum = 0;
  for (size_t i = 0; i < n; i++) {
    if (pick && !pick[i])
      continue;
    for (size_t j = 0; j <= imgs[i].nlayers; j++) {
      /* j < nlayers: a layer (its dir and its blob); j == nlayers: the config and manifest */
      const char *keys[3] = { NULL, NULL, NULL };
      struct berth_db_layer l;
      if (j < imgs[i].nlayers) {
        int r = berth_db_layer_get(e->db, imgs[i].chain_ids[j], &l, err);
        if (r < 0)
          return -1;
        if (r == 0)
          continue;
        keys[0] = l.chain_id;
        keys[1] = l.blob_digest;
      } else {
        keys[0] = imgs[i].id;
        keys[1] = imgs[i].manifest_digest;
      }
      for (int k = 0; k < 2; k++) {
        /* a layer dir and a blob may share a digest (an uncompressed base layer): tag the kind */
        cleanup_free char *key = xasprintf("%c%s", j < imgs[i].nlayers && k == 0 ? 'L' : 'B', keys[k]);
        bool dup = false;
        for (char **s = seen; *s && !dup; s++)
          dup = strcmp(*s, key) == 0;
        if (!keys[k][0] || dup)
          continue;
        seen = berth_strv_append(seen, key);
        struct berth_db_blob b = { 0 };
        if (j < imgs[i].nlayers && k == 0)
          sum += l.size;
        else if (berth_db_blob_get(e->db, keys[k], &b, err) > 0)
          sum += b.size;
        berth_db_blob_release(&b);
      }
    }
  }
  *total = sum;
  return 0;
}

int berth_system_df(struct berth_engine *e, struct berth_df_row rows[4], berth_error_t *err)
{
  memset(rows, 0, 4 * sizeof *rows);
  rows[0].type = "Images";
  rows[1].type = "Containers";
  rows[2].type = "Local Volumes";
  rows[3].type = "Build Cache";
  struct berth_db_image *imgs = NULL;
  size_t n = 0;
  if (berth_db_image_list(e->db, &imgs, &n, err) < 0)
    return -1;
  bool *active = xcalloc(n ? n : 1, sizeof *active);
  int r = 0;
  for (size_t i = 0; i < n && r == 0; i++) {
    int64_t c = 0;
    r = berth_db_image_containers(e->db, imgs[i].id, &c, err);
    active[i] = c > 0;
    rows[0].active += active[i];
  }
  uint64_t used = 0;
  if (r == 0)
    r = space_of(e, imgs, n, NULL, &rows[0].size, err);
  if (r == 0)
    r = space_of(e, imgs, n, active, &used, err);
  rows[0].total = n;
  rows[0].reclaimable = rows[0].size - used;
  free(active);
  berth_db_image_list_free(imgs, n);
  return r;
}
