/* Fuzz seccomp profiles end to end, from the engine's parser to the runtime's filter:
 * a Docker-format profile (`--security-opt seccomp=<file>`, engine/runspec/runspec.h) is
 * parsed, rendered for a few containers (architectures, capability sets, kernels), and each
 * rendered linux.seccomp must be accepted by the runtime's parser (oci) and compile with
 * libseccomp into a program the kernel would take (linux/seccomp.h, no cache: nothing
 * is written). A profile `berth run` accepts must never be one the runtime refuses when the
 * container starts.
 *
 * Input: the profile's JSON. Invariants: a refused profile's error names the file; rendering
 * for a known architecture never fails; the runtime parses every rendering; compiling gives a
 * program the kernel takes, or a clean error: libseccomp refuses some profiles that parse, as
 * it does under runc and crun (rules for one syscall with different actions that conflict,
 * EEXIST; architectures of both byte orders, EDOM). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/log.h"
#include "engine/runspec/runspec.h"
#include "json/json.h"
#include "linux/seccomp.h"
#include "oci/spec_internal.h"
#include "seccomp_check.h"

static const struct berth_seccomp_target targets[] = {
  { .caps = UINT64_MAX, .arch = NULL, .kernel_major = 0, .kernel_minor = 0 },
  { .caps = 0x3ff, .arch = "amd64", .kernel_major = 4, .kernel_minor = 14 },
  { .caps = 0, .arch = "arm64", .kernel_major = 6, .kernel_minor = 1, .no_enosys = true },
  { .caps = UINT64_C(1) << 21, .arch = "s390x", .kernel_major = 5, .kernel_minor = 10 },
};

static void runtime_takes(json_t *sc, bool compile)
{
  struct berth_jctx c;
  berth_jctx_init(&c, "config.json");
  berth_jctx_push_key(&c, "linux");
  berth_jctx_push_key(&c, "seccomp");
  struct berth_spec_seccomp s = { 0 };
  berth_error_t err = NULL;
  if (oci_parse_seccomp(&c, sc, &s, &err) < 0) {
    char *text = berth_json_dumps(sc);
    fprintf(stderr, "the runtime refuses the rendered profile: %s\n%s\n", err->msg, text);
    abort();
  }
  if (compile) {
    struct berth_seccomp_prog *prog = NULL;
    if (berth_seccomp_compile(&s, NULL, &prog, &err) == 0) {
      if (!fuzz_bpf_ok(prog->insns, prog->n_insns))
        abort();
      berth_seccomp_prog_free(prog);
    } else if (err == NULL || strncmp(err->msg, "seccomp", 7) != 0 || prog != NULL) {
      abort();
    } else {
      berth_error_release(&err); /* libseccomp's refusal, as runc gets it (see above) */
    }
  }
  oci_seccomp_free(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static int quiet;
  if (!quiet++)
    berth_log_configure(-1, BERTH_LOG_FORMAT_TEXT, BERTH_LOG_ERROR);
  if (size > 1 << 18)
    return 0;
  struct berth_seccomp_profile *p = NULL;
  berth_error_t err = NULL;
  if (berth_seccomp_profile_parse((const char *) data, size, "p.json", &p, &err) < 0) {
    if (err == NULL || strncmp(err->msg, "p.json", 6) != 0 || p != NULL)
      abort();
    berth_error_release(&err);
    return 0;
  }
  for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
    json_t *sc = berth_seccomp_profile_render(p, &targets[i], &err);
    if (sc == NULL) {
      fprintf(stderr, "render for %s: %s\n", targets[i].arch ? targets[i].arch : "native", err->msg);
      abort();
    }
    runtime_takes(sc, i == 0);
    json_decref(sc);
  }
  berth_seccomp_profile_free(p);
  return 0;
}
