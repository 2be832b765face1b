#!/usr/bin/env bats
# exec: a new process in a running container — output and exit status, every namespace and
# the cgroup of the container joined, --process, -e/--cwd/-u/--additional-gids/--cap/
# --no-new-privs, -d with --pid-file, --preserve-fds, -t with --console-socket, the
# container's seccomp filter, CVE-2024-21626 cwd, errors (stopped, paused, missing binary).

load helpers
load cgroup_helpers

# start_ct: a running container whose init sleeps; INIT is its host pid
start_ct() {
  set_args /probe sleep inf
  ct_run_detached
  INIT=$(ct_pid)
  [ "$INIT" -gt 0 ]
}

# exec_out FILE ARGS...: exec with the process's stdio in FILE (for -d: a pipe would keep
# bats waiting for the detached process)
exec_out() {
  local f=$1
  shift
  runtime exec "$@" </dev/null >"$f" 2>&1
}

# pids_in_pidns PID: host pids of every process in the pid namespace of PID
pids_in_pidns() {
  local ns p
  ns=$(readlink "/proc/$1/ns/pid")
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/ns/pid" 2>/dev/null)" = "$ns" ] && echo "${p#/proc/}"
  done
  return 0
}

@test "exec: prints the process's output and returns its exit status" {
  start_ct
  run runtime exec "$ID" /probe args one 'two words'
  assert_success_out
  assert_kv argc 4
  assert_kv arg.2 one
  assert_kv arg.3 'two words'
  run runtime exec "$ID" /probe exit 42
  [ "$status" -eq 42 ]
  run runtime exec "$ID" /bin/sh -c 'echo on-stderr >&2; exit 3'
  [ "$status" -eq 3 ]
  assert_contains "$output" on-stderr
  [ "$(ct_state)" = running ]
}

@test "exec: exits 128+N when the process is killed by signal N" {
  start_ct
  run runtime exec "$ID" /bin/sh -c 'kill -KILL $$'
  [ "$status" -eq 137 ] || { echo "status $status, expected 137: $output"; false; }
  run runtime exec "$ID" /bin/sh -c 'kill -TERM $$'
  [ "$status" -eq 143 ] || { echo "status $status, expected 143: $output"; false; }
  [ "$(ct_state)" = running ]
}

@test "exec: joins every namespace of the container" {
  update_config '.linux.namespaces += [{"type": "cgroup"}]'
  start_ct
  run runtime exec "$ID" /probe ns
  assert_success_out
  local t
  for t in pid net ipc uts mnt cgroup user time pid_for_children time_for_children; do
    assert_kv "ns.$t" "$(readlink "/proc/$INIT/ns/$t")"
  done
  # the new ones are not the host's
  for t in pid net ipc uts mnt cgroup; do
    [ "$(readlink "/proc/$INIT/ns/$t")" != "$(readlink "/proc/self/ns/$t")" ]
  done
  # the container's pid namespace: init is pid 1 there, the exec'd process another pid
  run runtime exec "$ID" /probe ids
  assert_success_out
  [ "$(probe_get pid)" -gt 1 ]
  run runtime exec "$ID" cat /proc/1/cmdline
  assert_contains "$output" probe
}

@test "exec: joins the container's user namespace" {
  local d=$BUNDLE
  while [ "$d" != / ] && [ "$d" != /tmp ]; do
    chmod o+x "$d"
    d=$(dirname "$d")
  done
  update_config '.linux.namespaces += [{"type": "user"}]
    | .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    | .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]'
  start_ct
  run runtime exec "$ID" /probe ns
  assert_success_out
  assert_kv ns.user "$(readlink "/proc/$INIT/ns/user")"
  [ "$(probe_get ns.user)" != "$(readlink /proc/self/ns/user)" ]
  assert_kv ns.pid "$(readlink "/proc/$INIT/ns/pid")"
  assert_kv ns.mnt "$(readlink "/proc/$INIT/ns/mnt")"
  run runtime exec "$ID" /bin/sh -c 'cat /proc/self/uid_map; /probe ids'
  assert_success_out
  [ "$(echo ${lines[0]})" = "0 100000 65536" ]
  assert_kv uid 0
  # the host sees the exec'd process under the mapped id
  exec_out "$BATS_TEST_TMPDIR/x.out" -d --pid-file "$BATS_TEST_TMPDIR/x.pid" "$ID" /probe sleep inf
  [ "$(awk '/^Uid:/ {print $2}' "/proc/$(cat "$BATS_TEST_TMPDIR/x.pid")/status")" = 100000 ]
}

