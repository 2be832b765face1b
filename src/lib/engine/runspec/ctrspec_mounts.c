/* The mounts of a container: Docker's defaults (proc, /dev, devpts, sysfs, cgroup, mqueue,
 * /dev/shm), the /etc files of the container's directory, --init's binary, -v/--mount/--tmpfs
 * and the image's Volumes, ordered parent-first. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/runspec/runspec.h"
#include "engine/runspec/ctrspec_internal.h"
#include "engine/runspec/runopts_internal.h"

struct mount_list {
  json_t **v;
  size_t n;
};

static const char *dest_of(json_t *m) { return json_string_value(json_object_get(m, "destination")); }

static bool has_dest(const struct mount_list *l, const char *dest)
{
  for (size_t i = 0; i < l->n; i++)
    if (strcmp(dest_of(l->v[i]), dest) == 0)
      return true;
  return false;
}

static void add(struct mount_list *l, const char *dest, const char *type, const char *source,
                char *const *opts)
{
  json_t *m = json_object();
  json_object_set_new(m, "destination", json_string(dest));
  json_object_set_new(m, "type", json_string(type));
  json_object_set_new(m, "source", json_string(source));
  json_object_set_new(m, "options", ctrspec_strv_json(opts));
  l->v = xreallocarray(l->v, l->n + 1, sizeof *l->v);
  l->v[l->n++] = m;
}

#define OPTS(...) ((char *const[]){ __VA_ARGS__, NULL })

/* ---------------- tmpfs options (Docker's MergeTmpfsOptions) ---------------- */

/* the family an option belongs to: later options replace earlier ones of the same family */
static char *family(const char *opt)
{
  static const char *const props[] = { "private", "rprivate",   "shared",      "rshared", "slave",
                                       "rslave",  "unbindable", "runbindable", NULL };
  for (size_t i = 0; props[i]; i++)
    if (strcmp(props[i], opt) == 0)
      return xstrdup("propagation");
  const char *eq = strchr(opt, '=');
  if (eq != NULL)
    return xstrndup(opt, (size_t) (eq - opt + 1));
  if (strcmp(opt, "async") == 0)
    return xstrdup("sync");
  return xstrdup(berth_str_has_prefix(opt, "no") ? opt + 2 : opt);
}

static char **merge_opt(char **opts, const char *opt)
{
  cleanup_free char *fam = family(opt);
  for (size_t i = 0; opts && opts[i]; i++) {
    cleanup_free char *f = family(opts[i]);
    if (strcmp(f, fam) == 0) {
      free(opts[i]);
      opts[i] = xstrdup(opt);
      return opts;
    }
  }
  return berth_strv_append(opts, opt);
}

static char **tmpfs_options(const struct berth_run_mount *m)
{
  char **opts = NULL;
  const char *defaults[] = { "noexec", "nosuid", "nodev", "rprivate" };
  for (size_t i = 0; i < BERTH_N_ELEMENTS(defaults); i++)
    opts = merge_opt(opts, defaults[i]);
  for (char **p = m->tmpfs_options; p && *p; p++)
    opts = merge_opt(opts, *p);
  if (m->readonly)
    opts = merge_opt(opts, "ro");
  return opts;
}

/* ---------------- defaults ---------------- */

static bool user_target(const struct berth_run_opts *o, const char *dest)
{
  for (size_t i = 0; i < o->n_mounts; i++)
    if (strcmp(o->mounts[i].target, dest) == 0)
      return true;
  return false;
}

