/* base/cli.h: the one option parser of berth (Docker's dialect) and berth-runtime (runc's). */
#include "unit.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/cli.h"

struct flags {
  bool all, quiet, force;
  const char *name;
  const char **env;
  int count;
  uint64_t size;
  char calls[256];
};

#define OPTS(f)                                                                                              \
  {                                                                                                          \
    { "all", 'a', BERTH_CLI_BOOL, &(f)->all, NULL, "all" },                                                  \
      { "quiet", 'q', BERTH_CLI_BOOL, &(f)->quiet, NULL, "quiet" },                                          \
      { "name", 'n', BERTH_CLI_STRING, &(f)->name, "string", "name" },                                       \
      { "env", 'e', BERTH_CLI_STRINGS, &(f)->env, "list", "env" },                                           \
      { "count", 'c', BERTH_CLI_INT, &(f)->count, "int", "count" },                                          \
      { "size", 0, BERTH_CLI_SIZE, &(f)->size, "bytes", "size" }, { NULL, 0, 0, NULL, NULL, NULL },          \
  }

static int docker(struct flags *f, int argc, char **argv, bool interspersed, int *idx, char **pos, int *npos,
                  bool *help, berth_error_t *err)
{
  const struct berth_cli_opt opts[] = OPTS(f);
  const struct berth_cli p = { .dialect = BERTH_CLI_DOCKER, .opts = opts, .interspersed = interspersed };
  *idx = 1;
  return berth_cli_parse(&p, argc, argv, idx, pos, npos, help, err);
}

static void test_docker_interspersed(void **state)
{
  struct flags f = { 0 };
  char *argv[] = {
    "ps", "x", "-qa", "--name=web", "-e", "A=1", "y", "-eB=2", "--size", "2k", "--", "-z", NULL
  };
  char *pos[16] = { 0 };
  int idx, npos = 0;
  bool help = false;
  berth_error_t err = NULL;
  assert_int_equal(docker(&f, 12, argv, true, &idx, pos, &npos, &help, &err), 0);
  assert_true(f.all && f.quiet && !help);
  assert_string_equal(f.name, "web");
  assert_string_equal(f.env[0], "A=1");
  assert_string_equal(f.env[1], "B=2");
  assert_null(f.env[2]);
  assert_int_equal(f.size, 2048);
  assert_int_equal(npos, 3);
  assert_string_equal(pos[0], "x");
  assert_string_equal(pos[1], "y");
  assert_string_equal(pos[2], "-z"); /* after "--" */
  assert_int_equal(idx, 12);
  free(f.env);
}

static void test_docker_stops_at_positional(void **state)
{
  struct flags f = { 0 };
  char *argv[] = { "exec", "-a", "ctr", "-q", NULL };
  int idx;
  bool help = false;
  berth_error_t err = NULL;
  assert_int_equal(docker(&f, 4, argv, false, &idx, NULL, NULL, &help, &err), 0);
  assert_true(f.all && !f.quiet);
  assert_int_equal(idx, 2);
  char *argv2[] = { "exec", "-a", "--", "ctr", NULL };
  assert_int_equal(docker(&f, 4, argv2, false, &idx, NULL, NULL, &help, &err), 0);
  assert_int_equal(idx, 3);
}

static void test_docker_errors(void **state)
{
  struct flags f = { 0 };
  int idx, npos = 0;
  bool help = false;
  char *pos[8];
  berth_error_t err = NULL;
  char *a1[] = { "ps", "--bogus=1", NULL };
  assert_int_equal(docker(&f, 2, a1, true, &idx, pos, &npos, &help, &err), -1);
  unit_assert_error_contains(&err, "unknown flag: --bogus");
  char *a2[] = { "ps", "-qz", NULL };
  assert_int_equal(docker(&f, 2, a2, true, &idx, pos, &npos, &help, &err), -1);
  unit_assert_error_contains(&err, "unknown shorthand flag: 'z' in -qz");
  char *a3[] = { "ps", "--name", NULL };
  assert_int_equal(docker(&f, 2, a3, true, &idx, pos, &npos, &help, &err), -1);
  unit_assert_error_contains(&err, "flag needs an argument: --name");
  char *a4[] = { "ps", "-n", NULL };
  assert_int_equal(docker(&f, 2, a4, true, &idx, pos, &npos, &help, &err), -1);
  unit_assert_error_contains(&err, "flag needs an argument: 'n' in -n");
  char *a5[] = { "ps", "--all=maybe", NULL };
  assert_int_equal(docker(&f, 2, a5, true, &idx, pos, &npos, &help, &err), -1);
  unit_assert_error_contains(&err, "invalid argument `maybe` for --all: expected true or false");
  char *a6[] = { "ps", "--size=10q", NULL };
  assert_int_equal(docker(&f, 2, a6, true, &idx, pos, &npos, &help, &err), -1);
  unit_assert_error_contains(&err, "invalid argument `10q` for --size: expected a size (4096, 512m, 2g)");
  char *a7[] = { "ps", "-ah", "--all=false", NULL };
  assert_int_equal(docker(&f, 3, a7, true, &idx, pos, &npos, &help, &err), 0);
  assert_true(help);
  assert_false(f.all);
}

