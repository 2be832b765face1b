/* Real container filesystems: a forked child unshares a mount namespace (and a user and
 * pid namespace in one test), runs prepare/pivot/finalize on a busybox-static rootfs with
 * a hand-built spec, and reports what it sees through a shared page. */
#include "unit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "linux/rootfs/rootfs.h"

#define BUSYBOX "/bin/busybox"
#ifndef MQUEUE_MAGIC
#define MQUEUE_MAGIC 0x19800202
#endif

struct report {
  int failures;
  bool error; /* a berth call failed; msg holds its message */
  char msg[8192];
};
static struct report *R; /* MAP_SHARED: written by the child (and grandchildren) */

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...)
{
  size_t len = strlen(R->msg);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(R->msg + len, sizeof R->msg - len, fmt, ap);
  va_end(ap);
}

#define CHECK(cond)                                                                                          \
  do {                                                                                                       \
    errno = 0;                                                                                               \
    if (!(cond)) {                                                                                           \
      R->failures++;                                                                                         \
      note("line %d: %s (errno: %s)\n", __LINE__, #cond, strerror(errno));                                   \
    }                                                                                                        \
  } while (0)

/* a berth call in the child: on failure keep the message, count it */
static bool ok_call(int r, berth_error_t *err)
{
  if (r >= 0)
    return true;
  R->error = true;
  R->failures++;
  note("%s\n", *err ? (*err)->msg : "(no error message)");
  berth_error_release(err);
  return false;
}

/* ---------------- fixture ---------------- */

struct fx {
  char *tmp, *rootfs, *vol, *esc;
};

static char *pathf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *pathf(const char *fmt, ...)
{
  char *s = NULL;
  va_list ap;
  va_start(ap, fmt);
  assert_true(vasprintf(&s, fmt, ap) >= 0);
  va_end(ap);
  return s;
}

static void put_file(const char *path, const void *data, size_t len, mode_t mode)
{
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  assert_true(fd >= 0);
  assert_int_equal(berth_write_all(fd, data, len), 0);
  close(fd);
}

static int fx_setup(void **state)
{
  struct fx *f = xcalloc(1, sizeof *f);
  f->tmp = unit_mkdtemp();
  f->rootfs = pathf("%s/rootfs", f->tmp);
  f->vol = pathf("%s/vol", f->tmp);
  f->esc = pathf("berth-escape-%d", (int) getpid());
  static const char *const dirs[] = { "",     "/bin", "/proc",   "/sys",        "/dev",
                                      "/etc", "/tmp", "/ro-dir", "/ro-dir/sub", "/masked-dir" };
  for (size_t i = 0; i < BERTH_N_ELEMENTS(dirs); i++) {
    cleanup_free char *d = pathf("%s%s", f->rootfs, dirs[i]);
    assert_int_equal(mkdir(d, 0755), 0);
  }
  cleanup_free char *bb = NULL;
  size_t bblen = 0;
  berth_error_t err = NULL;
  if (berth_read_file(BUSYBOX, 0, &bb, &bblen, &err) < 0) {
    print_error("%s: install busybox-static\n", err->msg);
    berth_error_release(&err);
    fail();
  }
  cleanup_free char *bbdst = pathf("%s/bin/busybox", f->rootfs);
  put_file(bbdst, bb, bblen, 0755);
  cleanup_free char *hn = pathf("%s/etc/hostname", f->rootfs);
  put_file(hn, "berth\n", 6, 0644);
  cleanup_free char *secret = pathf("%s/masked-dir/secret", f->rootfs);
  put_file(secret, "s", 1, 0600);
  cleanup_free char *evil = pathf("%s/evil", f->rootfs), *evil2 = pathf("%s/evil2", f->rootfs);
  assert_int_equal(symlink("/", evil), 0);
  assert_int_equal(symlink("../../../../../../..", evil2), 0);
  assert_int_equal(mkdir(f->vol, 0755), 0);
  cleanup_free char *hello = pathf("%s/hello", f->vol), *sub = pathf("%s/sub", f->vol);
  put_file(hello, "world", 5, 0644);
  assert_int_equal(mkdir(sub, 0755), 0);
  *state = f;
  return 0;
}

static int fx_teardown(void **state)
{
  struct fx *f = *state;
  unit_rm_rf(f->tmp);
  free(f->tmp);
  free(f->rootfs);
  free(f->vol);
  free(f->esc);
  free(f);
  return 0;
}

/* ---------------- spec building (the child never frees: it _exits) ---------------- */

static void add_mount(berth_spec_t *s, const char *dest, const char *type, const char *src, const char *opts)
{
  s->mounts = xreallocarray(s->mounts, s->n_mounts + 1, sizeof *s->mounts);
  struct berth_spec_mount *m = &s->mounts[s->n_mounts++];
  memset(m, 0, sizeof *m);
  m->destination = dest;
  m->type = type;
  m->source = src;
  if (opts == NULL)
    return;
  char *copy = xstrdup(opts), *save = NULL;
  m->options = xcalloc(strlen(opts) + 2, sizeof *m->options);
  for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
    m->options[m->n_options++] = t;
}

static berth_spec_t *new_spec(void) { return xcalloc(1, sizeof(berth_spec_t)); }

/* ---------------- running a child ---------------- */

typedef void (*child_fn)(struct fx *f, int arg);

static void run_child(struct fx *f, child_fn fn, int arg, int unshare_flags)
{
  memset(R, 0, sizeof *R);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    if (unshare_flags && unshare(unshare_flags) < 0) {
      R->failures++;
      note("unshare: %s\n", strerror(errno));
      _exit(1);
    }
    fn(f, arg);
    _exit(0);
  }
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    print_error("child died: status 0x%x\n%s", status, R->msg);
    fail();
  }
}

