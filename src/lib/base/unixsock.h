/* Unix socket addresses for paths of any length. sun_path holds 107 bytes and a nul: berth's
 * sockets live under state and run directories that a user may put anywhere (--root,
 * --runroot, XDG_RUNTIME_DIR), so a longer path goes through the directory's descriptor
 * instead: /proc/self/fd/<D>/<name> names the same file for bind(2) and connect(2). */
#ifndef BERTH_BASE_UNIXSOCK_H
#define BERTH_BASE_UNIXSOCK_H

#include <sys/socket.h>
#include <sys/un.h>

#include "base/error.h"

/* The address of the socket file PATH: PATH itself when it fits, else through *dirfd, an
 * O_PATH descriptor of PATH's directory, which the caller closes once bind or connect is done
 * (-1 when none was needed). An error names the path. */
int berth_unix_addr(const char *path, struct sockaddr_un *sa, int *dirfd, berth_error_t *err) BERTH_WUR;

/* connect(2) a new SOCK_CLOEXEC socket of TYPE to PATH: its descriptor, or -1 with an error
 * naming the path */
int berth_unix_connect(const char *path, int type, berth_error_t *err) BERTH_WUR;

#endif
