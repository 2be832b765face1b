/* Image configs (parse, checks, Docker's inspect view) and `import --change`. */
#include "unit.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "engine/images/images.h"

static const char *good =
  "{\"architecture\":\"amd64\",\"os\":\"linux\",\"created\":\"2019-03-30T17:05:24.5Z\","
  "\"config\":{\"Cmd\":[\"sh\"],\"Env\":[\"PATH=/bin\"]},"
  "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:"
  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"]},"
  "\"history\":[{\"created\":\"2019-03-30T17:05:24Z\",\"created_by\":\"/bin/sh -c #(nop) ADD file:x\"},"
  "{\"created_by\":\"CMD\",\"empty_layer\":true}]}";

static void test_parse(void **state)
{
  struct berth_imgconfig c;
  berth_error_t err = NULL;
  assert_int_equal(berth_imgconfig_parse(good, strlen(good), "config.json", &c, &err), 0);
  assert_string_equal(c.os, "linux");
  assert_string_equal(c.arch, "amd64");
  assert_string_equal(c.variant, "");
  assert_int_equal(c.created_ns, 1553965524LL * 1000000000 + 500000000);
  assert_int_equal(c.ndiff, 1);
  assert_int_equal(c.nhistory, 2);
  assert_string_equal(c.history[0].created_by, "/bin/sh -c #(nop) ADD file:x");
  assert_false(c.history[0].empty_layer);
  assert_true(c.history[1].empty_layer);
  assert_null(c.history[1].created);
  json_t *d = berth_imgconfig_docker_config(c.config);
  assert_string_equal(json_string_value(json_array_get(json_object_get(d, "Cmd"), 0)), "sh");
  assert_true(json_is_null(json_object_get(d, "Entrypoint")));
  assert_string_equal(json_string_value(json_object_get(d, "WorkingDir")), "");
  json_decref(d);
  berth_imgconfig_release(&c);
}

static void expect_bad(const char *json, const char *needle)
{
  struct berth_imgconfig c;
  berth_error_t err = NULL;
  assert_int_equal(berth_imgconfig_parse(json, strlen(json), "c.json", &c, &err), -1);
  unit_assert_error_contains(&err, needle);
}

static void test_bad(void **state)
{
  expect_bad("{", "c.json");
  expect_bad("[]", "expected an object");
  expect_bad("{\"os\":\"linux\"}", "rootfs: missing");
  expect_bad("{\"rootfs\":{\"type\":\"tarball\",\"diff_ids\":[]}}", "rootfs.type: expected \"layers\"");
  expect_bad("{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:xyz\"]}}", "rootfs.diff_ids[0]");
  expect_bad("{\"created\":\"yesterday\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}",
             "created: expected an RFC 3339 time");
  expect_bad("{\"os\":7,\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}", "os");
  expect_bad("{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]},\"history\":[{\"empty_layer\":\"yes\"}]}",
             "history[0].empty_layer");
}

static json_t *changed(const char *const *changes, berth_error_t *err)
{
  json_t *c = json_object();
  if (berth_imgconfig_apply_changes(c, (char *const *) changes, err) < 0) {
    json_decref(c);
    return NULL;
  }
  return c;
}

static void assert_json(json_t *v, const char *want)
{
  char *s = json_dumps(v, JSON_SORT_KEYS | JSON_COMPACT);
  assert_string_equal(s, want);
  free(s);
}

static void test_changes(void **state)
{
  berth_error_t err = NULL;
  const char *const c1[] = { "CMD [\"/bin/sh\", \"-c\", \"echo hi\"]",
                             "ENV A=1 B=\"two words\"",
                             "env A 3 4",
                             "WORKDIR /srv",
                             "workdir app",
                             "USER nobody",
                             "LABEL a=b c='d e'",
                             "EXPOSE 80 53/udp",
                             "VOLUME /data /logs",
                             "STOPSIGNAL SIGINT",
                             NULL };
  json_t *c = changed(c1, &err);
  unit_assert_no_error(&err);
  assert_json(json_object_get(c, "Cmd"), "[\"/bin/sh\",\"-c\",\"echo hi\"]");
  assert_json(json_object_get(c, "Env"), "[\"A=3 4\",\"B=two words\"]");
  assert_string_equal(json_string_value(json_object_get(c, "WorkingDir")), "/srv/app");
  assert_string_equal(json_string_value(json_object_get(c, "User")), "nobody");
  assert_json(json_object_get(c, "Labels"), "{\"a\":\"b\",\"c\":\"d e\"}");
  assert_json(json_object_get(c, "ExposedPorts"), "{\"53/udp\":{},\"80/tcp\":{}}");
  assert_json(json_object_get(c, "Volumes"), "{\"/data\":{},\"/logs\":{}}");
  assert_string_equal(json_string_value(json_object_get(c, "StopSignal")), "SIGINT");
  json_decref(c);

  /* shell form; ENTRYPOINT clears a CMD not given by these changes, keeps one given before it */
  const char *const c2[] = { "ENTRYPOINT top -b", "EXPOSE 8000-8002/tcp", "VOLUME [\"/v\"]", NULL };
  c = changed(c2, &err);
  assert_json(json_object_get(c, "Entrypoint"), "[\"/bin/sh\",\"-c\",\"top -b\"]");
  assert_true(json_is_null(json_object_get(c, "Cmd")));
  assert_json(json_object_get(c, "ExposedPorts"), "{\"8000/tcp\":{},\"8001/tcp\":{},\"8002/tcp\":{}}");
  assert_json(json_object_get(c, "Volumes"), "{\"/v\":{}}");
  json_decref(c);
  const char *const c3[] = { "CMD [\"x\"]", "ENTRYPOINT [\"e\"]", NULL };
  c = changed(c3, &err);
  assert_json(json_object_get(c, "Cmd"), "[\"x\"]");
  json_decref(c);
}

static void test_bad_changes(void **state)
{
  static const struct {
    const char *change, *needle;
  } cases[] = {
    { "RUN echo", "change `RUN echo`: RUN is not a valid change command" },
    { "FROM x", "FROM is not a valid change command" },
    { "", "empty instruction" },
    { "ENV", "ENV requires at least one argument" },
    { "ENV A", "needs a value" },
    { "ENV =x", "is not key=value" },
    { "LABEL a=\"b", "unterminated quote" },
    { "EXPOSE 70000", "invalid port `70000`" },
    { "EXPOSE 80/icmp", "invalid port" },
    { "EXPOSE 90-80", "invalid port" },
    { "USER a b", "USER requires exactly one argument" },
    { "WORKDIR", "WORKDIR requires exactly one argument" },
    { "VOLUME [\"\"]", "can not be an empty string" },
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    berth_error_t err = NULL;
    const char *const ch[] = { cases[i].change, NULL };
    json_t *c = changed(ch, &err);
    assert_null(c);
    unit_assert_error_contains(&err, cases[i].needle);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_parse),
    cmocka_unit_test(test_bad),
    cmocka_unit_test(test_changes),
    cmocka_unit_test(test_bad_changes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
