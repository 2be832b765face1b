/* Containers: create — image + options -> row (first) and files (second). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/privdir.h"
#include "base/sha256.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/containers/containers_internal.h"
#include "engine/runspec/runspec.h"
#include "engine/images/images.h"

struct create_ctx {
  struct berth_engine *e;
  const struct berth_ctr_create_in *in;
  berth_ctr_id_t id;
  char *name;
  struct berth_db_image img;
  struct berth_imgconfig cfg;
  char *runtime;
  char *dir;
  struct ctr_host host;
  struct ctr_resolver res;
  char *oci;      /* config.json text */
  json_t *config; /* Docker's Config */
  char *hostname; /* the three files' contents */
  char *hosts;
  char *resolv;
  struct berth_db_attachment *att; /* the networks it joins (rows added with the container's) */
  size_t n_att;
  bool row_added;
};

static void ctx_release(struct create_ctx *cx)
{
  free(cx->name);
  berth_db_image_release(&cx->img);
  berth_imgconfig_release(&cx->cfg);
  free(cx->runtime);
  free(cx->dir);
  ctr_host_release(&cx->host);
  ctr_resolver_release(&cx->res);
  free(cx->oci);
  json_decref(cx->config);
  free(cx->hostname);
  free(cx->hosts);
  free(cx->resolv);
  berth_db_attachments_free(cx->att, cx->n_att);
}

static BERTH_WUR int pick_name(struct create_ctx *cx, berth_error_t *err)
{
  const char *given = cx->in->opts->name;
  if (given) {
    if (!berth_engine_name_valid(given))
      return BERTH_ERR(err, "invalid container name `%s`: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", given);
    cx->name = xstrdup(given[0] == '/' ? given + 1 : given);
    return 0;
  }
  for (unsigned retry = 0; retry < 32; retry++) {
    cx->name = berth_ctr_random_name(retry / 4);
    int used = berth_db_container_name_used(cx->e->db, cx->name, err);
    if (used <= 0)
      return used;
    free(steal_ptr(cx->name));
  }
  return BERTH_ERR(err, "cannot find a free container name");
}

/* The image's config blob, checked against its digest with libberth's SHA-256: microseconds for
 * a config, where OpenSSL's first digest in a process initializes its providers (about 1 ms of
 * every `run`). Other algorithms go through the store. */
static BERTH_WUR int read_config(struct create_ctx *cx, const char *id, char **data, size_t *len,
                                 berth_error_t *err)
{
  if (!berth_str_has_prefix(id, "sha256:"))
    return berth_store_read_blob(cx->e->store, id, 0, data, len, err);
  cleanup_free char *path = berth_store_blob_path(cx->e->store, id);
  cleanup_free char *text = NULL;
  if (path == NULL)
    return BERTH_ERR(err, "read blob: invalid digest `%s`", id);
  if (berth_read_file(path, 0, &text, len, err) < 0)
    return berth_error_wrap(err, "read blob %s", id);
  uint8_t md[BERTH_SHA256_LEN];
  char hex[BERTH_SHA256_HEX_LEN + 1];
  berth_sha256(text, *len, md);
  if (strcmp(berth_sha256_hex(md, hex), id + 7) != 0)
    return BERTH_ERR(
      err, "read blob %s: content does not match its digest (got sha256:%s): the store is corrupt", id, hex);
  *data = steal_ptr(text);
  return 0;
}

static BERTH_WUR int load_image(struct create_ctx *cx, berth_error_t *err)
{
  berth_digest_t id;
  cleanup_free char *data = NULL;
  size_t len = 0;
  if (berth_engine_resolve(cx->e, cx->in->image, id, NULL, err) < 0)
    return -1;
  int r = berth_db_image_get(cx->e->db, id, &cx->img, err);
  if (r == 0)
    BERTH_ERR(err, "no such image: `%s`", cx->in->image);
  if (r <= 0)
    return -1;
  if (read_config(cx, id, &data, &len, err) < 0 || berth_imgconfig_parse(data, len, id, &cx->cfg, err) < 0)
    return berth_error_wrap(err, "image `%s`", cx->in->image);
  return 0;
}

static char *read_host_file(const char *path)
{
  char *text = NULL;
  berth_ignore(berth_read_file(path, 1u << 20, &text, NULL, BERTH_IGNORED));
  return text;
}

