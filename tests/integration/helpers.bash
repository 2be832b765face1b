# shellcheck shell=bash
# helpers.bash: loaded by every suite (`load helpers`).
#
# The suites are differential: they drive the runtime named by $OCI_RUNTIME (default: the
# ASan build's berth-runtime) and every test of specified behaviour must also pass with
# OCI_RUNTIME=runc. Tests that only berth can pass call `requires_berth` first.
#
# Per test: a fresh bundle in $BATS_TEST_TMPDIR (busybox-static rootfs + /probe, config.json
# from config-template.json), a private runtime state dir ($ROOT, passed as --root), and a
# teardown that kills and deletes every container left, stops background helpers, and fails
# the test if a mount under the test dir, a container process, or an ASan report remains.

bats_require_minimum_version 1.5.0

INTEGRATION_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$INTEGRATION_DIR/../.." && pwd)
BERTH_BUILD=${BERTH_BUILD:-build-asan}
[[ $BERTH_BUILD == /* ]] || BERTH_BUILD=$REPO_ROOT/$BERTH_BUILD

find_berth_runtime() {
  local p
  for p in "$BERTH_BUILD/berth-runtime" "$BERTH_BUILD/src/runtime/berth-runtime"; do
    [ -x "$p" ] && { echo "$p"; return; }
  done
  echo "$BERTH_BUILD/src/runtime/berth-runtime"
}
OCI_RUNTIME=${OCI_RUNTIME:-$(find_berth_runtime)}
if [[ $OCI_RUNTIME != */* ]]; then
  OCI_RUNTIME=$(command -v "$OCI_RUNTIME" || echo "$OCI_RUNTIME")
fi
export OCI_RUNTIME

# Helpers built for this machine (never by meson: meson builds with ASan). The probe runs
# inside containers, so it is static; fdrecv runs on the host.
HELPER_DIR=${HELPER_DIR:-$BERTH_BUILD/tests/integration}
[ -d "$BERTH_BUILD" ] || HELPER_DIR=${BATS_RUN_TMPDIR:-/tmp}/integration-bin
PROBE=$HELPER_DIR/probe
FDRECV=$HELPER_DIR/fdrecv

# The ASan runtime: leak checking stays off (the container process execs or _exits, LSan's
# ptrace-based stop-the-world fails under seccomp and in other pid namespaces, and its exit
# status 23 would mask the container's own); every other report goes to a file that teardown
# turns into a test failure, so a sanitizer error cannot hide behind an expected failure.
ASAN_LOG_DIR=${ASAN_LOG_DIR:-${BATS_RUN_TMPDIR:-/tmp}/asan}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:log_path=$ASAN_LOG_DIR/asan}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:log_path=$ASAN_LOG_DIR/ubsan}

RUNTIME_TIMEOUT=${RUNTIME_TIMEOUT:-60}

# No test reaches a registry off this machine: berth's registries configuration blocks every
# registry that is not on loopback (a suite that writes its own keeps the block).
if [ -z "${BERTH_REGISTRIES_CONF:-}" ]; then
  BERTH_REGISTRIES_CONF=${BATS_RUN_TMPDIR:-/tmp}/berth-registries.json
  [ -f "$BERTH_REGISTRIES_CONF" ] || echo '{"blocked-registries": ["*"]}' >"$BERTH_REGISTRIES_CONF"
  export BERTH_REGISTRIES_CONF
fi

is_berth() { [[ $(basename "$OCI_RUNTIME") == berth-runtime* ]]; }
# crun 1.8 refuses ociVersion 1.2.0: bundles say 1.0.2 for it (run it through crun-oracle)
is_crun() { [[ $(basename "$OCI_RUNTIME") == crun* ]]; }
runtime_name() { basename "$OCI_RUNTIME"; }

# requires_berth REASON: for expectations only berth meets (exact messages, properties that
# runc 1.1.5 lacks). Skips with the reason under any other runtime.
# BERTH_ONLY=run runs them anyway (to see them fail on another runtime).
requires_berth() {
  is_berth || [ "${BERTH_ONLY:-}" = run ] || skip "berth-only: ${1:-berth-specific expectation} ($(runtime_name))"
}

# requires_feature JQPATH VALUE: skip unless `features` lists VALUE in the array at JQPATH
# (for example `requires_feature .linux.namespaces time`).
requires_feature() {
  local have
  have=$(timeout 20 "$OCI_RUNTIME" features 2>/dev/null | jq -r --arg v "$2" "($1 // []) | index(\$v) != null")
  [ "$have" = true ] || skip "$(runtime_name) does not list $2 in features $1"
}

