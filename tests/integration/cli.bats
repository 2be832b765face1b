#!/usr/bin/env bats
# The command line: spec, --version, --help, list, state, features, global flags.

load helpers

@test "cli: --version names the runtime-spec version" {
  run runtime --version
  assert_success_out
  [[ $output =~ spec:\ [0-9]+\.[0-9]+\.[0-9]+ ]] || { echo "$output"; false; }
}

@test "cli: --version prints runtime-spec 1.2.0" {
  requires_berth "berth implements runtime-spec 1.2.0 (runc 1.1.5 says 1.0.2-dev)"
  run runtime --version
  assert_contains "$output" "1.2.0"
}

@test "cli: --version is runc's form: the version, the spec, the commit" {
  # tools read it line by line: "<name> version X", "spec: X", "commit: X"
  run runtime --version
  assert_success_out
  [[ ${lines[0]} =~ ^[a-z-]+\ version\ [^\ ]+$ ]] || { echo "$output"; false; }
  grep -Eq '^spec: [0-9]+\.[0-9]+\.[0-9]+' <<<"$output"
  grep -Eq '^commit: [^ ]+$' <<<"$output"
}

@test "cli: berth-runtime --version says its version, spec 1.2.0 and the commit it was built from, in that order" {
  requires_berth "the exact lines are berth's"
  run runtime --version
  assert_success_out
  [[ ${lines[0]} =~ ^berth-runtime\ version\ [0-9]+\.[0-9]+\.[0-9]+ ]]
  [ "${lines[1]}" = "spec: 1.2.0" ]
  # a git checkout's sha, or "unknown" for a build from a tarball
  [[ ${lines[2]} =~ ^commit:\ ([0-9a-f]{40}|unknown)$ ]] || { echo "$output"; false; }
}

@test "cli: --help lists the commands and exits 0" {
  run runtime --help
  assert_success_out
  for c in create start state kill delete run list spec features; do
    assert_contains "$output" "$c"
  done
}

@test "cli: <command> --help exits 0 and names the command" {
  for c in create run kill delete list spec; do
    run runtime "$c" --help
    assert_success_out
    assert_contains "$output" "$c"
  done
}

@test "cli: an unknown command fails" {
  run runtime no-such-command
  assert_failure_out
}

@test "cli: spec writes a valid default config.json into --bundle" {
  local d=$BATS_TEST_TMPDIR/specdir
  mkdir "$d"
  run runtime spec --bundle "$d"
  assert_success_out
  run jq -r '.ociVersion, .root.path, .process.args[0], (.linux.namespaces | map(.type) | sort | join(","))' "$d/config.json"
  assert_success_out
  [[ ${lines[0]} =~ ^1\.[0-9]+\.[0-9]+ ]]
  [ "${lines[1]}" = rootfs ]
  [ "${lines[2]}" = sh ]
  [ "${lines[3]}" = "ipc,mount,network,pid,uts" ]
}

@test "cli: spec refuses to overwrite an existing config.json" {
  local d=$BATS_TEST_TMPDIR/specdir
  mkdir "$d"
  echo '{"keep": true}' >"$d/config.json"
  run runtime spec --bundle "$d"
  assert_failure_out
  [ "$(jq -r .keep "$d/config.json")" = true ]
}

@test "cli: spec --rootless adds a user namespace with mappings" {
  local d=$BATS_TEST_TMPDIR/specdir
  mkdir "$d"
  run runtime spec --rootless --bundle "$d"
  assert_success_out
  run jq -r '(.linux.namespaces | map(.type) | index("user") != null), (.linux.uidMappings | length > 0)' "$d/config.json"
  [ "${lines[0]}" = true ]
  [ "${lines[1]}" = true ]
}

@test "cli: the default spec runs in the test bundle" {
  local d=$BATS_TEST_TMPDIR/specdir
  mkdir "$d"
  runtime spec --bundle "$d"
  jq '.process.terminal = false | .process.args = ["/probe", "ids"] | .root.path = $r' \
    --arg r "$ROOTFS" "$d/config.json" >"$BUNDLE/config.json"
  run runtime run --bundle "$BUNDLE" "$ID"
  assert_success_out
  assert_kv pid 1
}

