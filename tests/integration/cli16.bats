#!/usr/bin/env bats
# Issue 16's commands as a Docker user sees them: commit (-c, -m, -a, --pause) and diff, update
# of a running container (its cgroup, config.json, the row) and of its restart policy, info and
# version (--format), events (past, filtered, formatted, followed live as other berth processes
# act), system prune (-a, --volumes, --filter until=/label=), system df's containers and volumes,
# the group aliases (container ls, image ls, container export, system info ...), completion
# scripts made from the command tables, system boot and generate systemd.

load containers_helpers

setup_file() {
  ctr_setup_file
}

setup() {
  ctr_setup
}

teardown() {
  ctr_teardown
}

run_sleeper() {
  berth run -d --name "$1" "${@:2}" bb sh -c 'trap "exit 0" TERM; while :; do sleep 0.1; done' >/dev/null
  wait_for "$1" '{{.State.Status}}' running
}

# the value of a cgroup file of a running container (v2, else the v1 hierarchy of the controller)
cgroup_value() { # NAME V1CONTROLLER V1FILE V2FILE
  local id
  id=$(berth inspect -f '{{.Id}}' "$1")
  if [ -f "/sys/fs/cgroup/berth/$id/$4" ]; then
    cat "/sys/fs/cgroup/berth/$id/$4"
  else
    cat "/sys/fs/cgroup/$2/berth/$id/$3"
  fi
}

@test "diff and commit: Docker's A/C/D, -c -m -a, the new image runs with the changes" {
  run_sleeper c1
  berth exec c1 sh -c 'echo hi >/tmp/x; rm /etc/group; mkdir /newdir'
  run berth diff c1
  [ "$status" -eq 0 ]
  [[ $output == *"A /tmp/x"* && $output == *"D /etc/group"* && $output == *"C /etc"* && $output == *"A /newdir"* ]]
  run berth container diff c1
  [[ $output == *"A /tmp/x"* ]]
  id=$(berth commit -m 'the message' -a 'Jo <jo@example.com>' -c 'ENV A=1' -c 'CMD ["cat", "/tmp/x"]' \
    -c 'LABEL k=v' c1 snap:1)
  [[ $id == sha256:* ]]
  [ "$(berth inspect -f '{{.Author}}|{{.Comment}}|{{index .Config.Labels "k"}}' snap:1)" = 'Jo <jo@example.com>|the message|v' ]
  [ "$(berth run --rm snap:1)" = hi ]
  [ "$(berth run --rm snap:1 sh -c 'echo $A; ls /etc/group 2>&1')" = "$(printf '1\nls: /etc/group: No such file or directory')" ]
  # the container ran on (paused for the commit by default, running after it)
  [ "$(berth inspect -f '{{.State.Status}}' c1)" = running ]
  berth container commit --pause=false c1 snap:2 >/dev/null
  [ "$(berth run --rm snap:2 cat /tmp/x)" = hi ]
  berth history snap:1 | grep -q 'the message'
  # a stopped container too; no reference: an untagged image
  berth stop c1 >/dev/null
  id=$(berth commit c1)
  [ "$(berth run --rm "$id" cat /tmp/x)" = hi ]
  # events: the commit
  berth events --since 5m --until 0s --filter event=commit --format '{{.Actor.Attributes.imageRef}}' | grep -q snap
  # bad input: named, nothing made
  n=$(berth images -q | wc -l)
  run berth commit nosuch x:1
  [ "$status" -ne 0 ]
  [[ $output == *nosuch* ]]
  run berth commit -c 'BOGUS x' c1 x:2
  [ "$status" -ne 0 ]
  [[ $output == *BOGUS* ]]
  [ "$(berth images -q | wc -l)" -eq "$n" ]
  berth rmi snap:1 snap:2 "$id" >/dev/null
}

