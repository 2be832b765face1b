/* The catalogue's containers (schema 2): rows, lookup by id/name/prefix, mounts, volumes, and
 * the layer reference counts a container holds on its image's chain. */
#include "unit.h"

#include "fixtures.h"

#include <stdio.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/catalogue/catalogue.h"

static const char *cid(char c)
{
  static char bufs[4][65];
  static int n;
  char *b = bufs[n++ % 4];
  memset(b, c, 64);
  b[64] = '\0';
  return b;
}

/* image `id` over layers a (base) and b */
static void add_image(struct berth_db *db, char id)
{
  berth_error_t err = NULL;
  assert_int_equal(berth_db_begin(db, &err), 0);
  for (const char *c = "ab"; *c; c++) {
    struct berth_db_layer l = { .size = 1 };
    snprintf(l.chain_id, sizeof l.chain_id, "%s", dg(*c));
    snprintf(l.diff_id, sizeof l.diff_id, "%s", dg(*c));
    if (*c == 'b')
      snprintf(l.parent, sizeof l.parent, "%s", dg('a'));
    assert_true(berth_db_layer_put(db, &l, &err) >= 0);
  }
  berth_digest_t chain[2];
  snprintf(chain[0], sizeof chain[0], "%s", dg('a'));
  snprintf(chain[1], sizeof chain[1], "%s", dg('b'));
  struct berth_db_image img = { .nlayers = 2, .chain_ids = chain };
  snprintf(img.id, sizeof img.id, "%s", dg(id));
  assert_int_equal(berth_db_blob_put(db, img.id, 10, "", &err), 0);
  assert_int_equal(berth_db_image_put(db, &img, &err), 1);
  assert_int_equal(berth_db_commit(db, &err), 0);
  unit_assert_no_error(&err);
}

static int put(struct berth_db *db, char id, const char *name, char image, berth_error_t *err)
{
  struct berth_db_container c = { .name = (char *) name,
                                  .image = (char *) "img",
                                  .created = 5,
                                  .runtime = (char *) "/bin/runc",
                                  .config = (char *) "{\"Cmd\":[\"sh\"]}" };
  snprintf(c.id, sizeof c.id, "%s", cid(id));
  snprintf(c.image_id, sizeof c.image_id, "%s", dg(image));
  struct berth_db_mount m[] = {
    { .type = (char *) "bind",
      .source = (char *) "/src",
      .destination = (char *) "/dst",
      .rw = false,
      .mode = (char *) "ro",
      .propagation = (char *) "rprivate" },
  };
  if (berth_db_begin(db, err) < 0)
    return -1;
  int r = berth_db_container_put(db, &c, m, 1, err);
  if (r < 0) {
    berth_db_rollback(db);
    return -1;
  }
  return berth_db_commit(db, err);
}

static int64_t refcount(struct berth_db *db, char chain)
{
  struct berth_db_layer l;
  berth_error_t err = NULL;
  assert_int_equal(berth_db_layer_get(db, dg(chain), &l, &err), 1);
  int64_t users = 0;
  assert_int_equal(berth_db_layer_count_users(db, dg(chain), &users, &err), 0);
  assert_int_equal(users, l.refcount); /* system check's recount agrees */
  return l.refcount;
}

