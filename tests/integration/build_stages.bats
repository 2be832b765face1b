#!/usr/bin/env bats
# berth build (issue 15): multi-stage builds (COPY --from, --target, unneeded stages skipped),
# .dockerignore, here-documents, ARG/ENV expansion, BuildKit's RUN mounts (a cache that persists,
# a secret readable during RUN and absent from every layer, bind, tmpfs), ADD of a local tar,
# ONBUILD, contexts from stdin, SOURCE_DATE_EPOCH reproducibility, --output.

load build_helpers

setup_file() {
  ctr_setup_file
}

setup() {
  build_setup
}

teardown() {
  [ -z "${HTTP_PID:-}" ] || kill "$HTTP_PID" 2>/dev/null || true
  build_teardown
}

@test "build stages: COPY --from a stage and an image; --target stops early; unneeded stages are skipped" {
  cat >"$CTX/Dockerfile" <<'EOF'
FROM busybox AS builder
RUN mkdir /out && echo built > /out/artifact
FROM busybox AS unused
RUN exit 1
FROM scratch AS final
COPY --from=builder /out/artifact /artifact
COPY --from=busybox /bin/busybox /bin/busybox
CMD ["/bin/busybox", "cat", "/artifact"]
EOF
  run bld -t ms "$CTX"
  [ "$status" -eq 0 ]
  ! grep -q 'exit 1' <<<"$output" || false
  run berth run --rm ms
  [ "$output" = built ]
  run berth image inspect -f '{{len .RootFS.Layers}}' ms
  [ "$output" = 2 ]
  run bld -t tgt --target builder "$CTX"
  [ "$status" -eq 0 ]
  ! grep -q 'COPY' <<<"$output" || false
  berth run --rm tgt cat /out/artifact
  run bld --target nope "$CTX"
  [ "$status" -ne 0 ]
}

@test "build stages: independent stages build at once (each RUN waits for the other's file in a shared cache mount)" {
  # Stage a's RUN creates /m/a and waits for /m/b, stage b's the other way round: both finish
  # only when both run at once. The wait is bounded (30 s): one after the other fails the build
  # with exit code 9 instead of hanging.
  cat >"$CTX/Dockerfile" <<'EOF'
FROM busybox AS a
RUN --mount=type=cache,id=meet,target=/m,sharing=shared touch /m/a; i=0; while [ ! -e /m/b ]; do i=$((i+1)); [ $i -gt 300 ] && exit 9; sleep 0.1; done; echo a saw b > /a
FROM busybox AS b
RUN --mount=type=cache,id=meet,target=/m,sharing=shared touch /m/b; i=0; while [ ! -e /m/a ]; do i=$((i+1)); [ $i -gt 300 ] && exit 9; sleep 0.1; done; echo b saw a > /b
FROM busybox
COPY --from=a /a /a
COPY --from=b /b /b
EOF
  run bld -t together "$CTX"
  [ "$status" -eq 0 ]
  ! grep -q 'exit code: 9' <<<"$output" || false
  run berth run --rm together cat /a /b
  [ "${lines[0]}" = "a saw b" ]
  [ "${lines[1]}" = "b saw a" ]
  # a failing stage stops the one running beside it, and the build reports the first failure
  cat >"$CTX/Dockerfile" <<'EOF'
FROM busybox AS a
RUN echo waiting; sleep 120
FROM busybox AS b
RUN exit 4
FROM busybox
COPY --from=a /etc/passwd /a
COPY --from=b /etc/passwd /b
EOF
  run bld -t broken "$CTX"
  [ "$status" -ne 0 ]
  grep -q 'berth: Dockerfile:4: .*exit code: 4' <<<"$output"
  run berth image inspect broken
  [ "$status" -ne 0 ]
  [ -z "$(build_left)" ]
}

@test "build stages: .dockerignore with ** and ! exceptions; here-documents; ARG and ENV expansion" {
  mkdir -p "$CTX/src/a" "$CTX/logs"
  echo keep >"$CTX/src/a/keep.txt"
  echo drop >"$CTX/src/a/drop.log"
  echo important >"$CTX/src/a/important.log"
  echo log >"$CTX/logs/x"
  printf '%s\n' '**/*.log' '!**/important.log' 'logs' >"$CTX/.dockerignore"
  cat >"$CTX/Dockerfile" <<'EOF'
ARG BASE=busybox
FROM ${BASE}
ARG NAME=world
ARG EMPTY
ENV DIR=/opt/app GREETING="hi ${NAME}" OTHER=${EMPTY:-fallback} SET=${NAME:+yes}
COPY . $DIR/
COPY <<EOT /etc/motd
hello $NAME
EOT
RUN <<EOS
set -e
echo "$GREETING|$OTHER|$SET" > /result
find $DIR -type f | sort >> /result
EOS
EOF
  run bld -t ig --build-arg NAME=berth "$CTX"
  [ "$status" -eq 0 ]
  run berth run --rm ig cat /result /etc/motd
  [ "$status" -eq 0 ]
  [ "$output" = "$(printf 'hi berth|fallback|yes\n/opt/app/.dockerignore\n/opt/app/Dockerfile\n/opt/app/src/a/important.log\n/opt/app/src/a/keep.txt\nhello berth')" ]
}

