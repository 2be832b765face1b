/* The mount plan (mount_plan.h): the config → the ordered operations, every check the
 * config alone can decide made before the executor's first system call. Pure. Devices and
 * /dev links: mount_plan_dev.c; the text of an op: mount_plan_str.c. */
#include "linux/mount_plan/mount_plan.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "base/cleanup.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "linux/mount_plan/mount_plan_internal.h"

/* entries of /proc that may be bind-mounted over (lxcfs and friends), as runc allows */
static const char *const proc_allowed[] = {
  "/proc/cpuinfo",
  "/proc/diskstats",
  "/proc/meminfo",
  "/proc/stat",
  "/proc/swaps",
  "/proc/uptime",
  "/proc/loadavg",
  "/proc/slabinfo",
  "/proc/sys/kernel/ns_last_pid",
  "/proc/sys/crypto/fips_enabled",
};

bool berth_mount_proc_allowed(const char *path)
{
  for (size_t i = 0; i < BERTH_N_ELEMENTS(proc_allowed); i++)
    if (strcmp(path, proc_allowed[i]) == 0)
      return true;
  return false;
}

char *berth_mount_path_clean(const char *p)
{
  char *clean = xmalloc(strlen(p) + 2);
  size_t n = 0;
  for (const char *s = p; *s;) {
    while (*s == '/')
      s++;
    const char *e = strchrnul(s, '/');
    if (e - s == 1 && *s == '.') {
      s = e;
      continue;
    }
    if (e > s) {
      clean[n++] = '/';
      memcpy(clean + n, s, (size_t) (e - s));
      n += (size_t) (e - s);
    }
    s = e;
  }
  if (n == 0)
    clean[n++] = '/';
  clean[n] = '\0';
  return clean;
}

static bool has_dotdot(const char *p)
{
  for (const char *s = strstr(p, ".."); s; s = strstr(s + 1, ".."))
    if ((s == p || s[-1] == '/') && (s[2] == '\0' || s[2] == '/'))
      return true;
  return false;
}

bool berth_rootfs_binds_dev(const berth_spec_t *spec)
{
  for (size_t i = 0; i < spec->n_mounts; i++) {
    const struct berth_spec_mount *m = &spec->mounts[i];
    bool bind = berth_str_eq(m->type, "bind");
    for (size_t k = 0; !bind && k < m->n_options && m->options; k++)
      bind = berth_str_eq(m->options[k], "bind") || berth_str_eq(m->options[k], "rbind");
    if (bind && m->destination) {
      cleanup_free char *clean = berth_mount_path_clean(m->destination);
      if (strcmp(clean, "/dev") == 0)
        return true;
    }
  }
  return false;
}

struct berth_mount_op *mount_plan_add(struct berth_mount_plan *p, enum berth_mount_op_kind kind,
                                      const char *path)
{
  p->ops = xreallocarray(p->ops, p->n + 1, sizeof *p->ops);
  struct berth_mount_op *op = &p->ops[p->n++];
  memset(op, 0, sizeof *op);
  op->kind = kind;
  op->path = path;
  return op;
}

/* one entry of `mounts` while it is planned */
struct mount_in {
  size_t index;
  const struct berth_spec_mount *m;
  struct berth_mount_opts o;
  bool bind, idmap;
  const char *name; /* in errors: the source of a bind (or of a typeless mount), else the type */
  char *clean;      /* the destination, cleaned */
  bool dotdot;      /* the destination has a ".." component */
};

/* "mount `tmpfs` on `/x` (mounts[2].options[1]): <message>" */
static int mount_error(berth_error_t *err, const struct mount_in *mi, const char *field, const char *fmt, ...)
  __attribute__((format(printf, 4, 5)));
static int mount_error(berth_error_t *err, const struct mount_in *mi, const char *field, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  cleanup_free char *msg = NULL;
  if (vasprintf(&msg, fmt, ap) < 0)
    msg = NULL;
  va_end(ap);
  return BERTH_ERR(err, "mount `%s` on `%s` (mounts[%zu]%s): %s", mi->name, mi->m->destination, mi->index,
                   field, msg ? msg : fmt);
}

