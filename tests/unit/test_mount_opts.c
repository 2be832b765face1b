#include "unit.h"

#include <string.h>
#include <sys/mount.h>

#include "base/cleanup.h"
#include "linux/mount_plan/mount_plan.h"

static struct berth_mount_opts parse_ok(const char *const *opts, size_t n)
{
  berth_error_t err = NULL;
  struct berth_mount_opts o;
  memset(&o, 0xa5, sizeof o); /* parse must fill every field */
  assert_int_equal(berth_mount_opts_parse(opts, n, &o, &err), 0);
  unit_assert_no_error(&err);
  return o;
}

#define PARSE(...)                                                                                           \
  ({                                                                                                         \
    static const char *const opts_[] = { __VA_ARGS__ };                                                      \
    parse_ok(opts_, BERTH_N_ELEMENTS(opts_));                                                                \
  })

static void test_empty(void **state)
{
  struct berth_mount_opts o = parse_ok(NULL, 0);
  assert_int_equal(o.flags, 0);
  assert_int_equal(o.clear, 0);
  assert_int_equal(o.propagation, 0);
  assert_int_equal(o.attr_set, 0);
  assert_int_equal(o.attr_clr, 0);
  assert_false(o.recursive_attrs || o.idmap || o.ridmap || o.tmpcopyup);
  assert_null(o.data);
}

/* every set/clear pair of the table */
static void test_flag_pairs(void **state)
{
  static const struct {
    const char *set, *clr;
    unsigned long flag;
  } pairs[] = {
    { "ro", "rw", MS_RDONLY },
    { "nosuid", "suid", MS_NOSUID },
    { "nodev", "dev", MS_NODEV },
    { "noexec", "exec", MS_NOEXEC },
    { "sync", "async", MS_SYNCHRONOUS },
    { "mand", "nomand", MS_MANDLOCK },
    { "noatime", "atime", MS_NOATIME },
    { "nodiratime", "diratime", MS_NODIRATIME },
    { "relatime", "norelatime", MS_RELATIME },
    { "strictatime", "nostrictatime", MS_STRICTATIME },
    { "lazytime", "nolazytime", MS_LAZYTIME },
    { "iversion", "noiversion", MS_I_VERSION },
    { "acl", "noacl", MS_POSIXACL },
    { "silent", "loud", MS_SILENT },
    { "nosymfollow", "symfollow", MS_NOSYMFOLLOW },
  };
  for (size_t i = 0; i < BERTH_N_ELEMENTS(pairs); i++) {
    const char *a[] = { pairs[i].set };
    struct berth_mount_opts o = parse_ok(a, 1);
    assert_int_equal(o.flags, pairs[i].flag);
    assert_int_equal(o.clear, 0);
    assert_null(o.data);
    const char *b[] = { pairs[i].clr };
    o = parse_ok(b, 1);
    assert_int_equal(o.flags, 0);
    assert_int_equal(o.clear, pairs[i].flag);
    /* later wins, both ways */
    const char *c[] = { pairs[i].set, pairs[i].clr };
    o = parse_ok(c, 2);
    assert_int_equal(o.flags, 0);
    assert_int_equal(o.clear, pairs[i].flag);
    const char *d[] = { pairs[i].clr, pairs[i].set };
    o = parse_ok(d, 2);
    assert_int_equal(o.flags, pairs[i].flag);
    assert_int_equal(o.clear, 0);
  }
}

static void test_single_flags(void **state)
{
  assert_int_equal(PARSE("dirsync").flags, MS_DIRSYNC);
  assert_int_equal(PARSE("remount").flags, MS_REMOUNT);
  struct berth_mount_opts o = PARSE("defaults");
  assert_int_equal(o.flags | o.clear, 0);
  assert_null(o.data);
  o = PARSE("nosuid", "noexec", "nodev", "ro");
  assert_int_equal(o.flags, MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY);
}

static void test_atime_exclusive(void **state)
{
  assert_int_equal(PARSE("noatime", "strictatime").flags, MS_STRICTATIME);
  assert_int_equal(PARSE("strictatime", "relatime").flags, MS_RELATIME);
  assert_int_equal(PARSE("relatime", "noatime", "nodiratime").flags, MS_NOATIME | MS_NODIRATIME);
}

