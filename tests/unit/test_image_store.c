/* The content store: layout, atomic blobs, verification, staged layers, chain IDs. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/xalloc.h"
#include "image/layer.h"
#include "image/store.h"
#include "test_image_tar.h"
#include "unit.h"
#include <ftw.h>

#define HELLO_DIGEST "sha256:e997afd18e5f6be004fc193aed2c90291e68ab2c7599a62538c935b7fca6ab0f"
#define D1           "sha256:77ea7eee3d80b1a38f83906dd3048e2689457eb90e18a7d12f839c5ae37106a2"
#define D2           "sha256:95cf1a2e1698fe3ca1fcc3f653119146b271d0b62e487ec264441e886a11bd06"
#define C2           "sha256:9c7a0b8937394482a0afcc4bef0ca0aba0d74084bd9f60198ec7fac434e5436d"

struct fixture {
  char *dir;
  char *root;
  struct berth_store *s;
};

static int setup(void **state)
{
  struct fixture *f = xmalloc0(sizeof *f);
  f->dir = unit_mkdtemp();
  f->root = xasprintf("%s/store/root", f->dir); /* parents are created too */
  berth_error_t err = NULL;
  assert_int_equal(berth_store_open(f->root, &f->s, &err), 0);
  *state = f;
  return 0;
}

static int teardown(void **state)
{
  struct fixture *f = *state;
  berth_store_close(f->s);
  unit_rm_rf(f->dir);
  free(f->root);
  free(f->dir);
  free(f);
  return 0;
}

/* number of entries in <root>/<sub> */
static int count_entries(const char *root, const char *sub)
{
  cleanup_free char *p = xasprintf("%s/%s", root, sub);
  cleanup_dir DIR *d = opendir(p);
  assert_non_null(d);
  int n = 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL)
    if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
      n++;
  return n;
}

static mode_t mode_of(const char *root, const char *sub)
{
  cleanup_free char *p = xasprintf("%s/%s", root, sub);
  struct stat st;
  assert_int_equal(lstat(p, &st), 0);
  return st.st_mode & 07777;
}

static void test_layout(void **state)
{
  struct fixture *f = *state;
  const char *const dirs[] = { ".", "blobs", "blobs/sha256", "layers", "tmp" };
  for (size_t i = 0; i < BERTH_N_ELEMENTS(dirs); i++)
    assert_int_equal(mode_of(f->root, dirs[i]), 0700);
  /* opening again is fine, and tightens what an older berth made looser (CVE-2021-41091) */
  cleanup_free char *layers = xasprintf("%s/layers", f->root);
  assert_int_equal(chmod(f->root, 0711), 0);
  assert_int_equal(chmod(layers, 0755), 0);
  struct berth_store *s2 = NULL;
  berth_error_t err = NULL;
  assert_int_equal(berth_store_open(f->root, &s2, &err), 0);
  berth_store_close(s2);
  for (size_t i = 0; i < BERTH_N_ELEMENTS(dirs); i++)
    assert_int_equal(mode_of(f->root, dirs[i]), 0700);
  /* a layers/ that is a symlink is refused, never chmod'ed through */
  cleanup_free char *aside = xasprintf("%s/aside", f->root);
  assert_int_equal(rename(layers, aside), 0);
  assert_int_equal(symlink("aside", layers), 0);
  assert_int_equal(chmod(aside, 0755), 0);
  assert_int_equal(berth_store_open(f->root, &s2, &err), -1);
  unit_assert_error_contains(&err, "open `layers`");
  assert_int_equal(mode_of(f->root, "aside"), 0755);
  assert_int_equal(unlink(layers), 0);
  assert_int_equal(rename(aside, layers), 0);
  berth_store_close(NULL);
  assert_int_equal(berth_store_open("", &s2, &err), -1);
  unit_assert_error_contains(&err, "empty root");
  assert_int_equal(berth_store_open("/proc/self/status/x", &s2, &err), -1);
  unit_assert_error_contains(&err, "open store `/proc/self/status/x`");
}

