/* runtime-spec mount options → mount(2) flags, propagation, mount_setattr(2) attributes
 * and fs data; MS_* → MOUNT_ATTR_*. Pure: no system calls. */
#include "linux/mount_plan/mount_plan.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "base/cleanup.h"
#include "base/strbuf.h"
#include "base/strutil.h"
#include "base/xalloc.h"

#define ATIME_FLAGS (MS_NOATIME | MS_RELATIME | MS_STRICTATIME)
/* the kernel copies at most one page of mount data */
#define MAX_DATA_LEN 4095

enum opt_kind {
  K_NONE,     /* accepted, no effect ("defaults") */
  K_SET,      /* MS_* set */
  K_CLR,      /* MS_* cleared */
  K_BIND,     /* MS_BIND (an earlier rbind stays recursive, as in runc and crun) */
  K_RBIND,    /* MS_BIND|MS_REC */
  K_PROP,     /* propagation */
  K_ATTR_SET, /* MOUNT_ATTR_* set recursively */
  K_ATTR_CLR, /* MOUNT_ATTR_* cleared recursively */
  K_ATIME,    /* recursive atime mode (value is the MOUNT_ATTR_ atime mode) */
  K_IDMAP,
  K_RIDMAP,
  K_TMPCOPYUP,
};

struct opt_def {
  const char *name;
  enum opt_kind kind;
  unsigned long value;
};

static const struct opt_def opt_table[] = {
  { "defaults", K_NONE, 0 },
  { "ro", K_SET, MS_RDONLY },
  { "rw", K_CLR, MS_RDONLY },
  { "nosuid", K_SET, MS_NOSUID },
  { "suid", K_CLR, MS_NOSUID },
  { "nodev", K_SET, MS_NODEV },
  { "dev", K_CLR, MS_NODEV },
  { "noexec", K_SET, MS_NOEXEC },
  { "exec", K_CLR, MS_NOEXEC },
  { "sync", K_SET, MS_SYNCHRONOUS },
  { "async", K_CLR, MS_SYNCHRONOUS },
  { "dirsync", K_SET, MS_DIRSYNC },
  { "remount", K_SET, MS_REMOUNT },
  { "mand", K_SET, MS_MANDLOCK },
  { "nomand", K_CLR, MS_MANDLOCK },
  { "noatime", K_SET, MS_NOATIME },
  { "atime", K_CLR, MS_NOATIME },
  { "nodiratime", K_SET, MS_NODIRATIME },
  { "diratime", K_CLR, MS_NODIRATIME },
  { "relatime", K_SET, MS_RELATIME },
  { "norelatime", K_CLR, MS_RELATIME },
  { "strictatime", K_SET, MS_STRICTATIME },
  { "nostrictatime", K_CLR, MS_STRICTATIME },
  { "lazytime", K_SET, MS_LAZYTIME },
  { "nolazytime", K_CLR, MS_LAZYTIME },
  { "iversion", K_SET, MS_I_VERSION },
  { "noiversion", K_CLR, MS_I_VERSION },
  { "acl", K_SET, MS_POSIXACL },
  { "noacl", K_CLR, MS_POSIXACL },
  { "silent", K_SET, MS_SILENT },
  { "loud", K_CLR, MS_SILENT },
  { "nosymfollow", K_SET, MS_NOSYMFOLLOW },
  { "symfollow", K_CLR, MS_NOSYMFOLLOW },
  { "bind", K_BIND, 0 },
  { "rbind", K_RBIND, 0 },
  { "shared", K_PROP, MS_SHARED },
  { "rshared", K_PROP, MS_SHARED | MS_REC },
  { "slave", K_PROP, MS_SLAVE },
  { "rslave", K_PROP, MS_SLAVE | MS_REC },
  { "private", K_PROP, MS_PRIVATE },
  { "rprivate", K_PROP, MS_PRIVATE | MS_REC },
  { "unbindable", K_PROP, MS_UNBINDABLE },
  { "runbindable", K_PROP, MS_UNBINDABLE | MS_REC },
  { "rro", K_ATTR_SET, MOUNT_ATTR_RDONLY },
  { "rrw", K_ATTR_CLR, MOUNT_ATTR_RDONLY },
  { "rnosuid", K_ATTR_SET, MOUNT_ATTR_NOSUID },
  { "rsuid", K_ATTR_CLR, MOUNT_ATTR_NOSUID },
  { "rnodev", K_ATTR_SET, MOUNT_ATTR_NODEV },
  { "rdev", K_ATTR_CLR, MOUNT_ATTR_NODEV },
  { "rnoexec", K_ATTR_SET, MOUNT_ATTR_NOEXEC },
  { "rexec", K_ATTR_CLR, MOUNT_ATTR_NOEXEC },
  { "rnodiratime", K_ATTR_SET, MOUNT_ATTR_NODIRATIME },
  { "rdiratime", K_ATTR_CLR, MOUNT_ATTR_NODIRATIME },
  { "rnosymfollow", K_ATTR_SET, MOUNT_ATTR_NOSYMFOLLOW },
  { "rsymfollow", K_ATTR_CLR, MOUNT_ATTR_NOSYMFOLLOW },
  { "rnoatime", K_ATIME, MOUNT_ATTR_NOATIME },
  { "rstrictatime", K_ATIME, MOUNT_ATTR_STRICTATIME },
  { "rrelatime", K_ATIME, MOUNT_ATTR_RELATIME },
  { "ratime", K_ATIME, MOUNT_ATTR_RELATIME },
  { "rnorelatime", K_ATIME, MOUNT_ATTR_RELATIME },
  { "rnostrictatime", K_ATIME, MOUNT_ATTR_RELATIME },
  { "idmap", K_IDMAP, 0 },
  { "ridmap", K_RIDMAP, 0 },
  { "tmpcopyup", K_TMPCOPYUP, 0 },
};