@test "update: a running container's limits in its cgroup and inspect; kept for the next start" {
  run_sleeper u1 --memory 128m
  run berth update --memory 64m --memory-swap 96m --cpus 0.5 --pids-limit 40 --cpu-shares 512 u1
  [ "$status" -eq 0 ]
  [ "$output" = u1 ]
  [ "$(cgroup_value u1 memory memory.limit_in_bytes memory.max)" = 67108864 ]
  [ "$(cgroup_value u1 pids pids.max pids.max)" = 40 ]
  v=$(cgroup_value u1 cpu cpu.cfs_quota_us cpu.max)
  [ "${v%% *}" = 50000 ]
  [ "$(berth inspect -f '{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}} {{.HostConfig.NanoCpus}} {{.HostConfig.PidsLimit}} {{.HostConfig.CpuShares}}' u1)" = "67108864 100663296 500000000 40 512" ]
  # the next start has them (config.json rewritten)
  berth restart -t 5 u1 >/dev/null
  wait_for u1 '{{.State.Status}}' running
  [ "$(cgroup_value u1 memory memory.limit_in_bytes memory.max)" = 67108864 ]
  # a stopped container: kept for its start
  berth stop u1 >/dev/null
  berth container update -m 48m u1 >/dev/null
  berth start u1 >/dev/null
  [ "$(cgroup_value u1 memory memory.limit_in_bytes memory.max)" = 50331648 ]
  berth events --since 5m --until 0s --filter event=update --filter container=u1 --format '{{.Action}}' | grep -qx update
  # usage: no flag, a bad value, an unknown container; a refused flag names itself
  run -125 berth update u1
  [[ $output == *"one or more flags"* ]]
  run -125 berth update --memory lots u1
  [[ $output == *--memory* ]]
  run -125 berth update --kernel-memory 10m u1
  [[ $output == *"--kernel-memory"*"not supported"* ]]
  run berth update --memory 10m nosuch
  [ "$status" -eq 1 ]
  [[ $output == *nosuch* ]]
}

@test "update --restart: the policy of a running container applies at its next exit" {
  run_sleeper r1
  berth update --restart on-failure:2 r1 >/dev/null
  [ "$(berth inspect -f '{{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}' r1)" = on-failure:2 ]
  pid=$(berth inspect -f '{{.State.Pid}}' r1)
  kill -9 "$pid" # from outside: not a `berth kill`, so the policy holds (Docker's rule)
  wait_for r1 '{{.RestartCount}}' 1
  wait_for r1 '{{.State.Status}}' running
  [ "$(berth inspect -f '{{.State.Pid}}' r1)" != "$pid" ]
  # --rm and a restart policy do not go together
  berth run -d --rm --name r2 bb sleep 100 >/dev/null
  run berth update --restart always r2
  [ "$status" -ne 0 ]
  [[ $output == *AutoRemove* ]]
}

@test "info and version: Docker's fields, --format templates and json" {
  run_sleeper i1
  berth create --name i2 bb true >/dev/null
  [ "$(berth info --format '{{.Containers}} {{.ContainersRunning}} {{.ContainersStopped}} {{.Images}}')" = "2 1 1 1" ]
  [ "$(berth system info -f '{{.DockerRootDir}}')" = "$BROOT" ]
  berth info --format json | jq -e '.NCPU > 0 and .OSType == "linux" and (.ID | length) == 64' >/dev/null
  # the ID is the store's, the same on every call
  [ "$(berth info -f '{{.ID}}')" = "$(berth info -f '{{.ID}}')" ]
  run berth info
  [[ $output == *"Containers: 2"* && $output == *"Running: 1"* && $output == *"Storage Driver: overlay"* ]]
  [ "$(berth version --format '{{.Client.Version}}')" = "$("$BERTH" --version | awk '{print $3}')" ]
  berth version --format json | jq -e '.Server.Components[1].Name == "berth-runtime"' >/dev/null
  run berth version
  [[ $output == *"Client:"* && $output == *"Server: berth"* ]]
  run berth info --format '{{.Nope'
  [ "$status" -ne 0 ]
  [[ $output == *":1:7: unclosed action"* ]]
}

