#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/xalloc.h"
#include "linux/selfexe.h"

extern char **environ;
static const char *self_path;

/* In the re-executed program: the binary must not be writable by any route. */
static int child_checks(void)
{
  if (!berth_selfexe_is_protected())
    return 10;
  int fd = open("/proc/self/exe", O_WRONLY | O_CLOEXEC);
  if (fd >= 0)
    return 11;
  if (errno != EROFS && errno != ETXTBSY && errno != EPERM && errno != EACCES)
    return 12;
  fd = open("/proc/self/exe", O_RDWR | O_CLOEXEC);
  if (fd >= 0)
    return 13;
  /* CVE-2019-5736's route: an O_PATH handle, reopened for writing via /proc/self/fd */
  int p = open("/proc/self/exe", O_PATH | O_CLOEXEC);
  if (p < 0)
    return 14;
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", p);
  fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd >= 0)
    return 15;
  if (errno != EROFS && errno != ETXTBSY && errno != EPERM && errno != EACCES)
    return 16;
  /* truncation through the handle is refused too */
  if (truncate(path, 0) == 0)
    return 17;
  return 0;
}

/* 0 when /proc/self/exe is a sealed memfd */
static int child_is_memfd(void)
{
  int r = child_checks();
  if (r != 0)
    return r;
  int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  return fd >= 0 && fcntl(fd, F_GET_SEALS) >= 0 ? 0 : 20;
}

static int run_reexec_as(enum berth_selfexe_method method, const char *role)
{
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    berth_error_t err = NULL;
    char *argv[] = { (char *) self_path, (char *) role, NULL };
    if (berth_selfexe_reexec_with(method, argv, environ, &err) < 0)
      fprintf(stderr, "reexec: %s\n", err->msg);
    _exit(99);
  }
  int st;
  assert_int_equal(waitpid(pid, &st, 0), pid);
  assert_true(WIFEXITED(st));
  return WEXITSTATUS(st);
}

static int run_reexec(enum berth_selfexe_method method) { return run_reexec_as(method, "--selfexe-child"); }

static void test_not_protected_before(void **state) { assert_false(berth_selfexe_is_protected()); }

static void test_reexec_overlay(void **state)
{
  berth_error_t err = NULL;
  int fd = berth_selfexe_overlay_fd(&err);
  if (fd < 0) {
    /* needs CAP_SYS_ADMIN and Linux 6.13+ (lowerdir+ by fd) */
    char reason[512];
    snprintf(reason, sizeof reason, "%s", err->msg);
    berth_error_release(&err);
    print_message("overlay unavailable: %s\n", reason);
    skip();
  }
  close(fd);
  assert_int_equal(run_reexec(BERTH_SELFEXE_OVERLAY), 0);
}

static void test_reexec_memfd(void **state) { assert_int_equal(run_reexec(BERTH_SELFEXE_MEMFD), 0); }

static void test_reexec_auto(void **state) { assert_int_equal(run_reexec(BERTH_SELFEXE_AUTO), 0); }

/* create's choice: the memfd even where the overlay works */
static void test_reexec_memfd_first(void **state)
{
  assert_int_equal(run_reexec_as(BERTH_SELFEXE_MEMFD_FIRST, "--selfexe-memfd-child"), 0);
}

int main(int argc, char **argv)
{
  if (argc > 1 && strcmp(argv[1], "--selfexe-child") == 0)
    return child_checks();
  if (argc > 1 && strcmp(argv[1], "--selfexe-memfd-child") == 0)
    return child_is_memfd();
  static char path[4096];
  ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
  if (n > 0)
    path[n] = '\0';
  self_path = path;
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_not_protected_before), cmocka_unit_test(test_reexec_overlay),
    cmocka_unit_test(test_reexec_memfd),         cmocka_unit_test(test_reexec_auto),
    cmocka_unit_test(test_reexec_memfd_first),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
