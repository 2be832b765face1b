#!/usr/bin/env bats
# The Docker Engine API of `berth system service` driven by the Docker CLI 28
# (DOCKER_HOST=unix://...), each step as a user runs it; what is checked is what the client reads
# back and what the store holds (through berth's own command line, which shares the catalogue).
# One registry for the suite (Debian's docker-registry on 127.0.0.1), one service per test.

load api_helpers

setup_file() {
  registry_requires
  registry_start plain
}

teardown_file() {
  registries_stop
}

setup() {
  case $BATS_TEST_DESCRIPTION in
    *network*) api_setup net ;;
    *) api_setup ;;
  esac
}

teardown() {
  api_teardown
}

@test "api: version negotiation, /_ping, /version and /info answer for berth" {
  run docker version --format '{{.Server.APIVersion}} {{.Server.MinAPIVersion}} {{.Client.APIVersion}}'
  [ "$status" -eq 0 ]
  [ "$output" = "1.43 1.24 1.43" ] # the CLI negotiated down to what berth serves
  run api_curl -sI /_ping
  [[ $output == *"HTTP/1.1 200"* ]]
  [[ $output == *"Api-Version: 1.43"* ]]
  run docker info --format '{{.Driver}} {{.DefaultRuntime}} {{.CgroupVersion}}'
  [ "$status" -eq 0 ]
  cg=1
  [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ] && cg=2
  [ "$output" = "overlay2 berth-runtime $cg" ]
  # a version outside 1.24..1.43 is the client's error
  run api_curl -s -w '\n%{http_code}' /v1.99/version
  [ "${lines[-1]}" = 400 ]
  [[ ${lines[0]} == '{"message":'* ]]
}

@test "api: run -d, ps, logs -f, inspect, stop, rm — and berth's command line sees the same containers" {
  run docker run -d --name web bb sh -c 'echo started; echo to-stderr >&2; sleep 300'
  [ "$status" -eq 0 ]
  id=$output
  [[ $id =~ ^[0-9a-f]{64}$ ]]
  run docker ps --format '{{.ID}} {{.Names}} {{.Image}} {{.State}}'
  [ "$output" = "${id:0:12} web bb running" ]
  # made through the API, seen by the CLI; made by the CLI, seen through the API
  [ "$(berth ps --format '{{.Names}}')" = web ]
  berth run -d --name fromcli bb sleep 300 >/dev/null
  run docker ps --format '{{.Names}}'
  [ "$(sort <<<"$output" | tr '\n' ' ')" = "fromcli web " ]
  run docker inspect -f '{{.State.Running}} {{.Config.Image}} {{index .Config.Cmd 0}} {{.HostConfig.LogConfig.Type}}' web
  [ "$output" = "true bb sh json-file" ]
  both_logged() { [ "$(docker logs web 2>&1 | wc -l)" -eq 2 ]; }
  wait_until 30 both_logged # the container writes them after run -d returns
  run --separate-stderr docker logs web
  [ "$output" = started ]
  [ "$stderr" = to-stderr ]
  # logs -f follows until the container ends
  docker run -d --name short bb sh -c 'echo one; sleep 1; echo two' >/dev/null
  run docker logs -f short
  [ "$status" -eq 0 ]
  [ "$output" = "$(printf 'one\ntwo')" ]
  run docker logs --tail 1 short
  [ "$output" = two ]
  run docker stop -t 1 web
  [ "$status" -eq 0 ]
  [ "$output" = web ]
  [ "$(docker inspect -f '{{.State.Status}} {{.State.ExitCode}}' web)" = "exited 137" ]
  run docker rm web short
  [ "$output" = "$(printf 'web\nshort')" ]
  [ "$(berth ps -a --format '{{.Names}}')" = fromcli ]
  run docker rm fromcli
  [ "$status" -ne 0 ]
  [[ $output == *"container is running"* ]]
  docker rm -f fromcli >/dev/null
  [ -z "$(berth ps -aq)" ]
}

