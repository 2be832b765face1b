#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/xalloc.h"
#include "runtime/hooks.h"

static char *tmpdir;

static int setup(void **state)
{
  tmpdir = unit_mkdtemp();
  return 0;
}

static int teardown(void **state)
{
  unit_rm_rf(tmpdir);
  free(tmpdir);
  return 0;
}

/* write an executable script into the temp dir; returns its path */
static char *script(const char *name, const char *body)
{
  char *path = xasprintf("%s/%s", tmpdir, name);
  cleanup_free char *text = xasprintf("#!/bin/sh\n%s\n", body);
  berth_error_t err = NULL;
  assert_int_equal(berth_write_file_atomic(path, text, strlen(text), 0755, &err), 0);
  return path;
}

static char *slurp(const char *path)
{
  berth_error_t err = NULL;
  char *text = NULL;
  if (berth_read_file(path, 0, &text, NULL, &err) < 0) {
    berth_error_release(&err);
    return NULL;
  }
  return text;
}

static berth_spec_t spec_with(enum berth_hook_kind kind, struct berth_spec_hook *hooks, size_t n)
{
  berth_spec_t spec;
  memset(&spec, 0, sizeof spec);
  spec.hooks.list[kind] = hooks;
  spec.hooks.n[kind] = n;
  return spec;
}

static const char *STATE =
  "{\"ociVersion\":\"1.2.0\",\"id\":\"c1\",\"status\":\"creating\",\"pid\":7,\"bundle\":\"/b\"}";

static void test_state_env_args(void **state)
{
  berth_error_t err = NULL;
  cleanup_free char *out = xasprintf("%s/out", tmpdir);
  cleanup_free char *body = xasprintf("cat > %s.stdin\n"
                                      "echo \"$1|$2|$#\" > %s.args\n"
                                      "env > %s.env\n"
                                      "ls /proc/self/fd > %s.fds",
                                      out, out, out, out);
  cleanup_free char *path = script("h1", body);
  const char *args[] = { "my-hook", "a b", "c", NULL };
  const char *env[] = { "FOO=bar", NULL };
  struct berth_spec_hook h = { .path = path, .args = args, .env = env };
  berth_spec_t spec = spec_with(BERTH_HOOK_CREATE_RUNTIME, &h, 1);
  assert_int_equal(berth_hooks_run(&spec, BERTH_HOOK_CREATE_RUNTIME, STATE, &err), 0);
  unit_assert_no_error(&err);

  cleanup_free char *in_path = xasprintf("%s.stdin", out), *args_path = xasprintf("%s.args", out);
  cleanup_free char *fds_path = xasprintf("%s.fds", out), *env_path = xasprintf("%s.env", out);
  cleanup_free char *got_in = slurp(in_path), *got_args = slurp(args_path), *got_fds = slurp(fds_path);
  cleanup_free char *got_env = slurp(env_path);
  assert_string_equal(got_in, STATE);
  assert_string_equal(got_args, "a b|c|2\n");
  /* the environment is exactly `env` (dash adds PWD itself) */
  assert_non_null(strstr(got_env, "FOO=bar\n"));
  assert_null(strstr(got_env, "PATH="));
  assert_null(strstr(got_env, "HOME="));
  /* only stdio (+ the fd ls opens for /proc/self/fd) reach the hook */
  assert_string_equal(got_fds, "0\n1\n2\n3\n");

  /* hooks of another kind are not run */
  unlink(in_path);
  assert_int_equal(berth_hooks_run(&spec, BERTH_HOOK_POSTSTOP, STATE, &err), 0);
  assert_int_equal(access(in_path, F_OK), -1);
}

/* args[0] reaches the program as argv[0] (sh -c reports it as $0) */
static void test_argv0(void **state)
{
  berth_error_t err = NULL;
  cleanup_free char *out = xasprintf("%s/argv0", tmpdir);
  cleanup_free char *cmd = xasprintf("echo \"$0\" > %s", out);
  const char *args[] = { "custom-argv0", "-c", cmd, NULL };
  struct berth_spec_hook h = { .path = "/bin/sh", .args = args };
  berth_spec_t spec = spec_with(BERTH_HOOK_PRESTART, &h, 1);
  assert_int_equal(berth_hooks_run(&spec, BERTH_HOOK_PRESTART, STATE, &err), 0);
  cleanup_free char *got = slurp(out);
  assert_string_equal(got, "custom-argv0\n");
}

