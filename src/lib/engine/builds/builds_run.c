/* RUN: the step's process as a container of the OCI runtime (`<runtime> run`), its root an
 * overlay of the parent's layers with the step's upper dir, mounted in the private mount
 * namespace of the process that becomes the runtime: the mounts go when it ends, whatever
 * happens to berth. The config is a `berth run`'s (engine/runspec: Docker's capabilities,
 * seccomp profile, masked paths), with the state's environment, user and working directory,
 * the network the step asks for (host by default, as BuildKit's) and BuildKit's mounts:
 *   cache   a directory of <root>/builds/mounts kept between builds (locked: one step at a time)
 *   bind    a path of the context or of a stage's or image's root, read-only, resolved beneath
 *           it by berth before the runtime sees it (through a bind of /proc/self/fd/N)
 *   tmpfs   a tmpfs
 *   secret  a file of the step's scratch directory, read-only; never in the upper dir
 * Mount points the runtime had to create (/etc/hosts in an image without one, /run/secrets/x)
 * are removed from the upper dir afterwards, so that the layer holds what the command did. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "base/child.h"
#include "base/cleanup.h"
#include "base/clock.h"
#include "base/fds.h"
#include "base/fs.h"
#include "base/sha256.h"
#include "base/strbuf.h"
#include "base/strutil.h"
#include "base/xalloc.h"
#include "build/instr.h"
#include "engine/builds/builds_internal.h"
#include "engine/runspec/runspec.h"
#include "linux/mountns/mountns.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

/* a bind the child makes before the runtime runs: fd (a path resolved safely by berth, open in
 * the child too) bound on dst (a file or directory of the step's scratch directory) */
struct pre_bind {
  int fd;
  char *dst;
  char **lowers; /* or: a read-only overlay of these at dst (a stage's root) */
  char *inside;  /* ... and then this path of it, resolved inside, bound on dst2 */
  char *dst2;
};

struct run {
  struct bld *b;
  const struct berth_build_op *op;
  struct bld_dir *d;
  char **lowers;
  char *rootfs, *bundle, *id;
  struct pre_bind *binds;
  size_t nbinds;
  int *locks; /* flocks of locked cache mounts */
  size_t nlocks;
  char **targets; /* mount points that were not in the image */
  char **env;     /* secrets' variables */
  pid_t berth;    /* our pid, for the watchdog */
};

static void run_release(struct run *r)
{
  berth_strv_free(r->lowers);
  free(r->rootfs);
  free(r->bundle);
  free(r->id);
  for (size_t i = 0; i < r->nbinds; i++) {
    if (r->binds[i].fd >= 0)
      close(r->binds[i].fd);
    free(r->binds[i].dst);
    berth_strv_free(r->binds[i].lowers);
    free(r->binds[i].inside);
    free(r->binds[i].dst2);
  }
  free(r->binds);
  for (size_t i = 0; i < r->nlocks; i++)
    close(r->locks[i]);
  free(r->locks);
  berth_strv_free(r->targets);
  berth_strv_free(r->env);
}

/* ---- the key ---- */

int bld_run_key(struct bld *b, const struct berth_build_op *op, size_t stage, char **extra,
                berth_error_t *err)
{
  cleanup_strbuf struct berth_strbuf x = BERTH_STRBUF_INIT;
  for (size_t i = 0; i < op->nmounts; i++) {
    const struct berth_build_mount *m = &op->mounts[i];
    if (m->type != BERTH_BUILD_MOUNT_BIND)
      continue;
    if (m->from) {
      berth_digest_t id;
      if (bld_from_image(b, m->from, stage, id, err) < 0)
        return -1;
      berth_strbuf_printf(&x, "bind %zu from %s\n", i, id);
      continue;
    }
    struct berth_build_root r = { .fd = b->ctx_fd, .context = true, .ignore = b->ignore };
    struct berth_build_source *v = NULL;
    size_t n = 0;
    char digest[BERTH_DIGEST_LEN + 1];
    if (berth_build_sources_resolve(&r, m->source ? m->source : ".", &v, &n, err) < 0)
      return -1;
    int rc = berth_build_sources_digest(&r, v, n, NULL, digest, err);
    berth_build_sources_free(v, n);
    if (rc < 0)
      return -1;
    berth_strbuf_printf(&x, "bind %zu %s\n", i, digest);
  }
  *extra = berth_strbuf_detach(&x);
  return 0;
}

