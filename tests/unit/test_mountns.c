/* linux/mountns (as root, in the private mount namespace berth_mountns_enter gives this test
 * program): overlay mounts of layer chains — the merged view of layers applied by
 * berth_layer_apply (whiteouts and opaque dirs in overlay's format), writes landing in the
 * upper dir and coming back out of berth_layer_diff, 200 lowers past the one-page option
 * limit, odd paths, errors — and binds, read-only remounts and detaching unmounts. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/xalloc.h"
#include "image/layer.h"
#include "linux/mountns/mountns.h"
#include "test_image_tar.h"
#include "unit.h"

static char *dir;
static bool can_run;

static int group_setup(void **state)
{
  (void) state;
  berth_error_t err = NULL;
  if (geteuid() != 0 || berth_mountns_enter(BERTH_MOUNTNS_PRIVATE, &err) < 0) {
    fprintf(stderr, "# skip: mountns tests need root and a private mount namespace (%s)\n",
            err ? err->msg : "not root");
    berth_error_release(&err);
    return 0;
  }
  can_run = true;
  dir = unit_mkdtemp();
  return 0;
}

static int group_teardown(void **state)
{
  (void) state;
  if (dir != NULL)
    unit_rm_rf(dir);
  free(dir);
  return 0;
}

static char *sub(const char *name)
{
  char *p = xasprintf("%s/%s", dir, name);
  berth_error_t err = NULL;
  if (berth_mkdir_p(p, 0755, &err) < 0)
    fail();
  return p;
}

static void apply_layer(const char *path, const struct tb_entry *es, size_t n)
{
  struct tarb *t = tb_new(TB_GZIP);
  for (size_t i = 0; i < n; i++)
    tb_add(t, &es[i]);
  cleanup_free char *buf = NULL;
  size_t len = 0;
  tb_finish(t, &buf, &len);
  cleanup_close int in = mem_fd(buf, len);
  cleanup_close int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  berth_error_t err = NULL;
  if (berth_layer_apply(in, fd, NULL, NULL, &err) < 0) {
    print_error("%s\n", err->msg);
    fail();
  }
}

static char *read_in(const char *root, const char *rel)
{
  cleanup_free char *p = xasprintf("%s/%s", root, rel);
  char *data = NULL;
  size_t len = 0;
  berth_error_t err = NULL;
  if (berth_read_file(p, 0, &data, &len, &err) < 0) {
    berth_error_release(&err);
    return NULL;
  }
  return data;
}

static bool exists_in(const char *root, const char *rel)
{
  cleanup_free char *p = xasprintf("%s/%s", root, rel);
  struct stat st;
  return lstat(p, &st) == 0;
}

static void test_chain(void **state)
{
  (void) state;
  if (!can_run)
    skip();
  cleanup_free char *l1 = sub("chain/l1"), *l2 = sub("chain/l2"), *l3 = sub("chain/l3");
  cleanup_free char *up = sub("chain/upper"), *work = sub("chain/work"), *m = sub("chain/merged");
  const struct tb_entry base[] = {
    { .name = "etc/os", .data = "base" },
    { .name = "etc/gone", .data = "deleted above" },
    { .name = "opq/old", .data = "hidden by the opaque dir above" },
    { .name = "keep/lower", .data = "stays" },
  };
  const struct tb_entry mid[] = {
    { .name = "etc/.wh.gone" },
    { .name = "opq/", .type = AE_IFDIR },
    { .name = "opq/.wh..wh..opq" },
    { .name = "opq/new", .data = "new" },
  };
  const struct tb_entry top[] = { { .name = "etc/os", .data = "top" } };
  apply_layer(l1, base, BERTH_N_ELEMENTS(base));
  apply_layer(l2, mid, BERTH_N_ELEMENTS(mid));
  apply_layer(l3, top, BERTH_N_ELEMENTS(top));
  const char *lowers[] = { l3, l2, l1 }; /* top first */
  berth_error_t err = NULL;
  if (berth_mountns_overlay(lowers, 3, up, work, m, 0, &err) < 0) {
    print_error("%s\n", err->msg);
    fail();
  }
  cleanup_free char *os = read_in(m, "etc/os");
  assert_string_equal(os, "top");
  assert_false(exists_in(m, "etc/gone"));
  assert_false(exists_in(m, "opq/old"));
  cleanup_free char *nw = read_in(m, "opq/new");
  assert_string_equal(nw, "new");
  /* changes go to the upper dir, and come back out as a layer */
  cleanup_free char *created = xasprintf("%s/keep/created", m), *lower = xasprintf("%s/keep/lower", m);
  assert_int_equal(berth_write_file_atomic(created, "c", 1, 0644, &err), 0);
  assert_int_equal(unlink(lower), 0);
  assert_int_equal(umount2(m, 0), 0);
  cleanup_close int upfd = open(up, O_PATH | O_DIRECTORY | O_CLOEXEC);
  cleanup_close int out = memfd_create("diff", MFD_CLOEXEC);
  struct berth_layer_info info;
  assert_int_equal(berth_layer_diff(upfd, out, BERTH_COMPRESSION_GZIP, &info, &err), 0);
  assert_int_equal(lseek(out, 0, SEEK_SET), 0);
  struct archive *a = archive_read_new();
  archive_read_support_filter_gzip(a);
  archive_read_support_format_tar(a);
  assert_int_equal(archive_read_open_fd(a, out, 65536), ARCHIVE_OK);
  struct archive_entry *e;
  cleanup_free char *names = xstrdup("");
  while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
    char *n = xasprintf("%s%s ", names, archive_entry_pathname(e));
    free(names);
    names = n;
  }
  archive_read_free(a);
  assert_string_equal(names, "keep/ keep/created keep/.wh.lower ");
}

