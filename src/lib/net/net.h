/* Container networking: addresses, IPAM, published ports, the link plan and its netlink
 * executor, the nftables ruleset and its executor, the per-network DNS resolver's parts.
 * Planners are pure (unit tests and fuzzers live there); executors are thin.
 * docs/design/networking.md says how the parts fit. */
#ifndef BERTH_NET_NET_H
#define BERTH_NET_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"

/* ---------------- addresses (addr.c) ---------------- */

struct berth_net_addr {
  uint8_t family; /* 0 (none / any), AF_INET or AF_INET6 */
  uint8_t a[16];  /* network order; IPv4 in the first 4 bytes */
};
struct berth_net_prefix {
  struct berth_net_addr addr; /* the network address (host bits zero) */
  uint8_t len;
};
#define BERTH_NET_ADDRSTRLEN   46
#define BERTH_NET_PREFIXSTRLEN 50

/* "10.1.2.3", "fd00::1" */
int berth_net_addr_parse(const char *s, struct berth_net_addr *out, berth_error_t *err) BERTH_WUR;
/* "10.1.0.0/16"; host bits must be zero (Docker's rule: "10.1.2.3/16" is refused) */
int berth_net_prefix_parse(const char *s, struct berth_net_prefix *out, berth_error_t *err) BERTH_WUR;
const char *berth_net_addr_str(const struct berth_net_addr *a, char buf[BERTH_NET_ADDRSTRLEN]);
const char *berth_net_prefix_str(const struct berth_net_prefix *p, char buf[BERTH_NET_PREFIXSTRLEN]);
int berth_net_addr_cmp(const struct berth_net_addr *a, const struct berth_net_addr *b);
bool berth_net_addr_eq(const struct berth_net_addr *a, const struct berth_net_addr *b);
size_t berth_net_addr_len(const struct berth_net_addr *a); /* 4, 16, or 0 */
bool berth_net_prefix_contains(const struct berth_net_prefix *p, const struct berth_net_addr *a);
bool berth_net_prefix_overlaps(const struct berth_net_prefix *p, const struct berth_net_prefix *q);
/* the address n after the network address; -1 when that is outside the prefix */
int berth_net_prefix_nth(const struct berth_net_prefix *p, uint64_t n, struct berth_net_addr *out);
/* the last address of the prefix (IPv4: its broadcast address) */
void berth_net_prefix_last(const struct berth_net_prefix *p, struct berth_net_addr *out);
/* "1.2.3.4", "1.2.3.4:53", "fd00::1", "[fd00::1]:53" (port defport when not given) */
int berth_net_addr_port_parse(const char *s, uint16_t defport, struct berth_net_addr *a, uint16_t *port,
                              berth_error_t *err) BERTH_WUR;
/* the prefix of length len that holds a */
void berth_net_prefix_of(const struct berth_net_addr *a, unsigned len, struct berth_net_prefix *out);
/* family 0, 0.0.0.0 or :: */
bool berth_net_addr_is_any(const struct berth_net_addr *a);
/* a + 1 in place; false when it wrapped */
bool berth_net_addr_next(struct berth_net_addr *a);

/* ---------------- IPAM (ipam.c, pure) ---------------- */

struct berth_ipam_pool {
  struct berth_net_prefix subnet;
  struct berth_net_prefix range; /* --ip-range (inside the subnet); family 0: the whole subnet */
  struct berth_net_addr gateway; /* family 0: none (an internal network may have none) */
};

/* The pool makes sense: range and gateway inside the subnet, the gateway a host address, the
 * subnet at least a /30 (/126). */
int berth_ipam_pool_check(const struct berth_ipam_pool *p, berth_error_t *err) BERTH_WUR;
/* The subnet's first host address (Docker's and Podman's default gateway). */
int berth_ipam_default_gateway(const struct berth_net_prefix *subnet, struct berth_net_addr *out,
                               berth_error_t *err) BERTH_WUR;
/* The lowest address of the range that is neither the network, broadcast or gateway address nor
 * in used[] (any order). */