@test "api: exec -it under a pty, exec's streams and exit code, cp both ways, stats --no-stream" {
  docker run -d --name ctr bb sleep 300 >/dev/null
  # exec and --foreground: timeout stays in the terminal's foreground process group. Run by a
  # shell that forks it (script's $SHELL, /bin/sh when unset, as under CI), timeout makes a
  # group of its own, in the background: the CLI's first tcsetattr stops it (SIGTTOU), and
  # again after each SIGCONT, so the time-out never ends it
  run bash -c "printf 'echo in-a-tty; tty; exit 8\n' |
    script -qec 'exec timeout --foreground -k 5 60 /usr/local/bin/docker exec -it ctr sh' /dev/null"
  [ "$status" -eq 8 ]
  # a line of its own: the terminal's echo of the typed command has the words too
  grep -qxE $'in-a-tty\r?' <<<"$output"
  grep -qE $'^/dev/pts/[0-9]+\r?$' <<<"$output"
  # without a TTY: stdout and stderr multiplexed apart, the exit code passed on
  run --separate-stderr docker exec ctr sh -c 'echo out; echo err >&2; exit 3'
  [ "$status" -eq 3 ]
  [ "$output" = out ]
  [ "$stderr" = err ]
  run bash -c "echo piped | timeout 60 /usr/local/bin/docker exec -i ctr cat"
  [ "$output" = piped ]
  printf 'hello\n' >"$WORK/h"
  docker cp "$WORK/h" ctr:/tmp/h
  [ "$(docker exec ctr cat /tmp/h)" = hello ]
  [ "$(berth exec ctr cat /tmp/h)" = hello ]
  mkdir "$WORK/d" && echo deep >"$WORK/d/f"
  docker cp "$WORK/d" ctr:/tmp/
  [ "$(docker exec ctr cat /tmp/d/f)" = deep ]
  docker exec ctr sh -c 'mkdir /tmp/out && echo back >/tmp/out/x'
  docker cp ctr:/tmp/out "$WORK/"
  [ "$(cat "$WORK/out/x")" = back ]
  docker cp ctr:/etc/passwd "$WORK/passwd"
  cmp "$WORK/passwd" <(berth exec ctr cat /etc/passwd)
  run docker cp ctr:/no/such "$WORK/x"
  [ "$status" -ne 0 ]
  [[ $output == *"Could not find the file /no/such in container ctr"* ]]
  run docker stats --no-stream --format '{{.Name}} {{.PIDs}}' ctr
  [ "$status" -eq 0 ]
  [ "$output" = "ctr 1" ]
}

@test "api: images — tag, push to and pull from the local registry, save | load, rmi" {
  ref=$REG_PLAIN/api/bb:1
  id=$(docker image inspect -f '{{.Id}}' bb)
  docker tag bb "$ref"
  run docker push "$ref"
  [ "$status" -eq 0 ]
  [[ $output == *"1: digest: sha256:"*" size: "* ]]
  curl -sf "http://$REG_PLAIN/v2/api/bb/tags/list" | jq -e '.tags == ["1"]'
  run docker rmi "$ref"
  [ "$status" -eq 0 ]
  [[ $output == *"Untagged: $ref"* ]]
  run docker pull "$ref"
  [ "$status" -eq 0 ]
  [[ $output == *"Status: Downloaded newer image for $ref"* ]]
  [ "$(docker image inspect -f '{{.Id}}' "$ref")" = "$id" ]
  [ "$(berth images -q --no-trunc "$ref")" = "$id" ]
  run docker images --format '{{.Repository}}:{{.Tag}}'
  [[ $output == *"$ref"* ]]
  # save | load: the same image back under its name
  docker save bb >"$WORK/bb.tar"
  docker rmi "$ref" bb >/dev/null
  [ -z "$(berth images -q)" ]
  run bash -c "timeout 60 /usr/local/bin/docker load <'$WORK/bb.tar'"
  [ "$status" -eq 0 ]
  [[ $output == *"Loaded image: bb:latest"* ]]
  [ "$(docker image inspect -f '{{.Id}}' bb)" = "$id" ]
  run docker image inspect nosuch:tag
  [ "$status" -ne 0 ]
  [[ ${output,,} == *"no such image"*nosuch:tag* ]]
}