static void expect_clean(void)
{
  if (R->failures != 0) {
    print_error("%d failed checks:\n%s", R->failures, R->msg);
    fail();
  }
}

/* ---------------- check helpers ---------------- */

static bool is_fs(const char *p, long magic)
{
  struct statfs s;
  return statfs(p, &s) == 0 && (long) s.f_type == magic;
}

static bool is_node(const char *p, mode_t type, unsigned maj, unsigned min, mode_t perm)
{
  struct stat st;
  return lstat(p, &st) == 0 && (st.st_mode & S_IFMT) == type &&
         (type == S_IFIFO || st.st_rdev == makedev(maj, min)) &&
         (perm == (mode_t) -1 || (st.st_mode & 07777) == perm);
}

static bool link_is(const char *p, const char *target)
{
  char buf[256];
  ssize_t n = readlink(p, buf, sizeof buf - 1);
  if (n < 0)
    return false;
  buf[n] = '\0';
  return strcmp(buf, target) == 0;
}

static bool erofs(const char *path)
{
  int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd >= 0) {
    close(fd);
    errno = 0;
    return false;
  }
  return errno == EROFS;
}

static bool has_content(const char *p, const char *want)
{
  char buf[64] = { 0 };
  int fd = open(p, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return false;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  return n >= 0 && strcmp(buf, want) == 0;
}

static bool dir_is_empty(const char *p)
{
  DIR *d = opendir(p);
  if (d == NULL)
    return false;
  int n = 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL)
    n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
  closedir(d);
  return n == 0;
}

static bool has_vfs_flags(const char *p, unsigned long flags)
{
  struct statvfs v;
  return statvfs(p, &v) == 0 && (v.f_flag & flags) == flags;
}