static void test_bind(void **state)
{
  assert_int_equal(PARSE("bind").flags, MS_BIND);
  assert_int_equal(PARSE("rbind").flags, MS_BIND | MS_REC);
  /* recursion is never taken back by a later "bind" (runc and crun OR the flags) */
  assert_int_equal(PARSE("rbind", "bind").flags, MS_BIND | MS_REC);
  assert_int_equal(PARSE("bind", "rbind", "ro").flags, MS_BIND | MS_REC | MS_RDONLY);
  /* propagation's recursion is not the bind's */
  struct berth_mount_opts o = PARSE("bind", "rprivate");
  assert_int_equal(o.flags, MS_BIND);
  assert_int_equal(o.propagation, MS_PRIVATE | MS_REC);
}

static void test_propagation(void **state)
{
  static const struct {
    const char *name;
    unsigned long v;
  } p[] = {
    { "shared", MS_SHARED },         { "rshared", MS_SHARED | MS_REC },
    { "slave", MS_SLAVE },           { "rslave", MS_SLAVE | MS_REC },
    { "private", MS_PRIVATE },       { "rprivate", MS_PRIVATE | MS_REC },
    { "unbindable", MS_UNBINDABLE }, { "runbindable", MS_UNBINDABLE | MS_REC },
  };
  for (size_t i = 0; i < BERTH_N_ELEMENTS(p); i++) {
    const char *a[] = { p[i].name };
    struct berth_mount_opts o = parse_ok(a, 1);
    assert_int_equal(o.propagation, p[i].v);
    assert_int_equal(o.flags, 0);
  }
  assert_int_equal(PARSE("rshared", "private").propagation, MS_PRIVATE);
}

