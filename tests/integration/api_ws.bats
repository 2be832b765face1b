#!/usr/bin/env bats
# GET /containers/{id}/attach/ws: Docker's attach over a websocket (RFC 6455), driven by a real
# client, Debian's python3-websocket (websocket-client), through tests/integration/wsattach.py.
# What is checked is what the client reads back (frames, the close code) and that nothing stays
# behind: the connection process goes (api_teardown), the container runs on or has exited.

load api_helpers

WSPY=/usr/bin/python3

setup() {
  "$WSPY" -c 'import websocket' 2>/dev/null || skip "Debian's python3-websocket is not installed"
  api_setup
}

teardown() {
  local rc=0
  if [ -n "${TCP_PID:-}" ]; then # the test's second service, on loopback TCP
    kill "$TCP_PID" 2>/dev/null
    wait "$TCP_PID" || rc=1
    TCP_PID=
  fi
  api_teardown || rc=1
  return $rc
}

# ws PATH STEPS: wsattach.py against the service
ws() {
  timeout -k 5 120 "$WSPY" "$BATS_TEST_DIRNAME/wsattach.py" "$API_SOCK" "$@"
}

@test "api ws: attach to a running cat with stdin: binary, text and fragmented frames come back; ping is answered; our close ends the attach, the container runs on" {
  docker run -d -i --name cat bb cat >/dev/null
  run ws '/containers/cat/attach/ws?stream=1&stdin=1&stdout=1&stderr=1' \
    'send:hello over ws\n;expect:hello over ws\n;text:as text\n;expect:as text\n;frag:two |parts\n;expect:two parts\n;ping:are you there;close'
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"frame binary"* ]] # API 1.43: binary frames, no multiplexing header
  [[ $output != *"frame text"* ]]
  [[ $output == *"pong are you there"* ]]
  [[ $output == *"closed 1000"* ]]
  [[ $output == *"output: hello over ws\nas text\ntwo parts\n" ]]
  # detaching is not stopping: cat runs on, and a second attach reaches it
  [ "$(docker inspect -f '{{.State.Running}}' cat)" = true ]
  run ws '/containers/cat/attach/ws?stream=1&stdin=1&stdout=1' 'send:again\n;expect:again\n;close'
  [ "$status" -eq 0 ]
  # before API 1.42, Docker sent text frames
  run ws '/v1.41/containers/cat/attach/ws?stream=1&stdin=1&stdout=1' 'send:old\n;expect:old\n;close'
  [ "$status" -eq 0 ]
  [[ $output == *"frame text"* ]]
  docker rm -f cat >/dev/null
}

@test "api ws: logs=1 sends the earlier output first; the container's exit ends the stream with a close frame" {
  docker run -d -i --name talker bb sh -c 'echo early; echo err-early >&2; read line; echo "got $line"; exit 3' >/dev/null
  wait_until 30 eval '[ "$(docker logs talker 2>&1 | wc -l)" -ge 2 ]'
  run ws '/containers/talker/attach/ws?logs=1&stream=1&stdin=1&stdout=1&stderr=1' \
    'expect:early\n;expect:err-early\n;send:ping\n;expect:got ping\n;end'
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"closed 1000"* ]]
  [[ $output == *"eof"* ]]
  [[ $output == *"output: early\nerr-early\ngot ping\n" ]]
  [ "$(docker wait talker)" = 3 ]
  # stdout only: stderr is not sent; logs without stream: the log, then the close
  run ws '/containers/talker/attach/ws?logs=1&stdout=1' 'end'
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"output: early\ngot ping\n" ]]
  docker rm talker >/dev/null
}

@test "api ws: with a tty the detach keys (detachKeys, default ctrl-p,ctrl-q) end the attach and the container runs on" {
  docker run -d -it --name tty bb cat >/dev/null
  run ws '/containers/tty/attach/ws?stream=1&stdin=1&stdout=1' 'send:abc\n;expect:abc;send:\x10\x11;end'
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"closed 1000 detached"* ]]
  run ws '/containers/tty/attach/ws?stream=1&stdin=1&stdout=1&detachKeys=ctrl-x' 'send:\x10def\n;expect:def;send:\x18;end'
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"closed 1000 detached"* ]]
  [ "$(docker inspect -f '{{.State.Running}}' tty)" = true ]
  run api_curl -s -w '\n%{http_code}' -H 'Connection: Upgrade' -H 'Upgrade: websocket' \
    -H 'Sec-WebSocket-Version: 13' -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' \
    '/containers/tty/attach/ws?stream=1&detachKeys=ctrl-'
  [ "${lines[-1]}" = 400 ]
  [[ ${lines[0]} == *'detachKeys `ctrl-`'* ]]
  docker rm -f tty >/dev/null
}

