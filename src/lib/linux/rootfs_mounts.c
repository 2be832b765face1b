/* One runtime-spec mount into the rootfs: bind mounts as detached trees (open_tree +
 * mount_setattr + move_mount), everything else with mount(2) onto the destination fd.
 * Destinations are always resolved inside the rootfs (CVE-2021-30465). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "linux/rootfs_int.h"

/* entries of /proc that may be bind-mounted over (lxcfs and friends), as runc allows */
static const char *const proc_allowed[] = {
  "/proc/cpuinfo", "/proc/diskstats", "/proc/meminfo", "/proc/stat", "/proc/swaps",
  "/proc/uptime", "/proc/loadavg", "/proc/slabinfo", "/proc/sys/kernel/ns_last_pid",
  "/proc/sys/crypto/fips_enabled",
};

/* "/dev", "//dev/", "/dev/." all name /dev */
static bool path_is(const char *p, const char *want)
{
  cleanup_free char *clean = xmalloc(strlen(p) + 1);
  size_t n = 0;
  for (const char *s = p; *s;) {
    while (*s == '/')
      s++;
    const char *e = strchrnul(s, '/');
    if (e - s == 1 && *s == '.') {
      s = e;
      continue;
    }
    if (e > s) {
      clean[n++] = '/';
      memcpy(clean + n, s, (size_t) (e - s));
      n += (size_t) (e - s);
    }
    s = e;
  }
  clean[n] = '\0';
  return strcmp(n ? clean : "/", want) == 0;
}

bool berth_rootfs_binds_dev(const berth_spec_t *spec)
{
  for (size_t i = 0; i < spec->n_mounts; i++) {
    const struct berth_spec_mount *m = &spec->mounts[i];
    bool bind = berth_str_eq(m->type, "bind");
    for (size_t k = 0; !bind && k < m->n_options && m->options; k++)
      bind = berth_str_eq(m->options[k], "bind") || berth_str_eq(m->options[k], "rbind");
    if (bind && m->destination && path_is(m->destination, "/dev"))
      return true;
  }
  return false;
}

/* runc's checkProcMount: nothing may be mounted over /proc/<x> except a few entries, and
 * only procfs on /proc itself. The check uses where the destination really resolved. */
static int check_proc_dest(struct rootfs_job *j, int srcfd, berth_error_t *err)
{
  cleanup_free char *p = rootfs_fd_path_in_root(j->ctx, j->dstfd);
  if (p == NULL)
    return BERTH_ERR(err, "%s: destination resolves outside the container root", j->what);
  if (strcmp(p, "/proc") == 0) {
    if (srcfd < 0 && berth_str_eq(j->m->type, "proc"))
      return 0;
    if (srcfd >= 0) {
      int r = berth_fd_is_procfs(srcfd, err);
      if (r < 0)
        return berth_error_wrap(err, "%s", j->what);
      if (r == 1)
        return 0;
    }
    return BERTH_ERR(err, "%s: only procfs may be mounted on `/proc`", j->what);
  }
  if (!berth_str_has_prefix(p, "/proc/"))
    return 0;
  for (size_t i = 0; i < BERTH_N_ELEMENTS(proc_allowed); i++)
    if (strcmp(p, proc_allowed[i]) == 0)
      return 0;
  return BERTH_ERR(err, "%s: `%s` is inside /proc, which is not allowed", j->what, p);
}

