# shellcheck shell=bash
# network_helpers.bash: loaded by the network suites (network*.bats). berth runs inside a
# throwaway "host" network namespace each test makes (entered with nsenter --net, not `ip netns
# exec`, which would remount /sys), so its bridges, veths, addresses and nftables rules never
# touch this machine's own. Another namespace can play a host outside (192.0.2.2, reached
# through a veth pair the test makes; the host side is 192.0.2.1). Traffic goes only to
# 127.0.0.0/8 and to addresses inside these namespaces; resolvers forward only to the test's own.
#
# Teardown removes the containers and networks and fails the test when a veth or bridge of
# berth, an address, table inet berth, a rule of berth in iptables' chains or a resolver is
# left in the namespace.

load containers_helpers

net_setup() {
  NETNS=bn$$-${BATS_TEST_NUMBER}
  BG_PIDS=()
  ip netns add "$NETNS"
  ip -n "$NETNS" link set lo up
  unset BERTH_DEFAULT_NETWORK
  ctr_setup
}

# berth ARGS...: the engine inside the test's host namespace
berth() {
  timeout -k 5 300 nsenter --net="/run/netns/$NETNS" "$BERTH" --root "$BROOT" --runroot "$BRUN" "$@" 3>&-
}

# in_host CMD...: a command in the test's host namespace
in_host() {
  nsenter --net="/run/netns/$NETNS" "$@"
}

# outside_setup: namespace $OUTNS at 192.0.2.2, joined to the host namespace (192.0.2.1)
outside_setup() {
  OUTNS=${NETNS}o
  ip netns add "$OUTNS"
  ip -n "$OUTNS" link set lo up
  ip link add "tvh$$" netns "$NETNS" type veth peer name "tvo$$" netns "$OUTNS"
  ip -n "$NETNS" addr add 192.0.2.1/24 dev "tvh$$"
  ip -n "$NETNS" link set "tvh$$" up
  ip -n "$OUTNS" addr add 192.0.2.2/24 dev "tvo$$"
  ip -n "$OUTNS" link set "tvo$$" up
}

in_outside() {
  nsenter --net="/run/netns/$OUTNS" "$@"
}

# the resolvers of this store (their command line names its run root)
net_resolvers() {
  local p
  for p in /proc/[0-9]*; do
    { tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null | grep -q -- "berth-dns --names $BRUN/" && echo "${p#/proc/}"
  done
  return 0
}

# what berth may have left in the host namespace, one line each (nothing when clean). A network's
# bridge lives as long as the network (the default one's berth0 stays, as docker0 does); a
# stopped container's veth is set down at once and goes with its namespace (no_veths waits).
net_leftovers() {
  ip -n "$NETNS" -o link show up 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' | grep -E '^bv' |
    sed 's/^/link /'
  ip -n "$NETNS" -o link show 2>/dev/null | awk -F': ' '{print $2}' | grep -E '^berth' |
    grep -vxF -f <(berth network ls --format '{{.ID}}' -q --no-trunc 2>/dev/null | while read -r id; do
      berth network inspect "$id" 2>/dev/null | jq -r '.[0].Options["com.docker.network.bridge.name"]'
    done) | sed 's/^/bridge /'
  ip -n "$NETNS" -o addr show 2>/dev/null | grep -vE ': (lo|berth[0-9]+) ' | grep -E ' (10\.8[67]\.|fd86:)' |
    sed 's/^/address /'
  in_host nft list tables 2>/dev/null | grep -w berth | sed 's/^/nft /'
  in_host nft list ruleset 2>/dev/null | grep 'comment "berth"' | sed 's/^/rule /'
  net_resolvers | sed 's/^/resolver /'
  [ -z "$(ls "$BRUN/networks" 2>/dev/null | grep -v '^ruleset$')" ] || ls "$BRUN/networks" | sed 's/^/state /'
  return 0
}

# no veth of berth left at all (a stopped container's goes with its namespace, in the background)
no_veths() {
  ! ip -n "$NETNS" -o link show 2>/dev/null | awk -F': ' '{print $2}' | grep -q '^bv'
}

net_teardown() {
  [ -n "${NETNS:-}" ] || return 0
  local rc=0 left id p
  kill_background
  if [ -d "${CTR_DIR:-}" ]; then
    for id in $(ctr_ids); do berth rm -f "$id" >/dev/null 2>&1; done
    berth network prune -f >/dev/null 2>&1
    wait_until 20 no_veths || echo "veths left: $(ip -n "$NETNS" -o link show | grep ' bv')" >&2
    left=$(net_leftovers)
    if [ -n "$left" ]; then
      printf 'left behind in the host namespace: %s\n' "$left" >&2
      rc=1
    fi
  fi
  ctr_teardown || rc=1
  for p in $(net_resolvers); do kill -9 "$p" 2>/dev/null; done
  [ -n "${OUTNS:-}" ] && ip netns del "$OUTNS" 2>/dev/null
  ip netns del "$NETNS" 2>/dev/null
  return $rc
}

# the container's address on a network (the first when no network is named)
ctr_ip() { # NAME [NETWORK]
  if [ -n "${2:-}" ]; then
    berth inspect "$1" | jq -r --arg n "$2" '.[0].NetworkSettings.Networks[$n].IPAddress'
  else
    berth inspect -f '{{.NetworkSettings.IPAddress}}' "$1"
  fi
}

# a web server container: NAME, then run flags; it serves "hello from NAME" on port 80
web_run() { # NAME FLAGS...
  local name=$1
  shift
  berth run -d --name "$name" "$@" bb sh -c \
    "mkdir -p /www && echo 'hello from $name' >/www/index.html && exec httpd -f -p 80 -h /www" >/dev/null
}

# fetch URL from the host namespace until it answers (the server may still be starting)
host_get() { # URL
  local i out
  for i in $(seq 100); do
    out=$(in_host wget -q -T 2 -O- "$1" 2>/dev/null) && { echo "$out"; return 0; }
    sleep 0.1
  done
  return 1
}
