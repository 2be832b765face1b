/* Networks (issue 14; docs/design/networking.md): the engine's side of src/lib/net — network
 * rows and the default network, a container's networking set up before its monitor's GO and
 * torn down when it stops for good, the nftables table, the resolvers of user networks, and
 * what inspect, port and system check show. Kernel work goes through net/net.h only.
 *
 * One lock (<runroot>/networks.lock, flock) orders every change of shared things: bridges, the
 * table, the names files and resolvers. Addresses and ports are rows (unique keys), taken in
 * one transaction each. This room does not know the containers room: callers pass what it needs
 * (struct berth_networks_ctr). */
#ifndef BERTH_ENGINE_NETWORKS_NETWORKS_H
#define BERTH_ENGINE_NETWORKS_NETWORKS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "base/error.h"
#include "engine/catalogue/catalogue.h"
#include "engine/engine.h"
#include "net/net.h"

#define BERTH_NETWORK_DEFAULT        "berth" /* the default network's name ("bridge" and "default" mean it) */
#define BERTH_NETWORK_DEFAULT_BRIDGE "berth0"
#define BERTH_NETWORK_DEFAULT_SUBNET "10.87.0.0/16"   /* neither Docker's 172.17/16 nor podman's 10.88/16 */
#define BERTH_NETWORK_POOL           "10.86.0.0/16"   /* /24s for user networks without --subnet */
#define BERTH_NETWORK_POOL6          "fd86:beef::/48" /* /64s for --ipv6 without a v6 --subnet */

/* a network row, parsed */
struct berth_network {
  struct berth_db_network row;
  struct berth_net_prefix subnet[2]; /* IPv4 first when both */
  struct berth_net_prefix range[2];  /* family 0: the whole subnet */
  struct berth_net_addr gateway[2];
  size_t n_subnets;
  struct berth_net_addr dns[3]; /* upstreams of its resolver */
  uint16_t dns_port[3];
  size_t n_dns;
};
void berth_network_release(struct berth_network *n);
/* "bridge", "default" and "berth" are the default network (made on first use); else exact id,
 * name or unique id prefix: "network `x` not found". */
int berth_network_get(struct berth_engine *e, const char *what, struct berth_network *out,
                      berth_error_t *err) BERTH_WUR;
/* is this name the default network's (bridge, default, berth) */
bool berth_network_is_default(const char *name);

struct berth_network_create {
  const char *name;
  const char *driver; /* NULL or "bridge" */
  char **subnets;     /* --subnet, at most one per family */
  char **gateways;    /* --gateway, one per --subnet, in its family */
  char **ip_ranges;   /* --ip-range */
  bool internal, ipv6;
  unsigned mtu;   /* -o mtu= / com.docker.network.driver.mtu */
  char **labels;  /* --label k=v */
  char **options; /* -o k=v (as given) */
  char **dns;     /* --dns: the resolver's upstreams, ADDR or ADDR:PORT or [ADDR6]:PORT */
  bool no_dns;    /* --disable-dns */
};
/* Check and record a network: subnets overlapping another network are refused; without
 * --subnet, the first free /24 of BERTH_NETWORK_POOL that no host route overlaps. */
int berth_networks_create(struct berth_engine *e, const struct berth_network_create *o, berth_network_id_t id,
                          berth_error_t *err) BERTH_WUR;
/* A network with containers attached (running or not) is refused, naming them. */
int berth_networks_remove(struct berth_engine *e, const char *what, berth_error_t *err) BERTH_WUR;
/* every network without a container but the default one; names of those removed */
int berth_networks_prune(struct berth_engine *e, char ***removed, berth_error_t *err) BERTH_WUR;
/* the same, only those created before until (unix ns; 0: any) whose labels match (k, k=v, "!k[=v]") */
int berth_networks_prune_filtered(struct berth_engine *e, int64_t until, char *const *labels, char ***removed,
                                  berth_error_t *err) BERTH_WUR;
int berth_networks_list(struct berth_engine *e, struct berth_network **out, size_t *n,
                        berth_error_t *err) BERTH_WUR;
void berth_networks_list_free(struct berth_network *v, size_t n);
/* Docker's network inspect object (Containers: the running ones with their addresses) */
json_t *berth_network_inspect(struct berth_engine *e, const struct berth_network *n,
                              berth_error_t *err) BERTH_WUR;

/* ---- a container on networks ---- */

/* what a container asks of one network (create, connect) */
struct berth_network_request {
  char *network;  /* as typed */
  char **aliases; /* --network-alias */
  char *ip, *ip6; /* --ip, --ip6 */
  char *mac;      /* --mac-address */
};
/* Resolve the requests (unknown network, --ip outside its subnet or reserved, a bad MAC or
 * alias: errors) into attachment rows for container id, starting at index first. The default
 * network is made here when it is asked for and does not exist yet (its own transaction). */
int berth_networks_resolve(struct berth_engine *e, const char *container_id,
                           const struct berth_network_request *req, size_t n, int64_t first,
                           struct berth_db_attachment **out, berth_error_t *err) BERTH_WUR;

/* what setup needs to know of the container */
struct berth_networks_ctr {
  const char *id;
  const char *name; /* resolvable by the other containers of its user networks */
  const char *hostname;
  const char *dir;        /* <root>/containers/<id>: hosts and resolv.conf are rewritten there */
  json_t *config;         /* Docker's Config (ExposedPorts) */
  json_t *host_config;    /* Docker's HostConfig (PortBindings, PublishAllPorts, ExtraHosts, Dns*) */
  const char *netns;      /* the container's network namespace (a path berth_net_netns_open takes) */
  const char *dns_helper; /* berth-dns, for a resolver to start */
};

/* Before the monitor's GO: addresses and ports (rows), links, names and resolvers, the table,
 * /etc/hosts and /etc/resolv.conf. Nothing is left of it on failure. 0 with nothing to do. */
int berth_networks_setup(struct berth_engine *e, const struct berth_networks_ctr *c,
                         berth_error_t *err) BERTH_WUR;
/* When the container stops for good (or is removed, or found dead): everything setup made, in
 * reverse — the bridge stays while its network exists; the veth is set down and the kernel
 * removes it with the container's namespace. Fast (no lock, no kernel) when it has no leases. */
int berth_networks_teardown(struct berth_engine *e, const char *container_id, berth_error_t *err) BERTH_WUR;
/* network connect / disconnect of a running container (netns: its namespace; NULL: not running) */
int berth_networks_connect(struct berth_engine *e, const struct berth_networks_ctr *c,
                           const struct berth_network_request *req, berth_error_t *err) BERTH_WUR;
int berth_networks_disconnect(struct berth_engine *e, const struct berth_networks_ctr *c, const char *network,
                              berth_error_t *err) BERTH_WUR;

/* Docker's NetworkSettings of a container (Networks, Ports, the first network's address) */
json_t *berth_networks_settings(struct berth_engine *e, const char *container_id, json_t *host_config,
                                berth_error_t *err) BERTH_WUR;
/* "80/tcp -> 0.0.0.0:8080" lines (`berth port`), filtered by "80", "80/tcp" or NULL */
int berth_networks_ports(struct berth_engine *e, const char *container_id, const char *filter, char ***lines,
                         berth_error_t *err) BERTH_WUR;

/* system check: leases of containers that are not running, veths and bridges nobody owns, the
 * table out of step, resolvers without containers; repaired when repair */
int berth_networks_check(struct berth_engine *e, bool repair, struct berth_check_problem **problems,
                         size_t *n, berth_error_t *err) BERTH_WUR;

#endif
