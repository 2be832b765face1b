/* config.json parser: a config with every field, the default specs, loading, big
 * integers, `exec --process` objects, and the features document. Validation rules are
 * in test_spec_validate.c. */
#include "unit.h"

#include <linux/ioprio.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/xalloc.h"
#include "json/json.h"
#include "oci/features.h"
#include "oci/names.h"
#include "oci/spec.h"

/* written with single quotes for readability; q() turns them into double quotes */
static const char full_config[] =
  "{'ociVersion': '1.2.0',"
  " 'root': {'path': 'rootfs', 'readonly': true},"
  " 'mounts': ["
  "  {'destination': '/proc', 'type': 'proc', 'source': 'proc'},"
  "  {'destination': '/data', 'type': 'bind', 'source': '/srv/data', 'options': ['rbind', 'ro', 'idmap'],"
  "   'uidMappings': [{'containerID': 0, 'hostID': 100000, 'size': 65536}],"
  "   'gidMappings': [{'containerID': 0, 'hostID': 200000, 'size': 65536}]},"
  "  {'destination': 'relative/dir', 'type': 'tmpfs', 'source': 'tmpfs'}],"
  " 'process': {'terminal': true, 'consoleSize': {'height': 24, 'width': 80},"
  "  'user': {'uid': 1000, 'gid': 1001, 'umask': 18, 'additionalGids': [5, 6, 4294967295], 'username': "
  "'alice'},"
  "  'args': ['/bin/sh', '-c', 'true'], 'env': ['PATH=/bin', 'EMPTY='], 'cwd': '/home/alice',"
  "  'capabilities': {'bounding': ['CAP_CHOWN', 'CAP_SYS_ADMIN', 'CAP_CHECKPOINT_RESTORE'],"
  "   'effective': ['CAP_KILL'], 'inheritable': [], 'permitted': ['CAP_KILL', 'CAP_NET_RAW'],"
  "   'ambient': ['CAP_NET_BIND_SERVICE']},"
  "  'rlimits': [{'type': 'RLIMIT_NOFILE', 'soft': 1024, 'hard': 4096},"
  "   {'type': 'RLIMIT_CORE', 'soft': 18446744073709551615, 'hard': 18446744073709551615}],"
  "  'noNewPrivileges': true, 'apparmorProfile': 'berth-default',"
  "  'selinuxLabel': 'system_u:system_r:container_t:s0', 'oomScoreAdj': -500,"
  "  'ioPriority': {'class': 'IOPRIO_CLASS_BE', 'priority': 4},"
  "  'scheduler': {'policy': 'SCHED_DEADLINE', 'nice': 5,"
  "   'flags': ['SCHED_FLAG_RESET_ON_FORK', 'SCHED_FLAG_DL_OVERRUN'],"
  "   'runtime': 10000000, 'deadline': 20000000, 'period': 30000000},"
  "  'execCPUAffinity': {'initial': '0-3,7', 'final': '1'}},"
  " 'hostname': 'box', 'domainname': 'example.org',"
  " 'hooks': {'prestart': [{'path': '/usr/bin/fix', 'args': ['fix', 'a1'], 'env': ['K=V'], 'timeout': 5}],"
  "  'createRuntime': [{'path': '/bin/a'}, {'path': '/bin/b'}], 'createContainer': [{'path': '/bin/c'}],"
  "  'startContainer': [{'path': '/bin/d'}], 'poststart': [{'path': '/bin/e'}],"
  "  'poststop': [{'path': '/bin/f', 'timeout': 1}]},"
  " 'annotations': {'com.example.key': 'value', 'org.other': 'x'},"
  " 'linux': {"
  "  'namespaces': [{'type': 'pid'}, {'type': 'network', 'path': '/var/run/netns/n1'}, {'type': 'mount'},"
  "   {'type': 'ipc'}, {'type': 'uts'}, {'type': 'user'}, {'type': 'cgroup'}, {'type': 'time'}],"
  "  'uidMappings': [{'containerID': 0, 'hostID': 100000, 'size': 65536}],"
  "  'gidMappings': [{'containerID': 0, 'hostID': 200000, 'size': 65536},"
  "   {'containerID': 65536, 'hostID': 300000, 'size': 1}],"
  "  'timeOffsets': {'monotonic': {'secs': 3600, 'nanosecs': 5}, 'boottime': {'secs': -60}},"
  "  'devices': [{'type': 'c', 'path': '/dev/fuse', 'major': 10, 'minor': 229, 'fileMode': 438, 'uid': 0,"
  "   'gid': 5}, {'type': 'p', 'path': '/dev/fifo'}, {'type': 'u', 'path': '/dev/u', 'major': 1, 'minor': 2},"
  "   {'type': 'b', 'path': '/dev/sda', 'major': 8, 'minor': 0, 'fileMode': 8630}],"
  "  'cgroupsPath': '/berth/box',"
  "  'resources': {"
  "   'devices': [{'allow': false, 'access': 'rwm'},"
  "    {'allow': true, 'type': 'c', 'major': 10, 'minor': 229, 'access': 'rw'},"
  "    {'allow': true, 'type': 'b', 'major': 8, 'access': 'm'}],"
  "   'memory': {'limit': 536870912, 'reservation': 268435456, 'swap': 1073741824, 'kernel': -1,"
  "    'kernelTCP': 0, 'swappiness': 60, 'disableOOMKiller': true, 'useHierarchy': false,"
  "    'checkBeforeUpdate': true},"
  "   'cpu': {'shares': 1024, 'quota': 50000, 'burst': 10000, 'period': 100000, 'realtimeRuntime': 950000,"
  "    'realtimePeriod': 1000000, 'cpus': '0-1', 'mems': '0', 'idle': 1},"
  "   'pids': {'limit': 100},"
  "   'blockIO': {'weight': 500, 'leafWeight': 300,"
  "    'weightDevice': [{'major': 8, 'minor': 0, 'weight': 600, 'leafWeight': 200}, {'major': 8, 'minor': "
  "16}],"
  "    'throttleReadBpsDevice': [{'major': 8, 'minor': 0, 'rate': 1048576}],"
  "    'throttleWriteBpsDevice': [{'major': 8, 'minor': 0, 'rate': 2097152}],"
  "    'throttleReadIOPSDevice': [{'major': 8, 'minor': 0, 'rate': 100}],"
  "    'throttleWriteIOPSDevice': [{'major': 8, 'minor': 0, 'rate': 200}]},"
  "   'hugepageLimits': [{'pageSize': '2MB', 'limit': 209715200}, {'pageSize': '1GB', 'limit': 0}],"
  "   'network': {'classID': 1048577, 'priorities': [{'name': 'eth0', 'priority': 500},"
  "    {'name': 'lo', 'priority': 0}]},"
  "   'rdma': {'mlx5_1': {'hcaHandles': 3, 'hcaObjects': 10000}},"
  "   'unified': {'memory.high': '1073741824', 'io.weight': 'default 100'}},"
  "  'sysctl': {'net.ipv4.ip_forward': '1', 'kernel.msgmax': '65536'},"
  "  'seccomp': {'defaultAction': 'SCMP_ACT_ERRNO', 'defaultErrnoRet': 38,"
  "   'architectures': ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],"
  "   'flags': ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW'],"
  "   'listenerPath': '/run/agent.sock', 'listenerMetadata': 'meta',"
  "   'syscalls': [{'names': ['read', 'write'], 'action': 'SCMP_ACT_ALLOW'},"
  "    {'names': ['personality'], 'action': 'SCMP_ACT_ALLOW', 'args': ["
  "     {'index': 0, 'value': 4294967295, 'op': 'SCMP_CMP_EQ'},"
  "     {'index': 5, 'value': 18446744073709551615, 'valueTwo': 16, 'op': 'SCMP_CMP_MASKED_EQ'}]},"
  "    {'names': ['mkdir'], 'action': 'SCMP_ACT_NOTIFY'},"
  "    {'names': ['ptrace'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 1},"
  "    {'names': ['kill'], 'action': 'SCMP_ACT_KILL_PROCESS'}]},"
  "  'rootfsPropagation': 'rslave',"
  "  'maskedPaths': ['/proc/kcore', '/sys/firmware'], 'readonlyPaths': ['/proc/sys'],"
  "  'mountLabel': 'system_u:object_r:container_file_t:s0',"
  "  'personality': {'domain': 'LINUX32', 'flags': []},"
  "  'intelRdt': {'closID': 'clos1', 'l3CacheSchema': 'L3:0=ffff'}},"
  " 'unknownTopLevel': {'ignored': [1, 2, 3]}}";

