#!/usr/bin/env bats
# berth-dmz (src/dmz/dmz.c; runtime/dmz.h decides when): `run` execs the container's program
# through a 9 kB helper from a sealed memfd instead of re-executing itself from a protected
# copy. runc shipped the same idea as runc-dmz in 1.2.0 and removed it in 1.2.1 for its limits;
# docs/design/speed-risks.md goes through them. Here each limit is a config: the program must
# see through `run` what a direct exec gives it (`create` + `start`, which re-execute protected
# and exec the program themselves), and where the helper would change that, `run` must not use
# it. The equality holds for any runtime; which path `run` took is berth's (its debug log).

load helpers

# the program's output through `run`; $RUN_LOG gets the runtime's debug log
run_via_run() {
  RUN_LOG=$BATS_TEST_TMPDIR/run.log
  rm -f "$RUN_LOG"
  run runtime --debug --log "$RUN_LOG" run --bundle "$BUNDLE" "$ID-run"
  assert_success_out
  VIA_RUN=$output
}

# the program's output through create + start
run_via_create() {
  runtime create --bundle "$BUNDLE" "$ID-cs" </dev/null >"$CT_OUT" 2>"$CT_ERR"
  runtime start "$ID-cs"
  wait_status stopped "$ID-cs"
  VIA_CREATE=$(cat "$CT_OUT")
  runtime delete "$ID-cs"
}

# `run` took the helper (berth: no re-exec in its debug log), or not: "helper" or "re-exec"
assert_path() {
  is_berth || return 0
  if [ "$1" = helper ]; then
    ! grep -q 're-executing from a protected copy' "$RUN_LOG" || { cat "$RUN_LOG"; false; }
  else
    grep -q "re-executing from a protected copy: $2" "$RUN_LOG" || { cat "$RUN_LOG"; false; }
  fi
}

# capability sets and ids of the program, as the probe prints them
sets() { grep -E '^(cap_(inh|prm|eff|bnd|amb)_hex|uid|euid|gid|egid)=' <<<"$1"; }

assert_same_view() {
  run_via_run
  run_via_create
  echo "run:" && sets "$VIA_RUN"
  echo "create+start:" && sets "$VIA_CREATE"
  [ -n "$(sets "$VIA_RUN")" ]
  [ "$(sets "$VIA_RUN")" = "$(sets "$VIA_CREATE")" ]
}

# /probe with file capabilities (setcap's text) under NAME in the rootfs
fcap_probe() {
  command -v setcap >/dev/null || skip "setcap (libcap2-bin) not installed"
  cp "$ROOTFS/probe" "$ROOTFS/$1"
  setcap "$2" "$ROOTFS/$1"
}

@test "dmz: a user other than root with permitted capabilities keeps them (runc #4125): run re-executes" {
  fcap_probe probe-ep cap_net_bind_service+ep
  fcap_probe probe-p cap_net_bind_service,cap_kill+p
  update_config '.process.user = {"uid": 1000, "gid": 1000} | .process.noNewPrivileges = true
    | .process.capabilities = {"bounding": ["CAP_NET_BIND_SERVICE", "CAP_KILL"],
        "permitted": ["CAP_NET_BIND_SERVICE", "CAP_KILL"], "effective": ["CAP_NET_BIND_SERVICE", "CAP_KILL"],
        "inheritable": ["CAP_NET_BIND_SERVICE", "CAP_KILL"]}'
  local p
  for p in probe probe-ep probe-p; do
    set_args "/$p" all
    assert_same_view
    assert_path re-exec "a user other than root would lose its permitted capabilities"
  done
  # what a direct exec gives and the helper would have taken: file capabilities under no_new_privs
  set_args /probe-ep all
  run_via_create
  [ "$(probe_get cap_prm_hex "$VIA_CREATE")" = 0000000000000400 ]
}

