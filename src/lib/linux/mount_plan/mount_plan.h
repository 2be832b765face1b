/* The mount plan: the container's filesystem setup as a list of operations, made from the
 * config without a system call and validated as a whole before the first mount.
 *
 * Mount options (berth_mount_opts_parse, mount_opts.c) turn runtime-spec mount options into
 * mount(2) flags, propagation, mount_setattr(2) recursive attributes and the fs-specific
 * data string. The executor (linux/rootfs/) runs the list. What only the filesystem can say stays there:
 * where a destination resolves inside the rootfs (openat2 RESOLVE_IN_ROOT), whether it exists, file or
 * directory, whether a source is procfs, what the host's cgroup layout is, whether mknod is allowed.
 * docs/design/runtime.md, "The mount plan". */
#ifndef BERTH_LINUX_MOUNT_PLAN_MOUNT_PLAN_H
#define BERTH_LINUX_MOUNT_PLAN_MOUNT_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "oci/spec.h"

struct berth_mount_opts {
  unsigned long flags;       /* MS_* to set (MS_BIND, MS_REC, MS_RDONLY, MS_NOSUID, ...) */
  unsigned long clear;       /* MS_* explicitly cleared ("rw", "suid", "dev", "exec", ...) */
  unsigned long propagation; /* MS_SHARED|MS_SLAVE|MS_PRIVATE|MS_UNBINDABLE (+MS_REC) or 0 */
  uint64_t attr_set;         /* MOUNT_ATTR_* applied recursively (rro, rnosuid, ...) */
  uint64_t attr_clr;
  bool recursive_attrs; /* attr_set/attr_clr given: mount_setattr(AT_RECURSIVE) */
  bool idmap, ridmap;   /* idmapped bind mount (recursive for ridmap) */
  bool tmpcopyup;       /* copy the underlying dir into a new tmpfs */
  char *data;           /* remaining options joined by ',' (may be NULL) */
};
/* Option semantics: options apply left to right and a later one overrides an earlier one
 * ("ro,rw" is rw; the last propagation option wins), except that recursion only adds up:
 * "rbind" anywhere makes the bind recursive ("rbind,bind" too, as runc and crun OR the flags).
 * `flags` and `clear` never share a bit. Of noatime/relatime/strictatime at most one is in
 * `flags`. "ridmap" sets both idmap and ridmap. The recursive atime options set the
 * MOUNT_ATTR__ATIME bits in attr_clr and the chosen mode in attr_set; their negations
 * (ratime, rnorelatime, rnostrictatime) select relatime, the kernel default.
 * Errors: a NULL or empty option, a control character, "idmap=<...>" (use the mount's
 * uidMappings/gidMappings), fs data longer than a page allows. */

int berth_mount_opts_parse(const char *const *options, size_t n, struct berth_mount_opts *out,
                           berth_error_t *err) BERTH_WUR;
/* The same; on failure *failed is the index of the option at fault (n: the array itself). */
int berth_mount_opts_parse_at(const char *const *options, size_t n, struct berth_mount_opts *out,
                              size_t *failed, berth_error_t *err) BERTH_WUR;
void berth_mount_opts_release(struct berth_mount_opts *o);
/* MS_* set and cleared → MOUNT_ATTR_* set and cleared (per-mount flags only; atime as
 * mount_setattr expects it), added to *set and *clr. */
void berth_mount_ms_to_attr(unsigned long set_ms, unsigned long clr_ms, uint64_t *set, uint64_t *clr);

/* Does the config bind-mount /dev from the host (then no devices are created)? */
bool berth_rootfs_binds_dev(const berth_spec_t *spec);

enum berth_mount_op_kind {
  BERTH_MOUNT_OP_PROPAGATION,   /* mount(NULL, "/", NULL, ms): before pivot the host's "/", after it ours */
  BERTH_MOUNT_OP_BIND_ROOTFS,   /* the rootfs's parent mount made private, the rootfs bound on itself */
  BERTH_MOUNT_OP_BIND,          /* a config bind: detached tree, attributes, idmap, attached on path */
  BERTH_MOUNT_OP_REMOUNT_BIND,  /* "bind,remount": new attributes for the mount already at path */
  BERTH_MOUNT_OP_MOUNT_TYPED,   /* a filesystem by type with mount(2) (or its remount, MS_REMOUNT in ms) */
  BERTH_MOUNT_OP_MOUNT_CGROUP,  /* cgroup or cgroup2: the layout follows the host's (rootfs_cgroup.c) */
  BERTH_MOUNT_OP_MKNOD_DEVICE,  /* mknod; when refused (EPERM, not for fifos) the host's node is bound */
  BERTH_MOUNT_OP_BIND_DEVICE,   /* the host's node bound on an empty file (in a user namespace) */
  BERTH_MOUNT_OP_SYMLINK,       /* path -> source */
  BERTH_MOUNT_OP_BIND_CONSOLE,  /* the pty on /dev/console */
  BERTH_MOUNT_OP_PIVOT,         /* pivot_root: prepare runs the ops before it, finalize those after it */
  BERTH_MOUNT_OP_READONLY_PATH, /* a recursive read-only bind of path on itself; absent: nothing */
  BERTH_MOUNT_OP_MASK_PATH,     /* /dev/null over a file, an empty read-only tmpfs over a directory */
  BERTH_MOUNT_OP_REMOUNT_RO,    /* the mount at path made read-only */
};

