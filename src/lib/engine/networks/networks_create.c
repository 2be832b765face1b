/* network create (its checks: subnets, gateways, ranges, options, overlaps), and what a container
 * asks of its networks, resolved into attachment rows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "base/cleanup.h"
#include "base/strbuf.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/networks/networks_internal.h"

/* a parsed request: one subnet per family */
struct fam {
  struct berth_net_prefix subnet, range;
  struct berth_net_addr gateway;
  bool has_subnet;
};

struct plan {
  struct fam f[2]; /* [0] IPv4, [1] IPv6 */
  unsigned mtu;
  char bridge[BERTH_NET_IFNAMSIZ];
  json_t *labels, *options;
};

static int fam_index(int family) { return family == AF_INET6 ? 1 : 0; }

static BERTH_WUR int parse_subnets(const struct berth_network_create *o, struct plan *p, berth_error_t *err)
{
  size_t ns = berth_strv_len(o->subnets), ng = berth_strv_len(o->gateways), nr = berth_strv_len(o->ip_ranges);
  if (ng > ns || nr > ns)
    return BERTH_ERR(err, "--gateway and --ip-range need a --subnet each");
  for (size_t i = 0; i < ns; i++) {
    struct berth_net_prefix sub;
    if (berth_net_prefix_parse(o->subnets[i], &sub, err) < 0)
      return -1;
    struct fam *f = &p->f[fam_index(sub.addr.family)];
    if (f->has_subnet)
      return BERTH_ERR(err, "more than one %s --subnet", sub.addr.family == AF_INET ? "IPv4" : "IPv6");
    f->has_subnet = true;
    f->subnet = sub;
    if (i < ng && berth_net_addr_parse(o->gateways[i], &f->gateway, err) < 0)
      return -1;
    if (i < nr && berth_net_prefix_parse(o->ip_ranges[i], &f->range, err) < 0)
      return -1;
    if ((f->gateway.family && f->gateway.family != sub.addr.family) ||
        (f->range.addr.family && f->range.addr.family != sub.addr.family))
      return BERTH_ERR(err, "--gateway and --ip-range must be of the family of their --subnet %s",
                       o->subnets[i]);
  }
  return 0;
}

/* -o and its Docker aliases: mtu, the bridge's name */
static BERTH_WUR int parse_options(const struct berth_network_create *o, struct plan *p, berth_error_t *err)
{
  p->mtu = o->mtu;
  p->options = json_object();
  for (char **kv = o->options; kv && *kv; kv++) {
    const char *eq = strchr(*kv, '=');
    if (eq == NULL)
      return BERTH_ERR(err, "-o `%s`: expected KEY=VALUE", *kv);
    cleanup_free char *k = xstrndup(*kv, (size_t) (eq - *kv));
    int v = 0;
    if (strcmp(k, "mtu") == 0 || strcmp(k, "com.docker.network.driver.mtu") == 0) {
      if (berth_parse_int(eq + 1, &v) < 0 || v < 68 || v > 65535)
        return BERTH_ERR(err, "-o %s: MTU `%s` out of range (68-65535)", k, eq + 1);
      p->mtu = (unsigned) v;
    } else if (strcmp(k, "com.docker.network.bridge.name") == 0 || strcmp(k, "bridge") == 0) {
      if (!berth_net_ifname_valid(eq + 1))
        return BERTH_ERR(err, "-o %s: invalid interface name `%s`", k, eq + 1);
      snprintf(p->bridge, sizeof p->bridge, "%s", eq + 1);
    } else {
      return BERTH_ERR(
        err, "-o `%s`: unknown option (mtu, com.docker.network.driver.mtu, com.docker.network.bridge.name)",
        k);
    }
    json_object_set_new(p->options, k, json_string(eq + 1));
  }
  p->labels = json_object();
  for (char **kv = o->labels; kv && *kv; kv++) {
    const char *eq = strchr(*kv, '=');
    cleanup_free char *k = eq ? xstrndup(*kv, (size_t) (eq - *kv)) : xstrdup(*kv);
    json_object_set_new(p->labels, k, json_string(eq ? eq + 1 : ""));
  }
  return 0;
}

