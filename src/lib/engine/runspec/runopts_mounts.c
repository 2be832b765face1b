/* -v/--volume, --mount and --tmpfs values (moby's volume/mounts linux parser and the CLI's
 * --mount CSV). Pure. */
#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/runspec/runspec.h"
#include "engine/runspec/runopts_internal.h"

static const char *const propagations[] = { "rprivate", "private", "rshared", "shared",
                                            "rslave",   "slave",   NULL };

static const char *propagation_of(const char *s)
{
  for (size_t i = 0; propagations[i]; i++)
    if (strcmp(propagations[i], s) == 0)
      return propagations[i];
  return NULL;
}

void berth_run_mount_release(struct berth_run_mount *m)
{
  free(m->source);
  free(m->target);
  berth_strv_free(m->volume_opts);
  berth_strv_free(m->tmpfs_options);
  free(m->spec);
  *m = (struct berth_run_mount){ 0 };
}

/* Docker's local volume names */
static bool volume_name_valid(const char *s)
{
  if (!isalnum((unsigned char) s[0]) || s[1] == '\0')
    return false;
  for (const char *p = s + 1; *p; p++)
    if (!isalnum((unsigned char) *p) && *p != '_' && *p != '.' && *p != '-')
      return false;
  return true;
}

static BERTH_WUR int set_target(const char *flag, const char *spec, const char *target,
                                struct berth_run_mount *m, berth_error_t *err)
{
  if (target == NULL || target[0] == '\0')
    return BERTH_ERR(err, "%s: \"%s\": a target path in the container is required", flag, spec);
  if (target[0] != '/')
    return BERTH_ERR(err, "%s: \"%s\": the target \"%s\" is not an absolute path", flag, spec, target);
  m->target = berth_runopts_clean_path(target);
  if (strcmp(m->target, "/") == 0)
    return BERTH_ERR(err, "%s: \"%s\": the target cannot be \"/\"", flag, spec);
  return 0;
}

static BERTH_WUR int set_source(const char *flag, const char *spec, const char *src,
                                struct berth_run_mount *m, berth_error_t *err)
{
  if (src[0] == '/') {
    m->type = BERTH_MOUNT_BIND;
    m->source = berth_runopts_clean_path(src);
    return 0;
  }
  if (!volume_name_valid(src))
    return BERTH_ERR(err,
                     "%s: \"%s\": \"%s\" includes invalid characters for a local volume name, only "
                     "[a-zA-Z0-9][a-zA-Z0-9_.-] are allowed; a host directory must be an absolute path",
                     flag, spec, src);
  m->type = BERTH_MOUNT_VOLUME;
  m->source = xstrdup(src);
  return 0;
}

/* the mode list of -v: rw|ro, z|Z, nocopy, a propagation, a consistency (ignored) */
static BERTH_WUR int volume_modes(const char *flag, const char *spec, const char *modes,
                                  struct berth_run_mount *m, berth_error_t *err)
{
  cleanup_free char *copy = xstrdup(modes);
  int rw = 0, label = 0, prop = 0, nocopy = 0, cons = 0;
  char *save = NULL;
  for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    const char *p = propagation_of(tok);
    if (strcmp(tok, "rw") == 0 || strcmp(tok, "ro") == 0) {
      rw++;
      m->readonly = tok[1] == 'o';
    } else if (strcmp(tok, "z") == 0 || strcmp(tok, "Z") == 0) {
      label++;
      m->selinux_relabel = tok[0];
    } else if (strcmp(tok, "nocopy") == 0) {
      nocopy++;
      m->nocopy = true;
    } else if (p != NULL) {
      prop++;
      m->propagation = p;
    } else if (strcmp(tok, "consistent") == 0 || strcmp(tok, "cached") == 0 ||
               strcmp(tok, "delegated") == 0) {
      cons++;
    } else {
      return BERTH_ERR(err, "%s: \"%s\": invalid mode \"%s\"", flag, spec, tok);
    }
  }
  if (rw > 1 || label > 1 || prop > 1 || nocopy > 1 || cons > 1 || modes[0] == '\0')
    return BERTH_ERR(err, "%s: \"%s\": invalid mode \"%s\"", flag, spec, modes);
  if (m->type == BERTH_MOUNT_BIND && m->nocopy)
    return BERTH_ERR(err, "%s: \"%s\": nocopy applies to volumes, not to host directories", flag, spec);
  if (m->type == BERTH_MOUNT_VOLUME && m->propagation)
    return BERTH_ERR(err, "%s: \"%s\": propagation modes apply to host directories, not to volumes", flag,
                     spec);
  return 0;
}

