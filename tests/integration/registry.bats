#!/usr/bin/env bats
# berth pull / push against Debian's docker-registry on 127.0.0.1 (plain HTTP: loopback is
# insecure, as Docker treats it), and against a proxy in front of it that lies or fails. What
# is checked is what the registry and the store hold afterwards, never how long anything took.

load registry_helpers

setup_file() {
  registry_requires
  images_setup_file
  registry_start plain
}

teardown_file() {
  registries_stop
}

setup() {
  images_setup
  export REGISTRY_AUTH_FILE=$BATS_TEST_TMPDIR/auth.json
  export DOCKER_CONFIG=$BATS_TEST_TMPDIR/docker
}

# the manifest's digest as the registry serves it
served_digest() {
  curl -sf -o /dev/null -D - -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' "http://$1/v2/$2/manifests/$3" |
    awk 'tolower($1) == "docker-content-digest:" {print $2}' | tr -d '\r'
}

# a berth image pushed to the plain registry as $1/$2:$3 (returns nothing; sets PUSHED_ID)
push_image() {
  PUSHED_ID=$(berth import -c 'CMD ["/bin/sh"]' "$ROOTFS_TAR" "$1/$2:$3")
  berth push -q "$1/$2:$3" >/dev/null
}

@test "registry: push -> rmi -> pull round trip; the same image, tag, repo digest and files" {
  id=$(berth import -c 'CMD ["/bin/sh"]' "$ROOTFS_TAR" "$REG_PLAIN/rt/bb:1")
  run berth push --digestfile "$WORK/digest" "$REG_PLAIN/rt/bb:1"
  [ "$status" -eq 0 ]
  [[ $output == *"The push refers to repository [$REG_PLAIN/rt/bb]"* ]]
  [[ $output == *": Pushed"* ]]
  digest=$(cat "$WORK/digest")
  [ "$digest" = "$(served_digest "$REG_PLAIN" rt/bb 1)" ]
  [[ $output == *"1: digest: $digest size: "* ]]
  # the registry holds the config berth has (the image id is its digest)
  curl -sf "http://$REG_PLAIN/v2/rt/bb/blobs/$id" | sha256sum | grep -q "${id#sha256:}"
  berth rmi "$REG_PLAIN/rt/bb:1" >/dev/null
  run berth pull "$REG_PLAIN/rt/bb:1"
  [ "$status" -eq 0 ]
  [[ $output == *"1: Pulling from rt/bb"* ]]
  [[ $output == *": Pull complete"* ]]
  [[ $output == *"Digest: $digest"* ]]
  [[ $output == *"Status: Downloaded newer image for $REG_PLAIN/rt/bb:1"* ]]
  [ "${lines[-1]}" = "$REG_PLAIN/rt/bb:1" ]
  [ "$(berth images -q --no-trunc "$REG_PLAIN/rt/bb:1")" = "$id" ]
  [ "$(berth image inspect "$REG_PLAIN/rt/bb:1" | jq -r '.[0].RepoDigests[0]')" = "$REG_PLAIN/rt/bb@$digest" ]
  run berth images --digests "$REG_PLAIN/rt/bb"
  [[ ${lines[1]} == "$REG_PLAIN/rt/bb "*" 1 "*" $digest "* ]]
  berth export -o "$WORK/fs.tar" "$REG_PLAIN/rt/bb:1" 2>/dev/null || true
  run berth system check
  echo "system check: $output" # shown when the test fails
  [ "$status" -eq 0 ]
  [[ $output == *"consistent"* ]]
}

@test "registry: a second pull is up to date and downloads no blob" {
  push_image "$REG_PLAIN" utd/bb 1
  berth rmi "$REG_PLAIN/utd/bb:1" >/dev/null
  berth pull -q "$REG_PLAIN/utd/bb:1" >/dev/null
  proxy_start pass 0 "$REG_PLAIN"
  berth tag "$REG_PLAIN/utd/bb:1" "$PROXY/utd/bb:1"
  berth pull -q "$PROXY/utd/bb:1" >/dev/null # a new name: its config is read once
  : >"$PROXY_LOG"
  run berth pull "$PROXY/utd/bb:1"
  [ "$status" -eq 0 ]
  [[ $output == *"Status: Image is up to date for $PROXY/utd/bb:1"* ]]
  ! grep -q '/blobs/' "$PROXY_LOG"
}