static void test_blob_roundtrip(void **state)
{
  struct fixture *f = *state;
  berth_error_t err = NULL;
  char d[BERTH_DIGEST_LEN + 1];
  assert_false(berth_store_has_blob(f->s, HELLO_DIGEST));
  assert_int_equal(berth_store_put_bytes(f->s, "hello blob", 10, NULL, d, &err), 0);
  assert_string_equal(d, HELLO_DIGEST);
  assert_true(berth_store_has_blob(f->s, HELLO_DIGEST));
  assert_false(berth_store_has_blob(f->s, "sha256:nothex"));
  /* the same content again (with the expected digest) is fine and changes nothing */
  assert_int_equal(berth_store_put_bytes(f->s, "hello blob", 10, HELLO_DIGEST, NULL, &err), 0);
  assert_int_equal(count_entries(f->root, "blobs/sha256"), 1);
  assert_int_equal(count_entries(f->root, "tmp"), 0);

  cleanup_free char *path = berth_store_blob_path(f->s, HELLO_DIGEST);
  cleanup_free char *want = xasprintf("%s/blobs/sha256/%s", f->root, &HELLO_DIGEST[7]);
  assert_string_equal(path, want);
  assert_null(berth_store_blob_path(f->s, "md5:00"));

  cleanup_free char *data = NULL;
  size_t len = 0;
  assert_int_equal(berth_store_read_blob(f->s, HELLO_DIGEST, 0, &data, &len, &err), 0);
  assert_int_equal(len, 10);
  assert_string_equal(data, "hello blob");

  cleanup_close int fd = berth_store_open_blob(f->s, HELLO_DIGEST, &err);
  assert_true(fd >= 0);
  assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
  char buf[16] = "";
  assert_int_equal(read(fd, buf, sizeof buf), 10);

  /* blob files are complete as soon as they have a name: a corrupt one is detected */
  assert_int_equal(chmod(path, 0644), 0);
  int w = open(path, O_WRONLY | O_CLOEXEC);
  assert_true(w >= 0);
  assert_int_equal(write(w, "J", 1), 1);
  close(w);
  free(data);
  data = NULL;
  assert_int_equal(berth_store_read_blob(f->s, HELLO_DIGEST, 0, &data, &len, &err), -1);
  unit_assert_error_contains(&err, "does not match its digest");
  assert_null(data);

  assert_int_equal(berth_store_remove_blob(f->s, HELLO_DIGEST, &err), 0);
  assert_false(berth_store_has_blob(f->s, HELLO_DIGEST));
  assert_int_equal(berth_store_remove_blob(f->s, HELLO_DIGEST, &err), 0); /* missing: fine */
  assert_int_equal(berth_store_open_blob(f->s, HELLO_DIGEST, &err), -1);
  unit_assert_error_contains(&err, "open blob " HELLO_DIGEST);
  assert_int_equal(berth_store_open_blob(f->s, "sha256:12", &err), -1);
  unit_assert_error_contains(&err, "open blob: digest `sha256:12`");
}

static void test_blob_streamed_and_mismatch(void **state)
{
  struct fixture *f = *state;
  berth_error_t err = NULL;
  /* streamed in pieces: digest and size computed while writing */
  berth_blob_writer_t *w = NULL;
  assert_int_equal(berth_blob_writer_new(f->s, &w, &err), 0);
  assert_int_equal(berth_blob_write(w, "hello", 5, &err), 0);
  assert_int_equal(berth_blob_write(w, " blob", 5, &err), 0);
  /* nothing is visible before the commit (O_TMPFILE) */
  assert_int_equal(count_entries(f->root, "blobs/sha256"), 0);
  char d[BERTH_DIGEST_LEN + 1];
  uint64_t size = 0;
  assert_int_equal(berth_blob_writer_commit(w, HELLO_DIGEST, d, &size, &err), 0);
  assert_string_equal(d, HELLO_DIGEST);
  assert_int_equal(size, 10);
  assert_int_equal(berth_blob_writer_commit(w, NULL, NULL, NULL, &err), -1);
  unit_assert_error_contains(&err, "already finished");
  berth_blob_writer_free(w);
  berth_blob_writer_free(NULL);
  assert_int_equal(berth_store_remove_blob(f->s, HELLO_DIGEST, &err), 0);

  /* a digest mismatch leaves nothing in blobs/ or tmp/ */
  w = NULL;
  assert_int_equal(berth_blob_writer_new(f->s, &w, &err), 0);
  assert_int_equal(berth_blob_write(w, "tampered", 8, &err), 0);
  assert_int_equal(berth_blob_writer_commit(w, HELLO_DIGEST, NULL, NULL, &err), -1);
  unit_assert_error_contains(&err, "digest mismatch: expected " HELLO_DIGEST ", got sha256:");
  assert_int_equal(berth_blob_write(w, "x", 1, &err), -1);
  unit_assert_error_contains(&err, "already finished");
  berth_blob_writer_free(w);
  assert_int_equal(count_entries(f->root, "blobs/sha256"), 0);
  assert_int_equal(count_entries(f->root, "tmp"), 0);

  assert_int_equal(berth_store_put_bytes(f->s, "x", 1, HELLO_DIGEST, NULL, &err), -1);
  unit_assert_error_contains(&err, "digest mismatch");
  assert_int_equal(berth_store_put_bytes(f->s, "x", 1, "sha256:XYZ", NULL, &err), -1);
  unit_assert_error_contains(&err, "commit blob: digest `sha256:XYZ`");
  assert_int_equal(count_entries(f->root, "blobs/sha256"), 0);
  assert_int_equal(count_entries(f->root, "tmp"), 0);

  /* a writer dropped without commit (the error path of a caller) leaves nothing */
  assert_int_equal(berth_blob_writer_new(f->s, &w, &err), 0);
  assert_int_equal(berth_blob_write(w, "partial", 7, &err), 0);
  berth_blob_writer_free(w);
  assert_int_equal(count_entries(f->root, "blobs/sha256"), 0);
  assert_int_equal(count_entries(f->root, "tmp"), 0);
}

