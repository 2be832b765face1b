/* The catalogue: schema, transactions, rows, reference counts, concurrency. */
#include "unit.h"

#include "fixtures.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/catalogue/catalogue.h"
#include "engine/catalogue/db_internal.h"

static void add_layer(struct berth_db *db, char chain, char parent, char blob, uint64_t size)
{
  berth_error_t err = NULL;
  struct berth_db_layer l = { .size = size };
  snprintf(l.chain_id, sizeof l.chain_id, "%s", dg(chain));
  snprintf(l.diff_id, sizeof l.diff_id, "%s", dg(chain));
  if (parent)
    snprintf(l.parent, sizeof l.parent, "%s", dg(parent));
  if (blob) {
    snprintf(l.blob_digest, sizeof l.blob_digest, "%s", dg(blob));
    assert_int_equal(berth_db_blob_put(db, dg(blob), 10, "application/vnd.oci.image.layer.v1.tar+gzip", &err),
                     0);
  }
  assert_true(berth_db_layer_put(db, &l, &err) >= 0);
  unit_assert_no_error(&err);
}

/* image id c with layers chain[0..n) (bottom first) */
static int add_image(struct berth_db *db, char id, const char *chain, berth_error_t *err)
{
  berth_digest_t ids[8];
  size_t n = strlen(chain);
  for (size_t i = 0; i < n; i++)
    snprintf(ids[i], sizeof ids[i], "%s", dg(chain[i]));
  struct berth_db_image img = {
    .nlayers = n, .chain_ids = ids, .os = (char *) "linux", .arch = (char *) "amd64"
  };
  snprintf(img.id, sizeof img.id, "%s", dg(id));
  if (berth_db_blob_put(db, img.id, 100, "application/vnd.oci.image.config.v1+json", err) < 0)
    return -1;
  return berth_db_image_put(db, &img, err);
}

static int64_t refcount(struct berth_db *db, char chain)
{
  berth_error_t err = NULL;
  struct berth_db_layer l;
  int r = berth_db_layer_get(db, dg(chain), &l, &err);
  unit_assert_no_error(&err);
  return r > 0 ? l.refcount : -1;
}

static void test_open_schema(void **state)
{
  struct db_fx *f = *state;
  berth_error_t err = NULL;
  assert_int_equal(berth_db_schema_version(f->db, &err), BERTH_DB_SCHEMA_VERSION);
  struct stat st;
  cleanup_free char *wal = xasprintf("%s-wal", f->path);
  assert_int_equal(stat(wal, &st), 0); /* WAL mode */
  /* reopen: no migration, same version */
  struct berth_db *db2 = NULL;
  assert_int_equal(berth_db_open(f->path, 0, &db2, &err), 0);
  assert_int_equal(berth_db_schema_version(db2, &err), BERTH_DB_SCHEMA_VERSION);
  berth_db_close(db2);
}

/* SQLite's syncs of its files, counted: these definitions take the place of libc's for the
 * shared library too (the executable's symbols come first) */
static int n_syncs;
int fsync(int fd);
int fdatasync(int fd);
int fsync(int fd)
{
  n_syncs++;
  return (int) syscall(SYS_fsync, fd);
}
int fdatasync(int fd)
{
  n_syncs++;
  return (int) syscall(SYS_fdatasync, fd);
}

/* synchronous=NORMAL: commits do not sync, except those that delete rows naming files (blobs,
 * layers, volumes), whose files go after the commit; closing keeps the WAL (no checkpoint) */
