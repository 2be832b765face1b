#!/usr/bin/env bats
# Who records a container's exit: a foreground `berth run` attached with the catalogue open
# records it itself (no `berth container --internal-exited` process), and the monitor's handler
# takes over when that client is killed or stopped — exactly once, guarded by the init's pid.

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

# a container command that exits with CODE once the host creates $CTR_DIR/flag/go
until_go() {
  echo "while [ ! -e /flag/go ]; do sleep 0.05; done; exit $1"
}

wait_running() {
  wait_for "$1" '{{.State.Status}}' running && return 0
  berth ps -a >&2
  cat "$BROOT"/containers/*/monitor.log >&2
  ps -ef | grep -v grep | grep -E "berth|sleep" >&2
  return 1
}

# pid of the monitor of container NAME (its command line names the container's id)
monitor_of() {
  local id p
  id=$(berth inspect -f '{{.Id}}' "$1") || return 1
  for p in $(ctr_monitors); do
    tr '\0' ' ' <"/proc/$p/cmdline" | grep -q -- "--id $id " && echo "$p"
  done
  return 0
}

@test "exit: a foreground run records the exit and removes --rm itself, without the handler process" {
  command -v strace >/dev/null || skip "strace is not installed"
  local st=0
  strace -f -qq -e trace=execve -e signal=none -o "$CTR_DIR/trace" \
    "$BERTH" --root "$BROOT" --runroot "$BRUN" run --rm --network none bb sh -c 'echo out; exit 3' \
    >"$CTR_DIR/out" || st=$?
  [ "$st" -eq 3 ]
  [ "$(cat "$CTR_DIR/out")" = out ]
  grep -q 'berth-monitor' "$CTR_DIR/trace"          # the trace saw the monitor (strace -f follows it)
  ! grep -q -- '--internal-exited' "$CTR_DIR/trace" || false # and no handler process
  [ -z "$(ctr_ids)" ]
  # without --rm: the exit is recorded with its code, and the process exits with it
  run berth run --name keep bb sh -c 'exit 5'
  [ "$status" -eq 5 ]
  [ "$(berth inspect -f '{{.State.Status}} {{.State.ExitCode}}' keep)" = "exited 5" ]
}

@test "exit: a foreground run killed before its container exits — the monitor's handler records and removes it" {
  "$BERTH" --root "$BROOT" --runroot "$BRUN" run --rm --name gone -v "$CTR_DIR/flag:/flag" bb sh -c "$(until_go 3)" >/dev/null 3>&- &
  local pid=$!
  wait_running gone
  kill -9 "$pid"
  wait "$pid" || true
  touch "$CTR_DIR/flag/go"
  for _ in $(seq 300); do [ -z "$(ctr_ids)" ] && break; sleep 0.1; done
  [ -z "$(ctr_ids)" ]
  rm -f "$CTR_DIR/flag/go"
  "$BERTH" --root "$BROOT" --runroot "$BRUN" run --name kept -v "$CTR_DIR/flag:/flag" bb sh -c "$(until_go 4)" >/dev/null 3>&- &
  pid=$!
  wait_running kept
  kill -9 "$pid"
  wait "$pid" || true
  touch "$CTR_DIR/flag/go"
  wait_for kept '{{.State.Status}} {{.State.ExitCode}}' "exited 4"
}

@test "exit: a stopped foreground run — the handler records after the wait, the run exits with the code when continued" {
  "$BERTH" --root "$BROOT" --runroot "$BRUN" run --name stopped -v "$CTR_DIR/flag:/flag" bb sh -c "$(until_go 6)" >/dev/null 3>&- &
  local pid=$!
  wait_running stopped
  local mon
  mon=$(monitor_of stopped)
  [ -n "$mon" ]
  kill -STOP "$pid"
  touch "$CTR_DIR/flag/go"
  # the monitor asks the stopped client, waits BERTH_ATTACH_RECORD_MS (5 s), then records itself
  for _ in $(seq 300); do kill -0 "$mon" 2>/dev/null || break; sleep 0.1; done
  ! kill -0 "$mon" 2>/dev/null || false
  [ "$(berth inspect -f '{{.State.Status}} {{.State.ExitCode}} {{.RestartCount}}' stopped)" = "exited 6 0" ]
  local finished
  finished=$(berth inspect -f '{{.State.FinishedAt}}' stopped)
  kill -CONT "$pid"
  local st=0
  wait "$pid" || st=$?
  [ "$st" -eq 6 ]
  # its late answer recorded nothing twice
  [ "$(berth inspect -f '{{.State.FinishedAt}}' stopped)" = "$finished" ]
}

@test "exit: the handler's record is guarded by the init's pid — a second report of the same exit changes nothing" {
  berth run -d --name twice --restart on-failure:5 bb sh -c 'sleep 30' >/dev/null
  wait_for twice '{{.State.Status}}' running
  local id pid
  id=$(berth inspect -f '{{.Id}}' twice)
  pid=$(berth inspect -f '{{.State.Pid}}' twice)
  # a report for another pid (an earlier run's) is not this run's exit
  run berth container --internal-exited "$id" 1 $((pid + 100000))
  [ "$status" -eq 0 ]
  [ "$output" = stop ]
  [ "$(berth inspect -f '{{.State.Status}} {{.RestartCount}}' twice)" = "running 0" ]
  berth rm -f twice >/dev/null
}

@test "exit: stop and rm -f record the exit on their connection to the monitor, without the handler process" {
  command -v strace >/dev/null || skip "strace is not installed"
  local name mon spid
  for name in st1 rf1; do
    berth run -d --name "$name" bb sleep 100 >/dev/null
    wait_running "$name"
    mon=$(monitor_of "$name")
    [ -n "$mon" ]
    strace -f -q -e trace=execve -e signal=none -o "$CTR_DIR/$name.trace" -p "$mon" &
    spid=$!
    for _ in $(seq 300); do grep -q TracerPid:.*[1-9] "/proc/$mon/status" && break; sleep 0.1; done
    if [ "$name" = st1 ]; then
      berth stop -t 0 st1
      [ "$(berth inspect -f '{{.State.Status}} {{.State.ExitCode}}' st1)" = "exited 137" ]
    else
      berth rm -f rf1
      [ -z "$(ctr_ids | grep -v "$(berth inspect -f '{{.Id}}' st1)")" ]
    fi
    wait "$spid" || true
    grep -q 'exited with' "$CTR_DIR/$name.trace" # the trace followed the monitor to its end
    ! grep -q -- '--internal-exited' "$CTR_DIR/$name.trace" || false
  done
}
