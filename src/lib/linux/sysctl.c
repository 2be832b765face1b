/* linux.sysctl: write each key under /proc/sys, resolved beneath a verified procfs. */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/xalloc.h"
#include "linux/process.h"

char *berth_sysctl_key_to_path(const char *key, berth_error_t *err)
{
  if (key[0] == '\0') {
    berth_error_make(err, 0, "sysctl ``: empty key");
    return NULL;
  }
  /* sysctl(8): when the key has a '/', '.' and '/' trade places (eth0.100 interfaces) */
  bool swap = strchr(key, '/') != NULL;
  char *path = xstrdup(key);
  for (char *p = path; *p; p++) {
    if (*p == '.')
      *p = '/';
    else if (swap && *p == '/')
      *p = '.';
  }
  /* every component must be a plain name: no empty, "." or ".." component */
  for (const char *c = path;;) {
    size_t len = strcspn(c, "/");
    if (len == 0 || (len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.')) {
      free(path);
      berth_error_make(err, 0, "sysctl `%s`: invalid key", key);
      return NULL;
    }
    if (c[len] == '\0')
      break;
    c += len + 1;
  }
  return path;
}

static BERTH_WUR int open_proc_sys(berth_error_t *err)
{
  cleanup_close int fd = open("/proc/sys", O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return BERTH_ERR_ERRNO(err, "open `/proc/sys`");
  struct statfs sfs;
  if (fstatfs(fd, &sfs) < 0)
    return BERTH_ERR_ERRNO(err, "statfs `/proc/sys`");
  if (sfs.f_type != PROC_SUPER_MAGIC)
    return BERTH_ERR(err, "`/proc/sys` is not on procfs (type 0x%lx)", (unsigned long) sfs.f_type);
  return steal_fd(fd);
}

static BERTH_WUR int write_key(int sysfd, const char *key, const char *value, berth_error_t *err)
{
  cleanup_free char *path = berth_sysctl_key_to_path(key, err);
  if (path == NULL)
    return -1;
  cleanup_close int fd =
    berth_openat2(sysfd, path, O_WRONLY | O_TRUNC | O_CLOEXEC, 0,
                  RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV);
  if (fd < 0)
    return BERTH_ERR_ERRNO(err, "sysctl `%s`: open `/proc/sys/%s`", key, path);
  if (berth_write_all(fd, value, strlen(value)) < 0)
    return BERTH_ERR_ERRNO(err, "sysctl `%s`: write `%s`", key, value);
  return 0;
}

int berth_sysctl_apply(const berth_spec_t *spec, berth_error_t *err)
{
  const struct berth_spec_linux *l = &spec->linux_;
  if (l->n_sysctl == 0)
    return 0;
  cleanup_close int sysfd = open_proc_sys(err);
  if (sysfd < 0)
    return -1;
  for (size_t i = 0; i < l->n_sysctl; i++)
    if (write_key(sysfd, l->sysctl_keys[i], l->sysctl_values[i], err) < 0)
      return -1;
  return 0;
}
