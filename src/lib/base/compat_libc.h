/* What glibc 2.36 declares and musl 1.2.3 does not: the new mount API, statx, pidfds.
 * Force-included (-include) by meson into every file when the C library lacks fsopen(2), so
 * the sources are written against glibc and still build with musl (the release
 * berth-runtime; see docs/design/runtime.md, "Startup cost"). Never included by hand. */
#ifndef BERTH_BASE_COMPAT_LIBC_H
#define BERTH_BASE_COMPAT_LIBC_H

#include <fcntl.h>
#include <stdint.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* the kernel's header has the constants and struct mount_attr; sys/mount.h came first, so
 * its MS_* flags (the same values) stand */
#include <linux/mount.h>

static inline int fsopen(const char *fs, unsigned int flags) { return (int) syscall(SYS_fsopen, fs, flags); }
static inline int fsconfig(int fd, unsigned int cmd, const char *key, const void *value, int aux)
{
  return (int) syscall(SYS_fsconfig, fd, cmd, key, value, aux);
}
static inline int fsmount(int fd, unsigned int flags, unsigned int attr_flags)
{
  return (int) syscall(SYS_fsmount, fd, flags, attr_flags);
}
static inline int move_mount(int from_dirfd, const char *from, int to_dirfd, const char *to,
                             unsigned int flags)
{
  return (int) syscall(SYS_move_mount, from_dirfd, from, to_dirfd, to, flags);
}
static inline int open_tree(int dirfd, const char *path, unsigned int flags)
{
  return (int) syscall(SYS_open_tree, dirfd, path, flags);
}
static inline int mount_setattr(int dirfd, const char *path, unsigned int flags, struct mount_attr *attr,
                                size_t size)
{
  return (int) syscall(SYS_mount_setattr, dirfd, path, flags, attr, size);
}
static inline int fspick(int dirfd, const char *path, unsigned int flags)
{
  return (int) syscall(SYS_fspick, dirfd, path, flags);
}

#if !__has_include(<sys/pidfd.h>)
#include <signal.h>
static inline int pidfd_open(pid_t pid, unsigned int flags)
{
  return (int) syscall(SYS_pidfd_open, pid, flags);
}
static inline int pidfd_send_signal(int pidfd, int sig, siginfo_t *info, unsigned int flags)
{
  return (int) syscall(SYS_pidfd_send_signal, pidfd, sig, info, flags);
}
#endif

#ifndef STATX_ATTR_MOUNT_ROOT
#define STATX_ATTR_MOUNT_ROOT 0x00002000
#endif
/* musl 1.2.5 declares statx (meson then defines BERTH_LIBC_HAS_STATX); 1.2.3 does not */
#ifndef BERTH_LIBC_HAS_STATX
#define STATX_TYPE        0x00000001U
#define STATX_MODE        0x00000002U
#define STATX_INO         0x00000100U
#define STATX_BASIC_STATS 0x000007ffU
struct statx_timestamp {
  int64_t tv_sec;
  uint32_t tv_nsec;
  int32_t reserved;
};
struct statx {
  uint32_t stx_mask, stx_blksize;
  uint64_t stx_attributes;
  uint32_t stx_nlink, stx_uid, stx_gid;
  uint16_t stx_mode, pad1;
  uint64_t stx_ino, stx_size, stx_blocks, stx_attributes_mask;
  struct statx_timestamp stx_atime, stx_btime, stx_ctime, stx_mtime;
  uint32_t stx_rdev_major, stx_rdev_minor, stx_dev_major, stx_dev_minor;
  uint64_t stx_mnt_id;
  uint64_t spare[13];
};
static inline int statx(int dirfd, const char *path, int flags, unsigned int mask, struct statx *buf)
{
  return (int) syscall(SYS_statx, dirfd, path, flags, mask, buf);
}
#endif
#ifndef STATX_MNT_ID
#define STATX_MNT_ID 0x00001000U
#endif

#endif