int berth_runopts_parse_volume(const char *flag, const char *value, struct berth_run_mount *out,
                               berth_error_t *err)
{
  struct berth_run_mount m = { .type = BERTH_MOUNT_VOLUME };
  cleanup_free char *copy = xstrdup(value);
  char *parts[3] = { NULL };
  size_t n = 0;
  for (char *p = copy;; n++) {
    if (n == 3)
      return BERTH_ERR(err, "%s: invalid volume specification \"%s\"", flag, value);
    parts[n] = p;
    char *colon = strchr(p, ':');
    if (colon == NULL) {
      n++;
      break;
    }
    *colon = '\0';
    p = colon + 1;
  }
  int r = 0;
  if (n == 1) {
    r = set_target(flag, value, parts[0], &m, err); /* an anonymous volume */
  } else {
    r = parts[0][0] == '\0' ? BERTH_ERR(err, "%s: invalid volume specification \"%s\"", flag, value)
                            : set_source(flag, value, parts[0], &m, err);
    if (r == 0)
      r = set_target(flag, value, parts[1], &m, err);
    if (r == 0 && n == 3)
      r = volume_modes(flag, value, parts[2], &m, err);
  }
  if (r < 0) {
    berth_run_mount_release(&m);
    return -1;
  }
  m.create_source = m.type == BERTH_MOUNT_BIND;
  m.spec = xstrdup(value);
  *out = m;
  return 0;
}

/* ---------------- --tmpfs ---------------- */

static const char *const tmpfs_flags[] = {
  "exec",     "noexec",     "suid",        "nosuid",        "dev",      "nodev",      "atime",   "noatime",
  "relatime", "norelatime", "strictatime", "nostrictatime", "diratime", "nodiratime", "sync",    "async",
  "dirsync",  "mand",       "nomand",      "private",       "rprivate", "shared",     "rshared", "slave",
  "rslave",   "unbindable", "runbindable", "tmpcopyup",     NULL,
};
static const char *const tmpfs_keys[] = { "size",      "mode", "uid",  "gid", "nr_inodes",
                                          "nr_blocks", "mpol", "huge", NULL };

static bool in_list(const char *const *list, const char *s, size_t n)
{
  for (size_t i = 0; list[i]; i++)
    if (strlen(list[i]) == n && strncmp(list[i], s, n) == 0)
      return true;
  return false;
}

/* key=v, key not NUL-terminated */
static bool tmpfs_value_ok(const char *key, const char *v)
{
  if (*v == '\0')
    return false;
  if (berth_str_has_prefix(key, "mode="))
    return strspn(v, "01234567") == strlen(v) && strlen(v) <= 4;
  if (berth_str_has_prefix(key, "size=") || berth_str_has_prefix(key, "nr_inodes=") ||
      berth_str_has_prefix(key, "nr_blocks=")) {
    size_t d = strspn(v, "0123456789");
    return d > 0 && (v[d] == '\0' || (strchr("kKmMgGtTpPeE%", v[d]) != NULL && v[d + 1] == '\0'));
  }
  return strpbrk(v, " \t\n,") == NULL;
}

static BERTH_WUR int tmpfs_options(const char *flag, const char *spec, const char *opts,
                                   struct berth_run_mount *m, berth_error_t *err)
{
  cleanup_free char *copy = xstrdup(opts);
  char *save = NULL;
  for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    char *eq = strchr(tok, '=');
    if (strcmp(tok, "ro") == 0 || strcmp(tok, "rw") == 0) {
      m->readonly = tok[1] == 'o';
      continue;
    }
    if (eq == NULL ? !in_list(tmpfs_flags, tok, strlen(tok))
                   : !in_list(tmpfs_keys, tok, (size_t) (eq - tok)) || !tmpfs_value_ok(tok, eq + 1)) {
      if (eq != NULL)
        *eq = '\0';
      return BERTH_ERR(err, "%s: \"%s\": invalid tmpfs option \"%s\"", flag, spec, tok);
    }
    m->tmpfs_options = berth_strv_append(m->tmpfs_options, tok);
  }
  return 0;
}

int berth_runopts_parse_tmpfs(const char *flag, const char *value, struct berth_run_mount *out,
                              berth_error_t *err)
{
  struct berth_run_mount m = { .type = BERTH_MOUNT_TMPFS };
  cleanup_free char *copy = xstrdup(value);
  char *colon = strchr(copy, ':');
  if (colon != NULL)
    *colon = '\0';
  if (set_target(flag, value, copy, &m, err) < 0 ||
      (colon != NULL && tmpfs_options(flag, value, colon + 1, &m, err) < 0)) {
    berth_run_mount_release(&m);
    return -1;
  }
  m.spec = xstrdup(value);
  *out = m;
  return 0;
}