compile_if_stale() { # SRC OUT CFLAGS...
  local src=$1 out=$2
  shift 2
  [ -x "$out" ] && [ "$out" -nt "$src" ] && return 0
  mkdir -p "$(dirname "$out")"
  local tmp
  tmp=$(mktemp "$out.XXXXXX")
  cc "$@" -o "$tmp" "$src" && mv -f "$tmp" "$out" || { rm -f "$tmp"; return 1; }
}

build_helpers() {
  compile_if_stale "$INTEGRATION_DIR/probe.c" "$PROBE" -static -O2 -Wall
  compile_if_stale "$INTEGRATION_DIR/fdrecv.c" "$FDRECV" -O2 -Wall
}

# A busybox-static rootfs with /probe and /etc/{passwd,group}, built once per suite file.
build_base_rootfs() {
  local r=$1 bb
  bb=$(command -v busybox) || return 1
  mkdir -p "$r"/{bin,dev,proc,sys,tmp,etc,root,mnt}
  chmod 1777 "$r/tmp"
  cp "$bb" "$r/bin/busybox"
  "$r/bin/busybox" --list | while read -r a; do
    [ "$a" = busybox ] || ln -s busybox "$r/bin/$a"
  done
  cp "$PROBE" "$r/probe"
  printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'daemon:x:1:1:daemon:/:/bin/false' \
    'user:x:1000:1000:user:/tmp:/bin/sh' 'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' >"$r/etc/passwd"
  printf '%s\n' 'root:x:0:' 'daemon:x:1:' 'tty:x:5:' 'users:x:100:' 'user:x:1000:' 'nogroup:x:65534:' >"$r/etc/group"
}

setup_file_common() {
  build_helpers
  mkdir -p "$ASAN_LOG_DIR"
  BASE_ROOTFS=$BATS_FILE_TMPDIR/rootfs
  [ -x "$BASE_ROOTFS/probe" ] || build_base_rootfs "$BASE_ROOTFS"
  export BASE_ROOTFS
}

setup_bundle() {
  [ -x "$OCI_RUNTIME" ] || skip "runtime $OCI_RUNTIME not built"
  [ -n "${BASE_ROOTFS:-}" ] || setup_file_common
  ROOT=$BATS_TEST_TMPDIR/state
  BUNDLE=$BATS_TEST_TMPDIR/bundle
  ROOTFS=$BUNDLE/rootfs
  ID=bt$$-${BATS_SUITE_TEST_NUMBER:-$BATS_TEST_NUMBER}
  CT_OUT=$BATS_TEST_TMPDIR/ct.out
  CT_ERR=$BATS_TEST_TMPDIR/ct.err
  BG_PIDS=()
  mkdir -p "$ROOT" "$BUNDLE"
  cp -a "$BASE_ROOTFS" "$ROOTFS"
  cp "$INTEGRATION_DIR/config-template.json" "$BUNDLE/config.json"
  if is_crun; then update_config '.ociVersion = "1.0.2"'; fi
}

# runtime ARGS...: the runtime under test with the test's private state dir.
runtime() {
  timeout -k 5 "$RUNTIME_TIMEOUT" "$OCI_RUNTIME" --root "$ROOT" "$@" 3>&-
}

# update_config JQ-FILTER [jq options...]: edit the bundle's config.json in place
# (the config is read from stdin so that --args can follow).
update_config() {
  local f=$BUNDLE/config.json
  jq "$1" "${@:2}" <"$f" >"$f.tmp" && mv "$f.tmp" "$f"
}

# json_array ARG...: the arguments as a JSON array of strings
json_array() {
  local a='[]' x
  for x in "$@"; do a=$(jq -c --arg x "$x" '. + [$x]' <<<"$a"); done
  echo "$a"
}

# set_args ARG...: process.args
set_args() {
  update_config '.process.args = $a' --argjson a "$(json_array "$@")"
}

# ct_create [ARGS...]: `create` with the container's stdio going to $CT_OUT / $CT_ERR (a
# created container keeps create's stdio, so bats' `run` would wait for it to exit).
ct_create() {
  runtime create "$@" --bundle "$BUNDLE" "$ID" </dev/null >"$CT_OUT" 2>"$CT_ERR"
}

# ct_run_detached [ARGS...]: `run --detach`, stdio as for ct_create.
ct_run_detached() {
  runtime run --detach "$@" --bundle "$BUNDLE" "$ID" </dev/null >"$CT_OUT" 2>"$CT_ERR"
}

ct_state() { runtime state "${1:-$ID}" | jq -r "${2:-.status}"; }
ct_pid() { ct_state "${1:-$ID}" .pid; }

# wait_until SECONDS COMMAND...: poll every 50 ms
wait_until() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.05
  done
}

