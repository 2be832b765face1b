/* Unix socket addresses for long paths (base/unixsock.h). */
#include "base/unixsock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/xalloc.h"

int berth_unix_addr(const char *path, struct sockaddr_un *sa, int *dirfd, berth_error_t *err)
{
  memset(sa, 0, sizeof *sa);
  sa->sun_family = AF_UNIX;
  *dirfd = -1;
  size_t len = strlen(path);
  if (len < sizeof sa->sun_path) {
    memcpy(sa->sun_path, path, len + 1);
    return 0;
  }
  const char *slash = strrchr(path, '/');
  if (slash == NULL || slash[1] == '\0')
    return BERTH_ERR(err, "socket path `%s` is too long for a unix socket", path);
  cleanup_free char *dir = xstrndup(path, (size_t) (slash - path));
  int fd = open(dir[0] ? dir : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return BERTH_ERR_ERRNO(err, "socket path `%s`: open its directory", path);
  int n = snprintf(sa->sun_path, sizeof sa->sun_path, "/proc/self/fd/%d/%s", fd, slash + 1);
  if (n < 0 || (size_t) n >= sizeof sa->sun_path) {
    close(fd);
    return BERTH_ERR(err, "socket path `%s`: its name is too long for a unix socket", path);
  }
  *dirfd = fd;
  return 0;
}

int berth_unix_connect(const char *path, int type, berth_error_t *err)
{
  struct sockaddr_un sa;
  cleanup_close int dirfd = -1;
  if (berth_unix_addr(path, &sa, &dirfd, err) < 0)
    return -1;
  cleanup_close int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return BERTH_ERR_ERRNO(err, "socket");
  int r;
  do
    r = connect(fd, (struct sockaddr *) &sa, sizeof sa);
  while (r < 0 && errno == EINTR);
  if (r < 0)
    return BERTH_ERR_ERRNO(err, "connect to `%s`", path);
  return steal_fd(fd);
}
