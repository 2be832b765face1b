/* Image operations end to end on a private store: import, load, save, rmi, prune, check, export;
 * bad input leaves the store exactly as it was (files and rows). */
#include "unit.h"

#include "fixtures.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include "test_image_tar.h"

#include "base/strutil.h"
#include "engine/catalogue/catalogue.h"
#include "engine/engine.h"
#include "engine/images/images.h"
#include "engine/system/system.h"

/* a rootfs tar: bin/sh (file), etc/hello (6 bytes), etc/gone */
static void rootfs_tar(enum tb_filter filter, char **buf, size_t *len)
{
  struct tarb *t = tb_new(filter);
  tb_add(t, &(struct tb_entry){ .name = "bin", .type = AE_IFDIR });
  tb_add(t, &(struct tb_entry){ .name = "bin/sh", .data = "#!shell", .perm = 0755 });
  tb_add(t, &(struct tb_entry){ .name = "etc", .type = AE_IFDIR });
  tb_add(t, &(struct tb_entry){ .name = "etc/hello", .data = "hello\n" });
  tb_add(t, &(struct tb_entry){ .name = "etc/gone", .data = "bye\n" });
  tb_finish(t, buf, len);
}

/* everything that says what exists: the files of blobs/, layers/, tmp/ and every row */
static char *store_state(struct engine_fx *f)
{
  struct berth_strbuf b = BERTH_STRBUF_INIT;
  static const char *const dirs[] = { "blobs", "layers", "tmp" };
  for (size_t i = 0; i < BERTH_N_ELEMENTS(dirs); i++) {
    cleanup_free char *p = xasprintf("%s/%s", f->e->root, dirs[i]);
    cleanup_free char *l = tree_listing(p, false);
    berth_strbuf_printf(&b, "[%s]\n%s", dirs[i], l);
  }
  berth_error_t err = NULL;
  struct berth_db_image *imgs = NULL;
  struct berth_db_layer *layers = NULL;
  struct berth_db_blob *blobs = NULL;
  size_t ni = 0, nl = 0, nb = 0;
  assert_int_equal(berth_db_image_list(f->e->db, &imgs, &ni, &err), 0);
  assert_int_equal(berth_db_layer_list(f->e->db, &layers, &nl, &err), 0);
  assert_int_equal(berth_db_blob_list(f->e->db, &blobs, &nb, &err), 0);
  for (size_t i = 0; i < ni; i++) {
    cleanup_strv char **tags = NULL;
    assert_int_equal(berth_db_tags_of(f->e->db, imgs[i].id, &tags, &err), 0);
    berth_strv_free(steal_ptr(tags));
    berth_strbuf_printf(&b, "image %s\n", imgs[i].id);
  }
  for (size_t i = 0; i < nl; i++)
    berth_strbuf_printf(&b, "layer %s %lld\n", layers[i].chain_id, (long long) layers[i].refcount);
  for (size_t i = 0; i < nb; i++)
    berth_strbuf_printf(&b, "blob %s\n", blobs[i].digest);
  berth_db_image_list_free(imgs, ni);
  free(layers);
  berth_db_blob_list_free(blobs, nb);
  return berth_strbuf_detach(&b);
}

static int import_buf(struct engine_fx *f, const char *data, size_t len, const char *ref,
                      char *const *changes, berth_digest_t id, berth_error_t *err)
{
  cleanup_close int fd = mem_fd(data, len);
  struct berth_import_opts o = { .source = "rootfs.tar", .reference = ref, .changes = changes };
  return berth_images_import(f->e, fd, &o, id, err);
}

