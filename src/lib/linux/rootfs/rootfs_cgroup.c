/* A cgroup filesystem for the container (spec mounts of type cgroup / cgroup2).
 *
 * Unified host: cgroup2 in a new cgroup namespace, else a bind of the host's
 * /sys/fs/cgroup. A fresh cgroup2 mount from the initial cgroup namespace would reset
 * the host's root flags (nsdelegate, ...), so without a cgroup namespace we always bind.
 * Hybrid or v1 host (/sys/fs/cgroup is a tmpfs): type cgroup2 gets the unified
 * hierarchy (/sys/fs/cgroup/unified) as above; type cgroup gets a tmpfs with one entry per host
 * hierarchy, each a fresh mount in a new cgroup namespace, else a bind of the
 * container's own cgroup directory (runc's layout); comount symlinks are copied. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/strbuf.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "linux/rootfs/rootfs_internal.h"

#define CGROUP_ROOT "/sys/fs/cgroup"
#define PER_MOUNT_MS                                                                                         \
  (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME |                 \
   MS_STRICTATIME | MS_NOSYMFOLLOW)

static bool has_token(const char *list, const char *tok)
{
  size_t n = strlen(tok);
  for (const char *p = list; *p;) {
    const char *e = strchrnul(p, ',');
    if ((size_t) (e - p) == n && strncmp(p, tok, n) == 0)
      return true;
    p = *e ? e + 1 : e;
  }
  return false;
}

/* every controller of a /proc/self/cgroup line appears in the mount's super options */
static bool controllers_match(const char *controllers, const char *superopts)
{
  cleanup_free char *copy = xstrdup(controllers);
  char *save = NULL;
  for (char *c = strtok_r(copy, ",", &save); c; c = strtok_r(NULL, ",", &save))
    if (!has_token(superopts, c))
      return false;
  return true;
}

/* this process's cgroup path in the hierarchy mounted with `mi`, or NULL */
static const char *own_cgroup_path(char *cgroup_text, const struct rootfs_mountinfo *mi, char *buf,
                                   size_t len)
{
  bool v2 = strcmp(mi->fstype, "cgroup2") == 0;
  for (const char *line = cgroup_text; line && *line;) {
    const char *nl = strchrnul(line, '\n');
    const char *c1 = memchr(line, ':', (size_t) (nl - line));
    const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t) (nl - c1 - 1)) : NULL;
    if (c2 != NULL) {
      cleanup_free char *ctrl = xstrndup(c1 + 1, (size_t) (c2 - c1 - 1));
      bool match = v2 ? *ctrl == '\0' : *ctrl != '\0' && controllers_match(ctrl, mi->superopts);
      if (match && (size_t) (nl - c2) < len) {
        memcpy(buf, c2 + 1, (size_t) (nl - c2 - 1));
        buf[nl - c2 - 1] = '\0';
        return buf;
      }
    }
    line = *nl ? nl + 1 : nl;
  }
  return NULL;
}

