/* The mount plan without root: config → the exact op list (one line per op, see
 * berth_mount_op_describe), and every check the plan makes, with its JSON path. */
#include "unit.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "base/cleanup.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "json/json.h"
#include "linux/mount_plan/mount_plan.h"
#include "oci/spec.h"

/* single quotes become double quotes */
static char *q(const char *s)
{
  char *t = xstrdup(s);
  for (char *p = t; *p; p++)
    if (*p == '\'')
      *p = '"';
  return t;
}

static berth_spec_t *parse(const char *text)
{
  berth_spec_t *s = NULL;
  berth_error_t err = NULL;
  if (berth_spec_parse(text, strlen(text), "config.json", &s, &err) < 0) {
    print_error("%s\n", err->msg);
    berth_error_release(&err);
    fail();
  }
  return s;
}

/* a config with these mounts (and `linux` members), in single quotes */
static berth_spec_t *config(const char *mounts, const char *linux_members)
{
  cleanup_free char *text = xasprintf("{'ociVersion': '1.2.0', 'root': {'path': 'rootfs'}, 'mounts': [%s],"
                                      " 'linux': {%s}}",
                                      mounts, linux_members ? linux_members : "");
  cleanup_free char *json = q(text);
  return parse(json);
}

static berth_spec_t *default_spec(bool rootless)
{
  json_t *doc = berth_spec_default(rootless);
  cleanup_free char *text = berth_json_dumps(doc);
  json_decref(doc);
  return parse(text);
}

/* the plan as text, one op per line */
static char *dump(const struct berth_mount_plan *p)
{
  struct berth_strbuf b = BERTH_STRBUF_INIT;
  for (size_t i = 0; i < p->n; i++) {
    cleanup_free char *line = berth_mount_op_describe(&p->ops[i]);
    berth_strbuf_printf(&b, "%s\n", line);
  }
  return berth_strbuf_detach(&b);
}

static char *join(const char *const *lines, size_t n)
{
  struct berth_strbuf b = BERTH_STRBUF_INIT;
  for (size_t i = 0; i < n; i++)
    berth_strbuf_printf(&b, "%s\n", lines[i]);
  return berth_strbuf_detach(&b);
}

static void plan_ok(const berth_spec_t *s, bool userns, bool console, struct berth_mount_plan *p)
{
  berth_error_t err = NULL;
  struct berth_mount_plan_input in = { .spec = s, .in_userns = userns, .console = console };
  int r = berth_mount_plan_build(&in, p, &err);
  unit_assert_no_error(&err);
  assert_int_equal(r, 0);
}

/* the plan's ops from `from` on (negative: from the end) equal `want` */
#define EXPECT_OPS(p, from, ...)                                                                             \
  do {                                                                                                       \
    static const char *const want_[] = { __VA_ARGS__ };                                                      \
    expect_ops((p), (from), want_, sizeof want_ / sizeof *want_);                                            \
  } while (0)

static void expect_ops(const struct berth_mount_plan *p, long from, const char *const *want, size_t n)
{
  size_t start = from >= 0 ? (size_t) from : p->n - (size_t) -from;
  assert_true(start + n <= p->n);
  struct berth_mount_plan part = { .ops = p->ops + start, .n = n };
  cleanup_free char *got = dump(&part), *exp = join(want, n);
  if (strcmp(got, exp) != 0) {
    print_error("ops from %zu:\n--- got\n%s--- want\n%s", start, got, exp);
    fail();
  }
}

static size_t find_op(const struct berth_mount_plan *p, enum berth_mount_op_kind kind, const char *path)
{
  for (size_t i = 0; i < p->n; i++)
    if (p->ops[i].kind == kind && (path == NULL || strcmp(p->ops[i].path, path) == 0))
      return i;
  return p->n;
}

/* ---------------- whole plans ---------------- */

