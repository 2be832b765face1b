#!/usr/bin/env bats
# mounts in config order with their options, bind/rbind/rro, tmpfs, rootfsPropagation,
# root.readonly, masked and read-only paths.

load helpers

# mount_line TARGET: the probe's "mount=" record for TARGET (last one wins: the visible mount)
mount_line() { grep "^mount=$1 " <<<"$output" | tail -1; }

# host_tmpfs DIR: a tmpfs on the host that teardown unmounts
host_tmpfs() {
  mkdir -p "$1"
  mount -t tmpfs -o size=1m tmpfs "$1"
  HOST_MADE+=("$1")
}

# shared_bundle: the bundle on a shared mount of its own (what a systemd host gives "/")
shared_bundle() {
  mount --bind "$BUNDLE" "$BUNDLE"
  HOST_MADE+=("$BUNDLE")
  mount --make-shared "$BUNDLE"
}

teardown() {
  local m
  for m in "${HOST_MADE[@]}"; do umount -l "$m" 2>/dev/null; done
  teardown_bundle
}

add_mount() { # DEST TYPE SOURCE OPTIONS-JSON
  update_config '.mounts += [{"destination": $d, "type": $t, "source": $s, "options": $o}]' \
    --arg d "$1" --arg t "$2" --arg s "$3" --argjson o "$4"
}

run_ok() {
  run runtime run --bundle "$BUNDLE" "$ID"
  assert_success_out
}

@test "mounts: the default spec's mounts have their types and options" {
  set_args /probe mounts
  run_ok
  [[ $(mount_line /proc) == "mount=/proc proc "* ]]
  [[ $(mount_line /dev) == "mount=/dev tmpfs "* ]]
  [[ $(mount_line /dev/pts) == "mount=/dev/pts devpts "* ]]
  [[ $(mount_line /dev/shm) == "mount=/dev/shm tmpfs "* ]]
  [[ $(mount_line /dev/mqueue) == "mount=/dev/mqueue mqueue "* ]]
  [[ $(mount_line /sys) == "mount=/sys sysfs "* ]]
  # /sys is read-only, nosuid, noexec, nodev
  local opts
  opts=$(mount_line /sys | cut -d' ' -f4)
  [[ ,$opts, == *,ro,* && ,$opts, == *,nosuid,* && ,$opts, == *,nodev,* && ,$opts, == *,noexec,* ]]
  # /dev/pts is a new devpts instance with the configured ptmxmode
  [[ $(mount_line /dev/pts | cut -d' ' -f5) == *ptmxmode=666* ]]
  # /dev/shm: size=65536k, mode=1777
  [[ $(mount_line /dev/shm | cut -d' ' -f5) == *size=65536k* ]]
}

@test "mounts: /proc shows only the container's processes" {
  set_args /bin/sh -c 'ls /proc | grep -c "^[0-9][0-9]*$"'
  run_ok
  [ "$output" -le 3 ]
}

@test "mounts: mounts are made in config order" {
  mkdir -p "$BATS_TEST_TMPDIR/src"
  echo marker >"$BATS_TEST_TMPDIR/src/file"
  add_mount /m1 tmpfs tmpfs '["size=1m"]'
  add_mount /m1/sub bind "$BATS_TEST_TMPDIR/src" '["bind"]'
  add_mount /m2/sub bind "$BATS_TEST_TMPDIR/src" '["bind"]'
  add_mount /m2 tmpfs tmpfs '["size=1m"]'
  set_args /bin/sh -c 'cat /m1/sub/file; ls /m2 | wc -l; /probe mounts'
  run_ok
  [ "${lines[0]}" = marker ]
  # the tmpfs mounted after /m2/sub hides it
  [ "${lines[1]}" = 0 ]
  local order
  order=$(grep -E '^mount=/m[12](/sub)? ' <<<"$output" | cut -d' ' -f1 | paste -sd' ')
  [ "$order" = "mount=/m1 mount=/m1/sub mount=/m2/sub mount=/m2" ]
}

@test "mounts: tmpfs size, mode and nosuid/nodev/noexec" {
  add_mount /scratch tmpfs tmpfs '["nosuid", "nodev", "noexec", "size=1m", "mode=0700"]'
  set_args /bin/sh -c '/probe mounts; /probe stat /scratch'
  run_ok
  local line
  line=$(mount_line /scratch)
  [[ $(cut -d' ' -f4 <<<"$line") == *nosuid,nodev,noexec* ]]
  [[ $(cut -d' ' -f5 <<<"$line") == *size=1024k* ]]
  assert_kv mode 0700
}

@test "mounts: a read-only bind mount refuses writes" {
  mkdir -p "$BATS_TEST_TMPDIR/src"
  add_mount /data bind "$BATS_TEST_TMPDIR/src" '["bind", "ro"]'
  update_config '.root.readonly = false'
  set_args /probe write-file /data/new x
  run_ok
  assert_kv write EROFS
  [ ! -e "$BATS_TEST_TMPDIR/src/new" ]
}

