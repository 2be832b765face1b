#!/usr/bin/env bats
# The container lifecycle around the monitor: restart policies (Docker's back-off, stop ending a
# restart loop), `berth run` killed with SIGKILL at many instants, a monitor killed under a
# running container, the OOM kill recorded, other OCI runtimes (runc, crun), concurrent starts.

load containers_helpers

setup_file() {
  ctr_setup_file
}

setup() {
  ctr_setup
}

teardown() {
  ctr_teardown
}

@test "lifecycle: restart policies — no, on-failure:N, always; stop ends the loop" {
  run berth run --name no1 bb sh -c 'exit 1'
  [ "$status" -eq 1 ]
  sleep 0.5
  [ "$(berth inspect -f '{{.RestartCount}} {{.State.Status}}' no1)" = "0 exited" ]
  # on-failure:3: three restarts, four runs, then exited with the last code
  berth run -d --name of1 --restart on-failure:3 bb sh -c 'echo run; exit 3' >/dev/null
  wait_for of1 '{{.RestartCount}} {{.State.Status}}' "3 exited"
  [ "$(berth logs of1 | grep -c run)" = 4 ]
  [ "$(berth inspect -f '{{.State.ExitCode}}' of1)" = 3 ]
  # on-failure does not restart a success
  berth run -d --name of2 --restart on-failure bb true >/dev/null
  wait_for of2 '{{.State.Status}}' exited
  sleep 0.5
  [ "$(berth inspect -f '{{.RestartCount}}' of2)" = 0 ]
  # always restarts a success too; stop ends it for good, start brings the policy back
  berth run -d --name al1 --restart always bb sh -c 'echo run; sleep 0.2' >/dev/null
  for _ in $(seq 300); do [ "$(berth inspect -f '{{.RestartCount}}' al1)" -ge 2 ] && break; sleep 0.1; done
  [ "$(berth inspect -f '{{.RestartCount}}' al1)" -ge 2 ]
  berth stop al1
  [ "$(berth inspect -f '{{.State.Status}}' al1)" = exited ]
  count=$(berth inspect -f '{{.RestartCount}}' al1)
  sleep 1
  [ "$(berth inspect -f '{{.RestartCount}} {{.State.Status}}' al1)" = "$count exited" ]
  [ -z "$(ctr_monitors)" ]
  berth start al1
  for _ in $(seq 300); do [ "$(berth inspect -f '{{.RestartCount}}' al1)" -gt "$count" ] && break; sleep 0.1; done
  [ "$(berth inspect -f '{{.RestartCount}}' al1)" -gt "$count" ]
  berth rm -f al1
  [ -z "$(ctr_monitors)" ]
}

@test "lifecycle: the back-off doubles from 100 ms and a restarting container can be stopped" {
  local t0 n ms
  t0=$(date +%s%N)
  berth run -d --name bo --restart always bb false >/dev/null
  restarted_3() { [ "$(berth inspect -f '{{.RestartCount}}' bo)" -ge 3 ]; }
  wait_until 30 restarted_3
  n=$(berth inspect -f '{{.RestartCount}}' bo)
  ms=$((($(date +%s%N) - t0) / 1000000))
  # n restarts waited 100 + 200 + ... + 100*2^(n-1) ms = 100*(2^n - 1) ms at least: never dozens
  [ "$n" -lt 20 ]
  [ $((100 * ((1 << n) - 1))) -le "$ms" ] || { echo "$n restarts in $ms ms" >&2; false; }
  run berth ps --filter name=bo --format '{{.Status}}'
  [[ $output =~ ^(Restarting\ \(1\)|Up) ]]
  run berth stop -t 1 bo
  [ "$status" -eq 0 ]
  [ "$(berth inspect -f '{{.State.Status}}' bo)" = exited ]
  [ -z "$(ctr_monitors)" ]
}