static void test_durability(void **state)
{
  struct db_fx *f = *state;
  berth_error_t err = NULL;
  n_syncs = 0;
  assert_int_equal(berth_db_begin(f->db, &err), 0);
  assert_int_equal(berth_db_blob_put(f->db, dg('a'), 1, "", &err), 0);
  assert_int_equal(berth_db_blob_put(f->db, dg('b'), 1, "", &err), 0);
  assert_int_equal(berth_db_commit(f->db, &err), 0);
  assert_int_equal(n_syncs, 0);
  assert_int_equal(berth_db_begin(f->db, &err), 0);
  assert_int_equal(berth_db_blob_delete(f->db, dg('a'), &err), 1);
  assert_int_equal(berth_db_commit(f->db, &err), 0);
  assert_int_equal(n_syncs, 1);
  /* a rolled-back delete does not make the next commit sync */
  assert_int_equal(berth_db_begin(f->db, &err), 0);
  assert_int_equal(berth_db_blob_delete(f->db, dg('b'), &err), 1);
  berth_db_rollback(f->db);
  assert_int_equal(berth_db_begin(f->db, &err), 0);
  assert_int_equal(berth_db_blob_put(f->db, dg('c'), 1, "", &err), 0);
  assert_int_equal(berth_db_commit(f->db, &err), 0);
  assert_int_equal(n_syncs, 1);
  unit_assert_no_error(&err);
  berth_db_close(f->db);
  f->db = NULL;
  assert_int_equal(n_syncs, 1); /* no checkpoint at close */
  struct stat st;
  cleanup_free char *wal = xasprintf("%s-wal", f->path);
  assert_int_equal(stat(wal, &st), 0);
  assert_true(st.st_size > 0);
  /* what was committed is there for the next connection */
  assert_int_equal(berth_db_open(f->path, 0, &f->db, &err), 0);
  struct berth_db_blob b;
  assert_int_equal(berth_db_blob_get(f->db, dg('a'), &b, &err), 0);
  assert_int_equal(berth_db_blob_get(f->db, dg('b'), &b, &err), 1);
  berth_db_blob_release(&b);
  assert_int_equal(berth_db_blob_get(f->db, dg('c'), &b, &err), 1);
  berth_db_blob_release(&b);
}

