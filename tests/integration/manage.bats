#!/usr/bin/env bats
# Managing a running container: ps (table and json), pause/resume and their errors, update
# (flags, -r FILE, -r -), events (--stats shape, --interval), kill --all (with and without a
# pid namespace), delete --force and the cgroup, the unified (cgroup2) tree of a hybrid host.

load helpers
load cgroup_helpers

start_ct() {
  ct_run_detached
  INIT=$(ct_pid)
  [ "$INIT" -gt 0 ]
}

# exec_bg ARGS...: a detached exec whose stdio is not bats' pipe
exec_bg() { runtime exec -d "$@" </dev/null >/dev/null 2>&1; }

cg_file() { cat "/sys/fs/cgroup/$1$CG/$2"; }

# sorted pids of the container's cgroup (pids hierarchy)
cgroup_pids() { sort -n "/sys/fs/cgroup/pids$CG/cgroup.procs"; }

alive() { kill -0 "$1" 2>/dev/null && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }
dead() { ! alive "$1"; }

@test "ps: -f json lists the pids of the container's processes" {
  set_args /bin/sh -c '/probe sleep inf & /probe sleep inf & wait'
  start_ct
  wait_until 30 sh -c "[ \$(pgrep -c -P $INIT) -eq 2 ]"
  exec_bg "$ID" /probe sleep inf
  wait_until 30 sh -c "[ \$(wc -l <'/sys/fs/cgroup/pids$CG/cgroup.procs') -eq 4 ]"
  run runtime ps -f json "$ID"
  assert_success_out
  [ "$(jq -r 'type' <<<"$output")" = array ]
  [ "$(jq -r 'sort | .[]' <<<"$output")" = "$(cgroup_pids)" ] || {
    echo "ps: $output, cgroup: $(cgroup_pids | paste -sd,)"
    false
  }
  [ "$(jq length <<<"$output")" -eq 4 ]
  jq -e --argjson p "$INIT" 'index($p) != null' <<<"$output" >/dev/null
}

@test "ps: the table has a PID column with the container's processes" {
  set_args /bin/sh -c '/probe sleep inf & wait'
  start_ct
  wait_until 30 sh -c "[ \$(pgrep -c -P $INIT) -eq 1 ]"
  run runtime ps "$ID"
  assert_success_out
  local col
  col=$(awk 'NR == 1 {for (i = 1; i <= NF; i++) if ($i == "PID") print i}' <<<"$output")
  [ -n "$col" ] || { echo "no PID column: ${lines[0]}"; false; }
  [ "$(awk -v c="$col" 'NR > 1 {print $c}' <<<"$output" | sort -n)" = "$(cgroup_pids)" ]
  assert_contains "$output" "/probe sleep inf"
  run runtime ps -f table "$ID"
  assert_success_out
  [ "${#lines[@]}" -eq 3 ]
}

@test "ps: of an unknown container fails" {
  run runtime ps no-such-container
  assert_failure_out
}

@test "pause: a paused container is frozen; pause twice is an error" {
  set_args /probe sleep inf
  start_ct
  runtime pause "$ID"
  [ "$(ct_state)" = paused ]
  [ "$(cg_file freezer freezer.state)" = FROZEN ]
  run runtime pause "$ID"
  assert_failure_out
  [ "$(ct_state)" = paused ]
  [ "$(cg_file freezer freezer.state)" = FROZEN ]
  # ps still lists a paused container's processes
  run runtime ps -f json "$ID"
  assert_success_out
  [ "$(jq -c . <<<"$output")" = "[$INIT]" ]
  runtime resume "$ID"
  [ "$(ct_state)" = running ]
  [ "$(cg_file freezer freezer.state)" = THAWED ]
}

@test "resume: of a running container is an error" {
  set_args /probe sleep inf
  start_ct
  run runtime resume "$ID"
  assert_failure_out
  assert_contains "$output" "not paused"
  [ "$(ct_state)" = running ]
}

@test "pause: of a stopped container is an error" {
  set_args /probe exit 0
  ct_create
  runtime start "$ID"
  wait_status stopped
  run runtime pause "$ID"
  assert_failure_out
  assert_contains "$output" "not running"
  [ "$(ct_state)" = stopped ]
}

@test "pause: delete --force of a paused container kills it and removes the cgroup" {
  set_args /probe sleep inf
  start_ct
  runtime pause "$ID"
  runtime delete --force "$ID"
  wait_until 30 dead "$INIT"
  [ -z "$(cgroup_dirs "$CG")" ] || { echo "left: $(cgroup_dirs "$CG")"; false; }
  assert_nothing_left
}