enum {
  BERTH_MOUNT_F_RECURSIVE = 1u << 0,  /* BIND: the whole tree (rbind) */
  BERTH_MOUNT_F_IDMAP = 1u << 1,      /* BIND: idmapped, with `mount`'s uidMappings/gidMappings... */
  BERTH_MOUNT_F_OWN_USERNS = 1u << 2, /* ...or, with this, with the container's user namespace */
  BERTH_MOUNT_F_RIDMAP = 1u << 3,     /* BIND: idmap every mount of the tree, not only the top */
  BERTH_MOUNT_F_TMPCOPYUP = 1u << 4,  /* TYPED tmpfs: the directory's content copied in */
  BERTH_MOUNT_F_RO_LATER = 1u << 5,   /* TYPED: mounted without MS_RDONLY, read-only once filled
                                       * (after the copy; /dev by a REMOUNT_RO after pivot) */
  BERTH_MOUNT_F_NO_SYMLINK = 1u << 6, /* TYPED proc, sysfs: the destination must not be a symlink */
  BERTH_MOUNT_F_PROCFS = 1u << 7,     /* TYPED proc: the new mount must be a procfs */
  BERTH_MOUNT_F_CGROUPNS = 1u << 8,   /* CGROUP: the container has its own cgroup namespace */
  BERTH_MOUNT_F_REPLACE = 1u << 9,    /* SYMLINK: remove what is at path first (else it is kept) */
  BERTH_MOUNT_F_IF_HOST = 1u << 10,   /* SYMLINK: only when `host` exists (before pivot) */
};

struct berth_mount_op {
  enum berth_mount_op_kind kind;
  unsigned flags;            /* BERTH_MOUNT_F_* */
  const char *path;          /* in the container: destination, device, link, masked path; "/" */
  const char *source;        /* BIND: host path; TYPED, CGROUP: fs source; SYMLINK: link target */
  const char *fstype;        /* TYPED, CGROUP */
  const char *host;          /* TYPED: host dir bound instead when mount(2) is refused in a user
                              * namespace (sysfs, mqueue); SYMLINK with IF_HOST: the condition */
  unsigned long ms;          /* TYPED, CGROUP: MS_* of the options; PROPAGATION: MS_* propagation */
  char *data;                /* TYPED, CGROUP: fs options ("mode=755,size=65536k"), or NULL */
  uint64_t set, clr;         /* BIND, REMOUNT_BIND: MOUNT_ATTR_* of the top mount */
  uint64_t rset, rclr;       /* BIND, REMOUNT_BIND, TYPED, CGROUP: MOUNT_ATTR_* of every mount */
  unsigned long propagation; /* BIND, REMOUNT_BIND, TYPED, CGROUP: MS_SHARED... (+MS_REC), or 0 */
  const struct berth_spec_mount *mount;   /* BIND with IDMAP: where the mappings are */
  size_t index;                           /* BIND, REMOUNT_BIND, TYPED, CGROUP: the config's mounts[index] */
  const struct berth_spec_device *device; /* MKNOD_DEVICE, BIND_DEVICE */
  char *what; /* names the op in errors: "mount `shm` on `/dev/shm` (mounts[3])" */
};

struct berth_mount_plan {
  struct berth_mount_op *ops;
  size_t n;
};

struct berth_mount_plan_input {
  const berth_spec_t *spec;
  bool in_userns; /* the container has its own user namespace: devices are bound, not made */
  bool console;   /* a pty is bound on /dev/console before pivot */
};

/* The whole plan, or an error naming the JSON path ("mount `tmpfs` on `/x`
 * (mounts[2].options[1]): idmap is only supported on bind mounts"); nothing in `out` then.
 * Strings other than `data` and `what` are borrowed from the spec (or static). */
int berth_mount_plan_build(const struct berth_mount_plan_input *in, struct berth_mount_plan *out,
                           berth_error_t *err) BERTH_WUR;
void berth_mount_plan_free(struct berth_mount_plan *p);

/* "MOUNT_TYPED" */
const char *berth_mount_op_kind_name(enum berth_mount_op_kind k);
/* One line for tests and debugging: "MOUNT_TYPED /dev tmpfs src=tmpfs ms=nosuid,strictatime
 * data=mode=755,size=65536k ro-later". */
char *berth_mount_op_describe(const struct berth_mount_op *op);

/* "/dev", "//dev/", "/dev/." all name /dev: slashes and "." components dropped, ".." kept */
char *berth_mount_path_clean(const char *path);
/* May something be mounted on this entry inside /proc (cleaned)? A few, as runc allows. */
bool berth_mount_proc_allowed(const char *path);

#endif
