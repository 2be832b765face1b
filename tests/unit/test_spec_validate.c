/* config.json validation: each rule is one test that changes one thing in a valid base
 * config and asserts the exact message (file, JSON path, what is wrong). */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/xalloc.h"
#include "oci/spec.h"

/* single quotes become double quotes (see q) */
static const char base_config[] =
  "{'ociVersion': '1.2.0', 'root': {'path': 'rootfs'}, 'hostname': 'h',"
  " 'mounts': [{'destination': '/proc', 'type': 'proc', 'source': 'proc'},"
  "  {'destination': '/data', 'source': '/srv', 'options': ['rbind', 'idmap'],"
  "   'uidMappings': [{'containerID': 0, 'hostID': 1000, 'size': 10}],"
  "   'gidMappings': [{'containerID': 0, 'hostID': 1000, 'size': 10}]}],"
  " 'process': {'args': ['/bin/sh', '-c'], 'env': ['PATH=/bin'], 'cwd': '/', 'user': {'uid': 0, 'gid': 0},"
  "  'consoleSize': {'height': 1, 'width': 2},"
  "  'capabilities': {'bounding': ['CAP_CHOWN', 'CAP_KILL', 'CAP_SYS_ADMIN']},"
  "  'rlimits': [{'type': 'RLIMIT_NOFILE', 'soft': 1, 'hard': 2}, {'type': 'RLIMIT_CORE', 'soft': 0, 'hard': "
  "0}],"
  "  'ioPriority': {'class': 'IOPRIO_CLASS_RT', 'priority': 1},"
  "  'scheduler': {'policy': 'SCHED_FIFO', 'priority': 10, 'flags': ['SCHED_FLAG_RECLAIM']},"
  "  'execCPUAffinity': {'initial': '0', 'final': '0-1'}},"
  " 'hooks': {'prestart': [{'path': '/bin/hook'}], 'poststop': [{'path': '/bin/hook', 'timeout': 3}]},"
  " 'annotations': {'a': 'b'},"
  " 'linux': {'namespaces': [{'type': 'pid'}, {'type': 'network', 'path': '/run/netns/x'}, {'type': 'mount'},"
  "   {'type': 'uts'}, {'type': 'user'}, {'type': 'time'}],"
  "  'uidMappings': [{'containerID': 0, 'hostID': 1000, 'size': 1}],"
  "  'gidMappings': [{'containerID': 0, 'hostID': 1000, 'size': 1}],"
  "  'timeOffsets': {'boottime': {'secs': 1, 'nanosecs': 2}},"
  "  'devices': [{'type': 'c', 'path': '/dev/fuse', 'major': 10, 'minor': 229}],"
  "  'sysctl': {'kernel.msgmax': '1'}, 'rootfsPropagation': 'private',"
  "  'maskedPaths': ['/proc/kcore', '/sys/firmware'], 'readonlyPaths': ['/proc/sys'],"
  "  'personality': {'domain': 'LINUX'},"
  "  'resources': {'devices': [{'allow': false, 'access': 'rwm'}, {'allow': true, 'type': 'c', 'access': "
  "'rw'}],"
  "   'memory': {'limit': 1, 'swappiness': 100}, 'pids': {'limit': 5}, 'blockIO': {'weight': 10},"
  "   'rdma': {'mlx': {'hcaHandles': 1}}},"
  "  'seccomp': {'defaultAction': 'SCMP_ACT_ALLOW', 'architectures': ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'],"
  "   'flags': ['SECCOMP_FILTER_FLAG_LOG'], 'listenerPath': '/run/l.sock',"
  "   'syscalls': [{'names': ['mkdir'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 1},"
  "    {'names': ['read'], 'action': 'SCMP_ACT_ALLOW', 'args': [{'index': 1, 'value': 2, 'op': "
  "'SCMP_CMP_EQ'}]},"
  "    {'names': ['rmdir'], 'action': 'SCMP_ACT_NOTIFY'}]}}}";

struct rule {
  const char *name;
  const char *path;  /* "a.b[1].c" to replace (NULL: use `text` as the whole document) */
  const char *value; /* JSON in single quotes; NULL deletes the member */
  const char *want;  /* the message must contain this */
};