@test "api: docker build (the classic builder's /build): steps, RUN output, the cache, -q, tags; a failed build is an error and tags nothing" {
  mkdir -p "$WORK/ctx" "$WORK/bad"
  echo hi-there >"$WORK/ctx/hello.txt"
  printf 'FROM bb\nCOPY hello.txt /hello.txt\nRUN echo ran > /run.txt && cat /hello.txt\nCMD ["cat", "/hello.txt"]\n' \
    >"$WORK/ctx/Dockerfile"
  run --separate-stderr docker build -t built:1 "$WORK/ctx"
  [ "$status" -eq 0 ]
  [[ $output == *"Step 1/4 : FROM bb"*"Step 3/4 : RUN echo ran"*"hi-there"*"Successfully tagged built:1"* ]]
  [ "$(docker run --rm built:1)" = hi-there ]
  [ "$(docker run --rm built:1 cat /run.txt)" = ran ]
  id=$(docker image inspect -f '{{.Id}}' built:1)
  [ "$(berth images -q --no-trunc built:1)" = "$id" ]
  # again: every step from the cache; -q prints the image id alone
  run --separate-stderr docker build -t built:1 "$WORK/ctx"
  [[ $output == *"Step 3/4"*"Using cache"* ]]
  run --separate-stderr docker build -q "$WORK/ctx"
  [ "$output" = "$id" ]
  printf 'FROM bb\nRUN exit 3\n' >"$WORK/bad/Dockerfile"
  run docker build -t bad:1 "$WORK/bad"
  [ "$status" -ne 0 ]
  [[ $output == *"exit code: 3"* ]]
  run docker image inspect bad:1
  [ "$status" -ne 0 ]
  [ -z "$(berth ps -aq)" ]
}

@test "api: docker build --cache-from (cachefrom) serves the steps from a loaded image after the cache was pruned; bad cachefrom and platform values are 400s" {
  mkdir -p "$WORK/ctx"
  echo one >"$WORK/ctx/f"
  # a RUN step that runs prints out-42 (its text says out-$((6*7)))
  printf 'FROM bb\nRUN echo ran-one > /one; echo out-$((6*7))\nCOPY f /f\nRUN echo ran-two > /two\n' >"$WORK/ctx/Dockerfile"
  export DOCKER_BUILDKIT=0
  run --separate-stderr docker build -t seed "$WORK/ctx"
  [ "$status" -eq 0 ]
  docker save seed >"$WORK/seed.tar"
  docker rmi seed >/dev/null
  berth builder prune -f >/dev/null
  docker load -i "$WORK/seed.tar" >/dev/null
  # without --cache-from the loaded image is no cache: the RUN steps run
  run --separate-stderr docker build -t nope "$WORK/ctx"
  [ "$status" -eq 0 ]
  [[ $output == *"out-42"* ]]
  [[ $output != *"Using cache"* ]]
  docker rmi nope >/dev/null
  berth builder prune -f >/dev/null
  # with it: every step after FROM is served from seed, nothing runs, the layers are seed's
  run --separate-stderr docker build --cache-from seed -t again "$WORK/ctx"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(grep -c 'Using cache' <<<"$output")" -eq 3 ]
  [[ $output != *"out-42"* ]]
  [ "$(docker image inspect -f '{{json .RootFS.Layers}}' again)" = "$(docker image inspect -f '{{json .RootFS.Layers}}' seed)" ]
  run --separate-stderr docker run --rm again cat /one /f /two
  echo "stdout: $output; stderr: $stderr; status $status"
  [ "$output" = "$(printf 'ran-one\none\nran-two')" ]
  # a name that is not here: a warning, and the build goes on
  run --separate-stderr docker build --cache-from nosuch/image -t w "$WORK/ctx"
  [ "$status" -eq 0 ]
  [[ $output == *"--cache-from \`nosuch/image\`: no such image here"* ]]
  # the host's platform is accepted, another is not; cachefrom must be a JSON array of strings
  arch=$(docker version -f '{{.Server.Arch}}')
  run --separate-stderr docker build --platform "linux/$arch" -q "$WORK/ctx"
  [ "$status" -eq 0 ]
  tar -C "$WORK/ctx" -cf "$WORK/ctx.tar" .
  run api_curl -s -w '\n%{http_code}' -X POST -H 'Content-Type: application/x-tar' --data-binary "@$WORK/ctx.tar" \
    '/build?cachefrom=seed'
  [ "${lines[-1]}" = 400 ]
  [[ ${lines[0]} == *'cachefrom: expected a JSON array of image references'* ]]
  run api_curl -s -w '\n%{http_code}' -X POST -H 'Content-Type: application/x-tar' --data-binary "@$WORK/ctx.tar" \
    '/build?cachefrom=%5B1%5D'
  [ "${lines[-1]}" = 400 ]
  [[ ${lines[0]} == *'cachefrom[0]: expected a string'* ]]
  run api_curl -s -w '\n%{http_code}' -X POST -H 'Content-Type: application/x-tar' --data-binary "@$WORK/ctx.tar" \
    '/build?platform=windows/amd64'
  [ "${lines[-1]}" = 400 ]
  [[ ${lines[0]} == *'platform: `windows/amd64`'*'not supported'* ]]
  run api_curl -s -w '\n%{http_code}' -X POST -H 'Content-Type: application/x-tar' --data-binary "@$WORK/ctx.tar" \
    '/build?buildargs=%5B%5D'
  [ "${lines[-1]}" = 400 ]
  [[ ${lines[0]} == *'buildargs: expected a JSON object of strings'* ]]
  [ -z "$(berth ps -aq)" ]
}

