#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/dl.h"
#include "base/fs.h"
#include "base/signals.h"
#include "base/strbuf.h"
#include "base/strutil.h"
#include "base/unixsock.h"
#include "base/xalloc.h"
#include "json/json.h"

static int fail_with_errno(berth_error_t *err)
{
  errno = ENOENT;
  return BERTH_ERR_ERRNO(err, "open `%s`", "x");
}

static void test_error_wrap(void **state)
{
  berth_error_t err = NULL;
  assert_int_equal(fail_with_errno(&err), -1);
  assert_int_equal(err->errnum, ENOENT);
  berth_error_wrap(&err, "create container %s", "abc");
  assert_string_equal(err->msg, "create container abc: open `x`: No such file or directory");
  berth_error_release(&err);
  assert_null(err);
}

static void test_parse_numbers(void **state)
{
  int64_t i;
  uint64_t u;
  assert_int_equal(berth_parse_i64("-12", &i), 0);
  assert_int_equal(i, -12);
  assert_true(berth_parse_i64("12x", &i) < 0);
  assert_true(berth_parse_i64("", &i) < 0);
  assert_true(berth_parse_u64("-1", &u) < 0);
  assert_true(berth_parse_u64("99999999999999999999999", &u) < 0);
  assert_int_equal(berth_parse_u64("18446744073709551615", &u), 0);
}

static void test_container_id(void **state)
{
  assert_true(berth_container_id_valid("abc-1.2_x"));
  assert_false(berth_container_id_valid(""));
  assert_false(berth_container_id_valid("../x"));
  assert_false(berth_container_id_valid("a/b"));
  assert_false(berth_container_id_valid("-a"));
  assert_false(berth_container_id_valid("a..b"));
}

static void test_strbuf_json(void **state)
{
  cleanup_strbuf struct berth_strbuf b = BERTH_STRBUF_INIT;
  berth_strbuf_append_json_string(&b, "a\"b\\\n\x01");
  assert_string_equal(b.buf, "\"a\\\"b\\\\\\n\\u0001\"");
}

static void test_json_paths(void **state)
{
  berth_error_t err = NULL;
  const char *text = "{\"process\":{\"user\":{\"uid\":-1}}}";
  json_t *doc = berth_json_parse(text, strlen(text), "config.json", &err);
  unit_assert_no_error(&err);
  struct berth_jctx c;
  berth_jctx_init(&c, "config.json");
  berth_jctx_push_key(&c, "process");
  berth_jctx_push_key(&c, "user");
  uint32_t uid;
  json_t *user = json_object_get(json_object_get(doc, "process"), "user");
  assert_int_equal(berth_json_get_u32(&c, user, "uid", &uid, &err), -1);
  unit_assert_error_contains(&err, "config.json: process.user.uid: -1 is out of range");
  json_decref(doc);

  assert_null(berth_json_parse("{\"a\":\n  tru}", 12, "config.json", &err));
  unit_assert_error_contains(&err, "config.json:2:");
}

static void test_mkdir_in_root_stays_inside(void **state)
{
  cleanup_free char *dir = unit_mkdtemp();
  cleanup_free char *root = xasprintf("%s/root", dir);
  cleanup_free char *outside = xasprintf("%s/outside", dir);
  assert_int_equal(mkdir(root, 0755), 0);
  assert_int_equal(mkdir(outside, 0755), 0);
  cleanup_free char *link = xasprintf("%s/escape", root);
  assert_int_equal(symlink("../outside", link), 0);
  cleanup_close int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  berth_error_t err = NULL;
  int fd = berth_mkdir_p_in_root(rootfd, "/escape/x/y", 0755, &err);
  unit_assert_no_error(&err);
  close(fd);
  /* "../outside" resolved against the root is /outside inside the root, never dir/outside */
  cleanup_free char *inside = xasprintf("%s/outside/x/y", root);
  cleanup_free char *leaked = xasprintf("%s/outside/x", dir);
  struct stat st;
  assert_int_equal(stat(inside, &st), 0);
  assert_int_equal(stat(leaked, &st), -1);
  unit_rm_rf(dir);
}

