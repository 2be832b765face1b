/* Layer apply and diff on real directories (we are root): every entry type, ownership,
 * modes, times, xattrs, long names, whiteouts, replacement rules, digests computed while
 * streaming, and apply -> diff -> apply round trips with reproducible output. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/xalloc.h"
#include "image/layer.h"
#include "test_image_tar.h"
#include "unit.h"

#define LONG_DIR                                                                                             \
  "a-directory-name-long-enough-to-need-a-pax-or-gnu-long-name-record/"                                      \
  "and-another-component-to-pass-the-100-"                                                                   \
  "character-ustar-name-field"

struct fx {
  char *dir;
  char *root;
  int rootfd;
};

static int setup(void **state)
{
  struct fx *f = xmalloc0(sizeof *f);
  f->dir = unit_mkdtemp();
  f->root = xasprintf("%s/root", f->dir);
  assert_int_equal(mkdir(f->root, 0755), 0);
  f->rootfd = open(f->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  assert_true(f->rootfd >= 0);
  *state = f;
  return 0;
}

static int teardown(void **state)
{
  struct fx *f = *state;
  close(f->rootfd);
  unit_rm_rf(f->dir);
  free(f->root);
  free(f->dir);
  free(f);
  return 0;
}

/* apply the archive into dirfd; returns apply's result (error left in *err) */
static int apply_buf(int dirfd, const char *buf, size_t len, const struct berth_layer_limits *lim,
                     struct berth_layer_info *info, berth_error_t *err)
{
  cleanup_close int fd = mem_fd(buf, len);
  return berth_layer_apply(fd, dirfd, lim, info, err);
}

static struct stat lstat_at(const char *root, const char *rel)
{
  cleanup_free char *p = xasprintf("%s/%s", root, rel);
  struct stat st;
  if (lstat(p, &st) < 0) {
    print_error("lstat %s: %s\n", p, strerror(errno));
    fail();
  }
  return st;
}

static bool exists_at(const char *root, const char *rel)
{
  cleanup_free char *p = xasprintf("%s/%s", root, rel);
  struct stat st;
  return lstat(p, &st) == 0;
}

static char *read_at(const char *root, const char *rel)
{
  cleanup_free char *p = xasprintf("%s/%s", root, rel);
  char *data = NULL;
  size_t len = 0;
  berth_error_t err = NULL;
  if (berth_read_file(p, 0, &data, &len, &err) < 0) {
    print_error("%s\n", err->msg);
    fail();
  }
  return data;
}

static char *xattr_at(const char *root, const char *rel, const char *name)
{
  cleanup_free char *p = xasprintf("%s/%s", root, rel);
  char buf[256];
  ssize_t n = lgetxattr(p, name, buf, sizeof buf - 1);
  if (n < 0)
    return NULL;
  buf[n] = '\0';
  return xstrdup(buf);
}

static const char caps[] = { 0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00, 0x00, 0x00, 0x00,
                             0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 };

/* one archive with every entry type and attribute */
static void build_every_type(struct tarb *t)
{
  const struct tb_entry es[] = {
    { .name = "./", .type = AE_IFDIR, .perm = 0750, .mtime = 1111 },
    { .name = "./etc/", .type = AE_IFDIR, .mtime = 2222 },
    { .name = "./etc/hosts", .data = "127.0.0.1 localhost\n", .mtime = 3333 },
    { .name = "bin", .type = AE_IFDIR },
    { .name = "bin/su", .perm = 04755, .data = "#!su\n", .uid = 0, .gid = 0 },
    { .name = "bin/sg", .perm = 02711, .data = "#!sg\n", .uid = 1000, .gid = 50 },
    { .name = "bin/su2", .hardlink = "bin/su" },
    { .name = "bin/ping",
      .perm = 0755,
      .data = "ping",
      .xname = "security.capability",
      .xval = caps,
      .xlen = sizeof caps },
    { .name = "tmp", .type = AE_IFDIR, .perm = 01777 },
    { .name = "srv",
      .type = AE_IFDIR,
      .perm = 02775,
      .uid = 0,
      .gid = 50,
      .xname = "trusted.berth",
      .xval = "t" },
    { .name = "home/u/f",
      .perm = 0600,
      .uid = 1000,
      .gid = 1000,
      .data = "secret",
      .xname = "user.note",
      .xval = "hello" },
    { .name = "lib", .type = AE_IFLNK, .link = "usr/lib", .uid = 7, .gid = 8 },
    { .name = "abs", .type = AE_IFLNK, .link = "/etc/hosts" },
    { .name = "dev/null", .type = AE_IFCHR, .perm = 0666, .rmajor = 1, .rminor = 3 },
    { .name = "dev/loop0", .type = AE_IFBLK, .perm = 0660, .rmajor = 7, .rminor = 0, .gid = 6 },
    { .name = "run/fifo", .type = AE_IFIFO, .perm = 0620, .mtime = 4444 },
    { .name = LONG_DIR, .type = AE_IFDIR },
    { .name = LONG_DIR "/file", .data = "long" },
    { .name = "longlink", .type = AE_IFLNK, .link = LONG_DIR "/file" },
    { .name = "longhard", .hardlink = LONG_DIR "/file" },
    { .name = "empty", .data = "" },
  };
  for (size_t i = 0; i < BERTH_N_ELEMENTS(es); i++)
    tb_add(t, &es[i]);
}

