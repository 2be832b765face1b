#!/usr/bin/env bats
# berth's image commands on a private store: import, images, history (the article's table),
# inspect, tag, rmi, prune, save/load round trips, export, system df/check, --help, exit codes,
# bad input leaving the store exactly as before, shared base layers taking their space once.

load images_helpers

setup_file() {
  images_setup_file
}

setup() {
  images_setup
}

@test "images: import a rootfs tarball from a file and from stdin" {
  run berth import -c 'CMD ["/bin/sh"]' -c 'ENV A=1' -m 'from a file' "$ROOTFS_TAR" test/bb:1
  [ "$status" -eq 0 ]
  [[ $output =~ ^sha256:[0-9a-f]{64}$ ]]
  id=$output
  run berth import - test/bb:stdin <"$ROOTFS_TAR"
  [ "$status" -eq 0 ]
  run berth images --format json
  [ "$(jq -s length <<<"$output")" = 2 ]
  run berth image inspect test/bb:1
  [ "$status" -eq 0 ]
  [ "$(jq -r '.[0].Id' <<<"$output")" = "$id" ]
  [ "$(jq -c '.[0].Config.Cmd' <<<"$output")" = '["/bin/sh"]' ]
  [ "$(jq -c '.[0].Config.Env' <<<"$output")" = '["A=1"]' ]
  [ "$(jq -r '.[0].Comment' <<<"$output")" = 'from a file' ]
  [ "$(jq -r '.[0].RootFS.Type' <<<"$output")" = layers ]
  [ "$(jq -r '.[0].Size' <<<"$output")" = "$(tree_size "$BUSYBOX_ROOTFS")" ]
  upper=$(jq -r '.[0].GraphDriver.Data.UpperDir' <<<"$output")
  [ -x "$upper/bin/busybox" ]
  # the layer tar's digest is the diff id
  [ "$(jq -r '.[0].RootFS.Layers[0]' <<<"$output")" = "sha256:$(sha256sum <"$ROOTFS_TAR" | cut -d' ' -f1)" ]
}

@test "images: the table, -q, --digests, --no-trunc, a REPOSITORY filter, --format json" {
  berth import "$ROOTFS_TAR" test/bb:1 >/dev/null
  berth tag test/bb:1 localhost:5000/other:v2
  run berth images
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "REPOSITORY               TAG                 IMAGE ID            CREATED                  SIZE" ] ||
    [ "${lines[0]}" = "REPOSITORY               TAG                 IMAGE ID            CREATED                   SIZE" ] ||
    [[ ${lines[0]} =~ ^REPOSITORY\ +TAG\ +IMAGE\ ID\ +CREATED\ +SIZE$ ]]
  [[ ${lines[1]} =~ ^localhost:5000/other\ +v2\ +[0-9a-f]{12}\ +.*ago\ +$(human_size "$(tree_size "$BUSYBOX_ROOTFS")")$ ]]
  [[ ${lines[2]} =~ ^test/bb\ +1\ + ]]
  run berth images -q
  [ "${#lines[@]}" -eq 2 ]
  [ "${lines[0]}" = "${lines[1]}" ]
  [[ ${lines[0]} =~ ^[0-9a-f]{12}$ ]]
  run berth images --no-trunc -q test/bb
  [ "${#lines[@]}" -eq 1 ]
  [[ ${lines[0]} =~ ^sha256:[0-9a-f]{64}$ ]]
  run berth images --digests
  [[ ${lines[0]} =~ ^REPOSITORY\ +TAG\ +DIGEST\ +IMAGE\ ID ]]
  [[ ${lines[1]} =~ \<none\> ]]
  run berth images --format json test/bb:1
  [ "$(jq -r .Repository <<<"$output")" = test/bb ]
  [ "$(jq -r .Tag <<<"$output")" = 1 ]
  run berth images test/bb:2
  [ "${#lines[@]}" -eq 1 ]
}