@test "cli: features prints runtime-spec features JSON" {
  run runtime features
  assert_success_out
  run jq -r '.ociVersionMin, .ociVersionMax, (.hooks | index("prestart") != null),
             (.linux.namespaces | index("pid") != null), (.mountOptions | index("ro") != null)' <<<"$output"
  assert_success_out
  [[ ${lines[0]} =~ ^1\. ]]
  [[ ${lines[1]} =~ ^1\. ]]
  [ "${lines[2]}" = true ]
  [ "${lines[3]}" = true ]
  [ "${lines[4]}" = true ]
}

@test "cli: features lists every capability and the seccomp support" {
  run runtime features
  run jq -r '(.linux.capabilities | index("CAP_SYS_ADMIN") != null), .linux.seccomp.enabled,
             (.linux.seccomp.actions | index("SCMP_ACT_ERRNO") != null)' <<<"$output"
  [ "${lines[0]}" = true ]
  [ "${lines[1]}" = true ]
  [ "${lines[2]}" = true ]
}

@test "cli: features reports runtime-spec 1.2.0 as the maximum" {
  requires_berth "runc 1.1.5 reports ociVersionMax 1.0.2-dev"
  run runtime features
  [ "$(jq -r .ociVersionMax <<<"$output")" = 1.2.0 ]
}

@test "cli: list on an empty root prints a header or nothing" {
  run runtime list -q
  assert_success_out
  [ -z "$output" ]
  run runtime list --format json
  assert_success_out
  [ "$(jq -r 'if . == null then 0 else length end' <<<"$output")" = 0 ]
}

@test "cli: list shows a created container in table, -q and json formats" {
  set_args /probe sleep inf
  ct_create
  run runtime list -q
  assert_success_out
  [ "$output" = "$ID" ]
  run runtime list
  assert_success_out
  [[ ${lines[0]} == *ID* && ${lines[0]} == *STATUS* ]]
  assert_contains "${lines[1]}" "$ID"
  assert_contains "${lines[1]}" created
  run runtime list --format json
  assert_success_out
  [ "$(jq -r '.[0].id' <<<"$output")" = "$ID" ]
  [ "$(jq -r '.[0].status' <<<"$output")" = created ]
  [ "$(jq -r '.[0].pid' <<<"$output")" -gt 0 ]
  [ "$(jq -r '.[0].bundle' <<<"$output")" = "$BUNDLE" ]
}

@test "cli: --root keeps containers apart" {
  set_args /probe sleep inf
  ct_create
  local other=$BATS_TEST_TMPDIR/other-root
  mkdir "$other"
  run timeout 20 "$OCI_RUNTIME" --root "$other" list -q
  assert_success_out
  [ -z "$output" ]
}

@test "cli: state of an unknown container fails" {
  run runtime state no-such-container
  assert_failure_out
}

@test "cli: commands without a container id fail" {
  for c in start state kill delete; do
    run runtime "$c"
    assert_failure_out
  done
}

@test "cli: create with an id that exists fails and leaves the first container alone" {
  set_args /probe sleep inf
  ct_create
  local pid
  pid=$(ct_pid)
  run runtime create --bundle "$BUNDLE" "$ID" </dev/null
  assert_failure_out
  [ "$(ct_state)" = created ]
  [ "$(ct_pid)" = "$pid" ]
}

@test "cli: an invalid container id is refused" {
  run runtime run --bundle "$BUNDLE" "../escape"
  assert_failure_out
  [ ! -e "$BATS_TEST_TMPDIR/escape" ]
  run runtime run --bundle "$BUNDLE" "a/b"
  assert_failure_out
}

@test "cli: --log writes runtime errors to the log file" {
  local log=$BATS_TEST_TMPDIR/runtime.log
  run timeout 20 "$OCI_RUNTIME" --root "$ROOT" --log "$log" state no-such-container
  assert_failure_out
  [ -s "$log" ]
}

@test "cli: --log-format json writes JSON lines with level, msg and time" {
  local log=$BATS_TEST_TMPDIR/runtime.log
  run timeout 20 "$OCI_RUNTIME" --root "$ROOT" --log "$log" --log-format json state no-such-container
  assert_failure_out
  run jq -r 'select(.level == "error") | [.msg != null, .time != null] | map(tostring) | join(",")' "$log"
  assert_success_out
  assert_contains "$output" "true,true"
}

@test "cli: --cgroup-manager systemd without systemd is a clear error" {
  requires_berth "berth-only flag --cgroup-manager"
  [ ! -d /run/systemd/system ] || skip "systemd runs here"
  run runtime --cgroup-manager systemd run --bundle "$BUNDLE" "$ID"
  assert_failure_out
  assert_contains "$output" systemd
  assert_nothing_left
}