# exited PID: PID (a child of this shell) ended: gone, or a zombie until it is waited for
exited() { ! kill -0 "$1" 2>/dev/null || [[ $(ps -o stat= -p "$1") == Z* ]]; }
status_is() { [ "$(ct_state "$1" 2>/dev/null)" = "$2" ]; }
wait_status() { wait_until "${3:-30}" status_is "${2:-$ID}" "$1"; } # STATUS [ID] [SECONDS]
file_has() { grep -q -- "$2" "$1" 2>/dev/null; }
wait_output() { wait_until "${2:-30}" file_has "$CT_OUT" "$1"; } # PATTERN [SECONDS]

# probe_get KEY [TEXT]: value of the first KEY=value line (default text: $output)
probe_get() {
  local text=${2-$output}
  grep -m1 "^$1=" <<<"$text" | cut -d= -f2-
}

# assert_kv KEY EXPECTED [TEXT]
assert_kv() {
  local got
  got=$(probe_get "$1" "${3-$output}")
  if [ "$got" != "$2" ]; then
    echo "expected $1=$2, got $1=$got" >&2
    echo "--- output:" >&2
    echo "${3-$output}" >&2
    return 1
  fi
}

# assert_list_eq KEY "A,B,C" [TEXT]: comma lists compared as sets
assert_list_eq() {
  local got want
  got=$(probe_get "$1" "${3-$output}" | tr ',' '\n' | sed '/^$/d' | sort | paste -sd,)
  want=$(tr ',' '\n' <<<"$2" | sed '/^$/d' | sort | paste -sd,)
  if [ "$got" != "$want" ]; then
    echo "expected $1={$want}, got {$got}" >&2
    return 1
  fi
}

assert_success_out() {
  if [ "$status" -ne 0 ]; then
    echo "command failed with status $status:" >&2
    echo "$output" >&2
    return 1
  fi
}

assert_failure_out() {
  if [ "$status" -eq 0 ]; then
    echo "command succeeded but was expected to fail:" >&2
    echo "$output" >&2
    return 1
  fi
}

# assert_contains TEXT NEEDLE
assert_contains() {
  if [[ $1 != *"$2"* ]]; then
    echo "expected to find '$2' in:" >&2
    echo "$1" >&2
    return 1
  fi
}

# background HELPER ARGS...: start a helper that teardown stops. Its stdio is /dev/null
# unless redirected by the caller's own redirections on `background`; fd 3 (bats' report
# stream) is closed so that bats does not wait for the helper.
background() {
  "$@" 3>&- &
  BG_PIDS+=($!)
}

# kill_tree PID: PID and every process below it. A function run by `background` is a subshell
# whose command (nsenter's python, say) is its child: killing the subshell alone orphans it.
kill_tree() {
  local c
  kill -STOP "$1" 2>/dev/null # no new children meanwhile
  for c in $(pgrep -P "$1" 2>/dev/null); do kill_tree "$c"; done
  kill -9 "$1" 2>/dev/null
}

# teardown of `background`: every process started by it, and what those started, gone
kill_background() {
  local p
  for p in "${BG_PIDS[@]}"; do
    kill_tree "$p"
    wait "$p" 2>/dev/null
  done
  BG_PIDS=()
}

mounts_under() { awk -v d="$1" 'index($5, d) == 1 {print $5}' /proc/self/mountinfo | sort -r; }

# processes whose root or cwd lies in the bundle (a container left behind)
processes_in_bundle() {
  local p r c
  [[ ${BUNDLE:-} == /?*/bundle ]] || return 0
  for p in /proc/[0-9]*; do
    r=$(readlink "$p/root" 2>/dev/null) || continue
    c=$(readlink "$p/cwd" 2>/dev/null)
    if [[ $r == "$BUNDLE"* || $c == "$ROOTFS"* ]]; then echo "${p#/proc/}"; fi
  done
}

# mounts whose mount point or whose root (a bind mount's source) lies under DIR
mounts_referencing() { awk -v d="$1" 'index($4, d) == 1 || index($5, d) == 1 {print $4 " on " $5}' /proc/self/mountinfo; }

# assert_nothing_left: no state under --root, no container process, no mount of or under
# the test dir. (The whole host mount table is not compared: other work on the machine
# mounts things meanwhile.)
assert_nothing_left() {
  local left
  left=$(ls -A "$ROOT" 2>/dev/null)
  [ -z "$left" ] || { echo "state left under --root: $left" >&2; return 1; }
  left=$(runtime list -q 2>/dev/null)
  [ -z "$left" ] || { echo "runtime still lists: $left" >&2; return 1; }
  left=$(processes_in_bundle)
  [ -z "$left" ] || { echo "processes left in the bundle: $left" >&2; return 1; }
  left=$(mounts_referencing "$BATS_TEST_TMPDIR")
  [ -z "$left" ] || { echo "mounts left: $left" >&2; return 1; }
}

