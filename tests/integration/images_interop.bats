#!/usr/bin/env bats
# Interop with Debian's tools as oracles: what berth saves, podman loads and skopeo/umoci read;
# what podman and umoci write, berth loads with the same image id (the config's digest: the
# config is byte for byte the same) and the same diff ids.

load images_helpers

setup_file() {
  images_setup_file
}

setup() {
  images_setup
  command -v skopeo >/dev/null || skip "skopeo is not installed (scripts/install-deps)"
  command -v umoci >/dev/null || skip "umoci is not installed (scripts/install-deps)"
  podman_setup
}

teardown() {
  podman_teardown
}

# layers (diff ids) of a berth image as a JSON array
berth_layers() { berth image inspect "$1" | jq -c '.[0].RootFS.Layers'; }

@test "interop: berth save (docker-archive) loads in podman and reads with skopeo" {
  id=$(berth import -c 'CMD ["/bin/sh"]' "$ROOTFS_TAR" localhost/bi/one:1)
  umoci_layout "$WORK/layout" art
  berth load -i "$WORK/layout" >/dev/null
  berth tag "$(berth images -q -f dangling=true)" localhost/bi/two:2
  berth save -o "$WORK/d.tar" localhost/bi/one:1 localhost/bi/two:2
  run skopeo inspect "docker-archive:$WORK/d.tar:localhost/bi/one:1"
  [ "$status" -eq 0 ]
  [ "$(jq -c .Layers <<<"$output")" = "$(berth_layers localhost/bi/one:1)" ]
  run skopeo inspect --config "docker-archive:$WORK/d.tar:localhost/bi/two:2"
  [ "$status" -eq 0 ]
  [ "$(jq -c .rootfs.diff_ids <<<"$output")" = "$(berth_layers localhost/bi/two:2)" ]
  run podman_cmd load -i "$WORK/d.tar"
  [ "$status" -eq 0 ]
  [[ $output == *"Loaded image: localhost/bi/one:1"* ]]
  [[ $output == *"localhost/bi/two:2"* ]]
  [ "sha256:$(podman_cmd image inspect --format '{{.Id}}' localhost/bi/one:1)" = "$id" ]
  [ "$(podman_cmd image inspect --format '{{json .RootFS.Layers}}' localhost/bi/two:2 | jq -c .)" = \
    "$(berth_layers localhost/bi/two:2)" ]
  [ "$(podman_cmd image inspect --format '{{json .Config.Cmd}}' localhost/bi/one:1 | jq -c .)" = '["/bin/sh"]' ]
}

