#!/usr/bin/env bats
# Other local users against root's store (issue 11, finding 1; docs/security.md): nothing a
# container or an image controls (setuid files, device nodes, volume data, logs) is reachable
# through any path berth makes, and every berth command run by such a user against root's
# store fails with a clear error and changes nothing.

load containers_helpers

setup_file() {
  ctr_setup_file
}

setup() {
  ctr_setup
  # mktemp's 0700 would hide everything by itself: the store's parent is traversable, as
  # /var/lib is
  chmod 0755 "$CTR_DIR"
  UNPRIV=(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all)
}

teardown() {
  ctr_teardown
}

# a tar with one setuid-root copy of busybox and one executable script, as an image layer
suid_layer() {
  local d=$BATS_TEST_TMPDIR/suid
  mkdir -p "$d/bin"
  cp "$BASE_ROOTFS/bin/busybox" "$d/bin/suid-busybox"
  chmod 4755 "$d/bin/suid-busybox"
  tar -C "$d" --numeric-owner --owner=0 --group=0 -cf "$BATS_TEST_TMPDIR/suid.tar" .
}

# every path under the store and the run root that user 65534 can reach (stat) is printed
reachable_by_nobody() {
  local list=$BATS_TEST_TMPDIR/paths
  find "$BROOT" "$BRUN" -mindepth 1 >"$list"
  [ -s "$list" ] || { echo "no paths under $BROOT and $BRUN" >&2; return 1; }
  chmod 0644 "$list"
  "${UNPRIV[@]}" sh -c 'while IFS= read -r p; do if [ -e "$p" ] || [ -L "$p" ]; then echo "$p"; fi; done' <"$list"
}

@test "unprivileged: no path under the store or the run root is reachable by another user" {
  suid_layer
  berth import "$BATS_TEST_TMPDIR/suid.tar" suid >/dev/null
  berth volume create data >/dev/null
  # a setuid file and a device node the container makes, volume data, a log
  berth run --name wr -v data:/data bb sh -c \
    'cp /bin/busybox /mine && chmod 4755 /mine && mknod /disk b 8 0 && echo secret >/data/f && echo logged' >/dev/null
  berth run -d --name up bb sh -c 'trap "exit 0" TERM; while :; do sleep 0.1; done' >/dev/null
  wait_for up '{{.State.Status}}' running
  # the paths are the ones a user could learn (chain ids, container ids, the monitor's argv)
  [ -n "$(find "$BROOT/containers" -path '*/upper/mine' -perm -4000)" ]
  [ -n "$(find "$BROOT/layers" -name suid-busybox -perm -4000)" ]
  run reachable_by_nobody
  [ "$status" -eq 0 ]
  if [ -n "$output" ]; then
    echo "reachable by uid 65534:" >&2
    head -n 20 <<<"$output" >&2
    return 1
  fi
  for d in "$BROOT" "$BROOT/layers" "$BROOT/containers" "$BROOT/volumes" "$BROOT/blobs" "$BROOT/tmp" "$BRUN"; do
    [ "$(stat -c %a "$d")" = 700 ] || { echo "$d is $(stat -c %a "$d")" >&2; return 1; }
  done
  berth stop -t 1 up >/dev/null
}

@test "unprivileged: a store made by an older berth with looser modes is tightened when opened" {
  berth volume create vv >/dev/null
  berth run --name cc bb true
  chmod 0711 "$BROOT" "$BROOT/layers" "$BROOT/containers"
  chmod 0755 "$BROOT/volumes" "$BRUN"
  berth ps -a >/dev/null
  berth volume ls >/dev/null
  berth run --rm bb true
  for d in "$BROOT" "$BROOT/layers" "$BROOT/containers" "$BROOT/volumes" "$BRUN"; do
    [ "$(stat -c %a "$d")" = 700 ] || { echo "$d is $(stat -c %a "$d")" >&2; return 1; }
  done
}

@test "unprivileged: a store root owned by another user is refused, naming it" {
  rm -rf "$BROOT"
  mkdir -m 0700 "$BROOT"
  chown 65534:65534 "$BROOT"
  run berth ps
  [ "$status" -ne 0 ]
  [[ $output == *"\`$BROOT\` belongs to uid 65534"* ]]
  [ "$(stat -c %u "$BROOT")" = 65534 ]
  [ -z "$(ls -A "$BROOT")" ]
}

@test "unprivileged: berth's commands run by another user against root's store fail cleanly" {
  berth volume create vv >/dev/null
  berth run -d --name up bb sh -c 'trap "exit 0" TERM; while :; do sleep 0.1; done' >/dev/null
  wait_for up '{{.State.Status}}' running
  # the binary where user 65534 can run it
  local bin=$CTR_DIR/bin
  mkdir -m 0755 "$bin"
  cp "$BERTH" "$bin/berth"
  chmod 0755 "$bin/berth"
  cp "$CTR_TAR" "$CTR_DIR/in.tar"
  chmod 0644 "$CTR_DIR/in.tar"
  local before after
  before=$(find "$BROOT" "$BRUN" -printf '%p %m %u %s %T@\n' 2>/dev/null | grep -v '/berth.db' | sort)
  local cmds=("ps -a" "images" "run --rm bb true" "create bb" "rm -f up" "stop up" "kill up"
    "exec up true" "logs up" "inspect up" "rmi bb" "tag bb x" "volume ls" "volume create ww"
    "volume rm -f vv" "import $CTR_DIR/in.tar y" "load -i $CTR_DIR/in.tar" "save -o $CTR_DIR/o.tar bb"
    "system df" "container prune -f" "image prune -af" "volume prune -f" "cp up:/etc/passwd $CTR_DIR/p")
  local c
  for c in "${cmds[@]}"; do
    # shellcheck disable=SC2086
    run "${UNPRIV[@]}" env -u BERTH_ROOT HOME=/nonexistent "$bin/berth" --root "$BROOT" --runroot "$BRUN" $c
    if [ "$status" -eq 0 ] || [[ $output != *"Permission denied"* ]] || [[ $output == *Sanitizer* ]] ||
      [[ $output == *"Segmentation"* ]]; then
      echo "berth $c as uid 65534: status $status: $output" >&2
      return 1
    fi
  done
  after=$(find "$BROOT" "$BRUN" -printf '%p %m %u %s %T@\n' 2>/dev/null | grep -v '/berth.db' | sort)
  [ "$before" = "$after" ] || { diff <(echo "$before") <(echo "$after") >&2; return 1; }
  [ ! -e "$CTR_DIR/o.tar" ]
  [ ! -e "$CTR_DIR/p" ]
  [ "$(berth inspect -f '{{.State.Status}}' up)" = running ]
  berth stop -t 1 up >/dev/null
}