@test "update: --memory, --cpu-quota and --pids-limit reach the cgroup files and the container" {
  set_args /probe sleep inf
  start_ct
  runtime update --memory 209715200 --cpu-quota 25000 --cpu-period 100000 --pids-limit 42 "$ID"
  [ "$(cg_file memory memory.limit_in_bytes)" = 209715200 ]
  [ "$(cg_file cpu cpu.cfs_quota_us)" = 25000 ]
  [ "$(cg_file cpu cpu.cfs_period_us)" = 100000 ]
  [ "$(cg_file pids pids.max)" = 42 ]
  run runtime exec "$ID" cat /sys/fs/cgroup/memory/memory.limit_in_bytes \
    /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/pids/pids.max
  assert_success_out
  [ "${lines[0]}" = 209715200 ]
  [ "${lines[1]}" = 25000 ]
  [ "${lines[2]}" = 42 ]
  # one flag changes one value
  runtime update --pids-limit 43 "$ID"
  [ "$(cg_file pids pids.max)" = 43 ]
  [ "$(cg_file memory memory.limit_in_bytes)" = 209715200 ]
  [ "$(cg_file cpu cpu.cfs_quota_us)" = 25000 ]
  [ "$(ct_state)" = running ]
}

# runc 1.1.5's `update` flags (its --help), each with a value this host takes (bytes: crun 1.8
# takes no "300m")
RUNC_UPDATE_FLAGS=(
  "--blkio-weight 500" "--cpu-period 100000" "--cpu-quota 50000" "--cpu-share 512" "--cpu-rt-period 1000000"
  "--cpu-rt-runtime 0" "--cpuset-cpus 0" "--cpuset-mems 0" "--memory 314572800" "--memory-reservation 104857600"
  "--memory-swap 419430400" "--pids-limit 99" "--l3-cache-schema L3:0=f" "--mem-bw-schema MB:0=50"
)

@test "update: the list of runc's update flags here is runc's" {
  command -v runc >/dev/null || skip "runc is not installed"
  local want have
  want=$(runc update --help | grep -o -- '^ *--[a-z0-9-]*' | tr -d ' ' | grep -v -- --resources | sort | paste -sd' ')
  have=$(for f in "${RUNC_UPDATE_FLAGS[@]}"; do echo "${f%% *}"; done | sort | paste -sd' ')
  [ "$want" = "$have" ] || { echo "runc: $want"; echo "here: $have"; false; }
}

@test "update: each of runc's update flags works (--cpu-share, runc's spelling, beside --cpu-shares)" {
  set_args /probe sleep inf
  start_ct
  local f
  for f in "${RUNC_UPDATE_FLAGS[@]}"; do
    case $f in
    --blkio-weight*) [ -e "/sys/fs/cgroup/blkio$CG/blkio.weight" ] || continue ;; # runc fails without it
    --l3-cache-schema* | --mem-bw-schema*) continue ;;
    esac
    # shellcheck disable=SC2086
    run runtime update $f "$ID"
    assert_success_out
  done
  [ "$(cg_file cpu cpu.shares)" = 512 ]
  [ "$(cg_file cpu cpu.cfs_quota_us)" = 50000 ]
  [ "$(cg_file pids pids.max)" = 99 ]
  [ "$(cg_file memory memory.limit_in_bytes)" = 314572800 ]
  # --memory-swap alone: memory+swap against the limit already set (v1's memsw)
  [ "$(cg_file memory memory.memsw.limit_in_bytes 2>/dev/null || echo 419430400)" = 419430400 ]
  # Intel RDT: refused, as by runc on a host without resctrl
  run runtime update --l3-cache-schema L3:0=f "$ID"
  assert_failure_out
  run runtime update --mem-bw-schema MB:0=50 "$ID"
  assert_failure_out
  requires_berth "runc 1.1.5 knows only --cpu-share"
  run runtime update --cpu-shares 256 "$ID"
  assert_success_out
  [ "$(cg_file cpu cpu.shares)" = 256 ]
}

