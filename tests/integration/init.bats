#!/usr/bin/env bats
# berth-init (src/init/init.c): exit codes, signal forwarding (-g), zombie reaping, the grace
# period for what the program leaves behind, job control on a terminal — run directly on the
# host (where it is a child subreaper) and as PID 1 of containers of $OCI_RUNTIME (the static
# binary is copied into each bundle's rootfs). On the host the tests run $BERTH_INIT_HOST: in a
# sanitizer build the same program built with ASan and UBSan (berth-init-san, which a container
# could not run: it needs the host's sanitizer libraries), unless BERTH_INIT names one to test.
# Every host process a test starts carries a mark in its environment, and teardown fails the
# test when one is left.

load helpers

find_berth_init() {
  local p
  for p in "${BERTH_INIT:-}" "$BERTH_BUILD/src/init/berth-init" "$BERTH_BUILD/berth-init"; do
    if [ -n "$p" ] && [ -x "$p" ]; then
      echo "$p"
      return
    fi
  done
}

setup_file() {
  setup_file_common
  BERTH_INIT_HOST=${BERTH_INIT:-}
  BERTH_INIT=$(find_berth_init)
  if [ -z "$BERTH_INIT_HOST" ] && [ -x "$BERTH_BUILD/src/init/berth-init-san" ]; then
    BERTH_INIT_HOST=$BERTH_BUILD/src/init/berth-init-san
  else
    BERTH_INIT_HOST=$BERTH_INIT
  fi
  export BERTH_INIT BERTH_INIT_HOST
}

setup() {
  [ -n "${BERTH_INIT:-}" ] || skip "berth-init not built in $BERTH_BUILD"
  BG_PIDS=()
  T=$BATS_TEST_TMPDIR
  export BERTH_INIT_TEST_MARK=$T
}

# processes started by this test (they inherited the mark) that are still alive
marked_processes() {
  grep -lzxF "BERTH_INIT_TEST_MARK=$T" /proc/[0-9]*/environ 2>/dev/null | cut -d/ -f3 | sort -n | paste -sd' '
}

teardown() {
  local rc=0 left
  # from here on, nothing started carries the mark (grep itself included)
  export -n BERTH_INIT_TEST_MARK
  unset BERTH_INIT_TEST_MARK
  teardown_bundle || rc=1
  [ -n "${T:-}" ] || return $rc
  left=$(marked_processes)
  if [ -n "$left" ]; then
    echo "teardown: processes of the test left: $left" >&2
    # shellcheck disable=SC2086
    ps -o pid,ppid,stat,args -p "${left// /,}" >&2
    # shellcheck disable=SC2086
    kill -9 $left 2>/dev/null
    rc=1
  fi
  return $rc
}

# container tests: a bundle whose rootfs holds /berth-init
setup_container() {
  setup_bundle
  cp "$BERTH_INIT" "$ROOTFS/berth-init"
}

# zombies PPID: how many zombie children PPID has now
zombies() {
  cat /proc/[0-9]*/stat 2>/dev/null | awk -v pp="$1" '
    { s = $0; sub(/^.*\) /, "", s); split(s, f, " "); if (f[1] == "Z" && f[2] == pp) n++ }
    END { print n + 0 }'
}
zombies_are() { [ "$(zombies "$1")" -eq "$2" ]; }
zombies_at_least() { [ "$(zombies "$1")" -ge "$2" ]; }

