#include "linux/lsm.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/xalloc.h"

bool berth_lsm_apparmor_enabled(void)
{
  char buf[4] = "";
  cleanup_close int fd = open("/sys/module/apparmor/parameters/enabled", O_RDONLY | O_CLOEXEC);
  return fd >= 0 && read(fd, buf, 1) == 1 && buf[0] == 'Y' &&
         access("/sys/kernel/security/apparmor", F_OK) == 0;
}

bool berth_lsm_selinux_enabled(void) { return access("/sys/fs/selinux/enforce", F_OK) == 0; }

void berth_lsm_warn_unsupported(const struct berth_spec_process *p, const char *mount_label)
{
  if (p && p->apparmor_profile && !berth_lsm_apparmor_enabled())
    berth_log_warn("AppArmor is not enabled on this host: ignoring apparmorProfile `%s`",
                   p->apparmor_profile);
  if (p && p->selinux_label && !berth_lsm_selinux_enabled())
    berth_log_warn("SELinux is not enabled on this host: ignoring selinuxLabel `%s`", p->selinux_label);
  if (mount_label && !berth_lsm_selinux_enabled())
    berth_log_warn("SELinux is not enabled on this host: ignoring mountLabel `%s`", mount_label);
}

/* /proc/thread-self/attr/<lsm>/exec, falling back to the pre-5.8 shared attr/exec */
static BERTH_WUR int write_attr(const char *lsm, const char *value, berth_error_t *err)
{
  cleanup_free char *path = xasprintf("/proc/thread-self/attr/%s/exec", lsm);
  cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT)
    fd = open("/proc/thread-self/attr/exec", O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return BERTH_ERR_ERRNO(err, "open %s exec attribute", lsm);
  /* CVE-2019-16884: the file must really be on procfs, not a mount the rootfs placed there */
  int proc = berth_fd_is_procfs(fd, err);
  if (proc < 0)
    return -1;
  if (proc == 0)
    return BERTH_ERR(err, "%s exec attribute is not on procfs: refusing to write it", lsm);
  if (berth_write_all(fd, value, strlen(value)) < 0)
    return BERTH_ERR_ERRNO(err, "set %s exec label `%s`", lsm, value);
  return 0;
}

int berth_lsm_set_exec_labels(const struct berth_spec_process *p, berth_error_t *err)
{
  if (p->apparmor_profile && berth_lsm_apparmor_enabled()) {
    cleanup_free char *v = xasprintf("exec %s", p->apparmor_profile);
    if (write_attr("apparmor", v, err) < 0)
      return berth_error_wrap(err, "process.apparmorProfile");
  }
  if (p->selinux_label && berth_lsm_selinux_enabled() && write_attr("selinux", p->selinux_label, err) < 0)
    return berth_error_wrap(err, "process.selinuxLabel");
  return 0;
}
