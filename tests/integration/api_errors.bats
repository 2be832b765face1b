#!/usr/bin/env bats
# Bad input to `berth system service`: malformed and unknown JSON, a body over the cap, an
# endpoint berth does not serve, a client too slow to send its request, more connections than
# the bound, clients that go away mid-stream, and a peer without access to the socket. Each
# gets Docker's JSON error or is dropped, and nothing is left behind: no container row, no
# connection process, no descriptor of the listener.

load api_helpers

setup() {
  api_setup
}

teardown() {
  api_teardown
}

# the listener's open descriptors
api_fds() { ls "/proc/$API_PID/fd" | wc -l; }

# raw SCRIPT: python3 with `s`, a connected unix socket to the service
raw() {
  timeout -k 5 60 /usr/bin/python3 -c "
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect('$API_SOCK')
$1"
}

@test "api errors: malformed JSON, unknown fields, wrong types and a missing image are 400/404 with Docker's {\"message\"}; nothing is made" {
  run api_curl -s -w '\n%{http_code}' -H 'Content-Type: application/json' -d '{"Image": "bb", ' /containers/create
  [ "${lines[-1]}" = 400 ]
  jq -e '.message | test("JSON|json")' <<<"${lines[0]}"
  run api_curl -s -w '\n%{http_code}' -H 'Content-Type: application/json' -d '{"Image": "bb", "Bogus": 1}' /containers/create
  [ "${lines[-1]}" = 400 ]
  jq -e '.message | test("Bogus")' <<<"${lines[0]}"
  run api_curl -s -w '\n%{http_code}' -H 'Content-Type: application/json' \
    -d '{"Image": "bb", "HostConfig": {"Memory": "lots"}}' /containers/create
  [ "${lines[-1]}" = 400 ]
  jq -e '.message | test("HostConfig.Memory")' <<<"${lines[0]}"
  run api_curl -s -w '\n%{http_code}' -H 'Content-Type: application/json' -d '{"Image": "nosuch"}' /containers/create
  [ "${lines[-1]}" = 404 ]
  jq -e '.message | test("nosuch")' <<<"${lines[0]}"
  run api_curl -s -w '\n%{http_code}' -X POST /containers/nosuch/start
  [ "${lines[-1]}" = 404 ]
  jq -e '.message | test("nosuch")' <<<"${lines[0]}"
  [ -z "$(ctr_ids)" ]
  # a name in use is a conflict
  docker create --name dup bb true >/dev/null
  run api_curl -s -w '\n%{http_code}' -H 'Content-Type: application/json' -d '{"Image": "bb"}' '/containers/create?name=dup'
  [ "${lines[-1]}" = 409 ]
  [ "$(ctr_ids | wc -l)" = 1 ]
}

@test "api errors: an endpoint berth does not serve is 501 naming it; an unknown path is 404; a body over the cap is 413" {
  run api_curl -s -w '\n%{http_code}' -X POST -d '{}' /v1.43/swarm/init
  [ "${lines[-1]}" = 501 ]
  jq -e '.message | test("^POST /v1.43/swarm/init is not supported")' <<<"${lines[0]}"
  run api_curl -s -w '\n%{http_code}' /v1.43/plugins
  [ "${lines[-1]}" = 501 ]
  jq -e '.message | test("^GET /v1.43/plugins is not supported")' <<<"${lines[0]}"
  run api_curl -s -w '\n%{http_code}' /v1.43/no/such/thing
  [ "${lines[-1]}" = 404 ]
  jq -e '.message' <<<"${lines[0]}"
  # 5 MiB of JSON: refused, the connection ends, nothing made
  head -c $((5 << 20)) /dev/zero | tr '\0' ' ' >"$WORK/big"
  printf '{"Image": "bb"}' >>"$WORK/big"
  run api_curl -s -w '\n%{http_code}' -H 'Content-Type: application/json' --data-binary "@$WORK/big" /containers/create
  [ "${lines[-1]}" = 413 ]
  jq -e '.message | test("too large")' <<<"${lines[0]}"
  [ -z "$(ctr_ids)" ]
  [ "$(api_curl -s /_ping)" = OK ]
}