/* ---- the mounts ---- */

static char *add_target(struct run *r, const char *target)
{
  if (!bld_lower_has(r->lowers, target))
    r->targets = berth_strv_append(r->targets, target);
  return (char *) target;
}

static BERTH_WUR int set(struct berth_run_opts *o, const char *flag, const char *value, berth_error_t *err)
{
  return berth_runopts_set(o, flag, value, err);
}

static BERTH_WUR int bind_flag(struct berth_run_opts *o, const char *src, const char *dst, bool ro,
                               berth_error_t *err)
{
  cleanup_free char *spec = xasprintf("type=bind,source=%s,target=%s%s", src, dst, ro ? ",readonly" : "");
  return set(o, "--mount", spec, err);
}

/* a file or directory of the scratch directory for a bind of fd's kind */
static BERTH_WUR int bind_point(struct run *r, bool dir, char **out, berth_error_t *err)
{
  *out = xasprintf("%s/bind-%zu", r->d->path, r->nbinds);
  if (dir ? mkdir(*out, 0755) : mknod(*out, S_IFREG | 0600, 0))
    return BERTH_ERR_ERRNO(err, "make `%s`", *out);
  return 0;
}

static struct pre_bind *new_bind(struct run *r)
{
  r->binds = xreallocarray(r->binds, r->nbinds + 1, sizeof *r->binds);
  struct pre_bind *p = &r->binds[r->nbinds++];
  memset(p, 0, sizeof *p);
  p->fd = -1;
  return p;
}

static BERTH_WUR int mount_bind(struct run *r, const struct berth_build_mount *m, size_t stage,
                                struct berth_run_opts *o, berth_error_t *err)
{
  const char *src = m->source ? m->source : ".";
  if (m->from) {
    berth_digest_t id;
    cleanup_strv char **lowers = NULL;
    if (bld_from_image(r->b, m->from, stage, id, err) < 0 || bld_lowers(r->b, id, &lowers, err) < 0)
      return -1;
    struct pre_bind *p = new_bind(r);
    p->dst = xasprintf("%s/from-%zu", r->d->path, r->nbinds);
    p->dst2 = xasprintf("%s/bind-%zu", r->d->path, r->nbinds);
    if (mkdir(p->dst, 0755) < 0 || mkdir(p->dst2, 0755) < 0)
      return BERTH_ERR_ERRNO(err, "mkdir in `%s`", r->d->path);
    p->lowers = steal_ptr(lowers);
    p->inside = xstrdup(src);
    return bind_flag(o, p->dst2, add_target(r, m->target), true, err);
  }
  struct berth_build_root root = { .fd = r->b->ctx_fd, .context = true, .ignore = r->b->ignore };
  struct berth_build_source *v = NULL;
  size_t n = 0;
  if (berth_build_sources_resolve(&root, src, &v, &n, err) < 0)
    return -1;
  if (n != 1) {
    berth_build_sources_free(v, n);
    return BERTH_ERR(err, "--mount=type=bind: `%s` names %zu paths", src, n);
  }
  struct pre_bind *p = new_bind(r);
  p->fd = v[0].fd;
  v[0].fd = -1;
  bool dir = S_ISDIR(v[0].st.st_mode);
  berth_build_sources_free(v, n);
  if (bind_point(r, dir, &p->dst, err) < 0)
    return -1;
  /* BuildKit discards a rw bind's writes; berth binds read-only either way (the context is the
   * user's own directory) */
  return bind_flag(o, p->dst, add_target(r, m->target), true, err);
}