@test "lifecycle: berth run killed with SIGKILL at any instant leaves what ps -a shows and rm -f removes" {
  for delay in 0 0.01 0.03 0.05 0.08 0.12 0.2 0.3 0.5; do
    "$BERTH" --root "$BROOT" --runroot "$BRUN" run --name "k$delay" -v /anon bb sleep 100 >/dev/null 2>&1 &
    pid=$!
    sleep "$delay"
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  sleep 0.5
  # every directory has its row
  for d in "$BROOT"/containers/*; do
    [ -e "$d" ] || continue
    [ -n "$(sqlite3 "$BROOT/berth.db" "SELECT id FROM containers WHERE id = '$(basename "$d")'")" ]
  done
  shown=$(berth ps -aq --no-trunc | sort)
  [ "$shown" = "$(ctr_ids | sort)" ]
  # every volume row is a container's (the rows are added in one transaction)
  [ "$(sqlite3 "$BROOT/berth.db" 'SELECT COUNT(*) FROM volumes')" = "$(echo "$shown" | grep -c .)" ]
  for id in $shown; do
    berth rm -f -v "$id" >/dev/null
  done
  # a volume directory left without a row is only ever a create killed in flight
  for v in "$BROOT"/volumes/*; do
    [ -e "$v" ] || continue
    [ -z "$(sqlite3 "$BROOT/berth.db" "SELECT name FROM volumes WHERE name = '$(basename "$v")'")" ]
  done
  [ -z "$(ctr_ids)" ]
  [ -z "$(ls "$BROOT/containers")" ]
  [ -z "$(ctr_monitors)" ]
  [ -z "$(ls "$BRUN" | grep -v -e runtime -e mounts)" ]
  # a run killed in its volume's copy-up leaves at most an empty mount point (system check's)
  [ -z "$(find "$BRUN/mounts" -mindepth 1 -not -empty 2>/dev/null)" ]
}

@test "lifecycle: a monitor killed under a running container: inspect shows dead, ps stops it and says so, rm -f removes it, start works again" {
  berth run -d --name orphan bb sleep 1000 >/dev/null
  wait_for orphan '{{.State.Status}}' running
  mon=$(ctr_monitors)
  [ -n "$mon" ]
  kill -9 "$mon"
  for _ in $(seq 300); do [ -d "/proc/$mon" ] || break; sleep 0.1; done
  [ "$(berth inspect -f '{{.State.Status}} {{.State.Dead}}' orphan)" = "dead true" ]
  # ps stops it cleanly (issue 16: it used to show Dead while the container ran on)
  run berth ps -a --format '{{.Status}}'
  [[ $output == *"berth: container orphan "*"ran on without its monitor (was it killed?): stopped it"* ]]
  [[ ${lines[-1]} == "Exited (137)"* ]]
  run berth start orphan # the runtime's leftover container is deleted first
  [ "$status" -eq 0 ]
  wait_for orphan '{{.State.Status}}' running
  mon=$(ctr_monitors)
  kill -9 "$mon"
  for _ in $(seq 300); do [ -d "/proc/$mon" ] || break; sleep 0.1; done
  run berth rm -f orphan
  [ "$status" -eq 0 ]
  [ -z "$(ctr_ids)" ]
}

@test "lifecycle: an OOM kill is recorded (memory cgroup's oom_kill)" {
  [ -e /sys/fs/cgroup/memory/memory.oom_control ] || [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ] ||
    skip "no memory cgroup controller"
  run berth run --name oom -m 8m --memory-swap 8m bb sh -c 'x=a; while :; do x="$x$x"; done'
  [ "$status" -eq 137 ]
  [ "$(berth inspect -f '{{.State.OOMKilled}} {{.State.ExitCode}}' oom)" = "true 137" ]
  berth run --name fine -m 64m bb true
  [ "$(berth inspect -f '{{.State.OOMKilled}}' fine)" = false ]
}

@test "lifecycle: --runtime runc runs the same containers" {
  command -v runc >/dev/null || skip "runc is not installed"
  CTR_RUNC=1
  run berth run --rm --runtime runc bb /probe all
  [ "$status" -eq 0 ]
  [ "$(probe_val pid)" = 1 ]
  [ "$(probe_val cap_eff_hex)" = 00000000a80425fb ]
  run -127 berth run --rm --runtime runc bb nosuchprogram
  run berth run -d --name rc1 --runtime runc bb sh -c 'trap "exit 3" TERM; touch /tmp/ready; while :; do sleep 0.1; done'
  wait_for rc1 '{{.State.Status}}' running
  wait_until 30 berth exec rc1 test -e /tmp/ready # the trap is set (runc's start returns before)
  [ "$(berth inspect -f '{{.HostConfig.Runtime}}' rc1)" = runc ]
  berth stop rc1
  [ "$(berth inspect -f '{{.State.ExitCode}}' rc1)" = 3 ]
  [ ! -e "$BRUN/runtime/$(berth inspect -f '{{.Id}}' rc1)" ] # runc's state deleted
}

@test "lifecycle: --runtime crun runs the same containers (where crun can run)" {
  command -v crun >/dev/null || skip "crun is not installed"
  cgroup_hybrid && skip "crun refuses this host's hybrid cgroup layout (v1 controllers beside cgroup2: \"cgroups in hybrid mode not supported\")"
  run berth run --rm --runtime crun bb /probe all
  [ "$status" -eq 0 ]
  [ "$(probe_val pid)" = 1 ]
}

@test "lifecycle: crun on this host fails with crun's message, exit 125, and leaves the container created" {
  command -v crun >/dev/null || skip "crun is not installed"
  cgroup_hybrid || skip "this host is not hybrid: crun runs here (see the test above)"
  run berth run --name cr --runtime crun bb true
  [ "$status" -eq 125 ]
  [[ $output == *"hybrid"* ]]
  [ "$(berth inspect -f '{{.State.Status}}' cr)" = created ]
  # crun 1.8 knows runtime-spec 1.0 only: the config says so
  [ "$(jq -r .ociVersion "$BROOT/containers/$(berth inspect -f '{{.Id}}' cr)/bundle/config.json")" = 1.0.2 ]
}

@test "lifecycle: concurrent starts of one container start it once" {
  berth create --name once bb sh -c 'echo started; sleep 1000' >/dev/null
  local pids=()
  for i in 1 2 3 4; do
    "$BERTH" --root "$BROOT" --runroot "$BRUN" start once >"$BATS_TEST_TMPDIR/s$i" 2>&1 &
    pids+=($!)
  done
  # these pids only: a bare `wait` would also wait for bats' own timeout watchdog
  wait "${pids[@]}"
  wait_for once '{{.State.Status}}' running
  [ "$(ctr_monitors | wc -l)" = 1 ]
  logged() { [ -n "$(berth logs once)" ]; }
  wait_until 30 logged
  sleep 0.3 # a second start would print its line about now
  [ "$(berth logs once)" = started ]
}

@test "lifecycle: the shared /berth cgroup goes with the last container of any store" {
  # two stores (their runtimes have different state roots) under the one /berth level
  # an empty /berth is what runc leaves (it never removes a parent level): not a container's
  for d in /sys/fs/cgroup/*/berth; do
    [ ! -d "$d" ] || rmdir "$d" 2>/dev/null || skip "other berth containers are running under $d"
  done
  local r2=$CTR_DIR/r2 s2=$CTR_DIR/s2
  "$BERTH" --root "$r2" --runroot "$s2" import -c 'CMD ["sh"]' "$CTR_TAR" bb >/dev/null
  local id1 id2
  id1=$(berth run -d --name first bb sleep 1000)
  id2=$("$BERTH" --root "$r2" --runroot "$s2" run -d --name second bb sleep 1000)
  [ -d "/sys/fs/cgroup/pids/berth/$id1" ]
  [ -d "/sys/fs/cgroup/pids/berth/$id2" ]
  # the store that made /berth goes first: the level stays for the other one, then goes with it
  berth rm -f first >/dev/null
  [ ! -e "/sys/fs/cgroup/pids/berth/$id1" ]
  [ -d /sys/fs/cgroup/pids/berth ]
  "$BERTH" --root "$r2" --runroot "$s2" rm -f second >/dev/null
  [ -z "$(ls -d /sys/fs/cgroup/*/berth/"$id2" 2>/dev/null)" ]
  # gone — unless a container of another test, running beside this suite, made it anew meanwhile:
  # then it is not empty (a store removing its last container removes the level right after)
  wait_until 30 no_empty_berth_level
}