@test "api errors: a slow client is dropped after --request-timeout; connections over --max-connections are refused; nothing leaks" {
  api_stop
  api_start --request-timeout 2 --max-connections 4
  fds=$(api_fds)
  # headers that never end: the connection is closed by the service (recv returns b'')
  run raw "
s.sendall(b'GET /_ping HTTP/1.1\r\nHost: x\r\n')
s.settimeout(30)
print('closed' if s.recv(100) == b'' else 'answered')"
  [ "$output" = closed ]
  # a body that stops half-way
  run raw "
s.sendall(b'POST /containers/create HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"Image\"')
s.settimeout(30)
d = s.recv(1000)
print('closed' if d == b'' or b' 400 ' in d or b' 408 ' in d else d)"
  [ "$output" = closed ]
  # four idle connections held open: a fifth is refused at once; once they go, requests are served
  # (a long request timeout here: the four must still be open when the fifth comes, however
  # slow the machine; the fifth waits until the service has a process for each of the four)
  api_stop
  api_start --request-timeout 60 --max-connections 4
  wait_until 30 no_api_conns # api_start's own pings: their processes would count among the four
  fds=$(api_fds)
  run raw "
more = [socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) for i in range(3)]
for m in more: m.connect('$API_SOCK')
def serving():
    try:
        return len(open('/proc/$API_PID/task/$API_PID/children').read().split())
    except OSError:
        return -1
end = time.time() + 30
while serving() < 4 and time.time() < end:
    time.sleep(0.05)
x = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
x.connect('$API_SOCK')
x.settimeout(30)
try: # the refusal may come before the request is out: a broken pipe, then
    x.sendall(b'GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n')
    d = x.recv(100)
except (BrokenPipeError, ConnectionResetError):
    d = b''
print('refused' if d == b'' else d)"
  [ "$output" = refused ]
  grep -q 'connections open: one refused' "$API_LOG"
  wait_until 30 no_api_conns
  [ "$(api_curl -s /_ping)" = OK ]
  [ "$(api_fds)" = "$fds" ]
}

@test "api errors: clients that go away mid-stream (logs -f, attach, events) end their connections; containers are untouched" {
  docker run -d --name talker bb sh -c 'while true; do echo tick; sleep 0.2; done' >/dev/null
  run api_curl -s -m 2 '/containers/talker/logs?follow=1&stdout=1'
  [ "$status" -eq 28 ] # curl's time-out: it went away with the stream open
  [[ $output == *tick* ]]
  /usr/local/bin/docker attach talker >"$WORK/attached" 2>&1 &
  BG_PIDS+=($!)
  wait_until 30 file_has "$WORK/attached" tick
  kill -9 "${BG_PIDS[@]}"
  run api_curl -s -m 2 '/events'
  [ "$status" -eq 28 ]
  wait_until 30 no_api_conns
  [ "$(docker inspect -f '{{.State.Running}}' talker)" = true ]
  docker rm -f talker >/dev/null
}

@test "api errors: a peer without access to the socket never reaches the engine" {
  chmod o+x "$CTR_DIR" # the socket's own mode is what is tested
  [ "$(stat -c '%a %U %G' "$API_SOCK")" = "660 root root" ]
  as_nobody() { setpriv --reuid 65534 --regid 65534 --clear-groups "$@"; }
  run as_nobody curl -s --unix-socket "$API_SOCK" http://x/_ping
  [ "$status" -eq 7 ] # connect(2): permission denied
  # even through a socket someone opened up, the service refuses the peer (SO_PEERCRED)
  chmod 0666 "$API_SOCK"
  run as_nobody curl -s -w '%{http_code}' -H 'Content-Type: application/json' -d '{"Image": "bb"}' \
    --unix-socket "$API_SOCK" http://x/containers/create
  [ "$status" -ne 0 ]
  [ "$output" = 000 ]
  grep -q 'a peer without access to the socket was refused' "$API_LOG"
  [ -z "$(ctr_ids)" ]
  # a member of the socket's group is let in
  api_stop
  api_start --group nogroup
  [ "$(stat -c '%a %U %G' "$API_SOCK")" = "660 root nogroup" ]
  run setpriv --reuid 65534 --regid 65534 --clear-groups curl -s --unix-socket "$API_SOCK" http://x/_ping
  [ "$output" = OK ]
}
