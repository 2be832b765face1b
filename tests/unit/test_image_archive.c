/* image/archive_filters.c: untrusted archives are decompressed in-process or refused by name;
 * libarchive never runs an external decompressor (issue 11, finding 6). */
#include "unit.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/xalloc.h"
#include "image/archive_dl.h"

static char *dir;

static int setup(void **state)
{
  berth_error_t err = NULL;
  assert_int_equal(berth_archive_load(&err), 0);
  dir = unit_mkdtemp();
  return 0;
}

static int teardown(void **state)
{
  unit_rm_rf(dir);
  free(dir);
  return 0;
}

static int file_with(const char *name, const void *head, size_t n, size_t pad)
{
  cleanup_free char *p = xasprintf("%s/%s", dir, name);
  int fd = open(p, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  assert_true(fd >= 0);
  assert_int_equal(berth_write_all(fd, head, n), 0);
  cleanup_free char *zeros = xmalloc0(pad + 1);
  assert_int_equal(berth_write_all(fd, zeros, pad), 0);
  assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
  return fd;
}

/* open fd as a tar with every usable decoder; the archive error when that fails, else NULL */
static char *open_tar(int fd, unsigned usable, char **first)
{
  berth_error_t err = NULL;
  struct archive *a = archive_read_new();
  archive_read_support_format_tar(a);
  assert_int_equal(berth_archive_read_filters(a, usable, 0, &err), 0);
  char *msg = NULL;
  struct archive_entry *e;
  if (berth_archive_read_open_fd(a, fd, usable) != ARCHIVE_OK ||
      archive_read_next_header(a, &e) != ARCHIVE_OK)
    msg = xstrdup(archive_error_string(a) ? archive_error_string(a) : "?");
  else if (first)
    *first = xstrdup(archive_entry_pathname(e));
  archive_read_free(a);
  return msg;
}

/* Debian 12's libarchive has all of them built in; lzop, lrzip and grzip never are */
static void test_builtin(void **state)
{
  unsigned have = berth_archive_builtin_filters();
  assert_true(have & BERTH_ARCHIVE_GZIP);
  assert_true(have & BERTH_ARCHIVE_XZ);
  assert_true(have & BERTH_ARCHIVE_ZSTD);
  berth_error_t err = NULL;
  struct archive *a = archive_read_new();
  assert_int_equal(berth_archive_read_filters(a, BERTH_ARCHIVE_DECODERS, BERTH_ARCHIVE_GZIP, &err), 0);
  archive_read_free(a);
}

/* a fake lzop (lrzip, grzip) first in PATH would record that it ran */
static void test_refused_by_name_and_nothing_runs(void **state)
{
  cleanup_free char *bin = xasprintf("%s/bin", dir), *ran = xasprintf("%s/ran", dir);
  assert_int_equal(mkdir(bin, 0755), 0);
  static const char *const progs[] = { "lzop", "lrzip", "grzip" };
  for (size_t i = 0; i < 3; i++) {
    cleanup_free char *p = xasprintf("%s/%s", bin, progs[i]);
    cleanup_free char *script = xasprintf("#!/bin/sh\necho %s >>%s\ncat\n", progs[i], ran);
    berth_error_t err = NULL;
    assert_int_equal(berth_write_file_atomic(p, script, strlen(script), 0755, &err), 0);
  }
  const char *old_path = getenv("PATH");
  cleanup_free char *saved = xstrdup(old_path ? old_path : "/usr/bin:/bin");
  cleanup_free char *path = xasprintf("%s:%s", bin, saved);
  setenv("PATH", path, 1);
  static const struct {
    const char *name, *head;
    size_t len;
  } cases[] = {
    { "lzop", "\x89LZO\0\r\n\x1a\n", 9 },
    { "lrzip", "LRZI\0\x06", 6 },
    { "grzip", "GRZipII\0\x02\x04:)", 12 },
    { "lzip", "LZIP\x01", 5 },
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    cleanup_close int fd = file_with(cases[i].name, cases[i].head, cases[i].len, 4096);
    cleanup_free char *msg = open_tar(fd, BERTH_ARCHIVE_DECODERS, NULL);
    assert_non_null(msg);
    cleanup_free char *want = xasprintf("%s-compressed input is not supported", cases[i].name);
    if (strstr(msg, want) == NULL)
      fail_msg("%s: got `%s`", cases[i].name, msg);
  }
  setenv("PATH", saved, 1);
  assert_int_equal(access(ran, F_OK), -1);
}

/* a usable compression left out of `usable` is refused by name too */
static void test_not_usable(void **state)
{
  cleanup_close int fd = file_with("lz4", "\x04\x22\x4d\x18", 4, 600);
  cleanup_free char *msg = open_tar(fd, BERTH_ARCHIVE_GZIP, NULL);
  assert_non_null(msg);
  assert_non_null(strstr(msg, "lz4-compressed input is not supported"));
}

/* a tar whose first member's name starts like a magic number is read as the tar it is */
static void test_tar_named_like_magic(void **state)
{
  cleanup_free char *src = xasprintf("%s/src", dir), *tar = xasprintf("%s/t.tar", dir);
  assert_int_equal(mkdir(src, 0755), 0);
  cleanup_free char *member = xasprintf("%s/LZIPnotes", src);
  berth_error_t err = NULL;
  assert_int_equal(berth_write_file_atomic(member, "x", 1, 0644, &err), 0);
  cleanup_free char *cmd = xasprintf("tar -C %s -cf %s LZIPnotes", src, tar);
  assert_int_equal(system(cmd), 0);
  cleanup_close int fd = open(tar, O_RDONLY | O_CLOEXEC);
  cleanup_free char *first = NULL;
  cleanup_free char *msg = open_tar(fd, BERTH_ARCHIVE_DECODERS, &first);
  assert_null(msg);
  assert_string_equal(first, "LZIPnotes");
  /* and gzip'd, from a pipe */
  cleanup_free char *gz = xasprintf("gzip -c %s > %s.gz", tar, tar), *gzp = xasprintf("%s.gz", tar);
  assert_int_equal(system(gz), 0);
  cleanup_close int in = open(gzp, O_RDONLY | O_CLOEXEC);
  int p[2];
  assert_int_equal(pipe2(p, O_CLOEXEC), 0);
  char buf[65536];
  ssize_t n = read(in, buf, sizeof buf);
  assert_true(n > 0 && n < 65536);
  assert_int_equal(berth_write_all(p[1], buf, (size_t) n), 0);
  close(p[1]);
  cleanup_free char *first_gz = NULL;
  cleanup_free char *msg_gz = open_tar(p[0], BERTH_ARCHIVE_DECODERS, &first_gz);
  close(p[0]);
  assert_null(msg_gz);
  assert_string_equal(first_gz, "LZIPnotes");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_builtin, setup, teardown),
    cmocka_unit_test_setup_teardown(test_refused_by_name_and_nothing_runs, setup, teardown),
    cmocka_unit_test_setup_teardown(test_not_usable, setup, teardown),
    cmocka_unit_test_setup_teardown(test_tar_named_like_magic, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
