#!/usr/bin/env bats
# process: args, env, cwd, user (uid, gid, umask, additionalGids), rlimits, oomScoreAdj,
# capabilities (all five sets), noNewPrivileges, personality.

load helpers

run_probe() { # ARG...: run the container with /probe ARG... as its process
  set_args /probe "$@"
  run runtime run --bundle "$BUNDLE" "$ID"
  assert_success_out
}

@test "process: args reach the program unchanged" {
  run_probe args "two words" '$HOME' "" 'q"uote'
  assert_kv argc 6
  assert_kv arg.0 /probe
  assert_kv arg.2 "two words"
  assert_kv arg.3 '$HOME'
  assert_kv arg.4 ""
  assert_kv arg.5 'q"uote'
}

@test "process: env is the configured environment (plus HOME when unset)" {
  update_config '.process.env = ["PATH=/bin", "A=1", "SPACED=a b", "EMPTY="]'
  run_probe env
  run grep '^env=' <<<"$output"
  # runc and crun add HOME from /etc/passwd when the config has none
  [ "$(grep -v '^env=HOME=' <<<"$output" | paste -sd'|')" = "env=PATH=/bin|env=A=1|env=SPACED=a b|env=EMPTY=" ]
  [ "$(grep -c '^env=HOME=' <<<"$output")" -eq 1 ]
}

@test "process: without HOME in env, HOME is the user's home in the container's /etc/passwd" {
  # runc's rule (crun's too): a program that reads HOME must find one
  update_config '.process.env = ["PATH=/bin"]'
  set_args /bin/sh -c 'echo "home=$HOME"'
  run runtime run --bundle "$BUNDLE" "$ID"
  assert_success_out
  assert_kv home /root
  update_config '.process.user = {"uid": 1000, "gid": 1000}'
  run runtime run --bundle "$BUNDLE" "$ID"
  assert_success_out
  assert_kv home /tmp
}

@test "process: without HOME in env and without a passwd entry, HOME is / (runc's rule)" {
  is_crun && skip "crun 1.8 leaves HOME unset for a uid /etc/passwd does not list"
  update_config '.process.env = ["PATH=/bin"] | .process.user = {"uid": 4242, "gid": 4242}'
  set_args /bin/sh -c 'echo "home=$HOME"'
  run runtime run --bundle "$BUNDLE" "$ID"
  assert_success_out
  assert_kv home /
  rm "$ROOTFS/etc/passwd"
  update_config '.process.user = {"uid": 0, "gid": 0}'
  run runtime run --bundle "$BUNDLE" "$ID"
  assert_success_out
  assert_kv home /
}

@test "process: HOME from a passwd that is a fifo does not hang the runtime" {
  requires_berth "runc 1.1.5 opens /etc/passwd blocking: it waits for a writer of the fifo"
  update_config '.process.env = ["PATH=/bin"]'
  rm "$ROOTFS/etc/passwd"
  mkfifo "$ROOTFS/etc/passwd"
  set_args /bin/sh -c 'echo "home=$HOME"'
  run runtime run --bundle "$BUNDLE" "$ID"
  assert_success_out
  assert_kv home /
}

@test "process: a configured HOME is kept" {
  update_config '.process.env = ["PATH=/bin", "HOME=/elsewhere"]'
  run_probe env
  [ "$(grep -c '^env=HOME=' <<<"$output")" -eq 1 ]
  assert_contains "$output" "env=HOME=/elsewhere"
}

@test "process: args[0] is looked up in the configured PATH" {
  update_config '.process.env = ["PATH=/nowhere:/bin"]'
  set_args echo found
  run runtime run --bundle "$BUNDLE" "$ID"
  assert_success_out
  [ "$output" = found ]
}

@test "process: a missing executable fails create or run with an error" {
  set_args /no/such/program
  run runtime run --bundle "$BUNDLE" "$ID"
  assert_failure_out
  assert_nothing_left
}

@test "process: cwd is the working directory" {
  mkdir -p "$ROOTFS/work/dir"
  update_config '.process.cwd = "/work/dir"'
  run_probe all
  assert_kv cwd /work/dir
}