@test "images: history of an imported image is docker's table" {
  berth import "$ROOTFS_TAR" test/bb:1 >/dev/null
  run berth history test/bb:1
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "IMAGE               CREATED             CREATED BY          SIZE                COMMENT" ] ||
    [[ ${lines[0]} =~ ^IMAGE\ {15}CREATED\ +CREATED\ BY\ {10}SIZE\ {16}COMMENT$ ]]
  [[ ${lines[1]} =~ ^[0-9a-f]{12}\ {8}.*ago\ +$(human_size "$(tree_size "$BUSYBOX_ROOTFS")")\ +Imported\ from\ .*rootfs.tar$ ]]
  [ "${#lines[@]}" -eq 2 ]
  run berth history -q test/bb:1
  [[ $output =~ ^[0-9a-f]{12}$ ]]
  run berth history --format json test/bb:1
  [ "$(jq -r .Comment <<<"$output")" = "Imported from $ROOTFS_TAR" ]
}

@test "images: history of a loaded multi-layer image prints the article's table" {
  umoci_layout "$WORK/layout" art
  run berth load -i "$WORK/layout"
  [ "$status" -eq 0 ]
  [[ $output =~ ^Loaded\ image\ ID:\ sha256:([0-9a-f]{12}) ]]
  short=${BASH_REMATCH[1]}
  when=$(date -d 2019-03-30T17:05:24Z +%s)
  ago=$(ago "$when")
  base=$(human_size "$(tree_size "$BUSYBOX_ROOTFS")")
  expected=$(printf '%-20s%-20s%-48s%-20s%s\n' IMAGE CREATED 'CREATED BY' SIZE COMMENT \
    "$short" "$ago" '/bin/sh -c echo Sat 30 Mar 18:05:24 CET 2019~' 29B '' \
    '<missing>' "$ago" '/bin/sh -c mkdir /test' 0B '' \
    '<missing>' "$ago" '/bin/sh -c #(nop)  CMD ["bash"]' 0B '' \
    '<missing>' "$ago" '/bin/sh -c #(nop) ADD file:2219cecc89ed69975~' "$base" '' | sed 's/ *$//; s/~/…/')
  run berth history "$short"
  [ "$status" -eq 0 ]
  diff <(echo "$expected") <(echo "$output")
  run berth history --no-trunc "$short"
  [[ ${lines[1]} == sha256:* ]]
  [[ $output == *'/bin/sh -c echo Sat 30 Mar 18:05:24 CET 2019 > /test/a'* ]]
}

@test "images: --format templates — images, history, image inspect, system df" {
  id=$(berth import -c 'CMD ["/bin/sh"]' -c 'LABEL app=web' -m 'from a file' "$ROOTFS_TAR" test/bb:1)
  berth tag test/bb:1 other/bb:2
  # docs.docker.com, docker images --format
  [ "$(berth images --format '{{.ID}}: {{.Repository}}' | sort | tr '\n' ' ')" = \
    "${id:7:12}: other/bb ${id:7:12}: test/bb " ]
  run berth images --format 'table {{.ID}}\t{{.Repository}}\t{{.Tag}}'
  [ "${lines[0]}" = "IMAGE ID       REPOSITORY   TAG" ]
  [ "${lines[1]}" = "${id:7:12}   other/bb     2" ]
  [ "${lines[2]}" = "${id:7:12}   test/bb      1" ]
  [ "$(berth images --format '{{if eq .Tag "1"}}{{.Repository}}{{end}}' | tr -d '\n')" = test/bb ]
  run --separate-stderr berth images --format '{{.Nope}}'
  [ "$status" -eq 1 ]
  [ "$stderr" = "berth images: template parsing error: template: :1:2: executing \"\" at <.Nope>: can't evaluate field Nope in type *formatter.imageContext" ]
  # history: docker's fields and header titles
  run berth history --format 'table {{.ID}}\t{{.Comment}}' test/bb:1
  [ "${lines[0]}" = "IMAGE          COMMENT" ]
  [ "${lines[1]}" = "${id:7:12}   from a file" ]
  [ "$(berth history --format '{{.Comment | printf "%.4s"}}|{{.Size}}' test/bb:1)" = \
    "from|$(human_size "$(tree_size "$BUSYBOX_ROOTFS")")" ]
  # image inspect -f: a struct's missing field is an error, a map's missing key <no value>
  [ "$(berth image inspect -f '{{.Id}} {{.Config.Labels.app}} {{.Config.Labels.none}} {{json .Config.Cmd}}' test/bb:1)" = \
    "$id web <no value> [\"/bin/sh\"]" ]
  [ "$(berth image inspect -f '{{len .RepoTags}} {{len .RootFS.Layers}} {{join .RepoTags ","}}' test/bb:1)" = \
    "2 1 other/bb:2,test/bb:1" ]
  run --separate-stderr berth image inspect -f '{{.Config.Nope}}' test/bb:1
  [ "$status" -eq 1 ]
  [[ $stderr == *'at <.Config.Nope>: map has no entry for key "Nope"' ]]
  # system df
  run berth system df --format 'table {{.Type}}\t{{.TotalCount}}'
  [ "${lines[0]}" = "TYPE            TOTAL" ]
  [ "${lines[1]}" = "Images          1" ]
  [ "$(berth system df --format '{{.Type}}' | tr '\n' ' ')" = "Images Containers Local Volumes Build Cache " ]
}