@test "events: recorded by every berth process, filtered, formatted, followed live" {
  since=$(date +%s)
  run_sleeper e1 --label team=a
  berth volume create ev1 >/dev/null
  berth stop e1 >/dev/null
  berth rm e1 >/dev/null
  run berth events --since "$since" --until 0s --filter type=container --format '{{.Action}} {{.Actor.Attributes.name}} {{.Actor.Attributes.team}}'
  [ "$status" -eq 0 ]
  [[ $output == *"create e1 a"*"start e1 a"*"kill e1 a"*"die e1 a"*"stop e1 a"*"destroy e1 a"* ]]
  [ "$(berth events --since "$since" --until 0s --filter type=volume --format '{{.Type}} {{.Action}} {{.Actor.ID}}')" = "volume create ev1" ]
  [ "$(berth system events --since "$since" --until 0s --filter event=die --filter label=team=a --format '{{.Action}}')" = die ]
  # the default line: time, type, action, id, attributes
  berth events --since "$since" --until 0s --filter event=destroy | grep -Eq '^[0-9-]+T[0-9:.]+.* container destroy [0-9a-f]{64} \(.*name=e1'
  # followed: once the follower printed what was recorded (so it is reading), another berth
  # process's events appear as they are recorded, and it goes on following
  out=$BATS_TEST_TMPDIR/ev
  start=$(date +%s)
  berth volume create m1 >/dev/null
  "$BERTH" --root "$BROOT" --runroot "$BRUN" events --since "$start" --filter volume=m1 --filter volume=m2 --filter event=create \
    --format '{{.Actor.ID}}' >"$out" 2>&1 3>&- &
  follower=$!
  for _ in $(seq 300); do grep -q m1 "$out" && break; sleep 0.1; done
  grep -qx m1 "$out"
  berth volume create m2 >/dev/null
  for _ in $(seq 300); do grep -q m2 "$out" && break; sleep 0.1; done
  kill -0 "$follower" # still following
  kill "$follower"
  wait "$follower" || true
  [ "$(cat "$out" | tr '\n' ' ')" = "m1 m2 " ]
  # bad input names the flag
  run -125 berth events --since yesterday
  [[ $output == *--since* ]]
  run -125 berth events --filter nokey=1
  [[ $output == *--filter* ]]
}

@test "system prune: stopped containers, unused networks and images; -a, --volumes, until= and label=" {
  berth import "$CTR_TAR" other:1 >/dev/null
  berth create --name p1 -v anon:/data bb true >/dev/null
  berth create --name p2 --label keep=yes bb true >/dev/null
  berth volume create loose >/dev/null
  run_sleeper p3
  # label!=: p2 stays
  run berth system prune -f --filter label!=keep=yes
  [ "$status" -eq 0 ]
  [[ $output == *"Deleted Containers:"* ]]
  [ "$(berth ps -a --format '{{.Names}}' | sort | tr '\n' ' ')" = "p2 p3 " ]
  # until= in the future leaves nothing younger out; in the past keeps everything
  run berth system prune -f --filter until=24h
  [ "$(berth ps -a --format '{{.Names}}' | sort | tr '\n' ' ')" = "p2 p3 " ]
  # -a: images no container uses; --volumes: unused anonymous ones (loose is named: kept)
  berth volume ls -q | grep -qx anon || true
  run berth system prune -f -a --volumes
  [ "$status" -eq 0 ]
  [[ $output == *"Total reclaimed space:"* ]]
  [ "$(berth ps -a --format '{{.Names}}')" = p3 ]
  run berth image inspect other:1
  [ "$status" -ne 0 ]
  berth image inspect bb >/dev/null # p3 uses it
  berth volume inspect loose >/dev/null
  run -125 berth system prune -f --filter bogus=1
  [[ $output == *bogus* ]]
  run berth system prune -f --volumes --filter until=1h
  [ "$status" -ne 0 ]
  [[ $output == *until* ]]
  # without -f it asks; no answer: nothing removed
  berth create --name p4 bb true >/dev/null
  run berth system prune </dev/null
  [[ $output == *"Are you sure"* ]]
  berth inspect p4 >/dev/null
}

@test "system df counts containers (running active) and volumes (in use active)" {
  run_sleeper d1 -v used:/data
  berth exec d1 sh -c 'head -c 100000 /dev/zero >/big; head -c 50000 /dev/zero >/data/f'
  berth create --name d2 bb true >/dev/null
  berth volume create idle >/dev/null
  run berth system df --format '{{.Type}} {{.TotalCount}} {{.Active}}'
  [ "$status" -eq 0 ]
  [[ $output == *"Containers 2 1"* ]]
  [[ $output == *"Local Volumes 2 1"* ]]
  size=$(berth system df --format '{{if eq .Type "Containers"}}{{.Size}}{{end}}' | tr -d '\n')
  [[ $size == 10[0-9]*kB ]]
}