static BERTH_WUR int mount_cache(struct run *r, const struct berth_build_mount *m, struct berth_run_opts *o,
                                 berth_error_t *err)
{
  uint8_t h[BERTH_SHA256_LEN];
  char hex[BERTH_SHA256_HEX_LEN + 1];
  const char *id = m->id ? m->id : m->target;
  berth_sha256(id, strlen(id), h);
  berth_sha256_hex(h, hex);
  cleanup_free char *parent = xasprintf("%s/builds/mounts", r->b->e->root);
  cleanup_free char *dir = xasprintf("%s/%s", parent, hex);
  if (berth_mkdir_p(parent, 0700, err) < 0)
    return -1;
  if (mkdir(dir, m->has_mode ? m->mode : 0755) == 0) {
    if (chown(dir, m->has_uid ? m->uid : 0, m->has_gid ? m->gid : 0) < 0 ||
        chmod(dir, m->has_mode ? m->mode : 0755) < 0)
      return BERTH_ERR_ERRNO(err, "set up the cache mount `%s`", dir);
  } else if (errno != EEXIST) {
    return BERTH_ERR_ERRNO(err, "mkdir `%s`", dir);
  }
  if (m->sharing != BERTH_BUILD_SHARING_SHARED) { /* locked; private is locked too */
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    bld_unlock(r->b); /* a stage of this build may hold it */
    int locked = fd >= 0 ? flock(fd, LOCK_EX) : -1;
    bld_relock(r->b);
    if (locked < 0) {
      if (fd >= 0)
        close(fd);
      return BERTH_ERR_ERRNO(err, "lock the cache mount `%s`", dir);
    }
    r->locks = xreallocarray(r->locks, r->nlocks + 1, sizeof *r->locks);
    r->locks[r->nlocks++] = fd;
  }
  return bind_flag(o, dir, add_target(r, m->target), m->readonly, err);
}

static BERTH_WUR int mount_secret(struct run *r, const struct berth_build_mount *m, struct berth_run_opts *o,
                                  berth_error_t *err)
{
  const struct bld_secret *s = NULL;
  for (size_t i = 0; i < r->b->nsecrets && s == NULL; i++)
    if (strcmp(r->b->secrets[i].id, m->id) == 0)
      s = &r->b->secrets[i];
  if (s == NULL)
    return m->required
             ? BERTH_ERR(err, "secret `%s` not found (berth build --secret id=%s,src=FILE)", m->id, m->id)
             : 0;
  if (m->env) {
    cleanup_free char *kv = xasprintf("%s=%.*s", m->env, (int) s->len, s->data);
    r->env = berth_strv_append(r->env, kv);
    if (m->target == NULL)
      return 0;
  }
  cleanup_free char *dir = xasprintf("%s/secrets", r->d->path);
  cleanup_free char *file = xasprintf("%s/%zu", dir, r->nbinds + r->nlocks + berth_strv_len(r->targets));
  if (mkdir(dir, 0700) < 0 && errno != EEXIST)
    return BERTH_ERR_ERRNO(err, "mkdir `%s`", dir);
  cleanup_close int fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0400);
  if (fd < 0 || berth_write_all(fd, s->data, s->len) < 0 ||
      fchown(fd, m->has_uid ? m->uid : 0, m->has_gid ? m->gid : 0) < 0 ||
      fchmod(fd, m->has_mode ? m->mode : 0400) < 0)
    return BERTH_ERR_ERRNO(err, "write the secret `%s`", m->id);
  return bind_flag(o, file, add_target(r, m->target), true, err);
}