@test "exec: joins the container's cgroup in every hierarchy" {
  start_ct
  run runtime exec "$ID" cat /proc/self/cgroup
  assert_success_out
  [ "$output" = "$(cat "/proc/$INIT/cgroup")" ] || {
    echo "exec: $output"
    echo "init: $(cat "/proc/$INIT/cgroup")"
    false
  }
  # every v1 controller line names the container's cgroup
  local line
  while IFS= read -r line; do
    [[ $line == *:"$CG" ]] || { echo "not in $CG: $line"; false; }
  done < <(grep -v '^0::' <<<"$output")
  # and the process is listed in the cgroup while it runs
  exec_out "$BATS_TEST_TMPDIR/x.out" -d --pid-file "$BATS_TEST_TMPDIR/x.pid" "$ID" /probe sleep inf
  grep -qx "$(cat "$BATS_TEST_TMPDIR/x.pid")" "/sys/fs/cgroup/pids$CG/cgroup.procs"
  grep -qx "$(cat "$BATS_TEST_TMPDIR/x.pid")" "/sys/fs/cgroup/memory$CG/cgroup.procs"
}

@test "exec: --process process.json gives args, env, cwd, user and capabilities" {
  start_ct
  cat >"$BATS_TEST_TMPDIR/process.json" <<'EOF'
{
  "terminal": false,
  "user": {"uid": 1000, "gid": 1000, "additionalGids": [5, 100]},
  "args": ["/probe", "all"],
  "env": ["PATH=/bin", "FROM_PROCESS_JSON=yes"],
  "cwd": "/tmp",
  "capabilities": {
    "bounding": ["CAP_KILL", "CAP_CHOWN"],
    "effective": ["CAP_KILL"],
    "permitted": ["CAP_KILL"],
    "inheritable": ["CAP_KILL"],
    "ambient": ["CAP_KILL"]
  },
  "noNewPrivileges": true
}
EOF
  run runtime exec --process "$BATS_TEST_TMPDIR/process.json" "$ID"
  assert_success_out
  assert_kv uid 1000
  assert_kv gid 1000
  assert_list_eq groups 5,100
  assert_kv cwd /tmp
  assert_kv cap_bnd CAP_CHOWN,CAP_KILL
  assert_kv cap_eff CAP_KILL
  assert_kv cap_amb CAP_KILL
  assert_kv no_new_privs 1
  jq '.args = ["/probe", "env"]' "$BATS_TEST_TMPDIR/process.json" >"$BATS_TEST_TMPDIR/p2.json"
  run runtime exec --process "$BATS_TEST_TMPDIR/p2.json" "$ID"
  assert_success_out
  assert_contains "$output" env=FROM_PROCESS_JSON=yes
  assert_contains "$output" env=PATH=/bin
  # the config's environment is not mixed in
  [[ $output != *TERM=xterm* ]]
}

@test "exec: -e, --cwd, -u and --additional-gids" {
  start_ct
  run runtime exec -e FOO=bar -e 'SPACED=a b' --cwd /tmp -u 1000:100 \
    --additional-gids 5 --additional-gids 1000 "$ID" /probe all
  assert_success_out
  assert_kv uid 1000
  assert_kv gid 100
  assert_list_eq groups 5,1000
  assert_kv cwd /tmp
  run runtime exec -e FOO=bar -e 'SPACED=a b' -e TERM=dumb "$ID" /probe env
  assert_success_out
  assert_contains "$output" env=FOO=bar
  assert_contains "$output" 'env=SPACED=a b'
  # the config's environment is the base, -e overrides a variable of it
  assert_contains "$output" env=PATH=/usr/local/sbin
  [ "$(grep -c '^env=TERM=' <<<"$output")" -eq 1 ]
  assert_contains "$output" env=TERM=dumb
  # -u UID alone: gid 0
  run runtime exec -u 1000 "$ID" /probe ids
  assert_success_out
  assert_kv uid 1000
  assert_kv gid 0
}

