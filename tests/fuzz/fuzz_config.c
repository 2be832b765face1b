/* Fuzz the config.json parser: any bytes either parse into a spec that keeps the
 * validated invariants, or fail with an error naming the file. A parsed document dumped
 * and parsed again must parse again (the document stays self-consistent). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/log.h"
#include "json/json.h"
#include "oci/spec.h"

static void check_process(const struct berth_spec_process *p)
{
  if (p->n_args == 0 || p->args == NULL || p->args[p->n_args] != NULL || p->cwd == NULL || p->cwd[0] != '/')
    abort();
  for (size_t i = 0; i < p->n_rlimits; i++)
    if (p->rlimits[i].soft > p->rlimits[i].hard)
      abort();
}

static void check_spec(const berth_spec_t *s)
{
  if (s->oci_version == NULL || strncmp(s->oci_version, "1.", 2) != 0 || s->root_path == NULL ||
      !s->root_path[0])
    abort();
  for (size_t i = 0; i < s->n_mounts; i++)
    if (s->mounts[i].destination[0] != '/')
      abort();
  if (s->has_process)
    check_process(&s->process);
  for (int k = 0; k < BERTH_HOOK__COUNT; k++)
    for (size_t i = 0; i < s->hooks.n[k]; i++)
      if (s->hooks.list[k][i].path[0] != '/' ||
          (s->hooks.list[k][i].has_timeout && s->hooks.list[k][i].timeout <= 0))
        abort();
  const struct berth_spec_linux *l = &s->linux_;
  for (int t = 0; t < BERTH_NS__COUNT; t++)
    if (l->ns[t].path && (!l->ns[t].present || l->ns[t].path[0] != '/'))
      abort();
  if ((l->n_uid_mappings || l->n_gid_mappings) && !l->ns[BERTH_NS_USER].present)
    abort();
  for (size_t i = 0; i < l->n_devices; i++)
    if (l->devices[i].path[0] != '/' || (l->devices[i].type != 'p' && l->devices[i].major < 0))
      abort();
  for (size_t i = 0; i < l->n_masked_paths; i++)
    if (l->masked_paths[i][0] != '/')
      abort();
  if (l->seccomp.listener_path && l->seccomp.listener_path[0] != '/')
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static int quiet;
  if (!quiet++)
    berth_log_configure(-1, BERTH_LOG_FORMAT_TEXT, BERTH_LOG_ERROR);
  if (size > 1 << 20)
    return 0;
  berth_spec_t *spec = NULL;
  berth_error_t err = NULL;
  if (berth_spec_parse((const char *) data, size, "config.json", &spec, &err) < 0) {
    if (err == NULL || err->msg == NULL || strncmp(err->msg, "config.json", 11) != 0 || spec != NULL)
      abort();
    berth_error_release(&err);
    return 0;
  }
  check_spec(spec);
  char *again = berth_json_dumps(spec->doc);
  berth_spec_t *spec2 = NULL;
  if (berth_spec_parse(again, strlen(again), "config.json", &spec2, &err) < 0)
    abort();
  if (spec2->n_mounts != spec->n_mounts || spec2->has_process != spec->has_process ||
      spec2->process.caps.bounding != spec->process.caps.bounding)
    abort();
  berth_spec_free(spec2);
  free(again);
  berth_spec_free(spec);
  return 0;
}
