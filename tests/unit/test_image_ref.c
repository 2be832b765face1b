/* References and digests: tables taken from distribution/reference's own tests
 * (normalize_test.go, reference_test.go) — Docker's documented behaviour. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/xalloc.h"
#include "image/digest.h"
#include "image/reference.h"
#include "unit.h"

#define HEX64 "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
#define DBCC  "dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c"

struct ok_case {
  const char *in;
  const char *full;     /* berth_ref_string */
  const char *familiar; /* berth_ref_familiar */
  const char *registry;
  const char *repository;
};

static const struct ok_case ok_cases[] = {
  { "busybox", "docker.io/library/busybox:latest", "busybox:latest", "docker.io", "library/busybox" },
  { "debian", "docker.io/library/debian:latest", "debian:latest", "docker.io", "library/debian" },
  { "library/debian", "docker.io/library/debian:latest", "debian:latest", "docker.io", "library/debian" },
  { "docker/docker", "docker.io/docker/docker:latest", "docker/docker:latest", "docker.io", "docker/docker" },
  { "docker.io/debian", "docker.io/library/debian:latest", "debian:latest", "docker.io", "library/debian" },
  { "index.docker.io/docker/docker", "docker.io/docker/docker:latest", "docker/docker:latest", "docker.io",
    "docker/docker" },
  { "index.docker.io/debian", "docker.io/library/debian:latest", "debian:latest", "docker.io",
    "library/debian" },
  { "127.0.0.1:5000/docker/docker", "127.0.0.1:5000/docker/docker:latest",
    "127.0.0.1:5000/docker/docker:latest", "127.0.0.1:5000", "docker/docker" },
  { "192.168.0.1", "docker.io/library/192.168.0.1:latest", "192.168.0.1:latest", "docker.io",
    "library/192.168.0.1" },
  { "192.168.0.1:80", "docker.io/library/192.168.0.1:80", "192.168.0.1:80", "docker.io",
    "library/192.168.0.1" },
  { "192.168.0.1:8/debian", "192.168.0.1:8/debian:latest", "192.168.0.1:8/debian:latest", "192.168.0.1:8",
    "debian" },
  { "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
    "docker.io/library/thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev:latest",
    "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev:latest", "docker.io",
    "library/thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev" },
  { "[fc00::1]:5000/docker", "[fc00::1]:5000/docker:latest", "[fc00::1]:5000/docker:latest", "[fc00::1]:5000",
    "docker" },
  { "[fc00:1:2:3:4:5:6:7]:5000/library/debian", "[fc00:1:2:3:4:5:6:7]:5000/library/debian:latest",
    "[fc00:1:2:3:4:5:6:7]:5000/library/debian:latest", "[fc00:1:2:3:4:5:6:7]:5000", "library/debian" },
  { "[2001:db8::1]/repo", "[2001:db8::1]/repo:latest", "[2001:db8::1]/repo:latest", "[2001:db8::1]", "repo" },
  { "docker.io/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
    "docker.io/library/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a:latest",
    "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a:latest", "docker.io",
    "library/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a" },
  /* an upper-case first component is a registry */
  { "Docker/docker", "Docker/docker:latest", "Docker/docker:latest", "Docker", "docker" },
  { "FOO/bar", "FOO/bar:latest", "FOO/bar:latest", "FOO", "bar" },
  { "docker-rules/docker", "docker.io/docker-rules/docker:latest", "docker-rules/docker:latest", "docker.io",
    "docker-rules/docker" },
  { "docker---rules/docker", "docker.io/docker---rules/docker:latest", "docker---rules/docker:latest",
    "docker.io", "docker---rules/docker" },
  { "d/docker", "docker.io/d/docker:latest", "d/docker:latest", "docker.io", "d/docker" },
  { "dock__er/docker", "docker.io/dock__er/docker:latest", "dock__er/docker:latest", "docker.io",
    "dock__er/docker" },
  { "test_com/foo", "docker.io/test_com/foo:latest", "test_com/foo:latest", "docker.io", "test_com/foo" },
  { "test-com:8080/foo", "test-com:8080/foo:latest", "test-com:8080/foo:latest", "test-com:8080", "foo" },
  { "xn--n3h.com:18080/foo", "xn--n3h.com:18080/foo:latest", "xn--n3h.com:18080/foo:latest",
    "xn--n3h.com:18080", "foo" },
  { "localhost/foo", "localhost/foo:latest", "localhost/foo:latest", "localhost", "foo" },
  { "localhost:5000/a/b:v1", "localhost:5000/a/b:v1", "localhost:5000/a/b:v1", "localhost:5000", "a/b" },
  { "docker.io/library/foo/bar", "docker.io/library/foo/bar:latest", "library/foo/bar:latest", "docker.io",
    "library/foo/bar" },
  { "other/library", "docker.io/other/library:latest", "other/library:latest", "docker.io", "other/library" },
  { "lowercase:Uppercase", "docker.io/library/lowercase:Uppercase", "lowercase:Uppercase", "docker.io",
    "library/lowercase" },
  { "b.gcr.io/test.example.com/my-app:test.example.com", "b.gcr.io/test.example.com/my-app:test.example.com",
    "b.gcr.io/test.example.com/my-app:test.example.com", "b.gcr.io", "test.example.com/my-app" },
  { "foo_bar.com:8080", "docker.io/library/foo_bar.com:8080", "foo_bar.com:8080", "docker.io",
    "library/foo_bar.com" },
  { "redis@sha256:" DBCC, "docker.io/library/redis@sha256:" DBCC, "redis@sha256:" DBCC, "docker.io",
    "library/redis" },
  { "dmcgowan/myapp@sha256:" DBCC, "docker.io/dmcgowan/myapp@sha256:" DBCC, "dmcgowan/myapp@sha256:" DBCC,
    "docker.io", "dmcgowan/myapp" },
  { "busybox:latest@sha256:" HEX64, "docker.io/library/busybox:latest@sha256:" HEX64,
    "busybox:latest@sha256:" HEX64, "docker.io", "library/busybox" },
  { "test:5000/repo:tag@sha256:" HEX64, "test:5000/repo:tag@sha256:" HEX64,
    "test:5000/repo:tag@sha256:" HEX64, "test:5000", "repo" },
  { "[2001:db8::1]:5000/repo:tag", "[2001:db8::1]:5000/repo:tag", "[2001:db8::1]:5000/repo:tag",
    "[2001:db8::1]:5000", "repo" },
  { "dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9",
    "docker.io/library/dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9:latest",
    "dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9:latest", "docker.io",
    "library/dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9" },
};

