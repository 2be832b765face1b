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
# lane goes on. Each stall counts as a failure of its part.
descendants() { # PID -> every process below it
  local c
  for c in $(pgrep -P "$1"); do
    echo "$c"
    descendants "$c"
  done
}
is_test_shell() { tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -q 'bats-exec-test '; }
pipe_writers() { # PID -> other processes (not PID's ancestors) holding a pipe PID reads from
  local fd l pipes=() anc=" $1 " p f
  p=$1
  while p=$(awk '{print $4}' "/proc/$p/stat" 2>/dev/null) && [ "${p:-0}" -gt 1 ]; do anc+="$p "; done
  for fd in /proc/"$1"/fd/*; do
    l=$(readlink "$fd" 2>/dev/null) || continue
    [[ $l == pipe:* ]] && (($(awk '/^flags/ {print $2}' "/proc/$1/fdinfo/${fd##*/}" 2>/dev/null) % 4 == 0)) &&
      pipes+=("$l")
  done
  [ ${#pipes[@]} -gt 0 ] || return 0
  for f in /proc/[0-9]*/fd/*; do
    l=$(readlink "$f" 2>/dev/null) || continue
    [[ " ${pipes[*]} " == *" $l "* ]] || continue
    p=${f#/proc/}
    p=${p%%/*}
    [[ $anc == *" $p "* ]] && continue
    (($(awk '/^flags/ {print $2}' "/proc/$p/fdinfo/${f##*/}" 2>/dev/null) % 4 != 0)) && echo "$p"
  done | sort -u
}
declare -A stall_n stall_t
stall_guard() { # PID PART TAP...: the lane PID, whose tests end in the TAP files
  local pid=$1 label=$2 n all p v ts=()
  shift 2
  n=$(cat "$@" 2>/dev/null | grep -cE '^(not )?ok ')
  if [ "$n" != "${stall_n[$pid]:-}" ]; then
    stall_n[$pid]=$n stall_t[$pid]=$SECONDS
    return 0
  fi
  [ $((SECONDS - stall_t[$pid])) -ge "${BATS_STALL:-600}" ] || return 0
  stall_t[$pid]=$SECONDS
  all=$(descendants "$pid")
  echo "!! $label: no test ended for ${BATS_STALL:-600} s ($n done); its processes:"
  # shellcheck disable=SC2086 # a list of pids
  ps -o pid,ppid,etimes,stat,wchan:22,args --forest -p "$(printf '%s\n' "$pid" $all | paste -sd, -)" 2>/dev/null | cut -c1-220
  for p in $all; do
    is_test_shell "$p" && ! is_test_shell "$(awk '{print $4}' "/proc/$p/stat" 2>/dev/null)" && ts+=("$p")
  done
  for p in "${ts[@]}"; do
    v=$( (descendants "$p"; pipe_writers "$p") | sort -u | paste -sd, -)
    echo "!! $label: the test shell $p is stuck; killed: ${v:-nothing}"
    [ -z "$v" ] || ps -o pid,etimes,stat,wchan:22,args -p "$v" 2>/dev/null | cut -c1-220
    # shellcheck disable=SC2086
    [ -z "$v" ] || kill -9 ${v//,/ } 2>/dev/null
  done
  echo "$label" >>"$work/stalls"
}
stalls_of() { # PART -> how many stalls the guard counted for it
  if [ -f "$work/stalls" ]; then grep -cx -- "$1" "$work/stalls"; else echo 0; fi
}