/* ---------------- --mount (CSV of key=value) ---------------- */

struct mount_fields {
  const char *type, *source, *target, *propagation, *recursive, *tmpfs_size, *tmpfs_mode;
  bool readonly, nocopy, nonrecursive;
};

static BERTH_WUR int csv_bool(const char *flag, const char *spec, const char *key, const char *v, bool *out,
                              berth_error_t *err)
{
  if (v == NULL || strcmp(v, "true") == 0 || strcmp(v, "1") == 0) {
    *out = true;
    return 0;
  }
  if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0) {
    *out = false;
    return 0;
  }
  return BERTH_ERR(err, "%s: \"%s\": invalid value for %s: \"%s\"", flag, spec, key, v);
}

static BERTH_WUR int mount_field(const char *flag, const char *spec, char *key, char *v,
                                 struct mount_fields *f, struct berth_run_mount *m, berth_error_t *err)
{
  if (strcmp(key, "readonly") == 0 || strcmp(key, "ro") == 0)
    return csv_bool(flag, spec, key, v, &f->readonly, err);
  if (strcmp(key, "volume-nocopy") == 0)
    return csv_bool(flag, spec, key, v, &f->nocopy, err);
  if (strcmp(key, "bind-nonrecursive") == 0)
    return csv_bool(flag, spec, key, v, &f->nonrecursive, err);
  if (v == NULL)
    return BERTH_ERR(err, "%s: \"%s\": invalid field \"%s\": must be a key=value pair", flag, spec, key);
  const char **slot =
    strcmp(key, "type") == 0                                                                   ? &f->type
    : strcmp(key, "source") == 0 || strcmp(key, "src") == 0                                    ? &f->source
    : strcmp(key, "target") == 0 || strcmp(key, "destination") == 0 || strcmp(key, "dst") == 0 ? &f->target
    : strcmp(key, "bind-propagation") == 0 ? &f->propagation
    : strcmp(key, "bind-recursive") == 0   ? &f->recursive
    : strcmp(key, "tmpfs-size") == 0       ? &f->tmpfs_size
    : strcmp(key, "tmpfs-mode") == 0       ? &f->tmpfs_mode
                                           : NULL;
  if (slot != NULL) {
    *slot = v;
    return 0;
  }
  if (strcmp(key, "volume-opt") == 0) {
    m->volume_opts = berth_strv_append(m->volume_opts, v);
    return 0;
  }
  if (strcmp(key, "consistency") == 0 || strcmp(key, "volume-driver") == 0 ||
      strcmp(key, "volume-label") == 0) {
    if (strcmp(key, "volume-driver") == 0 && strcmp(v, "local") != 0)
      return BERTH_ERR(err, "%s: \"%s\": volume driver \"%s\" is not supported (local only)", flag, spec, v);
    return 0;
  }
  return BERTH_ERR(err, "%s: \"%s\": unexpected key \"%s\"", flag, spec, key);
}

static BERTH_WUR int mount_type(const char *flag, const char *spec, struct mount_fields *f,
                                struct berth_run_mount *m, berth_error_t *err)
{
  const char *t = f->type ? f->type : "volume";
  if (strcmp(t, "bind") == 0)
    m->type = BERTH_MOUNT_BIND;
  else if (strcmp(t, "volume") == 0)
    m->type = BERTH_MOUNT_VOLUME;
  else if (strcmp(t, "tmpfs") == 0)
    m->type = BERTH_MOUNT_TMPFS;
  else
    return BERTH_ERR(err, "%s: \"%s\": unknown mount type \"%s\" (bind, volume, tmpfs)", flag, spec, t);
  bool bind = m->type == BERTH_MOUNT_BIND, vol = m->type == BERTH_MOUNT_VOLUME,
       tmp = m->type == BERTH_MOUNT_TMPFS;
  if ((f->propagation || f->recursive || f->nonrecursive) && !bind)
    return BERTH_ERR(err, "%s: \"%s\": bind options are only for type=bind", flag, spec);
  if ((f->nocopy || m->volume_opts) && !vol)
    return BERTH_ERR(err, "%s: \"%s\": volume options are only for type=volume", flag, spec);
  if ((f->tmpfs_size || f->tmpfs_mode) && !tmp)
    return BERTH_ERR(err, "%s: \"%s\": tmpfs options are only for type=tmpfs", flag, spec);
  if (bind && f->source == NULL)
    return BERTH_ERR(err, "%s: \"%s\": a source is required for a bind mount", flag, spec);
  if (tmp && f->source != NULL)
    return BERTH_ERR(err, "%s: \"%s\": a tmpfs mount takes no source", flag, spec);
  return 0;
}