static BERTH_WUR int mounts(struct run *r, size_t stage, struct berth_run_opts *o, berth_error_t *err)
{
  for (size_t i = 0; i < r->op->nmounts; i++) {
    const struct berth_build_mount *m = &r->op->mounts[i];
    int rc = 0;
    switch (m->type) {
    case BERTH_BUILD_MOUNT_BIND: rc = mount_bind(r, m, stage, o, err); break;
    case BERTH_BUILD_MOUNT_CACHE: rc = mount_cache(r, m, o, err); break;
    case BERTH_BUILD_MOUNT_SECRET: rc = mount_secret(r, m, o, err); break;
    case BERTH_BUILD_MOUNT_TMPFS: {
      char size[64] = "";
      if (m->size)
        snprintf(size, sizeof size, ":size=%llu", (unsigned long long) m->size);
      cleanup_free char *spec = xasprintf("%s%s", add_target(r, m->target), size);
      rc = set(o, "--tmpfs", spec, err);
      break;
    }
    case BERTH_BUILD_MOUNT_SSH:
      rc = BERTH_ERR(err, "--mount=type=ssh: berth has no SSH agent forwarding");
      break;
    }
    if (rc < 0)
      return -1;
  }
  if (r->op->script) { /* RUN <<EOF with #!: the script as a file */
    cleanup_free char *file = xasprintf("%s/script", r->d->path);
    if (berth_write_file_atomic(file, r->op->script, strlen(r->op->script), 0755, err) < 0 ||
        bind_flag(o, file, r->op->script_path, true, err) < 0)
      return -1;
  }
  return 0;
}

/* ---- the config ---- */

