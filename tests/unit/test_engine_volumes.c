/* Volumes on a private store (engine/volumes/volumes.h): create, inspect, ls filters, rm (a volume in use
 * is refused), prune (anonymous only unless all), and berth_volume_prepare's copy-up of an
 * image's directory into a new, empty volume — owners and modes kept, links inside the image
 * staying inside it, nothing copied into a volume that already has content. */
#include "unit.h"

#include "fixtures.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "test_image_tar.h"

#include "base/strutil.h"
#include "engine/containers/containers.h"
#include "engine/catalogue/catalogue.h"
#include "engine/engine.h"
#include "engine/images/images.h"
#include "engine/volumes/volumes.h"

static char *create(struct engine_fx *f, const char *name, char *const *labels)
{
  struct berth_volume_create_in in = { .name = name, .labels = labels };
  berth_error_t err = NULL;
  char *out = NULL;
  assert_int_equal(berth_volume_create(f->e, &in, &out, &err), 0);
  unit_assert_no_error(&err);
  return out;
}

static void test_create_inspect(void **state)
{
  struct engine_fx *f = *state;
  berth_error_t err = NULL;
  char *const labels[] = { "a=b", "c", "a=z", NULL };
  cleanup_free char *v1 = create(f, "v1", labels), *again = create(f, "v1", NULL),
                    *rnd = create(f, NULL, NULL);
  assert_string_equal(v1, "v1");
  assert_string_equal(again, "v1");
  assert_int_equal(strlen(rnd), 64);
  struct berth_db_volume v;
  assert_int_equal(berth_volume_get(f->e, "v1", &v, &err), 0);
  json_t *j = berth_volume_json(&v);
  cleanup_free char *mp = xasprintf("%s/volumes/v1/_data", f->e->root);
  assert_string_equal(json_string_value(json_object_get(j, "Mountpoint")), mp);
  assert_string_equal(json_string_value(json_object_get(j, "Driver")), "local");
  assert_string_equal(json_string_value(json_object_get(j, "Scope")), "local");
  json_t *l = json_object_get(j, "Labels");
  assert_string_equal(json_string_value(json_object_get(l, "a")),
                      "z");                                            /* the last wins, and a create of an */
  assert_string_equal(json_string_value(json_object_get(l, "c")), ""); /* existing name changes nothing */
  assert_int_equal(json_object_size(json_object_get(j, "Options")), 0);
  json_decref(j);
  berth_db_volume_release(&v);
  struct stat st;
  assert_int_equal(stat(mp, &st), 0);
  assert_true(S_ISDIR(st.st_mode));
  /* bad input */
  char *out = NULL;
  struct berth_volume_create_in bad = { .name = "a/b" };
  assert_int_equal(berth_volume_create(f->e, &bad, &out, &err), -1);
  unit_assert_error_contains(&err, "invalid characters");
  struct berth_volume_create_in drv = { .name = "v2", .driver = "nfs" };
  assert_int_equal(berth_volume_create(f->e, &drv, &out, &err), -1);
  unit_assert_error_contains(&err, "not supported");
  char *const opts[] = { "type=tmpfs", NULL };
  struct berth_volume_create_in opt = { .name = "v2", .opts = opts };
  assert_int_equal(berth_volume_create(f->e, &opt, &out, &err), -1);
  unit_assert_error_contains(&err, "no options");
  assert_int_equal(berth_volume_get(f->e, "v2", &v, &err), -1);
  unit_assert_error_contains(&err, "no such volume");
}

