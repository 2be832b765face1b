/* src/lib/net, the pure parts: addresses, IPAM, -p, the link plan. (The ruleset and DNS parts:
 * test_net_rules.c.) */
#include "unit.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "base/cleanup.h"
#include "net/net.h"

/* the address of a parsed address or prefix, for calls that take pointers */
#define AP(s) ((struct berth_net_addr[1]){ A(s) })
#define PP(s) ((struct berth_net_prefix[1]){ P(s) })

static struct berth_net_addr A(const char *s) {
  struct berth_net_addr a;
  berth_error_t err = NULL;
  assert_int_equal(berth_net_addr_parse(s, &a, &err), 0);
  return a;
}

static struct berth_net_prefix
P(const char *s) {
  struct berth_net_prefix p;
  berth_error_t err = NULL;
  assert_int_equal(berth_net_prefix_parse(s, &p, &err), 0);
  unit_assert_no_error(&err);
  return p;
}

static void
assert_addr(const struct berth_net_addr *a, const char *want)
{
  char buf[BERTH_NET_ADDRSTRLEN];
  assert_string_equal(berth_net_addr_str(a, buf), want);
}

static void test_addr_parse(void **state)
{
  struct berth_net_addr a;
  berth_error_t err = NULL;
  assert_addr(&(struct berth_net_addr){ 0 }, "");
  a = A("10.1.2.3");
  assert_int_equal(a.family, AF_INET);
  assert_addr(&a, "10.1.2.3");
  a = A("FD00::0001");
  assert_int_equal(a.family, AF_INET6);
  assert_addr(&a, "fd00::1");
  const char *bad[] = { "", "10.1.2", "10.1.2.256", "1.2.3.4 ", "::g", "1.2.3.4/8", "010.1.2.3x", "[::1]" };
  for (size_t i = 0; i < BERTH_N_ELEMENTS(bad); i++) {
    assert_int_equal(berth_net_addr_parse(bad[i], &a, &err), -1);
    unit_assert_error_contains(&err, "IP address");
    assert_int_equal(a.family, 0);
  }
}

static void test_prefix(void **state)
{
  char buf[BERTH_NET_PREFIXSTRLEN];
  berth_error_t err = NULL;
  struct berth_net_prefix p = P("10.87.0.0/16");
  assert_string_equal(berth_net_prefix_str(&p, buf), "10.87.0.0/16");
  assert_true(berth_net_prefix_contains(&p, AP("10.87.255.255")));
  assert_false(berth_net_prefix_contains(&p, AP("10.88.0.0")));
  assert_false(berth_net_prefix_contains(&p, AP("fd00::1")));
  struct berth_net_prefix q;
  assert_int_equal(berth_net_prefix_parse("10.87.1.0/16", &q, &err), -1);
  unit_assert_error_contains(&err, "host bits set (the network is 10.87.0.0/16)");
  const char *bad[] = { "10.0.0.0", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/+8",
                        "/8",       "x/8",         "fd00::/129",  "10.0.0.0/" };
  for (size_t i = 0; i < BERTH_N_ELEMENTS(bad); i++) {
    assert_int_equal(berth_net_prefix_parse(bad[i], &q, &err), -1);
    unit_assert_error_contains(&err, "invalid subnet");
  }
  /* overlaps, both ways, and families apart */
  assert_true(berth_net_prefix_overlaps(&p, PP("10.87.3.0/24")));
  assert_true(berth_net_prefix_overlaps(PP("10.0.0.0/8"), &p));
  assert_false(berth_net_prefix_overlaps(&p, PP("10.86.0.0/16")));
  assert_false(berth_net_prefix_overlaps(&p, PP("fd00::/8")));
  struct berth_net_addr last;
  berth_net_prefix_last(&p, &last);
  assert_addr(&last, "10.87.255.255");
  p = P("fd00:1::/64");
  berth_net_prefix_last(&p, &last);
  assert_addr(&last, "fd00:1::ffff:ffff:ffff:ffff");
  struct berth_net_addr n;
  assert_int_equal(berth_net_prefix_nth(&p, 258, &n), 0);
  assert_addr(&n, "fd00:1::102");
  p = P("10.1.2.0/30");
  assert_int_equal(berth_net_prefix_nth(&p, 3, &n), 0);
  assert_int_equal(berth_net_prefix_nth(&p, 4, &n), -1);
  berth_net_prefix_of(AP("192.168.7.9"), 20, &p);
  assert_string_equal(berth_net_prefix_str(&p, buf), "192.168.0.0/20");
  assert_true(berth_net_addr_is_any(AP("0.0.0.0")));
  assert_true(berth_net_addr_is_any(AP("::")));
  assert_false(berth_net_addr_is_any(AP("::1")));
}