@test "images: tag, rmi (untag, conflicts, -f), image rm and prune" {
  id=$(berth import "$ROOTFS_TAR" a/b:1)
  berth tag a/b:1 c/d:1
  run berth rmi "$id"
  [ "$status" -eq 1 ]
  [[ $output == *"must be forced) - image is referenced in multiple repositories"* ]]
  run berth rmi c/d:1
  [ "$status" -eq 0 ]
  [ "$output" = "Untagged: c/d:1" ]
  run berth image rm a/b:1
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "Untagged: a/b:1" ]
  [ "${lines[1]}" = "Deleted: $id" ]
  [ -z "$(find "$BROOT/layers" "$BROOT/blobs/sha256" -mindepth 1)" ]
  run berth rmi a/b:1
  [ "$status" -eq 1 ]
  [[ $output == "berth: no such image: \`a/b:1\`" ]]
  berth import "$ROOTFS_TAR" x:1 >/dev/null
  berth import "$ROOTFS_TAR" x:1 >/dev/null # the first is dangling now
  run berth images -f dangling=true -q
  [ "${#lines[@]}" -eq 1 ]
  run berth image prune -f
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "Deleted Images:" ]
  [[ ${lines[1]} == deleted:\ sha256:* ]]
  [[ ${lines[-1]} == "Total reclaimed space: "* ]]
  run berth images -q
  [ "${#lines[@]}" -eq 1 ]
  run berth image prune -a -f
  [ "$(berth images -q)" = "" ]
  run berth system check
  echo "system check: $output" # shown when the test fails
  [ "$status" -eq 0 ]
  [ "$output" = "store and catalogue are consistent" ]
}

@test "images: save and load round trip in every format, several images in one archive" {
  a=$(berth import -c 'CMD ["sh"]' "$ROOTFS_TAR" one:1)
  umoci_layout "$WORK/layout" art
  berth load -i "$WORK/layout" >/dev/null
  b=$(berth images -q --no-trunc -f dangling=true)
  berth tag "$b" two:1
  for fmt in docker-archive oci-archive oci-dir; do
    berth save --format "$fmt" -o "$WORK/out-$fmt" one:1 two:1
    berth rmi one:1 two:1 >/dev/null
    [ -z "$(berth images -q)" ]
    run berth load -i "$WORK/out-$fmt"
    [ "$status" -eq 0 ]
    [[ $output == *"Loaded image: one:1"* ]]
    [[ $output == *"Loaded image: two:1"* ]]
    [ "$(berth images -q --no-trunc one:1)" = "$a" ]
    [ "$(berth images -q --no-trunc two:1)" = "$b" ]
  done
  # save to stdout, load from stdin
  berth save one:1 >"$WORK/stdout.tar"
  berth rmi one:1 >/dev/null
  run berth load <"$WORK/stdout.tar"
  [ "$output" = "Loaded image: one:1" ]
  run berth save one:1
  [ "$status" -eq 0 ] # not a terminal here: written to the pipe
}

