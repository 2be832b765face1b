# shellcheck shell=bash
# build_helpers.bash: loaded by the build suites (build*.bats) — the container suites' private
# store with the busybox-static image `bb` (containers_helpers.bash), tagged `busybox` too, a
# context directory per test, and a teardown that also fails the test when a build left a step
# directory, runtime state, a cgroup or a mount behind.

load containers_helpers

build_setup() {
  ctr_setup
  berth tag bb busybox
  CTX=$CTR_DIR/ctx
  mkdir -p "$CTX"
}

# build_left: what a build may not leave behind (printed, one a line)
build_left() {
  local m
  [ -d "$BROOT/builds/steps" ] && find "$BROOT/builds/steps" -mindepth 1 -maxdepth 1 -printf 'step dir %p\n'
  [ -d "$BRUN/builds/runtime" ] && find "$BRUN/builds/runtime" -mindepth 1 -maxdepth 1 ! -name '.*' -printf 'runtime state %p\n'
  for m in /sys/fs/cgroup/*/berth-build/* /sys/fs/cgroup/berth-build/*; do
    [ -d "$m" ] && echo "cgroup $m"
  done
  awk -v d="$CTR_DIR" 'index($5, d) == 1 {print "mount " $5}' /proc/self/mountinfo
  build_mounts_anywhere
  return 0
}

# build_mounts_anywhere: a mount under the test's store or run root in any process's mount
# namespace (a RUN's overlay lives in a private namespace: /proc/self/mountinfo never shows it)
build_mounts_anywhere() {
  local f
  for f in /proc/[0-9]*/mountinfo; do
    awk -v d="$CTR_DIR/" -v f="$f" 'index($5, d) == 1 {print "mount " $5 " (" f ")"}' "$f" 2>/dev/null
  done | sort -u
}

build_teardown() {
  [ -n "${CTR_DIR:-}" ] && [ -d "$CTR_DIR" ] || return 0
  local left
  left=$(build_left)
  ctr_teardown || return 1
  if [ -n "$left" ]; then
    echo "left behind by a build: $left" >&2
    return 1
  fi
}

# bld ARGS...: berth build with plain progress
bld() {
  berth build --progress plain "$@"
}

# the image id a tag names
image_id() {
  berth image inspect -f '{{.Id}}' "$1"
}

# the image config as stored (berth save's docker-archive: manifest.json names it)
image_config() {
  local d
  d=$(mktemp -d "$CTR_DIR/save.XXXXXX")
  berth save "$1" | tar -C "$d" -xf -
  cat "$d/$(jq -r '.[0].Config' "$d/manifest.json")"
  rm -rf "$d"
}