static struct berth_ipam_pool pool(const char *subnet, const char *range, const char *gw)
{
  struct berth_ipam_pool p;
  memset(&p, 0, sizeof p);
  p.subnet = P(subnet);
  if (range)
    p.range = P(range);
  if (gw)
    p.gateway = A(gw);
  return p;
}

static void test_ipam_pick(void **state)
{
  berth_error_t err = NULL;
  struct berth_ipam_pool p = pool("10.87.0.0/16", NULL, "10.87.0.1");
  assert_int_equal(berth_ipam_pool_check(&p, &err), 0);
  struct berth_net_addr got;
  assert_int_equal(berth_ipam_pick(&p, NULL, 0, &got, &err), 0);
  assert_addr(&got, "10.87.0.2"); /* not the network address, not the gateway */
  /* used addresses in any order, other families ignored; the lowest free one */
  struct berth_net_addr used[] = { A("10.87.0.4"), A("fd00::2"), A("10.87.0.2"), A("10.87.0.3"),
                                   A("10.87.0.6") };
  assert_int_equal(berth_ipam_pick(&p, used, BERTH_N_ELEMENTS(used), &got, &err), 0);
  assert_addr(&got, "10.87.0.5");
  /* a /30 holds two hosts: the gateway and one container */
  p = pool("10.9.9.0/30", NULL, "10.9.9.1");
  assert_int_equal(berth_ipam_pick(&p, NULL, 0, &got, &err), 0);
  assert_addr(&got, "10.9.9.2");
  struct berth_net_addr one[] = { got };
  assert_int_equal(berth_ipam_pick(&p, one, 1, &got, &err), -1);
  unit_assert_error_contains(&err, "no free address left in 10.9.9.0/30");
  /* --ip-range: only inside it */
  p = pool("10.5.0.0/16", "10.5.7.0/24", "10.5.0.1");
  assert_int_equal(berth_ipam_pick(&p, NULL, 0, &got, &err), 0);
  assert_addr(&got, "10.5.7.0"); /* a host address of the subnet, even if it ends in .0 */
  /* the gateway inside the range is skipped */
  p = pool("10.6.0.0/24", "10.6.0.0/28", "10.6.0.1");
  assert_int_equal(berth_ipam_pick(&p, NULL, 0, &got, &err), 0);
  assert_addr(&got, "10.6.0.2");
  /* IPv6: no broadcast; the last address is a host */
  p = pool("fd00:9::/126", NULL, "fd00:9::1");
  struct berth_net_addr u6[] = { A("fd00:9::2") };
  assert_int_equal(berth_ipam_pick(&p, u6, 1, &got, &err), 0);
  assert_addr(&got, "fd00:9::3");
}

