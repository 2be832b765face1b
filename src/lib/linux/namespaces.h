/* Namespaces: clone3 with CLONE_NEW* flags, joining by path, id maps, time offsets. */
#ifndef BERTH_LINUX_NAMESPACES_H
#define BERTH_LINUX_NAMESPACES_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"
#include "oci/spec.h"

#define CLONE_NEWTIME_FLAG 0x00000080ULL

/* clone3(2) with flags (CLONE_NEW*, CLONE_PIDFD...); returns like fork. pidfd may be NULL. */
pid_t berth_clone3(uint64_t flags, int *pidfd, int exit_signal);

/* CLONE_NEW* flags of the namespaces the spec asks to create (not joined by path). */
uint64_t berth_ns_new_flags(const berth_spec_t *spec);
/* Open every namespace path the spec joins (O_RDONLY|O_CLOEXEC) into fds[BERTH_NS__COUNT]
 * (-1 where not joined) and check each is a namespace of the right type. */
int berth_ns_open_joined(const berth_spec_t *spec, int fds[BERTH_NS__COUNT], berth_error_t *err) BERTH_WUR;
void berth_ns_close_all(int fds[BERTH_NS__COUNT]);
/* setns() into one namespace fd of the given type. */
int berth_ns_join(int fd, enum berth_ns_type type, berth_error_t *err) BERTH_WUR;

/* Write /proc/<pid>/{uid_map,gid_map} (and setgroups "deny" when deny_setgroups). Uses
 * newuidmap/newgidmap when not privileged enough to write them directly. */
int berth_userns_write_maps(pid_t pid, const struct berth_id_map *uids, size_t n_uids,
                            const struct berth_id_map *gids, size_t n_gids, bool deny_setgroups,
                            berth_error_t *err) BERTH_WUR;
/* Does the config give offsets for a new time namespace? */
bool berth_timens_has_offsets(const berth_spec_t *spec);
/* Write the offsets for a time namespace not yet entered by any process into fd, our
 * /proc/self/timens_offsets: opened while we could (dumpable, in our own user namespace). */
int berth_timens_write_offsets(int fd, const berth_spec_t *spec, berth_error_t *err) BERTH_WUR;

/* Bring `lo` up in the network namespace we are in (runc and crun do it in every new one:
 * without it 127.0.0.1 is unreachable inside the container). */
int berth_netns_loopback_up(berth_error_t *err) BERTH_WUR;

/* Does a host uid/gid appear in a mapping (container id for host id)? */
bool berth_id_map_to_container(const struct berth_id_map *m, size_t n, uint32_t host, uint32_t *out);

#endif
