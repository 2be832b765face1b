#!/usr/bin/env bats
# linux.cgroupsPath and linux.resources on this host's cgroup v1 hierarchies: where the
# cgroup goes, memory (OOM kill reported by `events`), pids, cpu quota and throttling, cpuset,
# devices, the freezer; impossible limits refused with nothing left behind.

load helpers
load cgroup_helpers

# the v1 hierarchies of this host (one directory per mount, name=systemd included)
v1_hierarchies() {
  awk '{for (i = 7; i < NF; i++) if ($i == "-") { if ($(i + 1) == "cgroup") print $5; break }}' \
    /proc/self/mountinfo | sort -u
}

start_ct() {
  ct_run_detached
  INIT=$(ct_pid)
  [ "$INIT" -gt 0 ]
}

# cpu_ticks PID: utime + stime
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
ticks_above() { [ "$(cpu_ticks "$INIT")" -gt "$1" ]; } # TICKS: the init has had more cpu

# the cgroup of every v1 controller line of /proc/PID/cgroup is PATH
assert_in_cgroup() {
  local pid=$1 want=$2 line n=0
  while IFS= read -r line; do
    [[ $line == 0::* ]] && continue
    n=$((n + 1))
    [ "${line#*:*:}" = "$want" ] || { echo "pid $pid: $line, expected $want" >&2; return 1; }
  done <"/proc/$pid/cgroup"
  [ "$n" -ge 8 ]
}

@test "cgroups: an absolute cgroupsPath is created in every hierarchy and removed by delete" {
  set_args /probe sleep inf
  start_ct
  assert_in_cgroup "$INIT" "$CG"
  local h
  for h in $(v1_hierarchies); do
    [ -d "$h$CG" ] || { echo "missing: $h$CG"; false; }
    grep -qx "$INIT" "$h$CG/cgroup.procs"
  done
  runtime kill "$ID" KILL
  wait_status stopped
  runtime delete "$ID"
  [ -z "$(cgroup_dirs "$CG")" ] || { echo "left: $(cgroup_dirs "$CG")"; false; }
}

@test "cgroups: a nested absolute cgroupsPath is created level by level" {
  CG=$CG/a/b
  update_config '.linux.cgroupsPath = $p' --arg p "$CG"
  set_args /probe sleep inf
  start_ct
  assert_in_cgroup "$INIT" "$CG"
  [ -d "/sys/fs/cgroup/memory$CG" ]
  [ -d "/sys/fs/cgroup/pids$CG" ]
  # a v1 cpuset level only takes tasks with cpus and mems: every level got its parent's
  [ "$(cat "/sys/fs/cgroup/cpuset$CG/cpuset.cpus")" = "$(cat /sys/fs/cgroup/cpuset/cpuset.cpus)" ]
  [ "$(cat "/sys/fs/cgroup/cpuset$CG/cpuset.mems")" = "$(cat /sys/fs/cgroup/cpuset/cpuset.mems)" ]
  runtime delete --force "$ID"
  [ -z "$(cgroup_dirs "$CG")" ] || { echo "left: $(cgroup_dirs "$CG")"; false; }
  # the parents (runc 1.1.5 leaves them; berth removes the levels it made: next test)
  CG=${CG%/a/b}
  remove_cgroups "$CG"
}

@test "cgroups: delete also removes the parent levels create made" {
  requires_berth "runc 1.1.5 removes only the leaf of a nested cgroupsPath"
  update_config '.linux.cgroupsPath = $p' --arg p "$CG/a/b"
  set_args /probe sleep inf
  start_ct
  [ -d "/sys/fs/cgroup/pids$CG/a/b" ]
  runtime delete --force "$ID"
  [ -z "$(cgroup_dirs "$CG")" ] || { echo "left: $(cgroup_dirs "$CG")"; false; }
}

