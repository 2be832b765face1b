#!/usr/bin/env bats
# Registries that want TLS or credentials, all on 127.0.0.1: HTTPS with a CA the suite makes
# (certs.d), htpasswd Basic auth, token auth with a token issuer the suite runs
# (registry_token.py), credentials from auth.json, Docker's config.json and a credential
# helper. Credentials never show in errors, logs or command lines.

load registry_helpers

USER_NAME=berth
PASSWORD=s3cret-Pass-4-tests

setup_file() {
  registry_requires
  command -v htpasswd >/dev/null || skip "htpasswd is not installed (apache2-utils, scripts/install-deps)"
  "$REG_PY" -c 'import jwt, cryptography' 2>/dev/null || skip "python3-jwt is not installed (scripts/install-deps)"
  images_setup_file
  CA_DIR=$BATS_FILE_TMPDIR/ca
  export CA_DIR
  make_ca "$CA_DIR"
  htpasswd -Bbn "$USER_NAME" "$PASSWORD" >"$BATS_FILE_TMPDIR/htpasswd"
  registry_start tls tls
  registry_start mtls tls clientca
  registry_start basic htpasswd "$BATS_FILE_TMPDIR/htpasswd"
  TOKEN_LOG=$BATS_FILE_TMPDIR/token.log
  export TOKEN_LOG
  helper_start token registry_token.py "$CA_DIR/token.key" "$CA_DIR/token.crt" "$USER_NAME" "$PASSWORD" "$TOKEN_LOG"
  registry_start tok token "http://127.0.0.1:$PORT_TOKEN/token" "$CA_DIR/token.crt"
}

teardown_file() {
  registries_stop
}

setup() {
  images_setup
  export REGISTRY_AUTH_FILE=$BATS_TEST_TMPDIR/auth.json
  export DOCKER_CONFIG=$BATS_TEST_TMPDIR/docker
  export BERTH_CERTS_D=$BATS_TEST_TMPDIR/certs.d
}

login() { # REGISTRY: log in with the password on stdin
  printf '%s\n' "$PASSWORD" | berth login -u "$USER_NAME" --password-stdin "$1"
}

no_secret_in() { # TEXT: neither the password nor the Basic value shows
  local b64
  b64=$(printf '%s:%s' "$USER_NAME" "$PASSWORD" | base64 -w0)
  [[ $1 != *"$PASSWORD"* ]] && [[ $1 != *"$b64"* ]]
}

@test "registry tls: the CA of certs.d/<host:port> verifies the registry; without it verification fails" {
  id=$(berth import "$ROOTFS_TAR" "$REG_TLS/t/bb:1")
  run berth push --tls-verify=true "$REG_TLS/t/bb:1"
  [ "$status" -ne 0 ]
  [[ $output == *"certificate"* ]]
  mkdir -p "$BERTH_CERTS_D/$REG_TLS"
  cp "$CA_DIR/ca.crt" "$BERTH_CERTS_D/$REG_TLS/ca.crt"
  run berth push --tls-verify=true "$REG_TLS/t/bb:1"
  [ "$status" -eq 0 ]
  curl -sf --cacert "$CA_DIR/ca.crt" "https://$REG_TLS/v2/t/bb/tags/list" | jq -e '.tags == ["1"]'
  berth rmi "$REG_TLS/t/bb:1" >/dev/null
  run berth pull -q --tls-verify=true "$REG_TLS/t/bb:1"
  [ "$status" -eq 0 ]
  [ "$(berth images -q --no-trunc "$REG_TLS/t/bb:1")" = "$id" ]
  # --cert-dir instead of certs.d
  rm -rf "$BERTH_CERTS_D"
  mkdir -p "$WORK/certs"
  cp "$CA_DIR/ca.crt" "$WORK/certs/"
  run berth manifest inspect --tls-verify=true --cert-dir "$WORK/certs" "$REG_TLS/t/bb:1"
  [ "$status" -eq 0 ]
  # a loopback registry is insecure as Docker treats it: its certificate is not required to verify
  run berth manifest inspect "$REG_TLS/t/bb:1"
  [ "$status" -eq 0 ]
}