@test "api: volume and network commands; containers on a user network reach each other by name" {
  [ "$(docker volume create v1)" = v1 ]
  docker run --rm -v v1:/data bb sh -c 'echo kept >/data/f'
  [ "$(docker run --rm -v v1:/data bb cat /data/f)" = kept ]
  [ "$(docker volume ls -q)" = v1 ]
  [ "$(berth volume ls -q)" = v1 ]
  mp=$(docker volume inspect -f '{{.Mountpoint}}' v1)
  [ "$(cat "$mp/f")" = kept ]
  docker network create n1 >/dev/null
  [ "$(docker network inspect -f '{{.Name}} {{.Driver}}' n1)" = "n1 bridge" ]
  docker run -d --name na --network n1 bb sleep 300 >/dev/null
  run docker run --rm --network n1 bb ping -c 1 -W 5 na
  [ "$status" -eq 0 ]
  docker run -d --name nb bb sleep 300 >/dev/null
  docker network connect n1 nb
  [ "$(docker inspect -f '{{with index .NetworkSettings.Networks "n1"}}{{.NetworkID}}{{end}}' nb)" = \
    "$(docker network inspect -f '{{.Id}}' n1)" ]
  # (nb started on the default network: its resolver is not n1's, as with Docker)
  ip=$(docker inspect -f '{{(index .NetworkSettings.Networks "n1").IPAddress}}' na)
  docker exec nb ping -c 1 -W 5 "$ip"
  docker network disconnect n1 nb
  run docker exec nb ping -c 1 -W 2 "$ip"
  [ "$status" -ne 0 ]
  run docker network rm n1
  [ "$status" -ne 0 ] # na is on it
  docker rm -f na nb >/dev/null
  docker network rm n1
  run docker volume rm v1
  [ "$status" -eq 0 ]
  [ -z "$(berth volume ls -q)" ]
  [ -z "$(docker network ls -q -f name=n1)" ]
}

@test "api: events while containers run, from the API and from berth's command line; a client gone mid-stream ends its connection" {
  # (the CLI itself, not the bounded wrapper: its pid is the client's). --since: a stream starts
  # at the newest event when its handler runs, which may come after e1's first events
  local since
  since=$(date +%s)
  /usr/local/bin/docker events --since "$since" --format '{{.Type}} {{.Action}} {{.Actor.Attributes.name}}' >"$WORK/events" 2>&1 &
  BG_PIDS+=($!)
  /usr/local/bin/docker events --since "$since" --filter container=e1 --format '{{.Action}}' >"$WORK/events-e1" 2>&1 &
  BG_PIDS+=($!)
  wait_until 30 api_conns_are 2
  docker run --rm --name e1 bb true
  berth run --rm --name e2 bb true
  wait_until 30 file_has "$WORK/events" "container destroy e2" || {
    cat "$WORK/events"
    sqlite3 "$BROOT/berth.db" 'SELECT seq, time, action, attributes FROM events'
    false
  }
  run cat "$WORK/events"
  [[ $output == *"container create e1"*"container start e1"*"container die e1"*"container destroy e1"* ]]
  [[ $output == *"container create e2"*"container start e2"*"container die e2"*"container destroy e2"* ]]
  wait_until 30 file_has "$WORK/events-e1" destroy
  [ "$(tr '\n' ' ' <"$WORK/events-e1")" = "create start die destroy " ]
  # the clients go away in the middle of their streams: so do their connections
  kill -9 "${BG_PIDS[@]}"
  wait_until 30 no_api_conns
}

@test "api: containers outlive the service; a restarted service serves them; the listener's socket is 0660 root's" {
  [ "$(stat -c '%a %U %G' "$API_SOCK")" = "660 root root" ]
  docker run -d --name keep bb sleep 300 >/dev/null
  pid=$(docker inspect -f '{{.State.Pid}}' keep)
  api_stop
  [ "$(berth inspect -f '{{.State.Running}} {{.State.Pid}}' keep)" = "true $pid" ]
  api_start
  [ "$(docker inspect -f '{{.State.Running}} {{.State.Pid}}' keep)" = "true $pid" ]
  [ "$(docker exec keep echo still)" = still ]
  docker rm -f keep >/dev/null
}