static void test_many_lowers(void **state)
{
  (void) state;
  if (!can_run)
    skip();
  enum { N = 200 };
  cleanup_free char *m = sub("many/merged");
  const char *lowers[N];
  size_t total = 0;
  for (int i = 0; i < N; i++) {
    /* long names, as in a real store: the joined option string is far beyond a page */
    char *l = xasprintf("%s/many/%064d/diff", dir, i);
    berth_error_t err = NULL;
    assert_int_equal(berth_mkdir_p(l, 0755, &err), 0);
    char name[32], data[32];
    snprintf(name, sizeof name, "f%03d", i);
    snprintf(data, sizeof data, "layer %d", i);
    const struct tb_entry es[] = { { .name = name, .data = data }, { .name = "common", .data = data } };
    apply_layer(l, es, 2);
    lowers[i] = l;
    total += strlen(l) + 1;
  }
  assert_true(total > 4 * 4096);
  berth_error_t err = NULL;
  if (berth_mountns_overlay(lowers, N, NULL, NULL, m, 0, &err) < 0) {
    print_error("%s\n", err->msg);
    fail();
  }
  cleanup_free char *common = read_in(m, "common");
  assert_string_equal(common, "layer 0");
  for (int i = 0; i < N; i++) {
    char name[32];
    snprintf(name, sizeof name, "f%03d", i);
    assert_true(exists_in(m, name));
  }
  /* read-only without an upper dir */
  cleanup_free char *w = xasprintf("%s/new", m);
  assert_int_equal(open(w, O_CREAT | O_WRONLY | O_CLOEXEC, 0644), -1);
  assert_int_equal(errno, EROFS);
  assert_int_equal(umount2(m, 0), 0);
  for (int i = 0; i < N; i++)
    free((char *) lowers[i]);
}

static void test_odd_paths_and_single(void **state)
{
  (void) state;
  if (!can_run)
    skip();
  cleanup_free char *l1 = sub("odd/a,b:c"), *l2 = sub("odd/plain"), *m = sub("odd/merged");
  const struct tb_entry es1[] = { { .name = "x", .data = "from a,b:c" } };
  const struct tb_entry es2[] = { { .name = "y", .data = "from plain" } };
  apply_layer(l1, es1, 1);
  apply_layer(l2, es2, 1);
  const char *lowers[] = { l1, l2 };
  berth_error_t err = NULL;
  if (berth_mountns_overlay(lowers, 2, NULL, NULL, m, 0, &err) < 0) {
    print_error("%s\n", err->msg);
    fail();
  }
  cleanup_free char *x = read_in(m, "x"), *y = read_in(m, "y");
  assert_string_equal(x, "from a,b:c");
  assert_string_equal(y, "from plain");
  assert_int_equal(umount2(m, 0), 0);
  /* one lower and no upper: overlayfs needs two; a read-only bind does the same */
  assert_int_equal(berth_mountns_overlay(lowers + 1, 1, NULL, NULL, m, 0, &err), 0);
  cleanup_free char *y2 = read_in(m, "y");
  assert_string_equal(y2, "from plain");
  cleanup_free char *w = xasprintf("%s/new", m);
  assert_int_equal(open(w, O_CREAT | O_WRONLY | O_CLOEXEC, 0644), -1);
  assert_int_equal(errno, EROFS);
  assert_int_equal(umount2(m, 0), 0);
}

/* the super options of the mount at target in /proc/self/mountinfo ("" when not mounted) */
static char *super_options(const char *target)
{
  cleanup_free char *info = read_in("/proc/self", "mountinfo");
  char *line = info ? strstr(info, target) : NULL;
  if (line == NULL)
    return xstrdup("");
  size_t len = strcspn(line, "\n");
  return xstrndup(line, len);
}