static void test_default_spec(void **state)
{
  (void) state;
  cleanup_spec berth_spec_t *s = default_spec(false);
  struct berth_mount_plan p;
  plan_ok(s, false, false, &p);
  assert_int_equal(p.n, 38);
  /* clang-format off */
  EXPECT_OPS(&p, 0,
    "PROPAGATION / rslave",
    "BIND_ROOTFS /",
    "MOUNT_TYPED /proc proc src=proc f=no-symlink,procfs",
    "MOUNT_TYPED /dev tmpfs src=tmpfs ms=nosuid,strictatime data=mode=755,size=65536k",
    "MOUNT_TYPED /dev/pts devpts src=devpts ms=nosuid,noexec data=newinstance,ptmxmode=0666,mode=0620,gid=5",
    "MOUNT_TYPED /dev/shm tmpfs src=shm ms=nosuid,nodev,noexec data=mode=1777,size=65536k",
    "MOUNT_TYPED /dev/mqueue mqueue src=mqueue ms=nosuid,nodev,noexec",
    "MOUNT_TYPED /sys sysfs src=sysfs ms=ro,nosuid,nodev,noexec f=no-symlink",
    "MOUNT_CGROUP /sys/fs/cgroup cgroup src=cgroup ms=ro,nosuid,nodev,noexec,relatime",
    "MKNOD_DEVICE /dev/null c 1:3 0666",
    "MKNOD_DEVICE /dev/zero c 1:5 0666",
    "MKNOD_DEVICE /dev/full c 1:7 0666",
    "MKNOD_DEVICE /dev/random c 1:8 0666",
    "MKNOD_DEVICE /dev/urandom c 1:9 0666",
    "MKNOD_DEVICE /dev/tty c 5:0 0666",
    "SYMLINK /dev/fd -> /proc/self/fd",
    "SYMLINK /dev/stdin -> /proc/self/fd/0",
    "SYMLINK /dev/stdout -> /proc/self/fd/1",
    "SYMLINK /dev/stderr -> /proc/self/fd/2",
    "SYMLINK /dev/core -> /proc/kcore host=/proc/kcore f=if-host",
    "SYMLINK /dev/ptmx -> pts/ptmx f=replace",
    "PIVOT /",
    "READONLY_PATH /proc/bus",
    "READONLY_PATH /proc/fs",
    "READONLY_PATH /proc/irq",
    "READONLY_PATH /proc/sys",
    "READONLY_PATH /proc/sysrq-trigger",
    "MASK_PATH /proc/acpi",
    "MASK_PATH /proc/asound",
    "MASK_PATH /proc/kcore",
    "MASK_PATH /proc/keys",
    "MASK_PATH /proc/latency_stats",
    "MASK_PATH /proc/timer_list",
    "MASK_PATH /proc/timer_stats",
    "MASK_PATH /proc/sched_debug",
    "MASK_PATH /sys/firmware",
    "MASK_PATH /proc/scsi",
    "REMOUNT_RO /");
  /* clang-format on */
  /* what the executor needs beyond the text: errors name the config entry */
  assert_string_equal(p.ops[2].what, "mount `proc` on `/proc` (mounts[0])");
  assert_string_equal(p.ops[0].what, "set the propagation of `/`");
  assert_null(p.ops[2].data);
  berth_mount_plan_free(&p);
  assert_null(p.ops);
  assert_int_equal(p.n, 0);
}

/* rootless: the user namespace's plan binds devices and may bind the host's sysfs/mqueue */
static void test_default_rootless(void **state)
{
  (void) state;
  cleanup_spec berth_spec_t *s = default_spec(true);
  struct berth_mount_plan p;
  plan_ok(s, true, false, &p);
  /* clang-format off */
  EXPECT_OPS(&p, 6,
    "MOUNT_TYPED /dev/mqueue mqueue src=mqueue ms=nosuid,nodev,noexec host=/dev/mqueue",
    "BIND /sys src=/sys set=ro,nosuid,nodev,noexec f=rec",
    "MOUNT_CGROUP /sys/fs/cgroup cgroup src=cgroup ms=ro,nosuid,nodev,noexec,relatime",
    "BIND_DEVICE /dev/null c 1:3 0666");
  /* clang-format on */
  assert_int_equal(find_op(&p, BERTH_MOUNT_OP_MKNOD_DEVICE, NULL), p.n);
  berth_mount_plan_free(&p);
}