static char *q(const char *s)
{
  char *t = xstrdup(s);
  for (char *p = t; *p; p++)
    if (*p == '\'')
      *p = '"';
  return t;
}

static berth_spec_t *parse_ok(const char *text)
{
  berth_error_t err = NULL;
  berth_spec_t *spec = NULL;
  int r = berth_spec_parse(text, strlen(text), "config.json", &spec, &err);
  unit_assert_no_error(&err);
  assert_int_equal(r, 0);
  assert_non_null(spec);
  return spec;
}

static void check_full_process(const struct berth_spec_process *p)
{
  assert_true(p->terminal);
  assert_true(p->has_console_size);
  assert_int_equal(p->console_height, 24);
  assert_int_equal(p->console_width, 80);
  assert_int_equal(p->user.uid, 1000);
  assert_int_equal(p->user.gid, 1001);
  assert_true(p->user.has_umask);
  assert_int_equal(p->user.umask, 022);
  assert_int_equal(p->user.n_additional_gids, 3);
  assert_int_equal(p->user.additional_gids[2], UINT32_MAX);
  assert_string_equal(p->user.username, "alice");
  assert_int_equal(p->n_args, 3);
  assert_string_equal(p->args[2], "true");
  assert_null(p->args[3]);
  assert_int_equal(p->n_env, 2);
  assert_string_equal(p->env[1], "EMPTY=");
  assert_string_equal(p->cwd, "/home/alice");
  assert_true(p->caps.present);
  assert_int_equal(p->caps.bounding, (1ULL << 0) | (1ULL << 21) | (1ULL << 40));
  assert_int_equal(p->caps.effective, 1ULL << 5);
  assert_int_equal(p->caps.inheritable, 0);
  assert_int_equal(p->caps.permitted, (1ULL << 5) | (1ULL << 13));
  assert_int_equal(p->caps.ambient, 1ULL << 10);
  assert_int_equal(p->n_rlimits, 2);
  assert_int_equal(p->rlimits[0].resource, RLIMIT_NOFILE);
  assert_int_equal(p->rlimits[0].soft, 1024);
  assert_int_equal(p->rlimits[0].hard, 4096);
  assert_int_equal(p->rlimits[1].resource, RLIMIT_CORE);
  assert_true(p->rlimits[1].soft == UINT64_MAX && p->rlimits[1].hard == UINT64_MAX);
  assert_true(p->no_new_privileges);
  assert_string_equal(p->apparmor_profile, "berth-default");
  assert_string_equal(p->selinux_label, "system_u:system_r:container_t:s0");
  assert_true(p->has_oom_score_adj);
  assert_int_equal(p->oom_score_adj, -500);
  assert_true(p->io_priority.present);
  assert_int_equal(p->io_priority.class, IOPRIO_CLASS_BE);
  assert_int_equal(p->io_priority.priority, 4);
  assert_true(p->scheduler.present);
  assert_int_equal(p->scheduler.policy, 6 /* SCHED_DEADLINE */);
  assert_true(p->scheduler.has_nice);
  assert_int_equal(p->scheduler.nice, 5);
  assert_false(p->scheduler.has_priority);
  assert_int_equal(p->scheduler.flags, 0x01 | 0x04);
  assert_int_equal(p->scheduler.runtime, 10000000);
  assert_int_equal(p->scheduler.deadline, 20000000);
  assert_int_equal(p->scheduler.period, 30000000);
  assert_string_equal(p->exec_cpu_affinity_initial, "0-3,7");
  assert_string_equal(p->exec_cpu_affinity_final, "1");
}

