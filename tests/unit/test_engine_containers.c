/* Containers, the pure parts: names and ids, the restart policy's decisions, ps's STATUS and
 * COMMAND, ps filters, the runtime error classification, the log's records and rotation. */
#include "unit.h"

#include <fcntl.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/xalloc.h"
#include "engine/containers/containers.h"
#include "engine/monitor/monitor.h"

static bool matches(const char *re, const char *s)
{
  regex_t r;
  assert_int_equal(regcomp(&r, re, REG_EXTENDED | REG_NOSUB), 0);
  bool ok = regexec(&r, s, 0, NULL, 0) == 0;
  regfree(&r);
  return ok;
}

static void test_names(void **state)
{
  for (int i = 0; i < 200; i++) {
    cleanup_free char *n = berth_ctr_random_name(0);
    assert_true(matches("^[a-z]+_[a-z]+$", n));
    assert_true(berth_engine_name_valid(n));
    assert_string_not_equal(n, "boring_wozniak");
    cleanup_free char *r = berth_ctr_random_name(1);
    assert_true(matches("^[a-z]+_[a-z]+[0-9]$", r));
  }
  assert_true(berth_engine_name_valid("web-1.a_b"));
  assert_true(berth_engine_name_valid("/web"));
  assert_false(berth_engine_name_valid("a"));    /* at least two characters */
  assert_false(berth_engine_name_valid("-web")); /* first: letter or digit */
  assert_false(berth_engine_name_valid("we b"));
  assert_false(berth_engine_name_valid("we/b"));
  assert_false(berth_engine_name_valid(""));
  assert_false(berth_engine_name_valid(NULL));
}

static void test_ids(void **state)
{
  for (int i = 0; i < 200; i++) {
    berth_ctr_id_t id, other;
    berth_engine_new_id(id);
    berth_engine_new_id(other);
    assert_int_equal(strlen(id), 64);
    assert_true(matches("^[0-9a-f]{64}$", id));
    assert_true(strspn(id, "0123456789") < 12); /* the short id is never all digits */
    assert_string_not_equal(id, other);
  }
}

static void test_restart_policy(void **state)
{
  struct berth_ctr_restart_state s = { .policy = BERTH_RESTART_NO };
  int64_t d = -1;
  assert_false(berth_ctr_restart_decide(&s, 1, 0, &d));
  s.policy = BERTH_RESTART_ALWAYS;
  assert_true(berth_ctr_restart_decide(&s, 0, 0, &d));
  assert_int_equal(d, 100); /* the first back-off */
  s.delay_ms = 100;
  assert_true(berth_ctr_restart_decide(&s, 0, 500, &d));
  assert_int_equal(d, 200); /* doubled */
  s.delay_ms = 40000;
  assert_true(berth_ctr_restart_decide(&s, 0, 500, &d));
  assert_int_equal(d, 60000); /* capped at a minute */
  s.delay_ms = 60000;
  assert_true(berth_ctr_restart_decide(&s, 0, 500, &d));
  assert_int_equal(d, 60000);
  assert_true(berth_ctr_restart_decide(&s, 0, 10000, &d));
  assert_int_equal(d, 100); /* a run of 10 s resets it */
  s.manual_stop = true;
  assert_false(berth_ctr_restart_decide(&s, 0, 0, &d)); /* stopped by hand: never */
  s = (struct berth_ctr_restart_state){ .policy = BERTH_RESTART_UNLESS_STOPPED };
  assert_true(berth_ctr_restart_decide(&s, 3, 0, &d));
  s.manual_stop = true;
  assert_false(berth_ctr_restart_decide(&s, 3, 0, &d));
  s = (struct berth_ctr_restart_state){ .policy = BERTH_RESTART_ON_FAILURE, .max_retries = 2 };
  assert_false(berth_ctr_restart_decide(&s, 0, 0, &d)); /* success: no */
  assert_true(berth_ctr_restart_decide(&s, 1, 0, &d));
  s.restart_count = 1;
  assert_true(berth_ctr_restart_decide(&s, 137, 0, &d));
  s.restart_count = 2;
  assert_false(berth_ctr_restart_decide(&s, 1, 0, &d)); /* on-failure:2 used up */
  s.max_retries = 0;
  s.restart_count = 1000;
  assert_true(berth_ctr_restart_decide(&s, 1, 0, &d)); /* unlimited */
}

