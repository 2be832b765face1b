/* The mount work of the engine: a private mount namespace for a child process, overlay mounts
 * of layer chains, binds, unmounts. The engine (src/lib/engine) and src/lib/image make no
 * mount, unshare or setns call themselves (DESIGN.md §2; scripts/lint): what they need is
 * this room's API, the only part of linux/ they may include (docs/design/modules.md).
 *
 * Every function works on the caller's mount namespace: call berth_mountns_enter first in a
 * child (base/child.h), so that the mounts go when the child ends, whatever happens to berth. */
#ifndef BERTH_LINUX_MOUNTNS_MOUNTNS_H
#define BERTH_LINUX_MOUNTNS_MOUNTNS_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"

enum berth_mountns_propagation {
  BERTH_MOUNTNS_PRIVATE, /* nothing flows in or out */
  BERTH_MOUNTNS_SLAVE,   /* the host's unmounts reach us (we pin nothing), ours stay here */
};

/* This process into a new mount namespace (unshare), every mount of it made private or a
 * slave of the host's. Errors: "unshare the mount namespace: …", "make `/` private: …". */
int berth_mountns_enter(enum berth_mountns_propagation p, berth_error_t *err) BERTH_WUR;

/* Mount overlay at target with lowerdirs (top first). Long lower lists (the option string is
 * limited to a page), and paths with ',' ':' or a backslash, are mounted with the new mount API
 * (fsconfig lowerdir+ one at a time, Linux >= 6.8). upper/work NULL: read-only overlay (one
 * lower alone: a read-only bind mount, as overlayfs needs two). With an upper dir the mount
 * has redirect_dir=off,index=off, so that the upper dir is a plain diff. */
int berth_mountns_overlay(const char *const *lowers, size_t n, const char *upper, const char *work,
                          const char *target, unsigned flags, berth_error_t *err) BERTH_WUR;
/* flags of berth_mountns_overlay */
/* overlayfs "volatile" (Linux >= 5.10; with an upper dir only): the upper dir is never synced,
 * so unmounting does not sync the upper filesystem (1 to 3 ms here). For a throwaway layer (a
 * container run with --rm): after a crash its contents are undefined, and overlayfs refuses to
 * mount the upper dir again while <work>/work/incompat/volatile exists. */
#define BERTH_MOUNTNS_OVERLAY_VOLATILE 0x1u

/* Bind source (recursively) on the file or directory open at dstfd (O_PATH is enough);
 * dst names it in the error: "bind `<source>` on `<dst>`: …". */
int berth_mountns_bind(const char *source, int dstfd, const char *dst, berth_error_t *err) BERTH_WUR;
/* Remount the bind mount open at fd read-only: "make `<name>` read-only: …". */
int berth_mountns_make_readonly(int fd, const char *name, berth_error_t *err) BERTH_WUR;

/* Detach the mount at path (MNT_DETACH): 0 when unmounted, 1 when nothing is mounted there or
 * the path does not exist, < 0 on any other failure ("unmount `<path>`: …"). */
int berth_mountns_detach(const char *path, berth_error_t *err) BERTH_WUR;

#endif
