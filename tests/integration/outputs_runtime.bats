#!/usr/bin/env bats
# Files the runtime writes where its caller says (issue 11, finding 3): --pid-file and --log
# never write into a file or through a symlink that another user planted.

load helpers

setup() {
  setup_bundle
  # a directory that user 65534 owns and writes, and a file only root may read
  SHARED=$(mktemp -d /tmp/berth-outputs.XXXXXX)
  chown 65534:65534 "$SHARED"
  chmod 0755 "$SHARED"
  VICTIM=$BATS_TEST_TMPDIR/victim
  echo secret >"$VICTIM"
  chmod 0600 "$VICTIM"
}

teardown() {
  teardown_bundle
  rm -rf "$SHARED"
}

as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$@"; }

victim_untouched() {
  echo secret | cmp -s - "$VICTIM" || { echo "the victim was changed: $(od -c "$VICTIM" | head -n 3)" >&2; return 1; }
}

@test "outputs: --pid-file is a new file: never one planted at a temporary name, never through a symlink" {
  set_args /probe sleep inf
  local pf=$SHARED/ct.pid
  # the name berth-runtime wrote the pid to first, for the pid it runs as (the shell execs it),
  # taken by a hard link to the victim (what a user can plant where protected_hardlinks is off)
  sh -c 'ln "$1" "$2.tmp.$$" && shift 2 && exec "$@"' sh "$VICTIM" "$pf" \
    "$OCI_RUNTIME" --root "$ROOT" create --pid-file "$pf" --bundle "$BUNDLE" "$ID" \
    </dev/null >"$CT_OUT" 2>"$CT_ERR"
  victim_untouched
  [ -f "$pf" ]
  [ ! -L "$pf" ]
  [ "$(cat "$pf")" = "$(ct_pid)" ]
  runtime delete --force "$ID"
  # a symlink at the name itself is replaced
  as_nobody ln -s "$VICTIM" "$SHARED/run.pid"
  ct_run_detached --pid-file "$SHARED/run.pid"
  victim_untouched
  [ ! -L "$SHARED/run.pid" ]
  [ "$(cat "$SHARED/run.pid")" = "$(ct_pid)" ]
}

@test "outputs: --log does not follow another user's symlink" {
  requires_berth "runc opens --log following any symlink"
  as_nobody ln -s "$VICTIM" "$SHARED/runtime.log"
  run timeout 20 "$OCI_RUNTIME" --root "$ROOT" --log "$SHARED/runtime.log" state no-such-container
  victim_untouched
  assert_failure_out
  assert_contains "$output" "\`$SHARED/runtime.log\` is a symlink of uid 65534: not followed"
}

@test "outputs: --log follows a symlink of its own user's (as /dev/stderr is)" {
  ln -s "$BATS_TEST_TMPDIR/real.log" "$SHARED/mine.log"
  run timeout 20 "$OCI_RUNTIME" --root "$ROOT" --log "$SHARED/mine.log" state no-such-container
  assert_failure_out
  [ -s "$BATS_TEST_TMPDIR/real.log" ]
  run timeout 20 "$OCI_RUNTIME" --root "$ROOT" --log /dev/stderr state no-such-container
  assert_failure_out
}

@test "outputs: a state root that another user made is refused" {
  requires_berth "runc uses whatever --root it finds"
  as_nobody mkdir "$SHARED/root"
  local rc=0
  timeout 20 "$OCI_RUNTIME" --root "$SHARED/root" create --bundle "$BUNDLE" "$ID" \
    </dev/null >"$CT_OUT" 2>"$CT_ERR" || rc=$?
  if [ "$rc" -eq 0 ]; then # created in 65534's directory: remove it, fail
    "$OCI_RUNTIME" --root "$SHARED/root" delete --force "$ID"
    false
  fi
  assert_contains "$(cat "$CT_ERR")" "\`$SHARED/root\` belongs to uid 65534"
  [ -z "$(ls -A "$SHARED/root")" ]
}