@test "group aliases: container ls/export/commit/diff/update, image ls, system info/events/prune" {
  run_sleeper a1
  [ "$(berth container ls --format '{{.Names}}')" = a1 ]
  [ "$(berth container list --format '{{.Names}}')" = a1 ]
  [ "$(berth image ls --format '{{.Repository}}')" = bb ]
  [ "$(berth image list -q)" = "$(berth images -q)" ]
  berth container export a1 | tar -t | grep -qx './bin/busybox\|bin/busybox'
  berth container export -o "$BATS_TEST_TMPDIR/a1.tar" a1
  tar -tf "$BATS_TEST_TMPDIR/a1.tar" | grep -q 'bin/busybox'
  berth system info -f '{{.Containers}}' | grep -qx 1
  run berth container --help
  for c in commit diff export update; do [[ $output == *"  $c "* ]]; done
  run berth --help
  for c in commit diff update events info version completion generate; do [[ $output == *"  $c "* ]]; done
}

@test "completion: bash and zsh scripts from the command tables, flags from each command's own" {
  script=$BATS_TEST_TMPDIR/c.bash
  berth completion bash >"$script"
  complete_words() {
    bash -c "source '$script'; COMP_WORDS=($1); COMP_CWORD=\$((\${#COMP_WORDS[@]} - 1)); _berth; echo \"\${COMPREPLY[*]}\""
  }
  [ "$(complete_words "berth contain")" = container ]
  [[ " $(complete_words "berth container ''") " == *" ls "*" update "* ]]
  [[ " $(complete_words "berth run --hea") " == *" --health-cmd "* ]]
  [[ " $(complete_words "berth container ls --no") " == *" --no-trunc "* ]]
  [[ " $(complete_words "berth system pr") " == *" prune "* ]]
  [[ " $(complete_words "berth update --cpu") " == *" --cpus "* ]]
  # every command of `berth --help` completes
  for c in $(berth --help | awk '/^Commands:/{f=1;next} /^$/{f=0} f{print $1}'); do
    [[ " $(complete_words "berth ''") " == *" $c "* ]]
  done
  run berth completion zsh
  [ "$status" -eq 0 ]
  [[ ${lines[0]} == "#compdef berth" ]]
  if command -v zsh >/dev/null; then zsh -n <(berth completion zsh); fi
  run -125 berth completion fish
  [[ $output == *fish* ]]
}

@test "system boot starts always/unless-stopped containers whose monitor is gone, once; generate systemd" {
  run_sleeper b1 --restart always
  run_sleeper b2 --restart unless-stopped
  run_sleeper b3 --restart unless-stopped
  run_sleeper b4
  berth stop b3 >/dev/null # by hand: unless-stopped stays down
  # a reboot: the monitors and the containers are gone, the rows are not
  for n in b1 b2 b4; do
    id=$(berth inspect -f '{{.Id}}' "$n")
    pid=$(berth inspect -f '{{.State.Pid}}' "$n")
    mon=$(pgrep -f "berth-monitor .*--id $id")
    kill -9 "$mon" "$pid"
  done
  for n in b1 b2 b4; do wait_for "$n" '{{.State.Status}}' dead; done
  run berth system boot
  [ "$status" -eq 0 ]
  [ "$(sort <<<"$output" | tr '\n' ' ')" = "started b1 started b2 " ]
  [ "$(berth inspect -f '{{.State.Status}}' b1)" = running ]
  [ "$(berth inspect -f '{{.State.Status}}' b3)" = exited ]
  [ "$(berth inspect -f '{{.State.Status}}' b4)" = dead ]
  pid=$(berth inspect -f '{{.State.Pid}}' b1)
  # twice: nothing started again
  run berth system boot
  [ "$status" -eq 0 ]
  [ -z "$output" ]
  [ "$(berth inspect -f '{{.State.Pid}}' b1)" = "$pid" ]
  # the unit for one container: starts and stops it with this store's berth
  run berth generate systemd --name b1
  [ "$status" -eq 0 ]
  [[ $output == *"ExecStart=$BERTH --root $BROOT --runroot $BRUN start b1"* ]]
  [[ $output == *"ExecStop=$BERTH --root $BROOT --runroot $BRUN stop -t 10 b1"* ]]
  [[ $output == *"Type=forking"* && $output == *"PIDFile=$BRUN/"* ]]
  [[ $output == *"Restart=no"* ]] # b1's own policy restarts it: systemd does not
  [[ "$(berth generate systemd b4)" == *"Restart=on-failure"* ]]
  run -125 berth generate systemd --new b1
  [[ $output == *--new* ]]
  run berth generate systemd nosuch
  [ "$status" -ne 0 ]
  [[ $output == *nosuch* ]]
  grep -q 'ExecStart=.*berth system boot' "$REPO_ROOT/contrib/berth-boot.service"
}