/* ".options[k]" for the last of the options named, or `otherwise` when none is given */
static char *option_field(const struct berth_spec_mount *m, const char *a, const char *b,
                          const char *otherwise)
{
  for (size_t k = m->n_options; m->options && k-- > 0;)
    if (berth_str_eq(m->options[k], a) || berth_str_eq(m->options[k], b))
      return xasprintf(".options[%zu]", k);
  return xstrdup(otherwise);
}

/* CVE-2019-16884 class, the part the config decides: nothing but procfs on /proc, and
 * nothing inside /proc but a few entries, once a procfs this plan mounts is on /proc (until
 * then /proc is whatever the image has, maybe a symlink). The executor checks again where
 * each destination really resolved. */
static BERTH_WUR int check_proc(const struct mount_plan_state *st, const struct mount_in *mi,
                                berth_error_t *err)
{
  if (!st->proc_known || mi->dotdot)
    return 0;
  if (strcmp(mi->clean, "/proc") == 0) {
    if (mi->bind || berth_str_eq(mi->m->type, "proc"))
      return 0; /* a bind's source may be a procfs: the executor looks */
    return mount_error(err, mi, ".destination", "only procfs may be mounted on `/proc`");
  }
  if (!berth_str_has_prefix(mi->clean, "/proc/") || berth_mount_proc_allowed(mi->clean))
    return 0;
  return mount_error(err, mi, ".destination", "`%s` is inside /proc, which is not allowed", mi->clean);
}

static void note_proc(struct mount_plan_state *st, const struct mount_in *mi)
{
  bool on_proc = strcmp(mi->clean, "/proc") == 0;
  if (!mi->bind && !mi->dotdot && on_proc && berth_str_eq(mi->m->type, "proc"))
    st->proc_known = true;
  else if (mi->dotdot || on_proc || strcmp(mi->clean, "/") == 0)
    st->proc_known = false;
}

static struct berth_mount_op *add_mount_op(struct mount_plan_state *st, const struct mount_in *mi,
                                           enum berth_mount_op_kind kind)
{
  struct berth_mount_op *op = mount_plan_add(st->p, kind, mi->m->destination);
  op->what = xasprintf("mount `%s` on `%s` (mounts[%zu])", mi->name, mi->m->destination, mi->index);
  op->index = mi->index;
  op->rset = mi->o.attr_set;
  op->rclr = mi->o.attr_clr;
  op->propagation = mi->o.propagation;
  return op;
}

static BERTH_WUR int plan_bind(struct mount_plan_state *st, struct mount_in *mi, berth_error_t *err)
{
  const struct berth_spec_mount *m = mi->m;
  if (m->source == NULL)
    return mount_error(err, mi, ".source", "bind mount without a source");
  if (check_proc(st, mi, err) < 0)
    return -1;
  bool remount = (mi->o.flags & MS_REMOUNT) != 0;
  unsigned flags = (mi->o.flags & MS_REC) ? BERTH_MOUNT_F_RECURSIVE : 0;
  if (mi->idmap && !remount) {
    /* mappings of its own, else the container's user namespace */
    flags |= BERTH_MOUNT_F_IDMAP | (mi->o.ridmap ? BERTH_MOUNT_F_RIDMAP : 0);
    if (m->n_uid_mappings == 0 && m->n_gid_mappings == 0) {
      if (!st->in->in_userns) {
        cleanup_free char *field = option_field(m, "idmap", "ridmap", "");
        return mount_error(err, mi, field, "idmap needs uidMappings and gidMappings or a user namespace");
      }
      flags |= BERTH_MOUNT_F_OWN_USERNS;
    }
  }
  struct berth_mount_op *op =
    add_mount_op(st, mi, remount ? BERTH_MOUNT_OP_REMOUNT_BIND : BERTH_MOUNT_OP_BIND);
  op->source = m->source;
  op->flags = flags;
  op->mount = (flags & BERTH_MOUNT_F_IDMAP) && !(flags & BERTH_MOUNT_F_OWN_USERNS) ? m : NULL;
  berth_mount_ms_to_attr(mi->o.flags, mi->o.clear, &op->set, &op->clr);
  return 0;
}

