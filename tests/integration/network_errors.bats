#!/usr/bin/env bats
# Networks, bad input and crashes (issue 14): each bad input is a clear error that leaves nothing
# half-configured; a kill -9 of berth in the middle of a setup or a teardown (made deterministic
# with BERTH_TEST_NET_STOP: berth stops itself at that step) or of a monitor leaves only what
# `berth system check --repair` removes. berth runs inside a namespace of its own.

load network_helpers

setup_file() {
  ctr_setup_file
}

setup() {
  net_setup
}

teardown() {
  net_teardown
}

@test "network errors: overlapping subnets are refused, and nothing is made" {
  berth network create one --subnet 10.86.20.0/24 >/dev/null
  run berth network create two --subnet 10.86.20.128/25
  [ "$status" -ne 0 ]
  [[ $output == *"subnet 10.86.20.128/25 overlaps subnet 10.86.20.0/24 of network \`one\`"* ]]
  run berth network create three --subnet 10.87.1.0/24 # the default network's
  [ "$status" -ne 0 ]
  [[ $output == *"overlaps subnet 10.87.0.0/16 of network \`berth\`"* ]]
  [ "$(berth network ls --format '{{.Name}}' | sort | tr '\n' ' ')" = "berth one " ]
  run berth network create bad --subnet 10.86.30.0/24 --gateway 10.86.31.1
  [[ $output == *"gateway 10.86.31.1 is not inside subnet 10.86.30.0/24"* ]]
  run berth network create bad --subnet 10.86.30.0/24 --ip-range 10.86.0.0/16
  [[ $output == *"ip range 10.86.0.0/16 is not inside subnet 10.86.30.0/24"* ]]
  run berth network create bad -o foo=bar
  [[ $output == *"-o \`foo\`: unknown option"* ]]
  [ -z "$(net_leftovers)" ]
}

@test "network errors: an unknown network and an address outside the subnet stop create (no row)" {
  berth network create app --subnet 10.86.21.0/24 >/dev/null
  run berth run --network nope bb true
  [ "$status" -eq 125 ]
  [[ $output == *"network \`nope\` not found"* ]]
  run berth run --network app --ip 10.86.99.5 bb true
  [ "$status" -eq 125 ]
  [[ $output == *"address 10.86.99.5 is not inside subnet 10.86.21.0/24"* ]]
  run berth run --network app --ip 10.86.21.1 bb true
  [[ $output == *"is reserved"* ]]
  run berth run --network app --ip 10.86.21.10 --network-alias 'a b' bb true
  [[ $output == *"invalid alias"* ]]
  [ -z "$(ctr_ids)" ]
  [ -z "$(net_leftovers)" ]
}

@test "network errors: an address in use; a port published twice or taken on the host" {
  berth network create app --subnet 10.86.22.0/24 >/dev/null
  web_run web --network app --ip 10.86.22.10 -p 8080:80
  host_get http://127.0.0.1:8080/ >/dev/null
  before=$(in_host nft list ruleset)
  # the same --ip: created, the start refused; nothing of it in the kernel
  run berth run -d --name twin --network app --ip 10.86.22.10 bb sleep 1000
  [ "$status" -ne 0 ]
  [[ $output == *"address 10.86.22.10 is already in use"* ]]
  # the same host port
  run berth run -d --name again -p 8080:80 bb sleep 1000
  [ "$status" -ne 0 ]
  [[ $output == *"port 8080/tcp is already published by another container"* ]]
  # a port a host process listens on
  background in_host python3 -c 'import socket,time; s=socket.socket(); s.bind(("127.0.0.1", 8090)); s.listen(1); time.sleep(600)'
  wait_until 30 in_host sh -c 'ss -ltn | grep -q 127.0.0.1:8090'
  run berth run -d --name taken -p 8090:80 bb sleep 1000
  [ "$status" -ne 0 ]
  [[ $output == *"port 8090/tcp is already in use on the host"* ]]
  # none of the three has a lease, a port, a veth or a rule; the first still serves
  [ "$(sqlite3 "$BROOT/berth.db" 'SELECT count(*) FROM network_leases')" -eq 1 ]
  [ "$(sqlite3 "$BROOT/berth.db" 'SELECT count(*) FROM port_mappings')" -eq 1 ]
  [ "$(ip -n "$NETNS" -o link show | grep -c ' bv')" -eq 1 ]
  [ "$(in_host nft list ruleset)" = "$before" ]
  run host_get http://127.0.0.1:8080/
  [ "$output" = "hello from web" ]
  for c in twin again taken; do
    [ "$(berth inspect -f '{{.State.Status}}' "$c")" = created ]
  done
}