int berth_ipam_pick(const struct berth_ipam_pool *p, const struct berth_net_addr *used, size_t n_used,
                    struct berth_net_addr *out, berth_error_t *err) BERTH_WUR;
/* --ip: inside the subnet, not reserved, not in used[]. */
int berth_ipam_check_static(const struct berth_ipam_pool *p, const struct berth_net_addr *want,
                            const struct berth_net_addr *used, size_t n_used, berth_error_t *err) BERTH_WUR;
/* The first /len subnet of pool that overlaps none of taken[] (other networks, host routes). */
int berth_ipam_pick_subnet(const struct berth_net_prefix *pool, unsigned len,
                           const struct berth_net_prefix *taken, size_t n_taken, struct berth_net_prefix *out,
                           berth_error_t *err) BERTH_WUR;
/* A MAC address for addr: 02:42 (locally administered, Docker's prefix) then the IPv4 address,
 * or 6 bytes of a hash of the v6 address. */
void berth_ipam_mac(const struct berth_net_addr *addr, uint8_t mac[6]);
int berth_net_mac_parse(const char *s, uint8_t mac[6], berth_error_t *err) BERTH_WUR;
void berth_net_mac_str(const uint8_t mac[6], char buf[18]);

/* ---------------- published ports (ports.c: parser, pure; ports_probe.c: the host) ---------------- */

enum berth_net_proto { BERTH_NET_TCP, BERTH_NET_UDP, BERTH_NET_SCTP };
const char *berth_net_proto_name(enum berth_net_proto p);
int berth_net_proto_parse(const char *s, enum berth_net_proto *out, berth_error_t *err) BERTH_WUR;

struct berth_net_port {
  struct berth_net_addr host_ip; /* family 0: every address of the host */
  uint16_t host_port;            /* 0: a free one chosen at start */
  uint16_t host_port_end;        /* > host_port: one free port of host_port..host_port_end */
  uint16_t ctr_port;
  enum berth_net_proto proto;
};

/* One -p value: [ip:][hostPort[-end]:]containerPort[-end][/proto], ip "[v6]" in brackets; one
 * mapping per container port (ranges of equal length pair up; a host range with one container
 * port means any free port of the range). */
int berth_net_ports_parse(const char *spec, struct berth_net_port **out, size_t *n,
                          berth_error_t *err) BERTH_WUR;
/* "80/tcp", "53/udp", "8080" (tcp): the keys of Config.ExposedPorts and EXPOSE. */
int berth_net_port_key_parse(const char *key, uint16_t *port, enum berth_net_proto *proto,
                             berth_error_t *err) BERTH_WUR;
/* Do a and b claim the same host port (same protocol, overlapping address)? Both resolved. */
bool berth_net_port_conflict(const struct berth_net_port *a, const struct berth_net_port *b);

/* Is proto/host_ip:port free on the host (a bind without SO_REUSEADDR succeeds)? 0 when free,
 * an error naming the port when not; SCTP where the kernel has none counts as free. */
int berth_net_port_probe(const struct berth_net_addr *host_ip, uint16_t port, enum berth_net_proto proto,
                         berth_error_t *err) BERTH_WUR;
/* Resolve a mapping's host port: the port itself (checked free), the first free one of its
 * range, or (0) one the kernel picks from the ephemeral range; never one of taken[]. */
int berth_net_port_choose(struct berth_net_port *p, const struct berth_net_port *taken, size_t n_taken,
                          berth_error_t *err) BERTH_WUR;

/* ---------------- links: the plan (plan.c, pure) and its executor (link.c) ---------------- */

#define BERTH_NET_IFNAMSIZ 16

/* a bridge network as the link plan needs it */
struct berth_net_bridge {
  const char *name; /* "berth0" */
  unsigned mtu;     /* 0: the kernel's default (1500) */
  struct berth_net_prefix subnet[2];
  struct berth_net_addr gateway[2]; /* family 0: none */
  size_t n_subnets;                 /* 1 or 2 (IPv4 first when both) */
  bool internal;
};