static void test_ipam_check(void **state)
{
  berth_error_t err = NULL;
  struct berth_ipam_pool p = pool("10.87.0.0/16", NULL, "10.87.0.1");
  struct berth_net_addr used[] = { A("10.87.0.2") };
  assert_int_equal(berth_ipam_check_static(&p, AP("10.87.3.4"), used, 1, &err), 0);
  assert_int_equal(berth_ipam_check_static(&p, AP("10.88.0.9"), used, 1, &err), -1);
  unit_assert_error_contains(&err, "address 10.88.0.9 is not inside subnet 10.87.0.0/16");
  assert_int_equal(berth_ipam_check_static(&p, AP("10.87.0.2"), used, 1, &err), -1);
  unit_assert_error_contains(&err, "address 10.87.0.2 is already in use");
  const char *reserved[] = { "10.87.0.0", "10.87.0.1", "10.87.255.255" };
  for (size_t i = 0; i < 3; i++) {
    assert_int_equal(berth_ipam_check_static(&p, AP(reserved[i]), NULL, 0, &err), -1);
    unit_assert_error_contains(&err, "is reserved");
  }
  /* pool checks */
  p = pool("10.87.0.0/16", "10.88.0.0/24", NULL);
  assert_int_equal(berth_ipam_pool_check(&p, &err), -1);
  unit_assert_error_contains(&err, "ip range 10.88.0.0/24 is not inside subnet 10.87.0.0/16");
  p = pool("10.87.0.0/16", "10.0.0.0/8", NULL);
  assert_int_equal(berth_ipam_pool_check(&p, &err), -1);
  unit_assert_error_contains(&err, "is not inside subnet");
  p = pool("10.87.0.0/16", NULL, "10.1.0.1");
  assert_int_equal(berth_ipam_pool_check(&p, &err), -1);
  unit_assert_error_contains(&err, "gateway 10.1.0.1 is not inside subnet 10.87.0.0/16");
  p = pool("10.87.0.0/16", NULL, "10.87.255.255");
  assert_int_equal(berth_ipam_pool_check(&p, &err), -1);
  unit_assert_error_contains(&err, "network or broadcast address");
  p = pool("10.87.0.0/31", NULL, NULL);
  assert_int_equal(berth_ipam_pool_check(&p, &err), -1);
  unit_assert_error_contains(&err, "too small");
  struct berth_net_addr gw;
  assert_int_equal(berth_ipam_default_gateway(PP("fd00:1::/64"), &gw, &err), 0);
  assert_addr(&gw, "fd00:1::1");
}

static void test_ipam_subnet(void **state)
{
  berth_error_t err = NULL;
  struct berth_net_prefix pool4 = P("10.86.0.0/16"), got;
  char buf[BERTH_NET_PREFIXSTRLEN];
  assert_int_equal(berth_ipam_pick_subnet(&pool4, 24, NULL, 0, &got, &err), 0);
  assert_string_equal(berth_net_prefix_str(&got, buf), "10.86.0.0/24");
  /* taken by another network and by a host route covering two /24s */
  struct berth_net_prefix taken[] = { P("10.86.0.0/24"), P("10.86.2.0/23"), P("192.168.0.0/16") };
  assert_int_equal(berth_ipam_pick_subnet(&pool4, 24, taken, 3, &got, &err), 0);
  assert_string_equal(berth_net_prefix_str(&got, buf), "10.86.1.0/24");
  struct berth_net_prefix t2[] = { P("10.86.0.0/23"), P("10.86.2.0/24") };
  assert_int_equal(berth_ipam_pick_subnet(&pool4, 24, t2, 2, &got, &err), 0);
  assert_string_equal(berth_net_prefix_str(&got, buf), "10.86.3.0/24");
  /* all taken */
  struct berth_net_prefix all[] = { P("10.0.0.0/8") };
  assert_int_equal(berth_ipam_pick_subnet(&pool4, 24, all, 1, &got, &err), -1);
  unit_assert_error_contains(&err, "no free /24 subnet left in 10.86.0.0/16");
  /* IPv6: /64s of a /48, the subnet number in the 4th group */
  struct berth_net_prefix pool6 = P("fd86:b::/48");
  struct berth_net_prefix t6[] = { P("fd86:b::/64") };
  assert_int_equal(berth_ipam_pick_subnet(&pool6, 64, t6, 1, &got, &err), 0);
  assert_string_equal(berth_net_prefix_str(&got, buf), "fd86:b:0:1::/64");
  assert_int_equal(berth_ipam_pick_subnet(&pool4, 8, NULL, 0, &got, &err), -1);
  unit_assert_error_contains(&err, "cannot cut /8 subnets");
}

