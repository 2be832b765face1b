#!/usr/bin/env bats
# Namespaces new and joined by path, hostname/domainname, the empty network, sysctl.

load helpers

host_ns() { readlink "/proc/self/ns/$1"; }

# nsholder UNSHARE-FLAG...: a host process in new namespaces; its pid goes to $holder
nsholder() {
  background unshare "$@" sleep 1000 >/dev/null 2>&1
  holder=${BG_PIDS[-1]}
  local sleep_exe
  sleep_exe=$(readlink -f "$(command -v sleep)")
  # (the readlink in sh -c: evaluated again at each try, not once before the first)
  wait_until 30 sh -c '[ "$(readlink "/proc/$1/exe" 2>/dev/null)" = "$2" ]' sh "$holder" "$sleep_exe"
}

@test "namespaces: the process is pid 1 of a new pid namespace" {
  set_args /probe ids
  run runtime run --bundle "$BUNDLE" "$ID"
  assert_success_out
  assert_kv pid 1
  assert_kv ppid 0
}

@test "namespaces: every listed namespace is new" {
  set_args /probe ns
  update_config '.linux.namespaces += [{"type": "cgroup"}]'
  run runtime run --bundle "$BUNDLE" "$ID"
  assert_success_out
  local t
  for t in pid net ipc uts mnt cgroup; do
    [ "$(probe_get "ns.$t")" != "$(host_ns "$t")" ] || { echo "ns.$t is the host's"; false; }
  done
  # not listed: shared with the runtime's caller
  assert_kv ns.user "$(host_ns user)"
}

@test "namespaces: a namespace left out of the list is the host's" {
  set_args /probe ns
  update_config '.linux.namespaces |= map(select(.type != "network" and .type != "ipc"))'
  run runtime run --bundle "$BUNDLE" "$ID"
  assert_success_out
  assert_kv ns.net "$(host_ns net)"
  assert_kv ns.ipc "$(host_ns ipc)"
  [ "$(probe_get ns.uts)" != "$(host_ns uts)" ]
}

@test "namespaces: hostname is set in the new uts namespace" {
  set_args /probe all
  update_config '.hostname = "box-1"'
  run runtime run --bundle "$BUNDLE" "$ID"
  assert_success_out
  assert_kv hostname box-1
  [ "$(hostname)" != box-1 ]
}

@test "namespaces: domainname is set in the new uts namespace" {
  requires_berth "runc 1.1.5 ignores domainname (runtime-spec 1.1)"
  set_args /probe all
  update_config '.hostname = "box-1" | .domainname = "example.test"'
  run runtime run --bundle "$BUNDLE" "$ID"
  assert_success_out
  assert_kv hostname box-1
  assert_kv domainname example.test
}

@test "namespaces: a hostname without a new uts namespace is an error" {
  update_config '.linux.namespaces |= map(select(.type != "uts"))'
  run runtime run --bundle "$BUNDLE" "$ID"
  assert_failure_out
  assert_nothing_left
}

@test "namespaces: the new network namespace has only lo" {
  set_args /probe net
  run runtime run --bundle "$BUNDLE" "$ID"
  assert_success_out
  assert_kv net_count 1
  [ -n "$(probe_get net.lo)" ]
}

@test "namespaces: lo is up in a new network namespace, as runc and crun make it" {
  set_args /probe net
  run runtime run --bundle "$BUNDLE" "$ID"
  assert_success_out
  assert_kv net.lo up
}

@test "namespaces: a server on 127.0.0.1 answers inside the container" {
  set_args sh -c 'nc -l -p 8123 -e echo pong >/dev/null 2>&1 & sleep 0.2; i=0; while [ $i -lt 50 ]; do r=$(echo ping | nc 127.0.0.1 8123 2>/dev/null) && [ -n "$r" ] && { echo "$r"; exit 0; }; i=$((i + 1)); sleep 0.1; done; exit 1'
  run runtime run --bundle "$BUNDLE" "$ID"
  assert_success_out
  [ "$output" = pong ]
}

@test "namespaces: lo of a network namespace joined by path is left as it is" {
  local holder
  nsholder --net
  set_args /probe net
  update_config '.linux.namespaces |= map(if .type == "network" then .path = $p else . end)' \
    --arg p "/proc/$holder/ns/net"
  run runtime run --bundle "$BUNDLE" "$ID"
  assert_success_out
  assert_kv net.lo down
}

@test "namespaces: a network namespace joined by path" {
  local holder
  nsholder --net
  set_args /probe ns
  update_config '.linux.namespaces |= map(if .type == "network" then .path = $p else . end)' \
    --arg p "/proc/$holder/ns/net"
  run runtime run --bundle "$BUNDLE" "$ID"
  assert_success_out
  assert_kv ns.net "$(readlink "/proc/$holder/ns/net")"
  [ "$(probe_get ns.net)" != "$(host_ns net)" ]
}

