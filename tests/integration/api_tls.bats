#!/usr/bin/env bats
# `berth system service` on tcp:// with TLS client authentication (--tlsverify --tlscacert
# --tlscert --tlskey, dockerd's flags; docs/design/api.md, "TLS"), driven by the Docker CLI 28
# and docker-py 7 over TLS on 127.0.0.1: a CA, a server certificate and client certificates
# made by openssl for the suite, and clients the service must refuse (no certificate, another
# CA's, an expired one, one not meant for clients, plain HTTP) before anything reaches the
# engine. Bad flags and files are each a clear error before anything listens.

load api_helpers

# pem NAME: a new EC key NAME-key.pem in $CERTS
pem_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "$CERTS/$1-key.pem" 2>/dev/null; }

# pem_ca NAME: a self-signed CA
pem_ca() {
  pem_key "$1"
  openssl req -x509 -new -key "$CERTS/$1-key.pem" -out "$CERTS/$1.pem" -days 3 -subj "/CN=$1" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
}

# pem_leaf NAME CA EXTENSIONS: a certificate signed by CA
pem_leaf() {
  pem_key "$1"
  openssl req -new -key "$CERTS/$1-key.pem" -out "$CERTS/$1.csr" -subj "/CN=$1" 2>/dev/null
  openssl x509 -req -in "$CERTS/$1.csr" -CA "$CERTS/$2.pem" -CAkey "$CERTS/$2-key.pem" -CAcreateserial \
    -days 3 -out "$CERTS/$1.pem" -extfile <(printf '%s\n' "$3") 2>/dev/null
}

# pem_expired NAME CA: valid for one day in 2020 (`openssl ca` takes explicit dates; OpenSSL
# 3.0's `x509 -req` does not)
pem_expired() {
  pem_key "$1"
  openssl req -new -key "$CERTS/$1-key.pem" -out "$CERTS/$1.csr" -subj "/CN=$1" 2>/dev/null
  mkdir -p "$CERTS/ca-db"
  : >"$CERTS/ca-db/index.txt"
  echo 01 >"$CERTS/ca-db/serial"
  cat >"$CERTS/ca-db/ca.cnf" <<EOF
[ca]
default_ca = c
[c]
database = $CERTS/ca-db/index.txt
new_certs_dir = $CERTS/ca-db
serial = $CERTS/ca-db/serial
default_md = sha256
policy = p
[p]
commonName = supplied
[client]
extendedKeyUsage = clientAuth
EOF
  openssl ca -batch -config "$CERTS/ca-db/ca.cnf" -cert "$CERTS/$2.pem" -keyfile "$CERTS/$2-key.pem" \
    -in "$CERTS/$1.csr" -out "$CERTS/$1.pem" -startdate 20200101000000Z -enddate 20200102000000Z \
    -extensions client -notext 2>/dev/null
}

setup_file() {
  command -v openssl >/dev/null || skip "openssl is not installed"
  CERTS=$BATS_FILE_TMPDIR/certs
  export CERTS
  mkdir -p "$CERTS"
  pem_ca ca
  pem_ca other
  pem_leaf server ca $'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth'
  pem_leaf client ca 'extendedKeyUsage=clientAuth'
  pem_leaf stranger other 'extendedKeyUsage=clientAuth'
  pem_leaf serveronly ca 'extendedKeyUsage=serverAuth' # a certificate not meant for a client
  pem_expired expired ca
  openssl x509 -in "$CERTS/expired.pem" -noout -checkend 0 >/dev/null && return 1 # it must have expired
  # files that are not what their flag wants
  echo "hello, not a certificate" >"$CERTS/text.pem"
  printf -- '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n' >"$CERTS/garbage.pem"
  openssl pkey -in "$CERTS/client-key.pem" -aes128 -passout pass:secret -out "$CERTS/encrypted-key.pem"
  mkdir -p "$CERTS/a-directory"
}

