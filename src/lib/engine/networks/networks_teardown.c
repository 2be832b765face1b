/* A container's networking torn down: veths, rows, names and resolvers, bridges nobody uses, the
 * table. Best effort to the end (the first error is reported): what fails is found again by
 * system check. Leases of containers whose monitor is gone are reclaimed the same way. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/networks/networks_internal.h"

/* keep the first error */
static void keep(berth_error_t *first, berth_error_t *e)
{
  if (*first == NULL)
    *first = steal_ptr(*e);
  else
    berth_error_release(e);
}

/* the network ids of leases v (distinct); each host veth deleted once, or only set down when its
 * namespace is going away (the kernel unregisters it then, without making anyone wait: a delete
 * waits for RCU, tens of milliseconds) — down, the bridge forwards nothing more to it */
static BERTH_WUR char **drop_links(const struct berth_db_lease *v, size_t n, bool ns_gone,
                                   berth_error_t *first)
{
  char **nets = xcalloc(1, sizeof(char *));
  for (size_t i = 0; i < n; i++) {
    bool seen_if = false, seen_net = false;
    for (size_t j = 0; j < i; j++)
      seen_if = seen_if || strcmp(v[j].host_if, v[i].host_if) == 0;
    for (char **p = nets; *p; p++)
      seen_net = seen_net || strcmp(*p, v[i].network_id) == 0;
    berth_error_t e = NULL;
    if (!seen_if &&
        (ns_gone ? berth_net_link_set_down(v[i].host_if, &e) : berth_net_link_delete(v[i].host_if, &e)) < 0)
      keep(first, &e);
    if (!seen_net)
      nets = berth_strv_append(nets, v[i].network_id);
  }
  return nets;
}

static BERTH_WUR int delete_rows(struct berth_engine *e, const char *id, const char *network_id,
                                 berth_error_t *err)
{
  if (berth_db_begin(e->db, err) < 0)
    return -1;
  if (berth_db_leases_delete(e->db, id, network_id, err) < 0 ||
      (network_id == NULL && berth_db_ports_delete(e->db, id, err) < 0)) {
    berth_db_rollback(e->db);
    return -1;
  }
  return berth_db_commit(e->db, err);
}

/* names files of networks that lost a container (their bridges stay while the network exists) */
static void settle_networks(struct berth_engine *e, char **nets, const char *helper, berth_error_t *first)
{
  for (char **p = nets; *p; p++) {
    struct berth_network n;
    berth_error_t er = NULL;
    if (net_load_id(e, *p, &n, &er) <= 0) {
      keep(first, &er);
      continue;
    }
    if (net_names_update(e, &n, helper, &er) < 0)
      keep(first, &er);
    berth_network_release(&n);
  }
}

int net_detach_locked(struct berth_engine *e, const char *id, const char *network_id, const char *helper,
                      bool ns_gone, berth_error_t *err)
{
  struct berth_db_lease *v = NULL;
  size_t k = 0;
  if (berth_db_leases(e->db, network_id, id, &v, &k, err) < 0)
    return -1;
  berth_error_t first = NULL, er = NULL;
  cleanup_strv char **nets = drop_links(v, k, ns_gone, &first);
  berth_db_leases_free(v, k);
  net_test_stop("teardown");
  if (delete_rows(e, id, network_id, &er) < 0) {
    keep(&first, &er);
  } else {
    settle_networks(e, nets, helper, &first);
    if (net_rules_apply(e, false, &er) < 0)
      keep(&first, &er);
  }
  if (first) {
    *err = first;
    return -1;
  }
  return 0;
}

int net_teardown_locked(struct berth_engine *e, const char *id, const char *helper, bool ns_gone,
                        berth_error_t *err)
{
  return net_detach_locked(e, id, NULL, helper, ns_gone, err);
}

int berth_networks_teardown(struct berth_engine *e, const char *container_id, berth_error_t *err)
{
  int64_t n = 0;
  struct berth_db_lease *v = NULL;
  size_t k = 0;
  struct berth_db_port *p = NULL;
  size_t np = 0;
  if (berth_db_leases(e->db, NULL, container_id, &v, &k, err) < 0 ||
      berth_db_ports(e->db, container_id, &p, &np, err) < 0) {
    berth_db_leases_free(v, k);
    return -1;
  }
  n = (int64_t) (k + np);
  berth_db_leases_free(v, k);
  berth_db_ports_free(p, np);
  if (n == 0)
    return 0; /* the common case of a container without networks: no lock, no kernel */
  cleanup_close int lock = net_lock(e, err);
  if (lock < 0 || net_teardown_locked(e, container_id, NULL, true, err) < 0)
    return berth_error_wrap(err, "tear down the networks of container `%.12s`", container_id);
  return 0;
}

/* is the container of these leases gone (row or monitor) */
static bool stale(struct berth_engine *e, const char *id)
{
  struct berth_db_container c;
  berth_error_t ignore = NULL;
  int r = berth_db_container_get(e->db, id, &c, &ignore);
  berth_error_release(&ignore);
  if (r < 0)
    return false; /* cannot tell: leave it */
  bool gone = r == 0 || !net_monitor_alive(&c);
  if (r > 0)
    berth_db_container_release(&c);
  return gone;
}

int net_reclaim(struct berth_engine *e, const char *self, berth_error_t *err)
{
  struct berth_db_lease *v = NULL;
  size_t k = 0;
  if (berth_db_leases(e->db, NULL, NULL, &v, &k, err) < 0)
    return -1;
  cleanup_strv char **ids = xcalloc(1, sizeof(char *));
  for (size_t i = 0; i < k; i++) {
    bool listed = false;
    for (char **p = ids; *p && !listed; p++)
      listed = strcmp(*p, v[i].container_id) == 0;
    if (!listed && (strcmp(v[i].container_id, self) == 0 || stale(e, v[i].container_id)))
      ids = berth_strv_append(ids, v[i].container_id);
  }
  berth_db_leases_free(v, k);
  for (char **p = ids; *p; p++)
    if (net_teardown_locked(e, *p, NULL, false, err) < 0) /* its container may still run */
      return berth_error_wrap(err, "reclaim the addresses of container `%.12s`", *p);
  return 0;
}
