#!/usr/bin/env bats
# Security properties (issue 2, part 3). Each test fails on a runtime with the named hole.

load helpers

run_ok() {
  run runtime run --bundle "$BUNDLE" "$ID"
  assert_success_out
}

@test "security: no descriptor of the caller but 0, 1 and 2 reaches the container" {
  set_args /probe fds
  exec 7</etc/hostname 8>/dev/null 9<"$BUNDLE/config.json"
  run runtime run --bundle "$BUNDLE" "$ID"
  exec 7<&- 8>&- 9<&-
  assert_success_out
  assert_kv fds 0,1,2
}

@test "security: no descriptor of the runtime reaches a created container either" {
  set_args /probe fds
  exec 7</etc/hostname
  ct_create
  exec 7<&-
  runtime start "$ID"
  wait_status stopped
  assert_kv fds 0,1,2 "$(cat "$CT_OUT")"
}

@test "security: --preserve-fds passes exactly the next N descriptors" {
  set_args /probe fds
  echo three >"$BATS_TEST_TMPDIR/three"
  run timeout 60 "$OCI_RUNTIME" --root "$ROOT" run --preserve-fds 2 --bundle "$BUNDLE" "$ID" \
    3<"$BATS_TEST_TMPDIR/three" 4</etc/hostname 5</etc/hostname
  assert_success_out
  assert_kv fds 0,1,2,3,4
  assert_kv fd.3 "$BATS_TEST_TMPDIR/three"
}

