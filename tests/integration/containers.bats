#!/usr/bin/env bats
# berth's container commands with real containers from an imported busybox-static image (+ /probe):
# run's isolation and exit codes, bad input leaving nothing, -d + logs -f + stop + rm, --rm,
# ps, inspect, start -a / wait / kill / restart / attach, stdin and terminals, logs options.
# Every test's teardown fails it when a monitor, mount, cgroup, run dir or row is left.

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

@test "containers: run is isolated — pid 1, its own hostname, an overlay root of the image's layers" {
  run berth run --rm bb /probe all
  [ "$status" -eq 0 ]
  [ "$(probe_val pid)" = 1 ]
  [[ $(probe_val hostname) =~ ^[0-9a-f]{12}$ ]]
  [ "$(probe_val hostname)" != "$(hostname)" ]
  [ "$(probe_val cap_eff_hex)" = 00000000a80425fb ] # Docker's 14 capabilities
  run berth run --rm -h box bb /probe mounts
  [ "$status" -eq 0 ]
  grep -q '^mount=/ overlay overlay .*lowerdir='"$BROOT"'/layers/' <<<"$output"
  grep -q "^mount=/proc proc " <<<"$output"
  grep -q "^mount=/etc/hostname " <<<"$output"
  run berth run --rm -h box bb hostname
  [ "$output" = box ]
  # the container's namespaces are not the host's
  run berth run --rm bb /probe ns
  [ "$(probe_val ns.pid)" != "$(readlink /proc/self/ns/pid)" ]
  [ "$(probe_val ns.mnt)" != "$(readlink /proc/self/ns/mnt)" ]
  # nothing of the rootfs is mounted on the host
  ! grep -q "$BROOT/containers" /proc/self/mountinfo || false
}

@test "containers: exit codes — the container's own, 127 not found, 126 not executable, 125 berth" {
  run berth run --rm bb sh -c 'echo out; echo err >&2; exit 3'
  [ "$status" -eq 3 ]
  [[ $output == *out* && $output == *err* ]]
  run -127 berth run --rm bb /no/such/program
  run -127 berth run --rm bb nosuchprogram
  [[ $output == *"executable file not found"* ]]
  run berth run --rm bb /etc
  [ "$status" -eq 126 ]
  run berth run --rm bb /etc/passwd
  [ "$status" -eq 126 ]
  # without --rm the failed container stays, "Created", with the error recorded
  run -127 berth run --name failed bb nosuchprogram
  [ "$(berth inspect -f '{{.State.Status}} {{.State.ExitCode}}' failed)" = "created 127" ]
  [[ $(berth inspect -f '{{.State.Error}}' failed) == *"executable file not found"* ]]
  [ "$(berth ps -a --filter name=failed --format '{{.Status}}')" = Created ]
}

@test "containers: bad input is exit 125 and leaves no row, directory, volume, mount or run dir" {
  berth run --name taken bb true
  before=$(ctr_ids | sort)
  for args in "--memory 10q bb true" "--cpus -1 bb true" "nosuchimage true" "--name taken bb true" \
    "--name bad/name bb true" \
    "--mount type=bind,source=/no/such/berth/dir,target=/y bb true" "--restart sometimes bb true" "-p garbage bb true" \
    "--rm --restart always bb true" "--user nobodyhere bb true" "--nosuchflag bb true" \
    "--device /dev/berth-no-such-device bb true" "--device /etc/hostname bb true" "--cpus 4096 bb true"; do
    # shellcheck disable=SC2086
    run berth run $args
    [ "$status" -eq 125 ] || { echo "run $args: $status $output"; false; }
    [ "$(ctr_ids | sort)" = "$before" ] || { echo "run $args left a row"; false; }
    [ "$(ls "$BROOT/containers")" = "$(echo "$before")" ] || { echo "run $args left a directory"; false; }
    [ -z "$(ls "$BROOT/volumes" 2>/dev/null)" ]
    [ -z "$(ls "$BRUN" | grep -v runtime)" ] || { echo "run $args left a run dir: $(ls "$BRUN")"; false; }
  done
  run berth run --name taken bb true
  [[ $output == *"already in use"* ]]
  # the flag and the path said once
  run -125 berth run --device /dev/berth-no-such-device bb true
  [[ $output == *"--device \`/dev/berth-no-such-device\`: the host's device: No such file or directory" ]]
  [ "$(grep -o -- --device <<<"$output" | wc -l)" -eq 1 ]
  run -125 berth run --device /etc/hostname bb true
  [[ $output == *"--device \`/etc/hostname\`: not a device node" ]]
  run -125 berth run --cpus 4096 bb true
  [[ $output == *"--cpus: range of CPUs is from 0.01 to $(nproc).00, as there are only $(nproc) CPUs available" ]]
  run -125 berth run --user nobodyhere bb true
  [[ $output == *"unable to find user \`nobodyhere\`: no matching entries in passwd file (the image's /etc/passwd)" ]]
  run berth create --pull never nosuchimage
  [ "$status" -eq 125 ]
  [[ $output == *"no such image"* ]]
  # a missing image is pulled; the suites' registries configuration blocks every registry
  # off loopback (helpers.bash), so the attempt ends before any connection
  run berth create nosuchimage
  [ "$status" -eq 125 ]
  [[ $output == *"registry \`docker.io\` is blocked"* ]]
}

