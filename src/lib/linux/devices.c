/* /dev in the container: runtime-spec's default devices and linux.devices (mknod, or a
 * bind of the host's node in a user namespace or when mknod is refused), the standard
 * links, and the console bind on /dev/console. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "linux/rootfs_int.h"

#define DEFAULT_DEV(p, maj, min) \
  { .type = 'c', .path = (p), .major = (maj), .minor = (min), .has_file_mode = true, .file_mode = 0666 }

static const struct berth_spec_device default_devices[] = {
  DEFAULT_DEV("/dev/null", 1, 3),   DEFAULT_DEV("/dev/zero", 1, 5),    DEFAULT_DEV("/dev/full", 1, 7),
  DEFAULT_DEV("/dev/random", 1, 8), DEFAULT_DEV("/dev/urandom", 1, 9), DEFAULT_DEV("/dev/tty", 5, 0),
};

static const char *const dev_links[][2] = {
  { "/proc/self/fd", "fd" },
  { "/proc/self/fd/0", "stdin" },
  { "/proc/self/fd/1", "stdout" },
  { "/proc/self/fd/2", "stderr" },
};

static const char *file_kind(mode_t m)
{
  switch (m & S_IFMT) {
  case S_IFREG: return "regular file";
  case S_IFDIR: return "directory";
  case S_IFLNK: return "symlink";
  case S_IFCHR: return "character device";
  case S_IFBLK: return "block device";
  case S_IFIFO: return "fifo";
  default: return "socket";
  }
}

/* mknod with exactly `perm`; an existing node of the same kind is kept, anything else
 * (but a directory) is replaced */
static int mknod_exact(int pfd, const char *name, mode_t type, mode_t perm, dev_t dev)
{
  for (int tries = 0; tries < 2; tries++) {
    mode_t old = umask(0);
    int r = mknodat(pfd, name, type | perm, dev);
    umask(old);
    if (r == 0)
      return 0;
    if (errno != EEXIST)
      return -1;
    struct stat st;
    if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
      return -1;
    if ((st.st_mode & S_IFMT) == type && (type == S_IFIFO || st.st_rdev == dev))
      return fchmodat(pfd, name, perm, 0);
    if (S_ISDIR(st.st_mode)) {
      errno = EISDIR;
      return -1;
    }
    if (unlinkat(pfd, name, 0) < 0)
      return -1;
  }
  errno = EEXIST;
  return -1;
}