/* every subnet of every network, and (auto) the host's routes */
static void taken_subnets(const struct berth_network *v, size_t k, bool routes, struct berth_net_prefix **out,
                          size_t *n)
{
  *out = NULL;
  *n = 0;
  if (routes) {
    berth_ignore(berth_net_host_routes(out, n, BERTH_IGNORED));
  }
  for (size_t i = 0; i < k; i++)
    for (size_t j = 0; j < v[i].n_subnets; j++) {
      *out = xreallocarray(*out, *n + 1, sizeof **out);
      (*out)[(*n)++] = v[i].subnet[j];
    }
}

/* auto subnets, default gateways, the pools checked, no overlap with another network */
static BERTH_WUR int complete(const struct berth_network_create *o, struct plan *p,
                              const struct berth_network *v, size_t k, berth_error_t *err)
{
  static const char *const pools[2] = { BERTH_NETWORK_POOL, BERTH_NETWORK_POOL6 };
  bool want6 = o->ipv6 || p->f[1].has_subnet;
  for (int i = 0; i < 2; i++) {
    struct fam *f = &p->f[i];
    char s[BERTH_NET_PREFIXSTRLEN];
    if (!f->has_subnet && (i == 0 || want6)) {
      cleanup_free struct berth_net_prefix *taken = NULL;
      size_t nt = 0;
      struct berth_net_prefix pool;
      taken_subnets(v, k, true, &taken, &nt);
      if (berth_net_prefix_parse(pools[i], &pool, err) < 0 ||
          berth_ipam_pick_subnet(&pool, i ? 64 : 24, taken, nt, &f->subnet, err) < 0)
        return -1;
      f->has_subnet = true;
    }
    if (!f->has_subnet)
      continue;
    for (size_t j = 0; j < k; j++)
      for (size_t m = 0; m < v[j].n_subnets; m++)
        if (berth_net_prefix_overlaps(&f->subnet, &v[j].subnet[m])) {
          char t[BERTH_NET_PREFIXSTRLEN];
          return BERTH_ERR(err, "subnet %s overlaps subnet %s of network `%s`",
                           berth_net_prefix_str(&f->subnet, s), berth_net_prefix_str(&v[j].subnet[m], t),
                           v[j].row.name);
        }
    if (f->gateway.family == 0 && berth_ipam_default_gateway(&f->subnet, &f->gateway, err) < 0)
      return -1;
    struct berth_ipam_pool pool = { .subnet = f->subnet, .range = f->range, .gateway = f->gateway };
    if (berth_ipam_pool_check(&pool, err) < 0)
      return -1;
  }
  return 0;
}

/* berth<N>: the lowest N no network row and no link of the host has */
static void pick_bridge(const struct berth_network *v, size_t k, char out[BERTH_NET_IFNAMSIZ])
{
  for (unsigned n = 1;; n++) {
    snprintf(out, BERTH_NET_IFNAMSIZ, "berth%u", n);
    bool used = berth_net_link_exists(out);
    for (size_t i = 0; i < k && !used; i++)
      used = strcmp(v[i].row.bridge, out) == 0;
    if (!used)
      return;
  }
}

