/* The copy engine of `berth cp` (engine/cp/cp.h) on real directories: docker cp's path
 * rules, what is preserved (owners, modes, times, hard links, special files, xattrs), and that
 * nothing in a "container" root — symlinks to /etc/shadow or ../../.., ".." in paths — makes it
 * read or write outside that root. The mounter: an image's layers mounted read-only for a copy. */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/xalloc.h"
#include "engine/cp/cp.h"

struct fixture {
  char *top;  /* the test's directory */
  char *root; /* top/root: the "container" */
  char *host; /* top/host: host paths */
  int rootfd;
};

static int setup(void **state)
{
  struct fixture *f = xcalloc(1, sizeof *f);
  f->top = unit_mkdtemp();
  f->root = xasprintf("%s/root", f->top);
  f->host = xasprintf("%s/host", f->top);
  assert_int_equal(mkdir(f->root, 0755), 0);
  assert_int_equal(mkdir(f->host, 0755), 0);
  f->rootfd = open(f->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  assert_true(f->rootfd >= 0);
  *state = f;
  return 0;
}

static int teardown(void **state)
{
  struct fixture *f = *state;
  close(f->rootfd);
  unit_rm_rf(f->top);
  free(f->top);
  free(f->root);
  free(f->host);
  free(f);
  return 0;
}

static void put(const char *dir, const char *name, const char *text)
{
  cleanup_free char *p = xasprintf("%s/%s", dir, name);
  FILE *fp = fopen(p, "w");
  assert_non_null(fp);
  fputs(text, fp);
  fclose(fp);
}

static char *get(const char *dir, const char *name)
{
  cleanup_free char *p = xasprintf("%s/%s", dir, name);
  char *text = NULL;
  berth_error_t err = NULL;
  if (berth_read_file(p, 0, &text, NULL, &err) < 0) {
    berth_error_release(&err);
    return xstrdup("(missing)");
  }
  return text;
}

static void sub(const char *dir, const char *name)
{
  cleanup_free char *p = xasprintf("%s/%s", dir, name);
  assert_int_equal(mkdir(p, 0755), 0);
}

/* copy out of the "container" (to_host) or into it; returns the call's result, err kept */
static int cp(struct fixture *f, bool to_host, const char *src, const char *dst, bool follow,
              berth_error_t *err)
{
  struct berth_cp_side ctr = { .root = f->rootfd }, host = { .root = -1 };
  struct berth_cp_opts o = { .follow_link = follow };
  cleanup_free char *h = xasprintf("%s/%s", f->host, to_host ? dst : src);
  return to_host ? berth_cp_copy(&ctr, src, &host, h, &o, NULL, err)
                 : berth_cp_copy(&host, h, &ctr, dst, &o, NULL, err);
}

static void test_rules(void **state)
{
  struct fixture *f = *state;
  berth_error_t err = NULL;
  put(f->root, "file", "one");
  sub(f->root, "dir");
  sub(f->root, "dir/deep");
  put(f->root, "dir/deep/a", "A");
  /* a file to a missing path, to a file (replaced), into a directory */
  assert_int_equal(cp(f, true, "/file", "copy", false, &err), 0);
  cleanup_free char *c1 = get(f->host, "copy");
  assert_string_equal(c1, "one");
  put(f->host, "other", "old");
  assert_int_equal(cp(f, true, "file", "other", false, &err), 0);
  cleanup_free char *c2 = get(f->host, "other");
  assert_string_equal(c2, "one");
  sub(f->host, "in");
  assert_int_equal(cp(f, true, "/file", "in", false, &err), 0);
  cleanup_free char *c3 = get(f->host, "in/file");
  assert_string_equal(c3, "one");
  /* a directory to a missing path (its contents), into a directory (dir/<name>), "/." (contents) */
  assert_int_equal(cp(f, true, "/dir", "d1", false, &err), 0);
  cleanup_free char *c4 = get(f->host, "d1/deep/a");
  assert_string_equal(c4, "A");
  assert_int_equal(cp(f, true, "/dir", "in", false, &err), 0);
  cleanup_free char *c5 = get(f->host, "in/dir/deep/a");
  assert_string_equal(c5, "A");
  sub(f->host, "flat");
  assert_int_equal(cp(f, true, "/dir/.", "flat", false, &err), 0);
  cleanup_free char *c6 = get(f->host, "flat/deep/a");
  assert_string_equal(c6, "A");
  /* errors: a directory onto a file, a file named with "/", a missing "dst/" */
  assert_int_equal(cp(f, true, "/dir", "copy", false, &err), -1);
  unit_assert_error_contains(&err, "cannot copy a directory to a file");
  assert_int_equal(cp(f, true, "/file/", "x", false, &err), -1);
  unit_assert_error_contains(&err, "not a directory");
  assert_int_equal(cp(f, true, "/file", "nodir/", false, &err), -1);
  unit_assert_error_contains(&err, "does not exist");
  assert_int_equal(cp(f, true, "/nope", "x", false, &err), -1);
  unit_assert_error_contains(&err, "No such file or directory");
  /* a directory never replaces a file inside a tree, nor the reverse */
  sub(f->host, "clash");
  put(f->host, "clash/deep", "file where a dir comes");
  assert_int_equal(cp(f, true, "/dir/.", "clash", false, &err), -1);
  unit_assert_error_contains(&err, "cannot overwrite non-directory");
  /* into the container: the same rules */
  put(f->host, "new", "fresh");
  assert_int_equal(cp(f, false, "new", "/dir/deep", false, &err), 0);
  cleanup_free char *c7 = get(f->root, "dir/deep/new");
  assert_string_equal(c7, "fresh");
}

static void test_preserved(void **state)
{
  struct fixture *f = *state;
  berth_error_t err = NULL;
  sub(f->root, "t");
  put(f->root, "t/suid", "x");
  cleanup_free char *suid = xasprintf("%s/t/suid", f->root), *hl = xasprintf("%s/t/hard", f->root);
  cleanup_free char *fifo = xasprintf("%s/t/fifo", f->root), *lnk = xasprintf("%s/t/link", f->root);
  cleanup_free char *dev = xasprintf("%s/t/null", f->root);
  assert_int_equal(chown(suid, 1234, 5678), 0);
  assert_int_equal(chmod(suid, 04750), 0);
  struct timespec times[2] = { { .tv_sec = 1000000000 }, { .tv_sec = 1234567890, .tv_nsec = 5 } };
  assert_int_equal(utimensat(AT_FDCWD, suid, times, 0), 0);
  assert_int_equal(link(suid, hl), 0);
  assert_int_equal(mkfifo(fifo, 0640), 0);
  assert_int_equal(mknod(dev, S_IFCHR | 0666, makedev(1, 3)), 0);
  assert_int_equal(symlink("/etc/shadow", lnk), 0);
  bool xattrs = setxattr(suid, "user.berth", "v", 1, 0) == 0;
  cleanup_free char *tdir = xasprintf("%s/t", f->root);
  assert_int_equal(chown(tdir, 42, 43), 0);
  assert_int_equal(chmod(tdir, 0710), 0);
  struct berth_cp_stats stats = { 0 };
  struct berth_cp_side ctr = { .root = f->rootfd }, host = { .root = -1 };
  cleanup_free char *dst = xasprintf("%s/t", f->host);
  assert_int_equal(berth_cp_copy(&ctr, "/t", &host, dst, NULL, &stats, &err), 0);
  unit_assert_no_error(&err);
  assert_int_equal(stats.bytes, 1); /* the hard link is not copied twice */
  struct stat a, b, d;
  cleanup_free char *s2 = xasprintf("%s/suid", dst), *h2 = xasprintf("%s/hard", dst);
  assert_int_equal(stat(s2, &a), 0);
  assert_int_equal(stat(h2, &b), 0);
  assert_int_equal(a.st_uid, 1234);
  assert_int_equal(a.st_gid, 5678);
  assert_int_equal(a.st_mode & 07777, 04750);
  assert_int_equal(a.st_mtim.tv_sec, 1234567890);
  assert_int_equal(a.st_mtim.tv_nsec, 5);
  assert_int_equal(a.st_ino, b.st_ino);
  assert_int_equal(stat(dst, &d), 0);
  assert_int_equal(d.st_uid, 42);
  assert_int_equal(d.st_mode & 07777, 0710);
  cleanup_free char *f2 = xasprintf("%s/fifo", dst), *l2 = xasprintf("%s/link", dst),
                    *n2 = xasprintf("%s/null", dst);
  assert_int_equal(lstat(f2, &a), 0);
  assert_true(S_ISFIFO(a.st_mode));
  assert_int_equal(a.st_mode & 07777, 0640);
  assert_int_equal(lstat(n2, &a), 0);
  assert_true(S_ISCHR(a.st_mode));
  assert_int_equal(a.st_rdev, makedev(1, 3));
  char target[64] = { 0 };
  assert_int_equal(readlink(l2, target, sizeof target - 1), 11);
  assert_string_equal(target, "/etc/shadow"); /* copied as a link, never followed */
  if (xattrs) {
    char v[8] = { 0 };
    assert_int_equal(getxattr(s2, "user.berth", v, sizeof v), 1);
    assert_string_equal(v, "v");
  }
}

static char *file_digest(const char *path)
{
  struct stat st;
  if (stat(path, &st) < 0)
    return xstrdup("absent");
  return xasprintf("%lld.%ld:%lld", (long long) st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
                   (long long) st.st_size);
}

/* symlinks and ".." in the container never reach the host */
static void test_escapes(void **state)
{
  struct fixture *f = *state;
  berth_error_t err = NULL;
  sub(f->root, "etc");
  put(f->root, "etc/passwd", "inside");
  cleanup_free char *l1 = xasprintf("%s/shadow", f->root), *l2 = xasprintf("%s/up", f->root);
  cleanup_free char *l3 = xasprintf("%s/hostdir", f->root), *l4 = xasprintf("%s/etc/rel", f->root);
  assert_int_equal(symlink("/etc/shadow", l1), 0);
  assert_int_equal(symlink("../../../../../../..", l2), 0);
  assert_int_equal(symlink(f->host, l3), 0); /* an absolute host path: inside the root it is missing */
  assert_int_equal(symlink("../../../../../etc/passwd", l4), 0);
  cleanup_free char *shadow_before = file_digest("/etc/shadow"), *passwd_before = file_digest("/etc/passwd");
  /* reading through them: only the root's files */
  assert_int_equal(cp(f, true, "/up/etc/passwd", "p1", false, &err), 0);
  cleanup_free char *p1 = get(f->host, "p1");
  assert_string_equal(p1, "inside");
  assert_int_equal(cp(f, true, "/etc/rel", "p2", true, &err), 0); /* -L */
  cleanup_free char *p2 = get(f->host, "p2");
  assert_string_equal(p2, "inside");
  assert_int_equal(cp(f, true, "/shadow", "s1", true, &err), -1); /* -L: the root's /etc/shadow, absent */
  unit_assert_error_contains(&err, "No such file or directory");
  assert_int_equal(cp(f, true, "/up/../../etc/shadow", "s2", false, &err), -1);
  unit_assert_error_contains(&err, "No such file or directory");
  assert_int_equal(cp(f, true, "/hostdir/", "s3", false, &err), -1);
  err ? berth_error_release(&err) : (void) 0;
  /* writing through them: into the root, or replacing the link itself */
  put(f->host, "payload", "evil");
  assert_int_equal(cp(f, false, "payload", "/shadow", false, &err), 0);
  struct stat st;
  assert_int_equal(lstat(l1, &st), 0);
  assert_true(S_ISREG(st.st_mode)); /* the link was replaced, not followed */
  assert_int_equal(cp(f, false, "payload", "/up/etc/x", false, &err), 0);
  cleanup_free char *x = get(f->root, "etc/x");
  assert_string_equal(x, "evil");
  assert_int_equal(cp(f, false, "payload", "/up/../../../etc/y", false, &err), 0);
  cleanup_free char *y = get(f->root, "etc/y");
  assert_string_equal(y, "evil");
  assert_int_equal(cp(f, false, "payload", "/hostdir/z", false, &err), -1);
  unit_assert_error_contains(&err, "destination directory");
  cleanup_free char *z = get(f->host, "z");
  assert_string_equal(z, "(missing)");
  cleanup_free char *shadow_after = file_digest("/etc/shadow"), *passwd_after = file_digest("/etc/passwd");
  assert_string_equal(shadow_before, shadow_after);
  assert_string_equal(passwd_before, passwd_after);
}

static void test_tree_into(void **state)
{
  struct fixture *f = *state;
  berth_error_t err = NULL;
  sub(f->root, "data");
  put(f->root, "data/seed", "s");
  cleanup_free char *d = xasprintf("%s/data", f->root), *v = xasprintf("%s/vol", f->host);
  assert_int_equal(chown(d, 999, 998), 0);
  assert_int_equal(chmod(d, 0700), 0);
  assert_int_equal(mkdir(v, 0755), 0);
  cleanup_close int src = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC),
                    dst = open(v, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  assert_int_equal(berth_cp_tree_into(src, dst, NULL, &err), 0);
  struct stat st;
  assert_int_equal(stat(v, &st), 0);
  assert_int_equal(st.st_uid, 999);
  assert_int_equal(st.st_mode & 07777, 0700);
  cleanup_free char *s = get(v, "seed");
  assert_string_equal(s, "s");
}

/* the mounter: two "layers" as a read-only overlay, the top one's file winning */
static void test_mounter(void **state)
{
  struct fixture *f = *state;
  berth_error_t err = NULL;
  cleanup_free char *low = xasprintf("%s/low", f->top), *top = xasprintf("%s/top", f->top);
  cleanup_free char *target = xasprintf("%s/mnt", f->top);
  assert_int_equal(mkdir(low, 0755), 0);
  assert_int_equal(mkdir(top, 0755), 0);
  assert_int_equal(mkdir(target, 0755), 0);
  put(low, "a", "low");
  put(low, "b", "low");
  put(top, "a", "top");
  const char *lowers[] = { top, low };
  struct berth_cp_mount_in in = { .lowers = lowers, .nlowers = 2, .target = target };
  struct berth_cp_mounter m;
  assert_int_equal(berth_cp_mounter_start(&in, &m, &err), 0);
  unit_assert_no_error(&err);
  struct berth_cp_side side = { .root = m.root }, host = { .root = -1 };
  cleanup_free char *out = xasprintf("%s/merged", f->host);
  assert_int_equal(berth_cp_copy(&side, "/", &host, out, NULL, NULL, &err), 0);
  cleanup_free char *a = get(out, "a"), *b = get(out, "b");
  assert_string_equal(a, "top");
  assert_string_equal(b, "low");
  berth_cp_mounter_stop(&m);
  /* nothing was mounted here: the mount lived in the child's namespace */
  cleanup_free char *mi = NULL;
  assert_int_equal(berth_read_file("/proc/self/mountinfo", 0, &mi, NULL, &err), 0);
  assert_null(strstr(mi, target));
  assert_int_equal(rmdir(target), 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_rules, setup, teardown),
    cmocka_unit_test_setup_teardown(test_preserved, setup, teardown),
    cmocka_unit_test_setup_teardown(test_escapes, setup, teardown),
    cmocka_unit_test_setup_teardown(test_tree_into, setup, teardown),
    cmocka_unit_test_setup_teardown(test_mounter, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