static void host_facts(struct berth_host_facts *f, char *hostname, size_t len)
{
  memset(f, 0, sizeof *f);
  struct statfs sfs;
  f->cgroup_v2 = statfs("/sys/fs/cgroup", &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC;
  if (gethostname(hostname, len - 1) < 0)
    snprintf(hostname, len, "localhost");
  f->hostname = hostname;
  struct utsname u;
  if (uname(&u) == 0)
    sscanf(u.release, "%u.%u", &f->kernel_major, &f->kernel_minor);
  f->cap_last = -1;
  cpu_set_t cpus;
  if (sched_getaffinity(0, sizeof cpus, &cpus) == 0)
    f->ncpus = (unsigned int) CPU_COUNT(&cpus);
}

/* the stage's config as the step's process sees it: the ARGs and secrets in its environment,
 * no entrypoint, no volumes */
static json_t *process_config(struct run *r, struct berth_build_state *st)
{
  json_t *c = json_deep_copy(json_object_get(st->image, "config"));
  if (!json_is_object(c)) {
    json_decref(c);
    c = json_object();
  }
  json_t *env = json_object_get(c, "Env");
  if (!json_is_array(env)) {
    env = json_array();
    json_object_set_new(c, "Env", env);
  }
  for (size_t i = 0; r->op->env && r->op->env[i]; i++)
    json_array_append_new(env, json_string(r->op->env[i]));
  for (size_t i = 0; r->env && r->env[i]; i++)
    json_array_append_new(env, json_string(r->env[i]));
  static const char *const drop[] = {
    "Entrypoint", "Cmd", "Volumes", "Healthcheck", "ExposedPorts", "OnBuild"
  };
  for (size_t i = 0; i < BERTH_N_ELEMENTS(drop); i++)
    json_object_del(c, drop[i]);
  return c;
}

static BERTH_WUR int write_files(struct run *r, const struct berth_run_opts *o, const char *hostname,
                                 berth_error_t *err)
{
  bool host = o->network.mode == BERTH_NSMODE_HOST;
  cleanup_free char *host_hosts = NULL, *host_resolv = NULL;
  if (host)
    berth_ignore(berth_read_file("/etc/hosts", 1u << 20, &host_hosts, NULL, BERTH_IGNORED));
  berth_ignore(berth_read_file("/etc/resolv.conf", 1u << 20, &host_resolv, NULL, BERTH_IGNORED));
  struct berth_hosts_in hi = { .hostname = hostname, .host_hosts = host_hosts };
  cleanup_free char *hosts = berth_ctrspec_render_hosts(o, &hi, err);
  if (hosts == NULL)
    return -1;
  cleanup_free char *resolv = berth_ctrspec_render_resolv(o, host_resolv, false);
  cleanup_free char *hn = berth_ctrspec_render_hostname(hostname);
  const char *names[] = { "hosts", "resolv.conf", "hostname" };
  const char *texts[] = { hosts, resolv, hn };
  for (size_t i = 0; i < 3; i++) {
    cleanup_free char *p = xasprintf("%s/%s", r->d->path, names[i]);
    if (berth_write_file_atomic(p, texts[i], strlen(texts[i]), 0644, err) < 0)
      return -1;
  }
  return 0;
}

static BERTH_WUR int options(struct run *r, size_t stage, struct berth_build_state *st,
                             struct berth_run_opts *o, berth_error_t *err)
{
  enum berth_build_network net = r->op->network;
  const char *mode = net == BERTH_BUILD_NET_NONE   ? "none"
                     : net == BERTH_BUILD_NET_HOST ? "host"
                     : r->b->o->network            ? r->b->o->network
                                                   : "host";
  const char *user = json_string_value(json_object_get(json_object_get(st->image, "config"), "User"));
  if (set(o, "--network", mode, err) < 0 || set(o, "--entrypoint", "", err) < 0 ||
      (user && *user && set(o, "--user", user, err) < 0) ||
      (r->op->insecure && set(o, "--privileged", NULL, err) < 0) || mounts(r, stage, o, err) < 0)
    return -1;
  return berth_runopts_validate(o, err);
}

static BERTH_WUR int write_config(struct run *r, size_t stage, struct berth_build_state *st,
                                  berth_error_t *err)
{
  struct berth_run_opts o;
  berth_runopts_init(&o);
  char hostname[256];
  struct berth_host_facts facts;
  host_facts(&facts, hostname, sizeof hostname);
  cleanup_free char *passwd = bld_lower_file(r->lowers, "/etc/passwd");
  cleanup_free char *group = bld_lower_file(r->lowers, "/etc/group");
  cleanup_free char *hn = xasprintf("%s/hostname", r->d->path), *hs = xasprintf("%s/hosts", r->d->path);
  cleanup_free char *rs = xasprintf("%s/resolv.conf", r->d->path);
  cleanup_free char *cgroup = xasprintf("/berth-build/%s", r->id);
  json_t *config = NULL, *spec = NULL;
  int rc = options(r, stage, st, &o, err);
  if (rc == 0)
    rc = write_files(r, &o, o.network.mode == BERTH_NSMODE_HOST ? hostname : "buildkitsandbox", err);
  if (rc == 0) {
    config = process_config(r, st);
    struct berth_ctrspec_in in = { .id = r->id,
                                   .rootfs = r->rootfs,
                                   .cgroups_path = cgroup,
                                   .hostname_path = o.network.mode == BERTH_NSMODE_HOST ? NULL : hn,
                                   .hosts_path = add_target(r, "/etc/hosts") ? hs : NULL,
                                   .resolv_path = add_target(r, "/etc/resolv.conf") ? rs : NULL,
                                   .image_config = config,
                                   .opts = &o,
                                   .args = r->op->argv,
                                   .passwd = passwd,
                                   .group = group,
                                   .host = &facts };
    if (in.hostname_path)
      add_target(r, "/etc/hostname");
    spec = berth_ctrspec_build(&in, err);
    rc = spec ? 0 : -1;
  }
  if (rc == 0) {
    if (o.network.mode != BERTH_NSMODE_HOST) /* Docker's name for a build's container */
      json_object_set_new(spec, "hostname", json_string("buildkitsandbox"));
    size_t len = 0;
    cleanup_free char *text = berth_ctrspec_dumps(spec, &len);
    cleanup_free char *path = xasprintf("%s/config.json", r->bundle);
    rc = berth_write_file_atomic(path, text, len, 0600, err);
  }
  json_decref(spec);
  json_decref(config);
  berth_runopts_release(&o);
  return rc;
}

/* ---- the process ---- */

/* fd (opened in berth's mount namespace) opened again by its path in this one, where a bind may
 * take it: the same file (device and inode) or an error, so a path swapped since is refused */
static int reopen_here(int fd)
{
  char proc[64], path[4096];
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(proc, path, sizeof path - 1);
  if (n <= 0)
    return -1;
  path[n] = '\0';
  int again = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  struct stat a, b;
  if (again >= 0 && fstat(fd, &a) == 0 && fstat(again, &b) == 0 && a.st_dev == b.st_dev &&
      a.st_ino == b.st_ino)
    return again;
  if (again >= 0)
    close(again);
  errno = EXDEV;
  return -1;
}

/* `<runtime> kill <id> KILL` from the watchdog, waited for (system calls only) */
static void watchdog_kill(struct run *r)
{
  char *argv[] = { r->b->runtime, "--root", r->b->runtime_root, "kill", r->id, "KILL", NULL };
  pid_t p = fork();
  if (p == 0) {
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0)
      for (int fd = 0; fd < 3; fd++)
        dup2(null, fd);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execve(argv[0], argv, environ);
    _exit(127);
  }
  while (p > 0 && waitpid(p, NULL, 0) < 0 && errno == EINTR) {
  }
}