static void check_every_type(const char *r)
{
  struct stat st = lstat_at(r, ".");
  assert_int_equal(st.st_mode & 07777, 0750);
  assert_int_equal(st.st_mtime, 1111);
  st = lstat_at(r, "etc");
  assert_int_equal(st.st_mtime, 2222); /* set after etc/hosts was created in it */
  cleanup_free char *hosts = read_at(r, "etc/hosts");
  assert_string_equal(hosts, "127.0.0.1 localhost\n");
  st = lstat_at(r, "etc/hosts");
  assert_int_equal(st.st_mtime, 3333);
  assert_int_equal(st.st_mode, S_IFREG | 0644);
  st = lstat_at(r, "bin/su");
  assert_int_equal(st.st_mode, S_IFREG | 04755);
  assert_int_equal(st.st_nlink, 2);
  struct stat st2 = lstat_at(r, "bin/su2");
  assert_int_equal(st.st_ino, st2.st_ino);
  st = lstat_at(r, "bin/sg");
  assert_int_equal(st.st_mode, S_IFREG | 02711); /* set-id bits survive the chown */
  assert_int_equal(st.st_uid, 1000);
  assert_int_equal(st.st_gid, 50);
  {
    cleanup_free char *p = xasprintf("%s/bin/ping", r);
    char buf[64];
    assert_int_equal(getxattr(p, "security.capability", buf, sizeof buf), sizeof caps);
    assert_memory_equal(buf, caps, sizeof caps);
  }
  assert_int_equal(lstat_at(r, "tmp").st_mode, S_IFDIR | 01777);
  st = lstat_at(r, "srv");
  assert_int_equal(st.st_mode, S_IFDIR | 02775);
  assert_int_equal(st.st_gid, 50);
  cleanup_free char *tx = xattr_at(r, "srv", "trusted.berth");
  assert_string_equal(tx, "t");
  st = lstat_at(r, "home/u/f");
  assert_int_equal(st.st_mode, S_IFREG | 0600);
  assert_int_equal(st.st_uid, 1000);
  cleanup_free char *ux = xattr_at(r, "home/u/f", "user.note");
  assert_string_equal(ux, "hello");
  assert_int_equal(lstat_at(r, "home").st_mode, S_IFDIR | 0755); /* a missing parent */
  st = lstat_at(r, "lib");
  assert_true(S_ISLNK(st.st_mode));
  assert_int_equal(st.st_uid, 7);
  assert_int_equal(st.st_gid, 8);
  char target[256];
  cleanup_free char *abs = xasprintf("%s/abs", r);
  ssize_t n = readlink(abs, target, sizeof target);
  assert_int_equal(n, 10);
  assert_memory_equal(target, "/etc/hosts", 10);
  st = lstat_at(r, "dev/null");
  assert_true(S_ISCHR(st.st_mode));
  assert_int_equal(st.st_mode & 07777, 0666);
  assert_int_equal(st.st_rdev, makedev(1, 3));
  st = lstat_at(r, "dev/loop0");
  assert_true(S_ISBLK(st.st_mode));
  assert_int_equal(st.st_rdev, makedev(7, 0));
  assert_int_equal(st.st_gid, 6);
  st = lstat_at(r, "run/fifo");
  assert_true(S_ISFIFO(st.st_mode));
  assert_int_equal(st.st_mode & 07777, 0620);
  assert_int_equal(st.st_mtime, 4444);
  cleanup_free char *lf = read_at(r, LONG_DIR "/file");
  assert_string_equal(lf, "long");
  cleanup_free char *ll = read_at(r, "longlink");
  assert_string_equal(ll, "long");
  assert_int_equal(lstat_at(r, "longhard").st_ino, lstat_at(r, LONG_DIR "/file").st_ino);
  assert_int_equal(lstat_at(r, "empty").st_size, 0);
}

static void test_apply_every_type(void **state)
{
  struct fx *f = *state;
  const enum tb_filter filters[] = { TB_NONE, TB_GZIP, TB_ZSTD };
  cleanup_free char *plain = NULL;
  size_t plain_len = 0;
  for (size_t i = 0; i < BERTH_N_ELEMENTS(filters); i++) {
    struct tarb *t = tb_new(filters[i]);
    build_every_type(t);
    cleanup_free char *buf = NULL;
    size_t len = 0;
    tb_finish(t, &buf, &len);
    if (filters[i] == TB_NONE) {
      plain = xmalloc(len);
      memcpy(plain, buf, len);
      plain_len = len;
    }
    cleanup_free char *sub = xasprintf("%s/t%zu", f->dir, i);
    assert_int_equal(mkdir(sub, 0700), 0);
    cleanup_close int dfd = open(sub, O_PATH | O_DIRECTORY | O_CLOEXEC);
    struct berth_layer_info info;
    berth_error_t err = NULL;
    if (apply_buf(dfd, buf, len, NULL, &info, &err) < 0) {
      print_error("%s\n", err->msg);
      fail();
    }
    check_every_type(sub);
    /* digests computed while streaming: of the bytes read, and of the decoded tar */
    char d[BERTH_DIGEST_LEN + 1], diff[BERTH_DIGEST_LEN + 1];
    berth_digest_bytes(buf, len, d);
    berth_digest_bytes(plain, plain_len, diff);
    assert_string_equal(info.digest, d);
    assert_string_equal(info.diff_id, diff);
    assert_int_equal(info.size, len);
    assert_int_equal(info.tar_size, plain_len);
    assert_int_equal(info.entries, 21);
  }
}