/* the three small files: /etc/hostname, /etc/hosts, /etc/resolv.conf */
static BERTH_WUR int render_files(struct create_ctx *cx, berth_error_t *err)
{
  const struct berth_run_opts *o = cx->in->opts;
  bool host_net = o->network.mode == BERTH_NSMODE_HOST;
  cleanup_free char *host_hosts = host_net ? read_host_file("/etc/hosts") : NULL;
  cleanup_free char *host_resolv = read_host_file("/etc/resolv.conf");
  cx->hostname = berth_ctrspec_hostname(o, cx->id, cx->host.hostname);
  struct berth_hosts_in hi = { .hostname = cx->hostname, .host_hosts = host_hosts };
  cx->hosts = berth_ctrspec_render_hosts(o, &hi, err);
  if (cx->hosts == NULL)
    return -1;
  cx->resolv = berth_ctrspec_render_resolv(o, host_resolv, false);
  return 0;
}

static BERTH_WUR int build_spec(struct create_ctx *cx, berth_error_t *err)
{
  const struct berth_run_opts *o = cx->in->opts;
  cleanup_free char *rootfs = xasprintf("%s/bundle/rootfs", cx->dir);
  cleanup_free char *cgroup = xasprintf("/berth/%s", cx->id);
  cleanup_free char *hn = xasprintf("%s/hostname", cx->dir), *hs = xasprintf("%s/hosts", cx->dir);
  cleanup_free char *rs = xasprintf("%s/resolv.conf", cx->dir);
  cleanup_free char *netns = ctr_opts_use_networks(o) ? ctr_netns_path(cx->e, cx->id) : NULL;
  cleanup_free char *passwd = ctr_image_file(cx->e, &cx->img, "/etc/passwd");
  cleanup_free char *group = ctr_image_file(cx->e, &cx->img, "/etc/group");
  if (ctr_host_facts(&cx->host, o->privileged, err) < 0 || render_files(cx, err) < 0)
    return -1;
  cx->res.e = cx->e;
  cx->res.img = &cx->img;
  struct berth_ctrspec_callbacks cbs = { .device = ctr_resolver_device,
                                         .container_pid = ctr_resolver_container_pid,
                                         .mount_source = ctr_resolver_mount_source,
                                         .data = &cx->res };
  struct berth_ctrspec_in in = {
    .id = cx->id,
    .name = cx->name,
    .rootfs = rootfs,
    .cgroups_path = cgroup,
    .hostname_path = hn,
    .hosts_path = hs,
    .resolv_path = rs,
    .netns_path = netns,
    .image_config = cx->cfg.config,
    .opts = o,
    .args = cx->in->args,
    .passwd = passwd,
    .group = group,
    .host = &cx->host.facts,
    .cb = &cbs,
  };
  json_t *spec = berth_ctrspec_build(&in, err);
  if (spec == NULL)
    return -1;
  ctr_clamp_oci_version(cx->runtime, spec);
  cx->oci = berth_ctrspec_dumps(spec, NULL);
  json_decref(spec);
  struct ctr_config_in ci = { .image_config = cx->cfg.config,
                              .opts = o,
                              .args = cx->in->args,
                              .hostname = cx->hostname,
                              .image = cx->in->image };
  return ctr_build_config(&ci, &cx->config, err);
}

static void tmpfs_mounts(struct create_ctx *cx)
{
  const struct berth_run_opts *o = cx->in->opts;
  for (size_t i = 0; i < o->n_mounts; i++) {
    const struct berth_run_mount *m = &o->mounts[i];
    if (m->type != BERTH_MOUNT_TMPFS)
      continue;
    cx->res.mounts = xreallocarray(cx->res.mounts, cx->res.nmounts + 1, sizeof *cx->res.mounts);
    cx->res.mounts[cx->res.nmounts++] = (struct berth_db_mount){
      .type = xstrdup("tmpfs"),
      .source = xstrdup(""),
      .destination = xstrdup(m->target),
      .volume = xstrdup(""),
      .mode = xstrdup(m->readonly ? "ro" : ""),
      .rw = !m->readonly,
      .propagation = xstrdup(""),
    };
  }
}

static char *dump(json_t *v)
{
  char *s = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
  if (s == NULL)
    berth_oom();
  return s;
}

/* in the container's transaction: its networks */
static BERTH_WUR int put_attachments(struct create_ctx *cx, berth_error_t *err)
{
  for (size_t i = 0; i < cx->n_att; i++)
    if (berth_db_attachment_put(cx->e->db, &cx->att[i], err) < 0)
      return -1;
  return 0;
}

