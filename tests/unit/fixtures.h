/* Fixtures the engine's unit tests share: a private engine store, or a bare catalogue, in a
 * temporary directory removed afterwards; and readable digests for catalogue rows. */
#ifndef BERTH_TESTS_UNIT_FIXTURES_H
#define BERTH_TESTS_UNIT_FIXTURES_H

#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/xalloc.h"
#include "engine/catalogue/catalogue.h"
#include "engine/engine.h"
#include "unit.h"

/* an engine with its root and run root under dir */
struct engine_fx {
  char *dir;
  struct berth_engine *e;
};

static __attribute__((unused)) int engine_fx_setup(void **state)
{
  struct engine_fx *f = xmalloc0(sizeof *f);
  f->dir = unit_mkdtemp();
  cleanup_free char *root = xasprintf("%s/root", f->dir), *run = xasprintf("%s/run", f->dir);
  struct berth_engine_opts o = { .root = root, .runroot = run };
  berth_error_t err = NULL;
  assert_int_equal(berth_engine_open(&o, &f->e, &err), 0);
  *state = f;
  return 0;
}

static __attribute__((unused)) int engine_fx_teardown(void **state)
{
  struct engine_fx *f = *state;
  berth_engine_close(f->e);
  unit_rm_rf(f->dir);
  free(f->dir);
  free(f);
  return 0;
}

/* a catalogue alone, at path (dir/berth.db) */
struct db_fx {
  char *dir;
  char *path;
  struct berth_db *db;
};

static __attribute__((unused)) int db_fx_setup(void **state)
{
  struct db_fx *f = xmalloc0(sizeof *f);
  f->dir = unit_mkdtemp();
  f->path = xasprintf("%s/berth.db", f->dir);
  berth_error_t err = NULL;
  assert_int_equal(berth_db_open(f->path, 0, &f->db, &err), 0);
  *state = f;
  return 0;
}

static __attribute__((unused)) int db_fx_teardown(void **state)
{
  struct db_fx *f = *state;
  berth_db_close(f->db);
  unit_rm_rf(f->dir);
  free(f->dir);
  free(f->path);
  free(f);
  return 0;
}

/* "sha256:" and 64 times c (eight at a time stay valid) */
static __attribute__((unused)) const char *dg(char c)
{
  static char bufs[8][BERTH_DIGEST_LEN + 1];
  static int n;
  char *b = bufs[n++ % 8];
  memcpy(b, "sha256:", 7);
  memset(b + 7, c, 64);
  b[71] = '\0';
  return b;
}

#endif
