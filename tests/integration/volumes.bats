#!/usr/bin/env bats
# Volumes with real containers: volume create/ls/inspect/rm/prune, a volume in use refused, `rm -v`
# taking a container's anonymous volumes only, data persisting across containers, cp into a
# running and a stopped container's volume, and Docker's copy-up of the image's content into a
# new, empty volume. Every test's teardown fails it when a monitor, mount, cgroup, run dir or row
# is left.

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

volumes() { # the volume rows, by name
  sqlite3 "$BROOT/berth.db" 'SELECT name FROM volumes ORDER BY name' | tr '\n' ' '
}

@test "volumes: create, ls, inspect, rm — names, labels, filters and formats" {
  [ "$(berth volume create v1)" = v1 ]
  [ "$(berth volume create --label env=prod --label tier v2)" = v2 ]
  [ "$(berth volume create v1)" = v1 ] # an existing name: nothing changes
  run berth volume create
  [[ $output =~ ^[0-9a-f]{64}$ ]]
  random=$output
  run berth volume ls
  [[ ${lines[0]} =~ ^DRIVER\ +VOLUME\ NAME$ ]]
  [[ $output == *"local"*"v1"* ]]
  [ "$(berth volume ls -q | sort | tr '\n' ' ')" = "$(printf '%s\n' v1 v2 "$random" | sort | tr '\n' ' ')" ]
  [ "$(berth volume ls -q --filter label=env=prod)" = v2 ]
  [ "$(berth volume ls -q --filter label=tier --filter name=v)" = v2 ]
  [ "$(berth volume ls -q --filter name=v1 --filter name=v2 | tr '\n' ' ')" = "v1 v2 " ]
  [ "$(berth volume ls --filter name=v2 --format '{{.Name}} {{.Driver}} {{.Labels}}')" = "v2 local env=prod,tier=" ]
  [ "$(berth volume ls --filter name=v1 --format json | jq -r .Mountpoint)" = "$BROOT/volumes/v1/_data" ]
  run berth volume inspect v2
  [ "$(jq -r '.[0].Name, .[0].Driver, .[0].Scope, .[0].Labels.env, .[0].Mountpoint' <<<"$output" | tr '\n' ' ')" = \
    "v2 local local prod $BROOT/volumes/v2/_data " ]
  [[ $(jq -r '.[0].CreatedAt' <<<"$output") =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T ]]
  [ "$(berth volume inspect -f '{{.Name}}' v1 v2 | tr '\n' ' ')" = "v1 v2 " ]
  run -1 berth volume inspect nosuch
  [[ $output == *"no such volume"* ]]
  [ -d "$BROOT/volumes/v1/_data" ]
  [ "$(berth volume rm v1 "$random")" = "$(printf 'v1\n%s' "$random")" ]
  [ ! -e "$BROOT/volumes/v1" ]
  run -1 berth volume rm v1
  [[ $output == *"no such volume"* ]]
  berth volume rm -f v1
  # bad input: 125 for usage, 1 for what the engine refuses, nothing created
  run -1 berth volume create 'bad/name'
  run -1 berth volume create -d nfs v3
  [[ $output == *"not supported"* ]]
  run -1 berth volume create -o type=tmpfs v3
  run -125 berth volume ls --filter size=1
  [ "$(volumes)" = "v2 " ]
}

@test "volumes: ls --format and inspect -f are Go templates (table, .Label, maps and structs)" {
  berth volume create --label env=prod --label tier=web v2 >/dev/null
  berth volume create v1 >/dev/null
  run berth volume ls --format 'table {{.Name}}\t{{.Label "env"}}\t{{.Driver}}\t{{.Labels}}'
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "VOLUME NAME   env       DRIVER    LABELS" ]
  [ "${lines[1]}" = "v1                      local     " ]
  [ "${lines[2]}" = "v2            prod      local     env=prod,tier=web" ]
  [ "$(berth volume ls --format '{{.Name}}:{{.Scope}}:{{.Mountpoint}}' --filter name=v1)" = "v1:local:$BROOT/volumes/v1/_data" ]
  [ "$(berth volume ls --format json --filter name=v2 | jq -r .Labels)" = env=prod,tier=web ]
  [ "$(berth volume inspect -f '{{.Name}} {{.Labels.env}} {{.Labels.none}}|{{index .Labels "none"}}|{{.Options}}' v2)" = \
    "v2 prod <no value>||map[]" ]
  run --separate-stderr berth volume inspect -f '{{.Nope}}' v1
  [ "$status" -eq 1 ]
  [ "$stderr" = "berth volume inspect: template parsing error: template: :1:2: executing \"\" at <.Nope>: map has no entry for key \"Nope\"" ]
  run --separate-stderr berth volume ls --format '{{.Label "a" "b"}}'
  [ "$status" -eq 1 ]
  [[ $stderr == *"wrong number of args for Label: want 1 got 2" ]]
}