static BERTH_WUR int add_row(struct create_ctx *cx, berth_error_t *err)
{
  json_t *hc = ctr_build_host_config(cx->in->opts, cx->in->runtime_flags);
  cleanup_free char *config = dump(cx->config), *host_config = dump(hc);
  json_decref(hc);
  tmpfs_mounts(cx);
  struct berth_db_container row = {
    .name = cx->name,
    .image = (char *) cx->in->image,
    .created = ctr_now(),
    .state = BERTH_CTR_CREATED,
    .runtime = cx->runtime,
    .config = config,
    .host_config = host_config,
  };
  memcpy(row.id, cx->id, sizeof row.id);
  memcpy(row.image_id, cx->img.id, sizeof row.image_id);
  if (berth_db_begin(cx->e->db, err) < 0)
    return -1;
  /* the volumes it made get their rows with the container's: one commit, both or neither */
  if (ctr_resolver_add_volume_rows(&cx->res, err) < 0 ||
      berth_db_container_put(cx->e->db, &row, cx->res.mounts, cx->res.nmounts, err) < 0 ||
      put_attachments(cx, err) < 0 || berth_db_commit(cx->e->db, err) < 0) {
    berth_db_rollback(cx->e->db);
    for (size_t i = 0; i < cx->res.n_new_volumes; i++)
      cx->res.new_volumes[i].row_added = false;
    return -1;
  }
  cx->row_added = true;
  return 0;
}

static BERTH_WUR int write_file(const char *dir, const char *name, const char *text, mode_t mode,
                                berth_error_t *err)
{
  cleanup_free char *path = xasprintf("%s/%s", dir, name);
  return berth_write_file_atomic(path, text, strlen(text), mode, err);
}

static BERTH_WUR int write_files(struct create_ctx *cx, berth_error_t *err)
{
  cleanup_free char *parent = xasprintf("%s/containers", cx->e->root);
  const char *const dirs[] = { "bundle", "bundle/rootfs", "upper", "work" };
  if (berth_privdir_ensure(parent, 0700, err) < 0)
    return -1;
  if (mkdir(cx->dir, 0700) < 0)
    return BERTH_ERR_ERRNO(err, "create `%s`", cx->dir);
  for (size_t i = 0; i < BERTH_N_ELEMENTS(dirs); i++) {
    cleanup_free char *d = xasprintf("%s/%s", cx->dir, dirs[i]);
    if (mkdir(d, i == 3 ? 0700 : 0755) < 0)
      return BERTH_ERR_ERRNO(err, "create `%s`", d);
  }
  cleanup_free char *bundle = xasprintf("%s/bundle", cx->dir);
  cleanup_free char *hostname = berth_ctrspec_render_hostname(cx->hostname);
  if (write_file(cx->dir, "hostname", hostname, 0644, err) < 0 ||
      write_file(cx->dir, "hosts", cx->hosts, 0644, err) < 0 ||
      write_file(cx->dir, "resolv.conf", cx->resolv, 0644, err) < 0 ||
      write_file(bundle, "config.json", cx->oci, 0600, err) < 0) /* last: its presence means complete */
    return -1;
  return 0;
}

/* undo a create that failed after its row was recorded */
static void undo(struct create_ctx *cx)
{
  berth_error_t e = NULL;
  if (cx->row_added && berth_db_begin(cx->e->db, &e) == 0 &&
      (berth_db_container_delete(cx->e->db, cx->id, &e) < 0 || berth_db_commit(cx->e->db, &e) < 0))
    berth_db_rollback(cx->e->db);
  berth_error_release(&e);
  if (cx->dir && berth_rm_rf(cx->dir, &e) < 0)
    berth_error_release(&e);
  ctr_resolver_undo_volumes(&cx->res);
}

/* --volumes-from CONTAINER[:ro|:rw]: its bind and volume mounts (mode kept unless given), before
 * the create's own mounts, which win on the same target (Docker). *copy: the options with them;
 * *added: the mounts made here (the caller releases those only). */