static const struct rule rules[] = {
  { "not JSON", NULL, "{'ociVersion': ", "config.json:1:15: invalid JSON" },
  { "not an object", NULL, "[]", "config.json: expected an object, got an array" },
  { "wrong type", "process.terminal", "'yes'",
    "config.json: process.terminal: expected a boolean, got a string" },
  { "out of range", "process.user.uid", "-1",
    "config.json: process.user.uid: -1 is out of range [0, 4294967295]" },
  { "array element type", "process.args[1]", "5",
    "config.json: process.args[1]: expected a string, got an integer" },
  { "ociVersion required", "ociVersion", NULL, "config.json: ociVersion: is required" },
  { "ociVersion 1.x", "ociVersion", "'2.0.0'",
    "config.json: ociVersion: unsupported version `2.0.0` (expected 1.x)" },
  { "ociVersion syntax", "ociVersion", "'1.x'", "config.json: ociVersion: unsupported version `1.x`" },
  { "root required", "root", NULL, "config.json: root: is required" },
  { "root.path required", "root.path", NULL, "config.json: root.path: is required" },
  { "root.path empty", "root.path", "''", "config.json: root.path: must not be empty" },
  { "args required", "process.args", NULL, "config.json: process.args: is required" },
  { "args non-empty", "process.args", "[]", "config.json: process.args: must not be empty" },
  { "cwd required", "process.cwd", NULL, "config.json: process.cwd: is required" },
  { "cwd absolute", "process.cwd", "'tmp'", "config.json: process.cwd: `tmp` is not an absolute path" },
  { "env form", "process.env[0]", "'PATH'",
    "config.json: process.env[0]: `PATH` is not of the form NAME=VALUE" },
  { "env empty name", "process.env[0]", "'=x'",
    "config.json: process.env[0]: `=x` is not of the form NAME=VALUE" },
  { "consoleSize width", "process.consoleSize.width", NULL,
    "config.json: process.consoleSize.width: is required" },
  { "umask", "process.user.umask", "512",
    "config.json: process.user.umask: 01000 is not a file mode creation mask" },
  { "capability unknown", "process.capabilities.bounding[2]", "'CAP_FOO'",
    "config.json: process.capabilities.bounding[2]: unknown capability \"CAP_FOO\"" },
  { "capability lower case", "process.capabilities.bounding[0]", "'cap_chown'",
    "config.json: process.capabilities.bounding[0]: unknown capability \"cap_chown\"" },
  { "rlimit unknown", "process.rlimits[0].type", "'RLIMIT_FOO'",
    "config.json: process.rlimits[0].type: unknown rlimit \"RLIMIT_FOO\"" },
  { "rlimit duplicate", "process.rlimits[1].type", "'RLIMIT_NOFILE'",
    "config.json: process.rlimits[1].type: duplicate rlimit \"RLIMIT_NOFILE\" (also in rlimits[0])" },
  { "rlimit soft > hard", "process.rlimits[0].soft", "3",
    "config.json: process.rlimits[0].soft: 3 is greater than the hard limit 2" },
  { "rlimit hard required", "process.rlimits[1].hard", NULL,
    "config.json: process.rlimits[1].hard: is required" },
  { "oomScoreAdj", "process.oomScoreAdj", "1001",
    "config.json: process.oomScoreAdj: 1001 is out of range [-1000, 1000]" },
  { "ioPriority class", "process.ioPriority.class", "'IOPRIO_CLASS_NONE'",
    "config.json: process.ioPriority.class: unknown io priority class \"IOPRIO_CLASS_NONE\"" },
  { "ioPriority priority", "process.ioPriority.priority", "8",
    "config.json: process.ioPriority.priority: 8 is out of range [0, 7]" },
  { "scheduler policy", "process.scheduler.policy", "'SCHED_FOO'",
    "config.json: process.scheduler.policy: unknown scheduler policy \"SCHED_FOO\"" },
  { "scheduler flag", "process.scheduler.flags[0]", "'SCHED_FLAG_FOO'",
    "config.json: process.scheduler.flags[0]: unknown scheduler flag \"SCHED_FLAG_FOO\"" },
  { "scheduler nice", "process.scheduler.nice", "20",
    "config.json: process.scheduler.nice: 20 is out of range [-20, 19]" },
  { "scheduler priority policy", "process.scheduler.policy", "'SCHED_OTHER'",
    "config.json: process.scheduler.priority: only SCHED_FIFO and SCHED_RR take a priority" },
  { "scheduler deadline fields", "process.scheduler.runtime", "5",
    "config.json: process.scheduler: runtime, deadline and period are only for SCHED_DEADLINE" },
  { "cpu affinity", "process.execCPUAffinity.initial", "'3-1'",
    "config.json: process.execCPUAffinity.initial: `3-1` is not a CPU list" },
  { "cpu affinity syntax", "process.execCPUAffinity.final", "'0,,1'",
    "config.json: process.execCPUAffinity.final: `0,,1` is not a CPU list" },
  { "mount destination required", "mounts[0].destination", NULL,
    "config.json: mounts[0].destination: is required" },
  { "mount destination empty", "mounts[0].destination", "''",
    "config.json: mounts[0].destination: must not be empty" },
  { "mount options type", "mounts[0].options", "'ro'",
    "config.json: mounts[0].options: expected an array, got a string" },
  { "mount idmap needs both", "mounts[1].gidMappings", NULL,
    "config.json: mounts[1].gidMappings: an idmapped mount needs both uidMappings and gidMappings" },
  { "id map size", "mounts[1].uidMappings[0].size", "0",
    "config.json: mounts[1].uidMappings[0].size: must be greater than 0" },
  { "id map overflow", "mounts[1].uidMappings[0].hostID", "4294967295",
    "config.json: mounts[1].uidMappings[0].size: hostID 4294967295 + size 10 goes past 4294967295" },
  { "id map field required", "linux.uidMappings[0].hostID", NULL,
    "config.json: linux.uidMappings[0].hostID: is required" },
  { "hook path absolute", "hooks.prestart[0].path", "'hook'",
    "config.json: hooks.prestart[0].path: `hook` is not an absolute path" },
  { "hook path required", "hooks.prestart[0].path", NULL,
    "config.json: hooks.prestart[0].path: is required" },
  { "hook timeout", "hooks.poststop[0].timeout", "0",
    "config.json: hooks.poststop[0].timeout: 0 is out of range [1, 2147483647]" },
  { "hook not object", "hooks.prestart[0]", "5",
    "config.json: hooks.prestart[0]: expected an object, got an integer" },
  { "annotation value", "annotations.a", "1",
    "config.json: annotations.a: expected a string, got an integer" },
  { "annotation empty key", "annotations", "{'': 'x'}", "config.json: annotations: a key must not be empty" },
  { "hostname needs uts", "linux.namespaces[3].type", "'ipc'",
    "config.json: hostname: setting the hostname needs a `uts` namespace in linux.namespaces" },
  { "namespaces type", "linux.namespaces", "{}",
    "config.json: linux.namespaces: expected an array, got an object" },
  { "namespace unknown", "linux.namespaces[0].type", "'foo'",
    "config.json: linux.namespaces[0].type: unknown namespace type \"foo\"" },
  { "namespace twice", "linux.namespaces[2].type", "'pid'",
    "config.json: linux.namespaces[2].type: namespace type \"pid\" is listed twice" },
  { "namespace type required", "linux.namespaces[0].type", NULL,
    "config.json: linux.namespaces[0].type: is required" },
  { "namespace path absolute", "linux.namespaces[1].path", "'netns/x'",
    "config.json: linux.namespaces[1].path: `netns/x` is not an absolute path" },
  { "mappings need userns", "linux.namespaces[4].type", "'ipc'",
    "config.json: linux.uidMappings: id mappings need a `user` namespace in linux.namespaces" },
  { "userns needs mappings", "linux.gidMappings", NULL,
    "config.json: linux.gidMappings: a new user namespace needs uidMappings and gidMappings" },
  { "time offsets clock", "linux.timeOffsets.realtime", "{'secs': 1}",
    "config.json: linux.timeOffsets.realtime: unknown clock \"realtime\" (expected monotonic or boottime)" },
  { "time offsets nanosecs", "linux.timeOffsets.boottime.nanosecs", "1000000000",
    "config.json: linux.timeOffsets.boottime.nanosecs: 1000000000 is out of range [0, 999999999]" },
  { "time offsets need timens", "linux.namespaces[5].type", "'ipc'",
    "config.json: linux.timeOffsets: time offsets need a `time` namespace in linux.namespaces" },
  { "device type", "linux.devices[0].type", "'x'",
    "config.json: linux.devices[0].type: unknown device type \"x\" (expected c, b, u or p)" },
  { "device major required", "linux.devices[0].major", NULL,
    "config.json: linux.devices[0].major: is required" },
  { "device minor required", "linux.devices[0].minor", NULL,
    "config.json: linux.devices[0].minor: is required" },
  { "device path absolute", "linux.devices[0].path", "'dev/fuse'",
    "config.json: linux.devices[0].path: `dev/fuse` is not an absolute path" },
  { "device path required", "linux.devices[0].path", NULL,
    "config.json: linux.devices[0].path: is required" },
  { "sysctl value", "linux.sysctl", "{'kernel.x': 1}",
    "config.json: linux.sysctl.kernel.x: expected a string, got an integer" },
  { "propagation", "linux.rootfsPropagation", "'sideways'",
    "config.json: linux.rootfsPropagation: unknown propagation \"sideways\"" },
  { "masked path absolute", "linux.maskedPaths[1]", "'sys/firmware'",
    "config.json: linux.maskedPaths[1]: `sys/firmware` is not an absolute path" },
  { "readonly path absolute", "linux.readonlyPaths[0]", "'proc'",
    "config.json: linux.readonlyPaths[0]: `proc` is not an absolute path" },
  { "personality domain", "linux.personality.domain", "'LINUX64'",
    "config.json: linux.personality.domain: unknown personality domain \"LINUX64\" (expected LINUX or "
    "LINUX32)" },
  { "personality flags", "linux.personality.flags", "['X']",
    "config.json: linux.personality.flags: unknown personality flag \"X\"" },
  { "seccomp defaultAction", "linux.seccomp.defaultAction", "'SCMP_ACT_FOO'",
    "config.json: linux.seccomp.defaultAction: unknown seccomp action \"SCMP_ACT_FOO\"" },
  { "seccomp defaultAction required", "linux.seccomp.defaultAction", NULL,
    "config.json: linux.seccomp.defaultAction: is required" },
  { "seccomp default notify", "linux.seccomp.defaultAction", "'SCMP_ACT_NOTIFY'",
    "config.json: linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action" },
  { "seccomp rule action", "linux.seccomp.syscalls[1].action", "'SCMP_ACT_NOPE'",
    "config.json: linux.seccomp.syscalls[1].action: unknown seccomp action \"SCMP_ACT_NOPE\"" },
  { "seccomp arch", "linux.seccomp.architectures[1]", "'SCMP_ARCH_Z80'",
    "config.json: linux.seccomp.architectures[1]: unknown seccomp architecture \"SCMP_ARCH_Z80\"" },
  { "seccomp flag", "linux.seccomp.flags[0]", "'SECCOMP_FILTER_FLAG_NEW_LISTENER'",
    "config.json: linux.seccomp.flags[0]: unknown seccomp flag \"SECCOMP_FILTER_FLAG_NEW_LISTENER\"" },
  { "seccomp op", "linux.seccomp.syscalls[1].args[0].op", "'SCMP_CMP_FOO'",
    "config.json: linux.seccomp.syscalls[1].args[0].op: unknown seccomp operator \"SCMP_CMP_FOO\"" },
  { "seccomp arg index", "linux.seccomp.syscalls[1].args[0].index", "6",
    "config.json: linux.seccomp.syscalls[1].args[0].index: 6 is out of range [0, 5]" },
  { "seccomp arg value required", "linux.seccomp.syscalls[1].args[0].value", NULL,
    "config.json: linux.seccomp.syscalls[1].args[0].value: is required" },
  { "seccomp names empty", "linux.seccomp.syscalls[0].names", "[]",
    "config.json: linux.seccomp.syscalls[0].names: must not be empty" },
  { "seccomp errnoRet", "linux.seccomp.syscalls[0].errnoRet", "65536",
    "config.json: linux.seccomp.syscalls[0].errnoRet: 65536 is out of range [0, 65535]" },
  { "seccomp listener absolute", "linux.seccomp.listenerPath", "'l.sock'",
    "config.json: linux.seccomp.listenerPath: `l.sock` is not an absolute path" },
  { "seccomp listener required", "linux.seccomp.listenerPath", NULL,
    "config.json: linux.seccomp.listenerPath: is required when SCMP_ACT_NOTIFY is used" },
  { "seccomp notify write", "linux.seccomp.syscalls[2].names[0]", "'write'",
    "config.json: linux.seccomp.syscalls[2].action: SCMP_ACT_NOTIFY cannot be used for the `write` syscall" },
  { "resources device allow", "linux.resources.devices[0].allow", NULL,
    "config.json: linux.resources.devices[0].allow: is required" },
  { "resources device type", "linux.resources.devices[1].type", "'p'",
    "config.json: linux.resources.devices[1].type: unknown device type \"p\" (expected a, c or b)" },
  { "resources device access", "linux.resources.devices[1].access", "'rwx'",
    "config.json: linux.resources.devices[1].access: `rwx` is not a subset of \"rwm\"" },
  { "resources swappiness", "linux.resources.memory.swappiness", "101",
    "config.json: linux.resources.memory.swappiness: 101 is out of range [0, 100]" },
  { "resources memory type", "linux.resources.memory.limit", "1.5",
    "config.json: linux.resources.memory.limit: expected an integer, got a number" },
  { "resources pids limit", "linux.resources.pids", "{}",
    "config.json: linux.resources.pids.limit: is required" },
  { "resources blkio weight", "linux.resources.blockIO.weight", "65536",
    "config.json: linux.resources.blockIO.weight: 65536 is out of range [0, 65535]" },
  { "resources throttle rate", "linux.resources.blockIO.throttleReadBpsDevice", "[{'major': 8, 'minor': 0}]",
    "config.json: linux.resources.blockIO.throttleReadBpsDevice[0].rate: is required" },
  { "resources hugepage", "linux.resources.hugepageLimits", "[{'limit': 1}]",
    "config.json: linux.resources.hugepageLimits[0].pageSize: is required" },
  { "resources rdma", "linux.resources.rdma.mlx.hcaHandles", "-1",
    "config.json: linux.resources.rdma.mlx.hcaHandles: -1 is out of range [0, 4294967295]" },
  { "resources network", "linux.resources.network", "{'priorities': [{'name': 'lo'}]}",
    "config.json: linux.resources.network.priorities[0].priority: is required" },
  { "resources unified", "linux.resources.unified", "{'memory.max': 5}",
    "config.json: linux.resources.unified.memory.max: expected a string, got an integer" },
};

