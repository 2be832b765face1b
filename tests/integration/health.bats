#!/usr/bin/env bats
# Healthchecks as a Docker user sees them: --health-* and the image's HEALTHCHECK run by the
# container's monitor (no daemon), ps "(health: starting)"/"(healthy)"/"(unhealthy)", inspect
# .State.Health with the last 5 results, health_status events, `wait --condition healthy`, a
# check that hangs killed at its timeout, --no-healthcheck, a restart starting over.

load containers_helpers

setup_file() {
  ctr_setup_file
}

setup() {
  ctr_setup
}

teardown() {
  ctr_teardown
}

sleeper() {
  berth run -d --name "$1" "${@:2}" bb sh -c 'trap "exit 0" TERM; while :; do sleep 0.1; done' >/dev/null
}

status_of() { berth ps -a --filter "name=^$1\$" --format '{{.Status}}'; }

@test "health: starting, unhealthy after the retries, healthy once the check passes; ps, inspect, events, wait" {
  since=$(date +%s)
  sleeper h1 --health-cmd 'cat /tmp/ok' --health-interval 1s --health-retries 2
  [[ $(status_of h1) == *"(health: starting)"* ]]
  [ "$(berth inspect -f '{{.State.Health.Status}}' h1)" = starting ]
  wait_for h1 '{{.State.Health.Status}}' unhealthy
  [[ $(status_of h1) == *"(unhealthy)"* ]]
  [ "$(berth inspect -f '{{.State.Health.FailingStreak}}' h1)" -ge 2 ]
  # the failing check's output and exit code are kept
  berth inspect -f '{{json .State.Health.Log}}' h1 | jq -e '.[0].ExitCode == 1 and (.[0].Output | test("No such file"))' >/dev/null
  [ "$(berth ps --filter health=unhealthy --format '{{.Names}}')" = h1 ]
  berth exec h1 sh -c 'echo fine >/tmp/ok'
  run timeout 60 "$BERTH" --root "$BROOT" --runroot "$BRUN" wait --condition healthy h1
  [ "$status" -eq 0 ]
  [[ $(status_of h1) == *"(healthy)"* ]]
  [ "$(berth ps --filter health=healthy --format '{{.Names}}')" = h1 ]
  [ -z "$(berth ps --filter health=unhealthy --format '{{.Names}}')" ]
  last=$(berth inspect -f '{{json .State.Health.Log}}' h1 | jq -c '.[-1] | [.ExitCode, .Output]')
  [ "$last" = '[0,"fine\n"]' ]
  # at most the last 5 results
  for _ in $(seq 150); do [ "$(berth inspect -f '{{len .State.Health.Log}}' h1)" -eq 5 ] && break; sleep 0.2; done
  [ "$(berth inspect -f '{{len .State.Health.Log}}' h1)" -eq 5 ]
  sleep 1.5
  [ "$(berth inspect -f '{{len .State.Health.Log}}' h1)" -eq 5 ]
  # the transitions are events
  run berth events --since "$since" --until 0s --filter container=h1 --filter event=health_status --format '{{.Action}}'
  [[ $output == *"health_status: unhealthy"*"health_status: healthy"* ]]
  [ "$(berth events --since "$since" --until 0s --filter event=health_status:\ healthy --format '{{.Actor.Attributes.name}}' | head -1)" = h1 ]
  # the healthcheck is in the config as Docker keeps it
  [ "$(berth inspect -f '{{json .Config.Healthcheck}}' h1)" = '{"Test":["CMD-SHELL","cat /tmp/ok"],"Interval":1000000000,"Retries":2}' ]
}

@test "health: a hanging check is killed at its timeout; the start period; --no-healthcheck; none" {
  sleeper h2 --health-cmd 'sleep 1000' --health-timeout 1s --health-interval 3s --health-retries 1
  wait_for h2 '{{.State.Health.Status}}' unhealthy
  berth inspect -f '{{json .State.Health.Log}}' h2 | jq -e '.[0].ExitCode == -1 and .[0].Output == "Health check exceeded timeout (1s)"' >/dev/null
  # the check's process was killed in the container (the next one starts 3 s later)
  ! berth top h2 | grep -q 'sleep 1000' || false
  # failures within the start period do not count while starting
  sleeper h3 --health-cmd false --health-start-period 60s --health-start-interval 1s --health-interval 1s --health-retries 1
  for _ in $(seq 300); do [ "$(berth inspect -f '{{len .State.Health.Log}}' h3)" -ge 2 ] && break; sleep 0.1; done
  [ "$(berth inspect -f '{{.State.Health.Status}} {{.State.Health.FailingStreak}}' h3)" = "starting 0" ]
  # no healthcheck: no Health, ps without a status, health=none
  sleeper h4
  [ "$(berth inspect -f '{{json .State}}' h4 | jq 'has("Health")')" = false ]
  [[ $(status_of h4) != *"("* ]]
  [[ " $(berth ps --filter health=none --format '{{.Names}}' | tr '\n' ' ') " == *" h4 "* ]]
  run berth wait --condition healthy h4
  [ "$status" -ne 0 ]
  [[ $output == *"no healthcheck"* ]]
  run -125 berth wait --condition bogus h4
  run -125 berth ps --filter health=great
}