@test "registry: pull by digest, name:tag@digest, --quiet, -a (all tags)" {
  push_image "$REG_PLAIN" dg/bb 1
  berth tag "$REG_PLAIN/dg/bb:1" "$REG_PLAIN/dg/bb:2"
  berth push -q "$REG_PLAIN/dg/bb:2" >/dev/null
  digest=$(served_digest "$REG_PLAIN" dg/bb 1)
  berth rmi "$REG_PLAIN/dg/bb:1" "$REG_PLAIN/dg/bb:2" >/dev/null
  run berth pull -q "$REG_PLAIN/dg/bb@$digest"
  [ "$status" -eq 0 ]
  [ "$output" = "$REG_PLAIN/dg/bb@$digest" ]
  [ "$(berth images -q --no-trunc)" = "$PUSHED_ID" ]
  run berth pull -q "$REG_PLAIN/dg/bb:9@$digest"
  [ "$status" -eq 0 ]
  run berth pull -q -a "$REG_PLAIN/dg/bb"
  [ "$status" -eq 0 ]
  [ "$(berth images "$REG_PLAIN/dg/bb" | awk 'NR > 1 {print $2}' | sort | tr '\n' ' ')" = "1 2 " ]
  run berth pull -a "$REG_PLAIN/dg/bb:2"
  [ "$status" -ne 0 ]
  [[ $output == *"tag can't be used with --all-tags"* ]]
}

