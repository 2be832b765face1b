/* A container's networking, set up before its monitor's GO (docs/design/networking.md, "Start
 * and stop"): leases and ports (one transaction), links (the plan, run), names and resolvers,
 * the table, /etc/hosts and /etc/resolv.conf. A failure tears down whatever this call made. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/networks/networks_internal.h"

struct setup {
  struct berth_engine *e;
  const struct berth_networks_ctr *c;
  struct berth_db_attachment *att;
  size_t n;
  struct berth_network *nets;         /* one per attachment */
  struct berth_net_attachment *links; /* one per attachment */
  bool connect;                       /* network connect: no ports, no default route */
};

static void setup_release(struct setup *s)
{
  for (size_t i = 0; s->nets && i < s->n; i++)
    berth_network_release(&s->nets[i]);
  free(s->nets);
  free(s->links);
  berth_db_attachments_free(s->att, s->n);
}

/* the addresses in use on network n, as values */
static BERTH_WUR int used_addrs(struct berth_engine *e, const char *network_id, struct berth_net_addr **out,
                                size_t *n, berth_error_t *err)
{
  struct berth_db_lease *v = NULL;
  size_t k = 0;
  if (berth_db_leases(e->db, network_id, NULL, &v, &k, err) < 0)
    return -1;
  *out = xcalloc(k ? k : 1, sizeof **out);
  *n = 0;
  for (size_t i = 0; i < k; i++) {
    berth_error_t ignore = NULL;
    if (berth_net_addr_parse(v[i].address, &(*out)[*n], &ignore) == 0)
      (*n)++;
    berth_error_release(&ignore);
  }
  berth_db_leases_free(v, k);
  return 0;
}

/* one address of subnet k of network n for attachment a: --ip/--ip6 or the lowest free one */
static BERTH_WUR int pick(struct setup *s, size_t i, size_t k, struct berth_net_addr *out, berth_error_t *err)
{
  const struct berth_network *n = &s->nets[i];
  const struct berth_db_attachment *a = &s->att[i];
  struct berth_ipam_pool pool = { .subnet = n->subnet[k], .range = n->range[k], .gateway = n->gateway[k] };
  cleanup_free struct berth_net_addr *used = NULL;
  size_t nu = 0;
  if (used_addrs(s->e, n->row.id, &used, &nu, err) < 0)
    return -1;
  const char *want = n->subnet[k].addr.family == AF_INET ? a->ip : a->ip6;
  if (want[0] == '\0')
    return berth_ipam_pick(&pool, used, nu, out, err);
  if (berth_net_addr_parse(want, out, err) < 0 || berth_ipam_check_static(&pool, out, used, nu, err) < 0)
    return -1;
  return 0;
}

/* leases of attachment i, and its link description */
static BERTH_WUR int lease(struct setup *s, size_t i, bool *route_given, berth_error_t *err)
{
  const struct berth_network *n = &s->nets[i];
  struct berth_net_attachment *l = &s->links[i];
  const struct berth_db_attachment *a = &s->att[i];
  net_host_if(s->c->id, a->idx, l->host_if);
  snprintf(l->ctr_if, sizeof l->ctr_if, "eth%lld", (long long) a->idx);
  l->default_route = !n->row.internal && !*route_given && !s->connect;
  *route_given = *route_given || l->default_route;
  for (size_t k = 0; k < n->n_subnets; k++) {
    if (pick(s, i, k, &l->addr[k], err) < 0)
      return berth_error_wrap(err, "network `%s`", n->row.name);
  }
  if (a->mac[0] == '\0' || berth_net_mac_parse(a->mac, l->mac, err) < 0)
    berth_ipam_mac(&l->addr[0], l->mac);
  if (*err)
    return -1;
  char mac[18];
  berth_net_mac_str(l->mac, mac);
  for (size_t k = 0; k < n->n_subnets; k++) {
    char addr[BERTH_NET_ADDRSTRLEN];
    struct berth_db_lease row = { .address = (char *) berth_net_addr_str(&l->addr[k], addr),
                                  .ifname = l->ctr_if,
                                  .host_if = l->host_if,
                                  .mac = mac,
                                  .created = net_now() };
    memcpy(row.network_id, n->row.id, sizeof row.network_id);
    snprintf(row.container_id, sizeof row.container_id, "%s", s->c->id);
    if (berth_db_lease_put(s->e->db, &row, err) < 0)
      return berth_error_wrap(err, "network `%s`", n->row.name);
  }
  return 0;
}