static char *q(const char *s)
{
  char *t = xstrdup(s);
  for (char *p = t; *p; p++)
    if (*p == '\'')
      *p = '"';
  return t;
}

/* Walk "a.b[1].c" to the parent container and the last key/index. */
static void set_path(json_t *doc, const char *path, json_t *value)
{
  cleanup_free char *copy = xstrdup(path);
  json_t *cur = doc;
  char *p = copy;
  for (;;) {
    size_t n = strcspn(p, ".[");
    char sep = p[n];
    p[n] = '\0';
    bool last = sep == '\0';
    if (last) {
      if (value)
        assert_int_equal(json_object_set_new(cur, p, value), 0);
      else
        assert_int_equal(json_object_del(cur, p), 0);
      return;
    }
    cur = json_object_get(cur, p);
    p += n + 1;
    while (sep == '[') {
      size_t idx = strtoul(p, &p, 10);
      assert_int_equal(*p, ']');
      p++;
      sep = *p;
      if (sep == '\0') {
        if (value)
          assert_int_equal(json_array_set_new(cur, idx, value), 0);
        else
          assert_int_equal(json_array_remove(cur, idx), 0);
        return;
      }
      if (sep == '.')
        p++;
      else
        assert_int_equal(sep, '[');
      if (sep == '[')
        p++;
      cur = json_array_get(cur, idx);
    }
    assert_non_null(cur);
  }
}

