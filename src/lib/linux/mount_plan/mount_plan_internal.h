/* Private to the mount planner (mount_plan*.c). */
#ifndef BERTH_LINUX_MOUNT_PLAN_MOUNT_PLAN_INTERNAL_H
#define BERTH_LINUX_MOUNT_PLAN_MOUNT_PLAN_INTERNAL_H

#include "linux/mount_plan/mount_plan.h"

/* what the planner carries from one config entry to the next */
struct mount_plan_state {
  const struct berth_mount_plan_input *in;
  struct berth_mount_plan *p;
  bool proc_known; /* a planned proc mount is on /proc and nothing planned since can replace it */
  bool dev_ro;     /* a read-only tmpfs on /dev: made read-only after pivot, once filled */
};

/* mount_plan.c: a new zeroed op at the end of the plan */
struct berth_mount_op *mount_plan_add(struct berth_mount_plan *p, enum berth_mount_op_kind kind,
                                      const char *path);

/* mount_plan_dev.c: /dev's devices and links (when the config does not bind /dev) */
int mount_plan_devices(struct mount_plan_state *st, berth_error_t *err) BERTH_WUR;

#endif