static unsigned typed_flags(const struct mount_in *mi)
{
  const char *type = mi->m->type;
  unsigned f = 0;
  if (strcmp(type, "proc") == 0)
    f |= BERTH_MOUNT_F_NO_SYMLINK | BERTH_MOUNT_F_PROCFS;
  if (strcmp(type, "sysfs") == 0)
    f |= BERTH_MOUNT_F_NO_SYMLINK;
  if (mi->o.tmpcopyup)
    f |= BERTH_MOUNT_F_TMPCOPYUP;
  /* devices and copied files go in first; read-only comes after */
  if ((mi->o.flags & MS_RDONLY) && (strcmp(mi->clean, "/dev") == 0 || mi->o.tmpcopyup))
    f |= BERTH_MOUNT_F_RO_LATER;
  return f;
}

static BERTH_WUR int plan_typed(struct mount_plan_state *st, struct mount_in *mi, berth_error_t *err)
{
  const struct berth_spec_mount *m = mi->m;
  const char *type = m->type;
  if (type == NULL || *type == '\0')
    return mount_error(err, mi, ".type", "no type given and not a bind mount");
  if (mi->idmap) {
    cleanup_free char *field = option_field(m, "idmap", "ridmap", ".uidMappings");
    return mount_error(err, mi, field, "idmap is only supported on bind mounts");
  }
  if (mi->o.tmpcopyup && strcmp(type, "tmpfs") != 0) {
    cleanup_free char *field = option_field(m, "tmpcopyup", "tmpcopyup", "");
    return mount_error(err, mi, field, "tmpcopyup is only supported on tmpfs");
  }
  if (check_proc(st, mi, err) < 0)
    return -1;
  bool cgroup = strcmp(type, "cgroup") == 0 || strcmp(type, "cgroup2") == 0;
  struct berth_mount_op *op =
    add_mount_op(st, mi, cgroup ? BERTH_MOUNT_OP_MOUNT_CGROUP : BERTH_MOUNT_OP_MOUNT_TYPED);
  op->fstype = type;
  op->source = m->source ? m->source : type;
  op->ms = mi->o.flags;
  op->data = steal_ptr(mi->o.data);
  if (cgroup) {
    op->flags = st->in->spec->linux_.ns[BERTH_NS_CGROUP].present ? BERTH_MOUNT_F_CGROUPNS : 0;
    return 0;
  }
  op->flags = typed_flags(mi);
  /* sysfs and mqueue in a user namespace that does not own the net/ipc namespace: the
   * host's are bound instead, as runc does */
  if (st->in->in_userns && strcmp(type, "sysfs") == 0)
    op->host = "/sys";
  if (st->in->in_userns && strcmp(type, "mqueue") == 0)
    op->host = "/dev/mqueue";
  if ((op->flags & BERTH_MOUNT_F_RO_LATER) && !mi->o.tmpcopyup)
    st->dev_ro = true;
  return 0;
}

static BERTH_WUR int plan_mount(struct mount_plan_state *st, size_t index, berth_error_t *err)
{
  const struct berth_spec_mount *m = &st->in->spec->mounts[index];
  if (m->destination == NULL)
    return BERTH_ERR(err, "mounts[%zu]: no destination", index);
  if (m->destination[0] != '/')
    return BERTH_ERR(err, "mounts[%zu].destination: `%s` is not an absolute path", index, m->destination);
  struct mount_in mi = { .index = index, .m = m };
  size_t bad = 0;
  if (berth_mount_opts_parse_at(m->options, m->n_options, &mi.o, &bad, err) < 0) {
    if (bad < m->n_options)
      return berth_error_wrap(err, "mount on `%s` (mounts[%zu].options[%zu])", m->destination, index, bad);
    return berth_error_wrap(err, "mount on `%s` (mounts[%zu].options)", m->destination, index);
  }
  mi.idmap = mi.o.idmap || m->n_uid_mappings > 0 || m->n_gid_mappings > 0;
  mi.bind = (mi.o.flags & MS_BIND) || berth_str_eq(m->type, "bind");
  mi.name = mi.bind || m->type == NULL ? m->source : m->type;
  if (mi.name == NULL)
    mi.name = "";
  mi.clean = berth_mount_path_clean(m->destination);
  mi.dotdot = has_dotdot(m->destination);
  int r = mi.bind ? plan_bind(st, &mi, err) : plan_typed(st, &mi, err);
  if (r == 0)
    note_proc(st, &mi);
  free(mi.clean);
  berth_mount_opts_release(&mi.o);
  return r;
}

