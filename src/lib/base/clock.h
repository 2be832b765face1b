/* The monotonic clock in milliseconds, for deadlines and intervals (never the time of day).
 * Inline: the monitor, which links no libberth, uses it too. */
#ifndef BERTH_BASE_CLOCK_H
#define BERTH_BASE_CLOCK_H

#include <stdint.h>
#include <time.h>

/* CLOCK_MONOTONIC in ms; async-signal-safe */
static inline int64_t berth_mono_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#endif