static void check_status(enum berth_ctr_state st, int64_t code, int64_t started, int64_t finished,
                         const char *want)
{
  const int64_t s = 1000000000;
  int64_t now = 1700000000 * s;
  cleanup_free char *t =
    berth_ctr_status_text(st, code, started ? now - started * s : 0, finished ? now - finished * s : 0, now);
  assert_string_equal(t, want);
}

static void test_status_text(void **state)
{
  check_status(BERTH_CTR_CREATED, 0, 0, 0, "Created");
  check_status(BERTH_CTR_CREATED, 127, 0, 0, "Created"); /* a failed start */
  check_status(BERTH_CTR_RUNNING, 0, 300, 0, "Up 5 minutes");
  check_status(BERTH_CTR_RUNNING, 0, 7200, 0, "Up 2 hours");
  check_status(BERTH_CTR_PAUSED, 0, 3, 0, "Up 3 seconds (Paused)");
  check_status(BERTH_CTR_EXITED, 3, 100, 42, "Exited (3) 42 seconds ago");
  check_status(BERTH_CTR_EXITED, 0, 100, 90000, "Exited (0) 25 hours ago");
  check_status(BERTH_CTR_RESTARTING, 1, 100, 2, "Restarting (1) 2 seconds ago");
  check_status(BERTH_CTR_DEAD, 0, 100, 2, "Dead");
  check_status(BERTH_CTR_REMOVING, 0, 100, 2, "Removal In Progress");
}

static void check_command(const char *config, bool no_trunc, const char *want)
{
  json_t *c = json_loads(config, 0, NULL);
  assert_non_null(c);
  cleanup_free char *t = berth_ctr_command_text(c, no_trunc);
  assert_string_equal(t, want);
  json_decref(c);
}

static void test_command_text(void **state)
{
  check_command("{\"Cmd\":[\"echo\",\"hi\"]}", false, "\"echo hi\"");
  check_command("{\"Entrypoint\":[\"/init\"],\"Cmd\":[\"a\"]}", false, "\"/init a\"");
  check_command("{\"Cmd\":[\"sh\",\"-c\",\"while true; do sleep 1; done\"]}", false,
                "\"sh -c while true; d…\"");
  check_command("{\"Cmd\":[\"sh\",\"-c\",\"while true; do sleep 1; done\"]}", true,
                "\"sh -c while true; do sleep 1; done\"");
  check_command("{\"Cmd\":[\"echo\",\"\\\"q\\\"\"]}", false, "\"echo \\\"q\\\"\"");
  check_command("{\"Cmd\":null}", false, "\"\"");
}

static json_t *config_with(const char *labels)
{
  return json_pack("{s:o}", "Labels", json_loads(labels, 0, NULL));
}

