/* Containers: what the config builder (runspec.h) needs from the host — facts, device nodes,
 * other containers' pids, mount sources and volumes — and files read from an image's layers. */
#include <dirent.h>
#include <sched.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "engine/containers/containers_internal.h"
#include "engine/volumes/volumes.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

static void add_device(struct ctr_host *h, const char *path, const struct stat *st)
{
  h->devices = xreallocarray(h->devices, h->facts.n_devices + 1, sizeof *h->devices);
  h->dev_paths = berth_strv_append(h->dev_paths, path);
  h->devices[h->facts.n_devices++] = (struct berth_host_device){
    .path = h->dev_paths[berth_strv_len(h->dev_paths) - 1],
    .type = S_ISBLK(st->st_mode) ? 'b' : 'c',
    .major = major(st->st_rdev),
    .minor = minor(st->st_rdev),
    .mode = st->st_mode & 07777,
    .uid = st->st_uid,
    .gid = st->st_gid,
  };
}

/* the device nodes of /dev and its sub-directories one level down (--privileged) */
static void scan_devices(struct ctr_host *h, const char *dir, int depth)
{
  cleanup_dir DIR *d = opendir(dir);
  struct dirent *de;
  while (d && (de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.' || strcmp(de->d_name, "pts") == 0 || strcmp(de->d_name, "shm") == 0 ||
        strcmp(de->d_name, "mqueue") == 0 || strcmp(de->d_name, "console") == 0 ||
        strcmp(de->d_name, "ptmx") == 0)
      continue;
    cleanup_free char *p = xasprintf("%s/%s", dir, de->d_name);
    struct stat st;
    if (lstat(p, &st) < 0)
      continue;
    if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
      add_device(h, p, &st);
    else if (S_ISDIR(st.st_mode) && depth > 0)
      scan_devices(h, p, depth - 1);
  }
  h->facts.devices = h->devices;
}

/* CapBnd of /proc/self/status; 0 when it cannot be read (no limit) */
static uint64_t own_bounding_set(void)
{
  char line[256];
  uint64_t v = 0;
  FILE *f = fopen("/proc/self/status", "re");
  if (f == NULL)
    return 0;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "CapBnd: %lx", &v) == 1)
      break;
  fclose(f);
  return v;
}

int ctr_host_facts(struct ctr_host *h, bool privileged, berth_error_t *err)
{
  memset(h, 0, sizeof *h);
  struct statfs sfs;
  h->facts.cgroup_v2 = statfs("/sys/fs/cgroup", &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC;
  h->facts.swap_limit =
    h->facts.cgroup_v2 || access("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes", F_OK) == 0;
  if (gethostname(h->hostname, sizeof h->hostname - 1) < 0)
    snprintf(h->hostname, sizeof h->hostname, "localhost");
  h->facts.hostname = h->hostname;
  berth_error_t none = NULL;
  h->init_path = ctr_find_helper("berth-init", "init", &none); /* absent: --init is refused by ctrspec */
  berth_error_release(&none);
  h->facts.init_path = h->init_path;
  struct utsname u;
  if (uname(&u) == 0)
    sscanf(u.release, "%u.%u", &h->facts.kernel_major, &h->facts.kernel_minor);
  h->facts.cap_last = -1;
  h->facts.bounding = own_bounding_set();
  cpu_set_t cpus;
  if (sched_getaffinity(0, sizeof cpus, &cpus) == 0)
    h->facts.ncpus = (unsigned int) CPU_COUNT(&cpus);
  if (privileged)
    scan_devices(h, "/dev", 1);
  (void) err;
  return 0;
}

void ctr_host_release(struct ctr_host *h)
{
  free(h->devices);
  berth_strv_free(h->dev_paths);
  free(h->init_path);
  memset(h, 0, sizeof *h);
}

int ctr_resolver_device(void *data, const char *host_path, struct berth_host_device *out, berth_error_t *err)
{
  struct ctr_resolver *res = data;
  struct stat st;
  /* the caller names the flag and the path */
  if (stat(host_path, &st) < 0)
    return BERTH_ERR_ERRNO(err, "the host's device");
  if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))
    return BERTH_ERR(err, "not a device node");
  res->strings = berth_strv_append(res->strings, host_path);
  *out = (struct berth_host_device){ .path = res->strings[berth_strv_len(res->strings) - 1],
                                     .type = S_ISBLK(st.st_mode) ? 'b' : 'c',
                                     .major = major(st.st_rdev),
                                     .minor = minor(st.st_rdev),
                                     .mode = st.st_mode & 07777,
                                     .uid = st.st_uid,
                                     .gid = st.st_gid };
  return 0;
}

int ctr_resolver_container_pid(void *data, const char *name, pid_t *pid, berth_error_t *err)
{
  struct ctr_resolver *res = data;
  struct berth_ctr c;
  if (berth_ctr_get(res->e, name, &c, err) < 0)
    return -1;
  int r = 0;
  if (c.state != BERTH_CTR_RUNNING || c.row.pid <= 0)
    r = BERTH_ERR(err, "cannot join container %.12s: it is not running", c.row.id);
  else
    *pid = (pid_t) c.row.pid;
  berth_ctr_release(&c);
  return r;
}

