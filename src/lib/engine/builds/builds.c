/* A build from start to end: the context (a directory read in place, or a tar extracted once),
 * the Dockerfile and .dockerignore, the plan, secrets and build arguments, then the stages
 * (builds_stage.c), the tags; and what the steps share: their scratch directories, progress. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "build/instr.h"
#include "engine/builds/builds_internal.h"
#include "engine/containers/containers.h"
#include "image/layer.h"

#define MAX_DOCKERFILE (16u << 20)
#define MAX_SECRET     (4u << 20)

_Thread_local size_t bld_step;

void bld_unlock(struct bld *b) { pthread_mutex_unlock(&b->lock); }
void bld_relock(struct bld *b) { pthread_mutex_lock(&b->lock); }

void bld_event(struct bld *b, enum berth_builds_event_kind k, const char *text, size_t len, const char *image,
               int64_t elapsed_ns)
{
  if (b->o->progress == NULL)
    return;
  struct berth_builds_event ev = { .kind = k,
                                   .step = bld_step,
                                   .nsteps = b->plan ? b->plan->nsteps : 0,
                                   .text = text,
                                   .len = text ? (len ? len : strlen(text)) : 0,
                                   .image = image,
                                   .elapsed_ns = elapsed_ns };
  b->o->progress(b->o->progress_data, &ev);
}

bool bld_cancelled(const struct bld *b)
{
  return (b->o->cancel && *b->o->cancel) || __atomic_load_n(&b->failed, __ATOMIC_RELAXED);
}

int64_t bld_now(const struct bld *b)
{
  if (b->o->source_date_epoch >= 0)
    return b->o->source_date_epoch * 1000000000LL;
  return berth_engine_now();
}

/* the whole content of an open file (at most max bytes) */
static BERTH_WUR int read_fd(int fd, size_t max, char **out, size_t *len, berth_error_t *err)
{
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  return berth_read_file(path, max, out, len, err);
}

/* ---- scratch directories ---- */

