/* Run options of networks: --network (several by name), -p, -P, --expose, --ip, --ip6,
 * --mac-address, --network-alias; their conflicts with the network modes. */
#include "unit.h"

#include <stdarg.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/strutil.h"
#include "engine/runspec/runspec.h"

static int apply(struct berth_run_opts *o, berth_error_t *err, ...)
{
  va_list ap;
  va_start(ap, err);
  int r = 0;
  for (const char *f = va_arg(ap, const char *); f != NULL && r == 0; f = va_arg(ap, const char *))
    r = berth_runopts_set(o, f, va_arg(ap, const char *), err);
  va_end(ap);
  return r;
}

static void expect_error(const char *flag, const char *value, const char *needle)
{
  struct berth_run_opts o;
  berth_error_t err = NULL;
  berth_runopts_init(&o);
  if (berth_runopts_set(&o, flag, value, &err) == 0) {
    print_error("%s %s: accepted\n", flag, value ? value : "(null)");
    fail();
  }
  unit_assert_error_contains(&err, needle);
  berth_runopts_release(&o);
}

static void test_networks(void **state)
{
  struct berth_run_opts o;
  berth_error_t err = NULL;
  berth_runopts_init(&o);
  assert_int_equal(apply(&o, &err, "--network", "app", "--net", "db.net", "--network", "bridge", NULL), 0);
  assert_int_equal(o.network.mode, BERTH_NSMODE_BRIDGE);
  assert_string_equal(o.network.value, "app");
  assert_int_equal(berth_strv_len(o.networks), 3);
  assert_string_equal(o.networks[1], "db.net");
  assert_string_equal(o.networks[2], "bridge");
  assert_int_equal(apply(&o, &err, "--network", "app", NULL), -1);
  unit_assert_error_contains(&err, "the network is given twice");
  assert_int_equal(apply(&o, &err, "--network", "host", NULL), -1);
  unit_assert_error_contains(&err, "only networks by name may be given more than once");
  assert_int_equal(berth_runopts_validate(&o, &err), 0);
  berth_runopts_release(&o);
  berth_runopts_init(&o);
  assert_int_equal(apply(&o, &err, "--network", "default", NULL), 0);
  assert_int_equal(o.network.mode, BERTH_NSMODE_BRIDGE);
  assert_null(o.network.value);
  berth_runopts_release(&o);
  expect_error("--network", "-x", "unknown network mode \"-x\"");
  expect_error("--network", "a", "unknown network mode \"a\""); /* names have two characters at least */
}

static void test_ports(void **state)
{
  struct berth_run_opts o;
  berth_error_t err = NULL;
  berth_runopts_init(&o);
  assert_int_equal(apply(&o, &err, "-p", "8080:80", "--publish", "127.0.0.1::53/udp", "-P", NULL, "--expose",
                         "443", "--expose", "7000-7002/udp", NULL),
                   0);
  assert_int_equal(berth_strv_len(o.publish), 2);
  assert_string_equal(o.publish[1], "127.0.0.1::53/udp");
  assert_true(o.publish_all);
  assert_int_equal(berth_strv_len(o.expose), 2);
  assert_int_equal(berth_runopts_validate(&o, &err), 0);
  berth_runopts_release(&o);
  expect_error("-p", "8080:80/icmp", "-p: invalid port specification \"8080:80/icmp\": invalid protocol");
  expect_error("-p", "99999", "invalid container port");
  expect_error("--expose", "80:80", "--expose: invalid port \"80:80\"");
  /* -p with none or container: is refused; with host Docker discards it (so does berth) */
  const char *modes[] = { "none", "container:web" };
  for (size_t i = 0; i < 2; i++) {
    berth_runopts_init(&o);
    assert_int_equal(apply(&o, &err, "--network", modes[i], "-p", "80", NULL), 0);
    assert_int_equal(berth_runopts_validate(&o, &err), -1);
    unit_assert_error_contains(&err, "conflicting options: port publishing and the network mode");
    berth_runopts_release(&o);
  }
  berth_runopts_init(&o);
  assert_int_equal(apply(&o, &err, "--network", "host", "-p", "80", NULL), 0);
  assert_int_equal(berth_runopts_validate(&o, &err), 0);
  berth_runopts_release(&o);
}

static void test_addresses(void **state)
{
  struct berth_run_opts o;
  berth_error_t err = NULL;
  berth_runopts_init(&o);
  assert_int_equal(apply(&o, &err, "--network", "app", "--ip", "10.86.0.9", "--ip6", "fd86::9",
                         "--mac-address", "02:42:0a:56:00:09", "--network-alias", "web", "--alias", "www.app",
                         NULL),
                   0);
  assert_string_equal(o.ip, "10.86.0.9");
  assert_string_equal(o.ip6, "fd86::9");
  assert_string_equal(o.mac_address, "02:42:0a:56:00:09");
  assert_int_equal(berth_strv_len(o.network_aliases), 2);
  assert_int_equal(berth_runopts_validate(&o, &err), 0);
  berth_runopts_release(&o);
  expect_error("--ip", "fd86::9", "--ip: \"fd86::9\" is not an IPv4 address");
  expect_error("--ip6", "10.0.0.1", "is not an IPv6 address");
  expect_error("--ip", "10.0.0", "invalid IP address");
  expect_error("--mac-address", "01:00:5e:00:00:01", "multicast");
  expect_error("--network-alias", "a b", "invalid alias");
  berth_runopts_init(&o);
  assert_int_equal(apply(&o, &err, "--network", "host", "--ip", "10.0.0.2", NULL), 0);
  assert_int_equal(berth_runopts_validate(&o, &err), -1);
  unit_assert_error_contains(&err, "need a network, not the network mode host");
  berth_runopts_release(&o);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_networks),
    cmocka_unit_test(test_ports),
    cmocka_unit_test(test_addresses),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
