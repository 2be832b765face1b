/* registry/: the pure parts — WWW-Authenticate parser, retry planner, platform matcher, progress
 * renderer, registries configuration and reference normaliser, base64. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "registry/registry.h"

static void test_challenge_bearer(void **state)
{
  struct berth_auth_challenge *c = NULL;
  size_t n = 0;
  berth_error_t err = NULL;
  assert_int_equal(
    berth_auth_challenges_parse("Bearer realm=\"https://auth.example/token\",service=\"registry.example\","
                                "scope=\"repository:a/b:pull\"",
                                &c, &n, &err),
    0);
  assert_int_equal(n, 1);
  assert_string_equal(c[0].scheme, "bearer");
  assert_string_equal(c[0].realm, "https://auth.example/token");
  assert_string_equal(c[0].service, "registry.example");
  assert_string_equal(c[0].scope, "repository:a/b:pull");
  assert_null(c[0].error);
  berth_auth_challenges_free(c, n);
}

static void test_challenge_several(void **state)
{
  struct berth_auth_challenge *c = NULL;
  size_t n = 0;
  berth_error_t err = NULL;
  assert_int_equal(berth_auth_challenges_parse("Basic realm=\"Registry Realm\", BEARER realm=\"x\\\"y\", "
                                               "error=insufficient_scope , Negotiate abc123==",
                                               &c, &n, &err),
                   0);
  assert_int_equal(n, 3);
  assert_string_equal(c[0].scheme, "basic");
  assert_string_equal(c[0].realm, "Registry Realm");
  assert_string_equal(c[1].scheme, "bearer");
  assert_string_equal(c[1].realm, "x\"y");
  assert_string_equal(c[1].error, "insufficient_scope");
  assert_string_equal(c[2].scheme, "negotiate");
  berth_auth_challenges_free(c, n);
}

static void test_challenge_bad(void **state)
{
  struct berth_auth_challenge *c = NULL;
  size_t n = 0;
  berth_error_t err = NULL;
  assert_int_equal(berth_auth_challenges_parse("", &c, &n, &err), -1);
  unit_assert_error_contains(&err, "no challenge");
  assert_int_equal(berth_auth_challenges_parse("Bearer realm=\"unterminated", &c, &n, &err), -1);
  unit_assert_error_contains(&err, "unterminated quoted string at offset 13");
  assert_int_equal(berth_auth_challenges_parse("Bearer realm", &c, &n, &err), -1);
  unit_assert_error_contains(&err, "expected `=` after `realm`");
  assert_int_equal(berth_auth_challenges_parse("\"x\"", &c, &n, &err), -1);
  unit_assert_error_contains(&err, "expected an auth scheme at offset 0");
}

static void test_retry_plan(void **state)
{
  struct berth_retry_policy p = { 4, 100, 5000 };
  struct berth_retry_input in = { 1, 503, false, NULL, 0 };
  assert_int_equal(berth_retry_plan(&p, &in), 100);
  in.attempt = 3;
  assert_int_equal(berth_retry_plan(&p, &in), 400);
  in.attempt = 4; /* used up */
  assert_int_equal(berth_retry_plan(&p, &in), -1);
  in = (struct berth_retry_input){ 1, 404, false, NULL, 0 };
  assert_int_equal(berth_retry_plan(&p, &in), -1);
  in = (struct berth_retry_input){ 1, 401, false, NULL, 0 };
  assert_int_equal(berth_retry_plan(&p, &in), -1);
  in = (struct berth_retry_input){ 2, 0, true, NULL, 0 };
  assert_int_equal(berth_retry_plan(&p, &in), 200);
  in = (struct berth_retry_input){ 1, 429, false, "3", 0 };
  assert_int_equal(berth_retry_plan(&p, &in), 3000);
  in.retry_after = "99999"; /* capped */
  assert_int_equal(berth_retry_plan(&p, &in), 5000);
  in.retry_after = "Sun, 06 Nov 1994 08:49:39 GMT";
  in.now = 784111777; /* 08:49:37 */
  assert_int_equal(berth_retry_plan(&p, &in), 2000);
  in.retry_after = "soon"; /* unreadable: backoff */
  assert_int_equal(berth_retry_plan(&p, &in), 100);
  assert_int_equal(berth_retry_plan(NULL, &in), 200); /* defaults */
}

static struct berth_index *index_of(const char *json)
{
  struct berth_index *ix = NULL;
  berth_error_t err = NULL;
  assert_int_equal(berth_index_parse(json, strlen(json), "test", &ix, &err), 0);
  return ix;
}