static void test_ps_filters(void **state)
{
  struct berth_ctr_filter *f = NULL;
  berth_error_t err = NULL;
  struct berth_ctr c = { .state = BERTH_CTR_EXITED };
  snprintf(c.row.id, sizeof c.row.id, "%s",
           "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789");
  c.row.name = (char *) "web_1";
  c.row.exit_code = 3;
  c.config = config_with("{\"tier\":\"front\",\"x\":\"\"}");
  char *chain[] = { (char *) "sha256:child", (char *) "sha256:base", NULL };
  char *anc_base[] = { (char *) "sha256:base", NULL }, *anc_other[] = { (char *) "sha256:other", NULL };

  char *f1[] = { (char *) "status=exited", (char *) "name=^web", (char *) "label=tier=front", NULL };
  assert_int_equal(berth_ctr_filter_parse(f1, &f, &err), 0);
  assert_true(berth_ctr_filter_match(f, &c, chain, NULL));
  assert_true(berth_ctr_filter_implies_all(f));
  c.state = BERTH_CTR_RUNNING;
  assert_false(berth_ctr_filter_match(f, &c, chain, NULL));
  berth_ctr_filter_free(f);

  char *f2[] = { (char *) "status=running", (char *) "status=exited", (char *) "label=x",
                 (char *) "id=abcdef", NULL };
  assert_int_equal(berth_ctr_filter_parse(f2, &f, &err), 0);
  assert_true(berth_ctr_filter_match(f, &c, chain, NULL)); /* one status of several */
  berth_ctr_filter_free(f);

  char *f3[] = { (char *) "label=tier=back", NULL };
  assert_int_equal(berth_ctr_filter_parse(f3, &f, &err), 0);
  assert_false(berth_ctr_filter_match(f, &c, chain, NULL));
  assert_false(berth_ctr_filter_implies_all(f));
  berth_ctr_filter_free(f);

  char *f4[] = { (char *) "ancestor=busybox", NULL };
  assert_int_equal(berth_ctr_filter_parse(f4, &f, &err), 0);
  assert_string_equal(berth_ctr_filter_ancestors(f)[0], "busybox");
  assert_true(berth_ctr_filter_match(f, &c, chain, anc_base)); /* an image's parent counts */
  assert_false(berth_ctr_filter_match(f, &c, chain, anc_other));
  assert_false(berth_ctr_filter_match(f, &c, chain, NULL)); /* unknown image: nothing */
  berth_ctr_filter_free(f);

  char *f5[] = { (char *) "exited=3", (char *) "name=/web_1", NULL };
  c.state = BERTH_CTR_EXITED;
  assert_int_equal(berth_ctr_filter_parse(f5, &f, &err), 0);
  assert_true(berth_ctr_filter_match(f, &c, chain, NULL));
  c.row.exit_code = 0;
  assert_false(berth_ctr_filter_match(f, &c, chain, NULL));
  berth_ctr_filter_free(f);

  char *bad1[] = { (char *) "status=sleeping", NULL }, *bad2[] = { (char *) "color=red", NULL };
  char *bad3[] = { (char *) "name", NULL }, *bad4[] = { (char *) "name=(", NULL };
  assert_int_equal(berth_ctr_filter_parse(bad1, &f, &err), -1);
  unit_assert_error_contains(&err, "invalid filter `status=sleeping`");
  assert_int_equal(berth_ctr_filter_parse(bad2, &f, &err), -1);
  unit_assert_error_contains(&err, "invalid filter `color`");
  assert_int_equal(berth_ctr_filter_parse(bad3, &f, &err), -1);
  unit_assert_error_contains(&err, "expected name=value");
  assert_int_equal(berth_ctr_filter_parse(bad4, &f, &err), -1);
  unit_assert_error_contains(&err, "invalid filter `name=(`");
  json_decref(c.config);
}

static void test_start_error_codes(void **state)
{
  assert_int_equal(berth_ctr_start_error_code("exec: \"nope\": executable file not found in $PATH"), 127);
  assert_int_equal(berth_ctr_start_error_code("create: exec: `/x/y`: No such file or directory"), 127);
  assert_int_equal(berth_ctr_start_error_code("exec: `/etc`: not an executable file"), 126);
  assert_int_equal(berth_ctr_start_error_code("exec: \"/etc\": permission denied"), 126);
  assert_int_equal(berth_ctr_start_error_code("exec format error while exec"), 126);
  assert_int_equal(berth_ctr_start_error_code("mount proc: permission denied"), 125);
  assert_int_equal(berth_ctr_start_error_code(""), 125);
  assert_int_equal(berth_ctr_start_error_code(NULL), 125);
}

