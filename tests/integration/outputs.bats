#!/usr/bin/env bats
# Files the engine writes where it is told to (issue 11, finding 3) and the input it
# decompresses (finding 6): nothing is written through a symlink or into a file that another
# user planted in a directory they can write, and no external decompressor ever runs.

load images_helpers

setup_file() {
  images_setup_file
}

setup() {
  images_setup
  berth import "$ROOTFS_TAR" t:1 >/dev/null
  # a directory that user 65534 owns and writes (not sticky: the kernel's protected_symlinks
  # does not apply there), and a file only root may read
  SHARED=$(mktemp -d /tmp/berth-outputs.XXXXXX)
  chown 65534:65534 "$SHARED"
  chmod 0755 "$SHARED"
  VICTIM=$BATS_TEST_TMPDIR/victim
  echo secret >"$VICTIM"
  chmod 0600 "$VICTIM"
}

teardown() {
  rm -rf "$SHARED"
}

as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$@"; }

# plant_then_berth NAME ARGS...: user 65534 plants a symlink to $VICTIM at "NAME.tmp-<pid>",
# where <pid> is the pid that `berth ARGS...` then runs as (the shell execs it); the name
# berth's output used to be written to first
plant_then_berth() {
  local name=$1
  shift
  sh -c 'setpriv --reuid=65534 --regid=65534 --clear-groups ln -s "$1" "$2.tmp-$$" && shift 2 && exec "$@"' \
    sh "$VICTIM" "$name" "$BERTH" --root "$BROOT" --runroot "$BRUN" "$@"
}

victim_untouched() {
  echo secret | cmp -s - "$VICTIM" || { echo "the victim was overwritten" >&2; return 1; }
}

# a regular file (not a symlink) holding a tar archive
is_tar_file() {
  [ -f "$1" ] && [ ! -L "$1" ] && tar -tf "$1" >/dev/null
}

@test "outputs: save -o never writes through a symlink at its temporary name" {
  run plant_then_berth "$SHARED/img.tar" save -o "$SHARED/img.tar" t:1
  [ "$status" -eq 0 ]
  victim_untouched
  is_tar_file "$SHARED/img.tar"
  # nothing of berth's is left beside it
  [ -z "$(find "$SHARED" -name '.berth-*')" ]
}

@test "outputs: export -o never writes through a symlink at its temporary name" {
  run plant_then_berth "$SHARED/fs.tar" export -o "$SHARED/fs.tar" t:1
  [ "$status" -eq 0 ]
  victim_untouched
  is_tar_file "$SHARED/fs.tar"
  tar -tf "$SHARED/fs.tar" | grep -q 'bin/busybox$'
}

@test "outputs: a symlink at the output's own name is replaced, never written through" {
  as_nobody ln -s "$VICTIM" "$SHARED/out.tar"
  as_nobody ln -s "$VICTIM" "$SHARED/fs.tar"
  berth save -o "$SHARED/out.tar" t:1
  berth export -o "$SHARED/fs.tar" t:1
  victim_untouched
  is_tar_file "$SHARED/out.tar"
  is_tar_file "$SHARED/fs.tar"
  # an image or a filesystem may hold secrets: root's alone, as Docker's CopyToFile makes them
  [ "$(stat -c '%a %u' "$SHARED/out.tar")" = "600 0" ]
  [ "$(stat -c '%a %u' "$SHARED/fs.tar")" = "600 0" ]
}

@test "outputs: save -o onto a directory fails before any work and leaves the directory alone" {
  mkdir "$WORK/d"
  run berth save -o "$WORK/d" t:1
  [ "$status" -ne 0 ]
  [[ $output == *"\`$WORK/d\` is a directory"* ]]
  [ -z "$(ls -A "$WORK/d")" ]
}

@test "outputs: save --format oci-dir refuses a symlinked directory and writes nothing through it" {
  mkdir -m 0700 "$BATS_TEST_TMPDIR/target"
  as_nobody ln -s "$BATS_TEST_TMPDIR/target" "$SHARED/layout"
  run berth save --format oci-dir -o "$SHARED/layout" t:1
  [ "$status" -ne 0 ]
  [[ $output == *"\`$SHARED/layout\` is a symlink: not followed"* ]]
  [ -z "$(ls -A "$BATS_TEST_TMPDIR/target")" ]
  [ -L "$SHARED/layout" ]
}