static void test_import(void **state)
{
  struct engine_fx *f = *state;
  cleanup_free char *tar = NULL;
  size_t len;
  rootfs_tar(TB_GZIP, &tar, &len);
  berth_error_t err = NULL;
  berth_digest_t id;
  char *changes[] = { "CMD [\"/bin/sh\"]", "ENV A=1", NULL };
  assert_int_equal(import_buf(f, tar, len, "test/x:1", changes, id, &err), 0);
  unit_assert_no_error(&err);

  struct berth_image_row *rows = NULL;
  size_t n = 0;
  assert_int_equal(berth_images_list(f->e, false, NULL, &rows, &n, &err), 0);
  assert_int_equal(n, 1);
  assert_string_equal(rows[0].repository, "test/x");
  assert_string_equal(rows[0].tag, "1");
  assert_string_equal(rows[0].id, id);
  assert_int_equal(rows[0].size, 7 + 6 + 4); /* Docker's DiffSize: file bytes */
  berth_image_rows_free(rows, n);

  json_t *o = berth_images_inspect(f->e, "test/x:1", &err);
  assert_non_null(o);
  json_t *cfg = json_object_get(o, "Config");
  assert_string_equal(json_string_value(json_array_get(json_object_get(cfg, "Cmd"), 0)), "/bin/sh");
  assert_string_equal(json_string_value(json_array_get(json_object_get(cfg, "Env"), 0)), "A=1");
  assert_string_equal(json_string_value(json_array_get(json_object_get(o, "RepoTags"), 0)), "test/x:1");
  assert_int_equal(json_array_size(json_object_get(json_object_get(o, "RootFS"), "Layers")), 1);
  json_decref(o);

  struct berth_history_row *h = NULL;
  assert_int_equal(berth_images_history(f->e, id + 7, &h, &n, &err), 0); /* by short id */
  assert_int_equal(n, 1);
  assert_string_equal(h[0].comment, "Imported from rootfs.tar");
  assert_string_equal(h[0].created_by, "");
  assert_string_equal(h[0].id, id);
  assert_int_equal(h[0].size, 17);
  berth_history_rows_free(h, n);

  struct berth_db_image img;
  assert_int_equal(berth_db_image_get(f->e->db, id, &img, &err), 1);
  cleanup_free char *dir = berth_store_layer_dir(f->e->store, img.chain_ids[0]);
  cleanup_free char *hello = xasprintf("%s/diff/etc/hello", dir);
  cleanup_free char *data = NULL;
  assert_int_equal(berth_read_file(hello, 0, &data, NULL, &err), 0);
  assert_string_equal(data, "hello\n");
  berth_db_image_release(&img);
}

/* the same layer imported twice: extracted once, shared, refcount 2 */
static void test_layer_extracted_once(void **state)
{
  struct engine_fx *f = *state;
  cleanup_free char *tar = NULL;
  size_t len;
  rootfs_tar(TB_NONE, &tar, &len);
  berth_error_t err = NULL;
  berth_digest_t a, b;
  assert_int_equal(import_buf(f, tar, len, "a:1", NULL, a, &err), 0);
  struct berth_db_layer *layers = NULL;
  size_t n = 0;
  assert_int_equal(berth_db_layer_list(f->e->db, &layers, &n, &err), 0);
  assert_int_equal(n, 1);
  cleanup_free char *dir = berth_store_layer_dir(f->e->store, layers[0].chain_id);
  cleanup_free char *hello = xasprintf("%s/diff/etc/hello", dir);
  free(layers);
  struct stat st1, st2;
  assert_int_equal(stat(hello, &st1), 0);
  usleep(1100 * 1000); /* another created time: another image */
  assert_int_equal(import_buf(f, tar, len, "b:1", NULL, b, &err), 0);
  assert_string_not_equal(a, b);
  assert_int_equal(stat(hello, &st2), 0);
  assert_int_equal(st1.st_ino, st2.st_ino); /* not extracted again */
  assert_int_equal(berth_db_layer_list(f->e->db, &layers, &n, &err), 0);
  assert_int_equal(n, 1);
  assert_int_equal(layers[0].refcount, 2);
  free(layers);
}

static void expect_import_fails(struct engine_fx *f, const char *data, size_t len, const char *needle)
{
  cleanup_free char *before = store_state(f);
  berth_error_t err = NULL;
  berth_digest_t id;
  assert_int_equal(import_buf(f, data, len, "bad:1", NULL, id, &err), -1);
  unit_assert_error_contains(&err, needle);
  cleanup_free char *after = store_state(f);
  assert_string_equal(before, after);
}

