#include "base/fds.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_close_range
#define SYS_close_range 436
#endif

struct dirent64_raw {
  uint64_t d_ino;
  int64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};

static bool kept(int fd, const int *keep, size_t nkeep)
{
  for (size_t i = 0; i < nkeep; i++)
    if (keep[i] == fd)
      return true;
  return false;
}

/* a descriptor number as /proc/self/fd names it; -1 for anything else */
static int fd_number(const char *s)
{
  long v = 0;
  if (*s == '\0')
    return -1;
  for (; *s; s++) {
    if (*s < '0' || *s > '9' || v > INT_MAX / 10)
      return -1;
    v = v * 10 + (*s - '0');
  }
  return v > INT_MAX ? -1 : (int) v;
}

/* the kernel lists a descriptor by its number: closing the ones already read moves nothing */
static int close_listed(int first, const int *keep, size_t nkeep)
{
  int dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0)
    return -1;
  char buf[4096] __attribute__((aligned(8)));
  for (;;) {
    long n = syscall(SYS_getdents64, dir, buf, sizeof buf);
    if (n <= 0) {
      int e = errno;
      close(dir);
      errno = e;
      return n < 0 ? -1 : 0;
    }
    for (long off = 0; off < n;) {
      const struct dirent64_raw *d = (const struct dirent64_raw *) (buf + off);
      off += d->d_reclen;
      int fd = fd_number(d->d_name);
      if (fd >= first && fd != dir && !kept(fd, keep, nkeep))
        close(fd);
    }
  }
}

static int close_up_to_limit(int first, const int *keep, size_t nkeep)
{
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
    return -1;
  int top = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > INT_MAX ? INT_MAX : (int) rl.rlim_cur;
  for (int fd = first; fd < top; fd++)
    if (!kept(fd, keep, nkeep))
      close(fd);
  return 0;
}

static int close_without_close_range(int first, const int *keep, size_t nkeep)
{
  if (close_listed(first, keep, nkeep) == 0)
    return 0;
  return close_up_to_limit(first, keep, nkeep);
}

int berth_fds_close_from(int first, const int *keep, size_t nkeep)
{
  if (first < 0)
    first = 0;
  /* close_range over the gaps between the kept descriptors */
  long lo = first;
  for (;;) {
    long next = -1;
    for (size_t i = 0; i < nkeep; i++)
      if (keep[i] >= lo && (next < 0 || keep[i] < next))
        next = keep[i];
    if (next != lo) {
      unsigned int hi = next < 0 ? ~0U : (unsigned int) next - 1;
      if (syscall(SYS_close_range, (unsigned int) lo, hi, 0U) < 0)
        return errno == ENOSYS ? close_without_close_range(first, keep, nkeep) : -1;
    }
    if (next < 0)
      return 0;
    lo = next + 1;
  }
}

int berth_fds_listen_count(void)
{
  const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
  if (pid == NULL || fds == NULL || fd_number(pid) != (int) getpid())
    return 0;
  int n = fd_number(fds);
  return n > 0 && n < INT_MAX - 3 ? n : 0;
}