@test "cgroups: a parent level two containers share goes with the last of them, whoever made it" {
  requires_berth "runc 1.1.5 removes only the leaf of a nested cgroupsPath"
  update_config '.linux.cgroupsPath = $p' --arg p "$CG/a"
  set_args /probe sleep inf
  start_ct
  # a second container of the same bundle under the same parent
  local id2=${ID}-2
  jq --arg p "$CG/b" '.linux.cgroupsPath = $p' "$BUNDLE/config.json" >"$BATS_TEST_TMPDIR/c2.json"
  cp "$BUNDLE/config.json" "$BATS_TEST_TMPDIR/c1.json"
  cp "$BATS_TEST_TMPDIR/c2.json" "$BUNDLE/config.json"
  runtime run --detach --bundle "$BUNDLE" "$id2" </dev/null >/dev/null 2>&1
  cp "$BATS_TEST_TMPDIR/c1.json" "$BUNDLE/config.json"
  [ -d "/sys/fs/cgroup/pids$CG/b" ]
  # the maker first: the level stays for the other one, then goes with it
  runtime delete --force "$ID"
  [ -d "/sys/fs/cgroup/pids$CG" ]
  [ ! -e "/sys/fs/cgroup/pids$CG/a" ]
  runtime delete --force "$id2"
  [ -z "$(cgroup_dirs "$CG")" ] || { echo "left: $(cgroup_dirs "$CG")"; false; }
  # no note of the level is left (as root the notes of every runtime root live in one place)
  [ -z "$(ls /run/berth-cgroup-parents "$ROOT/.cgroup-parents" 2>/dev/null | grep -F "${CG#/}")" ]
}

@test "cgroups: a container under another --root leaves nothing in /run/berth, nor a note once its levels are gone" {
  # the notes of the parent levels create makes live outside every runtime root and go with
  # the last of them; /run/berth (the default root) is not ours to write with --root elsewhere
  local before=absent
  [ -d /run/berth ] && before=$(ls -A /run/berth | grep -v '^\.cgroup-parents$' | sort | paste -sd' ')
  update_config '.linux.cgroupsPath = $p' --arg p "$CG/a/b"
  set_args /probe sleep inf
  start_ct
  runtime delete --force "$ID"
  is_berth || remove_cgroups "$CG" # runc 1.1.5 leaves the parent levels
  [ -z "$(cgroup_dirs "$CG")" ] || { echo "left: $(cgroup_dirs "$CG")"; false; }
  if [ "$before" = absent ]; then
    [ ! -e /run/berth ]
  else
    [ ! -e /run/berth/.cgroup-parents ] || [ -z "$(ls -A /run/berth/.cgroup-parents | grep -F "${CG#/}")" ]
  fi
  [ -z "$(ls /run/berth-cgroup-parents "$ROOT/.cgroup-parents" 2>/dev/null | grep -F "${CG#/}")" ]
}

@test "cgroups: the note of a level removed by someone else goes with the next container" {
  requires_berth "runc 1.1.5 keeps no notes (it never removes a parent level)"
  update_config '.linux.cgroupsPath = $p' --arg p "$CG/a/b"
  set_args /probe sleep inf
  start_ct
  # a level of the parents that berth made and noted
  ls /run/berth-cgroup-parents | grep -qF "${CG#/}%2Fa"
  # the container leaves its cgroup behind (killed state dir), someone removes the levels
  remove_cgroups "$CG"
  rm -rf "${ROOT:?}/$ID"
  # (a container of another suite, running beside this one, may drop the stale note first)
  [ -n "$(ls /run/berth-cgroup-parents 2>/dev/null | grep -F "${CG#/}")" ] ||
    skip "another container on this machine dropped the stale note first"
  # the next container (any cgroup) drops the stale notes when it goes
  update_config '.linux.cgroupsPath = $p' --arg p "$CG-next"
  start_ct
  runtime delete --force "$ID"
  remove_cgroups "$CG-next"
  [ -z "$(ls /run/berth-cgroup-parents 2>/dev/null | grep -F "${CG#/}")" ]
}

@test "cgroups: a relative cgroupsPath goes under each hierarchy's root (as root)" {
  requires_berth "runc puts a relative path under its own cgroup (here the session's memory cgroup)"
  # not even with BERTH_ONLY=run: another runtime would write into the session's own cgroup
  is_berth || skip "not run under $(runtime_name): it would create cgroups under the caller's own"
  local rel=${CG#/}-rel/ctr
  CG=/${rel%/ctr}
  update_config '.linux.cgroupsPath = $p' --arg p "$rel"
  set_args /probe sleep inf
  start_ct
  assert_in_cgroup "$INIT" "/$rel"
  local h
  for h in $(v1_hierarchies); do
    [ -d "$h/$rel" ] || { echo "missing: $h/$rel"; false; }
  done
  # never under the caller's own cgroup (this session's memory cgroup is /process_api/...)
  [ -z "$(find /sys/fs/cgroup/memory/process_api -maxdepth 3 -name "${rel%/ctr}" 2>/dev/null)" ]
  runtime delete --force "$ID"
  [ -z "$(cgroup_dirs "/$rel")" ]
}

@test "cgroups: without cgroupsPath the cgroup is /<id> in every hierarchy (as root)" {
  requires_berth "runc puts the default (relative) path under its own cgroup"
  # not even with BERTH_ONLY=run: another runtime would write into the session's own cgroup
  is_berth || skip "not run under $(runtime_name): it would create cgroups under the caller's own"
  update_config 'del(.linux.cgroupsPath)'
  CG=/$ID
  set_args /probe sleep inf
  start_ct
  assert_in_cgroup "$INIT" "/$ID"
  [ -d "/sys/fs/cgroup/memory/$ID" ]
  runtime delete --force "$ID"
  [ -z "$(cgroup_dirs "/$ID")" ]
}

@test "cgroups: memory limit enforced — a hog is OOM-killed (137) and events reports oom" {
  update_config '.linux.resources.memory = {"limit": 52428800, "swap": 52428800}'
  set_args /bin/sh -c 'while [ ! -e /dev/shm/go ]; do sleep 0.1; done; head -c 300m /dev/zero | tail'
  runtime run --keep --bundle "$BUNDLE" "$ID" </dev/null >"$CT_OUT" 2>"$CT_ERR" &
  local rpid=$! ev=$BATS_TEST_TMPDIR/events.out
  wait_status running
  INIT=$(ct_pid)
  # the limit, on disk and inside
  [ "$(cat "/sys/fs/cgroup/memory$CG/memory.limit_in_bytes")" = 52428800 ]
  run runtime exec "$ID" cat /sys/fs/cgroup/memory/memory.limit_in_bytes
  assert_success_out
  [ "$output" = 52428800 ]
  # events listens (a first stats line proves it runs) before the hog starts
  background runtime events --interval 1s "$ID" >"$ev" 2>"$ev.err"
  wait_until 30 file_has "$ev" '"type":"stats"'
  touch "/proc/$INIT/root/dev/shm/go"
  local rc=0
  wait "$rpid" || rc=$?
  [ "$rc" -eq 137 ] || { echo "run exited $rc, expected 137"; cat "$CT_ERR"; false; }
  wait_until 30 file_has "$ev" '"type":"oom"'
  local oom
  oom=$(grep -m1 '"type":"oom"' "$ev")
  [ "$(jq -r .type <<<"$oom")" = oom ]
  [ "$(jq -r .id <<<"$oom")" = "$ID" ]
  # the kernel counted it in the container's cgroup
  grep -qx 'oom_kill [1-9][0-9]*' "/sys/fs/cgroup/memory$CG/memory.oom_control"
  runtime delete "$ID"
}

@test "cgroups: a memory limit too small for the setup itself is an error naming the limit; nothing left" {
  update_config '.linux.resources.memory = {"limit": 4096, "swap": 4096}'
  run runtime run --bundle "$BUNDLE" "$ID"
  assert_failure_out
  if is_berth; then
    assert_contains "$output" "config.json: linux.resources.memory.limit: 4096 bytes is too little"
    assert_contains "$output" "OOM killer"
  fi
  assert_nothing_left
  [ -z "$(cgroup_dirs "$CG")" ]
}

@test "cgroups: pids limit enforced — a fork storm stops at the limit" {
  update_config '.linux.resources.pids = {"limit": 12}'
  set_args /probe sleep inf
  start_ct
  [ "$(cat "/sys/fs/cgroup/pids$CG/pids.max")" = 12 ]
  run runtime exec "$ID" cat /sys/fs/cgroup/pids/pids.max
  [ "$output" = 12 ]
  # the storm: a shell forks sleepers until fork fails (and the shell gives up)
  run runtime exec "$ID" /bin/sh -c 'i=0; while [ $i -lt 100 ]; do /probe sleep inf </dev/null >/dev/null 2>&1 & i=$((i+1)); done'
  assert_failure_out
  assert_contains "$output" fork
  # init + 10 sleepers are left: the shell was the 12th
  wait_until 30 sh -c "[ \$(wc -l <'/sys/fs/cgroup/pids$CG/cgroup.procs') -eq 11 ]" || {
    echo "tasks: $(wc -l <"/sys/fs/cgroup/pids$CG/cgroup.procs")"
    false
  }
  [ "$(cat "/sys/fs/cgroup/pids$CG/pids.current")" -le 12 ]
  grep -qx 'max [1-9][0-9]*' "/sys/fs/cgroup/pids$CG/pids.events"
  [ "$(pgrep -c -P "$INIT")" -eq 10 ]
}

@test "cgroups: cpu quota visible inside and throttling counted" {
  update_config '.linux.resources.cpu = {"quota": 10000, "period": 100000, "shares": 512}'
  set_args /bin/sh -c 'while :; do :; done'
  local t0
  t0=$(date +%s%N)
  start_ct
  [ "$(cat "/sys/fs/cgroup/cpu$CG/cpu.cfs_quota_us")" = 10000 ]
  run runtime exec "$ID" cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us \
    /sys/fs/cgroup/cpu/cpu.shares
  assert_success_out
  [ "${lines[0]}" = 10000 ]
  [ "${lines[1]}" = 100000 ]
  [ "${lines[2]}" = 512 ]
  throttled() { [ "$(awk '$1 == "nr_throttled" {print $2}' "/sys/fs/cgroup/cpu$CG/cpu.stat")" -gt 0 ]; }
  wait_until 30 throttled
  run runtime events --stats "$ID"
  assert_success_out
  local t
  t=$(jq -c .data.cpu.throttling <<<"$output")
  [ "$(jq -r '.periods // 0' <<<"$t")" -gt 0 ] || { echo "throttling: $t"; false; }
  # runc's (and containerd's go-runc) field names
  [ "$(jq -r '.throttledPeriods // 0' <<<"$t")" -gt 0 ] || { echo "throttling: $t"; false; }
  [ "$(jq -r '.throttledTime // 0' <<<"$t")" -gt 0 ] || { echo "throttling: $t"; false; }
  # 10% of one cpu: 10 ticks a second of wall time at most (and a little for the start)
  local ms ticks
  ticks=$(cpu_ticks "$INIT")
  ms=$((($(date +%s%N) - t0) / 1000000))
  [ "$ticks" -lt $((ms / 100 + 45)) ] || { echo "$ticks ticks in $ms ms"; false; }
}

@test "cgroups: cpuset honoured by init and exec'd processes" {
  local last
  last=$(($(nproc) - 1))
  update_config '.linux.resources.cpu = {"cpus": $c, "mems": "0"}' --arg c "$last"
  set_args /bin/sh -c 'grep Cpus_allowed_list /proc/self/status; exec /probe sleep inf'
  start_ct
  [ "$(cat "/sys/fs/cgroup/cpuset$CG/cpuset.cpus")" = "$last" ]
  [ "$(cat "/sys/fs/cgroup/cpuset$CG/cpuset.mems")" = 0 ]
  [ "$(awk '/^Cpus_allowed_list:/ {print $2}' "/proc/$INIT/status")" = "$last" ]
  wait_output Cpus_allowed_list
  [ "$(awk '{print $2}' "$CT_OUT")" = "$last" ]
  run runtime exec "$ID" /bin/sh -c 'cat /sys/fs/cgroup/cpuset/cpuset.cpus; grep Cpus_allowed_list /proc/self/status'
  assert_success_out
  [ "${lines[0]}" = "$last" ]
  [ "$(echo ${lines[1]})" = "Cpus_allowed_list: $last" ]
}

# devices: mknod is allowed (runc's default list), opening needs a rule; /dev/kmsg (c 1:11)
# opened write-only needs no capability, so the cgroup alone decides
devices_run() { # RULES-JSON: appended to resources.devices; the container mknods /dev/kmsg
  update_config '.linux.resources.devices += $r
    | .process.capabilities.bounding |= (. + ["CAP_MKNOD"] | unique)
    | .process.capabilities.effective |= (. + ["CAP_MKNOD"] | unique)
    | .process.capabilities.permitted |= (. + ["CAP_MKNOD"] | unique)' --argjson r "$1"
  set_args /bin/sh -c 'mknod /dev/kmsg c 1 11 && echo mknod=ok; /probe open /dev/kmsg w; /probe open /dev/null w'
  run runtime run --bundle "$BUNDLE" "$ID"
}

@test "cgroups: devices — a device without a rule cannot be opened" {
  devices_run '[]'
  assert_success_out
  assert_kv mknod ok
  [ "${lines[1]}" = open=EPERM ]
  [ "${lines[2]}" = open=ok ]
}

@test "cgroups: devices — an allow rule grants its access, a later deny wins" {
  devices_run '[{"allow": true, "type": "c", "major": 1, "minor": 11, "access": "w"}]'
  assert_success_out
  assert_kv mknod ok
  [ "${lines[1]}" = open=ok ]
  devices_run '[{"allow": false, "type": "c", "major": 1, "minor": 11, "access": "w"}]'
  assert_success_out
  assert_kv mknod ok
  [ "${lines[1]}" = open=EPERM ]
}

@test "cgroups: devices — the container's devices.list holds the rules, not a *:*" {
  update_config '.linux.resources.devices += [{"allow": true, "type": "c", "major": 1, "minor": 11, "access": "w"}]'
  set_args /probe sleep inf
  start_ct
  local list=/sys/fs/cgroup/devices$CG/devices.list
  grep -qx 'c 1:11 w' "$list" || { cat "$list"; false; }
  grep -qx 'c 1:3 rwm' "$list"
  ! grep -q '^a ' "$list" || false
}

@test "cgroups: the freezer stops a busy loop and resume restarts it" {
  set_args /bin/sh -c 'while :; do :; done'
  start_ct
  local a b
  a=$(cpu_ticks "$INIT")
  wait_until 30 ticks_above "$a"
  runtime pause "$ID"
  [ "$(ct_state)" = paused ]
  [ "$(cat "/sys/fs/cgroup/freezer$CG/freezer.state")" = FROZEN ]
  a=$(cpu_ticks "$INIT")
  sleep 0.5
  b=$(cpu_ticks "$INIT")
  [ "$b" -eq "$a" ] || { echo "cpu ticks advanced while paused: $a -> $b"; false; }
  runtime resume "$ID"
  [ "$(ct_state)" = running ]
  [ "$(cat "/sys/fs/cgroup/freezer$CG/freezer.state")" = THAWED ]
  wait_until 30 ticks_above "$b"
}

# impossible limits: a clear error, and create leaves nothing
assert_no_container() {
  assert_nothing_left
  [ -z "$(cgroup_dirs "$CG")" ] || { echo "cgroup left: $(cgroup_dirs "$CG")"; false; }
}

@test "cgroups: a cpuset outside the machine fails create and leaves nothing" {
  update_config '.linux.resources.cpu = {"cpus": "999"}'
  set_args /probe sleep inf
  run ct_create
  assert_failure_out
  run cat "$CT_ERR"
  assert_contains "$output" 999
  assert_no_container
}

@test "cgroups: the cpuset error names the field" {
  requires_berth "runc names the file, not the config field"
  update_config '.linux.resources.cpu = {"cpus": "999"}'
  run runtime run --bundle "$BUNDLE" "$ID"
  assert_failure_out
  assert_contains "$output" linux.resources.cpu.cpus
  assert_no_container
}

@test "cgroups: an unknown device type fails create and leaves nothing" {
  update_config '.linux.resources.devices += [{"allow": true, "type": "x", "major": 1, "minor": 3, "access": "rwm"}]'
  set_args /probe sleep inf
  run ct_create
  assert_failure_out
  run cat "$CT_ERR"
  assert_contains "$output" 'device type'
  assert_contains "$output" x
  assert_no_container
}

@test "cgroups: the device type error names the field" {
  requires_berth "runc's message names no field"
  update_config '.linux.resources.devices += [{"allow": true, "type": "x", "major": 1, "minor": 3, "access": "rwm"}]'
  run runtime run --bundle "$BUNDLE" "$ID"
  assert_failure_out
  assert_contains "$output" 'linux.resources.devices[1].type'
  assert_no_container
}

@test "cgroups: update to a memory limit below usage fails and changes nothing" {
  update_config '.linux.resources.memory = {"limit": 104857600}'
  # 30 MiB of tmpfs pages are charged to the container and cannot be reclaimed (no swap)
  set_args /bin/sh -c 'head -c 30m /dev/zero >/dev/shm/fill && echo filled; exec /probe sleep inf'
  start_ct
  wait_output filled
  run runtime update --memory 10485760 "$ID"
  assert_failure_out
  [ "$(cat "/sys/fs/cgroup/memory$CG/memory.limit_in_bytes")" = 104857600 ]
  [ "$(ct_state)" = running ]
  run runtime update -r - "$ID" <<<'{"memory": {"limit": 10485760}}'
  assert_failure_out
  [ "$(cat "/sys/fs/cgroup/memory$CG/memory.limit_in_bytes")" = 104857600 ]
  kill -0 "$INIT"
}

@test "cgroups: the memory-below-usage error names the field" {
  requires_berth "runc's message names no field"
  update_config '.linux.resources.memory = {"limit": 104857600}'
  set_args /bin/sh -c 'head -c 30m /dev/zero >/dev/shm/fill && echo filled; exec /probe sleep inf'
  start_ct
  wait_output filled
  run runtime update --memory 10485760 "$ID"
  assert_failure_out
  assert_contains "$output" linux.resources.memory.limit
}