static BERTH_WUR int shm_mount(struct ctrspec_build *b, struct mount_list *l, berth_error_t *err)
{
  const struct berth_run_opts *o = b->o;
  if (o->ipc.mode == BERTH_NSMODE_NONE)
    return 0; /* --ipc none: no /dev/shm */
  if (o->ipc.mode == BERTH_NSMODE_HOST) {
    add(l, "/dev/shm", "bind", "/dev/shm", OPTS("rbind", "rprivate"));
    return 0;
  }
  if (o->ipc.mode == BERTH_NSMODE_CONTAINER) {
    pid_t pid = 0;
    if (ctrspec_container_pid(b, "--ipc", o->ipc.value, &pid, err) < 0)
      return -1;
    cleanup_free char *src = xasprintf("/proc/%d/root/dev/shm", (int) pid);
    add(l, "/dev/shm", "bind", src, OPTS("rbind", "rprivate"));
    return 0;
  }
  cleanup_free char *size =
    xasprintf("size=%" PRId64, o->shm_size > 0 ? o->shm_size : BERTH_RUNOPTS_DEFAULT_SHM);
  add(l, "/dev/shm", "tmpfs", "shm", OPTS("nosuid", "noexec", "nodev", "mode=1777", size));
  return 0;
}

static BERTH_WUR int default_mounts(struct ctrspec_build *b, struct mount_list *l, berth_error_t *err)
{
  const struct berth_run_opts *o = b->o;
  bool priv = o->privileged;
  add(l, "/proc", "proc", "proc", OPTS("nosuid", "noexec", "nodev"));
  add(l, "/dev", "tmpfs", "tmpfs", OPTS("nosuid", "strictatime", "mode=755", "size=65536k"));
  add(l, "/dev/pts", "devpts", "devpts",
      OPTS("nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"));
  add(l, "/sys", "sysfs", "sysfs",
      priv ? OPTS("nosuid", "noexec", "nodev") : OPTS("nosuid", "noexec", "nodev", "ro"));
  add(l, "/sys/fs/cgroup", "cgroup", "cgroup",
      priv ? OPTS("nosuid", "noexec", "nodev") : OPTS("ro", "nosuid", "noexec", "nodev"));
  if (o->ipc.mode == BERTH_NSMODE_HOST)
    add(l, "/dev/mqueue", "bind", "/dev/mqueue", OPTS("rbind", "nosuid", "noexec", "nodev"));
  else
    add(l, "/dev/mqueue", "mqueue", "mqueue", OPTS("nosuid", "noexec", "nodev"));
  if (shm_mount(b, l, err) < 0)
    return -1;
  /* a user mount on one of these destinations replaces it (Docker) */
  size_t k = 0;
  for (size_t i = 0; i < l->n; i++) {
    if (user_target(o, dest_of(l->v[i])))
      json_decref(l->v[i]);
    else
      l->v[k++] = l->v[i];
  }
  l->n = k;
  return 0;
}

static void etc_files(struct ctrspec_build *b, struct mount_list *l)
{
  const struct berth_ctrspec_in *in = b->in;
  const char *files[][2] = { { "/etc/resolv.conf", in->resolv_path },
                             { "/etc/hostname", in->hostname_path },
                             { "/etc/hosts", in->hosts_path } };
  for (size_t i = 0; i < BERTH_N_ELEMENTS(files); i++)
    if (files[i][1] != NULL && !user_target(b->o, files[i][0]))
      add(l, files[i][0], "bind", files[i][1],
          b->o->read_only ? OPTS("rbind", "ro", "rprivate") : OPTS("rbind", "rprivate"));
}

/* ---------------- user mounts ---------------- */

static BERTH_WUR int source_of(struct ctrspec_build *b, const struct berth_run_mount *m, char **source,
                               berth_error_t *err)
{
  const struct berth_ctrspec_callbacks *cb = b->in->cb;
  if (cb != NULL && cb->mount_source != NULL) {
    if (cb->mount_source(cb->data, m, source, err) < 0)
      return m->spec ? berth_error_wrap(err, "mount `%s`", m->spec)
                     : berth_error_wrap(err, "volume `%s` of the image", m->target);
    return 0;
  }
  if (m->type == BERTH_MOUNT_BIND) {
    *source = xstrdup(m->source);
    return 0;
  }
  return BERTH_ERR(err, "volume for `%s`: no volume resolver", m->target);
}

