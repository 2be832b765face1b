#!/usr/bin/env bats
# Networks with podman (netavark) as the oracle and as a neighbour, in one host namespace the test
# makes: what a container sees of its network is what podman's sees (a default route through the
# gateway, lo up, its address and name in /etc/hosts, the bridge's MTU), the same masquerade is
# seen from outside, and berth's table and netavark's rules work side by side; whatever one
# removes leaves the other working.

load network_helpers

podman_cmd() {
  timeout -k 5 120 nsenter --net="/run/netns/$NETNS" podman --root "$PODMAN_DIR/root" --runroot "$PODMAN_DIR/run" \
    --storage-driver vfs --cgroup-manager cgroupfs --events-backend file --runtime runc "$@" 3>&-
}

ULIMITS=(--ulimit nofile=20000:20000 --ulimit nproc=4096:4096)

setup_file() {
  command -v podman >/dev/null && command -v runc >/dev/null || skip "podman or runc not installed (scripts/install-deps)"
  ctr_setup_file
  PODMAN_DIR=$(mktemp -d /tmp/bpn.XXXXXX) # podman's runroot stays under 50 characters
  export PODMAN_DIR
}

teardown_file() {
  [ -n "${PODMAN_DIR:-}" ] || return 0
  local m
  for m in $(awk -v d="$PODMAN_DIR" 'index($5, d) == 1 {print $5}' /proc/self/mountinfo | sort -r); do umount -l "$m"; done
  rm -rf --one-file-system "$PODMAN_DIR"
}

setup() {
  command -v podman >/dev/null && command -v runc >/dev/null || skip "podman or runc not installed"
  net_setup
  podman_cmd import "$CTR_TAR" localhost/bb >/dev/null 2>&1
}

teardown() {
  [ -n "${NETNS:-}" ] && podman_cmd rm -af -t 0 >/dev/null 2>&1
  [ -n "${NETNS:-}" ] && podman_cmd system reset -f >/dev/null 2>&1
  net_teardown
}

# one line per fact a container sees of its network
facts='
  echo "route=$(ip route | grep -c "^default via $(ip route | sed -n "s/^default via \([^ ]*\).*/\1/p") dev eth0")"
  echo "lo=$(ip -o link show lo | grep -c "LOOPBACK,UP")"
  echo "mtu=$(cat /sys/class/net/eth0/mtu)"
  a=$(ip -o -4 addr show eth0 | sed "s/.*inet \([0-9.]*\).*/\1/")
  echo "hosts=$(grep -c "^$a[[:space:]].*$(hostname)" /etc/hosts)"
  gw=$(ip route | sed -n "s/^default via \([^ ]*\).*/\1/p")
  echo "gateway-reachable=$(nc "$gw" 9 </dev/null 2>&1 | grep -c refused)"'

@test "network podman: a container sees the network podman's sees (route, lo, MTU, /etc/hosts, gateway)" {
  run podman_cmd run --rm "${ULIMITS[@]}" localhost/bb sh -c "$facts"
  [ "$status" -eq 0 ]
  want=$output
  run berth run --rm bb sh -c "$facts"
  [ "$status" -eq 0 ]
  [ "$output" = "$want" ]
  [[ $output == *"route=1"* ]]
  [[ $output == *"mtu=1500"* ]]
}

@test "network podman: side by side — both published ports answer, both masquerade as the host; each one's removal leaves the other working" {
  outside_setup
  podman_cmd run -d --name pweb "${ULIMITS[@]}" -p 8082:80 localhost/bb sh -c \
    "mkdir -p /www && echo 'hello from pweb' >/www/index.html && exec httpd -f -p 80 -h /www" >/dev/null
  web_run web -p 8080:80
  run host_get http://127.0.0.1:8080/
  [ "$output" = "hello from web" ]
  run host_get http://127.0.0.1:8082/
  [ "$output" = "hello from pweb" ]
  run in_outside sh -c 'for i in $(seq 100); do wget -q -T 2 -O- http://192.0.2.1:8080/ && exit 0; sleep 0.1; done; exit 1'
  [ "$output" = "hello from web" ]
  run in_outside sh -c 'for i in $(seq 100); do wget -q -T 2 -O- http://192.0.2.1:8082/ && exit 0; sleep 0.1; done; exit 1'
  [ "$output" = "hello from pweb" ]
  # the source address an outside listener sees, from a container of each
  for who in berth podman; do
    background in_outside python3 -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("192.0.2.2", 9000)); s.listen(1); c, a = s.accept(); c.sendall((a[0] + "\n").encode())'
    wait_until 30 in_outside sh -c 'ss -ltn | grep -q 192.0.2.2:9000'
    if [ "$who" = berth ]; then
      run berth run --rm bb sh -c 'nc 192.0.2.2 9000 </dev/null'
    else
      run podman_cmd run --rm "${ULIMITS[@]}" localhost/bb sh -c 'nc 192.0.2.2 9000 </dev/null'
    fi
    [ "$output" = 192.0.2.1 ]
  done
  # a berth container reaches podman's published port through the host, and the reverse
  run berth run --rm bb sh -c 'timeout 5 wget -q -O- http://10.87.0.1:8082/'
  [ "$output" = "hello from pweb" ]
  run podman_cmd run --rm "${ULIMITS[@]}" localhost/bb sh -c 'timeout 5 wget -q -O- http://10.88.0.1:8080/'
  [ "$output" = "hello from web" ]
  # berth's go: podman's still answers, nothing of berth's is left
  berth rm -f web >/dev/null
  run net_leftovers
  [ -z "$output" ]
  run host_get http://127.0.0.1:8082/
  [ "$output" = "hello from pweb" ]
  # podman's go: berth's (again) answers
  podman_cmd rm -f -t 0 pweb >/dev/null
  web_run web2 -p 8080:80
  run host_get http://127.0.0.1:8080/
  [ "$output" = "hello from web2" ]
}
