#!/usr/bin/env bats
# podman (Debian's 4.3, with conmon) drives the runtime under test with --runtime.
#
# podman is isolated from the host's: its storage and run dirs live in the suite's temp dir
# (vfs driver: no overlay mounts to leak), no network (--network none: no bridge or nft
# rules), cgroupfs cgroups, file events. The image comes from `podman import` of the suite's
# busybox rootfs. CAP_SYS_RESOURCE is missing here, so every run passes explicit ulimits.

load helpers

podman_cmd() {
  timeout -k 5 120 podman --root "$PODMAN_DIR/root" --runroot "$PODMAN_DIR/run" --storage-driver vfs \
    --cgroup-manager cgroupfs --events-backend file --runtime "$OCI_RUNTIME" "$@" 3>&-
}

ULIMITS=(--ulimit nofile=20000:20000 --ulimit nproc=4096:4096)

setup_file() {
  command -v podman >/dev/null || skip "podman is not installed (scripts/install-deps)"
  setup_file_common
  # short: podman's runroot must stay under 50 characters
  PODMAN_DIR=$(mktemp -d /tmp/berth-podman.XXXXXX)
  export PODMAN_DIR IMAGE=localhost/berth-bats:latest
  tar -C "$BASE_ROOTFS" -cf "$BATS_FILE_TMPDIR/rootfs.tar" .
  podman_cmd import "$BATS_FILE_TMPDIR/rootfs.tar" "$IMAGE" >/dev/null
}

teardown_file() {
  [ -n "${PODMAN_DIR:-}" ] || return 0
  podman_cmd rm -af -t 0 >/dev/null 2>&1
  podman_cmd system reset -f >/dev/null 2>&1
  local m
  for m in $(mounts_under "$PODMAN_DIR"); do umount -l "$m"; done
  rm -rf --one-file-system "$PODMAN_DIR"
}

setup() {
  [ -x "$OCI_RUNTIME" ] || skip "runtime $OCI_RUNTIME not built"
  command -v podman >/dev/null || skip "podman is not installed"
  NAME=bats$$-$BATS_TEST_NUMBER
}

teardown() {
  podman_cmd rm -f -t 0 "$NAME" >/dev/null 2>&1 || true
  # podman calls the runtime with its default --root: nothing of podman's containers (their
  # bundles live in our private storage) may remain there
  local left
  left=$(timeout 20 "$OCI_RUNTIME" list --format json 2>/dev/null |
    jq --arg d "$PODMAN_DIR/" '[.[]? | select(.bundle | startswith($d))] | length')
  [ "${left:-0}" = 0 ] || { echo "runtime still lists $left podman container(s)" >&2; return 1; }
}

@test "podman: run prints the container's output and gives it pid 1 and its own hostname" {
  run podman_cmd run --rm --name "$NAME" --network none --hostname podhost "${ULIMITS[@]}" "$IMAGE" /probe all
  assert_success_out
  assert_kv pid 1
  assert_kv hostname podhost
}

@test "podman: run -it gives the process a terminal" {
  command -v script >/dev/null || skip "script(1) is not installed"
  # an interactive shell on the pty: the answer ($((6*7))) proves input went in through the
  # terminal and output came back (a container that prints and exits at once can lose its
  # output in conmon's attach, with runc too)
  local P="podman --root $PODMAN_DIR/root --runroot $PODMAN_DIR/run --storage-driver vfs --cgroup-manager cgroupfs"
  P+=" --events-backend file --runtime $OCI_RUNTIME"
  run bash -c "(sleep 1; printf 'tty; echo interactive-\$((6*7))\n'; sleep 1; printf 'exit\n') |
    timeout 60 script -qec \"$P run -it --rm --name $NAME --network none ${ULIMITS[*]} $IMAGE sh\" /dev/null"
  assert_success_out
  assert_contains "$output" /dev/pts/
  assert_contains "$output" interactive-42
}

@test "podman: run -d, exec, logs, stop and rm" {
  podman_cmd run -d --name "$NAME" --network none "${ULIMITS[@]}" "$IMAGE" \
    sh -c 'trap "echo got-term; exit 0" TERM; echo started; while :; do sleep 0.1; done'
  wait_until 30 podman_logs_have started
  run podman_cmd exec "$NAME" sh -c 'echo from-exec; cat /proc/1/cmdline | tr "\0" " "'
  assert_success_out
  assert_contains "$output" from-exec
  assert_contains "$output" "sh -c"
  run podman_cmd exec "$NAME" sh -c 'exit 7'
  [ "$status" = 7 ]
  run podman_cmd stop -t 10 "$NAME"
  assert_success_out
  run podman_cmd logs "$NAME"
  assert_contains "$output" got-term
  [ "$(podman_cmd inspect -f '{{.State.Status}}' "$NAME")" = exited ]
  run podman_cmd rm "$NAME"
  assert_success_out
}

podman_logs_have() { podman_cmd logs "$NAME" 2>/dev/null | grep -q "$1"; }

@test "podman: --memory sets the container's memory limit" {
  run podman_cmd run --rm --name "$NAME" --network none --memory 64m "${ULIMITS[@]}" "$IMAGE" \
    sh -c 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max'
  assert_success_out
  [ "${lines[-1]}" = 67108864 ]
}

@test "podman: --pids-limit stops a fork storm at the limit" {
  run podman_cmd run --rm --name "$NAME" --network none --pids-limit 20 "${ULIMITS[@]}" "$IMAGE" \
    sh -c 'cat /sys/fs/cgroup/pids/pids.max; for i in $(seq 1 40); do sleep 5 & done 2>/dev/null; sleep 0.5; ls /proc | grep -c "^[0-9]"'
  [ "${lines[0]}" = 20 ]
  [ "${lines[-1]}" -le 20 ]
}

@test "podman: pause and unpause freeze and thaw the container" {
  podman_cmd run -d --name "$NAME" --network none "${ULIMITS[@]}" "$IMAGE" sh -c 'while :; do sleep 0.1; done'
  run podman_cmd pause "$NAME"
  assert_success_out
  [ "$(podman_cmd inspect -f '{{.State.Status}}' "$NAME")" = paused ]
  run podman_cmd unpause "$NAME"
  assert_success_out
  [ "$(podman_cmd inspect -f '{{.State.Status}}' "$NAME")" = running ]
  run podman_cmd exec "$NAME" echo thawed
  assert_contains "$output" thawed
}
