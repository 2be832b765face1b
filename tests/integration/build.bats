#!/usr/bin/env bats
# berth build (issue 15): the article's Dockerfile and its history, the cache (hits start no
# container, one changed file invalidates exactly the steps after its COPY, --no-cache, builder
# prune), instructions and their effects at run time. Every test's teardown fails it when a step
# directory, runtime state, cgroup, mount or container is left (build_helpers.bash).

load build_helpers

setup_file() {
  ctr_setup_file
}

setup() {
  build_setup
}

teardown() {
  if [ -n "${BG_BERTH:-}" ]; then # the SIGKILL test's berth, when it failed early
    kill -KILL "$BG_BERTH" 2>/dev/null || true
    wait "$BG_BERTH" 2>/dev/null || true
    sleep 2 # its watchdog kills the container
  fi
  build_teardown
}

article() {
  cat >"$CTX/Dockerfile" <<'EOF'
FROM busybox
RUN mkdir /data
RUN echo "Hello world" > /data/myfile
RUN echo "Goodbye world" > /data/myfile
RUN echo "Hello again" > /data/myfile2
EOF
}

@test "build: the article's Dockerfile — an image whose history has each step, its size and comment" {
  article
  run bld -t article "$CTX"
  [ "$status" -eq 0 ]
  grep -q '^#2 \[2/5\] RUN mkdir /data$' <<<"$output"
  grep -q '^#5 DONE ' <<<"$output"
  grep -q 'naming to article done' <<<"$output"
  run berth run --rm article sh -c 'cat /data/myfile /data/myfile2'
  [ "$output" = "$(printf 'Goodbye world\nHello again')" ]
  run berth history --format '{{.CreatedBy}}|{{.Size}}|{{.Comment}}' --no-trunc article
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = 'RUN /bin/sh -c echo "Hello again" > /data/myfile2 # buildkit|12B|buildkit.dockerfile.v0' ]
  [ "${lines[1]}" = 'RUN /bin/sh -c echo "Goodbye world" > /data/myfile # buildkit|14B|buildkit.dockerfile.v0' ]
  [ "${lines[2]}" = 'RUN /bin/sh -c echo "Hello world" > /data/myfile # buildkit|12B|buildkit.dockerfile.v0' ]
  [ "${lines[3]}" = 'RUN /bin/sh -c mkdir /data # buildkit|0B|buildkit.dockerfile.v0' ]
  [ "${#lines[@]}" -eq 5 ]
  # every step's image is the parent of the next (docker history shows their ids)
  run berth history -q article
  [ "${#lines[@]}" -eq 5 ]
  [[ ${lines[4]} != "<missing>" ]]
  run berth image inspect -f '{{len .RootFS.Layers}}' article
  [ "$output" = 5 ]
  # the layers hold what the commands did and nothing the runtime made (/etc/hosts, /proc...)
  run berth diff "$(berth create article)"
  run berth image inspect -f '{{range .RootFS.Layers}}{{println .}}{{end}}' article
  local top
  top=$(berth history -q article | head -1)
  [ -n "$top" ]
}

@test "build: a second build hits the cache for every step and starts no container" {
  article
  bld -t a1 "$CTX" >/dev/null
  id=$(image_id a1)
  rm -rf "$BRUN/builds/runtime"
  run bld -t a2 "$CTX"
  [ "$status" -eq 0 ]
  [ "$(grep -c CACHED <<<"$output")" -eq 4 ]
  ! grep -q '^#[2-5] DONE' <<<"$output" || false
  [ "$(image_id a2)" = "$id" ]
  [ ! -e "$BRUN/builds/runtime" ] # the runtime never ran
}