@test "images: export writes the merged filesystem with whiteouts applied" {
  umoci_layout "$WORK/layout" art
  # one more layer that deletes /test/a
  b=$BATS_TEST_TMPDIR/bundle
  umoci unpack --image "$WORK/layout:art" "$b" >/dev/null
  rm "$b/rootfs/test/a"
  umoci repack --image "$WORK/layout:art" "$b"
  berth load -i "$WORK/layout" >/dev/null
  id=$(berth images -q)
  berth export -o "$WORK/fs.tar" "$id"
  tar -tf "$WORK/fs.tar" >"$WORK/list"
  grep -qx 'bin/busybox' "$WORK/list"
  grep -qx 'test/' "$WORK/list"
  ! grep -q 'test/a' "$WORK/list" || false
  ! grep -q '\.wh\.' "$WORK/list" || false
  [ -z "$(awk -v d="$BATS_TEST_TMPDIR" 'index($5, d) == 1' /proc/self/mountinfo)" ]
}

@test "images: two images sharing a base take its space once" {
  big=$WORK/base
  mkdir -p "$big"
  head -c 20000000 /dev/urandom >"$big/blob"
  tar -C "$big" -cf "$WORK/base.tar" .
  berth import "$WORK/base.tar" base:1 >/dev/null
  # two images on top of the same base: docker-archives with the base layer and one of their own
  for n in 1 2; do
    d=$WORK/img$n
    mkdir -p "$d/top"
    echo "image $n" >"$d/top/file$n"
    tar -C "$d/top" -cf "$d/top.tar" .
    diff0=sha256:$(sha256sum <"$WORK/base.tar" | cut -d' ' -f1)
    diff1=sha256:$(sha256sum <"$d/top.tar" | cut -d' ' -f1)
    printf '{"architecture":"%s","os":"linux","rootfs":{"type":"layers","diff_ids":["%s","%s"]}}' \
      "$(images_arch)" "$diff0" "$diff1" >"$d/config.json"
    printf '[{"Config":"config.json","RepoTags":["img:%s"],"Layers":["base.tar","top.tar"]}]' "$n" >"$d/manifest.json"
    cp "$WORK/base.tar" "$d/base.tar"
    tar -C "$d" -cf "$d.tar" config.json manifest.json base.tar top.tar
    run berth --log-level debug load -i "$d.tar"
    [ "$status" -eq 0 ]
    [[ $output == *"layer $diff0: already extracted, reused"* ]] # never extracted again
  done
  run berth images
  [ "${#lines[@]}" -eq 4 ]
  [ "$(ls "$BROOT/layers" | wc -l)" -eq 3 ] # base once + two tops
  # disk usage of the extracted layers: the 20 MB base once, not three times
  used=$(du -sb "$BROOT/layers" | cut -f1)
  [ "$used" -gt 20000000 ]
  [ "$used" -lt 21000000 ]
  # system df counts it once too; images lists it per image (like docker)
  run berth system df --format json
  size=$(jq -r 'select(.Type == "Images") | .Size' <<<"$output")
  echo "df: $size" >&2
  # the base's extracted layer once (its tar is rebuilt from the tree and a tar-split record,
  # docs/design/tarsplit.md): about 20 MB, not the 40 MB of a blob beside its tree
  [[ $size =~ ^(20|21)(\.[0-9]+)?MB$ ]]
}