teardown_bundle() {
  local rc=0 p id m left
  kill_background
  if [ -n "${ROOT:-}" ] && [ -d "$ROOT" ]; then
    for id in $(runtime list -q 2>/dev/null) $(ls -A "$ROOT" 2>/dev/null); do
      runtime kill "$id" KILL >/dev/null 2>&1
      runtime delete --force "$id" >/dev/null 2>&1
    done
  fi
  left=$(processes_in_bundle 2>/dev/null)
  if [ -n "$left" ]; then
    echo "teardown: container processes left: $left" >&2
    kill -9 $left 2>/dev/null
    rc=1
  fi
  m=$(mounts_under "${BATS_TEST_TMPDIR:-/nonexistent}")
  if [ -n "$m" ]; then
    echo "teardown: mounts left under the test dir:" $m >&2
    for p in $m; do umount -l "$p" 2>/dev/null; done
    rc=1
  fi
  local f
  for f in "$ASAN_LOG_DIR"/*san.*; do
    [ -e "$f" ] || continue
    if san_report "$f"; then
      echo "teardown: sanitizer report (any lane's process may have written it):" >&2
      cat "$f" >&2
      mkdir -p "$ASAN_LOG_DIR/seen"
      mv "$f" "$ASAN_LOG_DIR/seen/"
      rc=1
    else
      mkdir -p "$ASAN_LOG_DIR/notes"
      mv "$f" "$ASAN_LOG_DIR/notes/"
    fi
  done
  return $rc
}

# san_report FILE: a sanitizer log that reports a finding (an error, a leak, UBSan's runtime
# error), not only a note of the sanitizer's own machinery (LSan's "Unable to get registers
# from thread", when it cannot stop a process's threads: kept in notes/, printed by check)
san_report() { grep -qE 'ERROR: |runtime error: |WARNING: [A-Za-z]+Sanitizer|^SUMMARY: ' "$1"; }

# CVE-2016-9962: a process of the runtime that enters the container must be beyond the
# container's reach until it execs the container's program. hold_execve K[,K...] makes that
# moment last: the config's seccomp filter sends execve to an agent (fdrecv seccomp-hold) that
# lets every call through but holds the first one of the Kth filter loaded (1: the container's
# own, then one per exec), whose process then stays in execve — still the runtime's code, with
# the container's credentials. held_pid N waits for the Nth held process and prints its host
# pid; release_execve lets it go on.
hold_execve() {
  AGENT_SOCK=$BATS_TEST_TMPDIR/agent.sock
  AGENT_OUT=$BATS_TEST_TMPDIR/agent.out
  background "$FDRECV" seccomp-hold "$AGENT_SOCK" "$1" >"$AGENT_OUT" 2>&1
  AGENT_PID=${BG_PIDS[-1]}
  wait_until 30 test -S "$AGENT_SOCK"
  update_config '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW",
    "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"], "listenerPath": $s,
    "syscalls": [{"names": ["execve"], "action": "SCMP_ACT_NOTIFY"}]}' --arg s "$AGENT_SOCK"
}
held_pid() {
  wait_until 30 sh -c "[ \$(grep -c '^held=' '$AGENT_OUT') -ge $1 ]" || { cat "$AGENT_OUT" >&2; return 1; }
  grep '^held=' "$AGENT_OUT" | sed -n "${1}p" | cut -d= -f2
}
release_execve() { kill -USR1 "$AGENT_PID"; }

# assert_unreachable PID SECRET [fds]: the held process PID holds no descriptor of SECRET (seen
# from the host), and (unless "fds") a process exec'd into the container with the container's
# own credentials can neither read PID's /proc links nor ptrace it (it is not dumpable).
# Reports every failure.
assert_unreachable() {
  local p=$1 secret=$2 f inner bad=0
  for f in "/proc/$p/fd/"*; do
    if [ "$(readlink "$f")" = "$secret" ]; then
      echo "pid $p, in the container, holds the caller's $secret as fd ${f##*/}" >&2
      bad=1
    fi
  done
  [ "${3:-}" != fds ] || return $bad
  inner=$(awk '/^NSpid:/ {print $NF}' "/proc/$p/status")
  run runtime exec "$ID" /probe reach "$inner"
  assert_success_out
  if [[ $(probe_get exe) != E* || $(probe_get ptrace) != EPERM ]] || grep -q -- "$secret" <<<"$output"; then
    echo "the container reaches pid $p (in the container: $inner) through /proc or ptrace:" >&2
    echo "$output" >&2
    bad=1
  fi
  return $bad
}

setup_file() { setup_file_common; }
setup() { setup_bundle; }
teardown() { teardown_bundle; }
