/* Fuzz the mount options parser: the input is split on NUL and ',' into options
 * (empty pieces included, so the error paths run too). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "base/error.h"
#include "base/xalloc.h"
#include "linux/mount_plan/mount_plan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size > 16384)
    return 0;
  char *buf = xmalloc(size + 1);
  memcpy(buf, data, size);
  buf[size] = '\0';
  size_t n = 1;
  for (size_t i = 0; i < size; i++)
    if (buf[i] == '\0' || buf[i] == ',')
      n++;
  const char **opts = xcalloc(n, sizeof *opts);
  size_t k = 0;
  opts[k++] = buf;
  for (size_t i = 0; i < size; i++)
    if (buf[i] == '\0' || buf[i] == ',') {
      buf[i] = '\0';
      opts[k++] = buf + i + 1;
    }
  struct berth_mount_opts o;
  berth_error_t err = NULL;
  if (berth_mount_opts_parse(opts, n, &o, &err) == 0) {
    /* invariants: flags and clear are disjoint, at most one atime mode, data fits a page */
    if ((o.flags & o.clear) != 0 ||
        __builtin_popcountl(o.flags & (MS_NOATIME | MS_RELATIME | MS_STRICTATIME)) > 1 ||
        (o.data != NULL && (strlen(o.data) == 0 || strlen(o.data) > 4095)) || (o.ridmap && !o.idmap))
      abort();
    berth_mount_opts_release(&o);
  } else {
    if (err == NULL || err->msg == NULL)
      abort();
    berth_error_release(&err);
  }
  free(opts);
  free(buf);
  return 0;
}