no_empty_berth_level() {
  local d
  for d in /sys/fs/cgroup/*/berth; do
    [ ! -d "$d" ] || [ -n "$(find "$d" -mindepth 1 -maxdepth 1 -type d 2>/dev/null)" ] || return 1
  done
}

@test "lifecycle: system check finds and repairs what interrupted container commands leave" {
  run berth system check
  echo "system check: $output" # shown when the test fails
  [ "$status" -eq 0 ]
  # a vanished monitor, a directory without row, an interrupted create, a stray rootfs mount
  berth run -d --name dead1 bb sleep 1000 >/dev/null
  wait_for dead1 '{{.State.Status}}' running
  mon=$(ctr_monitors)
  kill -9 "$mon"
  for _ in $(seq 300); do [ -d "/proc/$mon" ] || break; sleep 0.1; done
  orphan=$(printf 'f%.0s' $(seq 64))
  mkdir -p "$BROOT/containers/$orphan/upper"
  id=$(berth create --name half bb true)
  rm "$BROOT/containers/$id/bundle/config.json"
  sqlite3 "$BROOT/berth.db" "UPDATE containers SET created = created - 3600000000000 WHERE id = '$id'"
  keep=$(berth create --name keep bb true)
  mount --bind "$BATS_TEST_TMPDIR" "$BROOT/containers/$keep/bundle/rootfs"
  # a create killed between making its volume's directory and the transaction that adds the
  # container and the volume: a directory without a row; younger than a minute it is left
  # alone (a create in flight)
  mkdir -p "$BROOT/volumes/killedvol/_data" "$BROOT/volumes/inflight/_data" "$BRUN/mounts/volume-old"
  touch -d '-2 minutes' "$BROOT/volumes/killedvol" "$BRUN/mounts/volume-old"
  run berth system check
  echo "system check: $output" # shown when the test fails
  [ "$status" -eq 1 ]
  [[ $output == *"volume directory \`volumes/killedvol\` without a volume"* ]]
  [[ $output != *inflight* ]]
  [[ $output == *"mount point \`$BRUN/mounts/volume-old\` of an interrupted command"* ]]
  [[ $output == *"runs on without its monitor"* ]] # its init runs on: repair stops it
  [[ $output == *"directory \`$BROOT/containers/$orphan\` of no container"* ]]
  [[ $output == *"container ${id:0:12} has no bundle"* ]]
  [[ $output == *"mount \`$BROOT/containers/$keep/bundle/rootfs\` outside a monitor's namespace"* ]]
  run berth system check --repair
  [[ ${lines[-1]} == *"0 left" ]]
  run berth system check
  echo "system check: $output" # shown when the test fails
  [ "$status" -eq 0 ]
  [ "$(berth inspect -f '{{.State.Status}}' dead1)" = exited ]
  [ ! -e "$BROOT/containers/$orphan" ]
  [ ! -e "$BROOT/volumes/killedvol" ]
  [ -d "$BROOT/volumes/inflight/_data" ]
  [ ! -e "$BRUN/mounts/volume-old" ]
  rm -r "$BROOT/volumes/inflight"
  run berth inspect half
  [ "$status" -eq 1 ]
  ! grep -q "$BROOT/containers/$keep" /proc/self/mountinfo || false
  [ "$(berth inspect -f '{{.State.Status}}' keep)" = created ]
}
