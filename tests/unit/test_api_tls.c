/* api/tls_check.c and the address rules of api/server.c: who a tcp:// address may serve, how the
 * TLS flags go together, what a PEM file holds. */
#include "unit.h"

#include <string.h>

#include "api/api.h"

static const char cert[] = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
static const char key[] = "-----BEGIN PRIVATE KEY-----\r\nMIGH\r\n-----END PRIVATE KEY-----\r\n";

static void test_loopback(void **state)
{
  assert_true(berth_api_host_is_loopback("127.0.0.1"));
  assert_true(berth_api_host_is_loopback("127.255.3.4"));
  assert_true(berth_api_host_is_loopback("localhost"));
  assert_true(berth_api_host_is_loopback("::1"));
  assert_true(berth_api_host_is_loopback("::ffff:127.0.0.1"));
  assert_false(berth_api_host_is_loopback("0.0.0.0"));
  assert_false(berth_api_host_is_loopback("::"));
  assert_false(berth_api_host_is_loopback("128.0.0.1"));
  assert_false(berth_api_host_is_loopback("::ffff:10.0.0.1"));
  assert_false(berth_api_host_is_loopback("localhost.example"));
  assert_false(berth_api_host_is_loopback(""));
}

static void test_tls_opts(void **state)
{
  berth_error_t err = NULL;
  struct berth_api_tls_opts t = { 0 };
  assert_false(berth_api_tls_on(&t));
  assert_int_equal(berth_api_tls_opts_check(&t, &err), 0); /* no TLS */
  t.verify = true;
  assert_true(berth_api_tls_on(&t));
  assert_int_equal(berth_api_tls_opts_check(&t, &err), -1);
  unit_assert_error_contains(&err, "--tlscert FILE --tlskey FILE");
  t.cert = "c.pem";
  assert_int_equal(berth_api_tls_opts_check(&t, &err), -1);
  unit_assert_error_contains(&err, "--tlskey is missing");
  t.cert = NULL, t.key = "k.pem";
  assert_int_equal(berth_api_tls_opts_check(&t, &err), -1);
  unit_assert_error_contains(&err, "--tlscert is missing");
  t.cert = "c.pem";
  assert_int_equal(berth_api_tls_opts_check(&t, &err), -1);
  unit_assert_error_contains(&err, "--tlsverify needs --tlscacert");
  t.cacert = "ca.pem";
  assert_int_equal(berth_api_tls_opts_check(&t, &err), 0);
  t.verify = false; /* a CA without --tlsverify would look like client authentication */
  assert_int_equal(berth_api_tls_opts_check(&t, &err), -1);
  unit_assert_error_contains(&err, "--tlscacert is used only with --tlsverify");
  t.cacert = NULL; /* server-only TLS */
  assert_int_equal(berth_api_tls_opts_check(&t, &err), 0);
  struct berth_api_tls_opts only_key = { .key = "k.pem" };
  assert_true(berth_api_tls_on(&only_key));
}

/* parse s with o: 0, or -1 with the message containing want */
static void address(const char *s, const struct berth_api_opts *o, const char *want)
{
  struct berth_api_address a;
  berth_error_t err = NULL;
  int r = berth_api_address_parse(s, o, &a, &err);
  if (want == NULL) {
    unit_assert_no_error(&err);
    assert_int_equal(r, 0);
    berth_api_address_release(&a);
  } else {
    assert_int_equal(r, -1);
    unit_assert_error_contains(&err, want);
  }
}

static void test_addresses(void **state)
{
  struct berth_api_opts plain = { 0 }, insecure = { .tcp_insecure_loopback = true };
  struct berth_api_opts verify = { .tls = { .verify = true, .cacert = "ca", .cert = "c", .key = "k" } };
  struct berth_api_opts server_only = { .tls = { .cert = "c", .key = "k" } };
  struct berth_api_opts server_only_insecure = { .tcp_insecure_loopback = true,
                                                 .tls = { .tls = true, .cert = "c", .key = "k" } };
  address("unix:///run/berth/docker.sock", &plain, NULL);
  address("unix:///run/berth/docker.sock", &verify, "are for tcp:// addresses");
  address("unix:///run/berth/docker.sock", &server_only, "are for tcp:// addresses");
  /* plain TCP: loopback, and only when meant */
  address("tcp://127.0.0.1:2375", &plain,
          "pass --tlsverify with client certificates, or --insecure-loopback");
  address("tcp://127.0.0.1:2375", &insecure, NULL);
  address("tcp://[::1]:2375", &insecure, NULL);
  address("tcp://0.0.0.0:2375", &insecure,
          "no TLS; berth serves a non-loopback address only with TLS client");
  /* client certificates: any address */
  address("tcp://0.0.0.0:2376", &verify, NULL);
  address("tcp://10.1.2.3:2376", &verify, NULL);
  address("tcp://[::]:2376", &verify, NULL);
  address("tcp://127.0.0.1:2376", &verify, NULL);
  /* TLS without client certificates is no access check: as plain TCP */
  address("tcp://0.0.0.0:2376", &server_only, "TLS without --tlsverify does not authenticate clients");
  address("tcp://0.0.0.0:2376", &server_only_insecure, "TLS without --tlsverify does not authenticate");
  address("tcp://127.0.0.1:2376", &server_only, "--insecure-loopback to mean it");
  address("tcp://127.0.0.1:2376", &server_only_insecure, NULL);
  /* malformed, whatever the flags */
  address("tcp://0.0.0.0", &verify, "expected tcp://HOST:PORT");
  address("tcp://0.0.0.0:99999", &verify, "invalid port");
  address("http://0.0.0.0:2376", &verify, "expected unix:///path or tcp://");
  berth_error_t err = NULL;
  assert_int_equal(berth_api_tcp_allowed("tcp://10.0.0.1:1 (given by systemd)", "10.0.0.1", &insecure, &err),
                   -1);
  unit_assert_error_contains(&err, "(given by systemd)");
}

