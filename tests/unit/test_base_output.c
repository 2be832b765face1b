/* base/output.h: files made for a caller where another user may write the directory, and the
 * save sink's directory output that uses the same rules (issue 11, finding 3). */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/output.h"
#include "base/xalloc.h"
#include "engine/images/save_sink_internal.h"

static char *dir;

static int setup(void **state)
{
  dir = unit_mkdtemp();
  return 0;
}

static int teardown(void **state)
{
  unit_rm_rf(dir);
  free(dir);
  return 0;
}

static char *at(const char *name) { return xasprintf("%s/%s", dir, name); }

static void write_text(const char *path, const char *text)
{
  berth_error_t err = NULL;
  cleanup_close int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  assert_true(fd >= 0);
  assert_int_equal(berth_write_all(fd, text, strlen(text)), 0);
  unit_assert_no_error(&err);
}

static void assert_file(const char *path, const char *text)
{
  berth_error_t err = NULL;
  cleanup_free char *got = NULL;
  assert_int_equal(berth_read_file(path, 0, &got, NULL, &err), 0);
  assert_string_equal(got, text);
}

/* the number of entries in dir, "." and ".." aside */
static int entries(void)
{
  cleanup_dir DIR *d = opendir(dir);
  int n = 0;
  for (struct dirent *de; (de = readdir(d)) != NULL;)
    n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
  return n;
}

static void test_open_commit_abort(void **state)
{
  berth_error_t err = NULL;
  cleanup_free char *out = at("out");
  cleanup_output struct berth_output o = BERTH_OUTPUT_INIT;
  assert_int_equal(berth_output_open(out, 0640, &o, &err), 0);
  assert_int_equal(access(out, F_OK), -1); /* not there before it is complete */
  assert_int_equal(berth_write_all(o.fd, "data", 4), 0);
  assert_int_equal(berth_output_commit(&o, &err), 0);
  assert_int_equal(o.fd, -1);
  assert_file(out, "data");
  struct stat st;
  assert_int_equal(lstat(out, &st), 0);
  assert_true(S_ISREG(st.st_mode));
  assert_int_equal(entries(), 1); /* no temporary file left */
  /* abandoned: nothing is left, the old file stays */
  assert_int_equal(berth_output_open(out, 0640, &o, &err), 0);
  assert_int_equal(berth_write_all(o.fd, "new", 3), 0);
  berth_output_abort(&o);
  berth_output_abort(&o); /* twice is fine */
  assert_file(out, "data");
  assert_int_equal(entries(), 1);
}

/* the link is replaced by the new file; its target is never opened */
static void test_symlink_at_name_replaced(void **state)
{
  berth_error_t err = NULL;
  cleanup_free char *victim = at("victim"), *link = at("link");
  write_text(victim, "secret");
  assert_int_equal(symlink(victim, link), 0);
  assert_int_equal(berth_write_file_atomic(link, "pid", 3, 0644, &err), 0);
  assert_file(victim, "secret");
  struct stat st;
  assert_int_equal(lstat(link, &st), 0);
  assert_true(S_ISREG(st.st_mode));
  assert_file(link, "pid");
}

/* berth_write_file_atomic wrote to "<path>.tmp.<pid>" with O_TRUNC: a file planted there (a
 * hard link to another) was overwritten. Its temporary file is always a new one now. */
static void test_planted_temporary_name_untouched(void **state)
{
  berth_error_t err = NULL;
  cleanup_free char *victim = at("victim"), *out = at("state.json");
  cleanup_free char *old_tmp = xasprintf("%s.tmp.%d", out, (int) getpid());
  write_text(victim, "secret");
  assert_int_equal(link(victim, old_tmp), 0);
  assert_int_equal(berth_write_file_atomic(out, "{}", 2, 0600, &err), 0);
  assert_file(victim, "secret");
  assert_file(out, "{}");
  struct stat st;
  assert_int_equal(stat(victim, &st), 0);
  assert_int_equal(st.st_nlink, 2); /* the planted link is left as it was */
}

static void test_refused_names(void **state)
{
  berth_error_t err = NULL;
  struct berth_output o = BERTH_OUTPUT_INIT;
  cleanup_free char *sub = at("sub"), *slash = at("x/");
  assert_int_equal(mkdir(sub, 0700), 0);
  assert_int_equal(berth_output_open(sub, 0644, &o, &err), -1);
  unit_assert_error_contains(&err, "is a directory");
  assert_int_equal(berth_output_open(slash, 0644, &o, &err), -1);
  unit_assert_error_contains(&err, "not a file name");
  assert_int_equal(berth_output_open("", 0644, &o, &err), -1);
  unit_assert_error_contains(&err, "empty path");
  assert_int_equal(entries(), 1);
  berth_output_abort(&o);
}

static void test_mkdir(void **state)
{
  berth_error_t err = NULL;
  bool made = false;
  cleanup_free char *d = at("d"), *link = at("l"), *target = at("t");
  cleanup_close int fd = berth_output_mkdir(d, 0755, &made, &err);
  assert_true(fd >= 0);
  assert_true(made);
  cleanup_close int again = berth_output_mkdir(d, 0755, &made, &err);
  assert_true(again >= 0);
  assert_false(made);
  assert_int_equal(mkdir(target, 0700), 0);
  assert_int_equal(symlink(target, link), 0);
  assert_int_equal(berth_output_mkdir(link, 0755, &made, &err), -1);
  unit_assert_error_contains(&err, "is a symlink: not followed");
}