static void check_full_top(const berth_spec_t *s)
{
  assert_string_equal(s->oci_version, "1.2.0");
  assert_string_equal(s->root_path, "rootfs");
  assert_true(s->root_readonly);
  assert_int_equal(s->n_mounts, 3);
  assert_string_equal(s->mounts[0].destination, "/proc");
  assert_string_equal(s->mounts[0].type, "proc");
  assert_null(s->mounts[0].options);
  assert_string_equal(s->mounts[1].source, "/srv/data");
  assert_int_equal(s->mounts[1].n_options, 3);
  assert_string_equal(s->mounts[1].options[2], "idmap");
  assert_null(s->mounts[1].options[3]);
  assert_int_equal(s->mounts[1].n_uid_mappings, 1);
  assert_int_equal(s->mounts[1].uid_mappings[0].host_id, 100000);
  assert_int_equal(s->mounts[1].gid_mappings[0].host_id, 200000);
  assert_int_equal(s->mounts[1].gid_mappings[0].size, 65536);
  /* a relative destination is taken relative to "/" (runc 1.1 does the same) */
  assert_string_equal(s->mounts[2].destination, "/relative/dir");
  assert_true(s->has_process);
  assert_string_equal(s->hostname, "box");
  assert_string_equal(s->domainname, "example.org");
  assert_int_equal(s->hooks.n[BERTH_HOOK_PRESTART], 1);
  const struct berth_spec_hook *h = &s->hooks.list[BERTH_HOOK_PRESTART][0];
  assert_string_equal(h->path, "/usr/bin/fix");
  assert_string_equal(h->args[1], "a1");
  assert_null(h->args[2]);
  assert_string_equal(h->env[0], "K=V");
  assert_true(h->has_timeout);
  assert_int_equal(h->timeout, 5);
  assert_int_equal(s->hooks.n[BERTH_HOOK_CREATE_RUNTIME], 2);
  assert_string_equal(s->hooks.list[BERTH_HOOK_CREATE_RUNTIME][1].path, "/bin/b");
  assert_false(s->hooks.list[BERTH_HOOK_CREATE_RUNTIME][1].has_timeout);
  assert_null(s->hooks.list[BERTH_HOOK_CREATE_RUNTIME][1].args);
  assert_string_equal(s->hooks.list[BERTH_HOOK_CREATE_CONTAINER][0].path, "/bin/c");
  assert_string_equal(s->hooks.list[BERTH_HOOK_START_CONTAINER][0].path, "/bin/d");
  assert_string_equal(s->hooks.list[BERTH_HOOK_POSTSTART][0].path, "/bin/e");
  assert_int_equal(s->hooks.list[BERTH_HOOK_POSTSTOP][0].timeout, 1);
  assert_int_equal(s->n_annotations, 2);
  assert_string_equal(s->annotation_keys[0], "com.example.key");
  assert_string_equal(s->annotation_values[0], "value");
}