@test "api ws: a bad handshake is a 400 naming what is wrong; a bad frame gets a close with 1002 or 1009; nothing is left" {
  docker run -d -i --name cat bb cat >/dev/null
  hs=(-H 'Connection: Upgrade' -H 'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13')
  url='/containers/cat/attach/ws?stream=1&stdin=1&stdout=1'
  run api_curl -s -w '\n%{http_code}' "${hs[@]}" "$url" # no key
  [ "${lines[-1]}" = 400 ]
  [[ ${lines[0]} == *'Sec-WebSocket-Key ``: expected the base64 of 16 bytes'* ]]
  run api_curl -s -w '\n%{http_code}' "${hs[@]}" -H 'Sec-WebSocket-Key: c2hvcnQ=' "$url"
  [ "${lines[-1]}" = 400 ]
  [[ ${lines[0]} == *'Sec-WebSocket-Key `c2hvcnQ=`'* ]]
  run api_curl -s -w '\n%{http_code}' -H 'Connection: Upgrade' -H 'Upgrade: websocket' \
    -H 'Sec-WebSocket-Version: 8' -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' "$url"
  [ "${lines[-1]}" = 400 ]
  [[ ${lines[0]} == *'Sec-WebSocket-Version `8`: only version 13'* ]]
  run api_curl -s -w '\n%{http_code}' -H 'Sec-WebSocket-Version: 13' \
    -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' "$url" # no Upgrade
  [ "${lines[-1]}" = 400 ]
  [[ ${lines[0]} == *'not a websocket handshake'* ]]
  run api_curl -s -w '\n%{http_code}' "${hs[@]}" -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' \
    '/containers/nosuch/attach/ws?stream=1'
  [ "${lines[-1]}" = 404 ]
  # an unmasked frame, a reserved opcode, a frame over the 1 MiB cap: closed with the reason
  run ws "$url" 'raw:81026869;end'
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"closed 1002 an unmasked frame from the client"* ]]
  run ws "$url" 'raw:83810000000078;end'
  [[ $output == *"closed 1002 a reserved opcode"* ]]
  run ws "$url" 'raw:82ff0000000040000000;end'
  [[ $output == *"closed 1009 a frame over the size cap"* ]]
  # the container never saw any of it and still answers
  run ws "$url" 'send:still here\n;expect:still here\n;close'
  [ "$status" -eq 0 ]
  [ "$(docker logs cat)" = "still here" ]
  docker rm -f cat >/dev/null
}

@test "api ws: attached before the start, the client misses nothing of the output; a client that vanishes ends its connection" {
  docker create -i --name late bb sh -c 'echo first-line; read line; echo "got $line"' >/dev/null
  ws '/containers/late/attach/ws?stream=1&stdin=1&stdout=1' 'expect:first-line\n;send:x\n;expect:got x\n;end' \
    >"$WORK/late.out" 2>&1 &
  BG_PIDS+=($!)
  # the attach waits for the start on a socket of its own (the start hands it the monitor's)
  wait_until 30 eval 'compgen -G "$BRUN/api/attach/$(docker inspect -f "{{.Id}}" late).*" >/dev/null'
  docker start late >/dev/null
  wait "${BG_PIDS[-1]}"
  cat "$WORK/late.out"
  [[ $(cat "$WORK/late.out") == *"closed 1000"*"output: first-line\ngot x\n"* ]]
  [ "$(docker wait late)" = 0 ]
  docker rm late >/dev/null
  # a client killed mid-attach: its connection process goes, the container runs on
  docker run -d -i --name cat bb cat >/dev/null
  "$WSPY" "$BATS_TEST_DIRNAME/wsattach.py" "$API_SOCK" '/containers/cat/attach/ws?stream=1&stdin=1&stdout=1' \
    'send:hi\n;expect:hi\n;expect:never' >/dev/null 2>&1 & # the client itself: killed below
  BG_PIDS+=($!)
  wait_until 30 eval '[ "$(docker logs cat)" = hi ]'
  kill -9 "${BG_PIDS[-1]}"
  wait_until 30 no_api_conns
  [ "$(docker inspect -f '{{.State.Running}}' cat)" = true ]
  docker rm -f cat >/dev/null
}

@test "api ws: docker-py's attach_socket(ws=True), over loopback TCP (its websocket needs a ws:// URL)" {
  "$WSPY" -c 'import docker' 2>/dev/null || skip "Debian's python3-docker is not installed"
  port=$("$WSPY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "$BERTH" --root "$BROOT" --runroot "$BRUN" system service --time 0 --insecure-loopback \
    "tcp://127.0.0.1:$port" 3>&- >>"$API_LOG" 2>&1 &
  TCP_PID=$!
  wait_until 30 eval "[ \"\$(curl -s -m 5 http://127.0.0.1:$port/_ping)\" = OK ]"
  docker run -d -i --name cat bb sh -c 'echo ready; cat' >/dev/null
  run timeout -k 5 120 "$WSPY" - "$port" <<'PY'
import sys, docker
c = docker.APIClient(base_url="tcp://127.0.0.1:" + sys.argv[1], version="auto")
ws = c.attach_socket("cat", params={"stdin": 1, "stdout": 1, "stream": 1, "logs": 1}, ws=True)
ws.settimeout(60)
out = b""
while b"ready\n" not in out:
    out += ws.recv()
ws.send_binary(b"from docker-py\n")
while b"from docker-py\n" not in out:
    out += ws.recv()
ws.close()
print(out.decode(), end="")
PY
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = "$(printf 'ready\nfrom docker-py')" ]
  [ "$(docker inspect -f '{{.State.Running}}' cat)" = true ]
  docker rm -f cat >/dev/null
}
