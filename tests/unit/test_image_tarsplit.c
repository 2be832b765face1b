/* tar-split (image/tarsplit.h): a tar recorded while it is applied gives back the same bytes —
 * the same digest — from the record and the extracted tree, in every dialect libarchive writes
 * (pax, GNU, ustar, long names, xattrs, links, devices, empty and large files, trailing bytes
 * after the end); in chunks of any size; and the layers the tree cannot give back are named
 * unsafe (a file replaced, whited out or below a symlink). A changed tree is an error. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/xalloc.h"
#include "image/digest.h"
#include "image/layer.h"
#include "image/tarsplit.h"
#include "test_image_tar.h"
#include "unit.h"

struct fx {
  char *dir;
  int rootfd;
};

static int setup(void **state)
{
  struct fx *f = xmalloc0(sizeof *f);
  f->dir = unit_mkdtemp();
  cleanup_free char *root = xasprintf("%s/root", f->dir);
  assert_int_equal(mkdir(root, 0755), 0);
  f->rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  assert_true(f->rootfd >= 0);
  *state = f;
  return 0;
}

static int teardown(void **state)
{
  struct fx *f = *state;
  close(f->rootfd);
  unit_rm_rf(f->dir);
  free(f->dir);
  free(f);
  return 0;
}

/* the record, gzipped into a memfd as the store keeps it */
struct rec_out {
  gzFile gz;
};

static int to_gz(void *data, const void *buf, size_t len)
{
  struct rec_out *o = data;
  return gzwrite(o->gz, buf, (unsigned) len) == (int) len ? 0 : -1;
}

/* record buf fed in chunks of `chunk` bytes (0: at once): the record's fd; *why: unsafe or NULL */
static int record(const char *buf, size_t len, size_t chunk, const char **why)
{
  int fd = memfd_create("rec", MFD_CLOEXEC);
  assert_true(fd >= 0);
  struct rec_out o = { gzdopen(dup(fd), "wb") };
  struct berth_tarsplit_rec *r = berth_tarsplit_rec_new(to_gz, &o);
  for (size_t at = 0; at < len;) {
    size_t n = chunk && len - at > chunk ? chunk : len - at;
    assert_int_equal(berth_tarsplit_rec_feed(r, buf + at, n), 0);
    at += n;
  }
  int failed = 0;
  *why = berth_tarsplit_rec_finish(r, &failed);
  assert_int_equal(failed, 0);
  berth_tarsplit_rec_free(r);
  assert_int_equal(gzclose(o.gz), Z_OK);
  assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
  return fd;
}

struct collect {
  char *buf;
  size_t len;
};

static int collect(void *data, const void *buf, size_t len, berth_error_t *err)
{
  struct collect *c = data;
  c->buf = xrealloc(c->buf, c->len + len + 1);
  memcpy(c->buf + c->len, buf, len);
  c->len += len;
  return 0;
}

static void apply(struct fx *f, const char *buf, size_t len)
{
  cleanup_close int in = mem_fd(buf, len);
  berth_error_t err = NULL;
  if (berth_layer_apply(in, f->rootfd, NULL, NULL, &err) < 0)
    fail_msg("apply: %s", err->msg);
}

/* apply, record, rebuild: the same bytes */
static void round_trip(struct fx *f, const char *buf, size_t len, size_t chunk)
{
  apply(f, buf, len);
  const char *why = NULL;
  cleanup_close int rec = record(buf, len, chunk, &why);
  if (why)
    fail_msg("unsafe: %s", why);
  struct collect c = { 0 };
  struct berth_tarsplit_result res;
  berth_error_t err = NULL;
  if (berth_tarsplit_rebuild(rec, f->rootfd, true, collect, &c, &res, &err) < 0)
    fail_msg("rebuild: %s", err->msg);
  assert_int_equal(c.len, len);
  assert_memory_equal(c.buf, buf, len);
  char d[BERTH_DIGEST_LEN + 1];
  berth_digest_bytes(buf, len, d);
  assert_string_equal(res.diff_id, d);
  assert_int_equal(res.size, len);
  free(c.buf);
}