@test "build: a changed file invalidates exactly the steps after its COPY; --no-cache runs everything" {
  echo one >"$CTX/a"
  echo keep >"$CTX/b"
  cat >"$CTX/Dockerfile" <<'EOF'
FROM busybox
RUN echo first > /first
COPY b /b
COPY a /a
RUN cat /a > /copy
ENV X=1
EOF
  bld -t c "$CTX" >/dev/null
  run berth run --rm c cat /copy
  [ "$output" = one ]
  touch -d '2001-01-01' "$CTX/a" "$CTX/b" # mtimes are not in the key
  run bld -t c "$CTX"
  [ "$(grep -c CACHED <<<"$output")" -eq 5 ]
  echo two >"$CTX/a"
  run bld -t c "$CTX"
  [ "$status" -eq 0 ]
  grep -q '^#2 CACHED' <<<"$output"
  grep -q '^#3 CACHED' <<<"$output"
  grep -q '^#4 DONE' <<<"$output"
  grep -q '^#5 DONE' <<<"$output"
  grep -q '^#6 DONE' <<<"$output"
  run berth run --rm c cat /copy
  [ "$output" = two ]
  chmod 600 "$CTX/b" # metadata is in the key
  run bld -t c "$CTX"
  grep -q '^#3 DONE' <<<"$output"
  run bld --no-cache -t c "$CTX"
  [ "$(grep -c CACHED <<<"$output")" -eq 0 ]
}

@test "build: builder prune forgets the cache; the build runs again and the tagged image stays" {
  article
  bld -t p "$CTX" >/dev/null
  [ -n "$(ls "$BROOT/builds/cache")" ]
  run berth builder prune -f
  [ "$status" -eq 0 ]
  grep -q '^Deleted build cache objects: 4$' <<<"$output"
  [ -z "$(ls "$BROOT/builds/cache")" ]
  berth run --rm p cat /data/myfile2
  run bld -t p "$CTX"
  [ "$(grep -c CACHED <<<"$output")" -eq 0 ]
  # an untagged build's images go with the prune (its result, listed, and its RUN step, which is
  # the cache's and never listed), the tagged one's stay
  printf 'FROM busybox\nRUN echo other > /other\nENV A=1\n' >"$CTX/Dockerfile"
  bld --iidfile "$CTR_DIR/iid" "$CTX" >/dev/null
  local step
  step=$(berth image inspect -f '{{.Parent}}' "$(cat "$CTR_DIR/iid")")
  berth image inspect "$step" >/dev/null
  n=$(berth images -aq | wc -l)
  run berth builder prune -f
  [ "$status" -eq 0 ]
  [ "$(berth images -aq | wc -l)" -eq $((n - 1)) ]
  run berth image inspect "$step"
  [ "$status" -ne 0 ]
  berth run --rm p cat /data/myfile2
}

@test "build: ENV ARG WORKDIR USER CMD ENTRYPOINT EXPOSE LABEL VOLUME STOPSIGNAL HEALTHCHECK MAINTAINER SHELL" {
  cat >"$CTX/Dockerfile" <<'EOF'
FROM busybox
MAINTAINER someone
ARG WHO=world
ENV GREETING="hello ${WHO}" PATH=/usr/local/bin:$PATH
RUN echo 'user:x:1000:1000:user:/home/user:/bin/sh' >> /etc/passwd && mkdir -p /home/user && chown 1000 /home/user
WORKDIR /app
WORKDIR sub
USER user
RUN id -u > /home/user/uid && pwd > /home/user/pwd && echo "$GREETING $WHO" > /home/user/env
SHELL ["/bin/sh", "-ec"]
RUN test "$(id -u)" = 1000
EXPOSE 80 53/udp
LABEL a=b "c d"=e
VOLUME /data
STOPSIGNAL SIGQUIT
HEALTHCHECK --interval=5s --retries=2 CMD true
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["id -un; pwd; echo $GREETING"]
EOF
  run bld --build-arg WHO=berth -t cfg "$CTX"
  [ "$status" -eq 0 ]
  run berth run --rm cfg
  [ "$status" -eq 0 ]
  [ "$output" = "$(printf 'user\n/app/sub\nhello berth')" ]
  run berth run --rm cfg 'cat /home/user/uid /home/user/pwd /home/user/env'
  [ "$output" = "$(printf '1000\n/app/sub\nhello berth berth')" ]
  run jq -c '[.config.User, .config.WorkingDir, .config.ExposedPorts, .config.Labels, .config.Volumes,
    .config.StopSignal, .config.Healthcheck, .author, .config.Entrypoint, .config.Shell]' < <(image_config cfg)
  [ "$output" = '["user","/app/sub",{"53/udp":{},"80/tcp":{}},{"a":"b","c d":"e"},{"/data":{}},"SIGQUIT",{"Interval":5000000000,"Retries":2,"Test":["CMD-SHELL","true"]},"someone",["/bin/sh","-c"],["/bin/sh","-ec"]]' ]
  # the ARG reached RUN, and the history says so; it is not in the image's environment
  berth history --no-trunc --format '{{.CreatedBy}}' cfg | grep -q '^RUN |1 WHO=berth /bin/sh -c id -u'
  ! berth image inspect -f '{{json .Config.Env}}' cfg | grep -q WHO= || false
}