struct bad_case {
  const char *in;
  const char *msg; /* substring of the error */
};

static const struct bad_case bad_cases[] = {
  { "", "empty reference" },
  { "https://github.com/docker/docker", "invalid reference format" },
  { "docker/Docker", "must be lowercase" },
  { "Uppercase:tag", "must be lowercase" },
  { "test:5000/Uppercase/lowercase:tag", "must be lowercase" },
  { "docker.io/docker/Docker", "must be lowercase" },
  { "-docker", "invalid reference format" },
  { "-docker/docker", "invalid reference format" },
  { "-docker.io/docker/docker", "bad registry" },
  { "docker///docker", "invalid reference format" },
  { "docker.io/docker///docker", "invalid reference format" },
  { "[fc00::1]", "invalid tag format `1]`" },
  { "[fc00::1]:5000", "invalid reference" },
  { "fc00::1:5000/debian", "bad registry" },
  { "[fe80::1%eth0]:5000/debian", "bad registry" },
  { "[2001:db8:3:4::192.0.2.33]:5000/debian", "bad registry" },
  { "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a", "64-byte hexadecimal" },
  { "docker-/docker", "invalid reference format" },
  { "-docker-/docker", "invalid reference format" },
  { "____/____", "invalid reference format" },
  { "_docker/_docker", "invalid reference format" },
  { "dock..er/docker", "invalid reference format" },
  { "dock_.er/docker", "invalid reference format" },
  { "dock-.er/docker", "invalid reference format" },
  { "dock___er/docker", "invalid reference format" },
  { "docker/", "invalid reference format" },
  { ":justtag", "invalid reference format" },
  { "@sha256:" HEX64, "invalid reference format" },
  { "aa/asdf$$^/aa", "invalid reference format" },
  /* tags */
  { "busybox:-bad", "invalid tag format" },
  { "busybox:.bad", "invalid tag format" },
  { "busybox:b@d", "invalid digest format" },
  { "busybox:", "invalid tag format" },
  { "busybox:a+b", "invalid tag format" },
  /* digests */
  { "repo@sha256:ffffffffffffffffffffffffffffffffff", "expected 64 hex characters" },
  { "validname@invaliddigest:" HEX64, "unsupported algorithm" },
  { "repo@sha256:" DBCC "00", "expected 64 hex characters" },
  { "repo@sha256:FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF", "upper-case hex" },
  { "repo@sha256", "invalid digest format" },
  { "repo@md5:zz", "invalid digest format" },
};

static void test_ref_ok(void **state)
{
  (void) state;
  for (size_t i = 0; i < BERTH_N_ELEMENTS(ok_cases); i++) {
    const struct ok_case *c = &ok_cases[i];
    struct berth_ref r = { 0 };
    berth_error_t err = NULL;
    if (berth_ref_parse(c->in, &r, &err) < 0) {
      print_error("parse `%s`: %s\n", c->in, err->msg);
      fail();
    }
    cleanup_free char *full = berth_ref_string(&r);
    cleanup_free char *fam = berth_ref_familiar(&r);
    cleanup_free char *name = berth_ref_name(&r);
    cleanup_free char *want_name = xasprintf("%s/%s", c->registry, c->repository);
    if (strcmp(full, c->full) || strcmp(fam, c->familiar) || strcmp(r.registry, c->registry) ||
        strcmp(r.repository, c->repository) || strcmp(name, want_name)) {
      print_error("`%s`: got full `%s` familiar `%s` registry `%s` repo `%s`\n", c->in, full, fam, r.registry,
                  r.repository);
      fail();
    }
    /* the normalized form parses to itself */
    struct berth_ref again = { 0 };
    unit_assert_no_error(&err);
    assert_int_equal(berth_ref_parse(full, &again, &err), 0);
    cleanup_free char *full2 = berth_ref_string(&again);
    assert_string_equal(full, full2);
    berth_ref_release(&again);
    berth_ref_release(&r);
    assert_null(r.registry);
  }
}

