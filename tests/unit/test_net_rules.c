/* src/lib/net, the pure parts: the nftables ruleset, iptables' FORWARD chains, DNS messages and
 * the names file. */
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
  return p;
}

static void
test_ruleset_empty(void **state)
{
  struct berth_net_ruleset rs = { 0 };
  cleanup_free char *s = berth_net_ruleset_render(&rs);
  /* no network: the table goes (adding it first makes the delete succeed when it is absent) */
  assert_string_equal(s, "table inet berth\ndelete table inet berth\n");
}

static void test_ruleset(void **state)
{
  struct berth_net_rs_net nets[3] = {
    { .bridge = "berth0", .n_subnets = 1 },
    { .bridge = "berth1", .n_subnets = 2 },
    { .bridge = "berth2", .n_subnets = 1, .internal = true },
  };
  nets[0].subnet[0] = P("10.87.0.0/16");
  nets[1].subnet[0] = P("10.86.1.0/24");
  nets[1].subnet[1] = P("fd86:1::/64");
  nets[2].subnet[0] = P("10.86.2.0/24");
  struct berth_net_rs_port ports[4] = {
    { .bridge = "berth0", .host_port = 8080, .ctr_ip = A("10.87.0.2"), .ctr_port = 80 },
    { .bridge = "berth1",
      .host_ip = A("127.0.0.1"),
      .host_port = 5353,
      .ctr_ip = A("10.86.1.2"),
      .ctr_port = 53,
      .proto = BERTH_NET_UDP },
    { .bridge = "berth1", .host_port = 8443, .ctr_ip = A("fd86:1::2"), .ctr_port = 443 },
    { .bridge = "berth2", .host_port = 9999, .ctr_ip = A("10.86.2.2"), .ctr_port = 99 }, /* internal: none */
  };
  struct berth_net_ruleset rs = { nets, 3, ports, 4 };
  cleanup_free char *s = berth_net_ruleset_render(&rs);
  assert_string_equal(s, "table inet berth\n"
                         "delete table inet berth\n"
                         "table inet berth {\n"
                         "  chain forward {\n"
                         "    type filter hook forward priority filter; policy accept;\n"
                         "    iifname \"berth2\" oifname != \"berth2\" drop\n"
                         "    oifname \"berth2\" iifname != \"berth2\" drop\n"
                         "    ct status dnat accept\n"
                         "    iifname \"berth0\" oifname { \"berth1\", \"berth2\" } drop\n"
                         "    iifname \"berth1\" oifname { \"berth0\", \"berth2\" } drop\n"
                         "  }\n"
                         "  chain prerouting {\n"
                         "    type nat hook prerouting priority dstnat; policy accept;\n"
                         "    fib daddr type local jump publish\n"
                         "  }\n"
                         "  chain output {\n"
                         "    type nat hook output priority -100; policy accept;\n"
                         "    fib daddr type local jump publish\n"
                         "  }\n"
                         "  chain publish {\n"
                         "    meta nfproto ipv4 tcp dport 8080 dnat ip to 10.87.0.2:80\n"
                         "    ip daddr 127.0.0.1 udp dport 5353 dnat ip to 10.86.1.2:53\n"
                         "    meta nfproto ipv6 tcp dport 8443 dnat ip6 to [fd86:1::2]:443\n"
                         "  }\n"
                         "  chain postrouting {\n"
                         "    type nat hook postrouting priority srcnat; policy accept;\n"
                         "    ip saddr 10.87.0.0/16 oifname != \"berth0\" masquerade\n"
                         "    oifname \"berth0\" ip saddr 10.87.0.0/16 ct status dnat masquerade\n"
                         "    oifname \"berth0\" ip saddr 127.0.0.0/8 masquerade\n"
                         "    ip saddr 10.86.1.0/24 oifname != \"berth1\" masquerade\n"
                         "    oifname \"berth1\" ip saddr 10.86.1.0/24 ct status dnat masquerade\n"
                         "    ip6 saddr fd86:1::/64 oifname != \"berth1\" masquerade\n"
                         "    oifname \"berth1\" ip6 saddr fd86:1::/64 ct status dnat masquerade\n"
                         "    oifname \"berth1\" ip saddr 127.0.0.0/8 masquerade\n"
                         "  }\n"
                         "}\n");
}

