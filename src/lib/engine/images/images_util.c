/* Small helpers shared by the image operations. */
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/xalloc.h"
#include "engine/images/images_internal.h"
#include "image/reference.h"

void images_host_platform(const char **os, const char **arch, const char **variant)
{
  static const struct {
    const char *machine, *arch, *variant;
  } map[] = {
    { "x86_64", "amd64", "" },
    { "aarch64", "arm64", "" },
    { "armv7l", "arm", "v7" },
    { "armv6l", "arm", "v6" },
    { "i686", "386", "" },
    { "i386", "386", "" },
    { "ppc64le", "ppc64le", "" },
    { "s390x", "s390x", "" },
    { "riscv64", "riscv64", "" },
    { "mips64", "mips64", "" },
    { "loongarch64", "loong64", "" },
  };
  struct utsname u;
  *os = "linux";
  *arch = "amd64";
  *variant = "";
  if (uname(&u) < 0)
    return;
  for (size_t i = 0; i < BERTH_N_ELEMENTS(map); i++)
    if (strcmp(u.machine, map[i].machine) == 0) {
      *arch = map[i].arch;
      *variant = map[i].variant;
    }
}

int images_layer_media_type(struct berth_engine *e, const char *blob, const char **media_type,
                            berth_error_t *err)
{
  cleanup_close int fd = berth_store_open_blob(e->store, blob, err);
  if (fd < 0)
    return -1;
  unsigned char m[4] = { 0 };
  ssize_t n = berth_read_all(fd, m, sizeof m);
  if (n < 0)
    return BERTH_ERR_ERRNO(err, "read blob %s", blob);
  if (n >= 2 && m[0] == 0x1f && m[1] == 0x8b)
    *media_type = BERTH_MT_OCI_LAYER_GZIP;
  else if (n == 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd)
    *media_type = BERTH_MT_OCI_LAYER_ZSTD;
  else
    *media_type = BERTH_MT_OCI_LAYER;
  return 0;
}

int images_read_config(struct berth_engine *e, const char *id, struct berth_imgconfig *cfg,
                       berth_error_t *err)
{
  cleanup_free char *data = NULL;
  size_t len = 0;
  if (berth_store_read_blob(e->store, id, IMAGES_MAX_JSON, &data, &len, err) < 0)
    return -1;
  cleanup_free char *name = xasprintf("config %s", id);
  return berth_imgconfig_parse(data, len, name, cfg, err);
}

int images_tag_name(const char *ref, char **full, berth_error_t *err)
{
  struct berth_ref r = { 0 };
  if (berth_ref_parse(ref, &r, err) < 0)
    return -1;
  int ret = 0;
  if (r.digest != NULL)
    ret = BERTH_ERR(err, "refusing to create a tag with a digest reference `%s`", ref);
  else
    *full = berth_ref_string(&r);
  berth_ref_release(&r);
  return ret;
}

char *images_familiar(const char *full)
{
  struct berth_ref r = { 0 };
  berth_error_t err = NULL;
  if (berth_ref_parse(full, &r, &err) < 0) {
    berth_error_release(&err);
    return xstrdup(full);
  }
  char *f = berth_ref_familiar(&r);
  berth_ref_release(&r);
  return f;
}