static void apply_entries(struct fx *f, const struct tb_entry *es, size_t n)
{
  struct tarb *t = tb_new(TB_GZIP);
  for (size_t i = 0; i < n; i++)
    tb_add(t, &es[i]);
  cleanup_free char *buf = NULL;
  size_t len = 0;
  tb_finish(t, &buf, &len);
  berth_error_t err = NULL;
  if (apply_buf(f->rootfd, buf, len, NULL, NULL, &err) < 0) {
    print_error("%s\n", err->msg);
    fail();
  }
}

static void test_apply_whiteouts(void **state)
{
  struct fx *f = *state;
  const struct tb_entry es[] = {
    { .name = "a/", .type = AE_IFDIR },
    { .name = "a/.wh.b" }, /* hides a/b of lower layers */
    { .name = "c/", .type = AE_IFDIR, .perm = 0700 },
    { .name = "c/.wh..wh..opq" }, /* c is opaque */
    { .name = "c/kept", .data = "k" },
    { .name = "x", .data = "replaced by the whiteout below" },
    { .name = ".wh.x" },
    { .name = "d/.wh.gone" },   /* parent created */
    { .name = ".wh..wh.plnk" }, /* aufs metadata: ignored */
    { .name = "y", .type = AE_IFDIR },
    { .name = "y/inner", .data = "i" },
    { .name = ".wh.y" }, /* a whole directory replaced by a whiteout */
  };
  apply_entries(f, es, BERTH_N_ELEMENTS(es));
  const char *r = f->root;
  const char *wh[] = { "a/b", "x", "d/gone", "y" };
  for (size_t i = 0; i < BERTH_N_ELEMENTS(wh); i++) {
    struct stat st = lstat_at(r, wh[i]);
    assert_true(S_ISCHR(st.st_mode));
    assert_int_equal(st.st_rdev, makedev(0, 0));
    assert_int_equal(st.st_uid, 0);
  }
  cleanup_free char *opq = xattr_at(r, "c", "trusted.overlay.opaque");
  assert_string_equal(opq, "y");
  assert_int_equal(lstat_at(r, "c").st_mode, S_IFDIR | 0700);
  cleanup_free char *kept = read_at(r, "c/kept");
  assert_string_equal(kept, "k");
  assert_false(exists_at(r, ".wh.x"));
  assert_false(exists_at(r, "a/.wh.b"));
  assert_false(exists_at(r, ".wh..wh.plnk"));
  assert_false(exists_at(r, "plnk"));
  cleanup_free char *ano = xattr_at(r, "a", "trusted.overlay.opaque");
  assert_null(ano);
}

static void test_apply_replace(void **state)
{
  struct fx *f = *state;
  const struct tb_entry es[] = {
    { .name = "d", .type = AE_IFDIR },
    { .name = "d/sub/deep", .data = "deep" },
    { .name = "d", .data = "a file replaces the directory" },
    { .name = "f", .data = "a file" },
    { .name = "f", .type = AE_IFDIR, .perm = 0711 },
    { .name = "s", .data = "file" },
    { .name = "s", .type = AE_IFLNK, .link = "/nowhere" },
    { .name = "keep", .type = AE_IFDIR, .perm = 0755, .uid = 1 },
    { .name = "keep/child", .data = "c" },
    { .name = "keep", .type = AE_IFDIR, .perm = 0700, .uid = 2, .mtime = 5555 },
    { .name = "h1", .data = "one" },
    { .name = "h2", .hardlink = "h1" },
    { .name = "h2", .hardlink = "h1" }, /* already that inode: no-op */
    { .name = "h3", .hardlink = "./h1" },
    { .name = "h3", .data = "h3 is its own file now" },
    { .name = "same", .data = "s" },
    { .name = "same", .hardlink = "same" }, /* a link to itself: no-op */
    { .name = "dup", .data = "first" },
    { .name = "dup", .data = "second" },
  };
  apply_entries(f, es, BERTH_N_ELEMENTS(es));
  const char *r = f->root;
  cleanup_free char *d = read_at(r, "d");
  assert_string_equal(d, "a file replaces the directory");
  assert_int_equal(lstat_at(r, "f").st_mode, S_IFDIR | 0711);
  assert_true(S_ISLNK(lstat_at(r, "s").st_mode));
  struct stat st = lstat_at(r, "keep");
  assert_int_equal(st.st_mode, S_IFDIR | 0700);
  assert_int_equal(st.st_uid, 2);
  assert_int_equal(st.st_mtime, 5555);
  cleanup_free char *child = read_at(r, "keep/child");
  assert_string_equal(child, "c");
  assert_int_equal(lstat_at(r, "h1").st_nlink, 2);
  assert_int_equal(lstat_at(r, "h3").st_nlink, 1);
  cleanup_free char *h3 = read_at(r, "h3");
  assert_string_equal(h3, "h3 is its own file now");
  cleanup_free char *h1 = read_at(r, "h1");
  assert_string_equal(h1, "one");
  cleanup_free char *same = read_at(r, "same");
  assert_string_equal(same, "s");
  cleanup_free char *dup = read_at(r, "dup");
  assert_string_equal(dup, "second");
}

/* a symlink inside the layer is followed for parents, but only inside the root */
static void test_apply_through_symlinks(void **state)
{
  struct fx *f = *state;
  const struct tb_entry es[] = {
    { .name = "usr/lib", .type = AE_IFDIR },
    { .name = "lib", .type = AE_IFLNK, .link = "/usr/lib" }, /* absolute: the layer root */
    { .name = "lib/libx.so", .data = "x" },
    { .name = "up", .type = AE_IFLNK, .link = "../../../.." }, /* clamps at the root */
    { .name = "up/usr/lib/liby.so", .data = "y" },
  };
  apply_entries(f, es, BERTH_N_ELEMENTS(es));
  cleanup_free char *x = read_at(f->root, "usr/lib/libx.so");
  assert_string_equal(x, "x");
  cleanup_free char *y = read_at(f->root, "usr/lib/liby.so");
  assert_string_equal(y, "y");
  assert_true(S_ISLNK(lstat_at(f->root, "lib").st_mode));
}

