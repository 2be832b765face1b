#!/usr/bin/env bats
# Networks (issue 14), berth inside a network namespace each test makes (network_helpers.bash):
# containers talking over the default bridge and user networks, names, published ports from the
# host and from a namespace playing an outside host, masquerade, --internal, host and none
# modes, and, after every test, nothing of berth's left in the namespace.

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

# in a container of FLAGS: retry CMD until it succeeds (a server may still be starting)
ctr_retry() { # FLAGS... -- CMD
  local flags=()
  while [ "$1" != -- ]; do
    flags+=("$1")
    shift
  done
  shift
  berth run --rm "${flags[@]}" bb sh -c "i=0; while [ \$i -lt 100 ]; do $* && exit 0; i=\$((i+1)); sleep 0.1; done; exit 1"
}

@test "network: --network bridge is the default network berth on berth0, with eth0, a route and lo up" {
  run berth run --rm --network bridge bb sh -c 'ip -o addr show eth0; ip route; ip -o link show lo; cat /etc/hosts'
  [ "$status" -eq 0 ]
  [[ $output == *"inet 10.87.0.2/16"* ]]
  [[ $output == *"default via 10.87.0.1 dev eth0"* ]]
  [[ $output == *"lo: <LOOPBACK,UP"* ]]
  grep -qE '^10\.87\.0\.2[[:space:]]+[0-9a-f]{12}$' <<<"$output"
  # the same without --network: the default network; the row says so
  run berth run --name dd bb ip -o -4 addr show eth0
  [ "$status" -eq 0 ]
  [[ $output == *"10.87.0."* ]]
  [ "$(berth inspect -f '{{.HostConfig.NetworkMode}}' dd)" = bridge ]
  [ "$(berth network inspect bridge | jq -r '.[0] | "\(.Name) \(.IPAM.Config[0].Subnet) \(.Options["com.docker.network.bridge.name"])"')" = "berth 10.87.0.0/16 berth0" ]
}

@test "network: the default bridge with runc as the runtime (the netns joined by path)" {
  command -v runc >/dev/null || skip "runc not installed"
  CTR_RUNC=1
  run berth run --rm --runtime runc --sysctl net.ipv4.ip_unprivileged_port_start=0 bb \
    sh -c 'ip -o -4 addr show eth0; ip -o link show lo; cat /proc/sys/net/ipv4/ip_unprivileged_port_start'
  [ "$status" -eq 0 ]
  [[ $output == *"inet 10.87.0.2/16"* ]]
  [[ $output == *"lo: <LOOPBACK,UP"* ]]
  [ "${lines[-1]}" = 0 ]
}

@test "network: containers on the default bridge reach each other (ping, TCP through httpd and nc)" {
  web_run web
  ip=$(ctr_ip web)
  [[ $ip == 10.87.0.* ]]
  run ctr_retry -- "timeout 5 wget -q -O- http://$ip/"
  [ "$status" -eq 0 ]
  [ "$output" = "hello from web" ]
  run berth run --rm bb ping -c 1 -W 2 "$ip"
  [ "$status" -eq 0 ]
  berth run -d --name echo bb nc -ll -p 7000 -e cat >/dev/null
  eip=$(ctr_ip echo)
  run ctr_retry -- "echo ping-over-tcp | nc $eip 7000 | grep -q ping-over-tcp"
  [ "$status" -eq 0 ]
  # no names on the default network (as Docker's and podman's)
  run berth run --rm bb nslookup web 10.87.0.1
  [ "$status" -ne 0 ]
  [ -z "$(net_resolvers)" ]
}