static void test_console_and_cgroupns(void **state)
{
  (void) state;
  cleanup_spec berth_spec_t *s =
    config("{'destination': '/sys/fs/cgroup', 'type': 'cgroup2', 'source': 'cgroup'}",
           "'namespaces': [{'type': 'mount'}, {'type': 'cgroup'}]");
  struct berth_mount_plan p;
  plan_ok(s, false, true, &p);
  EXPECT_OPS(&p, 2, "MOUNT_CGROUP /sys/fs/cgroup cgroup2 src=cgroup f=cgroupns");
  size_t console = find_op(&p, BERTH_MOUNT_OP_BIND_CONSOLE, "/dev/console");
  assert_true(console < p.n);
  assert_int_equal(p.ops[console + 1].kind, BERTH_MOUNT_OP_PIVOT);
  EXPECT_OPS(&p, -1, "PIVOT /");
  berth_mount_plan_free(&p);
}

/* ---------------- options, in order ---------------- */

static void test_option_order(void **state)
{
  (void) state;
  cleanup_spec berth_spec_t *s =
    config("{'destination': '/a', 'source': '/srv', 'options': ['rbind', 'bind']},"
           "{'destination': '/b', 'source': '/srv', 'options': ['bind', 'rbind']},"
           "{'destination': '/c', 'type': 'bind', 'source': '/srv', 'options': ['ro', 'rw', 'nosuid', "
           "'suid', 'noexec']},"
           "{'destination': '/d', 'type': 'bind', 'source': '/srv', 'options': ['rprivate', 'shared', 'rro', "
           "'rrw', 'rnodev']},"
           "{'destination': '/e', 'type': 'bind', 'source': '/srv', 'options': ['noatime', 'strictatime', "
           "'rnoatime']},"
           "{'destination': '/f', 'type': 'tmpfs', 'source': 'tmpfs', 'options': ['size=1m', 'ro', "
           "'mode=700', 'rw']}",
           NULL);
  struct berth_mount_plan p;
  plan_ok(s, false, false, &p);
  /* clang-format off */
  EXPECT_OPS(&p, 2,
    "BIND /a src=/srv f=rec",
    "BIND /b src=/srv f=rec",
    "BIND /c src=/srv set=noexec clr=ro,nosuid",
    "BIND /d src=/srv rset=nodev rclr=ro prop=shared",
    "BIND /e src=/srv atime=strictatime ratime=noatime",
    "MOUNT_TYPED /f tmpfs src=tmpfs data=size=1m,mode=700");
  /* clang-format on */
  berth_mount_plan_free(&p);
}