@test "containers: run -d, logs -f, stop with --stop-signal, the timeout and SIGKILL, rm" {
  run berth run -d --name web --stop-signal USR1 bb sh -c \
    'trap "echo got usr1; exit 9" USR1; echo ready; while :; do sleep 0.1; done'
  [ "$status" -eq 0 ]
  [[ $output =~ ^[0-9a-f]{64}$ ]]
  id=$output
  wait_for web '{{.State.Status}}' running
  berth logs -f web >"$BATS_TEST_TMPDIR/follow" 2>&1 &
  follower=$!
  for _ in $(seq 300); do grep -q ready "$BATS_TEST_TMPDIR/follow" && break; sleep 0.1; done
  grep -q ready "$BATS_TEST_TMPDIR/follow"
  run berth stop web
  [ "$status" -eq 0 ]
  [ "$output" = web ]
  wait "$follower" # logs -f ends with the container
  [ "$(cat "$BATS_TEST_TMPDIR/follow")" = "$(printf 'ready\ngot usr1')" ]
  [ "$(berth inspect -f '{{.State.Status}} {{.State.ExitCode}} {{.State.Running}}' web)" = "exited 9 false" ]
  [ "$(berth inspect -f '{{.State.Pid}}' web)" = 0 ]
  [ -z "$(ctr_monitors)" ]
  # a container that ignores its stop signal is killed after the timeout
  berth run -d --name stubborn --stop-timeout 30 bb sh -c 'trap "" TERM; echo up; while :; do sleep 0.1; done' >/dev/null
  wait_for stubborn '{{.State.Status}}' running
  start=$(date +%s%N)
  run berth stop -t 1 stubborn
  [ "$status" -eq 0 ]
  elapsed=$((($(date +%s%N) - start) / 1000000))
  [ "$elapsed" -ge 900 ]
  [ "$elapsed" -lt 15000 ]
  [ "$(berth inspect -f '{{.State.ExitCode}}' stubborn)" = 137 ]
  run berth stop stubborn # stopped already: fine
  [ "$status" -eq 0 ]
  run berth rm web "${id:0:12}"
  [ "$status" -eq 1 ] # the second is the same container, gone already
  [[ $output == *"no such container"* ]]
  berth rm stubborn
  [ -z "$(ctr_ids)" ]
  [ -z "$(ls "$BROOT/containers")" ]
}

@test "containers: --rm removes the container, its files and run dir, foreground and detached" {
  run berth run --rm bb true
  [ "$status" -eq 0 ]
  [ -z "$(ctr_ids)" ]
  [ -z "$(ls "$BROOT/containers")" ]
  id=$(berth run -d --rm bb sh -c 'while :; do sleep 0.1; done')
  wait_for "$id" '{{.State.Status}}' running
  [ -d "$BROOT/containers/$id" ]
  berth stop -t 0 "$id"
  run berth inspect "$id"
  [ "$status" -ne 0 ]
  [ -z "$(ctr_ids)" ]
  [ ! -e "$BROOT/containers/$id" ]
  [ ! -e "$BRUN/$id" ]
  # and when it exits by itself
  id=$(berth run -d --rm bb true)
  run berth wait "$id"
  for _ in $(seq 300); do [ -z "$(ctr_ids)" ] && break; sleep 0.1; done
  [ -z "$(ctr_ids)" ]
}

