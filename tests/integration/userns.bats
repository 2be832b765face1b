#!/usr/bin/env bats
# A new user namespace with uid/gid mappings.

load helpers

setup() {
  setup_bundle
  # the container's root is uid 100000 on the host: it must be able to reach the bundle
  local d=$BUNDLE
  while [ "$d" != / ] && [ "$d" != /tmp ]; do
    chmod o+x "$d"
    d=$(dirname "$d")
  done
  update_config '.linux.namespaces += [{"type": "user"}]
    | .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    | .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]'
}

run_ok() {
  run runtime run --bundle "$BUNDLE" "$ID"
  assert_success_out
}

@test "userns: root in the container is uid 100000 on the host" {
  set_args /bin/sh -c 'cat /proc/self/uid_map /proc/self/gid_map; /probe ids'
  run_ok
  [ "$(echo ${lines[0]})" = "0 100000 65536" ]
  [ "$(echo ${lines[1]})" = "0 100000 65536" ]
  assert_kv uid 0
  assert_kv gid 0
}

@test "userns: the host sees the container process under the mapped ids" {
  set_args /probe sleep inf
  ct_run_detached
  local pid
  pid=$(ct_pid)
  [ "$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")" = 100000 ]
  [ "$(awk '/^Gid:/ {print $2}' "/proc/$pid/status")" = 100000 ]
  [ "$(readlink "/proc/$pid/ns/user")" != "$(readlink /proc/self/ns/user)" ]
}

@test "userns: a non-root user maps through the same ranges" {
  update_config '.process.user = {"uid": 1000, "gid": 1000}'
  set_args /probe sleep inf
  ct_run_detached
  local pid
  pid=$(ct_pid)
  [ "$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")" = 101000 ]
}

@test "userns: host-owned files appear owned by the overflow uid" {
  set_args /probe stat /probe
  run_ok
  assert_kv uid 65534
  assert_kv gid 65534
}

@test "userns: several mapping ranges" {
  update_config '.linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 1000},
      {"containerID": 1000, "hostID": 200000, "size": 1000}]
    | .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]'
  set_args cat /proc/self/uid_map
  run_ok
  [ "${#lines[@]}" -eq 2 ]
  [ "$(echo ${lines[1]})" = "1000 200000 1000" ]
}

@test "userns: capabilities are the namespace's, not the host's" {
  update_config '.process.capabilities = {"bounding": ["CAP_SYS_ADMIN", "CAP_MKNOD"],
      "permitted": ["CAP_SYS_ADMIN", "CAP_MKNOD"], "effective": ["CAP_SYS_ADMIN", "CAP_MKNOD"]}
    | .mounts += [{"destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]}]'
  mkdir "$ROOTFS/scratch"
  # CAP_SYS_ADMIN in the user namespace allows unshare; CAP_MKNOD there makes no device node
  set_args /bin/sh -c '/probe syscall unshare 0x04000000; /probe syscall mknod /scratch/null'
  run_ok
  [ "${lines[0]}" = syscall=ok ]
  [ "${lines[1]}" = syscall=EPERM ]
}

@test "userns: an extra device is bind-mounted from the host when mknod is not allowed" {
  update_config '.linux.devices = [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229}]'
  set_args /probe stat /dev/fuse
  run_ok
  assert_kv type chr
  assert_kv major 10
  assert_kv minor 229
}

@test "userns: mappings without a user namespace are an error" {
  requires_berth "runc 1.1.5 ignores mappings without a user namespace"
  update_config '.linux.namespaces |= map(select(.type != "user"))'
  run runtime run --bundle "$BUNDLE" "$ID"
  assert_failure_out
  assert_nothing_left
}

@test "userns: a user namespace without mappings is an error" {
  update_config 'del(.linux.uidMappings) | del(.linux.gidMappings)'
  run runtime run --bundle "$BUNDLE" "$ID"
  assert_failure_out
  assert_nothing_left
}

# the intermediate writes the offsets while it still may: once it is the new user namespace's
# root (and non-dumpable, CVE-2016-9962), /proc/self/timens_offsets is the host root's
@test "userns: a new time namespace's offsets apply with a new user namespace too" {
  requires_feature .linux.namespaces time
  update_config '.linux.namespaces += [{"type": "time"}]
    | .linux.timeOffsets = {"boottime": {"secs": 864000, "nanosecs": 0}, "monotonic": {"secs": 86400, "nanosecs": 0}}'
  set_args cat /proc/uptime
  run_ok
  [ "${output%%.*}" -ge 864000 ]
}