/* config order is mount order; binds, remounts, idmaps, tmpcopyup */
static void test_mount_kinds(void **state)
{
  (void) state;
  cleanup_spec berth_spec_t *s =
    config("{'destination': '/m1', 'type': 'tmpfs', 'source': 'tmpfs'},"
           "{'destination': '/m1/sub', 'source': '/srv', 'options': ['rbind', 'ro']},"
           "{'destination': '/m1/sub', 'source': '/srv', 'options': ['bind', 'remount', 'nosuid']},"
           "{'destination': '/m2', 'type': 'tmpfs', 'source': 'tmpfs', 'options': ['remount', 'ro']},"
           "{'destination': '/etc', 'type': 'tmpfs', 'source': 'tmpfs', 'options': ['tmpcopyup', 'ro']},"
           "{'destination': '/idm', 'source': '/srv', 'options': ['rbind', 'ridmap'],"
           " 'uidMappings': [{'containerID': 0, 'hostID': 1000, 'size': 10}],"
           " 'gidMappings': [{'containerID': 0, 'hostID': 1000, 'size': 10}]},"
           "{'destination': '/own', 'source': '/srv', 'options': ['bind', 'idmap']},"
           "{'destination': '/dev', 'type': 'tmpfs', 'source': 'tmpfs', 'options': ['ro']}",
           NULL);
  struct berth_mount_plan p;
  plan_ok(s, true, false, &p);
  /* clang-format off */
  EXPECT_OPS(&p, 2,
    "MOUNT_TYPED /m1 tmpfs src=tmpfs",
    "BIND /m1/sub src=/srv set=ro f=rec",
    "REMOUNT_BIND /m1/sub src=/srv set=nosuid",
    "MOUNT_TYPED /m2 tmpfs src=tmpfs ms=ro,remount",
    "MOUNT_TYPED /etc tmpfs src=tmpfs ms=ro f=tmpcopyup,ro-later",
    "BIND /idm src=/srv f=rec,idmap,ridmap",
    "BIND /own src=/srv f=idmap,own-userns",
    "MOUNT_TYPED /dev tmpfs src=tmpfs ms=ro f=ro-later");
  /* clang-format on */
  assert_ptr_equal(p.ops[7].mount, &s->mounts[5]);
  assert_null(p.ops[8].mount);
  /* the read-only /dev is filled first, made read-only after pivot */
  EXPECT_OPS(&p, -1, "REMOUNT_RO /dev");
  berth_mount_plan_free(&p);
}

/* ---------------- propagation, masked and read-only paths ---------------- */

static void test_propagation(void **state)
{
  (void) state;
  static const struct {
    const char *prop, *first, *last;
  } cases[] = {
    { "", "PROPAGATION / rslave", "PIVOT /" },
    { "shared", "PROPAGATION / rshared", "PROPAGATION / shared" },
    { "rshared", "PROPAGATION / rshared", "PROPAGATION / rshared" },
    { "slave", "PROPAGATION / rslave", "PROPAGATION / slave" },
    { "private", "PROPAGATION / rslave", "PROPAGATION / private" },
    { "runbindable", "PROPAGATION / rslave", "PROPAGATION / runbindable" },
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    cleanup_free char *member = xasprintf("'rootfsPropagation': '%s'", cases[i].prop);
    cleanup_spec berth_spec_t *s = config("", member);
    struct berth_mount_plan p;
    plan_ok(s, false, false, &p);
    cleanup_free char *first = berth_mount_op_describe(&p.ops[0]);
    cleanup_free char *last = berth_mount_op_describe(&p.ops[p.n - 1]);
    assert_string_equal(first, cases[i].first);
    assert_string_equal(last, cases[i].last);
    if (cases[i].prop[0])
      assert_string_equal(p.ops[p.n - 1].what, "set rootfsPropagation on `/`");
    berth_mount_plan_free(&p);
  }
}

static void test_paths_after_pivot(void **state)
{
  (void) state;
  cleanup_free char *text =
    q("{'ociVersion': '1.2.0', 'root': {'path': 'rootfs', 'readonly': true},"
      " 'mounts': [{'destination': '/dev', 'type': 'tmpfs', 'options': ['ro', 'nosuid']}],"
      " 'linux': {'readonlyPaths': ['/proc/sys', '/ro'], 'maskedPaths': ['/proc/kcore', '/m'],"
      " 'rootfsPropagation': 'rprivate'}}");
  cleanup_spec berth_spec_t *s = parse(text);
  struct berth_mount_plan p;
  plan_ok(s, false, false, &p);
  /* clang-format off */
  EXPECT_OPS(&p, -8,
    "PIVOT /",
    "READONLY_PATH /proc/sys",
    "READONLY_PATH /ro",
    "MASK_PATH /proc/kcore",
    "MASK_PATH /m",
    "REMOUNT_RO /dev",
    "REMOUNT_RO /",
    "PROPAGATION / rprivate");
  /* clang-format on */
  berth_mount_plan_free(&p);
}

