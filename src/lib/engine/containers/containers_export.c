/* export of a container: its filesystem as it is now (the image's layers with the container's
 * own upper dir on top), volumes excluded, as `docker export` */
#include <stdlib.h>

#include "base/cleanup.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/containers/containers.h"
#include "engine/catalogue/catalogue.h"
#include "engine/images/images.h"

int berth_ctr_export(struct berth_engine *e, const char *what, int out_fd, berth_error_t *err)
{
  struct berth_ctr c;
  if (berth_ctr_get(e, what, &c, err) < 0)
    return -1;
  struct berth_db_image img;
  int r = berth_db_image_get(e->db, c.row.image_id, &img, err);
  if (r == 0)
    r = BERTH_ERR(err, "the image of container `%s` is gone", what);
  if (r > 0) {
    /* the upper dir is an overlay upper: as the top lower its whiteouts hide what it deleted */
    cleanup_strv char **lowers = xcalloc(1, sizeof(char *));
    cleanup_free char *upper = xasprintf("%s/upper", c.dir);
    lowers = berth_strv_append(lowers, upper);
    lowers = berth_image_lowers(e, &img, lowers);
    r = berth_export_lowers(e, lowers, berth_strv_len(lowers), out_fd, err);
    berth_db_image_release(&img);
  }
  if (r >= 0)
    berth_ctr_event(e, &c, "export", NULL);
  berth_ctr_release(&c);
  return r < 0 ? berth_error_wrap(err, "export container `%s`", what) : 0;
}