static void test_mac(void **state)
{
  uint8_t mac[6];
  char buf[18];
  berth_error_t err = NULL;
  berth_ipam_mac(AP("10.87.0.2"), mac);
  berth_net_mac_str(mac, buf);
  assert_string_equal(buf, "02:42:0a:57:00:02");
  berth_ipam_mac(AP("fd00::2"), mac);
  assert_int_equal(mac[0], 0x02); /* unicast, locally administered */
  assert_int_equal(berth_net_mac_parse("02:AB:cd:00:11:22", mac, &err), 0);
  berth_net_mac_str(mac, buf);
  assert_string_equal(buf, "02:ab:cd:00:11:22");
  const char *bad[] = { "02:ab:cd:00:11", "02-ab-cd-00-11-22", "0g:ab:cd:00:11:22", "02:ab:cd:00:11:223" };
  for (size_t i = 0; i < BERTH_N_ELEMENTS(bad); i++) {
    assert_int_equal(berth_net_mac_parse(bad[i], mac, &err), -1);
    unit_assert_error_contains(&err, "invalid MAC address");
  }
  assert_int_equal(berth_net_mac_parse("01:00:5e:00:00:01", mac, &err), -1);
  unit_assert_error_contains(&err, "multicast");
}

/* -p, one case: the mappings as "ip|host|end|ctr|proto" joined by ' ' */
static void check_ports(const char *spec, const char *want)
{
  struct berth_net_port *v = NULL;
  size_t n = 0;
  berth_error_t err = NULL;
  assert_int_equal(berth_net_ports_parse(spec, &v, &n, &err), 0);
  unit_assert_no_error(&err);
  char got[512] = "";
  for (size_t i = 0; i < n; i++) {
    char ip[BERTH_NET_ADDRSTRLEN], one[96];
    snprintf(one, sizeof one, "%s%s|%u|%u|%u|%s", i ? " " : "", berth_net_addr_str(&v[i].host_ip, ip),
             v[i].host_port, v[i].host_port_end, v[i].ctr_port, berth_net_proto_name(v[i].proto));
    strncat(got, one, sizeof got - strlen(got) - 1);
  }
  free(v);
  if (strcmp(got, want) != 0) {
    print_error("-p %s: got \"%s\", want \"%s\"\n", spec, got, want);
    fail();
  }
}

static void test_ports_parse(void **state)
{
  check_ports("80", "|0|0|80|tcp");
  check_ports("8080:80", "|8080|0|80|tcp");
  check_ports("127.0.0.1:8080:80/udp", "127.0.0.1|8080|0|80|udp");
  check_ports("127.0.0.1::80", "127.0.0.1|0|0|80|tcp");
  check_ports("[::1]:8080:80/sctp", "::1|8080|0|80|sctp");
  check_ports("[fd00::1]::53/UDP", "fd00::1|0|0|53|udp");
  check_ports("8000-8002:80-82", "|8000|0|80|tcp |8001|0|81|tcp |8002|0|82|tcp");
  check_ports("8000-8010:80", "|8000|8010|80|tcp");
  check_ports("80-81", "|0|0|80|tcp |0|0|81|tcp");
  check_ports("0:80", "|0|0|80|tcp");
  check_ports(":80", "|0|0|80|tcp");
  check_ports("65535:65535", "|65535|0|65535|tcp");
  static const struct {
    const char *spec, *msg;
  } bad[] = {
    { "", "invalid container port" },
    { "0", "invalid container port" },
    { "65536", "invalid container port" },
    { "80/icmp", "invalid protocol \"icmp\"" },
    { "8000-8002:80-81", "differ in length" },
    { "8080:80-81", "one host port for a range" },
    { "1.2.3:80:80", "invalid IP address" },
    { "::1:80:80", "invalid port specification" },
    { "[::1:80:80", "invalid port specification" },
    { "a:b:c:d", "invalid port specification" },
    { "90-80", "invalid container port" },
    { "-80", "invalid container port" },
    { "80-", "invalid container port" },
    { "123456:80", "invalid host port" },
    { "8080:", "invalid container port" },
  };
  for (size_t i = 0; i < BERTH_N_ELEMENTS(bad); i++) {
    struct berth_net_port *v = (void *) 1;
    size_t n = 9;
    berth_error_t err = NULL;
    if (berth_net_ports_parse(bad[i].spec, &v, &n, &err) != -1) {
      print_error("-p \"%s\" was accepted\n", bad[i].spec);
      fail();
    }
    assert_null(v);
    assert_int_equal(n, 0);
    unit_assert_error_contains(&err, bad[i].msg);
  }
}