@test "volumes: one in use cannot be removed; rm -v takes anonymous volumes only; prune" {
  berth volume create named >/dev/null
  run_sleeper user -v named:/v
  id=$(berth inspect -f '{{.Id}}' user)
  run -1 berth volume rm named
  [[ $output == *"volume is in use - [$id]"* ]]
  berth stop user >/dev/null # a stopped container still uses it
  run -1 berth volume rm -f named
  [[ $output == *"in use"* ]]
  berth rm user >/dev/null
  berth volume rm named
  # anonymous volumes: --mount type=volume without a source
  berth run --name a1 --mount type=volume,target=/anon bb sh -c 'head -c 3000 /dev/zero >/anon/z'
  berth run --name a2 --mount type=volume,target=/anon -v keepme:/k bb true
  [ "$(sqlite3 "$BROOT/berth.db" 'SELECT count(*) FROM volumes')" = 3 ]
  berth rm -v a2 >/dev/null
  [ "$(sqlite3 "$BROOT/berth.db" 'SELECT count(*) FROM volumes')" = 2 ]
  [[ $(volumes) == *keepme* ]]
  run berth volume prune -f # a1's anonymous volume is in use: nothing goes
  [ "$output" = "Total reclaimed space: 0B" ]
  berth rm a1 >/dev/null # without -v: its volume stays, unused
  anon=$(sqlite3 "$BROOT/berth.db" "SELECT name FROM volumes WHERE name != 'keepme'")
  run bash -c "echo n | '$BERTH' --root '$BROOT' --runroot '$BRUN' volume prune"
  [[ $output == *"[y/N]"* ]]
  [ "$(sqlite3 "$BROOT/berth.db" 'SELECT count(*) FROM volumes')" = 2 ]
  run berth volume prune -f
  [ "$output" = "$(printf 'Deleted Volumes:\n%s\n\nTotal reclaimed space: 3kB' "$anon")" ]
  [ "$(volumes)" = "keepme " ] # a named volume goes with -a only
  berth volume create --label keep=1 labelled >/dev/null
  run berth volume prune -af --filter 'label!=keep=1'
  [[ $output == *keepme* ]]
  [ "$(volumes)" = "labelled " ]
  [ "$(ls "$BROOT/volumes")" = labelled ]
}

@test "volumes: data persists across containers; cp into a running and a stopped container's volume" {
  berth run --rm -v data:/d bb sh -c 'echo one >/d/f'
  [ "$(berth run --rm -v data:/d bb cat /d/f)" = one ]
  run_sleeper vs -v data:/d
  echo two >"$BATS_TEST_TMPDIR/two"
  berth cp "$BATS_TEST_TMPDIR/two" vs:/d/two
  [ "$(cat "$BROOT/volumes/data/_data/two")" = two ] # in the volume, not the container's layer
  [ "$(berth exec vs cat /d/two)" = two ]
  run_sleeper ro -v data:/d:ro
  run -1 berth cp "$BATS_TEST_TMPDIR/two" ro:/d/three
  [[ $output == *"Read-only file system"* ]]
  berth rm -f ro >/dev/null
  berth stop vs >/dev/null
  echo three >"$BATS_TEST_TMPDIR/three"
  berth cp "$BATS_TEST_TMPDIR/three" vs:/d/three
  [ "$(cat "$BROOT/volumes/data/_data/three")" = three ]
  berth cp vs:/d/f "$BATS_TEST_TMPDIR/f"
  [ "$(cat "$BATS_TEST_TMPDIR/f")" = one ]
  run ! grep -q "$BROOT" /proc/self/mountinfo
}

# an image with /data (owner 1000:1000, mode 0750) holding files, and one declaring VOLUME /data
data_images() {
  local x=$BATS_TEST_TMPDIR/extra
  mkdir -p "$x/data/sub"
  echo seeded >"$x/data/seed" && echo x >"$x/data/sub/x" && ln -s /etc "$x/data/etc"
  chown -R 1000:1000 "$x/data" && chmod 750 "$x/data"
  cp "$CTR_TAR" "$BATS_TEST_TMPDIR/img.tar"
  tar -C "$x" --numeric-owner -rf "$BATS_TEST_TMPDIR/img.tar" ./data
  berth import -c 'CMD ["sh"]' "$BATS_TEST_TMPDIR/img.tar" bbdata >/dev/null
  berth import -c 'CMD ["sh"]' -c 'VOLUME /data' "$BATS_TEST_TMPDIR/img.tar" bbvol >/dev/null
}

@test "volumes: a new, empty volume is filled from the image's content at its path (Docker's copy-up)" {
  data_images
  run berth run --rm -v pre:/data bbdata ls /data
  [ -n "$output" ]
  [ "$(berth run --rm -v pre:/data bbdata cat /data/seed /data/sub/x | tr '\n' ' ')" = "seeded x " ]
  [ "$(stat -c '%u:%g %a' "$BROOT/volumes/pre/_data")" = "1000:1000 750" ]
  [ "$(readlink "$BROOT/volumes/pre/_data/etc")" = /etc ] # a link, not the host's /etc copied
  # a volume with content is never filled again; nocopy leaves a new one empty
  berth run --rm -v pre:/data bbdata rm /data/seed
  [ -z "$(berth run --rm -v pre:/data bbdata ls /data/seed 2>/dev/null)" ]
  [ -z "$(berth run --rm --mount type=volume,source=nc,target=/data,volume-nocopy bbdata ls /data)" ]
  # an image's VOLUME: an anonymous volume, filled, gone with --rm
  [ "$(berth run --rm bbvol cat /data/seed)" = seeded ]
  [ "$(volumes)" = "nc pre " ]
  # an image declaring VOLUME / is refused (Docker: "destination can't be '/'"), nothing made
  berth import -c 'CMD ["sh"]' -c 'VOLUME /' "$BATS_TEST_TMPDIR/img.tar" bbroot >/dev/null
  run -125 berth run --rm bbroot true
  [[ $output == *"Volumes: \`/\`: a volume cannot be mounted over the container's root"* ]]
  [ "$(volumes)" = "nc pre " ]
  [ -z "$(berth ps -aq)" ]
}
