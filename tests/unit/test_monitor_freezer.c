/* monitor: is the container paused (src/monitor/freezer.c) — a fake /proc/PID/cgroup, mountinfo
 * and cgroup trees: v2, hybrid with a v1 freezer, v1 in a cgroup namespace, nothing to read. */
#include "unit.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/xalloc.h"
#include "monitor.h"

static void put(const char *path, const char *text)
{
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

struct fake {
  char *dir, *cgroup, *mountinfo;
};

/* D/cgroup: the process's lines; D/mountinfo: MOUNTS with each @ the fake's directory D */
static void fake_make(struct fake *f, const char *cgroup, const char *mounts)
{
  f->dir = unit_mkdtemp();
  f->cgroup = xasprintf("%s/cgroup", f->dir);
  f->mountinfo = xasprintf("%s/mountinfo", f->dir);
  put(f->cgroup, cgroup);
  FILE *m = fopen(f->mountinfo, "w");
  assert_non_null(m);
  for (const char *c = mounts; *c; c++)
    if (*c == '@')
      fputs(f->dir, m);
    else
      fputc(*c, m);
  fclose(m);
}

static void fake_put(const struct fake *f, const char *dir, const char *file, const char *text)
{
  cleanup_free char *d = xasprintf("%s/%s", f->dir, dir);
  berth_error_t err = NULL;
  assert_int_equal(berth_mkdir_p(d, 0755, &err), 0);
  cleanup_free char *p = xasprintf("%s/%s", d, file);
  put(p, text);
}

static void fake_free(struct fake *f)
{
  unit_rm_rf(f->dir);
  free(f->dir);
  free(f->cgroup);
  free(f->mountinfo);
}

/* does the monitor see the fake's process frozen (found as at a start, read as at a tick) */
static bool frozen_at(const char *cgroup, const char *mountinfo, const char *under)
{
  struct mon_freezer fz;
  return mon_freezer_find(cgroup, mountinfo, under, &fz) && mon_freezer_frozen(&fz);
}

static bool frozen(const struct fake *f) { return frozen_at(f->cgroup, f->mountinfo, f->dir); }

/* the same, once DIR/FILE under the fake holds TEXT */
static bool frozen_with(const struct fake *f, const char *dir, const char *file, const char *text)
{
  fake_put(f, dir, file, text);
  return frozen(f);
}

static void test_v2(void **state)
{
  (void) state;
  struct fake f;
  fake_make(&f, "0::/berth/c1\n",
            "22 1 0:5 / /proc rw - proc proc rw\n"
            "30 22 0:26 / @/cg rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate\n");
  assert_false(frozen(&f)); /* no cgroup.freeze: not frozen */
  assert_false(frozen_with(&f, "cg/berth/c1", "cgroup.freeze", "0\n"));
  assert_true(frozen_with(&f, "cg/berth/c1", "cgroup.freeze", "1\n"));
  fake_free(&f);
}

/* hybrid: the v1 freezer wins over the unified hierarchy, as the cgroup library picks */
static void test_hybrid(void **state)
{
  (void) state;
  struct fake f;
  fake_make(&f, "9:name=systemd:/\n6:cpu,freezer:/berth/c2\n0::/berth/c2\n",
            "31 23 0:28 / @/fz rw,relatime - cgroup cgroup rw,cpu,freezer\n"
            "41 23 0:38 / @/un rw,relatime - cgroup2 cgroup2 rw\n");
  fake_put(&f, "un/berth/c2", "cgroup.freeze", "1\n");
  assert_false(frozen_with(&f, "fz/berth/c2", "freezer.state", "THAWED\n"));
  assert_true(frozen_with(&f, "fz/berth/c2", "freezer.state", "FREEZING\n"));
  assert_true(frozen_with(&f, "fz/berth/c2", "freezer.state", "FROZEN\n"));
  fake_free(&f);
}

/* v1 mounted from below its root: the path under the mount's root */
static void test_v1_namespaced_root(void **state)
{
  (void) state;
  struct fake f;
  fake_make(&f, "4:freezer:/outer/berth/c3\n",
            "31 23 0:28 /outer @/fz rw,relatime - cgroup cgroup rw,freezer\n");
  assert_true(frozen_with(&f, "fz/berth/c3", "freezer.state", "FROZEN\n"));
  fake_free(&f);
}

/* v2: the init in a child of the frozen cgroup (systemd's init.scope): its own cgroup.freeze says
 * 0, cgroup.events says frozen */
static void test_v2_ancestor(void **state)
{
  (void) state;
  struct fake f;
  fake_make(&f, "0::/berth/c5/init.scope\n", "30 22 0:26 / @/cg rw - cgroup2 cgroup2 rw\n");
  fake_put(&f, "cg/berth/c5/init.scope", "cgroup.freeze", "0\n");
  assert_false(frozen_with(&f, "cg/berth/c5/init.scope", "cgroup.events", "populated 1\nfrozen 0\n"));
  assert_true(frozen_with(&f, "cg/berth/c5/init.scope", "cgroup.events", "populated 1\nfrozen 1\n"));
  fake_free(&f);
}

/* a v1 freezer mounted outside the cgroup directory is not the library's: v2 is read; a root that
 * is only a string prefix of the path (/a/b and /a/bc) is not stripped */
static void test_stray_mount_and_prefix(void **state)
{
  (void) state;
  struct fake f;
  fake_make(&f, "4:freezer:/a/bc\n0::/a/bc\n",
            "31 23 0:28 / @-stray rw - cgroup cgroup rw,freezer\n"
            "41 23 0:38 /a/b @/un rw - cgroup2 cgroup2 rw\n");
  /* the stray one says frozen: read, it would win over v2 */
  cleanup_free char *stray = xasprintf("%s-stray", f.dir), *sd = xasprintf("%s/a/bc", stray);
  cleanup_free char *sf = xasprintf("%s/freezer.state", sd);
  berth_error_t err = NULL;
  assert_int_equal(berth_mkdir_p(sd, 0755, &err), 0);
  put(sf, "FROZEN\n");
  assert_false(frozen_with(&f, "un/a/bc", "cgroup.freeze", "0\n"));
  assert_true(frozen_with(&f, "un/a/bc", "cgroup.freeze", "1\n"));
  fake_put(&f, "un/a/bc", "cgroup.freeze", "0\n");
  assert_false(frozen_with(&f, "un/c", "cgroup.freeze", "1\n")); /* where a stripped /a/b would lead */
  unit_rm_rf(stray);
  fake_free(&f);
}

/* nothing to go by (the process gone, no hierarchy mounted): not paused */
static void test_nothing(void **state)
{
  (void) state;
  struct fake f;
  fake_make(&f, "0::/berth/c4\n", "22 1 0:5 / /proc rw - proc proc rw\n");
  assert_false(frozen(&f));
  cleanup_free char *gone = xasprintf("%s/none", f.dir);
  assert_false(frozen_at(gone, f.mountinfo, f.dir));
  fake_free(&f);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_v2),
    cmocka_unit_test(test_hybrid),
    cmocka_unit_test(test_v1_namespaced_root),
    cmocka_unit_test(test_v2_ancestor),
    cmocka_unit_test(test_stray_mount_and_prefix),
    cmocka_unit_test(test_nothing),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