@test "registry tls: --tls-verify=false; a client certificate from certs.d (client.cert, client.key)" {
  id=$(berth import "$ROOTFS_TAR" "$REG_TLS/v/bb:1")
  run berth push --tls-verify=false "$REG_TLS/v/bb:1"
  [ "$status" -eq 0 ]
  berth tag "$id" "$REG_MTLS/m/bb:1"
  mkdir -p "$BERTH_CERTS_D/$REG_MTLS"
  cp "$CA_DIR/ca.crt" "$BERTH_CERTS_D/$REG_MTLS/ca.crt"
  run berth push --tls-verify=true "$REG_MTLS/m/bb:1"
  [ "$status" -ne 0 ] # the registry wants a client certificate
  cp "$CA_DIR/client.cert" "$CA_DIR/client.key" "$BERTH_CERTS_D/$REG_MTLS/"
  run berth push --tls-verify=true "$REG_MTLS/m/bb:1"
  [ "$status" -eq 0 ]
  curl -sf --cacert "$CA_DIR/ca.crt" --cert "$CA_DIR/client.cert" --key "$CA_DIR/client.key" \
    "https://$REG_MTLS/v2/m/bb/tags/list" | jq -e '.tags == ["1"]'
  rm "$BERTH_CERTS_D/$REG_MTLS/client.key"
  run berth push --tls-verify=true "$REG_MTLS/m/bb:1"
  [ "$status" -ne 0 ]
  [[ $output == *"client certificate"*"without its key"* ]]
}

@test "registry basic auth: login --password-stdin writes auth.json 0600; pull and push with it; logout" {
  id=$(berth import "$ROOTFS_TAR" "$REG_BASIC/b/bb:1")
  run berth push "$REG_BASIC/b/bb:1"
  [ "$status" -ne 0 ]
  [[ $output == *"authentication required (berth login)"* ]]
  run login "$REG_BASIC"
  [ "$status" -eq 0 ]
  [ "$output" = "Login Succeeded" ]
  [ "$(stat -c %a "$REGISTRY_AUTH_FILE")" = 600 ]
  [ "$(jq -r --arg r "$REG_BASIC" '.auths[$r].auth' "$REGISTRY_AUTH_FILE" | base64 -d)" = "$USER_NAME:$PASSWORD" ]
  run berth push "$REG_BASIC/b/bb:1"
  [ "$status" -eq 0 ]
  curl -sf -u "$USER_NAME:$PASSWORD" "http://$REG_BASIC/v2/b/bb/tags/list" | jq -e '.tags == ["1"]'
  berth rmi "$REG_BASIC/b/bb:1" >/dev/null
  run berth pull -q "$REG_BASIC/b/bb:1"
  [ "$status" -eq 0 ]
  [ "$(berth images -q --no-trunc "$REG_BASIC/b/bb:1")" = "$id" ]
  run berth logout "$REG_BASIC"
  [ "$status" -eq 0 ]
  [ "$output" = "Removing login credentials for $REG_BASIC" ]
  [ "$(jq -r --arg r "$REG_BASIC" '.auths[$r]' "$REGISTRY_AUTH_FILE")" = null ]
  run berth logout "$REG_BASIC"
  [ "$status" -ne 0 ]
  [[ $output == *"not logged in to $REG_BASIC"* ]]
  run berth manifest inspect "$REG_BASIC/b/bb:1"
  [ "$status" -ne 0 ]
}

@test "registry basic auth: a wrong password is one clear error, no retry storm, no secret in the output" {
  proxy_start pass 0 "$REG_BASIC"
  run bash -c "printf 'wrong-$PASSWORD\n' | '$BERTH' --root '$BROOT' --runroot '$BRUN' login -u $USER_NAME --password-stdin $PROXY"
  [ "$status" -ne 0 ]
  [[ $output == *"authentication failed: bad username or password"* ]]
  [ ! -e "$REGISTRY_AUTH_FILE" ]
  [ "$(grep -c -- '-> 401' "$PROXY_LOG")" -le 2 ]
  # the right one, then a pull with debug logs: nothing secret in what berth says
  login "$REG_BASIC" >/dev/null
  id=$(berth import "$ROOTFS_TAR" "$REG_BASIC/s/bb:1")
  berth push -q "$REG_BASIC/s/bb:1" >/dev/null
  berth rmi "$id" >/dev/null
  run --separate-stderr berth --log-level debug pull "$REG_BASIC/s/bb:1"
  [ "$status" -eq 0 ]
  no_secret_in "$output$stderr"
  run berth pull "$REG_BASIC/s/nothing:1"
  [ "$status" -ne 0 ]
  no_secret_in "$output"
}