static void test_recursive_attrs(void **state)
{
  static const struct {
    const char *set, *clr;
    uint64_t attr;
  } p[] = {
    { "rro", "rrw", MOUNT_ATTR_RDONLY },
    { "rnosuid", "rsuid", MOUNT_ATTR_NOSUID },
    { "rnodev", "rdev", MOUNT_ATTR_NODEV },
    { "rnoexec", "rexec", MOUNT_ATTR_NOEXEC },
    { "rnodiratime", "rdiratime", MOUNT_ATTR_NODIRATIME },
    { "rnosymfollow", "rsymfollow", MOUNT_ATTR_NOSYMFOLLOW },
  };
  for (size_t i = 0; i < BERTH_N_ELEMENTS(p); i++) {
    const char *a[] = { p[i].set, p[i].clr }, *b[] = { p[i].clr, p[i].set };
    struct berth_mount_opts o = parse_ok(a, 1);
    assert_true(o.recursive_attrs);
    assert_int_equal(o.attr_set, p[i].attr);
    assert_int_equal(o.attr_clr, 0);
    assert_int_equal(o.flags, 0);
    o = parse_ok(a, 2);
    assert_int_equal(o.attr_set, 0);
    assert_int_equal(o.attr_clr, p[i].attr);
    o = parse_ok(b, 2);
    assert_int_equal(o.attr_set, p[i].attr);
    assert_int_equal(o.attr_clr, 0);
  }
  struct berth_mount_opts o = PARSE("rro", "rnosuid", "rnodev");
  assert_int_equal(o.attr_set, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
}

static void test_recursive_atime(void **state)
{
  static const struct {
    const char *name;
    uint64_t mode;
  } p[] = {
    { "rnoatime", MOUNT_ATTR_NOATIME },     { "rstrictatime", MOUNT_ATTR_STRICTATIME },
    { "rrelatime", MOUNT_ATTR_RELATIME },   { "ratime", MOUNT_ATTR_RELATIME },
    { "rnorelatime", MOUNT_ATTR_RELATIME }, { "rnostrictatime", MOUNT_ATTR_RELATIME },
  };
  for (size_t i = 0; i < BERTH_N_ELEMENTS(p); i++) {
    const char *a[] = { "rnodev", p[i].name };
    struct berth_mount_opts o = parse_ok(a, 2);
    assert_true(o.recursive_attrs);
    assert_int_equal(o.attr_clr, MOUNT_ATTR__ATIME);
    assert_int_equal(o.attr_set, MOUNT_ATTR_NODEV | p[i].mode);
  }
  struct berth_mount_opts o = PARSE("rnoatime", "rstrictatime");
  assert_int_equal(o.attr_set, MOUNT_ATTR_STRICTATIME);
  o = PARSE("rnoatime", "ratime");
  assert_int_equal(o.attr_set & MOUNT_ATTR__ATIME, MOUNT_ATTR_RELATIME);
}

static void test_idmap_tmpcopyup(void **state)
{
  struct berth_mount_opts o = PARSE("idmap");
  assert_true(o.idmap);
  assert_false(o.ridmap);
  o = PARSE("ridmap");
  assert_true(o.idmap && o.ridmap);
  o = PARSE("ridmap", "idmap");
  assert_true(o.idmap);
  assert_false(o.ridmap);
  o = PARSE("tmpcopyup");
  assert_true(o.tmpcopyup);
  assert_int_equal(o.flags, 0);
  assert_null(o.data);
}

static void test_data(void **state)
{
  struct berth_mount_opts o = PARSE("nosuid", "mode=755", "strictatime", "size=65536k", "nr_inodes=4k");
  assert_int_equal(o.flags, MS_NOSUID | MS_STRICTATIME);
  assert_string_equal(o.data, "mode=755,size=65536k,nr_inodes=4k");
  berth_mount_opts_release(&o);
  assert_null(o.data);
  berth_mount_opts_release(&o); /* twice is fine */
  o = PARSE("newinstance", "ptmxmode=0666", "mode=0620", "gid=5");
  assert_string_equal(o.data, "newinstance,ptmxmode=0666,mode=0620,gid=5");
  berth_mount_opts_release(&o);
  /* a value with commas (SELinux context) passes through whole */
  o = PARSE("context=\"system_u:object_r:x:s0:c1,c2\"");
  assert_string_equal(o.data, "context=\"system_u:object_r:x:s0:c1,c2\"");
  berth_mount_opts_release(&o);
  /* case matters: RO is fs data, not a flag */
  o = PARSE("RO");
  assert_int_equal(o.flags, 0);
  assert_string_equal(o.data, "RO");
  berth_mount_opts_release(&o);
}

static void expect_error(const char *const *opts, size_t n, const char *needle)
{
  berth_error_t err = NULL;
  struct berth_mount_opts o = { 0 };
  assert_int_equal(berth_mount_opts_parse(opts, n, &o, &err), -1);
  unit_assert_error_contains(&err, needle);
  assert_null(o.data);
}

static void test_errors(void **state)
{
  const char *empty[] = { "ro", "" };
  expect_error(empty, 2, "mount option 1 is empty");
  const char *null_opt[] = { NULL };
  expect_error(null_opt, 1, "mount option 0 is null");
  expect_error(NULL, 3, "3 options but no array");
  const char *ctrl[] = { "size=1k\nro" };
  expect_error(ctrl, 1, "mount option 0 `size=1k\nro`: contains a control character");
  const char *eq[] = { "=1" };
  expect_error(eq, 1, "empty name before `=`");
  const char *idm[] = { "idmap=uids=0-1000-1" };
  expect_error(idm, 1, "use the mount's uidMappings and gidMappings");
  static char big[3000];
  memset(big, 'a', sizeof big - 1);
  big[0] = 'x';
  big[1] = '=';
  const char *toolong[] = { big, big };
  expect_error(toolong, 2, "fs data is longer than 4095 bytes");
  const char *justfits[] = { big };
  struct berth_mount_opts o = parse_ok(justfits, 1);
  assert_int_equal(strlen(o.data), sizeof big - 1);
  berth_mount_opts_release(&o);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_empty),
    cmocka_unit_test(test_flag_pairs),
    cmocka_unit_test(test_single_flags),
    cmocka_unit_test(test_atime_exclusive),
    cmocka_unit_test(test_bind),
    cmocka_unit_test(test_propagation),
    cmocka_unit_test(test_recursive_attrs),
    cmocka_unit_test(test_recursive_atime),
    cmocka_unit_test(test_idmap_tmpcopyup),
    cmocka_unit_test(test_data),
    cmocka_unit_test(test_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
