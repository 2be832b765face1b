#!/usr/bin/env bats
# berth build beside its peers (issue 15): the built image runs under podman after `berth save`
# and skopeo shows its config; differential tests against `buildah bud` on a few Dockerfiles —
# the same config (Env, Cmd, Entrypoint, WorkingDir, User, ExposedPorts, Labels, Volumes) and the
# same file tree (names, types, modes, owners, content).

load build_helpers

setup_file() {
  ctr_setup_file
}

setup() {
  build_setup
}

teardown() {
  podman_teardown
  build_teardown
}

@test "build interop: the image runs under podman after berth save; skopeo inspect shows its config" {
  podman_setup
  command -v skopeo >/dev/null || skip "skopeo is not installed"
  printf 'FROM busybox\nRUN mkdir /data && echo hi > /data/f\nENV K=v\nWORKDIR /data\nCMD ["cat", "f"]\n' >"$CTX/Dockerfile"
  bld -t interop "$CTX" >/dev/null
  berth save -o "$CTR_DIR/img.tar" interop
  run skopeo inspect --config "docker-archive:$CTR_DIR/img.tar"
  [ "$status" -eq 0 ]
  [ "$(jq -r '.config.WorkingDir' <<<"$output")" = /data ]
  [ "$(jq -c '.config.Cmd' <<<"$output")" = '["cat","f"]' ]
  jq -e '.config.Env | index("K=v")' <<<"$output" >/dev/null
  [ "$(jq -r '.history[1].created_by' <<<"$output")" = 'RUN /bin/sh -c mkdir /data && echo hi > /data/f # buildkit' ]
  podman_cmd load -i "$CTR_DIR/img.tar" >/dev/null
  # runc (crun refuses hybrid cgroup hosts); CAP_SYS_RESOURCE is missing here: explicit ulimits (podman.bats)
  run podman_cmd run --runtime runc --ulimit nofile=20000:20000 --ulimit nproc=4096:4096 --rm --network none localhost/interop:latest
  [ "$status" -eq 0 ]
  [ "$output" = hi ]
}

# the tree of an image as "path type mode uid:gid size sha" lines (berth export or podman's)
tree_of() {
  local d
  d=$(mktemp -d "$CTR_DIR/tree.XXXXXX")
  tar -C "$d" -xf -
  (cd "$d" && find . -mindepth 1 ! -path './dev*' ! -path './proc*' ! -path './sys*' ! -path './etc/hosts' \
    ! -path './etc/hostname' ! -path './etc/resolv.conf' ! -path './run' -printf '%p %y %m %U:%G %s\n' | sort)
  rm -rf "$d"
}

differential() { # the Dockerfile in $CTX
  podman_setup
  command -v buildah >/dev/null || skip "buildah is not installed"
  local BA="buildah --root $PODMAN_DIR/root --runroot $PODMAN_DIR/run --storage-driver vfs"
  podman_cmd import -c 'CMD ["sh"]' "$CTR_TAR" localhost/busybox:latest >/dev/null
  sed 's|^FROM busybox|FROM localhost/busybox|' "$CTX/Dockerfile" >"$CTX/Containerfile"
  bld -t diff "$CTX" >/dev/null
  $BA bud -q --runtime runc --network host -f "$CTX/Containerfile" -t diff "$CTX" >/dev/null
  # the base images differ in PATH (podman import adds it) and buildah labels its images
  local keys='[(.config.Env // [] | map(select(startswith("PATH=") | not))), .config.Cmd, .config.Entrypoint,
    (.config.WorkingDir // ""), (.config.User // ""), .config.ExposedPorts,
    (.config.Labels // {} | del(.["io.buildah.version"])), .config.Volumes]'
  local ours theirs
  ours=$(image_config diff | jq -cS "$keys")
  theirs=$($BA inspect --type image localhost/diff | jq -cS ".OCIv1 | $keys")
  [ "$ours" = "$theirs" ] || { echo "berth:  $ours"; echo "buildah: $theirs"; false; }
  berth export diff | tree_of >"$CTR_DIR/ours"
  local c
  c=$(podman_cmd create localhost/diff:latest true)
  podman_cmd export "$c" | tree_of >"$CTR_DIR/theirs"
  podman_cmd rm "$c" >/dev/null
  diff "$CTR_DIR/ours" "$CTR_DIR/theirs"
}

@test "build interop: the same config and file tree as buildah bud — config instructions" {
  cat >"$CTX/Dockerfile" <<'EOF'
FROM busybox
ENV A=1 B="two words"
LABEL x=y
EXPOSE 80/tcp 53/udp
VOLUME ["/vol"]
WORKDIR /work/dir
USER 1000:1000
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["echo hi"]
EOF
  differential
}

@test "build interop: the same config and file tree as buildah bud — RUN, COPY, ADD, chown, chmod" {
  mkdir -p "$CTX/dir/sub"
  echo a >"$CTX/dir/a"
  echo b >"$CTX/dir/sub/b"
  chmod 640 "$CTX/dir/a"
  ln -s a "$CTX/dir/link"
  echo single >"$CTX/file"
  cat >"$CTX/Dockerfile" <<'EOF'
FROM busybox
RUN mkdir -p /opt/x && echo made > /opt/x/m && chmod 700 /opt/x && rm /etc/group
COPY dir /copied/
COPY --chown=1000:1000 file /owned
COPY --chmod=755 file /exec
ADD file /added/
RUN ln -s /opt/x /lnk && touch /empty
EOF
  differential
}