static void test_volatile(void **state)
{
  (void) state;
  if (!can_run)
    skip();
  cleanup_free char *l1 = sub("vol/l1"), *l2 = sub("vol/a,b"), *u = sub("vol/upper"), *w = sub("vol/work");
  cleanup_free char *m = sub("vol/merged");
  const struct tb_entry es[] = { { .name = "x", .data = "lower" } };
  apply_layer(l1, es, 1);
  apply_layer(l2, es, 1);
  berth_error_t err = NULL;
  /* mount(2), then the new mount API (a lower with ',' cannot go in the option string) */
  const char *const chains[2][1] = { { l1 }, { l2 } };
  for (int i = 0; i < 2; i++) {
    if (berth_mountns_overlay(chains[i], 1, u, w, m, BERTH_MOUNTNS_OVERLAY_VOLATILE, &err) < 0) {
      print_error("%s\n", err->msg);
      fail();
    }
    cleanup_free char *opts = super_options(m);
    assert_non_null(strstr(opts, "volatile"));
    cleanup_free char *f = xasprintf("%s/new", m);
    int fd = open(f, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(umount2(m, 0), 0);
    assert_true(exists_in(u, "new"));
    /* overlayfs marks the work dir; it refuses the upper dir again until the mark is gone */
    assert_true(exists_in(w, "work/incompat/volatile"));
    assert_true(berth_mountns_overlay(chains[i], 1, u, w, m, BERTH_MOUNTNS_OVERLAY_VOLATILE, &err) < 0);
    berth_error_release(&err);
    cleanup_free char *mark = xasprintf("%s/work/incompat/volatile", w);
    unit_rm_rf(mark);
  }
  /* without the flag: no volatile */
  assert_int_equal(berth_mountns_overlay(chains[0], 1, u, w, m, 0, &err), 0);
  cleanup_free char *opts = super_options(m);
  assert_null(strstr(opts, "volatile"));
  assert_int_equal(umount2(m, 0), 0);
}

static void test_errors(void **state)
{
  (void) state;
  if (!can_run)
    skip();
  cleanup_free char *m = sub("err/merged"), *l = sub("err/l");
  berth_error_t err = NULL;
  const char *lowers[] = { l, "/nonexistent/berth/layer" };
  assert_int_equal(berth_mountns_overlay(lowers, 0, NULL, NULL, m, 0, &err), -1);
  unit_assert_error_contains(&err, "no lower layers");
  assert_int_equal(berth_mountns_overlay(lowers, 1, "/tmp", NULL, m, 0, &err), -1);
  unit_assert_error_contains(&err, "upperdir and workdir go together");
  assert_int_equal(berth_mountns_overlay(lowers, 2, NULL, NULL, m, 0, &err), -1);
  unit_assert_error_contains(&err, "mount overlay on `");
  const char *bad[] = { l, "/nonexistent/with,comma" };
  assert_int_equal(berth_mountns_overlay(bad, 2, NULL, NULL, m, 0, &err), -1);
  unit_assert_error_contains(&err, "set `lowerdir+` to `/nonexistent/with,comma`");
  const char *empty[] = { l, "" };
  assert_int_equal(berth_mountns_overlay(empty, 2, NULL, NULL, m, 0, &err), -1);
  unit_assert_error_contains(&err, "empty lower layer path #1");
}

/* a bind of a file and of a directory, made read-only, then detached; detaching what is not
 * mounted, or not there, is 1 */
static void test_bind_readonly_detach(void **state)
{
  (void) state;
  if (!can_run)
    skip();
  cleanup_free char *src = sub("bind/src"), *dst = sub("bind/dst");
  cleanup_free char *file = xasprintf("%s/f", src), *seen = xasprintf("%s/f", dst);
  berth_error_t err = NULL;
  assert_int_equal(berth_write_file_atomic(file, "x", 1, 0644, &err), 0);
  cleanup_close int at = open(dst, O_PATH | O_DIRECTORY | O_CLOEXEC);
  assert_true(at >= 0);
  assert_int_equal(berth_mountns_bind(src, at, "/dst", &err), 0);
  assert_int_equal(access(seen, F_OK), 0);
  cleanup_close int now = open(dst, O_PATH | O_DIRECTORY | O_CLOEXEC);
  assert_int_equal(berth_mountns_make_readonly(now, "/dst", &err), 0);
  assert_int_equal(open(seen, O_WRONLY | O_CLOEXEC), -1);
  assert_int_equal(errno, EROFS);
  assert_int_equal(berth_mountns_detach(dst, &err), 0);
  assert_int_equal(access(seen, F_OK), -1);
  assert_int_equal(berth_mountns_detach(dst, &err), 1); /* nothing mounted there */
  cleanup_free char *gone = xasprintf("%s/no/such", dir);
  assert_int_equal(berth_mountns_detach(gone, &err), 1);
  assert_int_equal(berth_mountns_bind("/nonexistent/berth", at, "/dst", &err), -1);
  unit_assert_error_contains(&err, "bind `/nonexistent/berth` on `/dst`: No such file or directory");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_chain),
    cmocka_unit_test(test_many_lowers),
    cmocka_unit_test(test_odd_paths_and_single),
    cmocka_unit_test(test_volatile),
    cmocka_unit_test(test_errors),
    cmocka_unit_test(test_bind_readonly_detach),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