setup() {
  api_requires
  NETNS=
  BG_PIDS=()
  ctr_setup
  API_SOCK=$CTR_DIR/no.sock # api_teardown checks that no socket file is left
  API_LOG=$CTR_DIR/service.log
  WORK=$CTR_DIR/work
  mkdir -p "$WORK"
  export DOCKER_CONFIG=$CTR_DIR/docker
  unset DOCKER_HOST DOCKER_TLS_VERIFY DOCKER_CERT_PATH
}

teardown() {
  api_teardown
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# tls_curl [CURL OPTIONS...] PATH: a request with the client certificate
tls_curl() {
  local path=${*: -1}
  curl -s -m 60 --cacert "$CERTS/ca.pem" --cert "$CERTS/client.pem" --key "$CERTS/client-key.pem" \
    "${@:1:$#-1}" "https://127.0.0.1:$PORT$path"
}

# tls_start OPTIONS...: the service on tcp://127.0.0.1:$PORT (a port free a moment ago: tried
# again on another when it was taken meanwhile), with the suite's certificates; waits until it
# answers. Debug logging: each request that reaches HTTP is a line "api: METHOD PATH".
tls_start() {
  local try i
  for try in 1 2 3 4 5; do
    PORT=$(free_port)
    : >"$API_LOG"
    "$BERTH" --root "$BROOT" --runroot "$BRUN" --log-level debug system service --time 0 \
      --tlscert "$CERTS/server.pem" --tlskey "$CERTS/server-key.pem" "$@" "tcp://127.0.0.1:$PORT" \
      3>&- >>"$API_LOG" 2>&1 &
    API_PID=$!
    for i in $(seq 300); do
      [ "$(tls_curl /_ping)" = OK ] && return 0
      kill -0 "$API_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -0 "$API_PID" 2>/dev/null && break
    wait "$API_PID"
    API_PID=
    grep -q 'Address already in use' "$API_LOG" || break
  done
  echo "the service did not come up (try $try):" >&2
  cat "$API_LOG" >&2
  return 1
}

verify_start() {
  tls_start --tlsverify --tlscacert "$CERTS/ca.pem" "$@"
}

# tdocker [NAME] -- ARGS...: the Docker CLI with client certificate NAME (default client)
tdocker() {
  local who=client
  [ "$1" = -- ] || { who=$1; shift; }
  shift
  docker --tlsverify --tlscacert "$CERTS/ca.pem" --tlscert "$CERTS/$who.pem" --tlskey "$CERTS/$who-key.pem" \
    -H "tcp://127.0.0.1:$PORT" "$@"
}

# the requests that reached HTTP (the debug log's "api: METHOD PATH" lines)
http_requests() { grep -cE 'api: (GET|POST|HEAD|DELETE|PUT) /' "$API_LOG" || true; }

logs_have() { [[ "$(tdocker -- logs "$1" 2>&1)" == *"$2"* ]]; }

@test "api tls: the Docker CLI with a client certificate: version, run -d, ps, logs, exec -i and run -i (hijacked over TLS), rm -f" {
  verify_start
  run tdocker -- version --format '{{.Server.APIVersion}} {{.Client.APIVersion}}'
  [ "$status" -eq 0 ]
  [ "$output" = "1.43 1.43" ]
  run tdocker -- run -d --name web bb sh -c 'echo hello-over-tls; sleep 300'
  [ "$status" -eq 0 ]
  id=$output
  [[ $id =~ ^[0-9a-f]{64}$ ]]
  run tdocker -- ps --format '{{.ID}} {{.Names}} {{.State}}'
  [ "$output" = "${id:0:12} web running" ]
  [ "$(berth ps --format '{{.Names}}')" = web ] # the same catalogue as the command line
  wait_until 30 logs_have web hello-over-tls
  # the hijack (101 Upgrade, then raw bytes both ways) through the relay: stdin in, output out
  run bash -c "echo hi | timeout -k 5 60 /usr/local/bin/docker --tlsverify --tlscacert $CERTS/ca.pem \
    --tlscert $CERTS/client.pem --tlskey $CERTS/client-key.pem -H tcp://127.0.0.1:$PORT \
    exec -i web sh -c 'read x; echo got \$x'"
  [ "$status" -eq 0 ]
  [ "$output" = "got hi" ]
  # a megabyte each way at once: neither direction of the relay waits on the other
  run bash -c "head -c 1000000 /dev/zero | timeout -k 5 60 /usr/local/bin/docker --tlsverify \
    --tlscacert $CERTS/ca.pem --tlscert $CERTS/client.pem --tlskey $CERTS/client-key.pem \
    -H tcp://127.0.0.1:$PORT exec -i web cat | wc -c"
  [ "$status" -eq 0 ]
  [ "$output" = 1000000 ]
  # attach (its socket handed to the container's monitor): run -i with stdin, over TLS
  run bash -c "echo there | timeout -k 5 60 /usr/local/bin/docker --tlsverify --tlscacert $CERTS/ca.pem \
    --tlscert $CERTS/client.pem --tlskey $CERTS/client-key.pem -H tcp://127.0.0.1:$PORT \
    run -i --rm bb sh -c 'read x; echo attached \$x'"
  [ "$status" -eq 0 ]
  [ "$output" = "attached there" ]
  run tdocker -- exec web sh -c 'exit 3'
  [ "$status" -eq 3 ]
  run tdocker -- rm -f web
  [ "$status" -eq 0 ]
  run tdocker -- ps -a -q
  [ "$output" = "" ]
  [ -z "$(ctr_ids)" ]
  grep -q 'api: TLS: 127.0.0.1:[0-9]*: handshake done' "$API_LOG"
}

@test "api tls: docker-py with TLSConfig" {
  python3 -c 'import docker' 2>/dev/null || skip "docker-py is not installed"
  verify_start
  # requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE (set on some machines) override the CA a
  # session was given (psf/requests#3829): docker-py's ca_cert would be ignored
  run env -u REQUESTS_CA_BUNDLE -u CURL_CA_BUNDLE timeout -k 5 120 python3 -c "
import docker
tls = docker.tls.TLSConfig(client_cert=('$CERTS/client.pem', '$CERTS/client-key.pem'),
                           ca_cert='$CERTS/ca.pem', verify=True)
c = docker.DockerClient(base_url='https://127.0.0.1:$PORT', tls=tls, version='auto')
print(c.version()['ApiVersion'], c.containers.run('bb', ['echo', 'from-py'], remove=True).decode().strip())"
  [ "$status" -eq 0 ]
  [ "$output" = "1.43 from-py" ]
  [ -z "$(ctr_ids)" ]
}

# the docker CLI's words for a handshake the server refused. With TLS 1.3 the client has sent
# its certificate and may already be writing its request when the server's alert arrives: under
# load it then sees the connection reset instead of the alert (the server's log and the absent
# container are what the tests hold to)
docker_tls_refused() {
  [[ $output == *"remote error: tls"* || $output == *"tls: certificate required"* ||
    $output == *"bad certificate"* || $output == *"connection reset by peer"* ||
    $output == *"broken pipe"* || $output == *": EOF"* ]] || { echo "docker said: $output" >&2; return 1; }
}

@test "api tls: no client certificate, another CA's, an expired one, a server's, plain HTTP: refused before HTTP, nothing made" {
  verify_start
  before=$(http_requests) # tls_start's pings
  body='{"Image":"bb","Cmd":["true"]}'
  create=(-X POST -H 'Content-Type: application/json' -d "$body")
  # no client certificate
  run curl -s -m 60 --cacert "$CERTS/ca.pem" "${create[@]}" "https://127.0.0.1:$PORT/containers/create"
  [ "$status" -ne 0 ]
  grep -q 'TLS: handshake with 127.0.0.1:[0-9]* failed: Certificate is required' "$API_LOG"
  run openssl s_client -connect "127.0.0.1:$PORT" -CAfile "$CERTS/ca.pem" -quiet </dev/null
  [[ $output == *alert* ]] # the server's alert: certificate required
  # signed by another CA (curl sends it whatever the server's list of CAs)
  run curl -s -m 60 --cacert "$CERTS/ca.pem" --cert "$CERTS/stranger.pem" --key "$CERTS/stranger-key.pem" \
    "${create[@]}" "https://127.0.0.1:$PORT/containers/create"
  [ "$status" -ne 0 ]
  grep -q 'refused: client certificate refused: .*issuer is unknown' "$API_LOG"
  run tdocker stranger -- run -d bb true
  [ "$status" -ne 0 ]
  docker_tls_refused
  # expired
  run curl -s -m 60 --cacert "$CERTS/ca.pem" --cert "$CERTS/expired.pem" --key "$CERTS/expired-key.pem" \
    "${create[@]}" "https://127.0.0.1:$PORT/containers/create"
  [ "$status" -ne 0 ]
  grep -q 'refused: client certificate refused: .*expired' "$API_LOG"
  run tdocker expired -- run -d bb true
  [ "$status" -ne 0 ]
  docker_tls_refused
  # a certificate of the right CA whose extended key usage is serverAuth only
  run curl -s -m 60 --cacert "$CERTS/ca.pem" --cert "$CERTS/serveronly.pem" --key "$CERTS/serveronly-key.pem" \
    "${create[@]}" "https://127.0.0.1:$PORT/containers/create"
  [ "$status" -ne 0 ]
  grep -q 'refused: client certificate refused: .*purpose' "$API_LOG"
  # plain HTTP: Go's answer, as dockerd gives it
  run curl -s -m 60 "${create[@]}" "http://127.0.0.1:$PORT/containers/create"
  [ "$output" = "Client sent an HTTP request to an HTTPS server." ]
  grep -q 'sent plain HTTP to the TLS port: refused' "$API_LOG"
  # none of it reached HTTP nor the engine
  [ "$(http_requests)" = "$before" ]
  [ -z "$(ctr_ids)" ]
  # and the service serves the right client still
  [ "$(tls_curl /_ping)" = OK ]
}

@test "api tls: a client that never finishes its handshake is dropped after --request-timeout and counts against --max-connections" {
  verify_start --request-timeout 2 --max-connections 2
  run timeout -k 5 120 python3 -c "
import socket, time
held = [socket.create_connection(('127.0.0.1', $PORT)) for i in range(2)]
held[1].sendall(b'\x16\x03\x01\x00\x80\x01') # a record header, then a handshake that never comes
def serving():
    try:
        return len(open('/proc/$API_PID/task/$API_PID/children').read().split())
    except OSError:
        return -1
end = time.time() + 30
while serving() < 2 and time.time() < end:
    time.sleep(0.05)
x = socket.create_connection(('127.0.0.1', $PORT))
x.settimeout(30)
try:
    d = x.recv(100)
except ConnectionResetError:
    d = b''
print('third', 'refused' if d == b'' else d)
for h in held:
    h.settimeout(30)
    try:
        d = h.recv(100)
    except ConnectionResetError:
        d = b''
    print('held', 'dropped' if d == b'' or d[0] == 0x15 else d)" # closed, or a TLS alert first
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "third refused" ]
  [ "${lines[1]}" = "held dropped" ]
  [ "${lines[2]}" = "held dropped" ]
  grep -q 'connections open: one refused' "$API_LOG"
  [ "$(grep -c 'did not finish its handshake in time: dropped' "$API_LOG")" = 2 ]
  wait_until 30 no_api_conns
  [ "$(tls_curl /_ping)" = OK ]
}