static void test_ruleset_quotes(void **state)
{
  struct berth_net_rs_net net = { .bridge = "x\"; flush ruleset", .n_subnets = 1 };
  net.subnet[0] = P("10.1.0.0/16");
  struct berth_net_ruleset rs = { &net, 1, NULL, 0 };
  cleanup_free char *s = berth_net_ruleset_render(&rs);
  assert_null(strstr(s, "\";"));
  assert_non_null(strstr(s, "\"x;flushruleset\""));
}

static const char forward_json[] =
  "{\"nftables\": [{\"metainfo\": {\"version\": \"1.0.6\", \"json_schema_version\": 1}},"
  " {\"chain\": {\"family\": \"ip\", \"table\": \"filter\", \"name\": \"FORWARD\", \"handle\": 2, \"type\": "
  "\"filter\","
  "  \"hook\": \"forward\", \"prio\": 0, \"policy\": \"drop\"}},"
  " {\"rule\": {\"family\": \"ip\", \"table\": \"filter\", \"chain\": \"FORWARD\", \"handle\": 7, "
  "\"comment\": \"berth\","
  "  \"expr\": []}},"
  " {\"rule\": {\"family\": \"ip\", \"table\": \"filter\", \"chain\": \"FORWARD\", \"handle\": 8, "
  "\"comment\": \"docker\","
  "  \"expr\": []}},"
  " {\"rule\": {\"family\": \"ip\", \"table\": \"filter\", \"chain\": \"FORWARD\", \"handle\": 9, "
  "\"comment\": \"berth\","
  "  \"expr\": []}},"
  " {\"rule\": {\"family\": \"ip6\", \"table\": \"filter\", \"chain\": \"FORWARD\", \"handle\": 10, "
  "\"comment\": \"berth\","
  "  \"expr\": []}}]}";

static void test_foreign(void **state)
{
  struct berth_net_foreign f;
  memset(&f, 0, sizeof f);
  berth_error_t err = NULL;
  assert_int_equal(berth_net_foreign_parse(0, forward_json, &f, &err), 0);
  assert_true(f.has_forward[0]);
  assert_true(f.forward_drop[0]);
  assert_false(f.has_forward[1]);
  assert_int_equal(f.n_handles[0], 2); /* ours only, of this family only */
  assert_int_equal(f.handles[0][0], 7);
  assert_int_equal(f.handles[0][1], 9);
  const char *bridges[] = { "berth0" };
  cleanup_free char *s = berth_net_foreign_render(&f, bridges, 1);
  assert_string_equal(s,
                      "delete rule ip filter FORWARD handle 7\n"
                      "delete rule ip filter FORWARD handle 9\n"
                      "insert rule ip filter FORWARD oifname \"berth0\" counter accept comment \"berth\"\n"
                      "insert rule ip filter FORWARD iifname \"berth0\" counter accept comment \"berth\"\n");
  berth_net_foreign_free(&f);
  /* no bridge left: only the deletions */
  memset(&f, 0, sizeof f);
  assert_int_equal(berth_net_foreign_parse(0, forward_json, &f, &err), 0);
  cleanup_free char *s2 = berth_net_foreign_render(&f, NULL, 0);
  assert_string_equal(s2, "delete rule ip filter FORWARD handle 7\ndelete rule ip filter FORWARD handle 9\n");
  berth_net_foreign_free(&f);
  assert_int_equal(berth_net_foreign_parse(0, "{\"x\": 1}", &f, &err), -1);
  unit_assert_error_contains(&err, "not libnftables' JSON");
  assert_int_equal(berth_net_foreign_parse(0, "nope", &f, &err), -1);
  unit_assert_error_contains(&err, "nftables listing");
}