/* the root entry as umoci writes it ("/"), and "./": the root itself, not an absolute path */
static void test_apply_root_entries(void **state)
{
  struct fx *f = *state;
  const struct tb_entry es[] = {
    { .name = "/", .type = AE_IFDIR },
    { .name = "./", .type = AE_IFDIR },
    { .name = "etc/x", .data = "x" },
  };
  apply_entries(f, es, BERTH_N_ELEMENTS(es));
  cleanup_free char *x = read_at(f->root, "etc/x");
  assert_string_equal(x, "x");
}

static void test_apply_sparse_and_big(void **state)
{
  struct fx *f = *state;
  /* a sparse file as GNU tar writes it (libarchive reads the sparse map; holes stay holes) */
  struct tarb *t = tb_new(TB_NONE);
  struct archive_entry *e = archive_entry_new();
  archive_entry_set_pathname(e, "sparse");
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_perm(e, 0644);
  archive_entry_set_size(e, 8 << 20);
  archive_entry_sparse_add_entry(e, 0, 4096);
  archive_entry_sparse_add_entry(e, (8 << 20) - 4096, 4096);
  assert_true(archive_write_header(t->a, e) >= ARCHIVE_WARN);
  char block[4096];
  memset(block, 'a', sizeof block);
  assert_int_equal(archive_write_data(t->a, block, sizeof block), sizeof block);
  /* the writer takes the whole logical contents and stores only the mapped regions */
  static char zeros[1 << 20];
  for (size_t off = 4096; off < (8 << 20) - 4096;) {
    size_t n = (8 << 20) - 4096 - off < sizeof zeros ? (8 << 20) - 4096 - off : sizeof zeros;
    assert_int_equal(archive_write_data(t->a, zeros, n), n);
    off += n;
  }
  memset(block, 'z', sizeof block);
  assert_int_equal(archive_write_data(t->a, block, sizeof block), sizeof block);
  archive_entry_free(e);
  tb_add_zeros(t, "zeros", 3 << 20);
  cleanup_free char *buf = NULL;
  size_t len = 0;
  tb_finish(t, &buf, &len);
  assert_true(len < (4 << 20)); /* the archive is sparse */
  berth_error_t err = NULL;
  if (apply_buf(f->rootfd, buf, len, NULL, NULL, &err) < 0) {
    print_error("%s\n", err->msg);
    fail();
  }
  struct stat st = lstat_at(f->root, "sparse");
  assert_int_equal(st.st_size, 8 << 20);
  assert_true(st.st_blocks * 512 < (1 << 20)); /* the hole was not written */
  cleanup_free char *p = xasprintf("%s/sparse", f->root);
  cleanup_close int fd = open(p, O_RDONLY | O_CLOEXEC);
  char c = 0;
  assert_int_equal(pread(fd, &c, 1, 0), 1);
  assert_int_equal(c, 'a');
  assert_int_equal(pread(fd, &c, 1, (8 << 20) - 1), 1);
  assert_int_equal(c, 'z');
  assert_int_equal(pread(fd, &c, 1, 4 << 20), 1);
  assert_int_equal(c, 0);
  assert_int_equal(lstat_at(f->root, "zeros").st_size, 3 << 20);
}

/* deep trees: parents made one step per component (linear, not one resolution per prefix) */
static void test_apply_deep(void **state)
{
  struct fx *f = *state;
  enum { DEPTH = 1000 };
  struct tarb *t = tb_new(TB_GZIP);
  char *path = xcalloc(1, 2 * DEPTH + 8);
  for (int i = 0; i < DEPTH; i++) {
    strcat(path, "d/");
    cleanup_free char *name = xasprintf("%sf", path); /* its parent was never an entry */
    tb_add(t, &(struct tb_entry){ .name = name, .data = "x" });
  }
  cleanup_free char *buf = NULL;
  size_t len = 0;
  tb_finish(t, &buf, &len);
  struct berth_layer_info info;
  berth_error_t err = NULL;
  if (apply_buf(f->rootfd, buf, len, NULL, &info, &err) < 0) {
    print_error("%s\n", err->msg);
    fail();
  }
  assert_int_equal(info.entries, DEPTH);
  cleanup_free char *deepest = xasprintf("%sf", path);
  cleanup_close int fd = berth_openat2(f->rootfd, deepest, O_RDONLY | O_CLOEXEC, 0, RESOLVE_IN_ROOT);
  assert_true(fd >= 0);
  free(path);
}

/* a whiteout of a directory deeper than the descriptor limit (issue 11, finding 4) */
static void test_apply_whiteout_of_a_deep_tree(void **state)
{
  struct fx *f = *state;
  enum { DEPTH = 1000 };
  struct tarb *t = tb_new(TB_NONE);
  cleanup_free char *path = xcalloc(1, 2 * DEPTH + 8);
  for (int i = 0; i < DEPTH; i++)
    memcpy(path + 2 * i, "d/", 3);
  cleanup_free char *name = xasprintf("%sf", path);
  tb_add(t, &(struct tb_entry){ .name = name, .data = "x" });
  tb_add(t, &(struct tb_entry){ .name = ".wh.d" });
  cleanup_free char *buf = NULL;
  size_t len = 0;
  tb_finish(t, &buf, &len);
  struct rlimit old, low;
  assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
  low = old;
  low.rlim_cur = 64;
  assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
  struct berth_layer_info info;
  berth_error_t err = NULL;
  int r = apply_buf(f->rootfd, buf, len, NULL, &info, &err);
  assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
  unit_assert_no_error(&err);
  assert_int_equal(r, 0);
  struct stat st = lstat_at(f->root, "d");
  assert_true(S_ISCHR(st.st_mode)); /* the whiteout, the tree gone */
}

