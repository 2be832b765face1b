/* registry/: credentials — auth.json lookup, store and remove (0600), Docker's config.json
 * (auths with Docker Hub's key, credHelpers, credsStore) and a credential helper's protocol. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fs.h"
#include "base/xalloc.h"
#include "registry/registry.h"

static void write_file(const char *path, const char *text)
{
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

static void test_authfile_roundtrip(void **state)
{
  char *dir = unit_mkdtemp();
  char *path = xasprintf("%s/sub/auth.json", dir);
  struct berth_auth_files f = { .authfile = path, .docker_config = "/nonexistent/config.json" };
  struct berth_credentials c = { xstrdup("user"), xstrdup("p@ss:word") }, got;
  berth_error_t err = NULL;
  assert_int_equal(berth_credentials_lookup(&f, "127.0.0.1:5000", &got, &err), 0);
  assert_int_equal(berth_authfile_store(&f, "127.0.0.1:5000", &c, &err), 0);
  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  assert_int_equal(berth_credentials_lookup(&f, "127.0.0.1:5000", &got, &err), 1);
  assert_string_equal(got.username, "user");
  assert_string_equal(got.password, "p@ss:word");
  berth_credentials_release(&got);
  assert_int_equal(berth_credentials_lookup(&f, "127.0.0.1:5001", &got, &err), 0);
  assert_int_equal(berth_authfile_remove(&f, "127.0.0.1:5000", &err), 1);
  assert_int_equal(berth_authfile_remove(&f, "127.0.0.1:5000", &err), 0);
  assert_int_equal(berth_credentials_lookup(&f, "127.0.0.1:5000", &got, &err), 0);
  write_file(path, "{\"auths\":{\"r.example\":{\"auth\":\"bm90LWEtcGFpcg==\"}}}");
  assert_int_equal(berth_credentials_lookup(&f, "r.example", &got, &err), -1);
  unit_assert_error_contains(&err, "auths.r.example.auth: not base64 of `user:password`");
  berth_credentials_release(&c);
  free(path);
  unit_rm_rf(dir);
  free(dir);
}

static void test_docker_config(void **state)
{
  char *dir = unit_mkdtemp();
  char *cfg = xasprintf("%s/config.json", dir), *bin = xasprintf("%s/bin", dir);
  char *helper = xasprintf("%s/docker-credential-unit", bin);
  mkdir(bin, 0755);
  write_file(helper, "#!/bin/sh\nread -r server\n[ \"$1\" = get ] || exit 2\n"
                     "[ \"$server\" = https://index.docker.io/v1/ ] || { echo not found; exit 1; }\n"
                     "echo '{\"ServerURL\":\"x\",\"Username\":\"hub\",\"Secret\":\"from-helper\"}'\n");
  chmod(helper, 0755);
  char *path = xasprintf("%s:%s", bin, getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
  setenv("PATH", path, 1);
  struct berth_auth_files f = { .authfile = "/nonexistent/auth.json", .docker_config = cfg };
  struct berth_credentials got;
  berth_error_t err = NULL;
  write_file(cfg, "{\"auths\":{\"https://index.docker.io/v1/\":{\"auth\":\"dTpw\"}}}");
  assert_int_equal(berth_credentials_lookup(&f, "docker.io", &got, &err), 1);
  assert_string_equal(got.username, "u");
  assert_string_equal(got.password, "p");
  berth_credentials_release(&got);
  write_file(cfg, "{\"credHelpers\":{\"docker.io\":\"unit\"},\"auths\":{\"docker.io\":{\"auth\":\"dTpw\"}}}");
  assert_int_equal(berth_credentials_lookup(&f, "docker.io", &got, &err), 1);
  assert_string_equal(got.username, "hub");
  assert_string_equal(got.password, "from-helper");
  berth_credentials_release(&got);
  write_file(cfg, "{\"credsStore\":\"unit\"}");
  assert_int_equal(berth_credentials_lookup(&f, "quay.io", &got, &err), 0); /* the helper has none */
  write_file(cfg, "{\"credsStore\":\"../evil\"}");
  assert_int_equal(berth_credentials_lookup(&f, "quay.io", &got, &err), -1);
  unit_assert_error_contains(&err, "invalid name");
  free(path);
  free(helper);
  free(bin);
  free(cfg);
  unit_rm_rf(dir);
  free(dir);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_authfile_roundtrip),
    cmocka_unit_test(test_docker_config),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
