# shellcheck shell=bash
# api_helpers.bash: loaded by the API suites (api*.bats) — `berth system service` started by the
# test on a socket in its private store, driven by real clients: the Docker CLI 28, docker-py 7
# and docker-compose 1.29. A test that uses networks (`api_setup net`) runs the service inside
# a network namespace of its own (network_helpers.bash: bridges, veths and nftables rules never
# touch this machine's); the unix socket is a file, so the clients run on the host and reach the
# service across the namespace. Other tests run it here with no default network (as the engine
# suites do), so that it reaches the suite's registry on 127.0.0.1. The service is
# stopped by its pid; teardown fails the test when it did not exit cleanly, left its socket or a
# connection process, or when the store holds a container, mount, veth or rule it should not.

load registry_helpers
load network_helpers

api_requires() {
  command -v docker >/dev/null || skip "the docker CLI is not installed"
}

# berth ARGS...: the engine on the test's store, in the test's namespace when it has one
berth() {
  if [ -n "${NETNS:-}" ]; then
    timeout -k 5 300 nsenter --net="/run/netns/$NETNS" "$BERTH" --root "$BROOT" --runroot "$BRUN" "$@" 3>&-
  else
    timeout -k 5 300 "$BERTH" --root "$BROOT" --runroot "$BRUN" "$@" 3>&-
  fi
}

# api_setup [net]
api_setup() {
  api_requires
  NETNS=
  if [ "${1:-}" = net ]; then
    net_setup
  else
    BG_PIDS=()
    ctr_setup
  fi
  API_SOCK=$CTR_DIR/d.sock
  API_LOG=$CTR_DIR/service.log
  WORK=$CTR_DIR/work
  mkdir -p "$WORK"
  export DOCKER_HOST=unix://$API_SOCK DOCKER_CONFIG=$CTR_DIR/docker
  api_start
}

# api_start [OPTIONS...]: the service on $API_SOCK (no idle time-out); waits until it answers
api_start() {
  local ns=()
  [ -z "$NETNS" ] || ns=(nsenter --net="/run/netns/$NETNS")
  "${ns[@]}" "$BERTH" --root "$BROOT" --runroot "$BRUN" system service --time 0 "$@" \
    "unix://$API_SOCK" 3>&- >>"$API_LOG" 2>&1 &
  API_PID=$!
  local i
  for i in $(seq 300); do
    [ -S "$API_SOCK" ] && [ "$(api_curl -s /_ping)" = OK ] && return 0
    kill -0 "$API_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "the service did not come up:" >&2
  cat "$API_LOG" >&2
  return 1
}

# api_stop: SIGTERM, then it must exit 0 (within 30 s: it gives its connections 5) having
# removed its socket
api_stop() {
  [ -n "${API_PID:-}" ] || return 0
  local rc=0 p
  kill "$API_PID" 2>/dev/null
  if ! wait_until 30 exited "$API_PID"; then
    echo "the service did not exit within 30 s of SIGTERM:" >&2
    ps -o pid,ppid,stat,wchan:22,args -p "$API_PID" >&2
    ps -o pid,ppid,stat,wchan:22,args --ppid "$API_PID" >&2
    kill_tree "$API_PID"
  fi
  wait "$API_PID" || rc=$?
  API_PID=
  if [ "$rc" != 0 ]; then
    echo "the service exited $rc:" >&2
    cat "$API_LOG" >&2
    return 1
  fi
  [ ! -e "$API_SOCK" ] || { echo "the service left its socket $API_SOCK" >&2; return 1; }
}

# the service's connection processes (children of the listening one)
api_conns() {
  [ -n "${API_PID:-}" ] || return 0
  ps -o pid= --ppid "$API_PID" 2>/dev/null | tr -d ' '
}
no_api_conns() { [ -z "$(api_conns)" ]; }
api_conns_are() { [ "$(api_conns | wc -l)" = "$1" ]; }

api_teardown() {
  [ -n "${CTR_DIR:-}" ] || return 0
  local rc=0 p
  kill_background # clients the test left running
  if [ -n "${API_PID:-}" ]; then
    wait_until 20 no_api_conns || { echo "connections left: $(api_conns | tr '\n' ' ')" >&2; rc=1; }
    api_stop || rc=1
  fi
  for p in $(api_services); do # a service this test started and lost track of
    echo "a service left running: $p" >&2
    kill -9 "$p"
    rc=1
  done
  if [ -n "$NETNS" ]; then
    net_teardown || rc=1
  else
    ctr_teardown || rc=1
  fi
  return $rc
}

# services on this test's socket (their command line names it)
api_services() {
  local p
  for p in /proc/[0-9]*; do
    { tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null | grep -q -- "system service .*unix://$API_SOCK" && echo "${p#/proc/}"
  done
  return 0
}

# api_curl [CURL OPTIONS...] PATH: a raw request to the service
api_curl() {
  local path=${*: -1}
  curl --unix-socket "$API_SOCK" -m 60 "${@:1:$#-1}" "http://localhost$path"
}

# docker ARGS...: the Docker CLI on the service (bounded, never a daemon of this machine)
docker() {
  timeout -k 5 120 /usr/local/bin/docker "$@"
}