@test "network errors: a network in use is not removed (running or stopped containers), prune keeps it" {
  berth network create app >/dev/null
  berth run -d --name c1 --network app bb sleep 1000 >/dev/null
  berth create --name c2 --network app bb true >/dev/null
  run berth network rm app
  [ "$status" -ne 0 ]
  [[ $output == *"network \`app\` is in use by containers c1, c2"* ]]
  run berth network rm bridge
  [[ $output == *"is the default network and cannot be removed"* ]]
  berth network prune -f >/dev/null
  berth network inspect app >/dev/null
  berth rm -f c1 c2 >/dev/null
  run berth network prune -f
  [[ $output == *app* ]]
  run berth network inspect app
  [ "$status" -ne 0 ]
}

# stop berth at STEP of the setup of a detached run, kill -9 it; the monitor then ends
crash_setup_at() { # STEP NAME FLAGS...
  local step=$1 name=$2 pid i
  shift 2
  BERTH_TEST_NET_STOP=$step berth run -d --name "$name" "$@" bb sleep 1000 >/dev/null 2>&1 &
  local bg=$! # waited for alone: a bare `wait` also waits for the test's servers, forever
  for i in $(seq 600); do
    pid=$(pgrep -f -- "--root $BROOT .*run -d --name $name" | while read -r p; do
      [ "$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)" = T ] && echo "$p"; done | head -1)
    [ -n "$pid" ] && break
    sleep 0.05
  done
  [ -n "$pid" ] || { echo "berth did not stop at $step" >&2; return 1; }
  kill -9 "$pid"
  wait "$bg" 2>/dev/null || true
  # its monitor sees berth gone before GO and ends (and becomes a zombie until reaped)
  wait_until 30 no_monitor
}

no_monitor() { [ -z "$(ctr_monitors)" ]; }

# crash_setup_steps STEP...: for each step, berth killed (-9) there in the middle of a run's
# network setup; system check names it, --repair removes all of it, and the port is free again
crash_setup_steps() {
  berth network create app --subnet 10.86.23.0/24 >/dev/null
  local step
  for step in "$@"; do
    crash_setup_at "$step" "k$step" --network app -p 8080:80
    run berth system check
    [ "$status" -eq 1 ]
    [[ $output == *"network addresses of container"* ]]
    run berth system check --repair
    [ "$status" -eq 0 ]
    run net_leftovers
    [ -z "$output" ]
    run berth system check
    [ "$status" -eq 0 ]
    # the port is free again
    web_run "w$step" --network app -p 8080:80
    run host_get http://127.0.0.1:8080/
    [ "$output" = "hello from w$step" ]
    berth rm -f "w$step" "k$step" >/dev/null
  done
}

@test "network errors: kill -9 of berth in the middle of a setup (leases, links): system check --repair cleans up" {
  crash_setup_steps leases links
}

@test "network errors: kill -9 of berth in the middle of a setup (names, rules): system check --repair cleans up" {
  crash_setup_steps names rules
}

@test "network errors: kill -9 in the middle of a teardown, and of a monitor: repaired, or reclaimed by the next start" {
  web_run web -p 8080:80 --ip 10.87.0.50
  host_get http://127.0.0.1:8080/ >/dev/null
  # stop records the exit and tears down: stopped after the veths went, before the rows
  BERTH_TEST_NET_STOP=teardown berth stop -t 1 web >/dev/null 2>&1 &
  local bg=$!
  local pid i
  for i in $(seq 600); do
    pid=$(pgrep -f -- "--root $BROOT .* stop -t 1 web" | while read -r p; do
      [ "$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)" = T ] && echo "$p"; done | head -1)
    [ -n "$pid" ] && break
    sleep 0.05
  done
  [ -n "$pid" ]
  kill -9 "$pid"
  wait "$bg" 2>/dev/null || true
  wait_until 30 no_monitor # the monitor finds the exit recorded, ends
  run berth system check --repair
  [[ $output == *"network addresses of container"* ]]
  run net_leftovers
  [ -z "$output" ]
  # a monitor killed: the container dead, its address held until something reclaims it
  berth start web >/dev/null
  host_get http://127.0.0.1:8080/ >/dev/null
  kill -9 "$(berth inspect -f '{{.State.Pid}}' web)" "$(sqlite3 "$BROOT/berth.db" "SELECT monitor_pid FROM containers WHERE name = 'web'")"
  # the next start of a container wanting the same address reclaims it
  berth rm -f web >/dev/null 2>&1 || true
  web_run web2 -p 8080:80 --ip 10.87.0.50
  run host_get http://127.0.0.1:8080/
  [ "$output" = "hello from web2" ]
}

@test "network errors: --network modes that cannot publish, and bad -p, are refused before anything is made" {
  run berth run --network none -p 80 bb true
  [ "$status" -eq 125 ]
  [[ $output == *"conflicting options: port publishing and the network mode none"* ]]
  run berth run -p 8080:80/icmp bb true
  [[ $output == *"invalid protocol \"icmp\""* ]]
  run berth run --network host --ip 10.0.0.2 bb true
  [[ $output == *"need a network, not the network mode host"* ]]
  run berth run --network none --network app bb true
  [[ $output == *"only networks by name may be given more than once"* ]]
  [ -z "$(ctr_ids)" ]
}