@test "api tls: --tls without --tlsverify is TLS without client certificates: loopback and --insecure-loopback only" {
  tls_start --tls --insecure-loopback
  # no client certificate asked for: anyone on this host is served
  run curl -s -m 60 --cacert "$CERTS/ca.pem" "https://127.0.0.1:$PORT/_ping"
  [ "$output" = OK ]
  run docker --tls --tlscacert "$CERTS/ca.pem" -H "tcp://127.0.0.1:$PORT" version --format '{{.Server.APIVersion}}'
  [ "$output" = 1.43 ]
}

# refused [-CODE] ARGS...: the service with ARGS must exit CODE (default 125, a usage error)
# before it listens ($PORT: the port the test's addresses name); $output is its message
refused() {
  local code=-125
  [[ $1 != -[0-9]* ]] || { code=$1; shift; }
  run "$code" "$BERTH" --root "$BROOT" --runroot "$BRUN" system service --time 0 "$@"
  [ -z "$(ss -Htln "sport = :$PORT")" ] # nothing listens
}

@test "api tls: bad flags and files are each a clear error before anything listens" {
  C=$CERTS
  PORT=$(free_port)
  srv=(--tlscert "$C/server.pem" --tlskey "$C/server-key.pem")
  refused --tlsverify --tlscacert "$C/ca.pem" tcp://127.0.0.1:$PORT
  [[ $output == *"TLS needs the server's certificate and key: --tlscert FILE --tlskey FILE"* ]]
  refused --tlscert "$C/server.pem" tcp://127.0.0.1:$PORT
  [[ $output == *"--tlscert and --tlskey go together"*"--tlskey is missing"* ]]
  refused --tlsverify "${srv[@]}" tcp://127.0.0.1:$PORT
  [[ $output == *"--tlsverify needs --tlscacert FILE"* ]]
  refused --tlscacert "$C/ca.pem" "${srv[@]}" tcp://127.0.0.1:$PORT
  [[ $output == *"--tlscacert is used only with --tlsverify"* ]]
  # the TLS flags are for tcp://: no socket file is made
  refused --tlsverify --tlscacert "$C/ca.pem" "${srv[@]}" "unix://$CTR_DIR/tls.sock"
  [[ $output == *"are for tcp:// addresses"* ]]
  [ ! -e "$CTR_DIR/tls.sock" ]
  # no client authentication: not on a non-loopback address, and on loopback only when meant
  refused "${srv[@]}" tcp://0.0.0.0:$PORT
  [[ $output == *"TLS without --tlsverify does not authenticate clients"*"only with TLS client authentication"* ]]
  refused --tls "${srv[@]}" "tcp://127.0.0.1:$PORT"
  [[ $output == *"anyone on this host could drive berth"*"--insecure-loopback"* ]]
  refused --insecure-loopback tcp://0.0.0.0:$PORT
  [[ $output == *"no TLS; berth serves a non-loopback address only with TLS client authentication"* ]]
  # the files: each error names the flag and the file
  v=(--tlsverify --tlscacert "$C/ca.pem")
  refused -1 "${v[@]}" --tlscert "$C/missing.pem" --tlskey "$C/server-key.pem" "tcp://127.0.0.1:$PORT"
  [[ $output == *"--tlscert: open \`$C/missing.pem\`: No such file or directory"* ]]
  refused -1 "${v[@]}" --tlscert "$C/server.pem" --tlskey "$C/a-directory" "tcp://127.0.0.1:$PORT"
  [[ $output == *"--tlskey: read \`$C/a-directory\`: Is a directory"* ]]
  refused -1 "${v[@]}" --tlscert "$C/text.pem" --tlskey "$C/server-key.pem" "tcp://127.0.0.1:$PORT"
  [[ $output == *"--tlscert \`$C/text.pem\`: not a PEM file"* ]]
  refused -1 "${v[@]}" --tlscert "$C/server-key.pem" --tlskey "$C/server-key.pem" "tcp://127.0.0.1:$PORT"
  [[ $output == *"--tlscert \`$C/server-key.pem\`: no certificate in it"* ]]
  refused -1 "${v[@]}" --tlscert "$C/server.pem" --tlskey "$C/server.pem" "tcp://127.0.0.1:$PORT"
  [[ $output == *"--tlskey \`$C/server.pem\`: no private key in it"* ]]
  refused -1 "${v[@]}" --tlscert "$C/server.pem" --tlskey "$C/encrypted-key.pem" "tcp://127.0.0.1:$PORT"
  [[ $output == *"--tlskey \`$C/encrypted-key.pem\`: the private key is encrypted"* ]]
  refused -1 "${v[@]}" --tlscert "$C/server.pem" --tlskey "$C/client-key.pem" "tcp://127.0.0.1:$PORT"
  [[ $output == *"--tlskey \`$C/client-key.pem\` is not the key of --tlscert \`$C/server.pem\`"* ]]
  refused -1 "${v[@]}" --tlscert "$C/garbage.pem" --tlskey "$C/server-key.pem" "tcp://127.0.0.1:$PORT"
  [[ $output == *"--tlscert \`$C/garbage.pem\`: "* ]]
  refused -1 --tlsverify --tlscacert "$C/server-key.pem" "${srv[@]}" "tcp://127.0.0.1:$PORT"
  [[ $output == *"--tlscacert \`$C/server-key.pem\`: no CA certificate in it"* ]]
  refused -1 --tlsverify --tlscacert "$C/text.pem" "${srv[@]}" "tcp://127.0.0.1:$PORT"
  [[ $output == *"--tlscacert \`$C/text.pem\`: not a PEM file"* ]]
  # nothing was left running
  [ -z "$(pgrep -f -- "--root $BROOT .*system service" || true)" ]
}