/* SIGKILL to the runtime's children (the container's init: its pid namespace dies with it), for
 * when `<runtime> kill` cannot (its state gone) */
static void kill_children(pid_t p)
{
  char path[64], buf[4096];
  snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int) p, (int) p);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
  if (fd >= 0)
    close(fd);
  buf[n > 0 ? n : 0] = '\0';
  for (char *s = buf, *end = NULL;; s = end) {
    long c = strtol(s, &end, 10);
    if (end == s)
      return;
    if (c > 1)
      kill((pid_t) c, SIGKILL);
  }
}

/* The step's process stays this child, the watchdog, and its child becomes the runtime (prepare
 * returns there). The watchdog holds nothing (every descriptor closed) but the private mount
 * namespace, and ends as the runtime does, with its status. When berth dies, even by SIGKILL,
 * the kernel sends the watchdog SIGTERM (PR_SET_PDEATHSIG), and it kills the container through
 * the runtime, again until the runtime, which then deletes the container, has gone: no step's
 * container runs on without its build. */
static BERTH_WUR int watchdog(struct run *r, berth_error_t *err)
{
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGCHLD);
  if (sigprocmask(SIG_BLOCK, &set, NULL) < 0 || prctl(PR_SET_PDEATHSIG, SIGTERM) < 0)
    return BERTH_ERR_ERRNO(err, "set up the step's watchdog");
  if (getppid() != r->berth)
    return BERTH_ERR(err, "the build has gone");
  pid_t p = fork();
  if (p < 0)
    return BERTH_ERR_ERRNO(err, "fork the runtime");
  if (p == 0)
    return prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 ? BERTH_ERR_ERRNO(err, "set parent death signal") : 0;
  berth_ignore(berth_fds_close_from(0, NULL, 0));
  int dying = 0;
  for (;;) {
    struct timespec tick = { .tv_nsec = 200 * 1000 * 1000 };
    siginfo_t si;
    int sig = dying ? sigtimedwait(&set, &si, &tick) : sigwaitinfo(&set, &si);
    int status;
    if (waitpid(p, &status, WNOHANG) == p)
      _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    if (sig == SIGTERM && !dying)
      dying = 1;
    if (dying) /* again while the runtime lives: the container may not have existed yet */
      watchdog_kill(r);
    if (dying && dying++ > 1) /* still there: its init, directly */
      kill_children(p);
  }
}

/* in the child, before it becomes the runtime: a private mount namespace, the overlay, the
 * binds, the watchdog */