static void test_layers(void **state)
{
  struct fixture *f = *state;
  berth_error_t err = NULL;
  cleanup_free char *stage = berth_store_mkstage(f->s, &err);
  assert_non_null(stage);
  cleanup_free char *tmp_prefix = xasprintf("%s/tmp/layer-", f->root);
  assert_true(strncmp(stage, tmp_prefix, strlen(tmp_prefix)) == 0);
  cleanup_free char *diff = xasprintf("%s/diff", stage);
  struct stat st;
  assert_int_equal(stat(diff, &st), 0);
  assert_true(S_ISDIR(st.st_mode));
  cleanup_free char *file = xasprintf("%s/diff/hello", stage);
  assert_int_equal(berth_write_file_atomic(file, "hi", 2, 0644, &err), 0);

  assert_false(berth_store_has_layer(f->s, C2));
  assert_int_equal(berth_store_commit_layer(f->s, stage, C2, &err), 0);
  assert_true(berth_store_has_layer(f->s, C2));
  assert_int_equal(count_entries(f->root, "tmp"), 0);
  cleanup_free char *dir = berth_store_layer_dir(f->s, C2);
  cleanup_free char *want = xasprintf("%s/layers/%s", f->root, &C2[7]);
  assert_string_equal(dir, want);
  assert_null(berth_store_layer_dir(f->s, "sha256:0"));
  cleanup_free char *moved = xasprintf("%s/diff/hello", dir);
  assert_int_equal(stat(moved, &st), 0);

  /* a second extraction of the same chain: EEXIST, the stage stays for the caller */
  cleanup_free char *stage2 = berth_store_mkstage(f->s, &err);
  assert_non_null(stage2);
  assert_string_not_equal(stage, stage2);
  assert_int_equal(berth_store_commit_layer(f->s, stage2, C2, &err), -1);
  assert_int_equal(err->errnum, EEXIST);
  unit_assert_error_contains(&err, "already present");
  assert_int_equal(stat(stage2, &st), 0);
  assert_int_equal(berth_rm_rf(stage2, &err), 0);

  /* only direct children of <root>/tmp are committed */
  assert_int_equal(berth_store_commit_layer(f->s, "/etc", C2, &err), -1);
  unit_assert_error_contains(&err, "is not a staging directory");
  cleanup_free char *sneaky = xasprintf("%s/tmp/../layers", f->root);
  assert_int_equal(berth_store_commit_layer(f->s, sneaky, D1, &err), -1);
  unit_assert_error_contains(&err, "is not a staging directory");

  assert_int_equal(berth_store_remove_layer(f->s, C2, &err), 0);
  assert_false(berth_store_has_layer(f->s, C2));
  assert_int_equal(count_entries(f->root, "tmp"), 0);
  assert_int_equal(count_entries(f->root, "layers"), 0);
  assert_int_equal(berth_store_remove_layer(f->s, C2, &err), 0);

  /* with sync_layers */
  f->s->sync_layers = true;
  cleanup_free char *stage3 = berth_store_mkstage(f->s, &err);
  assert_int_equal(berth_store_commit_layer(f->s, stage3, D1, &err), 0);
  assert_true(berth_store_has_layer(f->s, D1));
}