static int record(void *data, const char *flag, const char *value, berth_error_t *err)
{
  struct flags *f = data;
  size_t n = strlen(f->calls);
  snprintf(f->calls + n, sizeof f->calls - n, "%s=%s;", flag, value ? value : "(none)");
  return 0;
}

/* run's flags: a table of calls; 'h' taken by an option is no help */
static void test_docker_calls(void **state)
{
  struct flags f = { 0 };
  const struct berth_cli_opt opts[] = {
    { "hostname", 'h', BERTH_CLI_CALL, NULL, "value", "Container host name" },
    { "interactive", 'i', BERTH_CLI_CALL, NULL, NULL, "Keep STDIN open" },
    { "tty", 't', BERTH_CLI_CALL, NULL, NULL, "Allocate a pseudo-TTY" },
    { "net", 0, BERTH_CLI_CALL, NULL, "value", NULL },
    { NULL, 0, 0, NULL, NULL, NULL },
  };
  const struct berth_cli p = { .dialect = BERTH_CLI_DOCKER, .opts = opts, .call = record, .call_data = &f };
  char *argv[] = { "run", "-it", "-h", "box", "--net=host", "--tty=false", "busybox", "sh", NULL };
  int idx = 1;
  bool help = false;
  berth_error_t err = NULL;
  assert_int_equal(berth_cli_parse(&p, 8, argv, &idx, NULL, NULL, &help, &err), 0);
  assert_false(help);
  assert_int_equal(idx, 6);
  assert_string_equal(f.calls, "-i=(none);-t=(none);-h=box;--net=host;--tty=false;");
}

static void test_runc(void **state)
{
  struct flags f = { 0 };
  const struct berth_cli_opt opts[] = OPTS(&f);
  const struct berth_cli p = { .dialect = BERTH_CLI_RUNC, .opts = opts };
  char *argv[] = { "create", "-name", "x", "--count=3", "-a", "-q", "id", "--all", NULL };
  int idx = 1;
  bool help = false;
  berth_error_t err = NULL;
  assert_int_equal(berth_cli_parse(&p, 8, argv, &idx, NULL, NULL, &help, &err), 0);
  assert_string_equal(f.name, "x");
  assert_int_equal(f.count, 3);
  assert_true(f.all && f.quiet && !help);
  assert_int_equal(idx, 6); /* options end at "id" */
  char *a2[] = { "create", "-qa", NULL };
  idx = 1;
  assert_int_equal(berth_cli_parse(&p, 2, a2, &idx, NULL, NULL, &help, &err), -1);
  unit_assert_error_contains(&err, "unknown option `-qa` (see --help)");
  char *a3[] = { "create", "--count", NULL };
  idx = 1;
  assert_int_equal(berth_cli_parse(&p, 2, a3, &idx, NULL, NULL, &help, &err), -1);
  unit_assert_error_contains(&err, "option `--count` needs a value");
  char *a4[] = { "create", "--count=many", NULL };
  idx = 1;
  assert_int_equal(berth_cli_parse(&p, 2, a4, &idx, NULL, NULL, &help, &err), -1);
  unit_assert_error_contains(&err, "--count: invalid number `many`");
  char *a5[] = { "create", "--all=maybe", NULL };
  idx = 1;
  assert_int_equal(berth_cli_parse(&p, 2, a5, &idx, NULL, NULL, &help, &err), -1);
  unit_assert_error_contains(&err, "--all: expected true or false, got `maybe`");
  char *a6[] = { "create", "-help", "--", "-id", NULL };
  idx = 1;
  assert_int_equal(berth_cli_parse(&p, 4, a6, &idx, NULL, NULL, &help, &err), 0);
  assert_true(help);
  assert_int_equal(idx, 3);
}

static void test_parse_size(void **state)
{
  uint64_t v = 0;
  assert_int_equal(berth_cli_parse_size("4096", &v), 0);
  assert_int_equal(v, 4096);
  assert_int_equal(berth_cli_parse_size("512m", &v), 0);
  assert_int_equal(v, 512ULL << 20);
  assert_int_equal(berth_cli_parse_size("1.5GiB", &v), 0);
  assert_int_equal(v, 3ULL << 29);
  assert_int_equal(berth_cli_parse_size("2kb", &v), 0);
  assert_int_equal(v, 2048);
  assert_int_equal(berth_cli_parse_size("-1", &v), -1);
  assert_int_equal(berth_cli_parse_size("1x", &v), -1);
  assert_int_equal(berth_cli_parse_size("", &v), -1);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_docker_interspersed),
    cmocka_unit_test(test_docker_stops_at_positional),
    cmocka_unit_test(test_docker_errors),
    cmocka_unit_test(test_docker_calls),
    cmocka_unit_test(test_runc),
    cmocka_unit_test(test_parse_size),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