static void test_import_bad_input(void **state)
{
  struct engine_fx *f = *state;
  cleanup_free char *tar = NULL;
  size_t len;
  rootfs_tar(TB_NONE, &tar, &len);
  berth_error_t err = NULL;
  berth_digest_t id;
  assert_int_equal(import_buf(f, tar, len, "good:1", NULL, id, &err), 0); /* a store with content */
  cleanup_free char *gz = NULL;
  size_t gzlen;
  rootfs_tar(TB_GZIP, &gz, &gzlen);
  expect_import_fails(f, gz, gzlen / 2, "import `rootfs.tar`");         /* truncated */
  expect_import_fails(f, "not a tar archive at all, no", 28, "import"); /* garbage */
  expect_import_fails(f, "", 0, "empty input");
  struct tarb *t = tb_new(TB_NONE);
  tb_add(t, &(struct tb_entry){ .name = "../evil", .data = "x" });
  cleanup_free char *evil = NULL;
  size_t elen;
  tb_finish(t, &evil, &elen);
  expect_import_fails(f, evil, elen, "import");
  char *bad_change[] = { "RUN rm -rf /", NULL };
  cleanup_free char *before = store_state(f);
  assert_int_equal(import_buf(f, tar, len, "c:1", bad_change, id, &err), -1);
  unit_assert_error_contains(&err, "RUN is not a valid change command");
  cleanup_free char *after = store_state(f);
  assert_string_equal(before, after);
}

/* ---- load / save ---- */

struct layer_buf {
  char *data;
  size_t len;
  berth_digest_t diff_id;
};

static void make_layer(struct layer_buf *l, const struct tb_entry *entries, size_t n)
{
  struct tarb *t = tb_new(TB_NONE);
  for (size_t i = 0; i < n; i++)
    tb_add(t, &entries[i]);
  tb_finish(t, &l->data, &l->len);
  berth_digest_bytes(l->data, l->len, l->diff_id);
}

/* two layers: the rootfs, then etc/motd added and etc/gone whited out; history with an empty layer */
static void two_layers(struct layer_buf l[2], char **config)
{
  const struct tb_entry base[] = {
    { .name = "etc", .type = AE_IFDIR },
    { .name = "etc/hello", .data = "hello\n" },
    { .name = "etc/gone", .data = "bye\n" },
  };
  const struct tb_entry top[] = {
    { .name = "etc", .type = AE_IFDIR },
    { .name = "etc/motd", .data = "motd!\n" },
    { .name = "etc/.wh.gone", .data = "" },
  };
  make_layer(&l[0], base, 3);
  make_layer(&l[1], top, 3);
  *config =
    xasprintf("{\"architecture\":\"amd64\",\"os\":\"linux\",\"created\":\"2019-03-30T17:05:24Z\","
              "\"config\":{\"Cmd\":[\"sh\"]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\",\"%s\"]},"
              "\"history\":[{\"created\":\"2019-03-30T17:05:20Z\",\"created_by\":\"/bin/sh -c #(nop) ADD "
              "file:abc in / \"},"
              "{\"created\":\"2019-03-30T17:05:21Z\",\"created_by\":\"/bin/sh -c #(nop)  CMD "
              "[\\\"sh\\\"]\",\"empty_layer\":true},"
              "{\"created\":\"2019-03-30T17:05:24Z\",\"created_by\":\"/bin/sh -c echo motd! > /etc/motd\"}]}",
              l[0].diff_id, l[1].diff_id);
}

/* a docker-archive of one image; manifest NULL: the right one */
static void docker_archive(struct layer_buf l[2], const char *config, const char *manifest, char **buf,
                           size_t *len)
{
  berth_digest_t cd;
  berth_digest_bytes(config, strlen(config), cd);
  cleanup_free char *cname = xasprintf("%s.json", berth_digest_hex(cd));
  cleanup_free char *m = manifest ? xstrdup(manifest)
                                  : xasprintf("[{\"Config\":\"%s\",\"RepoTags\":[\"two:1\"],\"Layers\":"
                                              "[\"l1/layer.tar\",\"l2/layer.tar\"]}]",
                                              cname);
  struct tarb *t = tb_new(TB_NONE);
  tb_add(t, &(struct tb_entry){ .name = "l1/layer.tar", .data = l[0].data, .len = l[0].len });
  tb_add(t, &(struct tb_entry){ .name = "l2/layer.tar", .data = l[1].data, .len = l[1].len });
  tb_add(t, &(struct tb_entry){ .name = cname, .data = config });
  tb_add(t, &(struct tb_entry){ .name = "manifest.json", .data = m });
  tb_finish(t, buf, len);
}

