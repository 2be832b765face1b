/* Signal state for processes we start (hooks, container processes). */
#ifndef BERTH_BASE_SIGNALS_H
#define BERTH_BASE_SIGNALS_H

/* Every signal to its default disposition and an empty mask. Uses the raw rt_sigaction
 * syscall: glibc's sigaction() refuses its internal signals (32, 33), which a parent that
 * used posix_spawn may have left ignored — and an ignored signal survives execve.
 * Async-signal-safe. */
void berth_signals_reset(void);

#endif
