/* The container process re-executes itself from a protected copy of the runtime (CVE-2019-5736)
 * right after clone, while the parent makes the cgroup: the runtime process itself never enters
 * the container and need not be re-executed first. The context crosses execve in a memfd. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/fs.h"
#include "base/strutil.h"
#include "base/sync.h"
#include "base/xalloc.h"
#include "json/json.h"
#include "linux/seccomp.h"
#include "runtime/init.h"
#include "runtime/wait.h"

static int keep_across_exec(int fd)
{
  int fl = fcntl(fd, F_GETFD);
  return fl < 0 ? -1 : fcntl(fd, F_SETFD, fl & ~FD_CLOEXEC);
}

static int write_context(const struct berth_init_ctx *ctx, berth_error_t *err)
{
  json_t *o = json_pack("{s:s, s:s, s:s, s:b, s:b, s:i, s:I, s:I, s:b, s:b, s:b, s:b}", "dir", ctx->state_dir,
                        "rootfs", ctx->rootfs, "id", ctx->opts->id, "noPivot", ctx->opts->no_pivot,
                        "noNewKeyring", ctx->opts->no_new_keyring, "preserveFds", ctx->opts->preserve_fds,
                        "cloneFlags", (json_int_t) ctx->clone_flags, "unshareFlags",
                        (json_int_t) ctx->unshare_flags, "userNsNew", ctx->userns_new, "inUserNs",
                        ctx->in_userns, "setgroupsAllowed", ctx->setgroups_allowed, "prestartHooks",
                        ctx->has_prestart_hooks);
  if (o == NULL)
    return BERTH_ERR(err, "init context");
  if (ctx->seccomp_cache)
    json_object_set_new(o, "seccompCache", json_string(ctx->seccomp_cache));
  json_object_set_new(o, "goDone", json_boolean(ctx->go_done));
  json_object_set_new(o, "cgroupDone", json_boolean(ctx->cgroup_done));
  cleanup_free char *text = berth_json_dumps(o);
  json_decref(o);
  /* line 1: the context; then the config's bytes (the state dir may not be readable from
   * inside a user namespace) */
  cleanup_free char *dumped = NULL;
  const char *cfg = ctx->spec->text;
  size_t cfg_len = ctx->spec->text_len;
  if (cfg == NULL) {
    cfg = dumped = berth_json_dumps(ctx->spec->doc);
    cfg_len = strlen(dumped);
  }
  int fd = (int) syscall(SYS_memfd_create, "berth-init-context", MFD_CLOEXEC);
  if (fd < 0)
    return BERTH_ERR_ERRNO(err, "memfd for the init context");
  if (berth_write_all(fd, text, strlen(text)) < 0 || berth_write_all(fd, "\n", 1) < 0 ||
      berth_write_all(fd, cfg, cfg_len) < 0) {
    close(fd);
    return BERTH_ERR_ERRNO(err, "write the init context");
  }
  return fd;
}

/* called first thing in the container process when a protected copy was prepared */
int berth_init_reexec(struct berth_init_ctx *ctx, berth_error_t *err)
{
  cleanup_close int cfd = write_context(ctx, err);
  if (cfd < 0)
    return -1;
  if (keep_across_exec(ctx->sync_fd) < 0 || keep_across_exec(ctx->start_fd) < 0 || keep_across_exec(cfd) < 0)
    return BERTH_ERR_ERRNO(err, "keep descriptors across the re-exec");
  char sync[16], start[16], cx[16];
  snprintf(sync, sizeof sync, "%d", ctx->sync_fd);
  snprintf(start, sizeof start, "%d", ctx->start_fd);
  snprintf(cx, sizeof cx, "%d", cfd);
  char *argv[] = { (char *) "berth-runtime", (char *) "__init", sync, start, cx, NULL };
  extern char **environ;
  syscall(SYS_execveat, ctx->reexec_fd, "", argv, environ, AT_EMPTY_PATH);
  return BERTH_ERR_ERRNO(err, "re-exec the container process from a protected copy");
}

static bool get_bool(json_t *o, const char *k) { return json_is_true(json_object_get(o, k)); }