@test "run flags: --cidfile, --volumes-from, -a, --label-file, --annotation, --domainname, --cpu-quota, --log-driver none; the rest refused by name" {
  t=$BATS_TEST_TMPDIR
  berth run -d --cidfile "$t/cid" --name v1 -v vol1:/data -v "$t:/host:ro" bb sleep 100 >/dev/null
  [ "$(cat "$t/cid")" = "$(berth inspect -f '{{.Id}}' v1)" ]
  # a cidfile that exists: refused before anything is made
  n=$(berth ps -aq | wc -l)
  run -125 berth run --cidfile "$t/cid" bb true
  [[ $output == *"--cidfile"* ]]
  [ "$(berth ps -aq | wc -l)" -eq "$n" ]
  berth create --cidfile "$t/cid2" bb true >/dev/null
  [ "$(berth inspect -f '{{.Id}}' "$(cat "$t/cid2")")" = "$(cat "$t/cid2")" ]
  # --volumes-from: its volumes and binds, their modes, or :ro over all
  berth exec v1 sh -c 'echo shared >/data/f'
  [ "$(berth run --rm --volumes-from v1 bb cat /data/f)" = shared ]
  run berth run --rm --volumes-from v1 bb touch /host/x
  [[ $output == *"Read-only file system"* ]]
  run berth run --rm --volumes-from v1:ro bb touch /data/y
  [[ $output == *"Read-only file system"* ]]
  run berth run --rm --volumes-from nosuch bb true
  [ "$status" -eq 125 ]
  [[ $output == *nosuch* ]]
  # -a: only the streams named
  [ "$(berth run --rm -a stdout bb sh -c 'echo out; echo err >&2' 2>&1)" = out ]
  [ "$(berth run --rm -a stderr bb sh -c 'echo out; echo err >&2' 2>&1)" = err ]
  run -125 berth run -d -a stdout bb true
  [[ $output == *"--attach and --detach"* ]]
  # -it without a terminal on stdin: refused as exec refuses it, nothing made
  n=$(berth ps -aq | wc -l)
  run -125 berth run -it bb true </dev/null
  [[ $output == *"not a TTY"* ]]
  [ "$(berth ps -aq | wc -l)" -eq "$n" ]
  # labels from a file under the flags, annotations for the runtime, the NIS domain, CFS quota
  printf 'a=1\n# a comment\n\nb=2\n' >"$t/labels"
  berth run --name f1 --label-file "$t/labels" -l b=3 --annotation org.example/x=y --domainname example.org \
    --cpu-quota 50000 --cpu-period 100000 bb sh -c 'cat /proc/sys/kernel/domainname' >"$t/out"
  [ "$(cat "$t/out")" = example.org ]
  [ "$(berth inspect -f '{{index .Config.Labels "a"}}{{index .Config.Labels "b"}} {{index .HostConfig.Annotations "org.example/x"}} {{.HostConfig.CpuQuota}}/{{.HostConfig.CpuPeriod}}' f1)" = "13 y 50000/100000" ]
  id=$(berth inspect -f '{{.Id}}' f1)
  jq -e '.annotations["org.example/x"] == "y" and .linux.resources.cpu.quota == 50000 and .domainname == "example.org"' \
    "$BROOT/containers/$id/bundle/config.json" >/dev/null
  run -125 berth run --rm --cpus 1 --cpu-quota 50000 bb true
  [[ $output == *"--cpus"* ]]
  # --log-driver none: output reaches the terminal, no log to read
  [ "$(berth run --name n1 --log-driver none bb echo hi)" = hi ]
  run berth logs n1
  [ "$status" -ne 0 ]
  [[ $output == *"does not support reading"* ]]
  run -125 berth run --log-driver syslog bb true
  [[ $output == *"--log-driver"*syslog* ]]
  # every Docker flag berth does not have is refused by name, with the reason
  for f in --gpus=all --link=a:b --cgroup-parent=x --storage-opt=size=1G --device-read-bps=/dev/sda:1mb \
    --kernel-memory=1m --userns=keep-id --isolation=hyperv; do
    run -125 berth run --rm "$f" bb true
    [[ $output == *"${f%%=*}"* ]]
  done
  berth run --rm --userns host --isolation default --disable-content-trust bb true
}