@test "health: the image's HEALTHCHECK runs, --no-healthcheck and the flags override it; a restart starts over" {
  sleeper src --health-cmd 'test -e /tmp/ready' --health-interval 1s --health-retries 1
  berth commit src withcheck:1 >/dev/null
  [ "$(berth image inspect -f '{{json .Config.Healthcheck.Test}}' withcheck:1)" = '["CMD-SHELL","test -e /tmp/ready"]' ]
  berth run -d --name i1 withcheck:1 sh -c 'touch /tmp/ready; trap "exit 0" TERM; while :; do sleep 0.1; done' >/dev/null
  wait_for i1 '{{.State.Health.Status}}' healthy
  berth run -d --name i2 --no-healthcheck withcheck:1 sleep 100 >/dev/null
  [ "$(berth inspect -f '{{json .Config.Healthcheck.Test}}' i2)" = '["NONE"]' ]
  [ "$(berth inspect -f '{{json .State}}' i2 | jq 'has("Health")')" = false ]
  berth run -d --name i3 --health-cmd 'exit 0' withcheck:1 sleep 100 >/dev/null
  wait_for i3 '{{.State.Health.Status}}' healthy
  [ "$(berth inspect -f '{{.Config.Healthcheck.Interval}}' i3)" = 1000000000 ] # the image's interval kept
  # a restart: starting again, the old results gone (every result in the log is newer)
  local t0 s
  t0=$(date +%s.%N)
  berth restart -t 1 i1 >/dev/null
  [[ $(berth inspect -f '{{.State.Health.Status}}' i1) =~ ^(starting|healthy)$ ]]
  wait_for i1 '{{.State.Health.Status}}' healthy
  for s in $(health_of i1 | jq -r '.Log[].Start'); do
    awk -v a="$(date -d "$s" +%s.%N)" -v b="$t0" 'BEGIN { exit !(a >= b) }' || { echo "old result $s" >&2; false; }
  done
  berth rmi -f withcheck:1 >/dev/null || true
}

# the whole .State.Health of a container, as one line
health_of() { berth inspect -f '{{json .State.Health}}' "$1"; }

@test "health: no check runs while paused, one running at the pause is not counted; unpaused, the checks go on" {
  since=$(date +%s)
  w=$BATS_TEST_TMPDIR/w
  mkdir -p "$w"
  # the check passes at once, except the first one after /w/hang appears: that one hangs (its
  # timeout leaves room for the pause under load)
  sleeper hp -v "$w:/w" --health-interval 1s --health-timeout 10s --health-retries 1 \
    --health-cmd 'if [ -e /w/hang ]; then rm /w/hang; touch /w/hanging; exec sleep 1000; fi'
  wait_for hp '{{.State.Health.Status}}' healthy
  mon=$(ctr_monitors)
  [ -n "$mon" ]
  touch "$w/hang"
  for _ in $(seq 600); do [ -e "$w/hanging" ] && break; sleep 0.05; done
  [ -e "$w/hanging" ]
  # a check hangs, far from its timeout: pause now
  berth pause hp
  [ "$(berth inspect -f '{{.State.Paused}}' hp)" = true ]
  before=$(health_of hp)
  [ "$(jq -r '.Status + " " + (.FailingStreak | tostring)' <<<"$before")" = "healthy 0" ]
  # its timeout passes while paused: the monitor kills it and says it does not count it
  log=$BROOT/containers/$(berth inspect -f '{{.Id}}' hp)/monitor.log
  for _ in $(seq 300); do
    [ "$(health_of hp)" = "$before" ]
    grep -q 'not counted' "$log" 2>/dev/null && break
    sleep 0.1
  done
  grep 'not counted' "$log"
  grep -q 'paused: no check until it is unpaused' "$log"
  # several intervals more: no check starts (the monitor runs none: its checks are
  # `berth-runtime exec` children), no result, the same status
  for _ in $(seq 30); do
    [ "$(health_of hp)" = "$before" ]
    [ -z "$(pgrep -P "$mon" -f ' exec --process ')" ]
    sleep 0.1
  done
  [ "$(grep -c 'not counted' "$log")" = 1 ]
  berth unpause hp
  # the checks go on: new results, still healthy
  for _ in $(seq 300); do [ "$(health_of hp)" != "$before" ] && break; sleep 0.1; done
  after=$(health_of hp)
  [ "$after" != "$before" ]
  jq -e '.Status == "healthy" and .FailingStreak == 0 and all(.Log[]; .ExitCode == 0)' <<<"$after" >/dev/null
  # the hung check's process went with the thaw
  for _ in $(seq 300); do berth top hp | grep -q 'sleep 1000' || break; sleep 0.1; done
  run berth top hp
  [ "$status" -eq 0 ]
  [[ $output != *"sleep 1000"* ]]
  # no unhealthy event ever
  run berth events --since "$since" --until 0s --filter container=hp --filter event=health_status --format '{{.Action}}'
  [ "$status" -eq 0 ]
  [[ $output == *"health_status: healthy"* ]]
  [[ $output != *"unhealthy"* ]]
}
