/* Fuzz the cgroup planners: linux.resources JSON → parsed → v1 and v2 plans and the eBPF device
 * program. Invariants: every planned file is a plain name (no '/', no leading '.': nothing can
 * leave the container's cgroup), every field names linux.resources, and the device program is
 * one the verifier would accept structurally (jumps in range, nothing unreachable, ends in exit). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/xalloc.h"
#include "cgroup/bpf.h"
#include "cgroup/plan.h"
#include "oci/spec_internal.h"

static void check_plan(const struct berth_cgroup_plan *p)
{
  for (size_t i = 0; i < p->n; i++) {
    const struct berth_cgroup_write *w = &p->w[i];
    if (strchr(w->file, '/') || w->file[0] == '.' || w->file[0] == '\0' ||
        strncmp(w->field, "linux.resources.", 16) != 0 || w->value == NULL)
      abort();
  }
}

static void check_program(const struct bpf_insn *insns, size_t n)
{
  if (n == 0 || insns[n - 1].code != (BPF_JMP | BPF_EXIT))
    abort();
  bool *seen = xcalloc(n, sizeof *seen);
  size_t *todo = xcalloc(2 * n + 1, sizeof *todo), k = 0;
  todo[k++] = 0;
  while (k > 0) {
    size_t pc = todo[--k];
    if (pc >= n)
      abort();
    if (seen[pc])
      continue;
    seen[pc] = true;
    if (insns[pc].code == (BPF_JMP | BPF_EXIT))
      continue;
    todo[k++] = pc + 1;
    if (BPF_CLASS(insns[pc].code) == BPF_JMP32) {
      if (insns[pc].off < 0)
        abort();
      todo[k++] = pc + 1 + (size_t) insns[pc].off;
    }
  }
  for (size_t i = 0; i < n; i++)
    if (!seen[i])
      abort();
  free(seen);
  free(todo);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  json_t *obj = json_loadb((const char *) data, size, 0, NULL);
  if (!json_is_object(obj)) {
    json_decref(obj);
    return 0;
  }
  struct berth_jctx c;
  berth_jctx_init(&c, "resources.json");
  berth_jctx_push_key(&c, "linux");
  berth_jctx_push_key(&c, "resources");
  struct berth_spec_resources r = { 0 };
  berth_error_t err = NULL;
  if (oci_parse_resources(&c, obj, &r, &err) == 0) {
    struct berth_cgroup_plan p;
    if (berth_cgroup_plan_v1(&r, &p, &err) == 0) {
      check_plan(&p);
      berth_cgroup_plan_free(&p);
    }
    berth_error_release(&err);
    if (berth_cgroup_plan_v2(&r, &p, &err) == 0) {
      check_plan(&p);
      berth_cgroup_plan_free(&p);
    }
    berth_error_release(&err);
    struct bpf_insn *insns = NULL;
    size_t n = 0;
    if (berth_cgroup_bpf_devices(r.devices, r.n_devices, &insns, &n, &err) == 0)
      check_program(insns, n);
    free(insns);
  }
  berth_error_release(&err);
  oci_resources_free(&r);
  json_decref(obj);
  return 0;
}