static void test_chain_id(void **state)
{
  (void) state;
  char c[BERTH_DIGEST_LEN + 1];
  berth_chain_id(NULL, D1, c);
  assert_string_equal(c, D1);
  berth_chain_id("", D1, c);
  assert_string_equal(c, D1);
  berth_chain_id(D1, D2, c);
  assert_string_equal(c, C2);
}

static uint64_t du_total;

static int du_add(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  (void) path;
  (void) flag;
  (void) ftw;
  du_total += (uint64_t) st->st_blocks * 512;
  return 0;
}

static uint64_t disk_usage(const char *path)
{
  du_total = 0;
  assert_int_equal(nftw(path, du_add, 64, FTW_PHYS), 0);
  return du_total;
}

/* pull-like: each layer of an image is extracted once, by chain ID, unless already there */
static void add_image(struct berth_store *s, char *const *layers, const size_t *lens, size_t n,
                      int *extracted)
{
  char parent[BERTH_DIGEST_LEN + 1] = "";
  for (size_t i = 0; i < n; i++) {
    /* the diff ID of a gzip layer: its decoded tar (as the image config would say) */
    cleanup_close int fd = mem_fd(layers[i], lens[i]);
    char chain[BERTH_DIGEST_LEN + 1];
    berth_error_t err = NULL;
    cleanup_free char *stage = berth_store_mkstage(s, &err);
    assert_non_null(stage);
    cleanup_free char *diff = xasprintf("%s/diff", stage);
    cleanup_close int dfd = open(diff, O_PATH | O_DIRECTORY | O_CLOEXEC);
    struct berth_layer_info info;
    assert_int_equal(berth_layer_apply(fd, dfd, NULL, &info, &err), 0);
    berth_chain_id(parent, info.diff_id, chain);
    if (berth_store_has_layer(s, chain)) {
      assert_int_equal(berth_rm_rf(stage, &err), 0);
    } else {
      assert_int_equal(berth_store_commit_layer(s, stage, chain, &err), 0);
      (*extracted)++;
    }
    memcpy(parent, chain, sizeof chain);
  }
}

static char *make_layer(const char *name, size_t size, size_t *len)
{
  struct tarb *t = tb_new(TB_GZIP);
  char *data = xmalloc(size);
  for (size_t i = 0; i < size; i++)
    data[i] = (char) ((i * 2654435761u) >> 13); /* does not compress much */
  tb_add(t, &(struct tb_entry){ .name = name, .data = data, .len = size });
  free(data);
  char *buf = NULL;
  tb_finish(t, &buf, len);
  return buf;
}

/* two images on the same base take the base's space once */
static void test_shared_base(void **state)
{
  struct fixture *f = *state;
  size_t lens[3];
  char *base = make_layer("usr/lib/big", 8 << 20, &lens[0]);
  char *app1 = make_layer("app/one", 64 << 10, &lens[1]);
  char *app2 = make_layer("app/two", 64 << 10, &lens[2]);
  char *img1[] = { base, app1 }, *img2[] = { base, app2 };
  size_t lens1[] = { lens[0], lens[1] }, lens2[] = { lens[0], lens[2] };
  int extracted = 0;
  add_image(f->s, img1, lens1, 2, &extracted);
  cleanup_free char *layers = xasprintf("%s/layers", f->root);
  uint64_t one = disk_usage(layers);
  add_image(f->s, img2, lens2, 2, &extracted);
  uint64_t both = disk_usage(layers);
  assert_int_equal(extracted, 3);
  assert_int_equal(count_entries(f->root, "layers"), 3);
  assert_int_equal(count_entries(f->root, "tmp"), 0);
  assert_true(one > (8 << 20));
  assert_true(both - one < (1 << 20)); /* the second image added ~64 KiB, not another base */
  free(base);
  free(app1);
  free(app2);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_layout, setup, teardown),
    cmocka_unit_test_setup_teardown(test_blob_roundtrip, setup, teardown),
    cmocka_unit_test_setup_teardown(test_blob_streamed_and_mismatch, setup, teardown),
    cmocka_unit_test_setup_teardown(test_layers, setup, teardown),
    cmocka_unit_test(test_chain_id),
    cmocka_unit_test_setup_teardown(test_shared_base, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
