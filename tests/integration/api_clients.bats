#!/usr/bin/env bats
# The Docker SDK for Python (docker-py 7) and docker-compose 1.29 on `berth system service`,
# in a network namespace of the test's own (api_helpers.bash): published ports, user networks
# with names, named volumes, environment, streamed logs, and what `down -v` leaves (nothing).

load api_helpers

setup() {
  api_setup net
}

teardown() {
  api_teardown
}

# py SCRIPT: python3 with docker-py on the service (DOCKER_HOST)
py() {
  python3 -c 'import docker' 2>/dev/null || skip "docker-py is not installed"
  timeout -k 5 120 python3 -c "$1"
}

@test "api clients: docker-py runs detached containers with ports, volumes and environment, streams logs, and removes them" {
  mkdir -p "$WORK/vol"
  port=$(free_port)
  run py "
import docker, sys
c = docker.from_env()
assert c.ping()
web = c.containers.run('bb', ['sh', '-c', 'echo \$GREETING >/www/index.html; echo served; exec httpd -f -p 8080 -h /www'],
    detach=True, name='pyweb', environment={'GREETING': 'hello-from-env'},
    volumes={'$WORK/vol': {'bind': '/www', 'mode': 'rw'}}, ports={'8080/tcp': ('127.0.0.1', $port)})
web.reload()
print(web.status, web.attrs['HostConfig']['PortBindings']['8080/tcp'][0]['HostPort'])
print([x.name for x in c.containers.list()])
"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "running $port" ]
  [ "${lines[1]}" = "['pyweb']" ]
  # the environment went in, the bind mount came out, the port is published on the host's 127.0.0.1
  wait_until 30 test -s "$WORK/vol/index.html"
  [ "$(cat "$WORK/vol/index.html")" = hello-from-env ]
  wait_until 30 in_host wget -qO /dev/null "http://127.0.0.1:$port/" # the file comes before httpd
  run in_host wget -qO- "http://127.0.0.1:$port/"
  [ "$output" = hello-from-env ]
  [ "$(berth inspect -f '{{.State.Running}}' pyweb)" = true ]
  # logs(stream=True) follows; a foreground run returns its output; kill + remove
  run py "
import docker
c = docker.from_env()
t = c.containers.run('bb', ['sh', '-c', 'for i in 1 2 3; do echo line \$i; sleep 0.2; done'], detach=True, name='pylogs')
print(''.join(l.decode() for l in t.logs(stream=True)), end='')
print(t.wait()['StatusCode'])
t.remove()
print(c.containers.run('bb', ['echo', 'foreground'], remove=True).decode(), end='')
w = c.containers.get('pyweb')
w.kill()
w.remove(v=True)
print(len(c.containers.list(all=True)))
try:
    c.containers.get('pyweb')
except docker.errors.NotFound as e:
    print('gone', e.status_code)
"
  [ "$status" -eq 0 ]
  [ "$output" = "$(printf 'line 1\nline 2\nline 3\n0\nforeground\n0\ngone 404')" ]
  [ -z "$(berth ps -aq)" ]
}

@test "api clients: docker-py volumes, networks, images and exec" {
  run py "
import docker
c = docker.from_env()
v = c.volumes.create('pyvol', labels={'k': 'v'})
n = c.networks.create('pynet', driver='bridge')
a = c.containers.run('bb', ['sleep', '300'], detach=True, name='pya', network='pynet', volumes={'pyvol': {'bind': '/data', 'mode': 'rw'}})
r = a.exec_run(['sh', '-c', 'echo kept >/data/f; cat /data/f; exit 4'])
print(r.exit_code, r.output.decode().strip())
b = c.containers.run('bb', ['ping', '-c', '1', '-W', '5', 'pya'], network='pynet', remove=True)
print('ping ok')
print(sorted(x.name for x in c.volumes.list()), c.volumes.get('pyvol').attrs['Labels'])
print(sorted(x.name for x in c.networks.list(names=['pynet'])))
print([t for i in c.images.list() for t in i.tags])
a.remove(force=True)
n.remove()
v.remove()
print(len(c.volumes.list()), len(c.networks.list(names=['pynet'])))
"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "4 kept" ]
  [ "${lines[1]}" = "ping ok" ]
  [ "${lines[2]}" = "['pyvol'] {'k': 'v'}" ]
  [ "${lines[3]}" = "['pynet']" ]
  [ "${lines[4]}" = "['bb:latest']" ]
  [ "${lines[5]}" = "0 0" ]
}

@test "api clients: docker-compose up -d, names across a user network, a published port, a named volume, ps, logs, exec, down -v leaves nothing" {
  command -v docker-compose >/dev/null || skip "docker-compose is not installed (scripts/install-deps)"
  port=$(free_port)
  mkdir -p "$WORK/proj"
  cat >"$WORK/proj/docker-compose.yml" <<EOF
version: "3.8"
services:
  db:
    image: bb
    command: ["sh", "-c", "mkdir -p /data/www && echo from-db >/data/www/index.html && echo db-ready && exec httpd -f -p 80 -h /data/www"]
    volumes: ["data:/data"]
    networks: [back]
  web:
    image: bb
    depends_on: [db]
    command: ["sh", "-c", "mkdir -p /www && until wget -qO /www/index.html http://db/; do sleep 0.2; done && echo web-ready && exec httpd -f -p 8080 -h /www"]
    ports: ["127.0.0.1:$port:8080"]
    networks: [back]
networks:
  back: {}
volumes:
  data: {}
EOF
  cd "$WORK/proj"
  compose() { timeout -k 5 180 docker-compose -p apit "$@"; }
  run compose up -d
  [ "$status" -eq 0 ]
  [[ $output == *'Creating network "apit_back"'* ]]
  [[ $output == *'Creating volume "apit_data"'* ]]
  run compose ps --services --filter status=running
  [ "$(sort <<<"$output" | tr '\n' ' ')" = "db web " ]
  # web reached db by its name when it started (its page is db's); exec reaches it too
  run compose exec -T web wget -qO- http://db/
  [ "$output" = from-db ]
  run compose exec -T db sh -c 'cat /data/www/index.html; exit 5'
  [ "$status" -eq 5 ]
  [ "$output" = from-db ]
  # the host reaches the published port on 127.0.0.1
  wait_until 30 in_host wget -qO /dev/null "http://127.0.0.1:$port/"
  [ "$(in_host wget -qO- "http://127.0.0.1:$port/")" = from-db ]
  run compose logs --no-color
  [[ $output == *"db_1"*"db-ready"* ]]
  [[ $output == *"web_1"*"web-ready"* ]]
  [ "$(berth volume ls -q)" = apit_data ]
  [ "$(berth ps --format '{{.Names}}' | sort | tr '\n' ' ')" = "apit_db_1 apit_web_1 " ]
  run compose down -v
  [ "$status" -eq 0 ]
  [ -z "$(berth ps -aq)" ]
  [ -z "$(berth volume ls -q)" ]
  [ -z "$(docker network ls -q -f name=apit_back)" ]
}