/* readonlyPaths and maskedPaths: absolute, applied after pivot in config order */
static BERTH_WUR int plan_paths(struct mount_plan_state *st, const char *field, const char **paths, size_t n,
                                enum berth_mount_op_kind kind, berth_error_t *err)
{
  for (size_t i = 0; i < n; i++) {
    if (paths[i] == NULL || paths[i][0] != '/')
      return BERTH_ERR(err, "linux.%s[%zu]: `%s` is not an absolute path", field, i,
                       paths[i] ? paths[i] : "");
    mount_plan_add(st->p, kind, paths[i]);
  }
  return 0;
}

static BERTH_WUR int plan_all(struct mount_plan_state *st, berth_error_t *err)
{
  const berth_spec_t *spec = st->in->spec;
  unsigned long rprop = spec->linux_.rootfs_propagation;
  /* The host's "/" becomes a slave in our namespace (nothing we mount leaks out) unless the
   * config wants shared propagation, which needs the peer group kept. rootfsPropagation
   * itself is for the container's root and comes after pivot_root: an unbindable or private
   * host "/" would make the rootfs bind fail. */
  struct berth_mount_op *op = mount_plan_add(st->p, BERTH_MOUNT_OP_PROPAGATION, "/");
  op->ms = (rprop & MS_SHARED) ? MS_SHARED | MS_REC : MS_SLAVE | MS_REC;
  op->what = xstrdup("set the propagation of `/`");
  mount_plan_add(st->p, BERTH_MOUNT_OP_BIND_ROOTFS, "/");
  for (size_t i = 0; i < spec->n_mounts; i++)
    if (plan_mount(st, i, err) < 0)
      return -1;
  if (!berth_rootfs_binds_dev(spec) && mount_plan_devices(st, err) < 0)
    return -1;
  if (st->in->console)
    mount_plan_add(st->p, BERTH_MOUNT_OP_BIND_CONSOLE, "/dev/console");
  mount_plan_add(st->p, BERTH_MOUNT_OP_PIVOT, "/");
  const struct berth_spec_linux *l = &spec->linux_;
  if (plan_paths(st, "readonlyPaths", l->readonly_paths, l->n_readonly_paths, BERTH_MOUNT_OP_READONLY_PATH,
                 err) < 0 ||
      plan_paths(st, "maskedPaths", l->masked_paths, l->n_masked_paths, BERTH_MOUNT_OP_MASK_PATH, err) < 0)
    return -1;
  if (st->dev_ro)
    mount_plan_add(st->p, BERTH_MOUNT_OP_REMOUNT_RO, "/dev");
  if (spec->root_readonly)
    mount_plan_add(st->p, BERTH_MOUNT_OP_REMOUNT_RO, "/");
  if (rprop) {
    op = mount_plan_add(st->p, BERTH_MOUNT_OP_PROPAGATION, "/");
    op->ms = rprop;
    op->what = xstrdup("set rootfsPropagation on `/`");
  }
  return 0;
}

int berth_mount_plan_build(const struct berth_mount_plan_input *in, struct berth_mount_plan *out,
                           berth_error_t *err)
{
  struct berth_mount_plan p = { 0 };
  struct mount_plan_state st = { .in = in, .p = &p };
  if (plan_all(&st, err) < 0) {
    berth_mount_plan_free(&p);
    return -1;
  }
  *out = p;
  return 0;
}

void berth_mount_plan_free(struct berth_mount_plan *p)
{
  if (p == NULL)
    return;
  for (size_t i = 0; i < p->n; i++) {
    free(p->ops[i].data);
    free(p->ops[i].what);
  }
  free(p->ops);
  p->ops = NULL;
  p->n = 0;
}