static void record_mount(struct ctr_resolver *res, const struct berth_run_mount *m, const char *source,
                         const char *volume)
{
  res->mounts = xreallocarray(res->mounts, res->nmounts + 1, sizeof *res->mounts);
  res->mounts[res->nmounts++] = (struct berth_db_mount){
    .type = xstrdup(m->type == BERTH_MOUNT_BIND     ? "bind"
                    : m->type == BERTH_MOUNT_VOLUME ? "volume"
                                                    : "tmpfs"),
    .source = xstrdup(source ? source : ""),
    .destination = xstrdup(m->target),
    .volume = xstrdup(volume ? volume : ""),
    .mode = xstrdup(m->readonly ? "ro" : ""),
    .rw = !m->readonly,
    .propagation = xstrdup(m->type == BERTH_MOUNT_BIND ? (m->propagation ? m->propagation : "rprivate") : ""),
  };
}

int ctr_resolver_mount_source(void *data, const struct berth_run_mount *m, char **source, berth_error_t *err)
{
  struct ctr_resolver *res = data;
  if (m->type == BERTH_MOUNT_VOLUME) {
    /* get or make the volume; a new, empty one is filled from the image at the target (Docker) */
    cleanup_free char *name = NULL;
    struct berth_volume_new nv;
    if (berth_volume_prepare(res->e, m->source, res->img, m->target, m->nocopy, &name, source, &nv, err) < 0)
      return berth_error_wrap(err, "volume for `%s`", m->target);
    if (nv.created) {
      res->new_volumes = xreallocarray(res->new_volumes, res->n_new_volumes + 1, sizeof *res->new_volumes);
      res->new_volumes[res->n_new_volumes++] =
        (struct ctr_new_volume){ .name = xstrdup(name), .anonymous = m->source == NULL, .nv = nv };
    }
    record_mount(res, m, *source, name);
    return 0;
  }
  struct stat st;
  if (stat(m->source, &st) < 0) {
    if (!m->create_source || errno != ENOENT)
      return BERTH_ERR_ERRNO(
        err, "invalid mount config for type \"bind\": bind source path does not exist: %s", m->source);
    if (berth_mkdir_p(m->source, 0755, err) < 0)
      return -1;
  }
  *source = xstrdup(m->source);
  record_mount(res, m, *source, NULL);
  return 0;
}

void ctr_resolver_release(struct ctr_resolver *res)
{
  berth_db_mounts_free(res->mounts, res->nmounts);
  for (size_t i = 0; i < res->n_new_volumes; i++) {
    free(res->new_volumes[i].name);
    if (res->new_volumes[i].nv.lock >= 0)
      close(res->new_volumes[i].nv.lock);
  }
  free(res->new_volumes);
  berth_strv_free(res->strings);
  memset(res, 0, sizeof *res);
}

int ctr_resolver_add_volume_rows(struct ctr_resolver *res, berth_error_t *err)
{
  for (size_t i = 0; i < res->n_new_volumes; i++) {
    int r = berth_volume_put_row(res->e, res->new_volumes[i].name, res->new_volumes[i].anonymous, err);
    if (r < 0)
      return -1;
    res->new_volumes[i].row_added = r == 1;
  }
  return 0;
}

/* remove the volumes this create made (on failure: nothing may be left) */
void ctr_resolver_undo_volumes(struct ctr_resolver *res)
{
  for (size_t i = 0; i < res->n_new_volumes; i++) {
    struct ctr_new_volume *v = &res->new_volumes[i];
    if (!v->row_added) {
      berth_volume_drop_new(res->e, v->name, &v->nv);
      continue;
    }
    berth_error_t e = NULL;
    cleanup_free char *dir = xasprintf("%s/volumes/%s", res->e->root, v->name);
    if (berth_db_begin(res->e->db, &e) == 0 && berth_db_volume_delete(res->e->db, v->name, &e) >= 0 &&
        berth_db_commit(res->e->db, &e) == 0)
      berth_ignore(berth_rm_rf(dir, BERTH_IGNORED));
    berth_db_rollback(res->e->db);
    berth_error_release(&e);
  }
}

/* A file of the image as the container will see it: the top layer that has it wins; an overlay
 * whiteout (0:0 char device) hides the lower ones. NULL when absent. */
int ctr_root_file(int root, const char *path, char **text)
{
  berth_error_t ignore = NULL;
  cleanup_close int fd = berth_open_in_root(root, path, O_PATH, 0, &ignore);
  berth_error_release(&ignore);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) < 0)
    return -1;
  if (!S_ISREG(st.st_mode))
    return 0;
  /* the inode just checked, opened again for reading: its type cannot have changed */
  char buf[32];
  if (berth_read_file(berth_fd_path(fd, buf, sizeof buf), 1u << 20, text, NULL, &ignore) < 0) {
    berth_error_release(&ignore);
    return 0;
  }
  return 1;
}

char *ctr_image_file(struct berth_engine *e, const struct berth_db_image *img, const char *path)
{
  for (size_t i = img->nlayers; i-- > 0;) {
    cleanup_free char *dir = berth_store_layer_dir(e->store, img->chain_ids[i]);
    cleanup_free char *diff = dir ? xasprintf("%s/diff", dir) : NULL;
    cleanup_close int root = diff ? open(diff, O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
    char *text = NULL;
    int r = root < 0 ? -1 : ctr_root_file(root, path, &text);
    if (r >= 0)
      return text; /* NULL for a whiteout or something that is not a file */
  }
  return NULL;
}
