/* Capabilities: drop the bounding set, keep caps across setuid, set the other sets. */
#ifndef BERTH_LINUX_CAPS_H
#define BERTH_LINUX_CAPS_H

#include "base/error.h"
#include "oci/spec.h"

/* Drop from the bounding set every capability not in caps->bounding. */
int berth_caps_apply_bounding(const struct berth_spec_caps *caps, berth_error_t *err) BERTH_WUR;
/* Set effective/permitted/inheritable, then raise ambient. Call after switching user. */
int berth_caps_apply(const struct berth_spec_caps *caps, berth_error_t *err) BERTH_WUR;

#endif
