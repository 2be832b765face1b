/* top's and stats' arithmetic (engine/containers/containers.h): ps -ef's STIME, TIME and TTY columns,
 * Docker's CPU % between two samples and memory %. */
#include "unit.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/cleanup.h"
#include "engine/containers/containers.h"

static void test_top_columns(void **state)
{
  (void) state;
  setenv("TZ", "UTC", 1);
  tzset();
  int64_t now = 1700000000; /* 2023-11-14 22:13:20 UTC */
  cleanup_free char *today = berth_ctr_top_stime(now - 3600, now),
                    *month = berth_ctr_top_stime(now - 5 * 86400, now);
  cleanup_free char *old = berth_ctr_top_stime(now - 400 * 86400, now);
  assert_string_equal(today, "21:13");
  assert_string_equal(month, "Nov09");
  assert_string_equal(old, "2022");
  cleanup_free char *t0 = berth_ctr_top_time(0), *t1 = berth_ctr_top_time(3725),
                    *t2 = berth_ctr_top_time(2 * 86400 + 61);
  assert_string_equal(t0, "00:00:00");
  assert_string_equal(t1, "01:02:05");
  assert_string_equal(t2, "2-00:01:01");
  cleanup_free char *none = berth_ctr_top_tty(0), *pts = berth_ctr_top_tty((136 << 8) | 3);
  cleanup_free char *pts300 = berth_ctr_top_tty((137 << 8) | 44), *tty1 = berth_ctr_top_tty((4 << 8) | 1);
  cleanup_free char *serial = berth_ctr_top_tty((4 << 8) | 65), *other = berth_ctr_top_tty((5 << 8) | 1);
  assert_string_equal(none, "?");
  assert_string_equal(pts, "pts/3");
  assert_string_equal(pts300, "pts/300");
  assert_string_equal(tty1, "tty1");
  assert_string_equal(serial, "ttyS1");
  assert_string_equal(other, "?");
  /* a pts above 255: the minor's high bits sit at 20..31 */
  cleanup_free char *big = berth_ctr_top_tty((136 << 8) | 0x10 | (0x1 << 20));
  assert_string_equal(big, "pts/272");
}

static void test_cpu_mem_percent(void **state)
{
  (void) state;
  struct berth_ctr_stats_sample a = {
    .cpu_total = 1000000000, .system = 40000000000ULL, .online_cpus = 4, .running = true
  };
  struct berth_ctr_stats_sample b = a;
  b.cpu_total += 500000000;  /* half a CPU second */
  b.system += 4000000000ULL; /* one second of 4 CPUs */
  assert_true(berth_ctr_stats_cpu_percent(&a, &b) > 49.99 && berth_ctr_stats_cpu_percent(&a, &b) < 50.01);
  struct berth_ctr_stats_sample stopped = { 0 };
  assert_true(berth_ctr_stats_cpu_percent(&stopped, &b) == 0.0); /* the first sample of a container */
  assert_true(berth_ctr_stats_cpu_percent(&b, &b) == 0.0);       /* no time passed */
  struct berth_ctr_stats_sample m = { .mem_usage = 256, .mem_limit = 1024 };
  assert_true(berth_ctr_stats_mem_percent(&m) == 25.0);
  m.mem_limit = 0;
  assert_true(berth_ctr_stats_mem_percent(&m) == 0.0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_top_columns),
    cmocka_unit_test(test_cpu_mem_percent),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