#define APPEND (O_WRONLY | O_APPEND | O_CREAT)

static void test_open_trusted(void **state)
{
  berth_error_t err = NULL;
  cleanup_free char *log = at("log"), *victim = at("victim"), *theirs = at("theirs"), *mine = at("mine");
  int fd = berth_output_open_trusted(log, APPEND, 0644, &err);
  assert_true(fd >= 0);
  assert_int_equal(berth_write_all(fd, "a", 1), 0);
  close(fd);
  fd = berth_output_open_trusted(log, APPEND, 0644, &err);
  assert_int_equal(berth_write_all(fd, "b", 1), 0);
  close(fd);
  assert_file(log, "ab");
  write_text(victim, "secret");
  /* another user's link: refused */
  assert_int_equal(symlink(victim, theirs), 0);
  if (geteuid() == 0) {
    assert_int_equal(fchownat(AT_FDCWD, theirs, 65534, 65534, AT_SYMLINK_NOFOLLOW), 0);
    assert_int_equal(berth_output_open_trusted(theirs, APPEND, 0644, &err), -1);
    unit_assert_error_contains(&err, "is a symlink of uid 65534: not followed");
    assert_int_equal(berth_output_open_trusted(theirs, O_PATH, 0, &err), -1);
    unit_assert_error_contains(&err, "is a symlink of uid 65534: not followed");
    assert_file(victim, "secret");
  }
  /* our own, relative to its directory: followed */
  assert_int_equal(symlink("log", mine), 0);
  fd = berth_output_open_trusted(mine, APPEND, 0644, &err);
  assert_true(fd >= 0);
  assert_int_equal(berth_write_all(fd, "c", 1), 0);
  close(fd);
  assert_file(log, "abc");
  /* O_PATH: the file itself, or the target of our own link */
  struct stat a, b;
  cleanup_close int p1 = berth_output_open_trusted(log, O_PATH, 0, &err);
  cleanup_close int p2 = berth_output_open_trusted(mine, O_PATH, 0, &err);
  assert_true(p1 >= 0 && p2 >= 0);
  assert_int_equal(fstat(p1, &a), 0);
  assert_int_equal(fstat(p2, &b), 0);
  assert_int_equal(a.st_ino, b.st_ino);
  cleanup_free char *missing = at("missing");
  assert_int_equal(berth_output_open_trusted(missing, O_PATH, 0, &err), -1);
  assert_int_equal(err->errnum, ENOENT);
  berth_error_release(&err);
}

/* /proc/self/fd/N of a memfd (how berth hands berth-runtime its --log): the open file itself,
 * never a path made of the link's text `/memfd:… (deleted)` */
static void test_open_trusted_magic_link(void **state)
{
  (void) state;
  berth_error_t err = NULL;
  cleanup_close int mfd = memfd_create("berth-output-test", MFD_CLOEXEC);
  assert_true(mfd >= 0);
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/fd/%d", (int) getpid(), mfd);
  cleanup_close int fd = berth_output_open_trusted(path, APPEND, 0644, &err);
  assert_true(fd >= 0);
  assert_int_equal(berth_write_all(fd, "logged", 6), 0);
  struct stat a, b;
  assert_int_equal(fstat(fd, &a), 0);
  assert_int_equal(fstat(mfd, &b), 0);
  assert_int_equal(a.st_ino, b.st_ino);
  assert_int_equal(b.st_size, 6);
  struct stat none;
  assert_int_equal(stat("/memfd:berth-output-test (deleted)", &none), -1);
}

/* A symlink planted under an oci-dir output once it was found empty (a user who can write
 * it, racing the save): nothing is written through it, and the failed save takes back what it
 * made. */
static void test_save_sink_dir_refuses_planted_links(void **state)
{
  berth_error_t err = NULL;
  cleanup_free char *out = at("layout"), *target = at("target"), *blobs = at("layout/blobs");
  cleanup_free char *file = at("target/x");
  assert_int_equal(mkdir(target, 0700), 0);
  struct save_sink *s = NULL;
  assert_int_equal(save_sink_dir(out, &s, &err), 0);
  assert_int_equal(save_sink_bytes(s, "oci-layout", "{}", 2, &err), 0);
  assert_int_equal(symlink(target, blobs), 0);
  assert_int_equal(save_sink_mkdir(s, "blobs", &err), -1);
  unit_assert_error_contains(&err, "File exists");
  assert_int_equal(save_sink_bytes(s, "blobs/x", "data", 4, &err), -1);
  unit_assert_error_contains(&err, "is a symlink or has one in its path: not followed");
  assert_int_equal(access(file, F_OK), -1);
  assert_int_equal(unlink(blobs), 0);
  save_sink_abort(s);
  assert_int_equal(access(out, F_OK), -1); /* made by the sink, removed with what it held */
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_open_commit_abort, setup, teardown),
    cmocka_unit_test_setup_teardown(test_symlink_at_name_replaced, setup, teardown),
    cmocka_unit_test_setup_teardown(test_planted_temporary_name_untouched, setup, teardown),
    cmocka_unit_test_setup_teardown(test_refused_names, setup, teardown),
    cmocka_unit_test_setup_teardown(test_mkdir, setup, teardown),
    cmocka_unit_test_setup_teardown(test_open_trusted, setup, teardown),
    cmocka_unit_test(test_open_trusted_magic_link),
    cmocka_unit_test_setup_teardown(test_save_sink_dir_refuses_planted_links, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