static void add_many(struct tarb *t)
{
  static char big[300000];
  for (size_t i = 0; i < sizeof big; i++)
    big[i] = (char) (i * 7 + i / 511);
  tb_add(t, &(struct tb_entry){ .name = "./", .type = AE_IFDIR });
  tb_add(t, &(struct tb_entry){ .name = "etc", .type = AE_IFDIR });
  tb_add(t, &(struct tb_entry){ .name = "etc/hostname", .data = "box\n" });
  tb_add(t, &(struct tb_entry){ .name = "etc/empty", .data = "" });
  tb_add(t, &(struct tb_entry){ .name = "etc/big", .data = big, .len = sizeof big });
  tb_add(t, &(struct tb_entry){ .name = "etc/exactly-512", .data = big, .len = 512 });
  tb_add(t, &(struct tb_entry){ .name = "bin", .type = AE_IFDIR });
  tb_add(t, &(struct tb_entry){ .name = "bin/sh", .data = "#!binary", .perm = 0755, .uid = 1, .gid = 2 });
  tb_add(t, &(struct tb_entry){ .name = "bin/ash", .hardlink = "bin/sh" });
  tb_add(t, &(struct tb_entry){ .name = "bin/ls", .type = AE_IFLNK, .link = "sh" });
  tb_add(t, &(struct tb_entry){ .name = "dev", .type = AE_IFDIR });
  tb_add(t, &(struct tb_entry){ .name = "dev/null", .type = AE_IFCHR, .rmajor = 1, .rminor = 3 });
  tb_add(t, &(struct tb_entry){ .name = "dev/fifo", .type = AE_IFIFO });
  tb_add(t, &(struct tb_entry){ .name = "etc/xattr", .data = "x", .xname = "user.k", .xval = "v" });
  tb_add(t, &(struct tb_entry){ .name = "a-directory-name-long-enough-to-need-a-pax-or-gnu-long-name-record",
                                .type = AE_IFDIR });
  tb_add(t, &(struct tb_entry){
              .name = "a-directory-name-long-enough-to-need-a-pax-or-gnu-long-name-record/and-a-file-name-"
                      "that-passes-the-hundred-characters-of-the-ustar-name-field.txt",
              .data = "long" });
  tb_add(t, &(struct tb_entry){ .name = "etc/.wh.gone", .data = "" });
  tb_add(t, &(struct tb_entry){ .name = "opq", .type = AE_IFDIR });
  tb_add(t, &(struct tb_entry){ .name = "opq/.wh..wh..opq", .data = "" });
  tb_add(t, &(struct tb_entry){ .name = "utf8-\xc3\xa9t\xc3\xa9", .data = "summer" });
}

/* tb_new in another format (set before the archive is opened) */
static struct tarb *tb_new_format(int format)
{
  struct tarb *t = xmalloc0(sizeof *t);
  t->a = archive_write_new();
  if (format >= 0)
    archive_write_set_format(t->a, format);
  else
    archive_write_set_format_pax_restricted(t->a);
  archive_write_set_bytes_in_last_block(t->a, 1);
  if (archive_write_open(t->a, t, NULL, tb_write_cb, NULL) != ARCHIVE_OK)
    abort();
  return t;
}

static char *build(int format, size_t *len)
{
  struct tarb *t = tb_new_format(format);
  add_many(t);
  char *buf;
  tb_finish(t, &buf, len);
  return buf;
}

static void test_round_trip_pax(void **state)
{
  size_t len;
  cleanup_free char *buf = build(-1, &len);
  round_trip(*state, buf, len, 0);
}

static void test_round_trip_gnu(void **state)
{
  size_t len;
  cleanup_free char *buf = build(ARCHIVE_FORMAT_TAR_GNUTAR, &len);
  round_trip(*state, buf, len, 0);
}

static void test_round_trip_ustar_chunks(void **state)
{
  struct tarb *t = tb_new_format(ARCHIVE_FORMAT_TAR_USTAR);
  tb_add(t, &(struct tb_entry){ .name = "d", .type = AE_IFDIR });
  tb_add(t, &(struct tb_entry){ .name = "d/file", .data = "hello" });
  /* ustar's prefix field: a name of 130 characters split at a slash */
  tb_add(t, &(struct tb_entry){ .name = "d/0123456789012345678901234567890123456789012345678901234567890",
                                .type = AE_IFDIR });
  tb_add(t, &(struct tb_entry){ .name = "d/0123456789012345678901234567890123456789012345678901234567890/"
                                        "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij",
                                .data = "prefixed" });
  char *buf;
  size_t len;
  tb_finish(t, &buf, &len);
  round_trip(*state, buf, len, 1); /* a byte at a time */
  free(buf);
}

