# shellcheck shell=bash
# images_helpers.bash: loaded by the image suites (images*.bats) — `berth` on a private store,
# a busybox-static rootfs, image builders (umoci) and an isolated podman.
#
# Every test gets its own store ($BROOT, $BRUN) under $BATS_TEST_TMPDIR. Sanitizer reports of
# the ASan build go to $ASAN_LOG_DIR (scripts/check turns any into a failure).

bats_require_minimum_version 1.5.0

IMAGES_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$IMAGES_DIR/../.." && pwd)
BERTH_BUILD=${BERTH_BUILD:-build-asan}
[[ $BERTH_BUILD == /* ]] || BERTH_BUILD=$REPO_ROOT/$BERTH_BUILD

find_berth() {
  local p
  for p in "$BERTH_BUILD/berth" "$BERTH_BUILD/src/engine/berth"; do
    [ -x "$p" ] && { echo "$p"; return; }
  done
  echo "$BERTH_BUILD/src/engine/berth"
}
BERTH=${BERTH:-$(find_berth)}

ASAN_LOG_DIR=${ASAN_LOG_DIR:-${BATS_RUN_TMPDIR:-/tmp}/asan}
mkdir -p "$ASAN_LOG_DIR"
# Leak detection stays on here: in the suites that load this file without helpers.bash (images,
# registry, API), a leak in the engine, the monitor or a berth process they start is a finding.
# The container suites load helpers.bash first, whose ASAN_OPTIONS turns it off for the runtime.
# LSan's own notes (a thread it could not stop while it scanned) are not findings; scripts/check
# prints them apart (san_report in helpers.bash).
export ASAN_OPTIONS=${ASAN_OPTIONS:-log_path=$ASAN_LOG_DIR/asan}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:log_path=$ASAN_LOG_DIR/ubsan}

# The engine suites run berth on this machine itself: a container without --network gets none
# (the default network would put a bridge and nftables rules on the host). The network suites
# (network*.bats) run berth inside a namespace of their own and unset it.
export BERTH_DEFAULT_NETWORK=${BERTH_DEFAULT_NETWORK-none}

# berth ARGS...: the engine on the test's private store
berth() {
  timeout -k 5 300 "$BERTH" --root "$BROOT" --runroot "$BRUN" "$@" 3>&-
}

images_setup() {
  [ -x "$BERTH" ] || skip "berth not built ($BERTH)"
  BROOT=$BATS_TEST_TMPDIR/root
  BRUN=$BATS_TEST_TMPDIR/run
  WORK=$BATS_TEST_TMPDIR/work
  mkdir -p "$WORK"
}

# a busybox-static rootfs with /etc/{passwd,group}, built once per suite into $1
build_busybox_rootfs() {
  local r=$1 bb
  bb=$(command -v busybox) || return 1
  mkdir -p "$r"/{bin,dev,proc,sys,tmp,etc,root}
  chmod 1777 "$r/tmp"
  cp "$bb" "$r/bin/busybox"
  "$r/bin/busybox" --list | while read -r a; do
    [ "$a" = busybox ] || ln -s busybox "$r/bin/$a"
  done
  printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' >"$r/etc/passwd"
  printf '%s\n' 'root:x:0:' 'nogroup:x:65534:' >"$r/etc/group"
  touch -d 2019-03-30T17:00:00Z "$r" "$r"/* "$r"/etc/*
}

images_setup_file() {
  BUSYBOX_ROOTFS=$BATS_FILE_TMPDIR/rootfs
  [ -x "$BUSYBOX_ROOTFS/bin/busybox" ] || build_busybox_rootfs "$BUSYBOX_ROOTFS"
  ROOTFS_TAR=$BATS_FILE_TMPDIR/rootfs.tar
  [ -f "$ROOTFS_TAR" ] || tar -C "$BUSYBOX_ROOTFS" --sort=name --numeric-owner -cf "$ROOTFS_TAR" .
  export BUSYBOX_ROOTFS ROOTFS_TAR
}

# umoci_layout DIR TAG: an OCI layout built with umoci — the busybox rootfs, a 29-byte file, an
# empty directory and a CMD (an empty layer), every step dated 2019-03-30 like the article's
umoci_layout() {
  local dir=$1 tag=$2 b=$BATS_TEST_TMPDIR/umoci-bundle when=2019-03-30T17:05:24Z
  umoci init --layout "$dir"
  umoci new --image "$dir:$tag"
  umoci config --image "$dir:$tag" --no-history --created "$when" --os linux --architecture "$(images_arch)"
  rm -rf "$b" && umoci unpack --image "$dir:$tag" "$b" >/dev/null
  cp -a "$BUSYBOX_ROOTFS/." "$b/rootfs/"
  umoci repack --image "$dir:$tag" --history.created "$when" \
    --history.created_by "/bin/sh -c #(nop) ADD file:2219cecc89ed699759f4a7bb6bf5a0c1a8cbc14ff6d2a6cbf1f0dd7f7b0a8e3b in / " "$b"
  umoci config --image "$dir:$tag" --config.cmd bash --history.created "$when" \
    --history.created_by '/bin/sh -c #(nop)  CMD ["bash"]'
  rm -rf "$b" && umoci unpack --image "$dir:$tag" "$b" >/dev/null
  mkdir "$b/rootfs/test"
  umoci repack --image "$dir:$tag" --history.created "$when" --history.created_by "/bin/sh -c mkdir /test" "$b"
  rm -rf "$b" && umoci unpack --image "$dir:$tag" "$b" >/dev/null
  echo 'Sat 30 Mar 18:05:24 CET 2019' >"$b/rootfs/test/a"
  umoci repack --image "$dir:$tag" --history.created "$when" \
    --history.created_by "/bin/sh -c echo Sat 30 Mar 18:05:24 CET 2019 > /test/a" "$b"
  umoci config --image "$dir:$tag" --no-history --created "$when"
  rm -rf "$b"
}

# Docker's size text (go-units HumanSizeWithPrecision(size, 3))
human_size() {
  awk -v s="$1" 'BEGIN { split("B kB MB GB TB", u, " "); i = 1; while (s >= 1000 && i < 5) { s /= 1000; i++ }
    printf "%.3g%s\n", s, u[i] }'
}

# Docker's DiffSize of a tree: bytes of every non-directory entry
tree_size() {
  find "$1" ! -type d -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }'
}

images_arch() {
  case $(uname -m) in
    x86_64) echo amd64 ;; aarch64) echo arm64 ;; *) uname -m ;;
  esac
}

# the "N years ago" docker prints for a time (unix seconds) — go-units' HumanDuration
ago() {
  local d=$(($(date +%s) - $1)) h
  h=$(((d + 1800) / 3600))
  if [ "$d" -lt 60 ]; then echo "$d seconds ago"
  elif [ "$h" -lt 48 ]; then echo "$h hours ago"
  elif [ "$h" -lt $((24 * 14)) ]; then echo "$((h / 24)) days ago"
  elif [ "$h" -lt $((24 * 60)) ]; then echo "$((h / 24 / 7)) weeks ago"
  elif [ "$h" -lt $((24 * 730)) ]; then echo "$((h / 24 / 30)) months ago"
  else echo "$((d / 3600 / 24 / 365)) years ago"; fi
}

# store_snapshot: every file of the store but the database, and every row
store_snapshot() {
  (cd "$BROOT" && find blobs layers tmp -printf '%y %m %s %p\n' 2>/dev/null | sort)
  sqlite3 "$BROOT/berth.db" 'SELECT * FROM blobs ORDER BY 1; SELECT * FROM layers ORDER BY 1;
    SELECT * FROM images ORDER BY 1; SELECT * FROM image_layers ORDER BY 1, 2; SELECT * FROM tags ORDER BY 1;' 2>&1
}

# podman on private storage (short dir: its runroot must stay under 50 characters)
podman_setup() {
  command -v podman >/dev/null || skip "podman is not installed (scripts/install-deps)"
  PODMAN_DIR=$(mktemp -d /tmp/berth-pi.XXXXXX)
}

podman_cmd() {
  timeout -k 5 300 podman --root "$PODMAN_DIR/root" --runroot "$PODMAN_DIR/run" --storage-driver vfs \
    --events-backend none --cgroup-manager cgroupfs "$@" 3>&-
}

podman_teardown() {
  [ -n "${PODMAN_DIR:-}" ] && [ -d "$PODMAN_DIR" ] || return 0
  podman_cmd system reset -f >/dev/null 2>&1 || true
  local m
  for m in $(awk -v d="$PODMAN_DIR" 'index($5, d) == 1 {print $5}' /proc/self/mountinfo | sort -r); do
    umount -l "$m"
  done
  rm -rf --one-file-system "$PODMAN_DIR"
}
