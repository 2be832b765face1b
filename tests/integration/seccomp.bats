#!/usr/bin/env bats
# linux.seccomp: defaultAction/defaultErrnoRet, errnoRet, argument conditions, kill,
# architectures, user notification through listenerPath.

load helpers

ARCHES='["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]'

# what the runtime's last steps, busybox and the probe need, minus the syscalls tests deny
ALLOWED=(
  accept4 access arch_prctl bind brk capget capset chdir chmod chown clock_gettime clock_nanosleep
  clone clone3 close close_range connect dup dup2 dup3 epoll_create1 epoll_ctl epoll_pwait
  epoll_wait eventfd2 execve execveat exit exit_group faccessat faccessat2 fchdir fchmod
  fchmodat fchown fchownat fcntl fstat fstatfs futex getcwd getdents64 getegid geteuid getgid
  getgroups getpgrp getpid getrandom getresgid getresuid getrlimit gettid gettimeofday getuid
  ioctl kill lseek lstat madvise mkdir mkdirat mmap mprotect munmap nanosleep newfstatat
  open openat openat2 pipe pipe2 poll ppoll prctl pread64 prlimit64 pselect6 read readlink
  readlinkat recvfrom recvmsg rseq rt_sigaction rt_sigprocmask rt_sigreturn sched_getaffinity
  sched_yield select sendmsg sendto set_robust_list set_tid_address setgid setgroups setresgid
  setresuid setsid setuid sigaltstack socket stat statfs statx sysinfo tgkill umask uname
  unlink unlinkat wait4 waitid write writev
)

allow_list_json() { json_array "${ALLOWED[@]}"; }

set_seccomp() { # JSON of linux.seccomp
  update_config '.linux.seccomp = $s' --argjson s "$1"
}

run_probe() {
  set_args /bin/sh -c "$1"
  run runtime run --bundle "$BUNDLE" "$ID"
}

@test "seccomp: the filter is installed (mode 2)" {
  set_seccomp "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": $ARCHES,
    \"syscalls\": [{\"names\": [\"keyctl\"], \"action\": \"SCMP_ACT_ERRNO\"}]}"
  run_probe '/probe all'
  assert_success_out
  assert_kv seccomp 2
  [ "$(probe_get seccomp_filters)" -ge 1 ]
}