static int load_buf(struct engine_fx *f, const char *data, size_t len, struct berth_load_result *res,
                    berth_error_t *err)
{
  cleanup_close int fd = mem_fd(data, len);
  return berth_images_load(f->e, NULL, fd, res, err);
}

static int saved(struct engine_fx *f, const char *name, enum berth_save_format fmt, char **buf, size_t *len)
{
  int fd = memfd_create("saved", MFD_CLOEXEC);
  berth_error_t err = NULL;
  char *names[] = { (char *) name, NULL };
  int r = berth_images_save(f->e, names, fmt, fd, NULL, &err);
  unit_assert_no_error(&err);
  off_t size = lseek(fd, 0, SEEK_END);
  *buf = xmalloc((size_t) size + 1);
  assert_int_equal(pread(fd, *buf, (size_t) size, 0), size);
  *len = (size_t) size;
  close(fd);
  return r;
}

static void remove_all(struct engine_fx *f, const char *name)
{
  berth_error_t err = NULL;
  struct berth_rmi_opts o = { .force = true };
  cleanup_strv char **ev = NULL;
  assert_int_equal(berth_images_remove(f->e, name, &o, &ev, &err), 0);
  unit_assert_no_error(&err);
}

static void test_load_history_save_roundtrip(void **state)
{
  struct engine_fx *f = *state;
  struct layer_buf l[2];
  cleanup_free char *config = NULL, *arch = NULL;
  size_t alen;
  two_layers(l, &config);
  docker_archive(l, config, NULL, &arch, &alen);
  berth_error_t err = NULL;
  struct berth_load_result res;
  assert_int_equal(load_buf(f, arch, alen, &res, &err), 0);
  unit_assert_no_error(&err);
  assert_string_equal(res.names[0], "two:1");
  berth_digest_t id;
  berth_digest_bytes(config, strlen(config), id);
  assert_string_equal(res.ids[0], id);
  berth_load_result_release(&res);

  /* docker history: newest first, the empty layer 0B, <missing> below the image */
  struct berth_history_row *h = NULL;
  size_t n = 0;
  assert_int_equal(berth_images_history(f->e, "two:1", &h, &n, &err), 0);
  assert_int_equal(n, 3);
  assert_string_equal(h[0].id, id);
  assert_string_equal(h[1].id, "<missing>");
  assert_string_equal(h[0].created_by, "/bin/sh -c echo motd! > /etc/motd");
  assert_int_equal(h[0].size, 6);
  assert_int_equal(h[1].size, 0);
  assert_int_equal(h[2].size, 10);
  assert_int_equal(h[2].created, 1553965520);
  berth_history_rows_free(h, n);

  /* save -> rmi -> load: the same image, for each format */
  static const enum berth_save_format fmts[] = { BERTH_SAVE_DOCKER_ARCHIVE, BERTH_SAVE_OCI_ARCHIVE };
  for (size_t i = 0; i < BERTH_N_ELEMENTS(fmts); i++) {
    cleanup_free char *out = NULL;
    size_t olen;
    assert_int_equal(saved(f, "two:1", fmts[i], &out, &olen), 0);
    remove_all(f, "two:1");
    cleanup_free char *empty = store_state(f);
    assert_null(strstr(empty, "image ")); /* every row and file gone */
    assert_null(strstr(empty, "blob "));
    assert_int_equal(load_buf(f, out, olen, &res, &err), 0);
    unit_assert_no_error(&err);
    assert_string_equal(res.ids[0], id);
    assert_string_equal(res.names[0], "two:1");
    berth_load_result_release(&res);
  }
  free(l[0].data);
  free(l[1].data);
}

static void expect_load_fails(struct engine_fx *f, const char *data, size_t len, const char *needle)
{
  cleanup_free char *before = store_state(f);
  berth_error_t err = NULL;
  struct berth_load_result res;
  assert_int_equal(load_buf(f, data, len, &res, &err), -1);
  unit_assert_error_contains(&err, needle);
  cleanup_free char *after = store_state(f);
  assert_string_equal(before, after);
}