#define ENTRY(d, plat)                                                                                       \
  "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:" d                     \
  "\",\"size\":1," plat "}"
#define D64(c)                                                                                               \
  c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c  \
    c c c c c c c c c c c

static void test_platform_select(void **state)
{
  struct berth_index *ix = index_of("{\"schemaVersion\":2,\"manifests\":[" ENTRY(
    D64("1"),
    "\"platform\":{\"os\":\"linux\","
    "\"architecture\":\"amd64\"}") "," ENTRY(D64("2"),
                                             "\"platform\":{\"os\":\"linux\",\"architecture\":\"arm\","
                                             "\"variant\":\"v6\"}") "," ENTRY(D64("3"),
                                                                              "\"platform\":{\"os\":"
                                                                              "\"linux\","
                                                                              "\"architecture\":"
                                                                              "\"arm\",\"variant\":"
                                                                              "\"v7\"}") "," ENTRY(D64("4"),
                                                                                                   "\"p"
                                                                                                   "lat"
                                                                                                   "for"
                                                                                                   "m\""
                                                                                                   ":{"
                                                                                                   "\"o"
                                                                                                   "s\""
                                                                                                   ":\""
                                                                                                   "lin"
                                                                                                   "ux"
                                                                                                   "\","
                                                                                                   "\"a"
                                                                                                   "rch"
                                                                                                   "ite"
                                                                                                   "ctu"
                                                                                                   "re"
                                                                                                   "\":"
                                                                                                   "\"a"
                                                                                                   "rm6"
                                                                                                   "4\""
                                                                                                   "}") "," ENTRY(D64("5"),
                                                                                                                  "\"platform\":{\"os\":"
                                                                                                                  "\"linux\",\"architecture\":"
                                                                                                                  "\"arm64\",\"variant\":"
                                                                                                                  "\"v8\"}") "," ENTRY(D64("6"),
                                                                                                                                       "\"platf"
                                                                                                                                       "orm\":{"
                                                                                                                                       "\"os\":"
                                                                                                                                       "\"windo"
                                                                                                                                       "ws\","
                                                                                                                                       "\"archi"
                                                                                                                                       "tecture"
                                                                                                                                       "\":"
                                                                                                                                       "\"amd64"
                                                                                                                                       "\","
                                                                                                                                       "\"os."
                                                                                                                                       "version"
                                                                                                                                       "\":"
                                                                                                                                       "\"10.0."
                                                                                                                                       "17763."
                                                                                                                                       "1\"}") "," ENTRY(D64("7"),
                                                                                                                                                         "\"platform\":{\"os\":\"windows\",\"architecture\":\"amd64\",\"os.version\":\"10.0.20348.1\"}") "]}");
  struct berth_platform_want w;
  berth_error_t err = NULL;
  assert_int_equal(berth_platform_want_parse("linux/amd64", &w, &err), 0);
  assert_int_equal(berth_platform_select(ix, &w), 0);
  assert_int_equal(berth_platform_want_parse("linux/x86_64", &w, &err), 0);
  assert_string_equal(w.arch, "amd64");
  assert_int_equal(berth_platform_select(ix, &w), 0);
  assert_int_equal(berth_platform_want_parse("linux/arm/v7", &w, &err), 0);
  assert_int_equal(berth_platform_select(ix, &w), 2);
  assert_int_equal(berth_platform_want_parse("linux/arm", &w, &err), 0); /* v7 implied */
  assert_int_equal(berth_platform_select(ix, &w), 2);
  assert_int_equal(berth_platform_want_parse("linux/arm/v6", &w, &err), 0);
  assert_int_equal(berth_platform_select(ix, &w), 1);
  assert_int_equal(berth_platform_want_parse("linux/arm64", &w, &err), 0); /* exact v8 beats none */
  assert_int_equal(berth_platform_select(ix, &w), 4);
  assert_int_equal(berth_platform_want_parse("linux/s390x", &w, &err), 0);
  assert_int_equal(berth_platform_select(ix, &w), -1);
  assert_int_equal(berth_platform_want_parse("windows/amd64", &w, &err), 0);
  snprintf(w.os_version, sizeof w.os_version, "10.0.20348.1");
  assert_int_equal(berth_platform_select(ix, &w), 6);
  berth_index_free(ix);
  assert_int_equal(berth_platform_want_parse("linux", &w, &err), -1);
  unit_assert_error_contains(&err, "expected os/arch[/variant]");
  assert_int_equal(berth_platform_want_parse("linux/ARM", &w, &err), -1);
  unit_assert_error_contains(&err, "bad architecture `ARM`");
  assert_int_equal(berth_platform_want_parse("linux/arm/v7/x", &w, &err), -1);
  unit_assert_error_contains(&err, "expected os/arch[/variant]");
  assert_int_equal(berth_platform_want_parse(NULL, &w, &err), 0);
  assert_string_equal(w.os, "linux");
}

