/* base/fds.h: closing what a process inherited (issue 11, finding 2, CVE-2016-9962). */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/fds.h"

#ifndef SYS_close_range
#define SYS_close_range 436
#endif

static bool is_open(int fd) { return fcntl(fd, F_GETFD) >= 0; }

/* in a child (closing descriptors of the test process would close cmocka's or ASan's): fds
 * 40, 41, 42 and 300 open, then everything from 41 on closed but 42; without_close_range: as on
 * a kernel before 5.9 (close_range fails with ENOSYS) */
static int close_in_child(bool without_close_range)
{
  pid_t pid = fork();
  if (pid == 0) {
    int fd = open("/dev/null", O_RDONLY);
    int targets[] = { 40, 41, 42, 300 };
    for (size_t i = 0; i < 4; i++)
      if (dup2(fd, targets[i]) < 0)
        _exit(10);
    if (without_close_range) {
      scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
      if (ctx == NULL || seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SYS_close_range, 0) < 0 ||
          seccomp_load(ctx) < 0)
        _exit(11);
      seccomp_release(ctx);
    }
    const int keep[] = { 42 };
    if (berth_fds_close_from(41, keep, 1) < 0)
      _exit(12);
    _exit(is_open(40) && !is_open(41) && is_open(42) && !is_open(300) && is_open(2) ? 0 : 13);
  }
  int st = 0;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
    ;
  return WIFEXITED(st) ? WEXITSTATUS(st) : 100 + WTERMSIG(st);
}

static void test_close_from_keeps(void **state)
{
  (void) state;
  assert_int_equal(close_in_child(false), 0);
}

static void test_close_from_without_close_range(void **state)
{
  (void) state;
  assert_int_equal(close_in_child(true), 0);
}

static void test_listen_count(void **state)
{
  (void) state;
  char pid[16];
  snprintf(pid, sizeof pid, "%d", (int) getpid());
  setenv("LISTEN_FDS", "2", 1);
  setenv("LISTEN_PID", pid, 1);
  assert_int_equal(berth_fds_listen_count(), 2);
  setenv("LISTEN_PID", "1", 1); /* for another process */
  assert_int_equal(berth_fds_listen_count(), 0);
  setenv("LISTEN_PID", pid, 1);
  setenv("LISTEN_FDS", "two", 1);
  assert_int_equal(berth_fds_listen_count(), 0);
  setenv("LISTEN_FDS", "0", 1);
  assert_int_equal(berth_fds_listen_count(), 0);
  unsetenv("LISTEN_FDS");
  assert_int_equal(berth_fds_listen_count(), 0);
  unsetenv("LISTEN_PID");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_close_from_keeps),
    cmocka_unit_test(test_close_from_without_close_range),
    cmocka_unit_test(test_listen_count),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