static void test_load_bad_input(void **state)
{
  struct engine_fx *f = *state;
  cleanup_free char *tar = NULL;
  size_t len;
  rootfs_tar(TB_NONE, &tar, &len);
  berth_error_t err = NULL;
  berth_digest_t id;
  assert_int_equal(import_buf(f, tar, len, "good:1", NULL, id, &err), 0);

  struct layer_buf l[2];
  cleanup_free char *config = NULL;
  two_layers(l, &config);
  char *arch = NULL;
  size_t alen;
  docker_archive(l, config, "[{\"Config\": x}", &arch, &alen);
  expect_load_fails(f, arch, alen, "manifest.json:1:13: invalid JSON");
  free(arch);
  docker_archive(l, config, "[{\"Layers\":[]}]", &arch, &alen);
  expect_load_fails(f, arch, alen, "manifest.json: [0].Config: missing");
  free(arch);
  docker_archive(l, config, "[{\"Config\":\"nope.json\",\"Layers\":[]}]", &arch, &alen);
  expect_load_fails(f, arch, alen, "no entry `nope.json`");
  free(arch);
  /* the config promises other layers than the archive has */
  cleanup_free char *swapped = xstrdup(config);
  char *p1 = strstr(swapped, l[0].diff_id), *p2 = strstr(swapped, l[1].diff_id);
  memcpy(p1, l[1].diff_id, BERTH_DIGEST_LEN);
  memcpy(p2, l[0].diff_id, BERTH_DIGEST_LEN);
  docker_archive(l, swapped, NULL, &arch, &alen);
  expect_load_fails(f, arch, alen, "diff id mismatch");
  expect_load_fails(f, arch, alen / 2, "load"); /* truncated */
  free(arch);
  expect_load_fails(f, "garbage!", 8, "load");

  /* an OCI layout whose blob does not match its name */
  struct tarb *t = tb_new(TB_NONE);
  tb_add(t, &(struct tb_entry){ .name = "oci-layout", .data = "{\"imageLayoutVersion\":\"1.0.0\"}" });
  tb_add(t, &(struct tb_entry){ .name = "blobs/sha256/"
                                        "0000000000000000000000000000000000000000000000000000000000000000",
                                .data = "tampered" });
  tb_add(t, &(struct tb_entry){ .name = "index.json", .data = "{\"manifests\":[]}" });
  tb_finish(t, &arch, &alen);
  expect_load_fails(f, arch, alen, "digest mismatch");
  free(arch);
  t = tb_new(TB_NONE);
  tb_add(t, &(struct tb_entry){ .name = "oci-layout", .data = "{\"imageLayoutVersion\":\"1.0.0\"}" });
  tb_add(t, &(struct tb_entry){
              .name = "index.json",
              .data = "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/"
                      "vnd.oci.image.manifest.v1+json\",\"size\":1,\"digest\":\"sha256:12\"}]}" });
  tb_finish(t, &arch, &alen);
  expect_load_fails(f, arch, alen, "index.json: manifests[0].digest");
  free(arch);
  free(l[0].data);
  free(l[1].data);
}

/* a decompression bomb: a small gzip layer expanding beyond the configured limit */
static void test_load_bomb(void **state)
{
  struct engine_fx *f = *state;
  struct tarb *t = tb_new(TB_GZIP);
  tb_add_zeros(t, "zeros", 8u << 20);
  cleanup_free char *layer = NULL;
  size_t llen;
  tb_finish(t, &layer, &llen);
  assert_true(llen < (1u << 20));
  f->e->limits.max_bytes = 4u << 20;
  cleanup_free char *before = store_state(f);
  cleanup_close int fd = mem_fd(layer, llen);
  struct berth_import_opts o = { .source = "bomb" };
  berth_error_t err = NULL;
  berth_digest_t id;
  assert_int_equal(berth_images_import(f->e, fd, &o, id, &err), -1);
  assert_non_null(err);
  berth_error_release(&err);
  cleanup_free char *after = store_state(f);
  assert_string_equal(before, after);
}

/* ---- rmi, prune, check, export ---- */

static char *joined(char **v)
{
  struct berth_strbuf b = BERTH_STRBUF_INIT;
  for (; v && *v; v++)
    berth_strbuf_printf(&b, "%s\n", *v);
  return berth_strbuf_detach(&b);
}