@test "network: names and aliases resolve on a user network, through its resolver on the gateway" {
  berth network create app --subnet 10.86.7.0/24 >/dev/null
  web_run web --network app --network-alias www
  ip=$(ctr_ip web app)
  [ "$ip" = 10.86.7.2 ]
  run berth run --rm --network app bb cat /etc/resolv.conf
  [[ $output == *"nameserver 10.86.7.1"* ]]
  run berth run --rm --network app bb nslookup web
  [ "$status" -eq 0 ]
  [[ $output == *"Address: 10.86.7.2"* ]]
  run berth run --rm --network app bb nslookup www
  [[ $output == *"Address: 10.86.7.2"* ]]
  # the short id resolves too, and the container's own name from inside it
  short=$(berth inspect -f '{{.Id}}' web | cut -c1-12)
  run berth run --rm --network app bb nslookup "$short"
  [[ $output == *"Address: 10.86.7.2"* ]]
  # TCP by name
  run ctr_retry --network app -- "printf 'GET / HTTP/1.0\r\n\r\n' | nc www 80 | grep -q 'hello from web'"
  [ "$status" -eq 0 ]
  # one resolver for the network while it has containers; gone with the last
  [ "$(net_resolvers | wc -l)" -eq 1 ]
  berth rm -f web >/dev/null
  no_resolvers() { [ -z "$(net_resolvers)" ]; }
  wait_until 30 no_resolvers # told to end, not waited for
  # a container of the default network does not see the user network's names
  run berth run --rm bb nslookup web 10.86.7.1
  [ "$status" -ne 0 ]
}

@test "network: the resolver forwards other names to the network's --dns upstream, and none leaves" {
  # the test's own upstream inside the host namespace
  background in_host python3 "$INTEGRATION_DIR/dnsd.py" 127.0.0.53 53 outside.test=192.0.2.99
  wait_until 30 in_host sh -c 'ss -lun | grep -q 127.0.0.53:53'
  berth network create app --dns 127.0.0.53 >/dev/null
  berth run -d --name web --network app bb sleep 1000 >/dev/null
  run berth run --rm --network app bb nslookup outside.test
  [ "$status" -eq 0 ]
  [[ $output == *"192.0.2.99"* ]]
  # a name the upstream does not know either: its answer (NXDOMAIN), relayed
  run berth run --rm --network app bb nslookup nowhere.test
  [ "$status" -ne 0 ]
}

@test "network: a published port answers on 127.0.0.1 and on the bridge address of the host" {
  web_run web -p 8080:80 -p 127.0.0.1:8081:80
  run host_get http://127.0.0.1:8080/
  [ "$output" = "hello from web" ]
  run host_get http://10.87.0.1:8080/
  [ "$output" = "hello from web" ]
  run host_get http://127.0.0.1:8081/
  [ "$output" = "hello from web" ]
  # 8081 is bound to 127.0.0.1 only
  run in_host timeout 5 wget -q -O- http://10.87.0.1:8081/
  [ "$status" -ne 0 ]
  # hairpin: a container reaching a published port of the host
  run ctr_retry -- "timeout 5 wget -q -O- http://10.87.0.1:8080/ | grep -q 'hello from web'"
  [ "$status" -eq 0 ]
  run berth port web
  [[ $output == *"80/tcp -> 0.0.0.0:8080"* ]]
  [[ $output == *"80/tcp -> 127.0.0.1:8081"* ]]
  run berth port web 80/tcp
  [[ ${lines[0]} == "0.0.0.0:8080" ]]
  [ "$(berth inspect web | jq -r '.[0].NetworkSettings.Ports["80/tcp"][0].HostPort')" = 8080 ]
}

@test "network: -p 80 and -P take free host ports; port ranges map one to one" {
  berth run -d --name rr -p 80 -p 9000-9001:7000-7001 --expose 5000 -P bb sleep 1000 >/dev/null
  run berth port rr
  [ "$status" -eq 0 ]
  [[ $output =~ 80/tcp\ -\>\ 0\.0\.0\.0:[0-9]+ ]]
  [[ $output == *"7000/tcp -> 0.0.0.0:9000"* ]]
  [[ $output == *"7001/tcp -> 0.0.0.0:9001"* ]]
  [[ $output =~ 5000/tcp\ -\>\ 0\.0\.0\.0:[0-9]+ ]]
  p80=$(berth port rr 80 | sed 's/.*://')
  [ "$p80" -gt 1023 ]
}

@test "network: a host outside reaches a published port, and sees a container's traffic from the host's address" {
  outside_setup
  web_run web -p 8080:80
  run in_outside sh -c 'for i in $(seq 100); do timeout 5 wget -q -O- http://192.0.2.1:8080/ && exit 0; sleep 0.1; done; exit 1'
  [ "$status" -eq 0 ]
  [ "$output" = "hello from web" ]
  # a listener outside writes the address it sees
  background in_outside python3 -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("192.0.2.2", 9000)); s.listen(1); c, a = s.accept(); c.sendall((a[0] + "\n").encode())'
  wait_until 30 in_outside sh -c 'ss -ltn | grep -q 192.0.2.2:9000'
  run berth run --rm bb sh -c 'nc 192.0.2.2 9000 </dev/null'
  [ "$status" -eq 0 ]
  [ "$output" = 192.0.2.1 ] # masqueraded: not 10.87.0.x
}