@test "ps: the image's ID once its name is gone; filters before, since, volume, ancestor, exited" {
  berth tag bb gone:1
  berth create --name o1 gone:1 true >/dev/null
  [ "$(berth ps -a --filter name=o1 --format '{{.Image}}')" = gone:1 ]
  berth rmi gone:1 >/dev/null
  id=$(berth image inspect -f '{{.Id}}' bb)
  [ "$(berth ps -a --filter name=o1 --format '{{.Image}}')" = "${id:7:12}" ]
  [ "$(berth ps -a --no-trunc --filter name=o1 --format '{{.Image}}')" = "$id" ]
  # a tag moved to another image: the ID too
  berth import "$CTR_TAR" moved:1 >/dev/null
  berth tag bb moved:2
  berth create --name o2 moved:2 true >/dev/null
  berth tag moved:1 moved:2
  [ "$(berth ps -a --filter name=o2 --format '{{.Image}}')" = "${id:7:12}" ]
  berth create --name f1 -v fvol:/data bb true >/dev/null
  berth run --name f2 -v "$BATS_TEST_TMPDIR:/hostdir" bb sh -c 'exit 3' || true
  berth create --name f3 bb true >/dev/null
  names() { berth ps -a "$@" --format '{{.Names}}' | sort | tr '\n' ' '; }
  [ "$(names --filter before=f2)" = "f1 o1 o2 " ]
  [ "$(names --filter since=f1)" = "f2 f3 " ]
  [ "$(names --filter since=o2 --filter before=f3)" = "f1 f2 " ]
  [ "$(names --filter volume=fvol)" = "f1 " ]
  [ "$(names --filter volume=/data)" = "f1 " ]
  [ "$(names --filter volume=/hostdir)" = "f2 " ]
  [ "$(names --filter exited=3)" = "f2 " ]
  [ "$(names --filter ancestor=bb --filter name=f)" = "f1 f2 f3 " ]
  run -1 berth ps --filter before=nosuch
  [[ $output == *nosuch* ]]
  run -125 berth ps --filter color=red
  [[ $output == *color* ]]
}

@test "images: filters reference (glob), before, since, label, dangling" {
  berth import -c 'LABEL team=a' "$CTR_TAR" app/one:1 >/dev/null
  sleep 1 # created times: a second apart
  berth import -c 'LABEL team=b' "$CTR_TAR" app/two:1 >/dev/null
  sleep 1
  berth import "$CTR_TAR" other:1 >/dev/null
  refs() { berth images "$@" --format '{{.Repository}}:{{.Tag}}' | sort | tr '\n' ' '; }
  [ "$(refs --filter reference='app/*')" = "app/one:1 app/two:1 " ]
  [ "$(refs --filter reference='app/one:1')" = "app/one:1 " ]
  [ "$(refs --filter reference='*:1' --filter reference=bb)" = "bb:latest other:1 " ]
  [ "$(refs --filter since=app/one:1)" = "app/two:1 other:1 " ]
  [ "$(refs --filter before=app/two:1 --filter reference='app/*')" = "app/one:1 " ]
  [ "$(refs --filter label=team)" = "app/one:1 app/two:1 " ]
  [ "$(refs --filter label=team=b)" = "app/two:1 " ]
  [ -z "$(refs --filter dangling=true)" ]
  run -1 berth images --filter before=nosuch
  [[ $output == *nosuch* ]]
  run -125 berth images --filter shape=round
  [[ $output == *shape* ]]
}