static BERTH_WUR int prepare(void *data, int sock, berth_error_t *err)
{
  struct run *r = data;
  (void) sock;
  if (berth_mountns_enter(BERTH_MOUNTNS_PRIVATE, err) < 0 ||
      berth_mountns_overlay((const char *const *) r->lowers, berth_strv_len(r->lowers), r->d->upper,
                            r->d->work, r->rootfs, 0, err) < 0)
    return -1;
  for (size_t i = 0; i < r->nbinds; i++) {
    struct pre_bind *p = &r->binds[i];
    if (p->lowers) {
      cleanup_close int root = -1, at = -1, in = -1;
      if (berth_strv_len(p->lowers) &&
          berth_mountns_overlay((const char *const *) p->lowers, berth_strv_len(p->lowers), NULL, NULL,
                                p->dst, 0, err) < 0)
        return -1;
      root = open(p->dst, O_PATH | O_DIRECTORY | O_CLOEXEC);
      in = root >= 0 ? berth_open_in_root(root, p->inside, O_PATH, 0, err) : -1;
      at = open(p->dst2, O_PATH | O_CLOEXEC);
      if (root < 0 || in < 0 || at < 0)
        return root < 0 || at < 0 ? BERTH_ERR_ERRNO(err, "open the root of `%s`", p->inside) : -1;
      char src[64];
      snprintf(src, sizeof src, "/proc/self/fd/%d", in);
      if (berth_mountns_bind(src, at, p->dst2, err) < 0)
        return -1;
      continue;
    }
    cleanup_close int at = open(p->dst, O_PATH | O_CLOEXEC);
    cleanup_close int same = reopen_here(p->fd);
    if (at < 0 || same < 0)
      return BERTH_ERR_ERRNO(err, "open `%s`", at < 0 ? p->dst : "a bind mount's source");
    char src[64];
    snprintf(src, sizeof src, "/proc/self/fd/%d", same);
    if (berth_mountns_bind(src, at, p->dst, err) < 0)
      return -1;
  }
  return watchdog(r, err);
}

/* The output to the progress, until the runtime closes it. Once the build is cancelled, the
 * step's watchdog (PID) gets SIGTERM every half second: it kills the container through the
 * runtime until the runtime has gone, also when the container did not exist yet at the first
 * signal (a single `runtime kill` then failed, and the step ran to its end). */
static void pump(struct run *r, pid_t pid, int fd)
{
  char buf[8192];
  int64_t last = 0;
  for (;;) {
    if (bld_cancelled(r->b) && (last == 0 || berth_mono_ms() - last >= 500)) {
      kill(pid, SIGTERM);
      last = berth_mono_ms();
    }
    struct pollfd p = { .fd = fd, .events = POLLIN };
    int n = poll(&p, 1, 100);
    if (n < 0 && errno != EINTR)
      return;
    if (n <= 0)
      continue;
    ssize_t got = read(fd, buf, sizeof buf);
    if (got < 0 && errno == EINTR)
      continue;
    if (got <= 0)
      return;
    bld_relock(r->b);
    bld_event(r->b, BERTH_BUILDS_EV_OUTPUT, buf, (size_t) got, NULL, 0);
    bld_unlock(r->b);
  }
}

static BERTH_WUR int execute(struct run *r, int *status, berth_error_t *err)
{
  int pipefd[2];
  if (berth_mkdir_p(r->b->runtime_root, 0700, err) < 0)
    return -1;
  if (pipe2(pipefd, O_CLOEXEC) < 0)
    return BERTH_ERR_ERRNO(err, "pipe");
  char *argv[] = { r->b->runtime, "--root", r->b->runtime_root, "run", "--bundle", r->bundle, r->id, NULL };
  struct berth_child_exec x = { .argv = argv,
                                .fds = { -1, pipefd[1], pipefd[1] },
                                .nfds = 3,
                                .flags = BERTH_CHILD_SETSID,
                                .prepare = prepare,
                                .data = r };
  pid_t pid;
  int rc = berth_child_exec(&x, &pid, err);
  close(pipefd[1]);
  if (rc < 0) {
    close(pipefd[0]);
    return -1;
  }
  bld_unlock(r->b); /* the other stages go on while the process runs */
  pump(r, pid, pipefd[0]);
  close(pipefd[0]);
  pid_t w;
  while ((w = waitpid(pid, status, 0)) < 0 && errno == EINTR) {
  }
  int saved = errno;
  bld_relock(r->b);
  errno = saved;
  return w < 0 ? BERTH_ERR_ERRNO(err, "wait for the runtime") : 0;
}

