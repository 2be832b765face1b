#!/usr/bin/env bats
# Default devices with their major/minor/mode, the /dev links, extra linux.devices.

load helpers

run_ok() {
  run runtime run --bundle "$BUNDLE" "$ID"
  assert_success_out
}

# stat_in_container PATH...: one "path type mode major minor uid gid [target]" line per path
stat_script() {
  local p s=""
  for p in "$@"; do
    s+="o=\$(/probe stat $p); echo \"$p \$(echo \"\$o\" | sed -n 's/^\(type\|mode\|major\|minor\|uid\|gid\|target\)=//p' | paste -sd' ')\"; "
  done
  echo "$s"
}

@test "devices: the default devices exist with their numbers and mode 0666" {
  set_args /bin/sh -c "$(stat_script /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty)"
  run_ok
  assert_contains "$output" "/dev/null chr 0666 1 3 0 0"
  assert_contains "$output" "/dev/zero chr 0666 1 5 0 0"
  assert_contains "$output" "/dev/full chr 0666 1 7 0 0"
  assert_contains "$output" "/dev/random chr 0666 1 8 0 0"
  assert_contains "$output" "/dev/urandom chr 0666 1 9 0 0"
  assert_contains "$output" "/dev/tty chr 0666 5 0 0 0"
}

@test "devices: the default devices work" {
  set_args /bin/sh -c 'echo x > /dev/null && head -c 3 /dev/zero | wc -c && head -c 5 /dev/urandom | wc -c'
  run_ok
  [ "${lines[0]}" = 3 ]
  [ "${lines[1]}" = 5 ]
}

@test "devices: /dev/fd, /dev/stdin, /dev/stdout, /dev/stderr and /dev/ptmx links" {
  set_args /bin/sh -c "$(stat_script /dev/fd /dev/stdin /dev/stdout /dev/stderr /dev/ptmx)"
  run_ok
  assert_contains "$output" "/dev/fd link 0777 0 0 0 0 /proc/self/fd"
  assert_contains "$output" "/dev/stdin link 0777 0 0 0 0 /proc/self/fd/0"
  assert_contains "$output" "/dev/stdout link 0777 0 0 0 0 /proc/self/fd/1"
  assert_contains "$output" "/dev/stderr link 0777 0 0 0 0 /proc/self/fd/2"
  assert_contains "$output" "/dev/ptmx link 0777 0 0 0 0 pts/ptmx"
}

@test "devices: /dev/console exists only with a terminal" {
  set_args /probe stat /dev/console
  run_ok
  assert_kv stat ENOENT
}

@test "devices: only the container's own devices are in /dev" {
  set_args ls /dev
  run_ok
  for d in fuse loop0 vda kmsg mem; do
    ! grep -qx "$d" <<<"$output" || { echo "host device $d in the container"; false; }
  done
}

@test "devices: extra character, block and fifo devices with mode, uid and gid" {
  update_config '.linux.devices = [
      {"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 416, "uid": 1000, "gid": 5},
      {"path": "/dev/loop-test", "type": "b", "major": 7, "minor": 0, "fileMode": 384, "uid": 0, "gid": 0},
      {"path": "/dev/test-fifo", "type": "p", "fileMode": 438},
      {"path": "/dev/net/tun", "type": "c", "major": 10, "minor": 200}]'
  set_args /bin/sh -c "$(stat_script /dev/fuse /dev/loop-test /dev/test-fifo /dev/net/tun)"
  run_ok
  assert_contains "$output" "/dev/fuse chr 0640 10 229 1000 5"
  assert_contains "$output" "/dev/loop-test blk 0600 7 0 0 0"
  assert_contains "$output" "/dev/test-fifo fifo 0666 0 0 0 0"
  [[ $output == *"/dev/net/tun chr "*" 10 200 0 0"* ]]
}

@test "devices: an extra device of unknown type is an error" {
  update_config '.linux.devices = [{"path": "/dev/bogus", "type": "x", "major": 1, "minor": 3}]'
  run runtime run --bundle "$BUNDLE" "$ID"
  assert_failure_out
  assert_nothing_left
}

@test "devices: an extra device with a relative path is an error" {
  requires_berth "runc 1.1.5 accepts a relative device path"
  update_config '.linux.devices = [{"path": "dev/rel", "type": "c", "major": 1, "minor": 3}]'
  run runtime run --bundle "$BUNDLE" "$ID"
  assert_failure_out
  assert_nothing_left
}

@test "devices: without a /dev mount the default devices are made in the rootfs's /dev" {
  update_config '.mounts |= map(select(.destination | startswith("/dev") | not))'
  set_args /bin/sh -c "$(stat_script /dev/null /dev/zero)"
  run_ok
  assert_contains "$output" "/dev/null chr 0666 1 3 0 0"
  assert_contains "$output" "/dev/zero chr 0666 1 5 0 0"
}
