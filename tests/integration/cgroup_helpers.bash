# shellcheck shell=bash
# cgroup_helpers.bash: for the suites whose containers get their own absolute cgroup
# (exec, cgroups, manage). Loaded after helpers.bash.

# Every container gets its own absolute cgroup (/berth-bats-<pid>-<n>); teardown fails the
# test when a directory of it is left in any hierarchy (and removes it).
setup() {
  setup_bundle
  CG=/berth-bats-$$-${BATS_SUITE_TEST_NUMBER:-$BATS_TEST_NUMBER}
  update_config '.linux.cgroupsPath = $p' --arg p "$CG"
}

teardown() {
  local rc=0
  teardown_bundle || rc=1
  cgroups_gone || rc=1
  return $rc
}

# cgroup_dirs PATH: the directories of PATH that exist in the host's hierarchies
cgroup_dirs() {
  local d
  for d in /sys/fs/cgroup/*/"${1#/}"; do
    [ -d "$d" ] && echo "$d"
  done
  return 0
}

# remove_cgroups PATH: thaw, kill and remove what is left of PATH in every hierarchy
remove_cgroups() {
  local dirs d p
  dirs=$(for d in $(cgroup_dirs "$1"); do find "$d" -depth -type d; done)
  for d in $dirs; do
    [ -f "$d/freezer.state" ] && echo THAWED >"$d/freezer.state" 2>/dev/null
    [ -f "$d/cgroup.freeze" ] && echo 0 >"$d/cgroup.freeze" 2>/dev/null
  done
  for d in $dirs; do
    while read -r p; do kill -9 "$p" 2>/dev/null; done <"$d/cgroup.procs"
  done
  for d in $dirs; do
    for _ in $(seq 20); do
      rmdir "$d" 2>/dev/null && break || sleep 0.1
    done
  done
}

# cgroups_gone: nothing of $CG in any hierarchy; what is left is reported and removed
cgroups_gone() {
  [[ ${CG:-} == /berth-bats-* || ${CG:-} == /bt$$-* ]] || return 0
  local left
  left=$(cgroup_dirs "$CG")
  [ -z "$left" ] && return 0
  echo "teardown: cgroup directories left: $left" >&2
  remove_cgroups "$CG"
  return 1
}