@test "a killed monitor: system check reports the container running on without it; ps stops it cleanly and says so" {
  t=$BATS_TEST_TMPDIR
  berth run -d --name k1 -v "$t:/out" bb sh -c 'trap "echo term >/out/term; exit 0" TERM; while :; do sleep 0.1; done' >/dev/null
  wait_for k1 '{{.State.Status}}' running
  id=$(berth inspect -f '{{.Id}}' k1)
  pid=$(berth inspect -f '{{.State.Pid}}' k1)
  kill -9 "$(pgrep -f "berth-monitor .*--id $id")"
  for _ in $(seq 300); do pgrep -f "berth-monitor .*--id $id" >/dev/null || break; sleep 0.1; done
  kill -0 "$pid" # the container runs on
  run berth system check
  [ "$status" -ne 0 ]
  [[ $output == *"container ${id:0:12} runs on without its monitor (init pid $pid)"* ]]
  run berth ps -a --format '{{.Names}} {{.State}}'
  [ "$status" -eq 0 ]
  [[ $output == *"berth: container k1 (${id:0:12}) ran on without its monitor (was it killed?): stopped it"* ]]
  [[ $output == *"k1 exited"* ]]
  [ "$(cat "$t/term")" = term ] # its stop signal, as a stop sends it
  for _ in $(seq 300); do [ -d "/proc/$pid" ] && [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ] || break; sleep 0.1; done
  ! { [ -d "/proc/$pid" ] && grep -q "$id" "/proc/$pid/cgroup" 2>/dev/null && [ "$(awk '{print $3}' "/proc/$pid/stat")" != Z ]; } || false
  run berth system check
  [ "$status" -eq 0 ]
  # system check --repair stops one too
  berth start k1 >/dev/null
  wait_for k1 '{{.State.Status}}' running
  kill -9 "$(pgrep -f "berth-monitor .*--id $id")"
  for _ in $(seq 300); do pgrep -f "berth-monitor .*--id $id" >/dev/null || break; sleep 0.1; done
  run berth system check --repair
  [[ $output == *"runs on without its monitor"*": stopped"* ]]
  [ "$(berth inspect -f '{{.State.Status}}' k1)" = exited ]
}

# a person at a terminal: tests/integration/ptydrive.py runs berth under a pty
pty() { # STEPS ARGS...: berth ARGS under a terminal, driven by STEPS (see ptydrive.py)
  local steps=$1
  shift
  timeout 120 python3 "$BATS_TEST_DIRNAME/ptydrive.py" "$steps" -- "$BERTH" --root "$BROOT" --runroot "$BRUN" "$@"
}