static void check_full_linux(const struct berth_spec_linux *l)
{
  for (int t = 0; t < BERTH_NS__COUNT; t++)
    assert_true(l->ns[t].present);
  assert_string_equal(l->ns[BERTH_NS_NETWORK].path, "/var/run/netns/n1");
  assert_null(l->ns[BERTH_NS_PID].path);
  assert_int_equal(l->n_uid_mappings, 1);
  assert_int_equal(l->uid_mappings[0].size, 65536);
  assert_int_equal(l->n_gid_mappings, 2);
  assert_int_equal(l->gid_mappings[1].container_id, 65536);
  assert_int_equal(l->gid_mappings[1].host_id, 300000);
  assert_true(l->time_monotonic.present);
  assert_int_equal(l->time_monotonic.secs, 3600);
  assert_int_equal(l->time_monotonic.nanosecs, 5);
  assert_true(l->time_boottime.present);
  assert_int_equal(l->time_boottime.secs, -60);
  assert_int_equal(l->n_devices, 4);
  assert_int_equal(l->devices[0].type, 'c');
  assert_string_equal(l->devices[0].path, "/dev/fuse");
  assert_int_equal(l->devices[0].major, 10);
  assert_int_equal(l->devices[0].minor, 229);
  assert_true(l->devices[0].has_file_mode && l->devices[0].file_mode == 0666);
  assert_true(l->devices[0].has_uid && l->devices[0].uid == 0);
  assert_true(l->devices[0].has_gid && l->devices[0].gid == 5);
  assert_int_equal(l->devices[1].type, 'p');
  assert_int_equal(l->devices[1].major, -1);
  assert_int_equal(l->devices[1].minor, -1);
  assert_false(l->devices[1].has_file_mode || l->devices[1].has_uid || l->devices[1].has_gid);
  assert_int_equal(l->devices[2].type, 'u');
  assert_int_equal(l->devices[3].file_mode, 0666); /* 020666: the S_IFCHR bits are dropped */
  assert_string_equal(l->cgroups_path, "/berth/box");
  assert_int_equal(l->n_sysctl, 2);
  assert_string_equal(l->sysctl_keys[0], "net.ipv4.ip_forward");
  assert_string_equal(l->sysctl_values[0], "1");
  assert_int_equal(l->rootfs_propagation, MS_SLAVE | MS_REC);
  assert_int_equal(l->n_masked_paths, 2);
  assert_string_equal(l->masked_paths[1], "/sys/firmware");
  assert_string_equal(l->readonly_paths[0], "/proc/sys");
  assert_string_equal(l->mount_label, "system_u:object_r:container_file_t:s0");
  assert_true(l->personality.present);
  assert_int_equal(l->personality.domain, PER_LINUX32);
  assert_non_null(l->intel_rdt);
  assert_string_equal(json_string_value(json_object_get(l->intel_rdt, "closID")), "clos1");
}

