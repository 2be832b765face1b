/* Overlay mounts of a layer chain.
 *
 * mount(2) takes the options in one page, and "lowerdir=a:b:c..." of a deep image does not
 * fit (200 layers of /var/lib/berth/layers/<64 hex>/diff are ~17 KB). When the string is
 * too long, or a path holds a character that the option syntax would need to escape
 * (',' ':' '\'), the mount is made with the new mount API instead: fsopen("overlay") and
 * one fsconfig(FSCONFIG_SET_STRING, "lowerdir+", dir) per layer (Linux >= 6.8), then
 * fsmount + move_mount. Read-write mounts set redirect_dir=off and index=off so that the
 * upper dir is a plain diff (renamed lower directories are copied up whole, as Docker's
 * overlay2 does), which berth_layer_diff (image/layer.h) turns into a layer. overlayfs refuses a single
 * lower without an upper dir; that case is a read-only bind mount of the lower. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "linux/mountns/mountns.h"

#define RW_OPTIONS "redirect_dir=off,index=off"

static bool needs_escape(const char *p) { return strpbrk(p, ",:\\") != NULL; }

/* "lowerdir=a:b,upperdir=u,workdir=w,..." or NULL when a path cannot go in it */
static char *legacy_options(const char *const *lowers, size_t n, const char *upper, const char *work,
                            unsigned flags)
{
  struct berth_strbuf b = BERTH_STRBUF_INIT;
  berth_strbuf_puts(&b, "lowerdir=");
  for (size_t i = 0; i < n; i++) {
    if (needs_escape(lowers[i])) {
      berth_strbuf_release(&b);
      return NULL;
    }
    berth_strbuf_printf(&b, "%s%s", i ? ":" : "", lowers[i]);
  }
  if (upper != NULL) {
    if (needs_escape(upper) || needs_escape(work)) {
      berth_strbuf_release(&b);
      return NULL;
    }
    berth_strbuf_printf(&b, ",upperdir=%s,workdir=%s," RW_OPTIONS, upper, work);
    if (flags & BERTH_MOUNTNS_OVERLAY_VOLATILE)
      berth_strbuf_puts(&b, ",volatile");
  }
  return berth_strbuf_detach(&b);
}

/* the kernel's own explanation of a failed fsconfig, from the context's log */
static void fs_log(int fsfd, char *out, size_t len)
{
  out[0] = '\0';
  char msg[512];
  ssize_t n;
  while ((n = read(fsfd, msg, sizeof msg - 1)) > 0) {
    msg[n] = '\0';
    msg[strcspn(msg, "\n")] = '\0';
    snprintf(out, len, " (%s)", n > 2 ? msg + 2 : msg); /* "e overlayfs: ..." */
  }
}

static BERTH_WUR int fs_set(int fsfd, const char *key, const char *value, const char *target,
                            berth_error_t *err)
{
  if (fsconfig(fsfd, FSCONFIG_SET_STRING, key, value, 0) == 0)
    return 0;
  int saved = errno;
  char log[600];
  fs_log(fsfd, log, sizeof log);
  errno = saved;
  return BERTH_ERR_ERRNO(err, "mount overlay on `%s`: set `%s` to `%s`%s", target, key, value, log);
}

static BERTH_WUR int mount_new_api(const char *const *lowers, size_t n, const char *upper, const char *work,
                                   const char *target, unsigned flags, berth_error_t *err)
{
  cleanup_close int fsfd = fsopen("overlay", FSOPEN_CLOEXEC);
  if (fsfd < 0)
    return BERTH_ERR_ERRNO(err, "mount overlay on `%s`: fsopen", target);
  if (fs_set(fsfd, "source", "overlay", target, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++) /* before Linux 6.8 the kernel's log says "Unknown parameter 'lowerdir+'" */
    if (fs_set(fsfd, "lowerdir+", lowers[i], target, err) < 0)
      return -1;
  if (upper != NULL &&
      (fs_set(fsfd, "upperdir", upper, target, err) < 0 || fs_set(fsfd, "workdir", work, target, err) < 0 ||
       fs_set(fsfd, "redirect_dir", "off", target, err) < 0 || fs_set(fsfd, "index", "off", target, err) < 0))
    return -1;
  if (upper != NULL && (flags & BERTH_MOUNTNS_OVERLAY_VOLATILE) &&
      fsconfig(fsfd, FSCONFIG_SET_FLAG, "volatile", NULL, 0) < 0)
    return BERTH_ERR_ERRNO(err, "mount overlay on `%s`: set `volatile`", target);
  if (fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
    int saved = errno;
    char log[600];
    fs_log(fsfd, log, sizeof log);
    errno = saved;
    return BERTH_ERR_ERRNO(err, "mount overlay on `%s` (%zu layers)%s", target, n, log);
  }
  cleanup_close int mfd = fsmount(fsfd, FSMOUNT_CLOEXEC, 0);
  if (mfd < 0)
    return BERTH_ERR_ERRNO(err, "mount overlay on `%s`: fsmount", target);
  if (move_mount(mfd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
    return BERTH_ERR_ERRNO(err, "mount overlay on `%s`: move_mount", target);
  return 0;
}

static BERTH_WUR int bind_read_only(const char *lower, const char *target, berth_error_t *err)
{
  if (mount(lower, target, NULL, MS_BIND, NULL) < 0)
    return BERTH_ERR_ERRNO(err, "bind `%s` on `%s`", lower, target);
  if (mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0) {
    int saved = errno;
    umount2(target, MNT_DETACH);
    errno = saved;
    return BERTH_ERR_ERRNO(err, "remount `%s` read-only", target);
  }
  return 0;
}

int berth_mountns_overlay(const char *const *lowers, size_t n, const char *upper, const char *work,
                          const char *target, unsigned flags, berth_error_t *err)
{
  if (n == 0 || lowers == NULL)
    return BERTH_ERR(err, "mount overlay on `%s`: no lower layers", target);
  if ((upper == NULL) != (work == NULL))
    return BERTH_ERR(err, "mount overlay on `%s`: upperdir and workdir go together", target);
  for (size_t i = 0; i < n; i++)
    if (lowers[i] == NULL || lowers[i][0] == '\0')
      return BERTH_ERR(err, "mount overlay on `%s`: empty lower layer path #%zu", target, i);
  if (n == 1 && upper == NULL)
    return bind_read_only(lowers[0], target, err);
  cleanup_free char *opts = legacy_options(lowers, n, upper, work, flags);
  long page = sysconf(_SC_PAGESIZE);
  if (opts == NULL || strlen(opts) >= (size_t) (page > 0 ? page : 4096))
    return mount_new_api(lowers, n, upper, work, target, flags, err);
  if (mount("overlay", target, "overlay", 0, opts) < 0)
    return BERTH_ERR_ERRNO(err, "mount overlay on `%s` (%zu layers)", target, n);
  return 0;
}
