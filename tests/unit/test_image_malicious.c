/* The malicious-layer suite: evil archives are refused with a clear message (or, where the
 * archive is merely odd, applied inside the root), and none of them changes anything outside
 * the extraction root. Beside the root sits "outside" with a sentinel; a full listing of it,
 * the names next to the root, /etc/passwd's identity and a few absolute paths are compared
 * before and after every case. Cases come from a table built here with libarchive and from
 * tests/integration/malicious-layers/gen.py (python's tarfile writes what libarchive's
 * writer would not). */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "image/layer.h"
#include "test_image_tar.h"
#include "unit.h"

extern char **environ;

struct mfx {
  char *dir;     /* T */
  char *outside; /* T/outside */
  char *root;    /* T/root */
};

struct snapshot {
  char *outside;
  char *names;
  struct stat passwd;
  bool dev_evil;
};

static int setup(void **state)
{
  berth_log_configure(-1, BERTH_LOG_FORMAT_TEXT, BERTH_LOG_ERROR);
  struct mfx *f = xmalloc0(sizeof *f);
  f->dir = unit_mkdtemp();
  f->outside = xasprintf("%s/outside", f->dir);
  f->root = xasprintf("%s/root", f->dir);
  assert_int_equal(mkdir(f->outside, 0755), 0);
  cleanup_free char *sub = xasprintf("%s/sub", f->outside);
  assert_int_equal(mkdir(sub, 0700), 0);
  cleanup_free char *sentinel = xasprintf("%s/sentinel", f->outside);
  berth_error_t err = NULL;
  assert_int_equal(berth_write_file_atomic(sentinel, "do not touch\n", 13, 0640, &err), 0);
  *state = f;
  return 0;
}

static int teardown(void **state)
{
  struct mfx *f = *state;
  unit_rm_rf(f->dir);
  free(f->dir);
  free(f->outside);
  free(f->root);
  free(f);
  return 0;
}

static char *names_of(const char *dir)
{
  struct dirent **list = NULL;
  int n = scandir(dir, &list, NULL, tree_cmp);
  struct berth_strbuf b = BERTH_STRBUF_INIT;
  for (int i = 0; i < n; i++) {
    berth_strbuf_printf(&b, "%s\n", list[i]->d_name);
    free(list[i]);
  }
  free(list);
  return berth_strbuf_detach(&b);
}

static void snap(struct mfx *f, struct snapshot *s)
{
  s->outside = tree_listing(f->outside, true);
  s->names = names_of(f->dir);
  assert_int_equal(stat("/etc/passwd", &s->passwd), 0);
  s->dev_evil = access("/dev/evil", F_OK) == 0;
}

static void compare(const struct snapshot *a, const struct snapshot *b, const char *label)
{
  if (strcmp(a->outside, b->outside) != 0) {
    print_error("%s: the outside directory changed:\nbefore:\n%s\nafter:\n%s\n", label, a->outside,
                b->outside);
    fail();
  }
  if (strcmp(a->names, b->names) != 0) {
    print_error("%s: names beside the root changed:\n%s\nvs\n%s\n", label, a->names, b->names);
    fail();
  }
  if (a->passwd.st_ino != b->passwd.st_ino || a->passwd.st_nlink != b->passwd.st_nlink ||
      a->passwd.st_size != b->passwd.st_size || a->passwd.st_mtim.tv_nsec != b->passwd.st_mtim.tv_nsec) {
    print_error("%s: /etc/passwd changed\n", label);
    fail();
  }
  if (a->dev_evil != b->dev_evil) {
    print_error("%s: /dev/evil appeared\n", label);
    fail();
  }
}

static void snap_free(struct snapshot *s)
{
  free(s->outside);
  free(s->names);
}