@test "build stages: a cache mount persists across builds; a secret is readable during RUN and in no layer" {
  printf s3cr3t-value >"$CTR_DIR/secret"
  local sum
  sum=$(md5sum <"$CTR_DIR/secret" | cut -c1-32) # the Dockerfile must not hold the secret itself
  cat >"$CTX/Dockerfile" <<EOF
FROM busybox
ARG N
RUN --mount=type=cache,target=/cache echo "run \$N" >> /cache/log && cat /cache/log > /seen
RUN --mount=type=secret,id=tok test "\$(md5sum < /run/secrets/tok | cut -c1-32)" = $sum && ls /run/secrets > /secret-listing
RUN --mount=type=secret,id=tok,env=TOK test "\$(printf %s "\$TOK" | md5sum | cut -c1-32)" = $sum
RUN --mount=type=tmpfs,target=/scratch touch /scratch/x && test -f /scratch/x
RUN --mount=type=bind,source=.,target=/ctx test -f /ctx/Dockerfile
EOF
  run bld --secret id=tok,src="$CTR_DIR/secret" --build-arg N=1 -t sec "$CTX"
  [ "$status" -eq 0 ]
  bld --secret id=tok,src="$CTR_DIR/secret" --build-arg N=2 -t sec "$CTX" >/dev/null
  run berth run --rm sec cat /seen
  [ "$output" = "$(printf 'run 1\nrun 2')" ]
  run berth run --rm sec sh -c 'ls -A /run/secrets /scratch /ctx 2>&1; cat /secret-listing'
  [ "$output" != "${output/s3cr3t/}" ] && false
  # nowhere in the image: not in a layer, not in the history or the config
  berth save sec >"$CTR_DIR/sec.tar"
  mkdir "$CTR_DIR/saved" && tar -C "$CTR_DIR/saved" -xf "$CTR_DIR/sec.tar"
  local n=0 l
  for l in $(jq -r '.[0].Layers[]' "$CTR_DIR/saved/manifest.json"); do
    n=$((n + 1))
    ! tar -xOf "$CTR_DIR/saved/$l" 2>/dev/null | grep -qa s3cr3t-value || false
    ! tar -tf "$CTR_DIR/saved/$l" | grep -q 'run/secrets\|scratch\|ctx' || false
  done
  [ "$n" -eq 3 ] # busybox's, /seen and /secret-listing: mount points left no trace
  ! grep -rqa s3cr3t-value "$CTR_DIR/saved" --exclude=layer.tar --exclude='*.tar' || false
  # a missing secret: absent from RUN (BuildKit's default), an error when required
  run bld --no-cache -t nosec "$CTX"
  [ "$status" -ne 0 ]
  printf 'FROM busybox\nRUN --mount=type=secret,id=tok,required=true true\n' >"$CTX/Dockerfile"
  run bld -t nosec "$CTX"
  [ "$status" -ne 0 ]
  grep -q 'secret `tok` not found' <<<"$output"
}

@test "build stages: ADD extracts a local tar; ONBUILD runs in the child build; a context tar and a Dockerfile on stdin" {
  mkdir -p "$CTR_DIR/t/d"
  echo inside >"$CTR_DIR/t/d/f"
  tar -C "$CTR_DIR/t" -czf "$CTX/arch.tar.gz" d
  printf 'FROM busybox\nADD arch.tar.gz /x/\nONBUILD RUN echo triggered > /trig\n' >"$CTX/Dockerfile"
  bld -t parent "$CTX" >/dev/null
  run berth run --rm parent cat /x/d/f
  [ "$output" = inside ]
  run berth run --rm parent test -e /trig
  [ "$status" -ne 0 ]
  printf 'FROM parent\nRUN cat /trig\n' | bld -t child - >"$CTR_DIR/out" 2>&1
  run berth run --rm child cat /trig
  [ "$output" = triggered ]
  # a context as a tar on stdin
  mkdir "$CTR_DIR/c2" && echo data >"$CTR_DIR/c2/file"
  printf 'FROM busybox\nCOPY file /file\n' >"$CTR_DIR/c2/Dockerfile"
  tar -C "$CTR_DIR/c2" -cf - . | bld -t fromtar -
  run berth run --rm fromtar cat /file
  [ "$output" = data ]
}