@test "build: bad input names the file and line, and tags nothing" {
  printf 'FROM busybox\nRUN true\nFOOBAR x\n' >"$CTX/Dockerfile"
  run bld -t bad "$CTX"
  [ "$status" -ne 0 ]
  grep -q 'Dockerfile:3' <<<"$output"
  grep -qi 'unknown instruction' <<<"$output"
  printf 'FROM busybox\nCOPY --nope x /x\n' >"$CTX/Dockerfile"
  run bld -t bad "$CTX"
  [ "$status" -ne 0 ]
  grep -q 'Dockerfile:2' <<<"$output"
  # a missing file in COPY
  printf 'FROM busybox\nCOPY missing /x\n' >"$CTX/Dockerfile"
  run bld -t bad "$CTX"
  [ "$status" -ne 0 ]
  grep -q 'Dockerfile:2' <<<"$output"
  grep -q 'missing' <<<"$output"
  # escaping the context through .. or a symlink
  printf 'FROM busybox\nCOPY ../etc/passwd /x\n' >"$CTX/Dockerfile"
  run bld -t bad "$CTX"
  [ "$status" -ne 0 ]
  ln -s /etc "$CTX/link"
  printf 'FROM busybox\nCOPY link/passwd /x\n' >"$CTX/Dockerfile"
  run bld -t bad "$CTX"
  [ "$status" -ne 0 ]
  grep -q 'escapes the build context' <<<"$output"
  run berth image inspect bad
  [ "$status" -ne 0 ]
}

@test "build: a failing RUN shows its output and exit code; nothing is tagged or left" {
  printf 'FROM busybox\nRUN echo about to fail; exit 3\nRUN echo never\n' >"$CTX/Dockerfile"
  run bld -t fail "$CTX"
  [ "$status" -ne 0 ]
  grep -q '^#2 [0-9.]* about to fail$' <<<"$output"
  grep -q 'did not complete successfully: exit code: 3' <<<"$output"
  grep -q 'Dockerfile:2' <<<"$output"
  ! grep -q never <<<"$output" || false
  run berth image inspect fail
  [ "$status" -ne 0 ]
  [ -z "$(build_left)" ]
}

@test "build: a failing RUN's partial layer is discarded; the steps before it are kept only as cache" {
  local before
  before=$(berth images -a -q | sort -u)
  printf 'FROM busybox\nRUN echo one > /one\nRUN touch /partial; echo failing; exit 3\n' >"$CTX/Dockerfile"
  run bld -t fail "$CTX"
  [ "$status" -ne 0 ]
  grep -q 'exit code: 3' <<<"$output"
  # nothing tagged, nothing listed: the completed step is the build cache's (BuildKit's images
  # show none after a failed build), not a dangling <none> image
  run berth image inspect fail
  [ "$status" -ne 0 ]
  [ "$(berth images -a -q | sort -u)" = "$before" ]
  # the failing step was not cached: it runs again (its output again); the step before is a hit
  run bld -t fail "$CTX"
  [ "$status" -ne 0 ]
  grep -q '^#2 CACHED$' <<<"$output"
  grep -q '^#3 [0-9.]* failing$' <<<"$output"
  # fixed: the cached step is reused and its partial file is in no layer
  printf 'FROM busybox\nRUN echo one > /one\nRUN echo fixed > /fixed\n' >"$CTX/Dockerfile"
  run bld -t fixed "$CTX"
  [ "$status" -eq 0 ]
  grep -q '^#2 CACHED$' <<<"$output"
  run berth run --rm fixed sh -c 'cat /one /fixed; ls /partial'
  [ "${lines[0]}" = one ]
  [ "${lines[1]}" = fixed ]
  grep -q 'No such file' <<<"$output"
  # the build's result is listed; its steps are not
  [ "$(berth images -a -q | sort -u)" = "$(printf '%s\n' $before "$(berth images -q fixed)" | sort -u)" ]
  [ -z "$(build_left)" ]
}