static void test_newer_schema_refused(void **state)
{
  struct db_fx *f = *state;
  sqlite3 *h = NULL;
  assert_int_equal(sqlite3_open(f->path, &h), SQLITE_OK);
  assert_int_equal(sqlite3_exec(h, "PRAGMA user_version=99", NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(h);
  berth_error_t err = NULL;
  struct berth_db *db2 = NULL;
  assert_true(berth_db_open(f->path, 0, &db2, &err) < 0);
  assert_null(db2);
  cleanup_free char *want =
    xasprintf("schema version 99 is newer than this berth knows (%d)", BERTH_DB_SCHEMA_VERSION);
  unit_assert_error_contains(&err, want);
}

/* the catalogue (every container's environment) is root's alone, -wal and -shm included;
 * files a store made before that rule are tightened when it is opened */
static void test_files_private(void **state)
{
  struct db_fx *f = *state;
  static const char *const suffixes[] = { "", "-wal", "-shm" };
  struct stat st;
  for (size_t i = 0; i < BERTH_N_ELEMENTS(suffixes); i++) {
    cleanup_free char *p = xasprintf("%s%s", f->path, suffixes[i]);
    if (stat(p, &st) == 0) /* the fixture's open made it */
      assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(chmod(p, 0644) == 0 || errno == ENOENT, true);
  }
  berth_error_t err = NULL;
  struct berth_db *db2 = NULL;
  assert_int_equal(berth_db_open(f->path, 0, &db2, &err), 0);
  berth_db_close(db2);
  for (size_t i = 0; i < BERTH_N_ELEMENTS(suffixes); i++) {
    cleanup_free char *p = xasprintf("%s%s", f->path, suffixes[i]);
    if (stat(p, &st) == 0)
      assert_int_equal(st.st_mode & 0777, 0600);
    else
      assert_int_not_equal(i, 0);
  }
}

static void test_changes_need_transaction(void **state)
{
  struct db_fx *f = *state;
  berth_error_t err = NULL;
  assert_true(berth_db_blob_put(f->db, dg('a'), 1, "", &err) < 0);
  unit_assert_error_contains(&err, "add blob outside a transaction");
  assert_int_equal(berth_db_begin(f->db, &err), 0);
  assert_true(berth_db_begin(f->db, &err) < 0);
  unit_assert_error_contains(&err, "already open");
  berth_db_rollback(f->db);
  assert_false(berth_db_in_transaction(f->db));
}

static void test_image_refcounts_and_delete(void **state)
{
  struct db_fx *f = *state;
  struct berth_db *db = f->db;
  berth_error_t err = NULL;
  assert_int_equal(berth_db_begin(db, &err), 0);
  add_layer(db, '1', 0, 'x', 100);  /* shared base, blob x */
  add_layer(db, '2', '1', 'y', 10); /* image A's top */
  add_layer(db, '3', '1', 'z', 20); /* image B's top */
  assert_int_equal(add_image(db, 'a', "12", &err), 1);
  assert_int_equal(add_image(db, 'b', "13", &err), 1);
  assert_int_equal(add_image(db, 'b', "13", &err), 0); /* again: nothing changes */
  assert_int_equal(berth_db_commit(db, &err), 0);
  assert_int_equal(refcount(db, '1'), 2);
  assert_int_equal(refcount(db, '2'), 1);
  assert_int_equal(refcount(db, '3'), 1);

  struct berth_db_image img;
  assert_int_equal(berth_db_image_get(db, dg('a'), &img, &err), 1);
  assert_int_equal(img.nlayers, 2);
  assert_string_equal(img.chain_ids[0], dg('1'));
  assert_string_equal(img.chain_ids[1], dg('2'));
  assert_string_equal(img.os, "linux");
  berth_db_image_release(&img);

  cleanup_strv char **gl = NULL;
  cleanup_strv char **gb = NULL;
  assert_int_equal(berth_db_begin(db, &err), 0);
  assert_int_equal(berth_db_image_delete(db, dg('a'), &gl, &gb, &err), 1);
  assert_int_equal(berth_db_commit(db, &err), 0);
  /* A's own layer and blobs go, the shared base stays */
  assert_int_equal(berth_strv_len(gl), 1);
  assert_string_equal(gl[0], dg('2'));
  assert_int_equal(berth_strv_len(gb), 2);
  assert_string_equal(gb[0], dg('a')); /* config */
  assert_string_equal(gb[1], dg('y'));
  assert_int_equal(refcount(db, '1'), 1);
  assert_int_equal(refcount(db, '2'), -1);
  struct berth_db_blob b;
  assert_int_equal(berth_db_blob_get(db, dg('x'), &b, &err), 1);
  berth_db_blob_release(&b);

  berth_strv_free(steal_ptr(gl));
  berth_strv_free(steal_ptr(gb));
  assert_int_equal(berth_db_begin(db, &err), 0);
  assert_int_equal(berth_db_image_delete(db, dg('b'), &gl, &gb, &err), 1);
  assert_int_equal(berth_db_image_delete(db, dg('b'), NULL, NULL, &err), 0);
  assert_int_equal(berth_db_commit(db, &err), 0);
  assert_int_equal(berth_strv_len(gl), 2); /* top first, then the base */
  assert_string_equal(gl[0], dg('3'));
  assert_string_equal(gl[1], dg('1'));
  assert_int_equal(berth_strv_len(gb), 3);
  struct berth_db_layer *ls = NULL;
  size_t nl = 9;
  assert_int_equal(berth_db_layer_list(db, &ls, &nl, &err), 0);
  assert_int_equal(nl, 0);
  free(ls);
  struct berth_db_blob *bs = NULL;
  size_t nb = 9;
  assert_int_equal(berth_db_blob_list(db, &bs, &nb, &err), 0);
  assert_int_equal(nb, 0);
  berth_db_blob_list_free(bs, nb);
}

static void test_missing_layer_rolls_back(void **state)
{
  struct db_fx *f = *state;
  berth_error_t err = NULL;
  assert_int_equal(berth_db_begin(f->db, &err), 0);
  assert_true(add_image(f->db, 'a', "9", &err) < 0); /* layer 9 has no row: foreign key */
  unit_assert_error_contains(&err, "FOREIGN KEY constraint failed");
  berth_db_rollback(f->db);
  struct berth_db_image *v = NULL;
  size_t n = 9;
  assert_int_equal(berth_db_image_list(f->db, &v, &n, &err), 0);
  assert_int_equal(n, 0);
  berth_db_image_list_free(v, n);
}

static void test_tags(void **state)
{
  struct db_fx *f = *state;
  struct berth_db *db = f->db;
  berth_error_t err = NULL;
  assert_int_equal(berth_db_begin(db, &err), 0);
  add_layer(db, '1', 0, 0, 1);
  assert_int_equal(add_image(db, 'a', "1", &err), 1);
  assert_int_equal(add_image(db, 'b', "1", &err), 1);
  cleanup_free char *prev = NULL;
  assert_int_equal(berth_db_tag_set(db, "docker.io/library/x:1", dg('a'), &prev, &err), 0);
  assert_string_equal(prev, "");
  free(steal_ptr(prev));
  assert_int_equal(berth_db_tag_set(db, "docker.io/library/x:1", dg('b'), &prev, &err), 0);
  assert_string_equal(prev, dg('a'));
  assert_int_equal(berth_db_tag_set(db, "docker.io/library/x:2", dg('b'), NULL, &err), 0);
  assert_int_equal(berth_db_repo_digest_add(db, "docker.io/library/x@sha256:00", dg('b'), &err), 0);
  assert_int_equal(berth_db_tag_set(db, "docker.io/library/x:3", dg('z'), NULL, &err), -1);
  unit_assert_error_contains(&err, "FOREIGN KEY");
  assert_int_equal(berth_db_commit(db, &err), 0);

  cleanup_strv char **names = NULL;
  assert_int_equal(berth_db_tags_of(db, dg('b'), &names, &err), 0);
  assert_int_equal(berth_strv_len(names), 2);
  assert_string_equal(names[0], "docker.io/library/x:1");
  berth_digest_t id;
  assert_int_equal(berth_db_tag_get(db, "docker.io/library/x:2", id, &err), 1);
  assert_string_equal(id, dg('b'));
  assert_int_equal(berth_db_tag_get(db, "docker.io/library/nope:2", id, &err), 0);

  cleanup_strv char **ids = NULL;
  assert_int_equal(berth_db_image_find_prefix(db, "bbb", &ids, &err), 0);
  assert_int_equal(berth_strv_len(ids), 1);
  berth_strv_free(steal_ptr(ids));
  assert_int_equal(berth_db_image_find_prefix(db, "sha256:c", &ids, &err), 0);
  assert_int_equal(berth_strv_len(ids), 0);

  /* deleting the image takes its tags and repo digests */
  assert_int_equal(berth_db_begin(db, &err), 0);
  assert_int_equal(berth_db_tag_delete(db, "docker.io/library/x:2", &err), 1);
  assert_int_equal(berth_db_tag_delete(db, "docker.io/library/x:2", &err), 0);
  assert_int_equal(berth_db_image_delete(db, dg('b'), NULL, NULL, &err), 1);
  assert_int_equal(berth_db_commit(db, &err), 0);
  assert_int_equal(berth_db_tag_get(db, "docker.io/library/x:1", id, &err), 0);
  cleanup_strv char **rd = NULL;
  assert_int_equal(berth_db_repo_digests_of(db, dg('b'), &rd, &err), 0);
  assert_int_equal(berth_strv_len(rd), 0);
  int64_t n = -1;
  assert_int_equal(berth_db_image_containers(db, dg('a'), &n, &err), 0);
  assert_int_equal(n, 0);
}

/* a second handle waits for the writer (busy timeout) instead of failing; with a short timeout
 * it fails with a clear message */
/* the statement cache (db.c): a kept statement comes back reset and unbound; two uses of one
 * text at once get two statements; more texts than the cache holds all still work */
static void test_statement_cache(void **state)
{
  struct db_fx *f = *state;
  berth_error_t err = NULL;
  sqlite3_stmt *a = NULL, *b = NULL;
  assert_int_equal(db_prepare(f->db, &a, &err, "SELECT ?", "i", (int64_t) 1), 0);
  assert_int_equal(db_prepare(f->db, &b, &err, "SELECT ?", "i", (int64_t) 2), 0);
  assert_ptr_not_equal(a, b);
  assert_int_equal(db_step(f->db, a, &err), 1);
  assert_int_equal(db_step(f->db, b, &err), 1);
  assert_int_equal(sqlite3_column_int64(a, 0), 1);
  assert_int_equal(sqlite3_column_int64(b, 0), 2);
  sqlite3_stmt *first = a;
  db_cleanup_stmt(&a);
  assert_null(a);
  db_cleanup_stmt(&b);
  assert_int_equal(db_prepare(f->db, &a, &err, "SELECT ?", ""), 0);
  assert_ptr_equal(a, first); /* kept, and no longer bound to 1 */
  assert_int_equal(db_step(f->db, a, &err), 1);
  assert_int_equal(sqlite3_column_type(a, 0), SQLITE_NULL);
  db_cleanup_stmt(&a);
  for (int i = 0; i < 3 * DB_STMT_CACHE; i++) {
    char *sql = xasprintf("SELECT %d", i); /* freed at once: the cache keeps its own copy */
    cleanup_stmt sqlite3_stmt *st = NULL;
    assert_int_equal(db_prepare(f->db, &st, &err, sql, ""), 0);
    free(sql);
    assert_int_equal(db_step(f->db, st, &err), 1);
    assert_int_equal(sqlite3_column_int(st, 0), i);
  }
  unit_assert_no_error(&err);
  /* the catalogue's own queries, and a write, after all that */
  assert_int_equal(berth_db_begin(f->db, &err), 0);
  add_layer(f->db, 'a', 0, 'b', 5);
  assert_int_equal(berth_db_commit(f->db, &err), 0);
  assert_int_equal(refcount(f->db, 'a'), 0);
  unit_assert_no_error(&err);
}

static void test_concurrent_writers(void **state)
{
  struct db_fx *f = *state;
  berth_error_t err = NULL;
  int p[2];
  assert_int_equal(pipe(p), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    close(p[0]);
    struct berth_db *db = NULL;
    berth_error_t e = NULL;
    if (berth_db_open(f->path, 0, &db, &e) < 0 || berth_db_begin(db, &e) < 0)
      _exit(1);
    if (write(p[1], "x", 1) != 1)
      _exit(1);
    usleep(300 * 1000);
    if (berth_db_blob_put(db, dg('c'), 1, "", &e) < 0 || berth_db_commit(db, &e) < 0)
      _exit(1);
    _exit(0);
  }
  close(p[1]);
  char c;
  assert_int_equal(read(p[0], &c, 1), 1);
  close(p[0]);
  struct berth_db *quick = NULL;
  assert_int_equal(berth_db_open(f->path, 50, &quick, &err), 0);
  assert_true(berth_db_begin(quick, &err) < 0);
  unit_assert_error_contains(&err, "still busy after 50 ms");
  berth_db_close(quick);
  assert_int_equal(berth_db_begin(f->db, &err), 0); /* waits for the child's commit */
  unit_assert_no_error(&err);
  struct berth_db_blob b;
  assert_int_equal(berth_db_blob_get(f->db, dg('c'), &b, &err), 1);
  berth_db_blob_release(&b);
  berth_db_rollback(f->db);
  int status;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_open_schema, db_fx_setup, db_fx_teardown),
    cmocka_unit_test_setup_teardown(test_durability, db_fx_setup, db_fx_teardown),
    cmocka_unit_test_setup_teardown(test_newer_schema_refused, db_fx_setup, db_fx_teardown),
    cmocka_unit_test_setup_teardown(test_files_private, db_fx_setup, db_fx_teardown),
    cmocka_unit_test_setup_teardown(test_changes_need_transaction, db_fx_setup, db_fx_teardown),
    cmocka_unit_test_setup_teardown(test_image_refcounts_and_delete, db_fx_setup, db_fx_teardown),
    cmocka_unit_test_setup_teardown(test_missing_layer_rolls_back, db_fx_setup, db_fx_teardown),
    cmocka_unit_test_setup_teardown(test_tags, db_fx_setup, db_fx_teardown),
    cmocka_unit_test_setup_teardown(test_concurrent_writers, db_fx_setup, db_fx_teardown),
    cmocka_unit_test_setup_teardown(test_statement_cache, db_fx_setup, db_fx_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