@test "update: -r resources.json and -r - from standard input" {
  set_args /probe sleep inf
  start_ct
  cat >"$BATS_TEST_TMPDIR/resources.json" <<'EOF'
{"memory": {"limit": 157286400}, "cpu": {"quota": 30000, "period": 100000, "shares": 256},
 "pids": {"limit": 33}}
EOF
  runtime update -r "$BATS_TEST_TMPDIR/resources.json" "$ID"
  [ "$(cg_file memory memory.limit_in_bytes)" = 157286400 ]
  [ "$(cg_file cpu cpu.cfs_quota_us)" = 30000 ]
  [ "$(cg_file cpu cpu.shares)" = 256 ]
  [ "$(cg_file pids pids.max)" = 33 ]
  runtime update -r - "$ID" <<<'{"pids": {"limit": 34}, "memory": {"limit": 146800640}}'
  [ "$(cg_file pids pids.max)" = 34 ]
  [ "$(cg_file memory memory.limit_in_bytes)" = 146800640 ]
  [ "$(cg_file cpu cpu.cfs_quota_us)" = 30000 ]
  run runtime exec "$ID" cat /sys/fs/cgroup/pids/pids.max
  [ "$output" = 34 ]
}

@test "update: -r with a file that is not JSON fails and changes nothing" {
  update_config '.linux.resources.pids = {"limit": 20}'
  set_args /probe sleep inf
  start_ct
  echo '{"pids": {"limit": ' >"$BATS_TEST_TMPDIR/bad.json"
  run runtime update -r "$BATS_TEST_TMPDIR/bad.json" "$ID"
  assert_failure_out
  [ "$(cg_file pids pids.max)" = 20 ]
}

@test "update: of a stopped container fails" {
  set_args /probe exit 0
  ct_create
  runtime start "$ID"
  wait_status stopped
  run runtime update --pids-limit 10 "$ID"
  assert_failure_out
  assert_contains "$output" "not running"
}

@test "events: --stats prints one stats event with memory, cpu and pids" {
  update_config '.linux.resources.memory = {"limit": 104857600} | .linux.resources.pids = {"limit": 50}'
  set_args /bin/sh -c '/probe sleep inf & /probe sleep inf & wait'
  start_ct
  wait_until 30 sh -c "[ \$(pgrep -c -P $INIT) -eq 2 ]"
  local peak0 peak1
  peak0=$(cg_file memory memory.max_usage_in_bytes)
  run runtime events --stats "$ID"
  peak1=$(cg_file memory memory.max_usage_in_bytes)
  assert_success_out
  [ "${#lines[@]}" -eq 1 ]
  local e=$output
  [ "$(jq -r .type <<<"$e")" = stats ]
  [ "$(jq -r .id <<<"$e")" = "$ID" ]
  [ "$(jq -r .data.pids.current <<<"$e")" -eq 3 ]
  [ "$(jq -r .data.pids.limit <<<"$e")" -eq 50 ]
  [ "$(jq -r .data.memory.usage.limit <<<"$e")" -eq 104857600 ]
  [ "$(jq -r .data.memory.usage.usage <<<"$e")" -gt 0 ]
  [ "$(jq -r .data.memory.usage.max <<<"$e")" -gt 0 ]
  [ "$(jq -r .data.cpu.usage.total <<<"$e")" -gt 0 ]
  [ "$(jq -r '.data.cpu.usage.percpu | length' <<<"$e")" -eq "$(nproc)" ]
  [ "$(jq -r '.data.memory.raw | type' <<<"$e")" = object ]
  [ "$(jq -r '.data.memory.raw.rss | type' <<<"$e")" = number ]
  # the numbers are the cgroup's: its peak (which only grows) read before and after the event
  # brackets the event's (the usage itself moves between two reads)
  local max
  max=$(jq -r .data.memory.usage.max <<<"$e")
  [ "$peak0" -le "$max" ]
  [ "$max" -le "$peak1" ]
}

@test "events: --interval prints a stats event per interval until stopped" {
  set_args /probe sleep inf
  start_ct
  local ev=$BATS_TEST_TMPDIR/events.out
  background runtime events --interval 200ms "$ID" >"$ev" 2>"$ev.err"
  wait_until 30 sh -c "[ \$(grep -c '\"type\":\"stats\"' '$ev') -ge 4 ]" || { cat "$ev" "$ev.err"; false; }
  while read -r line; do
    [ "$(jq -r .type <<<"$line")" = stats ]
    [ "$(jq -r .id <<<"$line")" = "$ID" ]
  done <"$ev"
}

@test "events: of a stopped container fails" {
  set_args /probe exit 0
  ct_create
  runtime start "$ID"
  wait_status stopped
  run runtime events --stats "$ID"
  assert_failure_out
}