static void check_full_seccomp(const struct berth_spec_seccomp *sc)
{
  assert_true(sc->present);
  assert_int_equal(sc->default_action, SCMP_ACT_ERRNO(0));
  assert_true(sc->has_default_errno_ret);
  assert_int_equal(sc->default_errno_ret, 38);
  assert_int_equal(sc->n_architectures, 3);
  assert_int_equal(sc->architectures[0], SCMP_ARCH_X86_64);
  assert_int_equal(sc->architectures[2], SCMP_ARCH_X32);
  assert_int_equal(sc->flags, SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW);
  assert_string_equal(sc->listener_path, "/run/agent.sock");
  assert_string_equal(sc->listener_metadata, "meta");
  assert_int_equal(sc->n_syscalls, 5);
  assert_int_equal(sc->syscalls[0].n_names, 2);
  assert_string_equal(sc->syscalls[0].names[1], "write");
  assert_int_equal(sc->syscalls[0].action, SCMP_ACT_ALLOW);
  assert_false(sc->syscalls[0].has_errno_ret);
  assert_int_equal(sc->syscalls[1].n_args, 2);
  assert_int_equal(sc->syscalls[1].args[0].value, 4294967295U);
  assert_int_equal(sc->syscalls[1].args[0].op, SCMP_CMP_EQ);
  assert_int_equal(sc->syscalls[1].args[1].index, 5);
  assert_true(sc->syscalls[1].args[1].value == UINT64_MAX);
  assert_int_equal(sc->syscalls[1].args[1].value_two, 16);
  assert_int_equal(sc->syscalls[1].args[1].op, SCMP_CMP_MASKED_EQ);
  assert_int_equal(sc->syscalls[2].action, SCMP_ACT_NOTIFY);
  assert_true(sc->syscalls[3].has_errno_ret);
  assert_int_equal(sc->syscalls[3].errno_ret, 1);
  assert_int_equal(sc->syscalls[4].action, SCMP_ACT_KILL_PROCESS);
  assert_true(json_is_object(sc->json));
  assert_non_null(json_object_get(sc->json, "syscalls"));
}

static void check_full_resources(const struct berth_spec_resources *r)
{
  assert_true(r->present);
  assert_int_equal(r->n_devices, 3);
  assert_false(r->devices[0].allow);
  assert_int_equal(r->devices[0].type, 'a');
  assert_int_equal(r->devices[0].major, -1);
  assert_string_equal(r->devices[0].access, "rwm");
  assert_int_equal(r->devices[1].type, 'c');
  assert_int_equal(r->devices[1].minor, 229);
  assert_int_equal(r->devices[2].minor, -1);
  assert_true(r->memory.limit.set && r->memory.limit.v == 536870912);
  assert_true(r->memory.kernel.set && r->memory.kernel.v == -1);
  assert_true(r->memory.kernel_tcp.set && r->memory.kernel_tcp.v == 0);
  assert_true(r->memory.swappiness.set && r->memory.swappiness.v == 60);
  assert_true(r->memory.has_disable_oom_killer && r->memory.disable_oom_killer);
  assert_true(r->memory.has_use_hierarchy && !r->memory.use_hierarchy);
  assert_true(r->memory.has_check_before_update && r->memory.check_before_update);
  assert_true(r->cpu.shares.set && r->cpu.shares.v == 1024);
  assert_true(r->cpu.quota.set && r->cpu.quota.v == 50000);
  assert_true(r->cpu.burst.set && r->cpu.burst.v == 10000);
  assert_true(r->cpu.realtime_runtime.v == 950000 && r->cpu.realtime_period.v == 1000000);
  assert_true(r->cpu.idle.set && r->cpu.idle.v == 1);
  assert_string_equal(r->cpu.cpus, "0-1");
  assert_true(r->pids.present && r->pids.limit == 100);
  assert_true(r->block_io.weight.set && r->block_io.weight.v == 500);
  assert_int_equal(r->block_io.n_weight_device, 2);
  assert_true(r->block_io.weight_device[0].leaf_weight.v == 200);
  assert_false(r->block_io.weight_device[1].weight.set);
  assert_int_equal(r->block_io.throttle_write_bps[0].rate, 2097152);
  assert_int_equal(r->block_io.throttle_read_iops[0].rate, 100);
  assert_int_equal(r->block_io.throttle_write_iops[0].rate, 200);
  assert_int_equal(r->n_hugepage_limits, 2);
  assert_string_equal(r->hugepage_limits[1].page_size, "1GB");
  assert_true(r->network.class_id.set && r->network.class_id.v == 1048577);
  assert_int_equal(r->network.n_priorities, 2);
  assert_string_equal(r->network.priorities[0].name, "eth0");
  assert_int_equal(r->n_rdma, 1);
  assert_string_equal(r->rdma[0].device, "mlx5_1");
  assert_true(r->rdma[0].hca_objects.set && r->rdma[0].hca_objects.v == 10000);
  assert_int_equal(r->n_unified, 2);
  assert_string_equal(r->unified_values[1], "default 100");
  assert_true(json_is_object(r->json));
}