static const struct opt_def *find_opt(const char *name)
{
  for (size_t i = 0; i < BERTH_N_ELEMENTS(opt_table); i++)
    if (strcmp(opt_table[i].name, name) == 0)
      return &opt_table[i];
  return NULL;
}

static void apply_set(struct berth_mount_opts *o, unsigned long f)
{
  if (f & ATIME_FLAGS)
    o->flags &= ~ATIME_FLAGS;
  o->flags |= f;
  o->clear &= ~f;
}

static void apply_clr(struct berth_mount_opts *o, unsigned long f)
{
  o->flags &= ~f;
  o->clear |= f;
}

static void apply_def(struct berth_mount_opts *o, const struct opt_def *d)
{
  switch (d->kind) {
  case K_NONE: break;
  case K_SET: apply_set(o, d->value); break;
  case K_CLR: apply_clr(o, d->value); break;
  case K_BIND: o->flags |= MS_BIND; break;
  case K_RBIND: o->flags |= MS_BIND | MS_REC; break;
  case K_PROP: o->propagation = d->value; break;
  case K_ATTR_SET:
    o->attr_set |= d->value;
    o->attr_clr &= ~(uint64_t) d->value;
    o->recursive_attrs = true;
    break;
  case K_ATTR_CLR:
    o->attr_clr |= d->value;
    o->attr_set &= ~(uint64_t) d->value;
    o->recursive_attrs = true;
    break;
  case K_ATIME:
    o->attr_clr |= MOUNT_ATTR__ATIME;
    o->attr_set = (o->attr_set & ~(uint64_t) MOUNT_ATTR__ATIME) | d->value;
    o->recursive_attrs = true;
    break;
  case K_IDMAP:
    o->idmap = true;
    o->ridmap = false;
    break;
  case K_RIDMAP:
    o->idmap = true;
    o->ridmap = true;
    break;
  case K_TMPCOPYUP: o->tmpcopyup = true; break;
  }
}