/* a tree with everything a diff must carry, applied from an archive (no root entry: the
 * roots of both trees are made by the test with the same mode) */
static void build_rich(struct tarb *t)
{
  build_every_type(t);
  const struct tb_entry es[] = {
    { .name = "wh/.wh.gone" },
    { .name = "opq/", .type = AE_IFDIR, .perm = 0711 },
    { .name = "opq/.wh..wh..opq" },
    { .name = "opq/inside", .data = "i" },
    { .name = "a-b", .data = "sorts before a/ with strcmp on paths" },
    { .name = "hl/one", .data = "shared" },
    { .name = "hl/two", .hardlink = "hl/one" },
    { .name = "hl/three", .hardlink = "hl/one" },
    { .name = "utf8/ünïcödé-名前", .data = "u" },
  };
  for (size_t i = 0; i < BERTH_N_ELEMENTS(es); i++)
    tb_add(t, &es[i]);
}

static char *mkroot(const char *dir, const char *name, int *fd)
{
  char *p = xasprintf("%s/%s", dir, name);
  assert_int_equal(mkdir(p, 0755), 0);
  assert_int_equal(chmod(p, 0755), 0);
  *fd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
  assert_true(*fd >= 0);
  return p;
}

/* diff dirfd into a memfd; returns the fd at offset 0 and checks the reported digests */
static int diff_to_fd(int dirfd, enum berth_compression c, struct berth_layer_info *info)
{
  int out = memfd_create("diff", MFD_CLOEXEC);
  berth_error_t err = NULL;
  if (berth_layer_diff(dirfd, out, c, info, &err) < 0) {
    print_error("%s\n", err->msg);
    fail();
  }
  off_t len = lseek(out, 0, SEEK_CUR);
  assert_int_equal((uint64_t) len, info->size);
  cleanup_free char *buf = xmalloc((size_t) len + 1);
  assert_int_equal(pread(out, buf, (size_t) len, 0), len);
  char d[BERTH_DIGEST_LEN + 1];
  berth_digest_bytes(buf, (size_t) len, d);
  assert_string_equal(d, info->digest);
  if (c == BERTH_COMPRESSION_NONE)
    assert_string_equal(info->digest, info->diff_id);
  assert_int_equal(lseek(out, 0, SEEK_SET), 0);
  return out;
}

static void test_roundtrip(void **state)
{
  struct fx *f = *state;
  struct tarb *t = tb_new(TB_NONE);
  build_rich(t);
  cleanup_free char *buf = NULL;
  size_t len = 0;
  tb_finish(t, &buf, &len);
  int fd1;
  cleanup_free char *t1 = mkroot(f->dir, "t1", &fd1);
  berth_error_t err = NULL;
  if (apply_buf(fd1, buf, len, NULL, NULL, &err) < 0) {
    print_error("%s\n", err->msg);
    fail();
  }
  assert_int_equal(chmod(t1, 0755), 0); /* the archive's "./" entry changed it */
  cleanup_free char *want = tree_listing(t1, true);
  const enum berth_compression cs[] = { BERTH_COMPRESSION_NONE, BERTH_COMPRESSION_GZIP,
                                        BERTH_COMPRESSION_ZSTD };
  for (size_t i = 0; i < BERTH_N_ELEMENTS(cs); i++) {
    struct berth_layer_info di, ai;
    cleanup_close int out = diff_to_fd(fd1, cs[i], &di);
    cleanup_free char *name = xasprintf("t2-%zu", i);
    int fd2;
    cleanup_free char *t2 = mkroot(f->dir, name, &fd2);
    if (berth_layer_apply(out, fd2, NULL, &ai, &err) < 0) {
      print_error("%s\n", err->msg);
      fail();
    }
    close(fd2);
    /* apply computes the same digests that diff reported */
    assert_string_equal(ai.diff_id, di.diff_id);
    assert_string_equal(ai.digest, di.digest);
    assert_int_equal(ai.tar_size, di.tar_size);
    assert_int_equal(ai.entries, di.entries);
    cleanup_free char *got = tree_listing(t2, true);
    /* the first line is the root itself, which a diff does not carry */
    if (strcmp(strchr(want, '\n'), strchr(got, '\n')) != 0) {
      cleanup_free char *p1 = xasprintf("%s/../roundtrip-want.txt", f->dir);
      cleanup_free char *p2 = xasprintf("%s/../roundtrip-got.txt", f->dir);
      if (berth_write_file_atomic(p1, want, strlen(want), 0644, &err) < 0 ||
          berth_write_file_atomic(p2, got, strlen(got), 0644, &err) < 0)
        berth_error_release(&err);
      print_error("round trip %zu differs: see %s and %s\n", i, p1, p2);
      fail();
    }
  }
  close(fd1);
}