static void test_progress(void **state)
{
  char s[16];
  berth_progress_size(12580000, s);
  assert_string_equal(s, "12.58MB");
  berth_progress_size(999, s);
  assert_string_equal(s, "999B");
  struct berth_progress_item it[2] = { { "aaaaaaaaaaaa", BERTH_PROGRESS_ACTIVE, 50, 100, NULL, true },
                                       { "bbbbbbbbbbbb", BERTH_PROGRESS_MOUNTED, 0, 0, "library/x", true } };
  struct berth_progress_view v = { .push = true };
  char *out = berth_progress_render(&v, it, 2);
  assert_string_equal(out, "aaaaaaaaaaaa: Pushing\nbbbbbbbbbbbb: Mounted from library/x\n");
  free(out);
  out = berth_progress_render(&v, it, 2); /* nothing changed: nothing printed */
  assert_string_equal(out, "");
  free(out);
  struct berth_progress_view t = { .tty = true, .width = 120 };
  out = berth_progress_render(&t, it, 2);
  assert_non_null(strstr(out, "aaaaaaaaaaaa: Downloading [=========================>"));
  assert_non_null(strstr(out, "]      50B/100B\n"));
  assert_null(strstr(out, "\033[2A"));
  free(out);
  out = berth_progress_render(&t, it, 2); /* redrawn over the previous lines */
  assert_true(strncmp(out, "\033[2A", 4) == 0);
  free(out);
}

static void test_conf_and_normalize(void **state)
{
  const char *doc =
    "{\"aliases\":{\"mine\":\"127.0.0.1:5000/team/mine\"},\"registry-mirrors\":[\"127.0.0.1:5001\"],"
    "\"mirrors\":{\"quay.io\":[\"http://127.0.0.1:5002\"]},\"insecure-registries\":[\"reg.lan:5000\"]}";
  struct berth_registry_conf c;
  berth_error_t err = NULL;
  assert_int_equal(berth_registry_conf_parse(doc, strlen(doc), "registries.json", &c, &err), 0);
  struct berth_ref r;
  assert_int_equal(berth_registry_normalize(&c, "mine:v2", &r, &err), 0);
  assert_string_equal(r.registry, "127.0.0.1:5000");
  assert_string_equal(r.repository, "team/mine");
  assert_string_equal(r.tag, "v2");
  berth_ref_release(&r);
  assert_int_equal(berth_registry_normalize(&c, "alpine", &r, &err), 0);
  assert_string_equal(r.registry, "docker.io");
  assert_string_equal(r.repository, "library/alpine");
  assert_string_equal(r.tag, "latest");
  berth_ref_release(&r);
  assert_int_equal(berth_registry_normalize(&c, "localhost:5000/mine", &r, &err),
                   0); /* a registry: no alias */
  assert_string_equal(r.repository, "mine");
  berth_ref_release(&r);
  assert_int_equal(berth_registry_normalize(&c, "a/B", &r, &err), -1);
  unit_assert_error_contains(&err, "must be lowercase");
  assert_string_equal(berth_registry_mirrors(&c, "docker.io")[0], "127.0.0.1:5001");
  assert_string_equal(berth_registry_mirrors(&c, "quay.io")[0], "http://127.0.0.1:5002");
  assert_null(berth_registry_mirrors(&c, "ghcr.io"));
  assert_true(berth_registry_is_insecure(&c, "reg.lan:5000"));
  assert_false(berth_registry_is_insecure(&c, "reg.lan:5001"));
  assert_true(berth_registry_is_insecure(&c, "127.0.0.5:80"));
  assert_true(berth_registry_is_insecure(NULL, "localhost:5000"));
  assert_true(berth_registry_is_insecure(NULL, "[::1]:5000"));
  assert_false(berth_registry_is_insecure(NULL, "128.0.0.1"));
  berth_registry_conf_release(&c);
  char *h = berth_registry_wire_host("docker.io");
  assert_string_equal(h, "registry-1.docker.io");
  free(h);
  const char *bad = "{\"aliases\":{\"x\":\"A/B\"}}";
  assert_int_equal(berth_registry_conf_parse(bad, strlen(bad), "r.json", &c, &err), -1);
  unit_assert_error_contains(&err, "r.json: aliases.x:");
  bad = "{\"insecure-registries\":[1]}";
  assert_int_equal(berth_registry_conf_parse(bad, strlen(bad), "r.json", &c, &err), -1);
  unit_assert_error_contains(&err, "insecure-registries");
  bad = "{\"blocked-registries\":\"*\"}";
  assert_int_equal(berth_registry_conf_parse(bad, strlen(bad), "r.json", &c, &err), -1);
  unit_assert_error_contains(&err, "blocked-registries");
}