@test "containers: ps — running only by default, -a, -q, --no-trunc, filters, --format json" {
  berth run -d --name up1 --label tier=front bb sh -c 'while :; do sleep 0.1; done' >/dev/null
  berth run --name done1 --label tier=back bb sh -c 'exit 2' || true
  berth create --name new1 bb true >/dev/null
  wait_for up1 '{{.State.Status}}' running
  run berth ps
  [[ ${lines[0]} =~ ^CONTAINER\ ID\ {8}IMAGE\ {15}COMMAND\ +CREATED\ +STATUS\ +PORTS\ +NAMES$ ]]
  [ "${#lines[@]}" -eq 2 ]
  [[ ${lines[1]} =~ ^[0-9a-f]{12}\ +bb\ +\"sh\ -c\ while\ :\;\ do\ s…\"\ +.*\ ago\ +Up\ .*\ +up1$ ]]
  run berth ps -a --format '{{.Names}} {{.State}} {{.Status}}'
  [ "${#lines[@]}" -eq 3 ]
  [ "${lines[0]}" = "new1 created Created" ] # newest first
  [[ ${lines[1]} =~ ^done1\ exited\ Exited\ \(2\)\ .*\ ago$ ]]
  run berth ps -q
  [ "$output" = "$(berth inspect -f '{{.Id}}' up1 | cut -c1-12)" ]
  run berth ps -aq --no-trunc
  [ "${#lines[@]}" -eq 3 ]
  [[ ${lines[0]} =~ ^[0-9a-f]{64}$ ]]
  [ "$(berth ps --filter status=exited --format '{{.Names}}')" = done1 ] # a status filter implies -a
  [ "$(berth ps -a --filter label=tier=front --format '{{.Names}}')" = up1 ]
  [ "$(berth ps -a --filter label=tier --format '{{.Names}}' | sort | tr '\n' ' ')" = "done1 up1 " ]
  [ "$(berth ps -a --filter name=^done --format '{{.Names}}')" = done1 ]
  [ "$(berth ps -a --filter ancestor=bb -q | wc -l)" = 3 ]
  [ -z "$(berth ps -a --filter ancestor=nosuchimage -q)" ]
  [ "$(berth ps -a --filter exited=2 --format '{{.Names}}')" = done1 ]
  run berth ps -a --format json
  [ "$(jq -s length <<<"$output")" = 3 ]
  [ "$(jq -s -r '.[] | select(.Names == "up1") | .State' <<<"$output")" = running ]
  [ "$(jq -s -r '.[] | select(.Names == "up1") | .Labels' <<<"$output")" = tier=front ]
  run berth ps --filter status=asleep
  [ "$status" -eq 125 ]
  run berth container ls -a -q
  [ "${#lines[@]}" -eq 3 ]
}

@test "containers: ps --format — Go templates, the table directive, .Label, json, errors naming the column" {
  berth create --name f1 --label app=web --label com.example.vendor=ACME bb true >/dev/null
  berth create --name f2 bb true >/dev/null
  run berth ps -a --format '{{.Names}}|{{.Label "app"}}|{{.Labels}}'
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "f2||" ]
  [ "${lines[1]}" = "f1|web|app=web,com.example.vendor=ACME" ]
  # "table": a header from the fields (.Label's is the key's last part), docker's tabwriter
  # (minwidth 10, padding 3), \t written as an escape
  run berth ps -a --format 'table {{.Names}}\t{{.Label "com.example.vendor"}}\t{{.State}}'
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "NAMES     vendor    STATE" ]
  [ "${lines[1]}" = "f2                  created" ]
  [ "${lines[2]}" = "f1        ACME      created" ]
  run berth ps -a --filter name=f1 --format 'table {{.ID}}\t{{upper .Names}}'
  [[ ${lines[0]} =~ ^CONTAINER\ ID\ {3}NAMES$ ]]
  [[ ${lines[1]} =~ ^[0-9a-f]{12}\ {3}F1$ ]]
  # functions, pipelines, variables, range, if/else, printf
  run berth ps -a --filter name=f1 --format \
    '{{$n := .Names}}{{range $i, $p := split .Labels ","}}{{if $i}};{{end}}{{index (split $p "=") 0}}{{end}} {{len .ID}} {{printf "%-8s|%5.1f" .State 2.25}} {{if eq .State "running"}}up{{else}}{{title $n}}{{end}} {{.Names | printf "%q"}}'
  [ "$output" = 'app;com.example.vendor 12 created |  2.2 F1 "f1"' ]
  run berth ps -a --filter name=f1 --format json
  [ "$(jq -r '.Names, .State, .Labels' <<<"$output" | tr '\n' ' ')" = "f1 created app=web,com.example.vendor=ACME " ]
  [[ $output == '{"Command":'* ]] # keys sorted, as docker marshals the row
  # errors: the template's line and column, nothing printed, exit 1
  run --separate-stderr berth ps -a --format '{{.Names}} {{.Foo}}'
  [ "$status" -eq 1 ]
  [ -z "$output" ]
  [ "$stderr" = "berth ps: template parsing error: template: :1:13: executing \"\" at <.Foo>: can't evaluate field Foo in type *formatter.ContainerContext" ]
  run --separate-stderr berth ps -a --format '{{.Label}}'
  [ "$stderr" = "berth ps: template parsing error: template: :1:2: executing \"\" at <.Label>: wrong number of args for Label: want 1 got 0" ]
  run --separate-stderr berth ps -a --format '{{nofunc .Names}}'
  [ "$status" -eq 1 ]
  [ "$stderr" = 'berth ps: template parsing error: template: :1:2: function "nofunc" not defined' ]
  run --separate-stderr berth ps -a --format '{{.Names'
  [ "$stderr" = "berth ps: template parsing error: template: :1:8: unclosed action" ]
  run --separate-stderr berth ps -a --format '{{truncate .Names "x"}}'
  [ "$stderr" = "berth ps: template parsing error: template: :1:18: executing \"\" at <\"x\">: expected integer; found \"x\"" ]
  # -q wins over --format; a bare "table" is the default table
  [ "$(berth ps -aq --format '{{.Names}}' | wc -l)" = 2 ]
  run berth ps -a --format table
  [[ ${lines[0]} =~ ^CONTAINER\ ID\ +IMAGE\ +COMMAND ]]
}

