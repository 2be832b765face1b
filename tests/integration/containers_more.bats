#!/usr/bin/env bats
# The rest of the container commands with real containers: exec (stdio, exit codes, -u/-w/-e,
# -i, -t with a resize, -d, --privileged, runc), top, stats, cp both ways (running and stopped,
# tar streams with `-`, docker cp's path rules, owners and modes, symlinks that try to leave the container), rename,
# pause/unpause, container prune. Every test's teardown fails it when a monitor, mount, cgroup,
# run dir or row is left.

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

# a detached container that runs until stopped (TERM ends it at once)
run_sleeper() {
  berth run -d --name "$1" "${@:2}" bb sh -c 'trap "exit 0" TERM; while :; do sleep 0.1; done' >/dev/null
  wait_for "$1" '{{.State.Status}}' running
}

berth_cmd() { # the berth command line as one string, for script(1)
  printf "'%s' --root '%s' --runroot '%s'" "$BERTH" "$BROOT" "$BRUN"
}

@test "exec: output, exit codes, environment, -u, -w, --env-file, -i; the process is in the container" {
  run_sleeper e1 -e FROM_RUN=1 -u user
  run berth exec e1 sh -c 'echo out; echo err >&2; exit 3'
  [ "$status" -eq 3 ]
  [[ $output == *out* && $output == *err* ]]
  # the container's environment and user, exec's additions
  run berth exec -e EXTRA=x e1 sh -c 'echo $FROM_RUN $EXTRA $HOME; id -u'
  [ "${lines[0]}" = "1 x /tmp" ]
  [ "${lines[1]}" = 1000 ]
  printf 'A=1\nB=2\n' >"$BATS_TEST_TMPDIR/env"
  [ "$(berth exec --env-file "$BATS_TEST_TMPDIR/env" -e B=3 e1 sh -c 'echo $A$B')" = 13 ]
  [ "$(berth exec -u root e1 sh -c 'id -u; echo $HOME')" = "$(printf '0\n/root')" ]
  [ "$(berth exec -u daemon:users e1 id -g)" = 100 ]
  [ "$(berth exec -u 4242:4343 e1 sh -c 'id -u; id -g')" = "$(printf '4242\n4343')" ]
  [ "$(berth exec -w /tmp e1 pwd)" = /tmp ]
  # stdin only with -i
  [ "$(echo piped | berth exec -i e1 cat)" = piped ]
  [ -z "$(echo piped | berth exec e1 cat)" ]
  # the container's namespaces and cgroup: pid 1 is its init, the cgroup is the init's
  run berth exec e1 cat /proc/1/cmdline
  [[ $output == sh* ]]
  pid=$(berth inspect -f '{{.State.Pid}}' e1)
  [ "$(berth exec e1 cat /proc/self/cgroup | grep -v '^0::' | sort)" = "$(grep -v '^0::' "/proc/$pid/cgroup" | sort)" ]
  [ "$(berth exec e1 readlink /proc/self/ns/pid)" = "$(readlink "/proc/$pid/ns/pid")" ]
  [ "$(berth exec e1 hostname)" = "$(berth inspect -f '{{.Config.Hostname}}' e1)" ]
  # 127 not found, 126 not executable, 137 killed, a signal of the process
  run -127 berth exec e1 nosuchprogram
  [[ $output == *"executable file not found"* ]]
  run -126 berth exec e1 /etc
  run -137 berth exec e1 sh -c 'kill -9 $$'
  # usage and a relative -w: 125, nothing run
  run -125 berth exec e1
  run -125 berth exec -w rel e1 pwd
  [[ $output == *"needs to be an absolute path"* ]]
  run -125 berth exec -u nobodyhere e1 true
  [[ $output == *"nobodyhere"* ]]
}