static void test_ref_bad(void **state)
{
  (void) state;
  for (size_t i = 0; i < BERTH_N_ELEMENTS(bad_cases); i++) {
    struct berth_ref r = { 0 };
    berth_error_t err = NULL;
    if (berth_ref_parse(bad_cases[i].in, &r, &err) == 0) {
      print_error("`%s` parsed but should not\n", bad_cases[i].in);
      fail();
    }
    assert_null(r.registry);
    assert_null(r.repository);
    if (strstr(err->msg, bad_cases[i].msg) == NULL) {
      print_error("`%s`: error `%s` lacks `%s`\n", bad_cases[i].in, err->msg, bad_cases[i].msg);
      fail();
    }
    berth_error_release(&err);
  }
}

static void test_ref_fields(void **state)
{
  (void) state;
  struct berth_ref r = { 0 };
  berth_error_t err = NULL;
  assert_int_equal(berth_ref_parse("x/y@sha256:" DBCC, &r, &err), 0);
  assert_null(r.tag);
  assert_string_equal(r.digest, "sha256:" DBCC);
  cleanup_free char *s = berth_ref_string(&r);
  assert_string_equal(s, "docker.io/x/y@sha256:" DBCC);
  berth_ref_release(&r);

  assert_int_equal(berth_ref_parse("busybox", &r, &err), 0);
  assert_string_equal(r.tag, "latest");
  assert_null(r.digest);
  berth_ref_release(&r);

  /* the 255-character limit applies to the repository path */
  char long_path[600] = "";
  for (int i = 0; i < 128; i++)
    strcat(long_path, "a/");
  strcat(long_path, "a:tag");
  assert_int_equal(berth_ref_parse(long_path, &r, &err), -1);
  unit_assert_error_contains(&err, "not be more than 255 characters");
  long_path[2 * 127 + 1] = '\0'; /* 127 × "a/" + "a" = 255 characters */
  assert_int_equal(berth_ref_parse(long_path, &r, &err), 0);
  assert_int_equal(strlen(r.repository), 255);
  berth_ref_release(&r);

  /* a 128-character tag is fine, 129 is not */
  char tag[200];
  memset(tag, 't', 128);
  tag[128] = '\0';
  cleanup_free char *t1 = xasprintf("busybox:%s", tag);
  assert_int_equal(berth_ref_parse(t1, &r, &err), 0);
  berth_ref_release(&r);
  cleanup_free char *t2 = xasprintf("busybox:%st", tag);
  assert_int_equal(berth_ref_parse(t2, &r, &err), -1);
  unit_assert_error_contains(&err, "invalid tag format");
  berth_ref_release(NULL);
}

static void test_digest(void **state)
{
  (void) state;
  char d[BERTH_DIGEST_LEN + 1];
  berth_digest_bytes("", 0, d);
  assert_string_equal(d, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  berth_digest_bytes("abc", 3, d);
  assert_string_equal(d, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  assert_string_equal(berth_digest_hex(d),
                      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");

  /* streaming in pieces equals one shot */
  char big[100000];
  for (size_t i = 0; i < sizeof big; i++)
    big[i] = (char) (i * 7);
  char one[BERTH_DIGEST_LEN + 1], many[BERTH_DIGEST_LEN + 1];
  berth_digest_bytes(big, sizeof big, one);
  berth_digester_t *g = berth_digester_new();
  for (size_t off = 0; off < sizeof big; off += 999)
    berth_digester_update(g, big + off, sizeof big - off < 999 ? sizeof big - off : 999);
  berth_digester_final(g, many);
  berth_digester_free(g);
  berth_digester_free(NULL);
  assert_string_equal(one, many);

  berth_error_t err = NULL;
  assert_int_equal(berth_digest_validate(d, &err), 0);
  assert_null(err);
  const struct bad_case bad[] = {
    { "", "empty digest" },
    { "ba7816bf", "missing algorithm" },
    { "sha512:" HEX64, "unsupported algorithm `sha512`" },
    { "sha256:abc", "expected 64 hex characters, got 3" },
    { "sha256:" HEX64 "0", "expected 64 hex characters, got 65" },
    { "sha256:" DBCC "\n", "not a hex character" },
    { "sha256:Ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
      "upper-case hex at offset 7" },
    { "sha256:g"
      "a7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
      "not a hex character" },
  };
  for (size_t i = 0; i < BERTH_N_ELEMENTS(bad); i++) {
    assert_int_equal(berth_digest_validate(bad[i].in, &err), -1);
    unit_assert_error_contains(&err, bad[i].msg);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_ref_ok),
    cmocka_unit_test(test_ref_bad),
    cmocka_unit_test(test_ref_fields),
    cmocka_unit_test(test_digest),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