static void test_diff_reproducible(void **state)
{
  struct fx *f = *state;
  struct tarb *t = tb_new(TB_NONE);
  build_rich(t);
  cleanup_free char *buf = NULL;
  size_t len = 0;
  tb_finish(t, &buf, &len);
  berth_error_t err = NULL;
  assert_int_equal(apply_buf(f->rootfd, buf, len, NULL, NULL, &err), 0);
  const enum berth_compression cs[] = { BERTH_COMPRESSION_GZIP, BERTH_COMPRESSION_ZSTD,
                                        BERTH_COMPRESSION_NONE };
  struct berth_layer_info first[3], again[3];
  for (size_t i = 0; i < 3; i++) {
    int fd = diff_to_fd(f->rootfd, cs[i], &first[i]);
    close(fd);
  }
  sleep(1); /* a timestamp in the gzip header would change now */
  for (size_t i = 0; i < 3; i++) {
    int fd = diff_to_fd(f->rootfd, cs[i], &again[i]);
    close(fd);
    assert_string_equal(first[i].digest, again[i].digest);
    assert_string_equal(first[i].diff_id, again[i].diff_id);
    assert_string_equal(first[i].diff_id, first[0].diff_id); /* one tar, three compressions */
  }
  assert_string_not_equal(first[0].digest, first[1].digest);
  /* the same tree elsewhere (other inode numbers, other creation order) gives the same layer */
  int fd2;
  cleanup_free char *copy = mkroot(f->dir, "copy", &fd2);
  int in = diff_to_fd(f->rootfd, BERTH_COMPRESSION_NONE, &again[0]);
  assert_int_equal(berth_layer_apply(in, fd2, NULL, NULL, &err), 0);
  close(in);
  struct berth_layer_info c;
  int cfd = diff_to_fd(fd2, BERTH_COMPRESSION_GZIP, &c);
  close(cfd);
  close(fd2);
  if (getenv("DEBUG_DIFF")) {
    cleanup_free char *l1 = tree_listing(f->root, true), *l2 = tree_listing(copy, true);
    fprintf(stderr, "%s\n----\n%s\n", l1, l2);
  }
  assert_string_equal(c.diff_id, first[0].diff_id);
  assert_string_equal(c.digest, first[0].digest);
}

/* what a diff of an overlay upper dir looks like: names, order, markers, no overlay xattrs */
static void test_diff_upper(void **state)
{
  struct fx *f = *state;
  const char *r = f->root;
  cleanup_free char *p1 = xasprintf("%s/b", r), *p2 = xasprintf("%s/a", r), *p3 = xasprintf("%s/a/x", r);
  cleanup_free char *p4 = xasprintf("%s/c", r), *p5 = xasprintf("%s/a/l1", r), *p6 = xasprintf("%s/a/l2", r);
  assert_int_equal(mknod(p1, S_IFCHR | 0600, makedev(0, 0)), 0);
  assert_int_equal(mkdir(p2, 0755), 0);
  assert_int_equal(setxattr(p2, "trusted.overlay.opaque", "y", 1, 0), 0);
  assert_int_equal(setxattr(p2, "trusted.overlay.origin", "junk", 4, 0), 0);
  assert_int_equal(setxattr(p2, "user.kept", "1", 1, 0), 0);
  assert_int_equal(mknod(p3, S_IFCHR | 0600, makedev(0, 0)), 0);
  assert_int_equal(mknod(p4, S_IFCHR | 0644, makedev(1, 3)), 0); /* a real device stays one */
  berth_error_t err = NULL;
  assert_int_equal(berth_write_file_atomic(p5, "data", 4, 0644, &err), 0);
  assert_int_equal(link(p5, p6), 0);
  struct berth_layer_info info;
  cleanup_close int out = diff_to_fd(f->rootfd, BERTH_COMPRESSION_GZIP, &info);
  assert_int_equal(info.entries, 7);
  struct archive *a = archive_read_new();
  archive_read_support_filter_gzip(a);
  archive_read_support_format_tar(a);
  assert_int_equal(archive_read_open_fd(a, out, 65536), ARCHIVE_OK);
  const char *want[] = { "a/", "a/.wh..wh..opq", "a/l1", "a/l2", "a/.wh.x", ".wh.b", "c" };
  struct archive_entry *e;
  size_t i = 0;
  while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
    assert_true(i < BERTH_N_ELEMENTS(want));
    assert_string_equal(archive_entry_pathname(e), want[i]);
    if (i == 0) {
      const char *xn;
      const void *xv;
      size_t xs;
      assert_int_equal(archive_entry_xattr_reset(e), 1);
      assert_int_equal(archive_entry_xattr_next(e, &xn, &xv, &xs), ARCHIVE_OK);
      assert_string_equal(xn, "user.kept");
    }
    if (i == 3)
      assert_string_equal(archive_entry_hardlink(e), "a/l1");
    if (i == 4 || i == 5) {
      assert_int_equal(archive_entry_filetype(e), AE_IFREG);
      assert_int_equal(archive_entry_size(e), 0);
    }
    if (i == 6)
      assert_int_equal(archive_entry_filetype(e), AE_IFCHR);
    assert_true(archive_entry_uname(e) == NULL || archive_entry_uname(e)[0] == '\0');
    assert_false(archive_entry_atime_is_set(e));
    i++;
  }
  assert_int_equal(i, BERTH_N_ELEMENTS(want));
  archive_read_free(a);
  /* the gzip header has no timestamp and no name */
  unsigned char hdr[10];
  assert_int_equal(pread(out, hdr, sizeof hdr, 0), sizeof hdr);
  assert_int_equal(hdr[0], 0x1f);
  assert_int_equal(hdr[3] & 0x08, 0);
  assert_int_equal(hdr[4] | hdr[5] | hdr[6] | hdr[7], 0);
  assert_int_equal(berth_layer_diff(f->rootfd, out, (enum berth_compression) 9, &info, &err), -1);
  unit_assert_error_contains(&err, "unknown compression");
}