@test "process: user uid, gid and additionalGids" {
  update_config '.process.user = {"uid": 1000, "gid": 1000, "additionalGids": [5, 100, 4242]}'
  run_probe ids
  assert_kv uid 1000
  assert_kv euid 1000
  assert_kv gid 1000
  assert_kv egid 1000
  assert_list_eq groups 5,100,4242
}

@test "process: run.oci.keep_original_groups keeps the caller's supplementary groups (crun's annotation)" {
  [ "$(runtime_name)" = runc ] && skip "runc 1.1.5 ignores crun's run.oci.* annotations"
  command -v setpriv >/dev/null || skip "setpriv is not installed"
  # podman's --group-add keep-groups: no setgroups at all, additionalGids included
  update_config '.annotations["run.oci.keep_original_groups"] = "1"
    | .process.user = {"uid": 1000, "gid": 1000, "additionalGids": [5]}'
  set_args /probe ids
  run setpriv --groups 4242,4343 -- "$OCI_RUNTIME" --root "$ROOT" run --bundle "$BUNDLE" "$ID"
  assert_success_out
  assert_kv uid 1000
  assert_list_eq groups 4242,4343
  # without it, the config's groups
  update_config 'del(.annotations["run.oci.keep_original_groups"])'
  run setpriv --groups 4242,4343 -- "$OCI_RUNTIME" --root "$ROOT" run --bundle "$BUNDLE" "$ID"
  assert_success_out
  assert_list_eq groups 5
}

@test "process: without additionalGids the supplementary groups are empty" {
  update_config '.process.user = {"uid": 1000, "gid": 1000}'
  run_probe ids
  assert_kv groups ""
}

@test "process: a non-root process can reopen its std streams when they are pipes (runc, crun)" {
  # a program that opens /proc/self/fd/1 or /dev/stdout: the pipes get the process's uid
  update_config '.process.user = {"uid": 1000, "gid": 1000}'
  set_args /bin/sh -c 'echo out >/proc/self/fd/1 && echo err >/dev/stderr && echo reopen=ok'
  run runtime run --bundle "$BUNDLE" "$ID"
  assert_success_out
  assert_kv reopen ok
}

@test "process: a host file given as stdout stays the caller's" {
  is_crun && skip "crun 1.8 gives the host's file to the container's user"
  update_config '.process.user = {"uid": 1000, "gid": 1000}'
  set_args /bin/sh -c 'echo hello'
  local out=$BATS_TEST_TMPDIR/out.log
  : >"$out"
  runtime run --bundle "$BUNDLE" "$ID" </dev/null >"$out" 2>&1
  [ "$(cat "$out")" = hello ]
  [ "$(stat -c %u:%g "$out")" = 0:0 ]
}

@test "process: umask" {
  update_config '.process.user.umask = 63'
  run_probe all
  assert_kv umask 0077
}

@test "process: the default umask is 0022" {
  run_probe all
  assert_kv umask 0022
}

@test "process: rlimits are set, soft and hard" {
  # jq turns 2^64-1 into a double, so the largest value is written with sed
  update_config '.process.rlimits = [
      {"type": "RLIMIT_NOFILE", "soft": 321, "hard": 654},
      {"type": "RLIMIT_CORE", "soft": 0, "hard": "MAXU64"},
      {"type": "RLIMIT_NPROC", "soft": 1111, "hard": 2222},
      {"type": "RLIMIT_MSGQUEUE", "soft": 4096, "hard": 8192}]'
  set_args /probe all
  sed -i 's/"MAXU64"/18446744073709551615/' "$BUNDLE/config.json"
  run runtime run --bundle "$BUNDLE" "$ID"
  assert_success_out
  assert_kv rlimit.nofile 321:654
  assert_kv rlimit.core 0:unlimited
  assert_kv rlimit.nproc 1111:2222
  assert_kv rlimit.msgqueue 4096:8192
}

