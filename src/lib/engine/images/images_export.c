/* `berth export IMAGE`: the image's flattened filesystem as one tar. A child process in a private
 * mount namespace mounts the layer chain read-only (overlay, whiteouts applied by the kernel)
 * and writes the merged tree with berth_layer_diff; the mount dies with the child, so nothing
 * is left mounted whatever happens to berth. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image/archive_dl.h"
#include "base/child.h"
#include "base/cleanup.h"
#include "base/strutil.h"
#include "base/fs.h"
#include "base/xalloc.h"
#include "engine/images/images_internal.h"
#include "linux/mountns/mountns.h"

static BERTH_WUR int empty_tar(int out_fd, berth_error_t *err)
{
  if (berth_archive_load(err) < 0)
    return -1;
  struct archive *a = archive_write_new();
  int r = archive_write_set_format_pax_restricted(a) == ARCHIVE_OK &&
              archive_write_open_fd(a, out_fd) == ARCHIVE_OK && archive_write_close(a) == ARCHIVE_OK
            ? 0
            : BERTH_ERR(err, "write archive: %s", archive_error_string(a));
  archive_write_free(a);
  return r;
}

struct export_in {
  const char *const *lowers;
  size_t n;
  const char *target;
  int out_fd;
};

/* the export process: the chain mounted in a private mount namespace, the merged tree written */
static BERTH_WUR int export_child(void *data, int sock, berth_error_t *err)
{
  const struct export_in *in = data;
  if (berth_mountns_enter(BERTH_MOUNTNS_PRIVATE, err) < 0 ||
      berth_mountns_overlay(in->lowers, in->n, NULL, NULL, in->target, 0, err) < 0)
    return -1;
  cleanup_close int dirfd = open(in->target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0)
    return BERTH_ERR_ERRNO(err, "open `%s`", in->target);
  struct berth_layer_info info;
  return berth_layer_diff(dirfd, in->out_fd, BERTH_COMPRESSION_NONE, &info, err);
}

int berth_export_lowers(struct berth_engine *e, char *const *lowers, size_t n, int out_fd, berth_error_t *err)
{
  if (n == 0)
    return empty_tar(out_fd, err);
  cleanup_free char *mounts = xasprintf("%s/mounts", e->runroot);
  cleanup_free char *target = xasprintf("%s/export-XXXXXX", mounts);
  if (berth_mkdir_p(mounts, 0700, err) < 0)
    return -1;
  if (mkdtemp(target) == NULL)
    return BERTH_ERR_ERRNO(err, "create `%s`", target);
  cleanup_close int busy = berth_dir_flock_shared(target); /* system check leaves it alone */
  (void) busy;
  struct export_in in = { (const char *const *) lowers, n, target, out_fd };
  int r = berth_child_run("the export process", export_child, &in, err);
  rmdir(target);
  return r;
}

/* the layer dirs of an image, top first, appended to a NULL-terminated vector */
char **berth_image_lowers(struct berth_engine *e, const struct berth_db_image *img, char **v)
{
  for (size_t i = 0; i < img->nlayers; i++) {
    cleanup_free char *dir = berth_store_layer_dir(e->store, img->chain_ids[img->nlayers - 1 - i]);
    cleanup_free char *diff = xasprintf("%s/diff", dir);
    v = berth_strv_append(v, diff);
  }
  return v;
}

int berth_images_export(struct berth_engine *e, const char *image, int out_fd, berth_error_t *err)
{
  berth_digest_t id;
  struct berth_db_image img;
  if (berth_engine_resolve(e, image, id, NULL, err) < 0)
    return -1;
  int r = berth_db_image_get(e->db, id, &img, err);
  if (r <= 0)
    return r < 0 ? -1 : BERTH_ERR(err, "no such image: `%s`", image);
  cleanup_strv char **lowers = berth_image_lowers(e, &img, xcalloc(1, sizeof(char *)));
  r = berth_export_lowers(e, lowers, img.nlayers, out_fd, err);
  berth_db_image_release(&img);
  return r < 0 ? berth_error_wrap(err, "export `%s`", image) : 0;
}