static void test_full_config(void **state)
{
  cleanup_free char *text = q(full_config);
  cleanup_spec berth_spec_t *spec = parse_ok(text);
  check_full_top(spec);
  check_full_process(&spec->process);
  check_full_linux(&spec->linux_);
  check_full_seccomp(&spec->linux_.seccomp);
  check_full_resources(&spec->linux_.resources);
}

/* A minimal config: everything optional stays absent. */
static void test_minimal_config(void **state)
{
  cleanup_free char *text = q("{'ociVersion': '1.0.2-dev', 'root': {'path': '/abs/rootfs'}}");
  cleanup_spec berth_spec_t *spec = parse_ok(text);
  assert_false(spec->has_process);
  assert_false(spec->root_readonly);
  assert_int_equal(spec->n_mounts, 0);
  assert_null(spec->hostname);
  assert_false(spec->linux_.ns[BERTH_NS_PID].present);
  assert_false(spec->linux_.seccomp.present);
  assert_false(spec->linux_.resources.present);
  assert_int_equal(spec->linux_.rootfs_propagation, 0);
  assert_null(spec->hooks.list[BERTH_HOOK_PRESTART]);
}

/* `runc spec` of runc 1.1.5, ociVersion aside */
static const char runc_default[] =
  "{'ociVersion': '1.2.0', 'process': {'terminal': true, 'user': {'uid': 0, 'gid': 0}, 'args': ['sh'],"
  " 'env': ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'], 'cwd': '/',"
  " 'capabilities': {'bounding': ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],"
  "  'effective': ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],"
  "  'permitted': ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],"
  "  'ambient': ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE']},"
  " 'rlimits': [{'type': 'RLIMIT_NOFILE', 'hard': 1024, 'soft': 1024}], 'noNewPrivileges': true},"
  " 'root': {'path': 'rootfs', 'readonly': true}, 'hostname': 'runc',"
  " 'mounts': [{'destination': '/proc', 'type': 'proc', 'source': 'proc'},"
  "  {'destination': '/dev', 'type': 'tmpfs', 'source': 'tmpfs',"
  "   'options': ['nosuid', 'strictatime', 'mode=755', 'size=65536k']},"
  "  {'destination': '/dev/pts', 'type': 'devpts', 'source': 'devpts',"
  "   'options': ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5']},"
  "  {'destination': '/dev/shm', 'type': 'tmpfs', 'source': 'shm',"
  "   'options': ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k']},"
  "  {'destination': '/dev/mqueue', 'type': 'mqueue', 'source': 'mqueue', 'options': ['nosuid', 'noexec', "
  "'nodev']},"
  "  {'destination': '/sys', 'type': 'sysfs', 'source': 'sysfs', 'options': ['nosuid', 'noexec', 'nodev', "
  "'ro']},"
  "  {'destination': '/sys/fs/cgroup', 'type': 'cgroup', 'source': 'cgroup',"
  "   'options': ['nosuid', 'noexec', 'nodev', 'relatime', 'ro']}],"
  " 'linux': {'resources': {'devices': [{'allow': false, 'access': 'rwm'}]},"
  "  'namespaces': [{'type': 'pid'}, {'type': 'network'}, {'type': 'ipc'}, {'type': 'uts'}, {'type': "
  "'mount'}],"
  "  'maskedPaths': ['/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats',"
  "   '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/sys/firmware', '/proc/scsi'],"
  "  'readonlyPaths': ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger']}}";

static json_t *load_q(const char *s)
{
  cleanup_free char *text = q(s);
  json_error_t je;
  json_t *v = json_loads(text, 0, &je);
  if (v == NULL)
    fail_msg("bad test JSON: %s", je.text);
  return v;
}

static void test_default_spec(void **state)
{
  json_t *def = berth_spec_default(false);
  json_t *want = load_q(runc_default);
  assert_true(json_equal(def, want));
  /* same key order as runc writes */
  cleanup_free char *a = json_dumps(def, JSON_COMPACT), *b = json_dumps(want, JSON_COMPACT);
  assert_string_equal(a, b);
  cleanup_spec berth_spec_t *spec = parse_ok(a);
  assert_string_equal(spec->oci_version, BERTH_OCI_SPEC_VERSION);
  assert_int_equal(spec->process.caps.bounding, (1ULL << 29) | (1ULL << 5) | (1ULL << 10));
  assert_true(spec->linux_.ns[BERTH_NS_NETWORK].present);
  assert_false(spec->linux_.ns[BERTH_NS_USER].present);
  json_decref(def);
  json_decref(want);
}

/* runc spec --rootless: no network namespace, a user namespace mapping us to root,
 * sysfs bind-mounted, no gid=5 on devpts, no device cgroup rules */