@test "process: an unknown rlimit type is an error" {
  update_config '.process.rlimits = [{"type": "RLIMIT_BOGUS", "soft": 1, "hard": 1}]'
  run runtime run --bundle "$BUNDLE" "$ID"
  assert_failure_out
  assert_nothing_left
}

@test "process: soft rlimit above hard is an error" {
  update_config '.process.rlimits = [{"type": "RLIMIT_NOFILE", "soft": 2000, "hard": 1000}]'
  run runtime run --bundle "$BUNDLE" "$ID"
  assert_failure_out
  assert_nothing_left
}

@test "process: oomScoreAdj" {
  update_config '.process.oomScoreAdj = 345'
  run_probe all
  assert_kv oom_score_adj 345
}

@test "process: without oomScoreAdj the caller's value is inherited" {
  run_probe all
  assert_kv oom_score_adj "$(cat /proc/self/oom_score_adj)"
}

@test "process: noNewPrivileges true and false" {
  run_probe all
  assert_kv no_new_privs 1
  update_config '.process.noNewPrivileges = false'
  run_probe all
  assert_kv no_new_privs 0
}

# For uid 0 the kernel sets effective = permitted at execve (no SECBIT_NOROOT), so the
# effective set is only seen apart from permitted through file capabilities.
@test "process: the five capability sets are applied as configured" {
  update_config '.process.capabilities = {
      "bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW", "CAP_SETPCAP", "CAP_SYS_CHROOT"],
      "permitted": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW", "CAP_SETPCAP"],
      "effective": ["CAP_CHOWN", "CAP_KILL"],
      "inheritable": ["CAP_KILL", "CAP_NET_RAW"],
      "ambient": ["CAP_KILL"]}'
  run_probe caps
  assert_list_eq cap_bnd CAP_CHOWN,CAP_KILL,CAP_NET_RAW,CAP_SETPCAP,CAP_SYS_CHROOT
  assert_list_eq cap_prm CAP_CHOWN,CAP_KILL,CAP_NET_RAW,CAP_SETPCAP
  assert_list_eq cap_eff CAP_CHOWN,CAP_KILL,CAP_NET_RAW,CAP_SETPCAP
  assert_list_eq cap_inh CAP_KILL,CAP_NET_RAW
  assert_list_eq cap_amb CAP_KILL
}

@test "process: no capabilities at all" {
  update_config '.process.capabilities = {}'
  run_probe caps
  assert_kv cap_bnd ""
  assert_kv cap_prm ""
  assert_kv cap_eff ""
}

@test "process: ambient capabilities keep a non-root user's capabilities" {
  update_config '.process.user = {"uid": 1000, "gid": 1000} | .process.capabilities = {
      "bounding": ["CAP_NET_BIND_SERVICE"], "permitted": ["CAP_NET_BIND_SERVICE"],
      "effective": ["CAP_NET_BIND_SERVICE"], "inheritable": ["CAP_NET_BIND_SERVICE"],
      "ambient": ["CAP_NET_BIND_SERVICE"]}'
  run_probe caps
  assert_kv cap_eff CAP_NET_BIND_SERVICE
  assert_kv cap_amb CAP_NET_BIND_SERVICE
}

@test "process: a non-root user without ambient capabilities has none effective" {
  update_config '.process.user = {"uid": 1000, "gid": 1000} | .process.capabilities = {
      "bounding": ["CAP_CHOWN"], "permitted": ["CAP_CHOWN"], "effective": ["CAP_CHOWN"]}'
  run_probe caps
  assert_kv cap_eff ""
  assert_kv cap_bnd CAP_CHOWN
}

@test "process: personality LINUX32" {
  requires_berth "runc 1.1.5 ignores linux.personality"
  update_config '.linux.personality = {"domain": "LINUX32"}'
  run_probe all
  assert_kv personality 0x8
}

@test "process: personality LINUX keeps the default" {
  update_config '.linux.personality = {"domain": "LINUX"}'
  run_probe all
  assert_kv personality 0x0
}

@test "process: the container gets no controlling terminal without terminal=true" {
  run_probe tty
  assert_kv tty.0 0
  assert_kv tty.1 0
  assert_kv ctty ENXIO
}
