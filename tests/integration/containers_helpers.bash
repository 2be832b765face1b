# shellcheck shell=bash
# containers_helpers.bash: loaded by the container suites (containers*.bats) — `berth` on a
# private --root/--runroot in a short temporary directory, an
# image imported from a busybox-static rootfs with /probe, and a teardown that removes every
# container and fails the test if a monitor, a mount, a cgroup, a run dir or a row is left.

load helpers
load images_helpers

# the rootfs (helpers.bash's: busybox, /probe, /etc/passwd) as a tar, once per suite file
ctr_setup_file() {
  setup_file_common
  CTR_TAR=$BATS_FILE_TMPDIR/ctr-rootfs.tar
  [ -f "$CTR_TAR" ] || tar -C "$BASE_ROOTFS" --numeric-owner -cf "$CTR_TAR" .
  export CTR_TAR
}

# a private store with the image `bb` (CMD sh)
ctr_setup() {
  [ -x "$BERTH" ] || skip "berth not built ($BERTH)"
  [ -n "${CTR_TAR:-}" ] || ctr_setup_file
  CTR_DIR=$(mktemp -d /tmp/bc.XXXXXX)
  BROOT=$CTR_DIR/r
  BRUN=$CTR_DIR/s
  berth import -c 'CMD ["sh"]' "$CTR_TAR" bb >/dev/null
}

# ids of every container of the store
ctr_ids() {
  sqlite3 "$BROOT/berth.db" 'SELECT id FROM containers' 2>/dev/null
}

# pids of the monitors of this store (their command line names its run dir)
ctr_monitors() {
  local p
  for p in /proc/[0-9]*; do
    cat "$p/cmdline" 2>/dev/null | tr '\0' ' ' | grep -q -- "berth-monitor .*--rundir $BRUN/" && echo "${p#/proc/}"
  done
  return 0
}

ctr_teardown() {
  [ -n "${CTR_DIR:-}" ] && [ -d "$CTR_DIR" ] || return 0
  local id ids left=() p m
  ids=$(ctr_ids)
  for id in $ids; do
    berth rm -f "$id" >/dev/null 2>&1 || left+=("rm -f $id failed: $(berth rm -f "$id" 2>&1)")
  done
  [ -z "$(ctr_ids)" ] || left+=("rows: $(ctr_ids | tr '\n' ' ')")
  for p in $(ctr_monitors); do
    left+=("monitor $p")
    kill -9 "$p" 2>/dev/null
  done
  for id in $ids; do
    for m in /sys/fs/cgroup/*/berth/"$id" /sys/fs/cgroup/berth/"$id"; do
      [ -d "$m" ] && left+=("cgroup $m")
    done
    [ -e "$BRUN/$id" ] && left+=("run dir $BRUN/$id")
    [ -e "$BRUN/runtime/$id" ] && left+=("runtime state $BRUN/runtime/$id")
  done
  # runc never removes the parent levels it makes: a test that ran it (CTR_RUNC=1) removes the
  # engine's /berth level once it is empty (what berth-runtime does itself)
  if [ -n "${CTR_RUNC:-}" ]; then
    for m in /sys/fs/cgroup/*/berth /sys/fs/cgroup/berth; do
      [ -d "$m" ] && rmdir "$m" 2>/dev/null
    done
  fi
  for m in $(awk -v d="$CTR_DIR" 'index($5, d) == 1 {print $5}' /proc/self/mountinfo | sort -r); do
    left+=("mount $m")
    umount -l "$m"
  done
  rm -rf --one-file-system "$CTR_DIR"
  if [ ${#left[@]} -gt 0 ]; then
    printf 'left behind: %s\n' "${left[@]}" >&2
    return 1
  fi
}

# the value of KEY in probe output held in $output
probe_val() {
  sed -n "s/^$1=//p" <<<"$output" | head -n 1
}

# wait (up to 30 s) until `berth inspect -f FORMAT NAME` prints WANT
wait_for() {
  local name=$1 format=$2 want=$3 got deadline=$((SECONDS + 30))
  while [ $SECONDS -lt $deadline ]; do
    got=$(berth inspect -f "$format" "$name" 2>/dev/null)
    [ "$got" = "$want" ] && return 0
    sleep 0.1
  done
  echo "wait_for $name $format: got '$got', want '$want'" >&2
  return 1
}

# is the host's cgroup layout one crun refuses (cgroup v1 controllers beside a unified mount)
cgroup_hybrid() {
  [ "$(stat -fc %T /sys/fs/cgroup)" != cgroup2fs ] && [ -d /sys/fs/cgroup/unified ]
}