@test "containers: a bad flag value is named once (logs --since/--until/--tail, run --cap-add), run --help's types" {
  berth create --name l1 bb true >/dev/null
  run --separate-stderr berth logs --since bogus l1
  [ "$status" -eq 125 ]
  [ "$stderr" = "berth logs: --since: expected a time (2013-01-02T13:23:37Z), unix seconds or a duration back from now (42m), got \`bogus\`" ]
  run --separate-stderr berth logs --until 3q l1
  [[ $stderr == "berth logs: --until: "*"got \`3q\`" ]]
  run --separate-stderr berth logs --tail x l1
  [ "$stderr" = "berth logs: --tail: expected a number of lines or \"all\", got \`x\`" ]
  # one prefix, the command's: not "berth: berth run: ..."
  run --separate-stderr berth run --cap-add NOPE bb true
  [ "$status" -eq 125 ]
  [[ $stderr == "berth run: --cap-add: "* ]]
  run berth run --help
  [[ $output == *"      --name string "* ]]
  [[ $output == *"  -e, --env list "* ]]
  [[ $output == *"  -m, --memory bytes "* ]]
  [[ $output == *"      --network network "* ]]
  [[ $output != *" value "* ]]
}

@test "containers: inspect -f — Go templates over the document: maps, structs, missing keys, json" {
  berth create --name i1 --label app=web --label com.example.vendor=ACME bb true >/dev/null
  berth create --name i2 bb true >/dev/null
  # Labels is a map: a missing key is <no value> (index: ""); a struct's field that is not there is an error
  [ "$(berth inspect -f '{{.Name}} {{.Config.Labels.app}}|{{index .Config.Labels "none"}}|{{.Config.Labels.none}}' i1)" = \
    "/i1 web||<no value>" ]
  [ "$(berth container inspect --format '{{json .Config.Labels}} {{.State.Status}} {{.State.Running}}' i1)" = \
    '{"app":"web","com.example.vendor":"ACME"} created false' ]
  [ "$(berth inspect -f '{{range $k, $v := .Config.Labels}}{{$k}}={{$v}} {{end}}' i1)" = "app=web com.example.vendor=ACME " ]
  [ "$(berth inspect -f '{{.Name}}' i1 i2 | tr '\n' ' ')" = "/i1 /i2 " ]
  [ "$(berth inspect -f '{{with .Config.Labels}}{{len .}}{{else}}none{{end}}' i1 i2 | tr '\n' ' ')" = "2 none " ]
  [ "$(berth inspect -f '{{(index .Config.Cmd 0)}} {{join .Config.Cmd ","}}' i1)" = "true true" ]
  [ "$(berth inspect -f json i1 | jq -r '.[0].Name')" = /i1 ]
  run --separate-stderr berth inspect -f '{{.Config.Nope}}' i1
  [ "$status" -eq 1 ]
  [ "$stderr" = "berth inspect: template parsing error: template: :1:9: executing \"\" at <.Config.Nope>: map has no entry for key \"Nope\"" ]
  run --separate-stderr berth inspect -f '{{.Name' i1
  [ "$status" -eq 64 ]
  [ "$stderr" = "berth inspect: template parsing error: template: :1:7: unclosed action" ]
  # one object that fails does not hide the others
  run --separate-stderr berth inspect -f '{{.Name}}' i1 nosuch
  [ "$status" -eq 1 ]
  [ "$output" = /i1 ]
  [[ $stderr == *"no such object"* ]]
}