static void test_filters(void **state)
{
  (void) state;
  berth_error_t err = NULL;
  struct berth_db_volume used = {
    .name = "data-1", .driver = "local", .labels = "{\"env\":\"prod\"}", .users = 2
  };
  struct berth_db_volume free_v = { .name = "cache", .driver = "local", .labels = "{}", .users = 0 };
  char *const dangling[] = { "dangling=true", NULL }, *const named[] = { "name=data", NULL };
  char *const label[] = { "label=env=prod", NULL }, *const key[] = { "label=env", NULL };
  char *const both[] = { "name=data", "name=cache", NULL }, *const all[] = { "name=data", "dangling=1",
                                                                             NULL };
  char *const drv[] = { "driver=local", NULL };
  assert_false(berth_volume_filter_match(&used, dangling));
  assert_true(berth_volume_filter_match(&free_v, dangling));
  assert_true(berth_volume_filter_match(&used, named));
  assert_false(berth_volume_filter_match(&free_v, named));
  assert_true(berth_volume_filter_match(&used, label));
  assert_true(berth_volume_filter_match(&used, key));
  assert_false(berth_volume_filter_match(&free_v, key));
  assert_true(berth_volume_filter_match(&used, both)); /* one key twice: any */
  assert_true(berth_volume_filter_match(&free_v, both));
  assert_false(berth_volume_filter_match(&used, all)); /* two keys: all */
  assert_true(berth_volume_filter_match(&free_v, drv));
  assert_true(berth_volume_filter_match(&free_v, NULL));
  assert_int_equal(berth_volume_filter_check(both, &err), 0);
  char *const bad[] = { "size=1", NULL }, *const badd[] = { "dangling=maybe", NULL };
  assert_int_equal(berth_volume_filter_check(bad, &err), -1);
  unit_assert_error_contains(&err, "invalid filter `size=1`");
  assert_int_equal(berth_volume_filter_check(badd, &err), -1);
  unit_assert_error_contains(&err, "true or false");
}

/* an image whose /data holds files (owner 7:8, mode 0750), a link to /etc and one out by ".." */
static void import_image(struct engine_fx *f, struct berth_db_image *img)
{
  struct tarb *t = tb_new(TB_NONE);
  tb_add(t, &(struct tb_entry){ .name = "data", .type = AE_IFDIR, .perm = 0750, .uid = 7, .gid = 8 });
  tb_add(t, &(struct tb_entry){ .name = "data/seed", .data = "seeded\n", .uid = 7, .gid = 8 });
  tb_add(t, &(struct tb_entry){ .name = "data/sub", .type = AE_IFDIR });
  tb_add(t, &(struct tb_entry){ .name = "data/sub/x", .data = "x" });
  tb_add(t, &(struct tb_entry){ .name = "data/etc", .type = AE_IFLNK, .link = "/etc" });
  tb_add(t, &(struct tb_entry){ .name = "up", .type = AE_IFLNK, .link = "../../../../../../etc" });
  tb_add(t, &(struct tb_entry){ .name = "file", .data = "not a directory" });
  cleanup_free char *buf = NULL;
  size_t len = 0;
  tb_finish(t, &buf, &len);
  cleanup_close int fd = mem_fd(buf, len);
  struct berth_import_opts o = { .source = "t.tar" };
  berth_digest_t id;
  berth_error_t err = NULL;
  assert_int_equal(berth_images_import(f->e, fd, &o, id, &err), 0);
  assert_int_equal(berth_db_image_get(f->e->db, id, img, &err), 1);
}

static char *read_text(const char *dir, const char *name)
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

/* what a create does in its transaction: the row of a volume prepare made */
static void add_row(struct engine_fx *f, const char *name, bool anonymous)
{
  berth_error_t err = NULL;
  assert_int_equal(berth_db_begin(f->e->db, &err), 0);
  assert_int_equal(berth_volume_put_row(f->e, name, anonymous, &err), 1);
  assert_int_equal(berth_db_commit(f->e->db, &err), 0);
}

