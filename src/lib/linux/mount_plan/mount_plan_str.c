/* An op of the mount plan as one line of text, for tests and debugging. Pure. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "base/cleanup.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "linux/mount_plan/mount_plan.h"

static const char *const kind_names[] = {
  [BERTH_MOUNT_OP_PROPAGATION] = "PROPAGATION",
  [BERTH_MOUNT_OP_BIND_ROOTFS] = "BIND_ROOTFS",
  [BERTH_MOUNT_OP_BIND] = "BIND",
  [BERTH_MOUNT_OP_REMOUNT_BIND] = "REMOUNT_BIND",
  [BERTH_MOUNT_OP_MOUNT_TYPED] = "MOUNT_TYPED",
  [BERTH_MOUNT_OP_MOUNT_CGROUP] = "MOUNT_CGROUP",
  [BERTH_MOUNT_OP_MKNOD_DEVICE] = "MKNOD_DEVICE",
  [BERTH_MOUNT_OP_BIND_DEVICE] = "BIND_DEVICE",
  [BERTH_MOUNT_OP_SYMLINK] = "SYMLINK",
  [BERTH_MOUNT_OP_BIND_CONSOLE] = "BIND_CONSOLE",
  [BERTH_MOUNT_OP_PIVOT] = "PIVOT",
  [BERTH_MOUNT_OP_READONLY_PATH] = "READONLY_PATH",
  [BERTH_MOUNT_OP_MASK_PATH] = "MASK_PATH",
  [BERTH_MOUNT_OP_REMOUNT_RO] = "REMOUNT_RO",
};

const char *berth_mount_op_kind_name(enum berth_mount_op_kind k)
{
  if ((size_t) k >= BERTH_N_ELEMENTS(kind_names) || kind_names[k] == NULL)
    return "?";
  return kind_names[k];
}

struct bit_name {
  uint64_t bit;
  const char *name;
};

static const struct bit_name ms_names[] = {
  { MS_RDONLY, "ro" },
  { MS_NOSUID, "nosuid" },
  { MS_NODEV, "nodev" },
  { MS_NOEXEC, "noexec" },
  { MS_SYNCHRONOUS, "sync" },
  { MS_REMOUNT, "remount" },
  { MS_MANDLOCK, "mand" },
  { MS_DIRSYNC, "dirsync" },
  { MS_NOSYMFOLLOW, "nosymfollow" },
  { MS_NOATIME, "noatime" },
  { MS_NODIRATIME, "nodiratime" },
  { MS_RELATIME, "relatime" },
  { MS_STRICTATIME, "strictatime" },
  { MS_LAZYTIME, "lazytime" },
  { MS_I_VERSION, "iversion" },
  { MS_POSIXACL, "acl" },
  { MS_SILENT, "silent" },
};

static const struct bit_name attr_names[] = {
  { MOUNT_ATTR_RDONLY, "ro" },
  { MOUNT_ATTR_NOSUID, "nosuid" },
  { MOUNT_ATTR_NODEV, "nodev" },
  { MOUNT_ATTR_NOEXEC, "noexec" },
  { MOUNT_ATTR_NODIRATIME, "nodiratime" },
  { MOUNT_ATTR_NOSYMFOLLOW, "nosymfollow" },
};

static const struct bit_name flag_names[] = {
  { BERTH_MOUNT_F_RECURSIVE, "rec" },         { BERTH_MOUNT_F_IDMAP, "idmap" },
  { BERTH_MOUNT_F_OWN_USERNS, "own-userns" }, { BERTH_MOUNT_F_RIDMAP, "ridmap" },
  { BERTH_MOUNT_F_TMPCOPYUP, "tmpcopyup" },   { BERTH_MOUNT_F_RO_LATER, "ro-later" },
  { BERTH_MOUNT_F_NO_SYMLINK, "no-symlink" }, { BERTH_MOUNT_F_PROCFS, "procfs" },
  { BERTH_MOUNT_F_CGROUPNS, "cgroupns" },     { BERTH_MOUNT_F_REPLACE, "replace" },
  { BERTH_MOUNT_F_IF_HOST, "if-host" },
};

/* " key=a,b" for the named bits of v (nothing when none is set) */
static void put_bits(struct berth_strbuf *b, const char *key, uint64_t v, const struct bit_name *names,
                     size_t n)
{
  const char *sep = NULL;
  for (size_t i = 0; i < n; i++) {
    if (!(v & names[i].bit))
      continue;
    if (sep == NULL)
      berth_strbuf_printf(b, " %s=", key);
    berth_strbuf_printf(b, "%s%s", sep ? sep : "", names[i].name);
    sep = ",";
  }
}