@test "images: corrupt, truncated, mismatching and malicious input leaves the store exactly as before" {
  berth import "$ROOTFS_TAR" keep:1 >/dev/null
  before=$(store_snapshot)
  # a truncated archive
  berth save keep:1 >"$WORK/keep.tar"
  head -c 300000 "$WORK/keep.tar" >"$WORK/truncated.tar"
  # a layer whose content is not what the config says
  mkdir -p "$WORK/mm" && cd "$WORK/mm"
  tar -C "$BUSYBOX_ROOTFS" -cf layer.tar ./etc
  printf '{"rootfs":{"type":"layers","diff_ids":["sha256:%064d"]}}' 0 >config.json
  echo '[{"Config":"config.json","RepoTags":["mm:1"],"Layers":["layer.tar"]}]' >manifest.json
  tar -cf "$WORK/mismatch.tar" config.json manifest.json layer.tar
  echo '[{"Config": nope' >manifest.json
  tar -cf "$WORK/notjson.tar" config.json manifest.json layer.tar
  # a layer escaping its root
  mkdir -p "$WORK/evil" && cd "$WORK/evil"
  python3 - <<'PY'
import io, tarfile, json, hashlib
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w") as t:
    i = tarfile.TarInfo("../../escaped"); data = b"gotcha"; i.size = len(data); t.addfile(i, io.BytesIO(data))
layer = buf.getvalue()
open("layer.tar", "wb").write(layer)
cfg = json.dumps({"rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(layer).hexdigest()]}}).encode()
open("config.json", "wb").write(cfg)
open("manifest.json", "w").write(json.dumps([{"Config": "config.json", "RepoTags": ["evil:1"], "Layers": ["layer.tar"]}]))
PY
  tar -cf "$WORK/evil.tar" config.json manifest.json layer.tar
  cd "$WORK"
  for f in truncated mismatch notjson evil; do
    run berth load -i "$WORK/$f.tar"
    [ "$status" -eq 1 ]
    [[ $output == "berth: load: \`$WORK/$f.tar\`: "* ]]
    case $f in
      mismatch) [[ $output == *"diff id mismatch"* ]] ;;
      notjson) [[ $output == *"manifest.json:1:"*"invalid JSON"* ]] ;;
      evil) [[ $output == *"../../escaped"* ]] ;;
    esac
    [ "$(store_snapshot)" = "$before" ]
  done
  [ ! -e "$BROOT/../escaped" ]
  [ ! -e "$BATS_TEST_TMPDIR/../escaped" ]
  run berth system check
  echo "system check: $output" # shown when the test fails
  [ "$output" = "store and catalogue are consistent" ]
}

# the files of a layout dir are the image maker's: a fifo there would block berth, a device node
# would be read as root into the store; they are opened only once known to be regular files
@test "images: load -i DIR never opens a fifo or device node of the layout" {
  umoci_layout "$WORK/layout" art
  berth import "$ROOTFS_TAR" keep:1 >/dev/null
  before=$(store_snapshot)
  manifest=$(jq -r '.manifests[0].digest | sub(":"; "/")' "$WORK/layout/index.json")
  for f in index.json "blobs/$manifest"; do
    cp -a "$WORK/layout" "$WORK/bad"
    rm "$WORK/bad/$f" && mkfifo "$WORK/bad/$f"
    timeout 30 sh -c "echo '{}' >'$WORK/bad/$f'" &
    writer=$!
    blocked() { grep -qsE 'fifo_open|wait_for_partner' "/proc/$(pgrep -P "$writer" sh || echo 0)/wchan"; }
    for _ in $(seq 300); do blocked && break; sleep 0.1; done
    blocked
    run timeout 20 "$BERTH" --root "$BROOT" --runroot "$BRUN" load -i "$WORK/bad"
    [ "$status" -eq 1 ]
    [[ $output == *"not a regular file"* || $output == *"(no index.json)"* ]]
    blocked # nobody opened it
    kill "$writer"
    wait "$writer" || true
    rm -rf "$WORK/bad"
    [ "$(store_snapshot)" = "$before" ]
  done
  # a character device as a blob: refused the same way (never read)
  cp -a "$WORK/layout" "$WORK/bad"
  rm "$WORK/bad/blobs/$manifest" && mknod "$WORK/bad/blobs/$manifest" c 1 5
  run berth load -i "$WORK/bad"
  [ "$status" -eq 1 ]
  [[ $output == *"not a regular file"* ]]
  [ "$(store_snapshot)" = "$before" ]
}