/* rebuild ctx from the context line; every descriptor is close-on-exec again */
static int read_context(const char *line, size_t len, struct berth_init_ctx *ctx, struct berth_create_opts *o,
                        json_t **doc, berth_error_t *err)
{
  *doc = berth_json_parse(line, len, "init context", err);
  if (*doc == NULL)
    return -1;
  json_t *j = *doc;
  const char *dir = json_string_value(json_object_get(j, "dir"));
  const char *rootfs = json_string_value(json_object_get(j, "rootfs"));
  const char *id = json_string_value(json_object_get(j, "id"));
  if (!dir || !rootfs || !id)
    return BERTH_ERR(err, "init context: incomplete");
  o->id = id;
  o->no_pivot = get_bool(j, "noPivot");
  o->no_new_keyring = get_bool(j, "noNewKeyring");
  o->preserve_fds = (int) json_integer_value(json_object_get(j, "preserveFds"));
  ctx->opts = o;
  ctx->rootfs = rootfs;
  ctx->state_dir = dir;
  ctx->clone_flags = (uint64_t) json_integer_value(json_object_get(j, "cloneFlags"));
  ctx->unshare_flags = (uint64_t) json_integer_value(json_object_get(j, "unshareFlags"));
  ctx->userns_new = get_bool(j, "userNsNew");
  ctx->in_userns = get_bool(j, "inUserNs");
  ctx->setgroups_allowed = get_bool(j, "setgroupsAllowed");
  ctx->has_prestart_hooks = get_bool(j, "prestartHooks");
  ctx->seccomp_cache = json_string_value(json_object_get(j, "seccompCache"));
  ctx->go_done = get_bool(j, "goDone");
  ctx->cgroup_done = get_bool(j, "cgroupDone");
  return 0;
}

static int rebuild(int argc, char **argv, struct berth_init_ctx *ctx, struct berth_create_opts *o, json_t **doc,
                   berth_spec_t **spec, struct berth_seccomp_prog **prog, berth_error_t *err)
{
  int cfd;
  if (argc != 5 || berth_parse_int(argv[2], &ctx->sync_fd) < 0 || berth_parse_int(argv[3], &ctx->start_fd) < 0 ||
      berth_parse_int(argv[4], &cfd) < 0)
    return BERTH_ERR(err, "__init: internal command, not for users");
  /* only ours: fds 3.. the caller preserved must stay inheritable */
  if (fcntl(ctx->sync_fd, F_SETFD, FD_CLOEXEC) < 0 || fcntl(ctx->start_fd, F_SETFD, FD_CLOEXEC) < 0)
    return BERTH_ERR_ERRNO(err, "mark descriptors close-on-exec");
  cleanup_free char *text = NULL;
  size_t len = 0;
  cleanup_free char *path = xasprintf("/proc/self/fd/%d", cfd);
  int r = berth_read_file(path, 0, &text, &len, err);
  close(cfd);
  char *nl = r == 0 ? memchr(text, '\n', len) : NULL;
  if (r == 0 && nl == NULL)
    r = BERTH_ERR(err, "init context: no config");
  if (r < 0 || read_context(text, (size_t) (nl - text), ctx, o, doc, err) < 0)
    return -1;
  cleanup_free char *cfg = xasprintf("%s/config.json", ctx->state_dir);
  if (berth_spec_parse(nl + 1, len - (size_t) (nl + 1 - text), cfg, spec, err) < 0)
    return -1;
  ctx->spec = *spec;
  if ((*spec)->linux_.seccomp.present &&
      berth_seccomp_compile(&(*spec)->linux_.seccomp, ctx->seccomp_cache, prog, err) < 0)
    return berth_error_wrap(err, "linux.seccomp");
  ctx->seccomp = *prog;
  return 0;
}

void berth_init_reexec_main(int argc, char **argv)
{
  static struct berth_init_ctx ctx;
  static struct berth_create_opts o;
  berth_error_t err = NULL;
  json_t *doc = NULL;
  berth_spec_t *spec = NULL;
  struct berth_seccomp_prog *prog = NULL;
  ctx.sync_fd = ctx.start_fd = ctx.reexec_fd = -1;
  for (int t = 0; t < BERTH_NS__COUNT; t++)
    ctx.ns_fds[t] = -1;
  if (rebuild(argc, argv, &ctx, &o, &doc, &spec, &prog, &err) < 0) {
    if (ctx.sync_fd >= 0)
      berth_sync_send_error(ctx.sync_fd, &err);
    _exit(1);
  }
  berth_init_main(&ctx); /* keeps doc, spec and prog alive: it never returns */
}
