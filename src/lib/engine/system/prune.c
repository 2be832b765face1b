/* `berth system prune`: stopped containers, unused networks, (--volumes) unused anonymous volumes,
 * dangling (or, -a, unused) images, in Docker's order, each room's prune with the filters it
 * knows (until= for containers, networks and images; label= for all). */
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/containers/containers.h"
#include "engine/images/images.h"
#include "engine/networks/networks.h"
#include "engine/system/system.h"
#include "engine/volumes/volumes.h"

void berth_system_prune_result_release(struct berth_system_prune_result *r)
{
  berth_strv_free(r->containers);
  berth_strv_free(r->networks);
  berth_strv_free(r->volumes);
  berth_strv_free(r->images);
  memset(r, 0, sizeof *r);
}

int berth_system_prune(struct berth_engine *e, const struct berth_system_prune_opts *o,
                       struct berth_system_prune_result *res, berth_error_t *err)
{
  memset(res, 0, sizeof *res);
  uint64_t part = 0;
  if (o->volumes && o->until)
    return BERTH_ERR(err, "the `until` filter is not supported with --volumes");
  if (berth_ctr_prune(e, o->labels, o->until, &res->containers, &part, err) < 0)
    return berth_error_wrap(err, "prune containers");
  res->reclaimed += part;
  if (berth_networks_prune_filtered(e, o->until, o->labels, &res->networks, err) < 0)
    return berth_error_wrap(err, "prune networks");
  if (o->volumes && berth_volumes_prune(e, false, o->labels, &res->volumes, &part, err) < 0)
    return berth_error_wrap(err, "prune volumes");
  res->reclaimed += o->volumes ? part : 0;
  if (res->volumes == NULL)
    res->volumes = xcalloc(1, sizeof(char *));
  struct berth_images_prune_opts io = { .all = o->all, .until = o->until, .labels = o->labels };
  if (berth_images_prune_filtered(e, &io, &res->images, &part, err) < 0)
    return berth_error_wrap(err, "prune images");
  res->reclaimed += part;
  return 0;
}