/* ---- afterwards ---- */

static bool opaque(int dirfd, const char *name)
{
  char p[64], v[4];
  cleanup_close int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return false;
  snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
  return getxattr(p, "trusted.overlay.opaque", v, sizeof v) > 0;
}

/* a mount point the runtime made in the upper dir (empty file or directory), and its parents when
 * they are empty directories only there for it */
static void unmake(struct run *r, const char *target)
{
  cleanup_free char *path = xstrdup(target[0] == '/' ? target + 1 : target);
  for (bool first = true; *path; first = false) {
    struct stat st;
    if (fstatat(r->d->upper_fd, path, &st, AT_SYMLINK_NOFOLLOW) < 0)
      return;
    if (S_ISDIR(st.st_mode)) {
      if (opaque(r->d->upper_fd, path) || unlinkat(r->d->upper_fd, path, AT_REMOVEDIR) < 0)
        return;
    } else if (!first || !S_ISREG(st.st_mode) || st.st_size != 0 || unlinkat(r->d->upper_fd, path, 0) < 0) {
      return;
    }
    char *slash = strrchr(path, '/');
    if (slash == NULL)
      return;
    *slash = '\0';
  }
}

int bld_run_run(struct bld *b, struct berth_build_state *st, const struct berth_build_op *op, size_t stage,
                const char *parent, struct bld_dir *d, berth_error_t *err)
{
  struct run r = { .b = b, .op = op, .d = d, .berth = getpid() };
  char rnd[BERTH_SHA256_HEX_LEN + 1];
  uint8_t h[BERTH_SHA256_LEN];
  cleanup_free char *seed = xasprintf("%s %d %lld", d->path, getpid(), (long long) berth_engine_now());
  berth_sha256(seed, strlen(seed), h);
  berth_sha256_hex(h, rnd);
  r.id = xasprintf("berth-build-%.12s", rnd);
  r.bundle = xasprintf("%s/bundle", d->path);
  r.rootfs = xasprintf("%s/bundle/rootfs", d->path);
  int rc = bld_lowers(b, parent, &r.lowers, err);
  if (rc == 0 && r.lowers[0] == NULL) { /* FROM scratch: an empty lower dir */
    cleanup_free char *empty = xasprintf("%s/empty", d->path);
    if (mkdir(empty, 0755) < 0)
      rc = BERTH_ERR_ERRNO(err, "mkdir `%s`", empty);
    r.lowers = berth_strv_append(r.lowers, empty);
  }
  if (rc == 0 && (mkdir(r.bundle, 0700) < 0 || mkdir(r.rootfs, 0755) < 0))
    rc = BERTH_ERR_ERRNO(err, "mkdir `%s`", r.rootfs);
  static const char *const system[] = { "/proc", "/sys", "/dev" };
  for (size_t i = 0; rc == 0 && i < BERTH_N_ELEMENTS(system); i++)
    add_target(&r, system[i]);
  int status = 0;
  if (rc == 0)
    rc = write_config(&r, stage, st, err);
  if (rc == 0)
    rc = execute(&r, &status, err);
  for (size_t i = 0; rc == 0 && r.targets && r.targets[i]; i++)
    unmake(&r, r.targets[i]);
  if (rc == 0 && bld_cancelled(b))
    rc = BERTH_ERR(err, "the build was interrupted");
  if (rc == 0 && (!WIFEXITED(status) || WEXITSTATUS(status) != 0)) {
    cleanup_strbuf struct berth_strbuf cmd = BERTH_STRBUF_INIT;
    for (size_t i = 0; op->argv[i]; i++)
      berth_strbuf_printf(&cmd, "%s%s", i ? " " : "", op->argv[i]);
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    rc = BERTH_ERR(err, "process \"%s\" did not complete successfully: exit code: %d", cmd.buf, code);
  }
  run_release(&r);
  return rc;
}