/* ---------------- /dev ---------------- */

static void test_devices(void **state)
{
  (void) state;
  cleanup_spec berth_spec_t *s = config(
    "", "'devices': [{'type': 'c', 'path': '/dev/null', 'major': 1, 'minor': 3, 'fileMode': 384},"
        " {'type': 'p', 'path': '/dev/fifo'}, {'type': 'b', 'path': '/dev/sub/disk', 'major': 8, 'minor': 0},"
        " {'type': 'c', 'path': '/dev/ptmx', 'major': 5, 'minor': 2}]");
  struct berth_mount_plan p;
  plan_ok(s, true, false, &p);
  /* the config's /dev/null replaces the default one, in the config's place; a fifo is made
   * even in a user namespace; a config /dev/ptmx keeps its node (no link) */
  /* clang-format off */
  EXPECT_OPS(&p, 2,
    "BIND_DEVICE /dev/zero c 1:5 0666",
    "BIND_DEVICE /dev/full c 1:7 0666",
    "BIND_DEVICE /dev/random c 1:8 0666",
    "BIND_DEVICE /dev/urandom c 1:9 0666",
    "BIND_DEVICE /dev/tty c 5:0 0666",
    "BIND_DEVICE /dev/null c 1:3 0600",
    "MKNOD_DEVICE /dev/fifo p -1:-1 0666",
    "BIND_DEVICE /dev/sub/disk b 8:0 0666",
    "BIND_DEVICE /dev/ptmx c 5:2 0666",
    "SYMLINK /dev/fd -> /proc/self/fd");
  /* clang-format on */
  assert_int_equal(find_op(&p, BERTH_MOUNT_OP_SYMLINK, "/dev/ptmx"), p.n);
  berth_mount_plan_free(&p);
}

/* a config that binds /dev from the host gets no devices and no links */
static void test_dev_bound(void **state)
{
  (void) state;
  static const char *const binds[] = {
    "{'destination': '/dev', 'type': 'bind', 'source': '/dev'}",
    "{'destination': '//dev/.', 'source': '/dev', 'options': ['rbind']}",
  };
  for (size_t i = 0; i < 2; i++) {
    cleanup_spec berth_spec_t *s = config(binds[i], "'devices': [{'type': 'p', 'path': '/dev/fifo'}]");
    assert_true(berth_rootfs_binds_dev(s));
    struct berth_mount_plan p;
    plan_ok(s, false, true, &p);
    EXPECT_OPS(&p, 3, "BIND_CONSOLE /dev/console", "PIVOT /");
    berth_mount_plan_free(&p);
  }
  cleanup_spec berth_spec_t *s = config("{'destination': '/dev', 'type': 'tmpfs', 'source': '/dev'}", NULL);
  assert_false(berth_rootfs_binds_dev(s));
}

/* ---------------- what the plan refuses, with the JSON path ---------------- */

struct refusal {
  const char *mounts; /* single quotes */
  const char *linux_; /* members of linux, or NULL */
  bool userns;
  const char *want; /* the whole message */
};

#define PROC_FIRST "{'destination': '/proc', 'type': 'proc', 'source': 'proc'}, "