/* bytes after the end of the archive are part of the diff ID: kept */
static void test_trailing_bytes(void **state)
{
  size_t len;
  char *buf = build(-1, &len);
  buf = xrealloc(buf, len + 3000);
  memset(buf + len, 0, 2000);
  memcpy(buf + len + 2000, "junk after the end", 18);
  memset(buf + len + 2018, 'z', 982);
  round_trip(*state, buf, len + 3000, 777);
  free(buf);
}

/* the same record whatever the chunks */
static void test_chunking_same_record(void **state)
{
  (void) state;
  size_t len;
  cleanup_free char *buf = build(-1, &len);
  const char *why = NULL;
  size_t sizes[] = { 0, 1, 511, 512, 513, 4096, 65537 };
  char *first = NULL;
  size_t first_len = 0;
  for (size_t i = 0; i < BERTH_N_ELEMENTS(sizes); i++) {
    cleanup_close int fd = record(buf, len, sizes[i], &why);
    assert_null(why);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    char *bytes = xmalloc((size_t) st.st_size + 1);
    assert_int_equal(read(fd, bytes, (size_t) st.st_size), st.st_size);
    if (first == NULL) {
      first = bytes;
      first_len = (size_t) st.st_size;
    } else {
      assert_int_equal((size_t) st.st_size, first_len);
      assert_memory_equal(bytes, first, first_len);
      free(bytes);
    }
  }
  free(first);
}

static const char *unsafe_of(const struct tb_entry *entries, size_t n)
{
  struct tarb *t = tb_new(TB_NONE);
  for (size_t i = 0; i < n; i++)
    tb_add(t, &entries[i]);
  char *buf;
  size_t len;
  tb_finish(t, &buf, &len);
  const char *why = NULL;
  int fd = record(buf, len, 0, &why);
  close(fd);
  free(buf);
  return why;
}

static void test_unsafe(void **state)
{
  (void) state;
  const struct tb_entry twice[] = { { .name = "f", .data = "one" }, { .name = "./f", .data = "two" } };
  assert_non_null(unsafe_of(twice, 2));
  const struct tb_entry whited[] = { { .name = "d", .type = AE_IFDIR },
                                     { .name = "d/f", .data = "one" },
                                     { .name = "d/.wh.f", .data = "" } };
  assert_non_null(unsafe_of(whited, 3));
  const struct tb_entry dir_gone[] = { { .name = "d", .type = AE_IFDIR },
                                       { .name = "d/f", .data = "one" },
                                       { .name = "d", .type = AE_IFLNK, .link = "/tmp" } };
  assert_non_null(unsafe_of(dir_gone, 3));
  const struct tb_entry through_link[] = { { .name = "real", .type = AE_IFDIR },
                                           { .name = "l", .type = AE_IFLNK, .link = "real" },
                                           { .name = "l/f", .data = "one" } };
  assert_non_null(unsafe_of(through_link, 3));
  /* a directory over a directory keeps its files; an empty file twice is no loss */
  const struct tb_entry fine[] = { { .name = "d", .type = AE_IFDIR },
                                   { .name = "d/f", .data = "one" },
                                   { .name = "d", .type = AE_IFDIR },
                                   { .name = "e", .data = "" },
                                   { .name = "e", .data = "" } };
  assert_null(unsafe_of(fine, 5));
}

