#!/usr/bin/env bats
# The OCI lifecycle: create/start/state/kill/delete/run and the state JSON at each step.

load helpers

@test "lifecycle: state is created, then running, then stopped" {
  set_args /probe signal-wait
  ct_create
  run runtime state "$ID"
  assert_success_out
  [ "$(jq -r .status <<<"$output")" = created ]
  [ "$(jq -r .id <<<"$output")" = "$ID" ]
  [ "$(jq -r .bundle <<<"$output")" = "$BUNDLE" ]
  [[ $(jq -r .ociVersion <<<"$output") =~ ^1\. ]]
  local pid
  pid=$(jq -r .pid <<<"$output")
  [ "$pid" -gt 0 ]
  [ -d "/proc/$pid" ]
  # the user program has not run yet
  [ ! -s "$CT_OUT" ]

  runtime start "$ID"
  wait_output ready
  [ "$(ct_state)" = running ]
  [ "$(ct_pid)" = "$pid" ]

  runtime kill "$ID" TERM
  wait_status stopped
  run runtime state "$ID"
  assert_success_out
  [ "$(jq -r .status <<<"$output")" = stopped ]
  runtime delete "$ID"
  run runtime state "$ID"
  assert_failure_out
}

@test "lifecycle: state carries the config's annotations" {
  set_args /probe sleep inf
  update_config '.annotations = {"org.berth.test": "yes", "b": "2"}'
  ct_create
  run runtime state "$ID"
  [ "$(jq -r '.annotations["org.berth.test"]' <<<"$output")" = yes ]
  [ "$(jq -r '.annotations.b' <<<"$output")" = 2 ]
}

@test "lifecycle: start of a running or stopped container fails without effect" {
  set_args /probe exit 0
  ct_create
  runtime start "$ID"
  wait_status stopped
  run runtime start "$ID"
  assert_failure_out
  [ "$(ct_state)" = stopped ]
}

@test "lifecycle: start of an unknown container fails" {
  run runtime start no-such-container
  assert_failure_out
}

@test "lifecycle: run returns the exit status of the container process" {
  set_args /probe exit 7
  run runtime run --bundle "$BUNDLE" "$ID"
  [ "$status" -eq 7 ]
  # the container is gone after run (no --keep)
  run runtime state "$ID"
  assert_failure_out
  assert_nothing_left
}

@test "lifecycle: run exits 0 and prints the container's output" {
  set_args /probe ids
  run runtime run --bundle "$BUNDLE" "$ID"
  assert_success_out
  assert_kv pid 1
  assert_kv uid 0
}

@test "lifecycle: run exits 128+N when the container is killed by signal N" {
  set_args /probe sleep inf
  runtime run --bundle "$BUNDLE" "$ID" </dev/null >"$CT_OUT" 2>"$CT_ERR" &
  local rpid=$!
  wait_status running
  runtime kill "$ID" KILL
  local rc=0
  wait "$rpid" || rc=$?
  [ "$rc" -eq 137 ] || { echo "run exited $rc, expected 137"; cat "$CT_ERR"; false; }
}

@test "lifecycle: run --keep leaves the stopped container for state and delete" {
  set_args /probe exit 3
  run runtime run --keep --bundle "$BUNDLE" "$ID"
  [ "$status" -eq 3 ]
  [ "$(ct_state)" = stopped ]
  runtime delete "$ID"
  assert_nothing_left
}

@test "lifecycle: run --detach returns while the container runs" {
  set_args /probe signal-wait
  ct_run_detached
  wait_output ready
  [ "$(ct_state)" = running ]
  runtime kill "$ID" TERM
  wait_status stopped
  runtime delete "$ID"
  assert_nothing_left
}

@test "lifecycle: --pid-file holds the container's pid after create and run --detach" {
  set_args /probe sleep inf
  ct_create --pid-file "$BATS_TEST_TMPDIR/pid"
  [ "$(cat "$BATS_TEST_TMPDIR/pid")" = "$(ct_pid)" ]
  runtime delete --force "$ID"
  ct_run_detached --pid-file "$BATS_TEST_TMPDIR/pid2"
  [ "$(cat "$BATS_TEST_TMPDIR/pid2")" = "$(ct_pid)" ]
}

@test "lifecycle: kill by name, SIG name and number reaches the process" {
  set_args /probe signal-wait
  ct_run_detached
  wait_output ready
  runtime kill "$ID" USR1
  wait_output 'signal=10'
  runtime kill "$ID" SIGUSR2
  wait_output 'signal=12'
  runtime kill "$ID" 1
  wait_output 'signal=1$'
  [ "$(ct_state)" = running ]
  runtime kill "$ID"
  wait_output 'signal=15'
  wait_status stopped
}