@test "registry token auth: login, push and pull with scoped tokens; bad and missing credentials" {
  id=$(berth import "$ROOTFS_TAR" "$REG_TOK/k/bb:1")
  : >"$TOKEN_LOG"
  run berth push "$REG_TOK/k/bb:1"
  [ "$status" -ne 0 ]
  [[ $output == *"$REG_TOK"* ]]
  [ "$(wc -l <"$TOKEN_LOG")" -le 3 ]
  : >"$TOKEN_LOG"
  run bash -c "printf 'nope\n' | '$BERTH' --root '$BROOT' --runroot '$BRUN' login -u $USER_NAME --password-stdin $REG_TOK"
  [ "$status" -ne 0 ]
  [[ $output == *"authentication failed: bad username or password"* ]]
  [ "$(grep -c 'token bad' "$TOKEN_LOG")" -eq 1 ]
  run login "$REG_TOK"
  [ "$status" -eq 0 ]
  : >"$TOKEN_LOG"
  run berth push "$REG_TOK/k/bb:1"
  [ "$status" -eq 0 ]
  grep -q "token $USER_NAME repository:k/bb:pull,push" "$TOKEN_LOG"
  # one token for the push's scope, reused for every request of it
  [ "$(grep -c 'repository:k/bb:pull,push' "$TOKEN_LOG")" -eq 1 ]
  berth rmi "$id" >/dev/null
  : >"$TOKEN_LOG"
  run berth pull -q "$REG_TOK/k/bb:1"
  [ "$status" -eq 0 ]
  [ "$(berth images -q --no-trunc "$REG_TOK/k/bb:1")" = "$id" ]
  grep -q "token $USER_NAME repository:k/bb:pull" "$TOKEN_LOG"
}

@test "registry: credentials from Docker's config.json: credHelpers runs docker-credential-<name>, auths" {
  mkdir -p "$DOCKER_CONFIG" "$WORK/bin"
  cat >"$WORK/bin/docker-credential-berthtest" <<EOS
#!/bin/sh
echo "\$*" >>"$WORK/helper.args"
read -r server
echo "\$server" >>"$WORK/helper.stdin"
[ "\$1" = get ] && [ "\$server" = "$REG_BASIC" ] || { echo "credentials not found in native keychain"; exit 1; }
printf '{"ServerURL":"%s","Username":"%s","Secret":"%s"}\n' "\$server" "$USER_NAME" "$PASSWORD"
EOS
  chmod +x "$WORK/bin/docker-credential-berthtest"
  printf '{"credHelpers":{"%s":"berthtest"}}\n' "$REG_BASIC" >"$DOCKER_CONFIG/config.json"
  id=$(berth import "$ROOTFS_TAR" "$REG_BASIC/h/bb:1")
  PATH=$WORK/bin:$PATH run berth push -q "$REG_BASIC/h/bb:1"
  [ "$status" -eq 0 ]
  [ "$(sort -u "$WORK/helper.args")" = get ]
  [ "$(sort -u "$WORK/helper.stdin")" = "$REG_BASIC" ]
  curl -sf -u "$USER_NAME:$PASSWORD" "http://$REG_BASIC/v2/h/bb/tags/list" | jq -e '.tags == ["1"]'
  # "auths" with a base64 user:password
  printf '{"auths":{"http://%s":{"auth":"%s"}}}\n' "$REG_BASIC" "$(printf '%s:%s' "$USER_NAME" "$PASSWORD" | base64 -w0)" \
    >"$DOCKER_CONFIG/config.json"
  berth rmi "$id" >/dev/null
  run berth pull -q "$REG_BASIC/h/bb:1"
  [ "$status" -eq 0 ]
  # a credsStore whose helper has nothing: anonymous, refused
  printf '{"credsStore":"berthtest"}\n' >"$DOCKER_CONFIG/config.json"
  PATH=$WORK/bin:$PATH run berth manifest inspect "$REG_TOK/h/bb:1"
  [ "$status" -ne 0 ]
  [[ $output == *"authentication required"* ]]
}

@test "registry: login never puts the password on a command line berth runs" {
  mkdir -p "$DOCKER_CONFIG" "$WORK/bin"
  cat >"$WORK/bin/docker-credential-spy" <<EOS
#!/bin/sh
cat /proc/\$PPID/cmdline | tr '\0' ' ' >"$WORK/parent.cmdline"
read -r server
printf '{"ServerURL":"%s","Username":"%s","Secret":"%s"}\n' "\$server" "$USER_NAME" "$PASSWORD"
EOS
  chmod +x "$WORK/bin/docker-credential-spy"
  printf '{"credsStore":"spy"}\n' >"$DOCKER_CONFIG/config.json"
  PATH=$WORK/bin:$PATH run berth manifest inspect "$REG_BASIC/nothing/bb:1"
  [ -s "$WORK/parent.cmdline" ]
  no_secret_in "$(cat "$WORK/parent.cmdline")"
  no_secret_in "$output"
}