@test "containers: inspect — Docker's fields, State, Config, HostConfig, Mounts, GraphDriver" {
  mkdir -p "$BATS_TEST_TMPDIR/data"
  berth run --name insp -e A=1 --label k=v --restart on-failure:2 -v "$BATS_TEST_TMPDIR/data:/data:ro" \
    bb sh -c 'exit 4' || true
  wait_for insp '{{.RestartCount}} {{.State.Status}}' "2 exited" # on-failure:2 restarted it twice
  run berth inspect insp
  [ "$status" -eq 0 ]
  j=$output
  [ "$(jq -r '.[0].Name' <<<"$j")" = /insp ]
  [[ $(jq -r '.[0].Id' <<<"$j") =~ ^[0-9a-f]{64}$ ]]
  [ "$(jq -r '.[0].Path' <<<"$j")" = sh ]
  [ "$(jq -c '.[0].Args' <<<"$j")" = '["-c","exit 4"]' ]
  [ "$(jq -r '.[0].Image' <<<"$j")" = "$(berth image inspect -f '{{.Id}}' bb)" ]
  [ "$(jq -r '.[0].State.Status' <<<"$j")" = exited ]
  [ "$(jq -r '.[0].State.ExitCode' <<<"$j")" = 4 ]
  for k in Running Paused Restarting OOMKilled Dead; do [ "$(jq -r ".[0].State.$k" <<<"$j")" = false ]; done
  [[ $(jq -r '.[0].State.StartedAt' <<<"$j") =~ ^20[0-9-]+T ]]
  [[ $(jq -r '.[0].State.FinishedAt' <<<"$j") =~ ^20[0-9-]+T ]]
  [ "$(jq -r '.[0].Config.Image' <<<"$j")" = bb ]
  [ "$(jq -r '.[0].Config.Labels.k' <<<"$j")" = v ]
  jq -e '.[0].Config.Env | index("A=1")' <<<"$j" >/dev/null
  [ "$(jq -r '.[0].HostConfig.RestartPolicy.Name' <<<"$j")" = on-failure ]
  [ "$(jq -r '.[0].HostConfig.RestartPolicy.MaximumRetryCount' <<<"$j")" = 2 ]
  [ "$(jq -r '.[0].Mounts[0].Type' <<<"$j")" = bind ]
  [ "$(jq -r '.[0].Mounts[0].Source' <<<"$j")" = "$BATS_TEST_TMPDIR/data" ]
  [ "$(jq -r '.[0].Mounts[0].Destination' <<<"$j")" = /data ]
  [ "$(jq -r '.[0].Mounts[0].RW' <<<"$j")" = false ]
  [ "$(jq -r '.[0].GraphDriver.Name' <<<"$j")" = overlay2 ]
  [ -d "$(jq -r '.[0].GraphDriver.Data.UpperDir' <<<"$j")" ]
  [ -d "$(jq -r '.[0].GraphDriver.Data.LowerDir' <<<"$j")/bin" ]
  [ -f "$(jq -r '.[0].LogPath' <<<"$j")" ]
  [ "$(jq -r '.[0].NetworkSettings.IPAddress' <<<"$j")" = "" ]
  # containers by id prefix, images too, and a clear error for neither
  id=$(jq -r '.[0].Id' <<<"$j")
  [ "$(berth container inspect -f '{{.Name}}' "${id:0:5}")" = /insp ]
  # (by a name that cannot be a container id prefix: "bb" is hex, and a container whose id
  # starts with it would be found first, as with Docker)
  berth tag bb imagetag
  [ "$(berth inspect -f '{{.RepoTags}}' imagetag)" = "[bb:latest imagetag:latest]" ]
  run berth inspect nosuchthing
  [ "$status" -eq 1 ]
  [[ $output == *"no such object"* ]]
  run berth inspect --type image insp
  [ "$status" -eq 1 ]
}

