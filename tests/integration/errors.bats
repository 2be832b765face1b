#!/usr/bin/env bats
# A bad config.json (issue 2, part 4): exit non-zero, nothing left behind (no state dir
# under --root, no process, no mount); berth's message names the file and the JSON path.

load helpers

setup() {
  setup_bundle
  set_args /probe exit 0
}

# expect_config_error JSON-PATH [WORD]: run must fail and leave nothing; berth's error must
# name config.json, the JSON path and (when given) WORD.
expect_config_error() {
  run runtime run --bundle "$BUNDLE" "$ID"
  assert_failure_out
  assert_nothing_left
  if is_berth; then
    assert_contains "$output" config.json
    assert_contains "$output" "$1"
    [ -z "${2:-}" ] || assert_contains "$output" "$2"
    # one line of error, not a cascade
    [ "$(grep -c . <<<"$output")" -le 2 ] || { echo "$output"; false; }
  fi
}

@test "errors: config.json that is not JSON" {
  printf '{"ociVersion": "1.2.0", "process": ' >"$BUNDLE/config.json"
  expect_config_error config.json
}

@test "errors: config.json missing from the bundle" {
  rm "$BUNDLE/config.json"
  expect_config_error config.json
}

@test "errors: a string where a number is required (process.user.uid)" {
  update_config '.process.user.uid = "zero"'
  expect_config_error process.user.uid
}

@test "errors: a number out of range (process.user.uid = 2^32)" {
  update_config '.process.user.uid = 4294967296'
  expect_config_error process.user.uid
}

@test "errors: a negative number where an unsigned one is required (process.user.gid)" {
  update_config '.process.user.gid = -1'
  expect_config_error process.user.gid
}

@test "errors: an object where an array is required (process.args)" {
  update_config '.process.args = {"0": "/probe"}'
  expect_config_error process.args
}

@test "errors: a non-string in process.args fails at create, as runc says, and leaves nothing" {
  # runc: "json: cannot unmarshal number into Go struct field Process.process.args of type string"
  is_crun && skip "crun 1.8 creates the container whatever the arguments are"
  local bad list=(1 true '{"a": 1}' '["x"]')
  # runc 1.1.5 takes null for "" (Go's zero value); berth refuses it too
  is_berth && list+=(null)
  for bad in "${list[@]}"; do
    update_config '.process.args = ["/probe", $b, "x"]' --argjson b "$bad"
    run runtime create --bundle "$BUNDLE" "$ID" </dev/null
    assert_failure_out
    assert_nothing_left
    if is_berth; then
      assert_contains "$output" "process.args[1]: expected a string"
    fi
  done
}

@test "errors: an unknown namespace type" {
  update_config '.linux.namespaces += [{"type": "bogus"}]'
  expect_config_error linux.namespaces bogus
}

@test "errors: a relative namespace path" {
  update_config '.linux.namespaces |= map(if .type == "network" then .path = "proc/1/ns/net" else . end)'
  expect_config_error linux.namespaces
}

# runtime-spec says absolute; runc (and berth, for compatibility) mount a relative destination
# under / with a warning. Either way nothing may land outside the rootfs.
@test "errors: a relative mount destination is refused or mounted under /" {
  update_config '.mounts += [{"destination": "relative/dir", "type": "tmpfs", "source": "tmpfs"}]'
  set_args /probe mounts
  run runtime run --bundle "$BUNDLE" "$ID"
  if [ "$status" -eq 0 ]; then
    grep -q '^mount=/relative/dir tmpfs ' <<<"$output"
    if is_berth; then assert_contains "$output" "mounts[7].destination"; fi
  fi
  [ ! -e "$BUNDLE/relative" ]
  runtime delete --force "$ID" >/dev/null 2>&1 || true
  assert_nothing_left
}

@test "errors: a relative hook path" {
  update_config '.hooks.createRuntime = [{"path": "bin/true"}]'
  expect_config_error hooks.createRuntime
}

@test "errors: a relative cwd" {
  update_config '.process.cwd = "tmp"'
  expect_config_error process.cwd
}

@test "errors: a missing ociVersion" {
  requires_berth "runc 1.1.5 does not require ociVersion"
  update_config 'del(.ociVersion)'
  expect_config_error ociVersion
}