/* one container's interface on a bridge network */
struct berth_net_attachment {
  char host_if[BERTH_NET_IFNAMSIZ]; /* "bv0123456789-0": the veth's end on the bridge */
  char ctr_if[BERTH_NET_IFNAMSIZ];  /* "eth0" */
  struct berth_net_addr addr[2];    /* one per subnet of the bridge, same order */
  uint8_t mac[6];
  bool default_route; /* this network gives the container its default route(s) */
};

enum berth_net_op_kind {
  BERTH_NET_OP_BRIDGE,  /* host: make bridge `ifname` (mtu) unless it exists; up */
  BERTH_NET_OP_ADDR,    /* addr/len on ifname (EEXIST is fine on the host's bridge) */
  BERTH_NET_OP_SYSCTL,  /* write value to /proc/sys/<path> in the op's namespace */
  BERTH_NET_OP_VETH,    /* host: veth ifname (on master, mtu) whose peer is made in the container */
  BERTH_NET_OP_LINK_UP, /* ifname up (and its MAC set first when has_mac) */
  BERTH_NET_OP_ROUTE,   /* container: default route via gw on ifname */
};

struct berth_net_op {
  enum berth_net_op_kind kind;
  bool in_ctr; /* in the container's network namespace, else the host's */
  char ifname[BERTH_NET_IFNAMSIZ];
  char peer[BERTH_NET_IFNAMSIZ];
  char master[BERTH_NET_IFNAMSIZ];
  unsigned mtu;
  struct berth_net_prefix addr; /* ADDR: addr.addr is the address, len the prefix length */
  struct berth_net_addr gw;
  uint8_t mac[6];
  bool has_mac;
  char path[96];
  char value[16];
};

struct berth_net_plan {
  struct berth_net_op *ops;
  size_t n;
};

/* Checks names, addresses (inside their subnets, the gateway's family), then lists what joins a
 * container to a bridge: the bridge (made if missing), its gateway addresses, forwarding
 * sysctls, route_localnet (published ports on 127.0.0.1), the veth, the container's side
 * (lo, MAC, addresses, up, default routes). */
int berth_net_plan_attach(const struct berth_net_bridge *br, const struct berth_net_attachment *at,
                          struct berth_net_plan *out, berth_error_t *err) BERTH_WUR;
void berth_net_plan_free(struct berth_net_plan *p);
/* "addr 10.87.0.2/16 on eth0 (container)": one line per op, for tests and --debug */
char *berth_net_op_str(const struct berth_net_op *op);
/* Is name a usable interface name (1..15 bytes, no '/', ':', space, not "." or "..")? */
bool berth_net_ifname_valid(const char *name);

/* Run a plan. Container-side ops run inside netns_fd (entered and left by this thread). On
 * failure the veth (and a bridge this call made) are removed again. */
int berth_net_plan_run(const struct berth_net_plan *p, int netns_fd, berth_error_t *err) BERTH_WUR;
/* Set a link of the host down (a missing one is fine): cheap, where a delete waits for the kernel
 * (a veth whose namespace is going away goes with it, unregistered in the background). */
int berth_net_link_set_down(const char *ifname, berth_error_t *err) BERTH_WUR;
/* Delete a link of the host (a veth takes its peer with it); a missing one is fine. */
int berth_net_link_delete(const char *ifname, berth_error_t *err) BERTH_WUR;
/* Delete an interface inside netns_fd (disconnect of a running container); missing is fine. */
int berth_net_link_delete_in(int netns_fd, const char *ifname, berth_error_t *err) BERTH_WUR;
/* Delete bridge `name` when no interface that is up is its port (a down one is a stopped
 * container's veth, going with its namespace); *removed says whether it went. */
int berth_net_bridge_remove_unused(const char *name, bool *removed, berth_error_t *err) BERTH_WUR;
/* Names of the host's links that start with prefix ("bv", "berth"), only those up when up_only:
 * for system check. */