static void test_rmi_rules(void **state)
{
  struct engine_fx *f = *state;
  cleanup_free char *tar = NULL, *empty = store_state(f);
  size_t len;
  rootfs_tar(TB_NONE, &tar, &len);
  berth_error_t err = NULL;
  berth_digest_t id;
  assert_int_equal(import_buf(f, tar, len, "a:1", NULL, id, &err), 0);
  assert_int_equal(berth_images_tag(f->e, "a:1", "b:1", &err), 0);
  assert_int_equal(berth_images_tag(f->e, id + 7, "a:2", &err), 0);
  struct berth_rmi_opts o = { 0 };
  cleanup_strv char **ev = NULL;
  assert_int_equal(berth_images_remove(f->e, id, &o, &ev, &err), -1); /* two repositories: must be forced */
  unit_assert_error_contains(&err, "must be forced) - image is referenced in multiple repositories");
  assert_int_equal(berth_images_remove(f->e, "a:1", &o, &ev, &err), 0);
  cleanup_free char *j1 = joined(ev);
  assert_string_equal(j1, "Untagged: a:1\n");
  berth_strv_free(steal_ptr(ev));
  assert_int_equal(berth_images_remove(f->e, "nope:1", &o, &ev, &err), -1);
  unit_assert_error_contains(&err, "no such image: `nope:1`");
  /* by id with tags in one repository... after removing b:1 only a:2 is left */
  assert_int_equal(berth_images_remove(f->e, "b:1", &o, &ev, &err), 0);
  berth_strv_free(steal_ptr(ev));
  assert_int_equal(berth_images_remove(f->e, id, &o, &ev, &err), 0);
  cleanup_free char *j2 = joined(ev);
  assert_non_null(strstr(j2, "Untagged: a:2\nDeleted: sha256:"));
  assert_int_equal(berth_strv_len(ev), 3); /* untag, image, layer */
  cleanup_free char *after = store_state(f);
  assert_string_equal(empty, after); /* no file, no row left */
}

static void test_prune(void **state)
{
  struct engine_fx *f = *state;
  cleanup_free char *tar = NULL;
  size_t len;
  rootfs_tar(TB_NONE, &tar, &len);
  berth_error_t err = NULL;
  berth_digest_t a, b;
  assert_int_equal(import_buf(f, tar, len, "x:1", NULL, a, &err), 0);
  usleep(1100 * 1000);
  assert_int_equal(import_buf(f, tar, len, "x:1", NULL, b, &err), 0); /* a is dangling now */
  struct berth_image_row *rows = NULL;
  size_t n = 0;
  assert_int_equal(berth_images_list(f->e, false, NULL, &rows, &n, &err), 0);
  assert_int_equal(n, 2);
  assert_true(rows[0].dangling != rows[1].dangling);
  berth_image_rows_free(rows, n);
  cleanup_strv char **ev = NULL;
  uint64_t reclaimed = 0;
  assert_int_equal(berth_images_prune(f->e, false, &ev, &reclaimed, &err), 0);
  assert_int_equal(berth_strv_len(ev), 1); /* the shared layer stays */
  assert_string_equal(ev[0] + strlen("deleted: "), a);
  assert_true(reclaimed > 0);
  berth_strv_free(steal_ptr(ev));
  assert_int_equal(berth_images_prune(f->e, true, &ev, &reclaimed, &err), 0);
  assert_int_equal(berth_strv_len(ev), 3); /* untagged x:1, deleted image and layer */
  assert_int_equal(berth_images_list(f->e, true, NULL, &rows, &n, &err), 0);
  assert_int_equal(n, 0);
  free(rows);
}

static size_t check(struct engine_fx *f, bool repair, size_t *left)
{
  struct berth_check_problem *p = NULL;
  size_t n = 0;
  berth_error_t err = NULL;
  assert_int_equal(berth_system_check(f->e, repair, &p, &n, &err), 0);
  *left = 0;
  for (size_t i = 0; i < n; i++)
    *left += !p[i].repaired;
  berth_check_problems_free(p, n);
  return n;
}

