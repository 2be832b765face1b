#!/usr/bin/env bats
# Removing containers whatever they left in their filesystem (issue 11, finding 4): a tree deeper
# than the descriptor limit goes with rm -f and --rm; a removal that fails leaves a row that says
# why and that rm, container prune and system check --repair remove again, never one stuck in
# "Removal In Progress".

load containers_helpers

setup_file() {
  ctr_setup_file
}

setup() {
  ctr_setup
}

teardown() {
  local m
  for m in $(awk -v d="${CTR_DIR:-/nonexistent}" 'index($5, d) == 1 {print $5}' /proc/self/mountinfo | sort -r); do
    umount "$m"
  done
  ctr_teardown
}

# a chain /d/d/.../d of $0 directories in the container, then /made (built from the bottom up: no
# path the shell handles grows with the depth)
DEEP='cd / && mkdir d && i=1; while [ $i -lt $0 ]; do mkdir t && mv d t/ && mv t d || exit 1; i=$((i + 1)); done; touch /made'

# berth with at most $1 descriptors
berth_fds() {
  local n=$1
  shift
  bash -c 'ulimit -n "$1"; shift; exec timeout -k 5 300 "$@" 3>&-' _ "$n" "$BERTH" --root "$BROOT" --runroot "$BRUN" "$@"
}

@test "remove: rm -f of a running container that made a tree deeper than the descriptor limit" {
  id=$(berth run -d bb sh -c "$DEEP; while :; do sleep 1; done" 2500)
  for _ in $(seq 600); do [ -e "$BROOT/containers/$id/upper/made" ] && break; sleep 0.1; done
  [ -e "$BROOT/containers/$id/upper/made" ]
  run berth_fds 64 rm -f "$id"
  echo "$output"
  [ "$status" -eq 0 ]
  [ -z "$(ctr_ids)" ]
  [ ! -e "$BROOT/containers/$id" ]
}

@test "remove: --rm and container prune remove a tree deeper than the descriptor limit" {
  run berth_fds 64 run --rm bb sh -c "$DEEP" 2500
  echo "$output"
  [ "$status" -eq 0 ]
  [ -z "$(ctr_ids)" ]
  [ -z "$(ls "$BROOT/containers")" ]
  berth run --name deep bb sh -c "$DEEP" 2500
  run berth_fds 64 container prune -f
  echo "$output"
  [ "$status" -eq 0 ]
  [ -z "$(ctr_ids)" ]
  [ -z "$(ls "$BROOT/containers")" ]
}

@test "remove: a removal that fails leaves a dead row saying why; rm, prune and system check retry it" {
  berth run --name half bb mkdir -p /x/y
  id=$(berth inspect -f '{{.Id}}' half)
  mnt=$BROOT/containers/$id/upper/x/y
  mount -t tmpfs berth-test "$mnt"
  touch "$mnt/keep"
  run berth rm half
  echo "$output"
  [ "$status" -ne 0 ]
  [ -e "$mnt/keep" ]
  [ "$(berth inspect -f '{{.State.Status}}' half)" = dead ]
  [[ $output == *"\`y\` at depth 3 is a mount point"* ]]
  [[ $(berth inspect -f '{{.State.Error}}' half) == *"is a mount point"* ]]
  [[ $(berth ps -a --filter name=half --format '{{.Status}}') == Dead ]]
  run berth start half
  [ "$status" -ne 0 ]
  [[ $output == *"marked for removal"* ]]
  # still in the way: rm -f fails the same way, and the row stays dead
  run berth rm -f half
  [ "$status" -ne 0 ]
  [ "$(berth inspect -f '{{.State.Status}}' half)" = dead ]
  run berth system check
  echo "system check: $output" # shown when the test fails
  [[ $output == *"container ${id:0:12} was left half removed"*"mount point"* ]]
  umount "$mnt"
  run berth container prune -f
  echo "$output"
  [ "$status" -eq 0 ]
  [ -z "$(ctr_ids)" ]
  [ ! -e "$BROOT/containers/$id" ]
  # system check --repair finishes one too
  berth run --name half2 bb mkdir -p /x/y
  id=$(berth inspect -f '{{.Id}}' half2)
  mount -t tmpfs berth-test "$BROOT/containers/$id/upper/x/y"
  run berth rm half2
  [ "$status" -ne 0 ]
  umount "$BROOT/containers/$id/upper/x/y"
  run berth system check --repair
  echo "$output"
  [[ $output == *"container ${id:0:12} was left half removed"*"removed"* ]]
  [ -z "$(ctr_ids)" ]
  [ ! -e "$BROOT/containers/$id" ]
}
