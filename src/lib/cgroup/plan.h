/* Pure planners: linux.resources → the ordered cgroup file writes for v1 or v2, plus the
 * warnings for values the version cannot honour. No I/O; unit tests and the fuzzer live here. */
#ifndef BERTH_CGROUP_PLAN_H
#define BERTH_CGROUP_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "cgroup/cgroup.h"
#include "oci/spec.h"

enum {
  /* the file may not exist on this kernel (config option, scheduler): a warning then */
  BERTH_CGROUP_W_OPTIONAL = 1u << 0,
  /* EINVAL may come from the current value of a sibling file (memory below memsw, cfs period
   * vs. quota): retry once after the rest of the plan */
  BERTH_CGROUP_W_RETRY = 1u << 1,
  /* v2 memory.max with checkBeforeUpdate: refuse a value below memory.current */
  BERTH_CGROUP_W_CHECK_USAGE = 1u << 2,
  /* the kernel may refuse it (memory.use_hierarchy = 0 on Linux >= 6.?): a warning then */
  BERTH_CGROUP_W_BEST_EFFORT = 1u << 3,
  /* asked for by name (linux.resources.unified): a missing controller is an error, not a warning */
  BERTH_CGROUP_W_REQUIRED = 1u << 4,
};

struct berth_cgroup_write {
  enum berth_cgroup_ctl ctl; /* the controller whose directory gets it (NONE: core cgroup.* file) */
  char *file;                /* "memory.limit_in_bytes" */
  char *alt_file;            /* tried when file does not exist ("blkio.bfq.weight"), or NULL */
  char *value;               /* written as is, no newline */
  char *field;               /* "linux.resources.memory.limit", for errors and warnings */
  unsigned flags;            /* BERTH_CGROUP_W_* */
};

struct berth_cgroup_plan_warning {
  enum berth_cgroup_ctl ctl; /* the controller it concerns (hybrid keeps only the side in use) */
  char *msg;
};

struct berth_cgroup_plan {
  struct berth_cgroup_write *w;
  size_t n;
  /* v2: the device rules for the eBPF program (borrowed from the resources); NULL: untouched */
  const struct berth_spec_device_rule *devices;
  size_t n_devices;
  struct berth_cgroup_plan_warning *warnings;
  size_t n_warnings;
};

/* v1 order: cpuset, devices (deny "a", then each rule to devices.allow/deny), memory, cpu, pids,
 * blkio, hugetlb, net_cls, net_prio, rdma. linux.resources.unified is an error on v1. */
int berth_cgroup_plan_v1(const struct berth_spec_resources *r, struct berth_cgroup_plan *out,
                         berth_error_t *err) BERTH_WUR;
/* v2 order: cpuset, memory, cpu, pids, io, hugetlb, rdma, then unified (verbatim, last so it
 * wins); devices go to out->devices. */
int berth_cgroup_plan_v2(const struct berth_spec_resources *r, struct berth_cgroup_plan *out,
                         berth_error_t *err) BERTH_WUR;
void berth_cgroup_plan_free(struct berth_cgroup_plan *p);

/* runc's conversions */
uint64_t berth_cgroup_shares_to_weight(uint64_t shares);   /* 1 + ((shares-2)*9999)/262142 */
uint64_t berth_cgroup_blkio_to_io_weight(uint64_t weight); /* 10..1000 → 1..10000 */

/* internal to the planners (plan.c) */
void cg_plan_add(struct berth_cgroup_plan *p, enum berth_cgroup_ctl ctl, const char *file, unsigned flags,
                 const char *field, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
void cg_plan_warn(struct berth_cgroup_plan *p, enum berth_cgroup_ctl ctl, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));
/* "2MB" → ok (digits then KB/MB/GB/TB); used for hugetlb file names */
int cg_plan_check_page_size(const char *size, size_t index, berth_error_t *err) BERTH_WUR;
/* v1 and v2 rdma.max lines */
void cg_plan_rdma(const struct berth_spec_resources *r, struct berth_cgroup_plan *p);
/* memory limit and swap after runc's rules (0 = unset, -1 = unlimited, swap -1 when limit -1) */
int cg_plan_mem_limits(const struct berth_spec_resources *r, int64_t *limit, int64_t *swap,
                       berth_error_t *err) BERTH_WUR;
/* blkio weights: 10..1000 */
int cg_plan_check_weight(const char *field, uint64_t w, berth_error_t *err) BERTH_WUR;

#endif
