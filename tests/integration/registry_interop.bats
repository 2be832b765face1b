#!/usr/bin/env bats
# What berth pushes, the field's clients read (skopeo, podman, containerd's ctr — and runs it,
# through the runc shim with berth-runtime as the binary, the Kubernetes path); what skopeo
# pushes, berth pulls. Every registry is a docker-registry on 127.0.0.1 that the suite starts.

load helpers
load registry_helpers

ctr_cmd() { timeout -k 5 120 ctr --address "$CTRD_DIR/ctrd.sock" "$@" 3>&-; }

setup_file() {
  registry_requires
  images_setup_file
  registry_start interop
}

teardown_file() {
  ctrd_stop
  registries_stop
}

setup() {
  images_setup
  export REGISTRY_AUTH_FILE=$BATS_TEST_TMPDIR/auth.json
  export DOCKER_CONFIG=$BATS_TEST_TMPDIR/docker
}

teardown() {
  [ -n "${PODMAN_DIR:-}" ] && podman_teardown
  return 0
}

@test "interop: skopeo copies what berth pushed; berth pulls what skopeo pushed, same image ids" {
  command -v skopeo >/dev/null || skip "skopeo is not installed (scripts/install-deps)"
  command -v umoci >/dev/null || skip "umoci is not installed (scripts/install-deps)"
  id=$(berth import -c 'CMD ["/bin/sh"]' "$ROOTFS_TAR" "$REG_INTEROP/sk/from-berth:1")
  berth push -q "$REG_INTEROP/sk/from-berth:1" >/dev/null
  run skopeo copy --src-tls-verify=false "docker://$REG_INTEROP/sk/from-berth:1" "oci:$WORK/oci:x"
  [ "$status" -eq 0 ]
  run skopeo inspect --config "oci:$WORK/oci:x"
  [ "$status" -eq 0 ]
  [ "sha256:$(skopeo inspect --raw --config "oci:$WORK/oci:x" | sha256sum | cut -d' ' -f1)" = "$id" ]
  [ "$(jq -c .rootfs.diff_ids <<<"$output")" = "$(berth image inspect "$id" | jq -c '.[0].RootFS.Layers')" ]
  # the other way: an umoci layout (3 layers) pushed by skopeo
  umoci_layout "$WORK/layout" art
  cfg=$(skopeo inspect --raw "oci:$WORK/layout:art" | jq -r .config.digest)
  run skopeo copy --dest-tls-verify=false "oci:$WORK/layout:art" "docker://$REG_INTEROP/sk/from-skopeo:art"
  [ "$status" -eq 0 ]
  run berth pull -q "$REG_INTEROP/sk/from-skopeo:art"
  [ "$status" -eq 0 ]
  [ "$(berth images -q --no-trunc "$REG_INTEROP/sk/from-skopeo:art")" = "$cfg" ]
  [ "$(berth image inspect "$cfg" | jq '.[0].RootFS.Layers | length')" -eq 3 ]
  # and berth pushes it on, unchanged: the same manifest digest
  berth tag "$REG_INTEROP/sk/from-skopeo:art" "$REG_INTEROP/sk/again:art"
  run berth push "$REG_INTEROP/sk/again:art"
  [ "$status" -eq 0 ]
  [ "$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$REG_INTEROP/sk/again:art")" = \
    "$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$REG_INTEROP/sk/from-skopeo:art")" ]
}

@test "interop: podman pulls what berth pushed" {
  podman_setup
  id=$(berth import -c 'CMD ["/bin/sh"]' "$ROOTFS_TAR" "$REG_INTEROP/pm/bb:1")
  berth push -q "$REG_INTEROP/pm/bb:1" >/dev/null
  unset REGISTRY_AUTH_FILE DOCKER_CONFIG # podman refuses files that do not exist
  run podman_cmd pull --tls-verify=false "$REG_INTEROP/pm/bb:1"
  [ "$status" -eq 0 ]
  [ "$(podman_cmd image inspect --format '{{.Id}}' "$REG_INTEROP/pm/bb:1")" = "${id#sha256:}" ]
  [ "$(podman_cmd image inspect --format '{{json .RootFS.Layers}}' "$REG_INTEROP/pm/bb:1")" = \
    "$(berth image inspect "$id" | jq -c '.[0].RootFS.Layers')" ]
}

ctrd_start() {
  # short: sockets under 108 characters
  CTRD_DIR=$(mktemp -d /tmp/berth-rctrd.XXXXXX)
  echo "$CTRD_DIR" >"$BATS_FILE_TMPDIR/ctrd.dir"
  cat >"$CTRD_DIR/config.toml" <<EOS
version = 2
root = "$CTRD_DIR/root"
state = "$CTRD_DIR/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$CTRD_DIR/ctrd.sock"
EOS
  containerd --config "$CTRD_DIR/config.toml" >"$CTRD_DIR/log" 2>&1 3>&- &
  echo $! >"$CTRD_DIR/pid"
  local i
  for i in $(seq 300); do [ -S "$CTRD_DIR/ctrd.sock" ] && break; sleep 0.1; done
  ctr_cmd version >/dev/null
}

ctrd_stop() {
  [ -f "$BATS_FILE_TMPDIR/ctrd.dir" ] || return 0
  CTRD_DIR=$(cat "$BATS_FILE_TMPDIR/ctrd.dir")
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

@test "interop: containerd pulls what berth pushed and runs it with berth-runtime (ctr run --runc-binary)" {
  command -v containerd >/dev/null || skip "containerd is not installed (scripts/install-deps)"
  [ -x "$OCI_RUNTIME" ] || skip "runtime $OCI_RUNTIME not built"
  ctrd_start
  id=$(berth import -c 'CMD ["/bin/sh"]' "$ROOTFS_TAR" "$REG_INTEROP/ct/bb:1")
  berth push -q "$REG_INTEROP/ct/bb:1" >/dev/null
  run ctr_cmd image pull --plain-http "$REG_INTEROP/ct/bb:1"
  [ "$status" -eq 0 ]
  [ "$(ctr_cmd image ls -q | grep -c "$REG_INTEROP/ct/bb:1")" -eq 1 ]
  name=berth-rctrd-$$
  run ctr_cmd run --runc-binary "$OCI_RUNTIME" --rm "$REG_INTEROP/ct/bb:1" "$name" /bin/sh -c 'echo pulled-and-ran; cat /etc/passwd | head -1'
  [ "$status" -eq 0 ] || { echo "$output"; tail -20 "$CTRD_DIR/log"; return 1; }
  [ "${lines[0]}" = pulled-and-ran ]
  [ "${lines[1]}" = "root:x:0:0:root:/root:/bin/sh" ]
}
