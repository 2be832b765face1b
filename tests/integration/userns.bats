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

@test "userns: devices bound from the host are nosuid and noexec (crun)" {
  [ "$(runtime_name)" = runc ] && skip "runc 1.1.5 binds them with neither"
  update_config '.linux.devices = [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229}]'
  set_args /bin/sh -c 'for d in /dev/null /dev/zero /dev/urandom /dev/tty; do
      awk -v d=$d '"'"'$5 == d {print "opts=" $6}'"'"' /proc/self/mountinfo; done; echo x >/dev/null && echo null=ok'
  run_ok
  assert_kv null ok
  [ "$(grep -c '^opts=' <<<"$output")" -eq 4 ]
  local o
  for o in $(grep '^opts=' <<<"$output"); do
    [[ ,${o#opts=}, == *,nosuid,* && ,${o#opts=}, == *,noexec,* ]] || { echo "$output"; false; }
  done
}

@test "userns: a device the host does not have is an error that names it; nothing is left" {
  is_crun && skip "crun 1.8 makes a node of mode 000 on a tmpfs of its own instead"
  update_config '.linux.devices = [{"path": "/dev/berth-no-such-device", "type": "c", "major": 1, "minor": 3}]'
  run runtime run --bundle "$BUNDLE" "$ID"
  assert_failure_out
  assert_contains "$output" /dev/berth-no-such-device
  assert_nothing_left
  requires_berth "runc 1.1.5 reports the failed bind of a missing path"
  assert_contains "$output" "the host has no \`/dev/berth-no-such-device\` to bind"
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

# idmap_src: a host directory with a file of root's and one of uid 1000, for idmapped binds
idmap_src() {
  IDSRC=$BATS_TEST_TMPDIR/idsrc
  mkdir -p "$IDSRC"
  chmod 755 "$IDSRC"
  echo r >"$IDSRC/rootfile"
  echo u >"$IDSRC/userfile"
  chown 1000:1000 "$IDSRC/userfile"
  mkdir -p "$ROOTFS/mnt/id" # the rootfs is the host root's: the container's root may not mkdir there
}

@test "userns: an idmapped bind with the container's user namespace shows the owners on disk (crun)" {
  [ "$(runtime_name)" = runc ] && skip "runc 1.1.5 has no idmapped mounts"
  idmap_src
  update_config '.mounts += [{"destination": "/mnt/id", "type": "bind", "source": $s, "options": ["bind", "idmap"]}]' \
    --arg s "$IDSRC"
  set_args /bin/sh -c 'stat -c "%n=%u:%g" /mnt/id/rootfile /mnt/id/userfile; echo w >/mnt/id/rootfile && echo write=ok'
  run_ok
  assert_kv /mnt/id/rootfile 0:0
  assert_kv /mnt/id/userfile 1000:1000
  # the container's root writes root's file; on the host it stays root's
  assert_kv write ok
  [ "$(stat -c %u "$IDSRC/rootfile")" = 0 ]
}

@test "userns: an idmapped bind with mappings of its own (host ids, as the container's)" {
  [ "$(runtime_name)" = runc ] && skip "runc 1.1.5 has no idmapped mounts"
  idmap_src
  update_config '.mounts += [{"destination": "/mnt/id", "type": "bind", "source": $s, "options": ["rbind", "idmap"],
      "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
      "gidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}]}]' --arg s "$IDSRC"
  set_args /bin/sh -c 'stat -c "%n=%u:%g" /mnt/id/rootfile /mnt/id/userfile'
  run_ok
  assert_kv /mnt/id/rootfile 0:0
  assert_kv /mnt/id/userfile 1000:1000
}

@test "userns: a bind source under a directory of mode 000 still mounts (the runtime opens it, as runc)" {
  # root on the host may enter the directory; the container's root may not
  local locked=$BATS_TEST_TMPDIR/locked
  mkdir -p "$locked/inner"
  echo secret-ok >"$locked/inner/f"
  chmod 000 "$locked"
  mkdir -p "$ROOTFS/mnt/dir"
  touch "$ROOTFS/mnt/file"
  update_config '.mounts += [{"destination": "/mnt/dir", "type": "bind", "source": $d, "options": ["rbind", "ro"]},
      {"destination": "/mnt/file", "type": "bind", "source": $f, "options": ["bind", "ro"]}]' \
    --arg d "$locked/inner" --arg f "$locked/inner/f"
  set_args /bin/sh -c 'cat /mnt/dir/f /mnt/file; echo x >/mnt/file || echo ro=ok'
  run_ok
  [ "${lines[0]}" = secret-ok ]
  [ "${lines[1]}" = secret-ok ]
  assert_contains "$output" ro=ok
  chmod 700 "$locked"
}