static BERTH_WUR int user_mount(struct ctrspec_build *b, const struct berth_run_mount *m,
                                struct mount_list *l, berth_error_t *err)
{
  if (m->type == BERTH_MOUNT_TMPFS) {
    cleanup_strv char **opts = tmpfs_options(m);
    add(l, m->target, "tmpfs", "tmpfs", opts);
    return 0;
  }
  cleanup_free char *src = NULL;
  if (source_of(b, m, &src, err) < 0)
    return -1;
  if (src == NULL || src[0] != '/' || !runopts_utf8_valid(src, strlen(src)))
    return BERTH_ERR(err, "mount `%s`: the source is not an absolute UTF-8 path",
                     m->spec ? m->spec : m->target);
  char *opts[4] = { m->nonrecursive ? "bind" : "rbind" };
  size_t k = 1;
  if (m->readonly)
    opts[k++] = "ro";
  opts[k++] = (char *) (m->propagation ? m->propagation : "rprivate");
  add(l, m->target, "bind", src, opts);
  return 0;
}

/* the image's Volumes not covered by a user mount: anonymous volumes */
static BERTH_WUR int image_volumes(struct ctrspec_build *b, struct mount_list *l, berth_error_t *err)
{
  json_t *vols = b->in->image_config ? json_object_get(b->in->image_config, "Volumes") : NULL;
  const char *key;
  json_t *v;
  if (!json_is_object(vols))
    return 0;
  json_object_foreach (vols, key, v) {
    if (key[0] != '/')
      continue; /* Docker refuses such an image at build; nothing to mount */
    cleanup_free char *target = berth_runopts_clean_path(key);
    if (strcmp(target, "/") == 0) /* Docker's "destination can't be '/'" */
      return BERTH_ERR(
        err, "image config: Volumes: `%s`: a volume cannot be mounted over the container's root", key);
    if (user_target(b->o, target) || has_dest(l, target))
      continue;
    struct berth_run_mount m = { .type = BERTH_MOUNT_VOLUME, .target = target };
    if (user_mount(b, &m, l, err) < 0)
      return -1;
  }
  return 0;
}

static size_t depth(const char *path)
{
  size_t n = 0;
  for (; *path; path++)
    n += *path == '/';
  return n;
}

/* stable insertion sort by path depth: every parent before what is mounted under it */
static void sort_parent_first(struct mount_list *l)
{
  for (size_t i = 1; i < l->n; i++) {
    json_t *m = l->v[i];
    size_t d = depth(dest_of(m)), j = i;
    while (j > 0 && depth(dest_of(l->v[j - 1])) > d) {
      l->v[j] = l->v[j - 1];
      j--;
    }
    l->v[j] = m;
  }
}

static BERTH_WUR int collect(struct ctrspec_build *b, struct mount_list *l, berth_error_t *err)
{
  if (default_mounts(b, l, err) < 0)
    return -1;
  etc_files(b, l);
  if (b->o->init) {
    if (b->in->host->init_path == NULL)
      return BERTH_ERR(err, "--init: no init binary (berth-init) was found on the host");
    add(l, BERTH_CTRSPEC_INIT_PATH, "bind", b->in->host->init_path, OPTS("bind", "ro", "nosuid", "nodev"));
  }
  for (size_t i = 0; i < b->o->n_mounts; i++)
    if (user_mount(b, &b->o->mounts[i], l, err) < 0)
      return -1;
  return image_volumes(b, l, err);
}

int ctrspec_mounts(struct ctrspec_build *b, json_t *config, berth_error_t *err)
{
  struct mount_list l = { 0 };
  int r = collect(b, &l, err);
  if (r == 0) {
    sort_parent_first(&l);
    json_t *arr = json_array();
    for (size_t i = 0; i < l.n; i++)
      json_array_append_new(arr, l.v[i]);
    json_object_set_new(config, "mounts", arr);
  } else {
    for (size_t i = 0; i < l.n; i++)
      json_decref(l.v[i]);
  }
  free(l.v);
  return r;
}
