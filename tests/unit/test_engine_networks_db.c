/* The catalogue's networks (schema 3): rows and lookup, attachments, leases unique per network,
 * published ports unique per host address and port, what goes with a container, what stops a
 * network's removal. */
#include "unit.h"

#include "fixtures.h"

#include <stdio.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/strutil.h"
#include "engine/catalogue/catalogue.h"

static const char *hex(char c)
{
  static char bufs[4][65];
  static int n;
  char *b = bufs[n++ % 4];
  memset(b, c, 64);
  b[64] = '\0';
  return b;
}

static void begin(struct berth_db *db)
{
  berth_error_t err = NULL;
  assert_int_equal(berth_db_begin(db, &err), 0);
}

static void commit(struct berth_db *db)
{
  berth_error_t err = NULL;
  assert_int_equal(berth_db_commit(db, &err), 0);
}

/* an image and container `id` using it */
static void add_container(struct berth_db *db, char id, const char *name)
{
  berth_error_t err = NULL;
  begin(db);
  if (berth_db_blob_put(db, dg('i'), 10, "", &err) < 0)
    fail();
  struct berth_db_image img = { .nlayers = 0 };
  snprintf(img.id, sizeof img.id, "%s", dg('i'));
  assert_true(berth_db_image_put(db, &img, &err) >= 0);
  struct berth_db_container c = { .name = (char *) name, .image = (char *) "img", .created = 1 };
  snprintf(c.id, sizeof c.id, "%s", hex(id));
  snprintf(c.image_id, sizeof c.image_id, "%s", dg('i'));
  assert_int_equal(berth_db_container_put(db, &c, NULL, 0, &err), 0);
  commit(db);
  unit_assert_no_error(&err);
}

static int add_network(struct berth_db *db, char id, const char *name, const char *bridge, berth_error_t *err)
{
  struct berth_db_network n = { .name = (char *) name,
                                .driver = (char *) "bridge",
                                .bridge = (char *) bridge,
                                .subnet = (char *) "10.86.0.0/24",
                                .gateway = (char *) "10.86.0.1",
                                .dns = true,
                                .created = 7 };
  snprintf(n.id, sizeof n.id, "%s", hex(id));
  begin(db);
  int r = berth_db_network_put(db, &n, err);
  if (r < 0)
    berth_db_rollback(db);
  else
    commit(db);
  return r;
}

static void test_networks(void **state)
{
  struct db_fx *f = *state;
  berth_error_t err = NULL;
  assert_int_equal(add_network(f->db, 'a', "app", "berth1", &err), 0);
  assert_int_equal(add_network(f->db, 'b', "web", "berth2", &err), 0);
  assert_int_equal(add_network(f->db, 'c', "app", "berth3", &err), -1);
  unit_assert_error_contains(&err, "network with name `app`");
  assert_int_equal(add_network(f->db, 'c', "other", "berth2", &err), -1);
  unit_assert_error_contains(&err, "already exists");
  struct berth_db_network n;
  assert_int_equal(berth_db_network_get(f->db, hex('a'), &n, &err), 1);
  assert_string_equal(n.name, "app");
  assert_string_equal(n.subnet, "10.86.0.0/24");
  assert_string_equal(n.subnet6, "");
  assert_string_equal(n.labels, "{}");
  assert_true(n.dns);
  assert_false(n.internal);
  berth_db_network_release(&n);
  cleanup_strv char **ids = NULL;
  assert_int_equal(berth_db_network_find(f->db, "web", &ids, &err), 0);
  assert_int_equal(berth_strv_len(ids), 1);
  assert_string_equal(ids[0], hex('b'));
  berth_strv_free(steal_ptr(ids));
  assert_int_equal(berth_db_network_find(f->db, "aaaa", &ids, &err), 0);
  assert_string_equal(ids[0], hex('a'));
  berth_strv_free(steal_ptr(ids));
  assert_int_equal(berth_db_network_find(f->db, "nope", &ids, &err), 0);
  assert_null(ids[0]);
  struct berth_db_network *v;
  size_t k;
  assert_int_equal(berth_db_network_list(f->db, &v, &k, &err), 0);
  assert_int_equal(k, 2);
  assert_string_equal(v[0].name, "app");
  assert_string_equal(v[1].name, "web");
  berth_db_network_list_free(v, k);
}