/* apply fd into a fresh root; check the outcome and that nothing outside changed */
static void run_case(struct mfx *f, int fd, const struct berth_layer_limits *lim, bool expect_ok,
                     const char *msg, const char *label)
{
  unit_rm_rf(f->root);
  assert_int_equal(mkdir(f->root, 0755), 0);
  cleanup_close int rootfd = open(f->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  struct snapshot before, after;
  snap(f, &before);
  berth_error_t err = NULL;
  int r = berth_layer_apply(fd, rootfd, lim, NULL, &err);
  snap(f, &after);
  compare(&before, &after, label);
  snap_free(&before);
  snap_free(&after);
  if (expect_ok && r < 0) {
    print_error("%s: unexpected error: %s\n", label, err->msg);
    fail();
  }
  if (!expect_ok) {
    if (r == 0) {
      print_error("%s: applied but should have been refused\n", label);
      fail();
    }
    if (strstr(err->msg, msg) == NULL || !berth_str_has_prefix(err->msg, "apply layer: ")) {
      print_error("%s: error `%s` lacks `%s`\n", label, err->msg, msg);
      fail();
    }
    berth_error_release(&err);
  }
}

static void run_entries(struct mfx *f, const struct tb_entry *es, size_t n, bool expect_ok, const char *msg,
                        const char *label)
{
  struct tarb *t = tb_new(TB_GZIP);
  for (size_t i = 0; i < n; i++)
    tb_add(t, &es[i]);
  cleanup_free char *buf = NULL;
  size_t len = 0;
  tb_finish(t, &buf, &len);
  cleanup_close int fd = mem_fd(buf, len);
  run_case(f, fd, NULL, expect_ok, msg, label);
}

#define RUN(f, ok, msg, ...)                                                                                 \
  do {                                                                                                       \
    const struct tb_entry es_[] = { __VA_ARGS__ };                                                           \
    run_entries(f, es_, BERTH_N_ELEMENTS(es_), ok, msg, #__VA_ARGS__);                                       \
  } while (0)

static void test_names(void **state)
{
  struct mfx *f = *state;
  cleanup_free char *abs_pwned = xasprintf("%s/pwned", f->outside);
  RUN(f, false, "entry `../outside/pwned`: name with a `..` component refused",
      { .name = "../outside/pwned", .data = "p" });
  RUN(f, false, "`..` component refused", { .name = "a/../../outside/pwned", .data = "p" });
  RUN(f, false, "absolute name refused", { .name = abs_pwned, .data = "p" });
  RUN(f, false, "absolute name refused", { .name = "/dev/evil", .type = AE_IFCHR, .rmajor = 1, .rminor = 3 });
  RUN(f, false, "entry `../.wh.outside`: name with a `..` component refused", { .name = "../.wh.outside" });
  RUN(f, false, "`..` component refused", { .name = "../outside/null", .type = AE_IFCHR, .rmajor = 1 });
  RUN(f, false, "`..` component refused", { .name = "../outside", .type = AE_IFDIR, .perm = 0777 });
  RUN(f, false, "whiteout without a valid name", { .name = "d/.wh." });
}

static void test_symlinks(void **state)
{
  struct mfx *f = *state;
  /* the write through a symlink pointing out: refused, not followed */
  RUN(f, false, "entry `a/pwned`: parent `a` is a symlink to a missing directory",
      { .name = "a", .type = AE_IFLNK, .link = f->outside }, { .name = "a/pwned", .data = "p" });
  RUN(f, false, "parent `a` is a symlink to a missing directory",
      { .name = "a", .type = AE_IFLNK, .link = "../outside" }, { .name = "a/sub/pwned", .data = "p" });
  /* .. chains resolve at the root; nothing is created through them */
  RUN(f, false, "would be created through the symlink `c`", { .name = "a", .type = AE_IFLNK, .link = ".." },
      { .name = "b", .type = AE_IFLNK, .link = "a/../../.." },
      { .name = "c", .type = AE_IFLNK, .link = "b/.." }, { .name = "c/outside/pwned", .data = "p" });
  RUN(f, false, "symlink to a missing directory", { .name = "a", .type = AE_IFLNK, .link = f->outside },
      { .name = "a/.wh.sentinel" });
  RUN(f, false, "symlink to a missing directory", { .name = "a", .type = AE_IFLNK, .link = f->outside },
      { .name = "a/null", .type = AE_IFCHR, .rmajor = 1, .rminor = 3 });
  RUN(f, false, "symlink to a missing directory", { .name = "a", .type = AE_IFLNK, .link = f->outside },
      { .name = "a/.wh..wh..opq" });
  /* entries replacing a symlink that points out replace the link itself */
  cleanup_free char *sentinel = xasprintf("%s/sentinel", f->outside);
  RUN(f, true, "", { .name = "s", .type = AE_IFLNK, .link = sentinel }, { .name = "s", .data = "pwned" });
  cleanup_free char *s = xasprintf("%s/s", f->root);
  struct stat st;
  assert_int_equal(lstat(s, &st), 0);
  assert_true(S_ISREG(st.st_mode));
  RUN(f, true, "", { .name = "d", .type = AE_IFLNK, .link = f->outside },
      { .name = "d", .type = AE_IFDIR, .perm = 0777, .uid = 4321 });
  RUN(f, true, "", { .name = "d", .type = AE_IFLNK, .link = f->outside },
      { .name = "d", .type = AE_IFIFO, .perm = 0777, .uid = 4321 });
  RUN(f, true, "", { .name = "d", .type = AE_IFLNK, .link = sentinel },
      { .name = "d", .type = AE_IFLNK, .link = "x", .uid = 4321 });
  /* a symlink's target is data: anything goes, nothing is followed */
  RUN(f, true, "", { .name = "p", .type = AE_IFLNK, .link = "../../../../etc/passwd", .uid = 55 });
}

static void test_hardlinks(void **state)
{
  struct mfx *f = *state;
  cleanup_free char *sentinel = xasprintf("%s/sentinel", f->outside);
  RUN(f, false, "entry `h`: hardlink target `/etc/passwd`: absolute name refused",
      { .name = "h", .hardlink = "/etc/passwd" });
  RUN(f, false, "hardlink target `../../../../../../../../etc/passwd`: name with a `..` component refused",
      { .name = "h", .hardlink = "../../../../../../../../etc/passwd" });
  RUN(f, false, "absolute name refused", { .name = "h", .hardlink = sentinel });
  RUN(f, false, "entry `h`: hardlink target `d/passwd` is not in the layer",
      { .name = "d", .type = AE_IFLNK, .link = "/etc" }, { .name = "h", .hardlink = "d/passwd" });
  RUN(f, false, "hardlink target `d/sentinel`", { .name = "d", .type = AE_IFLNK, .link = f->outside },
      { .name = "h", .hardlink = "d/sentinel" });
  RUN(f, false, "hardlink target `missing` is not in the layer", { .name = "h", .hardlink = "missing" });
  RUN(f, false, "hardlink target `d` is a directory", { .name = "d", .type = AE_IFDIR },
      { .name = "h", .hardlink = "d" });
  RUN(f, false, "hardlink to the layer root refused", { .name = "h", .hardlink = "./" });
  /* a hardlink to a symlink pointing out links the symlink itself */
  RUN(f, true, "", { .name = "s", .type = AE_IFLNK, .link = "/etc/passwd" },
      { .name = "h", .hardlink = "s" });
  cleanup_free char *h = xasprintf("%s/h", f->root);
  struct stat st;
  assert_int_equal(lstat(h, &st), 0);
  assert_true(S_ISLNK(st.st_mode));
  assert_int_equal(st.st_nlink, 2);
}

static void test_streams(void **state)
{
  struct mfx *f = *state;
  /* a valid archive to break */
  struct tarb *t = tb_new(TB_GZIP);
  char data[20000];
  for (size_t i = 0; i < sizeof data; i++)
    data[i] = (char) (i * 131 + i / 7);
  tb_add(t, &(struct tb_entry){ .name = "a", .data = data, .len = sizeof data });
  tb_add(t, &(struct tb_entry){ .name = "b", .data = data, .len = sizeof data });
  cleanup_free char *gz = NULL;
  size_t gzlen = 0;
  tb_finish(t, &gz, &gzlen);
  cleanup_close int fd1 = mem_fd(gz, gzlen / 2);
  run_case(f, fd1, NULL, false, "truncated", "truncated gzip");
  gz[gzlen / 2] ^= 0x55;
  gz[gzlen / 2 + 1] ^= 0x55;
  cleanup_close int fd2 = mem_fd(gz, gzlen);
  run_case(f, fd2, NULL, false, "apply layer: ", "corrupt gzip");

  t = tb_new(TB_NONE);
  tb_add(t, &(struct tb_entry){ .name = "a", .data = data, .len = sizeof data });
  cleanup_free char *tar = NULL;
  size_t tarlen = 0;
  tb_finish(t, &tar, &tarlen);
  cleanup_close int fd3 = mem_fd(tar, 512 + 4096);
  run_case(f, fd3, NULL, false, "entry `a`: truncated tar archive", "truncated tar");
  cleanup_close int fd4 = mem_fd("", 0);
  run_case(f, fd4, NULL, false, "empty layer stream", "empty");
  cleanup_close int fd5 = mem_fd(data, sizeof data);
  run_case(f, fd5, NULL, false, "unrecognized archive format", "garbage");
}

static void test_caps(void **state)
{
  struct mfx *f = *state;
  /* a gzip bomb: 1 GiB of zeros in about 1 MB; a ratio cap of 100 stops it early */
  struct tarb *t = tb_new_level(TB_GZIP, "9");
  tb_add_zeros(t, "zeros", 1ULL << 30);
  cleanup_free char *bomb = NULL;
  size_t len = 0;
  tb_finish(t, &bomb, &len);
  assert_true(len < (2 << 20));
  struct berth_layer_limits lim = { .max_ratio = 100 };
  cleanup_close int fd = mem_fd(bomb, len);
  run_case(f, fd, &lim, false, "decompression bomb", "gzip bomb");
  cleanup_free char *zeros = xasprintf("%s/zeros", f->root);
  struct stat st;
  assert_true(stat(zeros, &st) < 0 || st.st_size < (64 << 20)); /* stopped long before 1 GiB */

  struct berth_layer_limits small = { .max_bytes = 1 << 20 };
  cleanup_close int fd2 = mem_fd(bomb, len);
  run_case(f, fd2, &small, false, "size 1073741824 exceeds the limit of 1048576 bytes", "size cap");
  struct berth_layer_limits entries = { .max_entries = 3 };
  t = tb_new(TB_NONE);
  for (int i = 0; i < 5; i++)
    tb_add(t, &(struct tb_entry){ .name = i % 2 ? "x" : "y", .data = "1" });
  cleanup_free char *five = NULL;
  tb_finish(t, &five, &len);
  cleanup_close int fd3 = mem_fd(five, len);
  run_case(f, fd3, &entries, false, "too many entries: more than the limit of 3", "entry cap");
}

/* the source path of a file next to this test, from the build tree's program path */
static char *source_path(const char *rel)
{
  if (__FILE__[0] == '/')
    return xasprintf("%s/%s", dirname(strdupa(__FILE__)), rel);
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n < 0)
    return NULL;
  exe[n] = '\0';
  /* <build>/tests/unit/<exe>; __FILE__ is relative to <build> */
  return xasprintf("%s/%s/%s", dirname(dirname(dirname(exe))), dirname(strdupa(__FILE__)), rel);
}

static int run_generator(const char *script, const char *out, const char *outside)
{
  char *argv[] = { (char *) "python3", (char *) script, (char *) out, (char *) outside, NULL };
  pid_t pid;
  if (posix_spawnp(&pid, "python3", NULL, NULL, argv, environ) != 0)
    return -1;
  int status = 0;
  if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return -1;
  return 0;
}

static void parse_limits(const char *s, struct berth_layer_limits *lim)
{
  memset(lim, 0, sizeof *lim);
  uint64_t v = 0;
  const char *eq = strchr(s, '=');
  if (eq == NULL || berth_parse_u64(eq + 1, &v) < 0)
    return;
  if (berth_str_has_prefix(s, "ratio="))
    lim->max_ratio = v;
  else if (berth_str_has_prefix(s, "bytes="))
    lim->max_bytes = v;
  else if (berth_str_has_prefix(s, "entries="))
    lim->max_entries = v;
}

static void test_generated(void **state)
{
  struct mfx *f = *state;
  cleanup_free char *script = source_path("../integration/malicious-layers/gen.py");
  cleanup_free char *out = xasprintf("%s-evil", f->dir);
  if (script == NULL || access(script, R_OK) < 0 || run_generator(script, out, f->outside) < 0) {
    print_error("skip: cannot run %s (python3 missing?)\n", script ? script : "gen.py");
    unit_rm_rf(out);
    free(steal_ptr(script));
    free(steal_ptr(out));
    skip();
  }
  cleanup_free char *tsv_path = xasprintf("%s/cases.tsv", out);
  cleanup_fclose FILE *tsv = fopen(tsv_path, "re");
  assert_non_null(tsv);
  char line[1024];
  int n = 0;
  while (fgets(line, sizeof line, tsv) != NULL) {
    line[strcspn(line, "\n")] = '\0';
    char *file = strtok(line, "\t"), *expect = strtok(NULL, "\t"), *limits = strtok(NULL, "\t");
    char *msg = strtok(NULL, "\t");
    assert_non_null(limits);
    struct berth_layer_limits lim;
    parse_limits(limits, &lim);
    cleanup_free char *path = xasprintf("%s/%s", out, file);
    cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    run_case(f, fd, &lim, strcmp(expect, "ok") == 0, msg ? msg : "apply layer: ", file);
    n++;
  }
  unit_rm_rf(out);
  assert_true(n >= 30);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_names, setup, teardown),
    cmocka_unit_test_setup_teardown(test_symlinks, setup, teardown),
    cmocka_unit_test_setup_teardown(test_hardlinks, setup, teardown),
    cmocka_unit_test_setup_teardown(test_streams, setup, teardown),
    cmocka_unit_test_setup_teardown(test_caps, setup, teardown),
    cmocka_unit_test_setup_teardown(test_generated, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