static void fill_row(const struct berth_network_create *o, const struct plan *p, struct berth_db_network *row,
                     char bufs[6][BERTH_NET_PREFIXSTRLEN])
{
  char **cols[2][3] = { { &row->subnet, &row->gateway, &row->ip_range },
                        { &row->subnet6, &row->gateway6, &row->ip_range6 } };
  for (int i = 0; i < 2; i++) {
    const struct fam *f = &p->f[i];
    *cols[i][0] = f->has_subnet ? (char *) berth_net_prefix_str(&f->subnet, bufs[3 * i]) : (char *) "";
    *cols[i][1] = f->has_subnet ? (char *) berth_net_addr_str(&f->gateway, bufs[3 * i + 1]) : (char *) "";
    *cols[i][2] =
      f->range.addr.family ? (char *) berth_net_prefix_str(&f->range, bufs[3 * i + 2]) : (char *) "";
  }
  row->name = (char *) o->name;
  row->driver = (char *) "bridge";
  row->bridge = (char *) p->bridge;
  row->internal = o->internal;
  row->dns = !o->no_dns;
  row->mtu = p->mtu;
  row->created = net_now();
}

static BERTH_WUR int check_names(const struct berth_network_create *o, berth_error_t *err)
{
  if (o->name == NULL || !berth_engine_name_valid(o->name) || o->name[0] == '/')
    return BERTH_ERR(err, "invalid network name `%s`: [a-zA-Z0-9][a-zA-Z0-9_.-]+", o->name ? o->name : "");
  if (berth_network_is_default(o->name) || strcmp(o->name, "host") == 0 || strcmp(o->name, "none") == 0)
    return BERTH_ERR(err, "`%s` is a pre-defined network name", o->name);
  if (o->driver && strcmp(o->driver, "bridge") != 0)
    return BERTH_ERR(err, "network driver `%s` is not supported (bridge)", o->driver);
  for (char **d = o->dns; d && *d; d++) {
    struct berth_net_addr a;
    uint16_t port;
    if (berth_net_addr_port_parse(*d, 53, &a, &port, err) < 0)
      return berth_error_wrap(err, "--dns");
  }
  return 0;
}

/* under the transaction: the other networks read, checked against, the row added */
static BERTH_WUR int create_tx(struct berth_engine *e, const struct berth_network_create *o, struct plan *p,
                               berth_network_id_t id, berth_error_t *err)
{
  struct berth_network *v = NULL;
  size_t k = 0;
  if (berth_networks_list(e, &v, &k, err) < 0)
    return -1;
  int r = complete(o, p, v, k, err);
  if (r == 0 && p->bridge[0] == '\0')
    pick_bridge(v, k, p->bridge);
  berth_networks_list_free(v, k);
  if (r < 0)
    return -1;
  struct berth_db_network row = { 0 };
  char bufs[6][BERTH_NET_PREFIXSTRLEN];
  fill_row(o, p, &row, bufs);
  cleanup_free char *labels = json_dumps(p->labels, JSON_COMPACT | JSON_SORT_KEYS);
  cleanup_free char *options = json_dumps(p->options, JSON_COMPACT | JSON_SORT_KEYS);
  cleanup_free char *dns = berth_strv_len(o->dns) ? net_join(o->dns, " ") : xstrdup("");
  row.labels = labels;
  row.options = options;
  row.dns_servers = dns;
  berth_engine_new_id(row.id);
  if (berth_db_network_put(e->db, &row, err) < 0)
    return -1;
  memcpy(id, row.id, sizeof row.id);
  return 0;
}

int berth_networks_create(struct berth_engine *e, const struct berth_network_create *o, berth_network_id_t id,
                          berth_error_t *err)
{
  struct plan p;
  memset(&p, 0, sizeof p);
  struct berth_network dflt = { 0 };
  /* the default network first (it is made on first use): a new subnet must not take its */
  int r = check_names(o, err) < 0 || parse_subnets(o, &p, err) < 0 || parse_options(o, &p, err) < 0 ||
              berth_network_get(e, BERTH_NETWORK_DEFAULT, &dflt, err) < 0
            ? -1
            : 0;
  berth_network_release(&dflt);
  if (r == 0 && berth_db_begin(e->db, err) < 0)
    r = -1;
  else if (r == 0 && create_tx(e, o, &p, id, err) < 0) {
    berth_db_rollback(e->db);
    r = -1;
  } else if (r == 0) {
    r = berth_db_commit(e->db, err);
  }
  json_decref(p.labels);
  json_decref(p.options);
  if (r == 0) {
    const char *attrs[] = { "name", o->name ? o->name : "", "type", "bridge", NULL };
    berth_engine_event(e, "network", "create", id, attrs);
  }
  return r < 0 ? berth_error_wrap(err, "create network `%s`", o->name ? o->name : "") : 0;
}