/* a query for name/type as a resolver sends it (RD set, one question) */
static size_t make_query(uint8_t *buf, uint16_t id, const char *name, uint16_t type)
{
  size_t n = 12;
  memset(buf, 0, 12);
  buf[0] = (uint8_t) (id >> 8);
  buf[1] = (uint8_t) id;
  buf[2] = 0x01;
  buf[5] = 1;
  const char *p = name;
  while (*p) {
    size_t l = strcspn(p, ".");
    buf[n++] = (uint8_t) l;
    memcpy(buf + n, p, l);
    n += l;
    p += l + (p[l] == '.');
  }
  buf[n++] = 0;
  buf[n++] = (uint8_t) (type >> 8);
  buf[n++] = (uint8_t) type;
  buf[n++] = 0;
  buf[n++] = 1;
  return n;
}

static void test_dns_query(void **state)
{
  uint8_t buf[512];
  struct berth_dns_query q;
  berth_error_t err = NULL;
  size_t n = make_query(buf, 0x1234, "web.example", BERTH_DNS_AAAA);
  assert_int_equal(berth_dns_parse_query(buf, n, &q, &err), 0);
  assert_int_equal(q.id, 0x1234);
  assert_string_equal(q.name, "web.example");
  assert_int_equal(q.qtype, BERTH_DNS_AAAA);
  assert_int_equal(q.qclass, 1);
  assert_int_equal(q.question_end, n);
  assert_true(q.plain);
  /* a label with a dot or a binary byte: not a plain name (forwarded, never matched) */
  n = make_query(buf, 1, "a", BERTH_DNS_A);
  buf[13] = '.';
  assert_int_equal(berth_dns_parse_query(buf, n, &q, &err), 0);
  assert_false(q.plain);
  assert_string_equal(q.name, "?");
  /* refusals */
  n = make_query(buf, 1, "web", BERTH_DNS_A);
  assert_int_equal(berth_dns_parse_query(buf, 11, &q, &err), -1);
  unit_assert_error_contains(&err, "shorter than a header");
  assert_int_equal(berth_dns_parse_query(buf, n - 1, &q, &err), -1);
  unit_assert_error_contains(&err, "truncated question");
  buf[2] |= 0x80;
  assert_int_equal(berth_dns_parse_query(buf, n, &q, &err), -1);
  unit_assert_error_contains(&err, "a response");
  buf[2] = 0x01 | (5 << 3); /* opcode UPDATE */
  assert_int_equal(berth_dns_parse_query(buf, n, &q, &err), -1);
  unit_assert_error_contains(&err, "opcode 5");
  buf[2] = 0x01;
  buf[5] = 2;
  assert_int_equal(berth_dns_parse_query(buf, n, &q, &err), -1);
  unit_assert_error_contains(&err, "2 questions");
  buf[5] = 1;
  /* a compression pointer to itself, and one forwards */
  buf[12] = 0xc0;
  buf[13] = 12;
  assert_int_equal(berth_dns_parse_query(buf, n, &q, &err), -1);
  unit_assert_error_contains(&err, "malformed question name");
  buf[13] = 40;
  assert_int_equal(berth_dns_parse_query(buf, n, &q, &err), -1);
  unit_assert_error_contains(&err, "malformed");
  /* a name longer than 255 */
  uint8_t big[600];
  memset(big, 0, sizeof big);
  big[5] = 1;
  size_t off = 12;
  for (int i = 0; i < 5; i++) {
    big[off] = 63;
    memset(big + off + 1, 'a', 63);
    off += 64;
  }
  big[off++] = 0;
  off += 4;
  assert_int_equal(berth_dns_parse_query(big, off, &q, &err), -1);
  unit_assert_error_contains(&err, "malformed");
}

