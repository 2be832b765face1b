# shellcheck shell=bash
# registry_helpers.bash: loaded by the registry suites (registry*.bats) on top of
# images_helpers — Debian's docker-registry started by the suite itself on 127.0.0.1 (plain,
# HTTPS with a CA made here, htpasswd Basic auth, or token auth with registry_token.py), the
# fault-injecting proxy (registry_proxy.py), and an image to move around. Nothing here
# reaches an address other than 127.0.0.1. Servers are stopped by pid.

load images_helpers

REG_PY=/usr/bin/python3
REG_DIR_HELPERS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

registry_requires() {
  command -v docker-registry >/dev/null || skip "docker-registry is not installed (scripts/install-deps)"
  command -v openssl >/dev/null || skip "openssl is not installed (scripts/install-deps)"
}

# wait_port_file FILE: the port a helper wrote (bounded wait)
wait_port_file() {
  local i
  for i in $(seq 300); do
    [ -s "$1" ] && { cat "$1"; return 0; }
    sleep 0.1
  done
  return 1
}

# wait_tcp PORT: until 127.0.0.1:PORT accepts connections (bounded)
wait_tcp() {
  local i
  for i in $(seq 300); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

free_port() {
  "$REG_PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# make_ca DIR: a CA, a server certificate for 127.0.0.1 signed by it, and a token-signing pair
make_ca() {
  local d=$1
  mkdir -p "$d"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=berth-test-ca -keyout "$d/ca.key" -out "$d/ca.crt" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout "$d/server.key" -out "$d/server.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' >"$d/ext"
  openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial -days 2 \
    -extfile "$d/ext" -out "$d/server.crt" 2>/dev/null
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=berth-test-token -keyout "$d/token.key" \
    -out "$d/token.crt" 2>/dev/null
  # a client certificate for registries that require one (mutual TLS)
  openssl req -newkey rsa:2048 -nodes -subj /CN=berth-test-client -keyout "$d/client.key" -out "$d/client.csr" 2>/dev/null
  printf 'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n' >"$d/client-ext"
  openssl x509 -req -in "$d/client.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial -days 2 \
    -extfile "$d/client-ext" -out "$d/client.cert" 2>/dev/null
}

# registry_start NAME [tls [clientca]] [htpasswd FILE] [token REALM ROOTCERT] [foreign]: a registry
# on a free port (clientca: it requires a client certificate signed by the suite's CA; foreign:
# it accepts manifests whose layers have URLs on 127.0.0.1);
# sets REG_<NAME> (127.0.0.1:port) and records its pid in $BATS_FILE_TMPDIR/NAME.pid
registry_start() {
  local name=$1 dir=$BATS_FILE_TMPDIR/reg-$1 port
  shift
  port=$(free_port)
  mkdir -p "$dir/data"
  {
    printf 'version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\n'
    printf 'storage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\n' "$dir/data"
    printf 'http:\n  addr: 127.0.0.1:%s\n  secret: berth-test\n' "$port"
    while [ $# -gt 0 ]; do
      case $1 in
        tls) printf '  tls:\n    certificate: %s\n    key: %s\n' "$CA_DIR/server.crt" "$CA_DIR/server.key"
          shift ;;
        clientca) printf '    clientcas:\n      - %s\n' "$CA_DIR/ca.crt"; shift ;;
        foreign) printf 'validation:\n  manifests:\n    urls:\n      allow:\n        - ^http://127\\.0\\.0\\.1\n'; shift ;;
        htpasswd) printf 'auth:\n  htpasswd:\n    realm: berth-test\n    path: %s\n' "$2"; shift 2 ;;
        token) printf 'auth:\n  token:\n    realm: %s\n    service: berth-test\n    issuer: berth-test-issuer\n    rootcertbundle: %s\n' "$2" "$3"
          shift 3 ;;
      esac
    done
  } >"$dir/config.yml"
  # (docker-registry reads REGISTRY_* variables as configuration: REGISTRY_AUTH_FILE is not its)
  env -u REGISTRY_AUTH_FILE docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 &
  echo $! >"$BATS_FILE_TMPDIR/$name.pid"
  wait_tcp "$port" || { cat "$dir/log" >&2; return 1; }
  printf -v "REG_${name^^}" '%s' "127.0.0.1:$port"
  export "REG_${name^^}"
}

# helper_start NAME SCRIPT ARGS...: a python helper that writes its port; sets PORT_<NAME>
helper_start() {
  local name=$1 script=$2 pf=$BATS_FILE_TMPDIR/$1.port
  shift 2
  rm -f "$pf"
  "$REG_PY" "$REG_DIR_HELPERS/$script" "$pf" "$@" >"$BATS_FILE_TMPDIR/$name.log" 2>&1 &
  echo $! >"$BATS_FILE_TMPDIR/$name.pid"
  local port
  port=$(wait_port_file "$pf") || { cat "$BATS_FILE_TMPDIR/$name.log" >&2; return 1; }
  printf -v "PORT_${name^^}" '%s' "$port"
  export "PORT_${name^^}"
}

# proxy_start MODE ARG UPSTREAM: a fresh proxy (its log: $PROXY_LOG); sets PROXY (127.0.0.1:port)
proxy_start() {
  PROXY_LOG=$BATS_TEST_TMPDIR/proxy.log
  : >"$PROXY_LOG"
  stop_pid_file "$BATS_FILE_TMPDIR/proxy.pid" # the previous test's
  helper_start proxy registry_proxy.py "$3" "$1" "$2" "$PROXY_LOG"
  PROXY=127.0.0.1:$PORT_PROXY
}

# stop_pid_file FILE: the process whose pid FILE holds (ours), then FILE
stop_pid_file() {
  local pid
  [ -f "$1" ] || return 0
  pid=$(cat "$1")
  kill "$pid" 2>/dev/null && { timeout 10 tail --pid="$pid" -f /dev/null 2>/dev/null || kill -9 "$pid" 2>/dev/null; }
  rm -f "$1"
}

registries_stop() {
  local f
  for f in "$BATS_FILE_TMPDIR"/*.pid; do
    stop_pid_file "$f"
  done
}

# a small 3-layer image in the berth store as $1 (layers: busybox, a directory, a random file)
make_image() {
  local ref=$1 d=$BATS_TEST_TMPDIR/img
  mkdir -p "$d"
  berth import -c 'CMD ["/bin/sh"]' "$ROOTFS_TAR" "$ref" >/dev/null
}

# the files of the store that a pull leaves when it fails: blobs and layers must be as before
store_files() {
  (cd "$BROOT" && find blobs layers -type f -o -type d 2>/dev/null | sort)
}

# berth with a private auth file, certs.d and registries.json
export REGISTRY_AUTH_FILE