static BERTH_WUR int volumes_from(struct berth_engine *e, const struct berth_run_opts *o,
                                  struct berth_run_opts *copy, struct berth_run_mount **added, size_t *nadded,
                                  berth_error_t *err)
{
  *copy = *o;
  *added = NULL;
  *nadded = 0;
  for (char *const *v = o->volumes_from; v && *v; v++) {
    const char *colon = strchr(*v, ':');
    cleanup_free char *name = colon ? xstrndup(*v, (size_t) (colon - *v)) : xstrdup(*v);
    struct berth_ctr src;
    struct berth_db_mount *m = NULL;
    size_t n = 0;
    if (berth_ctr_get(e, name, &src, err) < 0)
      return berth_error_wrap(err, "--volumes-from");
    int r = berth_db_container_mounts(e->db, src.row.id, &m, &n, err);
    berth_ctr_release(&src);
    if (r < 0)
      return -1;
    for (size_t i = 0; i < n; i++) {
      if (strcmp(m[i].type, "tmpfs") == 0)
        continue;
      bool dup = false;
      for (size_t k = 0; k < o->n_mounts && !dup; k++)
        dup = strcmp(o->mounts[k].target, m[i].destination) == 0;
      for (size_t k = 0; k < *nadded && !dup; k++)
        dup = strcmp((*added)[k].target, m[i].destination) == 0;
      if (dup)
        continue;
      *added = xreallocarray(*added, *nadded + 1, sizeof **added);
      bool volume = strcmp(m[i].type, "volume") == 0;
      (*added)[(*nadded)++] = (struct berth_run_mount){
        .type = volume ? BERTH_MOUNT_VOLUME : BERTH_MOUNT_BIND,
        .source = xstrdup(volume ? m[i].volume : m[i].source),
        .target = xstrdup(m[i].destination),
        .readonly = colon ? strcmp(colon, ":ro") == 0 : !m[i].rw,
        .spec = xasprintf("volumes-from %s", *v),
      };
    }
    berth_db_mounts_free(m, n);
  }
  copy->mounts = xcalloc(o->n_mounts + *nadded + 1, sizeof *copy->mounts);
  if (*nadded)
    memcpy(copy->mounts, *added, *nadded * sizeof **added);
  if (o->n_mounts)
    memcpy(copy->mounts + *nadded, o->mounts, o->n_mounts * sizeof *o->mounts);
  copy->n_mounts = o->n_mounts + *nadded;
  return 0;
}

static void volumes_from_release(struct berth_run_opts *copy, struct berth_run_mount *added, size_t n)
{
  for (size_t i = 0; i < n; i++)
    berth_run_mount_release(&added[i]);
  free(added);
  free(copy->mounts);
}

static BERTH_WUR int create(struct berth_engine *e, const struct berth_ctr_create_in *in, berth_ctr_id_t id,
                            berth_error_t *err);

int berth_ctr_create(struct berth_engine *e, const struct berth_ctr_create_in *in, berth_ctr_id_t id,
                     berth_error_t *err)
{
  if (in->opts->volumes_from == NULL)
    return create(e, in, id, err);
  struct berth_run_opts copy;
  struct berth_run_mount *added = NULL;
  size_t nadded = 0;
  struct berth_ctr_create_in in2 = *in;
  in2.opts = &copy;
  int r = volumes_from(e, in->opts, &copy, &added, &nadded, err);
  if (r == 0)
    r = create(e, &in2, id, err);
  else
    copy.mounts = NULL;
  volumes_from_release(&copy, added, nadded);
  return r;
}

static BERTH_WUR int create(struct berth_engine *e, const struct berth_ctr_create_in *in, berth_ctr_id_t id,
                            berth_error_t *err)
{
  struct create_ctx cx = { .e = e, .in = in };
  berth_engine_new_id(cx.id);
  cx.dir = berth_ctr_dir(e, cx.id);
  int r = pick_name(&cx, err) < 0 || load_image(&cx, err) < 0 ? -1 : 0;
  if (r == 0 && (cx.runtime = berth_ctr_find_runtime(in->opts->runtime, err)) == NULL)
    r = -1;
  if (r == 0 && cx.in->opts->name && berth_db_container_name_used(e->db, cx.name, err) != 0)
    r = *err ? -1
             : BERTH_ERR(err,
                         "conflict: the container name `/%s` is already in use; remove (or rename) "
                         "that container to be able to reuse that name",
                         cx.name);
  if (r == 0 && ctr_networks_resolve(e, cx.id, in->opts, &cx.att, &cx.n_att, err) < 0)
    r = -1;
  if (r == 0 && (build_spec(&cx, err) < 0 || add_row(&cx, err) < 0 || write_files(&cx, err) < 0))
    r = -1;
  if (r < 0) {
    undo(&cx);
    ctx_release(&cx);
    return -1;
  }
  memcpy(id, cx.id, sizeof cx.id);
  ctx_release(&cx);
  ctr_event_id(e, id, "create", NULL);
  return 0;
}