/* one request checked against its network */
static BERTH_WUR int check_request(const struct berth_network *n, const struct berth_network_request *q,
                                   struct berth_db_attachment *a, berth_error_t *err)
{
  const char *ips[2] = { q->ip, q->ip6 };
  for (int i = 0; i < 2; i++) {
    if (ips[i] == NULL || *ips[i] == '\0')
      continue;
    struct berth_net_addr want;
    if (berth_net_addr_parse(ips[i], &want, err) < 0)
      return -1;
    if ((i == 0) != (want.family == AF_INET))
      return BERTH_ERR(err, "%s `%s` is not an %s address", i ? "--ip6" : "--ip", ips[i],
                       i ? "IPv6" : "IPv4");
    size_t k = 0;
    while (k < n->n_subnets && n->subnet[k].addr.family != want.family)
      k++;
    if (k == n->n_subnets)
      return BERTH_ERR(err, "network `%s` has no %s subnet for %s", n->row.name, i ? "IPv6" : "IPv4", ips[i]);
    struct berth_ipam_pool pool = { .subnet = n->subnet[k], .range = n->range[k], .gateway = n->gateway[k] };
    if (berth_ipam_check_static(&pool, &want, NULL, 0, err) < 0)
      return berth_error_wrap(err, "network `%s`", n->row.name);
  }
  uint8_t mac[6];
  if (q->mac && *q->mac && berth_net_mac_parse(q->mac, mac, err) < 0)
    return -1;
  for (char **al = q->aliases; al && *al; al++)
    if (!berth_dns_name_valid(*al))
      return BERTH_ERR(err, "invalid network alias `%s`", *al);
  if (q->aliases && q->aliases[0] && !n->row.dns)
    return BERTH_ERR(err, "network-scoped aliases are supported only on user networks (not `%s`)",
                     n->row.name);
  a->aliases = q->aliases ? net_join(q->aliases, " ") : xstrdup("");
  a->ip = xstrdup(q->ip ? q->ip : "");
  a->ip6 = xstrdup(q->ip6 ? q->ip6 : "");
  a->mac = xstrdup(q->mac ? q->mac : "");
  return 0;
}

int berth_networks_resolve(struct berth_engine *e, const char *container_id,
                           const struct berth_network_request *req, size_t n, int64_t first,
                           struct berth_db_attachment **out, berth_error_t *err)
{
  struct berth_db_attachment *v = xcalloc(n ? n : 1, sizeof *v);
  size_t k = 0;
  int r = 0;
  for (size_t i = 0; i < n && r == 0; i++) {
    struct berth_network net;
    if (berth_network_get(e, req[i].network, &net, err) < 0) {
      r = -1;
      break;
    }
    for (size_t j = 0; j < k; j++)
      if (strcmp(v[j].network_id, net.row.id) == 0)
        r = BERTH_ERR(err, "network `%s` is given twice", req[i].network);
    struct berth_db_attachment *a = &v[k];
    snprintf(a->container_id, sizeof a->container_id, "%s", container_id);
    memcpy(a->network_id, net.row.id, sizeof a->network_id);
    a->idx = first + (int64_t) i;
    if (r == 0 && check_request(&net, &req[i], a, err) < 0)
      r = berth_error_wrap(err, "--network %s", req[i].network);
    k++;
    berth_network_release(&net);
  }
  if (r < 0) {
    berth_db_attachments_free(v, k);
    return -1;
  }
  *out = v;
  return 0;
}