static void test_pem_scan(void **state)
{
  struct berth_api_pem_info pi;
  char buf[1024];
  snprintf(buf, sizeof buf, "subject=CN=x\n%s%s", cert, cert);
  berth_api_pem_scan(buf, strlen(buf), &pi);
  assert_int_equal(pi.blocks, 2);
  assert_int_equal(pi.certs, 2);
  assert_int_equal(pi.keys, 0);
  assert_false(pi.unterminated);
  berth_api_pem_scan(key, strlen(key), &pi); /* CRLF lines */
  assert_int_equal(pi.keys, 1);
  assert_int_equal(pi.certs, 0);
  const char *rsa =
    "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nxx\n"
    "-----END RSA PRIVATE KEY-----\n";
  berth_api_pem_scan(rsa, strlen(rsa), &pi);
  assert_int_equal(pi.encrypted_keys, 1);
  assert_int_equal(pi.keys, 0);
  const char *pkcs8 = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nxx\n-----END ENCRYPTED PRIVATE KEY-----";
  berth_api_pem_scan(pkcs8, strlen(pkcs8), &pi); /* no final newline */
  assert_int_equal(pi.encrypted_keys, 1);
  const char *open = "-----BEGIN CERTIFICATE-----\nMIIB\n";
  berth_api_pem_scan(open, strlen(open), &pi);
  assert_true(pi.unterminated);
  assert_int_equal(pi.blocks, 0);
  const char *mismatch = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END PRIVATE KEY-----\n";
  berth_api_pem_scan(mismatch, strlen(mismatch), &pi);
  assert_true(pi.unterminated);
  berth_api_pem_scan("-----BEGIN -----\n", 17, &pi); /* no label: not a line of ours */
  assert_int_equal(pi.blocks, 0);
  assert_false(pi.unterminated);
  berth_api_pem_scan(cert, 20, &pi); /* cut inside the BEGIN line: len is the bound */
  assert_int_equal(pi.blocks, 0);
  assert_false(pi.unterminated);
  const char *params = "-----BEGIN EC PARAMETERS-----\nBggq\n-----END EC PARAMETERS-----\n";
  berth_api_pem_scan(params, strlen(params), &pi);
  assert_int_equal(pi.blocks, 1);
  assert_int_equal(pi.keys + pi.certs, 0);
}

static void test_pem_check(void **state)
{
  berth_error_t err = NULL;
  assert_int_equal(berth_api_pem_check("--tlscert", "c.pem", cert, strlen(cert), BERTH_API_PEM_CERT, &err),
                   0);
  assert_int_equal(berth_api_pem_check("--tlscacert", "ca.pem", cert, strlen(cert), BERTH_API_PEM_CA, &err),
                   0);
  assert_int_equal(berth_api_pem_check("--tlskey", "k.pem", key, strlen(key), BERTH_API_PEM_KEY, &err), 0);
  assert_int_equal(berth_api_pem_check("--tlscert", "c.pem", "hello\n", 6, BERTH_API_PEM_CERT, &err), -1);
  unit_assert_error_contains(&err, "--tlscert `c.pem`: not a PEM file");
  assert_int_equal(berth_api_pem_check("--tlscert", "c.pem", "", 0, BERTH_API_PEM_CERT, &err), -1);
  unit_assert_error_contains(&err, "not a PEM file");
  assert_int_equal(berth_api_pem_check("--tlscert", "k.pem", key, strlen(key), BERTH_API_PEM_CERT, &err), -1);
  unit_assert_error_contains(&err, "--tlscert `k.pem`: no certificate in it");
  assert_int_equal(berth_api_pem_check("--tlscacert", "k.pem", key, strlen(key), BERTH_API_PEM_CA, &err), -1);
  unit_assert_error_contains(&err, "--tlscacert `k.pem`: no CA certificate in it");
  assert_int_equal(berth_api_pem_check("--tlskey", "c.pem", cert, strlen(cert), BERTH_API_PEM_KEY, &err), -1);
  unit_assert_error_contains(&err, "--tlskey `c.pem`: no private key in it");
  char two[512];
  snprintf(two, sizeof two, "%s%s", key, key);
  assert_int_equal(berth_api_pem_check("--tlskey", "k.pem", two, strlen(two), BERTH_API_PEM_KEY, &err), -1);
  unit_assert_error_contains(&err, "2 private keys in it");
  const char *enc = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nxx\n-----END ENCRYPTED PRIVATE KEY-----\n";
  assert_int_equal(berth_api_pem_check("--tlskey", "e.pem", enc, strlen(enc), BERTH_API_PEM_KEY, &err), -1);
  unit_assert_error_contains(&err, "--tlskey `e.pem`: the private key is encrypted");
  const char *open = "-----BEGIN CERTIFICATE-----\nMIIB\n";
  assert_int_equal(berth_api_pem_check("--tlscert", "o.pem", open, strlen(open), BERTH_API_PEM_CERT, &err),
                   -1);
  unit_assert_error_contains(&err, "without its matching -----END line");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_loopback), cmocka_unit_test(test_tls_opts),  cmocka_unit_test(test_addresses),
    cmocka_unit_test(test_pem_scan), cmocka_unit_test(test_pem_check),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
