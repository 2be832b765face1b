/* engine/networks without the kernel: network create and its refusals, the default network
 * made on first use, requests resolved into attachments, removal of a network in use, the
 * published ports a container asks for, `berth port` lines and inspect. */
#include "unit.h"

#include "fixtures.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "base/cleanup.h"
#include "base/strutil.h"
#include "engine/networks/networks.h"
#include "engine/networks/networks_internal.h"

static int create(struct berth_engine *e, const char *name, const char *subnet, const char *gw,
                  berth_error_t *err)
{
  char *subnets[] = { (char *) subnet, NULL }, *gws[] = { (char *) gw, NULL };
  struct berth_network_create o = { .name = name,
                                    .subnets = subnet ? subnets : NULL,
                                    .gateways = gw ? gws : NULL };
  berth_network_id_t id;
  return berth_networks_create(e, &o, id, err);
}

static void test_create(void **state)
{
  struct engine_fx *f = *state;
  berth_error_t err = NULL;
  assert_int_equal(create(f->e, "app", "10.77.0.0/16", NULL, &err), 0);
  unit_assert_no_error(&err);
  struct berth_network n;
  assert_int_equal(berth_network_get(f->e, "app", &n, &err), 0);
  char buf[BERTH_NET_ADDRSTRLEN];
  assert_string_equal(berth_net_addr_str(&n.gateway[0], buf), "10.77.0.1");
  assert_string_equal(n.row.bridge, "berth1");
  assert_true(n.row.dns);
  berth_network_release(&n);
  /* refusals: overlap, a name taken or reserved, bad gateway, unknown option and driver */
  assert_int_equal(create(f->e, "bb", "10.77.3.0/24", NULL, &err), -1);
  unit_assert_error_contains(&err, "subnet 10.77.3.0/24 overlaps subnet 10.77.0.0/16 of network `app`");
  assert_int_equal(create(f->e, "app", "10.78.0.0/16", NULL, &err), -1);
  unit_assert_error_contains(&err, "already exists");
  assert_int_equal(create(f->e, "bridge", NULL, NULL, &err), -1);
  unit_assert_error_contains(&err, "pre-defined network name");
  assert_int_equal(create(f->e, "bb", "10.78.0.0/16", "10.79.0.1", &err), -1);
  unit_assert_error_contains(&err, "gateway 10.79.0.1 is not inside subnet 10.78.0.0/16");
  assert_int_equal(create(f->e, "bb", "10.78.1.0/16", NULL, &err), -1);
  unit_assert_error_contains(&err, "host bits set");
  char *opts[] = { (char *) "foo=1", NULL };
  struct berth_network_create o = { .name = "cc", .options = opts };
  berth_network_id_t id;
  assert_int_equal(berth_networks_create(f->e, &o, id, &err), -1);
  unit_assert_error_contains(&err, "-o `foo`: unknown option");
  o = (struct berth_network_create){ .name = "cc", .driver = "macvlan" };
  assert_int_equal(berth_networks_create(f->e, &o, id, &err), -1);
  unit_assert_error_contains(&err, "driver `macvlan` is not supported");
  /* without --subnet: a /24 of the pool; with --ipv6: a /64 too; -o mtu */
  char *mtu[] = { (char *) "mtu=1400", NULL };
  o = (struct berth_network_create){ .name = "auto", .ipv6 = true, .options = mtu, .internal = true };
  assert_int_equal(berth_networks_create(f->e, &o, id, &err), 0);
  assert_int_equal(berth_network_get(f->e, id, &n, &err), 0);
  assert_int_equal(n.n_subnets, 2);
  assert_int_equal(n.row.mtu, 1400);
  assert_true(n.row.internal);
  assert_true(berth_str_has_prefix(n.row.subnet, "10.86."));
  assert_true(berth_str_has_prefix(n.row.subnet6, "fd86:beef:"));
  assert_string_equal(n.row.bridge, "berth2");
  berth_network_release(&n);
  assert_int_equal(berth_network_get(f->e, "nope", &n, &err), -1);
  unit_assert_error_contains(&err, "network `nope` not found");
}

static void test_default(void **state)
{
  struct engine_fx *f = *state;
  berth_error_t err = NULL;
  struct berth_network n;
  assert_int_equal(berth_network_get(f->e, "bridge", &n, &err), 0);
  assert_string_equal(n.row.name, "berth");
  assert_string_equal(n.row.bridge, "berth0");
  assert_string_equal(n.row.subnet, "10.87.0.0/16");
  assert_string_equal(n.row.gateway, "10.87.0.1");
  assert_false(n.row.dns);
  berth_network_id_t first;
  memcpy(first, n.row.id, sizeof first);
  berth_network_release(&n);
  assert_int_equal(berth_network_get(f->e, "default", &n, &err), 0); /* the same, made once */
  assert_string_equal(n.row.id, first);
  berth_network_release(&n);
  assert_int_equal(berth_networks_remove(f->e, "berth", &err), -1);
  unit_assert_error_contains(&err, "is the default network and cannot be removed");
  /* a user network's subnet may not take the default's */
  assert_int_equal(create(f->e, "xx", "10.87.5.0/24", NULL, &err), -1);
  unit_assert_error_contains(&err, "overlaps subnet 10.87.0.0/16 of network `berth`");
}