@test "interop: berth save --format oci-dir/oci-archive pass umoci stat and skopeo inspect" {
  berth import "$ROOTFS_TAR" localhost/bi/one:1 >/dev/null
  umoci_layout "$WORK/layout" art
  berth load -i "$WORK/layout" >/dev/null
  berth tag "$(berth images -q -f dangling=true)" localhost/bi/two:2
  berth save --format oci-dir -o "$WORK/od" localhost/bi/one:1 localhost/bi/two:2
  run umoci stat --image "$WORK/od:localhost/bi/two:2"
  [ "$status" -eq 0 ]
  [[ $output == *"/bin/sh -c mkdir /test"* ]]
  run umoci ls --layout "$WORK/od"
  [ "$(sort <<<"$output")" = "$(printf '%s\n' localhost/bi/one:1 localhost/bi/two:2)" ]
  # berth keeps each layer once, as its tree and tar-split (docs/design/tarsplit.md): the saved
  # layout has umoci's config (the same image) and its layers as uncompressed tars, each blob's
  # digest its diff id, as Docker 25 saves them; so its manifest is a new one
  [ "$(skopeo inspect "oci:$WORK/od:localhost/bi/two:2" | jq -r .Digest)" != \
    "$(jq -r '.manifests[0].digest' "$WORK/layout/index.json")" ]
  m=$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "localhost/bi/two:2") | .digest' "$WORK/od/index.json")
  [ "$(jq -c '[.layers[].digest]' "$WORK/od/blobs/sha256/${m#sha256:}")" = "$(berth_layers localhost/bi/two:2)" ]
  [ "$(jq -r .config.digest "$WORK/od/blobs/sha256/${m#sha256:}")" = "$(berth images -q --no-trunc localhost/bi/two:2)" ]
  run skopeo inspect --config "oci:$WORK/od:localhost/bi/one:1"
  [ "$(jq -c .rootfs.diff_ids <<<"$output")" = "$(berth_layers localhost/bi/one:1)" ]
  berth save --format oci-archive -o "$WORK/o.tar" localhost/bi/one:1
  run skopeo inspect "oci-archive:$WORK/o.tar:localhost/bi/one:1"
  [ "$status" -eq 0 ]
  run podman_cmd load -i "$WORK/o.tar"
  [ "$status" -eq 0 ]
  [ "sha256:$(podman_cmd image inspect --format '{{.Id}}' localhost/bi/one:1)" = "$(berth images -q --no-trunc localhost/bi/one:1)" ]
  # umoci can unpack what berth wrote
  run umoci unpack --image "$WORK/od:localhost/bi/two:2" "$BATS_TEST_TMPDIR/unpacked"
  [ "$status" -eq 0 ]
  [ "$(cat "$BATS_TEST_TMPDIR/unpacked/rootfs/test/a")" = "Sat 30 Mar 18:05:24 CET 2019" ]
}

@test "interop: images podman saved (docker-archive, oci-archive, oci-dir) load into berth unchanged" {
  podman_cmd import --change 'CMD ["/bin/sh"]' "$ROOTFS_TAR" localhost/pi/x:1 >/dev/null
  umoci_layout "$WORK/layout" art
  skopeo copy --quiet "oci:$WORK/layout:art" "containers-storage:[vfs@$PODMAN_DIR/root+$PODMAN_DIR/run]localhost/pi/art:1"
  for img in localhost/pi/x:1 localhost/pi/art:1; do
    pid=sha256:$(podman_cmd image inspect --format '{{.Id}}' "$img")
    players=$(podman_cmd image inspect --format '{{json .RootFS.Layers}}' "$img" | jq -c .)
    pconfig=$(skopeo inspect --config "containers-storage:[vfs@$PODMAN_DIR/root+$PODMAN_DIR/run]$img" | jq -S -c .)
    for fmt in docker-archive oci-archive oci-dir; do
      rm -rf "$WORK/p"
      podman_cmd save --format "$fmt" -o "$WORK/p" "$img" 2>/dev/null
      run berth load -i "$WORK/p"
      [ "$status" -eq 0 ]
      [ "$output" = "Loaded image: $img" ]
      [ "$(berth images -q --no-trunc "$img")" = "$pid" ]
      [ "$(berth_layers "$img")" = "$players" ]
      # the config itself: berth keeps the blob, byte for byte
      [ "$(jq -S -c . "$BROOT/blobs/sha256/${pid#sha256:}")" = "$pconfig" ]
      berth rmi "$img" >/dev/null
    done
  done
  run berth system check
  echo "system check: $output" # shown when the test fails
  [ "$output" = "store and catalogue are consistent" ]
}

@test "interop: an OCI layout made by umoci loads into berth with its diff ids and config" {
  umoci_layout "$WORK/layout" art
  run berth load -i "$WORK/layout"
  [ "$status" -eq 0 ]
  mdigest=$(jq -r '.manifests[0].digest' "$WORK/layout/index.json")
  config=$(jq -r .config.digest "$WORK/layout/blobs/sha256/${mdigest#sha256:}")
  [ "$output" = "Loaded image ID: $config" ]
  [ "$(berth_layers "$config")" = "$(jq -c .rootfs.diff_ids "$WORK/layout/blobs/sha256/${config#sha256:}")" ]
  # the same layout as an oci-archive, with a full name in ref.name, gets the name
  tar -C "$WORK/layout" -cf "$WORK/layout.tar" .
  jq '.manifests[0].annotations["org.opencontainers.image.ref.name"] = "localhost/u/art:7"' \
    "$WORK/layout/index.json" >"$WORK/index.json"
  cp "$WORK/index.json" "$WORK/layout/index.json"
  run berth load -i "$WORK/layout"
  [ "$output" = "Loaded image: localhost/u/art:7" ]
}