@test "exec: without -t the process gets pipes, never berth's own descriptors" {
  run_sleeper e5
  t=$BATS_TEST_TMPDIR
  berth exec e5 sh -c 'for i in 0 1 2; do readlink /proc/self/fd/$i; done' >"$t/out" 2>&1 </dev/null
  [ "$(grep -c '^pipe:' "$t/out")" -eq 2 ] # stdin is /dev/null without -i
  [ "$(berth exec -i e5 readlink /proc/self/fd/0 </dev/null)" != /dev/null ]
  # so it cannot reach the file behind berth's stdout (a setuid bit, an owner)
  touch "$t/hostlog" && chmod 600 "$t/hostlog"
  berth exec e5 sh -c 'chmod 4777 /proc/self/fd/1; chown 65534 /proc/self/fd/1; echo line' >>"$t/hostlog" 2>/dev/null
  [ "$(stat -c '%a %u' "$t/hostlog")" = "600 0" ]
  [ "$(cat "$t/hostlog")" = line ]
  # -i: a large input arrives whole; output the process writes before it reads its input
  # flows meanwhile (berth never blocks on a pipe the process does not read)
  head -c 1000000 /dev/urandom >"$t/big"
  [ "$(berth exec -i e5 md5sum <"$t/big" | cut -d' ' -f1)" = "$(md5sum <"$t/big" | cut -d' ' -f1)" ]
  [ "$(berth exec -i e5 sh -c 'head -c 300000 /dev/zero; cat >/dev/null' <"$t/big" | wc -c)" -eq 300000 ]
  # stdout and stderr stay apart; the exit code is the process's
  run -3 "$BERTH" --root "$BROOT" --runroot "$BRUN" exec e5 sh -c 'echo out; echo err >&2; exit 3'
  [ "$(berth exec e5 sh -c 'echo out; echo err >&2' 2>/dev/null)" = out ]
  # a process that closes its output early still gets its input (and its end) and berth's
  # signals until it exits
  run timeout 20 sh -c "echo in | '$BERTH' --root '$BROOT' --runroot '$BRUN' exec -i e5 sh -c 'exec >/dev/null 2>&1; cat >/tmp/got'"
  [ "$status" -eq 0 ]
  [ "$(berth exec e5 cat /tmp/got)" = in ]
  "$BERTH" --root "$BROOT" --runroot "$BRUN" exec e5 sh -c 'exec >/dev/null 2>&1; trap "echo term >/tmp/sig; exit 7" TERM; touch /tmp/trapped; while :; do sleep 0.1; done' &
  ex=$!
  wait_until 30 berth exec e5 test -e /tmp/trapped # the trap is set
  kill -TERM "$ex"
  rc=0
  wait "$ex" || rc=$?
  [ "$rc" -eq 7 ]
  [ "$(berth exec e5 cat /tmp/sig)" = term ]
  # a process left in the background with the pipes does not keep exec waiting
  run timeout 20 "$BERTH" --root "$BROOT" --runroot "$BRUN" exec e5 sh -c 'sleep 60 & echo started'
  [ "$status" -eq 0 ]
  [ "$output" = started ]
}

# CVE-2016-9962: the runtime joins the container, so berth gives it nothing of its caller's; the
# monitor gives the runtime nothing of its own (its start channel to berth)
@test "exec, run: no descriptor of berth's caller or of the monitor reaches the runtime" {
  t=$BATS_TEST_TMPDIR
  echo secret >"$t/secret"
  # the runtime through a wrapper that notes every descriptor it was given
  cat >"$t/rt" <<EOF
#!/bin/sh
for f in /proc/\$\$/fd/*; do echo "\$* :: \${f##*/} \$(readlink "\$f")"; done >>'$t/fds'
exec '$OCI_RUNTIME' "\$@"
EOF
  chmod 755 "$t/rt"
  run_sleeper w1 --runtime "$t/rt" 7<"$t/secret"     # the monitor runs `run`
  run berth exec w1 /probe fds 7<"$t/secret" 8<"$t/secret" 9<"$t/secret"
  [ "$status" -eq 0 ]
  [ "$(probe_val fds)" = 0,1,2 ]
  berth top w1 >/dev/null 7<"$t/secret"  # `ps`, and `kill` (posix_spawn) for stop
  berth stop -t 5 w1 >/dev/null 7<"$t/secret"
  for verb in exec run ps kill; do grep -q " $verb " "$t/fds"; done # the wrapper ran for each
  if grep -e "$t/secret" -e 'socket:' "$t/fds"; then false; fi
}

# a device node the container made there would be opened as host root, outside the container's
# device cgroup; a fifo would let a writer through (or block berth without O_NONBLOCK)
@test "exec -u: a fifo the container put at /etc/passwd or /etc/group is never opened" {
  run_sleeper u1
  pid=$(berth inspect -f '{{.State.Pid}}' u1)
  for f in passwd group; do
    berth exec u1 sh -c "cp /etc/$f /tmp/$f.keep && rm /etc/$f && mkfifo /etc/$f"
    # a writer that stays blocked in open(2) until a reader comes: berth must never be that reader
    timeout 30 sh -c "echo root:x:0:0::/:/bin/sh >'/proc/$pid/root/etc/$f'" &
    writer=$!
    blocked() { grep -qsE 'fifo_open|wait_for_partner' "/proc/$(pgrep -P "$writer" sh || echo 0)/wchan"; }
    for _ in $(seq 300); do blocked && break; sleep 0.1; done
    blocked
    run timeout 20 "$BERTH" --root "$BROOT" --runroot "$BRUN" exec -u daemon u1 id -u
    [ "$status" -ne 124 ]
    [ "$f" = group ] || { [ "$status" -eq 125 ] && [[ $output == *daemon* ]]; }
    sleep 0.2
    blocked # still waiting for a reader
    kill "$writer"
    wait "$writer" || true
    berth exec u1 sh -c "rm /etc/$f && mv /tmp/$f.keep /etc/$f"
  done
  [ "$(berth exec -u daemon u1 id -u)" = 1 ]
}

@test "exec: a stopped, paused or unknown container is a clear error, exit 125" {
  berth create --name made bb true >/dev/null
  run -125 berth exec made true
  [[ $output == *"is not running"* ]]
  berth run --name finished bb true
  run -125 berth exec finished true
  [[ $output == *"is not running"* ]]
  run_sleeper p1
  berth pause p1
  run -125 berth exec p1 true
  [[ $output == *"is paused, unpause the container before exec"* ]]
  berth unpause p1
  run -125 berth exec nosuch true
  [[ $output == *"no such container"* ]]
  # nothing left in the run root by failed or finished execs
  [ -z "$(ls "$BRUN" | grep -v -e runtime -e '^[0-9a-f]\{64\}$')" ]
}