static const struct refusal refusals[] = {
  { "{'destination': '/x', 'type': 'tmpfs', 'options': ['ro', '']}", NULL, false,
    "mount on `/x` (mounts[0].options[1]): mount option 1 is empty" },
  { "{'destination': '/x', 'type': 'tmpfs', 'options': ['ro', 'a\\u0001b']}", NULL, false,
    "mount on `/x` (mounts[0].options[1]): mount option 1 `a\001b`: contains a control character" },
  { "{'destination': '/x', 'type': 'tmpfs', 'options': ['=x']}", NULL, false,
    "mount on `/x` (mounts[0].options[0]): mount option 0 `=x`: empty name before `=`" },
  { "{'destination': '/x', 'source': '/srv', 'options': ['bind', 'idmap=uids=0-1000-1']}", NULL, false,
    "mount on `/x` (mounts[0].options[1]): mount option `idmap=uids=0-1000-1`: mappings in the option are "
    "not "
    "supported, use the mount's uidMappings and gidMappings" },
  { "{'destination': '/x', 'type': 'tmpfs', 'source': 'tmpfs', 'options': ['nosuid', 'idmap', 'nodev']}",
    NULL, true, "mount `tmpfs` on `/x` (mounts[0].options[1]): idmap is only supported on bind mounts" },
  { "{'destination': '/x', 'type': 'tmpfs', 'source': 'tmpfs',"
    " 'uidMappings': [{'containerID': 0, 'hostID': 1, 'size': 1}],"
    " 'gidMappings': [{'containerID': 0, 'hostID': 1, 'size': 1}]}",
    NULL, true, "mount `tmpfs` on `/x` (mounts[0].uidMappings): idmap is only supported on bind mounts" },
  { "{'destination': '/x', 'source': '/srv', 'options': ['rbind', 'ridmap', 'ro']}", NULL, false,
    "mount `/srv` on `/x` (mounts[0].options[1]): idmap needs uidMappings and gidMappings or a user "
    "namespace" },
  { "{'destination': '/x', 'type': 'proc', 'source': 'proc', 'options': ['tmpcopyup']}", NULL, false,
    "mount `proc` on `/x` (mounts[0].options[0]): tmpcopyup is only supported on tmpfs" },
  { "{'destination': '/x', 'source': 'none', 'options': ['ro']}", NULL, false,
    "mount `none` on `/x` (mounts[0].type): no type given and not a bind mount" },
  { "{'destination': '/x', 'type': 'bind', 'options': ['ro']}", NULL, false,
    "mount `` on `/x` (mounts[0].source): bind mount without a source" },
  /* CVE-2019-16884: once this plan put procfs on /proc */
  { PROC_FIRST "{'destination': '/proc', 'type': 'tmpfs', 'source': 'tmpfs'}", NULL, false,
    "mount `tmpfs` on `/proc` (mounts[1].destination): only procfs may be mounted on `/proc`" },
  { PROC_FIRST "{'destination': '//proc/./', 'type': 'cgroup2', 'source': 'c'}", NULL, false,
    "mount `cgroup2` on `//proc/./` (mounts[1].destination): only procfs may be mounted on `/proc`" },
  { PROC_FIRST "{'destination': '/proc//sys/.', 'type': 'tmpfs'}", NULL, false,
    "mount `tmpfs` on `/proc//sys/.` (mounts[1].destination): `/proc/sys` is inside /proc, which is not "
    "allowed" },
  { PROC_FIRST
    "{'destination': '/tmp', 'type': 'tmpfs'}, {'destination': '/proc/self/attr', 'source': '/srv',"
    " 'options': ['rbind']}",
    NULL, false,
    "mount `/srv` on `/proc/self/attr` (mounts[2].destination): `/proc/self/attr` is inside /proc, which is "
    "not "
    "allowed" },
  { "", "'devices': [{'type': 'c', 'path': '/dev/', 'major': 1, 'minor': 1}]", false,
    "device `/dev/` (linux.devices[0].path): not a file name" },
  { "", "'devices': [{'type': 'p', 'path': '/dev/..'}]", false,
    "device `/dev/..` (linux.devices[0].path): not a file name" },
  /* the first refusal in config order, whatever comes after it */
  { "{'destination': '/x', 'type': 'tmpfs', 'options': ['ro', 'idmap']}, {'destination': '/y', 'type': "
    "'bind'}",
    NULL, false, "mount `tmpfs` on `/x` (mounts[0].options[1]): idmap is only supported on bind mounts" },
};

