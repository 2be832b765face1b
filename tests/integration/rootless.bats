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
