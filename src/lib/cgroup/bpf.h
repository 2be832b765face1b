/* cgroup v2 device control: an eBPF BPF_PROG_TYPE_CGROUP_DEVICE program built from the OCI
 * device rules. */
#ifndef BERTH_CGROUP_BPF_H
#define BERTH_CGROUP_BPF_H

#include <linux/bpf.h>
#include <stddef.h>

#include "base/error.h"
#include "oci/spec.h"

/* Build the program (pure). Semantics are runtime-spec's: default deny; for each requested
 * access bit (r, w, m) the last rule that matches the device and names that bit decides (v1's
 * kernel list differs in one corner: a deny cannot punch a hole in a wildcard allow there).
 * The rules are emitted in reverse, and register r6 holds the bits still undecided: an allow
 * rule clears its bits (all clear: allow), a deny rule that names an undecided bit denies.
 * Type 'a' matches block and char devices; major/minor -1 match any; access NULL or "" means
 * "rwm". *out is malloc'd. */
int berth_cgroup_bpf_devices(const struct berth_spec_device_rule *rules, size_t n, struct bpf_insn **out,
                             size_t *n_out, berth_error_t *err) BERTH_WUR;

/* Load insns, attach to the cgroup2 directory with BPF_F_ALLOW_MULTI, then detach every other
 * device program attached to that directory (an earlier apply), so the new rules replace the
 * old without a window where no program is attached. */
int berth_cgroup_bpf_attach(const char *dir, const struct bpf_insn *insns, size_t n,
                            berth_error_t *err) BERTH_WUR;

#endif