static void test_default_args_empty_env(void **state)
{
  berth_error_t err = NULL;
  cleanup_free char *out = xasprintf("%s/out2", tmpdir);
  cleanup_free char *body = xasprintf("echo \"$0|$#|$(env | wc -l)\" > %s", out);
  cleanup_free char *path = script("h2", body);
  struct berth_spec_hook h = { .path = path };
  berth_spec_t spec = spec_with(BERTH_HOOK_PRESTART, &h, 1);
  assert_int_equal(berth_hooks_run(&spec, BERTH_HOOK_PRESTART, STATE, &err), 0);
  cleanup_free char *got = slurp(out);
  cleanup_free char *want = xasprintf("%s|0|", path);
  assert_non_null(got);
  assert_true(strncmp(got, want, strlen(want)) == 0);
}

static void test_failure_status_and_stderr(void **state)
{
  berth_error_t err = NULL;
  cleanup_free char *ok = script("ok", "exit 0");
  cleanup_free char *bad = script("bad", "echo to-stdout; echo first >&2; echo 'the reason' >&2; exit 3");
  cleanup_free char *never = xasprintf("%s/never", tmpdir);
  cleanup_free char *third_body = xasprintf("touch %s", never);
  cleanup_free char *third = script("third", third_body);
  struct berth_spec_hook hooks[] = { { .path = ok }, { .path = bad }, { .path = third } };
  berth_spec_t spec = spec_with(BERTH_HOOK_CREATE_RUNTIME, hooks, 3);
  assert_int_equal(berth_hooks_run(&spec, BERTH_HOOK_CREATE_RUNTIME, STATE, &err), -1);
  cleanup_free char *want =
    xasprintf("run createRuntime hook 1 (`%s`): exited with status 3: first; the reason", bad);
  assert_string_equal(err->msg, want);
  berth_error_release(&err);
  /* stops at the first failure */
  assert_int_equal(access(never, F_OK), -1);

  /* only stdout: quoted as such */
  cleanup_free char *quiet = script("quiet", "echo only-out; exit 1");
  struct berth_spec_hook q = { .path = quiet };
  spec = spec_with(BERTH_HOOK_POSTSTOP, &q, 1);
  assert_int_equal(berth_hooks_run(&spec, BERTH_HOOK_POSTSTOP, STATE, &err), -1);
  unit_assert_error_contains(&err, "run poststop hook 0 (`");
  assert_int_equal(berth_hooks_run(&spec, BERTH_HOOK_POSTSTOP, STATE, &err), -1);
  unit_assert_error_contains(&err, "exited with status 1: stdout: only-out");

  /* killed by a signal */
  cleanup_free char *sig = script("sig", "kill -TERM $$");
  struct berth_spec_hook s = { .path = sig };
  spec = spec_with(BERTH_HOOK_POSTSTART, &s, 1);
  assert_int_equal(berth_hooks_run(&spec, BERTH_HOOK_POSTSTART, STATE, &err), -1);
  unit_assert_error_contains(&err, "killed by signal 15 (Terminated)");

  /* a missing program */
  struct berth_spec_hook m = { .path = "/nonexistent/hook" };
  spec = spec_with(BERTH_HOOK_START_CONTAINER, &m, 1);
  assert_int_equal(berth_hooks_run(&spec, BERTH_HOOK_START_CONTAINER, STATE, &err), -1);
  unit_assert_error_contains(
    &err, "run startContainer hook 0 (`/nonexistent/hook`): exec: No such file or directory");
}