@test "lifecycle: kill of a created container delivers the signal" {
  set_args /probe sleep inf
  ct_create
  runtime kill "$ID" KILL
  wait_status stopped
}

@test "lifecycle: kill with an unknown signal fails without effect" {
  set_args /probe signal-wait
  ct_run_detached
  wait_output ready
  run runtime kill "$ID" SIGNOPE
  assert_failure_out
  run runtime kill "$ID" 999
  assert_failure_out
  [ "$(ct_state)" = running ]
}

@test "lifecycle: kill of a stopped container fails" {
  set_args /probe exit 0
  ct_create
  runtime start "$ID"
  wait_status stopped
  run runtime kill "$ID" KILL
  assert_failure_out
}

@test "lifecycle: kill --all signals every process of the container" {
  set_args /bin/sh -c '/probe sleep inf & /probe sleep inf & wait'
  ct_run_detached
  wait_until 30 sh -c "[ \$(pgrep -c -P $(ct_pid)) -ge 2 ]"
  runtime kill --all "$ID" KILL
  wait_status stopped
  runtime delete "$ID"
  assert_nothing_left
}

@test "lifecycle: delete of a running container fails without --force" {
  set_args /probe sleep inf
  ct_run_detached
  run runtime delete "$ID"
  assert_failure_out
  [ "$(ct_state)" = running ]
}

@test "lifecycle: delete of a created container fails without --force" {
  requires_berth "runtime-spec: deleting a container that is not stopped MUST fail; runc deletes created ones"
  set_args /probe sleep inf
  ct_create
  run runtime delete "$ID"
  assert_failure_out
  [ "$(ct_state)" = created ]
}

@test "lifecycle: delete --force removes a running container and its processes" {
  set_args /probe sleep inf
  ct_run_detached
  local pid
  pid=$(ct_pid)
  runtime delete --force "$ID"
  run runtime state "$ID"
  assert_failure_out
  wait_until 30 sh -c "! kill -0 $pid 2>/dev/null || grep -q '^State:.*Z' /proc/$pid/status"
  assert_nothing_left
}

@test "lifecycle: delete --force of a created container" {
  set_args /probe sleep inf
  ct_create
  runtime delete --force "$ID"
  assert_nothing_left
}

@test "lifecycle: delete of an unknown container fails; delete --force succeeds" {
  run runtime delete no-such-container
  assert_failure_out
  run runtime delete --force no-such-container
  assert_success_out
}

@test "lifecycle: two containers from one bundle live side by side" {
  set_args /probe sleep inf
  ct_create
  runtime create --bundle "$BUNDLE" "$ID-b" </dev/null >/dev/null 2>&1
  run runtime list -q
  [ "${#lines[@]}" -eq 2 ]
  [ "$(ct_pid)" != "$(ct_pid "$ID-b")" ]
}

@test "lifecycle: create, start and delete leave nothing behind" {
  set_args /probe exit 0
  ct_create
  runtime start "$ID"
  wait_status stopped
  runtime delete "$ID"
  assert_nothing_left
}

# CVE-2016-9962: between start and its execve the container process is the runtime's code with
# the container's credentials: nothing in the container (an exec'd process) may reach it, and it
# holds no descriptor of create's (or run's) caller. runc (1.1.5 as today's) makes its init
# non-dumpable only when it joins a namespace by path: with another runtime only the
# descriptors are checked.
reach_checks() { is_berth && echo all || echo fds; }

@test "lifecycle: until it execs, the container process is beyond the container's reach and holds none of the caller's descriptors" {
  local secret=$BATS_TEST_TMPDIR/secret p
  echo secret >"$secret"
  hold_execve 1
  set_args /probe sleep inf
  ct_create 7<"$secret" 8<"$secret"
  background runtime start "$ID"
  p=$(held_pid 1)
  [ "$p" = "$(ct_pid)" ]
  assert_unreachable "$p" "$secret" "$(reach_checks)"
  release_execve
  wait_until 30 grep -q probe "/proc/$p/cmdline"
}

@test "lifecycle: under run too, the container process is beyond the container's reach until it execs" {
  local secret=$BATS_TEST_TMPDIR/secret p
  echo secret >"$secret"
  hold_execve 1
  set_args /probe exit 0
  background runtime run --bundle "$BUNDLE" "$ID" 7<"$secret" </dev/null >"$CT_OUT" 2>"$CT_ERR"
  p=$(held_pid 1)
  assert_unreachable "$p" "$secret" "$(reach_checks)"
  release_execve
  wait "${BG_PIDS[-1]}"
}

