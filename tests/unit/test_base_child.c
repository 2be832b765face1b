/* base/child: work in a forked child — a callback's success, its error (message and errno) and
 * how a child that said nothing ended; a descriptor from a child that holds until released; a
 * program's descriptors, signals, session, PATH lookup, a detached program's pid, and the
 * error of the step that failed (exec, prepare). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/child.h"
#include "base/cleanup.h"
#include "base/fs.h"
#include "base/sync.h"
#include "base/xalloc.h"
#include "unit.h"

static int ok_fn(void *data, int sock, berth_error_t *err)
{
  (void) sock;
  (void) err;
  *(int *) data = 1; /* in the child's copy only */
  return 0;
}

static int fail_fn(void *data, int sock, berth_error_t *err)
{
  (void) data;
  (void) sock;
  errno = EACCES;
  return BERTH_ERR_ERRNO(err, "make `%s`", "thing");
}

static int exit_fn(void *data, int sock, berth_error_t *err)
{
  (void) sock;
  (void) err;
  _exit(*(int *) data);
}

static int abort_fn(void *data, int sock, berth_error_t *err)
{
  (void) data;
  (void) sock;
  (void) err;
  signal(SIGABRT, SIG_DFL);
  raise(SIGABRT);
  return 0;
}

static void test_run(void **state)
{
  (void) state;
  berth_error_t err = NULL;
  int touched = 0;
  assert_int_equal(berth_child_run("the test process", ok_fn, &touched, &err), 0);
  assert_null(err);
  assert_int_equal(touched, 0);
  assert_int_equal(berth_child_run("the test process", fail_fn, NULL, &err), -1);
  assert_non_null(err);
  assert_int_equal(err->errnum, EACCES);
  unit_assert_error_contains(&err, "make `thing`: Permission denied");
  int code = 3;
  assert_int_equal(berth_child_run("the test process", exit_fn, &code, &err), -1);
  unit_assert_error_contains(&err, "the test process exited with status 3");
  code = 0; /* gone without its report is a failure even with status 0 */
  assert_int_equal(berth_child_run("the test process", exit_fn, &code, &err), -1);
  unit_assert_error_contains(&err, "the test process exited with status 0");
  assert_int_equal(berth_child_run("the test process", abort_fn, NULL, &err), -1);
  unit_assert_error_contains(&err, "the test process was killed by signal 6");
}

#define MSG_FD 0x7e57u

/* sends a descriptor of a file it made, then holds until the parent lets go */
static int hold_fn(void *data, int sock, berth_error_t *err)
{
  const char *path = data;
  cleanup_close int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return BERTH_ERR_ERRNO(err, "open `%s`", path);
  if (berth_sync_send(sock, MSG_FD, 0, NULL, 0, fd, err) < 0)
    return -1;
  berth_child_hold(sock);
  return 0;
}

static void test_start_recv_hold(void **state)
{
  (void) state;
  cleanup_free char *dir = unit_mkdtemp();
  cleanup_free char *path = xasprintf("%s/f", dir), *bad = xasprintf("%s/no/such", dir);
  berth_error_t err = NULL;
  struct berth_child c;
  struct berth_sync_msg msg;
  int fd = -1;
  assert_int_equal(berth_child_start("the holder", hold_fn, path, &c, &err), 0);
  assert_int_equal(berth_child_recv(&c, MSG_FD, &msg, &fd, &err), 0);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, "held", 4), 4);
  close(fd);
  assert_int_equal(kill(c.pid, 0), 0); /* still there */
  pid_t pid = c.pid;
  berth_child_release(&c);
  assert_int_equal(c.pid, -1);
  assert_int_equal(kill(pid, 0), -1); /* reaped */
  berth_child_release(&c);            /* again: nothing */
  /* a child that fails instead of sending */
  assert_int_equal(berth_child_start("the holder", hold_fn, bad, &c, &err), 0);
  assert_int_equal(berth_child_recv(&c, MSG_FD, &msg, &fd, &err), -1);
  assert_int_equal(fd, -1);
  unit_assert_error_contains(&err, "No such file or directory");
  berth_child_release(&c);
  unit_rm_rf(dir);
}

/* the program's stdout, read to its end, and its exit status */
static char *run_output(struct berth_child_exec *x, int *status, berth_error_t *err)
{
  int p[2];
  assert_int_equal(pipe2(p, O_CLOEXEC), 0);
  x->fds[1] = p[1];
  pid_t pid = -1;
  int r = berth_child_exec(x, &pid, err);
  close(p[1]);
  char buf[4096];
  size_t have = 0;
  ssize_t n;
  while (r == 0 && (n = read(p[0], buf + have, sizeof buf - 1 - have)) > 0)
    have += (size_t) n;
  close(p[0]);
  buf[have] = '\0';
  if (r < 0)
    return NULL;
  if (!(x->flags & BERTH_CHILD_DETACH))
    assert_int_equal(waitpid(pid, status, 0), pid);
  else
    *status = pid;
  return xstrdup(buf);
}

