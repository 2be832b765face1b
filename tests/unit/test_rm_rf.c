/* berth_rm_rf on trees a container can make: deeper than the descriptor limit, symlinks out,
 * mount points inside, modes and flags that stop a plain rm (issue 11, finding 4). */
#include "unit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/xalloc.h"

#ifndef FS_IOC_GETFLAGS
#define FS_IOC_GETFLAGS _IOR('f', 1, long)
#define FS_IOC_SETFLAGS _IOW('f', 2, long)
#endif
#define IMMUTABLE_FL 0x00000010
#define APPEND_FL    0x00000020

static int count_fds(void)
{
  cleanup_dir DIR *d = opendir("/proc/self/fd");
  assert_non_null(d);
  int n = 0;
  for (struct dirent *de; (de = readdir(d)) != NULL;)
    n += de->d_name[0] != '.';
  return n;
}

static bool exists(const char *path)
{
  struct stat st;
  return lstat(path, &st) == 0;
}

static void touch_at(int dirfd, const char *name)
{
  int fd = openat(dirfd, name, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
  assert_true(fd >= 0);
  close(fd);
}

/* dir/d/d/.../d, depth levels, a file f every `every` levels (0: none); the deepest level open */
static int make_chain(const char *dir, int depth, int every)
{
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  assert_true(fd >= 0);
  for (int i = 1; i <= depth; i++) {
    assert_int_equal(mkdirat(fd, "d", 0755), 0);
    int next = openat(fd, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(next >= 0);
    if (every > 0 && i % every == 0)
      touch_at(next, "f");
    close(fd);
    fd = next;
  }
  return fd;
}

static void test_deep_tree_under_a_low_fd_limit(void **state)
{
  cleanup_free char *dir = unit_mkdtemp();
  cleanup_free char *tree = xasprintf("%s/tree", dir);
  assert_int_equal(mkdir(tree, 0755), 0);
  close(make_chain(tree, 12000, 1000)); /* 187 times the limit below, 6 times PATH_MAX deep */
  struct rlimit old, low;
  assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
  low = old;
  low.rlim_cur = 64;
  assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
  int before = count_fds();
  berth_error_t err = NULL;
  int r = berth_rm_rf(tree, &err);
  int after = count_fds();
  assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
  unit_assert_no_error(&err);
  assert_int_equal(r, 0);
  assert_false(exists(tree));
  assert_int_equal(after, before);
  unit_rm_rf(dir);
}

/* berth_rm_rf_at (a layer's whiteout of a directory): the name in a directory, its siblings kept */
static void test_rm_rf_at_a_name(void **state)
{
  cleanup_free char *dir = unit_mkdtemp();
  cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  assert_int_equal(mkdirat(dfd, "tree", 0755), 0);
  assert_int_equal(mkdirat(dfd, "sibling", 0755), 0);
  touch_at(dfd, "file");
  cleanup_free char *tree = xasprintf("%s/tree", dir);
  close(make_chain(tree, 5000, 100));
  struct rlimit old, low;
  assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
  low = old;
  low.rlim_cur = 32;
  assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
  berth_error_t err = NULL;
  int r = berth_rm_rf_at(dfd, "tree", &err);
  assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
  unit_assert_no_error(&err);
  assert_int_equal(r, 0);
  assert_int_equal(berth_rm_rf_at(dfd, "file", &err), 0);
  struct stat st;
  assert_int_equal(fstatat(dfd, "tree", &st, AT_SYMLINK_NOFOLLOW), -1);
  assert_int_equal(fstatat(dfd, "file", &st, AT_SYMLINK_NOFOLLOW), -1);
  assert_int_equal(fstatat(dfd, "sibling", &st, AT_SYMLINK_NOFOLLOW), 0);
  unit_rm_rf(dir);
}

/* a chain deeper than the window, climbed back through `..`, with branches at every level */
static void test_deep_tree_with_branches(void **state)
{
  cleanup_free char *dir = unit_mkdtemp();
  cleanup_free char *tree = xasprintf("%s/tree", dir);
  assert_int_equal(mkdir(tree, 0755), 0);
  int fd = open(tree, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  for (int i = 0; i < 200; i++) {
    char name[16];
    for (int k = 0; k < 3; k++) {
      snprintf(name, sizeof name, "b%d", k);
      assert_int_equal(mkdirat(fd, name, 0755), 0);
      int b = openat(fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      touch_at(b, "x");
      close(b);
    }
    assert_int_equal(mkdirat(fd, "z", 0755), 0);
    int next = openat(fd, "z", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    close(fd);
    fd = next;
  }
  close(fd);
  berth_error_t err = NULL;
  assert_int_equal(berth_rm_rf(tree, &err), 0);
  unit_assert_no_error(&err);
  assert_false(exists(tree));
  unit_rm_rf(dir);
}

/* more entries than one getdents64 buffer holds, removed while they are read */
static void test_wide_directory(void **state)
{
  cleanup_free char *dir = unit_mkdtemp();
  cleanup_free char *tree = xasprintf("%s/tree", dir);
  assert_int_equal(mkdir(tree, 0755), 0);
  cleanup_close int fd = open(tree, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  for (int i = 0; i < 4000; i++) {
    char name[128];
    snprintf(name, sizeof name, "entry-with-a-rather-long-name-to-fill-the-buffer-sooner-%06d", i);
    if (i % 7 == 0)
      assert_int_equal(mkdirat(fd, name, 0755), 0);
    else
      touch_at(fd, name);
  }
  berth_error_t err = NULL;
  assert_int_equal(berth_rm_rf(tree, &err), 0);
  unit_assert_no_error(&err);
  assert_false(exists(tree));
  unit_rm_rf(dir);
}

static void test_symlinks_are_removed_never_followed(void **state)
{
  cleanup_free char *dir = unit_mkdtemp();
  cleanup_free char *tree = xasprintf("%s/tree", dir), *outside = xasprintf("%s/outside", dir);
  cleanup_free char *keep = xasprintf("%s/keep", outside), *sub = xasprintf("%s/sub/keep", outside);
  assert_int_equal(mkdir(tree, 0755), 0);
  assert_int_equal(mkdir(outside, 0755), 0);
  cleanup_free char *subdir = xasprintf("%s/sub", outside);
  assert_int_equal(mkdir(subdir, 0755), 0);
  cleanup_close int ofd = open(outside, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  touch_at(ofd, "keep");
  touch_at(ofd, "sub/keep");
  cleanup_free char *top = xasprintf("%s/out", tree);
  assert_int_equal(symlink(outside, top), 0);
  int deep = make_chain(tree, 40, 0); /* beyond the window of open levels */
  assert_int_equal(symlinkat(outside, deep, "out"), 0);
  assert_int_equal(symlinkat(keep, deep, "file"), 0);
  assert_int_equal(
    symlinkat("../../../../../../../../../../../../../../../../../../../../../../../../../../../../"
              "../../../../../../../../../../../../../../..",
              deep, "up"),
    0);
  close(deep);
  berth_error_t err = NULL;
  assert_int_equal(berth_rm_rf(tree, &err), 0);
  unit_assert_no_error(&err);
  assert_false(exists(tree));
  assert_true(exists(keep));
  assert_true(exists(sub));
  /* a symlink as the path itself: the link goes, not its target */
  assert_int_equal(symlink(outside, tree), 0);
  assert_int_equal(berth_rm_rf(tree, &err), 0);
  assert_false(exists(tree));
  assert_true(exists(keep));
  assert_int_equal(berth_rm_rf(tree, &err), 0); /* gone already */
  unit_rm_rf(dir);
}

/* A hostile container moving directories up and down its tree while it is removed: the walk
 * climbs back through `..` into places it did not come from. Whatever it meets is inside the
 * tree; nothing beside the tree is touched, and a second removal after the mover stops ends it. */
static void mover(const char *tree, unsigned seed, int ready, volatile unsigned *moves)
{
  char deep[1024], up[1024], down[1024];
  snprintf(up, sizeof up, "%s/up", tree);
  int n = snprintf(down, sizeof down, "%s/s", tree);
  for (int k = 0; k < 30; k++)
    n += snprintf(down + n, sizeof down - (size_t) n, "/s");
  snprintf(down + n, sizeof down - (size_t) n, "/x");
  for (unsigned i = 0;; i++) {
    if (i == 64)
      close(ready); /* moving: the removal may start */
    seed = seed * 1103515245 + 12345;
    int depth = 1 + (int) ((seed >> 8) % 40);
    int m = snprintf(deep, sizeof deep, "%s", tree);
    for (int k = 0; k < depth; k++)
      m += snprintf(deep + m, sizeof deep - (size_t) m, "/d");
    /* up to the top or down a side chain, and back: a walk below it climbs into the root sooner
     * than it counted, or is still deep when it counted one level left */
    const char *to = i % 2 ? up : down;
    if (rename(deep, to) == 0) {
      *moves += 1;
      sched_yield();
      (void) !rename(to, deep);
    }
  }
}

static void test_tree_moving_while_removed(void **state)
{
  cleanup_free char *dir = unit_mkdtemp();
  cleanup_free char *tree = xasprintf("%s/tree", dir), *beside = xasprintf("%s/beside", dir);
  cleanup_free char *keep = xasprintf("%s/keep", beside);
  assert_int_equal(mkdir(beside, 0755), 0);
  cleanup_close int bfd = open(beside, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  touch_at(bfd, "keep");
  volatile unsigned *moves = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  assert_true(moves != MAP_FAILED);
  for (unsigned round = 0; round < 5; round++) {
    assert_int_equal(mkdir(tree, 0755), 0);
    close(make_chain(tree, 2000, 7));
    cleanup_free char *side = xasprintf("%s/s", tree);
    assert_int_equal(mkdir(side, 0755), 0);
    int sfd = open(side, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    for (int k = 0; k < 30; k++) {
      assert_int_equal(mkdirat(sfd, "s", 0755), 0);
      int next = openat(sfd, "s", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      close(sfd);
      sfd = next;
    }
    close(sfd);
    int p[2];
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    *moves = 0;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
      close(p[0]);
      mover(tree, round, p[1], moves);
      _exit(0);
    }
    close(p[1]);
    char c;
    assert_int_equal(read(p[0], &c, 1), 0);
    close(p[0]);
    berth_error_t err = NULL;
    if (berth_rm_rf(tree, &err) < 0)
      berth_error_release(&err); /* it may give up on a tree that keeps changing */
    kill(pid, SIGKILL);
    assert_int_equal(waitpid(pid, NULL, 0), pid);
    assert_true(*moves > 0);
    assert_int_equal(berth_rm_rf(tree, &err), 0);
    unit_assert_no_error(&err);
    assert_false(exists(tree));
    assert_true(exists(keep));
  }
  munmap((void *) moves, 4096);
  unit_rm_rf(dir);
}

/* in a private mount namespace: 0 as expected, 77 when mounts cannot be made, else a failure */
static int mount_child(const char *dir)
{
  if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    return 77;
  cleanup_free char *a = xasprintf("%s/a", dir), *b = xasprintf("%s/b", dir), *out = xasprintf("%s/out", dir);
  if (mkdir(a, 0755) < 0 || mkdir(b, 0755) < 0 || mkdir(out, 0755) < 0)
    return 1;
  cleanup_free char *keep = xasprintf("%s/keep", out);
  close(open(keep, O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
  /* a: a tmpfs 20 levels down (another device); b: a bind mount of out (the same device) */
  close(make_chain(a, 20, 0));
  close(make_chain(b, 3, 0));
  cleanup_free char *tmp = xasprintf("%s/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/t", a);
  cleanup_free char *bind = xasprintf("%s/d/d/d/bind", b);
  cleanup_free char *tkeep = xasprintf("%s/keep", tmp);
  if (mkdir(tmp, 0755) < 0 || mount("tmpfs", tmp, "tmpfs", 0, NULL) < 0 || mkdir(bind, 0755) < 0 ||
      mount(out, bind, NULL, MS_BIND, NULL) < 0)
    return 77;
  close(open(tkeep, O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
  berth_error_t err = NULL;
  if (berth_rm_rf(a, &err) == 0 || strstr(err->msg, "mount point") == NULL || !exists(tkeep))
    return fprintf(stderr, "tmpfs: %s\n", err ? err->msg : "removed"), 2;
  berth_error_release(&err);
  int r = berth_rm_rf(b, &err);
  if (!exists(keep))
    return fprintf(stderr, "bind: `%s` was removed through the mount\n", keep), 3;
  if (r == 0 || strstr(err->msg, "`bind` at depth 4 is a mount point: unmount it first") == NULL)
    return fprintf(stderr, "bind: %s\n", err ? err->msg : "removed"), 4;
  berth_error_release(&err);
  /* unmounted, the rest goes */
  if (umount(tmp) < 0 || umount(bind) < 0 || berth_rm_rf(a, &err) < 0 || berth_rm_rf(b, &err) < 0)
    return 5;
  return exists(a) || exists(b) || !exists(keep) ? 6 : 0;
}

static void test_mount_points_are_refused(void **state)
{
  cleanup_free char *dir = unit_mkdtemp();
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0)
    _exit(mount_child(dir));
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  unit_rm_rf(dir);
  assert_true(WIFEXITED(status));
  if (WEXITSTATUS(status) == 77)
    skip();
  assert_int_equal(WEXITSTATUS(status), 0);
}

static bool set_flags(const char *path, int flags)
{
  cleanup_close int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  int cur = 0;
  if (fd < 0 || ioctl(fd, FS_IOC_GETFLAGS, &cur) < 0)
    return false;
  cur |= flags;
  return ioctl(fd, FS_IOC_SETFLAGS, &cur) == 0;
}

/* immutable and append-only files and directories, and directories of mode 000 and 0500 */
static void test_modes_and_flags_do_not_stop_root(void **state)
{
  if (geteuid() != 0)
    skip();
  cleanup_free char *dir = unit_mkdtemp();
  cleanup_free char *tree = xasprintf("%s/tree", dir);
  assert_int_equal(mkdir(tree, 0755), 0);
  cleanup_close int fd = open(tree, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  const char *dirs[] = { "i", "a", "m0", "m5", "i/sub" };
  for (size_t k = 0; k < BERTH_N_ELEMENTS(dirs); k++)
    assert_int_equal(mkdirat(fd, dirs[k], 0755), 0);
  const char *files[] = { "file", "i/f", "a/f", "m0/f", "m5/f", "i/sub/f" };
  for (size_t k = 0; k < BERTH_N_ELEMENTS(files); k++)
    touch_at(fd, files[k]);
  cleanup_free char *file = xasprintf("%s/file", tree), *idir = xasprintf("%s/i", tree);
  cleanup_free char *adir = xasprintf("%s/a", tree), *isub = xasprintf("%s/i/sub/f", tree);
  bool flags = set_flags(file, IMMUTABLE_FL) && set_flags(isub, APPEND_FL) && set_flags(idir, IMMUTABLE_FL) &&
               set_flags(adir, APPEND_FL);
  assert_int_equal(fchmodat(fd, "m0", 0, 0), 0);
  assert_int_equal(fchmodat(fd, "m5", 0500, 0), 0);
  berth_error_t err = NULL;
  assert_int_equal(berth_rm_rf(tree, &err), 0);
  unit_assert_no_error(&err);
  assert_false(exists(tree));
  unit_rm_rf(dir);
  if (!flags)
    skip(); /* the file system has no such flags: the modes alone were tested */
}

/* without CAP_DAC_OVERRIDE (a user's own tree): directories of mode 000 and 0500 */
static int unprivileged_child(const char *tree)
{
  if (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
    return 77;
  if (mkdir(tree, 0755) < 0)
    return 1;
  cleanup_close int fd = open(tree, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  const char *dirs[] = { "m0", "m5", "m0/in", "m3" };
  for (size_t k = 0; k < BERTH_N_ELEMENTS(dirs); k++)
    if (mkdirat(fd, dirs[k], 0755) < 0)
      return 1;
  const char *files[] = { "m0/f", "m5/f", "m0/in/f", "m3/f" };
  for (size_t k = 0; k < BERTH_N_ELEMENTS(files); k++)
    close(openat(fd, files[k], O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
  if (fchmodat(fd, "m0/in", 0, 0) < 0 || fchmodat(fd, "m0", 0, 0) < 0 || fchmodat(fd, "m5", 0500, 0) < 0 ||
      fchmodat(fd, "m3", 0300, 0) < 0)
    return 1;
  berth_error_t err = NULL;
  if (berth_rm_rf(tree, &err) < 0)
    return fprintf(stderr, "%s\n", err->msg), 2;
  return exists(tree) ? 3 : 0;
}

static void test_modes_of_a_users_own_tree(void **state)
{
  if (geteuid() != 0)
    skip();
  cleanup_free char *dir = unit_mkdtemp();
  cleanup_free char *tree = xasprintf("%s/tree", dir);
  assert_int_equal(chown(dir, 65534, 65534), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0)
    _exit(unprivileged_child(tree));
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  unit_rm_rf(dir);
  assert_true(WIFEXITED(status));
  if (WEXITSTATUS(status) == 77)
    skip();
  assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_deep_tree_under_a_low_fd_limit),
    cmocka_unit_test(test_rm_rf_at_a_name),
    cmocka_unit_test(test_deep_tree_with_branches),
    cmocka_unit_test(test_wide_directory),
    cmocka_unit_test(test_symlinks_are_removed_never_followed),
    cmocka_unit_test(test_tree_moving_while_removed),
    cmocka_unit_test(test_mount_points_are_refused),
    cmocka_unit_test(test_modes_and_flags_do_not_stop_root),
    cmocka_unit_test(test_modes_of_a_users_own_tree),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