@test "exec: without HOME in env, HOME is the exec user's home in the container's /etc/passwd, else / (runc)" {
  update_config '.process.env = ["PATH=/bin"]'
  start_ct
  run runtime exec "$ID" /bin/sh -c 'echo "home=$HOME"'
  assert_success_out
  assert_kv home /root
  run runtime exec --user 1000 "$ID" /bin/sh -c 'echo "home=$HOME"'
  assert_success_out
  assert_kv home /tmp
  run runtime exec --user 1000 --env HOME=/elsewhere "$ID" /bin/sh -c 'echo "home=$HOME"'
  assert_success_out
  assert_kv home /elsewhere
  is_crun && skip "crun 1.8 leaves HOME unset for a uid /etc/passwd does not list"
  run runtime exec --user 4242:4242 "$ID" /bin/sh -c 'echo "home=$HOME"'
  assert_success_out
  assert_kv home /
}

@test "exec: a non-root process can reopen its std streams when they are pipes (runc, crun)" {
  start_ct
  run runtime exec --user 1000:1000 "$ID" /bin/sh -c 'echo out >/proc/self/fd/1 && echo err >/dev/stderr && echo reopen=ok'
  assert_success_out
  assert_kv reopen ok
}

@test "exec: --cap adds a capability to the effective set" {
  start_ct
  run runtime exec "$ID" /probe caps
  assert_success_out
  [[ ,$(probe_get cap_eff), != *,CAP_SYS_ADMIN,* ]]
  run runtime exec --cap CAP_SYS_ADMIN --cap CAP_NET_RAW "$ID" /probe caps
  assert_success_out
  local eff
  eff=,$(probe_get cap_eff),
  [[ $eff == *,CAP_SYS_ADMIN,* ]] || { echo "cap_eff=$eff"; false; }
  [[ $eff == *,CAP_NET_RAW,* ]]
  [[ $eff == *,CAP_KILL,* ]]
  # and it works: only CAP_SYS_ADMIN lets sethostname through
  run runtime exec "$ID" /probe syscall sethostname
  assert_kv syscall EPERM
  run runtime exec --cap CAP_SYS_ADMIN "$ID" /probe syscall sethostname
  assert_kv syscall ok
}

@test "exec: --no-new-privs, and the config's noNewPrivileges by default" {
  update_config '.process.noNewPrivileges = false'
  start_ct
  run runtime exec "$ID" /probe caps
  assert_success_out
  assert_kv no_new_privs 0
  run runtime exec --no-new-privs "$ID" /probe caps
  assert_success_out
  assert_kv no_new_privs 1
}

@test "exec: -d returns at once and --pid-file holds a live pid in the container's pid namespace" {
  start_ct
  local pf=$BATS_TEST_TMPDIR/exec.pid
  # (a runtime that waited for the process would be stopped by this timeout)
  RUNTIME_TIMEOUT=15 exec_out "$BATS_TEST_TMPDIR/x.out" -d --pid-file "$pf" "$ID" /probe signal-wait
  [ -s "$pf" ]
  local pid
  pid=$(cat "$pf")
  [[ $pid =~ ^[0-9]+$ ]]
  kill -0 "$pid"
  [ "$pid" != "$INIT" ]
  [ "$(readlink "/proc/$pid/ns/pid")" = "$(readlink "/proc/$INIT/ns/pid")" ]
  [ "$(readlink "/proc/$pid/ns/mnt")" = "$(readlink "/proc/$INIT/ns/mnt")" ]
  # NSpid: the host pid, then a pid other than 1 inside
  local nspid
  nspid=$(awk '/^NSpid:/ {print NF - 1, $3}' "/proc/$pid/status")
  [ "${nspid%% *}" -eq 2 ]
  [ "${nspid##* }" -gt 1 ]
  # it is the program itself (not a runtime process waiting for it)
  wait_until 30 file_has "$BATS_TEST_TMPDIR/x.out" ready
  kill -USR1 "$pid"
  wait_until 30 file_has "$BATS_TEST_TMPDIR/x.out" 'signal=10'
  kill -TERM "$pid"
  wait_until 30 sh -c "! kill -0 $pid 2>/dev/null"
  [ "$(ct_state)" = running ]
}