static void test_rows_and_refcounts(void **state)
{
  struct db_fx *f = *state;
  berth_error_t err = NULL;
  add_image(f->db, 'i');
  assert_int_equal(refcount(f->db, 'a'), 1);
  assert_int_equal(put(f->db, '1', "web", 'i', &err), 0);
  assert_int_equal(put(f->db, '2', "db", 'i', &err), 0);
  unit_assert_no_error(&err);
  assert_int_equal(refcount(f->db, 'a'), 3);
  assert_int_equal(refcount(f->db, 'b'), 3);
  int64_t n = 0;
  assert_int_equal(berth_db_image_containers(f->db, dg('i'), &n, &err), 0);
  assert_int_equal(n, 2);

  struct berth_db_container c;
  assert_int_equal(berth_db_container_get(f->db, cid('1'), &c, &err), 1);
  assert_string_equal(c.name, "web");
  assert_int_equal(c.state, BERTH_CTR_CREATED);
  assert_string_equal(c.config, "{\"Cmd\":[\"sh\"]}");
  assert_string_equal(c.host_config, "{}");
  /* an update of the mutable columns */
  c.state = BERTH_CTR_RUNNING;
  c.pid = 42;
  c.restart_count = 2;
  c.manual_stop = true;
  free(c.error);
  c.error = xstrdup("boom");
  assert_int_equal(berth_db_begin(f->db, &err), 0);
  assert_int_equal(berth_db_container_update(f->db, &c, &err), 1);
  assert_int_equal(berth_db_commit(f->db, &err), 0);
  berth_db_container_release(&c);
  assert_int_equal(berth_db_container_get(f->db, cid('1'), &c, &err), 1);
  assert_int_equal(c.state, BERTH_CTR_RUNNING);
  assert_int_equal(c.pid, 42);
  assert_int_equal(c.restart_count, 2);
  assert_true(c.manual_stop);
  assert_string_equal(c.error, "boom");
  berth_db_container_release(&c);

  /* the image cannot go while containers use it */
  cleanup_strv char **gl = NULL, **gb = NULL;
  assert_int_equal(berth_db_begin(f->db, &err), 0);
  assert_true(berth_db_image_delete(f->db, dg('i'), &gl, &gb, &err) < 0);
  berth_db_rollback(f->db);
  unit_assert_error_contains(&err, "FOREIGN KEY");

  assert_int_equal(berth_db_begin(f->db, &err), 0);
  assert_int_equal(berth_db_container_delete(f->db, cid('1'), &err), 1);
  assert_int_equal(berth_db_container_delete(f->db, cid('1'), &err), 0);
  assert_int_equal(berth_db_commit(f->db, &err), 0);
  assert_int_equal(refcount(f->db, 'a'), 2);
  struct berth_db_container *v = NULL;
  size_t k = 0;
  assert_int_equal(berth_db_container_list(f->db, &v, &k, &err), 0);
  assert_int_equal(k, 1);
  assert_string_equal(v[0].name, "db");
  berth_db_container_list_free(v, k);
}

static void test_names_unique(void **state)
{
  struct db_fx *f = *state;
  berth_error_t err = NULL;
  add_image(f->db, 'i');
  assert_int_equal(put(f->db, '1', "web", 'i', &err), 0);
  assert_int_equal(put(f->db, '2', "web", 'i', &err), -1);
  unit_assert_error_contains(&err, "the container name `/web` is already in use by container 1111");
  assert_int_equal(refcount(f->db, 'a'), 2); /* the refused insert changed nothing */
  assert_int_equal(berth_db_container_name_used(f->db, "web", &err), 1);
  assert_int_equal(berth_db_container_name_used(f->db, "db", &err), 0);
  /* a rename onto a used name is refused too */
  assert_int_equal(put(f->db, '2', "db", 'i', &err), 0);
  struct berth_db_container c;
  assert_int_equal(berth_db_container_get(f->db, cid('2'), &c, &err), 1);
  free(c.name);
  c.name = xstrdup("web");
  assert_int_equal(berth_db_begin(f->db, &err), 0);
  assert_true(berth_db_container_update(f->db, &c, &err) < 0);
  berth_db_rollback(f->db);
  unit_assert_error_contains(&err, "already in use");
  berth_db_container_release(&c);
}

static void test_find(void **state)
{
  struct db_fx *f = *state;
  berth_error_t err = NULL;
  add_image(f->db, 'i');
  /* ids aaaa..., abab..., and a container named like the other's prefix */
  struct berth_db_container c = { .name = (char *) "one", .created = 1 };
  snprintf(c.image_id, sizeof c.image_id, "%s", dg('i'));
  memset(c.id, 'a', 64);
  c.id[64] = '\0';
  assert_int_equal(berth_db_begin(f->db, &err), 0);
  assert_int_equal(berth_db_container_put(f->db, &c, NULL, 0, &err), 0);
  c.name = (char *) "ab";
  c.id[1] = 'b';
  assert_int_equal(berth_db_container_put(f->db, &c, NULL, 0, &err), 0);
  assert_int_equal(berth_db_commit(f->db, &err), 0);
  cleanup_strv char **v1 = NULL, **v2 = NULL, **v3 = NULL, **v4 = NULL, **v5 = NULL;
  assert_int_equal(berth_db_container_find(f->db, "one", &v1, &err), 0);
  assert_int_equal(berth_strv_len(v1), 1);
  assert_string_equal(v1[0], cid('a'));
  assert_int_equal(berth_db_container_find(f->db, "/one", &v2, &err), 0); /* Docker's leading slash */
  assert_int_equal(berth_strv_len(v2), 1);
  assert_int_equal(berth_db_container_find(f->db, "a", &v3, &err), 0); /* a prefix of both: ambiguous */
  assert_int_equal(berth_strv_len(v3), 2);
  assert_int_equal(berth_db_container_find(f->db, "ab", &v4, &err), 0); /* a name wins over a prefix */
  assert_int_equal(berth_strv_len(v4), 1);
  assert_string_equal(v4[0], c.id);
  assert_int_equal(berth_db_container_find(f->db, "zz", &v5, &err), 0);
  assert_null(v5[0]);
  unit_assert_no_error(&err);
}