int bld_dir_new(struct bld *b, struct bld_dir *d, berth_error_t *err)
{
  memset(d, 0, sizeof *d);
  d->upper_fd = d->lock_fd = -1;
  cleanup_free char *parent = xasprintf("%s/builds/steps", b->e->root);
  if (berth_mkdir_p(parent, 0700, err) < 0)
    return -1;
  d->path = xasprintf("%s/XXXXXX", parent);
  if (mkdtemp(d->path) == NULL) {
    free(d->path);
    d->path = NULL;
    return BERTH_ERR_ERRNO(err, "mkdtemp in `%s`", parent);
  }
  d->upper = xasprintf("%s/upper", d->path);
  d->work = xasprintf("%s/work", d->path);
  if (mkdir(d->upper, 0755) < 0 || mkdir(d->work, 0700) < 0) {
    BERTH_ERR_ERRNO(err, "mkdir in `%s`", d->path);
    bld_dir_free(d);
    return -1;
  }
  d->lock_fd = berth_dir_flock_shared(d->path);
  d->upper_fd = open(d->upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (d->upper_fd < 0) {
    BERTH_ERR_ERRNO(err, "open `%s`", d->upper);
    bld_dir_free(d);
    return -1;
  }
  return 0;
}

void bld_dir_free(struct bld_dir *d)
{
  if (d->upper_fd >= 0)
    close(d->upper_fd);
  if (d->path)
    berth_ignore(berth_rm_rf(d->path, BERTH_IGNORED));
  if (d->lock_fd >= 0)
    close(d->lock_fd);
  free(d->path);
  free(d->upper);
  free(d->work);
  memset(d, 0, sizeof *d);
  d->upper_fd = d->lock_fd = -1;
}

bool bld_dir_changed(const struct bld_dir *d)
{
  cleanup_close int fd = open(d->upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cleanup_dir DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
  if (dir == NULL)
    return true;
  fd = -1;
  struct dirent *de;
  while ((de = readdir(dir)) != NULL)
    if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
      return true;
  return false;
}

static BERTH_WUR int clamp_tree(int at, int64_t epoch, berth_error_t *err)
{
  cleanup_close int fd = openat(at, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cleanup_dir DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
  if (dir == NULL)
    return BERTH_ERR_ERRNO(err, "open a directory of the layer");
  fd = -1;
  struct dirent *de;
  while ((de = readdir(dir)) != NULL) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    struct stat st;
    if (fstatat(dirfd(dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
      return BERTH_ERR_ERRNO(err, "stat `%s`", de->d_name);
    if (S_ISDIR(st.st_mode)) {
      cleanup_close int sub = openat(dirfd(dir), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub < 0 || clamp_tree(sub, epoch, err) < 0)
        return sub < 0 ? BERTH_ERR_ERRNO(err, "open `%s`", de->d_name) : -1;
    }
    if (st.st_mtime > epoch || st.st_atime > epoch) {
      struct timespec ts[2] = { { .tv_sec = epoch },
                                { .tv_sec = st.st_mtime > epoch ? epoch : st.st_mtime } };
      if (utimensat(dirfd(dir), de->d_name, ts, AT_SYMLINK_NOFOLLOW) < 0)
        return BERTH_ERR_ERRNO(err, "set the times of `%s`", de->d_name);
    }
  }
  return 0;
}

int bld_dir_clamp(const struct bld_dir *d, int64_t epoch, berth_error_t *err)
{
  return clamp_tree(d->upper_fd, epoch, err);
}

/* ---- layers as directories ---- */

int bld_lowers(struct bld *b, const char *image, char ***out, berth_error_t *err)
{
  *out = xcalloc(1, sizeof(char *));
  if (image == NULL || *image == '\0')
    return 0;
  struct berth_db_image img = { 0 };
  int r = berth_db_image_get(b->e->db, image, &img, err);
  if (r <= 0)
    return r < 0 ? -1 : BERTH_ERR(err, "no such image: `%s`", image);
  *out = berth_image_lowers(b->e, &img, *out);
  berth_db_image_release(&img);
  return 0;
}

/* the state of path in one layer dir: 1 there, 0 not there, -1 whited out */
static int layer_has(const char *lower, const char *path)
{
  cleanup_free char *p = xasprintf("%s%s", lower, path);
  struct stat st;
  if (lstat(p, &st) < 0)
    return 0;
  if (S_ISCHR(st.st_mode) && st.st_rdev == 0)
    return -1;
  return 1;
}

bool bld_lower_has(char *const *lowers, const char *path)
{
  for (size_t i = 0; lowers && lowers[i]; i++) {
    int r = layer_has(lowers[i], path);
    if (r != 0)
      return r > 0;
  }
  return false;
}

char *bld_lower_file(char *const *lowers, const char *path)
{
  for (size_t i = 0; lowers && lowers[i]; i++) {
    int r = layer_has(lowers[i], path);
    if (r < 0)
      return NULL;
    if (r == 0)
      continue;
    cleanup_close int root = open(lowers[i], O_PATH | O_DIRECTORY | O_CLOEXEC);
    char *text = NULL;
    berth_error_t none = NULL;
    cleanup_close int fd = root >= 0 ? berth_open_in_root(root, path, O_RDONLY, 0, &none) : -1;
    berth_error_release(&none);
    if (fd >= 0)
      berth_ignore(read_fd(fd, 4u << 20, &text, NULL, BERTH_IGNORED));
    return text;
  }
  return NULL;
}

int bld_root_open(struct bld *b, const char *image, const struct bld_dir *d, const char *name,
                  struct bld_root *r, berth_error_t *err)
{
  memset(r, 0, sizeof *r);
  r->fd = -1;
  cleanup_strv char **lowers = NULL;
  if (bld_lowers(b, image, &lowers, err) < 0)
    return -1;
  size_t n = berth_strv_len(lowers);
  if (n == 0) { /* nothing to mount: the upper dir itself, or an empty directory */
    cleanup_free char *empty = xasprintf("%s/%s", d->path, name);
    const char *dir = d->upper && name[0] == '\0' ? d->upper : empty;
    if (dir == empty && mkdir(empty, 0755) < 0 && errno != EEXIST)
      return BERTH_ERR_ERRNO(err, "mkdir `%s`", empty);
    r->fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    return r->fd < 0 ? BERTH_ERR_ERRNO(err, "open `%s`", dir) : 0;
  }
  r->target = xasprintf("%s/root%s", d->path, name);
  if (mkdir(r->target, 0755) < 0 && errno != EEXIST)
    return BERTH_ERR_ERRNO(err, "mkdir `%s`", r->target);
  bool rw = name[0] == '\0';
  struct berth_cp_mount_in in = { .lowers = (const char *const *) lowers,
                                  .nlowers = n,
                                  .upper = rw ? d->upper : NULL,
                                  .work = rw ? d->work : NULL,
                                  .target = r->target };
  if (berth_cp_mounter_start(&in, &r->m, err) < 0)
    return -1;
  r->mounted = true;
  r->fd = r->m.root;
  return 0;
}

void bld_root_close(struct bld_root *r)
{
  if (r->mounted)
    berth_cp_mounter_stop(&r->m);
  else if (r->fd >= 0)
    close(r->fd);
  free(r->target);
  memset(r, 0, sizeof *r);
  r->fd = -1;
}

/* ---- the context and the Dockerfile ---- */

static BERTH_WUR int context_open(struct bld *b, berth_error_t *err)
{
  const struct berth_builds_opts *o = b->o;
  if (o->context_dir) {
    b->ctx_dir = realpath(o->context_dir, NULL);
    if (b->ctx_dir == NULL)
      return BERTH_ERR_ERRNO(err, "the build context `%s`", o->context_dir);
  } else {
    cleanup_free char *parent = xasprintf("%s/builds/steps", b->e->root);
    if (berth_mkdir_p(parent, 0700, err) < 0)
      return -1;
    b->ctx_tmp = xasprintf("%s/context-XXXXXX", parent);
    if (mkdtemp(b->ctx_tmp) == NULL)
      return BERTH_ERR_ERRNO(err, "mkdtemp in `%s`", parent);
    b->ctx_lock = berth_dir_flock_shared(b->ctx_tmp);
    cleanup_close int fd = open(b->ctx_tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
      return BERTH_ERR_ERRNO(err, "open `%s`", b->ctx_tmp);
    if (berth_tar_extract(o->context_fd, fd, err) < 0)
      return berth_error_wrap(err, "the build context (a tar on standard input)");
    b->ctx_dir = xstrdup(b->ctx_tmp);
  }
  b->ctx_fd = open(b->ctx_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (b->ctx_fd < 0)
    return BERTH_ERR_ERRNO(err, "the build context `%s`", b->ctx_dir);
  return 0;
}

static BERTH_WUR int dockerfile_read(struct bld *b, char **text, size_t *len, char **name, berth_error_t *err)
{
  const struct berth_builds_opts *o = b->o;
  if (o->dockerfile_text) {
    *text = xmalloc(o->dockerfile_len + 1);
    memcpy(*text, o->dockerfile_text, o->dockerfile_len);
    (*text)[o->dockerfile_len] = '\0';
    *len = o->dockerfile_len;
    *name = xstrdup("Dockerfile");
    return 0;
  }
  const char *f = o->dockerfile ? o->dockerfile : "Dockerfile";
  if (o->dockerfile && (f[0] == '/' || access(f, F_OK) == 0)) {
    if (berth_read_file(f, MAX_DOCKERFILE, text, len, err) < 0)
      return -1;
  } else {
    berth_error_t none = NULL;
    cleanup_close int fd = berth_openat2(b->ctx_fd, f, O_RDONLY | O_CLOEXEC, 0, RESOLVE_BENEATH);
    if (fd < 0)
      return BERTH_ERR_ERRNO(err, "the Dockerfile `%s` in the build context", f);
    if (read_fd(fd, MAX_DOCKERFILE, text, len, &none) < 0) {
      *err = none;
      return -1;
    }
  }
  const char *slash = strrchr(f, '/');
  *name = xstrdup(slash ? slash + 1 : f);
  return 0;
}

/* <Dockerfile>.dockerignore beside the Dockerfile, else .dockerignore of the context */
static BERTH_WUR int ignore_read(struct bld *b, const char *dfname, berth_error_t *err)
{
  cleanup_free char *text = NULL, *own = xasprintf("%s.dockerignore", dfname);
  size_t len = 0;
  const char *names[] = { own, ".dockerignore" };
  for (size_t i = 0; i < 2 && text == NULL; i++) {
    cleanup_close int fd = berth_openat2(b->ctx_fd, names[i], O_RDONLY | O_CLOEXEC, 0, RESOLVE_BENEATH);
    if (fd >= 0 && read_fd(fd, MAX_DOCKERFILE, &text, &len, err) < 0)
      return -1;
  }
  return berth_ignore_parse(text, len, &b->ignore, err);
}

static void host_platform(struct berth_build_platform *p)
{
  struct utsname u;
  memset(p, 0, sizeof *p);
  snprintf(p->os, sizeof p->os, "linux");
  const char *arch = uname(&u) == 0 ? u.machine : "x86_64";
  if (strcmp(arch, "x86_64") == 0)
    arch = "amd64";
  else if (strcmp(arch, "aarch64") == 0)
    arch = "arm64";
  snprintf(p->arch, sizeof p->arch, "%.31s", arch);
  if (strcmp(arch, "arm64") == 0)
    snprintf(p->variant, sizeof p->variant, "v8");
}

/* "id=x,src=file" / "id=x,env=VAR" / "id=x" (then the variable x) */
static BERTH_WUR int secrets_read(struct bld *b, berth_error_t *err)
{
  for (size_t i = 0; b->o->secrets && b->o->secrets[i]; i++) {
    cleanup_free char *copy = xstrdup(b->o->secrets[i]);
    char *id = NULL, *src = NULL, *env = NULL, *save = NULL;
    for (char *kv = strtok_r(copy, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
      if (berth_str_has_prefix(kv, "id="))
        id = kv + 3;
      else if (berth_str_has_prefix(kv, "src=") || berth_str_has_prefix(kv, "source="))
        src = strchr(kv, '=') + 1;
      else if (berth_str_has_prefix(kv, "env="))
        env = kv + 4;
      else if (!berth_str_has_prefix(kv, "type="))
        return BERTH_ERR(err, "--secret `%s`: unknown key `%s`", b->o->secrets[i], kv);
    }
    if (id == NULL || *id == '\0')
      return BERTH_ERR(err, "--secret `%s`: no id", b->o->secrets[i]);
    struct bld_secret s = { .id = xstrdup(id) };
    if (src) {
      if (berth_read_file(src, MAX_SECRET, &s.data, &s.len, err) < 0) {
        free(s.id);
        return berth_error_wrap(err, "--secret `%s`", b->o->secrets[i]);
      }
    } else {
      const char *v = getenv(env ? env : id);
      if (v == NULL) {
        free(s.id);
        return BERTH_ERR(err, "--secret `%s`: the variable `%s` is not set", b->o->secrets[i],
                         env ? env : id);
      }
      s.data = xstrdup(v);
      s.len = strlen(v);
    }
    b->secrets = xreallocarray(b->secrets, b->nsecrets + 1, sizeof *b->secrets);
    b->secrets[b->nsecrets++] = s;
  }
  return 0;
}

static void build_args(struct bld *b)
{
  b->build_args = xcalloc(1, sizeof(char *));
  for (size_t i = 0; b->o->build_args && b->o->build_args[i]; i++) {
    const char *a = b->o->build_args[i];
    if (strchr(a, '=')) {
      b->build_args = berth_strv_append(b->build_args, a);
    } else if (getenv(a)) { /* "--build-arg K": the caller's value, when set (Docker) */
      cleanup_free char *kv = xasprintf("%s=%s", a, getenv(a));
      b->build_args = berth_strv_append(b->build_args, kv);
    }
  }
}

/* --cache-from: the images that exist here (Docker's classic builder does not pull them either) */
static void cache_from(struct bld *b)
{
  b->cache_from = xcalloc(1, sizeof(char *));
  for (size_t i = 0; b->o->cache_from && b->o->cache_from[i]; i++) {
    berth_digest_t id;
    if (BLD_TRY(berth_engine_resolve(b->e, b->o->cache_from[i], id, NULL, BLD_Q)) == 0) {
      b->cache_from = berth_strv_append(b->cache_from, id);
    } else {
      cleanup_free char *w =
        xasprintf("--cache-from `%s`: no such image here (ignored)", b->o->cache_from[i]);
      bld_event(b, BERTH_BUILDS_EV_WARNING, w, 0, NULL, 0);
    }
  }
}

static BERTH_WUR int prepare(struct bld *b, berth_error_t *err)
{
  cleanup_free char *text = NULL, *name = NULL;
  size_t len = 0;
  if (context_open(b, err) < 0 || dockerfile_read(b, &text, &len, &name, err) < 0 ||
      berth_df_parse(text, len, name, &b->df, err) < 0 || ignore_read(b, name, err) < 0 ||
      secrets_read(b, err) < 0)
    return -1;
  for (size_t i = 0; b->df->warnings[i]; i++)
    bld_event(b, BERTH_BUILDS_EV_WARNING, b->df->warnings[i], 0, NULL, 0);
  build_args(b);
  cache_from(b);
  struct berth_build_plan_in in = { .df = b->df, .build_args = b->build_args, .target = b->o->target };
  host_platform(&in.build_platform);
  in.target_platform = in.build_platform;
  if (berth_build_plan_make(&in, &b->plan, err) < 0)
    return -1;
  for (size_t i = 0; b->plan->unused_args[i]; i++) {
    cleanup_free char *w =
      xasprintf("[Warning] One or more build-args [%s] were not consumed", b->plan->unused_args[i]);
    bld_event(b, BERTH_BUILDS_EV_WARNING, w, 0, NULL, 0);
  }
  b->stages = xcalloc(b->plan->nstages ? b->plan->nstages : 1, sizeof *b->stages);
  b->first_step = xcalloc(b->plan->nstages ? b->plan->nstages : 1, sizeof *b->first_step);
  b->runtime_root = xasprintf("%s/builds/runtime", b->e->runroot);
  b->runtime = berth_ctr_find_runtime(b->o->runtime, err);
  return b->runtime ? 0 : -1;
}

static void release(struct bld *b)
{
  if (b->ctx_fd >= 0)
    close(b->ctx_fd);
  if (b->ctx_tmp)
    berth_ignore(berth_rm_rf(b->ctx_tmp, BERTH_IGNORED));
  if (b->ctx_lock >= 0)
    close(b->ctx_lock);
  free(b->ctx_tmp);
  free(b->ctx_dir);
  berth_df_free(b->df);
  berth_build_plan_free(b->plan);
  berth_ignore_free(b->ignore);
  free(b->stages);
  free(b->first_step);
  berth_error_release(&b->error);
  free(b->runtime);
  free(b->runtime_root);
  for (size_t i = 0; i < b->nsecrets; i++) {
    free(b->secrets[i].id);
    if (b->secrets[i].data)
      memset(b->secrets[i].data, 0, b->secrets[i].len);
    free(b->secrets[i].data);
  }
  free(b->secrets);
  berth_strv_free(b->build_args);
  berth_strv_free(b->cache_from);
  for (size_t i = 0; i < b->ndownloads; i++) {
    close(b->downloads[i].fd);
    free(b->downloads[i].url);
  }
  free(b->downloads);
}

static BERTH_WUR int tag(struct bld *b, const char *id, berth_error_t *err)
{
  for (size_t i = 0; b->o->tags && b->o->tags[i]; i++)
    if (berth_images_tag(b->e, id, b->o->tags[i], err) < 0)
      return -1;
  for (size_t i = 0; b->o->tags && b->o->tags[i]; i++)
    bld_event(b, BERTH_BUILDS_EV_IMAGE, b->o->tags[i], 0, id, 0);
  return 0;
}

int berth_builds_run(struct berth_engine *e, const struct berth_builds_opts *o, berth_digest_t id,
                     berth_error_t *err)
{
  struct bld b = { .e = e, .o = o, .ctx_fd = -1, .ctx_lock = -1 };
  pthread_mutex_init(&b.lock, NULL);
  pthread_cond_init(&b.changed, NULL);
  bld_step = 0;
  int r = prepare(&b, err);
  if (r == 0)
    r = bld_stages(&b, err);
  if (r == 0) {
    const char *img = b.stages[b.plan->target].image;
    if (*img == '\0')
      r = BERTH_ERR(err, "the target stage made no image (FROM scratch and nothing after it)");
    else
      snprintf(id, sizeof(berth_digest_t), "%s", img);
  }
  if (r == 0) { /* the result is an image; the other steps stay the cache's */
    bld_step = 0;
    r = berth_images_keep(e, id, err);
  }
  if (r == 0) {
    bld_event(&b, BERTH_BUILDS_EV_IMAGE, NULL, 0, id, 0);
    r = tag(&b, id, err);
  }
  release(&b);
  pthread_cond_destroy(&b.changed);
  pthread_mutex_destroy(&b.lock);
  return r;
}
