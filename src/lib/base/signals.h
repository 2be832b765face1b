/* Signal state for processes we start (hooks, container processes), and signal names. */
#ifndef BERTH_BASE_SIGNALS_H
#define BERTH_BASE_SIGNALS_H

/* Every signal to its default disposition and an empty mask. Uses the raw rt_sigaction
 * syscall: glibc's sigaction() refuses its internal signals (32, 33), which a parent that
 * used posix_spawn may have left ignored — and an ignored signal survives execve.
 * Async-signal-safe. */
void berth_signals_reset(void);

/* "HUP" for SIGHUP (the name without SIG); NULL for a signal without a name of its own (the
 * real-time ones, numbers out of range) */
const char *berth_signal_name(int sig);
/* the signal of a name as kill(1), runc and Docker take it, in any case, with or without SIG:
 * TERM, SIGTERM, term; RTMIN, RTMIN+N, RTMAX, RTMAX-N (within the real-time range). -1 for
 * anything else, numbers included (whether a number is allowed is the caller's to say). */
int berth_signal_by_name(const char *name);

#endif