@test "exec: --preserve-fds passes exactly the next N descriptors" {
  start_ct
  echo three >"$BATS_TEST_TMPDIR/three"
  run timeout 60 "$OCI_RUNTIME" --root "$ROOT" exec --preserve-fds 2 "$ID" /probe fds \
    3<"$BATS_TEST_TMPDIR/three" 4</etc/hostname 5</etc/hostname 6</etc/hostname
  assert_success_out
  assert_kv fds 0,1,2,3,4
  assert_kv fd.3 "$BATS_TEST_TMPDIR/three"
  assert_kv fd.4 /etc/hostname
  # without it, open descriptors of the caller do not reach the process
  run timeout 60 "$OCI_RUNTIME" --root "$ROOT" exec "$ID" /probe fds \
    3<"$BATS_TEST_TMPDIR/three" 4</etc/hostname 9</etc/hostname
  assert_success_out
  assert_kv fds 0,1,2
}

# CVE-2016-9962: the exec process joins the container as the runtime's code; until its execve
# nothing in the container may reach it, with or without no_new_privs (the filter after or
# before the credentials), and it holds no descriptor its caller did not pass
@test "exec: until it execs, the process is beyond the container's reach and holds none of the caller's descriptors" {
  local secret=$BATS_TEST_TMPDIR/secret nnp n=0 p ex
  echo secret >"$secret"
  hold_execve 2,4 # 1: the container's own, 3 and 5: assert_unreachable's probes
  start_ct
  for nnp in true false; do
    jq --argjson n "$nnp" '.args = ["/probe", "exit", "0"] | .noNewPrivileges = $n' \
      <<<"$(jq .process "$BUNDLE/config.json")" >"$BATS_TEST_TMPDIR/p.json"
    background runtime exec --process "$BATS_TEST_TMPDIR/p.json" "$ID" 7<"$secret" 8<"$secret"
    ex=${BG_PIDS[-1]}
    n=$((n + 1))
    p=$(held_pid "$n")
    [ "$(readlink "/proc/$p/ns/pid")" = "$(readlink "/proc/$INIT/ns/pid")" ]
    assert_unreachable "$p" "$secret"
    release_execve
    wait "$ex" # and then it runs
  done
}