static BERTH_WUR int leases_tx(struct setup *s, berth_error_t *err)
{
  if (berth_db_begin(s->e->db, err) < 0)
    return -1;
  bool route_given = false;
  int r = 0;
  for (size_t i = 0; i < s->n && r == 0; i++)
    r = lease(s, i, &route_given, err);
  if (r == 0 && !s->connect)
    r = net_ports_publish(s->e, s->c, err);
  if (r < 0) {
    berth_db_rollback(s->e->db);
    return -1;
  }
  return berth_db_commit(s->e->db, err);
}

static BERTH_WUR int links(struct setup *s, berth_error_t *err)
{
  cleanup_close int ns = berth_net_netns_open(s->c->netns, err);
  if (ns < 0)
    return -1;
  for (size_t i = 0; i < s->n; i++) {
    const struct berth_network *n = &s->nets[i];
    struct berth_net_bridge br = { .name = n->row.bridge,
                                   .mtu = (unsigned) n->row.mtu,
                                   .n_subnets = n->n_subnets,
                                   .internal = n->row.internal };
    memcpy(br.subnet, n->subnet, sizeof br.subnet);
    memcpy(br.gateway, n->gateway, sizeof br.gateway);
    struct berth_net_plan plan;
    if (berth_net_plan_attach(&br, &s->links[i], &plan, err) < 0)
      return berth_error_wrap(err, "network `%s`", n->row.name);
    int r = berth_net_plan_run(&plan, ns, err);
    berth_net_plan_free(&plan);
    if (r < 0)
      return berth_error_wrap(err, "network `%s`", n->row.name);
  }
  return 0;
}

static BERTH_WUR int load_nets(struct setup *s, berth_error_t *err)
{
  s->nets = xcalloc(s->n ? s->n : 1, sizeof *s->nets);
  s->links = xcalloc(s->n ? s->n : 1, sizeof *s->links);
  for (size_t i = 0; i < s->n; i++) {
    int r = net_load_id(s->e, s->att[i].network_id, &s->nets[i], err);
    if (r <= 0)
      return r < 0 ? -1 : BERTH_ERR(err, "network `%.12s` of the container is gone", s->att[i].network_id);
  }
  return 0;
}

static BERTH_WUR int load(struct setup *s, berth_error_t *err)
{
  if (berth_db_attachments_of(s->e->db, s->c->id, &s->att, &s->n, err) < 0)
    return -1;
  return load_nets(s, err);
}

/* every step after the rows; under the lock */
static BERTH_WUR int setup_locked(struct setup *s, berth_error_t *err)
{
  if (net_reclaim(s->e, s->c->id, err) < 0 || leases_tx(s, err) < 0)
    return -1;
  net_test_stop("leases");
  if (links(s, err) < 0)
    return -1;
  net_test_stop("links");
  for (size_t i = 0; i < s->n; i++)
    if (net_names_update(s->e, &s->nets[i], s->c->dns_helper, err) < 0)
      return -1;
  net_test_stop("names");
  if (net_rules_apply(s->e, false, err) < 0)
    return -1;
  net_test_stop("rules");
  return net_files_write(s->e, s->c, s->nets, s->links, s->n, err);
}

int berth_networks_setup(struct berth_engine *e, const struct berth_networks_ctr *c, berth_error_t *err)
{
  struct setup s = { .e = e, .c = c };
  int r = load(&s, err);
  if (r == 0 && s.n == 0) {
    setup_release(&s);
    return 0;
  }
  cleanup_close int lock = r == 0 ? net_lock(e, err) : -1;
  if (r == 0 && lock < 0)
    r = -1;
  if (r == 0 && setup_locked(&s, err) < 0) {
    berth_ignore(
      net_teardown_locked(e, c->id, NULL, false, BERTH_IGNORED)); /* system check --repair finds the rest */
    r = -1;
  }
  setup_release(&s);
  return r < 0 ? berth_error_wrap(err, "set up the networks of container `%.12s`", c->id) : 0;
}

int net_setup_one(struct berth_engine *e, const struct berth_networks_ctr *c,
                  const struct berth_db_attachment *a, berth_error_t *err)
{
  struct setup s = { .e = e, .c = c, .n = 1, .connect = true };
  s.att = xcalloc(1, sizeof *s.att);
  s.att[0] = *a;
  s.att[0].aliases = xstrdup(a->aliases);
  s.att[0].ip = xstrdup(a->ip);
  s.att[0].ip6 = xstrdup(a->ip6);
  s.att[0].mac = xstrdup(a->mac);
  int r = load_nets(&s, err) < 0 || leases_tx(&s, err) < 0 || links(&s, err) < 0 ||
              net_names_update(e, &s.nets[0], c->dns_helper, err) < 0 || net_rules_apply(e, false, err) < 0
            ? -1
            : 0;
  if (r < 0) {
    berth_ignore(net_detach_locked(e, c->id, a->network_id, NULL, false, BERTH_IGNORED));
  }
  setup_release(&s);
  return r;
}