@test "mounts: a read-write bind mount writes through to the host" {
  mkdir -p "$BATS_TEST_TMPDIR/src"
  add_mount /data bind "$BATS_TEST_TMPDIR/src" '["rbind", "rw"]'
  set_args /probe write-file /data/new hello
  run_ok
  assert_kv write ok
  [ "$(cat "$BATS_TEST_TMPDIR/src/new")" = hello ]
}

@test "mounts: a bind mount of a file creates the file mountpoint" {
  echo content >"$BATS_TEST_TMPDIR/host-file"
  add_mount /etc/injected bind "$BATS_TEST_TMPDIR/host-file" '["bind", "ro"]'
  set_args cat /etc/injected
  run_ok
  [ "$output" = content ]
}

@test "mounts: bind leaves submounts out, rbind takes them" {
  mkdir -p "$BATS_TEST_TMPDIR/src/sub"
  host_tmpfs "$BATS_TEST_TMPDIR/src/sub"
  echo in-submount >"$BATS_TEST_TMPDIR/src/sub/file"
  add_mount /b bind "$BATS_TEST_TMPDIR/src" '["bind"]'
  add_mount /rb bind "$BATS_TEST_TMPDIR/src" '["rbind"]'
  set_args /bin/sh -c 'ls /b/sub | wc -l; cat /rb/sub/file'
  run_ok
  [ "${lines[0]}" = 0 ]
  [ "${lines[1]}" = in-submount ]
}

@test "mounts: a later bind does not take back an earlier rbind (runc's and crun's rule)" {
  # both OR the flags of the options: rbind anywhere is recursive. /sys's submounts (cgroups)
  # went missing with "rbind,bind"
  mkdir -p "$BATS_TEST_TMPDIR/src/sub"
  host_tmpfs "$BATS_TEST_TMPDIR/src/sub"
  echo in-submount >"$BATS_TEST_TMPDIR/src/sub/file"
  add_mount /rb bind "$BATS_TEST_TMPDIR/src" '["rbind", "bind"]'
  add_mount /br bind "$BATS_TEST_TMPDIR/src" '["bind", "rbind", "ro"]'
  add_mount /hostsys bind /sys '["rbind", "bind", "ro"]'
  local sub
  sub=$(awk '$5 ~ "^/sys/." {print substr($5, 5); exit}' /proc/self/mountinfo)
  [ -n "$sub" ] || skip "the host's /sys has no submount"
  set_args /bin/sh -c "cat /rb/sub/file /br/sub/file; grep -c ' /hostsys$sub ' /proc/self/mountinfo"
  run_ok
  [ "${lines[0]}" = in-submount ]
  [ "${lines[1]}" = in-submount ]
  [ "${lines[2]}" = 1 ]
}

@test "mounts: rro makes submounts read-only too" {
  requires_feature .mountOptions rro
  mkdir -p "$BATS_TEST_TMPDIR/src/sub"
  host_tmpfs "$BATS_TEST_TMPDIR/src/sub"
  add_mount /rb bind "$BATS_TEST_TMPDIR/src" '["rbind", "rro"]'
  add_mount /plain bind "$BATS_TEST_TMPDIR/src" '["rbind", "ro"]'
  set_args /bin/sh -c '/probe write-file /rb/sub/x 1; /probe write-file /plain/sub/y 1'
  run_ok
  [ "${lines[0]}" = write=EROFS ]
  # plain ro applies to the top mount only
  [ "${lines[1]}" = write=ok ]
}

@test "mounts: a bind mount of a missing source is an error" {
  add_mount /data bind "$BATS_TEST_TMPDIR/does-not-exist" '["bind"]'
  run runtime run --bundle "$BUNDLE" "$ID"
  assert_failure_out
  assert_nothing_left
}

@test "mounts: a destination through a symlink inside the rootfs lands inside the rootfs" {
  mkdir -p "$ROOTFS/real-target"
  ln -s /real-target "$ROOTFS/link"
  add_mount /link tmpfs tmpfs '["size=1m"]'
  set_args /probe mounts
  run_ok
  [[ $(mount_line /real-target) == "mount=/real-target tmpfs "* ]]
}

@test "mounts: an idmapped bind without a user namespace (runtime-spec 1.1's mount-only idmap, crun)" {
  [ "$(runtime_name)" = runc ] && skip "runc 1.1.5 has no idmapped mounts"
  # on-disk ids are mapped as a user namespace's would be: 0 appears as 1000, 1000 (outside
  # the range) as the overflow id. A new pid namespace as well (the template has one)
  local src=$BATS_TEST_TMPDIR/idsrc
  mkdir -p "$src"
  echo r >"$src/rootfile"
  echo u >"$src/userfile"
  chown 1000:1000 "$src/userfile"
  update_config '.mounts += [{"destination": "/mnt/id", "type": "bind", "source": $s, "options": ["bind", "idmap"],
      "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 10}],
      "gidMappings": [{"containerID": 0, "hostID": 1000, "size": 10}]}]' --arg s "$src"
  set_args /bin/sh -c 'stat -c "%n=%u:%g" /mnt/id/rootfile /mnt/id/userfile'
  run_ok
  assert_kv /mnt/id/rootfile 1000:1000
  assert_kv /mnt/id/userfile 65534:65534
}