static void test_mounts_and_volumes(void **state)
{
  struct db_fx *f = *state;
  berth_error_t err = NULL;
  add_image(f->db, 'i');
  assert_int_equal(berth_db_begin(f->db, &err), 0);
  assert_int_equal(berth_db_volume_put(f->db, "data", 7, NULL, "/v/data/_data", &err), 1);
  assert_int_equal(berth_db_volume_put(f->db, "data", 8, NULL, "/elsewhere", &err), 0);
  struct berth_db_container c = { .name = (char *) "web", .created = 1 };
  snprintf(c.id, sizeof c.id, "%s", cid('1'));
  snprintf(c.image_id, sizeof c.image_id, "%s", dg('i'));
  struct berth_db_mount m[] = {
    { .type = (char *) "volume",
      .source = (char *) "/v/data/_data",
      .destination = (char *) "/data",
      .volume = (char *) "data",
      .rw = true },
    { .type = (char *) "tmpfs", .destination = (char *) "/run", .rw = true },
  };
  assert_int_equal(berth_db_container_put(f->db, &c, m, 2, &err), 0);
  assert_int_equal(berth_db_commit(f->db, &err), 0);
  struct berth_db_mount *got = NULL;
  size_t n = 0;
  assert_int_equal(berth_db_container_mounts(f->db, c.id, &got, &n, &err), 0);
  assert_int_equal(n, 2);
  assert_string_equal(got[0].volume, "data");
  assert_string_equal(got[1].type, "tmpfs");
  assert_string_equal(got[1].source, "");
  berth_db_mounts_free(got, n);
  int64_t users = 0;
  cleanup_free char *mp = NULL;
  assert_int_equal(berth_db_volume_users(f->db, "data", &users, &err), 0);
  assert_int_equal(users, 1);
  assert_int_equal(berth_db_volume_get(f->db, "data", &mp, NULL, &err), 1);
  assert_string_equal(mp, "/v/data/_data");
  /* in use: the volume row cannot go; after the container, it can */
  assert_int_equal(berth_db_begin(f->db, &err), 0);
  assert_true(berth_db_volume_delete(f->db, "data", &err) < 0);
  berth_db_rollback(f->db);
  unit_assert_error_contains(&err, "FOREIGN KEY");
  assert_int_equal(berth_db_begin(f->db, &err), 0);
  assert_int_equal(berth_db_container_delete(f->db, c.id, &err), 1);
  assert_int_equal(berth_db_volume_delete(f->db, "data", &err), 1);
  assert_int_equal(berth_db_commit(f->db, &err), 0);
  unit_assert_no_error(&err);
}

static void test_states(void **state)
{
  const char *names[] = { "created", "running", "paused", "restarting", "exited", "dead", "removing" };
  for (size_t i = 0; i < 7; i++) {
    assert_string_equal(berth_ctr_state_name((enum berth_ctr_state) i), names[i]);
    assert_int_equal(berth_ctr_state_parse(names[i]), (int) i);
  }
  assert_int_equal(berth_ctr_state_parse("up"), -1);
  assert_int_equal(berth_ctr_state_parse(NULL), -1);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_rows_and_refcounts, db_fx_setup, db_fx_teardown),
    cmocka_unit_test_setup_teardown(test_names_unique, db_fx_setup, db_fx_teardown),
    cmocka_unit_test_setup_teardown(test_find, db_fx_setup, db_fx_teardown),
    cmocka_unit_test_setup_teardown(test_mounts_and_volumes, db_fx_setup, db_fx_teardown),
    cmocka_unit_test(test_states),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