static void test_port_key(void **state)
{
  uint16_t port;
  enum berth_net_proto proto;
  berth_error_t err = NULL;
  assert_int_equal(berth_net_port_key_parse("80/tcp", &port, &proto, &err), 0);
  assert_int_equal(port, 80);
  assert_int_equal(proto, BERTH_NET_TCP);
  assert_int_equal(berth_net_port_key_parse("53/udp", &port, &proto, &err), 0);
  assert_int_equal(proto, BERTH_NET_UDP);
  assert_int_equal(berth_net_port_key_parse("8080", &port, &proto, &err), 0);
  assert_int_equal(port, 8080);
  assert_int_equal(berth_net_port_key_parse("80-90/tcp", &port, &proto, &err), -1);
  unit_assert_error_contains(&err, "invalid port \"80-90/tcp\"");
  assert_int_equal(berth_net_port_key_parse("80/foo", &port, &proto, &err), -1);
  unit_assert_error_contains(&err, "port \"80/foo\": invalid protocol");
}

static void test_port_conflict(void **state)
{
  struct berth_net_port any = { .host_port = 8080, .ctr_port = 80 };
  struct berth_net_port lo = { .host_ip = A("127.0.0.1"), .host_port = 8080, .ctr_port = 81 };
  struct berth_net_port other = { .host_ip = A("127.0.0.2"), .host_port = 8080, .ctr_port = 81 };
  struct berth_net_port zero4 = { .host_ip = A("0.0.0.0"), .host_port = 8080 };
  struct berth_net_port v6 = { .host_ip = A("::1"), .host_port = 8080 };
  struct berth_net_port udp = { .host_port = 8080, .proto = BERTH_NET_UDP };
  assert_true(berth_net_port_conflict(&any, &lo));
  assert_true(berth_net_port_conflict(&lo, &any));
  assert_false(berth_net_port_conflict(&lo, &other));
  assert_true(berth_net_port_conflict(&zero4, &lo));
  assert_false(berth_net_port_conflict(&zero4, &v6));
  assert_true(berth_net_port_conflict(&any, &v6));
  assert_false(berth_net_port_conflict(&any, &udp));
  struct berth_net_port random = { .host_port = 0 };
  assert_false(berth_net_port_conflict(&random, &random));
}

static char *plan_text(const struct berth_net_plan *p)
{
  size_t cap = 4096, len = 0;
  char *out = calloc(1, cap);
  for (size_t i = 0; i < p->n; i++) {
    cleanup_free char *line = berth_net_op_str(&p->ops[i]);
    len += (size_t) snprintf(out + len, cap - len, "%s\n", line);
  }
  return out;
}

static void test_plan_attach(void **state)
{
  struct berth_net_bridge br = { .name = "berth0", .n_subnets = 2 };
  br.subnet[0] = P("10.87.0.0/16");
  br.gateway[0] = A("10.87.0.1");
  br.subnet[1] = P("fd87::/64");
  br.gateway[1] = A("fd87::1");
  struct berth_net_attachment at = { .host_if = "bv0123456789-0", .ctr_if = "eth0", .default_route = true };
  at.addr[0] = A("10.87.0.2");
  at.addr[1] = A("fd87::2");
  berth_ipam_mac(&at.addr[0], at.mac);
  struct berth_net_plan p;
  berth_error_t err = NULL;
  assert_int_equal(berth_net_plan_attach(&br, &at, &p, &err), 0);
  cleanup_free char *text = plan_text(&p);
  assert_string_equal(text, "bridge berth0 mtu 0 (host)\n"
                            "addr 10.87.0.1/16 on berth0 (host)\n"
                            "addr fd87::1/64 on berth0 (host)\n"
                            "sysctl net/ipv4/ip_forward=1 (host)\n"
                            "sysctl net/ipv4/conf/berth0/route_localnet=1 (host)\n"
                            "sysctl net/ipv6/conf/all/forwarding=1 (host)\n"
                            "veth bv0123456789-0 master berth0 mtu 0 peer eth0 (host)\n"
                            "up bv0123456789-0 (host)\n"
                            "up lo (container)\n"
                            "addr 10.87.0.2/16 on eth0 (container)\n"
                            "addr fd87::2/64 on eth0 (container)\n"
                            "up eth0 mac 02:42:0a:57:00:02 (container)\n"
                            "route default via 10.87.0.1 dev eth0 (container)\n"
                            "route default via fd87::1 dev eth0 (container)\n");
  berth_net_plan_free(&p);
  /* internal, a second network (no default route), an MTU: no forwarding, no routes */
  struct berth_net_bridge in = { .name = "berth3", .n_subnets = 1, .internal = true, .mtu = 1400 };
  in.subnet[0] = P("10.86.3.0/24");
  in.gateway[0] = A("10.86.3.1");
  struct berth_net_attachment a2 = { .host_if = "bvabc-1", .ctr_if = "eth1" };
  a2.addr[0] = A("10.86.3.7");
  assert_int_equal(berth_net_plan_attach(&in, &a2, &p, &err), 0);
  cleanup_free char *t2 = plan_text(&p);
  assert_string_equal(t2, "bridge berth3 mtu 1400 (host)\n"
                          "addr 10.86.3.1/24 on berth3 (host)\n"
                          "veth bvabc-1 master berth3 mtu 1400 peer eth1 (host)\n"
                          "up bvabc-1 (host)\n"
                          "up lo (container)\n"
                          "addr 10.86.3.7/24 on eth1 (container)\n"
                          "up eth1 (container)\n");
  berth_net_plan_free(&p);
}

