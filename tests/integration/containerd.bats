#!/usr/bin/env bats
# containerd 1.6 (Debian) runs containers through its runc shim with the runtime under test as
# the binary (`ctr run --runc-binary`), as a Kubernetes node would.
#
# The suite starts its own containerd: root, state and socket in the suite's temp dir, the CRI
# plugin off (no CNI, no network changes), stopped by pid at the end. The image is an OCI
# archive of the suite's busybox rootfs made by podman in private vfs storage.

load helpers

ctr_cmd() { timeout -k 5 120 ctr --address "$CTRD_DIR/ctrd.sock" "$@" 3>&-; }

setup_file() {
  command -v containerd >/dev/null || skip "containerd is not installed (scripts/install-deps)"
  command -v podman >/dev/null || skip "podman is not installed (needed to make the image archive)"
  setup_file_common
  # short: podman's runroot must stay under 50 characters and sockets under 108
  CTRD_DIR=$(mktemp -d /tmp/berth-ctrd.XXXXXX)
  export CTRD_DIR IMAGE=localhost/berth-bats-ctrd:latest
  cat >"$CTRD_DIR/config.toml" <<EOF
version = 2
root = "$CTRD_DIR/root"
state = "$CTRD_DIR/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$CTRD_DIR/ctrd.sock"
EOF
  # the image: podman in private storage writes an OCI archive of the busybox rootfs
  local P=(podman --root "$CTRD_DIR/podman" --runroot "$CTRD_DIR/podman-run" --storage-driver vfs
    --cgroup-manager cgroupfs --events-backend file)
  tar -C "$BASE_ROOTFS" -cf "$BATS_FILE_TMPDIR/rootfs.tar" .
  "${P[@]}" import "$BATS_FILE_TMPDIR/rootfs.tar" "$IMAGE" >/dev/null
  "${P[@]}" save --format oci-archive -o "$BATS_FILE_TMPDIR/image.tar" "$IMAGE" >/dev/null
  "${P[@]}" system reset -f >/dev/null 2>&1
  containerd --config "$CTRD_DIR/config.toml" >"$CTRD_DIR/log" 2>&1 3>&- &
  echo $! >"$CTRD_DIR/pid"
  local i
  for i in $(seq 300); do [ -S "$CTRD_DIR/ctrd.sock" ] && break; sleep 0.1; done
  ctr_cmd version >/dev/null
  ctr_cmd image import --base-name localhost/berth-bats-ctrd "$BATS_FILE_TMPDIR/image.tar" >/dev/null
}

teardown_file() {
  [ -n "${CTRD_DIR:-}" ] && [ -f "$CTRD_DIR/pid" ] || return 0
  local c pid m
  for c in $(ctr_cmd containers ls -q 2>/dev/null); do
    ctr_cmd task kill -s KILL "$c" >/dev/null 2>&1
    ctr_cmd task delete -f "$c" >/dev/null 2>&1
    ctr_cmd containers delete "$c" >/dev/null 2>&1
  done
  pid=$(cat "$CTRD_DIR/pid")
  kill "$pid" 2>/dev/null
  for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  for m in $(mounts_under "$CTRD_DIR"); do umount -l "$m"; done
  rm -rf --one-file-system "$CTRD_DIR"
}

setup() {
  [ -x "$OCI_RUNTIME" ] || skip "runtime $OCI_RUNTIME not built"
  command -v containerd >/dev/null || skip "containerd is not installed"
  NAME=bats$$-$BATS_TEST_NUMBER
}

teardown() {
  ctr_cmd task kill -s KILL "$NAME" >/dev/null 2>&1 || true
  ctr_cmd task delete -f "$NAME" >/dev/null 2>&1 || true
  ctr_cmd containers delete "$NAME" >/dev/null 2>&1 || true
  # the shim gives the runtime --root /run/containerd/runc/<namespace>
  local left
  left=$(timeout 20 "$OCI_RUNTIME" --root /run/containerd/runc/default list -q 2>/dev/null | grep -cx "$NAME" || true)
  [ "${left:-0}" = 0 ] || { echo "runtime still has $NAME" >&2; return 1; }
}

@test "containerd: ctr run through the runc shim prints the container's output" {
  run ctr_cmd run --runc-binary "$OCI_RUNTIME" --rm "$IMAGE" "$NAME" /probe all
  assert_success_out
  assert_kv pid 1
  assert_kv uid 0
}

@test "containerd: exec, kill and delete of a detached task" {
  ctr_cmd run --runc-binary "$OCI_RUNTIME" -d "$IMAGE" "$NAME" sh -c 'while :; do sleep 0.1; done'
  run ctr_cmd task exec --exec-id e1 "$NAME" sh -c 'echo from-exec; exit 5'
  [ "$status" = 5 ]
  assert_contains "$output" from-exec
  [ "$(ctr_cmd task ls | awk -v n="$NAME" '$1 == n {print $3}')" = RUNNING ]
  run ctr_cmd task kill -s KILL "$NAME"
  assert_success_out
  wait_until 30 task_stopped
  run ctr_cmd task delete "$NAME"
  assert_success_out
  run ctr_cmd containers delete "$NAME"
  assert_success_out
}

task_stopped() { [ "$(ctr_cmd task ls | awk -v n="$NAME" '$1 == n {print $3}')" = STOPPED ]; }

@test "containerd: task metrics read the task's cgroup" {
  ctr_cmd run --runc-binary "$OCI_RUNTIME" -d --memory-limit 67108864 "$IMAGE" "$NAME" sh -c 'while :; do sleep 0.1; done'
  run ctr_cmd task metrics "$NAME"
  assert_success_out
  assert_contains "$output" memory.limit_in_bytes
  [ "$(echo "$output" | awk '$1 == "memory.limit_in_bytes" {print $2}')" = 67108864 ]
  assert_contains "$output" pids.current
}