@test "mounts: a bind onto a dangling symlink creates its target inside the rootfs (runc's rule)" {
  is_crun && skip "crun 1.8 refuses a destination that is a dangling symlink"
  echo content >"$BATS_TEST_TMPDIR/host-file"
  # a file bind through a relative link, a directory through a chain of links
  ln -s ../made-file "$ROOTFS/mnt/file-link"
  ln -s chain2 "$ROOTFS/mnt/dir-link"
  ln -s /made/dir "$ROOTFS/mnt/chain2"
  # an absolute target climbing out stays inside the root
  ln -s /../../../../made-escape "$ROOTFS/mnt/escape-link"
  add_mount /mnt/file-link bind "$BATS_TEST_TMPDIR/host-file" '["bind", "ro"]'
  add_mount /mnt/dir-link tmpfs tmpfs '["size=1m"]'
  add_mount /mnt/escape-link bind "$BATS_TEST_TMPDIR/host-file" '["bind", "ro"]'
  set_args /bin/sh -c 'cat /made-file /made-escape; grep -c " /made/dir " /proc/self/mountinfo'
  run_ok
  [ "${lines[0]}" = content ]
  [ "${lines[1]}" = content ]
  [ "${lines[2]}" = 1 ]
  [ -f "$ROOTFS/made-file" ]
  [ -d "$ROOTFS/made/dir" ]
  [ -f "$ROOTFS/made-escape" ]
  [ ! -e "$BATS_TEST_TMPDIR/made-escape" ]
  [ ! -e /made-escape ]
}

@test "mounts: root.readonly makes / read-only" {
  set_args /probe write-file /newfile x
  run_ok
  assert_kv write EROFS
  update_config '.root.readonly = false'
  set_args /probe write-file /newfile x
  run_ok
  assert_kv write ok
  [ -f "$ROOTFS/newfile" ]
}

@test "mounts: rootfsPropagation private" {
  shared_bundle
  set_args /probe mounts
  update_config '.linux.rootfsPropagation = "private"'
  run_ok
  [ "$(mount_line / | cut -d' ' -f6)" = - ]
}

@test "mounts: rootfsPropagation slave and shared" {
  requires_berth "runc 1.1.5 leaves / private (it fails oci-validation linux_rootfs_propagation)"
  shared_bundle
  set_args /probe mounts
  update_config '.linux.rootfsPropagation = "slave"'
  run_ok
  [[ $(mount_line / | cut -d' ' -f6) == *master:* ]]
  update_config '.linux.rootfsPropagation = "shared"'
  run_ok
  [[ $(mount_line / | cut -d' ' -f6) == *shared:* ]]
}

@test "mounts: a masked file is a null device, a masked directory an empty read-only tmpfs" {
  update_config '.linux.maskedPaths = ["/proc/timer_list", "/sys/firmware", "/does/not/exist"]'
  set_args /bin/sh -c '/probe stat /proc/timer_list; ls -A /sys/firmware | wc -l; /probe write-file /sys/firmware/x 1; /probe mounts'
  run_ok
  assert_kv type chr
  assert_kv major 1
  assert_kv minor 3
  [ "$(grep -x '[0-9]*' <<<"$output")" = 0 ]
  assert_kv write EROFS
  [[ $(mount_line /sys/firmware) == "mount=/sys/firmware tmpfs "* ]]
}

@test "mounts: read-only paths refuse writes, to directories and to files" {
  update_config '.linux.readonlyPaths = ["/proc/sys"]'
  set_args /bin/sh -c '/probe open /proc/sys/kernel/hostname w; /probe open /proc/sys/kernel/hostname r'
  run_ok
  [ "${lines[0]}" = open=EROFS ]
  [ "${lines[1]}" = open=ok ]
  update_config '.linux.readonlyPaths = ["/proc/sys/kernel/hostname"]'
  set_args /bin/sh -c '/probe open /proc/sys/kernel/hostname w; /probe open /proc/sys/kernel/domainname w'
  run_ok
  [ "${lines[0]}" = open=EROFS ]
  [ "${lines[1]}" = open=ok ]
}

@test "mounts: without readonlyPaths /proc/sys is writable in the container's uts namespace" {
  update_config '.linux.readonlyPaths = []'
  set_args /bin/sh -c 'echo changed > /proc/sys/kernel/hostname && hostname'
  run_ok
  [ "$output" = changed ]
  [ "$(hostname)" != changed ]
}

@test "mounts: mqueue and devpts are usable" {
  set_args /bin/sh -c '/probe stat /dev/ptmx; /probe open /dev/ptmx rw'
  run_ok
  assert_kv open ok
}

@test "mounts: nothing the container mounted is left on the host" {
  add_mount /scratch tmpfs tmpfs '["size=1m"]'
  set_args /probe exit 0
  run_ok
  assert_nothing_left
}