/* docker cp's `-` into a directory: the archive's root entry leaves the directory alone,
 * ".wh." names are files, and a directory is never replaced by a non-directory */
static void test_tar_extract_plain(void **state)
{
  struct fx *f = *state;
  const char *r = f->root;
  cleanup_free char *d = xasprintf("%s/d", r), *keep = xasprintf("%s/d/keep", r);
  assert_int_equal(mkdir(d, 0755), 0);
  berth_error_t err = NULL;
  assert_int_equal(berth_write_file_atomic(keep, "k", 1, 0644, &err), 0);
  const struct tb_entry es[] = {
    { .name = "./", .type = AE_IFDIR, .perm = 0700, .uid = 5 },
    { .name = ".wh.x", .data = "plain" },
    { .name = "e/", .type = AE_IFDIR, .uid = 7 },
    { .name = "e/.wh..wh..opq" },
  };
  struct tarb *t = tb_new(TB_NONE);
  for (size_t i = 0; i < BERTH_N_ELEMENTS(es); i++)
    tb_add(t, &es[i]);
  cleanup_free char *buf = NULL;
  size_t len = 0;
  tb_finish(t, &buf, &len);
  cleanup_close int in = mem_fd(buf, len);
  if (berth_tar_extract(in, f->rootfd, &err) < 0) {
    print_error("%s\n", err->msg);
    fail();
  }
  assert_int_equal(lstat_at(r, "").st_mode, S_IFDIR | 0755);
  assert_int_equal(lstat_at(r, "").st_uid, 0);
  cleanup_free char *wh = read_at(r, ".wh.x");
  assert_string_equal(wh, "plain");
  assert_true(S_ISREG(lstat_at(r, "e/.wh..wh..opq").st_mode));
  cleanup_free char *opq = xattr_at(r, "e", "trusted.overlay.opaque");
  assert_null(opq);
  assert_int_equal(lstat_at(r, "e").st_uid, 7);
  /* a file where a directory is: refused, the directory and its contents kept */
  const struct tb_entry over = { .name = "d", .data = "file" };
  t = tb_new(TB_NONE);
  tb_add(t, &over);
  free(steal_ptr(buf));
  tb_finish(t, &buf, &len);
  cleanup_close int in2 = mem_fd(buf, len);
  assert_int_equal(berth_tar_extract(in2, f->rootfd, &err), -1);
  unit_assert_error_contains(&err, "cannot overwrite a directory with a non-directory");
  cleanup_free char *k = read_at(r, "d/keep");
  assert_string_equal(k, "k");
}

/* berth_tar_extract is all or nothing: an archive that fails at any entry, or is cut in the
 * middle of a file's data, leaves the directory exactly as it was (what it replaced is back,
 * what it created is gone, an existing directory has its owner, mode and times again); one
 * that succeeds leaves nothing set aside */
static void build_tar(const struct tb_entry *es, size_t n, size_t cut, char **buf, size_t *len)
{
  struct tarb *t = tb_new(TB_NONE);
  for (size_t i = 0; i < n; i++)
    tb_add(t, &es[i]);
  tb_finish(t, buf, len);
  if (cut > 0 && cut < *len)
    *len = cut;
}

static void test_tar_extract_rolls_back(void **state)
{
  struct fx *f = *state;
  const char *r = f->root;
  berth_error_t err = NULL;
  cleanup_free char *d = xasprintf("%s/d", r), *keep = xasprintf("%s/keep", r), *lnk = xasprintf("%s/lnk", r);
  assert_int_equal(mkdir(d, 0700), 0);
  assert_int_equal(berth_write_file_atomic(keep, "old contents", 12, 0640, &err), 0);
  assert_int_equal(symlink("keep", lnk), 0);
  struct timespec ts[2] = { { 1234567, 0 }, { 1234567, 0 } };
  assert_int_equal(utimensat(AT_FDCWD, d, ts, 0), 0);
  bool xattrs = setxattr(d, "user.kept", "old", 3, 0) == 0; /* the directory's own; tmpfs < 6.6: none */
  assert_int_equal(utimensat(AT_FDCWD, r, ts, 0), 0);       /* the times a rollback must give back */
  cleanup_free char *before = tree_listing(r, true);

  static char big[100000];
  memset(big, 'n', sizeof big);
  const struct tb_entry es[] = {
    { .name = "new1", .data = "created" },
    { .name = "d/", .type = AE_IFDIR, .perm = 0755, .uid = 7 },
    { .name = "d/inside", .data = "x" },
    { .name = "sub/deeper/x", .data = "implicit parents" },
    { .name = "lnk", .data = "a file over the symlink" },
    { .name = "hl", .hardlink = "new1" },
    { .name = "keep", .data = big, .len = sizeof big },
    { .name = "last", .data = "never reached when cut" },
  };
  cleanup_free char *buf = NULL;
  size_t len = 0;
  /* cut inside keep's data: the old keep must not be lost */
  build_tar(es, BERTH_N_ELEMENTS(es), 8 * 512 + 50000, &buf, &len);
  cleanup_close int in = mem_fd(buf, len);
  assert_int_equal(berth_tar_extract(in, f->rootfd, &err), -1);
  berth_error_release(&err);
  cleanup_free char *after = tree_listing(r, true);
  assert_string_equal(after, before);

  /* an entry refused after others were written: `d` over... a file where a directory is */
  const struct tb_entry bad[] = {
    { .name = "new1", .data = "created" },
    { .name = "keep", .data = "replaced" },
    { .name = "d/", .type = AE_IFDIR, .perm = 0755, .xname = "user.kept", .xval = "new" },
    { .name = "d/", .type = AE_IFDIR, .perm = 0755, .xname = "user.added", .xval = "new" },
    { .name = "d", .data = "a file over a directory" },
  };
  free(steal_ptr(buf));
  build_tar(bad, BERTH_N_ELEMENTS(bad), 0, &buf, &len);
  cleanup_close int in2 = mem_fd(buf, len);
  assert_int_equal(berth_tar_extract(in2, f->rootfd, &err), -1);
  unit_assert_error_contains(&err, "cannot overwrite a directory with a non-directory");
  free(steal_ptr(after));
  after = tree_listing(r, true);
  assert_string_equal(after, before); /* user.kept old again, user.added gone (when supported) */
  if (xattrs)
    assert_non_null(strstr(before, " x:user.kept=6f6c64"));

  /* the whole archive: applied, nothing set aside */
  free(steal_ptr(buf));
  build_tar(es, BERTH_N_ELEMENTS(es), 0, &buf, &len);
  cleanup_close int in3 = mem_fd(buf, len);
  assert_int_equal(berth_tar_extract(in3, f->rootfd, &err), 0);
  assert_int_equal(lstat_at(r, "keep").st_size, sizeof big);
  assert_true(S_ISREG(lstat_at(r, "lnk").st_mode));
  assert_int_equal(lstat_at(r, "d").st_uid, 7);
  assert_int_equal(lstat_at(r, "hl").st_ino, lstat_at(r, "new1").st_ino);
  free(steal_ptr(after));
  after = tree_listing(r, false);
  assert_null(strstr(after, ".berth-replaced-"));
}