ppid_of() { awk '{ s = $0; sub(/^.*\) /, "", s); split(s, f, " "); print f[2] }' "/proc/$1/stat"; }
# alive PID: exists and is not a zombie
alive() { [ -r "/proc/$1/stat" ] && [ "$(awk '{ s = $0; sub(/^.*\) /, "", s); print substr(s, 1, 1) }' "/proc/$1/stat" 2>/dev/null)" != Z ]; }
gone() { ! alive "$1"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# shell code for 200 orphaned zombies: 200 times, a subshell starts `sleep 0 &` and exits
# without waiting for it, so each sleep is reparented (running or already a zombie) to the
# nearest reaper: PID 1 of the pid namespace, or a child subreaper. (A single shell starting
# all 200 would reap many of them itself between forks.)
STORM='i=0; while [ $i -lt 200 ]; do (sleep 0 &); i=$((i+1)); done'
# the program of the container tests: the storm in the background while the program itself
# becomes a process that never waits (sleep)
STORM_PROG="($STORM; echo spawned) & exec sleep 1000"

# --- on the host ------------------------------------------------------------------------

@test "berth-init: bad usage exits 2 with a message; the program's own options are its own" {
  run "$BERTH_INIT_HOST"
  [ "$status" -eq 2 ]
  assert_contains "$output" "berth-init: missing program"
  assert_contains "$output" "usage: berth-init [-g] [-s] [-v] [--] PROGRAM [ARGS...]"
  run "$BERTH_INIT_HOST" -x true
  [ "$status" -eq 2 ]
  assert_contains "$output" 'berth-init: unknown option `-x`'
  run "$BERTH_INIT_HOST" ""
  [ "$status" -eq 2 ]
  run env BERTH_INIT_GRACE_MS=soon "$BERTH_INIT_HOST" true
  [ "$status" -eq 2 ]
  assert_contains "$output" 'berth-init: invalid BERTH_INIT_GRACE_MS'
  assert_contains "$output" '`soon`'
  run env BERTH_INIT_GRACE_MS=99999999999999999999 "$BERTH_INIT_HOST" true
  [ "$status" -eq 2 ]
  run "$BERTH_INIT_HOST" --help
  [ "$status" -eq 0 ]
  assert_contains "$output" "usage: berth-init"
  run "$BERTH_INIT_HOST" echo -g -v
  [ "$status" -eq 0 ]
  [ "$output" = "-g -v" ]
  run "$BERTH_INIT_HOST" -- echo -s
  [ "$output" = "-s" ]
}

@test "berth-init: 127 when the program is not found, 126 when it cannot be executed" {
  run -127 "$BERTH_INIT_HOST" /no/such/program
  [ "$output" = 'berth-init: exec `/no/such/program`: No such file or directory' ]
  run -127 env PATH=/nowhere:/bin "$BERTH_INIT_HOST" no-such-program-anywhere
  echo 'echo hi' >"$T/notexec"
  chmod 644 "$T/notexec"
  run "$BERTH_INIT_HOST" "$T/notexec"
  [ "$status" -eq 126 ]
  assert_contains "$output" "Permission denied"
  run "$BERTH_INIT_HOST" "$T"
  [ "$status" -eq 126 ]
  # a program found in PATH runs
  run env PATH=/nowhere:/bin "$BERTH_INIT_HOST" true
  [ "$status" -eq 0 ]
}

@test "berth-init: exits with the program's code, or 128+N when signal N killed it" {
  run "$BERTH_INIT_HOST" sh -c 'exit 7'
  [ "$status" -eq 7 ]
  run "$BERTH_INIT_HOST" sh -c 'echo out; echo err >&2; exit 0'
  [ "$status" -eq 0 ]
  assert_contains "$output" out
  assert_contains "$output" err
  run "$BERTH_INIT_HOST" sh -c 'kill -9 $$'
  [ "$status" -eq 137 ]
  run "$BERTH_INIT_HOST" sh -c 'kill -SEGV $$'
  [ "$status" -eq 139 ]
}

@test "berth-init: forwards SIGTERM; the program's exit code (42) is berth-init's" {
  "$BERTH_INIT_HOST" sh -c 'trap "exit 42" TERM; echo ready; sleep 1000 & wait' >"$T/out" 2>&1 3>&- &
  local pid=$! rc=0
  wait_until 30 file_has "$T/out" ready
  kill -TERM "$pid"
  wait "$pid" || rc=$?
  [ "$rc" -eq 42 ]
}

@test "berth-init: forwards every catchable signal, with default dispositions restored" {
  local sigs="HUP INT QUIT USR1 USR2 ALRM TERM WINCH URG TSTP TTIN TTOU CONT PIPE XCPU VTALRM PROF SYS"
  local traps="" s
  for s in $sigs; do traps="$traps trap 'echo got-$s' $s;"; done
  # bash starts background commands with SIGINT and SIGQUIT ignored; a shell cannot trap a
  # signal ignored at its start, so this also checks that berth-init resets dispositions
  "$BERTH_INIT_HOST" sh -c "$traps echo \$\$ >$T/pid; while :; do sleep 0.05; done" >"$T/out" 2>&1 3>&- &
  local pid=$! rc=0
  wait_until 30 test -s "$T/pid"
  for s in $sigs; do
    kill -s "$s" "$pid"
    wait_until 30 file_has "$T/out" "got-$s" || { cat "$T/out" >&2; false; }
  done
  kill -KILL "$(cat "$T/pid")"
  wait "$pid" || rc=$?
  [ "$rc" -eq 137 ]
}

@test "berth-init: -g forwards to the program's whole process group, without -g only to the program" {
  # the program waits for a background `sleep` of its own group when it gets SIGTERM
  local prog='sleep 1000 & echo $! >"$0"; trap "wait \$!; exit \$?" TERM; echo ready; wait'
  "$BERTH_INIT_HOST" -g sh -c "$prog" "$T/g" >"$T/out" 2>&1 3>&- &
  local pid=$! rc=0
  wait_until 30 file_has "$T/out" ready
  kill -TERM "$pid"
  wait "$pid" || rc=$?
  # the sleep got SIGTERM too: the program's `wait` returned 128+15 and it exited with that
  [ "$rc" -eq 143 ]
  gone "$(cat "$T/g")"

  : >"$T/out"
  "$BERTH_INIT_HOST" sh -c "$prog" "$T/g" >"$T/out" 2>&1 3>&- &
  pid=$!
  rc=0
  wait_until 30 file_has "$T/out" ready
  kill -TERM "$pid"
  sleep 0.5
  # only the program got it: its sleep still runs, and so does the program waiting for it
  alive "$(cat "$T/g")"
  alive "$pid"
  kill -TERM "$(cat "$T/g")"
  wait "$pid" || rc=$?
  [ "$rc" -eq 143 ]
}

@test "berth-init: a subreaper outside a pid namespace adopts and reaps orphans, leaves none behind" {
  mkfifo "$T/fifo"
  "$BERTH_INIT_HOST" -v sh -c "(sleep 1000 & echo \$! >$T/orphan); $STORM; echo spawned; read x <$T/fifo; exit 3" \
    >"$T/out" 2>"$T/err" 3>&- &
  local pid=$! rc=0
  wait_until 30 file_has "$T/out" spawned
  # the orphan's parent is berth-init, not the host's init
  [ "$(ppid_of "$(cat "$T/orphan")")" -eq "$pid" ]
  wait_until 30 zombies_are "$pid" 0
  wait_until 30 eval '[ "$(grep -c "reaped orphan" "$T/err")" -ge 200 ]' || { cat "$T/err" >&2; false; }
  zombies_are "$pid" 0
  echo go >"$T/fifo"
  wait "$pid" || rc=$?
  [ "$rc" -eq 3 ]
  # the sleep that outlived the program got SIGTERM and was reaped
  gone "$(cat "$T/orphan")"
  assert_contains "$(cat "$T/err")" "SIGTERM to 1 descendant"
}

@test "berth-init: what the program leaves gets SIGTERM, then SIGKILL after BERTH_INIT_GRACE_MS" {
  # a child that ignores SIGTERM, with a child of its own: both outlive the program
  local prog='sh -c "trap \"\" TERM; sleep 1000 & echo \$! >$0.inner; exec sleep 1000" &
    echo $! >"$0"; while [ ! -s "$0.inner" ]; do sleep 0.01; done; exit 5'
  local t0 t1
  t0=$(now_ms)
  run env BERTH_INIT_GRACE_MS=400 "$BERTH_INIT_HOST" -v sh -c "$prog" "$T/o"
  t1=$(now_ms)
  [ "$status" -eq 5 ]
  assert_contains "$output" "SIGTERM to 2 descendants"
  assert_contains "$output" "grace period of 400 ms over"
  assert_contains "$output" "SIGKILL to 2 descendants"
  [ $((t1 - t0)) -ge 400 ]
  gone "$(cat "$T/o")"
  gone "$(cat "$T/o.inner")"

  # children that honour SIGTERM end the grace period early: no SIGKILL
  prog='sleep 1000 & echo $! >"$0"; exit 6'
  run timeout 30 env BERTH_INIT_GRACE_MS=60000 "$BERTH_INIT_HOST" -v sh -c "$prog" "$T/o"
  [ "$status" -eq 6 ]
  assert_contains "$output" "SIGTERM to 1 descendant"
  [[ $output != *SIGKILL* ]]
  gone "$(cat "$T/o")"

  # a grace of 0: straight to SIGKILL
  run env BERTH_INIT_GRACE_MS=0 "$BERTH_INIT_HOST" -v sh -c "$prog" "$T/o"
  [ "$status" -eq 6 ]
  [[ $output != *SIGTERM* ]]
  assert_contains "$output" "SIGKILL to 1 descendant"
  gone "$(cat "$T/o")"
}

@test "berth-init: on a terminal the program is its foreground group, and ^Z, fg and ^C work" {
  command -v python3 >/dev/null || skip "python3 not installed"
  # an interactive shell on a pty runs berth-init as a job
  run timeout 60 python3 - "$BERTH_INIT_HOST" <<'EOF'
import os, pty, re, select, sys, time
init = sys.argv[1]
pid, fd = pty.fork()
if pid == 0:
    os.execvp("bash", ["bash", "--norc", "--noprofile", "--noediting", "-i"])
buf = b""
def expect(pattern, timeout=10):
    """wait for PATTERN (a regex) in the terminal's output; consume up to its end"""
    global buf
    end = time.time() + timeout
    while True:
        m = re.search(pattern.encode(), buf)
        if m:
            buf = buf[m.end():]
            return m
        if time.time() > end:
            print("timeout waiting for %r; got %r" % (pattern, buf.decode(errors="replace")))
            sys.exit(1)
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                buf += os.read(fd, 4096)
            except OSError:
                pass
def send(s):
    os.write(fd, s.encode())
send("stty -echo; PS1='$ '\n")
# the program's process group (stat field 5) is the terminal's foreground group (field 8),
# and it is not berth-init's group
send(init + " sh -c 'read -r l </proc/self/stat; set -- ${l##*) };"
     " echo pg=$3 fg=$6 initpg=$(cut -d\" \" -f5 /proc/$PPID/stat)'\n")
m = expect(r"pg=(\d+) fg=(\d+) initpg=(\d+)")
print(m.group(0).decode())
if m.group(1) != m.group(2) or m.group(1) == m.group(3):
    print("the program is not the terminal's foreground group")
    sys.exit(1)
# (not a loop forking `sleep`: dash forks with vfork, and a vfork child stopped before its
# exec leaves its parent waiting in the kernel, unstoppable, with or without berth-init)
send(init + " sh -c 'echo st\"\"arted; exec sleep 1000'\n")
expect(r"started\r\n")
send("\x1a")                    # ^Z: the program stops, berth-init follows, bash sees the job stop
expect("Stopped")
print("stopped")
send("fg >/dev/null\n")         # berth-init resumes and gives the terminal back to the program
time.sleep(0.5)
send("\x03")                    # ^C reaches the program: it dies of SIGINT, berth-init exits 130
send("echo status=$?\n")
m = expect(r"status=(\d+)")
print(m.group(0).decode())
send("exit\n")
os.waitpid(pid, 0)
EOF
  echo "$output"
  [ "$status" -eq 0 ]
  assert_contains "$output" "status=130"
}

# --- as PID 1 of a container --------------------------------------------------------------

@test "berth-init in a container: reaps a storm of orphaned zombies; without it they pile up" {
  setup_container
  # without berth-init: the program is PID 1 and never waits, so every orphan stays a zombie
  set_args /bin/sh -c "$STORM_PROG"
  ct_run_detached
  wait_output spawned
  local pid
  pid=$(ct_pid)
  wait_until 30 zombies_at_least "$pid" 200 || { echo "zombies: $(zombies "$pid")" >&2; false; }
  sleep 0.2
  zombies_at_least "$pid" 200
  runtime kill "$ID" KILL
  wait_status stopped
  runtime delete "$ID"

  # with berth-init as PID 1 and the same program as its child: every orphan is reaped
  : >"$CT_OUT"
  set_args /berth-init -v -- /bin/sh -c "$STORM_PROG"
  ct_run_detached
  wait_output spawned
  pid=$(ct_pid)
  wait_until 30 eval '[ "$(grep -c "reaped orphan" "$CT_ERR")" -ge 200 ]' || { cat "$CT_ERR" >&2; false; }
  wait_until 30 zombies_are "$pid" 0
  sleep 0.2
  zombies_are "$pid" 0
  assert_contains "$(cat "$CT_ERR")" "berth-init is pid 1"
}

@test "berth-init in a container: forwards SIGTERM from the runtime; the container exits 42" {
  setup_container
  set_args /berth-init -- /bin/sh -c 'trap "exit 42" TERM; echo ready; sleep 1000 & wait'
  runtime run --bundle "$BUNDLE" "$ID" </dev/null >"$CT_OUT" 2>"$CT_ERR" 3>&- &
  local rpid=$! rc=0
  wait_output ready
  runtime kill "$ID" TERM
  wait "$rpid" || rc=$?
  [ "$rc" -eq 42 ]
}

@test "berth-init in a container: a program without a SIGTERM handler dies of it (143); as PID 1 it would not" {
  setup_container
  # without berth-init: the kernel drops default-action signals to a namespace's PID 1
  set_args /bin/sleep 1000
  ct_run_detached
  runtime kill "$ID" TERM
  sleep 0.5
  [ "$(ct_state)" = running ]
  runtime kill "$ID" KILL
  wait_status stopped
  runtime delete "$ID"

  set_args /berth-init /bin/sleep 1000
  runtime run --bundle "$BUNDLE" "$ID" </dev/null >"$CT_OUT" 2>"$CT_ERR" 3>&- &
  local rpid=$! rc=0
  wait_status running
  # "running" comes before berth-init has set up its signals (a TERM then would be dropped, as
  # above); it starts the program only after: wait for that child
  wait_until 30 pgrep -P "$(ct_pid)" >/dev/null
  runtime kill "$ID" TERM
  wait "$rpid" || rc=$?
  [ "$rc" -eq 143 ]
}

@test "berth-init in a container: exits 128+9 when the program is SIGKILLed" {
  setup_container
  set_args /berth-init -- /bin/sh -c 'echo ready $$; sleep 1000 & wait'
  runtime run --bundle "$BUNDLE" "$ID" </dev/null >"$CT_OUT" 2>"$CT_ERR" 3>&- &
  local rpid=$! rc=0
  wait_output ready
  # the program's pid in the container (not always 2: runc's setup takes some). The exec'd
  # kill may itself get the SIGTERM that berth-init sends to the whole pid namespace once
  # the program is dead, so its own status is not the point.
  runtime exec "$ID" /bin/kill -9 "$(awk '/^ready/ {print $2}' "$CT_OUT")" || true
  wait "$rpid" || rc=$?
  [ "$rc" -eq 137 ]
}

@test "berth-init in a container: 127 when the program is not found, 126 when it cannot run" {
  setup_container
  set_args /berth-init /no/such/program
  run -127 runtime run --bundle "$BUNDLE" "$ID"
  assert_contains "$output" 'berth-init: exec `/no/such/program`: No such file or directory'
  set_args /berth-init /etc/passwd
  run runtime run --bundle "$BUNDLE" "$ID"
  [ "$status" -eq 126 ]
  assert_contains "$output" 'berth-init: exec `/etc/passwd`: Permission denied'
}

@test "berth-init in a container: children that ignore SIGTERM are SIGKILLed after the grace period" {
  setup_container
  update_config '.root.readonly = false | .process.env += ["BERTH_INIT_GRACE_MS=300"]'
  set_args /berth-init -v -- /bin/sh -c \
    'sh -c "trap \"\" TERM; touch /tmp/ready; exec sleep 1000" & while [ ! -e /tmp/ready ]; do sleep 0.01; done; exit 5'
  run runtime run --bundle "$BUNDLE" "$ID"
  [ "$status" -eq 5 ]
  assert_contains "$output" "SIGTERM to every process of the pid namespace"
  assert_contains "$output" "grace period of 300 ms over"
  assert_contains "$output" "SIGKILL to every process of the pid namespace"
  assert_contains "$output" "(signal 9)"

  # one that honours SIGTERM: reaped within the grace period, no SIGKILL
  update_config '.process.env = [.process.env[] | select(startswith("BERTH_INIT_GRACE_MS=") | not)] + ["BERTH_INIT_GRACE_MS=60000"]'
  set_args /berth-init -v -- /bin/sh -c 'sleep 1000 & exit 6'
  run runtime run --bundle "$BUNDLE" "$ID"
  [ "$status" -eq 6 ]
  assert_contains "$output" "(signal 15)"
  [[ $output != *SIGKILL* ]]
}