static void test_refusals(void **state)
{
  (void) state;
  for (size_t i = 0; i < sizeof refusals / sizeof *refusals; i++) {
    const struct refusal *r = &refusals[i];
    cleanup_spec berth_spec_t *s = config(r->mounts, r->linux_);
    struct berth_mount_op sentinel;
    struct berth_mount_plan p = { .ops = &sentinel, .n = 7 };
    berth_error_t err = NULL;
    struct berth_mount_plan_input in = { .spec = s, .in_userns = r->userns };
    assert_int_equal(berth_mount_plan_build(&in, &p, &err), -1);
    assert_non_null(err);
    if (strcmp(err->msg, r->want) != 0) {
      print_error("case %zu:\n got: %s\nwant: %s\n", i, err->msg, r->want);
      fail();
    }
    berth_error_release(&err);
    /* nothing is handed out on failure */
    assert_ptr_equal(p.ops, &sentinel);
    assert_int_equal(p.n, 7);
  }
}

/* what the plan cannot decide stays with the executor (it looks where the path resolves) */
static void test_proc_left_to_executor(void **state)
{
  (void) state;
  static const char *const ok[] = {
    /* /proc is still whatever the image has (maybe a symlink elsewhere) */
    "{'destination': '/proc', 'type': 'tmpfs'}, " PROC_FIRST
    "{'destination': '/proc/cpuinfo', 'source': '/l', 'options': ['bind']}",
    "{'destination': '/proc/sys', 'type': 'tmpfs'}",
    /* a bind's source may be a procfs */
    PROC_FIRST "{'destination': '/proc', 'source': '/proc', 'options': ['rbind']}",
    /* ".." is resolved on the filesystem, not in the text */
    PROC_FIRST "{'destination': '/proc/../proc/sys', 'type': 'tmpfs'}",
    /* a mount on / or /proc may have replaced the procfs */
    PROC_FIRST "{'destination': '/', 'source': '/srv', 'options': ['rbind']},"
               " {'destination': '/proc/sys', 'type': 'tmpfs'}",
    PROC_FIRST "{'destination': '/proc', 'source': '/srv', 'options': ['rbind']},"
               " {'destination': '/proc/sys', 'type': 'tmpfs'}",
    /* allowed entries, and a procfs again */
    PROC_FIRST
    "{'destination': '/proc/uptime', 'source': '/l', 'options': ['bind']},"
    " {'destination': '/proc/sys/kernel/ns_last_pid', 'source': '/l', 'options': ['bind']}, " PROC_FIRST
    "{'destination': '/sys', 'type': 'sysfs'}",
  };
  for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
    cleanup_spec berth_spec_t *s = config(ok[i], NULL);
    struct berth_mount_plan p;
    plan_ok(s, false, false, &p);
    berth_mount_plan_free(&p);
  }
}