listening() { [ -n "$(ss -Htln "sport = :$PORT")" ]; }

# activated SERVICE-OPTIONS...: the service started by systemd-socket-activate on 127.0.0.1:$PORT
# at the first connection, taking the listening socket from it (LISTEN_FDS), as berth.socket does
activated() {
  PORT=$(free_port)
  : >"$API_LOG"
  timeout -k 5 120 systemd-socket-activate -l "127.0.0.1:$PORT" \
    "$BERTH" --root "$BROOT" --runroot "$BRUN" system service --time 1 "$@" >>"$API_LOG" 2>&1 &
  ACT_PID=$!
  BG_PIDS+=("$ACT_PID")
  wait_until 30 listening
}

@test "api tls: a TCP socket from systemd follows the same rules as an address" {
  command -v systemd-socket-activate >/dev/null || skip "systemd-socket-activate is not installed"
  # plain, no flag: the service refuses the socket it was given, and serves nothing
  activated
  run curl -s -m 30 "http://127.0.0.1:$PORT/_ping"
  [ "$output" != OK ]
  rc=0
  wait "$ACT_PID" || rc=$?
  [ "$rc" = 1 ]
  grep -q "address \`tcp://127.0.0.1:$PORT (given by systemd)\`: anyone on this host could drive berth" "$API_LOG"
  # with client certificates: TLS, and only for the CA's clients
  activated --tlsverify --tlscacert "$CERTS/ca.pem" --tlscert "$CERTS/server.pem" --tlskey "$CERTS/server-key.pem"
  [ "$(tls_curl /_ping)" = OK ]
  run curl -s -m 30 --cacert "$CERTS/ca.pem" "https://127.0.0.1:$PORT/_ping"
  [ "$status" -ne 0 ]
  rc=0
  wait "$ACT_PID" || rc=$? # --time 1: it exits once idle
  [ "$rc" = 0 ]
  grep -q 'Certificate is required' "$API_LOG"
}