static BERTH_WUR int mount_bind_opts(const char *flag, const char *spec, struct mount_fields *f,
                                     struct berth_run_mount *m, berth_error_t *err)
{
  if (f->source[0] != '/')
    return BERTH_ERR(err, "%s: \"%s\": the bind source \"%s\" must be an absolute path", flag, spec,
                     f->source);
  m->source = berth_runopts_clean_path(f->source);
  if (f->propagation && (m->propagation = propagation_of(f->propagation)) == NULL)
    return BERTH_ERR(err, "%s: \"%s\": invalid bind-propagation \"%s\"", flag, spec, f->propagation);
  m->nonrecursive = f->nonrecursive;
  if (f->recursive) {
    if (strcmp(f->recursive, "disabled") == 0)
      m->nonrecursive = true;
    else if (strcmp(f->recursive, "enabled") != 0)
      return BERTH_ERR(err, "%s: \"%s\": bind-recursive \"%s\" is not supported (enabled, disabled)", flag,
                       spec, f->recursive);
  }
  return 0;
}

static BERTH_WUR int mount_tmpfs_opts(const char *flag, const char *spec, struct mount_fields *f,
                                      struct berth_run_mount *m, berth_error_t *err)
{
  if (f->tmpfs_size) {
    int64_t size = 0;
    cleanup_free char *what = xasprintf("%s tmpfs-size", flag);
    if (berth_runopts_parse_size(what, f->tmpfs_size, &size, err) < 0)
      return -1;
    cleanup_free char *o = xasprintf("size=%" PRId64, size);
    m->tmpfs_options = berth_strv_append(m->tmpfs_options, o);
  }
  if (f->tmpfs_mode) {
    char *end = NULL;
    unsigned long mode = strtoul(f->tmpfs_mode, &end, 8);
    if (f->tmpfs_mode[0] == '\0' || *end != '\0' || mode > 07777 || f->tmpfs_mode[0] == '-')
      return BERTH_ERR(err, "%s: \"%s\": invalid tmpfs-mode \"%s\" (octal)", flag, spec, f->tmpfs_mode);
    cleanup_free char *o = xasprintf("mode=%lo", mode);
    m->tmpfs_options = berth_strv_append(m->tmpfs_options, o);
  }
  return 0;
}

static BERTH_WUR int mount_apply(const char *flag, const char *spec, struct mount_fields *f,
                                 struct berth_run_mount *m, berth_error_t *err)
{
  if (mount_type(flag, spec, f, m, err) < 0 || set_target(flag, spec, f->target, m, err) < 0)
    return -1;
  m->readonly = f->readonly;
  if (m->type == BERTH_MOUNT_BIND)
    return mount_bind_opts(flag, spec, f, m, err);
  if (m->type == BERTH_MOUNT_TMPFS)
    return mount_tmpfs_opts(flag, spec, f, m, err);
  m->nocopy = f->nocopy;
  if (f->source && f->source[0] != '\0') {
    if (!volume_name_valid(f->source))
      return BERTH_ERR(err, "%s: \"%s\": invalid volume name \"%s\"", flag, spec, f->source);
    m->source = xstrdup(f->source);
  }
  return 0;
}

int berth_runopts_parse_mount(const char *flag, const char *value, struct berth_run_mount *out,
                              berth_error_t *err)
{
  struct berth_run_mount m = { 0 };
  struct mount_fields f = { 0 };
  cleanup_free char *copy = xstrdup(value);
  char *save = NULL;
  int r = value[0] == '\0' ? BERTH_ERR(err, "%s: empty mount specification", flag) : 0;
  for (char *tok = strtok_r(copy, ",", &save); tok && r == 0; tok = strtok_r(NULL, ",", &save)) {
    char *eq = strchr(tok, '=');
    if (eq != NULL)
      *eq = '\0';
    r = mount_field(flag, value, tok, eq ? eq + 1 : NULL, &f, &m, err);
  }
  if (r == 0)
    r = mount_apply(flag, value, &f, &m, err);
  if (r < 0) {
    berth_run_mount_release(&m);
    return -1;
  }
  m.spec = xstrdup(value);
  *out = m;
  return 0;
}