@test "errors: an unsupported major ociVersion" {
  requires_berth "runc 1.1.5 does not check ociVersion"
  update_config '.ociVersion = "2.0.0"'
  expect_config_error ociVersion
}

@test "errors: an empty process.args" {
  update_config '.process.args = []'
  expect_config_error process.args
}

@test "errors: a root.path that does not exist" {
  update_config '.root.path = "no-such-rootfs"'
  run runtime run --bundle "$BUNDLE" "$ID"
  assert_failure_out
  assert_nothing_left
  assert_contains "$output" no-such-rootfs
  if is_berth; then assert_contains "$output" root.path; fi
}

@test "errors: an unknown rlimit type" {
  update_config '.process.rlimits = [{"type": "RLIMIT_BOGUS", "soft": 1, "hard": 1}]'
  expect_config_error process.rlimits
}

@test "errors: an unknown seccomp action" {
  update_config '.linux.seccomp = {"defaultAction": "SCMP_ACT_NOPE"}'
  expect_config_error linux.seccomp.defaultAction
}

@test "errors: an oomScoreAdj out of range" {
  update_config '.process.oomScoreAdj = 5000'
  expect_config_error process.oomScoreAdj
}

@test "errors: linux.intelRdt (not implemented) is refused, naming the bundle's config.json" {
  update_config '.linux.intelRdt = {"closID": "clos1", "l3CacheSchema": "L3:0=ff"}'
  expect_config_error linux.intelRdt
  if is_berth; then
    assert_contains "$output" "$(realpath "$BUNDLE")/config.json: linux.intelRdt"
  fi
}

@test "errors: a non-namespaced sysctl names the bundle's config.json and the key" {
  update_config '.linux.sysctl = {"kernel.panic": "1"}'
  expect_config_error linux.sysctl.kernel.panic
  if is_berth; then
    assert_contains "$output" "$(realpath "$BUNDLE")/config.json: linux.sysctl.kernel.panic"
  fi
}

@test "errors: a mount option the filesystem refuses is named, with the kernel's reason" {
  update_config '.mounts += [{"destination": "/tmpx", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=755", "size=bogus"]}]'
  run runtime run --bundle "$BUNDLE" "$ID"
  assert_failure_out
  assert_nothing_left
  if is_berth; then
    assert_contains "$output" "on \`/tmpx\`"
    assert_contains "$output" "option \`size=bogus\`: tmpfs: Bad value for 'size'"
  fi
}

@test "errors: a file bound onto a directory says so" {
  echo data >"$BATS_TEST_TMPDIR/file"
  mkdir -p "$BUNDLE/rootfs/target-dir"
  update_config '.mounts += [{"destination": "/target-dir", "type": "bind", "source": $s, "options": ["bind"]}]' \
    --arg s "$BATS_TEST_TMPDIR/file"
  run runtime run --bundle "$BUNDLE" "$ID"
  assert_failure_out
  assert_nothing_left
  if is_berth; then
    assert_contains "$output" "the source is a file, the destination a directory"
  fi
}

@test "errors: a failure inside container setup names the step" {
  update_config '.mounts += [{"destination": "/data", "type": "bind", "source": "/no/such/source", "options": ["bind"]}]'
  run runtime run --bundle "$BUNDLE" "$ID"
  assert_failure_out
  assert_nothing_left
  assert_contains "$output" /no/such/source
  if is_berth; then assert_contains "$output" mount; fi
}

@test "errors: a program the kernel cannot execute is an error naming it; nothing is left" {
  printf 'not a program\n' >"$ROOTFS/bad"
  chmod 755 "$ROOTFS/bad"
  set_args /bad
  run runtime run --bundle "$BUNDLE" "$ID"
  assert_failure_out
  assert_contains "${output,,}" "exec format error"
  assert_contains "$output" /bad
  assert_nothing_left
}

@test "errors: create with a bad config leaves no state; the id stays usable" {
  update_config '.process.user.uid = "zero"'
  run runtime create --bundle "$BUNDLE" "$ID" </dev/null
  assert_failure_out
  assert_nothing_left
  update_config '.process.user.uid = 0'
  run runtime run --bundle "$BUNDLE" "$ID"
  assert_success_out
}
