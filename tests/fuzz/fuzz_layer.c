/* Fuzz tar entry handling: the bytes are a layer stream (any compression) applied into a
 * fresh directory. Whatever happens, nothing may appear beside the extraction root, a
 * success must report the digest and size of exactly the bytes given, and the directory is
 * removed afterwards. Runs as root (device nodes, ownership), as the tests do. The directory
 * is made in $TMPDIR (tests/fuzz/run gives each run its own), else in /tmp. */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.h"
#include "base/fs.h"
#include "base/log.h"
#include "image/layer.h"

/* the only entry of dir must be "root" */
static void check_beside(const char *dir)
{
  DIR *d = opendir(dir);
  if (d == NULL)
    abort();
  struct dirent *de;
  while ((de = readdir(d)) != NULL)
    if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") && strcmp(de->d_name, "root"))
      abort(); /* something was written outside the extraction root */
  closedir(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static int quiet;
  if (!quiet++)
    berth_log_configure(-1, BERTH_LOG_FORMAT_TEXT, BERTH_LOG_ERROR);
  if (size > 1 << 20)
    return 0;
  static char tmpl[4096];
  if (!tmpl[0]) {
    const char *tmp = getenv("TMPDIR");
    snprintf(tmpl, sizeof tmpl, "%s/berth-fuzz-layer-XXXXXX", tmp && tmp[0] == '/' ? tmp : "/tmp");
  }
  char dir[sizeof tmpl];
  memcpy(dir, tmpl, sizeof dir);
  if (mkdtemp(dir) == NULL)
    abort();
  char root[sizeof dir + 8];
  snprintf(root, sizeof root, "%s/root", dir);
  if (mkdir(root, 0755) < 0)
    abort();
  int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  int in = memfd_create("layer", MFD_CLOEXEC);
  if (rootfd < 0 || in < 0 || berth_write_all(in, data, size) < 0 || lseek(in, 0, SEEK_SET) != 0)
    abort();
  struct berth_layer_limits lim = { .max_bytes = 16 << 20, .max_ratio = 1000, .max_entries = 4096 };
  struct berth_layer_info info;
  berth_error_t err = NULL;
  if (berth_layer_apply(in, rootfd, &lim, &info, &err) == 0) {
    char d[BERTH_DIGEST_LEN + 1];
    berth_digest_bytes(data, size, d);
    if (strcmp(d, info.digest) != 0 || info.size != size || info.tar_size > lim.max_bytes ||
        info.entries > lim.max_entries)
      abort();
  } else if (err == NULL || strncmp(err->msg, "apply layer: ", 13) != 0) {
    abort(); /* a failure always says what failed */
  }
  berth_error_release(&err);
  close(in);
  close(rootfd);
  check_beside(dir);
  if (berth_rm_rf(dir, &err) < 0)
    abort();
  return 0;
}