static int busybox_sh(const char *script)
{
  pid_t pid = fork();
  if (pid == 0) {
    execl("/bin/busybox", "busybox", "sh", "-c", script, (char *) NULL);
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static int open_pty_slave(void)
{
  int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0)
    return -1;
  return open(ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC); /* master leaks with the child */
}

/* ---------------- the whole setup, real root ---------------- */

static const char *const std_masked[] = { "/proc/kcore", "/proc/timer_list", "/masked-dir", "/does-not-exist",
                                          "/proc/none/x" };
static const char *const std_readonly[] = { "/proc/sys", "/ro-dir" };

static void add_std_mounts(berth_spec_t *s)
{
  add_mount(s, "/proc", "proc", "proc", "nosuid,noexec,nodev");
  add_mount(s, "/dev", "tmpfs", "tmpfs", "nosuid,strictatime,mode=755,size=65536k");
  add_mount(s, "/dev/pts", "devpts", "devpts", "nosuid,noexec,newinstance,ptmxmode=0666,mode=0620");
  add_mount(s, "/dev/shm", "tmpfs", "shm", "nosuid,noexec,nodev,mode=1777,size=65536k");
}

static void build_full_spec(struct fx *f, berth_spec_t *s)
{
  add_std_mounts(s);
  add_mount(s, "/dev/mqueue", "mqueue", "mqueue", "nosuid,noexec,nodev");
  add_mount(s, "/sys", "sysfs", "sysfs", "nosuid,noexec,nodev,ro");
  add_mount(s, "/sys/fs/cgroup", "cgroup", "cgroup", "nosuid,noexec,nodev,relatime,ro");
  add_mount(s, "/data", NULL, f->vol, "bind,ro,rprivate");
  add_mount(s, "/rdata", "bind", f->vol, "rbind,rro");
  add_mount(s, "/usr/bin/bb", "bind", BUSYBOX, "bind,ro,nosuid");
  add_mount(s, pathf("/evil/%s", f->esc), "tmpfs", "tmpfs", NULL);
  add_mount(s, pathf("/evil2/%s-2", f->esc), "tmpfs", "tmpfs", NULL);
  add_mount(s, "/etc", "tmpfs", "tmpfs", "tmpcopyup,nosuid");
  add_mount(s, "/ro-dir/sub", "tmpfs", "tmpfs", NULL);
  add_mount(s, "/remounted", "tmpfs", "tmpfs", "size=1m");
  add_mount(s, "/remounted", "tmpfs", "tmpfs", "remount,ro,size=1m");
  add_mount(s, "/idmapped", "bind", f->vol, "bind");
  struct berth_spec_mount *m = &s->mounts[s->n_mounts - 1];
  static struct berth_id_map umap = { 0, 1000, 1 }, gmap = { 0, 2000, 1 };
  m->uid_mappings = &umap;
  m->n_uid_mappings = 1;
  m->gid_mappings = &gmap;
  m->n_gid_mappings = 1;
  static struct berth_spec_device devs[] = {
    { .type = 'c',
      .path = "/dev/mydev",
      .major = 1,
      .minor = 3,
      .has_file_mode = true,
      .file_mode = 0640,
      .has_uid = true,
      .uid = 1000,
      .has_gid = true,
      .gid = 1001 },
    { .type = 'p',
      .path = "/dev/myfifo",
      .major = -1,
      .minor = -1,
      .has_file_mode = true,
      .file_mode = 0600 },
    { .type = 'c', .path = "/dev/sub/null2", .major = 1, .minor = 3 },
  };
  s->linux_.devices = devs;
  s->linux_.n_devices = BERTH_N_ELEMENTS(devs);
  s->linux_.masked_paths = (const char **) std_masked;
  s->linux_.n_masked_paths = BERTH_N_ELEMENTS(std_masked);
  s->linux_.readonly_paths = (const char **) std_readonly;
  s->linux_.n_readonly_paths = BERTH_N_ELEMENTS(std_readonly);
  s->root_readonly = true;
}

static void check_devices_and_links(dev_t console)
{
  CHECK(is_node("/dev/null", S_IFCHR, 1, 3, 0666));
  CHECK(is_node("/dev/zero", S_IFCHR, 1, 5, 0666));
  CHECK(is_node("/dev/full", S_IFCHR, 1, 7, 0666));
  CHECK(is_node("/dev/random", S_IFCHR, 1, 8, 0666));
  CHECK(is_node("/dev/urandom", S_IFCHR, 1, 9, 0666));
  CHECK(is_node("/dev/tty", S_IFCHR, 5, 0, 0666));
  CHECK(is_node("/dev/mydev", S_IFCHR, 1, 3, 0640));
  struct stat st;
  CHECK(stat("/dev/mydev", &st) == 0 && st.st_uid == 1000 && st.st_gid == 1001);
  CHECK(is_node("/dev/myfifo", S_IFIFO, 0, 0, 0600));
  CHECK(is_node("/dev/sub/null2", S_IFCHR, 1, 3, 0666));
  CHECK(link_is("/dev/fd", "/proc/self/fd") && link_is("/dev/stdin", "/proc/self/fd/0"));
  CHECK(link_is("/dev/stdout", "/proc/self/fd/1") && link_is("/dev/stderr", "/proc/self/fd/2"));
  CHECK(link_is("/dev/ptmx", "pts/ptmx"));
  /* /dev/core only where the kernel has /proc/kcore */
  CHECK(access("/proc/kcore", F_OK) == 0 ? link_is("/dev/core", "/proc/kcore")
                                         : access("/dev/core", F_OK) < 0);
  CHECK(is_node("/dev/pts/ptmx", S_IFCHR, 5, 2, 0666));
  CHECK(stat("/dev/console", &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == console);
}

static void check_filesystems(void)
{
  struct statfs sfs;
  struct stat st;
  CHECK(statfs("/dev/shm", &sfs) == 0 && sfs.f_type == TMPFS_MAGIC &&
        sfs.f_blocks * sfs.f_bsize == 65536 * 1024);
  CHECK(stat("/dev/shm", &st) == 0 && (st.st_mode & 07777) == 01777);
  CHECK(has_vfs_flags("/dev/shm", ST_NOSUID | ST_NODEV | ST_NOEXEC));
  CHECK(is_fs("/dev/mqueue", MQUEUE_MAGIC));
  CHECK(is_fs("/sys", SYSFS_MAGIC) && has_vfs_flags("/sys", ST_RDONLY));
  bool unified = is_fs("/sys/fs/cgroup", CGROUP2_SUPER_MAGIC);
  CHECK(unified ||
        (is_fs("/sys/fs/cgroup", TMPFS_MAGIC) && is_fs("/sys/fs/cgroup/memory", CGROUP_SUPER_MAGIC) &&
         access("/sys/fs/cgroup/memory/cgroup.procs", F_OK) == 0 &&
         has_vfs_flags("/sys/fs/cgroup/memory", ST_RDONLY) &&
         is_fs("/sys/fs/cgroup/unified", CGROUP2_SUPER_MAGIC)));
  CHECK(has_vfs_flags("/sys/fs/cgroup", ST_RDONLY | ST_NOSUID | ST_NOEXEC | ST_NODEV));
  /* tmpcopyup: a writable tmpfs holding the old /etc */
  CHECK(is_fs("/etc", TMPFS_MAGIC) && has_content("/etc/hostname", "berth\n"));
  CHECK(stat("/etc", &st) == 0 && (st.st_mode & 07777) == 0755 && !erofs("/etc/new"));
  CHECK(is_fs("/remounted", TMPFS_MAGIC) && erofs("/remounted/x"));
}

static void check_full(struct fx *f, dev_t console)
{
  CHECK(is_fs("/proc", PROC_SUPER_MAGIC) && access("/proc/self/status", R_OK) == 0);
  /* masked and read-only paths */
  CHECK(is_node("/proc/timer_list", S_IFCHR, 1, 3, (mode_t) -1));
  CHECK(dir_is_empty("/masked-dir") && is_fs("/masked-dir", TMPFS_MAGIC) && erofs("/masked-dir/x"));
  CHECK(open("/proc/sys/kernel/hostname", O_WRONLY | O_CLOEXEC) < 0 && errno == EROFS);
  CHECK(erofs("/ro-dir/x"));
  CHECK(erofs("/ro-dir/sub/x")); /* recursive */
  CHECK(erofs("/newfile"));      /* root.readonly */
  check_devices_and_links(console);
  check_filesystems();
  /* binds */
  struct stat st, host_bb;
  CHECK(has_content("/data/hello", "world") && erofs("/data/x"));
  CHECK(erofs("/rdata/x") && has_content("/rdata/sub/file", "in-sub") && erofs("/rdata/sub/y"));
  CHECK(stat("/usr/bin/bb", &st) == 0 && S_ISREG(st.st_mode) && stat("/bin/busybox", &host_bb) == 0 &&
        st.st_size == host_bb.st_size && has_vfs_flags("/usr/bin/bb", ST_RDONLY | ST_NOSUID));
  CHECK(stat("/idmapped/hello", &st) == 0 && st.st_uid == 1000 && st.st_gid == 2000);
  /* the symlinked destinations stayed inside */
  cleanup_free char *in1 = pathf("/%s", f->esc), *in2 = pathf("/%s-2", f->esc);
  CHECK(is_fs(in1, TMPFS_MAGIC) && is_fs(in2, TMPFS_MAGIC));
  CHECK(busybox_sh("test -c /dev/null && test -L /dev/fd && test -d /proc/self && ! touch /x 2>/dev/null") ==
        0);
}

static void child_full(struct fx *f, int arg)
{
  cleanup_free char *sub = pathf("%s/sub", f->vol), *subfile = pathf("%s/sub/file", f->vol);
  if (mount("tmpfs", sub, "tmpfs", 0, NULL) < 0) {
    CHECK(false && "mount a tmpfs under the volume");
    return;
  }
  put_file(subfile, "in-sub", 6, 0644);
  berth_spec_t *s = new_spec();
  build_full_spec(f, s);
  int console = open_pty_slave();
  struct stat cst = { 0 };
  CHECK(console >= 0 && fstat(console, &cst) == 0);
  struct berth_rootfs_ctx ctx = { .spec = s, .rootfs = f->rootfs, .console_fd = console, .rootfs_fd = -1 };
  berth_error_t err = NULL;
  if (!ok_call(berth_rootfs_prepare(&ctx, &err), &err))
    return;
  /* before pivot, the host's view: nothing escaped to / */
  cleanup_free char *host1 = pathf("/%s", f->esc), *host2 = pathf("/%s-2", f->esc);
  CHECK(access(host1, F_OK) < 0 && access(host2, F_OK) < 0);
  cleanup_free char *in1 = pathf("%s/%s", f->rootfs, f->esc);
  CHECK(is_fs(in1, TMPFS_MAGIC));
  if (!ok_call(berth_rootfs_pivot(&ctx, &err), &err) || !ok_call(berth_rootfs_finalize(&ctx, &err), &err))
    return;
  check_full(f, cst.st_rdev);
  berth_rootfs_ctx_release(&ctx);
  CHECK(ctx.rootfs_fd == -1);
}

static char *read_mountinfo(void)
{
  char *text = NULL;
  berth_error_t err = NULL;
  assert_int_equal(berth_read_file("/proc/self/mountinfo", 0, &text, NULL, &err), 0);
  return text;
}

static void test_full_setup(void **state)
{
  struct fx *f = *state;
  cleanup_free char *before = read_mountinfo();
  run_child(f, child_full, 0, CLONE_NEWNS);
  expect_clean();
  cleanup_free char *after = read_mountinfo();
  assert_string_equal(before, after);
  cleanup_free char *host1 = pathf("/%s", f->esc), *host2 = pathf("/%s-2", f->esc);
  cleanup_free char *in1 = pathf("%s/%s", f->rootfs, f->esc), *in2 = pathf("%s/%s-2", f->rootfs, f->esc);
  assert_true(access(host1, F_OK) < 0 && errno == ENOENT);
  assert_true(access(host2, F_OK) < 0 && errno == ENOENT);
  struct stat st;
  assert_true(stat(in1, &st) == 0 && S_ISDIR(st.st_mode));
  assert_true(stat(in2, &st) == 0 && S_ISDIR(st.st_mode));
}

/* ---------------- --no-pivot, read-only /dev ---------------- */

static void child_no_pivot(struct fx *f, int arg)
{
  berth_spec_t *s = new_spec();
  add_mount(s, "/proc", "proc", "proc", NULL);
  add_mount(s, "/dev", "tmpfs", "tmpfs", "nosuid,mode=755,ro");
  add_mount(s, "/sys/fs/cgroup", "cgroup", "cgroup", "nosuid,noexec,nodev");
  s->linux_.ns[BERTH_NS_CGROUP].present = true; /* fresh cgroup mounts, not binds */
  CHECK(unshare(CLONE_NEWCGROUP) == 0);
  struct berth_rootfs_ctx ctx = { .spec = s, .rootfs = f->rootfs, .console_fd = -1, .no_pivot = true };
  berth_error_t err = NULL;
  if (!ok_call(berth_rootfs_prepare(&ctx, &err), &err) || !ok_call(berth_rootfs_pivot(&ctx, &err), &err) ||
      !ok_call(berth_rootfs_finalize(&ctx, &err), &err))
    return;
  char cwd[64];
  CHECK(getcwd(cwd, sizeof cwd) != NULL && strcmp(cwd, "/") == 0);
  CHECK(access("/bin/busybox", X_OK) == 0 && access(f->tmp, F_OK) < 0);
  CHECK(is_fs("/proc", PROC_SUPER_MAGIC) && !is_fs("/sys", SYSFS_MAGIC));
  CHECK(is_node("/dev/null", S_IFCHR, 1, 3, 0666) && link_is("/dev/ptmx", "pts/ptmx"));
  CHECK(erofs("/dev/newfile") && !erofs("/newfile"));
  CHECK(is_fs("/sys/fs/cgroup", CGROUP2_SUPER_MAGIC) ||
        (is_fs("/sys/fs/cgroup/memory", CGROUP_SUPER_MAGIC) &&
         is_fs("/sys/fs/cgroup/unified", CGROUP2_SUPER_MAGIC) &&
         access("/sys/fs/cgroup/memory/memory.limit_in_bytes", F_OK) == 0 &&
         is_fs("/sys/fs/cgroup/systemd", CGROUP_SUPER_MAGIC)));
  CHECK(busybox_sh("test -c /dev/zero && test \"$(cat /proc/self/comm)\" = cat") == 0);
  berth_rootfs_ctx_release(&ctx);
}

static void test_no_pivot(void **state)
{
  run_child(*state, child_no_pivot, 0, CLONE_NEWNS);
  expect_clean();
}

/* ---------------- user namespace: binds instead of mknod, sysfs fallback ---------------- */

static void write_id_maps(pid_t pid)
{
  cleanup_free char *u = pathf("/proc/%d/uid_map", (int) pid), *g = pathf("/proc/%d/gid_map", (int) pid);
  static const char map[] = "0 0 4294967295\n";
  berth_error_t err = NULL;
  if (berth_write_file_at(AT_FDCWD, u, map, sizeof map - 1, &err) < 0 ||
      berth_write_file_at(AT_FDCWD, g, map, sizeof map - 1, &err) < 0)
    _exit(1);
}

static void userns_container(struct fx *f)
{
  berth_spec_t *s = new_spec();
  add_std_mounts(s);
  add_mount(s, "/sys", "sysfs", "sysfs", "nosuid,noexec,nodev,ro");
  add_mount(s, "/sys/fs/cgroup", "cgroup", "cgroup", "nosuid,noexec,nodev,ro");
  static struct berth_spec_device fifo = {
    .type = 'p', .path = "/dev/fifo", .has_file_mode = true, .file_mode = 0644
  };
  s->linux_.devices = &fifo;
  s->linux_.n_devices = 1;
  s->linux_.masked_paths = (const char **) std_masked;
  s->linux_.n_masked_paths = BERTH_N_ELEMENTS(std_masked);
  s->linux_.ns[BERTH_NS_USER].present = true;
  struct berth_rootfs_ctx ctx = { .spec = s, .rootfs = f->rootfs, .console_fd = -1, .in_userns = true };
  berth_error_t err = NULL;
  if (!ok_call(berth_rootfs_prepare(&ctx, &err), &err) || !ok_call(berth_rootfs_pivot(&ctx, &err), &err) ||
      !ok_call(berth_rootfs_finalize(&ctx, &err), &err))
    return;
  CHECK(getpid() == 1 && link_is("/proc/self", "1"));
  CHECK(is_node("/dev/null", S_IFCHR, 1, 3, (mode_t) -1) && is_node("/dev/tty", S_IFCHR, 5, 0, (mode_t) -1));
  CHECK(is_node("/dev/fifo", S_IFIFO, 0, 0, 0644));
  CHECK(is_fs("/sys", SYSFS_MAGIC) && has_vfs_flags("/sys", ST_RDONLY));
  CHECK(is_node("/proc/timer_list", S_IFCHR, 1, 3, (mode_t) -1) && dir_is_empty("/masked-dir"));
  CHECK(is_fs("/sys/fs/cgroup", CGROUP2_SUPER_MAGIC) || is_fs("/sys/fs/cgroup/memory", CGROUP_SUPER_MAGIC));
  CHECK(busybox_sh("echo x > /dev/null && test -c /dev/tty") == 0);
}

static void child_userns(struct fx *f, int arg)
{
  int go[2], done[2];
  CHECK(pipe2(go, O_CLOEXEC) == 0 && pipe2(done, O_CLOEXEC) == 0);
  pid_t self = getpid();
  pid_t helper = fork();
  if (helper == 0) {
    char c;
    if (read(go[0], &c, 1) != 1)
      _exit(1);
    write_id_maps(self);
    _exit(write(done[1], "x", 1) == 1 ? 0 : 1);
  }
  CHECK(unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID) == 0);
  char c;
  CHECK(write(go[1], "x", 1) == 1 && read(done[0], &c, 1) == 1);
  int status = 0;
  waitpid(helper, &status, 0);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  if (R->failures)
    return;
  pid_t init = fork();
  if (init == 0) {
    userns_container(f);
    _exit(0);
  }
  CHECK(waitpid(init, &status, 0) == init && WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_userns(void **state)
{
  run_child(*state, child_userns, 0, 0);
  expect_clean();
}

/* ---------------- refusals and error messages ---------------- */

enum err_case {
  E_PROC_SYMLINK,
  E_INSIDE_PROC,
  E_INSIDE_PROC_LINK,
  E_PROC_ALLOWED,
  E_ONTO_PROC,
  E_CONSOLE_SYMLINK,
  E_FAKE_NULL,
  E_BAD_OPTION,
  E_NO_TYPE,
};

static const char *const fake_null_masked[] = { "/etc/hostname" };

static void child_error(struct fx *f, int which)
{
  berth_spec_t *s = new_spec();
  struct berth_rootfs_ctx ctx = { .spec = s, .rootfs = f->rootfs, .console_fd = -1 };
  cleanup_free char *hello = pathf("%s/hello", f->vol);
  switch ((enum err_case) which) {
  case E_PROC_SYMLINK: add_mount(s, "/proc", "proc", "proc", NULL); break;
  case E_INSIDE_PROC:
  case E_INSIDE_PROC_LINK:
  case E_PROC_ALLOWED:
    add_mount(s, "/proc", "proc", "proc", NULL);
    add_mount(s,
              which == E_INSIDE_PROC        ? "/proc/version"
              : which == E_INSIDE_PROC_LINK ? "/to-proc/version"
                                            : "/proc/uptime",
              "bind", xstrdup(hello), "bind");
    break;
  case E_ONTO_PROC: add_mount(s, "/proc", "bind", f->vol, "rbind"); break;
  case E_CONSOLE_SYMLINK: ctx.console_fd = open_pty_slave(); break;
  case E_FAKE_NULL:
    add_mount(s, "/dev", "bind", pathf("%s/fakedev", f->tmp), "rbind");
    s->linux_.masked_paths = (const char **) fake_null_masked;
    s->linux_.n_masked_paths = 1;
    break;
  case E_BAD_OPTION: add_mount(s, "/dev/shm", "tmpfs", "shm", "size=bogus"); break;
  case E_NO_TYPE: add_mount(s, "/x", NULL, "none", "ro"); break;
  }
  berth_error_t err = NULL;
  if (ok_call(berth_rootfs_prepare(&ctx, &err), &err) && ok_call(berth_rootfs_pivot(&ctx, &err), &err))
    (void) ok_call(berth_rootfs_finalize(&ctx, &err), &err);
}

static void expect_failure(struct fx *f, enum err_case which, const char *needle)
{
  run_child(f, child_error, which, CLONE_NEWNS);
  if (!R->error || strstr(R->msg, needle) == NULL) {
    print_error("case %d: wanted an error with \"%s\", got: %s\n", which, needle, R->msg);
    fail();
  }
}

static void test_refusals(void **state)
{
  struct fx *f = *state;
  cleanup_free char *proc = pathf("%s/proc", f->rootfs), *console = pathf("%s/dev/console", f->rootfs);
  assert_int_equal(rmdir(proc), 0);
  assert_int_equal(symlink("/tmp", proc), 0);
  expect_failure(f, E_PROC_SYMLINK, "mount `proc` on `/proc` (mounts[0]): mount destination is a symlink");
  assert_int_equal(unlink(proc), 0);
  assert_int_equal(mkdir(proc, 0755), 0);
  /* the plan refuses what the config shows; the executor what the destination resolves to */
  expect_failure(f, E_INSIDE_PROC,
                 "(mounts[1].destination): `/proc/version` is inside /proc, which is not allowed");
  cleanup_free char *to_proc = pathf("%s/to-proc", f->rootfs);
  assert_int_equal(symlink("proc", to_proc), 0);
  expect_failure(f, E_INSIDE_PROC_LINK, "(mounts[1]): `/proc/version` is inside /proc, which is not allowed");
  assert_int_equal(unlink(to_proc), 0);
  run_child(f, child_error, E_PROC_ALLOWED, CLONE_NEWNS);
  expect_clean();
  expect_failure(f, E_ONTO_PROC, "(mounts[0]): only procfs may be mounted on `/proc`");
  assert_int_equal(symlink("/etc/hostname", console), 0);
  expect_failure(f, E_CONSOLE_SYMLINK,
                 "console: `/dev/console` exists as a symlink, refusing to mount over it");
  cleanup_free char *fakedev = pathf("%s/fakedev", f->tmp), *fakenull = pathf("%s/fakedev/null", f->tmp);
  assert_int_equal(mkdir(fakedev, 0755), 0);
  put_file(fakenull, "", 0, 0666);
  expect_failure(f, E_FAKE_NULL, "`/dev/null` in the container is not the null device (1:3)");
  expect_failure(f, E_BAD_OPTION,
                 "mount `tmpfs` on `/dev/shm` (mounts[0]): option `size=bogus`: tmpfs: Bad value for 'size'");
  expect_failure(f, E_NO_TYPE, "mount `none` on `/x` (mounts[0].type): no type given and not a bind mount");
}

int main(void)
{
  if (geteuid() != 0) {
    printf("1..0 # SKIP needs root (mount namespaces, mknod, pivot_root)\n");
    return 0;
  }
  R = mmap(NULL, sizeof *R, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (R == MAP_FAILED)
    return 1;
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_full_setup, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(test_no_pivot, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(test_userns, fx_setup, fx_teardown),
    cmocka_unit_test_setup_teardown(test_refusals, fx_setup, fx_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