static void test_log_timestamps(void **state)
{
  char ts[BERTH_LOG_TS_LEN + 1];
  berth_log_format_ts(1554051924123456789LL, ts);
  assert_string_equal(ts, "2019-03-31T17:05:24.123456789Z");
  berth_log_format_ts(0, ts);
  assert_string_equal(ts, "1970-01-01T00:00:00.000000000Z");
  int64_t t = 0;
  assert_int_equal(berth_log_parse_ts("2019-03-31T17:05:24.123456789Z", 30, &t), 0);
  assert_int_equal(t, 1554051924123456789LL);
  assert_int_equal(berth_log_parse_ts("2019-03-31T18:05:24.5+01:00", 27, &t), 0);
  assert_int_equal(t, 1554051924500000000LL);
  assert_int_equal(berth_log_parse_ts("2019-03-31T17:05:24Z", 20, &t), 0);
  assert_int_equal(t, 1554051924000000000LL);
  assert_true(berth_log_parse_ts("2019-03-31 17:05:24Z", 20, &t) < 0);
  assert_true(berth_log_parse_ts("2019-13-31T17:05:24Z", 20, &t) < 0);
  assert_true(berth_log_parse_ts("2019-03-31T17:05:24.Z", 21, &t) < 0);
  assert_true(berth_log_parse_ts("2019-03-31T17:05:24", 19, &t) < 0);
}

static void test_log_records(void **state)
{
  char out[256];
  size_t n = berth_log_format_record(out, 1554051924000000001LL, BERTH_LOG_STDERR, false, "hi there", 8);
  out[n] = '\0';
  assert_string_equal(out, "2019-03-31T17:05:24.000000001Z stderr F hi there\n");
  struct berth_log_record r;
  assert_int_equal(berth_log_parse_record(out, n - 1, &r), 0);
  assert_int_equal(r.time, 1554051924000000001LL);
  assert_int_equal(r.stream, BERTH_LOG_STDERR);
  assert_false(r.partial);
  assert_int_equal(r.len, 8);
  assert_memory_equal(r.data, "hi there", 8);
  const char *p = "2019-03-31T17:05:24Z stdout P ";
  assert_int_equal(berth_log_parse_record(p, strlen(p), &r), 0);
  assert_true(r.partial);
  assert_int_equal(r.len, 0);
  const char *bad[] = { "2019-03-31T17:05:24Z stdin F x", "2019-03-31T17:05:24Z stdout X x", "garbage",
                        "2019-03-31T17:05:24Z stdout F", "" };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    assert_true(berth_log_parse_record(bad[i], strlen(bad[i]), &r) < 0);
}

/* every record of a log file: "<stream> <P|F> <data>" lines */
static char *records(const char *path)
{
  cleanup_free char *text = NULL;
  berth_error_t err = NULL;
  if (berth_read_file(path, 0, &text, NULL, &err) < 0) {
    berth_error_release(&err);
    return xstrdup("(none)");
  }
  char *out = xstrdup("");
  for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
    struct berth_log_record r;
    assert_int_equal(berth_log_parse_record(line, strlen(line), &r), 0);
    char *next =
      xasprintf("%s%s %c %.*s|", out, r.stream ? "err" : "out", r.partial ? 'P' : 'F', (int) r.len, r.data);
    free(out);
    out = next;
  }
  return out;
}

