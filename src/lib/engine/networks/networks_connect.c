/* network connect and disconnect: the attachment row always; the links, addresses, names and
 * table too when the container runs (its namespace entered through src/lib/net). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/networks/networks_internal.h"

static BERTH_WUR int put_row(struct berth_engine *e, const struct berth_db_attachment *a, berth_error_t *err)
{
  if (berth_db_begin(e->db, err) < 0)
    return -1;
  if (berth_db_attachment_put(e->db, a, err) < 0) {
    berth_db_rollback(e->db);
    return -1;
  }
  return berth_db_commit(e->db, err);
}

static BERTH_WUR int delete_row(struct berth_engine *e, const char *id, const char *network_id,
                                berth_error_t *err)
{
  if (berth_db_begin(e->db, err) < 0)
    return -1;
  int r = berth_db_attachment_delete(e->db, id, network_id, err);
  if (r < 0) {
    berth_db_rollback(e->db);
    return -1;
  }
  return berth_db_commit(e->db, err) < 0 ? -1 : r;
}

int berth_networks_connect(struct berth_engine *e, const struct berth_networks_ctr *c,
                           const struct berth_network_request *req, berth_error_t *err)
{
  struct berth_db_attachment *have = NULL, *a = NULL;
  size_t n = 0;
  if (berth_db_attachments_of(e->db, c->id, &have, &n, err) < 0)
    return -1;
  int64_t next = n ? have[n - 1].idx + 1 : 0;
  berth_db_attachments_free(have, n);
  if (berth_networks_resolve(e, c->id, req, 1, next, &a, err) < 0)
    return berth_error_wrap(err, "connect container `%s`", c->name);
  int r = put_row(e, a, err);
  if (r == 0 && c->netns) {
    cleanup_close int lock = net_lock(e, err);
    r = lock < 0 || net_setup_one(e, c, a, err) < 0 ? -1 : 0;
    berth_ignore(r < 0 && delete_row(e, c->id, a->network_id, BERTH_IGNORED));
  }
  if (r == 0) {
    const char *attrs[] = { "container", c->id, "name", req->network, "type", "bridge", NULL };
    berth_engine_event(e, "network", "connect", a->network_id, attrs);
  }
  berth_db_attachments_free(a, 1);
  return r < 0 ? berth_error_wrap(err, "connect container `%s` to network `%s`", c->name, req->network) : 0;
}

int berth_networks_disconnect(struct berth_engine *e, const struct berth_networks_ctr *c, const char *network,
                              berth_error_t *err)
{
  struct berth_network n;
  if (berth_network_get(e, network, &n, err) < 0)
    return -1;
  int r = 0;
  if (c->netns) {
    cleanup_close int lock = net_lock(e, err);
    r = lock < 0 || net_detach_locked(e, c->id, n.row.id, NULL, false, err) < 0 ? -1 : 0;
  }
  if (r == 0) {
    r = delete_row(e, c->id, n.row.id, err);
    if (r == 0)
      r = BERTH_ERR(err, "container `%s` is not connected to network `%s`", c->name, n.row.name);
    else if (r > 0) {
      const char *attrs[] = { "container", c->id, "name", n.row.name, "type", "bridge", NULL };
      berth_engine_event(e, "network", "disconnect", n.row.id, attrs);
    }
  }
  berth_network_release(&n);
  return r < 0 ? berth_error_wrap(err, "disconnect container `%s` from network `%s`", c->name, network) : 0;
}
