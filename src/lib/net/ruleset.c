/* The nftables ruleset as data, rendered to the script that replaces table inet berth whole:
 * "table; delete table; table { ... }" is one transaction, so a reader sees the old table or
 * the new one and an empty table never stays behind. Pure; unit tests check the text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "base/strbuf.h"
#include "base/xalloc.h"
#include "net/net.h"

#define T BERTH_NET_NFT_TABLE

static const char *fam_kw(int family) { return family == AF_INET6 ? "ip6" : "ip"; }

/* "\"berth0\"" into b: interface names are checked by the planner, but quote anyway */
static void put_ifname(struct berth_strbuf *b, const char *name)
{
  berth_strbuf_putc(b, '"');
  for (const char *p = name; *p; p++)
    if (*p != '"' && *p != '\\' && (unsigned char) *p > ' ')
      berth_strbuf_putc(b, *p);
  berth_strbuf_putc(b, '"');
}

static void render_forward(struct berth_strbuf *b, const struct berth_net_ruleset *rs)
{
  berth_strbuf_puts(b, "  chain forward {\n    type filter hook forward priority filter; policy accept;\n");
  /* an internal network: nothing in or out but among its own containers */
  for (size_t i = 0; i < rs->n_nets; i++) {
    if (!rs->nets[i].internal)
      continue;
    berth_strbuf_puts(b, "    iifname ");
    put_ifname(b, rs->nets[i].bridge);
    berth_strbuf_puts(b, " oifname != ");
    put_ifname(b, rs->nets[i].bridge);
    berth_strbuf_puts(b, " drop\n    oifname ");
    put_ifname(b, rs->nets[i].bridge);
    berth_strbuf_puts(b, " iifname != ");
    put_ifname(b, rs->nets[i].bridge);
    berth_strbuf_puts(b, " drop\n");
  }
  /* published ports are for everyone: a container of another network may reach them */
  berth_strbuf_puts(b, "    ct status dnat accept\n");
  /* isolation: no traffic from one berth network to another (Docker's DOCKER-ISOLATION) */
  for (size_t i = 0; i < rs->n_nets && rs->n_nets > 1; i++) {
    if (rs->nets[i].internal)
      continue;
    berth_strbuf_puts(b, "    iifname ");
    put_ifname(b, rs->nets[i].bridge);
    berth_strbuf_puts(b, " oifname {");
    const char *sep = " ";
    for (size_t j = 0; j < rs->n_nets; j++) {
      if (j == i)
        continue;
      berth_strbuf_puts(b, sep);
      put_ifname(b, rs->nets[j].bridge);
      sep = ", ";
    }
    berth_strbuf_puts(b, " } drop\n");
  }
  berth_strbuf_puts(b, "  }\n");
}

static const struct berth_net_rs_net *net_of(const struct berth_net_ruleset *rs, const char *bridge)
{
  for (size_t i = 0; i < rs->n_nets; i++)
    if (strcmp(rs->nets[i].bridge, bridge) == 0)
      return &rs->nets[i];
  return NULL;
}

static void render_port(struct berth_strbuf *b, const struct berth_net_rs_port *p)
{
  char a[BERTH_NET_ADDRSTRLEN];
  int fam = p->ctr_ip.family;
  const char *proto = berth_net_proto_name(p->proto);
  berth_strbuf_puts(b, "    ");
  if (p->host_ip.family == fam && !berth_net_addr_is_any(&p->host_ip))
    berth_strbuf_printf(b, "%s daddr %s ", fam_kw(fam), berth_net_addr_str(&p->host_ip, a));
  else
    berth_strbuf_printf(b, "meta nfproto %s ", fam == AF_INET6 ? "ipv6" : "ipv4");
  berth_strbuf_printf(b, "%s dport %u dnat %s to ", proto, p->host_port, fam_kw(fam));
  berth_net_addr_str(&p->ctr_ip, a);
  if (fam == AF_INET6)
    berth_strbuf_printf(b, "[%s]:%u\n", a, p->ctr_port);
  else
    berth_strbuf_printf(b, "%s:%u\n", a, p->ctr_port);
}