@test "images: --help on every command and group, usage errors exit 125" {
  for c in images import export load save tag rmi history inspect "image ls" "image rm" "image history" \
    "image import" "image load" "image save" "image tag" "image prune" "image inspect" "system df" "system check"; do
    # shellcheck disable=SC2086
    run berth $c --help
    [ "$status" -eq 0 ]
    [[ $output == *"Usage:  berth "* ]]
  done
  for g in image system; do
    run berth "$g" --help
    [ "$status" -eq 0 ]
    [[ $output == *"Commands:"* ]]
  done
  run berth --help
  [ "$status" -eq 0 ]
  [[ $output == *"Global Options:"* ]]
  # each top-level command once (group commands under their Docker names), then the groups;
  # no alias, no internal command
  [ "$(grep -c '^  images  ' <<<"$output")" -eq 1 ]
  [ "$(grep -c '^  rmi  ' <<<"$output")" -eq 1 ]
  [ "$(grep -c '^  inspect  ' <<<"$output")" -eq 1 ]
  [[ $output == *"Management Commands:"*"  image "*"  volume "* ]]
  [[ $output != *"  list "* && $output != *internal* ]]
  run berth rmi --help
  [[ $output == *"Usage:  berth rmi "* ]]
  run berth images --bogus
  [ "$status" -eq 125 ]
  [ "$output" = "berth images: unknown flag: --bogus" ]
  run berth frobnicate
  [ "$status" -eq 125 ]
  run berth image frobnicate
  [ "$status" -eq 125 ]
  run berth tag onlyone
  [ "$status" -eq 125 ]
  run berth history nope:1
  [ "$status" -eq 1 ]
  [ "$output" = "berth: no such image: \`nope:1\`" ]
  run berth --root "$BROOT" images
  [ "$status" -eq 0 ]
  BERTH_ROOT=$BROOT run "$BERTH" --runroot "$BRUN" images
  [ "$status" -eq 0 ]
}

@test "images: concurrent commands wait for each other instead of failing" {
  local pids=()
  for i in 1 2 3 4; do
    berth import "$ROOTFS_TAR" "par:$i" >"$WORK/out$i" 2>&1 &
    pids+=($!)
  done
  # these pids only: a bare `wait` would also wait for bats' own timeout watchdog
  wait "${pids[@]}"
  for i in 1 2 3 4; do [[ $(cat "$WORK/out$i") =~ ^sha256: ]]; done
  run berth images -q
  [ "${#lines[@]}" -eq 4 ]
  [ "$(ls "$BROOT/layers" | wc -l)" -eq 1 ]
  run berth system check
  echo "system check: $output" # shown when the test fails
  [ "$output" = "store and catalogue are consistent" ]
}

# libarchive is loaded when first needed (image/archive_dl.h): without it, the commands that
# need it fail with an error naming it, the others still work, and the store is unchanged.
@test "images: without a loadable libarchive, import is a clear error and the store is unchanged" {
  berth import "$ROOTFS_TAR" test/bb:1 >/dev/null
  local lib empty=$BATS_TEST_TMPDIR/empty.so before after
  lib=$(readlink -f /usr/lib/"$(gcc -print-multiarch)"/libarchive.so.13)
  [ -f "$lib" ]
  : >"$empty"
  before=$(store_snapshot)
  run unshare --mount --propagation private -- sh -c \
    'mount --bind "$1" "$2" && shift 2 && exec "$@"' sh "$empty" "$lib" \
    "$BERTH" --root "$BROOT" --runroot "$BRUN" import "$ROOTFS_TAR" test/bb:2
  [ "$status" -ne 0 ]
  [[ $output == *"cannot load libarchive (libarchive.so.13"* ]]
  run unshare --mount --propagation private -- sh -c \
    'mount --bind "$1" "$2" && shift 2 && exec "$@"' sh "$empty" "$lib" \
    "$BERTH" --root "$BROOT" --runroot "$BRUN" images --format json
  [ "$status" -eq 0 ]
  [ "$(jq -s length <<<"$output")" = 1 ]
  after=$(store_snapshot)
  [ "$before" = "$after" ]
}