static void test_base_is_valid(void **state)
{
  cleanup_free char *text = q(base_config);
  berth_error_t err = NULL;
  cleanup_spec berth_spec_t *spec = NULL;
  assert_int_equal(berth_spec_parse(text, strlen(text), "config.json", &spec, &err), 0);
  unit_assert_no_error(&err);
}

static void test_rule(void **state)
{
  const struct rule *r = *state;
  cleanup_free char *text = NULL;
  if (r->path == NULL) {
    text = q(r->value);
  } else {
    cleanup_free char *base = q(base_config);
    json_error_t je;
    json_t *doc = json_loads(base, 0, &je);
    assert_non_null(doc);
    json_t *value = NULL;
    if (r->value) {
      cleanup_free char *v = q(r->value);
      value = json_loads(v, JSON_DECODE_ANY, &je);
      if (value == NULL)
        fail_msg("%s: bad value JSON: %s", r->name, je.text);
    }
    set_path(doc, r->path, value);
    text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
  }
  berth_error_t err = NULL;
  berth_spec_t *spec = NULL;
  int rc = berth_spec_parse(text, strlen(text), "config.json", &spec, &err);
  if (rc == 0) {
    berth_spec_free(spec);
    fail_msg("%s: accepted %s", r->name, text);
  }
  assert_null(spec);
  unit_assert_error_contains(&err, r->want);
}

int main(void)
{
  size_t n = sizeof rules / sizeof rules[0];
  struct CMUnitTest *tests = xcalloc(n + 1, sizeof *tests);
  tests[0] = (struct CMUnitTest) cmocka_unit_test(test_base_is_valid);
  for (size_t i = 0; i < n; i++) {
    tests[i + 1] = (struct CMUnitTest) cmocka_unit_test_prestate(test_rule, (void *) &rules[i]);
    tests[i + 1].name = rules[i].name;
  }
  int r = _cmocka_run_group_tests("test_spec_validate", tests, n + 1, NULL, NULL);
  free(tests);
  return r;
}