static void test_exec(void **state)
{
  (void) state;
  berth_error_t err = NULL;
  int status = -1;
  /* a descriptor of ours without close-on-exec does not reach the program; fd 3 does */
  int null = open("/dev/null", O_RDONLY);
  int leak = fcntl(null, F_DUPFD, 10);
  close(null);
  assert_true(leak >= 10);
  char script[128];
  snprintf(script, sizeof script, "echo three >&3; [ -e /proc/self/fd/%d ] && echo leaked; exit 7", leak);
  char *argv[] = { (char *) "/bin/sh", (char *) "-c", script, NULL };
  int q[2];
  assert_int_equal(pipe2(q, O_CLOEXEC), 0);
  struct berth_child_exec x = { .argv = argv, .fds = { -1, -1, 2, q[1] }, .nfds = 4 };
  cleanup_free char *out = run_output(&x, &status, &err);
  unit_assert_no_error(&err);
  close(q[1]);
  char three[16] = { 0 };
  assert_true(read(q[0], three, sizeof three - 1) > 0);
  close(q[0]);
  close(leak);
  assert_string_equal(out, "");
  assert_string_equal(three, "three\n");
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 7);
}

static void test_exec_signals_session_search(void **state)
{
  (void) state;
  berth_error_t err = NULL;
  int status = -1;
  struct sigaction ign = { .sa_handler = SIG_IGN }, old_int;
  sigaction(SIGINT, &ign, &old_int);
  sigset_t usr, old_mask;
  sigemptyset(&usr);
  sigaddset(&usr, SIGUSR1);
  sigprocmask(SIG_BLOCK, &usr, &old_mask);
  char *argv[] = {
    (char *) "sh", (char *) "-c",
    (char *) "grep -E '^Sig(Ign|Blk)' /proc/self/status; echo $$ $(cut -d' ' -f6 /proc/$$/stat)", NULL
  };
  struct berth_child_exec x = {
    .argv = argv, .fds = { -1, -1, 2 }, .nfds = 3, .flags = BERTH_CHILD_SEARCH | BERTH_CHILD_SETSID
  };
  cleanup_free char *out = run_output(&x, &status, &err);
  sigaction(SIGINT, &old_int, NULL);
  sigprocmask(SIG_SETMASK, &old_mask, NULL);
  unit_assert_no_error(&err);
  assert_int_equal(status, 0);
  assert_non_null(strstr(out, "SigIgn:\t0000000000000000\n"));
  assert_non_null(strstr(out, "SigBlk:\t0000000000000000\n"));
  int pid = 0, sid = -1;
  size_t len = strlen(out);
  assert_true(len > 1 && out[len - 1] == '\n');
  out[len - 1] = '\0';
  const char *last = strrchr(out, '\n') + 1; /* "<pid> <sid>" */
  assert_int_equal(sscanf(last, "%d %d", &pid, &sid), 2);
  assert_int_equal(pid, sid); /* a session of its own */
}

static void test_exec_errors(void **state)
{
  (void) state;
  berth_error_t err = NULL;
  pid_t pid = -1;
  char *missing[] = { (char *) "/nonexistent/berth-program", NULL };
  struct berth_child_exec x = { .argv = missing, .fds = { -1, -1, -1 }, .nfds = 3 };
  assert_int_equal(berth_child_exec(&x, &pid, &err), -1);
  assert_int_equal(err->errnum, ENOENT);
  unit_assert_error_contains(&err, "exec `/nonexistent/berth-program`: No such file or directory");
  char *unsearched[] = { (char *) "berth-no-such-program-anywhere", NULL };
  x.argv = unsearched;
  x.flags = BERTH_CHILD_SEARCH;
  assert_int_equal(berth_child_exec(&x, &pid, &err), -1);
  unit_assert_error_contains(&err, "exec `berth-no-such-program-anywhere`: No such file or directory");
  /* the fork path: with prepare, and detached */
  x.argv = missing;
  x.flags = BERTH_CHILD_DETACH | BERTH_CHILD_SETSID;
  assert_int_equal(berth_child_exec(&x, &pid, &err), -1);
  unit_assert_error_contains(&err, "exec `/nonexistent/berth-program`: No such file or directory");
  char *sh[] = { (char *) "/bin/sh", (char *) "-c", (char *) "true", NULL };
  x.argv = sh;
  x.flags = 0;
  x.prepare = fail_fn;
  assert_int_equal(berth_child_exec(&x, &pid, &err), -1);
  unit_assert_error_contains(&err, "make `thing`: Permission denied");
  x.prepare = NULL;
  x.nfds = 2;
  assert_int_equal(berth_child_exec(&x, &pid, &err), -1);
  unit_assert_error_contains(&err, "2 descriptors");
}

static void test_exec_detached(void **state)
{
  (void) state;
  berth_error_t err = NULL;
  int pid = -1;
  char *argv[] = { (char *) "/bin/sh", (char *) "-c", (char *) "echo $$ $PPID", NULL };
  int touched = 0;
  struct berth_child_exec x = { .argv = argv,
                                .fds = { -1, -1, 2 },
                                .nfds = 3,
                                .flags = BERTH_CHILD_DETACH,
                                .prepare = ok_fn,
                                .data = &touched };
  cleanup_free char *out = run_output(&x, &pid, &err);
  unit_assert_no_error(&err);
  int said = 0, parent = 0;
  assert_int_equal(sscanf(out, "%d %d", &said, &parent), 2);
  assert_int_equal(said, pid);
  assert_int_not_equal(parent, getpid()); /* not ours */
  assert_int_equal(touched, 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_run),         cmocka_unit_test(test_start_recv_hold),
    cmocka_unit_test(test_exec),        cmocka_unit_test(test_exec_signals_session_search),
    cmocka_unit_test(test_exec_errors), cmocka_unit_test(test_exec_detached),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