# interrupt_build PATTERN [BUILD-OPTION...]: a build whose RUN sleeps 40 minutes, SIGINT to berth
# once its output has a line matching PATTERN (extended regex); the build stops at once and
# leaves nothing
interrupt_build() {
  local pattern=$1
  shift
  printf 'FROM busybox\nRUN echo started; sleep 2417\n' >"$CTX/Dockerfile"
  berth build --progress plain "$@" -t int "$CTX" >"$CTR_DIR/out" 2>&1 &
  local pid=$!
  wait_until 30 grep -qE "$pattern" "$CTR_DIR/out"
  local p
  for p in $(pgrep -x berth); do # berth itself (not the timeout around it)
    tr '\0' ' ' <"/proc/$p/cmdline" | grep -q -- "--runroot $BRUN build" && kill -INT "$p"
  done
  local t0=$SECONDS
  wait "$pid" || true
  [ $((SECONDS - t0)) -lt 20 ] # not the sleep's 40 minutes: its container was killed
  grep -q interrupted "$CTR_DIR/out"
  run pgrep -f 'sleep 2417'
  [ "$status" -ne 0 ]
  run berth image inspect int
  [ "$status" -ne 0 ]
  [ -z "$(build_left)" ]
}

@test "build: SIGINT during a RUN stops the build and leaves nothing" {
  interrupt_build '^#2 [0-9.]+ started$' # the step's own output: its container runs
}

@test "build: SIGINT as a RUN step begins, before its container exists, still kills that container" {
  # a runtime that takes two seconds to start the container: the interrupt comes first
  local slow=$CTR_DIR/slow-runtime real=$(dirname "$BERTH")/berth-runtime
  [ -x "$real" ] || real=$(dirname "$BERTH")/../runtime/berth-runtime # the build tree
  printf '#!/bin/sh\n[ "$3" = run ] && { echo ran >"%s"; sleep 2; }\nexec "%s" "$@"\n' \
    "$CTR_DIR/slow-ran" "$real" >"$slow"
  chmod +x "$slow"
  interrupt_build '^#2 \[2/2\] RUN ' --runtime "$slow" # the step's header: before the runtime
  [ -s "$CTR_DIR/slow-ran" ]
}

@test "build: --runtime picks the runtime of RUN steps: runc works, a missing one is a clear error" {
  printf 'FROM busybox\nRUN echo by-runc >/by\n' >"$CTX/Dockerfile"
  run berth build -q --runtime /nonexistent/runc -t rt "$CTX"
  [ "$status" -ne 0 ]
  grep -q -- '--runtime: `/nonexistent/runc` is not an executable file' <<<"$output"
  run berth image inspect rt
  [ "$status" -ne 0 ]
  run bld --runtime runc -t rt "$CTX"
  [ "$status" -eq 0 ]
  run berth run --rm rt cat /by
  [ "$output" = by-runc ]
  [ -z "$(build_left)" ]
}