static void test_check_repair(void **state)
{
  struct engine_fx *f = *state;
  cleanup_free char *tar = NULL;
  size_t len, left;
  rootfs_tar(TB_NONE, &tar, &len);
  berth_error_t err = NULL;
  berth_digest_t id;
  assert_int_equal(import_buf(f, tar, len, "x:1", NULL, id, &err), 0);
  assert_int_equal(check(f, false, &left), 0);
  /* what an interrupted command leaves: files without rows, a stage in tmp/, a wrong count */
  cleanup_free char *blob = xasprintf("%s/blobs/sha256/%064d", f->e->root, 7);
  cleanup_free char *layer = xasprintf("%s/layers/%064d/diff", f->e->root, 8);
  cleanup_free char *stage = xasprintf("%s/tmp/layer-000000000000/diff", f->e->root);
  assert_int_equal(berth_write_file_atomic(blob, "x", 1, 0644, &err), 0);
  assert_int_equal(berth_mkdir_p(layer, 0755, &err), 0);
  assert_int_equal(berth_mkdir_p(stage, 0755, &err), 0);
  struct berth_db_image img;
  assert_int_equal(berth_db_image_get(f->e->db, id, &img, &err), 1);
  assert_int_equal(berth_db_begin(f->e->db, &err), 0);
  assert_int_equal(berth_db_layer_set_refcount(f->e->db, img.chain_ids[0], 5, &err), 0);
  assert_int_equal(berth_db_commit(f->e->db, &err), 0);
  berth_db_image_release(&img);
  assert_int_equal(check(f, false, &left), 4);
  assert_int_equal(left, 4);
  assert_int_equal(check(f, true, &left), 4);
  assert_int_equal(left, 0);
  assert_int_equal(check(f, false, &left), 0);
  /* a blob file the catalogue needs is gone: damage, not repairable */
  cleanup_free char *cfg = berth_store_blob_path(f->e->store, id);
  assert_int_equal(unlink(cfg), 0);
  assert_int_equal(check(f, true, &left), 1);
  assert_int_equal(left, 1);
}

static void test_export(void **state)
{
  struct engine_fx *f = *state;
  if (geteuid() != 0)
    skip();
  struct layer_buf l[2];
  cleanup_free char *config = NULL, *arch = NULL;
  size_t alen;
  two_layers(l, &config);
  docker_archive(l, config, NULL, &arch, &alen);
  berth_error_t err = NULL;
  struct berth_load_result res;
  assert_int_equal(load_buf(f, arch, alen, &res, &err), 0);
  berth_load_result_release(&res);
  int fd = memfd_create("export", MFD_CLOEXEC);
  assert_int_equal(berth_images_export(f->e, "two:1", fd, &err), 0);
  unit_assert_no_error(&err);
  assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
  struct archive *a = archive_read_new();
  archive_read_support_format_tar(a);
  assert_int_equal(archive_read_open_fd(a, fd, 4096), ARCHIVE_OK);
  struct archive_entry *e;
  struct berth_strbuf names = BERTH_STRBUF_INIT;
  while (archive_read_next_header(a, &e) == ARCHIVE_OK)
    berth_strbuf_printf(&names, "%s\n", archive_entry_pathname(e));
  archive_read_free(a);
  close(fd);
  /* merged: hello from the base, motd from the top, gone whited out */
  assert_non_null(strstr(names.buf, "etc/hello\n"));
  assert_non_null(strstr(names.buf, "etc/motd\n"));
  assert_null(strstr(names.buf, "gone"));
  berth_strbuf_release(&names);
  cleanup_free char *mounts = xasprintf("%s/mounts", f->e->runroot);
  assert_int_equal(rmdir(mounts), 0); /* nothing left mounted or behind */
  free(l[0].data);
  free(l[1].data);
}

int main(void)

{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_import, engine_fx_setup, engine_fx_teardown),
    cmocka_unit_test_setup_teardown(test_layer_extracted_once, engine_fx_setup, engine_fx_teardown),
    cmocka_unit_test_setup_teardown(test_import_bad_input, engine_fx_setup, engine_fx_teardown),
    cmocka_unit_test_setup_teardown(test_load_history_save_roundtrip, engine_fx_setup, engine_fx_teardown),
    cmocka_unit_test_setup_teardown(test_load_bad_input, engine_fx_setup, engine_fx_teardown),
    cmocka_unit_test_setup_teardown(test_load_bomb, engine_fx_setup, engine_fx_teardown),
    cmocka_unit_test_setup_teardown(test_rmi_rules, engine_fx_setup, engine_fx_teardown),
    cmocka_unit_test_setup_teardown(test_prune, engine_fx_setup, engine_fx_teardown),
    cmocka_unit_test_setup_teardown(test_check_repair, engine_fx_setup, engine_fx_teardown),
    cmocka_unit_test_setup_teardown(test_export, engine_fx_setup, engine_fx_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