/* " {r}set=.. {r}clr=.. {r}atime=..": MOUNT_ATTR_* and the atime mode, which is a field */
static void put_attrs(struct berth_strbuf *b, const char *r, uint64_t set, uint64_t clr)
{
  size_t n = BERTH_N_ELEMENTS(attr_names);
  cleanup_free char *kset = xasprintf("%sset", r), *kclr = xasprintf("%sclr", r);
  put_bits(b, kset, set, attr_names, n);
  put_bits(b, kclr, clr, attr_names, n);
  if (!(clr & MOUNT_ATTR__ATIME))
    return;
  uint64_t mode = set & MOUNT_ATTR__ATIME;
  berth_strbuf_printf(b, " %satime=%s", r,
                      mode == MOUNT_ATTR_NOATIME       ? "noatime"
                      : mode == MOUNT_ATTR_STRICTATIME ? "strictatime"
                                                       : "relatime");
}

static const char *propagation_name(unsigned long p)
{
  bool rec = (p & MS_REC) != 0;
  if (p & MS_SHARED)
    return rec ? "rshared" : "shared";
  if (p & MS_SLAVE)
    return rec ? "rslave" : "slave";
  if (p & MS_PRIVATE)
    return rec ? "rprivate" : "private";
  if (p & MS_UNBINDABLE)
    return rec ? "runbindable" : "unbindable";
  return "none";
}

char *berth_mount_op_describe(const struct berth_mount_op *op)
{
  struct berth_strbuf b = BERTH_STRBUF_INIT;
  berth_strbuf_printf(&b, "%s %s", berth_mount_op_kind_name(op->kind), op->path ? op->path : "-");
  if (op->kind == BERTH_MOUNT_OP_PROPAGATION)
    berth_strbuf_printf(&b, " %s", propagation_name(op->ms));
  if (op->fstype)
    berth_strbuf_printf(&b, " %s", op->fstype);
  if (op->device)
    berth_strbuf_printf(&b, " %c %" PRId64 ":%" PRId64 " %04o", op->device->type, op->device->major,
                        op->device->minor, op->device->has_file_mode ? op->device->file_mode : 0666);
  if (op->source)
    berth_strbuf_printf(&b, op->kind == BERTH_MOUNT_OP_SYMLINK ? " -> %s" : " src=%s", op->source);
  if (op->kind == BERTH_MOUNT_OP_MOUNT_TYPED || op->kind == BERTH_MOUNT_OP_MOUNT_CGROUP)
    put_bits(&b, "ms", op->ms, ms_names, BERTH_N_ELEMENTS(ms_names));
  if (op->data)
    berth_strbuf_printf(&b, " data=%s", op->data);
  put_attrs(&b, "", op->set, op->clr);
  put_attrs(&b, "r", op->rset, op->rclr);
  if (op->propagation)
    berth_strbuf_printf(&b, " prop=%s", propagation_name(op->propagation));
  if (op->host)
    berth_strbuf_printf(&b, " host=%s", op->host);
  put_bits(&b, "f", op->flags, flag_names, BERTH_N_ELEMENTS(flag_names));
  return berth_strbuf_detach(&b);
}