int berth_net_links_list(const char *prefix, bool up_only, char ***names, berth_error_t *err) BERTH_WUR;
/* Does a link of this name exist on the host? */
bool berth_net_link_exists(const char *ifname);
/* The IPv4 and IPv6 prefixes of the host's routes (not default routes, not our bridges'):
 * subnets a new network must not overlap. */
int berth_net_host_routes(struct berth_net_prefix **out, size_t *n, berth_error_t *err) BERTH_WUR;
/* Make a new network namespace and pin it by a bind mount on path (an existing empty file),
 * then return to the namespace we were in. For the monitor's private mount namespace. */
int berth_net_netns_pin(const char *path, berth_error_t *err) BERTH_WUR;
/* Open the network namespace of a process, or at a path (nsfs file, /proc/PID/ns/net). */
int berth_net_netns_open(const char *path, berth_error_t *err) BERTH_WUR;

/* ---------------- nftables: the ruleset (ruleset.c, pure) and its executor (nft.c) ---------------- */

#define BERTH_NET_NFT_TABLE   "berth" /* table inet berth: the one table berth owns */
#define BERTH_NET_NFT_COMMENT "berth" /* marks the rules berth adds to iptables' FORWARD chains */

struct berth_net_rs_net {
  const char *bridge;
  struct berth_net_prefix subnet[2];
  size_t n_subnets;
  bool internal;
};

struct berth_net_rs_port {
  const char *bridge;            /* the network the container is on */
  struct berth_net_addr host_ip; /* family 0: every local address of the family of ctr_ip */
  uint16_t host_port;
  struct berth_net_addr ctr_ip;
  uint16_t ctr_port;
  enum berth_net_proto proto;
};

struct berth_net_ruleset {
  const struct berth_net_rs_net *nets;
  size_t n_nets;
  const struct berth_net_rs_port *ports;
  size_t n_ports;
};

/* The nftables script that replaces table inet berth whole, in one transaction: forwarding
 * isolation between networks and for internal ones, DNAT of published ports (prerouting for
 * traffic that arrives, output for the host's own, 127.0.0.1 included), masquerade of what leaves
 * a subnet, of the host's loopback traffic to a container and of hairpin traffic. With no
 * network the script removes the table. Never NULL. */
char *berth_net_ruleset_render(const struct berth_net_ruleset *rs);

/* What the executor found of iptables' FORWARD chains (ip and ip6 filter, iptables-nft). */
struct berth_net_foreign {
  bool has_forward[2];  /* [0] ip filter FORWARD, [1] ip6 filter FORWARD */
  bool forward_drop[2]; /* its policy is drop */
  uint64_t *handles[2]; /* rules carrying BERTH_NET_NFT_COMMENT, to delete */
  size_t n_handles[2];
};
/* Read the JSON of `list chain ip|ip6 filter FORWARD` (libnftables' -j -a output). */
int berth_net_foreign_parse(int index, const char *json, struct berth_net_foreign *out,
                            berth_error_t *err) BERTH_WUR;
void berth_net_foreign_free(struct berth_net_foreign *f);
/* Commands that delete our old rules from iptables' FORWARD chains and, when a chain exists,
 * insert accept rules for each bridge (its outgoing traffic, replies and published ports), so
 * that a DROP policy there (Docker sets one) does not cut the containers off. */
char *berth_net_foreign_render(const struct berth_net_foreign *f, const char *const *bridges,
                               size_t n_bridges);

/* Apply a rendered table script and the FORWARD-chain rules for bridges, atomically (one
 * libnftables transaction). */
int berth_net_nft_apply(const char *script, const char *const *bridges, size_t n_bridges,
                        berth_error_t *err) BERTH_WUR;
/* Does table inet berth exist? (system check) */
int berth_net_nft_table_exists(bool *exists, berth_error_t *err) BERTH_WUR;

/* ---------------- /proc/sys ---------------- */

/* Write value to /proc/sys/<path> ("net/ipv4/ip_forward") unless it holds it already. */
int berth_net_sysctl_set(const char *path, const char *value, berth_error_t *err) BERTH_WUR;