/* poststart/poststop: a failing hook is a warning and the following hooks still run */
static void test_run_warn_continues(void **state)
{
  cleanup_free char *bad = script("bad-warn", "exit 4");
  cleanup_free char *after = xasprintf("%s/after", tmpdir);
  cleanup_free char *body = xasprintf("touch %s", after);
  cleanup_free char *second = script("second", body);
  struct berth_spec_hook hooks[] = { { .path = bad }, { .path = second } };
  berth_spec_t spec = spec_with(BERTH_HOOK_POSTSTART, hooks, 2);
  assert_int_equal(berth_hooks_run_warn(&spec, BERTH_HOOK_POSTSTART, STATE), 1);
  assert_int_equal(access(after, F_OK), 0);
}

static void test_timeout_kills(void **state)
{
  berth_error_t err = NULL;
  cleanup_free char *pidfile = xasprintf("%s/sleeper.pid", tmpdir);
  cleanup_free char *body = xasprintf("echo $$ > %s; echo waiting >&2; exec sleep 30", pidfile);
  cleanup_free char *path = script("slow", body);
  struct berth_spec_hook h = { .path = path, .has_timeout = true, .timeout = 1 };
  berth_spec_t spec = spec_with(BERTH_HOOK_CREATE_CONTAINER, &h, 1);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  assert_int_equal(berth_hooks_run(&spec, BERTH_HOOK_CREATE_CONTAINER, STATE, &err), -1);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  cleanup_free char *want = xasprintf("run createContainer hook 0 (`%s`): timed out after 1s: waiting", path);
  assert_string_equal(err->msg, want);
  berth_error_release(&err);
  double secs = (double) (t1.tv_sec - t0.tv_sec) + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9;
  assert_true(secs >= 0.9 && secs < 10);
  /* the hook process is gone (killed and reaped) */
  cleanup_free char *pidtext = slurp(pidfile);
  assert_non_null(pidtext);
  assert_int_equal(kill(atoi(pidtext), 0), -1);
  assert_int_equal(errno, ESRCH);
}

/* a hook that exits without reading a large state must not kill us with SIGPIPE */
static void test_unread_stdin_no_sigpipe(void **state)
{
  berth_error_t err = NULL;
  size_t big = 4 << 20;
  cleanup_free char *st = xmalloc(big + 1);
  memset(st, ' ', big);
  st[0] = '{';
  st[big - 1] = '}';
  st[big] = '\0';
  cleanup_free char *path = script("noread", "exit 0");
  struct berth_spec_hook h = { .path = path };
  berth_spec_t spec = spec_with(BERTH_HOOK_POSTSTOP, &h, 1);
  sighandler_t old = signal(SIGPIPE, SIG_DFL);
  assert_int_equal(berth_hooks_run(&spec, BERTH_HOOK_POSTSTOP, st, &err), 0);
  unit_assert_no_error(&err);
  signal(SIGPIPE, old);
}

/* signals ignored or blocked by the runtime are reset for the hook */
static void test_signals_reset(void **state)
{
  berth_error_t err = NULL;
  cleanup_free char *out = xasprintf("%s/sig", tmpdir);
  cleanup_free char *body = xasprintf("grep -E '^Sig(Ign|Blk)' /proc/self/status > %s", out);
  cleanup_free char *path = script("sigs", body);
  struct berth_spec_hook h = { .path = path };
  berth_spec_t spec = spec_with(BERTH_HOOK_PRESTART, &h, 1);
  sighandler_t old = signal(SIGUSR1, SIG_IGN);
  sigset_t set, prev;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR2);
  sigprocmask(SIG_BLOCK, &set, &prev);
  assert_int_equal(berth_hooks_run(&spec, BERTH_HOOK_PRESTART, STATE, &err), 0);
  sigprocmask(SIG_SETMASK, &prev, NULL);
  signal(SIGUSR1, old);
  cleanup_free char *got = slurp(out);
  assert_non_null(got);
  assert_non_null(strstr(got, "SigBlk:\t0000000000000000"));
  assert_non_null(strstr(got, "SigIgn:\t0000000000000000"));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_state_env_args),          cmocka_unit_test(test_argv0),
    cmocka_unit_test(test_default_args_empty_env),  cmocka_unit_test(test_failure_status_and_stderr),
    cmocka_unit_test(test_run_warn_continues),      cmocka_unit_test(test_timeout_kills),
    cmocka_unit_test(test_unread_stdin_no_sigpipe), cmocka_unit_test(test_signals_reset),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