@test "detach keys: Ctrl-P Ctrl-Q leaves run -it, attach and exec -it with the container running; --detach-keys" {
  command -v python3 >/dev/null || skip "python3 is not installed"
  # run -it: detached, berth exits 0, the container runs on
  run pty 'expect:# ;send:echo fi""rst\n;expect:first;send:\x10\x11;exit' run -it --name d1 bb sh
  [ "$status" -eq 0 ]
  [[ $output == *"exit 0"* ]]
  [ "$(berth inspect -f '{{.State.Status}}' d1)" = running ]
  # a lone Ctrl-P is passed on: Ctrl-P then another key is typed as it was (the shell sees both)
  # attach with other keys: the default ones are typed into the container, ctrl-a,x detaches
  run pty 'send:echo at""tached\n;expect:attached;send:\x01x;exit' attach --detach-keys ctrl-a,x d1
  [ "$status" -eq 0 ]
  [[ $output == *"exit 0"* ]]
  [ "$(berth inspect -f '{{.State.Status}}' d1)" = running ]
  # exec -it: the process runs on, its terminal kept by the container's monitor
  run pty 'expect:# ;send:echo $$ >/tmp/execpid\n;send:echo wr""itten\n;expect:written;send:\x10\x11;exit' exec -it d1 sh
  [ "$status" -eq 0 ]
  [[ $output == *"exit 0"* ]]
  epid=$(berth exec d1 cat /tmp/execpid)
  berth exec d1 kill -0 "$epid"
  # without detaching: the exit codes are the process's
  run pty 'expect:# ;send:exit 6\n;exit' exec -it d1 sh
  [[ $output == *"exit 6"* ]]
  run pty 'exit' exec -it d1 nosuch
  [[ $output == *"executable file not found"* && $output == *"exit 127"* ]]
  # a Ctrl-P not followed by Ctrl-Q reaches the container
  run pty 'expect:# ;send:cat -v\n;send:\x10a\n;expect:^Pa;send:\x04;send:exit 3\n;exit' exec -it d1 sh
  [[ $output == *"exit 3"* ]]
  # --detach-keys: checked, refused by name before anything runs
  n=$(berth ps -aq | wc -l)
  run pty 'exit' run -it --detach-keys ctrl-9 bb true
  [[ $output == *"--detach-keys"* && $output == *"exit 125"* ]]
  [ "$(berth ps -aq | wc -l)" -eq "$n" ]
  run pty 'exit' exec -it --detach-keys bogus d1 true
  [[ $output == *"--detach-keys"* && $output == *"exit 125"* ]]
  # with --rm: detached, the container is removed when it ends later
  run pty 'expect:# ;send:\x10\x11;exit' run -it --rm --name d2 bb sh
  [ "$(berth inspect -f '{{.State.Status}}' d2)" = running ]
  berth stop -t 1 d2 >/dev/null
  # the monitor removes it once it has ended (on a loaded machine that can take seconds)
  for _ in $(seq 300); do berth inspect d2 >/dev/null 2>&1 || break; sleep 0.1; done
  run berth inspect d2
  [ "$status" -ne 0 ]
}

@test "image prune and network prune: --filter until= and label=" {
  berth import -c 'LABEL tier=web' "$CTR_TAR" lab:1 >/dev/null
  berth import "$CTR_TAR" plain:1 >/dev/null
  run berth image prune -a -f --filter label=tier=web
  [ "$status" -eq 0 ]
  [[ $output == *"untagged: lab:1"* ]]
  berth image inspect plain:1 >/dev/null
  run berth image inspect lab:1
  [ "$status" -ne 0 ]
  run berth image prune -a -f --filter until=1h # nothing an hour old
  berth image inspect plain:1 >/dev/null
  run -125 berth image prune -f --filter color=red
  [[ $output == *color=red* ]]
  berth network create --label keep=1 n1 >/dev/null
  berth network create n2 >/dev/null
  run berth network prune -f --filter label!=keep=1
  [ "$status" -eq 0 ]
  [[ $output == *n2* && $output != *n1* ]]
  berth network inspect n1 >/dev/null
  berth network rm n1 >/dev/null
  # network rm -f: a network that is not there is no error; volume create --name
  run berth network rm n1
  [ "$status" -eq 1 ]
  berth network rm -f n1
  [ "$(berth volume create --name byflag)" = byflag ]
  run -125 berth volume create --name one two
  [[ $output == *"conflicting options"* ]]
  berth volume rm byflag >/dev/null
}

@test "stop -s and restart -s: the signal given instead of the container's stop signal" {
  t=$BATS_TEST_TMPDIR
  # each start of the shell adds a line to /out/ready once its traps are set (a signal before
  # that would be dropped: the shell is the container's PID 1)
  berth run -d --name s1 -v "$t:/out" bb sh -c 'trap "echo usr1 >>/out/sig; exit 0" USR1; trap "echo term >>/out/sig; exit 0" TERM; echo >>/out/ready; while :; do sleep 0.1; done' >/dev/null
  started() { [ "$(wc -l <"$t/ready" 2>/dev/null)" = "$1" ]; }
  wait_until 30 started 1
  berth stop -s USR1 s1 >/dev/null
  [ "$(cat "$t/sig")" = usr1 ]
  berth start s1 >/dev/null
  wait_until 30 started 2
  berth restart --signal SIGUSR1 s1 >/dev/null
  wait_until 30 started 3
  berth stop s1 >/dev/null
  [ "$(cat "$t/sig" | tr '\n' ' ')" = "usr1 usr1 term " ]
  run -125 berth stop -s NOPE s1
  [[ $output == *--signal* ]]
}