/* proc and sysfs never go on a symlink (runc refuses them too) */
static int refuse_symlink_dest(struct rootfs_job *j, berth_error_t *err)
{
  cleanup_close int fd = berth_openat2(j->ctx->rootfs_fd, j->m->destination, O_PATH | O_NOFOLLOW | O_CLOEXEC, 0,
                                       RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
  struct stat st;
  if (fd >= 0 && fstat(fd, &st) == 0 && S_ISLNK(st.st_mode))
    return BERTH_ERR(err, "%s: mount destination is a symlink", j->what);
  return 0;
}

static int idmap_userns(struct rootfs_job *j, berth_error_t *err)
{
  if (j->m->n_uid_mappings > 0 || j->m->n_gid_mappings > 0) {
    int fd = rootfs_userns_for_mappings(j->m, err);
    return fd < 0 ? berth_error_wrap(err, "%s", j->what) : fd;
  }
  if (!j->ctx->in_userns)
    return BERTH_ERR(err, "%s: idmap needs uidMappings and gidMappings or a user namespace", j->what);
  int fd = open("/proc/self/ns/user", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return BERTH_ERR_ERRNO(err, "%s: open own user namespace", j->what);
  return fd;
}

static int do_bind(struct rootfs_job *j, berth_error_t *err)
{
  const struct berth_spec_mount *m = j->m;
  const struct berth_mount_opts *o = &j->o;
  if (m->source == NULL)
    return BERTH_ERR(err, "%s: bind mount without a source", j->what);
  cleanup_close int src = open(m->source, O_PATH | O_CLOEXEC);
  struct stat st;
  if (src < 0 || fstat(src, &st) < 0)
    return BERTH_ERR_ERRNO(err, "%s: open source", j->what);
  j->dstfd = rootfs_open_dest(j->ctx->rootfs_fd, m->destination, S_ISDIR(st.st_mode), err);
  if (j->dstfd < 0)
    return berth_error_wrap(err, "%s", j->what);
  if (check_proc_dest(j, src, err) < 0)
    return -1;
  struct rootfs_bind b = { .recursive = (o->flags & MS_REC) != 0, .rset = o->attr_set, .rclr = o->attr_clr,
                           .userns_fd = -1, .ridmap = o->ridmap };
  rootfs_ms_to_attr(o->flags, o->clear, &b.set, &b.clr);
  if (o->flags & MS_REMOUNT) {
    /* "bind,remount": change the mount already at the destination */
    if (rootfs_setattr_fd(j->dstfd, true, b.rset, b.rclr, 0) < 0 ||
        rootfs_setattr_fd(j->dstfd, false, b.set, b.clr, 0) < 0 || rootfs_propagate_fd(j->dstfd, o->propagation) < 0)
      return BERTH_ERR_ERRNO(err, "%s: remount", j->what);
    return 0;
  }
  cleanup_close int userns = -1;
  if (o->idmap) {
    userns = idmap_userns(j, err);
    if (userns < 0)
      return -1;
    b.userns_fd = userns;
  }
  const char *step = "";
  cleanup_close int mnt = rootfs_bind_fd(src, j->dstfd, &b, &step);
  if (mnt < 0)
    return BERTH_ERR_ERRNO(err, "%s: %s", j->what, step);
  if (rootfs_propagate_fd(mnt, o->propagation) < 0)
    return BERTH_ERR_ERRNO(err, "%s: set propagation", j->what);
  return 0;
}

/* sysfs and mqueue in a user namespace that does not own the net/ipc namespace: bind
 * the host's instead, as runc does */
static int bind_host_fallback(struct rootfs_job *j, const char *host, berth_error_t *err)
{
  cleanup_close int src = open(host, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (src < 0)
    return BERTH_ERR_ERRNO(err, "%s: open `%s` for a bind instead", j->what, host);
  struct rootfs_bind b = { .recursive = true, .userns_fd = -1 };
  rootfs_ms_to_attr(j->o.flags, 0, &b.set, &b.clr);
  const char *step = "";
  int mnt = rootfs_bind_fd(src, j->dstfd, &b, &step);
  if (mnt < 0)
    return BERTH_ERR_ERRNO(err, "%s: bind `%s` instead: %s", j->what, host, step);
  return mnt;
}

static int tmpcopyup(struct rootfs_job *j, int under, int mnt, bool ro, berth_error_t *err)
{
  cleanup_close int dst = openat(mnt, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dst < 0)
    return BERTH_ERR_ERRNO(err, "%s: tmpcopyup: open the new tmpfs", j->what);
  /* the tmpfs root takes the directory's owner, and its mode unless "mode=" was given */
  struct stat st;
  if (fstat(under, &st) < 0)
    return BERTH_ERR_ERRNO(err, "%s: tmpcopyup: stat the directory", j->what);
  if (fchown(dst, st.st_uid, st.st_gid) < 0 && errno != EINVAL)
    return BERTH_ERR_ERRNO(err, "%s: tmpcopyup: chown", j->what);
  bool has_mode = j->o.data && (berth_str_has_prefix(j->o.data, "mode=") || strstr(j->o.data, ",mode="));
  if (!has_mode && fchmod(dst, st.st_mode & 07777) < 0)
    return BERTH_ERR_ERRNO(err, "%s: tmpcopyup: chmod", j->what);
  if (rootfs_copy_tree(under, dst, err) < 0)
    return berth_error_wrap(err, "%s: tmpcopyup", j->what);
  if (ro && rootfs_setattr_fd(mnt, false, MOUNT_ATTR_RDONLY, 0, 0) < 0)
    return BERTH_ERR_ERRNO(err, "%s: tmpcopyup: make read-only", j->what);
  return 0;
}

/* mount(2) a filesystem by type; returns the new mount's fd */
static int mount_by_type(struct rootfs_job *j, berth_error_t *err)
{
  const struct berth_spec_mount *m = j->m;
  const char *type = m->type;
  unsigned long flags = j->o.flags & ~(unsigned long) (MS_BIND | MS_REC);
  bool ro_later = false;
  if ((flags & MS_RDONLY) && (path_is(m->destination, "/dev") || j->o.tmpcopyup)) {
    /* devices and copied files go in first; read-only comes after */
    flags &= ~(unsigned long) MS_RDONLY;
    ro_later = true;
  }
  cleanup_close int under = -1;
  if (j->o.tmpcopyup) {
    under = openat(j->dstfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (under < 0)
      return BERTH_ERR_ERRNO(err, "%s: tmpcopyup: open the directory", j->what);
  }
  if (rootfs_mount_on_fd(m->source ? m->source : type, j->dstfd, type, flags, j->o.data) < 0) {
    bool denied = errno == EPERM || errno == EBUSY;
    if (denied && j->ctx->in_userns && strcmp(type, "sysfs") == 0)
      return bind_host_fallback(j, "/sys", err);
    if (denied && j->ctx->in_userns && strcmp(type, "mqueue") == 0)
      return bind_host_fallback(j, "/dev/mqueue", err);
    int e = errno;
    cleanup_free char *why = e == EINVAL ? rootfs_explain_data(type, j->o.data) : NULL;
    if (why)
      return BERTH_ERR(err, "%s: %s", j->what, why);
    errno = e;
    return BERTH_ERR_ERRNO(err, "%s", j->what);
  }
  /* a remount changes the mount the destination fd already points at */
  cleanup_close int mnt = (flags & MS_REMOUNT) ? fcntl(j->dstfd, F_DUPFD_CLOEXEC, 3)
                                               : rootfs_reopen_mounted(j->ctx->rootfs_fd, m->destination, j->dstfd, err);
  if (mnt < 0)
    return *err ? berth_error_wrap(err, "%s", j->what) : BERTH_ERR_ERRNO(err, "%s: dup", j->what);
  if (strcmp(type, "proc") == 0) {
    int r = berth_fd_is_procfs(mnt, err);
    if (r <= 0)
      return r < 0 ? berth_error_wrap(err, "%s", j->what)
                   : BERTH_ERR(err, "%s: the mounted destination is not procfs", j->what);
  }
  if (j->o.tmpcopyup && tmpcopyup(j, under, mnt, ro_later, err) < 0)
    return -1;
  if (ro_later && !j->o.tmpcopyup)
    j->ctx->dev_ro = true;
  return steal_fd(mnt);
}

static int do_typed(struct rootfs_job *j, berth_error_t *err)
{
  const char *type = j->m->type;
  if (type == NULL || *type == '\0')
    return BERTH_ERR(err, "%s: no type given and not a bind mount", j->what);
  if (j->o.idmap)
    return BERTH_ERR(err, "%s: idmap is only supported on bind mounts", j->what);
  if (j->o.tmpcopyup && strcmp(type, "tmpfs") != 0)
    return BERTH_ERR(err, "%s: tmpcopyup is only supported on tmpfs", j->what);
  if ((strcmp(type, "proc") == 0 || strcmp(type, "sysfs") == 0) && refuse_symlink_dest(j, err) < 0)
    return -1;
  j->dstfd = rootfs_open_dest(j->ctx->rootfs_fd, j->m->destination, true, err);
  if (j->dstfd < 0)
    return berth_error_wrap(err, "%s", j->what);
  if (check_proc_dest(j, -1, err) < 0)
    return -1;
  bool cgroup = strcmp(type, "cgroup") == 0 || strcmp(type, "cgroup2") == 0;
  /* the cgroup mount shows the cgroup we are in: the runtime must have placed us first */
  if (cgroup && j->ctx->wait_cgroup && j->ctx->wait_cgroup(j->ctx->wait_cgroup_data, err) < 0)
    return berth_error_wrap(err, "%s", j->what);
  cleanup_close int mnt = cgroup ? rootfs_mount_cgroup(j, err) : mount_by_type(j, err);
  if (mnt < 0)
    return -1;
  if (rootfs_setattr_fd(mnt, true, j->o.attr_set, j->o.attr_clr, 0) < 0)
    return BERTH_ERR_ERRNO(err, "%s: set recursive attributes", j->what);
  if (rootfs_propagate_fd(mnt, j->o.propagation) < 0)
    return BERTH_ERR_ERRNO(err, "%s: set propagation", j->what);
  return 0;
}

int rootfs_mount_spec(struct berth_rootfs_ctx *ctx, size_t index, berth_error_t *err)
{
  const struct berth_spec_mount *m = &ctx->spec->mounts[index];
  if (m->destination == NULL)
    return BERTH_ERR(err, "mounts[%zu]: no destination", index);
  struct rootfs_job j = { .ctx = ctx, .m = m, .dstfd = -1 };
  if (berth_mount_opts_parse(m->options, m->n_options, &j.o, err) < 0)
    return berth_error_wrap(err, "mount on `%s` (mounts[%zu])", m->destination, index);
  if (m->n_uid_mappings > 0 || m->n_gid_mappings > 0)
    j.o.idmap = true;
  bool bind = (j.o.flags & MS_BIND) || berth_str_eq(m->type, "bind");
  const char *name = bind || m->type == NULL ? m->source : m->type;
  j.what = xasprintf("mount `%s` on `%s` (mounts[%zu])", name ? name : "", m->destination, index);
  int r = bind ? do_bind(&j, err) : do_typed(&j, err);
  if (j.dstfd >= 0)
    close(j.dstfd);
  free(j.what);
  berth_mount_opts_release(&j.o);
  return r;
}