static void test_prepare(void **state)
{
  struct engine_fx *f = *state;
  struct berth_db_image img;
  import_image(f, &img);
  berth_error_t err = NULL;
  char *name = NULL, *mp = NULL;
  struct berth_volume_new nv;
  assert_int_equal(berth_volume_prepare(f->e, "pv", &img, "/data", false, &name, &mp, &nv, &err), 0);
  unit_assert_no_error(&err);
  assert_true(nv.created);
  assert_true(nv.made_dir);
  /* held while the create is in flight: system check must see it busy */
  assert_true(nv.lock >= 0);
  cleanup_free char *vdir = xasprintf("%s/volumes/pv", f->e->root);
  {
    cleanup_close int other = open(vdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_int_equal(flock(other, LOCK_EX | LOCK_NB), -1);
  }
  close(nv.lock);
  /* no row until the caller's transaction adds it */
  struct berth_db_volume v;
  assert_int_equal(berth_volume_get(f->e, "pv", &v, &err), -1);
  unit_assert_error_contains(&err, "no such volume");
  add_row(f, "pv", false);
  cleanup_free char *seed = read_text(mp, "seed"), *x = read_text(mp, "sub/x");
  assert_string_equal(seed, "seeded\n");
  assert_string_equal(x, "x");
  struct stat st;
  assert_int_equal(stat(mp, &st), 0); /* the volume takes the image directory's owner and mode */
  assert_int_equal(st.st_uid, 7);
  assert_int_equal(st.st_gid, 8);
  assert_int_equal(st.st_mode & 07777, 0750);
  cleanup_free char *link = xasprintf("%s/etc", mp);
  char target[32] = { 0 };
  assert_int_equal(readlink(link, target, sizeof target - 1), 4);
  assert_string_equal(target, "/etc");
  /* again, with content: nothing is copied over it */
  cleanup_free char *seedp = xasprintf("%s/seed", mp);
  assert_int_equal(unlink(seedp), 0);
  free(name);
  free(mp);
  assert_int_equal(berth_volume_prepare(f->e, "pv", &img, "/data", false, &name, &mp, &nv, &err), 0);
  assert_false(nv.created);
  assert_int_equal(nv.lock, -1);
  cleanup_free char *gone = read_text(mp, "seed");
  assert_string_equal(gone, "(missing)");
  free(name);
  free(mp);
  /* nocopy; a path the image lacks; a file; a path through links: empty volumes, never the host's /etc */
  const char *empty_paths[] = { "/data", "/nowhere", "/file", "/up", "/data/etc" };
  for (size_t i = 0; i < BERTH_N_ELEMENTS(empty_paths); i++) {
    cleanup_free char *vn = xasprintf("e%zu", i);
    assert_int_equal(berth_volume_prepare(f->e, vn, &img, empty_paths[i], i == 0, &name, &mp, &nv, &err), 0);
    unit_assert_no_error(&err);
    close(nv.lock);
    cleanup_free char *passwd = read_text(mp, "passwd"), *s2 = read_text(mp, "seed");
    assert_string_equal(passwd, "(missing)");
    assert_string_equal(s2, "(missing)");
    free(name);
    free(mp);
  }
  /* anonymous: a random name and the label */
  assert_int_equal(berth_volume_prepare(f->e, NULL, &img, "/data", false, &name, &mp, &nv, &err), 0);
  assert_true(nv.created);
  close(nv.lock);
  add_row(f, name, true);
  assert_int_equal(berth_volume_get(f->e, name, &v, &err), 0);
  assert_non_null(strstr(v.labels, BERTH_VOLUME_ANONYMOUS_LABEL));
  berth_db_volume_release(&v);
  free(name);
  free(mp);
  berth_db_image_release(&img);
  /* nothing stays mounted or in the run dir's mounts */
  cleanup_free char *mounts = xasprintf("%s/mounts", f->e->runroot), *mi = NULL;
  assert_int_equal(berth_read_file("/proc/self/mountinfo", 0, &mi, NULL, &err), 0);
  assert_null(strstr(mi, f->dir));
  assert_int_equal(rmdir(mounts), 0); /* empty */
}

/* a container row whose mount uses the volume */
static void use_volume(struct engine_fx *f, const struct berth_db_image *img, const char *volume,
                       berth_ctr_id_t id)
{
  berth_engine_new_id(id);
  struct berth_db_container row = {
    .name = "user", .image = "t", .created = 1, .runtime = "x", .config = "{}", .host_config = "{}"
  };
  memcpy(row.id, id, sizeof row.id);
  memcpy(row.image_id, img->id, sizeof row.image_id);
  struct berth_db_mount m = { .type = "volume",
                              .source = "/x",
                              .destination = "/d",
                              .volume = (char *) volume,
                              .mode = "",
                              .rw = true,
                              .propagation = "" };
  berth_error_t err = NULL;
  assert_int_equal(berth_db_begin(f->e->db, &err), 0);
  assert_int_equal(berth_db_container_put(f->e->db, &row, &m, 1, &err), 0);
  assert_int_equal(berth_db_commit(f->e->db, &err), 0);
}

static void test_remove_prune(void **state)
{
  struct engine_fx *f = *state;
  struct berth_db_image img;
  import_image(f, &img);
  berth_error_t err = NULL;
  char *const keep[] = { "keep=yes", NULL };
  free(create(f, "named", NULL));
  free(create(f, "kept", keep));
  free(create(f, "used", NULL));
  char *anon = NULL, *mp = NULL;
  struct berth_volume_new nv;
  assert_int_equal(berth_volume_prepare(f->e, NULL, &img, "/data", false, &anon, &mp, &nv, &err), 0);
  close(nv.lock);
  add_row(f, anon, true);
  berth_ctr_id_t id;
  use_volume(f, &img, "used", id);
  assert_int_equal(berth_volume_remove(f->e, "used", true, &err), -1);
  unit_assert_error_contains(&err, id); /* "volume is in use - [<id>]", even with force */
  assert_int_equal(berth_volume_remove(f->e, "nope", false, &err), -1);
  unit_assert_error_contains(&err, "no such volume");
  assert_int_equal(berth_volume_remove(f->e, "nope", true, &err), 0);
  /* prune: the anonymous one only; then all but labelled keep=yes; a volume in use stays */
  cleanup_strv char **gone = NULL, **gone2 = NULL;
  uint64_t bytes = 0;
  assert_int_equal(berth_volumes_prune(f->e, false, NULL, &gone, &bytes, &err), 0);
  assert_int_equal(berth_strv_len(gone), 1);
  assert_string_equal(gone[0], anon);
  assert_int_equal(bytes, 12); /* "seeded\n", "x" and the link "/etc" */
  char *const not_keep[] = { "!keep=yes", NULL };
  assert_int_equal(berth_volumes_prune(f->e, true, not_keep, &gone2, &bytes, &err), 0);
  assert_int_equal(berth_strv_len(gone2), 1);
  assert_string_equal(gone2[0], "named");
  struct berth_db_volume *v = NULL;
  size_t n = 0;
  assert_int_equal(berth_db_volume_list(f->e->db, &v, &n, &err), 0);
  assert_int_equal(n, 2);
  assert_string_equal(v[0].name, "kept");
  assert_string_equal(v[1].name, "used");
  assert_int_equal(v[1].users, 1);
  berth_db_volume_list_free(v, n);
  cleanup_free char *dir = xasprintf("%s/volumes/named", f->e->root);
  assert_int_equal(access(dir, F_OK), -1); /* the directory went with the row */
  assert_int_equal(berth_db_begin(f->e->db, &err), 0);
  assert_int_equal(berth_db_container_delete(f->e->db, id, &err), 1);
  assert_int_equal(berth_db_commit(f->e->db, &err), 0);
  assert_int_equal(berth_volume_remove(f->e, "used", false, &err), 0);
  free(anon);
  free(mp);
  berth_db_image_release(&img);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_create_inspect, engine_fx_setup, engine_fx_teardown),
    cmocka_unit_test(test_filters),
    cmocka_unit_test_setup_teardown(test_prepare, engine_fx_setup, engine_fx_teardown),
    cmocka_unit_test_setup_teardown(test_remove_prune, engine_fx_setup, engine_fx_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