static void render_nat(struct berth_strbuf *b, const struct berth_net_ruleset *rs)
{
  berth_strbuf_puts(b, "  chain prerouting {\n    type nat hook prerouting priority dstnat; policy accept;\n"
                       "    fib daddr type local jump publish\n  }\n"
                       "  chain output {\n    type nat hook output priority -100; policy accept;\n"
                       "    fib daddr type local jump publish\n  }\n"
                       "  chain publish {\n");
  for (size_t i = 0; i < rs->n_ports; i++) {
    const struct berth_net_rs_net *n = net_of(rs, rs->ports[i].bridge);
    if (n != NULL && !n->internal && rs->ports[i].ctr_ip.family != 0)
      render_port(b, &rs->ports[i]);
  }
  berth_strbuf_puts(
    b, "  }\n  chain postrouting {\n    type nat hook postrouting priority srcnat; policy accept;\n");
  char s[BERTH_NET_PREFIXSTRLEN];
  for (size_t i = 0; i < rs->n_nets; i++) {
    const struct berth_net_rs_net *n = &rs->nets[i];
    if (n->internal)
      continue;
    for (size_t k = 0; k < n->n_subnets; k++) {
      const char *fk = fam_kw(n->subnet[k].addr.family);
      berth_net_prefix_str(&n->subnet[k], s);
      /* what leaves the subnet takes the host's address */
      berth_strbuf_printf(b, "    %s saddr %s oifname != ", fk, s);
      put_ifname(b, n->bridge);
      berth_strbuf_puts(b, " masquerade\n");
      /* hairpin: a container reaching a published port of its own network */
      berth_strbuf_puts(b, "    oifname ");
      put_ifname(b, n->bridge);
      berth_strbuf_printf(b, " %s saddr %s ct status dnat masquerade\n", fk, s);
    }
    /* the host's own 127.0.0.1 to a published port (route_localnet lets it out) */
    berth_strbuf_puts(b, "    oifname ");
    put_ifname(b, n->bridge);
    berth_strbuf_puts(b, " ip saddr 127.0.0.0/8 masquerade\n");
  }
  berth_strbuf_puts(b, "  }\n");
}

char *berth_net_ruleset_render(const struct berth_net_ruleset *rs)
{
  struct berth_strbuf b = BERTH_STRBUF_INIT;
  berth_strbuf_puts(&b, "table inet " T "\ndelete table inet " T "\n");
  if (rs->n_nets == 0)
    return berth_strbuf_detach(&b);
  berth_strbuf_puts(&b, "table inet " T " {\n");
  render_forward(&b, rs);
  render_nat(&b, rs);
  berth_strbuf_puts(&b, "}\n");
  return berth_strbuf_detach(&b);
}

char *berth_net_foreign_render(const struct berth_net_foreign *f, const char *const *bridges,
                               size_t n_bridges)
{
  static const char *const fam[2] = { "ip", "ip6" };
  struct berth_strbuf b = BERTH_STRBUF_INIT;
  berth_strbuf_puts(&b, ""); /* never NULL */
  for (int k = 0; k < 2; k++) {
    for (size_t i = 0; i < f->n_handles[k]; i++)
      berth_strbuf_printf(&b, "delete rule %s filter FORWARD handle %llu\n", fam[k],
                          (unsigned long long) f->handles[k][i]);
    if (!f->has_forward[k])
      continue;
    for (size_t i = 0; i < n_bridges; i++) {
      /* whatever goes to or comes from the bridge: table inet berth decides (isolation, internal
       * networks). Interface matches only: iptables-nft cannot read nft's ct expressions back
       * and would call the whole chain incompatible (`iptables -L` then fails for Docker). */
      static const char *const dir[] = { "oifname ", "iifname " };
      for (size_t r = 0; r < 2; r++) {
        berth_strbuf_printf(&b, "insert rule %s filter FORWARD %s", fam[k], dir[r]);
        put_ifname(&b, bridges[i]);
        berth_strbuf_puts(&b, " counter accept comment \"" BERTH_NET_NFT_COMMENT "\"\n");
      }
    }
  }
  return berth_strbuf_detach(&b);
}