/* blocked-registries: by name or wire host; "*" every registry off loopback */
static void test_conf_blocked(void **state)
{
  const char *doc = "{\"blocked-registries\":[\"docker.io\",\"quay.io:443\"]}";
  struct berth_registry_conf c;
  berth_error_t err = NULL;
  assert_int_equal(berth_registry_conf_parse(doc, strlen(doc), "registries.json", &c, &err), 0);
  assert_true(berth_registry_is_blocked(&c, "docker.io"));
  assert_true(berth_registry_is_blocked(&c, "registry-1.docker.io"));
  assert_true(berth_registry_is_blocked(&c, "index.docker.io"));
  assert_true(berth_registry_is_blocked(&c, "quay.io:443"));
  assert_false(berth_registry_is_blocked(&c, "quay.io"));
  assert_false(berth_registry_is_blocked(&c, "ghcr.io"));
  assert_false(berth_registry_is_blocked(NULL, "docker.io"));
  berth_registry_conf_release(&c);
  doc = "{\"blocked-registries\":[\"*\"]}";
  assert_int_equal(berth_registry_conf_parse(doc, strlen(doc), "registries.json", &c, &err), 0);
  assert_true(berth_registry_is_blocked(&c, "docker.io"));
  assert_true(berth_registry_is_blocked(&c, "10.0.0.1:5000"));
  assert_true(berth_registry_is_blocked(&c, "localhost.example.com"));
  assert_false(berth_registry_is_blocked(&c, "127.0.0.1:5000"));
  assert_false(berth_registry_is_blocked(&c, "localhost:5000"));
  assert_false(berth_registry_is_blocked(&c, "[::1]:5000"));
  berth_registry_conf_release(&c);
}

static void test_auth_keys_and_base64(void **state)
{
  assert_true(berth_registry_auth_key_matches("https://index.docker.io/v1/", "docker.io"));
  assert_true(berth_registry_auth_key_matches("docker.io", "docker.io"));
  assert_true(berth_registry_auth_key_matches("127.0.0.1:5000", "127.0.0.1:5000"));
  assert_true(berth_registry_auth_key_matches("http://127.0.0.1:5000/v2/", "127.0.0.1:5000"));
  assert_false(berth_registry_auth_key_matches("127.0.0.1:5000", "127.0.0.1:500"));
  assert_false(berth_registry_auth_key_matches("127.0.0.1", "127.0.0.1:5000"));
  const char *in[] = { "", "f", "fo", "foo", "user:p@ss:word" };
  const char *out[] = { "", "Zg==", "Zm8=", "Zm9v", "dXNlcjpwQHNzOndvcmQ=" };
  for (size_t i = 0; i < 5; i++) {
    char *e = berth_base64_encode(in[i], strlen(in[i]));
    assert_string_equal(e, out[i]);
    size_t len = 0;
    char *d = berth_base64_decode(e, &len);
    assert_int_equal(len, strlen(in[i]));
    assert_memory_equal(d, in[i], len);
    free(d);
    free(e);
  }
  size_t len;
  assert_null(berth_base64_decode("Zm9", &len));
  assert_null(berth_base64_decode("Z=9v", &len));
  assert_null(berth_base64_decode("Zm9v!A==", &len));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_challenge_bearer),     cmocka_unit_test(test_challenge_several),
    cmocka_unit_test(test_challenge_bad),        cmocka_unit_test(test_retry_plan),
    cmocka_unit_test(test_platform_select),      cmocka_unit_test(test_progress),
    cmocka_unit_test(test_conf_and_normalize),   cmocka_unit_test(test_conf_blocked),
    cmocka_unit_test(test_auth_keys_and_base64),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
