/* Volumes: the get-or-create of a container's volume mount and Docker's copy-up — an empty
 * volume filled with what the image has at the mount's path, read from the image's layers
 * mounted (read-only overlay) in a child's private mount namespace, inside their root. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/cp/cp.h"
#include "engine/volumes/volumes.h"

/* 1 empty, 0 not, -1 error */
static BERTH_WUR int dir_empty(const char *path, berth_error_t *err)
{
  cleanup_dir DIR *d = opendir(path);
  if (d == NULL)
    return BERTH_ERR_ERRNO(err, "open `%s`", path);
  for (struct dirent *de; (de = readdir(d)) != NULL;)
    if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
      return 0;
  return 1;
}

static BERTH_WUR int copy_up(int root, const char *path, const char *mountpoint, berth_error_t *err)
{
  berth_error_t none = NULL;
  cleanup_close int src = berth_open_in_root(root, path, O_RDONLY | O_DIRECTORY, 0, &none);
  if (src < 0) { /* nothing (or not a directory) there in the image: nothing to copy */
    berth_error_release(&none);
    return 0;
  }
  cleanup_close int dst = open(mountpoint, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dst < 0)
    return BERTH_ERR_ERRNO(err, "open `%s`", mountpoint);
  return berth_cp_tree_into(src, dst, NULL, err);
}

static BERTH_WUR int prefill(struct berth_engine *e, const struct berth_db_image *img, const char *path,
                             const char *mountpoint, berth_error_t *err)
{
  int empty = dir_empty(mountpoint, err);
  if (empty <= 0 || img->nlayers == 0)
    return empty < 0 ? -1 : 0;
  char **lowers = xcalloc(img->nlayers + 1, sizeof *lowers);
  for (size_t i = 0; i < img->nlayers; i++) { /* top first */
    cleanup_free char *dir = berth_store_layer_dir(e->store, img->chain_ids[img->nlayers - 1 - i]);
    lowers[i] = xasprintf("%s/diff", dir ? dir : "?");
  }
  cleanup_free char *mounts = xasprintf("%s/mounts", e->runroot);
  cleanup_free char *target = xasprintf("%s/volume-XXXXXX", mounts);
  struct berth_cp_mounter m;
  int r = 0;
  if (berth_mkdir_p(mounts, 0700, err) < 0)
    r = -1;
  else if (mkdtemp(target) == NULL)
    r = BERTH_ERR_ERRNO(err, "create `%s`", target);
  else {
    cleanup_close int busy = berth_dir_flock_shared(target); /* system check leaves it alone */
    (void) busy;
    (void) busy;
    struct berth_cp_mount_in in = { .lowers = (const char *const *) lowers,
                                    .nlowers = img->nlayers,
                                    .target = target };
    r = berth_cp_mounter_start(&in, &m, err);
    if (r == 0) {
      r = copy_up(m.root, path, mountpoint, err);
      berth_cp_mounter_stop(&m);
    }
    rmdir(target); /* mounted only in the child's namespace */
  }
  berth_strv_free(lowers);
  return r < 0 ? berth_error_wrap(err, "copy the image's `%s` into the volume", path) : 0;
}

int berth_volume_prepare(struct berth_engine *e, const char *name, const struct berth_db_image *img,
                         const char *path, bool nocopy, char **name_out, char **mountpoint,
                         struct berth_volume_new *nv, berth_error_t *err)
{
  struct berth_db_volume v;
  *nv = (struct berth_volume_new){ .lock = -1 };
  *name_out = *mountpoint = NULL;
  int found = name ? berth_db_volume_find(e->db, name, &v, err) : 0;
  if (found < 0)
    return -1;
  if (found) {
    *mountpoint = xstrdup(v.mountpoint);
    *name_out = xstrdup(v.name);
    berth_db_volume_release(&v);
  } else {
    berth_ctr_id_t random;
    if (name == NULL) {
      berth_engine_new_id(random);
      name = random;
    } else if (berth_volume_name_check(name, err) < 0) {
      return -1;
    }
    if (berth_volume_make_dir(e, name, mountpoint, &nv->made_dir, &nv->lock, err) < 0)
      return berth_error_wrap(err, "create volume `%s`", name);
    *name_out = xstrdup(name);
    nv->created = true;
  }
  if (nocopy || img == NULL || path == NULL || prefill(e, img, path, *mountpoint, err) == 0)
    return 0;
  if (nv->created) /* nothing of a failed prepare stays */
    berth_volume_drop_new(e, *name_out, nv);
  free(steal_ptr(*name_out));
  free(steal_ptr(*mountpoint));
  return -1;
}
