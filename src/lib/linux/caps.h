/* Capabilities: drop the bounding set, keep caps across setuid, set the other sets.
 *
 * Order in the container process: berth_caps_apply_bounding (needs CAP_SETPCAP, so while
 * still root), then berth_user_apply (which keeps PR_SET_KEEPCAPS on so that setuid to a
 * non-root uid keeps the permitted set), then berth_caps_apply. Both functions do nothing
 * when caps->present is false, and fail when any set names a capability above the
 * kernel's /proc/sys/kernel/cap_last_cap (runtime-spec: unknown capabilities are errors). */
#ifndef BERTH_LINUX_CAPS_H
#define BERTH_LINUX_CAPS_H

#include "base/error.h"
#include "oci/spec.h"

/* Drop from the bounding set every capability not in caps->bounding. */
int berth_caps_apply_bounding(const struct berth_spec_caps *caps, berth_error_t *err) BERTH_WUR;
/* capset(2) effective/permitted/inheritable, then clear the ambient set and raise
 * caps->ambient (each must be permitted and inheritable). Call after switching user. */
int berth_caps_apply(const struct berth_spec_caps *caps, berth_error_t *err) BERTH_WUR;
/* /proc/sys/kernel/cap_last_cap */
int berth_caps_last_cap(berth_error_t *err) BERTH_WUR;

#endif