/* one table of signal names for the runtime's kill, run/create --stop-signal and STOPSIGNAL */
static void test_signal_names(void **state)
{
  (void) state;
  assert_int_equal(berth_signal_by_name("TERM"), SIGTERM);
  assert_int_equal(berth_signal_by_name("SIGKILL"), SIGKILL);
  assert_int_equal(berth_signal_by_name("sigusr1"), SIGUSR1);
  assert_int_equal(berth_signal_by_name("IOT"), SIGABRT);
  assert_int_equal(berth_signal_by_name("RTMIN"), SIGRTMIN);
  assert_int_equal(berth_signal_by_name("SIGRTMIN+3"), SIGRTMIN + 3);
  assert_int_equal(berth_signal_by_name("RTMAX-2"), SIGRTMAX - 2);
  assert_int_equal(berth_signal_by_name("rtmax"), SIGRTMAX);
  const char *bad[] = { "",       "SIG",     "9",        "TERMX",    "RTMIN-1",  "RTMAX+1",
                        "RTMIN+", "RTMIN+x", "RTMIN++1", "RTMIN+99", "RTMAX--1", "SIGSIGTERM" };
  for (size_t i = 0; i < BERTH_N_ELEMENTS(bad); i++)
    assert_int_equal(berth_signal_by_name(bad[i]), -1);
  assert_string_equal(berth_signal_name(SIGHUP), "HUP");
  assert_string_equal(berth_signal_name(SIGABRT), "ABRT");
  assert_null(berth_signal_name(SIGRTMIN + 1));
  assert_null(berth_signal_name(0));
  for (int sig = 1; sig < SIGRTMIN; sig++) { /* every name there is reads back as its signal */
    const char *n = berth_signal_name(sig);
    if (n)
      assert_int_equal(berth_signal_by_name(n), sig);
  }
}

/* a socket under a directory whose path does not fit sun_path: bound and reached through the
 * directory's descriptor, and the file is where the path says */
static void test_unix_long_paths(void **state)
{
  (void) state;
  char *dir = unit_mkdtemp();
  char *deep = xasprintf("%s/%0120d", dir, 0);
  assert_int_equal(mkdir(deep, 0700), 0);
  char *path = xasprintf("%s/sock", deep);
  struct sockaddr_un sa;
  int dirfd = -1;
  berth_error_t err = NULL;
  assert_int_equal(berth_unix_addr(path, &sa, &dirfd, &err), 0);
  assert_true(dirfd >= 0);
  assert_true(berth_str_has_prefix(sa.sun_path, "/proc/self/fd/"));
  int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  assert_int_equal(bind(l, (struct sockaddr *) &sa, sizeof sa), 0);
  assert_int_equal(listen(l, 1), 0);
  close(dirfd);
  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  assert_true(S_ISSOCK(st.st_mode));
  int c = berth_unix_connect(path, SOCK_STREAM, &err);
  unit_assert_no_error(&err);
  assert_true(c >= 0);
  close(c);
  close(l);
  /* a short path is itself; a missing directory is an error naming the path */
  assert_int_equal(berth_unix_addr("/tmp/x.sock", &sa, &dirfd, &err), 0);
  assert_int_equal(dirfd, -1);
  assert_string_equal(sa.sun_path, "/tmp/x.sock");
  char *missing = xasprintf("%s/gone/%0120d/sock", dir, 0);
  assert_int_equal(berth_unix_addr(missing, &sa, &dirfd, &err), -1);
  assert_non_null(strstr(err->msg, missing));
  berth_error_release(&err);
  assert_int_equal(berth_unix_connect(path + 1, SOCK_STREAM, &err), -1); /* relative: not there */
  berth_error_release(&err);
  free(missing), free(path), free(deep);
  unit_rm_rf(dir);
  free(dir);
}

/* base/dl.h: a library that is not there is an error naming it and why, every time; one that
 * is gives its functions */
static void test_dl_load(void **state)
{
  (void) state;
  static const char *const none[] = { "libberth-no-such-library.so.1", "libberth-nor-this.so", NULL };
  static struct berth_dl missing = BERTH_DL("libnothing", none, NULL);
  berth_error_t err = NULL;
  for (int i = 0; i < 2; i++) {
    assert_int_equal(berth_dl_load(&missing, &err), -1);
    assert_non_null(strstr(err->msg, "cannot load libnothing (libberth-no-such-library.so.1: "));
    berth_error_release(&err);
  }
  static const char *const z[] = { "libz.so.1", NULL };
  static struct berth_dl zlib = BERTH_DL("zlib", z, NULL);
  assert_int_equal(berth_dl_load(&zlib, &err), 0);
  const char *(*version)(void) = (const char *(*) (void) ) berth_dl_sym(&zlib, "zlibVersion");
  assert_non_null(version);
  assert_true(version()[0] >= '1');
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_error_wrap),
    cmocka_unit_test(test_parse_numbers),
    cmocka_unit_test(test_container_id),
    cmocka_unit_test(test_strbuf_json),
    cmocka_unit_test(test_json_paths),
    cmocka_unit_test(test_signal_names),
    cmocka_unit_test(test_unix_long_paths),
    cmocka_unit_test(test_dl_load),
    cmocka_unit_test(test_mkdir_in_root_stays_inside),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