static BERTH_WUR int bind_host_dir(struct rootfs_job *j, const char *host, int dstfd, berth_error_t *err)
{
  cleanup_close int src = open(host, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (src < 0)
    return BERTH_ERR_ERRNO(err, "%s: open `%s`", j->op->what, host);
  struct rootfs_bind b = { .userns_fd = -1 };
  berth_mount_ms_to_attr(j->op->ms & PER_MOUNT_MS, 0, &b.set, &b.clr);
  const char *step = "";
  int mnt = rootfs_bind_fd(src, dstfd, &b, &step);
  if (mnt < 0)
    return BERTH_ERR_ERRNO(err, "%s: bind `%s`: %s", j->op->what, host, step);
  return mnt;
}

/* one hierarchy under the container's cgroup tmpfs */
static BERTH_WUR int mount_hierarchy(struct rootfs_job *j, int topfd, const struct rootfs_mountinfo *mi,
                                     char *cgroup_text, bool cgroupns, berth_error_t *err)
{
  const char *name = mi->mountpoint + strlen(CGROUP_ROOT "/");
  if (mkdirat(topfd, name, 0755) < 0 && errno != EEXIST)
    return BERTH_ERR_ERRNO(err, "%s: mkdir `%s`", j->op->what, name);
  cleanup_close int sub = openat(topfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (sub < 0)
    return BERTH_ERR_ERRNO(err, "%s: open `%s`", j->op->what, name);
  if (cgroupns) {
    cleanup_strbuf struct berth_strbuf data = BERTH_STRBUF_INIT;
    cleanup_free char *opts = xstrdup(mi->superopts);
    char *save = NULL;
    for (char *t = strtok_r(opts, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
      if (strcmp(t, "rw") == 0 || strcmp(t, "ro") == 0)
        continue;
      berth_strbuf_printf(&data, "%s%s", data.len ? "," : "", t);
    }
    bool v2 = strcmp(mi->fstype, "cgroup2") == 0;
    if (rootfs_mount_on_fd(mi->fstype, sub, mi->fstype, j->op->ms & PER_MOUNT_MS, v2 ? NULL : data.buf) == 0)
      return 0;
    if (errno != EPERM && errno != EBUSY)
      return BERTH_ERR_ERRNO(err, "%s: mount `%s` hierarchy `%s`", j->op->what, mi->fstype, name);
  }
  char pathbuf[PATH_MAX];
  const char *own = own_cgroup_path(cgroup_text, mi, pathbuf, sizeof pathbuf);
  cleanup_free char *host = xasprintf("%s%s", mi->mountpoint, own && strcmp(own, "/") != 0 ? own : "");
  struct stat st;
  if (stat(host, &st) < 0 || !S_ISDIR(st.st_mode)) {
    free(host);
    host = xstrdup(mi->mountpoint);
  }
  cleanup_close int mnt = bind_host_dir(j, host, sub, err);
  return mnt < 0 ? -1 : 0;
}

static BERTH_WUR int copy_symlinks(struct rootfs_job *j, int topfd, berth_error_t *err)
{
  cleanup_dir DIR *d = opendir(CGROUP_ROOT);
  if (d == NULL)
    return BERTH_ERR_ERRNO(err, "%s: open `%s`", j->op->what, CGROUP_ROOT);
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (de->d_type != DT_LNK)
      continue;
    char target[PATH_MAX];
    ssize_t n = readlinkat(dirfd(d), de->d_name, target, sizeof target - 1);
    if (n < 0)
      continue;
    target[n] = '\0';
    if (symlinkat(target, topfd, de->d_name) < 0 && errno != EEXIST)
      return BERTH_ERR_ERRNO(err, "%s: symlink `%s`", j->op->what, de->d_name);
  }
  return 0;
}

static BERTH_WUR int mount_hybrid(struct rootfs_job *j, bool cgroupns, berth_error_t *err)
{
  unsigned long flags = j->op->ms & PER_MOUNT_MS & ~(unsigned long) MS_RDONLY;
  if (rootfs_mount_on_fd("tmpfs", j->dstfd, "tmpfs", flags, "mode=755") < 0)
    return BERTH_ERR_ERRNO(err, "%s: mount tmpfs", j->op->what);
  cleanup_close int top = rootfs_reopen_mounted(j->ctx->rootfs_fd, j->op->path, j->dstfd, err);
  if (top < 0)
    return berth_error_wrap(err, "%s", j->op->what);
  cleanup_free char *cgroup_text = NULL;
  if (berth_read_file("/proc/self/cgroup", 0, &cgroup_text, NULL, err) < 0)
    return berth_error_wrap(err, "%s", j->op->what);
  struct rootfs_mountinfo *mi = NULL;
  size_t n = 0;
  if (rootfs_mountinfo_read(&mi, &n, err) < 0)
    return berth_error_wrap(err, "%s", j->op->what);
  int r = 0;
  for (size_t i = 0; i < n && r == 0; i++) {
    const char *mp = mi[i].mountpoint;
    if (strcmp(mi[i].fstype, "cgroup") != 0 && strcmp(mi[i].fstype, "cgroup2") != 0)
      continue;
    if (!berth_str_has_prefix(mp, CGROUP_ROOT "/") || strchr(mp + strlen(CGROUP_ROOT "/"), '/') != NULL)
      continue;
    r = mount_hierarchy(j, top, &mi[i], cgroup_text, cgroupns, err);
  }
  rootfs_mountinfo_free(mi, n);
  if (r < 0 || copy_symlinks(j, top, err) < 0)
    return -1;
  if ((j->op->ms & MS_RDONLY) && rootfs_setattr_fd(top, false, MOUNT_ATTR_RDONLY, 0, 0) < 0)
    return BERTH_ERR_ERRNO(err, "%s: make read-only", j->op->what);
  return steal_fd(top);
}

static BERTH_WUR int mount_unified(struct rootfs_job *j, bool cgroupns, const char *host, berth_error_t *err)
{
  if (cgroupns) {
    if (rootfs_mount_on_fd("cgroup2", j->dstfd, "cgroup2", j->op->ms & PER_MOUNT_MS, j->op->data) == 0) {
      int fd = rootfs_reopen_mounted(j->ctx->rootfs_fd, j->op->path, j->dstfd, err);
      return fd < 0 ? berth_error_wrap(err, "%s", j->op->what) : fd;
    }
    if (errno != EPERM && errno != EBUSY)
      return BERTH_ERR_ERRNO(err, "%s", j->op->what);
  }
  return bind_host_dir(j, host, j->dstfd, err);
}

int rootfs_mount_cgroup(struct rootfs_job *j, berth_error_t *err)
{
  struct statfs sfs;
  if (statfs(CGROUP_ROOT, &sfs) < 0)
    return BERTH_ERR_ERRNO(err, "%s: statfs `%s`", j->op->what, CGROUP_ROOT);
  bool cgroupns = (j->op->flags & BERTH_MOUNT_F_CGROUPNS) != 0;
  if (sfs.f_type == CGROUP2_SUPER_MAGIC)
    return mount_unified(j, cgroupns, CGROUP_ROOT, err);
  /* an explicit cgroup2 mount on a hybrid host gets the unified hierarchy alone */
  if (strcmp(j->op->fstype, "cgroup2") == 0)
    return mount_unified(j, cgroupns, CGROUP_ROOT "/unified", err);
  return mount_hybrid(j, cgroupns, err);
}
