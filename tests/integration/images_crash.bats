#!/usr/bin/env bats
# kill -9 at any point of `berth load` / `berth import` leaves the store consistent: what
# `system check` finds afterwards is only what --repair fixes (orphan files, tmp/ leftovers),
# and after --repair the check is clean and the next load works.

load images_helpers

setup_file() {
  images_setup_file
}

setup() {
  images_setup
}

# a docker-archive slow enough to be killed in every phase: the busybox rootfs, 3000 small files
# (gzip), 24 MB of random data
make_big_archive() {
  local d=$WORK/big
  mkdir -p "$d/many" "$d/rand"
  for i in $(seq 1 3000); do echo "file $i" >"$d/many/f$i"; done
  head -c 24000000 /dev/urandom >"$d/rand/blob"
  tar -C "$BUSYBOX_ROOTFS" -cf "$d/l1.tar" .
  tar -C "$d/many" -czf "$d/l2.tar.gz" .
  tar -C "$d/rand" -cf "$d/l3.tar" .
  local ids=() f
  ids+=("sha256:$(sha256sum <"$d/l1.tar" | cut -d' ' -f1)")
  ids+=("sha256:$(gzip -dc "$d/l2.tar.gz" | sha256sum | cut -d' ' -f1)")
  ids+=("sha256:$(sha256sum <"$d/l3.tar" | cut -d' ' -f1)")
  printf '{"architecture":"%s","os":"linux","rootfs":{"type":"layers","diff_ids":["%s","%s","%s"]}}' \
    "$(images_arch)" "${ids[@]}" >"$d/config.json"
  echo '[{"Config":"config.json","RepoTags":["big:1"],"Layers":["l1.tar","l2.tar.gz","l3.tar"]}]' >"$d/manifest.json"
  tar -C "$d" -cf "$WORK/big.tar" config.json manifest.json l1.tar l2.tar.gz l3.tar
}

# the check after a crash: nothing but repairable problems; --repair; then clean
assert_recoverable() {
  run berth system check
  echo "system check: $output" # shown when the test fails
  if [[ $output == *"damaged:"* ]]; then
    echo "after a kill at $1 ms:" >&2
    echo "$output" >&2
    return 1
  fi
  run berth system check --repair
  [ "$status" -eq 0 ] || { echo "$output" >&2; return 1; }
  run berth system check
  echo "system check: $output" # shown when the test fails
  [ "$output" = "store and catalogue are consistent" ] || { echo "$output" >&2; return 1; }
}

# kill_at MS CMD...: start CMD, SIGKILL it after MS milliseconds (if still running)
kill_at() {
  local ms=$1
  shift
  "$@" >/dev/null 2>&1 &
  local pid=$!
  sleep "$(awk -v m="$ms" 'BEGIN { printf "%.3f", m / 1000 }')"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

@test "crash: kill -9 during load at many points, then system check --repair leaves a clean store" {
  make_big_archive
  start=$(date +%s%N)
  berth load -i "$WORK/big.tar" >/dev/null
  full=$((($(date +%s%N) - start) / 1000000))
  echo "a full load takes $full ms" >&2
  berth rmi big:1 >/dev/null
  berth system check --repair >/dev/null
  n=16
  for i in $(seq 0 $((n - 1))); do
    ms=$((full * i / n + RANDOM % 20))
    kill_at "$ms" "$BERTH" --root "$BROOT" --runroot "$BRUN" load -i "$WORK/big.tar"
    assert_recoverable "$ms"
    # the image is either all there or not at all
    if [ -n "$(berth images -q big:1)" ]; then
      berth export -o "$WORK/fs.tar" big:1
      tar -tf "$WORK/fs.tar" | grep -qx 'blob'
      rm "$WORK/fs.tar"
      berth rmi big:1 >/dev/null
      assert_recoverable "$ms (after rmi)"
    fi
  done
  run berth load -i "$WORK/big.tar"
  [ "$status" -eq 0 ]
  [ "$output" = "Loaded image: big:1" ]
  run berth system check
  echo "system check: $output" # shown when the test fails
  [ "$output" = "store and catalogue are consistent" ]
}

@test "crash: kill -9 during import from stdin and during rmi" {
  make_big_archive
  tar -C "$WORK/big" -cf "$WORK/rootfs-big.tar" many rand
  start=$(date +%s%N)
  berth import - imp:1 <"$WORK/rootfs-big.tar" >/dev/null
  full=$((($(date +%s%N) - start) / 1000000))
  berth rmi imp:1 >/dev/null
  for i in 0 1 2 3 4 5 6 7; do
    ms=$((full * i / 8 + RANDOM % 20))
    kill_at "$ms" sh -c "exec \"\$0\" --root \"$BROOT\" --runroot \"$BRUN\" import - imp:1 <\"$WORK/rootfs-big.tar\"" "$BERTH"
    assert_recoverable "$ms"
  done
  berth import - imp:2 <"$WORK/rootfs-big.tar" >/dev/null
  for ms in 5 20 60; do
    berth tag imp:2 imp:3
    kill_at "$ms" "$BERTH" --root "$BROOT" --runroot "$BRUN" rmi imp:2 imp:3
    assert_recoverable "rmi $ms"
    [ -n "$(berth images -q imp:2)" ] || berth import - imp:2 <"$WORK/rootfs-big.tar" >/dev/null
  done
}