@test "outputs: save --format oci-dir into a new or an empty directory, and a failed one leaves nothing" {
  berth save --format oci-dir -o "$SHARED/new" t:1
  [ -f "$SHARED/new/index.json" ]
  [ -d "$SHARED/new/blobs/sha256" ]
  mkdir "$SHARED/empty"
  berth save --format oci-dir -o "$SHARED/empty" t:1
  [ -f "$SHARED/empty/oci-layout" ]
  # a file of a layer the store lost (the layer's tar is rebuilt from its tree and tar-split
  # record): the save fails half-way and takes back what it wrote
  lost=$(find "$BROOT"/layers/*/diff -type f -size +100k | head -n 1)
  [ -n "$lost" ]
  rm "$lost"
  run berth save --format oci-dir -o "$SHARED/failed" t:1
  [ "$status" -ne 0 ]
  [ ! -e "$SHARED/failed" ]
}

@test "outputs: cp to the host does not follow another user's symlink at the destination" {
  berth create --name cpc t:1 /bin/true >/dev/null
  mkdir -m 0700 "$BATS_TEST_TMPDIR/private"
  echo secret >"$BATS_TEST_TMPDIR/private/busybox"
  # 65534 points the destination at a directory of root's
  as_nobody ln -s "$BATS_TEST_TMPDIR/private" "$SHARED/dest"
  run berth cp cpc:/bin/busybox "$SHARED/dest"
  [ "$status" -ne 0 ]
  [[ $output == *"\`$SHARED/dest\` is a symlink of uid 65534: not followed"* ]]
  echo secret | cmp -s - "$BATS_TEST_TMPDIR/private/busybox"
  [ "$(ls -A "$BATS_TEST_TMPDIR/private")" = busybox ]
  # root's own link is followed, as docker cp does; a new name in a shared directory is fine
  ln -s "$BATS_TEST_TMPDIR/private" "$SHARED/mine"
  berth cp cpc:/bin/busybox "$SHARED/mine"
  cmp "$BATS_TEST_TMPDIR/private/busybox" "$BUSYBOX_ROOTFS/bin/busybox"
  berth cp cpc:/bin/busybox "$SHARED/new"
  cmp "$SHARED/new" "$BUSYBOX_ROOTFS/bin/busybox"
  berth rm cpc >/dev/null
}

# a file in lzop's format: its magic number, then anything
lzop_file() {
  printf '\x89LZO\x00\r\n\x1a\n' >"$1"
  head -c 4096 /dev/zero >>"$1"
}

# a fake lzop (and lrzip, grzip) first in PATH, which records that it ran
fake_decompressors() {
  FAKE_BIN=$BATS_TEST_TMPDIR/fakebin
  RAN=$BATS_TEST_TMPDIR/ran
  mkdir -p "$FAKE_BIN"
  for p in lzop lrzip grzip; do
    printf '#!/bin/sh\necho "%s $*" >>"%s"\ncat\n' "$p" "$RAN" >"$FAKE_BIN/$p"
    chmod 0755 "$FAKE_BIN/$p"
  done
}

@test "outputs: load and import refuse lzop input by name and run no external decompressor" {
  fake_decompressors
  lzop_file "$WORK/img.tar.lzo"
  before=$(berth images -q --no-trunc | sort)
  run env PATH="$FAKE_BIN:$PATH" "$BERTH" --root "$BROOT" --runroot "$BRUN" load -i "$WORK/img.tar.lzo"
  [ "$status" -ne 0 ]
  [[ $output == *"lzop-compressed input is not supported"* ]]
  run env PATH="$FAKE_BIN:$PATH" "$BERTH" --root "$BROOT" --runroot "$BRUN" import "$WORK/img.tar.lzo" lz:1
  [ "$status" -ne 0 ]
  [[ $output == *"lzop-compressed input is not supported"* ]]
  run env PATH="$FAKE_BIN:$PATH" "$BERTH" --root "$BROOT" --runroot "$BRUN" load <"$WORK/img.tar.lzo"
  [ "$status" -ne 0 ]
  [ ! -e "$RAN" ] || { echo "ran: $(cat "$RAN")" >&2; false; }
  [ "$(berth images -q --no-trunc | sort)" = "$before" ]
}

@test "outputs: load and import still take gzip, bzip2, xz and zstd input" {
  for z in gzip bzip2 xz zstd; do
    command -v "$z" >/dev/null || skip "no $z"
    "$z" -c <"$ROOTFS_TAR" >"$WORK/rootfs.$z"
    run berth import "$WORK/rootfs.$z" "z:$z"
    [ "$status" -eq 0 ]
    berth save -o "$WORK/img.tar" "z:$z"
    "$z" -c <"$WORK/img.tar" >"$WORK/img.tar.$z"
    berth rmi "z:$z" >/dev/null
    run berth load -i "$WORK/img.tar.$z"
    [ "$status" -eq 0 ]
    [[ $output == *"Loaded image: z:$z"* ]]
  done
}