@test "exec: -t with --console-socket hands over a pty and the process sees a tty" {
  start_ct
  local sock=$BATS_TEST_TMPDIR/console.sock
  background "$FDRECV" console "$sock" >"$BATS_TEST_TMPDIR/console.out" 2>"$BATS_TEST_TMPDIR/console.err"
  wait_until 30 test -S "$sock"
  exec_out "$BATS_TEST_TMPDIR/x.out" -d -t --console-socket "$sock" "$ID" /probe tty
  wait_until 30 file_has "$BATS_TEST_TMPDIR/console.err" 'console=received'
  wait_until 30 file_has "$BATS_TEST_TMPDIR/console.out" '^ctty='
  local out
  out=$(tr -d '\r' <"$BATS_TEST_TMPDIR/console.out")
  assert_kv tty.0 1 "$out"
  assert_kv tty.1 1 "$out"
  assert_kv tty.2 1 "$out"
  assert_kv ctty ok "$out"
  [[ $(probe_get ttyname "$out") == /dev/pts/* ]]
}

@test "exec: the container's seccomp filter applies to exec'd processes" {
  update_config '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW",
    "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
    "syscalls": [{"names": ["keyctl"], "action": "SCMP_ACT_ERRNO", "errnoRet": 95}]}'
  start_ct
  run runtime exec "$ID" /probe syscall keyctl
  assert_success_out
  assert_kv syscall EOPNOTSUPP
  run runtime exec "$ID" /probe caps
  assert_kv seccomp 2
  # the same filter through --process
  jq '.args = ["/probe", "syscall", "keyctl"]' <<<"$(jq .process "$BUNDLE/config.json")" >"$BATS_TEST_TMPDIR/p.json"
  run runtime exec --process "$BATS_TEST_TMPDIR/p.json" "$ID"
  assert_kv syscall EOPNOTSUPP
}

# CVE-2024-21626: a cwd through a descriptor the runtime leaked into the exec'd process
@test "exec: cwd /proc/self/fd/N never leaves the container (CVE-2024-21626)" {
  start_ct
  local n cwd
  for n in 3 4 5 6 7 8 9 10; do
    run runtime exec --cwd "/proc/self/fd/$n" "$ID" /probe all
    if [ "$status" -eq 0 ]; then
      cwd=$(probe_get cwd)
      [[ $cwd == /* ]] || { echo "fd $n: cwd outside the container: $cwd"; echo "$output"; false; }
      [[ $cwd != /sys/fs/cgroup* ]] || { echo "fd $n: cwd is a host cgroup dir"; false; }
    fi
    jq --arg c "/proc/self/fd/$n" '.cwd = $c' <<<"$(jq .process "$BUNDLE/config.json")" >"$BATS_TEST_TMPDIR/p.json"
    run runtime exec --process "$BATS_TEST_TMPDIR/p.json" "$ID"
    if [ "$status" -eq 0 ]; then
      cwd=$(probe_get cwd)
      [[ $cwd == /* ]] || { echo "fd $n (--process): cwd outside the container: $cwd"; false; }
      [[ $cwd != /sys/fs/cgroup* ]] || { echo "fd $n (--process): cwd is a host cgroup dir"; false; }
    fi
  done
  [ "$(ct_state)" = running ]
}

@test "exec: into a stopped container fails" {
  set_args /probe exit 0
  ct_create
  runtime start "$ID"
  wait_status stopped
  run runtime exec "$ID" /probe ids
  assert_failure_out
  assert_contains "$output" "cannot exec in a stopped container"
  [[ $output != *uid=* ]]
}

@test "exec: into a paused container fails, and works again after resume" {
  start_ct
  runtime pause "$ID"
  [ "$(ct_state)" = paused ]
  run runtime exec "$ID" /probe ids
  assert_failure_out
  assert_contains "$output" "cannot exec in a paused container"
  [[ $output != *uid=* ]]
  [ "$(ct_state)" = paused ]
  runtime resume "$ID"
  run runtime exec "$ID" /probe ids
  assert_success_out
  assert_kv uid 0
}

@test "exec: a missing binary fails with a clear error and leaves no process" {
  start_ct
  run runtime exec "$ID" /no/such/binary
  assert_failure_out
  assert_contains "$output" /no/such/binary
  assert_contains "${output,,}" "no such file"
  run runtime exec "$ID" no-such-binary-in-path
  assert_failure_out
  assert_contains "$output" no-such-binary-in-path
  # only init is left in the container's pid namespace and cgroup
  wait_until 30 sh -c "[ \"\$(cat /sys/fs/cgroup/pids$CG/cgroup.procs)\" = $INIT ]"
  # (a failed exec's child must be reaped by the runtime, not left to the host's init)
  local left
  left=$(pids_in_pidns "$INIT" | grep -vx "$INIT" || true)
  [ -z "$left" ] || {
    echo "processes left in the container's pid namespace:"
    ps -o pid,ppid,stat,args -p "$(paste -sd, <<<"$left")"
    false
  }
  [ "$(ct_state)" = running ]
  # and exec still works
  run runtime exec "$ID" /probe exit 0
  assert_success_out
}