@test "seccomp: a rule's errnoRet, and EPERM without one" {
  set_seccomp "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": $ARCHES, \"syscalls\": [
    {\"names\": [\"keyctl\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 95},
    {\"names\": [\"getppid\"], \"action\": \"SCMP_ACT_ERRNO\"}]}"
  run_probe '/probe syscall keyctl; /probe syscall getppid; /probe syscall getpid'
  assert_success_out
  [ "${lines[0]}" = syscall=EOPNOTSUPP ]
  [ "${lines[1]}" = syscall=EPERM ]
  [ "${lines[2]}" = syscall=ok ]
}

@test "seccomp: defaultAction ERRNO with defaultErrnoRet and an allow list" {
  set_seccomp "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 18, \"architectures\": $ARCHES,
    \"syscalls\": [{\"names\": $(allow_list_json), \"action\": \"SCMP_ACT_ALLOW\"}]}"
  run_probe '/probe syscall getppid; /probe syscall keyctl; /probe syscall getpid'
  assert_success_out
  [ "${lines[0]}" = syscall=EXDEV ]
  [ "${lines[1]}" = syscall=EXDEV ]
  [ "${lines[2]}" = syscall=ok ]
}

@test "seccomp: argument conditions select the calls a rule applies to" {
  set_seccomp "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": $ARCHES, \"syscalls\": [
    {\"names\": [\"socket\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 97,
     \"args\": [{\"index\": 0, \"value\": 10, \"op\": \"SCMP_CMP_EQ\"}]},
    {\"names\": [\"personality\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 1,
     \"args\": [{\"index\": 0, \"value\": 4294967295, \"op\": \"SCMP_CMP_NE\"}]}]}"
  run_probe '/probe syscall socket 10; /probe syscall socket 1; /probe syscall socket 2;
             /probe syscall personality 8; /probe syscall personality'
  assert_success_out
  [ "${lines[0]}" = syscall=EAFNOSUPPORT ]
  [ "${lines[1]}" = syscall=ok ]
  [ "${lines[2]}" = syscall=ok ]
  [ "${lines[3]}" = syscall=EPERM ]
  [ "${lines[4]}" = syscall=ok ]
}

@test "seccomp: SCMP_CMP_MASKED_EQ compares under a mask" {
  # unshare(flags) with CLONE_NEWNET (0x40000000) set is denied, other flags go through
  set_seccomp "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": $ARCHES, \"syscalls\": [
    {\"names\": [\"unshare\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 18,
     \"args\": [{\"index\": 0, \"value\": 1073741824, \"valueTwo\": 1073741824, \"op\": \"SCMP_CMP_MASKED_EQ\"}]}]}"
  update_config '.process.capabilities.bounding += ["CAP_SYS_ADMIN"] | .process.capabilities.permitted += ["CAP_SYS_ADMIN"] | .process.capabilities.effective += ["CAP_SYS_ADMIN"]'
  run_probe '/probe syscall unshare 0x40000000; /probe syscall unshare 0x4000000'
  assert_success_out
  [ "${lines[0]}" = syscall=EXDEV ]
  [ "${lines[1]}" = syscall=ok ]
}

@test "seccomp: SCMP_ACT_KILL kills the process with SIGSYS" {
  set_seccomp "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": $ARCHES, \"syscalls\": [
    {\"names\": [\"getppid\"], \"action\": \"SCMP_ACT_KILL\"}]}"
  set_args /probe syscall getppid
  run runtime run --bundle "$BUNDLE" "$ID"
  [ "$status" -eq $((128 + 31)) ]
}

@test "seccomp: the filter works without noNewPrivileges" {
  update_config '.process.noNewPrivileges = false'
  set_seccomp "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": $ARCHES, \"syscalls\": [
    {\"names\": [\"keyctl\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 95}]}"
  run_probe '/probe syscall keyctl; /probe all'
  assert_success_out
  [ "${lines[0]}" = syscall=EOPNOTSUPP ]
  assert_kv no_new_privs 0
}

@test "seccomp: an unknown action is an error" {
  set_seccomp "{\"defaultAction\": \"SCMP_ACT_BOGUS\", \"architectures\": $ARCHES}"
  run runtime run --bundle "$BUNDLE" "$ID"
  assert_failure_out
  assert_nothing_left
}

@test "seccomp: an unknown syscall name is skipped, or an error with run.oci.seccomp_fail_unknown_syscall (crun's)" {
  set_seccomp "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": $ARCHES, \"syscalls\": [
    {\"names\": [\"berth_no_such_call\", \"keyctl\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 95}]}"
  run_probe '/probe syscall keyctl'
  assert_success_out
  [ "$output" = syscall=EOPNOTSUPP ]
  [ "$(runtime_name)" = runc ] && skip "runc 1.1.5 ignores crun's run.oci.* annotations"
  update_config '.annotations["run.oci.seccomp_fail_unknown_syscall"] = "1"'
  run runtime run --bundle "$BUNDLE" "$ID"
  assert_failure_out
  assert_contains "$output" berth_no_such_call
  [ ! -e "$ROOT/$ID" ] && [ -z "$(runtime list -q)" ] # the first run's filter cache stays
}

@test "seccomp: an unknown operator is an error" {
  set_seccomp "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": $ARCHES, \"syscalls\": [
    {\"names\": [\"socket\"], \"action\": \"SCMP_ACT_ERRNO\", \"args\": [{\"index\": 0, \"value\": 1, \"op\": \"SCMP_CMP_BOGUS\"}]}]}"
  run runtime run --bundle "$BUNDLE" "$ID"
  assert_failure_out
  assert_nothing_left
}

@test "seccomp: listenerPath receives the notify fd and the state; the agent answers" {
  local sock=$BATS_TEST_TMPDIR/agent.sock out=$BATS_TEST_TMPDIR/agent.out
  background "$FDRECV" seccomp "$sock" 31 >"$out" 2>&1
  wait_until 30 test -S "$sock"
  set_seccomp "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": $ARCHES,
    \"listenerPath\": \"$sock\", \"listenerMetadata\": \"probe-test\",
    \"syscalls\": [{\"names\": [\"mkdir\", \"mkdirat\"], \"action\": \"SCMP_ACT_NOTIFY\"}]}"
  run_probe '/probe syscall mkdir /tmp/notified; /probe syscall getpid'
  assert_success_out
  [ "${lines[0]}" = syscall=EMLINK ]
  [ "${lines[1]}" = syscall=ok ]
  wait_until 30 file_has "$out" '^notify='
  local state
  state=$(probe_get state "$(cat "$out")")
  [ "$(jq -r .state.id <<<"$state")" = "$ID" ]
  [ "$(jq -r .metadata <<<"$state")" = probe-test ]
  [ "$(jq -r '.fds | index("seccompFd") != null' <<<"$state")" = true ]
}

# notify_agent NAMES-JSON: fdrecv answering every notification with EMLINK, a filter handing it
# the calls NAMES (those of the runtime's own last steps among them)
notify_agent() {
  AGENT_N=$((${AGENT_N:-0} + 1))
  AGENT_OUT=$BATS_TEST_TMPDIR/agent$AGENT_N.out
  local sock=$BATS_TEST_TMPDIR/agent$AGENT_N.sock
  background "$FDRECV" seccomp "$sock" 31 >"$AGENT_OUT" 2>&1
  wait_until 30 test -S "$sock"
  set_seccomp "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": $ARCHES, \"listenerPath\": \"$sock\",
    \"syscalls\": [{\"names\": $1, \"action\": \"SCMP_ACT_NOTIFY\"}]}"
}

@test "seccomp: a listenerPath longer than a unix socket address reaches its agent" {
  is_berth || skip "runc refuses a listenerPath over 107 bytes"
  local sock=$BATS_TEST_TMPDIR/agent.sock out=$BATS_TEST_TMPDIR/agent.out
  background "$FDRECV" seccomp "$sock" 31 >"$out" 2>&1
  wait_until 30 test -S "$sock"
  # the same socket under a path of 150 bytes and more (a directory named at length, then a link)
  local long=$BATS_TEST_TMPDIR/$(printf 'd%.0s' {1..120})
  mkdir "$long"
  ln -s "$BATS_TEST_TMPDIR" "$long/to"
  [ ${#long} -gt 107 ]
  set_seccomp "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": $ARCHES,
    \"listenerPath\": \"$long/to/agent.sock\",
    \"syscalls\": [{\"names\": [\"mkdir\", \"mkdirat\"], \"action\": \"SCMP_ACT_NOTIFY\"}]}"
  run_probe '/probe syscall mkdir /tmp/notified'
  assert_success_out
  [ "$output" = syscall=EMLINK ]
}

@test "seccomp: a filter that notifies sendmsg and recvmsg does not hang the container (runc's order)" {
  # the filter is on before the listener reaches the agent: a runtime that sends it with
  # sendmsg, or waits with recvmsg, waits for an agent that cannot answer yet. runc writes
  # the descriptor's number and the parent takes it with pidfd_getfd
  notify_agent '["sendmsg", "recvmsg", "mkdir", "mkdirat"]'
  local nnp
  for nnp in true false; do
    update_config '.process.noNewPrivileges = $n' --argjson n "$nnp"
    RUNTIME_TIMEOUT=20 run_probe '/probe syscall mkdir /tmp/notified; /probe syscall getpid'
    assert_success_out
    [ "${lines[0]}" = syscall=EMLINK ]
    [ "${lines[1]}" = syscall=ok ]
    # the agent took its one listener and is gone with the container: the next round needs another
    [ $nnp = false ] || notify_agent '["sendmsg", "recvmsg", "mkdir", "mkdirat"]'
  done
}

@test "seccomp: create, then start, with sendmsg notified: the listener reaches the agent at start" {
  # crun's moment too (the spec does not say when)
  [ "$(runtime_name)" = runc ] && skip "runc 1.1.5 loads the filter before it waits for start: the agent gets the listener at create (status creating)"
  notify_agent '["sendmsg", "mkdir", "mkdirat"]'
  set_args /bin/sh -c '/probe syscall mkdir /tmp/notified'
  ct_create
  [ ! -s "$AGENT_OUT" ]
  RUNTIME_TIMEOUT=20 run runtime start "$ID"
  assert_success_out
  wait_until 30 file_has "$CT_OUT" syscall=
  [ "$(cat "$CT_OUT")" = syscall=EMLINK ]
  local state
  state=$(probe_get state "$(cat "$AGENT_OUT")")
  [ "$(jq -r .state.id <<<"$state")" = "$ID" ]
  [ "$(jq -r .pid <<<"$state")" = "$(jq -r .state.pid <<<"$state")" ]
  # berth's is what `state` says from start on; crun 1.8 still says creating
  [[ $(jq -r .state.status <<<"$state") == @(running|created|creating) ]]
}

@test "seccomp: exec with a filter that notifies sendmsg hands its own listener over" {
  local sock=$BATS_TEST_TMPDIR/agent.sock
  # an agent for any number of listeners that lets every call through
  background "$FDRECV" seccomp-hold "$sock" 63 >"$BATS_TEST_TMPDIR/agent.out" 2>&1
  wait_until 30 test -S "$sock"
  set_seccomp "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": $ARCHES, \"listenerPath\": \"$sock\",
    \"syscalls\": [{\"names\": [\"sendmsg\", \"recvmsg\"], \"action\": \"SCMP_ACT_NOTIFY\"}]}"
  set_args /probe sleep inf
  ct_run_detached
  RUNTIME_TIMEOUT=20 run runtime exec "$ID" /probe syscall getpid
  assert_success_out
  [ "$output" = syscall=ok ]
  # the agent prints a connection when it gets to it (nothing acknowledges the handover)
  two_conns() { [ "$(grep -c '^conn=' "$BATS_TEST_TMPDIR/agent.out")" -ge 2 ]; }
  wait_until 30 two_conns
  [ "$(grep -c '^conn=' "$BATS_TEST_TMPDIR/agent.out")" -eq 2 ]
}