/* ---------------- the per-network resolver (dns_*.c) ---------------- */

#define BERTH_DNS_MAXNAME 255

struct berth_dns_query {
  uint16_t id;
  uint16_t flags;
  char name[BERTH_DNS_MAXNAME + 1]; /* the question's name, dotted, no trailing dot, as sent */
  uint16_t qtype, qclass;
  size_t question_end; /* offset just past the question */
  bool plain;          /* every label letters, digits, '-' or '_': a name the names file may hold */
};
#define BERTH_DNS_A        1
#define BERTH_DNS_PTR      12
#define BERTH_DNS_AAAA     28
#define BERTH_DNS_ANY      255
#define BERTH_DNS_NOERROR  0
#define BERTH_DNS_FORMERR  1
#define BERTH_DNS_SERVFAIL 2
#define BERTH_DNS_NXDOMAIN 3
#define BERTH_DNS_NOTIMP   4
#define BERTH_DNS_REFUSED  5

/* A standard query with exactly one question (compression pointers followed, bounded). */
int berth_dns_parse_query(const uint8_t *msg, size_t len, struct berth_dns_query *out,
                          berth_error_t *err) BERTH_WUR;
/* A reply to q (whose raw bytes are query[0..q->question_end)): the question, then the answers
 * (A or AAAA records of addrs, or one PTR record of ptr_name). Returns its length, 0 when it
 * does not fit in cap. */
size_t berth_dns_build_reply(const uint8_t *query, const struct berth_dns_query *q, int rcode,
                             const struct berth_net_addr *addrs, size_t n_addrs, const char *ptr_name,
                             uint32_t ttl, uint8_t *out, size_t cap);
/* "4.3.2.1.in-addr.arpa" / the 32 nibbles of ip6.arpa → the address; -1 when not such a name */
int berth_dns_ptr_addr(const char *name, struct berth_net_addr *out);

/* The names file of a network: one line per container, "<addr> [<addr6>] <name> <alias>...". */
struct berth_dns_entry {
  struct berth_net_addr addr[2];
  size_t n_addrs;
  char **names;
};
struct berth_dns_names {
  struct berth_dns_entry *e;
  size_t n;
};
int berth_dns_names_parse(const char *text, size_t len, struct berth_dns_names *out,
                          berth_error_t *err) BERTH_WUR;
void berth_dns_names_free(struct berth_dns_names *n);
/* The addresses of family (0: both) of every entry with this name (case-insensitive, a trailing
 * dot ignored), at most max; *known says whether any entry has the name at all. */
size_t berth_dns_names_lookup(const struct berth_dns_names *n, const char *name, int family,
                              struct berth_net_addr *out, size_t max, bool *known);
/* The entry holding addr, or NULL. */
const struct berth_dns_entry *berth_dns_names_find_addr(const struct berth_dns_names *n,
                                                        const struct berth_net_addr *a);
/* Is this a name containers may have (letters, digits, '_', '.', '-'; 1..BERTH_DNS_MAXNAME)? */
bool berth_dns_name_valid(const char *name);

struct berth_dns_server_opts {
  struct berth_net_addr listen[2]; /* the gateway addresses */
  size_t n_listen;
  uint16_t port;          /* 53 */
  const char *names_path; /* re-read when it changes; the server ends when it is gone */
  struct berth_net_addr upstream[3];
  uint16_t upstream_port[3];
  size_t n_upstream;
  int ready_fd; /* "ok\n" or the error is written here once listening, then closed */
};
/* The resolver's loop (berth-dns): answers the names of the file, forwards the rest. Returns 0
 * on SIGTERM/SIGINT or when the names file is gone. */
int berth_dns_serve(const struct berth_dns_server_opts *o, berth_error_t *err) BERTH_WUR;
/* The nameservers of a resolv.conf text (at most max), 127.0.0.0/8 and ::1 included. */
size_t berth_dns_resolv_nameservers(const char *text, struct berth_net_addr *out, size_t max);

#endif