static BERTH_WUR int check_option(const char *opt, size_t i, berth_error_t *err)
{
  if (opt == NULL)
    return BERTH_ERR(err, "mount option %zu is null", i);
  if (*opt == '\0')
    return BERTH_ERR(err, "mount option %zu is empty", i);
  for (const char *p = opt; *p; p++)
    if ((unsigned char) *p < 0x20 || *p == 0x7f)
      return BERTH_ERR(err, "mount option %zu `%.64s`: contains a control character", i, opt);
  if (*opt == '=')
    return BERTH_ERR(err, "mount option %zu `%.64s`: empty name before `=`", i, opt);
  if (berth_str_has_prefix(opt, "idmap=") || berth_str_has_prefix(opt, "ridmap="))
    return BERTH_ERR(err,
                     "mount option `%.64s`: mappings in the option are not supported, "
                     "use the mount's uidMappings and gidMappings",
                     opt);
  return 0;
}

int berth_mount_opts_parse_at(const char *const *options, size_t n, struct berth_mount_opts *out,
                              size_t *failed, berth_error_t *err)
{
  struct berth_mount_opts o = { 0 };
  cleanup_strbuf struct berth_strbuf data = BERTH_STRBUF_INIT;
  *failed = n;
  if (options == NULL && n > 0)
    return BERTH_ERR(err, "mount options: %zu options but no array", n);
  for (size_t i = 0; i < n; i++) {
    *failed = i;
    if (check_option(options[i], i, err) < 0)
      return -1;
    const struct opt_def *d = find_opt(options[i]);
    if (d != NULL) {
      apply_def(&o, d);
      continue;
    }
    if (data.len > 0)
      berth_strbuf_putc(&data, ',');
    berth_strbuf_puts(&data, options[i]);
    if (data.len > MAX_DATA_LEN)
      return BERTH_ERR(err, "mount options: fs data is longer than %d bytes", MAX_DATA_LEN);
  }
  if (data.len > 0)
    o.data = berth_strbuf_detach(&data);
  *out = o;
  return 0;
}

int berth_mount_opts_parse(const char *const *options, size_t n, struct berth_mount_opts *out,
                           berth_error_t *err)
{
  size_t failed;
  return berth_mount_opts_parse_at(options, n, out, &failed, err);
}

void berth_mount_ms_to_attr(unsigned long set_ms, unsigned long clr_ms, uint64_t *set, uint64_t *clr)
{
  static const struct {
    unsigned long ms;
    uint64_t attr;
  } map[] = {
    { MS_RDONLY, MOUNT_ATTR_RDONLY },         { MS_NOSUID, MOUNT_ATTR_NOSUID },
    { MS_NODEV, MOUNT_ATTR_NODEV },           { MS_NOEXEC, MOUNT_ATTR_NOEXEC },
    { MS_NODIRATIME, MOUNT_ATTR_NODIRATIME }, { MS_NOSYMFOLLOW, MOUNT_ATTR_NOSYMFOLLOW },
  };
  for (size_t i = 0; i < BERTH_N_ELEMENTS(map); i++) {
    if (set_ms & map[i].ms)
      *set |= map[i].attr;
    if (clr_ms & map[i].ms)
      *clr |= map[i].attr;
  }
  uint64_t mode;
  if (set_ms & MS_NOATIME)
    mode = MOUNT_ATTR_NOATIME;
  else if (set_ms & MS_STRICTATIME)
    mode = MOUNT_ATTR_STRICTATIME;
  else if ((set_ms & MS_RELATIME) || (clr_ms & ATIME_FLAGS))
    mode = MOUNT_ATTR_RELATIME;
  else
    return;
  *clr |= MOUNT_ATTR__ATIME;
  *set = (*set & ~(uint64_t) MOUNT_ATTR__ATIME) | mode;
}

void berth_mount_opts_release(struct berth_mount_opts *o)
{
  if (o == NULL)
    return;
  free(o->data);
  o->data = NULL;
}