@test "exec: -d runs in the background, -t gives a terminal (resized on SIGWINCH), --privileged" {
  run_sleeper e2
  run berth exec -d e2 sh -c 'sleep 0.3; echo bg > /tmp/bg; sleep 30'
  [ "$status" -eq 0 ]
  [ -z "$output" ]
  for _ in $(seq 300); do [ "$(berth exec e2 cat /tmp/bg 2>/dev/null)" = bg ] && break; sleep 0.1; done
  [ "$(berth exec e2 cat /tmp/bg)" = bg ]
  run -127 berth exec -d e2 nosuchprogram
  [[ $output == *"executable file not found"* ]]
  # privileged: every capability berth holds; default: the container's
  [ "$(berth exec e2 sh -c 'grep CapEff /proc/self/status | cut -f2')" = 00000000a80425fb ]
  [ "$(berth exec --privileged e2 sh -c 'grep CapEff /proc/self/status | cut -f2')" = "$(grep CapBnd /proc/self/status | cut -f2)" ]
  [ "$(berth exec -u user --privileged e2 sh -c 'grep CapEff /proc/self/status | cut -f2')" = 0000000000000000 ]
  command -v script >/dev/null || skip "script(1) is not installed"
  run script -qec "$(berth_cmd) exec -t e2 sh -c 'tty; echo \$TERM; exit 7'" /dev/null
  [ "$status" -eq 7 ]
  [[ ${lines[0]} == /dev/pts/* ]]
  [[ ${lines[1]} == xterm* ]]
  run bash -c "printf 'echo in-a-tty; exit 8\n' | script -qec \"$(berth_cmd) exec -it e2 sh\" /dev/null"
  [ "$status" -eq 8 ]
  [[ $output == *in-a-tty* ]]
  command -v python3 >/dev/null || skip "python3 is not installed"
  # a terminal of 33x111, then resized to 44x123 with SIGWINCH: the process's pty follows
  run python3 - "$BERTH" "$BROOT" "$BRUN" <<'EOF'
import fcntl, os, pty, select, signal, struct, sys, termios, time
berth, root, runroot = sys.argv[1:4]
pid, fd = pty.fork()
if pid == 0:
    os.execv(berth, [berth, "--root", root, "--runroot", runroot, "exec", "-it", "e2", "sh"])
def size(r, c): fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", r, c, 0, 0))
size(33, 111)
out = b""
def read_for(t):
    global out
    end = time.time() + t
    while time.time() < end:
        if not select.select([fd], [], [], max(0, end - time.time()))[0]: break
        try: data = os.read(fd, 4096)
        except OSError: break
        if not data: break
        out += data
os.write(fd, b"stty size\n"); read_for(1.5)
size(44, 123); os.kill(pid, signal.SIGWINCH); time.sleep(0.3)
os.write(fd, b"stty size; exit 5\n"); read_for(1.5)
_, st = os.waitpid(pid, 0)
print(out.decode(errors="replace")); print("exit", os.waitstatus_to_exitcode(st))
EOF
  [[ $output == *"33 111"* ]]
  [[ $output == *"44 123"* ]]
  [[ $output == *"exit 5"* ]]
}

@test "exec, top, stats, pause and cp through --runtime runc" {
  CTR_RUNC=1
  command -v runc >/dev/null || skip "runc is not installed"
  run_sleeper r1 --runtime runc
  run berth exec r1 sh -c 'echo via-runc; exit 4'
  [ "$status" -eq 4 ]
  [ "$output" = via-runc ]
  run -127 berth exec r1 nosuchprogram
  [ "$(berth exec -u user r1 id -u)" = 1000 ]
  command -v script >/dev/null && {
    run script -qec "$(berth_cmd) exec -t r1 sh -c 'tty; exit 7'" /dev/null
    [ "$status" -eq 7 ]
    [[ ${lines[0]} == /dev/pts/* ]]
  }
  run berth top r1
  [ "$status" -eq 0 ]
  [[ ${lines[0]} == UID* ]]
  # the sleeper among them (an exec just ended may still be listed before it)
  [[ $output == *"sh -c trap"* ]]
  run berth stats --no-stream --format '{{.Name}} {{.PIDs}}' r1
  [[ $output =~ ^r1\ [0-9]+$ ]]
  berth pause r1
  [ "$(berth inspect -f '{{.State.Status}}' r1)" = paused ]
  berth unpause r1
  echo in >"$BATS_TEST_TMPDIR/f"
  berth cp "$BATS_TEST_TMPDIR/f" r1:/f
  [ "$(berth exec r1 cat /f)" = in ]
  # -dt: runc takes the console socket when detached; the monitor keeps the terminal
  berth exec -dt r1 sh -c 'tty >/tmp/tty; exec sleep 30'
  for _ in $(seq 300); do [ -n "$(berth exec r1 cat /tmp/tty 2>/dev/null)" ] && break; sleep 0.1; done
  [[ $(berth exec r1 cat /tmp/tty) == /dev/pts/* ]]
  [[ $(berth top r1) == *"sleep 30"* ]]
}

@test "top: ps -ef's columns for the container's processes, host pids" {
  run_sleeper t1
  berth exec -d t1 sleep 30
  run berth top t1
  [ "$status" -eq 0 ]
  [[ ${lines[0]} =~ ^UID\ +PID\ +PPID\ +C\ +STIME\ +TTY\ +TIME\ +CMD$ ]]
  pid=$(berth inspect -f '{{.State.Pid}}' t1)
  # the init (host pid) and the exec'd sleep; the sleep loop's children come and go
  grep -Eq "^root +$pid +[0-9]+ +[0-9]+ +[0-9:A-Za-z]+ +\? +[0-9:]+ +sh -c trap" <<<"$output"
  grep -Eq "^root +[0-9]+ +[0-9]+ .* sleep 30$" <<<"$output"
  run -125 berth top t1 aux
  [[ $output == *"not supported"* ]]
  berth stop t1 >/dev/null
  run -1 berth top t1
  [[ $output == *"is not running"* ]]
}

@test "stats: --no-stream, --format json, CPU of a busy container, its memory limit, pids; streaming" {
  berth run -d --name busy -m 64m bb sh -c 'while :; do :; done' >/dev/null
  run_sleeper idle
  run berth stats --no-stream
  [ "$status" -eq 0 ]
  [[ ${lines[0]} =~ ^CONTAINER\ ID\ +NAME\ +CPU\ %\ +MEM\ USAGE\ /\ LIMIT\ +MEM\ %\ +PIDS$ ]]
  [ "${#lines[@]}" -eq 3 ]
  run berth stats --no-stream --format json busy
  [ "$(jq -r .Name <<<"$output")" = busy ]
  [[ $(jq -r .MemUsage <<<"$output") == *" / 64MiB" ]]
  cpu=$(jq -r .CPUPerc <<<"$output")
  # one CPU spinning: well above an idle container even when builds share the machine's cores
  [ "${cpu%%.*}" -ge 20 ]
  [ "$(jq -r .PIDs <<<"$output")" = 1 ]
  cpu=$(berth stats --no-stream --format '{{.CPUPerc}}' idle)
  [ "${cpu%%.*}" -lt 10 ]
  # streaming: a table a second until interrupted
  run timeout -s INT 3.5 "$BERTH" --root "$BROOT" --runroot "$BRUN" stats idle
  [ "$(grep -c '^CONTAINER ID' <<<"$output")" -ge 2 ]
  # a stopped container named: zeros; an unknown one: an error
  berth rm -f busy >/dev/null
  berth run --name stopped bb true
  [ "$(berth stats --no-stream --format '{{.CPUPerc}} {{.MemUsage}} {{.PIDs}}' stopped)" = "0.00% 0B / 0B 0" ]
  run -1 berth stats --no-stream nosuch
  [[ $output == *"no such container"* ]]
}

@test "stats: --format is a Go template (the table directive with docker's headers, errors)" {
  berth create --name s1 bb true >/dev/null
  run berth stats --no-stream --format 'table {{.Name}}\t{{.PIDs}}\t{{.MemUsage}}\t{{.CPUPerc}}' s1
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "NAME      PIDS      MEM USAGE / LIMIT   CPU %" ]
  [ "${lines[1]}" = "s1        0         0B / 0B             0.00%" ]
  [ "$(berth stats --no-stream --format '{{json .Name}} {{len .ID}}' s1)" = '"s1" 12' ]
  run --separate-stderr berth stats --no-stream --format '{{.Nope}}' s1
  [ "$status" -eq 1 ]
  [ "$stderr" = "berth stats: template parsing error: template: :1:2: executing \"\" at <.Nope>: can't evaluate field Nope in type *container.statsContext" ]
}

@test "exec -dt: a terminal in the background, kept open by the monitor, its output drained" {
  run_sleeper e3
  run berth exec -dt e3 sh -c 'tty >/tmp/tty; echo $TERM >/tmp/term; yes | head -c 1000000; echo done >/tmp/done; exec sleep 30'
  [ "$status" -eq 0 ]
  [ -z "$output" ]
  # a megabyte into a terminal nobody attached to: done only when something reads it
  for _ in $(seq 300); do [ "$(berth exec e3 cat /tmp/done 2>/dev/null)" = done ] && break; sleep 0.1; done
  [ "$(berth exec e3 cat /tmp/done)" = done ]
  [[ $(berth exec e3 cat /tmp/tty) == /dev/pts/* ]]
  [[ $(berth exec e3 cat /tmp/term) == xterm* ]]
  # not hung up when berth exited: the process lives on with its terminal
  [[ $(berth top e3) == *"sleep 30"* ]]
  berth exec e3 sh -c 'for p in /proc/[0-9]*; do [ "$(cat $p/comm)" = sleep ] && readlink $p/fd/0; done' |
    grep -q '^/dev/pts/'
}

@test "cp: both directions on a running container — docker cp's rules, owners and modes kept" {
  run_sleeper c1
  d=$BATS_TEST_TMPDIR
  mkdir -p "$d/tree/sub" && echo a >"$d/tree/a" && echo b >"$d/tree/sub/b"
  chown -R 1234:2345 "$d/tree" && chmod 4751 "$d/tree/a" && chmod 700 "$d/tree/sub"
  run berth cp "$d/tree" c1:/tmp
  [ "$status" -eq 0 ]
  [[ $output == "Successfully copied 4B to c1:/tmp" ]]
  [ "$(berth exec c1 stat -c '%u:%g %a' /tmp/tree/a /tmp/tree/sub)" = "$(printf '1234:2345 4751\n1234:2345 700')" ]
  run -1 berth cp "$d/tree/." c1:/tmp/flat/
  [[ $output == *"destination directory \`/tmp/flat\` does not exist"* ]]
  berth exec c1 mkdir /tmp/flat
  berth cp -q "$d/tree/." c1:/tmp/flat/
  [ "$(berth exec c1 cat /tmp/flat/sub/b)" = b ]
  berth cp "$d/tree/a" c1:/tmp/renamed
  [ "$(berth exec c1 cat /tmp/renamed)" = a ]
  # out again: into a directory, to a new name, a file onto a file
  berth exec c1 sh -c 'mkdir -p /made/x && echo made >/made/x/f && chown -R 7:8 /made && chmod 640 /made/x/f'
  berth cp c1:/made "$d/out"
  [ "$(stat -c '%u:%g %a %n' "$d/out/x/f")" = "7:8 640 $d/out/x/f" ]
  mkdir "$d/into"
  berth cp c1:/made "$d/into"
  [ "$(cat "$d/into/made/x/f")" = made ]
  berth cp c1:/etc/hostname "$d/into/made/x/f"
  [ "$(cat "$d/into/made/x/f")" = "$(berth inspect -f '{{.Config.Hostname}}' c1)" ]
  # errors: a missing source, a directory onto a file, between containers, no container
  run -1 berth cp c1:/nope "$d/x"
  [[ $output == *"copy from container \`c1\`"*"No such file or directory"* ]]
  run -1 berth cp c1:/made "$d/into/made/x/f"
  [[ $output == *"cannot copy a directory to a file"* ]]
  run -125 berth cp c1:/a c1:/b
  run -125 berth cp "$d/a" "$d/b"
  run -1 berth cp "$d/tree" nosuch:/tmp
}

@test "cp: symlinks in the container never lead berth to the host's files" {
  run_sleeper s1
  d=$BATS_TEST_TMPDIR
  before=$(stat -c '%Y %s' /etc/shadow /etc/passwd; md5sum /etc/shadow /etc/passwd)
  berth exec s1 sh -c 'ln -s /etc/shadow /evil; ln -s ../../../../../../.. /up; ln -s /etc /etcdir;
    echo inside >/etc/inside'
  # out: the link itself, or (with -L) what it names inside the container
  berth cp s1:/evil "$d/evil"
  [ "$(readlink "$d/evil")" = /etc/shadow ]
  run -1 berth cp -L s1:/evil "$d/evil2"
  [ ! -e "$d/evil2" ]
  berth cp s1:/up/etc/inside "$d/inside" # ../.. stop at the container's root
  [ "$(cat "$d/inside")" = inside ]
  run -1 berth cp s1:/up/etc/shadow "$d/shadow"
  [ ! -e "$d/shadow" ]
  # in: through the links, into the container; a link as the target is replaced, not followed
  echo payload >"$d/payload"
  berth cp "$d/payload" s1:/evil
  [ "$(berth exec s1 cat /evil)" = payload ]
  [ -z "$(berth exec s1 find /evil -type l)" ]
  berth cp "$d/payload" s1:/up/etc/x
  [ "$(berth exec s1 cat /etc/x)" = payload ]
  berth cp "$d/payload" s1:/etcdir/y
  [ "$(berth exec s1 cat /etc/y)" = payload ]
  [ ! -e /etc/x ]
  [ ! -e /etc/y ]
  [ ! -e /evil ]
  [ "$(stat -c '%Y %s' /etc/shadow /etc/passwd; md5sum /etc/shadow /etc/passwd)" = "$before" ]
}

@test "cp: a stopped container — its rootfs mounted for the copy only, changes kept for the next start" {
  berth run --name st1 bb sh -c 'echo from-run >/ran'
  d=$BATS_TEST_TMPDIR
  berth cp st1:/ran "$d/ran"
  [ "$(cat "$d/ran")" = from-run ]
  echo added >"$d/added"
  berth cp "$d/added" st1:/added
  # a created container too
  berth create --name cr1 bb cat /added >/dev/null
  berth cp "$d/added" cr1:/added
  [ "$(berth start -a cr1)" = added ]
  berth rm cr1 >/dev/null
  # nothing stays mounted anywhere after a copy
  run ! grep -q "$BROOT/containers" /proc/self/mountinfo
  [ -z "$(ls "$BRUN" | grep -v runtime)" ]
  berth start st1 >/dev/null # runs `echo >/ran` again, the copied file is in its layer
  berth wait st1 >/dev/null
  berth cp st1:/added "$d/back"
  [ "$(cat "$d/back")" = added ]
  [ -f "$BROOT/containers/$(berth inspect -f '{{.Id}}' st1)/upper/added" ]
}

@test "cp -: tar streams on stdout and stdin, running and stopped; nothing leaves the container's root" {
  run_sleeper t1
  d=$BATS_TEST_TMPDIR
  berth exec t1 sh -c 'mkdir -p /made/x && echo made >/made/x/f && ln -s /etc/shadow /made/evil &&
    ln -s /made/x/f /made/lnk && chown -R 7:8 /made && chmod 640 /made/x/f'
  # out: the item under its own name, owners and modes as in the container, links as links
  berth cp t1:/made - >"$d/made.tar"
  [ "$(tar -tf "$d/made.tar" | sort | tr '\n' ' ')" = "made/ made/evil made/lnk made/x/ made/x/f " ]
  [[ $(tar --numeric-owner -tvf "$d/made.tar" made/x/f) == "-rw-r----- 7/8 "* ]]
  [ "$(tar -xOf "$d/made.tar" made/x/f)" = made ]
  [[ $(tar -tvf "$d/made.tar" made/evil) == *"made/evil -> /etc/shadow" ]]
  # "/." names the entries; -L follows a link, inside the container
  [ "$(berth cp t1:/made/. - | tar -tf - | sort | tr '\n' ' ')" = "evil lnk x/ x/f " ]
  [ "$(berth cp -L t1:/made/lnk - | tar -xOf - lnk)" = made ]
  [ "$(berth cp t1:/made/x/f - | tar -xOf - f)" = made ]
  # a missing source is an error
  run -1 berth cp t1:/nope -
  [[ $output == *"No such file or directory"* ]]
  # in: extracted into a directory; its own owner and mode stay; ".wh." names are plain files
  mkdir -p "$d/src/sub" && echo in >"$d/src/sub/g" && touch "$d/src/.wh.keep" && chown -R 11:12 "$d/src"
  tar -C "$d/src" -cf - . | berth cp - t1:/tmp
  [ "$(berth exec t1 stat -c '%u:%g %n' /tmp/sub/g /tmp/.wh.keep)" = "$(printf '11:12 /tmp/sub/g\n11:12 /tmp/.wh.keep')" ]
  [ "$(berth exec t1 stat -c '%u:%g %a' /tmp)" = "0:0 1777" ]
  # errors: not a directory, missing, a directory replaced by a file; nothing half-written
  run -1 berth cp - t1:/made/x/f <"$d/made.tar"
  [[ $output == *"destination \`/made/x/f\` must be a directory"* ]]
  run -1 berth cp - t1:/nope <"$d/made.tar"
  [[ $output == *"No such file or directory"* ]]
  run -1 berth cp - t1:/tmp <<<"not a tar stream"
  [[ $output == *"copy to container \`t1\`"*"extract tar"* ]]
  mkdir "$d/flat" && echo file >"$d/flat/sub"
  run -1 sh -c "tar -C '$d/flat' -cf - sub | '$BERTH' --root '$BROOT' --runroot '$BRUN' cp - t1:/tmp"
  [[ $output == *"cannot overwrite a directory with a non-directory"* ]]
  [ "$(berth exec t1 cat /tmp/sub/g)" = in ]
  # hostile archives: a ".." name; a link to "/" and a write through it
  python3 - "$d" <<'EOF'
import io, sys, tarfile
def entry(t, name, data=b"bad"):
    i = tarfile.TarInfo(name); i.size = len(data); t.addfile(i, io.BytesIO(data))
with tarfile.open(sys.argv[1] + "/dotdot.tar", "w") as t:
    entry(t, "../../../../berth-cp-escape")
with tarfile.open(sys.argv[1] + "/link.tar", "w") as t:
    l = tarfile.TarInfo("root"); l.type = tarfile.SYMTYPE; l.linkname = "/"; t.addfile(l)
    entry(t, "root/etc/berth-cp-through-link")
EOF
  run -1 berth cp - t1:/tmp <"$d/dotdot.tar"
  [[ $output == *"berth-cp-escape"* ]]
  run -1 berth cp - t1:/tmp <"$d/link.tar"
  [ ! -e /berth-cp-escape ]
  [ ! -e /etc/berth-cp-through-link ]
  run -1 berth exec t1 sh -c 'ls /berth-cp-escape /etc/berth-cp-through-link /tmp/etc/berth-cp-through-link'
  # all or nothing: an archive cut in a file's data, or refused at its third entry, leaves
  # the directory as it was (the file being replaced intact, nothing new, the same times)
  berth exec t1 sh -c 'mkdir /dst && echo keep >/dst/big2 && chmod 640 /dst/big2 && touch -d @1000000 /dst'
  mkdir "$d/two" && head -c 100000 /dev/urandom >"$d/two/big1" && head -c 100000 /dev/urandom >"$d/two/big2"
  tar -C "$d/two" -cf "$d/two.tar" big1 big2
  python3 - "$d" <<'EOF'
import sys, tarfile
with tarfile.open(sys.argv[1] + "/two.tar", "a") as t:
    t.add(sys.argv[1] + "/two/big1", arcname="../evil")
EOF
  snap() { berth exec t1 sh -c 'find /dst | sort; stat -c "%n %s %a %u %Y" /dst /dst/big2; cat /dst/big2'; }
  before=$(snap)
  run -1 sh -c "head -c 150000 '$d/two.tar' | '$BERTH' --root '$BROOT' --runroot '$BRUN' cp - t1:/dst"
  [ "$(snap)" = "$before" ]
  run -1 berth cp - t1:/dst <"$d/two.tar"
  [[ $output == *"../evil"* ]]
  [ "$(snap)" = "$before" ]
  # a name the container swaps with a fifo while berth reads it: never read through, never
  # blocking (it is opened only once it is known to be the regular file that was listed)
  berth exec t1 sh -c 'mkdir /race && echo data >/race/f && mkfifo /race/p'
  berth exec -d t1 /probe swap /race/f /race/p
  for _ in $(seq 40); do
    run timeout 10 "$BERTH" --root "$BROOT" --runroot "$BRUN" cp t1:/race -
    [ "$status" -ne 124 ]
  done
  # a stopped container: both ways through its mounted root, the change kept in its layer
  berth stop t1 >/dev/null
  [ "$(berth cp t1:/tmp/sub/g - | tar -xOf - g)" = in ]
  # ".." at the top stays at the container's root (here an overlay mounted in the host's tree)
  names=$(berth cp t1:/made/../.. - | tar -tf - | tr '\n' ' ')
  [[ $names == *" made/ "* && $names != *config.json* && $names != *bundle* ]]
  mkdir "$d/later" && echo later >"$d/later/l"
  tar -C "$d/later" -cf - l | berth cp - t1:/made
  [ -f "$BROOT/containers/$(berth inspect -f '{{.Id}}' t1)/upper/made/l" ]
  run ! grep -q "$BROOT/containers" /proc/self/mountinfo
}

@test "rename: running or not, names stay unique" {
  run_sleeper old
  berth run --name other bb true
  berth rename old new
  [ "$(berth ps --format '{{.Names}}')" = new ]
  [ "$(berth exec new echo ok)" = ok ]
  run -125 berth exec old true
  [[ $output == *"no such container"* ]]
  run -1 berth rename new other
  [[ $output == *"already in use"* ]]
  run -1 berth rename new new
  [[ $output == *"same name"* ]]
  run -1 berth rename new 'bad/name'
  [[ $output == *"invalid container name"* ]]
  berth rename other /slashed
  [ "$(berth inspect -f '{{.Name}}' slashed)" = /slashed ]
  run -125 berth rename new
  # the OCI annotation follows: on disk at once, in the runtime's state from the next start
  id=$(berth inspect -f '{{.Id}}' new)
  [ "$(jq -r '.annotations["berth.container.name"]' "$BROOT/containers/$id/bundle/config.json")" = new ]
  [ "$(jq -r '.annotations["berth.container.name"]' \
    "$BROOT/containers/$(berth inspect -f '{{.Id}}' slashed)/bundle/config.json")" = slashed ]
  # a refused rename changes neither: the name and the file stay, nothing is left beside it
  run -1 berth rename new slashed
  [ "$(jq -r '.annotations["berth.container.name"]' "$BROOT/containers/$id/bundle/config.json")" = new ]
  [ "$(ls "$BROOT/containers/$id/bundle" | tr '\n' ' ')" = "config.json rootfs " ]
  berth stop new >/dev/null && berth start new >/dev/null
  wait_for new '{{.State.Status}}' running
  [ "$(jq -r '.annotations["berth.container.name"]' "$BRUN/runtime/$id/config.json")" = new ]
}

@test "pause and unpause: frozen processes, state paused, stop and rm -f of a paused container" {
  # the counter is replaced whole (a reader of a file being rewritten in place can see it empty)
  berth run -d --name pz bb sh -c 'i=0; while :; do i=$((i+1)); echo $i >/tmp/n.t; mv /tmp/n.t /tmp/n; sleep 0.05; done' >/dev/null
  wait_for pz '{{.State.Status}}' running
  pid=$(berth inspect -f '{{.State.Pid}}' pz)
  wait_until 30 test -s "/proc/$pid/root/tmp/n" # the counter has begun
  run berth pause pz
  [ "$status" -eq 0 ]
  [ "$output" = pz ]
  [ "$(berth inspect -f '{{.State.Status}} {{.State.Paused}} {{.State.Running}}' pz)" = "paused true true" ]
  [[ $(berth ps --format '{{.Status}}') == *"(Paused)" ]]
  a=$(cat "/proc/$pid/root/tmp/n")
  sleep 0.4
  [ "$(cat "/proc/$pid/root/tmp/n")" = "$a" ] # frozen
  run -1 berth pause pz
  [[ $output == *"already paused"* ]]
  berth unpause pz
  [ "$(berth inspect -f '{{.State.Status}}' pz)" = running ]
  counted_on() { [ "$(cat "/proc/$pid/root/tmp/n")" -gt "$a" ]; }
  wait_until 30 counted_on
  run -1 berth unpause pz
  [[ $output == *"is not paused"* ]]
  berth pause pz
  berth stop -t 1 pz
  [ "$(berth inspect -f '{{.State.Status}}' pz)" = exited ]
  run -1 berth pause pz
  [[ $output == *"is not running"* ]]
  run_sleeper pz2
  berth pause pz2
  berth rm -f pz2
  [ -z "$(berth ps -aq --filter name=pz2)" ]
}

@test "container prune: the stopped containers go, running ones stay; -f, the prompt, filters" {
  run_sleeper up
  berth run --name gone1 bb sh -c 'head -c 5000 /dev/zero >/big'
  berth create --name gone2 bb true >/dev/null
  berth run --name kept --label keep=yes bb true
  run bash -c "echo n | $(berth_cmd) container prune"
  [[ $output == *"Are you sure you want to continue? [y/N]"* ]]
  [ "$(berth ps -aq | wc -l)" -eq 4 ]
  gone1=$(berth inspect -f '{{.Id}}' gone1) gone2=$(berth inspect -f '{{.Id}}' gone2)
  run berth container prune -f --filter 'label!=keep=yes'
  [ "$status" -eq 0 ]
  [ "$(head -n 1 <<<"$output")" = "Deleted Containers:" ]
  [ "$(sed -n '2,3p' <<<"$output" | sort)" = "$(printf '%s\n' "$gone1" "$gone2" | sort)" ]
  [[ $(tail -n 1 <<<"$output") =~ ^Total\ reclaimed\ space:\ [0-9.]+kB$ ]] # 5000 bytes and the logs
  [ "$(berth ps -a --format '{{.Names}}' | sort | tr '\n' ' ')" = "kept up " ]
  run berth container prune -f
  [ "$(berth ps -a --format '{{.Names}}')" = up ]
  run berth container prune -f
  [ "$output" = "Total reclaimed space: 0B" ]
  run -125 berth container prune -f --filter bogus=1
}

@test "the new commands: --help, and usage errors exit 125" {
  for c in exec top stats cp rename pause unpause "container exec" "container top" "container stats" \
    "container cp" "container rename" "container pause" "container unpause" "container prune" \
    "volume create" "volume ls" "volume list" "volume inspect" "volume rm" "volume remove" "volume prune"; do
    # shellcheck disable=SC2086
    run berth $c --help
    [ "$status" -eq 0 ] || { echo "$c --help: $status"; false; }
    [[ $output == *"Usage:  berth "* ]]
  done
  run berth volume --help
  [ "$status" -eq 0 ]
  [[ $output == *"Commands:"* ]]
  run -125 berth exec
  run -125 berth exec --nosuchflag x true
  run -125 berth top
  run -125 berth cp onlyone
  run -125 berth rename onlyone
  run -125 berth pause
  run -125 berth volume inspect
  run -125 berth volume ls --filter bogus=1
}

@test "export: a container's filesystem is its image plus its own changes, volumes excluded" {
  berth run --name ex1 -v /data bb sh -c 'echo hello >/created; rm /bin/ls; echo v >/data/in-volume' >/dev/null
  berth export -o "$BATS_TEST_TMPDIR/ex1.tar" ex1
  tar -tf "$BATS_TEST_TMPDIR/ex1.tar" | sed 's|^\./||' >"$BATS_TEST_TMPDIR/list"
  grep -qx created "$BATS_TEST_TMPDIR/list"
  [ "$(tar -xOf "$BATS_TEST_TMPDIR/ex1.tar" ./created 2>/dev/null || tar -xOf "$BATS_TEST_TMPDIR/ex1.tar" created)" = hello ]
  ! grep -qx bin/ls "$BATS_TEST_TMPDIR/list" || false # deleted in the container: its whiteout hides it
  ! grep -q in-volume "$BATS_TEST_TMPDIR/list" || false
  # the image itself still has it (by a tag no container id can begin with: "bb" is hex, and a
  # container whose id began with it, ex1's one time in 256, was exported instead)
  berth tag bb plain:exported
  berth export plain:exported | tar -t | sed 's|^\./||' | grep -qx bin/ls
  berth rm -v ex1 >/dev/null
}

@test "a run root too long for a unix socket address: attached run, attach, exec -t and run -t work" {
  # <run root>/<64-hex id>/attach is far past sun_path's 107 bytes: the monitor binds it,
  # and berth connects to it, through the directory's descriptor
  BRUN=$CTR_DIR/$(printf 'x%.0s' {1..90})
  [ ${#BRUN} -gt 100 ]
  run berth run --name att bb sh -c 'echo out; echo err >&2; exit 3'
  [ "$status" -eq 3 ]
  [[ $output == *out*err* || $output == *err*out* ]]
  berth run -d -i --name a1 bb sh -c 'read line; echo "got $line"; exit 6' >/dev/null
  wait_for a1 '{{.State.Status}}' running
  [ "$(find "$BRUN" -name attach -type s | head -n 1 | wc -c)" -gt 108 ]
  run berth attach a1 <<<"ping"
  [ "$status" -eq 6 ]
  [ "$output" = "got ping" ]
  command -v script >/dev/null || skip "script(1) is not installed"
  # -t: the monitor's console socket under the same directory
  run script -qec "$(berth_cmd) run --rm -t bb sh -c 'tty; exit 7'" /dev/null
  [ "$status" -eq 7 ]
  [[ $output == /dev/pts/* ]]
  berth run -d --name t1 bb sh -c 'while :; do sleep 0.1; done' >/dev/null
  wait_for t1 '{{.State.Status}}' running
  run script -qec "$(berth_cmd) exec -t t1 sh -c 'tty; exit 5'" /dev/null
  [ "$status" -eq 5 ]
  [[ $output == /dev/pts/* ]]
  berth rm -f t1 att a1 >/dev/null
}