@test "dmz: with ambient capabilities, a setuid program or none, a user other than root goes through the helper" {
  command -v setcap >/dev/null || skip "setcap (libcap2-bin) not installed"
  fcap_probe probe-ie cap_net_bind_service+ie
  cp "$ROOTFS/probe" "$ROOTFS/probe-suid"
  chown 0:0 "$ROOTFS/probe-suid"
  chmod 4755 "$ROOTFS/probe-suid"
  update_config '.process.user = {"uid": 1000, "gid": 1000} | .process.noNewPrivileges = false
    | .process.capabilities = {"bounding": ["CAP_NET_BIND_SERVICE", "CAP_KILL", "CAP_SETUID"],
        "permitted": ["CAP_KILL"], "effective": ["CAP_KILL"], "inheritable": ["CAP_KILL", "CAP_NET_BIND_SERVICE"],
        "ambient": ["CAP_KILL"]}'
  local p
  for p in probe probe-ie probe-suid; do
    set_args "/$p" all
    assert_same_view
    assert_path helper
  done
  [ "$(probe_get euid "$VIA_RUN")" = 0 ] # the setuid bit worked through the helper
  update_config '.process.capabilities = {"bounding": ["CAP_KILL"]}'
  set_args /probe all
  assert_same_view
  assert_path helper
}

@test "dmz: root with runc's default capabilities and a program with file capabilities goes through the helper" {
  fcap_probe probe-ep cap_net_bind_service+ep
  for nnp in true false; do
    update_config '.process.noNewPrivileges = ($n == "true")' --arg n "$nnp"
    set_args /probe-ep all
    assert_same_view
    assert_path helper
  done
}

@test "dmz: CAP_SYS_PTRACE in the container's sets (without a user namespace) makes run re-execute" {
  local sets
  # the capability in the bounding set alone, then inheritable too, then ambient (which needs
  # it permitted and inheritable as well)
  for sets in '["bounding"]' '["bounding", "inheritable"]' '["bounding", "inheritable", "permitted", "ambient"]'; do
    update_config '.process.capabilities = {"bounding": ["CAP_KILL"], "permitted": ["CAP_KILL"],
        "effective": ["CAP_KILL"], "inheritable": [], "ambient": []}
      | reduce $s[] as $k (.; .process.capabilities[$k] += ["CAP_SYS_PTRACE"])' --argjson s "$sets"
    set_args /probe caps
    assert_same_view
    assert_path re-exec "CAP_SYS_PTRACE over the host's user namespace"
  done
}

@test "dmz: an SELinux label or AppArmor profile makes run re-execute (runc #4057)" {
  requires_berth "which path run takes is berth's own choice"
  # neither LSM need be enabled: the choice is made from the config, before anything runs
  update_config '.process.apparmorProfile = "berth-test-unconfined"'
  set_args /probe caps
  run runtime --debug --log "$BATS_TEST_TMPDIR/run.log" run --bundle "$BUNDLE" "$ID-run"
  RUN_LOG=$BATS_TEST_TMPDIR/run.log
  assert_path re-exec "an LSM exec label would apply to the helper"
}

@test "dmz: a runtime whose memfds may not be executed (vm.memfd_noexec=2) re-executes, and the container runs" {
  requires_berth "which path run takes is berth's own choice"
  [ -e /proc/sys/vm/memfd_noexec ] || skip "no vm.memfd_noexec (Linux < 6.3)"
  set_args /probe caps
  RUN_LOG=$BATS_TEST_TMPDIR/run.log
  # the sysctl belongs to a pid namespace: this one is new, the host's stays as it is
  run unshare --pid --fork -- sh -c 'echo 2 >/proc/sys/vm/memfd_noexec && exec "$@"' sh \
    timeout -k 5 "$RUNTIME_TIMEOUT" "$OCI_RUNTIME" --root "$ROOT" --debug --log "$RUN_LOG" \
    run --bundle "$BUNDLE" "$ID-run"
  assert_success_out
  [ -n "$(probe_get cap_bnd_hex)" ]
  assert_path re-exec "no executable memfd for berth-dmz"
}