@test "network: --internal has no way out and no way in, but its containers talk" {
  outside_setup
  berth network create --internal closed --subnet 10.86.9.0/24 >/dev/null
  web_run web --network closed
  ip=$(ctr_ip web closed)
  run ctr_retry --network closed -- "timeout 5 wget -q -O- http://$ip/ | grep -q 'hello from web'"
  [ "$status" -eq 0 ]
  run berth run --rm --network closed bb sh -c 'ip route; ping -c 1 -W 1 192.0.2.2'
  [ "$status" -ne 0 ]
  [[ $output != *default* ]]
  # even with a route the forward chain drops it
  run berth run --rm --network closed --cap-add NET_ADMIN bb sh -c 'ip route add default via 10.86.9.1; ping -c 1 -W 1 192.0.2.2'
  [ "$status" -ne 0 ]
  # and the default network cannot reach into it
  run berth run --rm bb ping -c 1 -W 1 "$ip"
  [ "$status" -ne 0 ]
}

@test "network: networks are isolated from each other" {
  berth network create one --subnet 10.86.11.0/24 >/dev/null
  berth network create two --subnet 10.86.12.0/24 >/dev/null
  web_run web --network one
  ip=$(ctr_ip web one)
  # --init: busybox's timeout execs wget in its own pid and signals it, and a pid 1 without a
  # handler ignores SIGTERM (the dropped SYNs then take two minutes to give up)
  run berth run --rm --init --network two bb timeout 5 wget -q -O- "http://$ip/"
  # wget's own failure (1) or timeout's SIGTERM (143): the container ran, and did not get through
  [ "$status" -eq 1 ] || [ "$status" -eq 143 ]
  # a container on both reaches it
  run ctr_retry --network two --network one -- "timeout 5 wget -q -O- http://$ip/ | grep -q 'hello from web'"
  [ "$status" -eq 0 ]
}

@test "network: host and none modes" {
  run berth run --rm --network host bb ip -o link show
  [ "$status" -eq 0 ]
  [[ $output == *" lo:"* ]]
  [[ $output != *eth0* ]]
  [ "$(in_host readlink /proc/self/ns/net)" = "$(berth run --rm --network host bb readlink /proc/self/ns/net)" ]
  run berth run --rm --network none bb sh -c 'ip -o link show; nc -l -p 9 -e echo up & for i in $(seq 100); do nc 127.0.0.1 9 </dev/null && exit; sleep 0.1; done; exit 1'
  [ "$status" -eq 0 ]
  [[ $output == *"lo: <LOOPBACK,UP"* ]]
  [[ $output != *eth0* ]]
  [[ $output == *up* ]]
  [ -z "$(net_leftovers)" ]
}

@test "network: a FORWARD policy DROP of iptables (Docker's) does not cut the containers off" {
  command -v iptables >/dev/null || skip "iptables not installed"
  outside_setup
  in_host iptables -P FORWARD DROP
  in_host iptables -A FORWARD -i nowhere0 -j ACCEPT
  web_run web -p 8080:80
  run in_outside sh -c 'for i in $(seq 100); do timeout 5 wget -q -O- http://192.0.2.1:8080/ && exit 0; sleep 0.1; done; exit 1'
  [ "$status" -eq 0 ]
  run berth run --rm bb ping -c 1 -W 2 192.0.2.2
  [ "$status" -eq 0 ]
  # iptables still reads its chain, with berth's rules in it, and its own stays
  run in_host iptables -S FORWARD
  [ "$status" -eq 0 ]
  [[ $output == *"-P FORWARD DROP"* ]]
  [[ $output == *"-i berth0 -m comment --comment berth -j ACCEPT"* ]]
  [[ $output == *"-i nowhere0 -j ACCEPT"* ]]
  berth rm -f web >/dev/null
  run in_host iptables -S FORWARD
  [[ $output != *berth* ]]
  [[ $output == *"-i nowhere0 -j ACCEPT"* ]]
  in_host iptables -P FORWARD ACCEPT
  in_host iptables -F FORWARD
}