static uint16_t get16(const uint8_t *p) { return (uint16_t) (p[0] << 8 | p[1]); }

static void test_dns_reply(void **state)
{
  uint8_t buf[512], out[512];
  struct berth_dns_query q;
  berth_error_t err = NULL;
  size_t n = make_query(buf, 0xbeef, "web", BERTH_DNS_A);
  assert_int_equal(berth_dns_parse_query(buf, n, &q, &err), 0);
  struct berth_net_addr addrs[2] = { A("10.86.0.2"), A("10.86.0.3") };
  size_t r = berth_dns_build_reply(buf, &q, BERTH_DNS_NOERROR, addrs, 2, NULL, 60, out, sizeof out);
  assert_int_equal(r, n + 2 * 16);
  assert_int_equal(get16(out), 0xbeef);
  assert_int_equal(get16(out + 2), 0x8580); /* QR AA RD RA, NOERROR */
  assert_int_equal(get16(out + 4), 1);
  assert_int_equal(get16(out + 6), 2);
  assert_memory_equal(out + 12, buf + 12, n - 12); /* the question, as asked */
  const uint8_t *rr = out + n;
  assert_int_equal(get16(rr), 0xc00c);
  assert_int_equal(get16(rr + 2), BERTH_DNS_A);
  assert_int_equal(get16(rr + 4), 1);
  assert_int_equal(get16(rr + 8), 60);
  assert_int_equal(get16(rr + 10), 4);
  assert_memory_equal(rr + 12, addrs[0].a, 4);
  /* PTR */
  n = make_query(buf, 7, "2.0.86.10.in-addr.arpa", BERTH_DNS_PTR);
  assert_int_equal(berth_dns_parse_query(buf, n, &q, &err), 0);
  r = berth_dns_build_reply(buf, &q, BERTH_DNS_NOERROR, NULL, 0, "web", 60, out, sizeof out);
  assert_int_equal(r, n + 12 + 5);
  assert_int_equal(get16(out + n + 2), BERTH_DNS_PTR);
  assert_memory_equal(out + n + 12, "\3web\0", 5);
  /* too small a buffer: nothing */
  assert_int_equal(berth_dns_build_reply(buf, &q, 0, NULL, 0, "web", 60, out, n + 3), 0);
  /* NXDOMAIN, no answers */
  r = berth_dns_build_reply(buf, &q, BERTH_DNS_NXDOMAIN, NULL, 0, NULL, 60, out, sizeof out);
  assert_int_equal(r, n);
  assert_int_equal(out[3] & 0xf, BERTH_DNS_NXDOMAIN);
}

static void test_dns_ptr(void **state)
{
  struct berth_net_addr a;
  char buf[BERTH_NET_ADDRSTRLEN];
  assert_int_equal(berth_dns_ptr_addr("4.3.2.10.in-addr.arpa", &a), 0);
  assert_string_equal(berth_net_addr_str(&a, buf), "10.2.3.4");
  assert_int_equal(berth_dns_ptr_addr("4.3.2.10.IN-ADDR.ARPA.", &a), 0);
  assert_int_equal(
    berth_dns_ptr_addr("2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.6.8.d.f.ip6.arpa", &a), 0);
  assert_string_equal(berth_net_addr_str(&a, buf), "fd86:1::2");
  const char *bad[] = { "3.2.10.in-addr.arpa",
                        "256.3.2.10.in-addr.arpa",
                        "a.3.2.10.in-addr.arpa",
                        "1.2.3.4.5.in-addr.arpa",
                        "web",
                        "in-addr.arpa",
                        "2.0.ip6.arpa",
                        "g.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.6.8.d.f.ip6.arpa" };
  for (size_t i = 0; i < BERTH_N_ELEMENTS(bad); i++)
    assert_int_equal(berth_dns_ptr_addr(bad[i], &a), -1);
}