# CVE-2024-21626: a cwd through a descriptor the runtime leaked into the container process
@test "security: cwd /proc/self/fd/N never leaves the container (CVE-2024-21626)" {
  local n
  set_args /probe all
  for n in 3 4 5 6 7 8 9 10; do
    update_config '.process.cwd = $c' --arg c "/proc/self/fd/$n"
    run runtime run --bundle "$BUNDLE" "$ID-$n"
    if [ "$status" -eq 0 ]; then
      local cwd
      cwd=$(probe_get cwd)
      [[ $cwd == /* ]] || { echo "fd $n: cwd outside the container: $cwd"; echo "$output"; false; }
      [[ $cwd != /sys/fs/cgroup* ]] || { echo "fd $n: cwd is a host cgroup dir"; false; }
    fi
    runtime delete --force "$ID-$n" >/dev/null 2>&1 || true
  done
}

@test "security: a relative cwd is refused" {
  update_config '.process.cwd = "tmp"'
  run runtime run --bundle "$BUNDLE" "$ID"
  assert_failure_out
  assert_nothing_left
}

# CVE-2021-30465: mount destinations are resolved inside the rootfs
@test "security: a mount destination through a symlink to a host path stays inside the rootfs (CVE-2021-30465)" {
  local host_dir=$BATS_TEST_TMPDIR/host-target
  mkdir -p "$host_dir" "$BATS_TEST_TMPDIR/src"
  echo marker >"$BATS_TEST_TMPDIR/src/file"
  ln -s "$host_dir" "$ROOTFS/evil-abs"
  ln -s "../../../../../../../../..$host_dir" "$ROOTFS/evil-rel"
  update_config '.mounts += [
      {"destination": "/evil-abs", "type": "bind", "source": $s, "options": ["bind"]},
      {"destination": "/evil-rel/sub", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]}]' \
    --arg s "$BATS_TEST_TMPDIR/src"
  set_args /bin/sh -c "cat $host_dir/file; /probe mounts"
  run runtime run --bundle "$BUNDLE" "$ID"
  # the host directory was not mounted over, in the caller's namespace or anywhere we can see
  [ -z "$(ls -A "$host_dir")" ]
  [ -z "$(mounts_under "$host_dir")" ]
  if [ "$status" -eq 0 ]; then
    # resolved inside the rootfs: the bind mount is reachable through the symlink in the container
    [ "${lines[0]}" = marker ]
  fi
  assert_nothing_left
}

# CVE-2019-16884: /proc must be procfs before anything is written through it
@test "security: a tmpfs over /proc is refused (CVE-2019-16884)" {
  update_config '.mounts += [{"destination": "/proc", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]}]'
  run runtime run --bundle "$BUNDLE" "$ID"
  assert_failure_out
  assert_nothing_left
}

@test "security: a bind mount of a fake directory over /proc is refused (CVE-2019-16884)" {
  mkdir -p "$BATS_TEST_TMPDIR/fakeproc/self/attr"
  touch "$BATS_TEST_TMPDIR/fakeproc/self/attr/exec"
  update_config '.mounts |= map(if .destination == "/proc" then {"destination": "/proc", "type": "bind", "source": $s, "options": ["rbind"]} else . end)' \
    --arg s "$BATS_TEST_TMPDIR/fakeproc"
  run runtime run --bundle "$BUNDLE" "$ID"
  assert_failure_out
  [ ! -s "$BATS_TEST_TMPDIR/fakeproc/self/attr/exec" ]
  assert_nothing_left
}

# masked_path_is_null: run and require the masked /proc/timer_list to be the null device
masked_path_is_null() {
  update_config '.linux.maskedPaths = ["/proc/timer_list"] | .linux.readonlyPaths = [] | .root.readonly = false'
  set_args /probe stat /proc/timer_list
  run runtime run --bundle "$BUNDLE" "$ID"
  if [ "$status" -eq 0 ]; then
    # what masks /proc/timer_list must be a real 1:3 character device
    assert_kv type chr
    assert_kv major 1
    assert_kv minor 3
  fi
  assert_nothing_left
}

# CVE-2025-31133 class: the rootfs's own /dev/null must not be trusted for masking. The
# symlink points at a decoy file inside the rootfs: on a vulnerable runtime the masked path
# (and maybe the container's output) lands in the decoy, never in a host file. Do not point
# it at /proc/sys/kernel/core_pattern here: a vulnerable runtime writes through it.
@test "security: a /dev/null symlink in the rootfs is not used to mask paths (CVE-2025-31133)" {
  requires_berth "runc 1.1.5 bind-mounts the rootfs's /dev/null symlink target over masked paths"
  update_config '.mounts |= map(select(.destination != "/dev"))'
  mkdir -p "$ROOTFS/dev"
  : >"$ROOTFS/decoy"
  ln -sf /decoy "$ROOTFS/dev/null"
  masked_path_is_null
  [ ! -s "$ROOTFS/decoy" ]
}

@test "security: a regular file at /dev/null in the rootfs is not used to mask paths" {
  requires_berth "runc 1.1.5 bind-mounts a regular file found at /dev/null over masked paths"
  update_config '.mounts |= map(select(.destination != "/dev"))'
  mkdir -p "$ROOTFS/dev"
  echo not-a-device >"$ROOTFS/dev/null"
  masked_path_is_null
}

@test "security: masking with the runtime's own /dev tmpfs uses a real null device" {
  masked_path_is_null
}

# CVE-2019-5736: the runtime binary cannot be reopened for writing from the container side
@test "security: the runtime binary cannot be overwritten through /proc/<pid>/exe (CVE-2019-5736)" {
  local host_bin sum_before
  host_bin=$(readlink -f "$OCI_RUNTIME")
  sum_before=$(sha256sum "$host_bin" | cut -d' ' -f1)
  set_args /probe sleep inf
  ct_create
  local pid fifo=$BATS_TEST_TMPDIR/attack.in out=$BATS_TEST_TMPDIR/attack.out
  pid=$(ct_pid)
  mkfifo "$fifo"
  exec 6<>"$fifo" # read-write: neither this open nor the probe's blocks
  background "$PROBE" exe-attack "$pid" "$host_bin" <"$fifo" >"$out" 2>&1
  wait_until 30 file_has "$out" '^ready'
  local exe_before
  exe_before=$(probe_get exe "$(cat "$out")")
  runtime start "$ID"
  # wait until the container process has exec'd the user program
  wait_until 30 sh -c "[ \"\$(readlink /proc/$pid/exe)\" != '$exe_before' ]"
  echo go >&6
  exec 6>&-
  wait_until 30 file_has "$out" '^reopen='
  cat "$out"
  [ "$(probe_get same_as_host "$(cat "$out")")" != 1 ]
  [ "$(sha256sum "$host_bin" | cut -d' ' -f1)" = "$sum_before" ]
}

# CVE-2019-5736 through `run`, which does not re-execute itself: the container's last exec goes
# through berth-dmz from a sealed memfd, so an interpreter of /proc/self/exe runs that helper
# (which refuses its odd arguments: 127), never the host's runtime binary (which would print
# its usage error, and could be opened from the container while it runs).
@test "security: under run, a #!/proc/self/exe program never runs the runtime binary (CVE-2019-5736)" {
  requires_berth "the helper's refusal (127) is berth's"
  local host_bin sum_before
  host_bin=$(readlink -f "$OCI_RUNTIME")
  sum_before=$(sha256sum "$host_bin" | cut -d' ' -f1)
  printf '#!/proc/self/exe\n' >"$ROOTFS/attack"
  chmod 755 "$ROOTFS/attack"
  set_args /attack spec
  run -127 runtime run --bundle "$BUNDLE" "$ID"
  [[ $output != *berth-runtime* ]]
  [[ $output != *usage* ]]
  [ "$(sha256sum "$host_bin" | cut -d' ' -f1)" = "$sum_before" ]
  assert_nothing_left
}

# A startContainer hook is a program of the container's filesystem, started by the container
# process before it execs, with the runtime's capabilities: it must not find the host's runtime
# binary behind /proc/1/exe (berth's `run` re-executes protected when there are such hooks).
@test "security: a startContainer hook cannot reach the runtime binary through /proc/1/exe (CVE-2019-5736)" {
  local host_bin
  host_bin=$(readlink -f "$OCI_RUNTIME")
  update_config '.hooks.startContainer = [{"path": "/bin/sh",
    "args": ["sh", "-c", ("/probe exe-attack 1 " + $h + " >/hook.out 2>&1")]}]' --arg h "$host_bin"
  update_config '.root.readonly = false'
  set_args /bin/true
  run runtime run --bundle "$BUNDLE" "$ID"
  echo "status $status: $output"
  local out
  out=$(cat "$ROOTFS/hook.out")
  echo "$out"
  [[ $out == *exe=* ]]
  [[ $out != *"exe=$host_bin"* ]]
  [[ $out != *same_as_host=1* ]]
}

@test "security: a profile that blocks execveat makes run re-execute protected instead of using the helper" {
  update_config '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
    {"names": ["execveat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}'
  set_args /bin/sh -c 'echo ran; /probe syscall execveat'
  run_ok
  [ "${lines[0]}" = ran ]
  [ "${lines[1]}" = syscall=EPERM ]
}

@test "security: an unknown capability name is an error" {
  requires_berth "runc 1.1.5 ignores unknown capabilities with a warning"
  update_config '.process.capabilities.bounding += ["CAP_NOT_A_CAPABILITY"]'
  run runtime run --bundle "$BUNDLE" "$ID"
  assert_failure_out
  assert_contains "$output" CAP_NOT_A_CAPABILITY
  assert_nothing_left
}

@test "security: the container cannot see or signal host processes" {
  set_args /bin/sh -c 'ls /proc | grep -c "^[0-9][0-9]*$"; kill -0 '"$$"' 2>/dev/null && echo reached || echo unreachable'
  run_ok
  [ "${lines[0]}" -le 3 ]
  [ "${lines[1]}" = unreachable ]
}

@test "security: default capabilities cannot mount or load modules" {
  set_args /bin/sh -c '/probe syscall mount; /probe syscall sethostname; /probe syscall chroot'
  run_ok
  [ "${lines[0]}" = syscall=EPERM ]
  [ "${lines[1]}" = syscall=EPERM ]
  [ "${lines[2]}" = syscall=EPERM ]
}

@test "security: the runtime makes its state root root's alone (0700), as runc does" {
  ROOT=$BATS_TEST_TMPDIR/fresh-state
  set_args /probe exit 0
  runtime run --bundle "$BUNDLE" "$ID" </dev/null >/dev/null
  [ "$(stat -c %a "$ROOT")" = 700 ]
}