@test "registry: manifest inspect prints the manifest as the registry serves it" {
  push_image "$REG_PLAIN" mi/bb 1
  run berth manifest inspect "$REG_PLAIN/mi/bb:1"
  [ "$status" -eq 0 ]
  want=$(curl -sf -H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://$REG_PLAIN/v2/mi/bb/manifests/1")
  [ "$output" = "$want" ]
  [ "$(jq -r .config.digest <<<"$output")" = "$PUSHED_ID" ]
  run berth manifest inspect "$REG_PLAIN/mi/nothing:1"
  [ "$status" -ne 0 ]
  [[ $output == *"manifest $REG_PLAIN/mi/nothing:1: not found (HTTP 404, MANIFEST_UNKNOWN"* ]]
}

# push an index of the images at tags $3... (their manifests) to $1/$2:multi
push_index() {
  local reg=$1 repo=$2 entries="" t m d s plat
  shift 2
  for t in "$@"; do
    m=$(curl -sf -H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://$reg/v2/$repo/manifests/$t")
    d=sha256:$(printf %s "$m" | sha256sum | cut -d' ' -f1)
    s=$(printf %s "$m" | wc -c)
    plat=$(curl -sf "http://$reg/v2/$repo/blobs/$(jq -r .config.digest <<<"$m")" |
      jq -c '{os, architecture} + (if .variant then {variant} else {} end)')
    entries+="${entries:+,}{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"$d\",\"size\":$s,\"platform\":$plat}"
  done
  curl -sf -X PUT -H 'Content-Type: application/vnd.oci.image.index.v1+json' \
    --data-binary "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[$entries]}" \
    "http://$reg/v2/$repo/manifests/multi"
}

@test "registry: a multi-arch index: the host's platform by default, --platform picks the variant" {
  amd=$(berth import --platform linux/amd64 "$ROOTFS_TAR" "$REG_PLAIN/ma/bb:amd64")
  arm=$(berth import --platform linux/arm64/v8 -m arm64 "$ROOTFS_TAR" "$REG_PLAIN/ma/bb:arm64")
  armv7=$(berth import --platform linux/arm/v7 -m armv7 "$ROOTFS_TAR" "$REG_PLAIN/ma/bb:armv7")
  for t in amd64 arm64 armv7; do berth push -q "$REG_PLAIN/ma/bb:$t" >/dev/null; done
  push_index "$REG_PLAIN" ma/bb amd64 arm64 armv7
  berth rmi -f "$amd" "$arm" "$armv7" >/dev/null
  run berth pull -q --platform linux/arm64 "$REG_PLAIN/ma/bb:multi"
  [ "$status" -eq 0 ]
  [ "$(berth images -q --no-trunc "$REG_PLAIN/ma/bb:multi")" = "$arm" ]
  run berth pull -q --platform linux/arm "$REG_PLAIN/ma/bb:multi"
  [ "$(berth images -q --no-trunc "$REG_PLAIN/ma/bb:multi")" = "$armv7" ]
  if [ "$(images_arch)" = amd64 ]; then
    run berth pull -q "$REG_PLAIN/ma/bb:multi"
    [ "$status" -eq 0 ]
    [ "$(berth images -q --no-trunc "$REG_PLAIN/ma/bb:multi")" = "$amd" ]
  fi
  # the repo digest recorded is the index's: what `pull NAME@digest` will ask for again
  idx=$(curl -sf -o /dev/null -D - -H 'Accept: application/vnd.oci.image.index.v1+json' \
    "http://$REG_PLAIN/v2/ma/bb/manifests/multi" | awk 'tolower($1) == "docker-content-digest:" {print $2}' | tr -d '\r')
  berth image inspect "$REG_PLAIN/ma/bb:multi" | jq -r '.[0].RepoDigests[]' | grep -qx "$REG_PLAIN/ma/bb@$idx"
  run berth pull --platform linux/s390x "$REG_PLAIN/ma/bb:multi"
  [ "$status" -ne 0 ]
  [[ $output == *"no image for platform linux/s390x in the index (3 entries)"* ]]
  run berth pull --platform linux/ARM64 "$REG_PLAIN/ma/bb:multi"
  [ "$status" -ne 0 ]
  [[ $output == *"invalid platform \`linux/ARM64\`: bad architecture"* ]]
}

@test "registry: an interrupted blob is resumed with a Range request" {
  push_image "$REG_PLAIN" rs/bb 1
  berth rmi "$REG_PLAIN/rs/bb:1" >/dev/null
  CUTS=3 proxy_start interrupt 100000 "$REG_PLAIN"
  run berth pull "$PROXY/rs/bb:1"
  [ "$status" -eq 0 ]
  [ "$(berth images -q --no-trunc "$PROXY/rs/bb:1")" = "$PUSHED_ID" ]
  grep -q 'range=bytes=100000- -> 206' "$PROXY_LOG"
  grep -q 'range=bytes=200000- -> 206' "$PROXY_LOG"
  run berth system check
  echo "system check: $output" # shown when the test fails
  [[ $output == *"consistent"* ]]
}

# a pull through the proxy in MODE that must fail with MESSAGE and leave the store as it was
pull_fails() {
  local mode=$1 arg=$2 message=$3 before
  push_image "$REG_PLAIN" "f$mode/bb" 1
  berth rmi "$REG_PLAIN/f$mode/bb:1" >/dev/null
  before=$(store_files)
  proxy_start "$mode" "$arg" "$REG_PLAIN"
  run berth pull "$PROXY/f$mode/bb:1"
  [ "$status" -ne 0 ] || { echo "$output"; return 1; }
  [[ $output == *"$message"* ]] || { echo "expected: $message"; echo "got: $output"; return 1; }
  [ "$(store_files)" = "$before" ] || { diff <(echo "$before") <(store_files); return 1; }
  [ -z "$(berth images -q -a)" ]
  run berth system check
  echo "system check: $output" # shown when the test fails
  [[ $output == *"consistent"* ]]
}

@test "registry: a corrupted blob: digest mismatch, nothing left" {
  pull_fails corrupt 0 "digest mismatch"
}

@test "registry: a blob larger than its descriptor: refused, nothing left" {
  pull_fails bigger 0 "larger than its descriptor says"
}

@test "registry: a body always truncated: bounded retries, then an error, nothing left" {
  pull_fails truncate 0 "after 5 attempts"
  [ "$(grep -c '/blobs/sha256:.* -> 200' "$PROXY_LOG")" -le 5 ]
}

@test "registry: a redirect loop: one clear error" {
  pull_fails redirect 0 "too many redirects"
}

@test "registry: a non-JSON manifest, a contradicting media type, schema 1" {
  pull_fails nonjson 0 "not a JSON document"
  pull_fails schema1 0 "a Docker schema 1 manifest: not supported"
  pull_fails mediatype 0 "the registry serves it as \`application/vnd.oci.image.index.v1+json\` but the document"
}

@test "registry: an index pointing to itself is refused" {
  amd=$(berth import --platform "linux/$(images_arch)" "$ROOTFS_TAR" "$REG_PLAIN/si/bb:a")
  berth push -q "$REG_PLAIN/si/bb:a" >/dev/null
  push_index "$REG_PLAIN" si/bb a
  berth rmi "$amd" >/dev/null
  proxy_start selfindex 0 "$REG_PLAIN"
  run berth pull "$PROXY/si/bb:multi"
  [ "$status" -ne 0 ]
  [[ $output == *"digest mismatch"* ]]
  [ -z "$(berth images -q -a)" ]
}

@test "registry: bursts of 503 and 429 with Retry-After are waited out" {
  push_image "$REG_PLAIN" bu/bb 1
  berth rmi "$REG_PLAIN/bu/bb:1" >/dev/null
  proxy_start burst 3 "$REG_PLAIN"
  run berth pull -q "$PROXY/bu/bb:1"
  [ "$status" -eq 0 ]
  [ "$(grep -c -- '-> 503' "$PROXY_LOG")" -eq 2 ]
  [ "$(grep -c -- '-> 429' "$PROXY_LOG")" -eq 1 ]
  [ "$(berth images -q --no-trunc "$PROXY/bu/bb:1")" = "$PUSHED_ID" ]
}

@test "registry: a registry that always fails: bounded retries and a clear error" {
  proxy_start fivexx 0 "$REG_PLAIN"
  run berth pull "$PROXY/x/bb:1"
  [ "$status" -ne 0 ]
  [[ $output == *"server error (HTTP 500)"* ]]
  [ "$(wc -l <"$PROXY_LOG")" -le 6 ]
}

@test "registry: invalid references name the part that is wrong" {
  run berth pull "$REG_PLAIN/Upper/bb:1"
  [ "$status" -ne 0 ]
  [[ $output == *"must be lowercase"* ]]
  run berth pull "$REG_PLAIN/a/bb:bad:tag"
  [ "$status" -ne 0 ]
  [[ $output == *"invalid"* ]]
  run berth pull "$REG_PLAIN/a/bb@sha256:123"
  [ "$status" -ne 0 ]
  [[ $output == *"invalid digest"* ]]
}

@test "registry: a pull killed half-way leaves no image; the next pull completes" {
  push_image "$REG_PLAIN" kl/bb 1
  berth rmi "$REG_PLAIN/kl/bb:1" >/dev/null
  before=$(store_files)
  proxy_start stall 100000 "$REG_PLAIN"
  # SIGKILL while a blob is half-way (the proxy holds it after 100000 bytes)
  "$BERTH" --root "$BROOT" --runroot "$BRUN" pull "$PROXY/kl/bb:1" >/dev/null 2>&1 3>&- &
  pid=$! # berth itself: nothing of it runs on
  for i in $(seq 600); do grep -q 'stalled' "$PROXY_LOG" && break; sleep 0.05; done
  grep -q 'stalled' "$PROXY_LOG"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" || true
  [ -z "$(berth images -q -a)" ]
  # every blob in the store is whole (its name is its digest)
  for f in "$BROOT"/blobs/sha256/*; do
    [ -e "$f" ] || continue
    [ "$(sha256sum <"$f" | cut -d' ' -f1)" = "$(basename "$f")" ]
  done
  run berth pull -q "$REG_PLAIN/kl/bb:1"
  [ "$status" -eq 0 ]
  [ "$(berth images -q --no-trunc "$REG_PLAIN/kl/bb:1")" = "$PUSHED_ID" ]
  run berth system check --repair
  [ "$status" -eq 0 ]
  run berth system check
  echo "system check: $output" # shown when the test fails
  [[ $output == *"consistent"* ]]
}

@test "registry: berth tag + push to another registry; cross-repository mount within one" {
  push_image "$REG_PLAIN" src/bb 1
  berth tag "$REG_PLAIN/src/bb:1" "$REG_PLAIN/dst/bb:1"
  run berth push "$REG_PLAIN/dst/bb:1"
  [ "$status" -eq 0 ]
  [[ $output == *"Mounted from src/bb"* ]]
  run berth push "$REG_PLAIN/dst/bb:1"
  [[ $output == *"Layer already exists"* ]]
  registry_start other
  berth tag "$REG_PLAIN/src/bb:1" "$REG_OTHER/bb:copy"
  run berth push "$REG_OTHER/bb:copy"
  [ "$status" -eq 0 ]
  [ "$(served_digest "$REG_OTHER" bb copy)" = "$(served_digest "$REG_PLAIN" src/bb 1)" ]
}

@test "registry: chunked uploads (PATCH) give the same blobs" {
  id=$(berth import "$ROOTFS_TAR" "$REG_PLAIN/ch/bb:1")
  run berth push --chunk-size 100000 "$REG_PLAIN/ch/bb:1"
  [ "$status" -eq 0 ]
  m=$(curl -sf -H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://$REG_PLAIN/v2/ch/bb/manifests/1")
  layer=$(jq -r '.layers[0].digest' <<<"$m")
  curl -sf "http://$REG_PLAIN/v2/ch/bb/blobs/$layer" | sha256sum | grep -q "${layer#sha256:}"
  [ "$(jq -r '.layers[0].size' <<<"$m")" -gt 100000 ]
}

@test "registry: run and create --pull missing|always|never" {
  push_image "$REG_PLAIN" rp/bb 1
  berth rmi "$REG_PLAIN/rp/bb:1" >/dev/null
  run berth create --pull never "$REG_PLAIN/rp/bb:1"
  [ "$status" -eq 125 ]
  [[ $output == *"no such image"* ]]
  run berth create --pull bogus "$REG_PLAIN/rp/bb:1"
  [ "$status" -eq 125 ]
  [[ $output == *"invalid pull policy"* ]]
  run berth create "$REG_PLAIN/rp/bb:1"
  [ "$status" -eq 0 ]
  [[ $output == *"Unable to find image '$REG_PLAIN/rp/bb:1' locally"* ]]
  [ "$(berth images -q --no-trunc "$REG_PLAIN/rp/bb:1")" = "$PUSHED_ID" ]
  berth rm -f "${lines[-1]}" >/dev/null
  proxy_start pass 0 "$REG_PLAIN"
  berth tag "$REG_PLAIN/rp/bb:1" "$PROXY/rp/bb:1"
  run berth create --quiet --pull always "$PROXY/rp/bb:1"
  [ "$status" -eq 0 ]
  grep -q 'GET /v2/rp/bb/manifests/1' "$PROXY_LOG"
  berth rm -f "$output" >/dev/null
}

@test "registry: registries.json — a short-name alias, a mirror tried first, the origin when the mirror fails" {
  push_image "$REG_PLAIN" mir/bb 1
  berth rmi "$REG_PLAIN/mir/bb:1" >/dev/null
  proxy_start pass 0 "$REG_PLAIN" # the mirror: serves what the origin has
  printf '{"blocked-registries":["*"],"aliases":{"short":"%s/mir/bb"},"mirrors":{"%s":["http://%s"]}}\n' "$REG_PLAIN" "$REG_PLAIN" "$PROXY" \
    >"$WORK/registries.json"
  export BERTH_REGISTRIES_CONF=$WORK/registries.json
  run berth pull -q short:1
  [ "$status" -eq 0 ]
  [ "$output" = "$REG_PLAIN/mir/bb:1" ]
  [ "$(berth images -q --no-trunc "$REG_PLAIN/mir/bb:1")" = "$PUSHED_ID" ]
  grep -q 'GET /v2/mir/bb/manifests/1' "$PROXY_LOG"
  grep -q 'GET /v2/mir/bb/blobs/sha256:' "$PROXY_LOG"
  # a mirror that fails: the origin serves the pull
  berth rmi "$REG_PLAIN/mir/bb:1" >/dev/null
  proxy_start fivexx 0 "$REG_PLAIN"
  printf '{"blocked-registries":["*"],"mirrors":{"%s":["http://%s"]}}\n' "$REG_PLAIN" "$PROXY" >"$WORK/registries.json"
  run berth pull -q "$REG_PLAIN/mir/bb:1"
  [ "$status" -eq 0 ]
  [ "$(berth images -q --no-trunc "$REG_PLAIN/mir/bb:1")" = "$PUSHED_ID" ]
  grep -q -- '-> 500' "$PROXY_LOG"
}

# upload_blob REG REPO FILE: a blob by a monolithic upload (curl)
upload_blob() {
  local loc d
  d=sha256:$(sha256sum <"$3" | cut -d' ' -f1)
  loc=$(curl -sf -X POST -D - -o /dev/null "http://$1/v2/$2/blobs/uploads/" | awk 'tolower($1) == "location:" {print $2}' | tr -d '\r')
  [[ $loc == http* ]] || loc=http://$1$loc
  curl -sf -X PUT -H 'Content-Type: application/octet-stream' --data-binary "@$3" "$loc&digest=$d" >/dev/null
  echo "$d"
}

@test "registry: a foreign layer the registry does not serve gets a clear message; push by digest" {
  registry_start foreign foreign
  id=$(berth import "$ROOTFS_TAR" "$REG_FOREIGN/fl/bb:base")
  berth push -q "$REG_FOREIGN/fl/bb:base" >/dev/null
  m=$(curl -sf -H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://$REG_FOREIGN/v2/fl/bb/manifests/base")
  gone=sha256:$(printf 'not here' | sha256sum | cut -d' ' -f1)
  curl -sf "http://$REG_FOREIGN/v2/fl/bb/blobs/$id" | jq -c --arg g "$gone" '.rootfs.diff_ids += [$g]' | tr -d '\n' >"$WORK/config.json"
  cfg=$(upload_blob "$REG_FOREIGN" fl/bb "$WORK/config.json")
  jq -c --arg c "$cfg" --arg g "$gone" --argjson s "$(stat -c %s "$WORK/config.json")" \
    '.mediaType = "application/vnd.docker.distribution.manifest.v2+json"
     | .config = {mediaType: "application/vnd.docker.container.image.v1+json", digest: $c, size: $s}
     | .layers[0].mediaType = "application/vnd.docker.image.rootfs.diff.tar.gzip"
     | .layers += [{mediaType: "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", digest: $g, size: 8,
                    urls: ["http://127.0.0.1:9/layer.tar.gz"]}]' <<<"$m" | tr -d '\n' >"$WORK/manifest.json"
  curl -sf -X PUT -H 'Content-Type: application/vnd.docker.distribution.manifest.v2+json' \
    --data-binary "@$WORK/manifest.json" "http://$REG_FOREIGN/v2/fl/bb/manifests/foreign"
  run berth pull "$REG_FOREIGN/fl/bb:foreign"
  [ "$status" -ne 0 ]
  [[ $output == *"a foreign (non-distributable) layer"*"that the registry does not serve"*"http://127.0.0.1:9/layer.tar.gz"* ]]
  [ "$(berth images -q --no-trunc)" = "$id" ] # nothing of the foreign image recorded
  # push by digest: the manifest goes to its digest, no tag made
  digest=$(curl -sf -o /dev/null -D - -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    "http://$REG_FOREIGN/v2/fl/bb/manifests/base" | awk 'tolower($1) == "docker-content-digest:" {print $2}' | tr -d '\r')
  berth tag "$id" "$REG_FOREIGN/fl/other:x"
  berth push -q "$REG_FOREIGN/fl/other:x" >/dev/null
  run berth push -q "$REG_FOREIGN/fl/other@$digest"
  [ "$status" -eq 0 ]
  [ "$output" = "$digest" ]
}
