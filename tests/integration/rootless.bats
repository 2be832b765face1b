#!/usr/bin/env bats
# Rootless: the runtime run by an unprivileged user (setpriv to uid/gid 1500, no passwd entry
# needed) with `spec --rootless`'s config: a user namespace mapping that user to root, state in
# $XDG_RUNTIME_DIR, no cgroup (none is delegated here).

load helpers

RUID=1500

as_user() { # ARGS...: the runtime as the unprivileged user
  timeout -k 5 60 setpriv --reuid=$RUID --regid=$RUID --clear-groups --inh-caps=-all --bounding-set=-all \
    env XDG_RUNTIME_DIR="$XDG_DIR" "$OCI_RUNTIME" "$@" 3>&-
}

setup() {
  setup_bundle
  command -v setpriv >/dev/null || skip "setpriv (util-linux) is missing"
  # the user must reach the bundle: bats' own temp dirs are private to root
  USERDIR=$(mktemp -d /tmp/berth-rootless.XXXXXX)
  chmod 755 "$USERDIR"
  mv "$BUNDLE" "$USERDIR/bundle"
  BUNDLE=$USERDIR/bundle ROOTFS=$USERDIR/bundle/rootfs
  XDG_DIR=$USERDIR/xdg
  mkdir -p "$XDG_DIR"
  rm -f "$BUNDLE/config.json"
  "$OCI_RUNTIME" spec --rootless --bundle "$BUNDLE" 2>/dev/null || skip "spec --rootless not supported"
  # the rootless spec maps the user who ran `spec` (root here): map our user instead
  update_config --argjson u $RUID '.process.terminal = false | .linux.uidMappings[0].hostID = $u |
    .linux.gidMappings[0].hostID = $u'
  chown -R $RUID:$RUID "$BUNDLE" "$XDG_DIR"
}

teardown() {
  as_user delete --force "$ID" >/dev/null 2>&1 || true
  teardown_bundle
  [ -n "${USERDIR:-}" ] && rm -rf --one-file-system "$USERDIR"
}

@test "rootless: run as an unprivileged user gives root in a user namespace" {
  set_args /bin/sh -c 'cat /proc/self/uid_map; /probe all'
  run as_user run --bundle "$BUNDLE" "$ID"
  assert_success_out
  [ "$(echo "${lines[0]}" | awk '{print $1, $2, $3}')" = "0 $RUID 1" ]
  assert_kv uid 0
  assert_kv pid 1
}

@test "rootless: create, state, start and delete keep their state under XDG_RUNTIME_DIR" {
  set_args /probe sleep inf
  # the created process keeps the caller's stdio: not bats' capture pipe
  as_user create --bundle "$BUNDLE" "$ID" >"$CT_OUT" 2>"$CT_ERR" </dev/null
  [ -d "$XDG_DIR/berth/$ID" ] || { is_berth || skip "state dir layout is berth's"; false; }
  [ "$(as_user state "$ID" | jq -r .status)" = created ]
  as_user start "$ID"
  [ "$(as_user state "$ID" | jq -r .status)" = running ]
  run as_user delete --force "$ID"
  assert_success_out
  [ -z "$(ls -A "$XDG_DIR/berth" 2>/dev/null)" ]
}

@test "rootless: linux.resources without a writable cgroup is a clear error, leaving nothing" {
  requires_berth "runc 1.1.5's message differs"
  update_config '.linux.resources = {"pids": {"limit": 10}}'
  set_args /bin/true
  run as_user run --bundle "$BUNDLE" "$ID"
  assert_failure_out
  assert_contains "$output" "rootless"
  assert_contains "$output" "linux.resources"
  [ -z "$(ls -A "$XDG_DIR/berth" 2>/dev/null)" ]
}

# rootless_agent NAMES-JSON: fdrecv answering each notification with EMLINK, on a socket the
# user may connect to, and a filter handing it the calls NAMES
rootless_agent() {
  local sock=$USERDIR/agent.sock
  AGENT_OUT=$BATS_TEST_TMPDIR/agent.out
  background "$FDRECV" seccomp "$sock" 31 >"$AGENT_OUT" 2>&1
  wait_until 30 test -S "$sock"
  chmod 666 "$sock"
  update_config '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW",
    "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"], "listenerPath": $s,
    "syscalls": [{"names": $n, "action": "SCMP_ACT_NOTIFY"}]}' --arg s "$sock" --argjson n "$1"
}

@test "rootless: a seccomp listener reaches its agent though start may not take it with pidfd_getfd" {
  # the user may not reach its non-dumpable container process with pidfd_getfd: the process
  # sends the listener over the start connection instead (sendmsg is not notified here)
  rootless_agent '["mkdir", "mkdirat"]'
  set_args /probe syscall mkdir /tmp/notified
  run as_user run --bundle "$BUNDLE" "$ID"
  assert_success_out
  [ "$output" = syscall=EMLINK ]
}

@test "rootless: with sendmsg notified too, the listener has no way to the agent: a clear error, nothing waits for good" {
  # sending it would be a sendmsg the filter hands to that same listener, which no agent holds
  # yet: a container process stuck in it for good (and whatever reads its output with it)
  is_berth || skip "berth's answer (runc 1.1 has no rootless listener hand-over to compare)"
  rootless_agent '["sendmsg", "mkdir", "mkdirat"]'
  set_args /probe syscall mkdir /tmp/notified
  # into files, not bats' capture pipe: a process stuck for good would hold that open, and the
  # test with it, past every time-out (teardown kills what is left in the bundle)
  status=0
  as_user run --bundle "$BUNDLE" "$ID" >"$CT_OUT" 2>"$CT_ERR" </dev/null || status=$?
  output=$(cat "$CT_OUT" "$CT_ERR")
  [ "$status" -ne 124 ] # as_user's time-out: a process waited for good
  [ "$status" -ne 137 ]
  assert_failure_out
  [[ $output == *"the listener cannot reach the agent"*"notifies sendmsg"* ]]
  [ -z "$(processes_in_bundle)" ]
}
