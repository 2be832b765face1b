/* Docker-identical presentation: sizes, durations, ellipsis, times, the article's table. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "engine/format.h"

#define ASSERT_FMT(expr, want)                                                                               \
  do {                                                                                                       \
    char *got_ = (expr);                                                                                     \
    assert_string_equal(got_, want);                                                                         \
    free(got_);                                                                                              \
  } while (0)

static void test_sizes(void **state)
{
  ASSERT_FMT(berth_fmt_size(0), "0B");
  ASSERT_FMT(berth_fmt_size(29), "29B");
  ASSERT_FMT(berth_fmt_size(999), "999B");
  ASSERT_FMT(berth_fmt_size(1000), "1kB");
  ASSERT_FMT(berth_fmt_size(1234), "1.23kB");
  ASSERT_FMT(berth_fmt_size(106000000), "106MB");
  ASSERT_FMT(berth_fmt_size(1508000), "1.51MB");
  ASSERT_FMT(berth_fmt_size(4567000000ULL), "4.57GB");
}

static void test_durations(void **state)
{
  ASSERT_FMT(berth_fmt_duration(0), "Less than a second");
  ASSERT_FMT(berth_fmt_duration(-5), "Less than a second");
  ASSERT_FMT(berth_fmt_duration(1), "1 second");
  ASSERT_FMT(berth_fmt_duration(59), "59 seconds");
  ASSERT_FMT(berth_fmt_duration(60), "About a minute");
  ASSERT_FMT(berth_fmt_duration(5 * 60 + 3), "5 minutes");
  ASSERT_FMT(berth_fmt_duration(59 * 60 + 59), "59 minutes");
  ASSERT_FMT(berth_fmt_duration(90 * 60 - 1), "About an hour");
  ASSERT_FMT(berth_fmt_duration(90 * 60), "2 hours");
  ASSERT_FMT(berth_fmt_duration(47 * 3600), "47 hours");
  ASSERT_FMT(berth_fmt_duration(3 * 86400), "3 days");
  ASSERT_FMT(berth_fmt_duration(20 * 86400), "2 weeks");
  ASSERT_FMT(berth_fmt_duration(365 * 86400), "12 months");
  ASSERT_FMT(berth_fmt_duration(3 * 365 * 86400LL), "3 years");
  ASSERT_FMT(berth_fmt_since(1000, 1300), "5 minutes ago");
}

static void test_ellipsis(void **state)
{
  ASSERT_FMT(berth_fmt_ellipsis("abc", 3), "abc");
  ASSERT_FMT(berth_fmt_ellipsis("abcd", 3), "ab\u2026");
  ASSERT_FMT(berth_fmt_ellipsis("/bin/sh -c echo Sat 30 Mar 18:05:24 CET 2019 > /a", 45),
             "/bin/sh -c echo Sat 30 Mar 18:05:24 CET 2019\u2026");
  /* counted in characters, not bytes */
  ASSERT_FMT(berth_fmt_ellipsis("\u00e9\u00e9\u00e9\u00e9", 4), "\u00e9\u00e9\u00e9\u00e9");
  ASSERT_FMT(berth_fmt_ellipsis("\u00e9\u00e9\u00e9\u00e9\u00e9", 4), "\u00e9\u00e9\u00e9\u2026");
}

static void test_rfc3339(void **state)
{
  int64_t ns;
  assert_int_equal(berth_parse_rfc3339("2019-03-30T17:05:24Z", &ns), 0);
  assert_int_equal(ns, 1553965524LL * 1000000000);
  assert_int_equal(berth_parse_rfc3339("2019-03-30T18:05:24.5+01:00", &ns), 0);
  assert_int_equal(ns, 1553965524LL * 1000000000 + 500000000);
  ASSERT_FMT(berth_fmt_rfc3339(ns), "2019-03-30T17:05:24.5Z");
  ASSERT_FMT(berth_fmt_rfc3339(1553965524LL * 1000000000), "2019-03-30T17:05:24Z");
  assert_int_equal(berth_parse_rfc3339("2019-03-30T17:05:24.123456789123Z", &ns), 0);
  assert_int_equal(ns % 1000000000, 123456789);
  assert_int_equal(berth_parse_rfc3339("2019-03-30 17:05:24", &ns), -1);
  assert_int_equal(berth_parse_rfc3339("2019-13-30T17:05:24Z", &ns), -1);
  assert_int_equal(berth_parse_rfc3339("2019-03-30T17:05:24Zx", &ns), -1);
  assert_int_equal(berth_parse_rfc3339("", &ns), -1);
}

/* the `docker history` table of the article, cell by cell */
static void test_article_table(void **state)
{
  static const char *const rows[][5] = {
    { "IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT" },
    { "0122a70ad0a3", "5 minutes ago", "/bin/sh -c echo Sat 30 Mar 18:05:24 CET 2019\u2026", "29B", "" },
    { "6837541a46a5", "5 minutes ago", "/bin/sh -c mkdir /test", "0B", "" },
    { "ebdc13caae1e", "12 months ago", "/bin/sh -c #(nop)  CMD [\"bash\"]", "0B", "" },
    { "<missing>", "12 months ago", "/bin/sh -c #(nop) ADD file:2219cecc89ed69975\u2026", "106MB", "" },
  };
  const char *want =
    "IMAGE               CREATED             CREATED BY                                      SIZE            "
    "    COMMENT\n"
    "0122a70ad0a3        5 minutes ago       /bin/sh -c echo Sat 30 Mar 18:05:24 CET 2019\u2026   29B\n"
    "6837541a46a5        5 minutes ago       /bin/sh -c mkdir /test                          0B\n"
    "ebdc13caae1e        12 months ago       /bin/sh -c #(nop)  CMD [\"bash\"]                 0B\n"
    "<missing>           12 months ago       /bin/sh -c #(nop) ADD file:2219cecc89ed69975\u2026   106MB\n";
  struct berth_table t;
  berth_table_init(&t, 5);
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
    berth_table_add(&t, rows[i]);
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  berth_table_print(&t, f);
  fclose(f);
  berth_table_release(&t);
  assert_string_equal(buf, want);
  free(buf);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_sizes),   cmocka_unit_test(test_durations),     cmocka_unit_test(test_ellipsis),
    cmocka_unit_test(test_rfc3339), cmocka_unit_test(test_article_table),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