@test "network: after rm nothing is left — no veth, address, rule, table or resolver" {
  berth network create app >/dev/null
  web_run web --network app -p 8080:80
  web_run web2 -p 8081:80
  [ -n "$(net_leftovers)" ]
  run in_host nft list table inet berth
  [[ $output == *"dnat ip to"* ]]
  berth rm -f web web2 >/dev/null
  run net_leftovers
  [ -z "$output" ]
  [ -z "$(sqlite3 "$BROOT/berth.db" 'SELECT * FROM network_leases; SELECT * FROM port_mappings')" ]
}

@test "network: concurrent runs get distinct addresses" {
  local i pids=()
  for i in $(seq 8); do
    berth run -d --name "c$i" bb sleep 1000 >"$BATS_TEST_TMPDIR/out$i" 2>&1 &
    pids+=($!)
  done
  for i in "${pids[@]}"; do wait "$i"; done
  for i in $(seq 8); do ctr_ip "c$i"; done >"$BATS_TEST_TMPDIR/ips"
  [ "$(sort -u "$BATS_TEST_TMPDIR/ips" | grep -c '^10\.87\.0\.')" -eq 8 ]
  [ "$(ip -n "$NETNS" -o link show master berth0 | wc -l)" -eq 8 ]
}

@test "network: connect and disconnect a running container" {
  berth network create app --subnet 10.86.13.0/24 >/dev/null
  berth run -d --name c1 bb sleep 1000 >/dev/null
  berth network connect --alias extra app c1
  run berth exec c1 ip -o -4 addr show eth1
  [[ $output == *"inet 10.86.13.2/24"* ]]
  run berth run --rm --network app bb nslookup extra
  [[ $output == *"Address: 10.86.13.2"* ]]
  run berth network rm app
  [ "$status" -ne 0 ]
  [[ $output == *"network \`app\` is in use by container c1"* ]]
  berth network disconnect app c1
  run berth exec c1 ip -o link show eth1
  [ "$status" -ne 0 ]
  berth network rm app
}

@test "network: dual stack with --ipv6" {
  berth network create --ipv6 --subnet 10.86.14.0/24 --subnet fd86:14::/64 six >/dev/null
  web_run web --network six
  ip6=$(berth inspect web | jq -r '.[0].NetworkSettings.Networks.six.GlobalIPv6Address')
  [ "$ip6" = fd86:14::2 ]
  run ctr_retry --network six -- "timeout 5 wget -q -O- http://[$ip6]/ | grep -q 'hello from web'"
  [ "$status" -eq 0 ]
  run berth run --rm --network six bb nslookup -type=aaaa web
  [[ $output == *"fd86:14::2"* ]]
}

@test "network: ls --format and inspect -f are Go templates (table, .Label, the IPAM struct, Options map)" {
  berth network create --label env=prod --label com.example.tier=db --subnet 10.86.15.0/24 lab >/dev/null
  run berth network ls --filter name=lab --format 'table {{.Name}}\t{{.Driver}}\t{{.Label "com.example.tier"}}\t{{.Labels}}'
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "NAME      DRIVER    tier      LABELS" ]
  [ "${lines[1]}" = "lab       bridge    db        com.example.tier=db,env=prod" ]
  [ "$(berth network ls --filter name=lab --format '{{.Name}} {{.Scope}} {{.Internal}} {{.IPv4}} {{len .ID}}')" = \
    "lab local false true 12" ]
  [ "$(berth network inspect -f '{{.Name}} {{range .IPAM.Config}}{{.Subnet}}{{end}} {{.Labels.env}} {{index .Options "none"}}|' lab)" = \
    "lab 10.86.15.0/24 prod |" ]
  run --separate-stderr berth network inspect -f '{{.IPAM.Nope}}' lab
  [ "$status" -eq 1 ]
  [ "$stderr" = "berth network inspect: template parsing error: template: :1:7: executing \"\" at <.IPAM.Nope>: map has no entry for key \"Nope\"" ]
  berth network rm lab >/dev/null
}
