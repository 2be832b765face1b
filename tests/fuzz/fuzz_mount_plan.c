/* Fuzz the mount planner: the first byte chooses the input flags (bit 0: in a user namespace,
 * bit 1: a console), the rest is a config.json. A config that parses either plans, and the plan
 * keeps the invariants the executor relies on, or fails with a message and hands out nothing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "base/error.h"
#include "base/log.h"
#include "linux/mount_plan/mount_plan.h"
#include "oci/spec.h"

static bool before_pivot(enum berth_mount_op_kind k)
{
  return k != BERTH_MOUNT_OP_READONLY_PATH && k != BERTH_MOUNT_OP_MASK_PATH && k != BERTH_MOUNT_OP_REMOUNT_RO;
}

static bool after_pivot(enum berth_mount_op_kind k)
{
  return k == BERTH_MOUNT_OP_READONLY_PATH || k == BERTH_MOUNT_OP_MASK_PATH ||
         k == BERTH_MOUNT_OP_REMOUNT_RO || k == BERTH_MOUNT_OP_PROPAGATION;
}

static void check_bind(const struct berth_mount_op *op, bool userns)
{
  if (op->source == NULL || op->fstype || op->data || op->what == NULL)
    abort();
  if ((op->flags & BERTH_MOUNT_F_RIDMAP) && !(op->flags & BERTH_MOUNT_F_IDMAP))
    abort();
  if (op->flags & BERTH_MOUNT_F_IDMAP) {
    bool own = (op->flags & BERTH_MOUNT_F_OWN_USERNS) != 0;
    if (own ? (!userns || op->mount) : (op->mount == NULL || op->mount->n_uid_mappings == 0))
      abort();
  }
}

static void check_typed(const struct berth_mount_op *op)
{
  if (op->fstype == NULL || op->fstype[0] == '\0' || op->source == NULL || op->what == NULL)
    abort();
  if ((op->ms & MS_BIND) ||
      (op->flags & (BERTH_MOUNT_F_IDMAP | BERTH_MOUNT_F_RIDMAP | BERTH_MOUNT_F_OWN_USERNS)))
    abort();
  if (op->data && (op->data[0] == '\0' || strlen(op->data) > 4095))
    abort();
  if ((op->flags & BERTH_MOUNT_F_TMPCOPYUP) && strcmp(op->fstype, "tmpfs") != 0)
    abort();
  if ((op->flags & BERTH_MOUNT_F_RO_LATER) && !(op->ms & MS_RDONLY))
    abort();
  if ((op->flags & BERTH_MOUNT_F_PROCFS) && strcmp(op->fstype, "proc") != 0)
    abort();
}

/* CVE-2019-16884: once a planned procfs is on /proc, no other filesystem goes there and
 * nothing goes inside it but the allowed entries, until a mount may have replaced it */
static void check_proc(const struct berth_mount_op *op, bool *proc_known)
{
  bool mount = op->kind == BERTH_MOUNT_OP_BIND || op->kind == BERTH_MOUNT_OP_REMOUNT_BIND ||
               op->kind == BERTH_MOUNT_OP_MOUNT_TYPED || op->kind == BERTH_MOUNT_OP_MOUNT_CGROUP;
  if (!mount)
    return;
  char *clean = berth_mount_path_clean(op->path);
  bool dotdot = strstr(op->path, "..") != NULL;
  bool typed = op->kind == BERTH_MOUNT_OP_MOUNT_TYPED || op->kind == BERTH_MOUNT_OP_MOUNT_CGROUP;
  bool proc = typed && strcmp(op->fstype, "proc") == 0;
  if (*proc_known && !dotdot) {
    if (strcmp(clean, "/proc") == 0 && typed && !proc)
      abort();
    if (strncmp(clean, "/proc/", 6) == 0 && !berth_mount_proc_allowed(clean))
      abort();
  }
  if (proc && !dotdot && strcmp(clean, "/proc") == 0)
    *proc_known = true;
  else if (dotdot || strcmp(clean, "/proc") == 0 || strcmp(clean, "/") == 0)
    *proc_known = false;
  free(clean);
}

static void check_plan(const struct berth_mount_plan *p, bool userns)
{
  if (p->n < 3 || p->ops[0].kind != BERTH_MOUNT_OP_PROPAGATION ||
      p->ops[1].kind != BERTH_MOUNT_OP_BIND_ROOTFS)
    abort();
  size_t pivots = 0;
  bool proc_known = false;
  for (size_t i = 0; i < p->n; i++) {
    const struct berth_mount_op *op = &p->ops[i];
    if (op->path == NULL || op->path[0] != '/')
      abort();
    if (op->kind == BERTH_MOUNT_OP_PIVOT) {
      pivots++;
      continue;
    }
    if (pivots == 0 ? !before_pivot(op->kind) : !after_pivot(op->kind))
      abort();
    if (op->kind == BERTH_MOUNT_OP_BIND || op->kind == BERTH_MOUNT_OP_REMOUNT_BIND)
      check_bind(op, userns);
    if (op->kind == BERTH_MOUNT_OP_MOUNT_TYPED || op->kind == BERTH_MOUNT_OP_MOUNT_CGROUP)
      check_typed(op);
    if ((op->kind == BERTH_MOUNT_OP_MKNOD_DEVICE || op->kind == BERTH_MOUNT_OP_BIND_DEVICE) &&
        (op->device == NULL ||
         (op->kind == BERTH_MOUNT_OP_BIND_DEVICE && (!userns || op->device->type == 'p'))))
      abort();
    if (op->kind == BERTH_MOUNT_OP_PROPAGATION && (op->what == NULL || op->ms == 0))
      abort();
    check_proc(op, &proc_known);
    char *line = berth_mount_op_describe(op);
    if (line == NULL ||
        strncmp(line, berth_mount_op_kind_name(op->kind), strlen(berth_mount_op_kind_name(op->kind))))
      abort();
    free(line);
  }
  if (pivots != 1)
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static int quiet;
  if (!quiet++)
    berth_log_configure(-1, BERTH_LOG_FORMAT_TEXT, BERTH_LOG_ERROR);
  if (size < 1 || size > 1 << 20)
    return 0;
  bool userns = data[0] & 1, console = data[0] & 2;
  berth_spec_t *spec = NULL;
  berth_error_t err = NULL;
  if (berth_spec_parse((const char *) data + 1, size - 1, "config.json", &spec, &err) < 0) {
    berth_error_release(&err);
    return 0;
  }
  struct berth_mount_plan_input in = { .spec = spec, .in_userns = userns, .console = console };
  struct berth_mount_plan p = { 0 };
  if (berth_mount_plan_build(&in, &p, &err) == 0) {
    check_plan(&p, userns);
    berth_mount_plan_free(&p);
  } else if (err == NULL || err->msg == NULL || p.ops != NULL || p.n != 0) {
    abort();
  }
  berth_error_release(&err);
  berth_spec_free(spec);
  return 0;
}
