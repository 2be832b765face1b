# shellcheck shell=bash
# stall-guard.bash: sourced by scripts/check (part 4); needs $work (a directory); BATS_STALL.
# shellcheck disable=SC2154 # work: set by scripts/check
#
# The stall guard. A command that outlives BATS_TEST_TIMEOUT can hold a lane to its end: bats
# signals only the test shell's own children, and a shell that reads a command substitution runs
# its time-out trap only once every writer of that pipe is gone, so a grandchild that hangs (or
# an orphan holding the pipe) stops the lane, and the tests after it never run. When no test of
# a lane ended for BATS_STALL (600) s, the guard prints the lane's processes (with wchan: where
# each waits) and kills every process below the running test shell and every other process that
# holds the write end of a pipe the test shell reads: that test fails, its teardown runs, the
# lane goes on. Each stall that killed something counts as a failure of the part of its TAP
# file. BATS_STALL defaults to 600 s or three BATS_TEST_TIMEOUTs, whichever is more.
descendants() { # PID -> every process below it
  local c
  for c in $(pgrep -P "$1"); do
    echo "$c"
    descendants "$c"
  done
}
ppid_of() { ps -o ppid= -p "$1" 2>/dev/null | tr -d ' '; }
is_test_shell() { tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -q 'bats-exec-test '; }
fd_mode() { # /proc/PID/fdinfo/N -> its access mode (0 read, 1 write, 2 both; the flags are octal)
  local f
  f=$(awk '/^flags/ {print $2}' "$1" 2>/dev/null)
  echo $((8#${f:-0} & 3))
}
pipe_writers() { # PID -> other processes (not PID's ancestors) holding a pipe PID reads from
  local fd l names=() anc=" $1 " p=$1 f
  while p=$(ppid_of "$p") && [ "${p:-0}" -gt 1 ]; do anc+="$p "; done
  for fd in /proc/"$1"/fd/*; do
    l=$(readlink "$fd" 2>/dev/null) || continue
    if [[ $l != pipe:* ]] || [ "$(fd_mode "/proc/$1/fdinfo/${fd##*/}")" != 0 ]; then continue; fi
    l=${l//\[/\\[} # -lname takes a pattern
    names+=(-o -lname "${l//\]/\\]}")
  done
  [ ${#names[@]} -gt 0 ] || return 0
  # one pass over every descriptor of the machine (a readlink each would take seconds)
  find /proc/[0-9]*/fd -maxdepth 1 \( "${names[@]:1}" \) 2>/dev/null | while read -r f; do
    p=${f#/proc/}
    p=${p%%/*}
    [[ $anc == *" $p "* ]] && continue
    [ "$(fd_mode "/proc/$p/fdinfo/${f##*/}")" != 0 ] && echo "$p"
  done | sort -u
}
declare -A stall_n stall_t
# stall_guard KEY PID TAP...: the lane PID (a child of this shell) runs its TAP files in turn and
# touches $work/KEY.done when it ends; the stall of a test is recorded against its TAP file
stall_guard() {
  local key=$1 pid=$2 tap="" t n all p v killed="" ts=()
  local limit=${BATS_STALL:-$((3 * ${BATS_TEST_TIMEOUT:-180} > 600 ? 3 * ${BATS_TEST_TIMEOUT:-180} : 600))}
  shift 2
  # a lane that ended is not looked at again: its pid may be another process's by now
  [ ! -e "$work/$key.done" ] && [ "$(ppid_of "$pid")" = $$ ] || return 0
  for t in "$@"; do [ -e "$t.rc" ] || { tap=$t; break; }; done
  [ -n "$tap" ] || return 0
  n=$(cat "$@" 2>/dev/null | grep -cE '^(not )?ok ')
  if [ "$n" != "${stall_n[$key]:-}" ]; then
    stall_n[$key]=$n stall_t[$key]=$SECONDS
    return 0
  fi
  [ $((SECONDS - stall_t[$key])) -ge "$limit" ] || return 0
  stall_t[$key]=$SECONDS
  all=$(descendants "$pid")
  echo "!! $(basename "$tap" .tap): no test ended for $limit s ($n done); its processes:"
  # shellcheck disable=SC2086 # a list of pids
  ps -o pid,ppid,etimes,stat,wchan:22,args --forest -p "$(printf '%s\n' "$pid" $all | paste -sd, -)" 2>/dev/null | cut -c1-220
  for p in $all; do
    is_test_shell "$p" && ! is_test_shell "$(ppid_of "$p")" && ts+=("$p")
  done
  for p in "${ts[@]}"; do
    v=$( (descendants "$p"; pipe_writers "$p") | sort -u | paste -sd, -)
    # the test may have ended during the scan: then nothing is killed
    [ "$(cat "$@" 2>/dev/null | grep -cE '^(not )?ok ')" = "$n" ] || return 0
    echo "!! $(basename "$tap" .tap): the test shell $p is stuck; killed: ${v:-nothing}"
    [ -z "$v" ] || ps -o pid,etimes,stat,wchan:22,args -p "$v" 2>/dev/null | cut -c1-220
    # shellcheck disable=SC2086
    [ -z "$v" ] || { kill -9 ${v//,/ } 2>/dev/null && killed=1; }
  done
  # a stall with no test to unstick (a setup_file that hangs) is left to BATS_LANE_TIMEOUT
  [ -z "$killed" ] || echo "$tap" >>"$work/stalls"
}
stalls_of() { # TAP -> how many stalls the guard counted in it
  if [ -f "$work/stalls" ]; then grep -cxF -- "$1" "$work/stalls"; else echo 0; fi
}