# socket activation as runc does it: with LISTEN_FDS=N for the runtime's own pid, fds 3..3+N-1
# pass first (the process gets LISTEN_FDS=N, LISTEN_PID=1), then --preserve-fds; without the
# right LISTEN_PID nothing but --preserve-fds passes
@test "lifecycle: LISTEN_FDS for the runtime pass to the process, before --preserve-fds" {
  local t=$BATS_TEST_TMPDIR
  echo one >"$t/one"
  echo two >"$t/two"
  set_args /bin/sh -c '/probe fds; /probe env'
  # shellcheck disable=SC2016
  run timeout 60 sh -c 'LISTEN_PID=$$ LISTEN_FDS=1 exec "$0" --root "$1" run --preserve-fds 1 --bundle "$2" "$3"' \
    "$OCI_RUNTIME" "$ROOT" "$BUNDLE" "$ID" 3<"$t/one" 4<"$t/two" 5</etc/hostname
  assert_success_out
  assert_kv fds 0,1,2,3,4
  assert_kv fd.3 "$t/one"
  assert_kv fd.4 "$t/two"
  grep -qx env=LISTEN_FDS=1 <<<"$output"
  grep -qx env=LISTEN_PID=1 <<<"$output"
  run timeout 60 env LISTEN_PID=1 LISTEN_FDS=1 "$OCI_RUNTIME" --root "$ROOT" run --preserve-fds 1 --bundle "$BUNDLE" "$ID" \
    3<"$t/one" 4<"$t/two"
  assert_success_out
  assert_kv fds 0,1,2,3
  ! grep -q '^env=LISTEN_' <<<"$output"
}

@test "delete --regex: every container the regex matches goes, running ones only with --force (crun's flag)" {
  [ "$(runtime_name)" = runc ] && skip "runc 1.1.5 has no delete --regex"
  set_args /probe exit 0
  local c
  for c in abc1 xabc zzz abd; do
    runtime create --bundle "$BUNDLE" "$ID-$c" </dev/null >/dev/null 2>&1
    runtime start "$ID-$c"
  done
  for c in abc1 xabc zzz abd; do wait_status stopped "$ID-$c"; done
  set_args /probe signal-wait
  ct_run_detached
  # an extended regex, unanchored (crun's): abc1 and xabc
  runtime delete --regex "^$ID-.*abc"
  [ "$(runtime list -q | sort | paste -sd' ')" = "$ID $ID-abd $ID-zzz" ]
  # a running container needs --force; the others matched still go
  run runtime delete --regex "^$ID(-abd|-zzz)?$"
  [ "$(runtime list -q)" = "$ID" ]
  [ "$(ct_state)" = running ]
  runtime delete --force --regex "^$ID"
  [ -z "$(runtime list -q)" ]
  assert_nothing_left
}

@test "delete --regex: a container that cannot be deleted makes the exit status 1; a bad regex is an error" {
  requires_berth "crun 1.8 exits 0 whatever it could not delete"
  set_args /probe signal-wait
  ct_run_detached
  run runtime delete --regex "^$ID\$"
  assert_failure_out
  assert_contains "$output" "$ID"
  [ "$(ct_state)" = running ]
  run runtime delete --regex '('
  assert_failure_out
  assert_contains "$output" "--regex"
}

# notify_host: fdrecv listening at a host's NOTIFY_SOCKET ($NOTIFY_HOST), lines in $NOTIFY_OUT
notify_host() {
  NOTIFY_HOST=$BATS_TEST_TMPDIR/host-notify.sock
  NOTIFY_OUT=$BATS_TEST_TMPDIR/notify.out
  background "$FDRECV" notify "$NOTIFY_HOST" >"$NOTIFY_OUT" 2>&1
  wait_until 30 test -S "$NOTIFY_HOST"
}

