/* Table inet berth from the catalogue: every network with a lease, every published port towards
 * the address of its container on the first network that can take it. Applied only when it
 * differs from what this host applied last (<runroot>/networks/ruleset), so a container without
 * ports joining a network already in use costs no nftables transaction. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/strbuf.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/networks/networks_internal.h"

struct rules_in {
  struct berth_network *nets;
  size_t n_nets;
  struct berth_db_lease *leases;
  size_t n_leases;
  struct berth_db_port *ports;
  size_t n_ports;
};

static void rules_in_free(struct rules_in *in)
{
  berth_networks_list_free(in->nets, in->n_nets);
  berth_db_leases_free(in->leases, in->n_leases);
  berth_db_ports_free(in->ports, in->n_ports);
}

static const struct berth_network *net_by_id(const struct rules_in *in, const char *id)
{
  for (size_t i = 0; i < in->n_nets; i++)
    if (strcmp(in->nets[i].row.id, id) == 0)
      return &in->nets[i];
  return NULL;
}

static bool in_use(const struct rules_in *in, const char *network_id)
{
  for (size_t i = 0; i < in->n_leases; i++)
    if (strcmp(in->leases[i].network_id, network_id) == 0)
      return true;
  return false;
}

/* the container's address of family on its first non-internal network (leases are ordered by
 * container, then interface) */
static const struct berth_db_lease *target(const struct rules_in *in, const char *container_id, int family,
                                           const struct berth_network **net, struct berth_net_addr *addr)
{
  for (size_t i = 0; i < in->n_leases; i++) {
    const struct berth_db_lease *l = &in->leases[i];
    berth_error_t ignore = NULL;
    if (strcmp(l->container_id, container_id) != 0 || berth_net_addr_parse(l->address, addr, &ignore) < 0) {
      berth_error_release(&ignore);
      continue;
    }
    *net = net_by_id(in, l->network_id);
    if (*net && !(*net)->row.internal && addr->family == family)
      return l;
  }
  return NULL;
}

static void add_ports(const struct rules_in *in, struct berth_net_rs_port **v, size_t *n)
{
  for (size_t i = 0; i < in->n_ports; i++) {
    const struct berth_db_port *p = &in->ports[i];
    struct berth_net_rs_port rp = { .host_port = (uint16_t) p->host_port,
                                    .ctr_port = (uint16_t) p->container_port };
    berth_error_t ignore = NULL;
    if (berth_net_proto_parse(p->proto, &rp.proto, &ignore) < 0 ||
        (p->host_ip[0] && berth_net_addr_parse(p->host_ip, &rp.host_ip, &ignore) < 0)) {
      berth_error_release(&ignore);
      continue;
    }
    static const int fams[2] = { AF_INET, AF_INET6 };
    for (int k = 0; k < 2; k++) {
      const struct berth_network *net = NULL;
      if ((rp.host_ip.family != 0 && rp.host_ip.family != fams[k]) ||
          target(in, p->container_id, fams[k], &net, &rp.ctr_ip) == NULL)
        continue;
      rp.bridge = net->row.bridge;
      *v = xreallocarray(*v, *n + 1, sizeof **v);
      (*v)[(*n)++] = rp;
    }
  }
}

/* the script and the bridges (for iptables' FORWARD chains) */
static char *render(const struct rules_in *in, char ***bridges)
{
  struct berth_net_rs_net *nets = xcalloc(in->n_nets ? in->n_nets : 1, sizeof *nets);
  size_t n = 0;
  *bridges = xcalloc(1, sizeof(char *));
  for (size_t i = 0; i < in->n_nets; i++) {
    const struct berth_network *net = &in->nets[i];
    if (!in_use(in, net->row.id))
      continue;
    nets[n] = (struct berth_net_rs_net){ .bridge = net->row.bridge,
                                         .n_subnets = net->n_subnets,
                                         .internal = net->row.internal };
    memcpy(nets[n].subnet, net->subnet, sizeof net->subnet);
    n++;
    *bridges = berth_strv_append(*bridges, net->row.bridge);
  }
  struct berth_net_rs_port *ports = NULL;
  size_t np = 0;
  add_ports(in, &ports, &np);
  struct berth_net_ruleset rs = { nets, n, ports, np };
  char *script = berth_net_ruleset_render(&rs);
  free(nets);
  free(ports);
  return script;
}

int net_rules_apply(struct berth_engine *e, bool force, berth_error_t *err)
{
  struct rules_in in = { 0 };
  if (berth_networks_list(e, &in.nets, &in.n_nets, err) < 0 ||
      berth_db_leases(e->db, NULL, NULL, &in.leases, &in.n_leases, err) < 0 ||
      berth_db_ports(e->db, NULL, &in.ports, &in.n_ports, err) < 0) {
    rules_in_free(&in);
    return -1;
  }
  cleanup_strv char **bridges = NULL;
  cleanup_free char *script = render(&in, &bridges);
  rules_in_free(&in);
  cleanup_free char *bl = net_join(bridges, " ");
  cleanup_free char *state = xasprintf("%s# bridges: %s\n", script, bl);
  cleanup_free char *dir = xasprintf("%s/networks", e->runroot);
  cleanup_free char *cache = xasprintf("%s/ruleset", dir);
  cleanup_free char *last = NULL;
  berth_error_t ignore = NULL;
  if (!force && berth_read_file(cache, 1 << 22, &last, NULL, &ignore) == 0 && strcmp(last, state) == 0)
    return 0;
  berth_error_release(&ignore);
  /* forget the cache first: a crash between the two leaves a rewrite to do, never a stale match */
  (void) unlink(cache);
  if (berth_net_nft_apply(script, (const char *const *) bridges, berth_strv_len(bridges), err) < 0)
    return -1;
  if (berth_mkdir_p(dir, 0700, &ignore) < 0 ||
      berth_write_file_atomic(cache, state, strlen(state), 0600, &ignore) < 0)
    berth_error_release(&ignore); /* only the shortcut is lost */
  return 0;
}
