/* `berth system df`: space of images counted once per layer and blob however many images share
 * them (a layer kept by its tar-split has no blob: its tar is rebuilt from its tree); containers'
 * own layers (running: active; stopped: reclaimable); volumes (used by a container: active).
 * The build cache comes with builds (a zero row until then). */
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/containers/containers.h"
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

/* Docker's Containers row: every container, the running ones active, their writable layers' size,
 * the stopped ones' reclaimable */
static BERTH_WUR int df_containers(struct berth_engine *e, struct berth_df_row *row, berth_error_t *err)
{
  struct berth_ctr *v = NULL;
  size_t n = 0;
  if (berth_ctr_list(e, &v, &n, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++) {
    cleanup_free char *upper = xasprintf("%s/upper", v[i].dir);
    uint64_t size = 0;
    berth_ignore(berth_engine_dir_size(upper, &size, BERTH_IGNORED)); /* none yet: 0 */
    bool running = berth_ctr_state_kept(v[i].state);
    row->total++;
    row->active += running;
    row->size += size;
    row->reclaimable += running ? 0 : size;
  }
  berth_ctr_list_free(v, n);
  return 0;
}

/* Docker's Local Volumes row: every volume, those a container uses active, the others reclaimable */
static BERTH_WUR int df_volumes(struct berth_engine *e, struct berth_df_row *row, berth_error_t *err)
{
  struct berth_db_volume *v = NULL;
  size_t n = 0;
  if (berth_db_volume_list(e->db, &v, &n, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++) {
    uint64_t size = 0;
    berth_ignore(berth_engine_dir_size(v[i].mountpoint, &size, BERTH_IGNORED));
    row->total++;
    row->active += v[i].users > 0;
    row->size += size;
    row->reclaimable += v[i].users > 0 ? 0 : size;
  }
  berth_db_volume_list_free(v, n);
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
  if (r == 0 && (df_containers(e, &rows[1], err) < 0 || df_volumes(e, &rows[2], err) < 0))
    r = -1;
  return r;
}