@test "containers: create, start -a, wait, kill -s, restart, attach" {
  id=$(berth create --name c1 bb sh -c 'echo hello; exit 5')
  [ "$(berth inspect -f '{{.State.Status}}' c1)" = created ]
  run berth start -a c1
  [ "$status" -eq 5 ]
  [ "$output" = hello ]
  run berth wait c1
  [ "$output" = 5 ]
  run berth start c1
  [ "$output" = c1 ]
  [ "$(berth wait "$id")" = 5 ]
  [ "$(berth logs c1)" = "$(printf 'hello\nhello')" ]
  # kill with a signal the shell traps; wait prints its exit code
  berth run -d --name k1 bb sh -c 'trap "exit 11" HUP; while :; do sleep 0.1; done' >/dev/null
  wait_for k1 '{{.State.Status}}' running
  berth wait k1 >"$BATS_TEST_TMPDIR/waited" &
  waiter=$!
  sleep 0.3
  berth kill -s HUP k1
  wait "$waiter"
  [ "$(cat "$BATS_TEST_TMPDIR/waited")" = 11 ]
  run berth kill k1
  [ "$status" -eq 1 ]
  [[ $output == *"is not running"* ]]
  # restart starts it again (a new pid)
  berth run -d --name r1 bb sh -c 'while :; do sleep 0.1; done' >/dev/null
  wait_for r1 '{{.State.Status}}' running
  pid1=$(berth inspect -f '{{.State.Pid}}' r1)
  berth restart -t 0 r1
  [ "$(berth inspect -f '{{.State.Status}}' r1)" = running ]
  [ "$(berth inspect -f '{{.State.Pid}}' r1)" != "$pid1" ]
  # attach sees what the container writes from then on, and its exit code
  berth run -d -i --name a1 bb sh -c 'read line; echo "got $line"; exit 6' >/dev/null
  wait_for a1 '{{.State.Status}}' running
  run berth attach a1 <<<"ping"
  [ "$status" -eq 6 ]
  [ "$output" = "got ping" ]
  run berth attach a1
  [ "$status" -eq 1 ]
  [[ $output == *"start it first"* ]]
  run berth rm r1
  [ "$status" -eq 1 ]
  [[ $output == *"stop the container before removing or force remove"* ]]
  berth rm -f r1
}