@test "namespaces: uts and ipc joined by path keep the holder's hostname" {
  local holder
  nsholder --uts --ipc
  nsenter -t "$holder" --uts hostname held-name
  set_args /probe all
  update_config 'del(.hostname) | .linux.namespaces |= map(
      if .type == "uts" then .path = $u elif .type == "ipc" then .path = $i else . end)' \
    --arg u "/proc/$holder/ns/uts" --arg i "/proc/$holder/ns/ipc"
  run runtime run --bundle "$BUNDLE" "$ID"
  assert_success_out
  assert_kv hostname held-name
}

@test "namespaces: join another container's pid, net and ipc namespaces" {
  set_args /probe sleep inf
  ct_run_detached
  local pid1
  pid1=$(ct_pid)
  set_args /probe all
  update_config '.linux.namespaces |= map(
      if .type == "pid" then .path = "/proc/\($p)/ns/pid"
      elif .type == "network" then .path = "/proc/\($p)/ns/net"
      elif .type == "ipc" then .path = "/proc/\($p)/ns/ipc" else . end)' --arg p "$pid1"
  run runtime run --bundle "$BUNDLE" "$ID-b"
  assert_success_out
  [ "$(probe_get pid)" -gt 1 ]
  set_args /probe ns
  run runtime run --bundle "$BUNDLE" "$ID-c"
  assert_kv ns.pid "$(readlink "/proc/$pid1/ns/pid")"
  assert_kv ns.net "$(readlink "/proc/$pid1/ns/net")"
}

@test "namespaces: a path to a namespace of another type is an error" {
  local holder
  nsholder --net
  update_config '.linux.namespaces |= map(if .type == "ipc" then .path = $p else . end)' \
    --arg p "/proc/$holder/ns/net"
  run runtime run --bundle "$BUNDLE" "$ID"
  assert_failure_out
  assert_nothing_left
}

@test "namespaces: a path that is not a namespace is an error" {
  update_config '.linux.namespaces |= map(if .type == "network" then .path = "/etc/hostname" else . end)'
  run runtime run --bundle "$BUNDLE" "$ID"
  assert_failure_out
  assert_nothing_left
}

@test "namespaces: a duplicated namespace type is an error" {
  update_config '.linux.namespaces += [{"type": "ipc"}]'
  run runtime run --bundle "$BUNDLE" "$ID"
  assert_failure_out
  assert_nothing_left
}

@test "namespaces: a new cgroup namespace shows the container's cgroup as /" {
  update_config '.linux.namespaces += [{"type": "cgroup"}]'
  set_args cat /proc/self/cgroup
  run runtime run --bundle "$BUNDLE" "$ID"
  assert_success_out
  # every hierarchy line ends in ":/" inside the container's own cgroup namespace
  run grep -v ':/$' <<<"$output"
  [ -z "$output" ] || { echo "$output"; false; }
}

@test "namespaces: a time namespace applies linux.timeOffsets" {
  requires_feature .linux.namespaces time
  # /proc/uptime follows CLOCK_BOOTTIME
  update_config '.linux.namespaces += [{"type": "time"}]
    | .linux.timeOffsets = {"boottime": {"secs": 864000, "nanosecs": 0}, "monotonic": {"secs": 86400, "nanosecs": 0}}'
  set_args cat /proc/uptime
  run runtime run --bundle "$BUNDLE" "$ID"
  assert_success_out
  [ "${output%%.*}" -ge 864000 ]
}

@test "namespaces: sysctl is applied inside the container's namespaces" {
  update_config '.linux.sysctl = {"net.ipv4.ip_forward": "1", "kernel.shmmax": "12345678", "kernel.domainname": "sysctl.test"}'
  set_args /bin/sh -c 'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax; /probe all'
  run runtime run --bundle "$BUNDLE" "$ID"
  assert_success_out
  [ "${lines[0]}" = 1 ]
  [ "${lines[1]}" = 12345678 ]
  assert_kv domainname sysctl.test
  [ "$(cat /proc/sys/kernel/shmmax)" != 12345678 ]
}

@test "namespaces: a net.* sysctl without a new network namespace is refused" {
  update_config '.linux.namespaces |= map(select(.type != "network")) | .linux.sysctl = {"net.ipv4.ip_forward": "1"}'
  local before
  before=$(cat /proc/sys/net/ipv4/ip_forward)
  run runtime run --bundle "$BUNDLE" "$ID"
  assert_failure_out
  [ "$(cat /proc/sys/net/ipv4/ip_forward)" = "$before" ]
  assert_nothing_left
}