# http_serve DIR: python3's http.server for DIR on 127.0.0.1 (a free port: $HTTP_PORT), killed by
# the teardown
http_serve() {
  command -v python3 >/dev/null || skip "no python3"
  python3 -u -m http.server --bind 127.0.0.1 --directory "$1" 0 >"$CTR_DIR/http.log" 2>&1 &
  HTTP_PID=$!
  local i
  for i in $(seq 300); do
    HTTP_PORT=$(sed -n 's/^Serving HTTP on 127\.0\.0\.1 port \([0-9]*\) .*/\1/p' "$CTR_DIR/http.log")
    [ -n "$HTTP_PORT" ] && return 0
    sleep 0.1
  done
  return 1
}

@test "build stages: ADD <url> with --checksum through the HTTP client; a changed remote file invalidates the step" {
  mkdir "$CTR_DIR/www"
  echo 'remote v1' >"$CTR_DIR/www/file.txt"
  http_serve "$CTR_DIR/www"
  local url=http://127.0.0.1:$HTTP_PORT sum
  sum=$(sha256sum "$CTR_DIR/www/file.txt" | cut -d' ' -f1)
  printf 'FROM busybox\nADD --checksum=sha256:%s %s/file.txt /data/\nADD %s/file.txt /named\n' "$sum" "$url" "$url" >"$CTX/Dockerfile"
  run bld -t url "$CTX"
  [ "$status" -eq 0 ]
  run berth run --rm url sh -c 'cat /data/file.txt /named; stat -c %a /named'
  [ "${lines[0]}" = 'remote v1' ]
  [ "${lines[1]}" = 'remote v1' ]
  [ "${lines[2]}" = 600 ]
  # the same content: both steps are cache hits (the key is the content's digest, fetched again)
  run bld -t url "$CTX"
  [ "$status" -eq 0 ]
  grep -q '^#2 CACHED$' <<<"$output"
  grep -q '^#3 CACHED$' <<<"$output"
  grep -q "GET /file.txt" "$CTR_DIR/http.log"
  # the remote file changes: the step without --checksum runs again and holds the new content
  printf 'FROM busybox\nADD %s/file.txt /named\n' "$url" >"$CTX/Dockerfile"
  run bld -t url2 "$CTX"
  [ "$status" -eq 0 ]
  echo 'remote v2' >"$CTR_DIR/www/file.txt"
  run bld -t url2 "$CTX"
  [ "$status" -eq 0 ]
  ! grep -q '^#2 CACHED$' <<<"$output" || false
  run berth run --rm url2 cat /named
  [ "$output" = 'remote v2' ]
  # ... and the pinned one now fails: the error names the line and both digests
  printf 'FROM busybox\nRUN true\nADD --checksum=sha256:%s %s/file.txt /data/\n' "$sum" "$url" >"$CTX/Dockerfile"
  run bld -t bad "$CTX"
  [ "$status" -ne 0 ]
  grep -q "Dockerfile:3: .*checksum mismatch: --checksum is sha256:$sum, the content's digest is sha256:$(sha256sum "$CTR_DIR/www/file.txt" | cut -d' ' -f1)" <<<"$output"
  # a missing file: 404, with the line
  printf 'FROM busybox\nADD %s/missing.txt /x\n' "$url" >"$CTX/Dockerfile"
  run bld -t bad "$CTX"
  [ "$status" -ne 0 ]
  grep -q "Dockerfile:2: .*GET $url/missing.txt: 404" <<<"$output"
  run berth image inspect bad
  [ "$status" -ne 0 ]
}

@test "build stages: SOURCE_DATE_EPOCH gives the same image from the same inputs; --output and --iidfile" {
  echo content >"$CTX/f"
  printf 'FROM busybox\nCOPY f /f\nRUN echo run > /r\nENV A=b\n' >"$CTX/Dockerfile"
  SOURCE_DATE_EPOCH=1700000000 berth build -q --no-cache --iidfile "$CTR_DIR/id1" -t r1 "$CTX" >/dev/null
  touch "$CTX/f"
  sleep 1
  SOURCE_DATE_EPOCH=1700000000 berth build -q --no-cache --iidfile "$CTR_DIR/id2" -t r2 "$CTX" >/dev/null
  [ "$(cat "$CTR_DIR/id1")" = "$(cat "$CTR_DIR/id2")" ]
  [ "$(cat "$CTR_DIR/id1")" = "$(image_id r1)" ]
  run berth image inspect -f '{{.Created}}' r1
  [ "$output" = 2023-11-14T22:13:20Z ]
  berth build -q -o "type=local,dest=$CTR_DIR/outdir" "$CTX" >/dev/null
  [ "$(cat "$CTR_DIR/outdir/r")" = run ]
  berth build -q -o "type=tar,dest=$CTR_DIR/out.tar" "$CTX" >/dev/null
  tar -tf "$CTR_DIR/out.tar" | grep -qx './f\|f'
}