@test "lifecycle: NOTIFY_SOCKET: the process gets /run/notify/notify.sock; READY=1 reaches the host with MAINPID (runc)" {
  is_crun && skip "crun 1.8 binds the socket at the host's path in the container and sends no MAINPID"
  notify_host
  # a non-root user may notify; only READY=1 goes on (and once)
  update_config '.process.user = {"uid": 1000, "gid": 1000}'
  set_args /bin/sh -c 'echo "env=$NOTIFY_SOCKET"; awk '"'"'$5 == "/run/notify" {print "opts=" $6}'"'"' /proc/self/mountinfo
    /probe notify STATUS=starting; /probe notify READY=1; /probe notify READY=1'
  run env NOTIFY_SOCKET="$NOTIFY_HOST" timeout 60 "$OCI_RUNTIME" --root "$ROOT" run --bundle "$BUNDLE" "$ID"
  assert_success_out
  assert_kv env /run/notify/notify.sock
  [[ ,$(probe_get opts), == *,ro,* && ,$(probe_get opts), == *,nosuid,* ]]
  grep -q '^notify=ok' <<<"$output"
  wait_until 30 file_has "$NOTIFY_OUT" '^notify=MAINPID='
  grep -qx notify=READY=1 "$NOTIFY_OUT"
  ! grep -q STATUS "$NOTIFY_OUT" || false
  requires_berth "runc 1.1.5 passes READY=1 on more than once"
  [ "$(grep -c '^notify=READY=1$' "$NOTIFY_OUT")" -eq 1 ]
}

@test "lifecycle: NOTIFY_SOCKET with create then start: start returns once READY=1 went on, MAINPID is the container's" {
  is_crun && skip "crun 1.8 binds the socket at the host's path in the container and sends no MAINPID"
  notify_host
  set_args /bin/sh -c 'sleep 1; /probe notify READY=1; exec /probe sleep inf'
  NOTIFY_SOCKET=$NOTIFY_HOST ct_create
  local t0=$(date +%s%N)
  run env NOTIFY_SOCKET="$NOTIFY_HOST" timeout 60 "$OCI_RUNTIME" --root "$ROOT" start "$ID"
  assert_success_out
  # start waited for it: the container sends READY=1 after a second
  [ $(($(date +%s%N) - t0)) -ge 900000000 ]
  # the listener (a process of its own) prints what start sent, when it gets to it
  wait_until 30 file_has "$NOTIFY_OUT" '^notify=MAINPID='
  grep -qx notify=READY=1 "$NOTIFY_OUT"
  [ "$(grep '^notify=MAINPID=' "$NOTIFY_OUT" | cut -d= -f3)" = "$(ct_pid)" ]
}

@test "lifecycle: NOTIFY_SOCKET: READY=1 queued behind STATUS= when the container exits still reaches the host" {
  is_crun && skip "crun 1.8 binds the socket at the host's path in the container and sends no MAINPID"
  notify_host
  # the container sends STATUS= and READY=1 and exits while \`run\` is stopped: \`run\` then wakes
  # to the exit and two queued datagrams at once, and must read past the first
  mkdir "$BATS_TEST_TMPDIR/gate"
  update_config --arg g "$BATS_TEST_TMPDIR/gate" \
    '.mounts += [{"destination": "/gate", "type": "bind", "source": $g, "options": ["rbind"]}]'
  set_args /bin/sh -c 'while [ ! -e /gate/go ]; do sleep 0.05; done; /probe notify STATUS=late; /probe notify READY=1'
  background env NOTIFY_SOCKET="$NOTIFY_HOST" "$OCI_RUNTIME" --root "$ROOT" run --bundle "$BUNDLE" "$ID" \
    >"$BATS_TEST_TMPDIR/run.out" 2>&1
  local rt=${BG_PIDS[-1]} pid
  wait_until 30 status_is "$ID" running
  pid=$(ct_pid)
  kill -STOP "$rt"
  touch "$BATS_TEST_TMPDIR/gate/go"
  # it exited: a zombie until the stopped runtime reaps it
  wait_until 30 sh -c "grep -q '^State:.*Z' /proc/$pid/status"
  kill -CONT "$rt"
  wait "$rt"
  grep -q '^notify=ok' "$BATS_TEST_TMPDIR/run.out"
  wait_until 30 file_has "$NOTIFY_OUT" '^notify=MAINPID='
  requires_berth "runc 1.1.5's MAINPID under run is its own pid"
  grep -qx "notify=MAINPID=$pid" "$NOTIFY_OUT"
}

@test "lifecycle: NOTIFY_SOCKET: a container that exits before READY=1 does not keep the runtime waiting" {
  requires_berth "runc 1.1.5 waits for READY=1 forever once the container has exited"
  notify_host
  set_args /probe exit 3
  run env NOTIFY_SOCKET="$NOTIFY_HOST" timeout 20 "$OCI_RUNTIME" --root "$ROOT" run --bundle "$BUNDLE" "$ID"
  [ "$status" -eq 3 ]
  set_args /probe exit 0
  NOTIFY_SOCKET=$NOTIFY_HOST ct_create
  run env NOTIFY_SOCKET="$NOTIFY_HOST" timeout 20 "$OCI_RUNTIME" --root "$ROOT" start "$ID"
  assert_success_out
  ! grep -q READY "$NOTIFY_OUT"
}