static void test_attachments_and_leases(void **state)
{
  struct db_fx *f = *state;
  berth_error_t err = NULL;
  add_container(f->db, '1', "one");
  add_container(f->db, '2', "two");
  assert_int_equal(add_network(f->db, 'a', "app", "berth1", &err), 0);
  begin(f->db);
  struct berth_db_attachment a = { .idx = 0, .aliases = (char *) "web w", .ip = (char *) "10.86.0.9" };
  snprintf(a.container_id, sizeof a.container_id, "%s", hex('1'));
  snprintf(a.network_id, sizeof a.network_id, "%s", hex('a'));
  assert_int_equal(berth_db_attachment_put(f->db, &a, &err), 0);
  assert_int_equal(berth_db_attachment_put(f->db, &a, &err), -1);
  unit_assert_error_contains(&err, "is already connected to network");
  snprintf(a.container_id, sizeof a.container_id, "%s", hex('2'));
  assert_int_equal(berth_db_attachment_put(f->db, &a, &err), 0);
  /* leases: one address once per network */
  struct berth_db_lease l = {
    .address = (char *) "10.86.0.2", .ifname = (char *) "eth0", .host_if = (char *) "bv1", .created = 3
  };
  snprintf(l.network_id, sizeof l.network_id, "%s", hex('a'));
  snprintf(l.container_id, sizeof l.container_id, "%s", hex('1'));
  assert_int_equal(berth_db_lease_put(f->db, &l, &err), 0);
  snprintf(l.container_id, sizeof l.container_id, "%s", hex('2'));
  assert_int_equal(berth_db_lease_put(f->db, &l, &err), -1);
  unit_assert_error_contains(&err, "address 10.86.0.2 is already in use");
  l.address = (char *) "10.86.0.3";
  assert_int_equal(berth_db_lease_put(f->db, &l, &err), 0);
  /* ports: one host address and port once */
  struct berth_db_port p = {
    .host_ip = (char *) "", .host_port = 8080, .container_port = 80, .proto = (char *) "tcp"
  };
  snprintf(p.container_id, sizeof p.container_id, "%s", hex('1'));
  assert_int_equal(berth_db_port_put(f->db, &p, &err), 0);
  assert_int_equal(berth_db_port_put(f->db, &p, &err), -1);
  unit_assert_error_contains(&err, "publish port 8080/tcp");
  p.proto = (char *) "udp";
  assert_int_equal(berth_db_port_put(f->db, &p, &err), 0);
  commit(f->db);
  struct berth_db_lease *lv;
  size_t n;
  assert_int_equal(berth_db_leases(f->db, hex('a'), NULL, &lv, &n, &err), 0);
  assert_int_equal(n, 2);
  berth_db_leases_free(lv, n);
  assert_int_equal(berth_db_leases(f->db, NULL, hex('2'), &lv, &n, &err), 0);
  assert_int_equal(n, 1);
  assert_string_equal(lv[0].address, "10.86.0.3");
  berth_db_leases_free(lv, n);
  struct berth_db_attachment *av;
  assert_int_equal(berth_db_attachments_of(f->db, hex('1'), &av, &n, &err), 0);
  assert_int_equal(n, 1);
  assert_string_equal(av[0].aliases, "web w");
  assert_string_equal(av[0].ip, "10.86.0.9");
  berth_db_attachments_free(av, n);
  /* a network with containers attached cannot go */
  begin(f->db);
  assert_int_equal(berth_db_network_delete(f->db, hex('a'), &err), -1);
  unit_assert_error_contains(&err, "delete network");
  berth_db_rollback(f->db);
  cleanup_strv char **users = NULL;
  assert_int_equal(berth_db_network_users(f->db, hex('a'), &users, &err), 0);
  assert_int_equal(berth_strv_len(users), 2);
  /* a container's rows go with it */
  begin(f->db);
  assert_int_equal(berth_db_container_delete(f->db, hex('1'), &err), 1);
  commit(f->db);
  struct berth_db_port *pv;
  assert_int_equal(berth_db_ports(f->db, NULL, &pv, &n, &err), 0);
  assert_int_equal(n, 0);
  berth_db_ports_free(pv, n);
  assert_int_equal(berth_db_leases(f->db, NULL, hex('1'), &lv, &n, &err), 0);
  assert_int_equal(n, 0);
  berth_db_leases_free(lv, n);
  /* leases and attachment of the other, then the network */
  begin(f->db);
  assert_int_equal(berth_db_leases_delete(f->db, hex('2'), NULL, &err), 1);
  assert_int_equal(berth_db_attachment_delete(f->db, hex('2'), hex('a'), &err), 1);
  assert_int_equal(berth_db_network_delete(f->db, hex('a'), &err), 1);
  commit(f->db);
  unit_assert_no_error(&err);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_networks, db_fx_setup, db_fx_teardown),
    cmocka_unit_test_setup_teardown(test_attachments_and_leases, db_fx_setup, db_fx_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
