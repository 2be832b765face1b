/* Fuzz layout detection and path resolution: the input is "<mountinfo>\0<proc self cgroup>\0
 * <cgroupsPath>" (missing parts are empty). Invariants: every resolved directory lies below its
 * hierarchy's mountpoint with no ".." component, and the manager survives a round trip through
 * its state JSON. Only mounts below /fuzz count, so nothing real is read but cgroup.controllers
 * files that cannot exist. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/error.h"
#include "cgroup/cgroup.h"
#include "cgroup/internal.h"

static int memfd_with(const char *data, size_t len)
{
  int fd = memfd_create("fuzz", MFD_CLOEXEC);
  if (fd < 0 || (len > 0 && write(fd, data, len) != (ssize_t) len))
    abort();
  return fd;
}

static void check_manager(const berth_cgroup_manager_t *m)
{
  for (size_t i = 0; i < m->n_dirs; i++) {
    const struct cg_dir *d = &m->dirs[i];
    size_t n = strlen(d->mountpoint);
    if (strncmp(d->path, d->mountpoint, n) != 0 || strstr(d->path + n, "/../") ||
        (strlen(d->path) >= 3 && strcmp(d->path + strlen(d->path) - 3, "/..") == 0)) {
      fprintf(stderr, "`%s` escapes `%s`\n", d->path, d->mountpoint);
      abort();
    }
  }
  json_t *j = berth_cgroup_manager_to_json(m);
  berth_cgroup_manager_t *back = NULL;
  berth_error_t err = NULL;
  if (berth_cgroup_manager_from_json(j, &back, &err) < 0 || back->n_dirs != m->n_dirs) {
    fprintf(stderr, "state round trip: %s\n", err ? err->msg : "dirs differ");
    abort();
  }
  berth_cgroup_manager_free(back);
  json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *text = (const char *) data, *end = text + size;
  const char *z1 = memchr(text, '\0', size);
  const char *self = z1 ? z1 + 1 : end;
  const char *z2 = z1 ? memchr(self, '\0', (size_t) (end - self)) : NULL;
  char *path = z2 ? strndup(z2 + 1, (size_t) (end - z2 - 1)) : NULL;
  int mfd = memfd_with(text, (size_t) ((z1 ? z1 : end) - text));
  int sfd = memfd_with(self, (size_t) ((z2 ? z2 : end) - self));
  char mpath[64], spath[64];
  snprintf(mpath, sizeof mpath, "/proc/self/fd/%d", mfd);
  snprintf(spath, sizeof spath, "/proc/self/fd/%d", sfd);
  struct berth_cgroup_layout l;
  berth_error_t err = NULL;
  if (berth_cgroup_detect("/fuzz", mpath, spath, &l, &err) == 0) {
    struct berth_cgroup_config cfg = { .kind = BERTH_CGROUP_CGROUPFS, .cgroups_path = path, .id = "fuzz" };
    berth_cgroup_manager_t *m = NULL;
    if (berth_cgroup_manager_new(&l, &cfg, &m, &err) == 0) {
      check_manager(m);
      berth_cgroup_manager_free(m);
    }
    berth_cgroup_layout_free(&l);
  }
  berth_error_release(&err);
  free(path);
  close(mfd);
  close(sfd);
  return 0;
}