@test "kill --all: reaches every process, not only init" {
  set_args /probe sleep inf
  start_ct
  exec_bg --pid-file "$BATS_TEST_TMPDIR/a.pid" "$ID" /probe sleep inf
  exec_bg --pid-file "$BATS_TEST_TMPDIR/b.pid" "$ID" /probe sleep inf
  local a b
  a=$(cat "$BATS_TEST_TMPDIR/a.pid")
  b=$(cat "$BATS_TEST_TMPDIR/b.pid")
  alive "$a"
  alive "$b"
  # init is pid 1 of its namespace: without a handler it ignores TERM from outside; the
  # others do not
  runtime kill "$ID" TERM
  sleep 0.3
  alive "$a"
  alive "$b"
  runtime kill --all "$ID" TERM
  wait_until 30 dead "$a"
  wait_until 30 dead "$b"
  alive "$INIT"
  [ "$(ct_state)" = running ]
  runtime kill --all "$ID" KILL
  wait_status stopped
  runtime delete "$ID"
  [ -z "$(cgroup_dirs "$CG")" ]
}

@test "kill --all: without a pid namespace every process is found through the cgroup" {
  update_config '.linux.namespaces |= map(select(.type != "pid"))'
  set_args /probe sleep inf
  start_ct
  exec_bg --pid-file "$BATS_TEST_TMPDIR/a.pid" "$ID" /probe sleep inf
  exec_bg --pid-file "$BATS_TEST_TMPDIR/b.pid" "$ID" /bin/sh -c '/probe sleep inf & wait'
  local a b pids p
  a=$(cat "$BATS_TEST_TMPDIR/a.pid")
  b=$(cat "$BATS_TEST_TMPDIR/b.pid")
  wait_until 30 sh -c "[ \$(wc -l <'/sys/fs/cgroup/pids$CG/cgroup.procs') -eq 4 ]"
  pids=$(cgroup_pids)
  # the host's pid namespace: the container's init is not pid 1
  [ "$(readlink "/proc/$INIT/ns/pid")" = "$(readlink /proc/self/ns/pid)" ]
  runtime kill --all "$ID" KILL
  for p in $pids; do
    wait_until 30 dead "$p" || { echo "pid $p survived kill --all"; ps -o pid,ppid,stat,args -p "$p"; false; }
  done
  wait_status stopped
  runtime delete "$ID"
  [ -z "$(cgroup_dirs "$CG")" ]
}

@test "delete --force: kills every process and removes the cgroup in every hierarchy" {
  update_config '.linux.namespaces |= map(select(.type != "pid"))'
  set_args /probe sleep inf
  start_ct
  exec_bg --pid-file "$BATS_TEST_TMPDIR/a.pid" "$ID" /probe sleep inf
  local a
  a=$(cat "$BATS_TEST_TMPDIR/a.pid")
  [ -n "$(cgroup_dirs "$CG")" ]
  runtime delete --force "$ID"
  wait_until 30 dead "$INIT"
  wait_until 30 dead "$a"
  [ -z "$(cgroup_dirs "$CG")" ] || { echo "left: $(cgroup_dirs "$CG")"; false; }
  run runtime state "$ID"
  assert_failure_out
}

@test "delete: a stopped container's leftover processes (no pid namespace) are killed" {
  update_config '.linux.namespaces |= map(select(.type != "pid"))'
  set_args /probe sleep inf
  start_ct
  exec_bg --pid-file "$BATS_TEST_TMPDIR/a.pid" "$ID" /probe sleep inf
  local a
  a=$(cat "$BATS_TEST_TMPDIR/a.pid")
  runtime kill "$ID" KILL
  wait_status stopped
  alive "$a"
  runtime delete "$ID"
  wait_until 30 dead "$a"
  [ -z "$(cgroup_dirs "$CG")" ] || { echo "left: $(cgroup_dirs "$CG")"; false; }
}

@test "unified: the container has a cgroup in the cgroup2 tree while it runs, gone after delete" {
  [ "$(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ] || skip "no cgroup2 at /sys/fs/cgroup/unified"
  set_args /probe sleep inf
  start_ct
  [ -d "/sys/fs/cgroup/unified$CG" ]
  grep -qx "$INIT" "/sys/fs/cgroup/unified$CG/cgroup.procs"
  grep -qx "0::$CG" "/proc/$INIT/cgroup"
  runtime kill "$ID" KILL
  wait_status stopped
  runtime delete "$ID"
  [ ! -e "/sys/fs/cgroup/unified$CG" ]
}

@test "manage: pause, resume, update, events and kill of an unknown container fail" {
  local c
  for c in pause resume "update --pids-limit 5" "events --stats" "kill"; do
    # shellcheck disable=SC2086
    run runtime $c no-such-container
    assert_failure_out
  done
}