static void test_dns_names(void **state)
{
  static const char text[] = "# berth: network app\n"
                             "10.86.0.2 fd86::2 web web.app w1\n"
                             "\n"
                             "10.86.0.3 db\n"
                             "10.86.0.4 w1\n";
  struct berth_dns_names n;
  berth_error_t err = NULL;
  assert_int_equal(berth_dns_names_parse(text, strlen(text), &n, &err), 0);
  assert_int_equal(n.n, 3);
  struct berth_net_addr out[4];
  bool known;
  char buf[BERTH_NET_ADDRSTRLEN];
  assert_int_equal(berth_dns_names_lookup(&n, "WEB.", AF_INET, out, 4, &known), 1);
  assert_true(known);
  assert_string_equal(berth_net_addr_str(&out[0], buf), "10.86.0.2");
  assert_int_equal(berth_dns_names_lookup(&n, "web", 0, out, 4, &known), 2);
  assert_int_equal(berth_dns_names_lookup(&n, "db", AF_INET6, out, 4, &known), 0);
  assert_true(known); /* a name of ours without an IPv6 address: no data, not forwarded */
  assert_int_equal(berth_dns_names_lookup(&n, "w1", AF_INET, out, 4, &known), 2); /* an alias of two */
  assert_int_equal(berth_dns_names_lookup(&n, "we", AF_INET, out, 4, &known), 0);
  assert_false(known);
  const struct berth_dns_entry *e = berth_dns_names_find_addr(&n, AP("fd86::2"));
  assert_non_null(e);
  assert_string_equal(e->names[0], "web");
  assert_null(berth_dns_names_find_addr(&n, AP("10.86.0.9")));
  berth_dns_names_free(&n);
  static const struct {
    const char *text, *msg;
  } bad[] = {
    { "web 10.0.0.1\n", "line 1: \"web\" is neither" },
    { "10.0.0.1\n", "line 1: an address without a name" },
    { "10.0.0.1 ok\n10.0.0.2 b@d\n", "line 2" },
    { "10.0.0.1 -x\n", "\"-x\"" },
  };
  for (size_t i = 0; i < BERTH_N_ELEMENTS(bad); i++) {
    assert_int_equal(berth_dns_names_parse(bad[i].text, strlen(bad[i].text), &n, &err), -1);
    unit_assert_error_contains(&err, bad[i].msg);
    assert_int_equal(n.n, 0);
  }
  assert_int_equal(berth_dns_names_parse("10.0.0.1 a\0b\n", 13, &n, &err), -1);
  unit_assert_error_contains(&err, "NUL");
  assert_true(berth_dns_name_valid("my_app-1.local"));
  assert_false(berth_dns_name_valid("a..b"));
  assert_false(berth_dns_name_valid(".a"));
}

static void test_resolv(void **state)
{
  static const char text[] =
    "# generated\nsearch example.com\nnameserver 127.0.0.53\n  nameserver\t10.0.0.2 # x\n"
    "nameserver fe80::1%eth0\nnameserver bogus\nnameserverx 1.1.1.1\nnameserver 10.0.0.3\n";
  struct berth_net_addr out[3];
  char buf[BERTH_NET_ADDRSTRLEN];
  assert_int_equal(berth_dns_resolv_nameservers(text, out, 3), 3);
  assert_string_equal(berth_net_addr_str(&out[0], buf), "127.0.0.53");
  assert_string_equal(berth_net_addr_str(&out[1], buf), "10.0.0.2");
  assert_string_equal(berth_net_addr_str(&out[2], buf), "fe80::1");
  assert_int_equal(berth_dns_resolv_nameservers("", out, 3), 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_ruleset_empty),  cmocka_unit_test(test_ruleset),
    cmocka_unit_test(test_ruleset_quotes), cmocka_unit_test(test_foreign),
    cmocka_unit_test(test_dns_query),      cmocka_unit_test(test_dns_reply),
    cmocka_unit_test(test_dns_ptr),        cmocka_unit_test(test_dns_names),
    cmocka_unit_test(test_resolv),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
