#!/usr/bin/env bats
# process.terminal: --console-socket (SCM_RIGHTS), consoleSize, /dev/console.

load helpers

setup() {
  setup_bundle
  SOCK=$BATS_TEST_TMPDIR/console.sock
  CONSOLE_OUT=$BATS_TEST_TMPDIR/console.out
  CONSOLE_ERR=$BATS_TEST_TMPDIR/console.err
  update_config '.process.terminal = true'
}

# start_receiver [INPUT]: fdrecv listening on $SOCK; the console's output goes to $CONSOLE_OUT
start_receiver() {
  background "$FDRECV" console "$SOCK" "$@" >"$CONSOLE_OUT" 2>"$CONSOLE_ERR"
  wait_until 30 test -S "$SOCK"
}

console_text() { tr -d '\r' <"$CONSOLE_OUT"; }

@test "console: run --detach with --console-socket hands over a pty master" {
  start_receiver
  set_args /probe tty
  ct_run_detached --console-socket "$SOCK"
  wait_until 30 file_has "$CONSOLE_ERR" 'console=received'
  wait_status stopped
  wait_until 30 file_has "$CONSOLE_OUT" '^ctty='
  local out
  out=$(console_text)
  assert_kv tty.0 1 "$out"
  assert_kv tty.1 1 "$out"
  assert_kv tty.2 1 "$out"
  assert_kv ctty ok "$out"
  [[ $(probe_get ttyname "$out") == /dev/pts/* || $(probe_get ttyname "$out") == /dev/console ]]
}

@test "console: create --console-socket, then start" {
  start_receiver
  set_args /probe tty
  ct_create --console-socket "$SOCK"
  wait_until 30 file_has "$CONSOLE_ERR" 'console=received'
  runtime start "$ID"
  wait_status stopped
  wait_until 30 file_has "$CONSOLE_OUT" '^ctty='
  assert_kv tty.0 1 "$(console_text)"
}

@test "console: consoleSize sets the window size" {
  update_config '.process.consoleSize = {"height": 37, "width": 121}'
  start_receiver
  set_args /probe tty
  ct_run_detached --console-socket "$SOCK"
  wait_status stopped
  wait_until 30 file_has "$CONSOLE_OUT" '^ctty='
  assert_kv rows 37 "$(console_text)"
  assert_kv cols 121 "$(console_text)"
}

@test "console: input written to the master reaches the process" {
  start_receiver $'hello-from-host\n'
  set_args /bin/sh -c 'read line; echo "got:$line"'
  ct_run_detached --console-socket "$SOCK"
  wait_status stopped
  wait_until 30 file_has "$CONSOLE_OUT" 'got:hello-from-host'
}

@test "console: /dev/console is the container's pty" {
  start_receiver
  set_args /probe stat /dev/console
  ct_run_detached --console-socket "$SOCK"
  wait_status stopped
  wait_until 30 file_has "$CONSOLE_OUT" '^minor='
  local out
  out=$(console_text)
  assert_kv type chr "$out"
  assert_kv major 136 "$out"
}

@test "console: terminal without --console-socket for a detached container is an error" {
  set_args /probe tty
  run runtime run --detach --bundle "$BUNDLE" "$ID" </dev/null
  assert_failure_out
  assert_nothing_left
}

@test "console: --console-socket to a path where nobody listens fails, leaving nothing" {
  set_args /probe tty
  run runtime run --detach --console-socket "$BATS_TEST_TMPDIR/nobody.sock" --bundle "$BUNDLE" "$ID" </dev/null
  assert_failure_out
  assert_nothing_left
}

# CVE-2025-31133 class, console side: the rootfs's /dev/console must not redirect the
# runtime's bind mount of the pty. The symlink points at a decoy inside the rootfs.
@test "console: a /dev/console symlink in the rootfs is not followed" {
  requires_berth "runc 1.1.5 bind-mounts the pty over the target of a /dev/console symlink"
  update_config '.mounts |= map(select(.destination != "/dev"))'
  mkdir -p "$ROOTFS/dev"
  echo decoy >"$ROOTFS/decoy"
  ln -sf /decoy "$ROOTFS/dev/console"
  start_receiver
  set_args /probe stat /decoy
  ct_run_detached --console-socket "$SOCK" || true
  wait_status stopped "$ID" 10 || true
  # (the line read below, type=, comes after stat=ok; stat=E... alone when the stat failed)
  wait_until 10 file_has "$CONSOLE_OUT" '^type=\|^stat=E' || true
  local out
  out=$(console_text)
  # if the container ran, /decoy is still the regular file, not the pty
  [ -z "$out" ] || assert_kv type file "$out"
}

@test "console: a non-root process owns its pty and can reopen it (runc, crun)" {
  # the uid only: devpts gives the tty its group
  update_config '.process.user = {"uid": 1000, "gid": 1000}'
  start_receiver
  set_args /bin/sh -c 'stat -Lc "owner=%u:%g" /proc/self/fd/0; echo again >/proc/self/fd/1 && echo reopen=ok'
  ct_run_detached --console-socket "$SOCK"
  wait_status stopped
  wait_until 30 file_has "$CONSOLE_OUT" '^reopen='
  assert_kv reopen ok "$(console_text)"
  [[ $(probe_get owner "$(console_text)") == 1000:* ]]
}