@test "containers: -i forwards stdin, -t gives a terminal" {
  run berth run --rm -i bb sh -c 'cat; echo done'
  [ "$status" -eq 0 ]
  [ "$output" = done ]
  run bash -c "printf 'a\nb\n' | '$BERTH' --root '$BROOT' --runroot '$BRUN' run --rm -i bb sh -c 'wc -l'"
  [ "$output" = 2 ]
  command -v script >/dev/null || skip "script(1) is not installed"
  run script -qec "'$BERTH' --root '$BROOT' --runroot '$BRUN' run --rm -t bb sh -c 'tty; exit 7'" /dev/null
  [ "$status" -eq 7 ]
  [[ $output == /dev/pts/* ]]
  run bash -c "printf 'echo in-a-tty; exit 8\n' | script -qec \"'$BERTH' --root '$BROOT' --runroot '$BRUN' run --rm -it bb sh\" /dev/null"
  [ "$status" -eq 8 ]
  [[ $output == *in-a-tty* ]]
}

@test "containers: logs --tail, --since, -t, stderr apart, rotation with --log-opt max-size/max-file" {
  berth run --name l1 bb sh -c 'for i in 1 2 3 4 5; do echo line$i; done; echo oops >&2; printf tail' || true
  [ "$(berth logs --tail 3 l1 2>/dev/null)" = "$(printf 'line5\ntail')" ]
  [ "$(berth logs --tail 3 l1 2>&1 >/dev/null)" = oops ]
  [ "$(berth logs l1 2>/dev/null | tail -c 4)" = tail ] # no newline was written: none is added
  run berth logs -t l1
  [[ ${lines[0]} =~ ^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{9}Z\ line1$ ]]
  [ "$(berth logs --since 2000-01-01T00:00:00Z l1 2>/dev/null | head -n 1)" = line1 ]
  [ -z "$(berth logs --since 1h l1 --until 2000-01-01T00:00:00Z 2>&1)" ]
  [ -z "$(berth logs --tail 0 l1 2>&1)" ]
  log=$(berth inspect -f '{{.LogPath}}' l1)
  grep -qE '^20[^ ]+Z stdout F line1$' "$log"
  grep -qE '^20[^ ]+Z stderr F oops$' "$log"
  grep -qE '^20[^ ]+Z stdout P tail$' "$log"
  # rotation: 3 files of at most 1 KiB
  berth run --name l2 --log-opt max-size=1k --log-opt max-file=3 bb sh -c 'i=0; while [ $i -lt 200 ]; do echo "line $i"; i=$((i+1)); done'
  log=$(berth inspect -f '{{.LogPath}}' l2)
  [ -f "$log.1" ]
  [ -f "$log.2" ]
  [ ! -e "$log.3" ]
  for f in "$log" "$log.1" "$log.2"; do [ "$(stat -c %s "$f")" -le 1024 ]; done
  [ "$(berth logs l2 | tail -n 1)" = "line 199" ]
  run berth logs l2
  # oldest first, consecutive, ending with the last line
  first=$(head -n 1 <<<"$output" | cut -d' ' -f2)
  [ "$(tail -n 1 <<<"$output")" = "line 199" ]
  [ "${#lines[@]}" -eq $((200 - first)) ]
}

@test "containers: rmi refuses an image a container uses; -f only untags it" {
  berth create --name user1 bb true >/dev/null
  image=$(berth image inspect -f '{{.Id}}' bb)
  run berth rmi bb
  [ "$status" -eq 1 ]
  [[ $output == *"a container is using its referenced image"* ]]
  run berth rmi "$image"
  [ "$status" -eq 1 ]
  [[ $output == *"being used by a container"* ]]
  run berth rmi -f bb
  [ "$status" -eq 0 ]
  [ "$output" = "Untagged: bb:latest" ]
  run berth start -a user1 # its layers are still there
  [ "$status" -eq 0 ]
  run berth system check
  echo "system check: $output" # shown when the test fails
  [ "$status" -eq 0 ]
  berth rm user1
  berth rmi "$image"
}

@test "containers: volumes — -v creates a missing host directory, named volumes persist, anonymous ones go with -v/--rm" {
  run berth run --rm -v "$BATS_TEST_TMPDIR/made:/m" bb sh -c 'echo hi > /m/f'
  [ "$status" -eq 0 ]
  [ "$(cat "$BATS_TEST_TMPDIR/made/f")" = hi ]
  berth run --rm -v vol1:/data bb sh -c 'echo kept > /data/f'
  [ "$(berth run --rm -v vol1:/data:ro bb cat /data/f)" = kept ]
  [ "$(sqlite3 "$BROOT/berth.db" 'SELECT name FROM volumes')" = vol1 ]
  [ -f "$BROOT/volumes/vol1/_data/f" ]
  # an anonymous volume: removed with --rm, kept by rm without -v, removed by rm -v
  berth run --rm --mount type=volume,target=/anon bb true
  [ "$(sqlite3 "$BROOT/berth.db" 'SELECT count(*) FROM volumes')" = 1 ]
  berth run --name anon1 --mount type=volume,target=/anon bb true
  berth run --name anon2 --mount type=volume,target=/anon bb true
  [ "$(sqlite3 "$BROOT/berth.db" 'SELECT count(*) FROM volumes')" = 3 ]
  berth rm -v anon1
  [ "$(sqlite3 "$BROOT/berth.db" 'SELECT count(*) FROM volumes')" = 2 ]
  berth rm anon2
  [ "$(sqlite3 "$BROOT/berth.db" 'SELECT count(*) FROM volumes')" = 2 ]
  [ "$(ls "$BROOT/volumes" | wc -l)" = 2 ]
}

@test "containers: a foreground run forwards SIGTERM to the container and exits with its code; --init is pid 1" {
  "$BERTH" --root "$BROOT" --runroot "$BRUN" run --name fg bb sh -c \
    'trap "echo got term; exit 3" TERM; echo ready; while :; do sleep 0.1; done' >"$BATS_TEST_TMPDIR/fg" 2>&1 &
  pid=$!
  for _ in $(seq 300); do grep -q ready "$BATS_TEST_TMPDIR/fg" && break; sleep 0.1; done
  kill -TERM "$pid"
  rc=0
  wait "$pid" || rc=$?
  [ "$rc" -eq 3 ]
  [ "$(cat "$BATS_TEST_TMPDIR/fg")" = "$(printf 'ready\ngot term')" ]
  [ -x "$BERTH_BUILD/src/init/berth-init" ] || [ -x "$BERTH_BUILD/berth-init" ] || skip "berth-init not built"
  run berth run --rm --init bb ps -o pid,args
  [ "$status" -eq 0 ]
  [[ ${lines[1]} =~ ^\ *1\ /dev/init\ --\ ps ]]
  [[ ${lines[2]} =~ ^\ *2\ ps ]]
}

@test "containers: Docker's seccomp profile by default, seccomp=unconfined, a custom profile" {
  # the default profile: filter on; a user namespace needs CAP_SYS_ADMIN under it (no
  # capability is needed without it), personality only with Docker's four values
  [ "$(berth run --rm bb sh -c 'grep ^Seccomp: /proc/self/status | cut -f2')" = 2 ]
  [ "$(berth run --rm bb /probe syscall unshare 0x10000000)" = syscall=EPERM ]
  [ "$(berth run --rm bb /probe syscall keyctl)" = syscall=EPERM ]
  [ "$(berth run --rm bb /probe syscall personality 0xffffffff)" = syscall=ok ]
  [ "$(berth run --rm bb /probe syscall personality 0x4)" = syscall=EPERM ]
  [ "$(berth run --rm bb /probe syscall getppid)" = syscall=ok ]
  # CAP_SYS_ADMIN opens the profile's admin group
  [ "$(berth run --rm --cap-add SYS_ADMIN bb /probe syscall unshare 0x10000000)" = syscall=ok ]
  # unconfined: no filter at all
  [ "$(berth run --rm --security-opt seccomp=unconfined bb sh -c 'grep ^Seccomp: /proc/self/status | cut -f2')" = 0 ]
  [ "$(berth run --rm --security-opt seccomp=unconfined bb /probe syscall unshare 0x10000000)" = syscall=ok ]
  [ "$(berth run --rm --security-opt seccomp=unconfined bb /probe syscall personality 0x4)" = syscall=ok ]
  # a profile of one's own, in Docker's format
  cat >"$BATS_TEST_TMPDIR/profile.json" <<'EOF'
{"defaultAction": "SCMP_ACT_ALLOW",
 "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]}],
 "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 18}]}
EOF
  [ "$(berth run --rm --security-opt "seccomp=$BATS_TEST_TMPDIR/profile.json" bb /probe syscall mkdir)" = syscall=EXDEV ]
  [ "$(berth run --rm --security-opt "seccomp=$BATS_TEST_TMPDIR/profile.json" bb /probe syscall keyctl)" != syscall=EPERM ]
}

@test "containers: the image's /etc/passwd and /etc/group are opened only when regular files" {
  # an image whose /etc/passwd is a fifo: opening it for reading would let the writer below
  # through (a device node there could act on being opened: host root must never open it)
  python3 - "$BATS_TEST_TMPDIR/fifo.tar" "$CTR_TAR" <<'EOF'
import sys, tarfile
with tarfile.open(sys.argv[2]) as src, tarfile.open(sys.argv[1], "w") as t:
    for m in src.getmembers():
        if m.name.lstrip("./") not in ("etc/passwd", "etc/group"):
            t.addfile(m, src.extractfile(m) if m.isfile() else None)
    for n in ("etc/passwd", "etc/group"):
        f = tarfile.TarInfo(n); f.type = tarfile.FIFOTYPE; f.mode = 0o644; t.addfile(f)
EOF
  berth import -c 'CMD ["sh"]' "$BATS_TEST_TMPDIR/fifo.tar" fifoimg >/dev/null
  fifo=$(find "$BROOT" -path '*/diff/etc/passwd' -type p | head -1)
  [ -p "$fifo" ]
  timeout 15 sh -c "echo x >'$fifo'" &
  writer=$!
  # the writer blocks in open(2) until a reader comes
  blocked() { grep -qsE 'fifo_open|wait_for_partner' "/proc/$(pgrep -P "$writer" sh || echo 0)/wchan"; }
  for _ in $(seq 300); do blocked && break; sleep 0.1; done
  blocked
  berth create --name fi fifoimg true >/dev/null
  berth rm fi >/dev/null
  kill "$writer" 2>/dev/null || true
  rc=0
  wait "$writer" || rc=$?
  [ "$rc" -ne 0 ] # still blocked (killed): nobody opened the fifo for reading
}

@test "containers: --help on every container command, usage errors exit 125" {
  for c in run create start stop kill restart rm wait logs attach ps inspect "container run" "container create" \
    "container start" "container stop" "container kill" "container restart" "container rm" "container remove" \
    "container wait" "container logs" "container attach" "container ls" "container list" "container ps" \
    "container inspect"; do
    # shellcheck disable=SC2086
    run berth $c --help
    [ "$status" -eq 0 ] || { echo "$c --help: $status"; false; }
    [[ $output == *"Usage:  berth "* ]]
  done
  run berth container --help
  [ "$status" -eq 0 ]
  [[ $output == *"Commands:"* ]]
  [[ $output != *internal* ]]
  run berth run
  [ "$status" -eq 125 ]
  run berth stop
  [ "$status" -eq 125 ]
  run berth stop -t soon x
  [ "$status" -eq 125 ]
  run berth kill -s NOSUCHSIG x
  [ "$status" -eq 125 ]
  run berth logs --tail many x
  [ "$status" -eq 125 ]
  run berth start nosuch
  [ "$status" -eq 1 ]
  [ "$output" = "berth: no such container: \`nosuch\`" ]
}