static void test_default_spec_rootless(void **state)
{
  json_t *def = berth_spec_default(true);
  json_t *want = load_q(runc_default);
  json_t *linux_ = json_object_get(want, "linux");
  json_object_del(linux_, "resources");
  json_array_remove(json_object_get(linux_, "namespaces"), 1);
  json_array_append_new(json_object_get(linux_, "namespaces"), json_pack("{s:s}", "type", "user"));
  json_object_set_new(
    linux_, "uidMappings",
    json_pack("[{s:i, s:I, s:i}]", "containerID", 0, "hostID", (json_int_t) geteuid(), "size", 1));
  json_object_set_new(
    linux_, "gidMappings",
    json_pack("[{s:i, s:I, s:i}]", "containerID", 0, "hostID", (json_int_t) getegid(), "size", 1));
  json_t *mounts = json_object_get(want, "mounts");
  json_array_remove(json_object_get(json_array_get(mounts, 2), "options"), 5);
  json_array_set_new(mounts, 5,
                     json_pack("{s:s, s:s, s:s, s:[sssss]}", "destination", "/sys", "type", "none", "source",
                               "/sys", "options", "rbind", "nosuid", "noexec", "nodev", "ro"));
  assert_true(json_equal(def, want));
  cleanup_free char *a = json_dumps(def, JSON_COMPACT);
  cleanup_spec berth_spec_t *spec = parse_ok(a);
  assert_true(spec->linux_.ns[BERTH_NS_USER].present);
  assert_false(spec->linux_.ns[BERTH_NS_NETWORK].present);
  assert_int_equal(spec->linux_.uid_mappings[0].host_id, geteuid());
  json_decref(def);
  json_decref(want);
}

static void test_load(void **state)
{
  cleanup_free char *dir = unit_mkdtemp();
  berth_error_t err = NULL;
  berth_spec_t *spec = NULL;
  assert_int_equal(berth_spec_load(dir, &spec, &err), -1);
  unit_assert_error_contains(&err, "/config.json`: No such file or directory");

  cleanup_free char *path = xasprintf("%s/config.json", dir);
  const char *text = "{\"ociVersion\": \"1.2.0\",\n \"root\": {\"path\": 5}}";
  assert_int_equal(berth_write_file_atomic(path, text, strlen(text), 0644, &err), 0);
  assert_int_equal(berth_spec_load(dir, &spec, &err), -1);
  cleanup_free char *want = xasprintf("%s: root.path: expected a string, got an integer", path);
  unit_assert_error_contains(&err, want);

  text = "{\"ociVersion\": \"1.2.0\", \"root\": {\"path\": \"rootfs\"}}";
  assert_int_equal(berth_write_file_atomic(path, text, strlen(text), 0644, &err), 0);
  assert_int_equal(berth_spec_load(dir, &spec, &err), 0);
  assert_string_equal(spec->root_path, "rootfs");
  berth_spec_free(spec);
  unit_rm_rf(dir);
}

/* Integers above INT64_MAX survive where the spec says uint64, are range errors
 * elsewhere, and text inside strings is never touched. */
static void test_big_integers(void **state)
{
  cleanup_free char *ok = q("{'ociVersion': '1.2.0', 'root': {'path': 'r 18446744073709551615'},"
                            " 'annotations': {'a': '9223372036854775808 \\\\\\' 18446744073709551615'},"
                            " 'process': {'args': ['x'], 'cwd': '/', 'rlimits': [{'type': 'RLIMIT_AS',"
                            " 'soft': 9223372036854775808, 'hard': 18446744073709551615}]}}");
  cleanup_spec berth_spec_t *spec = parse_ok(ok);
  assert_string_equal(spec->root_path, "r 18446744073709551615");
  assert_true(spec->process.rlimits[0].soft == UINT64_C(9223372036854775808));
  assert_true(spec->process.rlimits[0].hard == UINT64_MAX);

  berth_error_t err = NULL;
  berth_spec_t *bad = NULL;
  cleanup_free char *t1 =
    q("{'ociVersion': '1.2.0', 'root': {'path': 'r'}, 'process': {'args': ['x'], 'cwd': '/',"
      " 'user': {'uid': 18446744073709551615}}}");
  assert_int_equal(berth_spec_parse(t1, strlen(t1), "config.json", &bad, &err), -1);
  unit_assert_error_contains(
    &err, "config.json: process.user.uid: 18446744073709551615 is out of range [0, 4294967295]");
  cleanup_free char *t2 = q("{'ociVersion': '1.2.0', 'root': {'path': 'r'}, 'linux': {'resources': {'memory':"
                            " {'limit': 9223372036854775808}}}}");
  assert_int_equal(berth_spec_parse(t2, strlen(t2), "config.json", &bad, &err), -1);
  unit_assert_error_contains(
    &err, "config.json: linux.resources.memory.limit: 9223372036854775808 is out of range");
  cleanup_free char *t3 = q("{'ociVersion': '1.2.0', 'root': {'path': 'r'}, 'x': 18446744073709551616}");
  assert_int_equal(berth_spec_parse(t3, strlen(t3), "config.json", &bad, &err), -1);
  unit_assert_error_contains(&err, "config.json:1:");
  assert_null(bad);
}