/* a changed tree is an error, never a different tar */
static void test_changed_tree(void **state)
{
  struct fx *f = *state;
  size_t len;
  cleanup_free char *buf = build(-1, &len);
  apply(f, buf, len);
  const char *why = NULL;
  cleanup_close int rec = record(buf, len, 0, &why);
  cleanup_free char *path = xasprintf("%s/root/bin/sh", f->dir);
  FILE *fp = fopen(path, "r+");
  assert_non_null(fp);
  fputs("#!BINARY", fp); /* same size, other bytes */
  fclose(fp);
  struct collect c = { 0 };
  berth_error_t err = NULL;
  assert_int_equal(berth_tarsplit_rebuild(rec, f->rootfd, true, collect, &c, NULL, &err), -1);
  assert_non_null(strstr(err->msg, "bin/sh"));
  berth_error_release(&err);
  free(c.buf);
  c = (struct collect){ 0 };
  assert_int_equal(lseek(rec, 0, SEEK_SET), 0);
  cleanup_free char *etc = xasprintf("%s/root/etc/hostname", f->dir);
  assert_int_equal(truncate(etc, 1), 0);
  assert_int_equal(berth_tarsplit_rebuild(rec, f->rootfd, false, collect, &c, NULL, &err), -1);
  assert_non_null(strstr(err->msg, "etc/hostname"));
  berth_error_release(&err);
  free(c.buf);
}

/* berth_layer_apply_split records while it applies a compressed stream: the rebuilt tar's digest
 * is the diff ID */
static void test_apply_split(void **state)
{
  struct fx *f = *state;
  struct tarb *t = tb_new(TB_GZIP);
  add_many(t);
  char *buf;
  size_t len;
  tb_finish(t, &buf, &len);
  cleanup_close int in = mem_fd(buf, len);
  cleanup_close int rec = memfd_create("rec", MFD_CLOEXEC);
  struct berth_layer_info info;
  const char *why = "unset";
  berth_error_t err = NULL;
  if (berth_layer_apply_split(in, f->rootfd, NULL, rec, &info, &why, &err) < 0)
    fail_msg("apply: %s", err->msg);
  assert_null(why);
  assert_int_equal(lseek(rec, 0, SEEK_SET), 0);
  struct collect c = { 0 };
  struct berth_tarsplit_result res;
  if (berth_tarsplit_rebuild(rec, f->rootfd, true, collect, &c, &res, &err) < 0)
    fail_msg("rebuild: %s", err->msg);
  assert_string_equal(res.diff_id, info.diff_id);
  assert_int_equal(res.size, info.tar_size);
  free(c.buf);
  free(buf);
}

static int mem_in(void *data, void *buf, size_t n, berth_error_t *err)
{
  struct collect *c = data;
  if (n > c->len)
    return BERTH_ERR(err, "truncated");
  memcpy(buf, c->buf, n);
  c->buf += n;
  c->len -= n;
  return 0;
}

/* the reader refuses what is not a record */
static void test_reader_bad(void **state)
{
  (void) state;
  const char *bad[] = { "BTSPLIT0", "BTSPLIT1X", "BTSPLIT1R\xff\xff\xff\xff\x7f", "BTSPLIT1F\x00",
                        "BTSPLIT1R\x05"
                        "ab" };
  for (size_t i = 0; i < BERTH_N_ELEMENTS(bad); i++) {
    struct collect c = { (char *) bad[i], strlen(bad[i]) };
    struct berth_tarsplit_reader *rd = NULL;
    berth_error_t err = NULL;
    int r = berth_tarsplit_reader_new(mem_in, &c, &rd, &err);
    struct berth_tarsplit_seg seg;
    while (r == 0 && (r = berth_tarsplit_reader_next(rd, &seg, &err)) == 0 && seg.kind != 'E')
      ;
    assert_int_equal(r, -1);
    berth_error_release(&err);
    berth_tarsplit_reader_free(rd);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_round_trip_pax, setup, teardown),
    cmocka_unit_test_setup_teardown(test_round_trip_gnu, setup, teardown),
    cmocka_unit_test_setup_teardown(test_round_trip_ustar_chunks, setup, teardown),
    cmocka_unit_test_setup_teardown(test_trailing_bytes, setup, teardown),
    cmocka_unit_test(test_chunking_same_record),
    cmocka_unit_test(test_unsafe),
    cmocka_unit_test_setup_teardown(test_changed_tree, setup, teardown),
    cmocka_unit_test_setup_teardown(test_apply_split, setup, teardown),
    cmocka_unit_test(test_reader_bad),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