static void test_resolve(void **state)
{
  struct engine_fx *f = *state;
  berth_error_t err = NULL;
  assert_int_equal(create(f->e, "app", "10.77.0.0/24", NULL, &err), 0);
  const char *cid = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  char *aliases[] = { (char *) "web", (char *) "www", NULL };
  struct berth_network_request req[2] = {
    { .network = (char *) "app",
      .aliases = aliases,
      .ip = (char *) "10.77.0.50",
      .mac = (char *) "02:00:00:00:00:01" },
    { .network = (char *) "bridge" },
  };
  struct berth_db_attachment *a = NULL;
  assert_int_equal(berth_networks_resolve(f->e, cid, req, 2, 0, &a, &err), 0);
  assert_string_equal(a[0].aliases, "web www");
  assert_string_equal(a[0].ip, "10.77.0.50");
  assert_int_equal(a[1].idx, 1);
  berth_db_attachments_free(a, 2);
  const struct {
    struct berth_network_request q;
    const char *msg;
  } bad[] = {
    { { .network = (char *) "nope" }, "network `nope` not found" },
    { { .network = (char *) "app", .ip = (char *) "10.78.0.5" },
      "address 10.78.0.5 is not inside subnet 10.77.0.0/24" },
    { { .network = (char *) "app", .ip = (char *) "10.77.0.1" }, "is reserved" },
    { { .network = (char *) "app", .ip = (char *) "fd00::1" }, "--ip `fd00::1` is not an IPv4 address" },
    { { .network = (char *) "app", .ip6 = (char *) "fd00::1" }, "has no IPv6 subnet" },
    { { .network = (char *) "app", .mac = (char *) "zz" }, "invalid MAC address" },
    { { .network = (char *) "bridge", .aliases = aliases }, "supported only on user networks" },
  };
  for (size_t i = 0; i < BERTH_N_ELEMENTS(bad); i++) {
    a = NULL;
    assert_int_equal(berth_networks_resolve(f->e, cid, &bad[i].q, 1, 0, &a, &err), -1);
    unit_assert_error_contains(&err, bad[i].msg);
    assert_null(a);
  }
  struct berth_network_request twice[2] = { { .network = (char *) "app" }, { .network = (char *) "app" } };
  assert_int_equal(berth_networks_resolve(f->e, cid, twice, 2, 0, &a, &err), -1);
  unit_assert_error_contains(&err, "network `app` is given twice");
}

static void test_ports_wanted(void **state)
{
  json_t *host =
    json_loads("{\"PortBindings\": {\"80/tcp\": [{\"HostIp\": \"127.0.0.1\", \"HostPort\": \"8080\"},"
               " {\"HostIp\": \"\", \"HostPort\": \"\"}], \"53/udp\": [{\"HostPort\": \"5300-5310\"}]},"
               " \"PublishAllPorts\": true}",
               0, NULL);
  json_t *cfg = json_loads("{\"ExposedPorts\": {\"80/tcp\": {}, \"443/tcp\": {}}}", 0, NULL);
  struct berth_net_port *v = NULL;
  size_t n = 0;
  berth_error_t err = NULL;
  assert_int_equal(net_ports_wanted(cfg, host, &v, &n, &err), 0);
  assert_int_equal(n, 4);
  /* jansson keeps insertion order */
  assert_int_equal(v[0].ctr_port, 80);
  assert_int_equal(v[0].host_port, 8080);
  assert_int_equal(v[0].host_ip.family, AF_INET);
  assert_int_equal(v[1].host_port, 0);
  assert_int_equal(v[2].ctr_port, 53);
  assert_int_equal(v[2].proto, BERTH_NET_UDP);
  assert_int_equal(v[2].host_port, 5300);
  assert_int_equal(v[2].host_port_end, 5310);
  assert_int_equal(v[3].ctr_port, 443); /* -P: exposed, not bound */
  free(v);
  json_decref(host);
  host = json_loads("{\"PortBindings\": {\"80/bogus\": [{}]}}", 0, NULL);
  assert_int_equal(net_ports_wanted(cfg, host, &v, &n, &err), -1);
  unit_assert_error_contains(&err, "published ports");
  json_decref(host);
  json_decref(cfg);
}

static void test_inspect(void **state)
{
  struct engine_fx *f = *state;
  berth_error_t err = NULL;
  char *labels[] = { (char *) "a=b", NULL };
  char *subnets[] = { (char *) "10.77.0.0/24", NULL }, *ranges[] = { (char *) "10.77.0.128/25", NULL };
  struct berth_network_create o = {
    .name = "app", .subnets = subnets, .ip_ranges = ranges, .labels = labels
  };
  berth_network_id_t id;
  assert_int_equal(berth_networks_create(f->e, &o, id, &err), 0);
  struct berth_network n;
  assert_int_equal(berth_network_get(f->e, "app", &n, &err), 0);
  json_t *j = berth_network_inspect(f->e, &n, &err);
  assert_non_null(j);
  cleanup_free char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
  assert_non_null(strstr(
    s,
    "\"Config\":[{\"Gateway\":\"10.77.0.1\",\"IPRange\":\"10.77.0.128/25\",\"Subnet\":\"10.77.0.0/24\"}]"));
  assert_non_null(strstr(s, "\"Labels\":{\"a\":\"b\"}"));
  assert_non_null(strstr(s, "\"Containers\":{}"));
  assert_non_null(strstr(s, "\"com.docker.network.bridge.name\":\"berth1\""));
  json_decref(j);
  berth_network_release(&n);
  cleanup_strv char **removed = NULL;
  assert_int_equal(berth_networks_prune(f->e, &removed, &err), 0);
  assert_int_equal(berth_strv_len(removed), 1);
  assert_string_equal(removed[0], "app");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_create, engine_fx_setup, engine_fx_teardown),
    cmocka_unit_test_setup_teardown(test_default, engine_fx_setup, engine_fx_teardown),
    cmocka_unit_test_setup_teardown(test_resolve, engine_fx_setup, engine_fx_teardown),
    cmocka_unit_test(test_ports_wanted),
    cmocka_unit_test_setup_teardown(test_inspect, engine_fx_setup, engine_fx_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