/* bind the host's node at the same path onto an empty file */
static int bind_device(int pfd, const char *name, const struct berth_spec_device *d, mode_t type, dev_t dev,
                       berth_error_t *err)
{
  cleanup_close int host = open(d->path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;
  if (host < 0 || fstat(host, &st) < 0)
    return BERTH_ERR_ERRNO(err, "device `%s`: open the host's node to bind it", d->path);
  if ((st.st_mode & S_IFMT) != type || st.st_rdev != dev)
    return BERTH_ERR(err, "device `%s`: the host's node is a %s %u:%u, not the requested device", d->path,
                     file_kind(st.st_mode), major(st.st_rdev), minor(st.st_rdev));
  cleanup_close int dst = openat(pfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (dst < 0 && errno == ENOENT)
    dst = openat(pfd, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (dst < 0 || fstat(dst, &st) < 0)
    return BERTH_ERR_ERRNO(err, "device `%s`: create the bind target", d->path);
  if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))
    return BERTH_ERR(err, "device `%s`: exists as a %s", d->path, file_kind(st.st_mode));
  struct rootfs_bind b = { .userns_fd = -1 };
  const char *step = "";
  cleanup_close int mnt = rootfs_bind_fd(host, dst, &b, &step);
  if (mnt < 0)
    return BERTH_ERR_ERRNO(err, "device `%s`: bind the host's node: %s", d->path, step);
  return 0;
}

static int create_device(struct berth_rootfs_ctx *ctx, const struct berth_spec_device *d, berth_error_t *err)
{
  mode_t type = d->type == 'b' ? S_IFBLK : d->type == 'p' ? S_IFIFO : S_IFCHR;
  if (d->path == NULL || (d->type != 'b' && d->type != 'p' && d->type != 'c' && d->type != 'u'))
    return BERTH_ERR(err, "device `%s`: bad type `%c`", d->path ? d->path : "", d->type ? d->type : '?');
  dev_t dev = type == S_IFIFO ? 0 : makedev((unsigned) d->major, (unsigned) d->minor);
  mode_t perm = d->has_file_mode ? d->file_mode & 07777 : 0666;
  cleanup_free char *parent = xstrdup(d->path);
  char *slash = strrchr(parent, '/');
  const char *name = d->path + (slash ? slash - parent + 1 : 0);
  if (slash)
    *slash = '\0';
  if (*name == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
    return BERTH_ERR(err, "device `%s`: not a file name", d->path);
  cleanup_close int pfd = berth_mkdir_p_in_root(ctx->rootfs_fd, *parent ? parent : "/", 0755, err);
  if (pfd < 0)
    return berth_error_wrap(err, "device `%s`", d->path);
  /* fifos need no privilege, so even a user namespace makes them */
  if (!ctx->in_userns || type == S_IFIFO) {
    if (mknod_exact(pfd, name, type, perm, dev) == 0) {
      uid_t uid = d->has_uid ? d->uid : (uid_t) -1;
      gid_t gid = d->has_gid ? d->gid : (gid_t) -1;
      if ((d->has_uid || d->has_gid) && fchownat(pfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
        return BERTH_ERR_ERRNO(err, "device `%s`: chown", d->path);
      return 0;
    }
    if (errno != EPERM || type == S_IFIFO)
      return BERTH_ERR_ERRNO(err, "device `%s`: mknod", d->path);
  }
  return bind_device(pfd, name, d, type, dev, err);
}

static bool spec_has_device(const berth_spec_t *spec, const char *path)
{
  for (size_t i = 0; i < spec->linux_.n_devices; i++)
    if (berth_str_eq(spec->linux_.devices[i].path, path))
      return true;
  return false;
}

static int setup_links(const berth_spec_t *spec, int devfd, berth_error_t *err)
{
  for (size_t i = 0; i < BERTH_N_ELEMENTS(dev_links); i++)
    if (symlinkat(dev_links[i][0], devfd, dev_links[i][1]) < 0 && errno != EEXIST)
      return BERTH_ERR_ERRNO(err, "symlink `/dev/%s`", dev_links[i][1]);
  if (access("/proc/kcore", F_OK) == 0 && symlinkat("/proc/kcore", devfd, "core") < 0 && errno != EEXIST)
    return BERTH_ERR_ERRNO(err, "symlink `/dev/core`");
  if (spec_has_device(spec, "/dev/ptmx"))
    return 0;
  if (unlinkat(devfd, "ptmx", 0) < 0 && errno != ENOENT)
    return BERTH_ERR_ERRNO(err, "remove `/dev/ptmx`");
  if (symlinkat("pts/ptmx", devfd, "ptmx") < 0)
    return BERTH_ERR_ERRNO(err, "symlink `/dev/ptmx`");
  return 0;
}

int rootfs_setup_dev(struct berth_rootfs_ctx *ctx, berth_error_t *err)
{
  const berth_spec_t *spec = ctx->spec;
  for (size_t i = 0; i < BERTH_N_ELEMENTS(default_devices); i++)
    if (!spec_has_device(spec, default_devices[i].path) && create_device(ctx, &default_devices[i], err) < 0)
      return -1;
  for (size_t i = 0; i < spec->linux_.n_devices; i++)
    if (create_device(ctx, &spec->linux_.devices[i], err) < 0)
      return -1;
  cleanup_close int devfd = berth_mkdir_p_in_root(ctx->rootfs_fd, "/dev", 0755, err);
  if (devfd < 0)
    return -1;
  return setup_links(spec, devfd, err);
}

/* CVE-2025-31133 class: never mount the console through a symlink or over anything but
 * an empty regular file (which we create) or a device node */
int rootfs_setup_console(struct berth_rootfs_ctx *ctx, berth_error_t *err)
{
  if (ctx->console_fd < 0)
    return 0;
  struct stat st;
  if (fstat(ctx->console_fd, &st) < 0)
    return BERTH_ERR_ERRNO(err, "console: stat the pty");
  if (!S_ISCHR(st.st_mode))
    return BERTH_ERR(err, "console: the pty is a %s, not a character device", file_kind(st.st_mode));
  cleanup_close int devfd = berth_mkdir_p_in_root(ctx->rootfs_fd, "/dev", 0755, err);
  if (devfd < 0)
    return berth_error_wrap(err, "console");
  cleanup_close int dst = openat(devfd, "console", O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (dst < 0 && errno == ENOENT)
    dst = openat(devfd, "console", O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (dst < 0 || fstat(dst, &st) < 0)
    return BERTH_ERR_ERRNO(err, "console: create `/dev/console`");
  if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode))
    return BERTH_ERR(err, "console: `/dev/console` exists as a %s, refusing to mount over it",
                     file_kind(st.st_mode));
  struct rootfs_bind b = { .userns_fd = -1 };
  const char *step = "";
  cleanup_close int mnt = rootfs_bind_fd(ctx->console_fd, dst, &b, &step);
  if (mnt < 0)
    return BERTH_ERR_ERRNO(err, "console: bind the pty on `/dev/console`: %s", step);
  return 0;
}