static void test_plan_refuses(void **state)
{
  berth_error_t err = NULL;
  struct berth_net_plan p = { (void *) 1, 7 };
  struct berth_net_bridge br = { .name = "berth0", .n_subnets = 1 };
  br.subnet[0] = P("10.87.0.0/16");
  br.gateway[0] = A("10.87.0.1");
  struct berth_net_attachment at = { .host_if = "bv1", .ctr_if = "eth0" };
  at.addr[0] = A("10.88.0.2");
  assert_int_equal(berth_net_plan_attach(&br, &at, &p, &err), -1);
  unit_assert_error_contains(&err, "address 10.88.0.2 is not inside subnet 10.87.0.0/16");
  assert_null(p.ops);
  at.addr[0] = A("10.87.0.1");
  assert_int_equal(berth_net_plan_attach(&br, &at, &p, &err), -1);
  unit_assert_error_contains(&err, "is the gateway's");
  at.addr[0] = A("10.87.0.2");
  snprintf(at.ctr_if, sizeof at.ctr_if, "lo");
  assert_int_equal(berth_net_plan_attach(&br, &at, &p, &err), -1);
  unit_assert_error_contains(&err, "\"lo\"");
  snprintf(at.ctr_if, sizeof at.ctr_if, "a/b");
  assert_int_equal(berth_net_plan_attach(&br, &at, &p, &err), -1);
  unit_assert_error_contains(&err, "invalid interface name");
  snprintf(at.ctr_if, sizeof at.ctr_if, "eth0");
  br.mtu = 50;
  assert_int_equal(berth_net_plan_attach(&br, &at, &p, &err), -1);
  unit_assert_error_contains(&err, "MTU 50 out of range");
  br.mtu = 0;
  br.gateway[0] = A("10.99.0.1");
  assert_int_equal(berth_net_plan_attach(&br, &at, &p, &err), -1);
  unit_assert_error_contains(&err, "gateway 10.99.0.1 is not inside");
  br.gateway[0] = A("10.87.0.1");
  br.n_subnets = 2;
  br.subnet[1] = P("10.89.0.0/16");
  at.addr[1] = A("10.89.0.2");
  assert_int_equal(berth_net_plan_attach(&br, &at, &p, &err), -1);
  unit_assert_error_contains(&err, "one subnet per address family");
  assert_false(berth_net_ifname_valid("0123456789abcdef"));
  assert_true(berth_net_ifname_valid("0123456789abcde"));
  assert_false(berth_net_ifname_valid(".."));
  assert_false(berth_net_ifname_valid("a b"));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_addr_parse),    cmocka_unit_test(test_prefix),
    cmocka_unit_test(test_ipam_pick),     cmocka_unit_test(test_ipam_check),
    cmocka_unit_test(test_ipam_subnet),   cmocka_unit_test(test_mac),
    cmocka_unit_test(test_ports_parse),   cmocka_unit_test(test_port_key),
    cmocka_unit_test(test_port_conflict), cmocka_unit_test(test_plan_attach),
    cmocka_unit_test(test_plan_refuses),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