/* specs built in code (not from JSON) get the checks the parser makes too */
static void test_hand_built(void **state)
{
  (void) state;
  berth_spec_t s = { 0 };
  struct berth_spec_mount m = { .destination = "x", .type = "tmpfs" };
  s.mounts = &m;
  s.n_mounts = 1;
  struct berth_mount_plan_input in = { .spec = &s };
  struct berth_mount_plan p;
  berth_error_t err = NULL;
  assert_int_equal(berth_mount_plan_build(&in, &p, &err), -1);
  unit_assert_error_contains(&err, "mounts[0].destination: `x` is not an absolute path");
  m.destination = NULL;
  assert_int_equal(berth_mount_plan_build(&in, &p, &err), -1);
  unit_assert_error_contains(&err, "mounts[0]: no destination");
  m.destination = "/x";
  m.n_options = 2;
  assert_int_equal(berth_mount_plan_build(&in, &p, &err), -1);
  unit_assert_error_contains(&err,
                             "mount on `/x` (mounts[0].options): mount options: 2 options but no array");
  m.n_options = 0;
  struct berth_spec_device dev = { .type = 'x', .path = "/dev/x" };
  s.linux_.devices = &dev;
  s.linux_.n_devices = 1;
  assert_int_equal(berth_mount_plan_build(&in, &p, &err), -1);
  unit_assert_error_contains(&err, "device `/dev/x` (linux.devices[0].type): bad type `x`");
  dev.type = 'c';
  dev.path = "dev/x";
  assert_int_equal(berth_mount_plan_build(&in, &p, &err), -1);
  unit_assert_error_contains(&err, "device `dev/x` (linux.devices[0].path): not an absolute path");
  s.linux_.n_devices = 0;
  const char *masked[] = { "/ok", "rel" };
  s.linux_.masked_paths = masked;
  s.linux_.n_masked_paths = 2;
  assert_int_equal(berth_mount_plan_build(&in, &p, &err), -1);
  unit_assert_error_contains(&err, "linux.maskedPaths[1]: `rel` is not an absolute path");
  s.linux_.n_masked_paths = 1;
  assert_int_equal(berth_mount_plan_build(&in, &p, &err), 0);
  EXPECT_OPS(&p, -2, "PIVOT /", "MASK_PATH /ok");
  berth_mount_plan_free(&p);
}

/* fs data past a page: the option where it overflowed */
static void test_data_too_long(void **state)
{
  (void) state;
  cleanup_free char *big = xmalloc(3001);
  memset(big, 'a', 3000);
  big[3000] = '\0';
  cleanup_free char *mounts =
    xasprintf("{'destination': '/x', 'type': 'tmpfs', 'options': ['size=1m', 'x%s', 'y%s']}", big, big);
  cleanup_spec berth_spec_t *s = config(mounts, NULL);
  struct berth_mount_plan p;
  berth_error_t err = NULL;
  struct berth_mount_plan_input in = { .spec = s };
  assert_int_equal(berth_mount_plan_build(&in, &p, &err), -1);
  unit_assert_error_contains(
    &err, "mount on `/x` (mounts[0].options[2]): mount options: fs data is longer than 4095");
}

static void test_helpers(void **state)
{
  (void) state;
  static const char *const cases[][2] = {
    { "/dev", "/dev" }, { "//dev/", "/dev" }, { "/dev/.", "/dev" },     { "/./dev//pts/", "/dev/pts" },
    { "/", "/" },       { "", "/" },          { "/a/../b", "/a/../b" }, { "rel/x", "/rel/x" },
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    cleanup_free char *c = berth_mount_path_clean(cases[i][0]);
    assert_string_equal(c, cases[i][1]);
  }
  assert_true(berth_mount_proc_allowed("/proc/cpuinfo"));
  assert_false(berth_mount_proc_allowed("/proc/cpuinfo/x"));
  assert_string_equal(berth_mount_op_kind_name(BERTH_MOUNT_OP_MASK_PATH), "MASK_PATH");
  assert_string_equal(berth_mount_op_kind_name((enum berth_mount_op_kind) 99), "?");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_default_spec),
    cmocka_unit_test(test_default_rootless),
    cmocka_unit_test(test_console_and_cgroupns),
    cmocka_unit_test(test_option_order),
    cmocka_unit_test(test_mount_kinds),
    cmocka_unit_test(test_propagation),
    cmocka_unit_test(test_paths_after_pivot),
    cmocka_unit_test(test_devices),
    cmocka_unit_test(test_dev_bound),
    cmocka_unit_test(test_refusals),
    cmocka_unit_test(test_proc_left_to_executor),
    cmocka_unit_test(test_hand_built),
    cmocka_unit_test(test_data_too_long),
    cmocka_unit_test(test_helpers),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