static void test_parse_process(void **state)
{
  json_t *obj = load_q("{'args': ['/bin/ls'], 'cwd': '/', 'user': {'uid': 7},"
                       " 'capabilities': {'effective': ['CAP_SYS_ADMIN']}}");
  struct berth_spec_process p;
  berth_error_t err = NULL;
  assert_int_equal(berth_spec_parse_process(obj, "process.json", &p, &err), 0);
  assert_int_equal(p.user.uid, 7);
  assert_int_equal(p.caps.effective, 1ULL << 21);
  assert_string_equal(p.args[0], "/bin/ls");
  berth_spec_process_free(&p);
  json_decref(obj);

  obj = load_q("{'args': ['/bin/ls'], 'cwd': 'rel'}");
  assert_int_equal(berth_spec_parse_process(obj, "process.json", &p, &err), -1);
  unit_assert_error_contains(&err, "process.json: cwd: `rel` is not an absolute path");
  json_decref(obj);
  obj = load_q("['x']");
  assert_int_equal(berth_spec_parse_process(obj, "process.json", &p, &err), -1);
  unit_assert_error_contains(&err, "process.json: expected an object, got an array");
  json_decref(obj);
}

static bool array_has(json_t *arr, const char *s)
{
  size_t i;
  json_t *v;
  json_array_foreach (arr, i, v)
    if (strcmp(json_string_value(v), s) == 0)
      return true;
  return false;
}

static void test_features(void **state)
{
  json_t *f = berth_features_json();
  assert_string_equal(json_string_value(json_object_get(f, "ociVersionMin")), "1.0.0");
  assert_string_equal(json_string_value(json_object_get(f, "ociVersionMax")), BERTH_OCI_SPEC_VERSION);
  assert_int_equal(json_array_size(json_object_get(f, "hooks")), 6);
  assert_true(array_has(json_object_get(f, "hooks"), "createContainer"));
  assert_true(array_has(json_object_get(f, "mountOptions"), "rro"));
  assert_true(array_has(json_object_get(f, "mountOptions"), "idmap"));
  json_t *l = json_object_get(f, "linux");
  assert_int_equal(json_array_size(json_object_get(l, "namespaces")), 8);
  assert_true(array_has(json_object_get(l, "namespaces"), "time"));
  assert_int_equal(json_array_size(json_object_get(l, "capabilities")), 41);
  json_t *sc = json_object_get(l, "seccomp");
  assert_true(json_is_true(json_object_get(sc, "enabled")));
  assert_true(array_has(json_object_get(sc, "actions"), "SCMP_ACT_KILL_PROCESS"));
  assert_true(array_has(json_object_get(sc, "operators"), "SCMP_CMP_MASKED_EQ"));
  assert_true(array_has(json_object_get(sc, "archs"), "SCMP_ARCH_X86_64"));
  json_t *known = json_object_get(sc, "knownFlags"), *supported = json_object_get(sc, "supportedFlags");
  assert_int_equal(json_array_size(known), 4);
  size_t i;
  json_t *v;
  json_array_foreach (supported, i, v)
    assert_true(array_has(known, json_string_value(v)));
  /* kernel 5.0+ knows SECCOMP_FILTER_FLAG_LOG; this host runs a far newer one */
  assert_true(array_has(supported, "SECCOMP_FILTER_FLAG_LOG"));
  assert_true(json_is_true(
    json_object_get(json_object_get(json_object_get(l, "mountExtensions"), "idmap"), "enabled")));
  assert_true(json_is_boolean(json_object_get(json_object_get(l, "cgroup"), "v2")));
  const char *ver = json_string_value(
    json_object_get(json_object_get(f, "annotations"), "io.github.seccomp.libseccomp.version"));
  assert_non_null(ver);
  assert_true(ver[0] >= '2');
  json_decref(f);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_full_config),   cmocka_unit_test(test_minimal_config),
    cmocka_unit_test(test_default_spec),  cmocka_unit_test(test_default_spec_rootless),
    cmocka_unit_test(test_load),          cmocka_unit_test(test_big_integers),
    cmocka_unit_test(test_parse_process), cmocka_unit_test(test_features),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