@test "build: SIGKILL during a RUN kills the step's container too; system check --repair removes what is left" {
  printf 'FROM busybox\nRUN echo started; sleep 3217\n' >"$CTX/Dockerfile"
  "$BERTH" --root "$BROOT" --runroot "$BRUN" build --progress plain -t killed "$CTX" >"$CTR_DIR/out" 2>&1 3>&- &
  local pid=$!
  BG_BERTH=$pid # killed by the teardown if the test fails before it does
  wait_until 60 grep -qE '^#2 [0-9.]+ started$' "$CTR_DIR/out" # the container's own output
  # the step's shell prints 'started' before it forks sleep: wait for sleep itself
  wait_until 30 pgrep -f 'sleep 3217' >/dev/null
  [ -n "$(build_mounts_anywhere)" ] # the step's overlay, in its private namespace
  kill -KILL "$pid"
  wait "$pid" || true
  BG_BERTH=
  # the container dies with berth (bounded wait: a container left running fails the test)
  local i
  for i in $(seq 300); do
    pgrep -f 'sleep 3217' >/dev/null || break
    sleep 0.1
  done
  run pgrep -f 'sleep 3217'
  [ "$status" -ne 0 ]
  for i in $(seq 300); do
    [ -z "$(build_mounts_anywhere)" ] && [ -z "$(find "$BRUN/builds/runtime" -mindepth 1 -maxdepth 1 ! -name '.*')" ] && break
    sleep 0.1
  done
  [ -z "$(build_mounts_anywhere)" ]
  run berth image inspect killed
  [ "$status" -ne 0 ]
  # what a SIGKILL cannot clean: the step directory; system check finds it, --repair removes it
  run berth system check
  grep -q 'step directory .* of a build that was killed' <<<"$output"
  run berth system check --repair
  grep -q '^repaired: step directory' <<<"$output"
  [ -z "$(build_left)" ]
  # the next build works
  printf 'FROM busybox\nRUN echo fine\n' >"$CTX/Dockerfile"
  run bld -t fine "$CTX"
  [ "$status" -eq 0 ]
}

@test "build: --cache-from an image built by berth (saved, removed, loaded again) seeds the cache" {
  echo one >"$CTX/f"
  printf 'FROM busybox\nRUN echo one > /one\nCOPY f /f\nENV X=1\nRUN echo two > /two\n' >"$CTX/Dockerfile"
  bld -t seed "$CTX" >/dev/null
  berth save seed >"$CTR_DIR/seed.tar"
  # nothing of the build is left but the image in the archive
  berth rmi seed >/dev/null
  berth builder prune -f >/dev/null
  [ -z "$(ls "$BROOT/builds/cache")" ]
  berth load -i "$CTR_DIR/seed.tar" >/dev/null
  # without --cache-from: the loaded image is no cache (a loaded image has no parent chain)
  run bld -t nope "$CTX"
  [ "$status" -eq 0 ]
  grep -q '^#2 DONE' <<<"$output"
  berth builder prune -f >/dev/null
  berth rmi nope >/dev/null
  # with it: every step is a hit and no container runs
  rm -rf "$BRUN/builds/runtime"
  run bld -t again --cache-from seed "$CTX"
  [ "$status" -eq 0 ]
  [ "$(grep -c '^#[2-5] CACHED$' <<<"$output")" -eq 4 ]
  ! grep -q '^#[2-5] DONE' <<<"$output" || false
  [ ! -e "$BRUN/builds/runtime" ]
  run berth run --rm again cat /one /f /two
  [ "$output" = "$(printf 'one\none\ntwo')" ]
  [ "$(berth image inspect -f '{{json .RootFS.Layers}}' again)" = "$(berth image inspect -f '{{json .RootFS.Layers}}' seed)" ]
  # a changed file: the steps before its COPY come from the image, the rest run
  berth builder prune -f >/dev/null
  berth rmi again >/dev/null
  echo changed >"$CTX/f"
  run bld -t changed --cache-from seed "$CTX"
  [ "$status" -eq 0 ]
  grep -q '^#2 CACHED$' <<<"$output"
  grep -q '^#3 DONE' <<<"$output"
  grep -q '^#5 DONE' <<<"$output"
  run berth run --rm changed cat /f
  [ "$output" = changed ]
  # a name that is not here: a warning, and the build goes on
  run bld -t w --cache-from nosuch/image "$CTX"
  [ "$status" -eq 0 ]
  grep -q "WARNING: --cache-from \`nosuch/image\`: no such image here" <<<"$output"
}