static void test_log_writer_lines(void **state)
{
  cleanup_free char *dir = unit_mkdtemp();
  cleanup_free char *path = xasprintf("%s/container.log", dir);
  static struct berth_logw w;
  assert_int_equal(berth_logw_open(&w, path, 0, 1), 0);
  assert_int_equal(berth_logw_feed(&w, BERTH_LOG_STDOUT, "one\ntw", 6, 1), 0);
  assert_int_equal(berth_logw_feed(&w, BERTH_LOG_STDERR, "e1\n", 3, 2), 0);
  assert_int_equal(berth_logw_feed(&w, BERTH_LOG_STDOUT, "o\n\nthree", 8, 3), 0);
  assert_int_equal(berth_logw_flush(&w, BERTH_LOG_STDOUT, 4), 0); /* the end: what is left is partial */
  assert_int_equal(berth_logw_flush(&w, BERTH_LOG_STDERR, 4), 0); /* nothing pending: nothing written */
  cleanup_free char *got = records(path);
  assert_string_equal(got, "out F one|err F e1|out F two|out F |out P three|");
  /* a line longer than the buffer: P chunks, then the F end */
  cleanup_free char *big = xmalloc(BERTH_LOG_LINE_MAX * 2 + 10);
  memset(big, 'x', BERTH_LOG_LINE_MAX * 2 + 9);
  big[BERTH_LOG_LINE_MAX * 2 + 9] = '\n';
  assert_int_equal(truncate(path, 0), 0);
  berth_logw_close(&w);
  assert_int_equal(berth_logw_open(&w, path, 0, 1), 0);
  assert_int_equal(berth_logw_feed(&w, BERTH_LOG_STDOUT, big, BERTH_LOG_LINE_MAX * 2 + 10, 5), 0);
  berth_logw_close(&w);
  cleanup_free char *text = NULL;
  berth_error_t err = NULL;
  assert_int_equal(berth_read_file(path, 0, &text, NULL, &err), 0);
  assert_non_null(strstr(text, " stdout P x"));
  int lines = 0, partial = 0;
  for (char *l = strtok(text, "\n"); l; l = strtok(NULL, "\n"), lines++)
    partial += strstr(l, " P ") != NULL;
  assert_int_equal(lines, 3);
  assert_int_equal(partial, 2);
  unit_rm_rf(dir);
}

static void test_log_rotation(void **state)
{
  cleanup_free char *dir = unit_mkdtemp();
  cleanup_free char *path = xasprintf("%s/container.log", dir);
  cleanup_free char *p1 = xasprintf("%s.1", path), *p2 = xasprintf("%s.2", path),
                    *p3 = xasprintf("%s.3", path);
  static struct berth_logw w;
  /* each record is 30 + 10 + 5 = 45 bytes: two fit in 100 */
  assert_int_equal(berth_logw_open(&w, path, 100, 3), 0);
  for (int i = 0; i < 7; i++) {
    char line[16];
    snprintf(line, sizeof line, "line%d\n", i);
    assert_int_equal(berth_logw_feed(&w, BERTH_LOG_STDOUT, line, 6, i), 0);
  }
  berth_logw_close(&w);
  cleanup_free char *cur = records(path), *r1 = records(p1), *r2 = records(p2), *r3 = records(p3);
  assert_string_equal(cur, "out F line6|");
  assert_string_equal(r1, "out F line4|out F line5|");
  assert_string_equal(r2, "out F line2|out F line3|");
  assert_string_equal(r3, "(none)"); /* three files in all: line0 and line1 are gone */
  /* max-file 1: the file is truncated */
  unit_rm_rf(dir);
  assert_int_equal(mkdir(dir, 0700), 0);
  assert_int_equal(berth_logw_open(&w, path, 100, 1), 0);
  for (int i = 0; i < 3; i++)
    assert_int_equal(berth_logw_feed(&w, BERTH_LOG_STDERR, "abcde\n", 6, i), 0);
  berth_logw_close(&w);
  cleanup_free char *only = records(path), *none = records(p1);
  assert_string_equal(only, "err F abcde|");
  assert_string_equal(none, "(none)");
  unit_rm_rf(dir);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_names),
    cmocka_unit_test(test_ids),
    cmocka_unit_test(test_restart_policy),
    cmocka_unit_test(test_status_text),
    cmocka_unit_test(test_command_text),
    cmocka_unit_test(test_ps_filters),
    cmocka_unit_test(test_start_error_codes),
    cmocka_unit_test(test_log_timestamps),
    cmocka_unit_test(test_log_records),
    cmocka_unit_test(test_log_writer_lines),
    cmocka_unit_test(test_log_rotation),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