/* docker cp's `-` out of a container: one item under the name asked for, or a directory's
 * entries; the tree as it is (a 0:0 device stays a device, an opaque mark is not a marker) */
static void test_tar_write_item(void **state)
{
  struct fx *f = *state;
  const char *r = f->root;
  cleanup_free char *top = xasprintf("%s/top", r), *w = xasprintf("%s/top/w", r),
                    *g = xasprintf("%s/top/g", r);
  assert_int_equal(mkdir(top, 0750), 0);
  assert_int_equal(setxattr(top, "trusted.overlay.opaque", "y", 1, 0), 0);
  assert_int_equal(mknod(w, S_IFCHR | 0600, makedev(0, 0)), 0);
  berth_error_t err = NULL;
  assert_int_equal(berth_write_file_atomic(g, "gg", 2, 0640, &err), 0);
  const char *want_item[] = { "renamed/", "renamed/g", "renamed/w" };
  const char *want_entries[] = { "top/", "top/g", "top/w" };
  for (int round = 0; round < 2; round++) {
    cleanup_close int out = memfd_create("tar", MFD_CLOEXEC);
    int rc = round == 0 ? berth_tar_write(f->rootfd, "top", "renamed", out, &err)
                        : berth_tar_write(f->rootfd, NULL, NULL, out, &err);
    if (rc < 0) {
      print_error("%s\n", err->msg);
      fail();
    }
    assert_int_equal(lseek(out, 0, SEEK_SET), 0);
    struct archive *a = archive_read_new();
    archive_read_support_format_tar(a);
    assert_int_equal(archive_read_open_fd(a, out, 65536), ARCHIVE_OK);
    struct archive_entry *e;
    size_t i = 0;
    const char **want = round == 0 ? want_item : want_entries;
    while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
      assert_true(i < 3);
      assert_string_equal(archive_entry_pathname(e), want[i]);
      if (i == 0)
        assert_int_equal(archive_entry_perm(e), 0750);
      if (i == 2) {
        assert_int_equal(archive_entry_filetype(e), AE_IFCHR);
        assert_int_equal(archive_entry_rdev(e), 0);
      }
      i++;
    }
    assert_int_equal(i, 3);
    archive_read_free(a);
  }
  cleanup_close int out = memfd_create("tar", MFD_CLOEXEC);
  assert_int_equal(berth_tar_write(f->rootfd, "missing", "missing", out, &err), -1);
  unit_assert_error_contains(&err, "missing");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_apply_every_type, setup, teardown),
    cmocka_unit_test_setup_teardown(test_apply_whiteouts, setup, teardown),
    cmocka_unit_test_setup_teardown(test_apply_replace, setup, teardown),
    cmocka_unit_test_setup_teardown(test_apply_through_symlinks, setup, teardown),
    cmocka_unit_test_setup_teardown(test_apply_root_entries, setup, teardown),
    cmocka_unit_test_setup_teardown(test_apply_sparse_and_big, setup, teardown),
    cmocka_unit_test_setup_teardown(test_apply_deep, setup, teardown),
    cmocka_unit_test_setup_teardown(test_apply_whiteout_of_a_deep_tree, setup, teardown),
    cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
    cmocka_unit_test_setup_teardown(test_diff_reproducible, setup, teardown),
    cmocka_unit_test_setup_teardown(test_diff_upper, setup, teardown),
    cmocka_unit_test_setup_teardown(test_tar_extract_rolls_back, setup, teardown),
    cmocka_unit_test_setup_teardown(test_tar_extract_plain, setup, teardown),
    cmocka_unit_test_setup_teardown(test_tar_write_item, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
